"""The one flask-smorest blueprint every API resource is added to, its body parser and its authentication."""

from __future__ import annotations

import typing

import flask
from flask_smorest import Blueprint as SmorestBlueprint
from webargs import core
from webargs.flaskparser import FlaskParser, abort, is_json_request

from ..http.jsonbody import UnusableJSON, loads


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


bp = Blueprint(
    "api",
    __name__,
    url_prefix="/api/v1",
    description="Notes and personal API tokens. Authenticate with a Bearer token or the session cookie.",
)

from . import auth  # noqa: E402,F401  (authenticates every request to bp)
