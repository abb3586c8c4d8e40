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


def _profile_columns(engine, table: str) -> set[str]:
    engine.dispose()
    return {c["name"] for c in inspect(engine).get_columns(table)}


def test_migration_0009_adds_an_empty_staff_recorded_objection_to_profiles_and_round_trips(
    empty_database_url,
):
    """The profiles, their mentorship and sessions stay, and so do the session rules of 0008 (the
    downgrade rebuilds the profile tables on SQLite, not ``mentoring_session``)."""
    from models.db import make_engine
    from models.migrate import downgrade, upgrade
    from tests.models.test_session_overlaps import _all_rules, _rules
    from tests.models.test_session_slots import _seed_at_0003

    url = empty_database_url
    upgrade(url, revision="0003")
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            _seed_at_0003(conn)  # entrepreneur 801, mentor 701, their match and two sessions
        upgrade(url, revision="0008")
        assert all(COLUMN not in _profile_columns(engine, t) for t in ("entrepreneur", "mentor"))
        upgrade(url, revision="0009")
        assert all(COLUMN in _profile_columns(engine, t) for t in ("entrepreneur", "mentor"))
        with engine.connect() as conn:
            assert conn.execute(text(f"SELECT {COLUMN} FROM mentor WHERE id = 701")).scalar() is None
            assert conn.execute(text(f"SELECT {COLUMN} FROM entrepreneur WHERE id = 801")).scalar() is None
        downgrade(url, revision="0008")
        assert all(COLUMN not in _profile_columns(engine, t) for t in ("entrepreneur", "mentor"))
        with engine.connect() as conn:
            kept = [
                conn.execute(text(f"SELECT count(*) FROM {table}")).scalar()
                for table in ("entrepreneur", "mentor", "mentor_match", "mentoring_session")
            ]
        assert kept == [1, 1, 1, 2]
        assert _rules(engine) == _all_rules(engine)
        upgrade(url)
        assert COLUMN in _profile_columns(engine, "mentor")
    finally:
        engine.dispose()
