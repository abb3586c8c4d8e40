"""PostgreSQL: the web app's engine keeps its prepared statements across rollbacks, and a rollback
still undoes the transaction (``models.db.keep_prepared_statements``)."""

from __future__ import annotations

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from models.db import keep_prepared_statements, make_engine

#: Run often enough on one connection, psycopg prepares it (its ``prepare_threshold`` is 5).
PROBE = text("SELECT count(*) FROM pg_class WHERE relname = :name")


def _prepared(conn) -> int:
    return conn.execute(
        text(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE 'SELECT count(*) FROM pg_class%'"
        )
    ).scalar_one()


def _engine(postgres, keep: bool):
    engine = make_engine(postgres.url.render_as_string(hide_password=False), pool_size=1, max_overflow=0)
    if keep:
        keep_prepared_statements(engine)
    return engine


@pytest.mark.parametrize("keep", [True, False], ids=["kept", "psycopg-default"])
def test_postgresql_a_rollback_undoes_the_transaction_and_keeps_the_prepared_statements(postgres, keep):
    engine = _engine(postgres, keep)
    try:
        with engine.connect() as conn:
            conn.execute(text("CREATE TEMP TABLE written (x int)"))
            conn.commit()
            for _ in range(6):
                conn.execute(PROBE, {"name": "mentor"})
            assert _prepared(conn) == 1
            conn.execute(text("INSERT INTO written VALUES (1)"))
            conn.execute(PROBE, {"name": "mentor"})
            conn.rollback()
            assert conn.execute(text("SELECT count(*) FROM written")).scalar_one() == 0
            # psycopg's own rollback forgets every prepared statement (DEALLOCATE ALL): each is
            # parsed and planned again until it has run five more times.
            assert _prepared(conn) == (1 if keep else 0)
            assert conn.execute(PROBE, {"name": "mentor"}).scalar_one() == 1
    finally:
        engine.dispose()


def test_postgresql_a_failed_transaction_rolls_back_and_the_connection_goes_on(postgres):
    engine = _engine(postgres, True)
    try:
        with engine.connect() as conn:
            for _ in range(6):
                conn.execute(PROBE, {"name": "mentor"})
            with pytest.raises(DBAPIError):
                conn.execute(text("SELECT 1 / 0"))
            conn.rollback()
            assert conn.execute(PROBE, {"name": "mentor"}).scalar_one() == 1
            assert _prepared(conn) == 1
    finally:
        engine.dispose()


def test_postgresql_a_rollback_on_a_connection_the_server_ended_drops_it_and_the_next_is_fresh(postgres):
    engine = _engine(postgres, True)
    admin_url = postgres.url.set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        with engine.connect() as conn:
            pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
            with psycopg.connect(admin_url, autocommit=True) as admin:
                admin.execute("SELECT pg_terminate_backend(%s, 5000)", (pid,))
            with pytest.raises(DBAPIError) as failed:
                conn.rollback()
            assert failed.value.connection_invalidated
        with engine.connect() as conn:
            assert conn.execute(text("SELECT pg_backend_pid()")).scalar_one() != pid
    finally:
        engine.dispose()


def test_postgresql_the_web_apps_engine_keeps_its_prepared_statements_across_rollbacks(postgres):
    from webapp import create_app

    url = postgres.url.render_as_string(hide_password=False)
    app = create_app({"ENV": "testing", "DATABASE_URL": url, "RATELIMIT_ENABLED": False})
    engine = app.extensions["jakmentor.engine"]
    try:
        with engine.connect() as conn:
            for _ in range(6):
                conn.execute(PROBE, {"name": "mentor"})
            conn.rollback()
            assert _prepared(conn) == 1
    finally:
        engine.dispose()
