"""Who may do what through the API: every endpoint x every role answers a fixed status.

Each row builds what its call needs (a pending request, an active match...) in a fresh world, so a
cell checks authorization alone. Anonymous callers get 401, a wrong role 403, admins count as staff.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from tests.api.conftest import ROLES


@dataclass(frozen=True)
class Row:
    method: str
    url: Callable  # World -> path
    expected: dict[str, int]
    body: dict | Callable | None = None  # or World -> body

    def __str__(self) -> str:  # readable test ids
        return f"{self.method} {self.url.__doc__}"


def url(doc: str, build: Callable) -> Callable:
    build.__doc__ = doc
    return build


def _statuses(anonymous, entrepreneur, mentor, staff, admin=None):
    return dict(
        anonymous=anonymous,
        entrepreneur=entrepreneur,
        mentor=mentor,
        staff=staff,
        admin=staff if admin is None else admin,
    )


EVERYONE = _statuses(200, 200, 200, 200)
LOGGED_IN = _statuses(401, 200, 200, 200)
ENTREPRENEUR_ONLY = _statuses(401, 200, 403, 403)
MENTOR_ONLY = _statuses(401, 403, 200, 403)
MEMBERS = _statuses(401, 200, 200, 403)
STAFF_ONLY = _statuses(401, 403, 403, 200)

ENTREPRENEUR_PROFILE = {
    "business_name": "Warung Kopi Gambir",
    "sector": "I",
    "stage": "early",
    "kecamatan": "31.71.01",
    "kelurahan": "31.71.01.1001",
    "needs": ["licensing"],
}
MENTOR_PROFILE = {
    "sectors": ["I"],
    "stages": ["early"],
    "kecamatan": "31.71.06",
    "expertise": ["marketing"],
    "capacity": 3,
}

MATRIX = [
    Row("GET", url("/me", lambda w: "/api/v1/me"), LOGGED_IN),
    Row("GET", url("/me/tokens", lambda w: "/api/v1/me/tokens"), LOGGED_IN),
    # A token never makes another token: the browser session must (403 for every token holder).
    Row(
        "POST",
        url("/me/tokens", lambda w: "/api/v1/me/tokens"),
        _statuses(401, 403, 403, 403),
        {"name": "ci"},
    ),
    Row(
        "DELETE",
        url("/me/tokens/{own}", lambda w: f"/api/v1/me/tokens/{w.own_token_id}"),
        _statuses(401, 204, 204, 204),
    ),
    Row("PUT", url("/me/pause", lambda w: "/api/v1/me/pause"), MENTOR_ONLY, {"paused": True}),
    Row(
        "PUT",
        url("/me/entrepreneur-profile", lambda w: "/api/v1/me/entrepreneur-profile"),
        ENTREPRENEUR_ONLY,
        ENTREPRENEUR_PROFILE,
    ),
    Row("PUT", url("/me/mentor-profile", lambda w: "/api/v1/me/mentor-profile"), MENTOR_ONLY, MENTOR_PROFILE),
    Row("GET", url("/reference/kecamatan", lambda w: "/api/v1/reference/kecamatan"), EVERYONE),
    Row("GET", url("/reference/sectors", lambda w: "/api/v1/reference/sectors"), EVERYONE),
    Row("GET", url("/reference/stages", lambda w: "/api/v1/reference/stages"), EVERYONE),
    Row("GET", url("/reference/support-areas", lambda w: "/api/v1/reference/support-areas"), EVERYONE),
    Row("GET", url("/mentors/suggestions", lambda w: "/api/v1/mentors/suggestions"), ENTREPRENEUR_ONLY),
    Row("GET", url("/mentors/{id}", lambda w: f"/api/v1/mentors/{w.mentor.id}"), LOGGED_IN),
    Row(
        "POST",
        url("/requests", lambda w: "/api/v1/requests"),
        _statuses(401, 201, 403, 403),
        lambda w: {"mentor_id": w.mentor.id, "message": "Mohon bimbingan"},
    ),
    Row("GET", url("/requests", lambda w: "/api/v1/requests"), MEMBERS),
    Row("GET", url("/requests/{pending}", lambda w: f"/api/v1/requests/{w.pending_request().id}"), MEMBERS),
    Row(
        "POST",
        url("/requests/{pending}/withdraw", lambda w: f"/api/v1/requests/{w.pending_request().id}/withdraw"),
        ENTREPRENEUR_ONLY,
    ),
    Row(
        "POST",
        url("/requests/{pending}/accept", lambda w: f"/api/v1/requests/{w.pending_request().id}/accept"),
        MENTOR_ONLY,
    ),
    Row(
        "POST",
        url("/requests/{pending}/decline", lambda w: f"/api/v1/requests/{w.pending_request().id}/decline"),
        MENTOR_ONLY,
        {"reason": "schedule"},
    ),
    Row("GET", url("/matches", lambda w: "/api/v1/matches"), MEMBERS),
    Row(
        "POST",
        url("/matches/{active}/end", lambda w: f"/api/v1/matches/{w.active_match().id}/end"),
        MEMBERS,
        {"reason": "completed"},
    ),
    Row("GET", url("/staff/entrepreneurs", lambda w: "/api/v1/staff/entrepreneurs"), STAFF_ONLY),
    Row("GET", url("/staff/mentors", lambda w: "/api/v1/staff/mentors"), STAFF_ONLY),
    Row("POST", url("/staff/cohorts", lambda w: "/api/v1/staff/cohorts"), _statuses(401, 403, 403, 201), {}),
    Row(
        "GET", url("/staff/cohorts/{run}", lambda w: f"/api/v1/staff/cohorts/{w.cohort_run().id}"), STAFF_ONLY
    ),
    Row(
        "GET",
        url("/staff/proposals/{draft}", lambda w: f"/api/v1/staff/proposals/{w.draft_proposal().id}"),
        STAFF_ONLY,
    ),
    Row(
        "POST",
        url(
            "/staff/proposals/{draft}/approve",
            lambda w: f"/api/v1/staff/proposals/{w.draft_proposal().id}/approve",
        ),
        STAFF_ONLY,
    ),
    Row(
        "POST",
        url(
            "/staff/proposals/{draft}/reject",
            lambda w: f"/api/v1/staff/proposals/{w.draft_proposal().id}/reject",
        ),
        STAFF_ONLY,
        {"reason": "poor_fit"},
    ),
    Row(
        "POST",
        url(
            "/staff/proposals/{draft}/swap", lambda w: f"/api/v1/staff/proposals/{w.draft_proposal().id}/swap"
        ),
        STAFF_ONLY,
        lambda w: {"mentor_id": w.new_mentor()[1].id},
    ),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("row", MATRIX, ids=str)
def test_role_matrix(client, world, row, role):
    world.own_token_id = None
    if role != "anonymous":
        from webapp.services import api_tokens

        user = getattr(world, f"{role}_user")
        world.own_token_id = api_tokens.create_token(world.db, user, "spare").token.id
    else:
        world.own_token_id = 1
    path = row.url(world)
    body = row.body(world) if callable(row.body) else row.body
    world.db.commit()
    response = client.open(path, method=row.method, json=body, headers=world.headers(role))
    assert response.status_code == row.expected[role], response.get_json()
    if response.status_code >= 400:
        assert response.get_json()["code"] == response.status_code


def test_the_matrix_covers_every_api_operation(app):
    documented = {
        (method.upper(), path.removeprefix("/api/v1"))
        for path, item in app.test_client().get("/api/v1/openapi.json").get_json()["paths"].items()
        for method in item
        if method in ("get", "post", "put", "patch", "delete")
    }
    covered = {(row.method, row.url.__doc__.replace("{own}", "{token_id}")) for row in MATRIX}

    def generic(path: str) -> str:
        return re.sub(r"\{[^}]+\}", "{}", path)

    assert {(m, generic(p)) for m, p in documented} <= {(m, generic(p)) for m, p in covered}
