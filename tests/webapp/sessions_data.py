"""Test data for the session tests: rooms, matches with their people, and cleanup of committed rows."""

from __future__ import annotations

import datetime as dt
import itertools

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from matching.schedule import parse_iso_week
from models import (
    AuditLog,
    Entrepreneur,
    JobRun,
    Match,
    Mentor,
    MentoringSession,
    Notification,
    Role,
    Room,
    SessionFeedback,
)
from tests.factories import make_entrepreneur, make_mentor, make_user
from webapp.services.sessions import JOB_NAME, WIB

WEEK = "2026-W49"
MONDAY = parse_iso_week(WEEK)  # 2026-11-30
#: The Sunday evening the weekly job fires for WEEK (18:00 WIB).
SUNDAY_EVENING = dt.datetime(2026, 11, 29, 18, 0, tzinfo=WIB)
_rooms = itertools.count(1)


def at(day: int, hour: int, minute: int = 0, monday: dt.date = MONDAY) -> dt.datetime:
    """A moment in Jakarta time: ``day`` days after ``monday``."""
    return dt.datetime.combine(monday + dt.timedelta(days=day), dt.time(hour, minute), tzinfo=WIB)


def make_room(db: Session, **kw) -> Room:
    """A room in Gambir, open Monday to Saturday 08:00-17:00, two sessions at once."""
    n = next(_rooms)
    values = dict(
        id=f"TROOM{n:04d}",
        kecamatan_code="31.71.01",
        name=f"PPKUKM Gambir {n}",
        address="Jl. Tanah Abang I No. 1",
        capacity=2,
        availability=";".join(f"{d} 08:00-17:00" for d in ("mon", "tue", "wed", "thu", "fri", "sat")),
    )
    values.update(kw)
    room = Room(**values)
    db.add(room)
    db.flush()
    return room


def make_match(
    db: Session,
    *,
    users: bool = True,
    entrepreneur: Entrepreneur | None = None,
    mentor: Mentor | None = None,
    started: dt.datetime | None = None,
    cadence: str = "weekly",
    e_kw: dict | None = None,
    m_kw: dict | None = None,
) -> Match:
    """An active match; its people get accounts unless ``users=False``."""
    if entrepreneur is None:
        user = make_user(db, Role.ENTREPRENEUR) if users else None
        entrepreneur = make_entrepreneur(db, user, **(e_kw or {}))
    if mentor is None:
        user = make_user(db, Role.MENTOR) if users else None
        mentor = make_mentor(db, user, **(m_kw or {}))
    match = Match(
        entrepreneur_id=entrepreneur.id,
        mentor_id=mentor.id,
        status="active",
        cadence=cadence,
        started_at=started or dt.datetime(2026, 11, 2, 3, 0, tzinfo=dt.UTC),
    )
    db.add(match)
    db.flush()
    return match


def cleanup_committed(session: Session, monday: dt.date, match_ids: list[int]) -> None:
    """Delete what a committed test wrote: the week's sessions and claim, the matches and their people."""
    session_ids = list(
        session.scalars(select(MentoringSession.id).where(MentoringSession.week_start == monday))
    )
    session_ids += list(
        session.scalars(select(MentoringSession.id).where(MentoringSession.match_id.in_(match_ids)))
    )
    if session_ids:
        key = Notification.payload["session_id"].as_integer()
        session.execute(delete(Notification).where(key.in_(session_ids)))
        session.execute(delete(SessionFeedback).where(SessionFeedback.session_id.in_(session_ids)))
        session.execute(
            delete(AuditLog).where(
                AuditLog.object_type == "mentoring_session",
                AuditLog.object_id.in_([str(i) for i in session_ids]),
            )
        )
        session.execute(delete(MentoringSession).where(MentoringSession.id.in_(session_ids)))
    session.execute(delete(JobRun).where(JobRun.job == JOB_NAME, JobRun.period_start == monday))
    matches = list(session.scalars(select(Match).where(Match.id.in_(match_ids))))
    people = [(m.entrepreneur_id, m.mentor_id) for m in matches]
    session.execute(delete(Match).where(Match.id.in_(match_ids)))
    for e_id, m_id in people:
        session.execute(delete(Entrepreneur).where(Entrepreneur.id == e_id))
        session.execute(delete(Mentor).where(Mentor.id == m_id))
    session.commit()
