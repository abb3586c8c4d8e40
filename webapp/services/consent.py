"""Consent under UU 27/2022 (PDP): giving it (the consent record) and withdrawing it in the app.

Withdrawal stops the processing for matching at once: the person is left out of suggestions,
cohort runs and the weekly sessions job; their open requests and draft cohort proposals are closed
and their upcoming proposed sessions cancelled; a mentor's profile is paused so nobody can ask them.
Active mentorships are not ended (that stays the person's own decision) and nothing is deleted.
Giving consent again clears the withdrawal (and resumes a profile the withdrawal had paused).

Short of withdrawing consent, a person can object to automated proposals (UU PDP Pasal 10): cohort
runs then leave them out and their draft cohort proposals are dropped, while they keep everything
else (an entrepreneur still sees ranked mentors and asks one; a mentor still answers requests and
has sessions). Withdrawing the objection brings them back into the next run.

The SQL conditions here (``withdrawn_entrepreneur_ids``, ``withdrawn_mentor_ids``, ``in_matching``,
``in_automated_proposals``) are what every matching query adds, so that nobody is processed after
saying no.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, and_, exists, or_, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from models import Entrepreneur, Match, MatchRequest, Mentor, MentoringSession, StatusChange, User, utcnow
from webapp.services import audit, notifications
from webapp.services.errors import Conflict

log = logging.getLogger(__name__)

#: What the privacy notice asks consent for (stored with each consent).
CONSENT_PURPOSES = ("matching", "sessions", "programme_statistics")
#: Where consent can be given: the registration form, the account page later on, or the demo loader.
CHANNELS = ("web_registration", "web_account", "demo")
#: The reason recorded on what withdrawal closed, and on the mentor profile it paused.
WITHDRAWN = "consent_withdrawn"
#: The reason recorded on the draft cohort proposals an objection to automated proposals dropped.
OBJECTED = "automated_proposals_objected"


class ConsentWithdrawn(Conflict):
    """The person withdrew consent: nothing may be matched or proposed for them until they give it again."""

    def __init__(self) -> None:
        super().__init__(WITHDRAWN, "consent to processing for matching was withdrawn; give it again first")


# --- the conditions every matching query adds ---------------------------------------------------


def _withdrawn(user_id: InstrumentedAttribute) -> ColumnElement[bool]:
    return exists().where(User.id == user_id, User.consent_withdrawn_at.is_not(None))


def in_matching(user_id: InstrumentedAttribute) -> ColumnElement[bool]:
    """Rows whose person (``Entrepreneur.user_id`` or ``Mentor.user_id``) has not withdrawn consent.

    Profiles without an account (imported from the programme's spreadsheets) stay in.
    """
    return ~_withdrawn(user_id)


def in_automated_proposals(profile: type[Entrepreneur] | type[Mentor]) -> ColumnElement[bool]:
    """Rows of ``profile`` (``Entrepreneur`` or ``Mentor``) whose person may be proposed automatically
    (cohort runs): consent not withdrawn and no objection to automated proposals, neither their own
    nor one staff recorded on the profile. Profiles without an account stay in unless staff recorded
    one."""
    return and_(
        profile.automated_proposals_objected_at.is_(None),
        ~exists().where(
            User.id == profile.user_id,
            or_(User.consent_withdrawn_at.is_not(None), User.automated_proposals_objected_at.is_not(None)),
        ),
    )


def withdrawn_entrepreneur_ids() -> Select:
    """The ids of entrepreneurs whose person withdrew consent (for ``NOT IN``)."""
    return select(Entrepreneur.id).where(_withdrawn(Entrepreneur.user_id))


def withdrawn_mentor_ids() -> Select:
    """The ids of mentors whose person withdrew consent (for ``NOT IN``)."""
    return select(Mentor.id).where(_withdrawn(Mentor.user_id))


def has_withdrawn(user: User | None) -> bool:
    """Whether ``user`` has withdrawn consent (False for profiles without an account)."""
    return user is not None and user.consent_withdrawn_at is not None


def has_objected(user: User | None) -> bool:
    """Whether ``user`` objects to automated proposals (False for profiles without an account)."""
    return user is not None and user.automated_proposals_objected_at is not None


def profile_objected(profile: Entrepreneur | Mentor) -> bool:
    """Whether the person of ``profile`` objects to automated proposals: they said so themselves, or
    staff recorded it for them."""
    return profile.automated_proposals_objected_at is not None or has_objected(profile.user)


def require_consent(user: User | None) -> None:
    """Raise ``ConsentWithdrawn`` (409) when ``user`` has withdrawn consent."""
    if has_withdrawn(user):
        raise ConsentWithdrawn()


# --- giving and withdrawing ---------------------------------------------------------------------


def record_consent(
    user: User,
    *,
    notice_version: str,
    channel: str,
    purposes: Sequence[str] = CONSENT_PURPOSES,
    now: dt.datetime | None = None,
) -> None:
    """Write the consent record on ``user``: when, to which notice, for what, through which channel."""
    if channel not in CHANNELS:
        raise ValueError(f"unknown consent channel {channel!r}")
    user.privacy_consent_at = now or utcnow()
    user.privacy_notice_version = notice_version
    user.privacy_consent_purposes = list(purposes)
    user.privacy_consent_channel = channel
    user.consent_withdrawn_at = None


def _move_request(
    db: Session, request_id: int, old: str, new: str, *, actor_id: int, at: dt.datetime, note: str, **values
) -> bool:
    """Move one request from ``old`` to ``new`` with a guarded UPDATE (its version moves too) and log
    the change; False, writing nothing, when it left ``old`` meanwhile."""
    moved = db.execute(
        update(MatchRequest)
        .where(MatchRequest.id == request_id, MatchRequest.status == old)
        .values(status=new, version=MatchRequest.version + 1, **values)
        .execution_options(synchronize_session="fetch")
    )
    if moved.rowcount != 1:
        return False
    db.add(
        StatusChange(
            request_id=request_id, from_status=old, to_status=new, actor_id=actor_id, at=at, note=note
        )
    )
    return True


@dataclass(frozen=True)
class Withdrawal:
    """What a withdrawal closed."""

    requests_closed: int
    drafts_dropped: int
    sessions_cancelled: int
    mentor_paused: bool


def withdraw_consent(db: Session, user: User, *, now: dt.datetime | None = None) -> Withdrawal:
    """Withdraw ``user``'s consent and stop matching them (flushes, never commits).

    Open requests close: an entrepreneur's pending ones are withdrawn (the mentor is told), those
    waiting on a mentor are closed (the entrepreneur is told); draft cohort proposals of either are
    dropped (withdrawn or closed, never "rejected", which would teach the model a poor fit). Upcoming
    proposed sessions of their mentorships are cancelled. A mentor's profile is paused unless it
    already was. An audit row records it all. Withdrawing twice changes nothing the second time.
    """
    if user.consent_withdrawn_at is not None:
        return Withdrawal(0, 0, 0, False)
    now = now or utcnow()
    user.consent_withdrawn_at = now
    entrepreneur = db.scalar(select(Entrepreneur).where(Entrepreneur.user_id == user.id))
    mentor = db.scalar(select(Mentor).where(Mentor.user_id == user.id))
    closed = dropped = 0

    def close(side: InstrumentedAttribute, profile_id: int, new: str) -> None:
        nonlocal closed, dropped
        waiting = db.execute(
            select(MatchRequest.id, MatchRequest.status, MatchRequest.entrepreneur_id, MatchRequest.mentor_id)
            .where(side == profile_id, MatchRequest.status.in_(("draft", "pending")))
            .order_by(MatchRequest.id)
        ).all()
        for request_id, old, entrepreneur_id, mentor_id in waiting:
            values = {"responded_at": now} if old == "pending" else {}
            if new == "closed":
                values["response_reason"] = WITHDRAWN
            if not _move_request(
                db, request_id, old, new, actor_id=user.id, at=now, note=WITHDRAWN, **values
            ):
                continue  # answered meanwhile: that answer stands
            if old == "draft":
                dropped += 1
                continue
            closed += 1
            other = db.get(Mentor, mentor_id) if new == "withdrawn" else db.get(Entrepreneur, entrepreneur_id)
            if other is not None and other.user_id is not None:
                kind = "request_closed" if new == "withdrawn" else "request_declined"
                notifications.notify(db, other.user_id, kind, request_id=request_id)

    if entrepreneur is not None:
        close(MatchRequest.entrepreneur_id, entrepreneur.id, "withdrawn")
    if mentor is not None:
        close(MatchRequest.mentor_id, mentor.id, "closed")

    sides = []
    if entrepreneur is not None:
        sides.append(MentoringSession.entrepreneur_id == entrepreneur.id)
    if mentor is not None:
        sides.append(MentoringSession.mentor_id == mentor.id)
    cancelled = 0
    if sides:
        cancelled = db.execute(
            update(MentoringSession)
            .where(or_(*sides), MentoringSession.status == "proposed", MentoringSession.starts_at > now)
            .values(status="cancelled")
            .execution_options(synchronize_session="fetch")
        ).rowcount

    paused = mentor is not None and not mentor.paused
    if paused:
        mentor.paused, mentor.paused_reason = True, WITHDRAWN
    report = Withdrawal(closed, dropped, cancelled, paused)
    audit.record(
        db,
        actor_id=user.id,
        action="consent.withdrawn",
        object_type="user",
        object_id=user.id,
        after={
            "requests_closed": closed,
            "drafts_dropped": dropped,
            "sessions_cancelled": cancelled,
            "mentor_paused": paused,
        },
        at=now,
    )
    db.flush()
    log.info(
        "consent withdrawn: user=%s requests_closed=%d drafts_dropped=%d sessions_cancelled=%d",
        user.id,
        closed,
        dropped,
        cancelled,
    )
    return report


def give_consent(
    db: Session,
    user: User,
    *,
    notice_version: str,
    channel: str = "web_account",
    now: dt.datetime | None = None,
) -> None:
    """Record consent given in the app (again, or for the first time on an account made by staff).

    Clears a withdrawal, and resumes the mentor profile the withdrawal had paused (a pause of the
    mentor's own stays). Writes an audit row; flushes, never commits.
    """
    now = now or utcnow()
    was_withdrawn = user.consent_withdrawn_at is not None
    record_consent(user, notice_version=notice_version, channel=channel, now=now)
    mentor = db.scalar(select(Mentor).where(Mentor.user_id == user.id))
    resumed = mentor is not None and mentor.paused and mentor.paused_reason == WITHDRAWN
    if resumed:
        mentor.paused, mentor.paused_reason = False, None
    audit.record(
        db,
        actor_id=user.id,
        action="consent.given",
        object_type="user",
        object_id=user.id,
        after={
            "notice_version": notice_version,
            "channel": channel,
            "purposes": list(CONSENT_PURPOSES),
            "after_withdrawal": was_withdrawn,
            "mentor_resumed": resumed,
        },
        at=now,
    )
    db.flush()
    log.info("consent given: user=%s channel=%s", user.id, channel)


def object_to_automated_proposals(db: Session, user: User, *, now: dt.datetime | None = None) -> int:
    """Record ``user``'s objection to automated proposals; returns how many draft proposals it dropped.

    From now on cohort runs leave the person out (``in_automated_proposals``). Their cohort
    proposals still waiting for staff review are dropped, as a withdrawal drops them (an
    entrepreneur's become ``withdrawn``, a mentor's ``closed``; never ``rejected``, which would teach
    the model a poor fit), with ``OBJECTED`` as the reason. Proposals staff already approved, the
    person's own requests, mentorships and sessions are not touched. An audit row records it;
    objecting twice changes nothing the second time. Flushes, never commits.
    """
    if user.automated_proposals_objected_at is not None:
        return 0
    now = now or utcnow()
    user.automated_proposals_objected_at = now
    entrepreneur_id = db.scalar(select(Entrepreneur.id).where(Entrepreneur.user_id == user.id))
    mentor_id = db.scalar(select(Mentor.id).where(Mentor.user_id == user.id))
    dropped = _drop_drafts(db, entrepreneur_id, mentor_id, actor_id=user.id, now=now)
    audit.record(
        db,
        actor_id=user.id,
        action="automated_proposals.objected",
        object_type="user",
        object_id=user.id,
        after={"drafts_dropped": dropped},
        at=now,
    )
    db.flush()
    log.info("automated proposals objected to: user=%s drafts_dropped=%d", user.id, dropped)
    return dropped


def _drop_drafts(
    db: Session, entrepreneur_id: int | None, mentor_id: int | None, *, actor_id: int, now: dt.datetime
) -> int:
    """Drop the cohort proposals of an objecting person still waiting for staff review (an
    entrepreneur's become ``withdrawn``, a mentor's ``closed``); how many. Decided ones stand."""
    sides = []
    if entrepreneur_id is not None:
        sides.append(MatchRequest.entrepreneur_id == entrepreneur_id)
    if mentor_id is not None:
        sides.append(MatchRequest.mentor_id == mentor_id)
    dropped = 0
    drafts = (
        db.execute(
            select(MatchRequest.id, MatchRequest.entrepreneur_id)
            .where(MatchRequest.origin == "cohort", MatchRequest.status == "draft", or_(*sides))
            .order_by(MatchRequest.id)
        ).all()
        if sides
        else []
    )
    for request_id, draft_entrepreneur_id in drafts:
        new = "withdrawn" if draft_entrepreneur_id == entrepreneur_id else "closed"
        if _move_request(
            db, request_id, "draft", new, actor_id=actor_id, at=now, note=OBJECTED, response_reason=OBJECTED
        ):
            dropped += 1  # else decided by staff meanwhile: that decision stands
    return dropped


def allow_automated_proposals(db: Session, user: User, *, now: dt.datetime | None = None) -> None:
    """Withdraw ``user``'s objection to automated proposals: the next cohort run may propose them again.

    Proposals the objection dropped stay dropped. An audit row records it; nothing happens when there
    is no objection. Flushes, never commits.
    """
    objected_at = user.automated_proposals_objected_at
    if objected_at is None:
        return
    now = now or utcnow()
    user.automated_proposals_objected_at = None
    audit.record(
        db,
        actor_id=user.id,
        action="automated_proposals.allowed",
        object_type="user",
        object_id=user.id,
        before={"objected_at": objected_at.isoformat(timespec="seconds")},
        at=now,
    )
    db.flush()
    log.info("automated proposals allowed again: user=%s", user.id)


def record_member_objection(
    db: Session,
    staff_id: int,
    profile: Entrepreneur | Mentor,
    objects: bool,
    *,
    now: dt.datetime | None = None,
) -> int:
    """Staff record that a member without an account objects to automated proposals (``objects``),
    or that they withdrew the objection, as the member told the programme outside the app (a letter,
    a call, at the centre); returns how many draft proposals it dropped.

    The objection works as the member's own (``object_to_automated_proposals``): cohort runs leave
    them out and their drafts waiting for review are dropped; its withdrawal lets the next run
    propose them again. A member with an account records it themselves on their personal data page
    (``Conflict('member_has_account')``). An audit row names the staff member; recording what is
    already recorded changes nothing. Flushes, never commits.
    """
    if profile.user_id is not None:
        raise Conflict("member_has_account", "this member has an account and records it there themselves")
    if (profile.automated_proposals_objected_at is not None) == objects:
        return 0
    now = now or utcnow()
    kind = "entrepreneur" if isinstance(profile, Entrepreneur) else "mentor"
    before = profile.automated_proposals_objected_at
    profile.automated_proposals_objected_at = now if objects else None
    dropped = 0
    if objects:
        ids = (profile.id, None) if kind == "entrepreneur" else (None, profile.id)
        dropped = _drop_drafts(db, *ids, actor_id=staff_id, now=now)
    audit.record(
        db,
        actor_id=staff_id,
        action="automated_proposals.objected" if objects else "automated_proposals.allowed",
        object_type=kind,
        object_id=profile.external_id,
        before=None if objects else {"objected_at": before.isoformat(timespec="seconds")},
        after={"drafts_dropped": dropped, "recorded_by": "staff"} if objects else {"recorded_by": "staff"},
        at=now,
    )
    db.flush()
    log.info(
        "automated proposals %s for a member without an account (recorded by staff): %s=%s drafts_dropped=%d",
        "objected to" if objects else "allowed again", kind, profile.id, dropped,
    )  # fmt: skip
    return dropped


def matches_in_matching() -> list[ColumnElement[bool]]:
    """Conditions on ``Match`` that leave out mentorships of anyone who withdrew consent."""
    return [
        Match.entrepreneur_id.not_in(withdrawn_entrepreneur_ids()),
        Match.mentor_id.not_in(withdrawn_mentor_ids()),
    ]
