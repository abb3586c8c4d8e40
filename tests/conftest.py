"""Shared fixtures: one migrated database per test session (SQLite file by default, PostgreSQL when
TEST_DATABASE_URL is set), and each test inside an outer transaction rolled back at its end.

The database fixtures import SQLAlchemy lazily so that tests of the pure matching core never load it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).parent / "data" / "examples"


def _reset_postgres(url: str) -> None:
    from sqlalchemy import create_engine

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
        conn.exec_driver_sql("CREATE SCHEMA public")
    engine.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    """The URL of this session's test database, migrated to the newest schema with reference data."""
    from sqlalchemy.orm import Session

    from models.db import make_engine
    from models.migrate import upgrade
    from webapp.services.reference_data import sync_reference_data

    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        _reset_postgres(url)
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    upgrade(url)
    engine = make_engine(url)
    with Session(engine) as session:
        sync_reference_data(session)
        session.commit()
    engine.dispose()
    return url


@pytest.fixture(scope="session")
def engine(database_url):
    """The session-wide engine."""
    from models.db import make_engine

    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def connection(engine):
    """A connection inside an outer transaction that is rolled back when the test ends."""
    conn = engine.connect()
    outer = conn.begin()
    yield conn
    if outer.is_active:
        outer.rollback()
    conn.close()


@pytest.fixture
def session_factory(connection):
    """Sessions that join the outer transaction: their commits only release a savepoint."""
    from sqlalchemy.orm import sessionmaker

    return sessionmaker(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)


@pytest.fixture
def db(session_factory):
    """A session for arranging and checking data in a test."""
    session = session_factory()
    yield session
    session.close()


@pytest.fixture
def app_config() -> dict:
    """Settings for the test app; tests override entries by redefining this fixture or updating it."""
    return {"ENV": "testing", "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False}


@pytest.fixture
def app(session_factory, app_config, tmp_path):
    """The web app on the test transaction."""
    from webapp import create_app

    config = {**app_config}
    application = create_app(config, session_factory=session_factory)
    application.instance_path = str(tmp_path / "instance")
    return application


@pytest.fixture
def client(app):
    """A test client for the app."""
    return app.test_client()


@pytest.fixture
def postgres(engine):
    """The engine, when the suite runs on PostgreSQL; otherwise skip (or fail where REQUIRE_POSTGRES=1)."""
    if engine.dialect.name != "postgresql":
        if os.environ.get("REQUIRE_POSTGRES") == "1":
            pytest.fail("PostgreSQL tests are required here, but TEST_DATABASE_URL does not name PostgreSQL")
        pytest.skip("needs PostgreSQL: set TEST_DATABASE_URL=postgresql+psycopg://user@host/db")
    return engine
