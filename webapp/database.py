"""The database session of a request, CLI command or job: one per app context, closed at teardown."""

from __future__ import annotations

import logging
from contextlib import suppress

from flask import Flask, current_app, g, has_request_context, request
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from models.db import SQLITE_BEGIN, keep_prepared_statements, make_engine, make_session_factory
from webapp import faults

log = logging.getLogger(__name__)
_WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def init_app(app: Flask, session_factory: sessionmaker[Session] | None = None) -> None:
    """Create the engine (unless a test hands in its own session factory) and the teardown hook."""
    if session_factory is None:
        engine = make_engine(app.config["DATABASE_URL"])
        keep_prepared_statements(engine)
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
            intend_to_write()

    @app.teardown_request
    def _end_write_intent(_exc: BaseException | None) -> None:
        token = g.pop("sqlite_begin_token", None)
        if token is not None:
            SQLITE_BEGIN.reset(token)


def intend_to_write() -> None:
    """Declare, before the first query, that this request writes (a POST, or a read request that
    writes an access-log row); a hook that reads before the others (the API's token check) calls it
    for a POST itself. Declaring twice is one declaration.

    On SQLite its transaction then begins IMMEDIATE, like a POST's, instead of failing when the
    read turns into a write after another writer committed. Nothing changes on PostgreSQL.
    """
    if "sqlite_begin_token" not in g:
        g.sqlite_begin_token = SQLITE_BEGIN.set("IMMEDIATE")


_READ_ONLY = "_jakmentor_read_only"


def read_only(view):
    """Mark a view that only reads (the busiest pages): on PostgreSQL its statements run without
    a transaction, which saves the BEGIN and ROLLBACK round trips of every request.

    Each statement then sees the data as committed when it runs; a page made of a few reads does
    not need one snapshot. A write such a request still makes (the login's last-seen time, once a
    minute) commits on its own, so a view that writes more than one row together must not be
    marked. SQLite keeps its transactions (its write lock is taken at BEGIN).
    """
    setattr(view, _READ_ONLY, True)
    return view


def _reads_only(factory: sessionmaker[Session]) -> bool:
    if not has_request_context() or request.method not in ("GET", "HEAD"):
        return False
    view = current_app.view_functions.get(request.endpoint or "")
    bind = factory.kw.get("bind")  # tests hand in sessions on one connection: those keep it
    return getattr(view, _READ_ONLY, False) and isinstance(bind, Engine) and bind.dialect.name == "postgresql"


def get_db() -> Session:
    """The session of the current app context, created on first use."""
    if "db" not in g:
        factory = current_app.extensions["jakmentor.sessions"]
        if _reads_only(factory):
            g.db_connection = factory.kw["bind"].connect().execution_options(isolation_level="AUTOCOMMIT")
            g.db = factory(bind=g.db_connection)
        else:
            g.db = factory()
    return g.db


def _close_session(exc: BaseException | None) -> None:
    db: Session | None = g.pop("db", None)
    connection = g.pop("db_connection", None)
    if db is None:
        return
    try:
        if exc is not None or db.in_transaction():
            # Whatever the caller did not commit is not meant to last.
            db.rollback()
    except DBAPIError as error:
        # The connection died after the request's work (a database restart): nothing was committed
        # on it, and the pool drops it. The answer is already made; failing here would make it a 500.
        log.warning("database: ending the request's transaction failed: %s", type(error).__name__)
    finally:
        with suppress(DBAPIError):
            db.close()
        if connection is not None:
            with suppress(DBAPIError):
                connection.close()
