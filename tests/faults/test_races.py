"""Races between processes (TST-3): each process has its own engine and they start together on a
barrier, on this run's database (a SQLite file by default, PostgreSQL when TEST_DATABASE_URL is set)."""

from __future__ import annotations

import datetime as dt
import itertools
import os

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from models import (
    AuditLog,
    Entrepreneur,
    Match,
    MatchRequest,
    Mentor,
    MentoringSession,
    Notification,
    Room,
    StatusChange,
    User,
    utcnow,
)
from tests.faults.race_workers import RacePool
from webapp.services.sessions import WIB

PROCESSES = 8
TRIALS = 5
_tags = itertools.count(1)


@pytest.fixture(scope="module")
def race_pool(database_url):
    """Eight worker processes on the session's database, started once for the module."""
    pool = RacePool(database_url, PROCESSES)
    yield pool
    pool.close()


@pytest.fixture
def rows(engine):
    """Make committed mentors, entrepreneurs and requests for one trial; delete them all afterwards."""
    made = {"mentors": [], "entrepreneurs": []}
    tag = f"RC{os.getpid() % 10000:04d}{next(_tags):03d}"
    counter = itertools.count()

    def mentor(capacity: int = 2) -> int:
        with Session(engine) as s:
            row = Mentor(
                external_id=f"{tag}M{next(counter)}",
                name="Mentor Balapan",
                sectors=["I"],
                stages=["early"],
                kecamatan_code="31.71.01",
                expertise=["licensing"],
                capacity=capacity,
                active_count=0,
                languages=["id"],
                mode="either",
            )
            s.add(row)
            s.commit()
            made["mentors"].append(row.id)
            return row.id

    def entrepreneur() -> int:
        with Session(engine) as s:
            row = Entrepreneur(
                external_id=f"{tag}E{next(counter)}",
                name="Peserta Balapan",
                sector_code="I",
                stage_code="early",
                kecamatan_code="31.71.01",
                needs=["licensing"],
                languages=["id"],
                mode="either",
            )
            s.add(row)
            s.commit()
            made["entrepreneurs"].append(row.id)
            return row.id

    def request(entrepreneur_id: int, mentor_id: int) -> int:
        with Session(engine) as s:
            row = MatchRequest(
                entrepreneur_id=entrepreneur_id, mentor_id=mentor_id, status="pending", sent_at=utcnow()
            )
            s.add(row)
            s.commit()
            return row.id

    yield mentor, entrepreneur, request
    with Session(engine) as s:
        m_ids, e_ids = made["mentors"], made["entrepreneurs"]
        req_ids = select(MatchRequest.id).where(
            MatchRequest.mentor_id.in_(m_ids) | MatchRequest.entrepreneur_id.in_(e_ids)
        )
        match_ids = select(Match.id).where(Match.mentor_id.in_(m_ids) | Match.entrepreneur_id.in_(e_ids))
        s.execute(
            delete(StatusChange).where(
                StatusChange.request_id.in_(req_ids) | StatusChange.match_id.in_(match_ids)
            )
        )
        s.execute(delete(Match).where(Match.id.in_(match_ids)))
        s.execute(delete(MatchRequest).where(MatchRequest.id.in_(req_ids)))
        s.execute(delete(Entrepreneur).where(Entrepreneur.id.in_(e_ids)))
        s.execute(delete(Mentor).where(Mentor.id.in_(m_ids)))
        s.commit()


def _held(engine, mentor_id: int) -> tuple[int, int]:
    """(active_count, active matches) of a mentor, read fresh."""
    with Session(engine) as s:
        active = s.scalar(
            select(func.count())
            .select_from(Match)
            .where(Match.mentor_id == mentor_id, Match.status == "active")
        )
        return s.get(Mentor, mentor_id).active_count, active


@pytest.mark.slow
@pytest.mark.parametrize("trial", range(TRIALS))
def test_eight_processes_accepting_at_once_fill_two_places_and_no_more(trial, race_pool, rows, engine):
    mentor, entrepreneur, request = rows
    mentor_id = mentor(capacity=2)
    requests = [request(entrepreneur(), mentor_id) for _ in range(PROCESSES)]
    outcomes = race_pool.race("accept", [(mentor_id, r) for r in requests])
    assert outcomes == ["accepted"] * 2 + ["capacity_full"] * (PROCESSES - 2)
    assert _held(engine, mentor_id) == (2, 2)
    with Session(engine) as s:
        statuses = sorted(s.scalars(select(MatchRequest.status).where(MatchRequest.id.in_(requests))))
    assert statuses == ["accepted"] * 2 + ["pending"] * (PROCESSES - 2)


@pytest.mark.slow
@pytest.mark.parametrize("trial", range(TRIALS))
def test_two_processes_accepting_the_same_request_make_one_match(trial, race_pool, rows, engine):
    mentor, entrepreneur, request = rows
    mentor_id = mentor(capacity=3)
    req = request(entrepreneur(), mentor_id)
    outcomes = race_pool.race("accept", [(mentor_id, req), (mentor_id, req)])
    assert outcomes == ["accepted", "request_not_pending"]
    assert _held(engine, mentor_id) == (1, 1)


@pytest.mark.slow
@pytest.mark.parametrize("trial", range(3))
def test_simultaneous_duplicate_requests_leave_exactly_one_row(trial, race_pool, rows, engine):
    mentor, entrepreneur, _request = rows
    mentor_id, entrepreneur_id = mentor(capacity=2), entrepreneur()
    outcomes = race_pool.race("request", [(entrepreneur_id, mentor_id)] * PROCESSES)
    assert outcomes == ["already_requested"] * (PROCESSES - 1) + ["requested"]
    with Session(engine) as s:
        count = s.scalar(
            select(func.count())
            .select_from(MatchRequest)
            .where(MatchRequest.entrepreneur_id == entrepreneur_id, MatchRequest.mentor_id == mentor_id)
        )
    assert count == 1


# --- CON-8: bookings of one person or one room at overlapping times --------------------------------

#: A week of their own (Monday 2027-03-01), far from the other tests' sessions.
RACE_MONDAY = dt.date(2027, 3, 1)


def _race_at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(RACE_MONDAY + dt.timedelta(days=day), dt.time(hour, minute), tzinfo=WIB)


@pytest.fixture
def bookings(engine, rows):
    """``match(mentor_id=None)`` makes a committed active match (a new mentor unless given); ``room(capacity)``
    a committed room; ``staff()`` a staff account; ``session(match_id, start)`` a committed online session.
    Everything made, and every session of those matches, is deleted afterwards."""
    from tests.factories import make_user

    mentor, entrepreneur, _request = rows
    made = {"matches": [], "rooms": [], "users": []}
    tag = f"RB{os.getpid() % 10000:04d}{next(_tags):03d}"

    def match(mentor_id: int | None = None) -> tuple[int, int]:
        mentor_id = mentor_id or mentor(capacity=3)
        with Session(engine) as s:
            row = Match(entrepreneur_id=entrepreneur(), mentor_id=mentor_id, status="active")
            s.add(row)
            s.commit()
            made["matches"].append(row.id)
            return row.id, mentor_id

    def room(capacity: int) -> str:
        with Session(engine) as s:
            row = Room(
                id=f"{tag}R{len(made['rooms'])}",
                kecamatan_code="31.71.01",
                name="Ruang Balapan",
                capacity=capacity,
                availability="mon 08:00-17:00;tue 08:00-17:00;wed 08:00-17:00;thu 08:00-17:00",
            )
            s.add(row)
            s.commit()
            made["rooms"].append(row.id)
            return row.id

    def staff() -> int:
        from models import Role

        with Session(engine) as s:
            user = make_user(s, Role.STAFF)
            s.commit()
            made["users"].append(user.id)
            return user.id

    def session(match_id: int, start: dt.datetime) -> int:
        with Session(engine) as s:
            row = MentoringSession(
                match_id=match_id,
                week_start=RACE_MONDAY,
                starts_at=start,
                ends_at=start + dt.timedelta(hours=1),
                mode="online",
                video_url="https://meet.jit.si/JakMentor-race",
            )
            s.add(row)
            s.commit()
            return row.id

    yield match, room, staff, session
    with Session(engine) as s:
        ids = select(MentoringSession.id).where(MentoringSession.match_id.in_(made["matches"]))
        key = Notification.payload["session_id"].as_integer()
        s.execute(delete(Notification).where(key.in_(ids)))
        s.execute(delete(AuditLog).where(AuditLog.actor_id.in_(made["users"])))
        s.execute(delete(MentoringSession).where(MentoringSession.match_id.in_(made["matches"])))
        s.execute(delete(Match).where(Match.id.in_(made["matches"])))
        s.execute(delete(Room).where(Room.id.in_(made["rooms"])))
        s.execute(delete(User).where(User.id.in_(made["users"])))
        s.commit()


def _booked_in(engine, where) -> list[tuple[dt.datetime, dt.datetime]]:
    """(start, end) of the booked sessions matching ``where``, read fresh."""
    with Session(engine) as s:
        return list(
            s.execute(
                select(MentoringSession.starts_at, MentoringSession.ends_at)
                .where(where, MentoringSession.status.in_(("proposed", "confirmed", "held")))
                .order_by(MentoringSession.starts_at)
            )
        )


@pytest.mark.slow
@pytest.mark.parametrize("trial", range(TRIALS))
def test_eight_processes_writing_overlapping_sessions_of_one_mentor_book_exactly_one(
    trial, race_pool, bookings, engine
):
    """Straight to the database, no service check: only the database's rule stands between them."""
    match, _room, _staff, _session = bookings
    first, mentor_id = match()
    matches = [first] + [match(mentor_id)[0] for _ in range(PROCESSES - 1)]
    # 09:00, 09:05, ... 09:35, an hour each: all of them in progress at 09:35
    starts = [_race_at(3, 9, 5 * i).isoformat() for i in range(PROCESSES)]
    outcomes = race_pool.race("insert", [(m, s, 60, None) for m, s in zip(matches, starts, strict=True)])
    assert outcomes == ["inserted"] + ["person_busy"] * (PROCESSES - 1)
    assert len(_booked_in(engine, MentoringSession.mentor_id == mentor_id)) == 1


@pytest.mark.slow
@pytest.mark.parametrize("trial", range(TRIALS))
def test_eight_processes_writing_overlapping_sessions_into_a_room_for_two_book_exactly_two(
    trial, race_pool, bookings, engine
):
    match, room, _staff, _session = bookings
    room_id = room(capacity=2)
    matches = [match()[0] for _ in range(PROCESSES)]
    starts = [_race_at(3, 9, 5 * i).isoformat() for i in range(PROCESSES)]
    outcomes = race_pool.race("insert", [(m, s, 60, room_id) for m, s in zip(matches, starts, strict=True)])
    assert outcomes == ["inserted"] * 2 + ["room_full"] * (PROCESSES - 2)
    assert len(_booked_in(engine, MentoringSession.room_id == room_id)) == 2


@pytest.mark.slow
@pytest.mark.parametrize("trial", range(3))
def test_two_staff_moving_two_sessions_of_one_mentor_onto_overlapping_times_move_one(
    trial, race_pool, bookings, engine
):
    """Through the service: whichever check or rule refuses the second, it answers person_busy."""
    match, _room, staff, session = bookings
    first, mentor_id = match()
    second = match(mentor_id)[0]
    one, two = session(first, _race_at(1, 13)), session(second, _race_at(2, 13))
    staff_id = staff()
    outcomes = race_pool.race(
        "move",
        [
            (staff_id, one, _race_at(3, 9).isoformat(), None),
            (staff_id, two, _race_at(3, 9, 30).isoformat(), None),
        ],
    )
    assert outcomes == ["moved", "person_busy"]
    spans = _booked_in(engine, MentoringSession.mentor_id == mentor_id)
    assert len(spans) == 2 and spans[0][1] <= spans[1][0]


# --- the weekly proposal, exactly once (SCH-3) -------------------------------------------------------

PROPOSAL_TRIALS = 20


@pytest.mark.slow
@pytest.mark.parametrize("trial", range(PROPOSAL_TRIALS))
def test_eight_processes_proposing_the_same_week_at_once_propose_it_once(trial, race_pool, engine):
    """Eight schedulers fire at the same instant: one claims the week and proposes, the others find
    it claimed (or, on PostgreSQL, the advisory lock taken) and write nothing."""
    from models import JobRun
    from tests.webapp.sessions_data import cleanup_committed, make_match
    from webapp.services.sessions import JOB_NAME

    monday = dt.date(2033, 1, 3) + dt.timedelta(weeks=trial)  # a week of its own per trial
    now = dt.datetime.combine(monday - dt.timedelta(days=1), dt.time(18), tzinfo=WIB)
    with Session(engine) as setup:
        match_ids = [make_match(setup, users=False, e_kw={"mode": "online"}).id for _ in range(4)]
        setup.commit()
    try:
        outcomes = race_pool.race("propose", [(monday.isoformat(), now.isoformat())] * PROCESSES)
        assert outcomes.count("done") == 1, outcomes
        assert set(outcomes) <= {"done", "already_done", "busy"}, outcomes
        with Session(engine) as check:
            claims = check.scalar(
                select(func.count()).select_from(JobRun).where(JobRun.job == JOB_NAME, JobRun.period_start == monday)
            )
            proposed = check.execute(
                select(MentoringSession.match_id, func.count())
                .where(MentoringSession.match_id.in_(match_ids), MentoringSession.week_start == monday)
                .group_by(MentoringSession.match_id)
            ).all()
        assert claims == 1
        assert sorted(proposed) == [(match_id, 1) for match_id in sorted(match_ids)]  # one each, no duplicate
    finally:
        with Session(engine) as cleanup:
            cleanup_committed(cleanup, monday, match_ids)
