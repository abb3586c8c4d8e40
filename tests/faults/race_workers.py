"""Worker processes for the race tests: each has its own engine and runs one service call per task,
released together with the others by a barrier (the multiprocess pattern of TST-3)."""

from __future__ import annotations

import multiprocessing as mp
import queue
from collections.abc import Iterable

#: How long anything in a race may wait: the barrier, a task, a result.
WAIT_SECONDS = 60


def _serve(url: str, barriers: dict, tasks, results) -> None:
    """The loop of one worker process: ``(kind, barrier, a, b)`` tasks until ``None``."""
    from sqlalchemy.orm import Session

    from models import Entrepreneur, Mentor
    from models.db import make_engine, write_intent
    from webapp.services import mentorship
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
            kind, barrier, a, b = task
            try:
                # As a POST request does: on SQLite the transaction takes the write lock at BEGIN.
                with write_intent(), Session(engine) as session:
                    barriers[barrier].wait(timeout=WAIT_SECONDS)
                    if kind == "accept":
                        mentorship.accept_request(session, session.get(Mentor, a), b)
                        outcome = "accepted"
                    elif kind == "request":
                        mentorship.request_mentor(session, session.get(Entrepreneur, a), b)
                        outcome = "requested"
                    else:
                        raise ValueError(kind)
                    session.commit()
            except ServiceError as exc:
                outcome = exc.code
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

    def race(self, kind: str, pairs: Iterable[tuple[int, int]]) -> list[str]:
        """Run ``kind`` for each ``(a, b)`` in its own process, all released together; their outcomes."""
        pairs = list(pairs)
        if len(pairs) not in self.barriers:
            raise ValueError(f"a race needs {sorted(self.barriers)} tasks, not {len(pairs)}")
        for a, b in pairs:
            self.tasks.put((kind, len(pairs), a, b))
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
