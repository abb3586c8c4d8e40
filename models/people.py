"""People: user accounts with a role, entrepreneur profiles and mentor profiles."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import JSON, Boolean, CheckConstraint, Enum, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, UTCDateTime, utcnow


class Role(enum.StrEnum):
    """What a user is in the programme; decides what they may see and do."""

    ENTREPRENEUR = "entrepreneur"
    MENTOR = "mentor"
    STAFF = "staff"
    ADMIN = "admin"


class User(Base):
    """A person who logs in. Profiles hang off it; staff and admins have none."""

    __tablename__ = "user_account"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(Enum(Role, native_enum=False, length=20, validate_strings=True))
    locale: Mapped[str] = mapped_column(String(5), default="id")
    phone: Mapped[str | None] = mapped_column(String(20))
    share_phone: Mapped[bool] = mapped_column(Boolean, default=False)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Bumped at logout-everywhere, password change and deletion: old session cookies stop working.
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    #: The consent record (UU PDP): when consent was given, to which notice version, for which
    #: purposes and through which channel. NULL for accounts made by staff or the CLI.
    privacy_notice_version: Mapped[str | None] = mapped_column(String(20))
    privacy_consent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    privacy_consent_purposes: Mapped[list[str] | None] = mapped_column(JSON)
    privacy_consent_channel: Mapped[str | None] = mapped_column(String(20))
    #: Set when the person withdraws consent: from then on they are left out of all matching
    #: (suggestions, cohort runs, the weekly sessions); cleared when consent is given again.
    consent_withdrawn_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: Set when the person objects to automated proposals (UU PDP Pasal 10): cohort runs no longer
    #: propose them, while they stay in the programme (suggestions, their own requests, sessions);
    #: cleared when they withdraw the objection.
    automated_proposals_objected_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: When the person confirmed at registration that they are 18 or older (no birth date is kept).
    adult_confirmed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: Failed logins since the last success, and when the account may try again (a database floor
    #: under the shared rate limiter: it holds even when Redis is down).
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    login_blocked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: SHA-256 of the secret in the person's private calendar feed URL; NULL when revoked.
    calendar_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    deleted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    entrepreneur: Mapped[Entrepreneur | None] = relationship(back_populates="user", uselist=False)
    mentor: Mapped[Mentor | None] = relationship(back_populates="user", uselist=False)


class Entrepreneur(Base):
    """An entrepreneur's business profile: what they do, where, and what help they need."""

    __tablename__ = "entrepreneur"
    __table_args__ = (
        CheckConstraint("mode IN ('offline', 'online', 'either')", name="mode"),
        CheckConstraint("gender IS NULL OR gender IN ('f', 'm')", name="gender"),
        CheckConstraint(
            "prefers_mentor_gender IS NULL OR prefers_mentor_gender IN ('f', 'm')",
            name="prefers_mentor_gender",
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The id used in the programme's spreadsheets (the CSV ``id`` column); re-imports update by it.
    external_id: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    business_name: Mapped[str | None] = mapped_column(String(160))
    sector_code: Mapped[str] = mapped_column(ForeignKey("sector.code"), index=True)
    kbli: Mapped[str | None] = mapped_column(String(5))
    stage_code: Mapped[str] = mapped_column(ForeignKey("stage.code"))
    kecamatan_code: Mapped[str] = mapped_column(ForeignKey("kecamatan.code"), index=True)
    kelurahan_code: Mapped[str | None] = mapped_column(ForeignKey("kelurahan.code"))
    needs: Mapped[list[str]] = mapped_column(JSON, default=list)
    languages: Mapped[list[str]] = mapped_column(JSON, default=lambda: ["id"])
    mode: Mapped[str] = mapped_column(String(10), default="either")
    #: Weekly windows in the contract's text form; NULL means the default week (Mon-Sat 08-21).
    availability: Mapped[str | None] = mapped_column(Text)
    gender: Mapped[str | None] = mapped_column(String(1))
    prefers_mentor_gender: Mapped[str | None] = mapped_column(String(1))
    bio: Mapped[str] = mapped_column(Text, default="")
    profile_complete: Mapped[bool] = mapped_column(Boolean, default=True)
    #: Set when staff record the member's objection to automated proposals, received outside the
    #: app (a letter, a call, at the centre): for members without an account, who cannot record it
    #: themselves (``User.automated_proposals_objected_at``). Cleared when staff record it withdrawn.
    automated_proposals_objected_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    user: Mapped[User | None] = relationship(back_populates="entrepreneur")


class Mentor(Base):
    """A mentor's profile: what they know, whom they take, how many at once, and when they are free.

    ``active_count`` is the number of mentees held now; the database refuses to let it pass
    ``capacity`` or drop below zero, so no code path can overload a mentor.
    """

    __tablename__ = "mentor"
    __table_args__ = (
        CheckConstraint("capacity >= 0", name="capacity_nonnegative"),
        CheckConstraint("active_count >= 0", name="active_nonnegative"),
        CheckConstraint("active_count <= capacity", name="active_within_capacity"),
        CheckConstraint("mode IN ('offline', 'online', 'either')", name="mode"),
        CheckConstraint("gender IS NULL OR gender IN ('f', 'm')", name="gender"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    company: Mapped[str | None] = mapped_column(String(160))
    sectors: Mapped[list[str]] = mapped_column(JSON, default=list)
    stages: Mapped[list[str]] = mapped_column(JSON, default=list)
    kecamatan_code: Mapped[str] = mapped_column(ForeignKey("kecamatan.code"), index=True)
    expertise: Mapped[list[str]] = mapped_column(JSON, default=list)
    capacity: Mapped[int] = mapped_column(Integer, default=2)
    active_count: Mapped[int] = mapped_column(Integer, default=0)
    languages: Mapped[list[str]] = mapped_column(JSON, default=lambda: ["id"])
    mode: Mapped[str] = mapped_column(String(10), default="either")
    availability: Mapped[str | None] = mapped_column(Text)
    gender: Mapped[str | None] = mapped_column(String(1))
    bio: Mapped[str] = mapped_column(Text, default="")
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    paused_reason: Mapped[str | None] = mapped_column(String(200))
    #: As ``Entrepreneur.automated_proposals_objected_at``: recorded by staff, for mentors without an account.
    automated_proposals_objected_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Indexed: the newest one is part of the web app's mentor-pool version (``mentor_pool``).
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow, index=True)

    user: Mapped[User | None] = relationship(back_populates="mentor")

    @property
    def free_places(self) -> int:
        """Mentees the mentor can still take (0 when paused)."""
        return 0 if self.paused else max(0, self.capacity - self.active_count)


class UserSession(Base):
    """One login on one device: the server-side record that lets a session cookie be revoked.

    The id is the SHA-256 of a random secret that only the signed session (and remember) cookie
    carries. A session counts while it is not revoked, not idle too long and not expired.
    """

    __tablename__ = "user_session"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: The absolute end of the session, whatever its activity.
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    #: Made with "remember me": it outlives the browser and has the longer idle limit.
    remember: Mapped[bool] = mapped_column(Boolean, default=False)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    user_agent: Mapped[str | None] = mapped_column(String(120))
    ip: Mapped[str | None] = mapped_column(String(45))


class ApiToken(Base):
    """A personal access token for the JSON API; only its SHA-256 hash is stored."""

    __tablename__ = "api_token"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(80), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()
