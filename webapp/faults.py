"""Fault injection for the fault tests (tests/faults): pauses at chosen points so a test can kill the process there.

Nothing here runs unless the environment says ``FAULT_INJECTION=1`` (never in production: the app
refuses to start with it). Then, on the app's database sessions:

``FAULT_SLEEP_BEFORE_COMMIT=<seconds>``
    A transaction that took a mentor's place (an UPDATE of ``mentor``, as accepting does) sleeps
    this long just before its COMMIT: the guarded UPDATEs have run, nothing is committed yet.
``FAULT_SLEEP_AFTER_SESSIONS=<n>:<seconds>``
    After the flush that inserted the ``n``-th proposed session of a transaction (the weekly
    proposal half-way), sleep this long.

``FAULT_ONCE=<path>``
    Pause only once across all processes: the first pause creates this file, later ones find it.

Each pause writes one line to stderr first (``fault: ...``) so that the test knows when to strike.
Without the switch the listeners are never installed, so the ordinary paths cost nothing.
"""

from __future__ import annotations

import os
import sys
import time

from flask import Flask
from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker


class FaultInjectionRefused(RuntimeError):
    """``FAULT_INJECTION=1`` in production: the app refuses to start."""


def enabled() -> bool:
    """Whether this process was started with ``FAULT_INJECTION=1``."""
    return os.environ.get("FAULT_INJECTION") == "1"


def _first_time() -> bool:
    marker = os.environ.get("FAULT_ONCE")
    if not marker:
        return True
    try:
        os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return False
    return True


def _announce(message: str) -> None:
    sys.stderr.write(f"fault: {message} (pid {os.getpid()})\n")
    sys.stderr.flush()


def install(app: Flask, session_factory: sessionmaker[Session]) -> None:
    """Install the pauses named in the environment on ``session_factory`` (only when enabled)."""
    if not enabled():
        return
    if app.config.get("ENV_NAME") == "production":
        raise FaultInjectionRefused("FAULT_INJECTION=1 is for tests; production refuses to start with it")
    before_commit = float(os.environ.get("FAULT_SLEEP_BEFORE_COMMIT") or 0)
    after_sessions = os.environ.get("FAULT_SLEEP_AFTER_SESSIONS") or ""
    if before_commit > 0:
        _pause_before_commit(session_factory, before_commit)
    if after_sessions:
        count, _sep, seconds = after_sessions.partition(":")
        _pause_after_sessions(session_factory, int(count), float(seconds or 30))


def _pause_before_commit(factory: sessionmaker[Session], seconds: float) -> None:
    @event.listens_for(factory, "do_orm_execute")
    def _note_place_taken(state) -> None:
        table = getattr(state.statement, "table", None) if state.is_update else None
        if table is not None and table.name == "mentor":
            state.session.info["fault_place_taken"] = True

    @event.listens_for(factory, "before_commit")
    def _sleep(session: Session) -> None:
        if session.info.pop("fault_place_taken", False) and _first_time():
            _announce(f"sleeping {seconds:g} s before COMMIT")
            time.sleep(seconds)


def _pause_after_sessions(factory: sessionmaker[Session], count: int, seconds: float) -> None:
    from models import MentoringSession

    @event.listens_for(factory, "after_flush")
    def _sleep(session: Session, _context) -> None:
        new = sum(isinstance(obj, MentoringSession) for obj in session.new)
        if not new:
            return
        done = session.info.get("fault_sessions", 0) + new
        session.info["fault_sessions"] = done
        if done >= count and not session.info.get("fault_paused") and _first_time():
            session.info["fault_paused"] = True
            _announce(f"sleeping {seconds:g} s after {done} proposed sessions")
            time.sleep(seconds)
