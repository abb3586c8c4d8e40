"""Calendar files: a session's .ics for its participants, and the private feed behind a revocable secret."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar
from sqlalchemy import select

from models import MentoringSession, Role
from tests.factories import login, make_entrepreneur, make_user
from tests.webapp.sessions_data import make_match, make_room
from tests.webapp.test_sessions_views import EVENING, MONDAY
from webapp.services import sessions


@pytest.fixture
def pair_sessions(db):
    make_room(db, name="PPKUKM Gambir", address="Jl. Tanah Abang I No. 1")
    offline = make_match(db, e_kw={"mode": "offline"})
    online = make_match(db, e_kw={"mode": "online"})
    sessions.propose_sessions_for_week(db, MONDAY, now=EVENING, time_limit=1.0)

    def of(match):
        return db.scalar(select(MentoringSession).where(MentoringSession.match_id == match.id))

    return (offline, of(offline)), (online, of(online))


def _events(body: bytes) -> list:
    cal = Calendar.from_ical(body)
    return [c for c in cal.walk("VEVENT")]


def test_a_session_ics_carries_time_place_and_a_stable_uid(client, db, pair_sessions):
    (match, s), _ = pair_sessions
    login(client, match.entrepreneur.user.email)
    response = client.get(f"/sessions/{s.id}.ics")
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    (event,) = _events(response.data)
    assert str(event["UID"]) == f"session-{s.id}@jakmentor.id"
    start = event.decoded("DTSTART")
    assert start == s.starts_at and start.tzinfo.key == "Asia/Jakarta"
    assert event["DTSTART"].params["TZID"] == "Asia/Jakarta"
    assert event.decoded("DTEND") == s.ends_at
    assert str(event["SUMMARY"]) == f"Sesi mentoring dengan {match.mentor.name}"
    assert str(event["LOCATION"]) == "PPKUKM Gambir, Jl. Tanah Abang I No. 1"
    assert match.mentor.name in str(event["DESCRIPTION"])
    assert str(event["STATUS"]) == "TENTATIVE"
    assert b"BEGIN:VTIMEZONE" in response.data
    again = _events(client.get(f"/sessions/{s.id}.ics").data)[0]
    assert str(again["UID"]) == str(event["UID"])


def test_the_summary_is_in_the_readers_language_and_online_sessions_carry_the_link(client, db, pair_sessions):
    _, (match, s) = pair_sessions
    match.mentor.user.locale = "en"
    db.flush()
    login(client, match.mentor.user.email)
    (event,) = _events(client.get(f"/sessions/{s.id}.ics").data)
    assert str(event["SUMMARY"]) == f"Mentoring session with {match.entrepreneur.name}"
    assert str(event["LOCATION"]) == s.video_url and str(event["URL"]) == s.video_url


def test_a_strangers_request_for_a_session_ics_is_not_found(client, db, pair_sessions):
    (_match, s), _ = pair_sessions
    stranger = make_user(db, Role.ENTREPRENEUR)
    make_entrepreneur(db, stranger)
    login(client, stranger.email)
    assert client.get(f"/sessions/{s.id}.ics").status_code == 404


def _feed_url(page: str) -> str:
    match = re.search(r'value="(http://[^"]+/calendar/[A-Za-z0-9_-]+\.ics)"', page)
    assert match, page
    return match.group(1).split("localhost", 1)[1]


def test_the_private_feed_is_shown_once_works_without_login_and_dies_when_revoked(client, db, pair_sessions):
    (match, s), _ = pair_sessions
    user = match.entrepreneur.user
    login(client, user.email)
    feed_link = re.compile(r"/calendar/[A-Za-z0-9_-]+\.ics")
    assert not feed_link.search(client.get("/me/calendar").get_data(as_text=True))
    path = _feed_url(client.post("/me/calendar/create").get_data(as_text=True))
    token = path.rsplit("/", 1)[1].removesuffix(".ics")
    db.refresh(user)
    assert user.calendar_token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert not feed_link.search(client.get("/me/calendar").get_data(as_text=True))  # shown only once
    client.post("/logout")
    feed = client.get(path)
    assert feed.status_code == 200
    events = _events(feed.data)
    assert [str(e["UID"]) for e in events] == [f"session-{s.id}@jakmentor.id"]
    assert events[0].decoded("DTSTART").astimezone(ZoneInfo("UTC")) == s.starts_at.astimezone(dt.UTC)
    login(client, user.email)
    client.post("/me/calendar/revoke")
    client.post("/logout")
    assert client.get(path).status_code == 404
    login(client, user.email)
    new_path = _feed_url(client.post("/me/calendar/create").get_data(as_text=True))
    client.post("/logout")
    assert client.get(new_path).status_code == 200 and client.get(path).status_code == 404
    assert client.get("/calendar/not-a-token.ics").status_code == 404


def test_declined_sessions_leave_the_feed(client, db, pair_sessions):
    (match, s), _ = pair_sessions
    user = match.entrepreneur.user
    sessions.decline(db, user, s.id)
    login(client, user.email)
    path = _feed_url(client.post("/me/calendar/create").get_data(as_text=True))
    assert _events(client.get(path).data) == []
