"""One error handler for the whole app: problem+json for API clients, an
HTML page for browsers. Neither ever shows a traceback."""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa
from flask import Flask, Response, current_app, jsonify, render_template, request
from markupsafe import escape
from werkzeug.exceptions import (
    Conflict,
    Forbidden,
    HTTPException,
    InternalServerError,
    NotFound,
    PreconditionFailed,
    ServiceUnavailable,
    TooManyRequests,
)

from ..db import errors as database_errors
from ..domain import ConflictError, DomainError, NotAllowed, NotFoundError, RateLimited, RuleConflict
from .jsonbody import UnusableJSON
from .problem import PROBLEM_JSON

log = logging.getLogger("notes.errors")


def wants_json() -> bool:
    """True for API and health paths, and for clients that prefer JSON."""
    if request.path.startswith(("/api/", "/healthz", "/readyz")):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


def problem(
    status: int,
    detail: str,
    *,
    title: str | None = None,
    errors: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """An RFC 9457 problem response."""
    from werkzeug.http import HTTP_STATUS_CODES

    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title or HTTP_STATUS_CODES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    if errors:
        body["errors"] = errors
    response = jsonify(body)
    response.status_code = status
    response.mimetype = PROBLEM_JSON
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def _field_errors(data: dict[str, Any]) -> dict[str, Any] | None:
    """Flatten webargs' ``{"json": {"title": [...]}}`` to ``{"title": [...]}``."""
    messages = data.get("messages") or data.get("errors")
    if not isinstance(messages, dict):
        return None
    flat: dict[str, Any] = {}
    for location, fields in messages.items():
        if isinstance(fields, dict):
            flat.update(fields)
        else:
            flat[location] = fields
    return flat


DETAILS = {
    400: "The request could not be understood; check its syntax and fields.",
    401: "Log in, or send a valid API token as 'Authorization: Bearer <token>'.",
    403: "You are not allowed to do this.",
    404: "Nothing here: the page or note does not exist, or is not yours.",
    405: "This method is not allowed here; see the Allow header.",
    413: "The request body is too large.",
    415: "Send the body as JSON with 'Content-Type: application/json'.",
    422: "Some fields are invalid; see 'errors' for what to fix.",
    429: "Too many requests; wait and try again.",
    500: "Something went wrong on our side. It has been logged; please try again.",
    503: "The database is busy or unreachable, so the request could not be completed. Try again in a few seconds.",
}
# Seconds a client is asked to wait after a 503: long enough for a lock to
# clear or a database restart to finish, short enough not to lose a user.
RETRY_AFTER_UNAVAILABLE = 5
# Out of disk space does not clear in seconds: somebody has to free space.
RETRY_AFTER_DISK_FULL = 60
DISK_FULL = (
    "The server's storage is full, so nothing can be saved right now and this change was not saved. "
    "Reading your notes still works. Try again later; the administrator must free disk space."
)


def handle_http_exception(error: HTTPException) -> Response | tuple[str, int]:
    code = error.code or 500
    if isinstance(error, InternalServerError) or code >= 500:
        original = getattr(error, "original_exception", None)
        if original is not None:
            log.error("unhandled exception", exc_info=original)
        # A failed flush leaves the session unusable for the rest of the
        # request (and for the error page, which may read the current user).
        try:
            current_app.extensions["sqlalchemy"].session.rollback()
        except Exception:  # the database itself may be what failed
            log.warning("rollback failed while handling an error", exc_info=True)
        # Only a 503 may say more (why it is unavailable); other 5xx never
        # show the exception's text to the client.
        detail = (_description(error) if code == 503 else None) or DETAILS.get(code, DETAILS[500])
    else:
        data = getattr(error, "data", None) or {}
        detail = data.get("message") or _description(error) or DETAILS.get(code, error.name)
        if code == 400 and data.get("messages"):
            # webargs' "Invalid JSON body." for bodies that do not parse, or
            # why a body that parses cannot be used (app/http/jsonbody.py).
            unusable = getattr(error, "exc", None)
            if isinstance(unusable, UnusableJSON):
                detail = unusable.reason
            else:
                detail = "The body is not valid JSON: check its syntax and that it is UTF-8 encoded."

    headers: dict[str, str] = {}
    data = getattr(error, "data", None) or {}
    headers.update(data.get("headers") or {})
    # get_headers() carries Allow on a 405 and WWW-Authenticate on a 401.
    for key, value in error.get_headers() or []:
        if key.lower() != "content-type":
            headers.setdefault(key, value)

    if wants_json():
        errs = _field_errors(data) if code == 422 else None
        return problem(code, detail, errors=errs, headers=headers)
    try:
        body = render_template("errors/error.html", code=code, title=error.name, detail=detail)
    except Exception:
        # The layout asks for the current user, which needs the database; when
        # that is what failed, answer with a page that needs nothing.
        log.warning("error page could not be rendered; sending the plain one", exc_info=True)
        body = _PLAIN_PAGE.format(
            code=code, title=escape(error.name), detail=escape(detail), root=escape(request.script_root)
        )
    return Response(body, status=code, headers=headers, mimetype="text/html")


_PLAIN_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{code} {title} · Notes</title></head>
<body><main><h1>{code} · {title}</h1><p>{detail}</p><p><a href="{root}/notes/">Back to your notes</a></p></main></body>
</html>"""


def _description(error: HTTPException) -> str | None:
    """The description passed to ``abort()``, not werkzeug's stock text."""
    default = type(error).description
    if error.description and error.description != default:
        return error.description
    return None


# How to recover from a ConflictError: on the API every write is conditional
# on If-Match, so a conflict there is a failed precondition (412).
STALE_ON_API = "your If-Match is stale. GET it again, reapply your change and retry with the new ETag."
STALE_ON_PAGE = "reload the page to see the latest version."


def handle_domain_error(error: DomainError) -> Response | tuple[str, int]:
    """The one place a service's error becomes an HTTP answer (see app/domain.py)."""
    http_error: HTTPException
    if isinstance(error, NotFoundError):
        http_error = NotFound(str(error))
    elif isinstance(error, NotAllowed):
        http_error = Forbidden(str(error))
    elif isinstance(error, RuleConflict):
        http_error = Conflict(str(error))
    elif isinstance(error, RateLimited):
        http_error = TooManyRequests(str(error), retry_after=error.retry_after)
    elif isinstance(error, ConflictError):
        if request.path.startswith("/api/"):
            http_error = PreconditionFailed(f"{error}: {STALE_ON_API}")
        else:
            http_error = Conflict(f"{error}; {STALE_ON_PAGE}")
    else:  # pragma: no cover - every DomainError subclasses one of the above
        raise error
    return handle_http_exception(http_error)


def handle_database_unavailable(error: sa.exc.OperationalError) -> Response | tuple[str, int]:
    """A 503 with Retry-After when the database cannot serve now: the client did
    nothing wrong, and the request's transaction is rolled back. Any other
    OperationalError (wrong SQL, a missing migration) is a bug: a logged 500."""
    if not database_errors.unavailable(error):
        internal = InternalServerError(original_exception=error)
        return handle_http_exception(internal)
    first_line = str(error.orig).splitlines()[0] if error.orig else str(error)
    if database_errors.disk_full(error):
        # An error, not a warning: nothing will be saved until an operator acts.
        log.error("database out of disk space, writes refused: %s", first_line)
        return handle_http_exception(ServiceUnavailable(DISK_FULL, retry_after=RETRY_AFTER_DISK_FULL))
    log.warning("database unavailable: %s", first_line)
    return handle_http_exception(ServiceUnavailable(retry_after=RETRY_AFTER_UNAVAILABLE))


def init_app(app: Flask) -> None:
    # Registered after flask-smorest's own handler, so this one wins.
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(DomainError, handle_domain_error)
    app.register_error_handler(sa.exc.OperationalError, handle_database_unavailable)
