"""PostgreSQL specifics: the migrated schema carries the partial unique indexes and CHECK constraints."""

from __future__ import annotations

from sqlalchemy import text


def test_partial_unique_indexes_exist_on_postgres(postgres, connection):
    rows = dict(
        connection.execute(
            text("SELECT indexname, indexdef FROM pg_indexes WHERE indexname IN ('uq_mentor_match_one_active', 'uq_match_request_open_pair')")
        ).all()
    )
    assert "WHERE ((status)::text = 'active'::text)" in rows["uq_mentor_match_one_active"]
    assert "UNIQUE" in rows["uq_match_request_open_pair"] and "WHERE" in rows["uq_match_request_open_pair"]


def test_capacity_check_constraint_exists_on_postgres(postgres, connection):
    names = set(connection.execute(text("SELECT conname FROM pg_constraint WHERE conrelid = 'mentor'::regclass")).scalars())
    assert {"ck_mentor_active_within_capacity", "ck_mentor_active_nonnegative"} <= names
