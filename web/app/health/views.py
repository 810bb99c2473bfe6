"""/healthz and /readyz."""

from __future__ import annotations

import logging

import sqlalchemy as sa
from flask import Blueprint, current_app, jsonify
from flask.typing import ResponseReturnValue

from ..db.schema import schema_state
from ..extensions import db

bp = Blueprint("health", __name__)

log = logging.getLogger("notes.health")


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    """The process is up and serving requests."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz() -> ResponseReturnValue:
    """The database answers and its schema is not behind the code; 503 otherwise, so traffic goes elsewhere."""
    try:
        state = schema_state(current_app, db.session)
    except sa.exc.SQLAlchemyError as exc:
        db.session.rollback()
        log.warning("readiness check failed: %s", exc.__class__.__name__)
        return jsonify(status="unavailable", database="unreachable"), 503
    body = {"database": "ok", "schema": state.schema, "revision": state.revision, "head": state.head}
    if not state.ready:
        return jsonify(status="unavailable", **body), 503
    return jsonify(status="ready", **body)
