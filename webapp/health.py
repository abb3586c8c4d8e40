"""``/healthz``: is the service up and can it reach its database."""

from __future__ import annotations

import logging

from flask import Blueprint, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from webapp.access import public
from webapp.database import get_db

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)


@bp.get("/healthz")
@public
def healthz():
    """200 with ``{"status": "ok"}`` when the database answers, 503 otherwise."""
    try:
        get_db().execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        log.warning("health check: database unreachable: %s", type(exc).__name__)
        return jsonify(status="unavailable", database="unreachable"), 503, {"Retry-After": "30"}
    return jsonify(status="ok", database="ok")
