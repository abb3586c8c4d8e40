"""The life of a pairing: request, withdraw, accept under capacity, decline, expire, end, history."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import delete, func, select

from models import Entrepreneur, Match, MatchRequest, Mentor, Notification, Role, StatusChange, utcnow
from tests.factories import make_entrepreneur, make_mentor, make_user
from webapp.services import mentorship
from webapp.services.errors import Conflict, InvalidInput, NotFound


@pytest.fixture
def people(db):
    e_user, m_user = make_user(db, Role.ENTREPRENEUR), make_user(db, Role.MENTOR)
    entrepreneur = make_entrepreneur(db, e_user)
    mentor = make_mentor(db, m_user, capacity=2)
    return entrepreneur, mentor


def test_a_request_carries_score_and_reasons_and_tells_the_mentor(db, people):
    entrepreneur, mentor = people
    req = mentorship.request_mentor(db, entrepreneur, mentor.id, message="Mohon bimbingan perizinan")
    assert req.status == "pending" and req.score is not None
    codes = [r["code"] for r in req.reasons]
    assert "same_sector" in codes and "needs_covered" in codes
    assert all(r["id"] and r["en"] for r in req.reasons)
    note = db.scalar(select(Notification).where(Notification.user_id == mentor.user_id))
    assert note.kind == "request_new"


def test_at_most_three_open_requests(db, people):
    entrepreneur, _ = people
    mentors = [make_mentor(db) for _ in range(4)]
    for m in mentors[:3]:
        mentorship.request_mentor(db, entrepreneur, m.id)
    with pytest.raises(Conflict) as exc:
        mentorship.request_mentor(db, entrepreneur, mentors[3].id)
    assert exc.value.code == "too_many_requests"


def test_the_same_mentor_cannot_be_asked_twice(db, people):
    entrepreneur, mentor = people
    mentorship.request_mentor(db, entrepreneur, mentor.id)
    with pytest.raises(Conflict) as exc:
        mentorship.request_mentor(db, entrepreneur, mentor.id)
    assert exc.value.code == "already_requested"


@pytest.mark.parametrize(
    ("mentor_kw", "code"),
    [
        ({"paused": True}, "paused"),
        ({"capacity": 1, "active_count": 1}, "full"),
        ({"languages": ["en"]}, "no_shared_language"),
        ({"mode": "online"}, "meets_online_only"),
    ],
)
def test_an_unavailable_mentor_cannot_be_asked(db, mentor_kw, code):
    entrepreneur = (
        make_entrepreneur(db, mode="offline") if code == "meets_online_only" else make_entrepreneur(db)
    )
    mentor = make_mentor(db, **mentor_kw)
    with pytest.raises(Conflict) as exc:
        mentorship.request_mentor(db, entrepreneur, mentor.id)
    assert exc.value.code == "not_available"
    assert exc.value.params["reasons"][0]["code"] == code


def test_withdraw_only_ones_own_pending_request(db, people):
    entrepreneur, mentor = people
    req = mentorship.request_mentor(db, entrepreneur, mentor.id)
    stranger = make_entrepreneur(db)
    with pytest.raises(NotFound):
        mentorship.withdraw_request(db, stranger, req.id)
    assert mentorship.withdraw_request(db, entrepreneur, req.id).status == "withdrawn"
    with pytest.raises(Conflict):
        mentorship.withdraw_request(db, entrepreneur, req.id)


def test_accepting_starts_the_match_takes_a_place_and_closes_other_requests(db, people):
    entrepreneur, mentor = people
    other = make_mentor(db, make_user(db, Role.MENTOR))
    req = mentorship.request_mentor(db, entrepreneur, mentor.id)
    second = mentorship.request_mentor(db, entrepreneur, other.id)
    match = mentorship.accept_request(db, mentor, req.id)
    assert match.status == "active"
    assert db.get(Mentor, mentor.id).active_count == 1
    db.refresh(second)
    assert second.status == "closed"
    kinds = set(db.scalars(select(Notification.kind)))
    assert {"request_accepted", "request_closed"} <= kinds
    with pytest.raises(Conflict) as exc:
        mentorship.request_mentor(db, entrepreneur, other.id)
    assert exc.value.code == "already_matched"


def test_a_mentor_cannot_answer_another_mentors_request(db, people):
    entrepreneur, mentor = people
    req = mentorship.request_mentor(db, entrepreneur, mentor.id)
    intruder = make_mentor(db)
    with pytest.raises(NotFound):
        mentorship.accept_request(db, intruder, req.id)
    with pytest.raises(NotFound):
        mentorship.decline_request(db, intruder, req.id, reason="other")


def test_a_full_mentor_cannot_accept(db):
    mentor = make_mentor(db, capacity=1)
    e1, e2 = make_entrepreneur(db), make_entrepreneur(db)
    r1 = mentorship.request_mentor(db, e1, mentor.id)
    r2 = mentorship.request_mentor(db, e2, mentor.id)
    mentorship.accept_request(db, mentor, r1.id)
    with db.begin_nested() as sp:
        with pytest.raises(Conflict) as exc:
            mentorship.accept_request(db, mentor, r2.id)
        sp.rollback()
    assert exc.value.code == "capacity_full"
    assert db.get(Mentor, mentor.id).active_count == 1


def test_decline_needs_a_known_reason_and_tells_the_entrepreneur(db, people):
    entrepreneur, mentor = people
    req = mentorship.request_mentor(db, entrepreneur, mentor.id)
    with pytest.raises(InvalidInput):
        mentorship.decline_request(db, mentor, req.id, reason="whatever")
    declined = mentorship.decline_request(db, mentor, req.id, reason="schedule", note="Sedang ke luar kota")
    assert (declined.status, declined.response_reason, declined.response_note) == (
        "declined",
        "schedule",
        "Sedang ke luar kota",
    )
    assert (
        db.scalar(select(Notification.kind).where(Notification.user_id == entrepreneur.user_id))
        == "request_declined"
    )


def test_requests_expire_after_seven_days_and_repeat_offenders_are_paused(db):
    mentor = make_mentor(db, make_user(db, Role.MENTOR), capacity=5)
    old = utcnow() - dt.timedelta(days=8)
    requests = []
    for _ in range(3):
        e = make_entrepreneur(db, make_user(db))
        req = mentorship.request_mentor(db, e, mentor.id)
        req.sent_at = old
        requests.append(req)
    fresh = mentorship.request_mentor(db, make_entrepreneur(db), mentor.id)
    db.flush()
    report = mentorship.expire_requests(db)
    assert report.expired == 3 and report.mentors_paused == (mentor.id,)
    assert {db.get(MatchRequest, r.id).status for r in requests} == {"expired"}
    assert db.get(MatchRequest, fresh.id).status == "pending"
    assert (
        db.get(Mentor, mentor.id).paused and db.get(Mentor, mentor.id).paused_reason == "unanswered_requests"
    )
    kinds = [n.kind for n in db.scalars(select(Notification))]
    assert kinds.count("request_expired") == 3 and "mentor_paused" in kinds
    assert mentorship.expire_requests(db).expired == 0


def test_ending_a_match_frees_the_place_once(db, people):
    entrepreneur, mentor = people
    match = mentorship.accept_request(db, mentor, mentorship.request_mentor(db, entrepreneur, mentor.id).id)
    ended = mentorship.end_match(db, match.id, reason="completed", rating=5, entrepreneur_id=entrepreneur.id)
    assert (ended.status, ended.rating) == ("completed", 5)
    assert db.get(Mentor, mentor.id).active_count == 0
    with pytest.raises(Conflict):
        mentorship.end_match(db, match.id, reason="other")
    assert db.get(Mentor, mentor.id).active_count == 0


def test_ending_someone_elses_match_is_not_found(db, people):
    entrepreneur, mentor = people
    match = mentorship.accept_request(db, mentor, mentorship.request_mentor(db, entrepreneur, mentor.id).id)
    with pytest.raises(NotFound):
        mentorship.end_match(db, match.id, reason="other", entrepreneur_id=entrepreneur.id + 999)


def test_every_step_is_recorded(db, people):
    entrepreneur, mentor = people
    req = mentorship.request_mentor(db, entrepreneur, mentor.id)
    match = mentorship.accept_request(db, mentor, req.id)
    mentorship.end_match(db, match.id, reason="no_time")
    steps = [(c.from_status, c.to_status) for c in db.scalars(select(StatusChange).order_by(StatusChange.id))]
    assert steps == [(None, "pending"), ("pending", "accepted"), (None, "active"), ("active", "ended")]


def test_history_reflects_outcomes(db, people):
    entrepreneur, mentor = people
    match = mentorship.accept_request(db, mentor, mentorship.request_mentor(db, entrepreneur, mentor.id).id)
    mentorship.end_match(db, match.id, reason="completed", rating=4)
    e2 = make_entrepreneur(db)
    mentorship.decline_request(db, mentor, mentorship.request_mentor(db, e2, mentor.id).id, reason="other")
    history = {(h.entrepreneur_id, h.outcome, h.rating) for h in mentorship.matching_history(db)}
    assert (entrepreneur.external_id, "completed", 4) in history
    assert (e2.external_id, "declined", None) in history


def test_twenty_simultaneous_accepts_on_two_places_make_exactly_two_matches(engine):
    """Real threads, real commits, on this session's database (SQLite file or PostgreSQL)."""
    from sqlalchemy.orm import Session

    from models.db import write_intent

    tag = f"RACE{threading.get_ident() % 100000:05d}"
    with Session(engine) as setup:
        mentor = Mentor(
            external_id=f"{tag}M",
            name="Mentor Balapan",
            sectors=["I"],
            stages=["early"],
            kecamatan_code="31.71.01",
            expertise=["licensing"],
            capacity=2,
            active_count=0,
            languages=["id"],
            mode="either",
        )
        setup.add(mentor)
        setup.flush()
        request_ids = []
        for i in range(20):
            e = Entrepreneur(
                external_id=f"{tag}E{i:02d}",
                name=f"Peserta {i}",
                sector_code="I",
                stage_code="early",
                kecamatan_code="31.71.01",
                needs=["licensing"],
                languages=["id"],
                mode="either",
            )
            setup.add(e)
            setup.flush()
            req = MatchRequest(entrepreneur_id=e.id, mentor_id=mentor.id, status="pending", sent_at=utcnow())
            setup.add(req)
            setup.flush()
            request_ids.append(req.id)
        setup.commit()
        mentor_id = mentor.id

    barrier = threading.Barrier(20)
    outcomes: list[str] = []
    lock = threading.Lock()

    def accept(request_id: int) -> None:
        with write_intent(), Session(engine) as session:
            barrier.wait()
            try:
                m = session.get(Mentor, mentor_id)
                mentorship.accept_request(session, m, request_id)
                session.commit()
                result = "accepted"
            except Conflict as exc:
                session.rollback()
                result = exc.code
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=accept, args=(rid,)) for rid in request_ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    try:
        assert sorted(outcomes) == ["accepted"] * 2 + ["capacity_full"] * 18
        with Session(engine) as check:
            assert check.get(Mentor, mentor_id).active_count == 2
            assert (
                check.scalar(
                    select(func.count())
                    .select_from(Match)
                    .where(Match.mentor_id == mentor_id, Match.status == "active")
                )
                == 2
            )
    finally:
        with Session(engine) as cleanup:
            e_ids = select(Entrepreneur.id).where(Entrepreneur.external_id.like(f"{tag}E%"))
            req_ids = select(MatchRequest.id).where(MatchRequest.mentor_id == mentor_id)
            match_ids = select(Match.id).where(Match.mentor_id == mentor_id)
            cleanup.execute(
                delete(StatusChange).where(
                    StatusChange.request_id.in_(req_ids) | StatusChange.match_id.in_(match_ids)
                )
            )
            cleanup.execute(
                delete(Notification).where(Notification.payload.is_not(None), Notification.user_id.is_(None))
            )
            cleanup.execute(delete(Match).where(Match.mentor_id == mentor_id))
            cleanup.execute(delete(MatchRequest).where(MatchRequest.mentor_id == mentor_id))
            cleanup.execute(delete(Entrepreneur).where(Entrepreneur.id.in_(e_ids)))
            cleanup.execute(delete(Mentor).where(Mentor.id == mentor_id))
            cleanup.commit()


def test_a_duplicate_request_caught_by_the_database_leaves_the_transaction_usable(db, people, monkeypatch):
    entrepreneur, mentor = people
    first = mentorship.request_mentor(db, entrepreneur, mentor.id)
    # Pretend the service's own check missed it (a concurrent request): the unique index decides.
    monkeypatch.setattr(mentorship, "open_requests", lambda *_a, **_k: [])
    with pytest.raises(Conflict) as exc:
        mentorship.request_mentor(db, entrepreneur, mentor.id)
    assert exc.value.code == "already_requested"
    assert db.get(MatchRequest, first.id).status == "pending"  # the session still works
