"""The notes pages: list, view, write, pin, archive, trash."""

from flask import Blueprint

bp = Blueprint("notes", __name__, url_prefix="/notes")

from . import routes  # noqa: E402,F401
