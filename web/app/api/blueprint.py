"""The one flask-smorest blueprint every API resource is added to, and its authentication."""

from __future__ import annotations

from flask_smorest import Blueprint

bp = Blueprint(
    "api",
    __name__,
    url_prefix="/api/v1",
    description="Notes and personal API tokens. Authenticate with a Bearer token or the session cookie.",
)

from . import auth  # noqa: E402,F401  (authenticates every request to bp)
