"""The life of a pairing: requests, proposals, acceptance under capacity, expiry, and ending a match.

Every state change is a guarded UPDATE (``WHERE status = 'pending' ...``) whose row count is
checked; a caller that says which ``version`` of the request its user saw (a form's hidden field,
an API call's ``If-Match``) adds ``AND version = :seen`` and is refused with ``StaleVersion`` when
someone changed the request since (CON-5). A mentor's place is taken by
``UPDATE mentor SET active_count = active_count + 1 WHERE active_count < capacity AND NOT paused``: the database decides who wins a race, on SQLite and
PostgreSQL alike, and the caller's single commit makes each change all or nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from matching.explain import Reason
from matching.profiles import HistoryRecord
from models import (
    AuditLog,
    Entrepreneur,
    Match,
    MatchRequest,
    Mentor,
    PasProgress,
    StatusChange,
    User,
    utcnow,
)
from webapp.services import consent, notifications
from webapp.services.errors import Conflict, InvalidInput, NotFound, StaleVersion
from webapp.services.mentor_pool import MentorPools
from webapp.services.suggestions import score_pair, why_not

log = logging.getLogger(__name__)

#: An entrepreneur may wait on at most this many mentors at once (no request spam).
MAX_OPEN_REQUESTS = 3
#: A request a mentor has not answered in this time expires.
REQUEST_TTL = dt.timedelta(days=7)
#: A mentor who lets this many requests expire within ``AUTO_PAUSE_WINDOW`` is paused.
AUTO_PAUSE_EXPIRIES = 3
AUTO_PAUSE_WINDOW = dt.timedelta(days=60)

DECLINE_REASONS = ("no_capacity", "sector_mismatch", "schedule", "distance", "other")
END_REASONS = ("completed", "not_a_fit", "no_time", "business_closed", "other")
REJECT_REASONS = ("poor_fit", "known_conflict", "mentor_unavailable", "other")


def reasons_json(reasons: Iterable[Reason]) -> list[dict]:
    """Reasons as stored with a request: code, params, weight, and the text in both languages."""
    return [
        {
            "code": r.code,
            "params": dict(r.params),
            "weight": round(r.weight, 4),
            "id": r.text("id"),
            "en": r.text("en"),
        }
        for r in reasons
    ]


def _log_change(
    db: Session, *, request_id=None, match_id=None, old, new, actor_id, note=None, at=None
) -> None:
    db.add(
        StatusChange(
            request_id=request_id,
            match_id=match_id,
            from_status=old,
            to_status=new,
            actor_id=actor_id,
            note=note,
            at=at or utcnow(),
        )
    )


def refuse_stale(req: MatchRequest, version: int | None) -> None:
    """Raise ``StaleVersion`` when the caller saw another ``version`` of ``req`` than the stored one."""
    if version is not None and req.version != version:
        raise StaleVersion(
            "stale_version",
            f"request {req.id} changed meanwhile (version {req.version}, not {version})",
            request_id=req.id,
            version=req.version,
        )


def _transition(
    db: Session,
    request_id: int,
    old: str | tuple[str, ...],
    new: str,
    *,
    version: int | None = None,
    **where_and_values,
) -> bool:
    """Move a request from ``old`` to ``new`` if (and only if) it is still in ``old`` (and at ``version``)."""
    olds = (old,) if isinstance(old, str) else old
    where = [MatchRequest.id == request_id, MatchRequest.status.in_(olds)]
    if version is not None:
        where.append(MatchRequest.version == version)
    for key in ("entrepreneur_id", "mentor_id", "origin"):
        if key in where_and_values:
            where.append(getattr(MatchRequest, key) == where_and_values.pop(key))
    values = {"status": new, "version": MatchRequest.version + 1, **where_and_values}
    result = db.execute(
        update(MatchRequest).where(*where).values(**values).execution_options(synchronize_session="fetch")
    )
    return result.rowcount == 1


def _reload(db: Session, obj):
    db.expire(obj)
    db.refresh(obj)
    return obj


def _take_place(db: Session, mentor_id: int) -> bool:
    result = db.execute(
        update(Mentor)
        .where(Mentor.id == mentor_id, Mentor.active_count < Mentor.capacity, Mentor.paused.is_(False))
        .values(active_count=Mentor.active_count + 1)
        .execution_options(synchronize_session="fetch")
    )
    return result.rowcount == 1


def _free_place(db: Session, mentor_id: int) -> None:
    db.execute(
        update(Mentor)
        .where(Mentor.id == mentor_id, Mentor.active_count > 0)
        .values(active_count=Mentor.active_count - 1)
        .execution_options(synchronize_session="fetch")
    )


def active_match(db: Session, entrepreneur_id: int) -> Match | None:
    """The entrepreneur's active mentorship, if any."""
    return db.scalar(select(Match).where(Match.entrepreneur_id == entrepreneur_id, Match.status == "active"))


def open_requests(db: Session, entrepreneur_id: int) -> list[MatchRequest]:
    """Requests the entrepreneur is waiting on (pending with a mentor)."""
    return list(
        db.scalars(
            select(MatchRequest)
            .where(MatchRequest.entrepreneur_id == entrepreneur_id, MatchRequest.status == "pending")
            .order_by(MatchRequest.created_at)
        )
    )


# --- entrepreneurs ------------------------------------------------------------------------------


def request_mentor(
    db: Session,
    entrepreneur: Entrepreneur,
    mentor_id: int,
    *,
    message: str | None = None,
    actor_id: int | None = None,
    history: Sequence[HistoryRecord] = (),
    scorer=None,
    pools: MentorPools | None = None,
) -> MatchRequest:
    """An entrepreneur asks a mentor; refused when matched already, at 3 open requests, or infeasible."""
    if entrepreneur.user_id is not None:
        consent.require_consent(db.get(User, entrepreneur.user_id))
    mentor = db.get(Mentor, mentor_id)
    if mentor is None:
        raise NotFound("mentor_not_found", "no such mentor")
    if active_match(db, entrepreneur.id) is not None:
        raise Conflict("already_matched", "you already have a mentor; end that mentorship first")
    waiting = open_requests(db, entrepreneur.id)
    if any(r.mentor_id == mentor_id for r in waiting):
        raise Conflict("already_requested", "you have already asked this mentor")
    if len(waiting) >= MAX_OPEN_REQUESTS:
        raise Conflict(
            "too_many_requests",
            f"you can wait on at most {MAX_OPEN_REQUESTS} mentors at once",
            limit=MAX_OPEN_REQUESTS,
        )
    excluded = why_not(entrepreneur, mentor)
    if excluded:
        raise Conflict("not_available", excluded[0].text("en"), reasons=reasons_json(excluded))
    score, reasons = score_pair(db, entrepreneur, mentor, scorer=scorer, history=history, pools=pools)
    now = utcnow()
    req = MatchRequest(
        entrepreneur_id=entrepreneur.id,
        mentor_id=mentor.id,
        origin="entrepreneur",
        status="pending",
        score=score,
        reasons=reasons_json(reasons),
        message=(message or "").strip()[:1000] or None,
        created_at=now,
        sent_at=now,
    )
    db.flush()  # everything pending goes first, so the savepoint holds only the new row
    try:
        with db.begin_nested():
            db.add(req)
            db.flush()
    except IntegrityError:
        raise Conflict("already_requested", "you have already asked this mentor") from None
    _log_change(db, request_id=req.id, old=None, new="pending", actor_id=actor_id, at=now)
    if mentor.user_id:
        notifications.notify(
            db, mentor.user_id, "request_new", request_id=req.id, entrepreneur=entrepreneur.name
        )
    return req


def withdraw_request(
    db: Session,
    entrepreneur: Entrepreneur,
    request_id: int,
    *,
    actor_id: int | None = None,
    version: int | None = None,
) -> MatchRequest:
    """The entrepreneur takes a pending request back (``version``: the one they saw, if known)."""
    if not _transition(
        db,
        request_id,
        "pending",
        "withdrawn",
        version=version,
        entrepreneur_id=entrepreneur.id,
        responded_at=utcnow(),
    ):
        _raise_missing_or_conflict(db, request_id, version=version, entrepreneur_id=entrepreneur.id)
    _log_change(db, request_id=request_id, old="pending", new="withdrawn", actor_id=actor_id)
    return _reload(db, db.get(MatchRequest, request_id))


def _raise_missing_or_conflict(db: Session, request_id: int, *, version: int | None = None, **owner) -> None:
    req = db.get(MatchRequest, request_id)
    # a proposal staff never sent does not exist for its people: 404, as when reading it
    if req is None or not req.reached_its_people or any(getattr(req, k) != v for k, v in owner.items()):
        raise NotFound("request_not_found", "no such request")
    db.refresh(req)
    refuse_stale(req, version)
    raise Conflict("request_not_pending", f"this request is already {req.status}", status=req.status)


# --- mentors ------------------------------------------------------------------------------------


def accept_request(
    db: Session,
    mentor: Mentor,
    request_id: int,
    *,
    actor_id: int | None = None,
    version: int | None = None,
) -> Match:
    """The mentor accepts: takes one of their places, starts the match, closes the entrepreneur's other requests.

    Raises ``Conflict`` with code ``capacity_full`` when no place is left (however many accept at
    once), ``request_not_pending`` when it was answered or withdrawn meanwhile, and
    ``already_matched`` when the entrepreneur was matched elsewhere first; ``StaleVersion`` when
    ``version`` (the one the mentor saw) is given and the request has changed since.
    """
    req = db.get(MatchRequest, request_id)
    if req is None or req.mentor_id != mentor.id or req.status in ("draft", "rejected"):
        raise NotFound("request_not_found", "no such request")
    refuse_stale(req, version)
    # Accepts of one entrepreneur's requests queue on the entrepreneur's row (PostgreSQL; SQLite
    # serialises writers anyway): two mentors accepting the same person at once would otherwise
    # deadlock between the one-active-match index and closing the other requests. The second then
    # finds its request closed (request_not_pending).
    db.execute(select(Entrepreneur.id).where(Entrepreneur.id == req.entrepreneur_id).with_for_update())
    now = utcnow()
    if not _take_place(db, mentor.id):
        raise Conflict("capacity_full", "all your places are taken (or you are paused)")
    if not _transition(
        db, request_id, "pending", "accepted", version=version, mentor_id=mentor.id, responded_at=now
    ):
        _raise_missing_or_conflict(db, request_id, version=version, mentor_id=mentor.id)
    match = Match(
        entrepreneur_id=req.entrepreneur_id,
        mentor_id=mentor.id,
        request_id=req.id,
        status="active",
        started_at=now,
    )
    db.flush()
    try:
        with db.begin_nested():
            db.add(match)
            db.flush()
    except IntegrityError:
        raise Conflict(
            "already_matched", "this entrepreneur has just been matched with another mentor"
        ) from None
    _log_change(db, request_id=req.id, old="pending", new="accepted", actor_id=actor_id, at=now)
    _log_change(db, match_id=match.id, old=None, new="active", actor_id=actor_id, at=now)
    others = db.scalars(
        select(MatchRequest).where(
            MatchRequest.entrepreneur_id == req.entrepreneur_id,
            MatchRequest.id != req.id,
            MatchRequest.status.in_(("pending", "draft")),
        )
    ).all()
    for other in others:
        was = other.status
        if _transition(db, other.id, ("pending", "draft"), "closed", responded_at=now):
            _log_change(
                db,
                request_id=other.id,
                old=was,
                new="closed",
                actor_id=actor_id,
                note="matched elsewhere",
            )
            other_mentor = db.get(Mentor, other.mentor_id)
            if was == "pending" and other_mentor and other_mentor.user_id:
                notifications.notify(db, other_mentor.user_id, "request_closed", request_id=other.id)
    entrepreneur = db.get(Entrepreneur, req.entrepreneur_id)
    if entrepreneur and entrepreneur.user_id:
        notifications.notify(
            db,
            entrepreneur.user_id,
            "request_accepted",
            request_id=req.id,
            mentor=mentor.name,
            match_id=match.id,
        )
    _reload(db, mentor)
    return match


def decline_request(
    db: Session,
    mentor: Mentor,
    request_id: int,
    *,
    reason: str,
    note: str | None = None,
    actor_id: int | None = None,
    version: int | None = None,
) -> MatchRequest:
    """The mentor declines with a reason from the short list (plus free text); ``version`` as for accepting."""
    if reason not in DECLINE_REASONS:
        raise InvalidInput("bad_reason", f"reason must be one of {', '.join(DECLINE_REASONS)}")
    req = db.get(MatchRequest, request_id)
    if req is None or req.mentor_id != mentor.id or req.status in ("draft", "rejected"):
        raise NotFound("request_not_found", "no such request")
    refuse_stale(req, version)
    note = (note or "").strip()[:1000] or None
    if not _transition(
        db,
        request_id,
        "pending",
        "declined",
        version=version,
        mentor_id=mentor.id,
        responded_at=utcnow(),
        response_reason=reason,
        response_note=note,
    ):
        _raise_missing_or_conflict(db, request_id, version=version, mentor_id=mentor.id)
    _log_change(db, request_id=request_id, old="pending", new="declined", actor_id=actor_id, note=reason)
    entrepreneur = db.get(Entrepreneur, req.entrepreneur_id)
    if entrepreneur and entrepreneur.user_id:
        notifications.notify(
            db, entrepreneur.user_id, "request_declined", request_id=req.id, mentor=mentor.name, reason=reason
        )
    return _reload(db, req)


def set_paused(
    db: Session, mentor: Mentor, paused: bool, *, reason: str | None = None, actor_id: int | None = None
) -> Mentor:
    """Pause (no new mentees, no suggestions) or resume a mentor.

    A mentor who withdrew consent cannot resume (``ConsentWithdrawn``) until they give it again.
    """
    if not paused and mentor.user_id is not None:
        consent.require_consent(db.get(User, mentor.user_id))
    before = {"paused": mentor.paused, "paused_reason": mentor.paused_reason}
    mentor.paused = paused
    mentor.paused_reason = (reason or "paused_by_mentor") if paused else None
    db.add(
        AuditLog(
            actor_id=actor_id,
            action="mentor.pause" if paused else "mentor.resume",
            object_type="mentor",
            object_id=str(mentor.id),
            before=before,
            after={"paused": paused, "paused_reason": mentor.paused_reason},
        )
    )
    db.flush()
    return mentor


@dataclass(frozen=True)
class ExpiryReport:
    """What one expiry pass did."""

    expired: int
    mentors_paused: tuple[int, ...]


def expire_requests(db: Session, *, now: dt.datetime | None = None) -> ExpiryReport:
    """Expire requests unanswered for ``REQUEST_TTL``; pause mentors who let too many expire."""
    now = now or utcnow()
    stale = db.scalars(
        select(MatchRequest).where(
            MatchRequest.status == "pending", MatchRequest.sent_at <= now - REQUEST_TTL
        )
    ).all()
    expired = 0
    touched: set[int] = set()
    for req in stale:
        if not _transition(db, req.id, "pending", "expired", responded_at=now):
            continue
        expired += 1
        touched.add(req.mentor_id)
        _log_change(db, request_id=req.id, old="pending", new="expired", actor_id=None, at=now)
        entrepreneur = db.get(Entrepreneur, req.entrepreneur_id)
        mentor = db.get(Mentor, req.mentor_id)
        if entrepreneur and entrepreneur.user_id:
            notifications.notify(
                db,
                entrepreneur.user_id,
                "request_expired",
                request_id=req.id,
                mentor=mentor.name if mentor else "",
            )
    paused: list[int] = []
    for mentor_id in sorted(touched):
        count = db.scalar(
            select(func.count())
            .select_from(MatchRequest)
            .where(
                MatchRequest.mentor_id == mentor_id,
                MatchRequest.status == "expired",
                MatchRequest.responded_at >= now - AUTO_PAUSE_WINDOW,
            )
        )
        mentor = db.get(Mentor, mentor_id)
        if count >= AUTO_PAUSE_EXPIRIES and mentor is not None and not mentor.paused:
            set_paused(db, mentor, True, reason="unanswered_requests")
            paused.append(mentor_id)
            if mentor.user_id:
                notifications.notify(
                    db, mentor.user_id, "mentor_paused", mentor_id=mentor.id, expired=int(count)
                )
    db.flush()
    if expired:
        log.info("expired %d requests, paused %d mentors", expired, len(paused))
    return ExpiryReport(expired, tuple(paused))


# --- matches ------------------------------------------------------------------------------------


def end_match(
    db: Session,
    match_id: int,
    *,
    reason: str,
    note: str | None = None,
    actor_id: int | None = None,
    rating: int | None = None,
    **owner,
) -> Match:
    """End an active mentorship (by either person or staff); the mentor's place is freed."""
    if reason not in END_REASONS:
        raise InvalidInput("bad_reason", f"reason must be one of {', '.join(END_REASONS)}")
    if rating is not None and not 1 <= rating <= 5:
        raise InvalidInput("bad_rating", "rating must be 1 to 5")
    match = db.get(Match, match_id)
    if match is None or any(getattr(match, k) != v for k, v in owner.items()):
        raise NotFound("match_not_found", "no such mentorship")
    status = "completed" if reason == "completed" else "ended"
    now = utcnow()
    result = db.execute(
        update(Match)
        .where(Match.id == match_id, Match.status == "active")
        .values(
            status=status,
            ended_at=now,
            end_reason=reason,
            end_note=(note or "").strip()[:1000] or None,
            rating=rating,
        )
        .execution_options(synchronize_session="fetch")
    )
    if result.rowcount != 1:
        raise Conflict("match_not_active", "this mentorship has already ended")
    _free_place(db, match.mentor_id)
    _log_change(db, match_id=match_id, old="active", new=status, actor_id=actor_id, note=reason, at=now)
    return _reload(db, match)


# --- history for the model ------------------------------------------------------------------------


def matching_history(db: Session) -> list[HistoryRecord]:
    """What the programme's records say, as the model's training history.

    accepted requests -> ``accepted`` (``completed`` with the rating once the mentorship completed;
    a mentorship during which the entrepreneur reached a 7 PAS step counts as completed with 4 when
    unrated); declined, expired and staff-rejected proposals -> ``declined``.
    """
    ids = dict(db.execute(select(Entrepreneur.id, Entrepreneur.external_id)).all())
    mids = dict(db.execute(select(Mentor.id, Mentor.external_id)).all())
    out: list[HistoryRecord] = []
    matches = {m.request_id: m for m in db.scalars(select(Match).where(Match.request_id.is_not(None)))}
    progressed = {
        e_id
        for (e_id,) in db.execute(
            select(PasProgress.entrepreneur_id)
            .where(PasProgress.step_code.in_(("P4", "P5", "P6", "P7")))
            .distinct()
        )
    }
    for req in db.scalars(
        select(MatchRequest).where(MatchRequest.status.in_(("accepted", "declined", "expired", "rejected")))
    ):
        e, m = ids.get(req.entrepreneur_id), mids.get(req.mentor_id)
        if e is None or m is None:
            continue
        if req.status != "accepted":
            out.append(HistoryRecord(e, m, "declined"))
            continue
        match = matches.get(req.id)
        if (
            match is not None
            and match.status in ("completed", "ended")
            and (match.rating or req.entrepreneur_id in progressed)
        ):
            out.append(HistoryRecord(e, m, "completed", match.rating or 4))
        else:
            out.append(HistoryRecord(e, m, "accepted"))
    from webapp.services.sessions import with_session_history  # session ratings and no-shows (#5)

    return with_session_history(out, db)
