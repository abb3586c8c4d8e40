"""The web app's cache of encoded mentors: one ``MentorPools`` per app (so per worker process)."""

from __future__ import annotations

from flask import current_app

from webapp.services.mentor_pool import MentorPools

_KEY = "jakmentor.mentor_pools"


def init_app(app) -> None:
    """Give the app its own (empty) cache; it fills on the first suggestion."""
    app.extensions[_KEY] = MentorPools()


def mentor_pools() -> MentorPools:
    """The current app's cache of encoded mentors."""
    return current_app.extensions[_KEY]
