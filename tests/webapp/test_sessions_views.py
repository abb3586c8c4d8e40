"""People's session pages (answer, feedback) and the staff week view, through the browser forms."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from models import JobRun, MentoringSession, Role, SessionFeedback, utcnow
from tests.factories import login, make_entrepreneur, make_user
from tests.webapp.sessions_data import make_match, make_room
from webapp.services import sessions
from webapp.services.sessions import WIB

# A week safely in the future whenever the suite runs, and the Sunday evening before it.
MONDAY = sessions.upcoming_monday(utcnow() + dt.timedelta(days=14))
EVENING = dt.datetime.combine(MONDAY - dt.timedelta(days=1), dt.time(18), tzinfo=WIB)
WEEK = sessions.week_label(MONDAY)


@pytest.fixture
def week(db):
    """Two proposed sessions: one in a room (offline entrepreneur), one online."""
    room = make_room(db, name="PPKUKM Gambir", address="Jl. Tanah Abang I No. 1")
    offline = make_match(db, e_kw={"mode": "offline"})
    online = make_match(db, e_kw={"mode": "online"})
    unplaceable = make_match(db, e_kw={"mode": "offline"}, m_kw={"mode": "online"})
    sessions.propose_sessions_for_week(db, MONDAY, now=EVENING, time_limit=1.0)

    def of(match):
        return db.scalar(select(MentoringSession).where(MentoringSession.match_id == match.id))

    return {
        "room": room,
        "offline": (offline, of(offline)),
        "online": (online, of(online)),
        "none": unplaceable,
    }


def test_both_people_see_their_session_with_the_place_or_the_video_link(client, db, week):
    match, s = week["offline"]
    login(client, match.entrepreneur.user.email)
    page = client.get("/sessions").get_data(as_text=True)
    local = s.starts_at.astimezone(WIB)
    assert f"{local:%H:%M} WIB" in page and "PPKUKM Gambir, Jl. Tanah Abang I No. 1" in page
    assert match.mentor.name in page
    other_match, other = week["online"]
    assert other_match.mentor.name not in page
    client.post("/logout")
    login(client, other_match.mentor.user.email)
    page = client.get("/sessions").get_data(as_text=True)
    assert other.video_url in page and other_match.entrepreneur.name in page


def test_confirm_decline_and_another_time_through_the_forms(client, db, week):
    match, s = week["online"]
    login(client, match.entrepreneur.user.email)
    assert client.post(f"/sessions/{s.id}/confirm").status_code == 303
    db.refresh(s)
    assert s.entrepreneur_confirmed and s.status == "proposed"
    first = s.starts_at
    response = client.post(f"/sessions/{s.id}/another-time", follow_redirects=True)
    assert response.status_code == 200
    db.refresh(s)
    assert s.starts_at != first and s.week_start == MONDAY
    client.post(f"/sessions/{s.id}/decline", data={"note": "ada acara keluarga"})
    db.refresh(s)
    assert s.status == "declined"
    page = client.post(f"/sessions/{s.id}/confirm", follow_redirects=True).get_data(as_text=True)
    assert "sudah tidak menunggu jawaban" in page


def test_another_persons_session_is_not_found(client, db, week):
    _match, s = week["online"]
    stranger = make_user(db, Role.ENTREPRENEUR)
    make_entrepreneur(db, stranger)
    login(client, stranger.email)
    for path in (f"/sessions/{s.id}/confirm", f"/sessions/{s.id}/decline", f"/sessions/{s.id}/another-time"):
        assert client.post(path).status_code == 404
    assert client.get(f"/sessions/{s.id}/feedback").status_code == 404
    assert client.get(f"/sessions/{s.id}.ics").status_code == 404
    assert client.get("/sessions/999999/feedback").status_code == 404
    db.refresh(s)
    assert s.status == "proposed" and not s.entrepreneur_confirmed


def test_feedback_after_the_session_marks_it_held(client, db):
    match = make_match(db, e_kw={"mode": "online"})
    start = utcnow() - dt.timedelta(hours=20)
    s = MentoringSession(
        match_id=match.id,
        week_start=sessions.week_monday(start),
        starts_at=start,
        ends_at=start + dt.timedelta(hours=1),
        mode="online",
        status="confirmed",
    )
    db.add(s)
    db.flush()
    login(client, match.entrepreneur.user.email)
    assert f"/sessions/{s.id}/feedback" in client.get("/sessions").get_data(as_text=True)
    form = client.get(f"/sessions/{s.id}/feedback").get_data(as_text=True)
    assert 'value="marketing"' in form and 'type="checkbox"' in form
    response = client.post(
        f"/sessions/{s.id}/feedback",
        data={"happened": "yes", "rating": "4", "areas": ["marketing", "licensing"], "note": "Bagus"},
    )
    assert response.status_code == 303
    fb = db.scalar(select(SessionFeedback).where(SessionFeedback.session_id == s.id))
    assert (fb.happened, fb.rating, sorted(fb.areas), fb.note) == (
        True,
        4,
        ["licensing", "marketing"],
        "Bagus",
    )
    db.refresh(s)
    assert s.status == "held"
    assert f"/sessions/{s.id}/feedback" not in client.get("/sessions").get_data(as_text=True)
    client.post("/logout")
    login(client, match.mentor.user.email)
    client.post(f"/sessions/{s.id}/feedback", data={"happened": "no", "note": "tidak hadir"})
    db.refresh(s)
    assert s.status == "missed"


def test_staff_see_the_week_with_unplaced_reasons(client, db, week):
    staff = make_user(db, Role.STAFF)
    login(client, staff.email)
    page = client.get(f"/staff/sessions?week={WEEK}").get_data(as_text=True)
    for key in ("offline", "online"):
        match, _s = week[key]
        assert match.entrepreneur.name in page
    assert week["none"].entrepreneur.name in page
    assert "yang satu hanya tatap muka, yang lain hanya daring" in page
    assert client.get("/staff/sessions?week=2026-W99").status_code == 404


def test_staff_preview_writes_nothing_and_propose_writes_once(client, db):
    staff = make_user(db, Role.STAFF)
    match = make_match(db, e_kw={"mode": "online"})
    later = MONDAY + dt.timedelta(days=7)
    label = sessions.week_label(later)
    login(client, staff.email)
    page = client.post("/staff/sessions/propose", data={"week": label, "action": "preview"}).get_data(
        as_text=True
    )
    assert "Pratinjau" in page and match.entrepreneur.name in page
    claims = select(func.count()).select_from(JobRun).where(JobRun.period_start == later)
    assert db.scalar(claims) == 0
    assert (
        client.post("/staff/sessions/propose", data={"week": label, "action": "propose"}).status_code == 303
    )
    assert db.scalar(claims) == 1
    again = client.post(
        "/staff/sessions/propose", data={"week": label, "action": "propose"}, follow_redirects=True
    )
    assert "sudah diusulkan" in again.get_data(as_text=True)
    count = select(func.count()).select_from(MentoringSession).where(MentoringSession.week_start == later)
    assert db.scalar(count) == 1


def test_staff_move_a_session_and_are_told_when_the_room_is_closed(client, db, week):
    staff = make_user(db, Role.STAFF)
    room = week["room"]
    _match, s = week["offline"]
    login(client, staff.email)
    assert client.get(f"/staff/sessions/{s.id}/move").status_code == 200
    sunday = (MONDAY + dt.timedelta(days=6)).isoformat()
    bad = client.post(f"/staff/sessions/{s.id}/move", data={"day": sunday, "start": "10:00", "room": room.id})
    assert bad.status_code == 422 and "Ruangan tidak buka pada waktu itu." in bad.get_data(as_text=True)
    online = client.post(f"/staff/sessions/{s.id}/move", data={"day": sunday, "start": "10:00", "room": ""})
    assert online.status_code == 422 and "hanya bertemu tatap muka" in online.get_data(as_text=True)
    wednesday = (MONDAY + dt.timedelta(days=2)).isoformat()
    ok = client.post(
        f"/staff/sessions/{s.id}/move", data={"day": wednesday, "start": "08:30", "room": room.id}
    )
    assert ok.status_code == 303
    db.refresh(s)
    assert s.starts_at.astimezone(WIB) == dt.datetime.combine(
        MONDAY + dt.timedelta(days=2), dt.time(8, 30), tzinfo=WIB
    )
    assert s.room_id == room.id and s.status == "proposed"


def test_people_cannot_open_the_staff_week(client, db, week):
    match, _s = week["online"]
    login(client, match.entrepreneur.user.email)
    assert client.get("/staff/sessions").status_code == 403
    assert client.post("/staff/sessions/propose", data={"week": WEEK}).status_code == 403
