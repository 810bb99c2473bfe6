"""Extension objects, created unbound so that every app the factory builds
binds its own (see ``create_app``)."""

import http
from typing import TYPE_CHECKING

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
