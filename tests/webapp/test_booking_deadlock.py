"""Two transactions writing clashing times at once can deadlock in PostgreSQL's check of the overlap
rule; PostgreSQL aborts one. The aborted booking is written again and meets the other's booking
(``person_busy``), never a server error; a web or API write the database aborted answers 409."""

from __future__ import annotations

import datetime as dt
import threading
import time

import psycopg.errors
import pytest
from sqlalchemy import delete, select, text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from models import AuditLog, Match, MentoringSession, Notification, Role, User
from tests.factories import login, make_entrepreneur, make_mentor, make_user
from webapp.services import sessions
from webapp.services.errors import Conflict
from webapp.services.sessions import BOOKING_TRIES, WIB, write_booking

#: A week of its own (Monday 2027-04-05), far from the other tests' sessions.
MONDAY = dt.date(2027, 4, 5)


def _at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(MONDAY + dt.timedelta(days=day), dt.time(hour, minute), tzinfo=WIB)


def _aborted(orig: Exception) -> OperationalError:
    return OperationalError("INSERT INTO mentoring_session ...", {}, orig)


def _notes(db, user_id: int) -> int:
    return len(db.scalars(select(Notification).where(Notification.user_id == user_id)).all())


def test_a_booking_aborted_to_break_a_deadlock_is_written_again_once(db):
    user = make_user(db)
    tries = []

    def write() -> str:
        db.add(Notification(user_id=user.id, kind="session_proposed", payload={"try": len(tries)}))
        db.flush()
        tries.append(1)
        if len(tries) == 1:
            raise _aborted(psycopg.errors.DeadlockDetected("deadlock detected"))
        return "written"

    assert write_booking(db, write, mentor_id=1, entrepreneur_id=1) == "written"
    assert len(tries) == 2
    assert _notes(db, user.id) == 1  # the aborted try's row went with its savepoint


def test_a_booking_aborted_every_time_gives_up_after_its_tries(db):
    user = make_user(db)
    tries = []

    def write() -> None:
        db.add(Notification(user_id=user.id, kind="session_proposed", payload={}))
        db.flush()
        tries.append(1)
        raise _aborted(psycopg.errors.SerializationFailure("could not serialize access"))

    with pytest.raises(OperationalError):
        write_booking(db, write, mentor_id=1, entrepreneur_id=1)
    assert len(tries) == BOOKING_TRIES
    assert _notes(db, user.id) == 0


@pytest.mark.parametrize(
    "error",
    [
        _aborted(psycopg.OperationalError("server closed the connection unexpectedly")),
        IntegrityError("INSERT ...", {}, Exception("ex_mentoring_session_mentor_overlap")),
    ],
    ids=["outage", "refusal"],
)
def test_a_booking_failing_for_any_other_reason_is_not_tried_again(db, error):
    tries = []

    def write() -> None:
        tries.append(1)
        raise error

    with pytest.raises(type(error)):
        write_booking(db, write, mentor_id=1, entrepreneur_id=1)
    assert tries == [1]


@pytest.mark.parametrize(
    ("orig", "status"),
    [
        (psycopg.errors.DeadlockDetected("deadlock detected"), 409),
        (psycopg.errors.SerializationFailure("could not serialize access"), 409),
        (psycopg.OperationalError("server closed the connection unexpectedly"), 503),
    ],
    ids=["deadlock", "serialization", "outage"],
)
def test_a_page_write_aborted_for_a_concurrent_one_is_a_conflict_and_an_outage_a_503(
    client, db, monkeypatch, orig, status
):
    from webapp.services import members_csv

    staff = make_user(db, Role.STAFF)
    make_mentor(db, external_id="TMDEAD")
    login(client, staff.email)

    def aborted(*_a, **_k):
        raise _aborted(orig)

    monkeypatch.setattr(members_csv, "update_member", aborted)
    response = client.post("/staff/members/mentors/TMDEAD/edit", data={"capacity": "1"})
    assert response.status_code == status
    page = response.get_data(as_text=True)
    if status == 409:
        assert "Data berubah" in page and "Retry-After" not in response.headers
    else:
        assert response.headers["Retry-After"] == "30"


# --- the real deadlock (PostgreSQL) ----------------------------------------------------------------


@pytest.fixture
def pair_of_a_mentor(postgres):
    """Three committed active matches of one mentor, a staff account, and a session of the third
    match on Tuesday 13:00; all deleted afterwards."""
    engine = postgres
    with Session(engine) as s:
        mentor = make_mentor(s, capacity=3, mode="either")
        entrepreneurs = [make_entrepreneur(s, mode="either") for _ in range(3)]
        staff = make_user(s, Role.STAFF)
        s.flush()
        matches = [Match(entrepreneur_id=e.id, mentor_id=mentor.id, status="active") for e in entrepreneurs]
        s.add_all(matches)
        s.flush()
        moved = MentoringSession(
            match_id=matches[2].id, week_start=MONDAY, starts_at=_at(1, 13), ends_at=_at(1, 14),
            mode="online", video_url="https://meet.jit.si/JakMentor-deadlock",
        )  # fmt: skip
        s.add(moved)
        s.commit()
        made = {
            "matches": [m.id for m in matches],
            "moved": moved.id,
            "staff": staff.id,
            "mentor": mentor.id,
            "entrepreneurs": [e.id for e in entrepreneurs],
        }
    yield made
    with Session(engine) as s:
        ids = select(MentoringSession.id).where(MentoringSession.match_id.in_(made["matches"]))
        s.execute(delete(Notification).where(Notification.payload["session_id"].as_integer().in_(ids)))
        s.execute(delete(AuditLog).where(AuditLog.actor_id == made["staff"]))
        s.execute(delete(MentoringSession).where(MentoringSession.match_id.in_(made["matches"])))
        s.execute(delete(Match).where(Match.id.in_(made["matches"])))
        from models import Entrepreneur, Mentor

        s.execute(delete(Entrepreneur).where(Entrepreneur.id.in_(made["entrepreneurs"])))
        s.execute(delete(Mentor).where(Mentor.id == made["mentor"]))
        s.execute(delete(User).where(User.id == made["staff"]))
        s.commit()


def _waiting_on_a_lock(engine, pid: int) -> bool:
    with engine.connect() as conn:
        return bool(
            conn.scalar(
                text("SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}
            )
        )


def test_a_staff_move_deadlocked_with_another_booking_is_refused_as_person_busy(postgres, pair_of_a_mentor):
    """A books the mentor 09:00-10:00 on Thursday and holds it open; the staff move of another
    session to 09:30 waits for A; A then books 10:00, which waits for the move: a deadlock. The
    database aborts the move (it waited first), the move is written again, waits for A, and meets
    A's booking once A commits."""
    engine, made = postgres, pair_of_a_mentor
    first, second, _third = made["matches"]
    outcome: list[str] = []
    mover_pid: list[int] = []

    def move() -> None:
        with Session(engine) as s:
            mover_pid.append(s.connection().exec_driver_sql("SELECT pg_backend_pid()").scalar())
            try:
                sessions.move_session(
                    s, made["staff"], made["moved"], _at(3, 9, 30).replace(tzinfo=None), None
                )
                s.commit()
                outcome.append("moved")
            except Conflict as exc:
                outcome.append(exc.code)
            except Exception as exc:  # the test fails on it
                outcome.append(f"error {type(exc).__name__}: {exc}"[:300])

    with Session(engine) as a:
        a.execute(
            text("SET LOCAL deadlock_timeout = '20s'")
        )  # the move's wait, begun first, is the one aborted
        a.add(
            MentoringSession(
                match_id=first, week_start=MONDAY, starts_at=_at(3, 9), ends_at=_at(3, 10), mode="online"
            )
        )
        a.flush()
        mover = threading.Thread(target=move)
        mover.start()
        deadline = time.monotonic() + 30
        while not (mover_pid and _waiting_on_a_lock(engine, mover_pid[0])):
            assert time.monotonic() < deadline and mover.is_alive(), outcome
            time.sleep(0.05)
        # 10:00-11:00: clear of A's own 09:00-10:00, on the move's 09:30-10:30
        a.add(
            MentoringSession(
                match_id=second, week_start=MONDAY, starts_at=_at(3, 10), ends_at=_at(3, 11), mode="online"
            )
        )
        a.flush()  # waits for the move until the database aborts the move's write
        a.commit()
    mover.join(timeout=60)
    assert outcome == ["person_busy"]
    with Session(engine) as s:
        booked = s.execute(
            select(MentoringSession.match_id, MentoringSession.starts_at)
            .where(MentoringSession.match_id.in_(made["matches"]))
            .order_by(MentoringSession.starts_at)
        ).all()
    assert [(m, t.astimezone(WIB)) for m, t in booked] == [
        (made["matches"][2], _at(1, 13)),  # not moved
        (first, _at(3, 9)),
        (second, _at(3, 10)),
    ]
