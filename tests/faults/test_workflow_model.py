"""A stateful model of the mentoring workflow (TST-2): Hypothesis drives the services in random order
on the test database and checks the invariants after every step.

Sessions (CON-8): weekly runs (each made twice: the second changes no row), some pairs meeting only
in person in two small rooms; nobody is ever in two booked sessions at once and no room ever holds
more booked sessions at a moment than its capacity. ``test_session_model.py`` models the sessions
themselves (moves, other times, answers, with and without the services' own checks).

Each example runs in its own outer transaction, rolled back at its end; each step runs in a
savepoint that a refused action rolls back, as a web request's rollback would. The clock only moves
forward and is handed to the services that take ``now``.

Profiles: ``workflow-ci`` (the default: derandomized, 40 examples of up to 20 steps) and
``workflow-explore`` (random, 200 examples), chosen with ``WORKFLOW_PROFILE``.
"""

from __future__ import annotations

import datetime as dt
import os
from collections import Counter

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    initialize,
    invariant,
    multiple,
    precondition,
    rule,
)
from sqlalchemy import func, select

from models import (
    Entrepreneur,
    Match,
    MatchRequest,
    Mentor,
    MentoringSession,
    Role,
    Room,
    StatusChange,
    User,
    utcnow,
)
from tests.factories import make_entrepreneur, make_mentor, make_user
from tests.faults.booking_checks import (
    assert_each_week_claimed_once,
    assert_no_one_booked_twice_at_once,
    assert_no_room_over_capacity,
)
from tests.faults.state_machines import OnTestDatabase, run
from webapp.services import mentorship, profiles, sessions
from webapp.services.errors import ServiceError

settings.register_profile(
    "workflow-ci",
    max_examples=50,
    stateful_step_count=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)
settings.register_profile(
    "workflow-explore",
    parent=settings.get_profile("workflow-ci"),
    max_examples=200,
    derandomize=False,
)
PROFILE = settings.get_profile(os.environ.get("WORKFLOW_PROFILE", "workflow-ci"))

MENTOR_HOURS = "mon 09:00-12:00;wed 13:00-15:00"
ENTREPRENEUR_HOURS = "mon 08:00-13:00;wed 13:00-16:00;fri 08:00-10:00"
#: Rooms in the entrepreneurs' kecamatan, open when the mentors are, for one and for two sessions.
ROOM_HOURS = "mon 09:00-12:00;wed 13:00-15:00;fri 08:00-10:00"
ROOM_CAPACITIES = (1, 2)


class MentoringWorkflow(OnTestDatabase):
    """Entrepreneurs and mentors register, ask, answer, expire, end, meet and give feedback."""

    entrepreneurs = Bundle("entrepreneurs")
    mentors = Bundle("mentors")

    def __init__(self):
        super().__init__()
        self.now = utcnow()
        self.e_ids: list[int] = []
        self.m_ids: list[int] = []
        self.weeks_proposed: Counter[dt.date] = Counter()
        self.room_ids: list[str] = []

    # --- helpers ------------------------------------------------------------------------------

    def _step(self, action) -> object | ServiceError:
        """Run one action in a savepoint; a refusal rolls it back and is returned, not raised."""
        try:
            with self.db.begin_nested():
                return action()
        except ServiceError as exc:
            return exc
        finally:
            self.db.expire_all()

    def _requests(self, *statuses: str) -> list[int]:
        stmt = select(MatchRequest.id).where(MatchRequest.entrepreneur_id.in_(self.e_ids))
        if statuses:
            stmt = stmt.where(MatchRequest.status.in_(statuses))
        return list(self.db.scalars(stmt.order_by(MatchRequest.id)))

    def _matches(self, status: str | None = "active") -> list[Match]:
        stmt = select(Match).where(Match.mentor_id.in_(self.m_ids))
        if status:
            stmt = stmt.where(Match.status == status)
        return list(self.db.scalars(stmt.order_by(Match.id)))

    def _sessions(self) -> list[MentoringSession]:
        ids = [m.id for m in self._matches(None)]
        return list(
            self.db.scalars(
                select(MentoringSession)
                .where(MentoringSession.match_id.in_(ids))
                .order_by(MentoringSession.id)
            )
        )

    # --- rules --------------------------------------------------------------------------------

    def _session_rows(self) -> list[tuple]:
        """Every session of the model's matches as comparable values."""
        return [
            (r.id, r.match_id, r.week_start, r.starts_at, r.ends_at, r.mode, r.room_id, r.status)
            for r in self._sessions()
        ]

    def _new_entrepreneur(self, mode: str = "online") -> int:
        user = make_user(self.db, Role.ENTREPRENEUR)
        row = make_entrepreneur(self.db, user, mode=mode, availability=ENTREPRENEUR_HOURS)
        self.e_ids.append(row.id)
        return row.id

    def _new_mentor(self, capacity: int) -> int:
        user = make_user(self.db, Role.MENTOR)
        row = make_mentor(self.db, user, capacity=capacity, mode="either", availability=MENTOR_HOURS)
        self.m_ids.append(row.id)
        return row.id

    @initialize(target=entrepreneurs)
    def first_entrepreneurs(self):
        for capacity in ROOM_CAPACITIES:
            room = Room(
                id=f"WF-ROOM-{capacity}",  # each example's rows are rolled back at its end
                kecamatan_code="31.71.01",
                name="PPKUKM Gambir",
                capacity=capacity,
                availability=ROOM_HOURS,
            )
            self.db.add(room)
            self.db.flush()
            self.room_ids.append(room.id)
        modes = ("online", "offline", "either", "offline")
        return multiple(*(self._new_entrepreneur(mode) for mode in modes))

    @initialize(target=mentors, capacities=st.lists(st.integers(1, 3), min_size=2, max_size=3))
    def first_mentors(self, capacities):
        return multiple(*(self._new_mentor(c) for c in capacities))

    @rule(target=entrepreneurs, mode=st.sampled_from(("online", "offline", "either")))
    def register_entrepreneur(self, mode):
        return self._new_entrepreneur(mode)

    @rule(target=mentors, capacity=st.integers(1, 3))
    def register_mentor(self, capacity):
        return self._new_mentor(capacity)

    @rule(e=entrepreneurs, ms=st.lists(mentors, min_size=1, max_size=4))
    def request(self, e, ms):
        for m in ms:
            before = len(self._requests("pending"))
            result = self._step(
                lambda m=m: mentorship.request_mentor(self.db, self.db.get(Entrepreneur, e), m)
            )
            after = len(self._requests("pending"))
            assert after == before + (0 if isinstance(result, ServiceError) else 1)

    @precondition(lambda self: self.e_ids)
    @rule(data=st.data())
    def withdraw(self, data):
        ids = self._requests()
        if not ids:
            return
        req_id = data.draw(st.sampled_from(ids))
        req = self.db.get(MatchRequest, req_id)
        was, owner = req.status, req.entrepreneur_id
        result = self._step(
            lambda: mentorship.withdraw_request(self.db, self.db.get(Entrepreneur, owner), req_id)
        )
        assert isinstance(result, ServiceError) == (was != "pending")

    def _accept(self, request_id: int, mentor_id: int) -> None:
        before = self.db.get(Mentor, mentor_id).active_count
        result = self._step(
            lambda: mentorship.accept_request(self.db, self.db.get(Mentor, mentor_id), request_id)
        )
        after = self.db.get(Mentor, mentor_id).active_count
        assert after == before + (0 if isinstance(result, ServiceError) else 1)

    @precondition(lambda self: self.e_ids)
    @rule(data=st.data())
    def mentor_accepts_a_pending_request(self, data):
        ids = self._requests("pending")
        if ids:
            req = self.db.get(MatchRequest, data.draw(st.sampled_from(ids)))
            self._accept(req.id, req.mentor_id)

    @precondition(lambda self: self.e_ids)
    @rule(data=st.data(), m=mentors)
    def any_mentor_accepts_any_request(self, data, m):
        ids = self._requests()
        if ids:
            self._accept(data.draw(st.sampled_from(ids)), m)

    @rule(e=entrepreneurs, m=mentors)
    def asked_and_accepted_at_once(self, e, m):
        req = self._step(lambda: mentorship.request_mentor(self.db, self.db.get(Entrepreneur, e), m))
        if not isinstance(req, ServiceError):
            self._accept(req.id, m)

    @precondition(lambda self: self.e_ids)
    @rule(data=st.data(), reason=st.sampled_from(mentorship.DECLINE_REASONS))
    def decline(self, data, reason):
        ids = self._requests()
        if not ids:
            return
        req = self.db.get(MatchRequest, data.draw(st.sampled_from(ids)))
        was = req.status
        result = self._step(
            lambda: mentorship.decline_request(
                self.db, self.db.get(Mentor, req.mentor_id), req.id, reason=reason
            )
        )
        assert isinstance(result, ServiceError) == (was != "pending")

    @rule(days=st.integers(0, 4))
    def expire(self, days):
        self.now += dt.timedelta(days=days)
        self._step(lambda: mentorship.expire_requests(self.db, now=self.now))
        stale = self.db.scalar(
            select(func.count())
            .select_from(MatchRequest)
            .where(
                MatchRequest.id.in_(self._requests("pending")),
                MatchRequest.sent_at <= self.now - mentorship.REQUEST_TTL,
            )
        )
        assert stale == 0

    @rule(data=st.data(), reason=st.sampled_from(mentorship.END_REASONS))
    def end_match(self, data, reason):
        matches = self._matches(None)
        if not matches:
            return
        match = data.draw(st.sampled_from(matches))
        was = match.status
        result = self._step(lambda: mentorship.end_match(self.db, match.id, reason=reason))
        assert isinstance(result, ServiceError) == (was != "active")

    @rule(m=mentors, capacity=st.integers(0, 4))
    def change_capacity(self, m, capacity):
        mentor = self.db.get(Mentor, m)
        held = mentor.active_count
        user = self.db.get(User, mentor.user_id)
        data = {
            "company": mentor.company,
            "sectors": mentor.sectors,
            "stages": mentor.stages,
            "kecamatan": mentor.kecamatan_code,
            "expertise": mentor.expertise,
            "capacity": str(capacity),
            "languages": mentor.languages,
            "mode": mentor.mode,
            "availability": mentor.availability,
            "gender": mentor.gender,
            "bio": mentor.bio,
        }
        result = self._step(lambda: profiles.save_mentor_profile(self.db, user, data))
        refused = isinstance(result, ServiceError)
        assert refused == (capacity < max(held, 1))
        assert self.db.get(Mentor, m).capacity == (mentor.capacity if refused else capacity)

    @precondition(lambda self: self.m_ids and self._matches())
    @rule(weeks_ahead=st.integers(1, 3))
    def propose_week(self, weeks_ahead):
        monday = sessions.week_monday(self.now) + dt.timedelta(weeks=weeks_ahead)
        first = self._step(
            lambda: sessions.propose_sessions_for_week(self.db, monday, now=self.now, time_limit=0.5)
        )
        rows = self._session_rows()
        again = self._step(
            lambda: sessions.propose_sessions_for_week(self.db, monday, now=self.now, time_limit=0.5)
        )
        assert again.status == "already_done"
        assert self._session_rows() == rows  # the weekly job run twice gives the same rows
        assert first.status == ("already_done" if self.weeks_proposed[monday] else "done")
        self.weeks_proposed[monday] += 1

    @rule(
        data=st.data(),
        happened=st.booleans(),
        rating=st.none() | st.integers(1, 5),
        mentor_side=st.booleans(),
    )
    def record_feedback(self, data, happened, rating, mentor_side):
        rows = self._sessions()
        if not rows:
            return
        row = data.draw(st.sampled_from(rows))
        match = self.db.get(Match, row.match_id)
        person = (
            self.db.get(Mentor, match.mentor_id)
            if mentor_side
            else self.db.get(Entrepreneur, match.entrepreneur_id)
        )
        user = self.db.get(User, person.user_id)
        self._step(lambda: sessions.record_feedback(self.db, user, row.id, happened, rating, now=self.now))

    @rule(hours=st.integers(1, 240))
    def advance_clock(self, hours):
        self.now += dt.timedelta(hours=hours)

    # --- invariants ---------------------------------------------------------------------------

    @invariant()
    def places_match_the_active_mentorships(self):
        if not self.m_ids:
            return
        active = Counter(m.mentor_id for m in self._matches())
        for mentor in self.db.scalars(select(Mentor).where(Mentor.id.in_(self.m_ids))):
            assert mentor.active_count == active[mentor.id]
            assert mentor.active_count <= mentor.capacity

    @invariant()
    def one_active_mentorship_and_three_open_requests_per_entrepreneur(self):
        if not self.e_ids:
            return
        assert max(Counter(m.entrepreneur_id for m in self._matches()).values(), default=0) <= 1
        pending = Counter(
            self.db.scalars(
                select(MatchRequest.entrepreneur_id).where(MatchRequest.id.in_(self._requests("pending")))
            )
        )
        assert max(pending.values(), default=0) <= mentorship.MAX_OPEN_REQUESTS

    @invariant()
    def no_request_is_accepted_twice_and_each_mentorship_has_its_request(self):
        if not self.e_ids:
            return
        accepted_logs = Counter(
            self.db.scalars(
                select(StatusChange.request_id).where(
                    StatusChange.request_id.in_(self._requests()), StatusChange.to_status == "accepted"
                )
            )
        )
        assert max(accepted_logs.values(), default=0) <= 1
        matches = self._matches(None)
        assert max(Counter(m.request_id for m in matches).values(), default=0) <= 1
        for match in matches:
            if match.status != "active":
                continue
            req = self.db.get(MatchRequest, match.request_id)
            assert req is not None and req.status == "accepted"
            assert (req.entrepreneur_id, req.mentor_id) == (match.entrepreneur_id, match.mentor_id)
        accepted = set(self._requests("accepted"))
        assert accepted == {m.request_id for m in matches}

    @invariant()
    def nobody_is_in_two_sessions_at_once(self):
        if not self.m_ids:
            return
        booked = []
        for row in self._sessions():
            if row.status in sessions.BOOKED_STATES:
                match = self.db.get(Match, row.match_id)
                booked.append(
                    ((("e", match.entrepreneur_id), ("m", match.mentor_id)), (row.starts_at, row.ends_at))
                )
        assert_no_one_booked_twice_at_once(booked)

    @invariant()
    def no_room_holds_more_sessions_at_once_than_its_capacity(self):
        assert_no_room_over_capacity(self.db, self.room_ids, self._sessions())

    @invariant()
    def each_week_is_claimed_once(self):
        assert_each_week_claimed_once(self.db, self.weeks_proposed)


@pytest.mark.slow
def test_the_mentoring_workflow_keeps_its_invariants_under_any_sequence_of_actions(engine):
    run(MentoringWorkflow, engine, PROFILE)
