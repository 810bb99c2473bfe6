"""The JSON API under /api/v1, described by OpenAPI at /api/v1/openapi.json.

This package is the API's frame: the one flask-smorest blueprint, bearer-token
authentication (``auth``), OpenAPI helpers (``docs``) and shared schema
fields (``fields``). The resources live in their domains (``app.notes.api``,
``app.accounts.api``), which add their routes to ``bp``; ``init_app`` then
registers it, so ``create_app`` calls ``init_app``, then each domain's
``init_app``, then ``register``.
"""

from __future__ import annotations

from flask import Flask
from flask_smorest import Blueprint

from ..extensions import api, csrf

bp = Blueprint(
    "api",
    __name__,
    url_prefix="/api/v1",
    description="Notes and personal API tokens. Authenticate with a Bearer token or the session cookie.",
)

from . import auth  # noqa: E402,F401  (authenticates every request to bp)


def init_app(app: Flask) -> None:
    """Bind the Api (and its OpenAPI document) to ``app``, before the domains describe their resources."""
    api.init_app(app)
    # CSRF for cookie-authenticated API calls is checked in api.auth, where
    # Bearer-token calls (which no browser sends on its own) can skip it.
    csrf.exempt(bp)


def register(app: Flask) -> None:
    """Register ``bp`` with every resource the domains added, and the ways to authenticate."""
    api.register_blueprint(bp)
    api.spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer", "description": "A personal API token (nt_...)."}
    )
    api.spec.components.security_scheme(
        "cookieAuth",
        {
            "type": "apiKey",
            "in": "cookie",
            "name": app.config.get("SESSION_COOKIE_NAME", "session"),
            "description": "The browser session; state-changing calls also need the X-CSRFToken header.",
        },
    )
    api.spec.options["security"] = [{"bearerAuth": []}, {"cookieAuth": []}]
