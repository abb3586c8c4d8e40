"""Server-side login sessions: each login on a device is a row that logout can revoke.

The browser holds a random secret inside its signed session cookie (and, with "remember me", its
remember cookie); the database holds only the secret's SHA-256. A session counts while it is not
revoked, has been seen within its idle limit and has not reached its absolute end.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from models import User, UserSession, utcnow

#: ``last_seen_at`` is written at most this often (one small UPDATE a minute per active session).
TOUCH_INTERVAL = dt.timedelta(minutes=1)
USER_AGENT_LENGTH = 120


@dataclass(frozen=True)
class SessionPolicy:
    """How long sessions last: idle limits and absolute lifetimes, plain and "remember me"."""

    idle: dt.timedelta = dt.timedelta(hours=2)
    lifetime: dt.timedelta = dt.timedelta(hours=12)
    remember_idle: dt.timedelta = dt.timedelta(days=7)
    remember_lifetime: dt.timedelta = dt.timedelta(days=14)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def start_session(
    db: Session,
    user: User,
    policy: SessionPolicy,
    *,
    remember: bool = False,
    user_agent: str | None = None,
    ip: str | None = None,
    now: dt.datetime | None = None,
) -> str:
    """Record a new session for ``user`` and return its secret (for the cookie only; flushes)."""
    now = now or utcnow()
    secret = secrets.token_urlsafe(32)
    db.add(
        UserSession(
            id=_digest(secret),
            user_id=user.id,
            created_at=now,
            last_seen_at=now,
            expires_at=now + (policy.remember_lifetime if remember else policy.lifetime),
            remember=remember,
            user_agent=(user_agent or "")[:USER_AGENT_LENGTH] or None,
            ip=ip,
        )
    )
    db.flush()
    return secret


def active_session(
    db: Session, secret: str, user_id: int, policy: SessionPolicy, *, now: dt.datetime | None = None
) -> UserSession | None:
    """The session this secret opens for ``user_id``, or None if unknown, revoked, idle or expired."""
    if not secret:
        return None
    record = db.get(UserSession, _digest(secret))
    return record if _counts(record, user_id, policy, now or utcnow()) else None


def active_session_with_user(
    db: Session, secret: str, user_id: int, policy: SessionPolicy, *, now: dt.datetime | None = None
) -> tuple[UserSession, User] | None:
    """``active_session`` and the user it belongs to, read in one query (every logged-in request asks)."""
    if not secret:
        return None
    row = db.execute(_SESSION_WITH_USER, {"id": _digest(secret), "user_id": user_id}).first()
    if row is None or not _counts(row[0], user_id, policy, now or utcnow()):
        return None
    return row[0], row[1]


#: Built once: every logged-in request runs it, and building a SELECT costs more than running it.
_SESSION_WITH_USER = (
    select(UserSession, User)
    .join(User, User.id == UserSession.user_id)
    .where(UserSession.id == bindparam("id"), UserSession.user_id == bindparam("user_id"))
)


def _counts(record: UserSession | None, user_id: int, policy: SessionPolicy, now: dt.datetime) -> bool:
    """True when ``record`` is ``user_id``'s session and is not revoked, idle or expired."""
    if record is None or record.user_id != user_id or record.revoked_at is not None:
        return False
    idle = policy.remember_idle if record.remember else policy.idle
    return not (now >= record.expires_at or now - record.last_seen_at > idle)


def touch(db: Session, record: UserSession, *, now: dt.datetime | None = None) -> bool:
    """Move ``last_seen_at`` to now when it is older than a minute; True when it wrote (flushes)."""
    now = now or utcnow()
    if now - record.last_seen_at < TOUCH_INTERVAL:
        return False
    record.last_seen_at = now
    db.flush()
    return True


def revoke(db: Session, secret: str | None, *, now: dt.datetime | None = None) -> None:
    """End the session this secret opens (logout on one device; flushes)."""
    if not secret:
        return
    db.execute(
        update(UserSession)
        .where(UserSession.id == _digest(secret), UserSession.revoked_at.is_(None))
        .values(revoked_at=now or utcnow())
        .execution_options(synchronize_session="fetch")
    )


def revoke_all(db: Session, user: User, *, keep: str | None = None, now: dt.datetime | None = None) -> int:
    """End every session of ``user`` except the one ``keep`` opens; the number ended (flushes)."""
    condition = [UserSession.user_id == user.id, UserSession.revoked_at.is_(None)]
    if keep:
        condition.append(UserSession.id != _digest(keep))
    result = db.execute(
        update(UserSession)
        .where(*condition)
        .values(revoked_at=now or utcnow())
        .execution_options(synchronize_session="fetch")
    )
    return result.rowcount


def sessions_of(db: Session, user: User) -> list[UserSession]:
    """Every session recorded for ``user``, newest first."""
    return list(
        db.scalars(
            select(UserSession).where(UserSession.user_id == user.id).order_by(UserSession.created_at.desc())
        )
    )
