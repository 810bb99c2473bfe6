"""A request id for every request, and one access-log line per request.

Under gunicorn the access line is gunicorn's (web/gunicorn.conf.py); the app
leaves it the request id and the user id in the WSGI environ
(``notes.request_id``, ``notes.user_id``), so that line can carry both.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from urllib.parse import quote

from flask import Flask, Response, g, request

from .logs import stream_handler, user_id

log = logging.getLogger("notes.access")

# A client's id is echoed into logs and headers, so only harmless characters.
_VALID_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

# Secrets that travel in URLs (an invitation link's ?invite=inv_..., a password
# reset link's /auth/reset/rst_...) and API tokens pasted where they do not
# belong (nt_...). Every secret the app hands out starts with one of these
# prefixes (tests/unit/http/test_requestlog.py checks the accounts' own), so
# logs keep the shape of a URL but never a working link. gunicorn's access
# log (web/gunicorn.conf.py) and nginx's (its log_format) redact the same.
SECRET_IN_URL = re.compile(r"\b(inv|rst|nt|shr)_[A-Za-z0-9_-]+")


def redact_secrets(text: str) -> str:
    """``text`` (a URL or a request line) with every secret in it replaced by ``<prefix>_[redacted]``."""
    return SECRET_IN_URL.sub(r"\1_[redacted]", text)


def request_id() -> str:
    """The current request's id (from X-Request-ID when valid, else new)."""
    return g.get("request_id", "-")


def _start() -> None:
    incoming = request.headers.get("X-Request-ID", "")
    g.request_id = incoming if _VALID_ID.match(incoming) else uuid.uuid4().hex
    g.request_started = time.perf_counter()


def _finish(response: Response) -> Response:
    response.headers["X-Request-ID"] = request_id()
    # For gunicorn's access line (web/gunicorn.conf.py).
    request.environ["notes.request_id"] = request_id()
    request.environ["notes.user_id"] = user_id()
    # gunicorn writes the access line itself (with this header); elsewhere,
    # e.g. under the dev server, the app writes it.
    under_gunicorn = request.environ.get("SERVER_SOFTWARE", "").startswith("gunicorn")
    if not under_gunicorn and g.get("request_started") is not None and log.isEnabledFor(logging.INFO):
        elapsed_ms = (time.perf_counter() - g.request_started) * 1000
        # Decoded, a path could carry %0A and forge a log line; re-quote it.
        path = redact_secrets(quote(request.script_root + request.full_path.rstrip("?"), safe="/?&=:;,+@!$'()*%"))
        size = response.calculate_content_length()
        log.info(
            '%s "%s %s" %s %s %.1fms rid=%s',
            request.remote_addr or "-",
            request.method,
            path,
            response.status_code,
            size or "-",
            elapsed_ms,
            request_id(),
            extra={
                "remote_addr": request.remote_addr,
                "method": request.method,
                "path": path,
                "status": response.status_code,
                "bytes": size,
                "duration_ms": round(elapsed_ms, 1),
            },
        )
    return response


def init_app(app: Flask) -> None:
    app.before_request(_start)
    app.after_request(_finish)
    if app.config.get("ACCESS_LOG", True):
        # Ours is replaced, in this app's format, by a later app (tests);
        # a handler someone else configured is left alone.
        for old in [h for h in log.handlers if getattr(h, "_notes", False)]:
            log.removeHandler(old)
        if not log.handlers:
            log.addHandler(stream_handler(app.config.get("LOG_FORMAT", "text"), access=True))
        log.propagate = False
        # Always: the logger is process-wide, and an earlier app may have
        # turned it down after the handler was added.
        log.setLevel(logging.INFO)
    else:
        log.setLevel(logging.WARNING)
