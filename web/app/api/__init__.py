"""The JSON API under /api/v1, described by OpenAPI at /api/v1/openapi.json.

This package is the API's frame: the one flask-smorest blueprint, bearer-token
authentication (``auth``), OpenAPI helpers (``docs``) and shared schema
fields (``fields``). The resources live in their domains (``app.notes.api``,
``app.accounts.api``) and add their routes to ``blueprint.bp``. So
``create_app`` calls ``init_app``, then each domain's ``init_app``, then
``register``.
"""

from __future__ import annotations

from flask import Flask

from ..extensions import api, csrf

# The blueprint is imported by the functions below rather than here: importing
# this package (as every import of app.* does, through app/__init__.py) must
# not load the API's request hooks.


def init_app(app: Flask) -> None:
    """Bind the Api (and its OpenAPI document) to ``app``, before the domains describe their resources."""
    from .blueprint import bp
    from .docs import openapi_json, openapi_redoc

    api.init_app(app)
    app.view_functions["api-docs.openapi_json"] = openapi_json
    app.view_functions["api-docs.openapi_redoc"] = openapi_redoc
    # CSRF for cookie-authenticated API calls is checked in api.auth, where
    # Bearer-token calls (which no browser sends on its own) can skip it.
    csrf.exempt(bp)


def register(app: Flask) -> None:
    """Register the blueprint with every resource the domains added, and the ways to authenticate."""
    from .blueprint import bp
    from .docs import register_rate_limit_docs

    register_rate_limit_docs(api.spec)
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
