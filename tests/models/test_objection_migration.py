"""Migration 0007 (the objection to automated proposals) on a database with accounts, on SQLite and
PostgreSQL: nobody has objected after the upgrade, and the downgrade keeps every account."""

from __future__ import annotations

from sqlalchemy import inspect, text

COLUMN = "automated_proposals_objected_at"


def _columns(engine) -> set[str]:
    engine.dispose()
    return {c["name"] for c in inspect(engine).get_columns("user_account")}


def test_migration_0007_adds_an_empty_objection_and_round_trips(empty_database_url):
    from models.db import make_engine
    from models.migrate import downgrade, upgrade

    url = empty_database_url
    upgrade(url, revision="0006")
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO user_account (id, email, name, password_hash, role, locale, share_phone, "
                    "is_active, must_change_password, session_version, created_at, failed_logins, "
                    "consent_withdrawn_at) VALUES (911, 'ada@x.id', 'N', 'x', 'mentor', 'id', false, true, "
                    "false, 1, '2026-11-01 00:00:00', 0, '2026-11-20 00:00:00')"
                )
            )
        assert COLUMN not in _columns(engine)
        upgrade(url, revision="0007")
        assert COLUMN in _columns(engine)
        with engine.connect() as conn:
            row = conn.execute(text(f"SELECT {COLUMN}, consent_withdrawn_at FROM user_account")).one()
        assert row[0] is None and row[1] is not None  # a withdrawal is not an objection
        downgrade(url, revision="0006")
        assert COLUMN not in _columns(engine)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM user_account")).scalar() == 1
        upgrade(url)
        assert COLUMN in _columns(engine)
    finally:
        engine.dispose()
