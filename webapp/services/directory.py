"""Read-only look-ups for the JSON API: a person's profile, their requests and matches, member pages.

Every query that returns someone's objects is scoped by the owner passed in, so a caller can only
ever see their own (another person's object is simply not found).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy import Select, bindparam, func, or_, select
from sqlalchemy.orm import Session, joinedload

from models import Entrepreneur, Match, MatchRequest, Mentor
from webapp.services.errors import NotFound

#: States of a request its entrepreneur and mentor see (drafts and staff rejections stay with staff).
VISIBLE_REQUEST_STATES = ("pending", "accepted", "declined", "withdrawn", "expired", "closed")
#: Lists of own requests and matches return at most this many rows, newest first.
LIST_LIMIT = 100


def entrepreneur_of_user(db: Session, user_id: int) -> Entrepreneur | None:
    """The entrepreneur profile of an account, if it has one."""
    return db.scalar(select(Entrepreneur).where(Entrepreneur.user_id == user_id))


def mentor_of_user(db: Session, user_id: int) -> Mentor | None:
    """The mentor profile of an account, if it has one."""
    return db.scalar(select(Mentor).where(Mentor.user_id == user_id))


def public_mentor(db: Session, mentor_id: int) -> Mentor:
    """A mentor by profile id, for showing the public fields; ``NotFound`` when there is none."""
    mentor = db.get(Mentor, mentor_id)
    if mentor is None:
        raise NotFound("mentor_not_found", "no such mentor")
    return mentor


def _visible_requests(owner, other, summary) -> Select:
    """The newest requests of one owner (``:owner``) in the states ``:states``, each with the other
    party, in one statement (a join: each request has exactly one of each).

    The other party is read with only what the API shows of them (``summary``): a mentor's inbox
    lists up to a hundred entrepreneurs, whose JSON lists of languages and times nobody reads
    there (tests/api/test_flows.py keeps it at one statement). Reading another column anyway loads
    it then, never raises: the rows stay in the session, and a later step of the same session that
    meets the same person (the weekly proposal reading a mentor's external id) must find them
    whole. Built once: the inbox is polled, and building a SELECT costs more than running it.
    """
    return (
        select(MatchRequest)
        .where(
            owner == bindparam("owner"),
            MatchRequest.status.in_(bindparam("states", expanding=True)),
            MatchRequest.reached_its_people,
        )
        .order_by(MatchRequest.created_at.desc(), MatchRequest.id.desc())
        .limit(LIST_LIMIT)
        .options(joinedload(other, innerjoin=True).load_only(*summary))
    )


#: What ``EntrepreneurSummarySchema`` and ``MentorSummarySchema`` (the API) show of the other party.
_SENT = _visible_requests(
    MatchRequest.entrepreneur_id, MatchRequest.mentor, (Mentor.name, Mentor.company, Mentor.kecamatan_code)
)
_RECEIVED = _visible_requests(
    MatchRequest.mentor_id,
    MatchRequest.entrepreneur,
    (
        Entrepreneur.name,
        Entrepreneur.business_name,
        Entrepreneur.sector_code,
        Entrepreneur.stage_code,
        Entrepreneur.kecamatan_code,
        Entrepreneur.needs,
    ),
)


def _states(status: str | None) -> list[str]:
    return [status] if status else list(VISIBLE_REQUEST_STATES)


def requests_sent(db: Session, entrepreneur_id: int, *, status: str | None = None) -> list[MatchRequest]:
    """The requests an entrepreneur has sent, newest first (optionally in one state), with their mentors."""
    return list(db.scalars(_SENT, {"owner": entrepreneur_id, "states": _states(status)}))


def requests_received(db: Session, mentor_id: int, *, status: str | None = None) -> list[MatchRequest]:
    """The requests a mentor has received, newest first (optionally in one state), with their entrepreneurs."""
    return list(db.scalars(_RECEIVED, {"owner": mentor_id, "states": _states(status)}))


def own_request(
    db: Session, request_id: int, *, entrepreneur_id: int | None = None, mentor_id: int | None = None
) -> MatchRequest:
    """One request the entrepreneur sent or the mentor received (in a state they see); else ``NotFound``."""
    if entrepreneur_id is None and mentor_id is None:
        raise ValueError("own_request needs entrepreneur_id or mentor_id")
    req = db.get(MatchRequest, request_id)
    mine = req is not None and (
        (entrepreneur_id is not None and req.entrepreneur_id == entrepreneur_id)
        or (mentor_id is not None and req.mentor_id == mentor_id)
    )
    if not mine or req.status not in VISIBLE_REQUEST_STATES or not req.reached_its_people:
        raise NotFound("request_not_found", "no such request")
    return req


def proposal(db: Session, request_id: int) -> MatchRequest:
    """One cohort proposal, in whatever state (for staff); else ``NotFound``."""
    req = db.get(MatchRequest, request_id)
    if req is None or req.origin != "cohort":
        raise NotFound("proposal_not_found", "no such cohort proposal")
    return req


def matches_of(
    db: Session, *, entrepreneur_id: int | None = None, mentor_id: int | None = None
) -> list[Match]:
    """The mentorships of one entrepreneur or one mentor, newest first."""
    stmt = select(Match).order_by(Match.started_at.desc(), Match.id.desc()).limit(LIST_LIMIT)
    if entrepreneur_id is not None:
        stmt = stmt.where(Match.entrepreneur_id == entrepreneur_id)
    elif mentor_id is not None:
        stmt = stmt.where(Match.mentor_id == mentor_id)
    else:
        raise ValueError("matches_of needs entrepreneur_id or mentor_id")
    return list(db.scalars(stmt))


@dataclass(frozen=True)
class MemberPage:
    """One page of a member list."""

    items: list
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        """How many pages the whole list has (at least one)."""
        return max(1, -(-self.total // self.per_page))


def member_page(
    db: Session,
    kind: Literal["entrepreneurs", "mentors"],
    *,
    q: str | None = None,
    page: int = 1,
    per_page: int = 50,
) -> MemberPage:
    """Entrepreneurs or mentors whose name or id contains ``q`` (or in kecamatan ``q``), by id."""
    model = {"entrepreneurs": Entrepreneur, "mentors": Mentor}[kind]
    stmt = select(model)
    q = (q or "").strip()
    if q:
        like = "%" + q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(
            or_(
                func.lower(model.name).like(like, escape="\\"),
                func.lower(model.external_id).like(like, escape="\\"),
                model.kecamatan_code == q,
            )
        )
    total = db.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = list(db.scalars(stmt.order_by(model.external_id).limit(per_page).offset((page - 1) * per_page)))
    return MemberPage(rows, page, per_page, total)


def run_proposals(db: Session, run_id: int) -> list[MatchRequest]:
    """Every proposal of a cohort run (drafts, sent, rejected...), best score first."""
    return list(
        db.scalars(
            select(MatchRequest)
            .where(MatchRequest.cohort_run_id == run_id)
            .order_by(MatchRequest.score.desc(), MatchRequest.id)
        )
    )
