"""Cross-cutting HTTP: one error handler (problem+json or a page), security headers,
request ids and the access log, the log format (text or JSON lines),
pagination cursors, load shedding.

Nothing here knows a domain; domains use it.
"""

from __future__ import annotations

from flask import Flask

from . import errors, limits, logs, overload, requestlog, security


def init_app(app: Flask) -> None:
    logs.init_app(app)
    errors.init_app(app)
    limits.init_app(app)
    requestlog.init_app(app)
    security.init_app(app)
    overload.init_app(app)  # last: the outermost middleware
