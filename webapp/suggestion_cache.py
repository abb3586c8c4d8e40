"""The web app's cache of encoded mentors: one ``MentorPools`` per app (so per worker process)."""

from __future__ import annotations

import logging

from flask import Flask, current_app

from webapp.services.mentor_pool import MentorPools

_KEY = "jakmentor.mentor_pools"
log = logging.getLogger(__name__)


def init_app(app) -> None:
    """Give the app its own (empty) cache; it fills on the first suggestion, or at ``warm_up``."""
    app.extensions[_KEY] = MentorPools()


def mentor_pools() -> MentorPools:
    """The current app's cache of encoded mentors."""
    return current_app.extensions[_KEY]


def warm_up(app: Flask) -> bool:
    """Encode the mentors now, before the process serves anyone (gunicorn's ``post_worker_init``).

    Otherwise the first suggestions page a new worker serves waits for the whole encoding, and so
    do the requests queued behind it: after every deploy, restart or recycled worker, the first
    people to arrive wait half a second or more. The database not being reachable (or not yet
    migrated) is no reason not to start: the pool is then built on first use, as before. True when
    the pool was built.
    """
    from webapp.database import get_db

    with app.app_context():
        try:
            pool = app.extensions[_KEY].current(get_db())
        except Exception as exc:  # noqa: BLE001 # a warm-up must never keep a worker from starting
            log.warning("mentor pool: not encoded at start (%s); the first suggestion builds it", type(exc).__name__)
            return False
    log.info("mentor pool: %d mentors encoded before serving", len(pool.ids))
    return True
