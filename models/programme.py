"""The programme's moving parts: requests and matches with their history, cohort runs, rooms,
sessions and feedback, 7 PAS progress, the job-run claims, the audit log and the notification outbox."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    or_,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import ExcludeConstraint
from sqlalchemy.engine.default import DefaultExecutionContext
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, UTCDateTime, utcnow
from models.people import Entrepreneur, Mentor

#: Request states that still wait for someone (staff for a draft, the mentor for a pending one).
OPEN_REQUEST_STATES = ("draft", "pending")
REQUEST_STATES = ("draft", "rejected", "pending", "accepted", "declined", "withdrawn", "expired", "closed")
MATCH_STATES = ("active", "ended", "completed")
SESSION_STATES = ("proposed", "confirmed", "declined", "cancelled", "held", "missed")
#: Session states that hold the people's time (and a room's place): a person's such sessions never
#: overlap, and a room never holds more of them at once than its capacity.
BOOKED_SESSION_STATES = ("proposed", "confirmed", "held")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Room(Base):
    """A meeting room at a kecamatan entrepreneurship centre; ``capacity`` sessions at once."""

    __tablename__ = "room"
    __table_args__ = (CheckConstraint("capacity >= 0", name="capacity_nonnegative"),)
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    kecamatan_code: Mapped[str] = mapped_column(ForeignKey("kecamatan.code"), index=True)
    name: Mapped[str] = mapped_column(String(160))
    address: Mapped[str | None] = mapped_column(String(255))
    capacity: Mapped[int] = mapped_column(Integer, default=1)
    #: Opening hours in the contract's weekly-window form.
    availability: Mapped[str] = mapped_column(Text)


class CohortRun(Base):
    """One run of cohort matching by staff: its filters and the assignment report."""

    __tablename__ = "cohort_run"
    id: Mapped[int] = mapped_column(primary_key=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    filters: Mapped[dict] = mapped_column(JSON, default=dict)
    report: Mapped[dict] = mapped_column(JSON, default=dict)


class MatchRequest(Base):
    """A proposed pairing: an entrepreneur's request to a mentor, or a staff-reviewed cohort proposal.

    States: ``draft`` (cohort proposal awaiting staff review), ``rejected`` (by staff),
    ``pending`` (waiting for the mentor), then ``accepted``, ``declined``, ``withdrawn``,
    ``expired`` (no answer in time) or ``closed`` (another request of the entrepreneur was accepted).
    """

    __tablename__ = "match_request"
    __table_args__ = (
        CheckConstraint(_in("status", REQUEST_STATES), name="status"),
        CheckConstraint("origin IN ('entrepreneur', 'cohort')", name="origin"),
        Index(
            "uq_match_request_open_pair",
            "entrepreneur_id",
            "mentor_id",
            unique=True,
            sqlite_where=text("status IN ('draft', 'pending')"),
            postgresql_where=text("status IN ('draft', 'pending')"),
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    entrepreneur_id: Mapped[int] = mapped_column(ForeignKey("entrepreneur.id"), index=True)
    mentor_id: Mapped[int] = mapped_column(ForeignKey("mentor.id"), index=True)
    origin: Mapped[str] = mapped_column(String(12), default="entrepreneur")
    status: Mapped[str] = mapped_column(String(12), default="pending")
    cohort_run_id: Mapped[int | None] = mapped_column(ForeignKey("cohort_run.id"), index=True)
    score: Mapped[float | None] = mapped_column(Float)
    #: The explanation shown with the suggestion: a list of {code, params, weight, id, en}.
    reasons: Mapped[list] = mapped_column(JSON, default=list)
    message: Mapped[str | None] = mapped_column(Text)
    response_reason: Mapped[str | None] = mapped_column(String(40))
    response_note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    responded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)

    entrepreneur: Mapped[Entrepreneur] = relationship()
    mentor: Mapped[Mentor] = relationship()

    __mapper_args__ = {"version_id_col": version}

    @hybrid_property
    def reached_its_people(self) -> bool:
        """An entrepreneur's own request, or a cohort proposal staff sent. A proposal never sent (a
        draft, rejected, or closed or dropped before review) does not exist for its people."""
        return self.origin != "cohort" or self.sent_at is not None

    @reached_its_people.inplace.expression
    @classmethod
    def _reached_its_people(cls):
        return or_(cls.origin != "cohort", cls.sent_at.is_not(None))


class Match(Base):
    """An active or past mentorship between one entrepreneur and one mentor."""

    __tablename__ = "mentor_match"
    __table_args__ = (
        CheckConstraint(_in("status", MATCH_STATES), name="status"),
        CheckConstraint("cadence IN ('weekly', 'fortnightly')", name="cadence"),
        CheckConstraint("rating IS NULL OR rating BETWEEN 1 AND 5", name="rating"),
        Index(
            "uq_mentor_match_one_active",
            "entrepreneur_id",
            unique=True,
            sqlite_where=text("status = 'active'"),
            postgresql_where=text("status = 'active'"),
        ),
        # Redundant with the primary key; it lets a session refer to (match, entrepreneur, mentor).
        Index("uq_mentor_match_id_people", "id", "entrepreneur_id", "mentor_id", unique=True),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    entrepreneur_id: Mapped[int] = mapped_column(ForeignKey("entrepreneur.id"), index=True)
    mentor_id: Mapped[int] = mapped_column(ForeignKey("mentor.id"), index=True)
    request_id: Mapped[int | None] = mapped_column(ForeignKey("match_request.id"), unique=True)
    status: Mapped[str] = mapped_column(String(10), default="active")
    cadence: Mapped[str] = mapped_column(String(12), default="weekly")
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    end_reason: Mapped[str | None] = mapped_column(String(40))
    end_note: Mapped[str | None] = mapped_column(Text)
    #: The entrepreneur's overall rating of a completed mentorship (1-5).
    rating: Mapped[int | None] = mapped_column(Integer)

    entrepreneur: Mapped[Entrepreneur] = relationship()
    mentor: Mapped[Mentor] = relationship()


class StatusChange(Base):
    """One step in the life of a request or a match: from which state to which, by whom, why."""

    __tablename__ = "status_change"
    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int | None] = mapped_column(ForeignKey("match_request.id"), index=True)
    match_id: Mapped[int | None] = mapped_column(ForeignKey("mentor_match.id"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(12))
    to_status: Mapped[str] = mapped_column(String(12))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    note: Mapped[str | None] = mapped_column(Text)


def _of_the_match(column: str):
    """An insert default: the session's match's ``column`` (for rows made without it)."""

    def default(context: DefaultExecutionContext) -> int:
        match_id = context.get_current_parameters()["match_id"]
        return context.connection.execute(
            select(Match.__table__.c[column]).where(Match.__table__.c.id == match_id)
        ).scalar_one()

    return default


def _booked_slot(name: str, person: str) -> Index:
    booked = text(_in("status", BOOKED_SESSION_STATES))
    return Index(name, person, "starts_at", unique=True, sqlite_where=booked, postgresql_where=booked)


def _no_overlap(person: str) -> ExcludeConstraint:
    """PostgreSQL only: a person's booked intervals ``[starts_at, ends_at)`` never overlap."""
    return ExcludeConstraint(
        (person, "="),
        (text("tstzrange(starts_at, ends_at)"), "&&"),
        name=f"ex_mentoring_session_{person.removesuffix('_id')}_overlap",
        using="gist",
        where=text(_in("status", BOOKED_SESSION_STATES)),
    ).ddl_if(dialect="postgresql")


class MentoringSession(Base):
    """One proposed or held meeting of a match in a given ISO week (at most one per week).

    ``entrepreneur_id`` and ``mentor_id`` copy the match's people (a foreign key to the match's
    ``(id, entrepreneur_id, mentor_id)`` keeps them equal), so that the database itself refuses
    booked sessions of a person that overlap; rows made without them get the match's values at
    insert. Migration 0008 holds the rules: on PostgreSQL the exclusion constraints below (with
    ``btree_gist``), on SQLite triggers with the same names in their messages; on both a trigger
    refuses a booked session that would put more booked sessions in a room at some moment than its
    ``capacity`` (``mentoring_session_room_full``). Triggers have no place in the metadata: the
    schema is made by the migrations, also in tests, never by ``create_all``.
    """

    __tablename__ = "mentoring_session"
    __table_args__ = (
        UniqueConstraint("match_id", "week_start"),
        CheckConstraint(_in("status", SESSION_STATES), name="status"),
        CheckConstraint("mode IN ('offline', 'online')", name="mode"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        ForeignKeyConstraint(
            ["match_id", "entrepreneur_id", "mentor_id"],
            ["mentor_match.id", "mentor_match.entrepreneur_id", "mentor_match.mentor_id"],
            name="fk_mentoring_session_match_people",
        ),
        _booked_slot("uq_mentoring_session_mentor_start", "mentor_id"),
        _booked_slot("uq_mentoring_session_entrepreneur_start", "entrepreneur_id"),
        _no_overlap("mentor_id"),
        _no_overlap("entrepreneur_id"),
        Index(
            "ix_mentoring_session_room_start",
            "room_id",
            "starts_at",
            sqlite_where=text(_in("status", BOOKED_SESSION_STATES)),
            postgresql_where=text(_in("status", BOOKED_SESSION_STATES)),
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    match_id: Mapped[int] = mapped_column(ForeignKey("mentor_match.id"), index=True)
    entrepreneur_id: Mapped[int] = mapped_column(Integer, default=_of_the_match("entrepreneur_id"))
    mentor_id: Mapped[int] = mapped_column(Integer, default=_of_the_match("mentor_id"))
    #: Monday of the ISO week, in Jakarta time.
    week_start: Mapped[dt.date] = mapped_column(Date, index=True)
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    mode: Mapped[str] = mapped_column(String(10))
    room_id: Mapped[str | None] = mapped_column(ForeignKey("room.id"))
    video_url: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(12), default="proposed")
    entrepreneur_confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    mentor_confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    match: Mapped[Match] = relationship(foreign_keys=[match_id])


class SessionFeedback(Base):
    """What one participant says after a session: did it happen, a rating, what was worked on."""

    __tablename__ = "session_feedback"
    __table_args__ = (
        UniqueConstraint("session_id", "author_id"),
        CheckConstraint("rating IS NULL OR rating BETWEEN 1 AND 5", name="rating"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("mentoring_session.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    happened: Mapped[bool] = mapped_column(Boolean)
    rating: Mapped[int | None] = mapped_column(Integer)
    areas: Mapped[list[str]] = mapped_column(JSON, default=list)
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class PasProgress(Base):
    """A 7 PAS step an entrepreneur has reached, with its date and who recorded it."""

    __tablename__ = "pas_progress"
    __table_args__ = (UniqueConstraint("entrepreneur_id", "step_code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    entrepreneur_id: Mapped[int] = mapped_column(ForeignKey("entrepreneur.id"), index=True)
    step_code: Mapped[str] = mapped_column(ForeignKey("pas_step.code"))
    achieved_on: Mapped[dt.date] = mapped_column(Date)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    note: Mapped[str | None] = mapped_column(Text)


class JobRun(Base):
    """The claim a periodic job makes on its period: at most one run per (job, period)."""

    __tablename__ = "job_run"
    job: Mapped[str] = mapped_column(String(40), primary_key=True)
    period_start: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    result: Mapped[dict] = mapped_column(JSON, default=dict)


class AuditLog(Base):
    """Who did what to which record, when, with the values before and after."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    action: Mapped[str] = mapped_column(String(60), index=True)
    object_type: Mapped[str | None] = mapped_column(String(40))
    object_id: Mapped[str | None] = mapped_column(String(64))
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)
    note: Mapped[str | None] = mapped_column(Text)


class Notification(Base):
    """An outbox row: a message to a person, kept until it is delivered."""

    __tablename__ = "notification"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    locale: Mapped[str] = mapped_column(String(5), default="id")
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
