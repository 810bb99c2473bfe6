"""Extension objects, created unbound so that every app the factory builds
binds its own (see ``create_app``)."""

from flask_login import LoginManager
from flask_migrate import Migrate
from flask_smorest import Api
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy.orm import DeclarativeBase

from .problem import ProblemSchema


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)
login_manager = LoginManager()
csrf = CSRFProtect()
migrate = Migrate()


class NotesApi(Api):
    # Errors are documented as problem+json, as errors.handle_http_exception sends them.
    ERROR_SCHEMA = ProblemSchema


api = NotesApi()
