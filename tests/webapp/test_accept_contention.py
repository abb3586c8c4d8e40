"""Several mentors accepting the same entrepreneurs at once: one match each, the others refused,
never a deadlock or a server error (real threads and commits, SQLite file or PostgreSQL)."""

from __future__ import annotations

import threading

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from models import Entrepreneur, Match, MatchRequest, Mentor, StatusChange, utcnow
from models.db import write_intent
from webapp.services import mentorship
from webapp.services.errors import Conflict

PEOPLE, MENTORS = 6, 3


def _person(tag: str, n: int) -> Entrepreneur:
    return Entrepreneur(
        external_id=f"{tag}E{n}", name=f"Peserta {n}", sector_code="I", stage_code="early",
        kecamatan_code="31.71.01", needs=["licensing"], languages=["id"], mode="either",
    )  # fmt: skip


def _mentor(tag: str, n: int) -> Mentor:
    return Mentor(
        external_id=f"{tag}M{n}", name=f"Mentor {n}", sectors=["I"], stages=["early"], kecamatan_code="31.71.01",
        expertise=["licensing"], capacity=PEOPLE, active_count=0, languages=["id"], mode="either",
    )  # fmt: skip


def test_mentors_accepting_the_same_entrepreneurs_at_once_make_one_match_each(engine):
    tag = f"ACC{threading.get_ident() % 100000:05d}"
    with Session(engine) as setup:
        people = [_person(tag, n) for n in range(PEOPLE)]
        mentors = [_mentor(tag, n) for n in range(MENTORS)]
        setup.add_all(people + mentors)
        setup.flush()
        jobs = []  # (mentor id, request id, entrepreneur id)
        for e in people:
            for m in mentors:
                req = MatchRequest(entrepreneur_id=e.id, mentor_id=m.id, status="pending", sent_at=utcnow())
                setup.add(req)
                setup.flush()
                jobs.append((m.id, req.id, e.id))
        setup.commit()
        mentor_ids = [m.id for m in mentors]
        people_ids = [e.id for e in people]

    barrier = threading.Barrier(len(jobs))
    outcomes: dict[int, list[str]] = {e: [] for e in people_ids}
    lock = threading.Lock()

    def accept(mentor_id: int, request_id: int, entrepreneur_id: int) -> None:
        with write_intent(), Session(engine) as session:
            try:
                barrier.wait(timeout=30)
                mentorship.accept_request(session, session.get(Mentor, mentor_id), request_id)
                session.commit()
                result = "accepted"
            except Conflict as exc:
                session.rollback()
                result = exc.code
            except Exception as exc:  # a deadlock or any other failure is what this test looks for
                session.rollback()
                result = f"error: {type(exc).__name__}: {exc}"[:300]
        with lock:
            outcomes[entrepreneur_id].append(result)

    threads = [threading.Thread(target=accept, args=job) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    try:
        for results in outcomes.values():
            assert sorted(results)[0] == "accepted" and results.count("accepted") == 1, results
            assert set(results) <= {"accepted", "request_not_pending", "already_matched"}, results
        with Session(engine) as check:
            for m in mentor_ids:
                held = check.get(Mentor, m).active_count
                active = check.scalars(
                    select(Match).where(Match.mentor_id == m, Match.status == "active")
                ).all()
                assert held == len(active)
    finally:
        with Session(engine) as cleanup:
            req_ids = select(MatchRequest.id).where(MatchRequest.mentor_id.in_(mentor_ids))
            match_ids = select(Match.id).where(Match.mentor_id.in_(mentor_ids))
            cleanup.execute(
                delete(StatusChange).where(
                    StatusChange.request_id.in_(req_ids) | StatusChange.match_id.in_(match_ids)
                )
            )
            cleanup.execute(delete(Match).where(Match.mentor_id.in_(mentor_ids)))
            cleanup.execute(delete(MatchRequest).where(MatchRequest.mentor_id.in_(mentor_ids)))
            cleanup.execute(delete(Entrepreneur).where(Entrepreneur.id.in_(people_ids)))
            cleanup.execute(delete(Mentor).where(Mentor.id.in_(mentor_ids)))
            cleanup.commit()
