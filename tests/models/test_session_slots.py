"""CON-8 in the database: one booked session per person and start time, people equal to the match's,
and migration 0004 on a database that already holds sessions (SQLite and PostgreSQL)."""

from __future__ import annotations

import contextlib
import datetime as dt

import pytest
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import IntegrityError

from models import Match, MentoringSession
from tests.factories import make_entrepreneur, make_mentor

T9 = dt.datetime(2026, 12, 1, 2, 0, tzinfo=dt.UTC)  # Tuesday 09:00 WIB


def _match(db, entrepreneur=None, mentor=None) -> Match:
    match = Match(
        entrepreneur_id=(entrepreneur or make_entrepreneur(db)).id,
        mentor_id=(mentor or make_mentor(db)).id,
        status="active",
    )
    db.add(match)
    db.flush()
    return match


def _session(db, match: Match, start: dt.datetime = T9, status: str = "proposed", **kw) -> MentoringSession:
    row = MentoringSession(
        match_id=match.id,
        week_start=dt.date(2026, 11, 30),
        starts_at=start,
        ends_at=start + dt.timedelta(hours=1),
        mode="online",
        status=status,
        **kw,
    )
    db.add(row)
    db.flush()
    return row


def test_the_database_refuses_a_mentor_two_booked_sessions_at_the_same_start(db):
    mentor = make_mentor(db)
    _session(db, _match(db, mentor=mentor))
    with pytest.raises(IntegrityError), db.begin_nested():
        _session(db, _match(db, mentor=mentor))


def test_the_database_refuses_an_entrepreneur_two_booked_sessions_at_the_same_start(db):
    entrepreneur = make_entrepreneur(db)
    first = _match(db, entrepreneur=entrepreneur)
    _session(db, first, status="confirmed")
    first.status = "ended"
    db.flush()
    with pytest.raises(IntegrityError), db.begin_nested():
        _session(db, _match(db, entrepreneur=entrepreneur))


def test_declined_and_cancelled_sessions_leave_the_start_time_free(db):
    mentor = make_mentor(db)
    _session(db, _match(db, mentor=mentor), status="declined")
    _session(db, _match(db, mentor=mentor), status="cancelled")
    _session(db, _match(db, mentor=mentor), status="proposed")
    _session(db, _match(db, mentor=mentor), start=T9 + dt.timedelta(hours=1))
    count = db.scalar(
        select(text("count(*)")).select_from(MentoringSession).where(MentoringSession.mentor_id == mentor.id)
    )
    assert count == 4


def test_a_session_made_without_its_people_gets_the_matchs(db):
    match = _match(db)
    row = _session(db, match)
    assert (row.entrepreneur_id, row.mentor_id) == (match.entrepreneur_id, match.mentor_id)


def test_a_session_cannot_name_people_other_than_its_matchs(db):
    match = _match(db)
    stranger = make_mentor(db)
    with pytest.raises(IntegrityError), db.begin_nested():
        _session(db, match, entrepreneur_id=match.entrepreneur_id, mentor_id=stranger.id)


# --- migration 0004 on a database with data ------------------------------------------------------


def _seed_at_0003(conn) -> None:
    """Two people, a match, a held session with feedback and a proposed one, written as at 0003."""
    from webapp.services.reference_data import sync_reference_data

    with _orm(conn) as s:
        sync_reference_data(s)
        s.flush()
    rows = {
        "user_account": "INSERT INTO user_account (id, email, name, password_hash, role, locale, share_phone, "
        "is_active, must_change_password, session_version, created_at, failed_logins) VALUES "
        "(901, 'm@x.id', 'M', 'x', 'mentor', 'id', false, true, false, 1, '2026-11-01 00:00:00', 0)",
        "entrepreneur": "INSERT INTO entrepreneur (id, external_id, name, sector_code, stage_code, kecamatan_code, "
        "needs, languages, mode, bio, profile_complete, created_at, updated_at) VALUES (801, 'E801', 'E', 'I', "
        "'early', '31.71.01', '[]', '[\"id\"]', 'either', '', true, '2026-11-01 00:00:00', '2026-11-01 00:00:00')",
        "mentor": "INSERT INTO mentor (id, external_id, user_id, name, sectors, stages, kecamatan_code, expertise, "
        "capacity, active_count, languages, mode, bio, paused, created_at, updated_at) VALUES (701, 'M701', 901, "
        "'M', '[]', '[]', '31.71.01', '[]', 2, 1, '[\"id\"]', 'either', '', false, '2026-11-01 00:00:00', "
        "'2026-11-01 00:00:00')",
        "mentor_match": "INSERT INTO mentor_match (id, entrepreneur_id, mentor_id, status, cadence, started_at) "
        "VALUES (601, 801, 701, 'active', 'weekly', '2026-11-01 00:00:00')",
        "mentoring_session": "INSERT INTO mentoring_session (id, match_id, week_start, starts_at, ends_at, mode, "
        "status, entrepreneur_confirmed, mentor_confirmed, created_at) VALUES "
        "(501, 601, '2026-11-23', '2026-11-24 02:00:00', '2026-11-24 03:00:00', 'online', 'held', true, true, "
        "'2026-11-20 00:00:00'), "
        "(502, 601, '2026-11-30', '2026-12-01 02:00:00', '2026-12-01 03:00:00', 'online', 'proposed', false, "
        "false, '2026-11-27 00:00:00')",
        "session_feedback": "INSERT INTO session_feedback (id, session_id, author_id, happened, rating, areas, "
        "created_at) VALUES (401, 501, 901, true, 5, '[]', '2026-11-25 00:00:00')",
    }
    for sql in rows.values():
        conn.execute(text(sql))


@contextlib.contextmanager
def _orm(conn):
    from sqlalchemy.orm import Session

    with Session(bind=conn) as session:
        yield session


def test_migration_0004_fills_the_people_of_existing_sessions_and_round_trips(empty_database_url):
    from models.db import make_engine
    from models.migrate import downgrade, upgrade

    url = empty_database_url
    upgrade(url, revision="0003")
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            _seed_at_0003(conn)
        upgrade(url)
        with engine.connect() as conn:
            people = conn.execute(
                text("SELECT id, entrepreneur_id, mentor_id FROM mentoring_session ORDER BY id")
            ).all()
            assert [tuple(r) for r in people] == [(501, 801, 701), (502, 801, 701)]
            assert conn.execute(text("SELECT session_id FROM session_feedback")).scalar() == 501
        names = {ix["name"] for ix in inspect(engine).get_indexes("mentoring_session")}
        assert {"uq_mentoring_session_mentor_start", "uq_mentoring_session_entrepreneur_start"} <= names
        downgrade(url, revision="0003")
        engine.dispose()
        columns = {c["name"] for c in inspect(engine).get_columns("mentoring_session")}
        assert "mentor_id" not in columns and "entrepreneur_id" not in columns
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM mentoring_session")).scalar() == 2
            assert conn.execute(text("SELECT session_id FROM session_feedback")).scalar() == 501
        upgrade(url)
        engine.dispose()
        with engine.connect() as conn:
            assert (
                conn.execute(text("SELECT count(*) FROM mentoring_session WHERE mentor_id = 701")).scalar()
                == 2
            )
    finally:
        engine.dispose()


def test_migration_0004_stops_on_an_existing_double_booking_and_names_it(empty_database_url):
    from models.db import make_engine
    from models.migrate import upgrade

    url = empty_database_url
    upgrade(url, revision="0003")
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            _seed_at_0003(conn)
            conn.execute(
                text(
                    "INSERT INTO mentor_match (id, entrepreneur_id, mentor_id, status, cadence, started_at) "
                    "VALUES (602, 801, 701, 'ended', 'weekly', '2026-11-01 00:00:00')"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO mentoring_session (id, match_id, week_start, starts_at, ends_at, mode, status, "
                    "entrepreneur_confirmed, mentor_confirmed, created_at) VALUES (503, 602, '2026-11-30', "
                    "'2026-12-01 02:00:00', '2026-12-01 03:00:00', 'online', 'confirmed', true, true, "
                    "'2026-11-27 00:00:00')"
                )
            )
        with pytest.raises(RuntimeError, match="same entrepreneur_id at the same start time"):
            upgrade(url)
        engine.dispose()
        with engine.connect() as conn:  # nothing of 0004 was applied
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0003"
    finally:
        engine.dispose()
