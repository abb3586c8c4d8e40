"""Retention (PDP-4): what the service keeps no longer than needed, deleted in one sweep.

- ``user_session`` rows of logins that ended (revoked, past their absolute end, or idle past their
  limit) longer than ``sessions`` ago: they hold a device's IP address and browser.
- ``notification`` rows delivered (or given up on, as dead letters) longer than ``notifications``
  ago. Reminders use the outbox as their record of what was sent, so this period never goes below
  ``MIN_NOTIFICATION_RETENTION``, well past the last day a reminder or feedback request can be due.
- The per-account login throttle (``failed_logins``, ``login_blocked_until``) of accounts whose
  last wait ended longer than ``sessions`` ago is cleared.
- Entrepreneur and mentor accounts not used for longer than ``inactive_accounts`` (no login, no
  login session or API token used, created before then) are anonymised with the account deletion
  (``personal_data.delete_account``), unless they hold an active mentorship. Staff and admin
  accounts are never touched. At most ``MAX_ACCOUNTS_PER_SWEEP`` per sweep; the next day goes on.

``purge_expired`` flushes, never commits: the scheduler job or the CLI command commits once.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import and_, delete, exists, or_, select, update
from sqlalchemy.orm import Session

from models import ApiToken, Entrepreneur, Match, Mentor, Notification, Role, User, UserSession, utcnow
from webapp.services.login_sessions import SessionPolicy
from webapp.services.notifications import MAX_ATTEMPTS
from webapp.services.personal_data import delete_account

log = logging.getLogger(__name__)

DEFAULT_SESSION_RETENTION_DAYS = 30
DEFAULT_NOTIFICATION_RETENTION_DAYS = 90
#: Three years without a login; ``INACTIVE_ACCOUNT_RETENTION_DAYS=0`` turns the anonymisation off.
DEFAULT_INACTIVE_ACCOUNT_RETENTION_DAYS = 1095
#: Accounts anonymised in one sweep at most (keeps the transaction short; the rest go the next day).
MAX_ACCOUNTS_PER_SWEEP = 500
#: Only members' accounts expire; staff and admin accounts are closed by an admin.
EXPIRING_ROLES = (Role.ENTREPRENEUR, Role.MENTOR)
#: Longer than any reminder window (feedback requests: up to 4 days after a session).
MIN_NOTIFICATION_RETENTION = dt.timedelta(days=7)


@dataclass(frozen=True)
class RetentionPolicy:
    """How long ended logins, delivered notifications and unused accounts (None: forever) are kept."""

    sessions: dt.timedelta = dt.timedelta(days=DEFAULT_SESSION_RETENTION_DAYS)
    notifications: dt.timedelta = dt.timedelta(days=DEFAULT_NOTIFICATION_RETENTION_DAYS)
    inactive_accounts: dt.timedelta | None = dt.timedelta(days=DEFAULT_INACTIVE_ACCOUNT_RETENTION_DAYS)

    def __post_init__(self) -> None:
        if self.sessions < dt.timedelta(0):
            raise ValueError("the session retention period cannot be negative")
        if self.inactive_accounts is not None and self.inactive_accounts <= dt.timedelta(0):
            raise ValueError(
                "the inactive-account period must be positive (or 0 in the config to turn it off)"
            )
        if self.notifications < MIN_NOTIFICATION_RETENTION:
            raise ValueError(
                f"notifications must be kept at least {MIN_NOTIFICATION_RETENTION.days} days "
                "(reminders use them as the record of what was sent)"
            )

    @classmethod
    def from_config(cls, config: Mapping) -> RetentionPolicy:
        """The policy from ``SESSION_RETENTION_DAYS``, ``NOTIFICATION_RETENTION_DAYS`` and
        ``INACTIVE_ACCOUNT_RETENTION_DAYS`` (0 turns the last off), or the defaults."""
        inactive = int(config.get("INACTIVE_ACCOUNT_RETENTION_DAYS", DEFAULT_INACTIVE_ACCOUNT_RETENTION_DAYS))
        if inactive < 0:
            raise ValueError("INACTIVE_ACCOUNT_RETENTION_DAYS cannot be negative (0 turns it off)")
        return cls(
            sessions=dt.timedelta(
                days=int(config.get("SESSION_RETENTION_DAYS", DEFAULT_SESSION_RETENTION_DAYS))
            ),
            notifications=dt.timedelta(
                days=int(config.get("NOTIFICATION_RETENTION_DAYS", DEFAULT_NOTIFICATION_RETENTION_DAYS))
            ),
            inactive_accounts=dt.timedelta(days=inactive) if inactive else None,
        )


@dataclass(frozen=True)
class PurgeResult:
    """What one sweep removed or cleared."""

    user_sessions: int
    notifications: int
    login_throttles: int
    inactive_accounts: int = 0


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


def inactive_accounts(
    db: Session, keep: dt.timedelta, now: dt.datetime, limit: int | None = None
) -> list[User]:
    """Members' accounts unused for longer than ``keep`` before ``now``, without an active mentorship.

    Unused: created before the cutoff, no login since, no login session seen and no API token used
    since; not deleted yet. Staff and admin accounts never qualify. Oldest account first.
    """
    cutoff = now - keep
    mentored = select(Entrepreneur.user_id).join(Match, Match.entrepreneur_id == Entrepreneur.id)
    mentoring = select(Mentor.user_id).join(Match, Match.mentor_id == Mentor.id)
    active_match = or_(
        User.id.in_(mentored.where(Match.status == "active", Entrepreneur.user_id.is_not(None))),
        User.id.in_(mentoring.where(Match.status == "active", Mentor.user_id.is_not(None))),
    )
    stmt = (
        select(User)
        .where(
            User.deleted_at.is_(None),
            User.role.in_(EXPIRING_ROLES),
            User.created_at < cutoff,
            or_(User.last_login_at.is_(None), User.last_login_at < cutoff),
            ~exists().where(UserSession.user_id == User.id, UserSession.last_seen_at >= cutoff),
            ~exists().where(ApiToken.user_id == User.id, ApiToken.last_used_at >= cutoff),
            ~active_match,
        )
        .order_by(User.id)
        .limit(limit)
    )
    return list(db.scalars(stmt))


def anonymise_inactive_accounts(
    db: Session, keep: dt.timedelta, now: dt.datetime, limit: int = MAX_ACCOUNTS_PER_SWEEP
) -> int:
    """Anonymise every account ``inactive_accounts`` finds (up to ``limit``); returns how many."""
    accounts = inactive_accounts(db, keep, now, limit)
    for user in accounts:
        delete_account(db, user, by_system="retention")
    return len(accounts)


def purge_expired(
    db: Session, policy: RetentionPolicy, sessions: SessionPolicy, *, now: dt.datetime | None = None
) -> PurgeResult:
    """One retention sweep (flushes, never commits); logs what it removed."""
    now = now or utcnow()
    anonymised = (
        anonymise_inactive_accounts(db, policy.inactive_accounts, now) if policy.inactive_accounts else 0
    )
    result = PurgeResult(
        user_sessions=purge_user_sessions(db, sessions, policy.sessions, now),
        notifications=purge_notifications(db, policy.notifications, now),
        login_throttles=clear_login_throttles(db, policy.sessions, now),
        inactive_accounts=anonymised,
    )
    log.info(
        "retention: deleted %d ended login sessions and %d old notifications, cleared %d login throttles, "
        "anonymised %d inactive accounts",
        result.user_sessions,
        result.notifications,
        result.login_throttles,
        result.inactive_accounts,
        extra={"event": "retention_purge"},
    )
    return result
