"""The database session of a request, CLI command or job: one per app context, closed at teardown."""

from __future__ import annotations

from flask import Flask, current_app, g, request
from sqlalchemy.orm import Session, sessionmaker

from models.db import SQLITE_BEGIN, make_engine, make_session_factory
from webapp import faults

_WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def init_app(app: Flask, session_factory: sessionmaker[Session] | None = None) -> None:
    """Create the engine (unless a test hands in its own session factory) and the teardown hook."""
    if session_factory is None:
        engine = make_engine(app.config["DATABASE_URL"])
        session_factory = make_session_factory(engine)
        app.extensions["jakmentor.engine"] = engine
    app.extensions["jakmentor.sessions"] = session_factory
    app.teardown_appcontext(_close_session)
    faults.install(app, session_factory)  # test-only pauses; nothing unless FAULT_INJECTION=1

    @app.before_request
    def _declare_write_intent() -> None:
        # A request that changes data takes SQLite's write lock when its transaction begins, so
        # concurrent writers queue (busy timeout) instead of failing when a read turns into a write.
        if request.method in _WRITES:
            g.sqlite_begin_token = SQLITE_BEGIN.set("IMMEDIATE")

    @app.teardown_request
    def _end_write_intent(_exc: BaseException | None) -> None:
        token = g.pop("sqlite_begin_token", None)
        if token is not None:
            SQLITE_BEGIN.reset(token)


def intend_to_write() -> None:
    """Declare, before the first query, that this read request writes too (an access-log row).

    On SQLite its transaction then begins IMMEDIATE, like a POST's, instead of failing when the
    read turns into a write after another writer committed. Nothing changes on PostgreSQL.
    """
    if "sqlite_begin_token" not in g:
        g.sqlite_begin_token = SQLITE_BEGIN.set("IMMEDIATE")


def get_db() -> Session:
    """The session of the current app context, created on first use."""
    if "db" not in g:
        g.db = current_app.extensions["jakmentor.sessions"]()
    return g.db


def _close_session(exc: BaseException | None) -> None:
    db: Session | None = g.pop("db", None)
    if db is None:
        return
    try:
        if exc is not None or db.in_transaction():
            # Whatever the caller did not commit is not meant to last.
            db.rollback()
    finally:
        db.close()
