"""The one flask-smorest blueprint every API resource is added to, its body parser and its authentication."""

from __future__ import annotations

import typing

import flask
from flask_smorest import Blueprint as SmorestBlueprint
from webargs import core
from webargs.flaskparser import FlaskParser, abort, is_json_request

from ..http.jsonbody import UnusableJSON, loads

# The header components every rate-limited answer carries (app.api.docs.register_rate_limit_docs).
RATE_LIMIT_HEADERS = {"RateLimit-Policy": "RATE_LIMIT_POLICY", "RateLimit": "RATE_LIMIT"}


class BodyParser(FlaskParser):
    """webargs' parser, reading JSON bodies with ``http.jsonbody.loads`` so that
    an unusable body is a 400 that says why, never a 500."""

    def _raw_load_json(self, req: flask.Request) -> typing.Any:
        if not is_json_request(req):
            return core.missing
        data = req.get_data(cache=True)
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            return core.parse_json(data)  # webargs' own error for bytes that are not UTF-8
        return loads(text)

    def _handle_invalid_json_error(
        self, error: typing.Any, req: flask.Request, *args: typing.Any, **kwargs: typing.Any
    ) -> typing.NoReturn:
        reason = error.reason if isinstance(error, UnusableJSON) else "Invalid JSON body."
        abort(400, exc=error, messages={"json": [reason]})


class Blueprint(SmorestBlueprint):
    ARGUMENTS_PARSER = BodyParser()

    def __init__(self, *args: typing.Any, **kwargs: typing.Any) -> None:
        super().__init__(*args, **kwargs)
        self._prepare_doc_cbks.append(self._prepare_rate_limit_doc)

    @staticmethod
    def _prepare_rate_limit_doc(
        doc: dict[str, typing.Any], doc_info: dict[str, typing.Any], **kwargs: typing.Any
    ) -> dict[str, typing.Any]:
        """Document what every API operation may answer since it is rate-limited (app/api/ratelimit.py):
        the RateLimit headers on its successes, and a 429 with them and Retry-After.

        The components named here are registered by ``app.api.docs.register_rate_limit_docs``.
        """
        responses = doc.setdefault("responses", {})
        if doc.get("security", doc_info.get("manual_doc", {}).get("security")) == []:
            # A public operation (app.api.auth.public) has no caller to count: no
            # RateLimit headers; a 429 of its own still says when to retry.
            refused = responses.get(429)
            if refused is not None:
                refused.setdefault("headers", {})["Retry-After"] = "RETRY_AFTER"
            return doc
        for status in doc_info.get("success_status_codes", []):
            headers = responses.setdefault(status, {}).setdefault("headers", {})
            headers.update(RATE_LIMIT_HEADERS)
        refused = responses.get(429)
        if refused is None:
            responses[429] = "RATE_LIMITED"
        else:  # an operation with a 429 of its own (too many wrong passwords) may also get this one
            refused["description"] += ". Or too many API calls: this token's or this account's quota is used up"
            refused.setdefault("headers", {}).update({"Retry-After": "RETRY_AFTER", **RATE_LIMIT_HEADERS})
        return doc


bp = Blueprint(
    "api",
    __name__,
    url_prefix="/api/v1",
    description="Notes and personal API tokens. Authenticate with a Bearer token or the session cookie.",
)

from . import auth, ratelimit  # noqa: E402,F401  (authenticate and count every request to bp)
