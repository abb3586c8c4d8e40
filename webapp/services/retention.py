"""Retention (PDP-4): what the service keeps no longer than needed, deleted in one sweep.

- ``user_session`` rows of logins that ended (revoked, past their absolute end, or idle past their
  limit) longer than ``sessions`` ago: they hold a device's IP address and browser.
- ``notification`` rows delivered (or given up on, as dead letters) longer than ``notifications``
  ago. Reminders use the outbox as their record of what was sent, so this period never goes below
  ``MIN_NOTIFICATION_RETENTION``, well past the last day a reminder or feedback request can be due.
- The per-account login throttle (``failed_logins``, ``login_blocked_until``) of accounts whose
  last wait ended longer than ``sessions`` ago is cleared.

``purge_expired`` flushes, never commits: the scheduler job or the CLI command commits once.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import and_, delete, or_, update
from sqlalchemy.orm import Session

from models import Notification, User, UserSession, utcnow
from webapp.services.login_sessions import SessionPolicy
from webapp.services.notifications import MAX_ATTEMPTS

log = logging.getLogger(__name__)

DEFAULT_SESSION_RETENTION_DAYS = 30
DEFAULT_NOTIFICATION_RETENTION_DAYS = 90
#: Longer than any reminder window (feedback requests: up to 4 days after a session).
MIN_NOTIFICATION_RETENTION = dt.timedelta(days=7)


@dataclass(frozen=True)
class RetentionPolicy:
    """How long ended logins and delivered notifications are kept."""

    sessions: dt.timedelta = dt.timedelta(days=DEFAULT_SESSION_RETENTION_DAYS)
    notifications: dt.timedelta = dt.timedelta(days=DEFAULT_NOTIFICATION_RETENTION_DAYS)

    def __post_init__(self) -> None:
        if self.sessions < dt.timedelta(0):
            raise ValueError("the session retention period cannot be negative")
        if self.notifications < MIN_NOTIFICATION_RETENTION:
            raise ValueError(
                f"notifications must be kept at least {MIN_NOTIFICATION_RETENTION.days} days "
                "(reminders use them as the record of what was sent)"
            )

    @classmethod
    def from_config(cls, config: Mapping) -> RetentionPolicy:
        """The policy from ``SESSION_RETENTION_DAYS`` and ``NOTIFICATION_RETENTION_DAYS`` (or the defaults)."""
        return cls(
            sessions=dt.timedelta(
                days=int(config.get("SESSION_RETENTION_DAYS", DEFAULT_SESSION_RETENTION_DAYS))
            ),
            notifications=dt.timedelta(
                days=int(config.get("NOTIFICATION_RETENTION_DAYS", DEFAULT_NOTIFICATION_RETENTION_DAYS))
            ),
        )


@dataclass(frozen=True)
class PurgeResult:
    """What one sweep removed or cleared."""

    user_sessions: int
    notifications: int
    login_throttles: int


def purge_user_sessions(db: Session, sessions: SessionPolicy, keep: dt.timedelta, now: dt.datetime) -> int:
    """Delete login sessions that ended (revoked, expired or idle) more than ``keep`` before ``now``."""
    cutoff = now - keep
    ended_long_ago = or_(
        UserSession.revoked_at < cutoff,
        UserSession.expires_at < cutoff,
        and_(UserSession.remember.is_(False), UserSession.last_seen_at < cutoff - sessions.idle),
        and_(UserSession.remember.is_(True), UserSession.last_seen_at < cutoff - sessions.remember_idle),
    )
    result = db.execute(
        delete(UserSession).where(ended_long_ago).execution_options(synchronize_session=False)
    )
    return result.rowcount


def purge_notifications(db: Session, keep: dt.timedelta, now: dt.datetime) -> int:
    """Delete notifications delivered, or dead letters created, more than ``keep`` before ``now``."""
    if keep < MIN_NOTIFICATION_RETENTION:
        raise ValueError(f"notifications must be kept at least {MIN_NOTIFICATION_RETENTION.days} days")
    cutoff = now - keep
    done_long_ago = or_(
        Notification.sent_at < cutoff,
        and_(
            Notification.sent_at.is_(None),
            Notification.attempts >= MAX_ATTEMPTS,
            Notification.created_at < cutoff,
        ),
    )
    result = db.execute(
        delete(Notification).where(done_long_ago).execution_options(synchronize_session=False)
    )
    return result.rowcount


def clear_login_throttles(db: Session, keep: dt.timedelta, now: dt.datetime) -> int:
    """Reset the failed-login counter of accounts whose last wait ended more than ``keep`` ago."""
    result = db.execute(
        update(User)
        .where(User.login_blocked_until < now - keep)
        .values(failed_logins=0, login_blocked_until=None)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


def purge_expired(
    db: Session, policy: RetentionPolicy, sessions: SessionPolicy, *, now: dt.datetime | None = None
) -> PurgeResult:
    """One retention sweep (flushes, never commits); logs what it removed."""
    now = now or utcnow()
    result = PurgeResult(
        user_sessions=purge_user_sessions(db, sessions, policy.sessions, now),
        notifications=purge_notifications(db, policy.notifications, now),
        login_throttles=clear_login_throttles(db, policy.sessions, now),
    )
    log.info(
        "retention: deleted %d ended login sessions and %d old notifications, cleared %d login throttles",
        result.user_sessions,
        result.notifications,
        result.login_throttles,
        extra={"event": "retention_purge"},
    )
    return result
