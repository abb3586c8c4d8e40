"""A stateful model of the mentoring workflow (TST-2): Hypothesis drives the services in random order
on the test database and checks the invariants after every step.

Sessions (CON-8): weekly runs (each made twice: the second changes no row), some pairs meeting only
in person in two small rooms; nobody is ever in two booked sessions at once and no room ever holds
more booked sessions at a moment than its capacity. ``test_session_model.py`` models the sessions
themselves (moves, other times, answers, with and without the services' own checks).

Staff (TST-2, CON-6): cohort runs (through ``cohorts.run_cohort``, each made twice in a row, in
half the examples one over the first people at once) write draft proposals that staff approve (ticked
ones, at the version they saw or none, or every draft of a run), reject or swap to another mentor,
as the review page and the API do. Each step's refusal is the one the service owes (a proposal no
longer a draft, a stale version, the same mentor), a refused step changes nothing,
and after every step: no open request or proposal twice per pair; no proposal is answered, accepted
or expired unless a staff member sent it (a ``draft -> pending`` change and ``sent_at``); one staff
never sent is in nobody's inbox or request list; a rejected proposal stays rejected and nobody takes
one a mentor was swapped away from. A run tells nobody and never promises a mentor more places than
they have; neither does a swap, and a mentor the swap page offers is one swap takes. Three faults in
the app were found while writing these rules: the API listed drafts closed before staff sent them,
and the swap page offered mentors the entrepreneur had asked (both fixed, tests at the end); staff
can still send a proposal to an entrepreneur who waits on three mentors already (a strict xfail at
the end, until the programme decides whether staff proposals count against that limit).

Each example runs in its own outer transaction, rolled back at its end; each step runs in a
savepoint that a refused action rolls back, as a web request's rollback would. The clock only moves
forward and is handed to the services that take ``now``.

Profiles: ``workflow-ci`` (the default: derandomized, 50 examples of up to 25 steps) and
``workflow-explore`` (random, 200 examples), chosen with ``WORKFLOW_PROFILE``.
"""

from __future__ import annotations

import datetime as dt
import os
from collections import Counter

import pytest
from hypothesis import HealthCheck, Phase, settings
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
    Notification,
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
from webapp.services import cohorts, directory, journeys, mentorship, profiles, sessions
from webapp.services.errors import Conflict, NotFound, ServiceError, StaleVersion

settings.register_profile(
    "workflow-ci",
    max_examples=50,
    stateful_step_count=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
    # A failure is shrunk and reported within the test timeout: one bug at a time, and no explain
    # phase (its line tracing made a report take over five minutes).
    report_multiple_bugs=False,
    phases=[phase for phase in Phase if phase is not Phase.explain],
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
#: Which version of a proposal staff saw when they decided: none given (``all`` on the review
#: page), the current one, or one someone else has changed since.
SEEN = ("none", "current", "stale")
#: A cohort proposal's states once staff have sent it to its mentor.
SENT_STATES = ("pending", "accepted", "declined", "expired", "withdrawn")


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
        self.staff_id: int | None = None
        #: Whether staff run a cohort over the first people as soon as both are registered.
        self.first_run = False
        self.run_ids: list[int] = []  # the cohort runs that made proposals, and those proposals
        self.proposal_ids: list[int] = []
        #: Unsent proposal id -> (status, mentor) when last checked invisible to its people.
        self.unsent_seen: dict[int, tuple[str, int]] = {}
        self.rejected: set[int] = set()
        #: Proposal id -> the mentors staff swapped it away from (and not back to).
        self.swapped_away: dict[int, set[int]] = {}

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
        ids = [self._new_entrepreneur(mode) for mode in modes]
        self._first_cohort_run()
        return multiple(*ids)

    @initialize(
        target=mentors,
        capacities=st.lists(st.integers(1, 3), min_size=2, max_size=3),
        cohort=st.booleans(),
    )
    def first_mentors(self, capacities, cohort):
        ids = [self._new_mentor(c) for c in capacities]
        self.first_run = cohort
        self._first_cohort_run()
        return multiple(*ids)

    def _first_cohort_run(self) -> None:
        """In half the examples staff review proposals from the start: a run over the first people."""
        if self.first_run and self.e_ids and self.m_ids:
            self.first_run = False
            self._run_cohort(fair=False)

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

    def _accept(self, request_id: int, mentor_id: int) -> object | ServiceError:
        before = self.db.get(Mentor, mentor_id).active_count
        result = self._step(
            lambda: mentorship.accept_request(self.db, self.db.get(Mentor, mentor_id), request_id)
        )
        after = self.db.get(Mentor, mentor_id).active_count
        assert after == before + (0 if isinstance(result, ServiceError) else 1)
        return result

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

    # --- staff: cohort runs and the review of their proposals ---------------------------------

    def _staff(self) -> int:
        if self.staff_id is None:
            self.staff_id = make_user(self.db, Role.STAFF).id
        return self.staff_id

    def _proposals(self, *statuses: str) -> list[MatchRequest]:
        stmt = select(MatchRequest).where(
            MatchRequest.entrepreneur_id.in_(self.e_ids), MatchRequest.origin == "cohort"
        )
        if statuses:
            stmt = stmt.where(MatchRequest.status.in_(statuses))
        return list(self.db.scalars(stmt.order_by(MatchRequest.id)))

    def _proposal_state(self, request_id: int) -> tuple:
        req = self.db.get(MatchRequest, request_id)
        return req.status, req.mentor_id, req.version, req.sent_at

    def _version_seen(self, request_id: int, seen: str) -> int | None:
        version = self.db.get(MatchRequest, request_id).version
        return {"none": None, "current": version, "stale": version - 1}[seen]

    def _promised(self, mentor_id: int) -> int:
        """A mentor's active mentees plus the cohort proposals still open to them."""
        open_proposals = self.db.scalar(
            select(func.count())
            .select_from(MatchRequest)
            .where(
                MatchRequest.mentor_id == mentor_id,
                MatchRequest.origin == "cohort",
                MatchRequest.status.in_(("draft", "pending")),
            )
        )
        return self.db.get(Mentor, mentor_id).active_count + open_proposals

    def _notifications(self) -> int:
        return self.db.scalar(select(func.count()).select_from(Notification))

    def _refused_as_conflict(self, result, was_status: str, seen: str) -> bool:
        """Whether a staff step was refused; a refusal it had to meet (``seen`` stale, a proposal
        no longer a draft) must be that Conflict."""
        refused = isinstance(result, ServiceError)
        if seen == "stale":
            assert isinstance(result, StaleVersion)
        elif was_status != "draft":
            assert isinstance(result, Conflict) and result.code == "proposal_not_draft"
        return refused

    @precondition(lambda self: self.m_ids)
    @rule(fair=st.booleans())
    def staff_run_a_cohort(self, fair):
        self._run_cohort(fair)

    def _run_cohort(self, fair: bool) -> None:
        """A cohort run, made twice (the second finds the places the first promised taken)."""
        self._run_cohort_once(fair)
        self._run_cohort_once(fair)

    def _run_cohort_once(self, fair: bool) -> None:
        staff_id = self._staff()
        asking = self.db.scalars(
            select(MatchRequest.entrepreneur_id).where(MatchRequest.status.in_(("draft", "pending")))
        )
        waiting = set(self.e_ids) - {m.entrepreneur_id for m in self._matches()} - set(asking)
        told = self._notifications()
        run = self._step(lambda: cohorts.run_cohort(self.db, staff_id=staff_id, fair=fair))
        assert not isinstance(run, ServiceError)
        drafts = [r for r in self._proposals() if r.id not in self.proposal_ids]
        if drafts:
            self.run_ids.append(run.id)
            self.proposal_ids += [r.id for r in drafts]
        assert all(r.status == "draft" and r.cohort_run_id == run.id for r in drafts)
        per_entrepreneur = Counter(r.entrepreneur_id for r in drafts)
        assert set(per_entrepreneur) <= waiting and max(per_entrepreneur.values(), default=0) <= 1
        for mentor_id in {r.mentor_id for r in drafts}:  # drafts never promise a place twice
            assert self._promised(mentor_id) <= self.db.get(Mentor, mentor_id).capacity
        assert self._notifications() == told  # a run tells nobody: staff review first

    @precondition(lambda self: self.proposal_ids)
    @rule(data=st.data(), seen=st.sampled_from(SEEN), only_drafts=st.booleans())
    def staff_approve_ticked_proposals(self, data, seen, only_drafts):
        ids = [r.id for r in self._proposals("draft")] if only_drafts else self.proposal_ids
        if not ids:
            return
        ticked = data.draw(st.lists(st.sampled_from(ids), min_size=1, max_size=3, unique=True))
        before = {i: self._proposal_state(i) for i in ticked}
        versions = None if seen == "none" else {ticked[0]: self._version_seen(ticked[0], seen)}
        result = self._step(lambda: cohorts.approve(self.db, self._staff(), ticked, versions=versions))
        # The service goes through the ids in order and stops at the first it cannot send.
        first = next(
            (i for i in sorted(ticked) if before[i][0] != "draft" or (i == ticked[0] and seen == "stale")),
            None,
        )
        refused = isinstance(result, ServiceError)
        assert refused == (first is not None)
        if refused:  # all or nothing
            self._refused_as_conflict(result, before[first][0], seen if first == ticked[0] else "none")
            assert {i: self._proposal_state(i) for i in ticked} == before
            return
        for i in ticked:
            req = self.db.get(MatchRequest, i)
            assert req.status == "pending" and req.sent_at is not None
            assert i in {r.id for r in journeys.inbox_of(self.db, self.db.get(Mentor, req.mentor_id))}

    @precondition(lambda self: self.proposal_ids)
    @rule(data=st.data())
    def staff_approve_every_draft_of_a_run(self, data):
        run_id = data.draw(st.sampled_from(self.run_ids))
        ids = cohorts.draft_ids(self.db, run_id)
        if not ids:
            return  # the review page approves nothing and says so
        result = self._step(lambda: cohorts.approve(self.db, self._staff(), ids, run_id=run_id))
        assert result == len(ids)
        assert cohorts.draft_ids(self.db, run_id) == []

    @precondition(lambda self: self.proposal_ids)
    @rule(data=st.data(), reason=st.sampled_from(mentorship.REJECT_REASONS), seen=st.sampled_from(SEEN))
    def staff_reject_a_proposal(self, data, reason, seen):
        req_id = data.draw(st.sampled_from(self.proposal_ids))
        before = self._proposal_state(req_id)
        version = self._version_seen(req_id, seen)
        result = self._step(lambda: cohorts.reject(self.db, self._staff(), req_id, reason, version=version))
        refused = self._refused_as_conflict(result, before[0], seen)
        assert refused == (before[0] != "draft" or seen == "stale")
        after = self.db.get(MatchRequest, req_id)
        if refused:
            assert self._proposal_state(req_id) == before
        else:
            assert (after.status, after.response_reason, after.sent_at) == ("rejected", reason, None)
            self.rejected.add(req_id)

    @precondition(lambda self: self.proposal_ids)
    @rule(data=st.data(), m=mentors, seen=st.sampled_from(SEEN), offered=st.booleans())
    def staff_swap_a_proposal_to_another_mentor(self, data, m, seen, offered):
        # A draft and one of the mentors its swap page offers (the best others with a place left),
        # or any proposal and any mentor.
        drafts = [r.id for r in self._proposals("draft")] if offered else []
        req_id = data.draw(st.sampled_from(drafts or self.proposal_ids))
        before = self._proposal_state(req_id)
        old = before[1]
        options = []
        if drafts:
            req = self.db.get(MatchRequest, req_id)
            options = [a.mentor.id for a in cohorts.alternatives(self.db, [req]).get(req_id, [])]
        if options:
            m = data.draw(st.sampled_from(options))
        version = self._version_seen(req_id, seen)
        result = self._step(lambda: cohorts.swap(self.db, self._staff(), req_id, m, version=version))
        refused = self._refused_as_conflict(result, before[0], seen)
        if options and seen != "stale":  # what the swap page offers, swap takes
            assert not refused, result
        if refused:
            assert self._proposal_state(req_id) == before
            if before[0] == "draft" and seen != "stale" and m == old:
                assert result.code == "same_mentor"
            return
        assert before[0] == "draft" and seen != "stale" and m != old
        after = self.db.get(MatchRequest, req_id)
        assert (after.status, after.mentor_id, after.sent_at) == ("draft", m, None)
        mentor = self.db.get(Mentor, m)
        assert not mentor.paused and self._promised(m) <= mentor.capacity
        self.swapped_away.setdefault(req_id, set()).add(old)
        self.swapped_away[req_id].discard(m)

    @precondition(lambda self: self.proposal_ids)
    @rule(data=st.data(), accept=st.booleans(), former=st.booleans())
    def a_mentor_answers_a_proposal(self, data, accept, former):
        """The proposal's mentor, or one staff swapped it away from, accepts or declines it (by a
        crafted request: neither sees a proposal staff have not sent)."""
        req_id = data.draw(st.sampled_from(self.proposal_ids))
        req = self.db.get(MatchRequest, req_id)
        was, mentor_id = req.status, req.mentor_id
        if former and self.swapped_away.get(req_id):
            mentor_id = data.draw(st.sampled_from(sorted(self.swapped_away[req_id])))
        if accept:
            result = self._accept(req_id, mentor_id)
        else:
            mentor = self.db.get(Mentor, mentor_id)
            result = self._step(lambda: mentorship.decline_request(self.db, mentor, req_id, reason="other"))
        if was in ("draft", "rejected") or mentor_id != req.mentor_id:
            assert isinstance(result, NotFound)
        elif not accept:
            assert isinstance(result, ServiceError) == (was != "pending")

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

    @invariant()
    def one_open_request_or_proposal_per_pair(self):
        if not self.e_ids:
            return
        pairs = self.db.execute(
            select(MatchRequest.entrepreneur_id, MatchRequest.mentor_id).where(
                MatchRequest.entrepreneur_id.in_(self.e_ids), MatchRequest.status.in_(("draft", "pending"))
            )
        ).all()
        assert max(Counter(pairs).values(), default=0) <= 1

    @invariant()
    def proposals_reach_people_only_once_staff_sent_them(self):
        if not self.proposal_ids:
            return
        proposals = self._proposals()
        approved = set(
            self.db.scalars(
                select(StatusChange.request_id).where(
                    StatusChange.request_id.in_([r.id for r in proposals]),
                    StatusChange.from_status == "draft",
                    StatusChange.to_status == "pending",
                    StatusChange.actor_id == self.staff_id,
                )
            )
        )
        unsent = []
        for req in proposals:
            assert (req.id in approved) == (req.sent_at is not None)
            if req.status in SENT_STATES:
                assert req.id in approved  # no mentee (or answer) without a staff approval
            elif req.id not in approved:
                unsent.append(req)
        # What staff never sent is not shown to its mentor or its entrepreneur. Whether a view shows
        # a request depends on that request's row alone: look again only at those that changed.
        changed = [r for r in unsent if self.unsent_seen.get(r.id) != (r.status, r.mentor_id)]
        ids = {r.id for r in changed}
        for mentor_id in {r.mentor_id for r in changed}:
            inbox = journeys.inbox_of(self.db, self.db.get(Mentor, mentor_id))
            assert not ids & {r.id for r in inbox}
        for entrepreneur_id in {r.entrepreneur_id for r in changed}:
            listed = journeys.requests_of(self.db, self.db.get(Entrepreneur, entrepreneur_id))
            assert not ids & {r.id for r in listed}
        # The API's lists too, drafts closed before staff sent them included.
        for r in changed:
            assert r.id not in {x.id for x in directory.requests_received(self.db, r.mentor_id)}
            assert r.id not in {x.id for x in directory.requests_sent(self.db, r.entrepreneur_id)}
        self.unsent_seen.update((r.id, (r.status, r.mentor_id)) for r in changed)

    @invariant()
    def staff_decisions_stand(self):
        if self.rejected:  # a rejected proposal is never sent, accepted or changed
            rows = self.db.execute(
                select(MatchRequest.status, MatchRequest.sent_at).where(MatchRequest.id.in_(self.rejected))
            ).all()
            assert set(rows) == {("rejected", None)}
        if self.swapped_away:  # nor is one by a mentor staff swapped it away from
            matched = {(m.request_id, m.mentor_id) for m in self._matches(None)}
            for req_id, mentors in self.swapped_away.items():
                assert not {(req_id, m) for m in mentors} & matched


@pytest.mark.slow
def test_the_mentoring_workflow_keeps_its_invariants_under_any_sequence_of_actions(engine):
    run(MentoringWorkflow, engine, PROFILE)


# --- faults the model exposes in the app, kept here until the services are fixed ----------------


def _draft_and_three_requests(db):
    """A cohort draft for an entrepreneur who then asked three other mentors themselves (profiles
    without accounts: nothing here depends on one)."""
    entrepreneur = make_entrepreneur(db, availability=ENTREPRENEUR_HOURS)
    make_mentor(db, availability=MENTOR_HOURS)
    run = cohorts.run_cohort(db, staff_id=None)
    (draft_id,) = cohorts.draft_ids(db, run.id)
    others = [make_mentor(db, availability=MENTOR_HOURS) for _ in range(3)]
    asked = [mentorship.request_mentor(db, entrepreneur, m.id) for m in others]
    return entrepreneur, draft_id, others, asked


@pytest.mark.xfail(
    strict=True,
    reason="cohorts.approve sends a draft whatever the entrepreneur waits on: a fourth open request",
)
def test_approving_a_proposal_keeps_the_entrepreneur_within_three_open_requests(db):
    entrepreneur, draft_id, _others, _asked = _draft_and_three_requests(db)
    try:
        with db.begin_nested():
            cohorts.approve(db, None, [draft_id])
    except Conflict:
        pass  # refusing is one way to keep the limit
    assert len(mentorship.open_requests(db, entrepreneur.id)) <= mentorship.MAX_OPEN_REQUESTS


def test_a_proposal_staff_never_sent_is_not_listed_by_the_api(db):
    entrepreneur, draft_id, others, asked = _draft_and_three_requests(db)
    mentorship.accept_request(db, others[0], asked[0].id)  # closes the draft: matched elsewhere
    draft = db.get(MatchRequest, draft_id)
    assert (draft.status, draft.sent_at) == ("closed", None)
    assert draft_id not in {r.id for r in directory.requests_received(db, draft.mentor_id)}
    assert draft_id not in {r.id for r in directory.requests_sent(db, entrepreneur.id)}
    with pytest.raises(NotFound):
        directory.own_request(db, draft_id, mentor_id=draft.mentor_id)
    with pytest.raises(NotFound):  # not a 409 that names its status
        mentorship.withdraw_request(db, entrepreneur, draft_id)


def test_the_swap_page_offers_no_mentor_the_entrepreneur_has_asked(db):
    _entrepreneur, draft_id, others, _asked = _draft_and_three_requests(db)
    free = make_mentor(db, availability=MENTOR_HOURS)
    draft = db.get(MatchRequest, draft_id)
    offered = {a.mentor.id for a in cohorts.alternatives(db, [draft], top=3)[draft_id]}
    assert offered == {free.id}  # each of the others has the entrepreneur's request
