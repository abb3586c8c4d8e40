"""Worker processes for the race tests: each has its own engine and runs one service call per task,
released together with the others by a barrier (the multiprocess pattern of TST-3)."""

from __future__ import annotations

import multiprocessing as mp
import queue
from collections.abc import Iterable

#: How long anything in a race may wait: the barrier, a task, a result.
WAIT_SECONDS = 60


def _insert_session(session, match_id: int, start: str, minutes: int, room_id: str | None) -> None:
    """A proposed session written straight to the database, as if no service had checked anything."""
    import datetime as dt

    from models import Match, MentoringSession
    from webapp.services.sessions import week_monday, write_booking

    starts_at = dt.datetime.fromisoformat(start)

    def write() -> None:
        session.add(
            MentoringSession(
                match_id=match_id,
                week_start=week_monday(starts_at),
                starts_at=starts_at,
                ends_at=starts_at + dt.timedelta(minutes=minutes),
                mode="offline" if room_id else "online",
                room_id=room_id,
                status="proposed",
            )
        )
        session.flush()

    match = session.get(Match, match_id)
    # as the services write a booking (queued per person, past their checks)
    write_booking(session, write, mentor_id=match.mentor_id, entrepreneur_id=match.entrepreneur_id)


def _serve(url: str, barriers: dict, tasks, results) -> None:
    """The loop of one worker process: ``(kind, barrier, *args)`` tasks until ``None``."""
    import datetime as dt

    from sqlalchemy.exc import IntegrityError
    from sqlalchemy.orm import Session

    from models import Entrepreneur, Mentor
    from models.db import make_engine, write_intent
    from webapp.services import mentorship, sessions
    from webapp.services.errors import ServiceError

    engine = make_engine(url)
    try:
        while True:
            try:
                task = tasks.get(timeout=WAIT_SECONDS * 2)
            except queue.Empty:
                return
            if task is None:
                return
            kind, barrier, *args = task
            try:
                # As a POST request does: on SQLite the transaction takes the write lock at BEGIN.
                with write_intent(), Session(engine) as session:
                    barriers[barrier].wait(timeout=WAIT_SECONDS)
                    if kind == "accept":
                        mentorship.accept_request(session, session.get(Mentor, args[0]), args[1])
                        outcome = "accepted"
                    elif kind == "request":
                        mentorship.request_mentor(session, session.get(Entrepreneur, args[0]), args[1])
                        outcome = "requested"
                    elif kind == "move":  # staff id, session id, new start (ISO), room id or None
                        staff_id, session_id, start, room_id = args
                        new_start = dt.datetime.fromisoformat(start)
                        sessions.move_session(session, staff_id, session_id, new_start, room_id)
                        outcome = "moved"
                    elif kind == "insert":  # match id, start (ISO), minutes, room id or None
                        _insert_session(session, *args)
                        outcome = "inserted"
                    elif kind == "propose":  # the week's Monday (ISO), the run's now (ISO)
                        monday, now = dt.date.fromisoformat(args[0]), dt.datetime.fromisoformat(args[1])
                        outcome = sessions.propose_sessions_for_week(session, monday, now=now, time_limit=1.0).status
                    else:
                        raise ValueError(kind)
                    session.commit()
            except ServiceError as exc:
                outcome = exc.code
            except IntegrityError as exc:  # what the service would answer, as a web request shows it
                refusal = sessions.booking_refusal(exc)
                outcome = refusal.code if refusal else f"error IntegrityError: {exc}"
            except Exception as exc:  # reported to the test, which fails on it
                outcome = f"error {type(exc).__name__}: {exc}"
            results.put(outcome)
    finally:
        engine.dispose()


class RacePool:
    """``size`` spawned processes on the database at ``url``; ``race`` runs tasks at the same instant."""

    def __init__(self, url: str, size: int = 8):
        ctx = mp.get_context("spawn")
        self.size = size
        self.barriers = {n: ctx.Barrier(n) for n in sorted({2, size})}
        self.tasks = ctx.Queue()
        self.results = ctx.Queue()
        self.processes = [
            ctx.Process(target=_serve, args=(url, self.barriers, self.tasks, self.results), daemon=True)
            for _ in range(size)
        ]
        for p in self.processes:
            p.start()

    def race(self, kind: str, pairs: Iterable[tuple]) -> list[str]:
        """Run ``kind`` for each tuple of arguments in its own process, all released together; their
        outcomes, sorted."""
        pairs = list(pairs)
        if len(pairs) not in self.barriers:
            raise ValueError(f"a race needs {sorted(self.barriers)} tasks, not {len(pairs)}")
        for args in pairs:
            self.tasks.put((kind, len(pairs), *args))
        return sorted(self.results.get(timeout=WAIT_SECONDS * 2) for _ in pairs)

    def close(self) -> None:
        """Stop the workers (bounded) and release the queues."""
        for _ in self.processes:
            self.tasks.put(None)
        for p in self.processes:
            p.join(timeout=WAIT_SECONDS)
            if p.is_alive():
                p.kill()
                p.join(timeout=10)
            p.close()
        for q in (self.tasks, self.results):
            q.close()
            q.join_thread()
