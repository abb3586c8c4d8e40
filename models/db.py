"""Engine and session factory, with SQLite set up for real transactions and safe concurrency."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

#: How SQLite transactions begin in this context: "" (deferred) or "IMMEDIATE" (take the write lock
#: at BEGIN, so a read-then-write transaction waits for other writers instead of failing on upgrade).
SQLITE_BEGIN: ContextVar[str] = ContextVar("sqlite_begin", default="")

#: SQLSTATEs of a statement PostgreSQL aborted to let a concurrent transaction go on:
#: ``deadlock_detected`` (it broke a wait cycle) and ``serialization_failure``.
ABORTED_FOR_ANOTHER = frozenset({"40P01", "40001"})


def aborted_for_another(exc: BaseException) -> bool:
    """True when ``exc`` is the database aborting this work so that a concurrent transaction could go
    on: nothing of it stays written, and the same work tried again can succeed."""
    return getattr(getattr(exc, "orig", None), "sqlstate", None) in ABORTED_FOR_ANOTHER


@contextmanager
def write_intent() -> Iterator[None]:
    """Within this block, SQLite transactions begin IMMEDIATE (no effect on other databases)."""
    token = SQLITE_BEGIN.set("IMMEDIATE")
    try:
        yield
    finally:
        SQLITE_BEGIN.reset(token)


def _configure_sqlite(engine: Engine) -> None:
    """Foreign keys on, WAL, a busy timeout, and BEGIN emitted by us so SAVEPOINT works.

    The sqlite3 driver's legacy transaction control emits no BEGIN before SELECT; SQLAlchemy's
    documented fix is to disable it and emit BEGIN ourselves (see the SQLite dialect notes).
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=15000")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:
        mode = SQLITE_BEGIN.get()
        connection.exec_driver_sql("BEGIN IMMEDIATE" if mode == "IMMEDIATE" else "BEGIN")


def make_engine(url: str, **kwargs) -> Engine:
    """An engine for ``url``: pre-ping on, SQLite configured, its folder created if missing.

    Statement parameters are kept out of error messages (``hide_parameters``): an error's text is
    logged, and the parameters are members' e-mail addresses, names and phone numbers."""
    kwargs.setdefault("hide_parameters", True)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        kwargs.setdefault("connect_args", {"timeout": 15, "check_same_thread": False})
        engine = create_engine(url, **kwargs)
        _configure_sqlite(engine)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def keep_prepared_statements(engine: Engine) -> None:
    """End this PostgreSQL engine's transactions with a ROLLBACK that keeps the connection's
    prepared statements (for the web app's engine, whose requests never change the schema).

    psycopg prepares a statement on a connection once it has run five times there, which saves
    PostgreSQL parsing and planning it again. Its ``Connection.rollback()`` then forgets all of them
    (DEALLOCATE ALL), in case the transaction changed the schema they were prepared against. A web
    request that ends without committing (a refusal, a page read in a transaction) rolls back, so
    under a mix of requests the statements were hardly ever prepared: every one was parsed and
    planned again, several times the database's work of running it prepared.

    This ROLLBACK goes to the connection's libpq handle (``pgconn``, psycopg's documented way to
    send low-level commands), which ends the transaction the same way and leaves psycopg's cache of
    prepared statements as it is. Prepared statements are not transactional in PostgreSQL, so they
    are still there. Schema changes by other sessions (a migration while workers run) are not the
    case psycopg guards against here; they reach prepared statements either way.
    """
    if engine.dialect.driver != "psycopg":
        return
    from psycopg import OperationalError, pq

    def do_rollback(dbapi_connection) -> None:
        pgconn = dbapi_connection.pgconn
        if pgconn.transaction_status == pq.TransactionStatus.IDLE:
            return
        result = pgconn.exec_(b"ROLLBACK")
        if result.status != pq.ExecStatus.COMMAND_OK:
            message = (result.error_message or b"").decode("utf-8", "replace").strip()
            raise OperationalError(message or "ROLLBACK failed")

    engine.dialect.do_rollback = do_rollback


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """A session factory bound to ``engine``; objects stay readable after commit."""
    return sessionmaker(bind=engine, expire_on_commit=False)
