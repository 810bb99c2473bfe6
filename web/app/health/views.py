"""/healthz and /readyz."""

from __future__ import annotations

import logging

import sqlalchemy as sa
from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from ..extensions import db

bp = Blueprint("health", __name__)

log = logging.getLogger("notes.health")


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    """The process is up and serving requests."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz() -> ResponseReturnValue:
    """The app can reach its database; 503 otherwise, so traffic goes elsewhere."""
    try:
        db.session.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError as exc:
        db.session.rollback()
        log.warning("readiness check failed: %s", exc.__class__.__name__)
        return jsonify(status="unavailable", database="unreachable"), 503
    return jsonify(status="ready", database="ok")
