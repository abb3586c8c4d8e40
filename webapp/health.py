"""``/healthz`` (liveness: is the process up and can it reach its database) and ``/readyz``
(readiness: database reachable, schema at the newest migration; Redis reported when configured)."""

from __future__ import annotations

import functools
import logging

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from webapp.access import public
from webapp.database import get_db

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)

RETRY_AFTER = {"Retry-After": "30"}


@bp.get("/healthz")
@public
def healthz():
    """200 with ``{"status": "ok"}`` when the database answers, 503 otherwise."""
    try:
        get_db().execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        log.warning("health check: database unreachable: %s", type(exc).__name__)
        return jsonify(status="unavailable", database="unreachable"), 503, RETRY_AFTER
    return jsonify(status="ok", database="ok")


@functools.cache
def migration_heads() -> frozenset[str]:
    """The newest revision(s) of the migration scripts (read once per process: they ship with the code)."""
    from alembic.script import ScriptDirectory

    from models.migrate import alembic_config

    return frozenset(ScriptDirectory.from_config(alembic_config()).get_heads())


def _database_state() -> str:
    """``ok``, ``unreachable`` or ``behind`` (the schema is not at the newest migration)."""
    from alembic.runtime.migration import MigrationContext

    db = get_db()
    try:
        current = frozenset(MigrationContext.configure(db.connection()).get_current_heads())
    except SQLAlchemyError as exc:
        log.warning("readiness: database unreachable: %s", type(exc).__name__)
        return "unreachable"
    if current != migration_heads():
        log.warning("readiness: schema at %s, code expects %s", sorted(current), sorted(migration_heads()))
        return "behind"
    return "ok"


def _redis_state() -> str | None:
    """``ok`` or ``unreachable`` when ``REDIS_URL`` is set; None when the app runs without Redis."""
    url = current_app.config.get("REDIS_URL")
    if not url:
        return None
    client = current_app.extensions.get("jakmentor.redis")
    if client is None:
        import redis

        client = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
        current_app.extensions["jakmentor.redis"] = client
    try:
        client.ping()
    except Exception as exc:  # any failure means: not ready (connection, timeout, auth, protocol)
        log.warning("readiness: redis unreachable: %s", type(exc).__name__)
        return "unreachable"
    return "ok"


@bp.get("/readyz")
@public
def readyz():
    """200 when this worker can serve: database reachable and migrated to head; 503 with
    ``Retry-After`` otherwise (the proxy or orchestrator keeps traffic away).

    Redis, when configured, is reported but does not decide: without it the login limits fall back
    to the database floor and each process's own counts, and every page still works. A Redis outage
    answers 200 with ``"status": "degraded"``; failing readiness would take every web host out of
    the pool at once for an outage they can serve through."""
    checks = {"database": _database_state()}
    redis_state = _redis_state()
    if redis_state is not None:
        checks["redis"] = redis_state
    if checks["database"] != "ok":
        return jsonify(status="unavailable", **checks), 503, RETRY_AFTER
    return jsonify(status="ok" if redis_state in (None, "ok") else "degraded", **checks)
