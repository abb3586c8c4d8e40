"""Weekly sessions: proposals exactly once per week, answers, moves, feedback, history, reminders."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import func, select

from models import AuditLog, JobRun, MentoringSession, Notification, Role, SessionFeedback
from tests.factories import make_entrepreneur, make_mentor, make_user
from tests.webapp.sessions_data import (
    MONDAY,
    SUNDAY_EVENING,
    at,
    cleanup_committed,
    make_match,
    make_room,
)
from webapp.services import mentorship, sessions
from webapp.services.errors import Conflict, InvalidInput, NotFound
from webapp.services.sessions import JOB_NAME, WIB


def propose(db, monday=MONDAY, now=SUNDAY_EVENING, **kw):
    kw.setdefault("time_limit", 1.0)
    return sessions.propose_sessions_for_week(db, monday, now=now, **kw)


def session_of(db, match):
    return db.scalar(select(MentoringSession).where(MentoringSession.match_id == match.id))


# --- proposals ------------------------------------------------------------------------------------


def test_a_run_proposes_a_session_to_each_due_pair_and_tells_both(db):
    room = make_room(db)
    match = make_match(db, e_kw={"mode": "offline"}, m_kw={"mode": "either"})
    online = make_match(db, e_kw={"mode": "online"})
    run = propose(db)
    assert run.status == "done" and run.proposed == 2 and run.week_start == MONDAY
    s = session_of(db, match)
    assert s.status == "proposed" and s.week_start == MONDAY and s.mode == "offline" and s.room_id == room.id
    start = s.starts_at.astimezone(WIB)
    assert MONDAY <= start.date() < MONDAY + dt.timedelta(days=7)
    o = session_of(db, online)
    assert o.mode == "online" and o.room_id is None
    assert (
        o.video_url.startswith("https://meet.jit.si/JakMentor-") and len(o.video_url.split("-", 1)[1]) == 20
    )
    kinds = db.execute(
        select(Notification.user_id, Notification.kind).where(Notification.kind == "session_proposed")
    ).all()
    for m in (match, online):
        assert (m.entrepreneur.user_id, "session_proposed") in kinds
        assert (m.mentor.user_id, "session_proposed") in kinds
    claim = db.get(JobRun, (JOB_NAME, MONDAY))
    assert claim.finished_at is not None and claim.result["proposed"] == 2


def test_a_second_run_for_the_same_week_changes_nothing(db):
    make_match(db)
    assert propose(db).status == "done"
    count = db.scalar(select(func.count()).select_from(MentoringSession))
    notes = db.scalar(select(func.count()).select_from(Notification))
    again = propose(db)
    assert again.status == "already_done" and again.proposed == 0
    assert db.scalar(select(func.count()).select_from(MentoringSession)) == count
    assert db.scalar(select(func.count()).select_from(Notification)) == notes


def test_fortnightly_pairs_meet_every_other_week_from_their_start(db):
    match = make_match(db, cadence="fortnightly", started=dt.datetime(2026, 11, 17, 2, tzinfo=dt.UTC))
    assert sessions.is_due(match, dt.date(2026, 11, 16))
    assert not sessions.is_due(match, dt.date(2026, 11, 23))
    assert sessions.is_due(match, MONDAY)
    assert not sessions.is_due(match, MONDAY + dt.timedelta(days=7))
    assert propose(db, MONDAY + dt.timedelta(days=7), now=SUNDAY_EVENING + dt.timedelta(days=7)).proposed == 0
    late = make_match(db, started=dt.datetime(2026, 12, 20, tzinfo=dt.UTC))
    assert not sessions.is_due(late, MONDAY)


def test_a_pair_keeps_its_usual_time(db):
    match = make_match(db, e_kw={"mode": "online"})
    last_week = MONDAY - dt.timedelta(days=7)
    db.add(
        MentoringSession(
            match_id=match.id,
            week_start=last_week,
            starts_at=at(2, 19, monday=last_week),
            ends_at=at(2, 20, monday=last_week),
            mode="online",
            status="confirmed",
        )
    )
    db.flush()
    propose(db)
    new = db.scalar(select(MentoringSession).where(MentoringSession.week_start == MONDAY))
    assert new.starts_at.astimezone(WIB) == at(2, 19)


def test_proposals_go_around_sessions_people_already_have_that_week(db):
    mentor = make_mentor(db, make_user(db, Role.MENTOR), availability="tue 19:00-21:00")
    first = make_match(db, mentor=mentor, e_kw={"mode": "online"})
    second = make_match(db, mentor=mentor, e_kw={"mode": "online"})
    db.add(
        MentoringSession(
            match_id=first.id,
            week_start=MONDAY,
            starts_at=at(1, 19),
            ends_at=at(1, 20),
            mode="online",
            status="confirmed",
        )
    )
    db.flush()
    run = propose(db)
    assert run.skipped == 1  # the first pair already has its session
    s = session_of(db, second)
    assert s.starts_at.astimezone(WIB) == at(1, 20)


def test_unplaced_pairs_are_recorded_with_their_reason(db):
    match = make_match(db, e_kw={"mode": "offline"}, m_kw={"mode": "online"})
    run = propose(db)
    assert run.proposed == 0
    assert [(u["match_id"], u["code"]) for u in run.unplaced] == [(match.id, "incompatible_modes")]
    overview = sessions.week_overview(db, MONDAY)
    assert [u["code"] for u in overview.unplaced] == ["incompatible_modes"]


def test_a_week_already_begun_gets_no_session_in_the_past_or_too_soon(db):
    match = make_match(db, e_kw={"mode": "online"})
    now = at(3, 10)  # Thursday 10:00 WIB
    propose(db, now=now)
    s = session_of(db, match)
    assert s.starts_at >= now + sessions.MIN_NOTICE


def test_week_of_a_moment_is_computed_in_jakarta_time():
    sunday_night_utc = dt.datetime(2026, 11, 29, 23, 30, tzinfo=dt.UTC)  # Monday 06:30 WIB
    assert sessions.upcoming_monday(sunday_night_utc) == dt.date(2026, 11, 30)
    assert sessions.week_monday(sunday_night_utc) == dt.date(2026, 11, 30)
    assert sessions.upcoming_monday(SUNDAY_EVENING) == dt.date(2026, 11, 30)
    assert sessions.week_monday(SUNDAY_EVENING) == dt.date(2026, 11, 23)
    assert sessions.week_label(dt.date(2026, 11, 30)) == "2026-W49"


# --- exactly once, with real commits --------------------------------------------------------------

COMMITTED_MONDAY = dt.date(2031, 3, 10)  # 2031-W11: no other test touches it
COMMITTED_EVENING = dt.datetime(2031, 3, 9, 18, tzinfo=WIB)


def _committed_matches(engine, n: int) -> list[int]:
    from sqlalchemy.orm import Session

    with Session(engine) as setup:
        ids = [make_match(setup, users=False, e_kw={"mode": "online"}).id for _ in range(n)]
        setup.commit()
    return ids


def _count(engine, model, *where) -> int:
    from sqlalchemy.orm import Session

    with Session(engine) as check:
        return check.scalar(select(func.count()).select_from(model).where(*where))


def test_two_simultaneous_runs_propose_the_week_once(engine):
    """Two threads, each with its own session and commit, on this run's database (SQLite file or PostgreSQL)."""
    from sqlalchemy.orm import Session

    from models.db import write_intent

    match_ids = _committed_matches(engine, 4)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []
    lock = threading.Lock()

    def run() -> None:
        with write_intent(), Session(engine) as session:
            barrier.wait()
            result = sessions.propose_sessions_for_week(
                session, COMMITTED_MONDAY, now=COMMITTED_EVENING, time_limit=1.0
            )
            session.commit()
        with lock:
            outcomes.append(result.status)

    try:
        threads = [threading.Thread(target=run) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert sorted(outcomes)[0] in ("already_done", "busy") and sorted(outcomes).count("done") == 1
        assert _count(engine, JobRun, JobRun.job == JOB_NAME, JobRun.period_start == COMMITTED_MONDAY) == 1
        mine = MentoringSession.match_id.in_(match_ids)
        assert _count(engine, MentoringSession, mine) == 4
        with Session(engine) as again:
            assert (
                sessions.propose_sessions_for_week(again, COMMITTED_MONDAY, now=COMMITTED_EVENING).status
                == "already_done"
            )
            again.commit()
        assert _count(engine, MentoringSession, mine) == 4
    finally:
        from sqlalchemy.orm import Session as _S

        with _S(engine) as cleanup:
            cleanup_committed(cleanup, COMMITTED_MONDAY, match_ids)


def test_a_run_that_crashes_half_way_leaves_nothing_and_a_rerun_completes(engine, monkeypatch):
    from sqlalchemy.orm import Session

    match_ids = _committed_matches(engine, 4)
    real = sessions._new_session
    calls = {"n": 0}

    def failing(*args, **kw):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("injected crash after two inserts")
        return real(*args, **kw)

    monkeypatch.setattr(sessions, "_new_session", failing)
    mine = MentoringSession.match_id.in_(match_ids)
    claim = (JobRun.job == JOB_NAME, JobRun.period_start == COMMITTED_MONDAY)
    try:
        with Session(engine) as session:
            with pytest.raises(RuntimeError):
                sessions.propose_sessions_for_week(
                    session, COMMITTED_MONDAY, now=COMMITTED_EVENING, time_limit=1.0
                )
            session.rollback()
        assert calls["n"] == 3
        assert _count(engine, MentoringSession, mine) == 0
        assert _count(engine, JobRun, *claim) == 0
        monkeypatch.setattr(sessions, "_new_session", real)
        with Session(engine) as session:
            run = sessions.propose_sessions_for_week(
                session, COMMITTED_MONDAY, now=COMMITTED_EVENING, time_limit=1.0
            )
            session.commit()
        assert run.status == "done"
        assert _count(engine, MentoringSession, mine) == 4
        assert _count(engine, JobRun, *claim) == 1
    finally:
        with Session(engine) as cleanup:
            cleanup_committed(cleanup, COMMITTED_MONDAY, match_ids)


def test_on_postgresql_a_run_waiting_on_the_lock_answers_busy(postgres):
    """While one transaction holds the week's advisory lock, a second run stops at once."""
    from sqlalchemy.orm import Session

    with Session(postgres) as first, Session(postgres) as second:
        assert first.scalar(
            select(func.pg_try_advisory_xact_lock(sessions.JOB_LOCK_CLASS, COMMITTED_MONDAY.toordinal()))
        )
        assert (
            sessions.propose_sessions_for_week(second, COMMITTED_MONDAY, now=COMMITTED_EVENING).status
            == "busy"
        )
        second.rollback()
        first.rollback()
    assert _count(postgres, JobRun, JobRun.period_start == COMMITTED_MONDAY) == 0


# --- answers ---------------------------------------------------------------------------------------


@pytest.fixture
def proposed(db):
    match = make_match(db, e_kw={"mode": "online"})
    propose(db)
    return session_of(db, match), match


def test_the_session_is_confirmed_once_both_confirm(db, proposed):
    s, match = proposed
    sessions.confirm(db, match.entrepreneur.user, s.id)
    assert s.status == "proposed" and s.entrepreneur_confirmed
    sessions.confirm(db, match.mentor.user, s.id)
    assert s.status == "confirmed" and s.mentor_confirmed


def test_someone_else_cannot_touch_a_session(db, proposed):
    s, _match = proposed
    stranger = make_user(db, Role.ENTREPRENEUR)
    make_entrepreneur(db, stranger)
    for action in (sessions.confirm, sessions.ask_another_time):
        with pytest.raises(NotFound):
            action(db, stranger, s.id)
    with pytest.raises(NotFound):
        sessions.decline(db, stranger, s.id, "x")


def test_a_declined_session_cannot_be_confirmed(db, proposed):
    s, match = proposed
    sessions.decline(db, match.mentor.user, s.id, "sedang ke luar kota")
    assert s.status == "declined"
    with pytest.raises(Conflict):
        sessions.confirm(db, match.entrepreneur.user, s.id)
    note = db.scalar(select(AuditLog.note).where(AuditLog.action == "session.decline"))
    assert note == "sedang ke luar kota"


def test_another_time_is_proposed_in_the_same_week_never_at_an_offered_start(db, proposed):
    s, match = proposed
    first = s.starts_at
    result = sessions.ask_another_time(db, match.entrepreneur.user, s.id, now=SUNDAY_EVENING)
    assert result.moved and s.status == "proposed" and s.starts_at != first
    assert s.week_start == MONDAY and s.entrepreneur_confirmed and not s.mentor_confirmed
    second = s.starts_at
    sessions.ask_another_time(db, match.mentor.user, s.id, now=SUNDAY_EVENING)
    assert s.starts_at not in (first, second)


def test_another_time_declines_with_a_reason_when_nothing_fits(db):
    match = make_match(db, e_kw={"mode": "online", "availability": "wed 19:00-20:00"})
    propose(db)
    s = session_of(db, match)
    assert s.starts_at.astimezone(WIB) == at(2, 19)
    result = sessions.ask_another_time(db, match.mentor.user, s.id, now=SUNDAY_EVENING)
    assert not result.moved and result.code == "no_time_left" and s.status == "declined"
    overview = sessions.week_overview(db, MONDAY)
    assert overview.declined_reasons[s.id]["reason"] == "no_time_left"


def test_staff_move_checks_the_room_and_the_people(db):
    staff = make_user(db, Role.STAFF)
    room = make_room(db, capacity=1, availability="mon 08:00-12:00")
    match = make_match(db)
    other = make_match(db, mentor=match.mentor)
    propose(db)
    s, o = session_of(db, match), session_of(db, other)
    with pytest.raises(InvalidInput) as exc:
        sessions.move_session(db, staff.id, s.id, at(0, 13), room.id)
    assert exc.value.code == "room_closed"
    sessions.move_session(db, staff.id, o.id, at(0, 9), room.id)
    with pytest.raises(InvalidInput) as exc:
        sessions.move_session(db, staff.id, s.id, at(0, 9, 30), None)
    assert exc.value.code == "person_busy"  # the mentor is with the other mentee
    third = make_match(db)
    propose(db, MONDAY)  # already done: no new session for the third pair
    db.add(
        MentoringSession(
            match_id=third.id, week_start=MONDAY, starts_at=at(1, 8), ends_at=at(1, 9), mode="online"
        )
    )
    db.flush()
    t = session_of(db, third)
    with pytest.raises(InvalidInput) as exc:
        sessions.move_session(db, staff.id, t.id, at(0, 9), room.id)
    assert exc.value.code == "room_full"
    moved = sessions.move_session(db, staff.id, s.id, at(0, 10, 30), None)
    assert moved.mode == "online" and moved.video_url and moved.starts_at.astimezone(WIB) == at(0, 10, 30)
    assert moved.status == "proposed" and not moved.entrepreneur_confirmed
    with pytest.raises(InvalidInput) as exc:
        sessions.move_session(db, staff.id, s.id, at(0, 10, 30), "NO-SUCH-ROOM")
    assert exc.value.code == "room_not_found"


# --- feedback, history, flags ----------------------------------------------------------------------


def _held(db, match, week: int, rating_e: int | None, rating_m: int | None = None, happened=True):
    monday = MONDAY + dt.timedelta(days=7 * week)
    s = MentoringSession(
        match_id=match.id,
        week_start=monday,
        starts_at=at(1, 19, monday=monday),
        ends_at=at(1, 20, monday=monday),
        mode="online",
        status="confirmed",
    )
    db.add(s)
    db.flush()
    after = at(2, 9, monday=monday)
    sessions.record_feedback(
        db, match.entrepreneur.user, s.id, happened, rating_e, ["marketing"], "ok", now=after
    )
    if rating_m is not None:
        sessions.record_feedback(db, match.mentor.user, s.id, True, rating_m, [], None, now=after)
    return s


def test_feedback_marks_the_session_held_or_missed_once_per_person(db):
    match = make_match(db)
    s = _held(db, match, 0, 5)
    assert s.status == "held"
    fb = db.scalar(select(SessionFeedback).where(SessionFeedback.session_id == s.id))
    assert fb.rating == 5 and fb.areas == ["marketing"] and fb.happened
    with pytest.raises(Conflict):
        sessions.record_feedback(db, match.entrepreneur.user, s.id, True, 4, [], None, now=at(2, 9))
    sessions.record_feedback(db, match.mentor.user, s.id, False, None, [], "tidak datang", now=at(2, 9))
    assert s.status == "missed"


def test_feedback_is_refused_before_the_session_and_for_unknown_areas(db, proposed):
    s, match = proposed
    with pytest.raises(Conflict):
        sessions.record_feedback(db, match.entrepreneur.user, s.id, True, 4, [], None, now=SUNDAY_EVENING)
    later = s.starts_at + dt.timedelta(hours=2)
    with pytest.raises(InvalidInput):
        sessions.record_feedback(db, match.entrepreneur.user, s.id, True, 4, ["astrology"], None, now=later)
    with pytest.raises(InvalidInput):
        sessions.record_feedback(db, match.entrepreneur.user, s.id, True, 6, [], None, now=later)


def test_session_ratings_and_no_shows_feed_the_model_history(db):
    match = make_match(db)
    _held(db, match, 0, 5)
    _held(db, match, 1, 4)
    _held(db, match, 2, None, happened=False)  # the mentor did not come: counts 1
    e, m = match.entrepreneur.external_id, match.mentor.external_id
    assert (e, m, "completed", 3) in {
        (h.entrepreneur_id, h.mentor_id, h.outcome, h.rating) for h in sessions.session_history(db)
    }
    history = mentorship.matching_history(db)
    assert any(h.entrepreneur_id == e and h.mentor_id == m and h.rating == 3 for h in history)


def test_pairs_with_low_or_falling_ratings_are_flagged(db):
    steady, low, falling = make_match(db), make_match(db), make_match(db)
    for week, (a, b, c) in enumerate([(4, 3, 5), (5, 2, 5), (4, 3, 3)]):
        _held(db, steady, week, a)
        _held(db, low, week, b)
        _held(db, falling, week, c)
    flags = {(f.match_id, f.code) for f in sessions.flagged_pairs(db)}
    assert (low.id, "low_ratings") in flags
    assert (falling.id, "rating_drop") in flags
    assert all(mid != steady.id for mid, _ in flags)


# --- reminders --------------------------------------------------------------------------------------


def test_reminders_are_due_once_a_day_before_and_the_morning_after(db, proposed):
    s, match = proposed
    start = s.starts_at
    assert sessions.due_reminders(db, start - dt.timedelta(hours=30)) == []
    due = sessions.due_reminders(db, start - dt.timedelta(hours=23))
    assert {(r.user_id, r.kind) for r in due} == {
        (match.entrepreneur.user_id, "session_reminder"),
        (match.mentor.user_id, "session_reminder"),
    }
    assert sessions.queue_reminders(db, start - dt.timedelta(hours=23)) == 2
    assert sessions.due_reminders(db, start - dt.timedelta(hours=2)) == []
    local_day = start.astimezone(WIB).date()
    evening = dt.datetime.combine(local_day, dt.time(23, 0), tzinfo=WIB)
    assert sessions.due_reminders(db, evening) == []
    morning = dt.datetime.combine(local_day + dt.timedelta(days=1), dt.time(8, 5), tzinfo=WIB)
    sessions.record_feedback(db, match.mentor.user, s.id, True, 4, [], None, now=morning)
    due = sessions.due_reminders(db, morning)
    assert [(r.user_id, r.kind) for r in due] == [(match.entrepreneur.user_id, "session_feedback")]
    assert sessions.queue_reminders(db, morning) == 1
    assert sessions.due_reminders(db, morning + dt.timedelta(hours=1)) == []
    late = morning + sessions.FEEDBACK_WINDOW + dt.timedelta(hours=1)
    assert sessions.due_reminders(db, late) == []


def test_declined_sessions_get_no_reminders(db, proposed):
    s, match = proposed
    sessions.decline(db, match.entrepreneur.user, s.id)
    assert sessions.due_reminders(db, s.starts_at - dt.timedelta(hours=2)) == []
