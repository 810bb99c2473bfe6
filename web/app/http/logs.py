"""How log lines look: readable text, or one JSON object per line (LOG_FORMAT=json).

A JSON line always has ``time`` (UTC), ``level``, ``logger`` and ``message``;
written during a request, also ``request_id`` (the X-Request-ID nginx logs
too) and ``user_id`` when someone is logged in or calls with a token. The
access line adds ``method``, ``path`` (secrets redacted), ``status``,
``bytes``, ``duration_ms`` and ``remote_addr``. Never an email address, a
password or a note's text: the app logs ids, and the fields below are all a
line can carry besides its message.

gunicorn's own logs (its error log, and the access log it writes for the
app) use the same formatter (web/gunicorn.conf.py), so every line a web
container prints is one format.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from flask import Flask, g, has_request_context
from flask.logging import default_handler
from sqlalchemy.exc import NoInspectionAvailable

# What a record may carry besides its message, in this order.
FIELDS = ("request_id", "user_id", "method", "path", "status", "bytes", "duration_ms", "remote_addr")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line (a message's newlines are escaped)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for field in FIELDS:
            value = getattr(record, field, None)
            if value is not None:
                entry[field] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str)


def _identity(who: object) -> int | None:
    """The primary key of a loaded row (from its identity, so an expired row costs no query,
    and a session that must roll back first raises nothing), else its plain ``id``."""
    try:
        state = sa.inspect(who)
    except NoInspectionAvailable:
        found = getattr(who, "id", None)  # e.g. the API's Caller(owner id)
        return found if isinstance(found, int) else None
    identity = getattr(state, "identity", None)
    return int(identity[0]) if identity else None


def user_id() -> int | None:
    """The id of whoever this request acts for, if anyone: a token's owner, or the logged-in user.

    Read from what the API's auth and Flask-Login left on ``g``; never loads
    anything: a log line must not cost a query, nor fail in a request whose
    transaction failed (a locked database's 503 page is still logged).
    Flask-Login's anonymous user is no row, and has no id.
    """
    owner = g.get("api_owner")
    if owner is not None:
        return _identity(owner)
    user = g.get("_login_user")
    if user is not None:
        return _identity(user)
    return None


class RequestContext(logging.Filter):
    """Adds the request id and user id to records written during a request."""

    def filter(self, record: logging.LogRecord) -> bool:
        if has_request_context():
            if getattr(record, "request_id", None) is None:
                record.request_id = g.get("request_id")
            if getattr(record, "user_id", None) is None:
                record.user_id = user_id()
        return True


class StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is when a record comes, not what it was when the app was built."""

    @property  # type: ignore[override]
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _: Any) -> None:
        pass


def _ours(handler: logging.Handler) -> bool:
    return getattr(handler, "_notes", False)


def stream_handler(log_format: str, *, access: bool = False) -> logging.Handler:
    """A stderr handler in ``log_format`` that adds the request context; replaced, not stacked, by a later app.

    The text access line carries its own request id (``rid=``), so its format is shorter.
    """
    handler = StderrHandler()
    text = logging.Formatter("%(asctime)s %(name)s %(message)s") if access else logging.Formatter(TEXT_FORMAT)
    handler.setFormatter(JsonFormatter() if log_format == "json" else text)
    handler.addFilter(RequestContext())
    handler._notes = True  # type: ignore[attr-defined]
    return handler


def init_app(app: Flask) -> None:
    """In JSON mode, every logger's records (Flask's app.logger, ``notes.*``,
    libraries') go to one stderr handler that writes JSON lines. In text mode
    nothing changes: Flask's and Python's defaults."""
    if app.config.get("LOG_FORMAT", "text") != "json":
        return
    root = logging.getLogger()
    for handler in [h for h in root.handlers if _ours(h)]:
        root.removeHandler(handler)
    root.addHandler(stream_handler("json"))
    # Flask's own handler would write app.logger's records a second time, as text.
    app.logger.removeHandler(default_handler)
