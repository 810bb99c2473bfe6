"""Liveness and readiness probes for Docker, nginx and load balancers."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from .views import bp

    app.register_blueprint(bp)
