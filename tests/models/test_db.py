"""The engine and the ORM under concurrency: SQLite connection settings, and no lost update."""

from __future__ import annotations

import pytest
from sqlalchemy import delete
from sqlalchemy.orm.exc import StaleDataError

from models import Entrepreneur, MatchRequest, Mentor
from models.db import make_engine, make_session_factory
from tests.factories import make_entrepreneur, make_mentor


def _pragma(conn, name: str):
    return conn.exec_driver_sql(f"PRAGMA {name}").scalar()


def test_a_sqlite_file_connection_has_wal_foreign_keys_and_a_busy_timeout(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'pragmas.db'}")
    try:
        with engine.connect() as conn:
            assert _pragma(conn, "journal_mode") == "wal"
            assert _pragma(conn, "foreign_keys") == 1
            assert _pragma(conn, "busy_timeout") == 15000
    finally:
        engine.dispose()


def test_a_failed_statement_does_not_carry_its_parameters_into_the_error_text(tmp_path):
    """Errors are logged with their text; the parameters are personal data (an e-mail here)."""
    import traceback

    from sqlalchemy import text
    from sqlalchemy.exc import IntegrityError

    email = "siti.rahma@contoh.id"  # the traceback shows the lines below, not this one
    engine = make_engine(f"sqlite:///{tmp_path / 'hidden.db'}")
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE person (email TEXT UNIQUE)"))
            conn.execute(text("INSERT INTO person VALUES (:email)"), {"email": email})
        with pytest.raises(IntegrityError) as failed, engine.begin() as conn:
            conn.execute(text("INSERT INTO person VALUES (:email)"), {"email": email})
        logged = "".join(traceback.format_exception(failed.value))
        assert "UNIQUE" in logged and "INSERT INTO person" in logged  # still says what failed
        assert "siti.rahma" not in logged
    finally:
        engine.dispose()


def test_an_in_memory_sqlite_connection_still_enforces_foreign_keys():
    engine = make_engine("sqlite://")
    try:
        with engine.connect() as conn:
            assert _pragma(conn, "foreign_keys") == 1
            assert _pragma(conn, "busy_timeout") == 15000
    finally:
        engine.dispose()


def test_the_test_database_connection_has_the_sqlite_settings(connection):
    if connection.dialect.name != "sqlite":
        pytest.skip("SQLite connection settings")
    assert _pragma(connection, "journal_mode") == "wal"
    assert _pragma(connection, "foreign_keys") == 1
    assert _pragma(connection, "busy_timeout") == 15000


def test_a_second_edit_of_a_request_loaded_before_the_first_was_saved_is_refused(engine):
    factory = make_session_factory(engine)
    with factory() as setup:
        e, m = make_entrepreneur(setup), make_mentor(setup)
        request = MatchRequest(entrepreneur_id=e.id, mentor_id=m.id, status="pending", message="hello")
        setup.add(request)
        setup.commit()
        ids = (request.id, e.id, m.id)
    try:
        first, second = factory(), factory()
        mine, theirs = first.get(MatchRequest, ids[0]), second.get(MatchRequest, ids[0])
        assert mine.version == theirs.version == 1
        # Each ended its read (as two web requests would); both now save a change to version 1.
        first.commit()
        second.commit()
        mine.response_note = "first edit"
        first.commit()
        theirs.response_note = "second edit"
        with pytest.raises(StaleDataError):
            second.commit()
        second.rollback()
        first.close()
        second.close()
        with factory() as check:
            row = check.get(MatchRequest, ids[0])
            assert (row.response_note, row.version) == ("first edit", 2)  # the first edit is not lost
    finally:
        with factory() as cleanup:
            cleanup.execute(delete(MatchRequest).where(MatchRequest.id == ids[0]))
            cleanup.execute(delete(Entrepreneur).where(Entrepreneur.id == ids[1]))
            cleanup.execute(delete(Mentor).where(Mentor.id == ids[2]))
            cleanup.commit()
