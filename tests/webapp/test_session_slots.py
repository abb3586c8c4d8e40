"""CON-8 through the services: when the database refuses a booking (another transaction booked the
person at an overlapping time, or filled the room, after the service looked), people get the refusal
the service's own check gives (``person_busy``, ``room_full``), never a server error, and a weekly run
that meets it keeps nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import false, func, select

from models import JobRun, MentoringSession, Role
from tests.factories import login, make_user
from tests.webapp.sessions_data import MONDAY, SUNDAY_EVENING, at, make_match, make_room
from webapp.services import sessions
from webapp.services.errors import Conflict
from webapp.services.sessions import WIB


@pytest.fixture
def unseen_bookings(monkeypatch):
    """The service's own checks miss the other sessions, as when another transaction has not yet
    committed them: only the database's rules (migrations 0004 and 0008) are left to refuse a clash."""
    overlapping = sessions._overlapping
    monkeypatch.setattr(sessions, "_overlapping", lambda *a, **k: overlapping(*a, **k).where(false()))
    monkeypatch.setattr(sessions, "_booked", lambda *a, **k: [])


def _booked(db, match, start: dt.datetime, status: str = "proposed", room=None) -> MentoringSession:
    row = MentoringSession(
        match_id=match.id,
        week_start=MONDAY,
        starts_at=start,
        ends_at=start + dt.timedelta(hours=1),
        mode="offline" if room else "online",
        room_id=room.id if room else None,
        status=status,
    )
    db.add(row)
    db.flush()
    return row


def test_a_move_onto_a_start_the_mentor_has_elsewhere_is_refused_as_person_busy(db, unseen_bookings):
    staff = make_user(db, Role.STAFF)
    match = make_match(db, e_kw={"mode": "online"})
    other = make_match(db, mentor=match.mentor, e_kw={"mode": "online"})
    mine = _booked(db, match, at(1, 9))
    _booked(db, other, at(2, 10))
    with pytest.raises(Conflict) as exc:
        sessions.move_session(db, staff.id, mine.id, at(2, 10), None)
    assert exc.value.code == "person_busy"
    db.refresh(mine)
    assert mine.starts_at.astimezone(WIB) == at(1, 9)  # the move did not happen


def test_a_move_to_the_start_of_a_declined_session_of_the_same_mentor_is_allowed(db, unseen_bookings):
    staff = make_user(db, Role.STAFF)
    match = make_match(db, e_kw={"mode": "online"})
    other = make_match(db, mentor=match.mentor, e_kw={"mode": "online"})
    mine = _booked(db, match, at(1, 9))
    _booked(db, other, at(2, 10), status="declined")
    moved = sessions.move_session(db, staff.id, mine.id, at(2, 10), None)
    assert moved.starts_at.astimezone(WIB) == at(2, 10)


def test_staff_moving_onto_a_clash_get_the_person_busy_message_not_a_server_error(
    client, db, unseen_bookings
):
    staff = make_user(db, Role.STAFF)
    earlier = make_match(db, e_kw={"mode": "online"})
    _booked(db, earlier, at(2, 10))  # the entrepreneur's earlier mentorship still has this session
    earlier.status = "ended"
    db.flush()
    match = make_match(db, entrepreneur=earlier.entrepreneur, m_kw={"mode": "online"})
    mine = _booked(db, match, at(1, 9))
    login(client, staff.email)
    response = client.post(
        f"/staff/sessions/{mine.id}/move",
        data={"day": (MONDAY + dt.timedelta(days=2)).isoformat(), "start": "10:00", "room": ""},
    )
    assert response.status_code == 422
    assert "sudah punya sesi lain pada waktu itu" in response.get_data(as_text=True)


def test_a_proposal_run_that_meets_a_booked_start_is_refused_whole_and_staff_are_told(
    client, db, unseen_bookings
):
    staff = make_user(db, Role.STAFF)
    match = make_match(db, e_kw={"mode": "online"})
    last_week = MONDAY - dt.timedelta(days=7)
    usual = _booked(db, match, at(2, 19, monday=last_week), status="confirmed")
    usual.week_start = last_week
    other = make_match(db, mentor=match.mentor, e_kw={"mode": "online"})
    _booked(db, other, at(2, 19))  # the mentor's usual time this week, taken by the other mentee
    db.flush()
    with pytest.raises(Conflict) as exc, db.begin_nested():
        sessions.propose_sessions_for_week(db, MONDAY, now=SUNDAY_EVENING, time_limit=1.0)
    assert exc.value.code == "person_busy"

    login(client, staff.email)
    response = client.post(
        "/staff/sessions/propose", data={"week": "2026-W49", "action": "propose"}, follow_redirects=True
    )
    assert response.status_code == 200
    assert "sudah punya sesi lain pada waktu itu" in response.get_data(as_text=True)
    claims = select(func.count()).select_from(JobRun).where(JobRun.period_start == MONDAY)
    assert db.scalar(claims) == 0  # nothing kept: the run can be made again


def test_rooms_with_places_for_several_sessions_still_take_them_at_the_same_start(db):
    room = make_room(db, capacity=2)
    first = make_match(db, e_kw={"mode": "offline"})
    second = make_match(db, e_kw={"mode": "offline"})
    for match in (first, second):
        row = _booked(db, match, at(1, 9))
        row.mode, row.room_id = "offline", room.id
    db.flush()
    same_start = select(func.count()).select_from(MentoringSession).where(MentoringSession.room_id == room.id)
    assert db.scalar(same_start) == 2


# --- overlapping times (migration 0008) ------------------------------------------------------------


def test_a_move_overlapping_another_session_of_the_mentor_is_refused_as_person_busy(db, unseen_bookings):
    staff = make_user(db, Role.STAFF)
    match = make_match(db, e_kw={"mode": "online"})
    other = make_match(db, mentor=match.mentor, e_kw={"mode": "online"})
    mine = _booked(db, match, at(1, 9))
    _booked(db, other, at(2, 10))
    with pytest.raises(Conflict) as exc:
        sessions.move_session(db, staff.id, mine.id, at(2, 10, 30), None)
    assert exc.value.code == "person_busy"
    db.refresh(mine)
    assert mine.starts_at.astimezone(WIB) == at(1, 9)
    moved = sessions.move_session(db, staff.id, mine.id, at(2, 11), None)  # right after: allowed
    assert moved.starts_at.astimezone(WIB) == at(2, 11)


def test_a_move_into_a_room_full_at_that_time_is_refused_as_room_full(db, unseen_bookings):
    staff = make_user(db, Role.STAFF)
    room = make_room(db, capacity=1)
    _booked(db, make_match(db, e_kw={"mode": "offline"}), at(1, 9), room=room)
    mine = _booked(db, make_match(db), at(1, 13))
    with pytest.raises(Conflict) as exc:
        sessions.move_session(db, staff.id, mine.id, at(1, 9, 30), room.id)
    assert exc.value.code == "room_full"
    db.refresh(mine)
    assert mine.room_id is None and mine.starts_at.astimezone(WIB) == at(1, 13)
    moved = sessions.move_session(db, staff.id, mine.id, at(1, 10), room.id)  # when the other has ended
    assert moved.room_id == room.id


def test_staff_moving_into_a_full_room_get_the_room_full_message_not_a_server_error(
    client, db, unseen_bookings
):
    staff = make_user(db, Role.STAFF)
    room = make_room(db, capacity=1)
    _booked(db, make_match(db, e_kw={"mode": "offline"}), at(1, 9), room=room)
    mine = _booked(db, make_match(db), at(1, 13))
    login(client, staff.email)
    response = client.post(
        f"/staff/sessions/{mine.id}/move",
        data={"day": (MONDAY + dt.timedelta(days=1)).isoformat(), "start": "09:30", "room": room.id},
    )
    assert response.status_code == 422
    assert "Ruangan penuh pada waktu itu." in response.get_data(as_text=True)


def test_another_time_overlapping_a_session_the_service_did_not_see_is_refused_as_person_busy(
    db, unseen_bookings
):
    match = make_match(db, e_kw={"mode": "online", "availability": "wed 19:00-21:30"})
    other = make_match(db, mentor=match.mentor, e_kw={"mode": "online"})
    mine = _booked(db, match, at(2, 19))
    _booked(db, other, at(2, 20))  # over every other time the pair has (19:30, 20:00, 20:30)
    with pytest.raises(Conflict) as exc:
        sessions.ask_another_time(db, match.entrepreneur.user, mine.id, now=SUNDAY_EVENING)
    assert exc.value.code == "person_busy"
    db.refresh(mine)
    assert mine.status == "proposed" and mine.starts_at.astimezone(WIB) == at(2, 19)


def test_a_proposal_run_that_meets_an_overlapping_booking_is_refused_whole(db, unseen_bookings):
    match = make_match(db, e_kw={"mode": "online"})
    last_week = MONDAY - dt.timedelta(days=7)
    usual = _booked(db, match, at(2, 19, monday=last_week), status="confirmed")
    usual.week_start = last_week
    make_match(db, e_kw={"mode": "online"})  # a pair the run places, then loses with the rest
    other = make_match(db, mentor=match.mentor, e_kw={"mode": "online"})
    _booked(db, other, at(2, 19, 30))  # the mentor's usual time this week, half taken
    db.flush()
    before = db.scalar(select(func.count()).select_from(MentoringSession))
    with pytest.raises(Conflict) as exc, db.begin_nested():
        sessions.propose_sessions_for_week(db, MONDAY, now=SUNDAY_EVENING, time_limit=1.0)
    assert exc.value.code == "person_busy"
    assert db.scalar(select(func.count()).select_from(MentoringSession)) == before
    assert db.scalar(select(func.count()).select_from(JobRun).where(JobRun.period_start == MONDAY)) == 0
