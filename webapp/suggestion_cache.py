"""The web app's cache of encoded mentors: one ``MentorPools`` per app (so per worker process), and
the bound on the mentor cards kept with its rankings."""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict

from flask import Flask, current_app

from webapp.services.mentor_pool import MentorPools

_KEY = "jakmentor.mentor_pools"
_CARDS_KEY = "jakmentor.kept_cards"
log = logging.getLogger(__name__)


class KeptCards:
    """The rankings whose rendered mentor cards are kept (``Ranked.rendered``), last used last.

    A pool keeps thousands of rankings (a few hundred bytes each); their cards weigh about 6 KB
    per language. Beyond ``keep`` rankings the least recently shown one's cards are dropped (its
    next view renders them again), so cards cost a worker a few MB at most.
    """

    def __init__(self, keep: int = 512) -> None:
        self.keep = keep
        self._stores: OrderedDict[int, dict] = OrderedDict()  # id(store) -> store (held: ids stay unique)
        self._lock = threading.Lock()

    def shown(self, store: dict) -> None:
        """``store``'s cards were just shown (or made): keep them, and drop the oldest beyond ``keep``."""
        with self._lock:
            self._stores[id(store)] = store
            self._stores.move_to_end(id(store))
            while len(self._stores) > self.keep:
                _key, oldest = self._stores.popitem(last=False)
                oldest.clear()


def init_app(app) -> None:
    """Give the app its own (empty) caches; the pool fills on the first suggestion, or at ``warm_up``."""
    app.extensions[_KEY] = MentorPools()
    app.extensions[_CARDS_KEY] = KeptCards()


def mentor_pools() -> MentorPools:
    """The current app's cache of encoded mentors."""
    return current_app.extensions[_KEY]


def kept_cards() -> KeptCards:
    """The current app's bound on the mentor cards kept with rankings."""
    return current_app.extensions[_CARDS_KEY]


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
