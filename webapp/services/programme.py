"""Read-only views of the programme for dashboards: counts, waiting lists and mentor load."""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from models import Entrepreneur, Match, MatchRequest, Mentor


@dataclass(frozen=True)
class ProgrammeFigures:
    """The headline numbers a programme manager reads first."""

    entrepreneurs: int
    mentors: int
    waiting: int
    active_matches: int
    pending_requests: int
    mentors_full: int
    mentors_available: int
    mentors_paused: int
    free_places: int


def programme_figures(db: Session) -> ProgrammeFigures:
    """Counts over the whole programme."""
    entrepreneurs = db.scalar(select(func.count()).select_from(Entrepreneur)) or 0
    active = db.scalar(select(func.count()).select_from(Match).where(Match.status == "active")) or 0
    matched_ids = select(Match.entrepreneur_id).where(Match.status == "active")
    waiting = (
        db.scalar(select(func.count()).select_from(Entrepreneur).where(Entrepreneur.id.not_in(matched_ids)))
        or 0
    )
    pending = (
        db.scalar(select(func.count()).select_from(MatchRequest).where(MatchRequest.status == "pending")) or 0
    )
    row = db.execute(
        select(
            func.count(),
            func.sum(case((Mentor.paused, 1), else_=0)),
            func.sum(
                case((and_(Mentor.paused.is_(False), Mentor.active_count >= Mentor.capacity), 1), else_=0)
            ),
            func.sum(case((Mentor.paused, 0), else_=Mentor.capacity - Mentor.active_count)),
        ).select_from(Mentor)
    ).one()
    mentors, paused, full, free = (int(x or 0) for x in row)
    return ProgrammeFigures(
        entrepreneurs=entrepreneurs,
        mentors=mentors,
        waiting=waiting,
        active_matches=active,
        pending_requests=pending,
        mentors_full=full,
        mentors_available=mentors - full - paused,
        mentors_paused=paused,
        free_places=free,
    )


def active_match_of(db: Session, entrepreneur_id: int) -> Match | None:
    """The entrepreneur's active mentorship, if any."""
    return db.scalar(select(Match).where(Match.entrepreneur_id == entrepreneur_id, Match.status == "active"))


def mentees_of(db: Session, mentor_id: int) -> list[Match]:
    """A mentor's active mentorships, newest first."""
    return list(
        db.scalars(
            select(Match)
            .where(Match.mentor_id == mentor_id, Match.status == "active")
            .order_by(Match.started_at.desc())
        )
    )


def requests_of_entrepreneur(db: Session, entrepreneur_id: int, limit: int = 20) -> list[MatchRequest]:
    """An entrepreneur's requests, newest first."""
    return list(
        db.scalars(
            select(MatchRequest)
            .where(MatchRequest.entrepreneur_id == entrepreneur_id, MatchRequest.status != "draft")
            .order_by(MatchRequest.created_at.desc())
            .limit(limit)
        )
    )


def requests_for_mentor(db: Session, mentor_id: int, status: str = "pending") -> list[MatchRequest]:
    """Requests waiting for a mentor's answer, oldest first."""
    return list(
        db.scalars(
            select(MatchRequest)
            .where(MatchRequest.mentor_id == mentor_id, MatchRequest.status == status)
            .order_by(MatchRequest.created_at)
        )
    )


@dataclass(frozen=True)
class ResponseStats:
    """How a mentor answers requests: how many, how fast (median hours), how many expired."""

    answered: int
    median_hours: float | None
    expired: int


def mentor_response_stats(db: Session, mentor_ids: list[int]) -> dict[int, ResponseStats]:
    """Response figures of the given mentors, over every request they received."""
    if not mentor_ids:
        return {}
    rows = db.execute(
        select(MatchRequest.mentor_id, MatchRequest.status, MatchRequest.sent_at, MatchRequest.responded_at).where(
            MatchRequest.mentor_id.in_(mentor_ids),
            MatchRequest.status.in_(("accepted", "declined", "expired", "closed")),
            MatchRequest.sent_at.is_not(None),
        )
    ).all()
    hours: dict[int, list[float]] = {m: [] for m in mentor_ids}
    expired: dict[int, int] = dict.fromkeys(mentor_ids, 0)
    for mentor_id, status, sent, answered in rows:
        if status == "expired":
            expired[mentor_id] += 1
        elif status in ("accepted", "declined") and answered is not None:
            hours[mentor_id].append((answered - sent).total_seconds() / 3600)
    return {
        m: ResponseStats(len(h), round(statistics.median(h), 1) if h else None, expired[m]) for m, h in hours.items()
    }
