"""Extension objects, created unbound so that every app the factory builds
binds its own (see ``create_app``)."""

import http
from typing import TYPE_CHECKING

from authlib.integrations.flask_client import OAuth
from flask import Flask, current_app
from flask_login import LoginManager
from flask_mailman import Mail
from flask_migrate import Migrate
from flask_smorest import Api
from flask_smorest.utils import prepare_response
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy.orm import DeclarativeBase

from .db.session import NotesSession
from .http.problem import PROBLEM_JSON, ProblemSchema


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base, session_options={"class_": NotesSession})

# The base class of every table. db.Model is built at run time; to the type
# checker it is the Base it extends.
if TYPE_CHECKING:
    Model = Base
else:
    Model = db.Model
login_manager = LoginManager()
csrf = CSRFProtect()
migrate = Migrate()
# Outgoing mail; app/accounts/mail.py reads the SMTP settings at each send.
mail = Mail()


class SingleSignOn:
    """Authlib's Flask client for the OpenID Connect provider (app/accounts/sso_views.py).

    Authlib's ``OAuth`` registry remembers one app and caches its clients,
    so this object builds one registry per app in ``init_app`` and keeps it
    in ``app.extensions``; ``client()`` finds the current app's. Nothing is
    registered while OIDC_ISSUER is empty.
    """

    KEY = "notes_sso"
    SCOPE = "openid email profile"

    def init_app(self, app: Flask) -> None:
        issuer = app.config.get("OIDC_ISSUER") or ""
        if not issuer:
            return
        oauth = OAuth(app)
        app.extensions[self.KEY] = oauth.register(
            "oidc",
            overwrite=True,
            client_id=app.config["OIDC_CLIENT_ID"],
            client_secret=app.config["OIDC_CLIENT_SECRET"],
            # OpenID Connect Discovery: the endpoints and the JWKS come from the issuer's document.
            server_metadata_url=issuer.rstrip("/") + "/.well-known/openid-configuration",
            client_kwargs={"scope": self.SCOPE, "code_challenge_method": "S256", "default_timeout": 10},
        )

    def client(self):  # type: ignore[no-untyped-def]
        """The current app's client, or None while single sign-on is off."""
        return current_app.extensions.get(self.KEY)


sso = SingleSignOn()


class NotesApi(Api):
    # Errors are documented as problem+json, as app.http.errors.handle_http_exception sends them.
    ERROR_SCHEMA = ProblemSchema

    def _register_responses(self) -> None:
        """Register the named responses (NOT_FOUND, DEFAULT_ERROR...) as flask-smorest
        does, but with errors in ``application/problem+json``: flask-smorest would
        document them as ``application/json``, which is not what the app sends."""
        for status in http.HTTPStatus:
            response: dict[str, object] = {"description": status.phrase}
            if status >= 400:
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, PROBLEM_JSON)
            self.spec.components.response(status.name, response, lazy=True)
        default = {"description": "Default error response", "schema": self.ERROR_SCHEMA}
        prepare_response(default, self.spec, PROBLEM_JSON)
        self.spec.components.response("DEFAULT_ERROR", default, lazy=True)


api = NotesApi()
