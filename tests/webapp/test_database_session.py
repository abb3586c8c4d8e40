"""The request's database session ends quietly even when its connection died after the work."""

from __future__ import annotations

import logging

from flask import g
from sqlalchemy.exc import OperationalError

from webapp import database


class _DeadConnectionSession:
    """A session whose connection was closed by the server after the request's queries."""

    def __init__(self) -> None:
        self.closed = False

    def in_transaction(self) -> bool:
        return True

    def rollback(self) -> None:
        raise OperationalError("ROLLBACK", {}, Exception("server closed the connection unexpectedly"))

    def close(self) -> None:
        self.closed = True


def test_a_rollback_on_a_connection_that_died_after_the_work_is_logged_not_raised(app, caplog):
    """A database restart between a request's last query and its end must not turn its answer
    into a 500 (the fault test of a PostgreSQL restart under load found this window)."""
    dead = _DeadConnectionSession()
    with app.app_context(), caplog.at_level(logging.WARNING, logger="webapp.database"):
        g.db = dead
        database._close_session(None)  # must not raise
        assert "db" not in g
    assert dead.closed
    assert "ending the request's transaction failed: OperationalError" in caplog.text
