"""A stateful model of session booking (CON-8): Hypothesis proposes weeks, moves sessions (staff),
asks for other times, confirms and declines, in random order on the test database, some steps with
the services' own checks blinded (as when another transaction's booking was not yet visible), and
checks after every step that nobody is in two booked sessions at once, that no room holds more
booked sessions at a moment than its capacity, and that a week proposed twice keeps the same rows.

A step the database refuses must reach the caller as the service's refusal (``person_busy``,
``room_full``, ...), never as an IntegrityError, and leaves nothing behind (its savepoint is rolled
back, as a request's transaction would be). Each example runs in its own outer transaction.
Profiles: ``sessions-ci`` (default, derandomized) and ``sessions-explore``, chosen with
``SESSIONS_PROFILE``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from collections import Counter
from unittest import mock

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import initialize, invariant, precondition, rule
from sqlalchemy import false, select

from models import JobRun, Match, MentoringSession, Role, Room
from tests.factories import make_entrepreneur, make_mentor, make_user
from tests.faults.booking_checks import (
    assert_each_week_claimed_once,
    assert_no_one_booked_twice_at_once,
    assert_no_room_over_capacity,
)
from tests.faults.state_machines import OnTestDatabase, run
from webapp.services import sessions
from webapp.services.errors import Conflict, ServiceError

settings.register_profile(
    "sessions-ci",
    max_examples=40,
    stateful_step_count=20,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)
settings.register_profile(
    "sessions-explore", parent=settings.get_profile("sessions-ci"), max_examples=200, derandomize=False
)
PROFILE = settings.get_profile(os.environ.get("SESSIONS_PROFILE", "sessions-ci"))

WIB = sessions.WIB
#: The first week of the model and the Sunday evening its runs are made (2026-W49).
MONDAY = dt.date(2026, 11, 30)
NOW = dt.datetime(2026, 11, 29, 18, 0, tzinfo=WIB)
WEEKS = 3
MENTOR_HOURS = "mon 09:00-12:00;wed 13:00-16:00;fri 08:00-10:00"
ENTREPRENEUR_HOURS = "mon 08:00-13:00;wed 13:00-16:00;fri 08:00-11:00"
ROOM_HOURS = "mon 08:00-13:00;wed 13:00-16:00;fri 08:00-11:00"
#: Refusals a step may meet; anything else raised fails the model.
REFUSALS = {
    "person_busy",
    "room_full",
    "room_closed",
    "mode_online_only",
    "mode_offline_only",
    "session_not_open",
    "week_taken",
}
@contextlib.contextmanager
def _blind(on: bool):
    """The services' own checks miss every booked session (the database's rules still stand)."""
    if not on:
        yield
        return
    overlapping = sessions._overlapping
    with (
        mock.patch.object(sessions, "_overlapping", lambda *a, **k: overlapping(*a, **k).where(false())),
        mock.patch.object(sessions, "_booked", lambda *a, **k: []),
    ):
        yield


class SessionBooking(OnTestDatabase):
    """Two or three mentors with several mentees each, some meeting only in person, small rooms."""

    def __init__(self):
        super().__init__()
        self.match_ids: list[int] = []
        self.room_ids: list[str] = []
        self.staff_id = 0
        self.proposed: set[dt.date] = set()
        self.refusals: Counter[str] = Counter()

    # --- helpers ------------------------------------------------------------------------------

    def _step(self, action, blind: bool = False):
        """Run one action in a savepoint; a refusal rolls it back and is returned, not raised."""
        try:
            with _blind(blind), self.db.begin_nested():
                return action()
        except ServiceError as exc:
            assert exc.code in REFUSALS, exc
            # With the services' checks on, a clash is their refusal (InvalidInput) or is never
            # proposed: only blinded steps may reach the database's rules (refused as a Conflict).
            assert blind or not (isinstance(exc, Conflict) and exc.code in ("person_busy", "room_full")), exc
            self.refusals[f"{exc.code}{' (blind)' if blind else ''}"] += 1
            return exc
        finally:
            self.db.expire_all()

    def _draw_session(self, data) -> MentoringSession | None:
        """One of the model's sessions, drawn by Hypothesis (None while there are none)."""
        rows = self._sessions()
        return data.draw(st.sampled_from(rows)) if rows else None

    def _sessions(self) -> list[MentoringSession]:
        return list(
            self.db.scalars(
                select(MentoringSession)
                .where(MentoringSession.match_id.in_(self.match_ids))
                .order_by(MentoringSession.id)
            )
        )

    def _rows(self) -> list[tuple]:
        return [
            (r.id, r.match_id, r.week_start, r.starts_at, r.ends_at, r.mode, r.room_id, r.status)
            for r in self._sessions()
        ]

    def _user_of(self, row: MentoringSession, mentor_side: bool):
        match = self.db.get(Match, row.match_id)
        person = match.mentor if mentor_side else match.entrepreneur
        return person.user

    # --- set-up -------------------------------------------------------------------------------

    @initialize(
        capacities=st.lists(st.integers(0, 2), min_size=1, max_size=2),
        mentors=st.integers(2, 3),
        modes=st.lists(st.sampled_from(("online", "offline", "either")), min_size=3, max_size=7),
    )
    def people(self, capacities, mentors, modes):
        for n, capacity in enumerate(capacities):
            room = Room(
                id=f"SM-ROOM-{n}",  # each example's rows are rolled back at its end
                kecamatan_code="31.71.01",
                name=f"PPKUKM Gambir {n}",
                capacity=capacity,
                availability=ROOM_HOURS,
            )
            self.db.add(room)
            self.room_ids.append(room.id)
        self.staff_id = make_user(self.db, Role.STAFF).id
        mentor_rows = [
            make_mentor(self.db, make_user(self.db, Role.MENTOR), capacity=4, availability=MENTOR_HOURS)
            for _ in range(mentors)
        ]
        for i, mode in enumerate(modes):
            e = make_entrepreneur(
                self.db, make_user(self.db, Role.ENTREPRENEUR), mode=mode, availability=ENTREPRENEUR_HOURS
            )
            match = Match(
                entrepreneur_id=e.id,
                mentor_id=mentor_rows[i % mentors].id,
                status="active",
                started_at=dt.datetime(2026, 11, 2, 3, tzinfo=dt.UTC),
            )
            self.db.add(match)
            self.db.flush()
            self.match_ids.append(match.id)

    # --- rules --------------------------------------------------------------------------------

    @rule(week=st.integers(0, WEEKS - 1), blind=st.booleans())
    def propose_week(self, week, blind):
        monday = MONDAY + dt.timedelta(weeks=week)
        before = self._rows()
        first = self._step(
            lambda: sessions.propose_sessions_for_week(self.db, monday, now=NOW, time_limit=0.5), blind
        )
        rows = self._rows()
        if isinstance(first, ServiceError):  # refused whole: not a row of it, not the claim
            assert rows == before
            assert self.db.get(JobRun, (sessions.JOB_NAME, monday)) is None
            return
        assert first.status == ("already_done" if monday in self.proposed else "done")
        self.proposed.add(monday)
        again = self._step(
            lambda: sessions.propose_sessions_for_week(self.db, monday, now=NOW, time_limit=0.5), blind
        )
        assert again.status == "already_done"
        assert self._rows() == rows  # the weekly job run twice gives the same rows

    @precondition(lambda self: self.proposed)
    @rule(
        data=st.data(),
        week=st.integers(0, WEEKS - 1),
        day=st.sampled_from((0, 2, 4)),
        minute=st.sampled_from(range(8 * 60, 15 * 60 + 1, 30)),
        in_room=st.booleans(),
        blind=st.booleans(),
    )
    def staff_move(self, data, week, day, minute, in_room, blind):
        row = self._draw_session(data)
        if row is None:
            return
        room_id = data.draw(st.sampled_from(self.room_ids)) if in_room else None
        start = dt.datetime.combine(
            MONDAY + dt.timedelta(weeks=week, days=day), dt.time(minute // 60, minute % 60), tzinfo=WIB
        )
        self._step(lambda: sessions.move_session(self.db, self.staff_id, row.id, start, room_id), blind)

    @precondition(lambda self: self.proposed)
    @rule(data=st.data(), mentor_side=st.booleans(), blind=st.booleans())
    def ask_another_time(self, data, mentor_side, blind):
        row = self._draw_session(data)
        if row is None:
            return
        user = self._user_of(row, mentor_side)
        self._step(lambda: sessions.ask_another_time(self.db, user, row.id, now=NOW, time_limit=0.5), blind)

    @precondition(lambda self: self.proposed)
    @rule(data=st.data(), mentor_side=st.booleans(), decline=st.booleans())
    def answer(self, data, mentor_side, decline):
        row = self._draw_session(data)
        if row is None:
            return
        user = self._user_of(row, mentor_side)
        action = sessions.decline if decline else sessions.confirm
        self._step(lambda: action(self.db, user, row.id))

    # --- invariants ---------------------------------------------------------------------------

    @invariant()
    def nobody_is_in_two_booked_sessions_at_once(self):
        assert_no_one_booked_twice_at_once(
            ((("e", row.entrepreneur_id), ("m", row.mentor_id)), (row.starts_at, row.ends_at))
            for row in self._sessions()
            if row.status in sessions.BOOKED_STATES
        )

    @invariant()
    def no_room_holds_more_booked_sessions_at_once_than_its_capacity(self):
        assert_no_room_over_capacity(self.db, self.room_ids, self._sessions())

    @invariant()
    def each_week_is_claimed_once(self):
        assert_each_week_claimed_once(self.db, self.proposed)


@pytest.mark.slow
def test_no_sequence_of_proposals_moves_and_answers_double_books_a_person_or_a_room(engine):
    run(SessionBooking, engine, PROFILE)
