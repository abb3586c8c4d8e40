"""The audit log: recording who did what to which record, and searching it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import AuditLog, User, utcnow

JAKARTA = ZoneInfo("Asia/Jakarta")


def record(
    db: Session,
    *,
    actor_id: int | None,
    action: str,
    object_type: str | None = None,
    object_id: object = None,
    before: dict | None = None,
    after: dict | None = None,
    note: str | None = None,
    at: dt.datetime | None = None,
) -> AuditLog:
    """Add one audit row (``before``/``after`` must be JSON-safe); flushes nothing by itself."""
    row = AuditLog(
        actor_id=actor_id,
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        before=before,
        after=after,
        note=note,
        at=at or utcnow(),
    )
    db.add(row)
    return row


@dataclass(frozen=True)
class AuditEntry:
    """One audit row with the actor's e-mail (None for the system)."""

    log: AuditLog
    actor_email: str | None


@dataclass(frozen=True)
class AuditPage:
    """One page of audit search results, newest first."""

    entries: list[AuditEntry]
    total: int
    page: int
    pages: int


def _jakarta_midnight_utc(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=JAKARTA).astimezone(dt.UTC)


def search(
    db: Session,
    *,
    action: str | None = None,
    actor_email: str | None = None,
    object_id: str | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    page: int = 1,
    per_page: int = 50,
) -> AuditPage:
    """Audit rows matching every given filter, newest first, one page at a time.

    Parameters
    ----------
    action : str, optional
        An action name or its prefix (``proposal`` finds ``proposal.approve`` and ``proposal.reject``).
    actor_email : str, optional
        Part of the actor's e-mail address (case-insensitive).
    date_from, date_to : date, optional
        Calendar days in Jakarta time, both included.
    """
    stmt = select(AuditLog, User.email).outerjoin(User, User.id == AuditLog.actor_id)
    if action:
        stmt = stmt.where(AuditLog.action.like(f"{_escape(action.strip())}%", escape="\\"))
    if actor_email:
        stmt = stmt.where(
            func.lower(User.email).like(f"%{_escape(actor_email.strip().lower())}%", escape="\\")
        )
    if object_id:
        stmt = stmt.where(AuditLog.object_id == object_id.strip())
    if date_from:
        stmt = stmt.where(AuditLog.at >= _jakarta_midnight_utc(date_from))
    if date_to:
        stmt = stmt.where(AuditLog.at < _jakarta_midnight_utc(date_to + dt.timedelta(days=1)))
    total = db.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    pages = max(1, (total + per_page - 1) // per_page)
    page = min(max(1, page), pages)
    rows = db.execute(
        stmt.order_by(AuditLog.at.desc(), AuditLog.id.desc()).limit(per_page).offset((page - 1) * per_page)
    ).all()
    return AuditPage([AuditEntry(log, email) for log, email in rows], total, page, pages)


def actions(db: Session) -> list[str]:
    """The distinct action names recorded so far, for the search form."""
    return list(db.scalars(select(AuditLog.action).distinct().order_by(AuditLog.action)))


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
