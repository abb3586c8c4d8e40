"""Migration 0005 (the consent record, consent withdrawal, the adult confirmation) on a database with
accounts, on SQLite and PostgreSQL."""

from __future__ import annotations

import json

from sqlalchemy import inspect, text

NEW_COLUMNS = {
    "privacy_consent_purposes",
    "privacy_consent_channel",
    "consent_withdrawn_at",
    "adult_confirmed_at",
}


def _account(id_: int, email: str, consent: str) -> str:
    return (
        "INSERT INTO user_account (id, email, name, password_hash, role, locale, share_phone, is_active, "
        "must_change_password, session_version, created_at, failed_logins, privacy_notice_version, "
        f"privacy_consent_at) VALUES ({id_}, '{email}', 'N', 'x', 'entrepreneur', 'id', false, true, false, 1, "
        f"'2026-11-01 00:00:00', 0, {consent})"
    )


def test_migration_0005_completes_earlier_consent_records_and_round_trips(empty_database_url):
    from models.db import make_engine
    from models.migrate import downgrade, upgrade

    url = empty_database_url
    upgrade(url, revision="0004")
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text(_account(901, "registered@x.id", "'2026-11', '2026-11-02 00:00:00'")))
            conn.execute(text(_account(902, "demo@x.id", "'demo', '2026-11-02 00:00:00'")))
            conn.execute(text(_account(903, "by-staff@x.id", "NULL, NULL")))
        upgrade(url)
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT id, privacy_consent_purposes, privacy_consent_channel, consent_withdrawn_at, "
                    "adult_confirmed_at FROM user_account ORDER BY id"
                )
            ).all()
        purposes = ["matching", "sessions", "programme_statistics"]

        def plain(value):
            return json.loads(value) if isinstance(value, str) else value

        assert [(r[0], plain(r[1]), r[2], r[3], r[4]) for r in rows] == [
            (901, purposes, "web_registration", None, None),
            (902, purposes, "demo", None, None),
            (903, None, None, None, None),  # no consent recorded: nothing invented
        ]
        downgrade(url, revision="0004")
        engine.dispose()
        assert not NEW_COLUMNS & {c["name"] for c in inspect(engine).get_columns("user_account")}
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM user_account")).scalar() == 3
        upgrade(url)
        engine.dispose()
        assert {c["name"] for c in inspect(engine).get_columns("user_account")} >= NEW_COLUMNS
    finally:
        engine.dispose()
