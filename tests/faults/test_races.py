"""Races between processes (TST-3): each process has its own engine and they start together on a
barrier, on this run's database (a SQLite file by default, PostgreSQL when TEST_DATABASE_URL is set)."""

from __future__ import annotations

import itertools
import os

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from models import Entrepreneur, Match, MatchRequest, Mentor, StatusChange, utcnow
from tests.faults.race_workers import RacePool

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
