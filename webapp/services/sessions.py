"""Weekly mentoring sessions: proposing them exactly once per week, answering them, moving them,
feedback afterwards, reminders, and what staff see.

Exactly once
------------
``propose_sessions_for_week`` first claims the week: on PostgreSQL it takes
``pg_try_advisory_xact_lock(JOB_LOCK_CLASS, <week ordinal>)`` (a concurrent run of the same week
answers ``busy`` at once), then inserts ``JobRun('propose_sessions', monday)`` with
``ON CONFLICT DO NOTHING``; no row inserted means another run finished the week (``already_done``).
The claim, the sessions, the notifications and ``finished_at`` are written in the caller's one
transaction, so a crash part-way leaves nothing behind (not even the claim) and a rerun starts
afresh; ``UNIQUE(match_id, week_start)`` backs this up. Callers on SQLite wrap the transaction in
``models.db.write_intent()`` so concurrent runs queue on the write lock.

No double booking
-----------------
The scheduler proposes around the sessions already booked, and ``move_session`` checks the room and
the people first; the database has the last word (migration 0008): a person's booked sessions never
overlap, a room never holds more booked sessions at once than its capacity. When another
transaction booked the time after the check, the database's refusal becomes the same refusal the
check gives (``person_busy``, ``room_full``; ``booking_refusal``); in the weekly run it stops the
run, and the caller's rollback takes the claim and every session of the run with it. Two
transactions writing clashing times at once would deadlock in the database's check (PostgreSQL
aborts one); ``write_booking`` queues the writes of one person on advisory locks instead, and tries
a write again when it deadlocked with the weekly run (which takes no such locks). In the weekly run
such an abort stops the run like a refusal, and the next catch-up runs it again.

Reminders (the rule against sending twice)
------------------------------------------
A reminder of ``kind`` for a session is due for a participant when the rule's time has come and
no ``Notification`` row exists for (that user, ``kind``, ``payload.session_id``). The row is
written in the same transaction as nothing else, so a reminder pass that commits has recorded
every message it queued, and a pass that fails queues none. ``session_reminder``: from 24 hours
before the start until the start, for proposed and confirmed sessions. ``session_feedback``: from
08:00 WIB on the day after the session until ``FEEDBACK_WINDOW`` later, for sessions not declined
or cancelled, to participants who have not given feedback yet.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import string
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from matching import reference
from matching.csvio import parse_availability
from matching.profiles import HistoryRecord, Pair
from matching.schedule import REASONS, propose_week
from models import (
    BOOKED_SESSION_STATES,
    AuditLog,
    Entrepreneur,
    JobRun,
    Match,
    Mentor,
    MentoringSession,
    Notification,
    Room,
    SessionFeedback,
    User,
    utcnow,
)
from models.db import aborted_for_another
from webapp.services import consent, notifications
from webapp.services.adapters import to_entrepreneur, to_mentor, to_room
from webapp.services.errors import Conflict, InvalidInput, NotFound

log = logging.getLogger(__name__)
T = TypeVar("T")

#: Jakarta time; every week starts on Monday 00:00 here.
WIB = ZoneInfo("Asia/Jakarta")
JOB_NAME = "propose_sessions"
#: First key of the PostgreSQL advisory lock of the proposal job (the second is the week's ordinal).
JOB_LOCK_CLASS = 0x4A4D5331
SESSION_MINUTES = 60
#: Sessions are never proposed to start sooner than this after the run (for a week already begun).
MIN_NOTICE = dt.timedelta(hours=12)
#: A week whose sessions are not proposed by this time on its Monday (Jakarta time) is overdue.
PROPOSAL_DEADLINE = dt.time(10, 0)
VIDEO_BASE = "https://meet.jit.si/JakMentor-"
VIDEO_ALPHABET = string.ascii_letters + string.digits
#: Sessions that hold a person's time (and a room's place). The database refuses two of them of one
#: person that overlap (``ex_mentoring_session_mentor_overlap`` and ``..._entrepreneur_overlap``; the
#: unique indexes ``uq_mentoring_session_mentor_start`` and ``..._entrepreneur_start`` for the same
#: start) and more of them in a room at once than its capacity (``mentoring_session_room_full``).
BOOKED_STATES = BOOKED_SESSION_STATES
#: The names in the database's refusals of a person's clash (SQLite names the unique index's columns).
_PERSON_CLASHES = (
    "ex_mentoring_session_mentor_overlap",
    "ex_mentoring_session_entrepreneur_overlap",
    "uq_mentoring_session_mentor_start",
    "uq_mentoring_session_entrepreneur_start",
    "mentoring_session.starts_at",
)
_ROOM_FULL = "mentoring_session_room_full"
#: How many times one booking write is tried when PostgreSQL aborts it to break a deadlock.
BOOKING_TRIES = 5
#: First keys of the PostgreSQL advisory locks that queue the booking writes of one mentor and of one
#: entrepreneur (the second key is their id); see ``write_booking``.
MENTOR_LOCK_CLASS = 0x4A4D5332
ENTREPRENEUR_LOCK_CLASS = 0x4A4D5333
OPEN_STATES = ("proposed", "confirmed")
REMINDER_LEAD = dt.timedelta(hours=24)
FEEDBACK_HOUR = 8
FEEDBACK_WINDOW = dt.timedelta(days=3)
#: A pair is flagged when the mean of an author's last ``FLAG_LAST`` ratings (at least two) is below
#: ``FLAG_MEAN``, or when their latest rating is ``FLAG_DROP`` or more below their previous one.
FLAG_LAST = 3
FLAG_MEAN = 3.0
FLAG_DROP = 2


# --- weeks --------------------------------------------------------------------------------------


def wib(moment: dt.datetime) -> dt.datetime:
    """``moment`` in Jakarta time (naive datetimes are taken as Jakarta time)."""
    return moment.replace(tzinfo=WIB) if moment.tzinfo is None else moment.astimezone(WIB)


def week_monday(moment: dt.datetime | dt.date) -> dt.date:
    """The Monday (Jakarta time) of the ISO week holding ``moment``."""
    day = wib(moment).date() if isinstance(moment, dt.datetime) else moment
    return day - dt.timedelta(days=day.weekday())


def upcoming_monday(now: dt.datetime) -> dt.date:
    """The week a proposal run at ``now`` is for: the Monday on or after ``now``'s Jakarta date."""
    day = wib(now).date()
    return day + dt.timedelta(days=(7 - day.weekday()) % 7)


def week_label(monday: dt.date) -> str:
    """``2026-W49`` for the Monday 2026-11-30."""
    year, week, _ = monday.isocalendar()
    return f"{year}-W{week:02d}"


def _week_bounds(monday: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(monday, dt.time(), tzinfo=WIB)
    return start, start + dt.timedelta(days=7)


def is_due(match: Match, monday: dt.date) -> bool:
    """Whether ``match`` meets in the week of ``monday``: weekly always, fortnightly every other week
    counted from the week it started (that week included)."""
    first = week_monday(match.started_at)
    if first > monday:
        return False
    weeks = (monday - first).days // 7
    return match.cadence != "fortnightly" or weeks % 2 == 0


# --- results ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProposalRun:
    """What one proposal run did: ``status`` is ``done``, ``already_done`` or ``busy``."""

    status: str
    week_start: dt.date
    session_ids: tuple[int, ...] = ()
    due: int = 0
    unplaced: tuple[dict, ...] = ()
    skipped: int = 0

    @property
    def proposed(self) -> int:
        """Sessions inserted by this run."""
        return len(self.session_ids)


def new_video_url() -> str:
    """A fresh, unguessable Jitsi Meet room for an online session."""
    return VIDEO_BASE + "".join(secrets.choice(VIDEO_ALPHABET) for _ in range(20))


def _insert_claim(db: Session, monday: dt.date, now: dt.datetime) -> bool:
    dialect = db.get_bind().dialect.name
    values = {"job": JOB_NAME, "period_start": monday, "started_at": now, "result": {}}
    if dialect == "postgresql":
        stmt = postgresql.insert(JobRun).values(**values).on_conflict_do_nothing()
    elif dialect == "sqlite":
        stmt = sqlite.insert(JobRun).values(**values).on_conflict_do_nothing()
    else:  # pragma: no cover - only SQLite and PostgreSQL are supported
        raise RuntimeError(f"unsupported database: {dialect}")
    # RETURNING says for certain whether this statement inserted the row (psycopg reports rowcount -1
    # for an INSERT that SQLAlchemy executes with RETURNING); on a conflict no row comes back.
    return db.execute(stmt.returning(JobRun.period_start)).first() is not None


def _try_lock_week(db: Session, monday: dt.date) -> bool:
    if db.get_bind().dialect.name != "postgresql":
        return True
    return bool(db.scalar(select(func.pg_try_advisory_xact_lock(JOB_LOCK_CLASS, monday.toordinal()))))


# --- what the scheduler needs from the database ---------------------------------------------------


def _booked(db: Session, monday: dt.date, *, exclude_session: int | None = None) -> list[tuple]:
    """(entrepreneur external id, mentor external id, room id, start, end) of the week's booked sessions."""
    start, end = _week_bounds(monday)
    stmt = (
        select(
            Entrepreneur.external_id,
            Mentor.external_id,
            MentoringSession.room_id,
            MentoringSession.starts_at,
            MentoringSession.ends_at,
        )
        .join(Match, Match.id == MentoringSession.match_id)
        .join(Entrepreneur, Entrepreneur.id == Match.entrepreneur_id)
        .join(Mentor, Mentor.id == Match.mentor_id)
        .where(
            MentoringSession.status.in_(BOOKED_STATES),
            MentoringSession.starts_at < end,
            MentoringSession.ends_at > start,
        )
    )
    if exclude_session is not None:
        stmt = stmt.where(MentoringSession.id != exclude_session)
    return list(db.execute(stmt).all())


def _busy_maps(booked: Iterable[tuple], monday: dt.date, people: Iterable[str], now: dt.datetime | None):
    busy: dict[str, list[tuple[dt.datetime, dt.datetime]]] = defaultdict(list)
    room_busy: dict[str, list[tuple[dt.datetime, dt.datetime]]] = defaultdict(list)
    for e_ext, m_ext, room_id, a, b in booked:
        busy[e_ext].append((wib(a), wib(b)))
        busy[m_ext].append((wib(a), wib(b)))
        if room_id:
            room_busy[room_id].append((wib(a), wib(b)))
    if now is not None:
        week_start, _ = _week_bounds(monday)
        floor = wib(now) + MIN_NOTICE
        if floor > week_start:
            for who in people:
                busy[who].append((week_start, floor))
    return dict(busy), dict(room_busy)


def _preferred_times(db: Session, match_ids: Sequence[int]) -> dict[int, tuple[int, int]]:
    """Each match's usual start: weekday and minute of its latest confirmed (or held) session."""
    out: dict[int, tuple[int, int]] = {}
    if not match_ids:
        return out
    rows = db.execute(
        select(MentoringSession.match_id, MentoringSession.starts_at)
        .where(MentoringSession.match_id.in_(match_ids), MentoringSession.status.in_(("confirmed", "held")))
        .order_by(MentoringSession.match_id, MentoringSession.starts_at.desc())
    )
    for match_id, start in rows:
        if match_id not in out:
            local = wib(start)
            out[match_id] = (local.weekday(), local.hour * 60 + local.minute)
    return out


def lock_rooms(db: Session, room_ids: Iterable[str]) -> None:
    """On PostgreSQL, take the row locks the room trigger of migration 0008 takes, all at once and in
    the order of their ids: two runs (of different weeks) booking the same rooms then queue instead
    of deadlocking. SQLite serialises writers anyway."""
    ids = sorted(room_ids)
    if ids and db.get_bind().dialect.name == "postgresql":
        db.execute(select(Room.id).where(Room.id.in_(ids)).order_by(Room.id).with_for_update(key_share=True))


def _new_session(db: Session, match: Match, monday: dt.date, proposed) -> MentoringSession:
    """Insert one proposed session (a separate step so tests can make a run fail half-way)."""
    row = MentoringSession(
        match_id=match.id,
        entrepreneur_id=match.entrepreneur_id,
        mentor_id=match.mentor_id,
        week_start=monday,
        starts_at=proposed.start.astimezone(dt.UTC),
        ends_at=proposed.end.astimezone(dt.UTC),
        mode=proposed.mode,
        room_id=proposed.room_id,
        video_url=new_video_url() if proposed.mode == "online" else None,
        status="proposed",
    )
    db.add(row)
    db.flush()
    return row


def write_booking(db: Session, write: Callable[[], T], *, mentor_id: int, entrepreneur_id: int) -> T:
    """``write()`` (it flushes new or changed times of a session of ``mentor_id`` and
    ``entrepreneur_id``) in a savepoint, after the people's booking locks; what ``write`` returns.

    Two transactions writing clashing times of one person each write their row, then each must wait
    for the other to end before it can tell whether the rows clash (the exclusion constraint's
    check): PostgreSQL breaks that cycle by aborting one of them, and with several writers the one
    aborted meets the others again at once. So on PostgreSQL each booking write first takes
    transaction advisory locks on its mentor and its entrepreneur (in one order, so they cannot
    deadlock among themselves): writes of one person queue, and the later one finds the earlier
    one's booking (an ``IntegrityError``, which ``booking_refusal`` reads). A writer that takes no
    such lock (the weekly run) can still deadlock with one: the write is then tried again.
    """
    if db.get_bind().dialect.name == "postgresql":
        for key in sorted(((MENTOR_LOCK_CLASS, mentor_id), (ENTREPRENEUR_LOCK_CLASS, entrepreneur_id))):
            db.execute(select(func.pg_advisory_xact_lock(*key)))
    tries = 1
    while True:
        try:
            with db.begin_nested():
                return write()
        except OperationalError as exc:
            if tries == BOOKING_TRIES or not aborted_for_another(exc):
                raise
            tries += 1
            log.info(
                "booking write aborted to break a deadlock; trying again (%d of %d)", tries, BOOKING_TRIES
            )


def booking_refusal(exc: IntegrityError) -> Conflict | None:
    """The refusal to show when the database refused a booking (``person_busy``: a person has another
    session at that time; ``room_full``); None when ``exc`` is about something else."""
    text = str(exc.orig)
    if _ROOM_FULL in text:
        log.warning("session refused by the database: the room is full at that time")
        return Conflict("room_full", "the room is full at that time")
    if any(name in text for name in _PERSON_CLASHES):
        log.warning("session refused by the database: a person already has a session at that time")
        return Conflict("person_busy", "one of them has another session at that time")
    return None


def _notify_pair(db: Session, match: Match, kind: str, session_id: int) -> None:
    for user_id in (match.entrepreneur.user_id, match.mentor.user_id):
        if user_id:
            notifications.notify(db, user_id, kind, session_id=session_id)


def _unplaced_json(match: Match, item) -> dict:
    return {
        "match_id": match.id,
        "entrepreneur_id": item.entrepreneur_id,
        "mentor_id": item.mentor_id,
        "code": item.code,
        "reason": item.reason,
        "params": dict(item.params),
    }


# --- the weekly run -------------------------------------------------------------------------------


def weekly_candidates(db: Session, monday: dt.date) -> list[Match]:
    """The weekly job's candidates: active mentorships due in the week of ``monday``, leaving out
    every mentorship of someone who withdrew consent (UU PDP: no processing after a withdrawal)."""
    _, sunday_end = _week_bounds(week_monday(monday))
    return [
        m
        for m in db.scalars(
            select(Match)
            .where(
                Match.status == "active",
                Match.started_at < sunday_end.astimezone(dt.UTC),
                *consent.matches_in_matching(),
            )
            .order_by(Match.id)
        )
        if is_due(m, monday)
    ]


def propose_sessions_for_week(
    db: Session,
    week_start: dt.date,
    *,
    now: dt.datetime | None = None,
    time_limit: float = 8.0,
    minutes: int = SESSION_MINUTES,
) -> ProposalRun:
    """Claim the week, then propose one session to every active match due in it; flushes, never commits.

    Parameters
    ----------
    week_start
        Any day of the week; its Monday (Jakarta time) is used.
    now
        The time of the run (default: now). No session is proposed sooner than ``MIN_NOTICE``
        after it, which matters only for a week already begun.
    time_limit
        CP-SAT's deterministic-time budget (about seconds) for the whole week.
    """
    now = now or utcnow()
    monday = week_monday(week_start)
    if not _try_lock_week(db, monday):
        log.info("proposals for %s: another run holds the lock", week_label(monday))
        return ProposalRun("busy", monday)
    if not _insert_claim(db, monday, now):
        log.info("proposals for %s: already done", week_label(monday))
        return ProposalRun("already_done", monday)

    matches = weekly_candidates(db, monday)
    have = set(db.scalars(select(MentoringSession.match_id).where(MentoringSession.week_start == monday)))
    skipped = sum(1 for m in matches if m.id in have)
    matches = [m for m in matches if m.id not in have]

    by_pair: dict[tuple[str, str], Match] = {}
    ents, ments = {}, {}
    for m in matches:
        e, mt = m.entrepreneur, m.mentor
        ents[e.external_id] = to_entrepreneur(e)
        ments[mt.external_id] = to_mentor(mt)
        by_pair[(e.external_id, mt.external_id)] = m
    preferred_by_match = _preferred_times(db, [m.id for m in matches])
    preferred = {pair: preferred_by_match[m.id] for pair, m in by_pair.items() if m.id in preferred_by_match}
    busy, room_busy = _busy_maps(_booked(db, monday), monday, [*ents, *ments], now)
    rooms = [to_room(r) for r in db.scalars(select(Room).order_by(Room.id))]

    result = propose_week(
        [Pair(e, m) for e, m in by_pair],
        ents,
        ments,
        rooms,
        monday,
        minutes=minutes,
        preferred=preferred,
        busy=busy,
        room_busy=room_busy,
        time_limit=time_limit,
    )
    created: list[int] = []
    lock_rooms(db, {proposed.room_id for proposed in result.sessions if proposed.room_id})
    for proposed in result.sessions:
        match = by_pair[(proposed.entrepreneur_id, proposed.mentor_id)]
        try:
            row = _new_session(db, match, monday, proposed)
        except IntegrityError as exc:  # another transaction booked the person or the room meanwhile
            refusal = booking_refusal(exc)
            if refusal is not None:  # the caller rolls the whole run back, the claim with it
                raise refusal from exc
            raise
        created.append(row.id)
        _notify_pair(db, match, "session_proposed", row.id)
    unplaced = tuple(
        _unplaced_json(by_pair[(u.entrepreneur_id, u.mentor_id)], u)
        for u in result.unplaced
        if (u.entrepreneur_id, u.mentor_id) in by_pair
    )
    claim = db.get(JobRun, (JOB_NAME, monday))
    claim.result = {
        "week": week_label(monday),
        "due": len(matches) + skipped,
        "proposed": len(created),
        "already_scheduled": skipped,
        "unplaced": list(unplaced),
        "upper_bound": result.stats.upper_bound,
        "seconds": round(result.stats.seconds, 3),
    }
    claim.finished_at = utcnow()
    db.flush()
    log.info(
        "proposals for %s: %d sessions for %d due pairs, %d unplaced",
        week_label(monday),
        len(created),
        len(matches) + skipped,
        len(unplaced),
    )
    return ProposalRun("done", monday, tuple(created), len(matches) + skipped, unplaced, skipped)


def claim_of(db: Session, monday: dt.date) -> JobRun | None:
    """The proposal run's claim row for the week of ``monday``, if the week was proposed."""
    return db.get(JobRun, (JOB_NAME, week_monday(monday)))


def overdue_proposal_week(db: Session, now: dt.datetime | None = None) -> dt.date | None:
    """The Monday of the current week when, at ``PROPOSAL_DEADLINE`` on that Monday (Jakarta time) or
    later, the week has no finished proposal run; None while the week is proposed or not yet due."""
    local = wib(now or utcnow())
    monday = week_monday(local)
    if local < dt.datetime.combine(monday, PROPOSAL_DEADLINE, tzinfo=WIB):
        return None
    claim = claim_of(db, monday)
    return monday if claim is None or claim.finished_at is None else None


# --- the people's answers -------------------------------------------------------------------------


def _own_session(db: Session, user: User, session_id: int) -> tuple[MentoringSession, Match, str]:
    """The session with the side ``user`` is on; ``NotFound`` when it is not theirs."""
    row = db.get(MentoringSession, session_id)
    if row is None:
        raise NotFound("session_not_found", "no such session")
    match = row.match
    if match.entrepreneur.user_id == user.id:
        return row, match, "entrepreneur"
    if match.mentor.user_id == user.id:
        return row, match, "mentor"
    raise NotFound("session_not_found", "no such session")


def _guarded(db: Session, session_id: int, states: tuple[str, ...], **values) -> bool:
    result = db.execute(
        update(MentoringSession)
        .where(MentoringSession.id == session_id, MentoringSession.status.in_(states))
        .values(**values)
        .execution_options(synchronize_session="fetch")
    )
    return result.rowcount == 1


def _refresh(db: Session, row: MentoringSession) -> MentoringSession:
    db.expire(row)
    db.refresh(row)
    return row


def _audit(
    db: Session, actor_id: int | None, action: str, session_id: int, *, before=None, after=None, note=None
):
    db.add(
        AuditLog(
            actor_id=actor_id,
            action=action,
            object_type="mentoring_session",
            object_id=str(session_id),
            before=before,
            after=after,
            note=note,
        )
    )


def confirm(db: Session, user: User, session_id: int) -> MentoringSession:
    """One participant confirms; the session is ``confirmed`` once both have."""
    row, _match, side = _own_session(db, user, session_id)
    flag = (
        MentoringSession.entrepreneur_confirmed
        if side == "entrepreneur"
        else MentoringSession.mentor_confirmed
    )
    if not _guarded(db, row.id, OPEN_STATES, **{flag.key: True}):
        _refresh(db, row)
        raise Conflict("session_not_open", f"this session is already {row.status}", status=row.status)
    db.execute(
        update(MentoringSession)
        .where(
            MentoringSession.id == row.id,
            MentoringSession.status == "proposed",
            MentoringSession.entrepreneur_confirmed.is_(True),
            MentoringSession.mentor_confirmed.is_(True),
        )
        .values(status="confirmed")
        .execution_options(synchronize_session="fetch")
    )
    return _refresh(db, row)


def decline(db: Session, user: User, session_id: int, note: str | None = None) -> MentoringSession:
    """One participant declines the session (with an optional note, kept in the audit log)."""
    row, _match, side = _own_session(db, user, session_id)
    if not _guarded(db, row.id, OPEN_STATES, status="declined"):
        _refresh(db, row)
        raise Conflict("session_not_open", f"this session is already {row.status}", status=row.status)
    note = (note or "").strip()[:1000] or None
    _audit(db, user.id, "session.decline", row.id, after={"by": side, "reason": "declined"}, note=note)
    return _refresh(db, row)


@dataclass(frozen=True)
class Rescheduled:
    """The outcome of asking for another time: the session, and why it was declined if nothing fit."""

    session: MentoringSession
    moved: bool
    code: str | None = None
    reason: str | None = None


def ask_another_time(
    db: Session, user: User, session_id: int, *, now: dt.datetime | None = None, time_limit: float = 2.0
) -> Rescheduled:
    """Propose another time in the same week (never a start already offered for this session, never
    over either person's other sessions); when nothing fits, the session is declined with the reason."""
    now = now or utcnow()
    row, match, side = _own_session(db, user, session_id)
    if row.status not in OPEN_STATES:
        raise Conflict("session_not_open", f"this session is already {row.status}", status=row.status)
    monday = row.week_start
    e, mt = match.entrepreneur, match.mentor
    offered = {wib(row.starts_at)}
    for (before,) in db.execute(
        select(AuditLog.before).where(
            AuditLog.object_type == "mentoring_session",
            AuditLog.object_id == str(row.id),
            AuditLog.action.in_(("session.another_time", "session.move")),
        )
    ):
        if before and before.get("starts_at"):
            offered.add(wib(dt.datetime.fromisoformat(before["starts_at"])))
    busy, room_busy = _busy_maps(
        _booked(db, monday, exclude_session=row.id), monday, [e.external_id, mt.external_id], now
    )
    result = propose_week(
        [Pair(e.external_id, mt.external_id)],
        {e.external_id: to_entrepreneur(e)},
        {mt.external_id: to_mentor(mt)},
        [to_room(r) for r in db.scalars(select(Room).order_by(Room.id))],
        monday,
        minutes=int((row.ends_at - row.starts_at).total_seconds() // 60),
        busy=busy,
        room_busy=room_busy,
        exclude={(e.external_id, mt.external_id): sorted(offered)},
        time_limit=time_limit,
    )
    before = _snapshot(row)
    if not result.sessions:
        item = result.unplaced[0]
        if not _guarded(db, row.id, OPEN_STATES, status="declined"):
            raise Conflict("session_not_open", "this session was answered meanwhile")
        _audit(
            db, user.id, "session.another_time", row.id, before=before,
            after={"by": side, "status": "declined", "reason": item.code, "params": dict(item.params)},
            note=item.reason,
        )  # fmt: skip
        return Rescheduled(_refresh(db, row), False, item.code, item.reason)
    new = result.sessions[0]
    values = {
        "starts_at": new.start.astimezone(dt.UTC),
        "ends_at": new.end.astimezone(dt.UTC),
        "mode": new.mode,
        "room_id": new.room_id,
        "video_url": (row.video_url or new_video_url()) if new.mode == "online" else None,
        "status": "proposed",
        "entrepreneur_confirmed": side == "entrepreneur",
        "mentor_confirmed": side == "mentor",
    }
    try:
        ok = write_booking(
            db,
            lambda: _guarded(db, row.id, OPEN_STATES, **values),
            mentor_id=match.mentor_id,
            entrepreneur_id=match.entrepreneur_id,
        )
    except IntegrityError as exc:  # another transaction booked one of them, or the room, meanwhile
        refusal = booking_refusal(exc)
        if refusal is not None:
            raise refusal from None
        raise
    if not ok:
        raise Conflict("session_not_open", "this session was answered meanwhile")
    _refresh(db, row)
    _audit(db, user.id, "session.another_time", row.id, before=before, after=_snapshot(row))
    _notify_pair(db, match, "session_proposed", row.id)
    return Rescheduled(row, True)


def _snapshot(row: MentoringSession) -> dict:
    return {
        "starts_at": wib(row.starts_at).isoformat(),
        "ends_at": wib(row.ends_at).isoformat(),
        "mode": row.mode,
        "room_id": row.room_id,
        "status": row.status,
    }


# --- staff -----------------------------------------------------------------------------------------


def _overlapping(db: Session, start: dt.datetime, end: dt.datetime, exclude_id: int):
    return (
        select(MentoringSession)
        .join(Match, Match.id == MentoringSession.match_id)
        .where(
            MentoringSession.id != exclude_id,
            MentoringSession.status.in_(BOOKED_STATES),
            MentoringSession.starts_at < end.astimezone(dt.UTC),
            MentoringSession.ends_at > start.astimezone(dt.UTC),
        )
    )


def room_open(windows: Iterable, start: dt.datetime, end: dt.datetime) -> bool:
    """Whether a session from ``start`` to ``end`` lies inside one of a room's weekly opening
    ``windows`` (``matching.profiles.Window``, Jakarta time)."""
    start, end = wib(start), wib(end)
    minute = start.hour * 60 + start.minute
    return end.date() == start.date() and any(
        w.day == start.weekday() and w.start <= minute and minute + (end - start).seconds // 60 <= w.end
        for w in windows
    )


def move_session(
    db: Session, staff_id: int, session_id: int, new_start: dt.datetime, room_id: str | None
) -> MentoringSession:
    """Staff move a session to ``new_start`` (naive = Jakarta time), in a room or online.

    Refused (``InvalidInput``) when the room is unknown, closed then or full, when a person's mode
    does not allow the place, or when either person has another session at that time; the length is
    kept, confirmations are reset, and both people are told.
    """
    row = db.get(MentoringSession, session_id)
    if row is None:
        raise NotFound("session_not_found", "no such session")
    if row.status not in (*OPEN_STATES, "declined"):
        raise Conflict("session_not_open", f"this session is already {row.status}", status=row.status)
    match = row.match
    start = wib(new_start)
    end = start + (row.ends_at - row.starts_at)
    modes = {match.entrepreneur.mode, match.mentor.mode}
    if room_id:
        room = db.get(Room, room_id)
        if room is None:
            raise InvalidInput("room_not_found", "no such room")
        if "online" in modes:
            raise InvalidInput("mode_online_only", "one of them meets only online")
        if room.capacity < 1:
            raise InvalidInput("room_closed", "this room takes no sessions")
        if not room_open(parse_availability(room.availability or "") or (), start, end):
            raise InvalidInput("room_closed", "the room is not open at that time")
        in_room = db.scalar(
            select(func.count()).select_from(
                _overlapping(db, start, end, row.id).where(MentoringSession.room_id == room_id).subquery()
            )
        )
        if in_room >= room.capacity:
            raise InvalidInput("room_full", "the room is full at that time")
    elif "offline" in modes:
        raise InvalidInput("mode_offline_only", "one of them meets only in person")
    clash = db.scalar(
        _overlapping(db, start, end, row.id)
        .where(
            or_(
                Match.entrepreneur_id == match.entrepreneur_id,
                Match.mentor_id == match.mentor_id,
            )
        )
        .limit(1)
    )
    if clash is not None:
        raise InvalidInput("person_busy", "one of them has another session at that time")
    before = _snapshot(row)
    values = {
        "week_start": week_monday(start),
        "starts_at": start.astimezone(dt.UTC),
        "ends_at": end.astimezone(dt.UTC),
        "mode": "offline" if room_id else "online",
        "room_id": room_id or None,
        "video_url": None if room_id else (row.video_url or new_video_url()),
        "status": "proposed",
        "entrepreneur_confirmed": False,
        "mentor_confirmed": False,
    }
    try:
        ok = write_booking(
            db,
            lambda: _guarded(db, row.id, (*OPEN_STATES, "declined"), **values),
            mentor_id=match.mentor_id,
            entrepreneur_id=match.entrepreneur_id,
        )
    except IntegrityError as exc:
        refusal = booking_refusal(exc)  # booked by another transaction after the checks above
        if refusal is not None:
            raise refusal from None
        raise Conflict("week_taken", "this pair already has a session in that week") from None
    if not ok:
        raise Conflict("session_not_open", "this session changed meanwhile")
    _refresh(db, row)
    _audit(db, staff_id, "session.move", row.id, before=before, after=_snapshot(row))
    _notify_pair(db, match, "session_proposed", row.id)
    return row


# --- feedback and history -------------------------------------------------------------------------


def record_feedback(
    db: Session,
    user: User,
    session_id: int,
    happened: bool,
    rating: int | None,
    areas: Iterable[str] = (),
    note: str | None = None,
    *,
    now: dt.datetime | None = None,
) -> SessionFeedback:
    """A participant says how the session went; ``happened=False`` reports a no-show.

    The session becomes ``missed`` when anyone reports it did not happen, else ``held``.
    """
    now = now or utcnow()
    row, _match, _side = _own_session(db, user, session_id)
    if row.status in ("declined", "cancelled"):
        raise Conflict("session_not_held", f"this session was {row.status}", status=row.status)
    if row.starts_at > now:
        raise Conflict("session_not_started", "feedback opens when the session has started")
    if rating is not None and not 1 <= int(rating) <= 5:
        raise InvalidInput("bad_rating", "rating must be 1 to 5")
    known = reference.support_areas()
    areas = list(dict.fromkeys(areas))
    unknown = [a for a in areas if a not in known]
    if unknown:
        raise InvalidInput("bad_area", f"unknown support areas: {', '.join(unknown)}")
    feedback = SessionFeedback(
        session_id=row.id,
        author_id=user.id,
        happened=bool(happened),
        rating=int(rating) if rating is not None and happened else None,
        areas=areas if happened else [],
        note=(note or "").strip()[:2000] or None,
        created_at=now,
    )
    db.flush()  # begin_nested() flushes pending rows first: keep only the feedback inside the savepoint
    try:
        with db.begin_nested():
            db.add(feedback)
            db.flush()
    except IntegrityError:
        raise Conflict("feedback_exists", "you have already given feedback on this session") from None
    missed = db.scalar(
        select(func.count())
        .select_from(SessionFeedback)
        .where(SessionFeedback.session_id == row.id, SessionFeedback.happened.is_(False))
    )
    _guarded(db, row.id, (*OPEN_STATES, "held", "missed"), status="missed" if missed else "held")
    _refresh(db, row)
    return feedback


def _entrepreneur_ratings(db: Session) -> dict[tuple[str, str], list[int]]:
    """Per (entrepreneur, mentor) external ids: the entrepreneur's session ratings in session order,
    a session they report did not happen counting as 1."""
    rows = db.execute(
        select(Entrepreneur.external_id, Mentor.external_id, SessionFeedback.happened, SessionFeedback.rating)
        .join(MentoringSession, MentoringSession.id == SessionFeedback.session_id)
        .join(Match, Match.id == MentoringSession.match_id)
        .join(Entrepreneur, Entrepreneur.id == Match.entrepreneur_id)
        .join(Mentor, Mentor.id == Match.mentor_id)
        .where(SessionFeedback.author_id == Entrepreneur.user_id)
        .order_by(MentoringSession.starts_at)
    )
    out: dict[tuple[str, str], list[int]] = defaultdict(list)
    for e, m, happened, rating in rows:
        if not happened:
            out[(e, m)].append(1)
        elif rating is not None:
            out[(e, m)].append(rating)
    return dict(out)


def session_history(db: Session) -> list[HistoryRecord]:
    """Session feedback as the model's history: one ``completed`` record per pair whose entrepreneur
    rated sessions, with the rounded mean rating (a session they say did not happen counts 1)."""
    return [
        HistoryRecord(e, m, "completed", max(1, min(5, round(sum(r) / len(r)))))
        for (e, m), r in sorted(_entrepreneur_ratings(db).items())
    ]


def with_session_history(records: list[HistoryRecord], db: Session) -> list[HistoryRecord]:
    """``records`` (from requests and matches) with session feedback folded in: a pair's ``accepted``
    record becomes ``completed`` with its session rating; a pair with an overall match rating keeps
    it; pairs without a request record are added."""
    by_pair = {(h.entrepreneur_id, h.mentor_id): h for h in session_history(db)}
    out: list[HistoryRecord] = []
    for h in records:
        pair = (h.entrepreneur_id, h.mentor_id)
        if pair in by_pair and h.outcome != "declined":
            session_record = by_pair.pop(pair)
            out.append(h if h.outcome == "completed" and h.rating is not None else session_record)
        else:
            out.append(h)
    out.extend(by_pair.values())
    return out


@dataclass(frozen=True)
class FlaggedPair:
    """An active pair staff should look at, and why (``low_ratings`` or ``rating_drop``)."""

    match_id: int
    entrepreneur: str
    mentor: str
    author_role: str
    code: str
    ratings: tuple[int, ...]
    #: The profiles of the pair (for the access log of the page that shows them).
    entrepreneur_id: int
    mentor_id: int


def flagged_pairs(db: Session) -> list[FlaggedPair]:
    """Active pairs whose recent session ratings (by either person) are low or fell sharply."""
    rows = db.execute(
        select(Match, SessionFeedback.author_id, SessionFeedback.rating)
        .join(MentoringSession, MentoringSession.match_id == Match.id)
        .join(SessionFeedback, SessionFeedback.session_id == MentoringSession.id)
        .where(Match.status == "active", SessionFeedback.rating.is_not(None))
        .order_by(Match.id, MentoringSession.starts_at)
    )
    series: dict[tuple[int, int], list[int]] = defaultdict(list)
    matches: dict[int, Match] = {}
    for match, author_id, rating in rows:
        matches[match.id] = match
        series[(match.id, author_id)].append(rating)
    out: list[FlaggedPair] = []
    for (match_id, author_id), ratings in series.items():
        match = matches[match_id]
        role = "entrepreneur" if author_id == match.entrepreneur.user_id else "mentor"
        last = ratings[-FLAG_LAST:]
        code = None
        if len(ratings) >= 2 and ratings[-2] - ratings[-1] >= FLAG_DROP:
            code = "rating_drop"
        elif len(last) >= 2 and sum(last) / len(last) < FLAG_MEAN:
            code = "low_ratings"
        if code:
            out.append(
                FlaggedPair(
                    match_id,
                    match.entrepreneur.name,
                    match.mentor.name,
                    role,
                    code,
                    tuple(last),
                    entrepreneur_id=match.entrepreneur_id,
                    mentor_id=match.mentor_id,
                )
            )
    return out


# --- what people and staff see --------------------------------------------------------------------


def sessions_of(db: Session, user: User, *, since: dt.datetime | None = None) -> list[MentoringSession]:
    """The user's sessions (as entrepreneur or mentor) starting after ``since``, soonest first."""
    stmt = (
        select(MentoringSession)
        .join(Match, Match.id == MentoringSession.match_id)
        .join(Entrepreneur, Entrepreneur.id == Match.entrepreneur_id)
        .join(Mentor, Mentor.id == Match.mentor_id)
        .where(or_(Entrepreneur.user_id == user.id, Mentor.user_id == user.id))
        .order_by(MentoringSession.starts_at)
    )
    if since is not None:
        stmt = stmt.where(MentoringSession.starts_at >= since)
    return list(db.scalars(stmt))


def session_for(db: Session, user: User, session_id: int) -> tuple[MentoringSession, str]:
    """A session of ``user`` and their side in it; ``NotFound`` for anyone else's."""
    row, _match, side = _own_session(db, user, session_id)
    return row, side


def feedback_of(db: Session, user: User, session_ids: Iterable[int]) -> set[int]:
    """Which of ``session_ids`` the user has already given feedback on."""
    ids = list(session_ids)
    if not ids:
        return set()
    return set(
        db.scalars(
            select(SessionFeedback.session_id).where(
                SessionFeedback.author_id == user.id, SessionFeedback.session_id.in_(ids)
            )
        )
    )


@dataclass
class WeekOverview:
    """One week for staff: its sessions by status, the unplaced pairs with reasons, and the run."""

    week_start: dt.date
    sessions: dict[str, list[MentoringSession]] = field(default_factory=dict)
    unplaced: list[dict] = field(default_factory=list)
    declined_reasons: dict[int, dict] = field(default_factory=dict)
    run: JobRun | None = None

    @property
    def label(self) -> str:
        """The ISO week, like ``2026-W49``."""
        return week_label(self.week_start)


def week_overview(db: Session, week_start: dt.date) -> WeekOverview:
    """The week's sessions grouped by status, the unplaced pairs (with reason codes) and the claim."""
    monday = week_monday(week_start)
    out = WeekOverview(
        monday, {s: [] for s in ("proposed", "confirmed", "declined", "held", "missed", "cancelled")}
    )
    rows = db.scalars(
        select(MentoringSession)
        .where(MentoringSession.week_start == monday)
        .order_by(MentoringSession.starts_at)
    )
    for row in rows:
        out.sessions.setdefault(row.status, []).append(row)
    declined_ids = [str(r.id) for r in out.sessions.get("declined", [])]
    if declined_ids:
        for object_id, after, note in db.execute(
            select(AuditLog.object_id, AuditLog.after, AuditLog.note)
            .where(
                AuditLog.object_type == "mentoring_session",
                AuditLog.object_id.in_(declined_ids),
                AuditLog.action.in_(("session.decline", "session.another_time")),
            )
            .order_by(AuditLog.at)
        ):
            if after and after.get("status", "declined") == "declined":
                out.declined_reasons[int(object_id)] = {**after, "note": note}
    out.run = claim_of(db, monday)
    if out.run is not None:
        scheduled = {r.match_id for rows in out.sessions.values() for r in rows}
        out.unplaced = [
            u for u in (out.run.result or {}).get("unplaced", []) if u["match_id"] not in scheduled
        ]
    return out


def reason_text(code: str, params: dict) -> str:
    """The English phrasing of an unplaced reason code (for logs and the CLI)."""
    try:
        return REASONS[code].format(**params)
    except (KeyError, IndexError):
        return code


# --- reminders ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reminder:
    """A reminder due now: to ``user_id``, of ``kind``, about ``session_id``."""

    user_id: int
    kind: str
    session_id: int


def due_reminders(db: Session, now: dt.datetime | None = None) -> list[Reminder]:
    """Reminders whose time has come and that were not queued before (see the module docstring)."""
    now = now or utcnow()
    local = wib(now)
    upcoming = db.scalars(
        select(MentoringSession).where(
            MentoringSession.status.in_(OPEN_STATES),
            MentoringSession.starts_at > now,
            MentoringSession.starts_at <= now + REMINDER_LEAD,
        )
    ).all()
    past = db.scalars(
        select(MentoringSession).where(
            MentoringSession.status.in_((*OPEN_STATES, "held", "missed")),
            MentoringSession.starts_at < now,
            MentoringSession.starts_at >= now - FEEDBACK_WINDOW - dt.timedelta(days=2),
        )
    ).all()
    candidates: list[Reminder] = []
    for kind, rows in (("session_reminder", upcoming), ("session_feedback", past)):
        for row in rows:
            if kind == "session_feedback":
                morning = dt.datetime.combine(
                    wib(row.starts_at).date() + dt.timedelta(days=1), dt.time(FEEDBACK_HOUR), tzinfo=WIB
                )
                if not morning <= local < morning + FEEDBACK_WINDOW:
                    continue
            for user_id in (row.match.entrepreneur.user_id, row.match.mentor.user_id):
                if user_id:
                    candidates.append(Reminder(user_id, kind, row.id))
    if not candidates:
        return []
    ids = sorted({c.session_id for c in candidates})
    session_key = Notification.payload["session_id"].as_integer()
    sent = set(
        db.execute(
            select(Notification.user_id, Notification.kind, session_key).where(
                Notification.kind.in_(("session_reminder", "session_feedback")), session_key.in_(ids)
            )
        ).all()
    )
    answered = set(
        db.execute(
            select(SessionFeedback.author_id, SessionFeedback.session_id).where(
                SessionFeedback.session_id.in_(ids)
            )
        ).all()
    )
    return [
        c
        for c in candidates
        if (c.user_id, c.kind, c.session_id) not in sent
        and not (c.kind == "session_feedback" and (c.user_id, c.session_id) in answered)
    ]


def queue_reminders(db: Session, now: dt.datetime | None = None) -> int:
    """Queue every due reminder in the outbox (flushes; the caller commits); returns how many."""
    queued = 0
    for reminder in due_reminders(db, now):
        if notifications.notify(db, reminder.user_id, reminder.kind, session_id=reminder.session_id):
            queued += 1
    return queued
