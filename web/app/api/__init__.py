"""The JSON API under /api/v1, described by OpenAPI at /api/v1/openapi.json."""

from flask import Flask
from flask_smorest import Blueprint

from ..extensions import api, csrf

bp = Blueprint(
    "api",
    __name__,
    url_prefix="/api/v1",
    description="Notes and personal API tokens. Authenticate with a Bearer token or the session cookie.",
)

from . import auth, notes, tags, tokens, transfer  # noqa: E402,F401
from .schemas import NoteUpdateSchema  # noqa: E402


def register_api(app: Flask) -> None:
    # CSRF for cookie-authenticated API calls is checked in api.auth, where
    # Bearer-token calls (which no browser sends on its own) can skip it.
    csrf.exempt(bp)
    # Registered before the blueprint so its operations refer to this entry:
    # an empty PATCH body is refused (422), and the document says so.
    api.spec.components.schema("NoteUpdate", {"minProperties": 1}, schema=NoteUpdateSchema)
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
