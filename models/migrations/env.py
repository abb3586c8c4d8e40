"""Alembic environment: migrates the database named by the caller (``models.migrate``) or DATABASE_URL."""

from __future__ import annotations

import os

from alembic import context

import models  # noqa: F401  (registers every table on Base.metadata)
from models.base import Base
from models.db import make_engine

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    return (
        config.attributes.get("url") or config.get_main_option("sqlalchemy.url") or os.environ["DATABASE_URL"]
    )


def run_migrations_offline() -> None:
    """Emit SQL to stdout instead of running it."""
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run migrations on a live connection (given by the caller, or made from the URL)."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(_url())
    try:
        with engine.connect() as conn:
            _run(conn)
    finally:
        engine.dispose()


def _run(connection) -> None:
    sqlite = connection.dialect.name == "sqlite"
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=sqlite,
        compare_type=True,
    )
    if not sqlite:
        with context.begin_transaction():
            context.run_migrations()
        return
    # SQLite's batch mode rebuilds a table (new table, copy, DROP, RENAME). With foreign keys on, the
    # DROP of a table that other rows refer to fails, or leaves a deferred violation that the RENAME
    # never clears. SQLite's documented procedure: foreign keys off (outside the transaction), then
    # PRAGMA foreign_key_check before the commit. The pragma is set on the driver connection, which
    # is outside a transaction here (a connection handed in inside one keeps foreign keys on).
    raw = connection.connection.dbapi_connection
    raw.execute("PRAGMA foreign_keys=OFF")
    try:
        with context.begin_transaction():
            context.run_migrations()
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
            if broken:
                raise RuntimeError(f"migration left rows whose foreign keys point nowhere: {broken[:10]}")
    finally:
        raw.execute("PRAGMA foreign_keys=ON")


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
