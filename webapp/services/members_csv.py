"""CSV import and export of members and rooms in the batch contract's format (BATCH.md).

Import is all or nothing: every row is validated (by the matching core's contract reader, plus the
checks only the database can make) before anything is written, and a file with any bad row
changes nothing and reports every bad row. Re-importing updates the same people by ``id``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from matching import csvio
from matching.csvio import InputFileError, RowError
from matching.profiles import format_availability
from models import (
    BOOKED_SESSION_STATES,
    AuditLog,
    Entrepreneur,
    Match,
    Mentor,
    MentoringSession,
    Room,
    utcnow,
)
from webapp.services import sessions
from webapp.services.adapters import (
    entrepreneur_values,
    mentor_values,
    room_values,
    to_entrepreneur,
    to_mentor,
    to_room,
)
from webapp.services.errors import InvalidInput, NotFound

log = logging.getLogger(__name__)

Kind = Literal["entrepreneurs", "mentors", "rooms"]
KINDS: tuple[str, ...] = ("entrepreneurs", "mentors", "rooms")
_SPECS = {"entrepreneurs": csvio.ENTREPRENEUR, "mentors": csvio.MENTOR, "rooms": csvio.ROOM}
_MODELS = {"entrepreneurs": Entrepreneur, "mentors": Mentor, "rooms": Room}


@dataclass
class ImportPlan:
    """What an import would do: rows to create, rows to update, rows already equal."""

    kind: str
    filename: str
    total: int = 0
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    records: list = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        """Numbers for a preview: total, new, updated, unchanged."""
        return {
            "total": self.total,
            "new": len(self.created),
            "updated": len(self.updated),
            "unchanged": len(self.unchanged),
        }


def _key(kind: str):
    return Room.id if kind == "rooms" else _MODELS[kind].external_id


def _values(kind: str, record) -> dict:
    return {"entrepreneurs": entrepreneur_values, "mentors": mentor_values, "rooms": room_values}[kind](
        record
    )


def _current(kind: str, row) -> dict:
    record = {"entrepreneurs": to_entrepreneur, "mentors": to_mentor, "rooms": to_room}[kind](row)
    return _values(kind, record)


def plan_import(db: Session, kind: Kind, text: str, filename: str) -> ImportPlan:
    """Validate ``text`` as a ``kind`` file against the contract and the database; write nothing.

    Raises ``InvalidInput`` whose ``errors`` are the ``RowError`` of every bad row.
    """
    if kind not in _SPECS:
        raise InvalidInput("unknown_kind", f"cannot import {kind!r}")
    try:
        records = csvio.read_text(_SPECS[kind], text, filename)
    except InputFileError as exc:
        raise InvalidInput("bad_file", str(exc), errors=exc.errors) from None
    errors: list[RowError] = []
    model = _MODELS[kind]
    ids = [r.id for r in records]
    existing = {}
    for chunk_start in range(0, len(ids), 500):
        chunk = ids[chunk_start : chunk_start + 500]
        for row in db.scalars(select(model).where(_key(kind).in_(chunk))):
            existing[row.id if kind == "rooms" else row.external_id] = row
    if kind == "mentors":
        errors += _mentor_db_checks(db, records, existing, filename)
    if kind == "rooms":
        errors += _room_db_checks(db, records, existing, filename)
    if kind in ("entrepreneurs", "mentors"):
        errors += _id_collision_checks(db, kind, ids, filename)
    if errors:
        raise InvalidInput("bad_file", str(errors[0]), errors=errors)
    plan = ImportPlan(kind, filename, total=len(records), records=records)
    for record in records:
        row = existing.get(record.id)
        if row is None:
            plan.created.append(record.id)
        elif _current(kind, row) != _values(kind, record):
            plan.updated.append(record.id)
        else:
            plan.unchanged.append(record.id)
    return plan


def _mentor_db_checks(db: Session, records, existing: dict, filename: str) -> list[RowError]:
    """Mentees held in JakMentor cannot be imported away: active_mentees >= active matches here."""
    held = (
        dict(
            db.execute(
                select(Mentor.external_id, func.count(Match.id))
                .join(Match, Match.mentor_id == Mentor.id)
                .where(Match.status == "active", Mentor.external_id.in_(list(existing)))
                .group_by(Mentor.external_id)
            ).all()
        )
        if existing
        else {}
    )
    errors = []
    for rowno, record in enumerate(records, start=2):
        n = held.get(record.id, 0)
        if record.active_mentees < n:
            errors.append(
                RowError(
                    filename,
                    rowno,
                    "active_mentees",
                    str(record.active_mentees),
                    f"is fewer than the {n} active mentorship(s) JakMentor holds for this mentor",
                    "fewer_than_active",
                    (("active", str(n)),),
                )
            )
    return errors


def _room_db_checks(db: Session, records, existing: dict, filename: str) -> list[RowError]:
    """A room keeps the sessions booked in it from now on: a new capacity holds as many of them as
    are booked at once, and new hours hold each of them (staff move sessions first). Only rows that
    change the capacity or the hours are checked.

    The rooms checked are locked first (``sessions.lock_rooms``: the lock a booking's trigger takes on
    its room, migration 0008), so no booking lands between this check and the caller's commit.
    """
    changed = {}
    for rowno, record in enumerate(records, start=2):
        row = existing.get(record.id)
        if row is None:
            continue
        now_values, new_values = _current("rooms", row), _values("rooms", record)
        if any(now_values[k] != new_values[k] for k in ("capacity", "availability")):
            changed[record.id] = (rowno, record)
    if not changed:
        return []
    ids = sorted(changed)
    sessions.lock_rooms(db, ids)
    booked: dict[str, list[tuple]] = {}
    for room_id, starts, ends in db.execute(
        select(MentoringSession.room_id, MentoringSession.starts_at, MentoringSession.ends_at)
        .where(
            MentoringSession.room_id.in_(ids),
            MentoringSession.status.in_(BOOKED_SESSION_STATES),
            MentoringSession.ends_at > utcnow(),
        )
        .order_by(MentoringSession.starts_at)
    ):
        booked.setdefault(room_id, []).append((starts, ends))
    errors = []
    for room_id in ids:
        rowno, record = changed[room_id]
        spans = booked.get(room_id, [])
        if not spans:
            continue
        most, when = max(
            ((sum(1 for s, e in spans if s <= start < e), start) for start, _end in spans),
            key=lambda pair: (pair[0], -pair[1].timestamp()),
        )
        if most > record.capacity:
            errors.append(
                RowError(
                    filename, rowno, "capacity", str(record.capacity),
                    f"is fewer than the {most} sessions booked in this room at once ({_local(when)}); "
                    "move some of them first",
                    "below_booked", (("booked", str(most)), ("when", _local(when))),
                )
            )  # fmt: skip
        outside = [s for s, e in spans if not sessions.room_open(record.availability, s, e)]
        if outside:
            errors.append(
                RowError(
                    filename, rowno, "availability", format_availability(record.availability),
                    f"leaves {len(outside)} session(s) booked in this room outside its hours "
                    f"(the first {_local(outside[0])}); move them first",
                    "booked_outside", (("count", str(len(outside))), ("when", _local(outside[0]))),
                )
            )  # fmt: skip
    return errors


def _local(moment) -> str:
    """A moment as Jakarta date and time (``2027-04-08 09:00``), for refusals."""
    return sessions.wib(moment).strftime("%Y-%m-%d %H:%M")


def _id_collision_checks(db: Session, kind: str, ids: list[str], filename: str) -> list[RowError]:
    """Mentor and entrepreneur ids never collide (the contract's rule), across the whole programme."""
    other = Mentor if kind == "entrepreneurs" else Entrepreneur
    clash = set()
    for start in range(0, len(ids), 500):
        clash |= set(
            db.scalars(select(other.external_id).where(other.external_id.in_(ids[start : start + 500])))
        )
    return [
        RowError(
            filename,
            rowno,
            "id",
            i,
            f"is already used by a {'mentor' if kind == 'entrepreneurs' else 'entrepreneur'}",
            "id_taken",
        )
        for rowno, i in enumerate(ids, start=2)
        if i in clash
    ]


def apply_import(db: Session, plan: ImportPlan, actor_id: int | None = None) -> dict[str, int]:
    """Write a validated plan: create new rows, update changed ones (by id), audit it; flush only."""
    kind, model = plan.kind, _MODELS[plan.kind]
    existing = {}
    ids = [r.id for r in plan.records]
    for start in range(0, len(ids), 500):
        for row in db.scalars(select(model).where(_key(kind).in_(ids[start : start + 500]))):
            existing[row.id if kind == "rooms" else row.external_id] = row
    updated = set(plan.updated)
    for record in plan.records:
        values = _values(kind, record)
        row = existing.get(record.id)
        if row is None:
            if kind == "rooms":
                db.add(Room(id=record.id, **values))
            else:
                db.add(model(external_id=record.id, **values))
        elif record.id in updated:
            for k, v in values.items():
                setattr(row, k, v)
    db.flush()
    counts = plan.counts
    db.add(
        AuditLog(
            actor_id=actor_id, action=f"import.{kind}", object_type=kind, note=plan.filename, after=counts
        )
    )
    db.flush()
    log.info("import %s from %s: %s", kind, plan.filename, counts)
    return counts


def import_csv(
    db: Session, kind: Kind, text: str, filename: str, actor_id: int | None = None
) -> dict[str, int]:
    """Validate then write a whole file (``plan_import`` + ``apply_import``)."""
    return apply_import(db, plan_import(db, kind, text, filename), actor_id)


def export_rows(db: Session, kind: Kind) -> tuple[tuple[str, ...], Iterator[dict[str, str]]]:
    """The columns and rows of every ``kind`` record, in the contract's format."""
    if kind == "entrepreneurs":
        rows = db.scalars(select(Entrepreneur).order_by(Entrepreneur.external_id))
        return csvio.ENTREPRENEUR_COLUMNS, (csvio.entrepreneur_row(to_entrepreneur(r)) for r in rows)
    if kind == "mentors":
        rows = db.scalars(select(Mentor).order_by(Mentor.external_id))
        return csvio.MENTOR_COLUMNS, (csvio.mentor_row(to_mentor(r)) for r in rows)
    if kind == "rooms":
        rows = db.scalars(select(Room).order_by(Room.id))
        return csvio.ROOM_COLUMNS, (csvio.room_row(to_room(r)) for r in rows)
    raise InvalidInput("unknown_kind", f"cannot export {kind!r}")


def export_csv(db: Session, kind: Kind) -> str:
    """Every ``kind`` record as CSV text in the contract's format (re-importable unchanged)."""
    return csvio.write_csv_text(*export_rows(db, kind))


def member_row(db: Session, kind: Kind, member_id: str) -> dict[str, str]:
    """One member (or room) as its contract row, for an edit form; ``NotFound`` when absent."""
    model = _MODELS.get(kind)
    if model is None:
        raise NotFound("unknown_kind", f"no such kind {kind!r}")
    row = db.scalar(select(model).where(_key(kind) == member_id))
    if row is None:
        raise NotFound("member_not_found", "no such member")
    writer = {
        "entrepreneurs": (to_entrepreneur, csvio.entrepreneur_row),
        "mentors": (to_mentor, csvio.mentor_row),
        "rooms": (to_room, csvio.room_row),
    }
    to_record, to_row = writer[kind]
    return to_row(to_record(row))


def member_profile(db: Session, kind: Kind, member_id: str) -> Entrepreneur | Mentor:
    """The entrepreneur or mentor profile whose contract id is ``member_id``; ``NotFound`` when absent
    (or when ``kind`` is not a kind of member)."""
    model = {"entrepreneurs": Entrepreneur, "mentors": Mentor}.get(kind)
    row = db.scalar(select(model).where(model.external_id == member_id)) if model is not None else None
    if row is None:
        raise NotFound("member_not_found", "no such member")
    return row


def member_pk(db: Session, kind: Kind, member_id: str) -> object:
    """The primary key of the member (or room) whose contract id is ``member_id``; None when absent."""
    model = _MODELS.get(kind)
    if model is None:
        return None
    return db.scalar(select(model.id).where(_key(kind) == member_id))


def update_member(
    db: Session, kind: Kind, member_id: str, values: dict[str, str], *, actor_id: int | None
) -> dict[str, str]:
    """Staff correct one member's fields: validated exactly as an imported row, audited with before/after.

    ``values`` holds contract columns (the id cannot change). Raises ``InvalidInput`` whose
    ``errors`` name the columns, ``NotFound`` for an unknown member. Returns the row after the change.
    """
    before = member_row(db, kind, member_id)
    columns = list(before)
    after_input = {c: (values.get(c, before[c]) or "").strip() for c in columns}
    after_input["id"] = member_id
    plan = plan_import(db, kind, csvio.write_csv_text(columns, [after_input]), "form")
    if not plan.updated:
        return before
    row = db.scalar(select(_MODELS[kind]).where(_key(kind) == member_id))
    for key, value in _values(kind, plan.records[0]).items():
        setattr(row, key, value)
    db.flush()
    after = member_row(db, kind, member_id)
    changed = {c for c in columns if before[c] != after[c]}
    db.add(
        AuditLog(
            actor_id=actor_id,
            action=f"member.update.{kind}",
            object_type=kind,
            object_id=member_id,
            before={c: before[c] for c in sorted(changed)},
            after={c: after[c] for c in sorted(changed)},
        )
    )
    db.flush()
    return after
