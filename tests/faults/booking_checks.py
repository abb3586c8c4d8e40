"""What must hold of booked sessions and weekly proposals after every step of the state-machine tests (CON-8)."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable

from sqlalchemy import select

from models import BOOKED_SESSION_STATES, JobRun, Room
from webapp.services.sessions import JOB_NAME

Span = tuple[dt.datetime, dt.datetime]


def assert_no_one_booked_twice_at_once(booked: Iterable[tuple[Iterable, Span]]) -> None:
    """``booked``: (the people of a session, its span) per booked session; no person's spans overlap
    (one may end when the next starts)."""
    spans: dict = defaultdict(list)
    for people, span in booked:
        for person in people:
            spans[person].append(span)
    for person in spans.values():
        person.sort()
        for (_a, end), (start, _b) in zip(person, person[1:], strict=False):
            assert end <= start


def assert_no_room_over_capacity(db, room_ids, rows) -> None:
    """At no moment does one of ``room_ids`` hold more of the booked sessions among ``rows`` than its
    capacity (one may end when the next starts)."""
    if not room_ids:
        return
    capacity = {r.id: r.capacity for r in db.scalars(select(Room).where(Room.id.in_(room_ids)))}
    changes: dict[str, list[tuple[dt.datetime, int]]] = defaultdict(list)
    for row in rows:
        if row.status in BOOKED_SESSION_STATES and row.room_id:
            changes[row.room_id] += [(row.starts_at, 1), (row.ends_at, -1)]
    for room_id, steps in changes.items():
        held = 0
        for _at, step in sorted(steps):  # at one moment, an end (-1) comes before a start
            held += step
            assert held <= capacity[room_id]


def assert_each_week_claimed_once(db, weeks: Iterable[dt.date]) -> None:
    """Every week proposed has exactly one claim of the weekly proposal job."""
    weeks = sorted(set(weeks))
    claims = Counter(
        db.scalars(select(JobRun.period_start).where(JobRun.job == JOB_NAME, JobRun.period_start.in_(weeks)))
    )
    assert set(claims) == set(weeks) and max(claims.values(), default=0) <= 1
