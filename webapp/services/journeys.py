"""What the entrepreneur's and the mentor's pages show: one read per page, with ownership checked here.

Every function that takes an id also takes the person asking and answers ``NotFound`` for an id
that is not theirs, so a view cannot forget the check.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import String, bindparam, case, func, literal, select
from sqlalchemy.orm import Session, load_only

from matching.explain import Reason
from models import Entrepreneur, Match, MatchRequest, Mentor, MentoringSession, User, utcnow
from webapp.services import profiles
from webapp.services.errors import NotFound
from webapp.services.mentor_pool import MentorPools, Version, as_version, version_columns
from webapp.services.mentorship import MAX_OPEN_REQUESTS, active_match, open_requests
from webapp.services.progress import StepProgress, progress_of
from webapp.services.suggestions import MentorSuggestion, rank_mentors, score_pair, why_not

#: Request states an entrepreneur still sees on their requests page.
ANSWERED = ("accepted", "declined", "expired")


@dataclass(frozen=True)
class Acceptance:
    """How a mentor answers requests: ``accepted`` of ``answered`` (expired ones count as not accepted)."""

    accepted: int
    answered: int

    @property
    def percent(self) -> int | None:
        """Share accepted in whole percent; None before any answer."""
        return round(100 * self.accepted / self.answered) if self.answered else None


def _answers(mentor_ids):
    """Per mentor of ``mentor_ids`` (ids or a bind parameter): requests accepted and answered (a SELECT)."""
    return (
        select(
            MatchRequest.mentor_id,
            func.sum(case((MatchRequest.status == "accepted", 1), else_=0)).label("accepted"),
            func.count().label("answered"),
        )
        .where(MatchRequest.mentor_id.in_(mentor_ids), MatchRequest.status.in_(ANSWERED))
        .group_by(MatchRequest.mentor_id)
    )


def acceptance_of(db: Session, mentor_ids: Iterable[int]) -> dict[int, Acceptance]:
    """Acceptance figures for each of ``mentor_ids`` (mentors without answers get 0 of 0)."""
    ids = list(mentor_ids)
    out = {i: Acceptance(0, 0) for i in ids}
    if not ids:
        return out
    for mentor_id, accepted, answered in db.execute(_answers(ids)):
        out[mentor_id] = Acceptance(int(accepted or 0), int(answered or 0))
    return out


@dataclass(frozen=True)
class Contact:
    """How to reach a matched partner: e-mail always, the phone only when both share theirs."""

    name: str
    email: str | None
    phone: str | None = None

    @property
    def whatsapp(self) -> str | None:
        """Digits for a wa.me link, when the phone is shared."""
        return self.phone


def contact_between(viewer: User, other: User | None, name: str) -> Contact:
    """What ``viewer`` may see of ``other``'s contact details (phone only where both share a phone)."""
    if other is None or other.deleted_at is not None:
        return Contact(name, None)
    shared = bool(viewer.share_phone and viewer.phone and other.share_phone and other.phone)
    return Contact(name, other.email, other.phone if shared else None)


# --- entrepreneurs ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class EntrepreneurHome:
    """The entrepreneur's own page: profile (None before the wizard), mentorship, requests, 7 PAS."""

    profile: Entrepreneur | None
    next_step: str
    match: Match | None
    requests: list[MatchRequest]
    progress: list[StepProgress]


def entrepreneur_home(db: Session, user: User) -> EntrepreneurHome:
    """Everything the entrepreneur's dashboard and business page show."""
    profile = profiles.entrepreneur_of(db, user)
    if profile is None:
        return EntrepreneurHome(None, "business", None, [], [])
    return EntrepreneurHome(
        profile,
        profiles.next_entrepreneur_step(profile),
        active_match(db, profile.id),
        requests_of(db, profile),
        progress_of(db, profile),
    )


def requests_of(db: Session, entrepreneur: Entrepreneur, limit: int = 30) -> list[MatchRequest]:
    """The entrepreneur's requests, open ones first, then newest first.

    Cohort proposals count once staff sent them: drafts, rejected ones and drafts dropped before
    review (the person withdrew consent or objected to automated proposals) were never theirs to see.
    """
    return list(
        db.scalars(
            select(MatchRequest)
            .where(
                MatchRequest.entrepreneur_id == entrepreneur.id,
                MatchRequest.status.not_in(("draft", "rejected")),
                MatchRequest.reached_its_people,
            )
            .order_by(case((MatchRequest.status == "pending", 0), else_=1), MatchRequest.created_at.desc())
            .limit(limit)
        )
    )


@dataclass(frozen=True)
class SuggestionsPage:
    """Ranked mentors with reasons, and where the entrepreneur stands (requests open, matched)."""

    suggestions: list[MentorSuggestion]
    acceptance: dict[int, Acceptance]
    requested: dict[int, int]  # mentor id -> open request id
    open_count: int
    matched_with: str | None  # the name of the mentor of the active match, if any
    limit: int = MAX_OPEN_REQUESTS
    #: The ranking's store for what the page renders of it (``Ranked.rendered``): the same dict
    #: for every view of the same ranking.
    rendered: dict = field(default_factory=dict, compare=False, repr=False)

    def card_facts(self) -> tuple:
        """Everything the mentor cards show that can change while the ranking stays: who is listed,
        their name, company, kecamatan, way of meeting, free places, acceptance, and whether this
        entrepreneur asked them already (the reasons and the order are the ranking's own)."""
        return tuple(
            (
                m.id,
                m.name,
                m.company,
                m.kecamatan_code,
                m.mode,
                m.free_places,
                self.acceptance[m.id].percent,
                m.id in self.requested,
            )
            for m in (s.mentor for s in self.suggestions)
        )


def my_suggestions_page(
    db: Session,
    user: User,
    *,
    online_only: bool = False,
    same_kota: bool = False,
    top: int = 10,
    pools: MentorPools | None = None,
) -> tuple[Entrepreneur | None, SuggestionsPage | None]:
    """The user's profile and their suggestions page (None until the profile is complete).

    The busiest page of the service, so it reads in two statements: the profile with where the
    entrepreneur stands and the mentor pool's version, then the ranked mentors' rows with their
    acceptance figures.
    """
    row = db.execute(_PROFILE_AND_STANDING, {"user_id": user.id}).first()
    if row is None:
        return None, None
    profile = row[0]
    if not profile.profile_complete:
        return profile, None
    page = _suggestions(db, profile, _Standing.of(row[1:]), online_only, same_kota, top, pools)
    return profile, page


@dataclass(frozen=True)
class _Standing:
    """Where an entrepreneur stands, with the mentor pool's version, as one statement read it."""

    version: Version
    requested: dict[int, int]  # mentor id -> open request id
    matched_with: str | None  # the active match's mentor (name)

    @classmethod
    def of(cls, values) -> _Standing:
        top_id, newest, pending, matched_with = values
        requested = dict(tuple(map(int, item.split(":"))) for item in pending.split(",")) if pending else {}
        return cls(as_version(top_id, newest), requested, matched_with)


def _suggestions(
    db: Session,
    entrepreneur: Entrepreneur,
    standing: _Standing,
    online_only: bool,
    same_kota: bool,
    top: int,
    pools: MentorPools | None,
) -> SuggestionsPage:
    ranked = rank_mentors(
        db,
        entrepreneur,
        top=top,
        online_only=online_only,
        same_kota=same_kota,
        pools=pools,
        version=standing.version,
    )
    rows: dict[int, Mentor] = {}
    acceptance: dict[int, Acceptance] = {}
    if ranked.ids:
        for mentor, accepted, answered in db.execute(_MENTORS_WITH_ANSWERS, {"ids": list(ranked.ids)}):
            rows[mentor.id] = mentor
            acceptance[mentor.id] = Acceptance(int(accepted or 0), int(answered or 0))
    return SuggestionsPage(
        ranked.suggestions(rows),
        acceptance,
        standing.requested,
        len(standing.requested),
        standing.matched_with,
        rendered=ranked.rendered,
    )


# The suggestions page's statements, built once (building a SELECT costs more than running it).
_ANSWERS = _answers(bindparam("ids", expanding=True)).subquery()
#: What a mentor's card shows (name, company, kecamatan, way of meeting, free places); the lists of
#: sectors, stages, expertise, languages and times are JSON that the card never reads, so they are
#: not loaded (reading one anyway raises instead of costing a query per card).
_CARD_COLUMNS = load_only(
    Mentor.name,
    Mentor.company,
    Mentor.kecamatan_code,
    Mentor.mode,
    Mentor.capacity,
    Mentor.active_count,
    Mentor.paused,
    raiseload=True,
)
_MENTORS_WITH_ANSWERS = (
    select(Mentor, _ANSWERS.c.accepted, _ANSWERS.c.answered)
    .options(_CARD_COLUMNS)
    .outerjoin(_ANSWERS, _ANSWERS.c.mentor_id == Mentor.id)
    .where(Mentor.id.in_(bindparam("ids", expanding=True)))
)


def _standing_columns(entrepreneur_id) -> tuple:
    """The pool's version, the open requests as "mentor:request,..." and the active match's mentor."""
    return (
        *version_columns(),
        select(
            func.aggregate_strings(
                MatchRequest.mentor_id.cast(String) + literal(":") + MatchRequest.id.cast(String), ","
            )
        )
        .where(MatchRequest.entrepreneur_id == entrepreneur_id, MatchRequest.status == "pending")
        .scalar_subquery(),
        select(Mentor.name)
        .join(Match, Match.mentor_id == Mentor.id)
        .where(Match.entrepreneur_id == entrepreneur_id, Match.status == "active")
        .scalar_subquery(),
    )


_PROFILE_AND_STANDING = select(Entrepreneur, *_standing_columns(Entrepreneur.id)).where(
    Entrepreneur.user_id == bindparam("user_id")
)


@dataclass(frozen=True)
class MentorProfilePage:
    """A mentor as an entrepreneur sees them: public facts, every reason, and whether a request can go."""

    mentor: Mentor
    reasons: tuple[Reason, ...]
    unavailable: tuple[Reason, ...]
    acceptance: Acceptance
    open_request: MatchRequest | None
    open_count: int
    match: Match | None
    limit: int = MAX_OPEN_REQUESTS

    @property
    def is_my_mentor(self) -> bool:
        """True when this mentor is the entrepreneur's current mentor."""
        return self.match is not None and self.match.mentor_id == self.mentor.id


def mentor_profile_page(
    db: Session, entrepreneur: Entrepreneur, mentor_id: int, *, pools: MentorPools | None = None
) -> MentorProfilePage:
    """A mentor's public profile for one entrepreneur (no contact details); ``NotFound`` for no such mentor."""
    mentor = db.get(Mentor, mentor_id)
    if mentor is None:
        raise NotFound("mentor_not_found", "no such mentor")
    unavailable = why_not(entrepreneur, mentor)
    _score, reasons = score_pair(db, entrepreneur, mentor, pools=pools)
    waiting = open_requests(db, entrepreneur.id)
    return MentorProfilePage(
        mentor,
        tuple(sorted(reasons, key=lambda r: -r.weight)),
        unavailable,
        acceptance_of(db, [mentor.id])[mentor.id],
        next((r for r in waiting if r.mentor_id == mentor.id), None),
        len(waiting),
        active_match(db, entrepreneur.id),
    )


@dataclass(frozen=True)
class MatchPage:
    """One mentorship as either partner sees it: the partner's contact, sessions, and 7 PAS."""

    match: Match
    contact: Contact
    sessions: list[MentoringSession]
    progress: list[StepProgress] = field(default_factory=list)
    may_record: bool = False


def _sessions(db: Session, match_id: int) -> list[MentoringSession]:
    return list(
        db.scalars(
            select(MentoringSession)
            .where(MentoringSession.match_id == match_id)
            .order_by(MentoringSession.starts_at.desc())
        )
    )


def entrepreneur_match_page(db: Session, user: User, entrepreneur: Entrepreneur) -> MatchPage | None:
    """The entrepreneur's active mentorship, or None when they have no mentor now."""
    match = active_match(db, entrepreneur.id)
    if match is None:
        return None
    mentor = match.mentor
    return MatchPage(
        match,
        contact_between(user, mentor.user, mentor.name),
        _sessions(db, match.id),
        progress_of(db, entrepreneur),
    )


# --- mentors ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MentorHome:
    """The mentor's dashboard: profile (None before the form), open requests and mentees."""

    profile: Mentor | None
    inbox: list[MatchRequest]
    mentees: list[Match]


def mentor_home(db: Session, user: User) -> MentorHome:
    """Everything the mentor's dashboard shows."""
    mentor = profiles.mentor_of(db, user)
    if mentor is None:
        return MentorHome(None, [], [])
    return MentorHome(mentor, inbox_of(db, mentor), mentees_of(db, mentor))


def inbox_of(db: Session, mentor: Mentor) -> list[MatchRequest]:
    """Requests waiting for this mentor's answer (from entrepreneurs, or staff-approved proposals), oldest first."""
    return list(
        db.scalars(
            select(MatchRequest)
            .where(MatchRequest.mentor_id == mentor.id, MatchRequest.status == "pending")
            .order_by(MatchRequest.sent_at, MatchRequest.id)
        )
    )


def mentees_of(db: Session, mentor: Mentor, *, include_past: bool = False) -> list[Match]:
    """The mentor's active mentorships (and past ones when asked), newest first."""
    stmt = select(Match).where(Match.mentor_id == mentor.id)
    if not include_past:
        stmt = stmt.where(Match.status == "active")
    return list(
        db.scalars(stmt.order_by(case((Match.status == "active", 0), else_=1), Match.started_at.desc()))
    )


def mentee_page(db: Session, user: User, mentor: Mentor, match_id: int) -> MatchPage:
    """One of the mentor's mentorships (active or past); ``NotFound`` when it is not theirs."""
    match = db.get(Match, match_id)
    if match is None or match.mentor_id != mentor.id:
        raise NotFound("match_not_found", "no such mentorship")
    entrepreneur = match.entrepreneur
    return MatchPage(
        match,
        contact_between(user, entrepreneur.user, entrepreneur.name),
        _sessions(db, match.id),
        progress_of(db, entrepreneur),
        may_record=match.status == "active",
    )


def waited(since: dt.datetime | None, now: dt.datetime | None = None) -> int:
    """Whole days since ``since`` (0 when unknown)."""
    if since is None:
        return 0
    now = now or utcnow()
    if since.tzinfo is None:
        since = since.replace(tzinfo=dt.UTC)
    return max(0, (now - since).days)
