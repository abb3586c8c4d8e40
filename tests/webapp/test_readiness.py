"""``/readyz``: ready only with the database reachable and the schema at the newest migration; Redis,
when configured, reported (degraded without it, still ready); ``/healthz`` stays a liveness check."""

from __future__ import annotations

import pytest
from sqlalchemy import text


def test_readyz_is_ok_on_a_migrated_database(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok"}


def test_readyz_answers_503_when_the_schema_is_behind_the_code(client, db):
    db.execute(text("UPDATE alembic_version SET version_num = 'an_older_revision'"))
    db.flush()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    assert response.json["database"] == "behind"
    assert client.get("/healthz").status_code == 200  # alive, just not ready


def test_readyz_answers_503_when_the_database_is_gone(tmp_path):
    from webapp import create_app

    app = create_app({"ENV": "testing", "DATABASE_URL": f"sqlite:///{tmp_path}/gone.db"})
    engine = app.extensions["jakmentor.engine"]
    engine.dispose()

    def broken(*_a, **_k):
        raise __import__("sqlite3").OperationalError("unable to open database file")

    engine.pool._creator = broken
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    assert response.json["database"] == "unreachable"


@pytest.fixture
def unreachable_redis(app_config):
    app_config["REDIS_URL"] = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    return app_config


def test_readyz_stays_ready_but_degraded_when_the_configured_redis_is_unreachable(unreachable_redis, client):
    """Login limits fall back to the database floor without Redis (tests/faults): a host that
    cannot reach Redis still serves, so it stays in the pool and says what is missing."""
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json == {"status": "degraded", "database": "ok", "redis": "unreachable"}


def test_readyz_checks_redis_when_it_is_configured(client):
    class Answering:
        def ping(self):
            return True

    client.application.config["REDIS_URL"] = "redis://127.0.0.1:6379/0"
    client.application.extensions["jakmentor.redis"] = Answering()
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok", "redis": "ok"}
