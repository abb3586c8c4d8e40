"""Every object is scoped to its owner: each route of ``app.url_map`` that takes an id, pages and API.

A route takes an id when one of its arguments has an int converter or is named like one (``..._id``,
``token``). ``OWNED`` names, for each such route whose object belongs to a person, the kind of object
and the roles that own one. For every owner role: the owner (person A) gets an answer (200 for a
page; for a write anything below 500 but 401, 403 or 404), another person of the same role (B, who has
such an object of their own) gets 404 for the very same URL and changes nothing, and a missing id is
a 404. ``SHARED`` lists the routes whose object belongs to no person, each with its reason: the roles
it is for get an answer, every other role 403 (changing nothing), a missing id 404, and an object
from outside the one the URL names (another run's proposal, a request that is no proposal) 404.

A route with an id in neither table fails ``test_every_route_with_an_id_is_classified``, so a new
route is classified on purpose.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select
from werkzeug.routing import IntegerConverter, Rule

from models import (
    ApiToken,
    Entrepreneur,
    Match,
    MatchRequest,
    Mentor,
    MentoringSession,
    PasProgress,
    Role,
    SessionFeedback,
    User,
    utcnow,
)
from tests.factories import login, make_entrepreneur, make_mentor, make_user
from webapp.services import api_tokens, calendar, cohorts, directory, mentorship, sessions

LOGGED_IN = ("entrepreneur", "mentor", "staff", "admin")
ENTREPRENEUR = ("entrepreneur",)
MENTOR = ("mentor",)
PEOPLE = ("entrepreneur", "mentor")
STAFF = ("staff", "admin")  # admins count as staff
ID_NAME = re.compile(r"(^|_)id$|^token$")
ARGUMENT = re.compile(r"<(?:[^<>]*:)?(\w+)>")
#: What a missing object's id looks like in a URL: no row ever gets these.
MISSING_INT, MISSING_TEXT, MISSING_TOKEN = "2147483647", "NOPE-404", "not-a-real-token"


# --- the classification ---------------------------------------------------------------------------


Body = dict | Callable | None  # a form (pages) or JSON (API) for a write; or (World, args) -> one


@dataclass(frozen=True)
class Owned:
    """An object that belongs to a person; ``roles`` are the roles that own one."""

    kind: str
    roles: tuple[str, ...]
    body: Body = None
    changes: bool = False  # the owner's write changes the object, so "B changed nothing" can fail


@dataclass(frozen=True)
class Shared:
    """An object no person owns (``reason``); ``roles`` may act on it, other roles get 403."""

    kind: str
    roles: tuple[str, ...]
    reason: str
    body: Body = None
    changes: bool = False
    foreign: str | None = None  # an object outside the one the URL names, which must answer 404


def _swap_body(world: World, args: dict) -> dict:
    return {"mentor_id": world.other_mentor(args["request_id"])}


END = {"reason": "completed"}
DECLINE = {"reason": "schedule"}
REJECT = {"reason": "poor_fit"}
DIRECTORY = "a mentor's public profile: the directory every member may browse"
RUN = "a cohort run and its proposals are programme staff's shared work, not one staff member's"
OTHER_RUN = "another run's proposal"
DIRECT = "a direct request (no proposal)"

OWNED: dict[str, Owned] = {
    # pages: the entrepreneur's requests and mentorship
    "entrepreneur.withdraw": Owned("request", ENTREPRENEUR, changes=True),
    "entrepreneur.end": Owned("match", ENTREPRENEUR, {**END, "rating": "5"}, changes=True),
    # pages: the mentor's inbox and mentees
    "mentor.accept": Owned("request", MENTOR, changes=True),
    "mentor.decline": Owned("request", MENTOR, DECLINE, changes=True),
    "mentor.mentee": Owned("match", MENTOR),
    "mentor.record_progress": Owned("match", MENTOR, {"step": "P1"}, changes=True),
    "mentor.end": Owned("match", MENTOR, END, changes=True),
    # pages: a session belongs to both people of its mentorship
    "sessions.session_ics": Owned("session", PEOPLE),
    "sessions.confirm": Owned("session", PEOPLE, changes=True),
    "sessions.decline": Owned("session", PEOPLE, {"note": "ada acara keluarga"}, changes=True),
    "sessions.another_time": Owned("session", PEOPLE, changes=True),
    "sessions.feedback": Owned("past session", PEOPLE, {"happened": "yes", "rating": "4"}, changes=True),
    # API
    "requests.get_request": Owned("request", PEOPLE),
    "requests.withdraw": Owned("request", ENTREPRENEUR, changes=True),
    "requests.accept": Owned("request", MENTOR, changes=True),
    "requests.decline": Owned("request", MENTOR, DECLINE, changes=True),
    "matches.end": Owned("match", PEOPLE, END, changes=True),
    "me.revoke_token": Owned("token", LOGGED_IN, changes=True),
}

SHARED: dict[str, Shared] = {
    "mentors.get_mentor": Shared("mentor", LOGGED_IN, DIRECTORY),
    "entrepreneur.mentor_profile": Shared("mentor", ENTREPRENEUR, DIRECTORY),
    "entrepreneur.request_mentor": Shared(
        "mentor",
        ENTREPRENEUR,
        DIRECTORY + " (the request it makes is the asker's)",
        {"message": "Halo"},
        True,
    ),
    "sessions.feed": Shared(
        "calendar feed", ("anonymous",), "a capability URL: the secret in it is the only key (no login)"
    ),
    "cohorts.review": Shared("proposal", STAFF, RUN),
    "cohorts.approve_many": Shared(
        "proposal", STAFF, RUN, lambda w, a: {"ids": str(a["request_id"])}, True, OTHER_RUN
    ),
    "cohorts.approve_one": Shared("proposal", STAFF, RUN, None, True, OTHER_RUN),
    "cohorts.reject": Shared("proposal", STAFF, RUN, REJECT, True, OTHER_RUN),
    "cohorts.swap": Shared("proposal", STAFF, RUN, _swap_body, True, OTHER_RUN),
    "staff_api.get_cohort": Shared("proposal", STAFF, RUN),
    "staff_api.get_proposal": Shared("proposal", STAFF, RUN, foreign=DIRECT),
    "staff_api.approve_proposal": Shared("proposal", STAFF, RUN, None, True, DIRECT),
    "staff_api.reject_proposal": Shared("proposal", STAFF, RUN, REJECT, True, DIRECT),
    "staff_api.swap_proposal": Shared("proposal", STAFF, RUN, _swap_body, True, DIRECT),
    "sessions.staff_move": Shared(
        "session", STAFF, "staff oversee every pair's sessions", lambda w, a: w.move_form(), True
    ),
    "staff.member_edit": Shared(
        "member", STAFF, "staff keep every member's record", {"name": "Nama Dikoreksi"}, True
    ),
    "staff.member_objection": Shared(
        "member", STAFF, "staff record objections received outside the app", {"objects": "1"}, True
    ),
}


# --- the routes -----------------------------------------------------------------------------------


def id_arguments(rule: Rule) -> list[str]:
    """The arguments of ``rule`` that name an object, in the order of the path."""
    return [
        name
        for name in ARGUMENT.findall(rule.rule)
        if isinstance(rule._converters[name], IntegerConverter) or ID_NAME.search(name)
    ]


def _missing(rule: Rule, name: str) -> str:
    if isinstance(rule._converters[name], IntegerConverter):
        return MISSING_INT
    return MISSING_TOKEN if name == "token" else MISSING_TEXT


@dataclass(frozen=True)
class Cell:
    """One route, method, case and role: a test of its own."""

    rule: str
    endpoint: str
    method: str
    case: str  # "answers", "another", "missing", "wrong role" or "foreign"
    role: str
    argument: str = ""  # the id made missing
    missing: str = ""

    @property
    def entry(self) -> Owned | Shared:
        return OWNED.get(self.endpoint) or SHARED[self.endpoint]

    def __str__(self) -> str:  # readable test ids
        path = ARGUMENT.sub(r"<\1>", self.rule)
        owner = "its " if isinstance(self.entry, Owned) else ""
        label = {
            "answers": f"{owner}{self.role} is answered",
            "another": f"another {self.role} gets 404",
            "missing": f"missing {self.argument} as {self.role} gets 404",
            "wrong role": f"{self.role} gets 403",
            "foreign": f"{getattr(self.entry, 'foreign', '')} as {self.role} gets 404",
        }[self.case]
        return f"{self.method} {path}: {label}"


def _cells(rule: Rule) -> list[Cell]:
    entry = OWNED.get(rule.endpoint) or SHARED.get(rule.endpoint)
    if entry is None:  # not classified: test_every_route_with_an_id_is_classified fails
        return []
    out = []
    for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
        cell = {"rule": rule.rule, "endpoint": rule.endpoint, "method": method}
        for role in entry.roles:
            out.append(Cell(**cell, case="answers", role=role))
            if isinstance(entry, Owned):
                out.append(Cell(**cell, case="another", role=role))
            out += [
                Cell(**cell, case="missing", role=role, argument=name, missing=_missing(rule, name))
                for name in id_arguments(rule)
            ]
        if isinstance(entry, Shared):
            if "anonymous" not in entry.roles:
                allowed = set(entry.roles) | ({"admin"} if "staff" in entry.roles else set())
                out += [Cell(**cell, case="wrong role", role=r) for r in LOGGED_IN if r not in allowed]
            if entry.foreign:
                out.append(Cell(**cell, case="foreign", role=entry.roles[0]))
    return out


def _id_rules(app) -> list[Rule]:
    return sorted((r for r in app.url_map.iter_rules() if id_arguments(r)), key=lambda r: r.rule)


def _walk() -> list[Cell]:
    from webapp import create_app

    app = create_app({"ENV": "testing", "DATABASE_URL": "sqlite://"})
    cells = [cell for rule in _id_rules(app) for cell in _cells(rule)]
    app.extensions["jakmentor.engine"].dispose()
    return cells


CELLS = _walk()


def url(rule: str, values: dict) -> str:
    """``rule`` with its arguments filled in from ``values``."""
    return ARGUMENT.sub(lambda m: str(values[m.group(1)]), rule)


# --- the world ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Thing:
    """An object made for a cell: the values its URL takes, and a reading of its state in the database."""

    args: dict
    state: Callable[[], tuple]


class World:
    """People of each role on two sides (A and B), and their objects, made as a cell needs them."""

    def __init__(self, db):
        self.db = db
        self.users: dict[tuple[str, str], User] = {}
        self.profiles: dict[tuple[str, str], Entrepreneur | Mentor] = {}
        self.tokens: dict[tuple[str, str], str] = {}
        self.spare_mentors: list[Mentor] = []

    # people

    def user(self, role: str, side: str) -> User:
        """The account of ``role`` on ``side``; entrepreneurs and mentors with a complete profile."""
        if (role, side) not in self.users:
            user = self.users[role, side] = make_user(self.db, Role(role))
            if role == "entrepreneur":
                self.profiles[role, side] = make_entrepreneur(self.db, user)
            elif role == "mentor":
                self.profiles[role, side] = make_mentor(self.db, user)
        return self.users[role, side]

    def profile(self, role: str, side: str):
        self.user(role, side)
        return self.profiles[role, side]

    def token(self, role: str, side: str) -> str:
        if (role, side) not in self.tokens:
            self.tokens[role, side] = api_tokens.create_token(self.db, self.user(role, side), "walk").plain
        return self.tokens[role, side]

    def other_mentor(self, request_id: int) -> int:
        """A mentor with a place who is not the request's mentor (for a swap; any, for a missing request)."""
        req = self.db.get(MatchRequest, int(request_id))
        return next(m.id for m in self._spare_mentors() if req is None or m.id != req.mentor_id)

    def move_form(self) -> dict:
        """Another time for a session in its week (a staff move)."""
        day = sessions.upcoming_monday(utcnow() + dt.timedelta(days=14)) + dt.timedelta(days=2)
        return {"day": day.isoformat(), "start": "11:00", "room": ""}

    # reading

    def _row(self, model, pk, *columns) -> tuple:
        self.db.expire_all()
        row = self.db.get(model, pk)
        return tuple(getattr(row, c) for c in columns)

    def _count(self, model, *where) -> int:
        return self.db.scalar(select(func.count()).select_from(model).where(*where))

    # objects: one maker per kind, each for ``side`` (the acting ``role`` where it matters)

    def make(self, kind: str, side: str, role: str) -> Thing:
        return {
            "request": self.pending_request,
            "match": self.active_match,
            "session": self.upcoming_session,
            "past session": self.past_session,
            "token": self.spare_token,
            "mentor": self.mentor_profile,
            "calendar feed": self.calendar_feed,
            "proposal": self.proposal,
            "member": self.member,
        }[kind](side, role)

    def pending_request(self, side: str, role: str = "") -> Thing:
        req = mentorship.request_mentor(
            self.db, self.profile("entrepreneur", side), self.profile("mentor", side).id, message="Halo"
        )
        return Thing({"request_id": req.id}, lambda: self._row(MatchRequest, req.id, "status", "version"))

    def _match(self, side: str) -> Match:
        req = mentorship.request_mentor(
            self.db, self.profile("entrepreneur", side), self.profile("mentor", side).id
        )
        return mentorship.accept_request(self.db, self.profile("mentor", side), req.id)

    def active_match(self, side: str, role: str) -> Thing:
        match = self._match(side)
        steps = (PasProgress.entrepreneur_id == match.entrepreneur_id,)
        return Thing(
            {"match_id": match.id},
            lambda: (*self._row(Match, match.id, "status", "rating"), self._count(PasProgress, *steps)),
        )

    def _session(self, side: str, monday: dt.date, status: str) -> Thing:
        match = self._match(side)
        start = dt.datetime.combine(monday + dt.timedelta(days=1), dt.time(10), tzinfo=sessions.WIB)
        row = MentoringSession(
            match_id=match.id,
            entrepreneur_id=match.entrepreneur_id,
            mentor_id=match.mentor_id,
            week_start=monday,
            starts_at=start.astimezone(dt.UTC),
            ends_at=(start + dt.timedelta(hours=1)).astimezone(dt.UTC),
            mode="online",
            video_url=sessions.new_video_url(),
            status=status,
            entrepreneur_confirmed=status == "confirmed",
            mentor_confirmed=status == "confirmed",
        )
        self.db.add(row)
        self.db.flush()
        columns = ("status", "entrepreneur_confirmed", "mentor_confirmed", "starts_at", "room_id")
        given = (SessionFeedback.session_id == row.id,)
        return Thing(
            {"session_id": row.id},
            lambda: (*self._row(MentoringSession, row.id, *columns), self._count(SessionFeedback, *given)),
        )

    def upcoming_session(self, side: str, role: str) -> Thing:
        """A proposed session in a week safely ahead."""
        return self._session(side, sessions.upcoming_monday(utcnow() + dt.timedelta(days=14)), "proposed")

    def past_session(self, side: str, role: str) -> Thing:
        """A confirmed session two weeks ago (open for feedback)."""
        return self._session(side, sessions.week_monday(utcnow() - dt.timedelta(days=14)), "confirmed")

    def spare_token(self, side: str, role: str) -> Thing:
        token = api_tokens.create_token(self.db, self.user(role, side), "spare").token
        return Thing({"token_id": token.id}, lambda: self._row(ApiToken, token.id, "revoked_at"))

    def mentor_profile(self, side: str, role: str) -> Thing:
        mentor = self.profile("mentor", side)
        asked = (MatchRequest.mentor_id == mentor.id,)
        return Thing({"mentor_id": mentor.id}, lambda: (self._count(MatchRequest, *asked),))

    def calendar_feed(self, side: str, role: str) -> Thing:
        return Thing({"token": calendar.create_feed_token(self.db, self.user("entrepreneur", side))}, tuple)

    def _spare_mentors(self) -> list[Mentor]:
        if not self.spare_mentors:
            self.spare_mentors = [make_mentor(self.db), make_mentor(self.db)]
        return self.spare_mentors

    def draft_for(self, entrepreneur: Entrepreneur) -> MatchRequest:
        """The draft proposal a new cohort run (by staff A) makes for ``entrepreneur``."""
        self._spare_mentors()
        run = cohorts.run_cohort(self.db, staff_id=self.user("staff", "a").id)
        (req,) = [p for p in directory.run_proposals(self.db, run.id) if p.entrepreneur_id == entrepreneur.id]
        return req

    def proposal(self, side: str, role: str) -> Thing:
        """A new cohort run with a draft proposal for a new entrepreneur."""
        req = self.draft_for(make_entrepreneur(self.db))
        return Thing(
            {"run_id": req.cohort_run_id, "request_id": req.id},
            lambda: self._row(MatchRequest, req.id, "status", "version", "mentor_id"),
        )

    def member(self, side: str, role: str) -> Thing:
        """An entrepreneur without an account, as staff edit them."""
        row = make_entrepreneur(self.db)
        return Thing(
            {"kind": "entrepreneurs", "member_id": row.external_id},
            lambda: self._row(Entrepreneur, row.id, "name", "automated_proposals_objected_at"),
        )

    def foreign(self, name: str, role: str) -> Thing:
        """A URL naming an object outside the one it should (its state is the outsider's)."""
        if name == OTHER_RUN:
            mine, theirs = self.proposal("a", role), self.proposal("b", role)
            return Thing({**mine.args, "request_id": theirs.args["request_id"]}, theirs.state)
        assert name == DIRECT
        return self.pending_request("a")


# --- the tests ------------------------------------------------------------------------------------


def test_every_route_with_an_id_is_classified(app):
    with_ids = {rule.endpoint for rule in _id_rules(app)}
    unclassified = with_ids - OWNED.keys() - SHARED.keys()
    assert not unclassified, f"say in OWNED or SHARED what these routes' ids name: {sorted(unclassified)}"
    assert not (OWNED.keys() | SHARED.keys()) - with_ids, "entries for routes that no longer take an id"
    assert not OWNED.keys() & SHARED.keys()
    assert all(entry.reason for entry in SHARED.values())


def _call(client, world: World, cell: Cell, path: str, body, actor: tuple[str, str] | None):
    """Make the cell's call as ``actor``: a bearer token for the API, a login for the pages."""
    api = path.startswith("/api/")
    headers = {"Authorization": f"Bearer {world.token(*actor)}"} if api and actor else {}
    if actor is not None and not api:
        assert login(client, world.user(*actor).email).status_code == 302
    if cell.method == "GET":
        return client.open(path, method="GET", headers=headers)
    if api:
        return client.open(path, method=cell.method, json=body, headers=headers)
    return client.open(path, method=cell.method, data=body or {})


@pytest.mark.parametrize("cell", CELLS, ids=str)
def test_an_id_route_answers_only_within_its_scope(client, db, cell):
    entry, world = cell.entry, World(db)
    thing = world.make(entry.kind, "a", cell.role)
    args, watched, actor = thing.args, thing.state, (cell.role, "a")
    if cell.case == "another":
        world.make(entry.kind, "b", cell.role)  # B has such an object too: a 404 is not a missing profile
        actor = (cell.role, "b")
    elif cell.case == "missing":
        args = {**args, cell.argument: cell.missing}
    elif cell.case == "foreign":
        outsider = world.foreign(entry.foreign, cell.role)
        args, watched = outsider.args, outsider.state
    if cell.role == "anonymous":
        actor = None
    path = url(cell.rule, args)
    if actor is not None:
        world.token(*actor)  # the account and its token exist before the call
    body = entry.body(world, args) if callable(entry.body) and cell.method != "GET" else entry.body
    db.commit()
    before = watched()

    response = _call(client, world, cell, path, body, actor)

    status = response.status_code
    after = watched()
    if cell.case == "answers":
        assert status < 500, response.get_data(as_text=True)[:500]
        if cell.method == "GET":
            assert status == 200
        assert status not in (401, 403, 404), response.get_data(as_text=True)[:500]
        assert "/login" not in response.headers.get("Location", "")
        if entry.changes and cell.method != "GET":
            assert after != before, "the owner's write changed nothing: this route's check proves nothing"
        return
    assert status == (403 if cell.case == "wrong role" else 404), response.get_data(as_text=True)[:500]
    if path.startswith("/api/"):
        assert response.get_json()["code"] == status
    assert after == before, "a refused call changed the object"


@pytest.mark.parametrize("surface", ["api", "page"])
@pytest.mark.parametrize("status", ["draft", "rejected"])
def test_a_proposal_staff_never_sent_is_not_found_by_its_entrepreneur(client, db, status, surface):
    world = World(db)
    entrepreneur = world.profile("entrepreneur", "a")
    req = world.draft_for(entrepreneur)
    if status == "rejected":
        cohorts.reject(db, world.user("staff", "a").id, req.id, "poor_fit")
    token = world.token("entrepreneur", "a")
    db.commit()
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get(f"/api/v1/requests/{req.id}", headers=headers).status_code == 404
    if surface == "api":
        response = client.post(f"/api/v1/requests/{req.id}/withdraw", headers=headers)
    else:
        login(client, entrepreneur.user.email)
        response = client.post(f"/me/requests/{req.id}/withdraw")
    assert response.status_code == 404
