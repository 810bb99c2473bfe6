"""Liveness and readiness probes for Docker, nginx and load balancers."""

from flask import Blueprint

bp = Blueprint("health", __name__)

from . import routes  # noqa: E402,F401
