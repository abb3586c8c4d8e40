"""OK OCE's 7 PAS: which steps an entrepreneur has reached, and recording a new one."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from matching import reference
from models import AuditLog, Entrepreneur, Match, PasProgress, Role, User, utcnow
from webapp.services.errors import InvalidInput, NotFound
from webapp.services.profiles import FieldError

JAKARTA = ZoneInfo("Asia/Jakarta")


@dataclass(frozen=True)
class StepProgress:
    """One of the seven steps: its code and names, and when it was reached (None when not yet)."""

    code: str
    name_id: str
    name_en: str
    achieved_on: dt.date | None
    note: str | None

    @property
    def done(self) -> bool:
        """True once the step is reached."""
        return self.achieved_on is not None

    def name(self, lang: str) -> str:
        """The step's name in ``lang``."""
        return self.name_id if lang == "id" else self.name_en


def progress_of(db: Session, entrepreneur: Entrepreneur) -> list[StepProgress]:
    """The seven steps P1..P7 in order, each with its date when reached."""
    rows = {
        p.step_code: p
        for p in db.scalars(select(PasProgress).where(PasProgress.entrepreneur_id == entrepreneur.id))
    }
    out = []
    for code, term in reference.pas_steps().items():
        row = rows.get(code)
        out.append(
            StepProgress(
                code, term.name_id, term.name_en, row.achieved_on if row else None, row.note if row else None
            )
        )
    return out


def may_record(db: Session, entrepreneur: Entrepreneur, user: User) -> bool:
    """Whether ``user`` may record this entrepreneur's steps: staff, or the mentor of their active match."""
    if user.role in (Role.STAFF, Role.ADMIN):
        return True
    if user.role is not Role.MENTOR or user.mentor is None:
        return False
    return (
        db.scalar(
            select(Match.id).where(
                Match.entrepreneur_id == entrepreneur.id,
                Match.mentor_id == user.mentor.id,
                Match.status == "active",
            )
        )
        is not None
    )


def record_step(
    db: Session,
    entrepreneur: Entrepreneur,
    step_code: str,
    achieved_on: dt.date | None,
    recorded_by: User,
    note: str | None = None,
) -> PasProgress:
    """Record (or re-date) a 7 PAS step of an entrepreneur.

    Allowed for staff and for the mentor of the entrepreneur's active mentorship; anyone else gets
    ``NotFound`` (they may not know the entrepreneur exists). ``achieved_on`` defaults to today in
    Jakarta and may not lie in the future; a bad step or date raises ``InvalidInput`` with
    :class:`~webapp.services.profiles.FieldError` items.
    """
    if not may_record(db, entrepreneur, recorded_by):
        raise NotFound("entrepreneur_not_found", "no such mentee")
    today = utcnow().astimezone(JAKARTA).date()
    errors = []
    if step_code not in reference.pas_steps():
        errors.append(FieldError("step", "unknown_step"))
    achieved_on = achieved_on or today
    if achieved_on > today:
        errors.append(FieldError("achieved_on", "future_date"))
    note = (note or "").strip()[:1000] or None
    if errors:
        raise InvalidInput("invalid_progress", "the step cannot be recorded", errors)
    row = db.scalar(
        select(PasProgress).where(
            PasProgress.entrepreneur_id == entrepreneur.id, PasProgress.step_code == step_code
        )
    )
    before = {"achieved_on": row.achieved_on.isoformat(), "note": row.note} if row else None
    if row is None:
        row = PasProgress(entrepreneur_id=entrepreneur.id, step_code=step_code)
        db.add(row)
    row.achieved_on = achieved_on
    row.recorded_by_id = recorded_by.id
    row.note = note
    db.add(
        AuditLog(
            actor_id=recorded_by.id,
            action="pas.record",
            object_type="entrepreneur",
            object_id=str(entrepreneur.id),
            before=before,
            after={"step": step_code, "achieved_on": achieved_on.isoformat(), "note": note},
        )
    )
    db.flush()
    return row
