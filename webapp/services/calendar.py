"""Calendar files for sessions: one session's .ics, and a person's private feed behind a secret URL.

The feed's secret is a random string shown to its owner once; only its SHA-256 is stored
(``User.calendar_token_hash``), so a database reader cannot rebuild the URL, and revoking (or
creating a new one) makes the old URL answer 404.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from icalendar import Calendar, Event
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from models import Entrepreneur, Match, Mentor, MentoringSession, User, utcnow

TOKEN_BYTES = 32
_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{32,64}$")
UID_DOMAIN = "jakmentor.id"
#: The feed holds sessions from this long ago onwards.
FEED_PAST = dt.timedelta(days=60)
ICS_STATUS = {"proposed": "TENTATIVE", "confirmed": "CONFIRMED", "held": "CONFIRMED", "missed": "CANCELLED"}


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def create_feed_token(db: Session, user: User) -> str:
    """A new secret for the user's feed (replacing any earlier one); flushes, never commits."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    user.calendar_token_hash = _hash(token)
    db.flush()
    return token


def revoke_feed_token(db: Session, user: User) -> None:
    """Turn the user's feed off: its URL answers 404 from now on."""
    user.calendar_token_hash = None
    db.flush()


def user_for_feed_token(db: Session, token: str) -> User | None:
    """The active account whose feed secret is ``token``, or None."""
    if not _TOKEN_RE.match(token or ""):
        return None
    user = db.scalar(select(User).where(User.calendar_token_hash == _hash(token)))
    if user is None or not user.is_active or user.deleted_at is not None:
        return None
    return user


def feed_sessions(db: Session, user: User, now: dt.datetime | None = None) -> list[MentoringSession]:
    """The user's sessions for their feed: not declined or cancelled, from ``FEED_PAST`` ago on."""
    now = now or utcnow()
    return list(
        db.scalars(
            select(MentoringSession)
            .join(Match, Match.id == MentoringSession.match_id)
            .join(Entrepreneur, Entrepreneur.id == Match.entrepreneur_id)
            .join(Mentor, Mentor.id == Match.mentor_id)
            .where(
                or_(Entrepreneur.user_id == user.id, Mentor.user_id == user.id),
                MentoringSession.status.in_(tuple(ICS_STATUS)),
                MentoringSession.starts_at >= now - FEED_PAST,
            )
            .order_by(MentoringSession.starts_at)
        )
    )


@dataclass(frozen=True)
class CalendarEntry:
    """One event as it goes into a calendar file (texts already in the reader's language)."""

    session_id: int
    start: dt.datetime
    end: dt.datetime
    summary: str
    description: str
    location: str | None = None
    url: str | None = None
    status: str = "proposed"
    updated: dt.datetime | None = None


def session_uid(session_id: int) -> str:
    """The event's UID: the same for a session however often it is moved or exported."""
    return f"session-{session_id}@{UID_DOMAIN}"


def build_ics(entries: Iterable[CalendarEntry], *, name: str = "JakMentor") -> bytes:
    """An iCalendar (RFC 5545) file with one VEVENT per entry, times in Asia/Jakarta with its VTIMEZONE."""
    from zoneinfo import ZoneInfo

    tz = ZoneInfo("Asia/Jakarta")
    cal = Calendar()
    cal.add("prodid", "-//JakMentor//Sesi Mentoring//ID")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", "Asia/Jakarta")
    for entry in entries:
        event = Event()
        event.add("uid", session_uid(entry.session_id))
        event.add("dtstamp", (entry.updated or utcnow()).astimezone(dt.UTC))
        event.add("dtstart", entry.start.astimezone(tz))
        event.add("dtend", entry.end.astimezone(tz))
        event.add("summary", entry.summary)
        event.add("description", entry.description)
        if entry.location:
            event.add("location", entry.location)
        if entry.url:
            event.add("url", entry.url)
        event.add("status", ICS_STATUS.get(entry.status, "TENTATIVE"))
        cal.add_component(event)
    cal.add_missing_timezones()
    return cal.to_ical()
