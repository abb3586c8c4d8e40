"""A person's rights under UU 27/2022 (PDP): a copy of everything held about them, and deletion.

Deletion anonymises rather than erases: the account and its profile keep their ids and the facts
the programme counts (sector, stage, kecamatan, requests, matches, sessions, ratings) but lose
everything that identifies the person (name, e-mail, phone, bio, free-text notes, tokens).
"""

from __future__ import annotations

import datetime as dt
import enum
import logging

from sqlalchemy import delete, inspect, or_, select, update
from sqlalchemy.orm import Session

from models import (
    ApiToken,
    AuditLog,
    Entrepreneur,
    Match,
    MatchRequest,
    Mentor,
    MentoringSession,
    Notification,
    PasProgress,
    SessionFeedback,
    StatusChange,
    User,
    UserSession,
    utcnow,
)
from webapp.services.notifications import notify

log = logging.getLogger(__name__)

EXPORT_FORMAT_VERSION = 1
#: Account columns never exported: secrets, not information about the person.
SECRET_USER_COLUMNS = frozenset({"password_hash", "session_version", "calendar_token_hash"})
#: The display name an anonymised account and its profile keep.
DELETED_NAME = "Anggota terhapus #{id}"
#: A password hash no password matches (argon2 refuses it as malformed).
UNUSABLE_PASSWORD = "!account-deleted"  # nosec B105 # a hash value that no password matches
#: What a deleted person's values in the audit log's before/after become (as self-service edits show
#: the bio and phone).
AUDIT_REDACTED = "***"
#: Audit before/after keys whose values identify or were written by the person: redacted at deletion
#: in the rows about their account and profiles (the rows, actions and other values stay).
AUDIT_KEYS_REDACTED_AT_DELETION = frozenset(
    {
        "name", "email", "phone", "business_name", "company", "bio", "availability", "kelurahan",
        "kelurahan_code", "message", "note", "response_note", "end_note", "paused_reason",
    }
)  # fmt: skip
_OPEN_REQUESTS = ("draft", "pending")
_UPCOMING_SESSIONS = ("proposed", "confirmed")


def _plain(value: object) -> object:
    """A JSON-ready value: enums by value, dates and times as ISO 8601."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def _columns(row: object, exclude: frozenset[str] | set[str] = frozenset()) -> dict:
    """Every mapped column of ``row`` (so new columns are exported without a code change)."""
    return {
        attr.key: _plain(getattr(row, attr.key))
        for attr in inspect(row).mapper.column_attrs
        if attr.key not in exclude
    }


def _name(profile: Entrepreneur | Mentor | None) -> str | None:
    return profile.name if profile is not None else None


def export_personal_data(db: Session, user: User) -> dict:
    """Everything held about ``user`` as JSON-ready data, plus the log of what was done with it.

    Other people appear only by display name (never their e-mail, phone or messages). Read-only.
    """
    entrepreneur = db.scalar(select(Entrepreneur).where(Entrepreneur.user_id == user.id))
    mentor = db.scalar(select(Mentor).where(Mentor.user_id == user.id))
    e_id = entrepreneur.id if entrepreneur else None
    m_id = mentor.id if mentor else None

    requests = list(
        db.scalars(
            select(MatchRequest)
            .where(or_(MatchRequest.entrepreneur_id == e_id, MatchRequest.mentor_id == m_id))
            .order_by(MatchRequest.created_at, MatchRequest.id)
        )
    )
    matches = list(
        db.scalars(
            select(Match)
            .where(or_(Match.entrepreneur_id == e_id, Match.mentor_id == m_id))
            .order_by(Match.started_at, Match.id)
        )
    )
    match_ids = [m.id for m in matches]
    sessions = list(
        db.scalars(
            select(MentoringSession)
            .where(MentoringSession.match_id.in_(match_ids))
            .order_by(MentoringSession.starts_at, MentoringSession.id)
        )
    )

    def request_out(r: MatchRequest) -> dict:
        as_mentor = r.mentor_id == m_id
        out = {
            "id": r.id,
            "as": "mentor" if as_mentor else "entrepreneur",
            "other_person": _name(r.entrepreneur if as_mentor else r.mentor),
            "origin": r.origin,
            "status": r.status,
            "score": r.score,
            "reasons": r.reasons,
            "response_reason": r.response_reason,
            "created_at": _plain(r.created_at),
            "sent_at": _plain(r.sent_at),
            "responded_at": _plain(r.responded_at),
        }
        # Free text goes only to its author: the entrepreneur's message, the mentor's answer.
        if as_mentor:
            out["your_response_note"] = r.response_note
        else:
            out["your_message"] = r.message
        return out

    def match_out(m: Match) -> dict:
        as_mentor = m.mentor_id == m_id
        return {
            "id": m.id,
            "as": "mentor" if as_mentor else "entrepreneur",
            "other_person": _name(m.entrepreneur if as_mentor else m.mentor),
            **_columns(m, {"id", "entrepreneur_id", "mentor_id", "request_id"}),
        }

    changes = list(
        db.scalars(
            select(StatusChange)
            .where(
                or_(
                    StatusChange.request_id.in_([r.id for r in requests]),
                    StatusChange.match_id.in_(match_ids),
                )
            )
            .order_by(StatusChange.at, StatusChange.id)
        )
    )
    audit = list(
        db.scalars(
            select(AuditLog)
            .where(
                or_(
                    (AuditLog.object_type == "user") & (AuditLog.object_id == str(user.id)),
                    AuditLog.actor_id == user.id,
                )
            )
            .order_by(AuditLog.at, AuditLog.id)
        )
    )

    def audit_out(a: AuditLog) -> dict:
        about_them = a.object_type == "user" and a.object_id == str(user.id)
        out = {
            "at": _plain(a.at),
            "action": a.action,
            "object_type": a.object_type,
            "object_id": a.object_id,
            "by": "you" if a.actor_id == user.id else ("programme staff" if a.actor_id else "system"),
        }
        if about_them:  # values of someone else's record the person acted on are not theirs
            out.update(before=a.before, after=a.after)
        return out

    return {
        "format_version": EXPORT_FORMAT_VERSION,
        "exported_at": _plain(utcnow()),
        "account": _columns(user, SECRET_USER_COLUMNS)
        | {"calendar_feed_enabled": user.calendar_token_hash is not None},
        "consent": {
            "privacy_notice_version": user.privacy_notice_version,
            "privacy_consent_at": _plain(user.privacy_consent_at),
            "purposes": user.privacy_consent_purposes,
            "channel": user.privacy_consent_channel,
            "withdrawn_at": _plain(user.consent_withdrawn_at),
            "automated_proposals_objected_at": _plain(user.automated_proposals_objected_at),
            "adult_confirmed_at": _plain(user.adult_confirmed_at),
        },
        "entrepreneur_profile": _columns(entrepreneur) if entrepreneur else None,
        "mentor_profile": _columns(mentor) if mentor else None,
        "api_tokens": [
            _columns(t, {"token_hash", "user_id"})
            for t in db.scalars(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id))
        ],
        "login_sessions": [
            _columns(s, {"id", "user_id"})
            for s in db.scalars(
                select(UserSession)
                .where(UserSession.user_id == user.id)
                .order_by(UserSession.created_at, UserSession.id)
            )
        ],
        "requests": [request_out(r) for r in requests],
        "matches": [match_out(m) for m in matches],
        "sessions": [_columns(s) for s in sessions],
        "feedback_written": [
            _columns(f, {"author_id"})
            for f in db.scalars(
                select(SessionFeedback)
                .where(SessionFeedback.author_id == user.id)
                .order_by(SessionFeedback.id)
            )
        ],
        "pas_progress": [
            _columns(p, {"recorded_by_id"})
            for p in db.scalars(
                select(PasProgress)
                .where(PasProgress.entrepreneur_id == e_id)
                .order_by(PasProgress.achieved_on)
            )
        ],
        "notifications": [
            _columns(n, {"user_id"})
            for n in db.scalars(
                select(Notification).where(Notification.user_id == user.id).order_by(Notification.id)
            )
        ],
        "processing_log": [
            {
                "at": _plain(c.at),
                "request_id": c.request_id,
                "match_id": c.match_id,
                "from_status": c.from_status,
                "to_status": c.to_status,
                "by": "you" if c.actor_id == user.id else ("someone else" if c.actor_id else "system"),
            }
            for c in changes
        ],
        "audit_log": [audit_out(a) for a in audit],
    }


def download_personal_data(db: Session, user: User) -> dict:
    """The export of ``user``'s data, with an audit row recording that it was handed out (flushes)."""
    db.add(
        AuditLog(
            actor_id=user.id, action="personal_data.exported", object_type="user", object_id=str(user.id)
        )
    )
    db.flush()
    return export_personal_data(db, user)


def _redact(values: dict | None) -> dict | None:
    if not values:
        return values
    return {
        k: (AUDIT_REDACTED if v not in (None, "") else v) if k in AUDIT_KEYS_REDACTED_AT_DELETION else v
        for k, v in values.items()
    }


def redact_audit(db: Session, user: User, entrepreneur: Entrepreneur | None, mentor: Mentor | None) -> int:
    """Redact the person's values in the before/after of audit rows about their account and profiles.

    Covers self-service edits (``account.*``, ``entrepreneur.profile``, ``mentor.profile``), staff
    corrections (``member.update.*``, found by the profile's programme id, which the row then
    follows to its anonymised value) and the rest about them; returns how many rows changed.
    Call before the profiles' ``external_id`` is replaced. Flushes nothing.
    """
    about = [(AuditLog.object_type == "user") & (AuditLog.object_id == str(user.id))]
    renamed: dict[tuple[str, str], str] = {}
    for profile, kind, prefix in ((entrepreneur, "entrepreneur", "E"), (mentor, "mentor", "M")):
        if profile is None:
            continue
        about.append((AuditLog.object_type == kind) & (AuditLog.object_id == str(profile.id)))
        about.append((AuditLog.object_type == f"{kind}s") & (AuditLog.object_id == profile.external_id))
        renamed[(f"{kind}s", profile.external_id)] = f"deleted-{prefix}{profile.id}"
    changed = 0
    for row in db.scalars(select(AuditLog).where(or_(*about))):
        before, after = _redact(row.before), _redact(row.after)
        new_id = renamed.get((row.object_type, row.object_id), row.object_id)
        if (before, after, new_id) != (row.before, row.after, row.object_id):
            row.before, row.after, row.object_id = before, after, new_id
            changed += 1
    return changed


def delete_account(
    db: Session, user: User, actor: User | None = None, *, by_system: str | None = None
) -> None:
    """Anonymise ``user`` and their profile, close what waits on them, and log it (flushes, never commits).

    Every session cookie and API token stops working; history rows stay for the programme's
    statistics, and the person's values in the audit log are redacted. ``actor`` is who asked
    (staff), or None when the person deletes their own account; ``by_system`` names a job that
    deletes with no one asking (``"retention"``). Deleting an already deleted account does nothing.
    """
    if user.deleted_at is not None:
        return
    now = utcnow()
    actor_id = actor.id if actor is not None else (None if by_system else user.id)
    placeholder = DELETED_NAME.format(id=user.id)
    entrepreneur = db.scalar(select(Entrepreneur).where(Entrepreneur.user_id == user.id))
    mentor = db.scalar(select(Mentor).where(Mentor.user_id == user.id))
    closed_requests = ended_matches = 0

    def change(request: MatchRequest | None, match: Match | None, before: str, after: str) -> None:
        db.add(
            StatusChange(
                request_id=request.id if request else None,
                match_id=match.id if match else None,
                from_status=before,
                to_status=after,
                actor_id=actor_id,
                at=now,
                note="account_deleted",
            )
        )

    # Requests waiting on or made by the person.
    if entrepreneur is not None:
        for request in list(
            db.scalars(
                select(MatchRequest).where(
                    MatchRequest.entrepreneur_id == entrepreneur.id, MatchRequest.status.in_(_OPEN_REQUESTS)
                )
            )
        ):
            before, request.status, request.responded_at = request.status, "withdrawn", now
            change(request, None, before, "withdrawn")
            if before == "pending" and request.mentor.user_id is not None:
                notify(db, request.mentor.user_id, "request_closed", request_id=request.id)
            closed_requests += 1
        for request in db.scalars(
            select(MatchRequest).where(MatchRequest.entrepreneur_id == entrepreneur.id)
        ):
            request.message = None
    if mentor is not None:
        for request in list(
            db.scalars(
                select(MatchRequest).where(
                    MatchRequest.mentor_id == mentor.id, MatchRequest.status.in_(_OPEN_REQUESTS)
                )
            )
        ):
            before = request.status
            request.status, request.response_reason, request.responded_at = "declined", "account_deleted", now
            change(request, None, before, "declined")
            if before == "pending" and request.entrepreneur.user_id is not None:
                notify(db, request.entrepreneur.user_id, "request_declined", request_id=request.id)
            closed_requests += 1
        for request in db.scalars(select(MatchRequest).where(MatchRequest.mentor_id == mentor.id)):
            request.response_note = None

    # Active mentorships end; the mentor's place is freed; upcoming sessions are cancelled.
    profile_filters = []
    if entrepreneur is not None:
        profile_filters.append(Match.entrepreneur_id == entrepreneur.id)
    if mentor is not None:
        profile_filters.append(Match.mentor_id == mentor.id)
    if profile_filters:
        for match in list(db.scalars(select(Match).where(or_(*profile_filters), Match.status == "active"))):
            # A guarded UPDATE, as ``mentorship.end_match`` does: a mentorship the mentor ended
            # meanwhile keeps its end (and rating), and the place is freed once, by whoever won.
            ended = db.execute(
                update(Match)
                .where(Match.id == match.id, Match.status == "active")
                .values(status="ended", ended_at=now, end_reason="account_deleted")
                .execution_options(synchronize_session="fetch")
            )
            if ended.rowcount != 1:
                continue
            change(None, match, "active", "ended")
            db.execute(
                update(Mentor)
                .where(Mentor.id == match.mentor_id, Mentor.active_count > 0)
                .values(active_count=Mentor.active_count - 1)
                .execution_options(synchronize_session="fetch")
            )
            for session in db.scalars(
                select(MentoringSession).where(
                    MentoringSession.match_id == match.id,
                    MentoringSession.status.in_(_UPCOMING_SESSIONS),
                    MentoringSession.starts_at > now,
                )
            ):
                session.status = "cancelled"
            ended_matches += 1
    db.flush()

    # What the person wrote in free text may name them; ratings and facts stay.
    for feedback in db.scalars(select(SessionFeedback).where(SessionFeedback.author_id == user.id)):
        feedback.note = None

    # The audit log keeps its rows and actions, not the person's values.
    redacted = redact_audit(db, user, entrepreneur, mentor)

    # The profiles keep what the programme counts, nothing that identifies.
    if entrepreneur is not None:
        entrepreneur.name = placeholder
        entrepreneur.external_id = f"deleted-E{entrepreneur.id}"
        entrepreneur.business_name = None
        entrepreneur.kelurahan_code = None
        entrepreneur.bio = ""
        entrepreneur.availability = None
    if mentor is not None:
        db.refresh(mentor, ["active_count"])
        mentor.name = placeholder
        mentor.external_id = f"deleted-M{mentor.id}"
        mentor.company = None
        mentor.bio = ""
        mentor.availability = None
        mentor.paused = True
        mentor.paused_reason = "account_deleted"
        mentor.capacity = mentor.active_count  # takes no new mentees, whatever reads the capacity

    # The account: nothing left to log in with or be reached by.
    user.name = placeholder
    user.email = f"deleted-{user.id}@invalid"
    user.phone = None
    user.share_phone = False
    user.password_hash = UNUSABLE_PASSWORD
    user.must_change_password = False
    user.session_version += 1
    user.calendar_token_hash = None
    user.last_login_at = None
    user.is_active = False
    user.deleted_at = now
    db.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session="fetch")
    )
    # Every login ends at once (the session version above is the backstop), and the devices'
    # addresses and browsers are forgotten.
    db.execute(
        update(UserSession)
        .where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session="fetch")
    )
    db.execute(
        update(UserSession)
        .where(UserSession.user_id == user.id)
        .values(ip=None, user_agent=None)
        .execution_options(synchronize_session="fetch")
    )
    # Undelivered messages to the person will never be sent.
    db.execute(
        delete(Notification)
        .where(Notification.user_id == user.id, Notification.sent_at.is_(None))
        .execution_options(synchronize_session="fetch")
    )
    db.add(
        AuditLog(
            actor_id=actor_id,
            at=now,
            action="account.deleted",
            object_type="user",
            object_id=str(user.id),
            after={
                "role": user.role.value,
                "requests_closed": closed_requests,
                "matches_ended": ended_matches,
                "audit_rows_redacted": redacted,
                "by": "staff" if actor is not None else (by_system or "self"),
            },
        )
    )
    db.flush()
    log.info(
        "account deleted: user=%s by=%s requests_closed=%d matches_ended=%d audit_rows_redacted=%d",
        user.id,
        "staff" if actor is not None else (by_system or "self"),
        closed_requests,
        ended_matches,
        redacted,
    )
