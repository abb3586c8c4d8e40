"""The mentorship's life through the API: ask, withdraw, accept, decline, end; and the refusals."""

from __future__ import annotations

import psycopg.errors
import pytest
from sqlalchemy.exc import OperationalError

from models import Mentor, Role
from tests.factories import make_user
from webapp.services import mentorship


def _ask(client, world, headers=None, **body):
    body = {"mentor_id": world.mentor.id, "message": "Saya butuh bantuan perizinan", **body}
    return client.post("/api/v1/requests", json=body, headers=headers or world.headers("entrepreneur"))


def test_ask_accept_and_end_with_a_rating(client, world, db):
    asked = _ask(client, world)
    assert asked.status_code == 201
    req = asked.get_json()
    assert req["status"] == "pending" and req["mentor"]["id"] == world.mentor.id
    inbox = client.get("/api/v1/requests?status=pending", headers=world.headers("mentor")).get_json()
    assert [r["id"] for r in inbox] == [req["id"]]
    assert inbox[0]["entrepreneur"]["needs"] == ["licensing", "marketing"]

    accepted = client.post(f"/api/v1/requests/{req['id']}/accept", headers=world.headers("mentor"))
    assert accepted.status_code == 200
    match = accepted.get_json()
    assert match["status"] == "active" and match["request_id"] == req["id"]
    mine = client.get("/api/v1/matches", headers=world.headers("entrepreneur")).get_json()
    assert [m["id"] for m in mine] == [match["id"]]

    ended = client.post(
        f"/api/v1/matches/{match['id']}/end",
        json={"reason": "completed", "rating": 5, "note": "Terima kasih"},
        headers=world.headers("entrepreneur"),
    )
    assert ended.status_code == 200
    assert ended.get_json()["status"] == "completed" and ended.get_json()["rating"] == 5
    db.expire_all()
    assert db.get(Mentor, world.mentor.id).active_count == 0
    again = client.post(
        f"/api/v1/matches/{match['id']}/end", json={"reason": "other"}, headers=world.headers("mentor")
    )
    assert again.status_code == 409 and again.get_json()["reason"] == "match_not_active"


def test_decline_with_a_reason_from_the_list(client, world):
    req = _ask(client, world).get_json()
    bad = client.post(
        f"/api/v1/requests/{req['id']}/decline", json={"reason": "bored"}, headers=world.headers("mentor")
    )
    assert bad.status_code == 422 and "reason" in bad.get_json()["errors"]
    ok = client.post(
        f"/api/v1/requests/{req['id']}/decline",
        json={"reason": "schedule", "note": "Jadwal saya penuh bulan ini"},
        headers=world.headers("mentor"),
    )
    assert ok.status_code == 200
    assert ok.get_json()["status"] == "declined" and ok.get_json()["response_reason"] == "schedule"


def test_withdraw_then_withdraw_again_is_a_conflict(client, world):
    req = _ask(client, world).get_json()
    url = f"/api/v1/requests/{req['id']}/withdraw"
    assert client.post(url, headers=world.headers("entrepreneur")).get_json()["status"] == "withdrawn"
    again = client.post(url, headers=world.headers("entrepreneur"))
    assert again.status_code == 409
    body = again.get_json()
    assert body["reason"] == "request_not_pending" and body["details"] == {"status": "withdrawn"}


def test_another_persons_request_or_match_is_not_found(client, world):
    req = world.pending_request()
    match = world.active_match(*world.new_entrepreneur()[1:2])
    world.db.commit()
    _u, _e, other_entrepreneur = world.new_entrepreneur()
    _u, _m, other_mentor = world.new_mentor()
    world.db.commit()
    as_e = {"Authorization": f"Bearer {other_entrepreneur}"}
    as_m = {"Authorization": f"Bearer {other_mentor}"}
    for path, headers, body in [
        (f"/api/v1/requests/{req.id}/withdraw", as_e, None),
        (f"/api/v1/requests/{req.id}/accept", as_m, None),
        (f"/api/v1/requests/{req.id}/decline", as_m, {"reason": "other"}),
        (f"/api/v1/matches/{match.id}/end", as_e, {"reason": "other"}),
        (f"/api/v1/matches/{match.id}/end", as_m, {"reason": "other"}),
    ]:
        response = client.post(path, json=body, headers=headers)
        assert response.status_code == 404, path
        assert response.get_json()["code"] == 404
    assert client.get("/api/v1/requests", headers=as_m).get_json() == []
    assert client.get("/api/v1/matches", headers=as_e).get_json() == []


def test_a_full_mentor_accepting_gets_capacity_full_in_the_envelope(client, world):
    world.mentor.capacity = 1
    req = world.pending_request()  # asked while a place was free; then another took it
    world.active_match(*world.new_entrepreneur()[1:2])
    world.db.commit()
    response = client.post(f"/api/v1/requests/{req.id}/accept", headers=world.headers("mentor"))
    assert response.status_code == 409
    body = response.get_json()
    assert body["code"] == 409 and body["status"] == "Conflict" and body["reason"] == "capacity_full"
    assert body["message"] and body["errors"] == {}


@pytest.mark.parametrize(
    ("method", "path", "role", "body", "field"),
    [
        ("POST", "/api/v1/requests", "entrepreneur", {"mentor_id": 1, "status": "accepted"}, "status"),
        ("POST", "/api/v1/requests", "entrepreneur", {"mentor_id": 1, "score": 99}, "score"),
        ("PUT", "/api/v1/me/pause", "mentor", {"paused": True, "capacity": 99}, "capacity"),
        ("POST", "/api/v1/me/tokens", "staff", {"name": "x", "user_id": 2}, "user_id"),
    ],
)
def test_unknown_or_server_owned_fields_are_rejected_with_422(client, world, method, path, role, body, field):
    if path.endswith("/tokens"):
        from tests.factories import login

        login(client, world.staff_user.email)
        headers = {}
    else:
        headers = world.headers(role)
    response = client.open(path, method=method, json=body, headers=headers)
    assert response.status_code == 422
    assert response.get_json()["errors"][field] == ["Unknown field."]


@pytest.mark.parametrize(
    "body",
    [
        {"reason": "completed", "rating": 6},
        {"reason": "completed", "rating": "5"},
        {"reason": "selesai"},
        {"reason": "other", "note": "x" * 1001},
        {"reason": "other", "note": "nul\x00byte"},
        [1, 2, 3],
        "completed",
    ],
)
def test_bad_end_bodies_are_422(client, world, body):
    match = world.active_match()
    world.db.commit()
    response = client.post(
        f"/api/v1/matches/{match.id}/end", json=body, headers=world.headers("entrepreneur")
    )
    assert response.status_code == 422, response.get_json()
    assert response.get_json()["errors"]


def test_only_the_entrepreneur_rates(client, world):
    match = world.active_match()
    world.db.commit()
    response = client.post(
        f"/api/v1/matches/{match.id}/end",
        json={"reason": "completed", "rating": 4},
        headers=world.headers("mentor"),
    )
    assert response.status_code == 422 and "rating" in response.get_json()["errors"]


def test_a_mentor_pauses_and_resumes(client, world):
    paused = client.put("/api/v1/me/pause", json={"paused": True}, headers=world.headers("mentor"))
    assert paused.status_code == 200 and paused.get_json()["paused"] is True
    assert paused.get_json()["free_places"] == 0
    suggested = client.get("/api/v1/mentors/suggestions", headers=world.headers("entrepreneur")).get_json()
    assert world.mentor.id not in [s["mentor"]["id"] for s in suggested]
    resumed = client.put("/api/v1/me/pause", json={"paused": False}, headers=world.headers("mentor"))
    assert resumed.get_json()["paused"] is False


def test_suggestions_show_public_fields_and_reasons(client, world):
    response = client.get("/api/v1/mentors/suggestions?top=5", headers=world.headers("entrepreneur"))
    assert response.status_code == 200
    first = response.get_json()[0]
    assert first["rank"] == 1 and first["mentor"]["id"] == world.mentor.id and first["reasons"]
    assert {"en", "id", "code"} <= set(first["reasons"][0])
    too_many = client.get("/api/v1/mentors/suggestions?top=21", headers=world.headers("entrepreneur"))
    assert too_many.status_code == 422 and "top" in too_many.get_json()["errors"]


def test_a_mentors_profile_has_no_contact_details(client, world):
    world.mentor_user.phone = "+628123456789"
    world.mentor_user.share_phone = True
    world.db.commit()
    response = client.get(f"/api/v1/mentors/{world.mentor.id}", headers=world.headers("staff"))
    text = response.get_data(as_text=True)
    assert response.status_code == 200 and response.get_json()["accepting"] is True
    assert world.mentor_user.email not in text and "628123456789" not in text and "user_id" not in text


def test_an_entrepreneur_without_a_profile_is_told_to_make_one(client, world, db):
    user = make_user(db, Role.ENTREPRENEUR)
    from webapp.services import api_tokens

    token = api_tokens.create_token(db, user, "t").plain
    db.commit()
    response = client.get("/api/v1/mentors/suggestions", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 409 and response.get_json()["reason"] == "profile_missing"
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).get_json()
    assert me["entrepreneur"] is None and me["account"]["role"] == "entrepreneur"


@pytest.mark.parametrize("segment", ["abc", "0", "-1", "1.5", "99999999999999999999", "%00"])
def test_a_bad_id_in_the_path_is_a_json_404(client, world, segment):
    response = client.post(f"/api/v1/requests/{segment}/accept", headers=world.headers("mentor"))
    assert response.status_code == 404
    assert response.get_json() == {
        "code": 404,
        "status": "Not Found",
        "message": response.get_json()["message"],
        "errors": {},
    }


def test_a_wrong_method_is_a_json_405_with_allow(client, world):
    response = client.get("/api/v1/requests/1/accept", headers=world.headers("mentor"))
    assert response.status_code == 405 and response.get_json()["code"] == 405
    assert "POST" in response.headers["Allow"]


def test_an_unknown_api_path_is_a_json_404(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404 and response.get_json()["status"] == "Not Found"


def test_a_body_over_one_mebibyte_is_413(client, world):
    body = '{"mentor_id": 1, "message": "' + "x" * (1024 * 1024) + '"}'
    response = client.post(
        "/api/v1/requests",
        data=body,
        content_type="application/json",
        headers=world.headers("entrepreneur"),
    )
    assert response.status_code == 413 and response.get_json()["code"] == 413


def test_broken_json_is_a_400_envelope(client, world):
    response = client.post(
        "/api/v1/requests",
        data="{not json",
        content_type="application/json",
        headers=world.headers("entrepreneur"),
    )
    assert response.status_code == 400
    assert response.get_json()["code"] == 400


def test_staff_lists_are_paged_searchable_and_capped(client, world):
    ok = client.get("/api/v1/staff/mentors?per_page=100&q=mentor", headers=world.headers("staff"))
    body = ok.get_json()
    assert ok.status_code == 200 and body["per_page"] == 100 and body["total"] >= 1
    assert world.mentor.id in [m["id"] for m in body["items"]]
    capped = client.get("/api/v1/staff/entrepreneurs?per_page=100000", headers=world.headers("admin"))
    assert capped.status_code == 422 and "per_page" in capped.get_json()["errors"]
    wildcard = client.get("/api/v1/staff/entrepreneurs?q=%25", headers=world.headers("staff")).get_json()
    assert wildcard["total"] == 0  # "%" is searched for literally, not as a wildcard


def test_staff_run_a_cohort_and_review_its_proposals(client, world, db):
    staff = world.headers("staff")
    ran = client.post("/api/v1/staff/cohorts", json={"kota": "31.71", "fair": True}, headers=staff)
    assert ran.status_code == 201, ran.get_json()
    run = ran.get_json()
    assert run["filters"] and run["report"]
    draft = run["proposals"][0]
    assert draft["status"] == "draft" and draft["entrepreneur"]["id"] == world.entrepreneur.id
    inbox = client.get("/api/v1/requests", headers=world.headers("mentor")).get_json()
    assert draft["id"] not in [r["id"] for r in inbox]  # drafts stay with staff

    approved = client.post(f"/api/v1/staff/proposals/{draft['id']}/approve", headers=staff)
    assert approved.status_code == 200 and approved.get_json()["status"] == "pending"
    inbox = client.get("/api/v1/requests", headers=world.headers("mentor")).get_json()
    assert draft["id"] in [r["id"] for r in inbox]
    again = client.post(f"/api/v1/staff/proposals/{draft['id']}/approve", headers=staff)
    assert again.status_code == 409 and again.get_json()["reason"] == "proposal_not_draft"
    shown = client.get(f"/api/v1/staff/cohorts/{run['id']}", headers=staff).get_json()
    assert [p["status"] for p in shown["proposals"]] == ["pending"]


def test_staff_reject_and_swap_drafts(client, world):
    staff = world.headers("staff")
    first = world.draft_proposal()
    _u, other_mentor, _t = world.new_mentor()
    world.db.commit()
    same = client.post(
        f"/api/v1/staff/proposals/{first.id}/swap", json={"mentor_id": first.mentor_id}, headers=staff
    )
    assert same.status_code == 422 and same.get_json()["reason"] == "same_mentor"
    swapped = client.post(
        f"/api/v1/staff/proposals/{first.id}/swap", json={"mentor_id": other_mentor.id}, headers=staff
    )
    assert swapped.status_code == 200 and swapped.get_json()["mentor"]["id"] == other_mentor.id
    bad = client.post(f"/api/v1/staff/proposals/{first.id}/reject", json={"reason": "meh"}, headers=staff)
    assert bad.status_code == 422 and "reason" in bad.get_json()["errors"]
    rejected = client.post(
        f"/api/v1/staff/proposals/{first.id}/reject",
        json={"reason": "known_conflict", "note": "Saudara kandung"},
        headers=staff,
    )
    assert rejected.status_code == 200 and rejected.get_json()["status"] == "rejected"


def test_an_ordinary_request_is_not_a_proposal(client, world):
    req = world.pending_request()
    world.db.commit()
    response = client.post(f"/api/v1/staff/proposals/{req.id}/approve", headers=world.headers("staff"))
    assert response.status_code == 404 and response.get_json()["reason"] == "proposal_not_found"


@pytest.mark.parametrize(
    ("body", "reason"),
    [({"kecamatan": "99.99.99"}, None), ({"kota": "31.72", "kecamatan": "31.71.01"}, "bad_filter")],
)
def test_a_cohort_with_a_bad_kecamatan_is_422_naming_the_field(client, world, body, reason):
    response = client.post("/api/v1/staff/cohorts", json=body, headers=world.headers("staff"))
    assert response.status_code == 422
    assert "kecamatan" in response.get_json()["errors"] and response.get_json().get("reason") == reason


def test_a_new_entrepreneur_saves_a_whole_profile_and_gets_suggestions(client, world, db):
    from tests.api.test_role_matrix import ENTREPRENEUR_PROFILE
    from webapp.services import api_tokens

    user = make_user(db, Role.ENTREPRENEUR)
    headers = {"Authorization": f"Bearer {api_tokens.create_token(db, user, 't').plain}"}
    db.commit()
    saved = client.put("/api/v1/me/entrepreneur-profile", json=ENTREPRENEUR_PROFILE, headers=headers)
    assert saved.status_code == 200, saved.get_json()
    assert saved.get_json()["profile_complete"] is True and saved.get_json()["kecamatan_code"] == "31.71.01"
    assert client.get("/api/v1/mentors/suggestions", headers=headers).status_code == 200


def test_a_kelurahan_outside_the_kecamatan_is_422_on_that_field(client, world):
    from tests.api.test_role_matrix import ENTREPRENEUR_PROFILE

    body = {**ENTREPRENEUR_PROFILE, "kelurahan": "31.74.01.1001"}
    response = client.put("/api/v1/me/entrepreneur-profile", json=body, headers=world.headers("entrepreneur"))
    assert response.status_code == 422
    assert response.get_json()["errors"] == {"kelurahan": ["kelurahan_outside"]}


def test_a_mentor_cannot_set_capacity_below_the_mentees_held(client, world):
    from tests.api.test_role_matrix import MENTOR_PROFILE

    world.active_match()
    world.db.commit()
    body = {**MENTOR_PROFILE, "capacity": 1}
    ok = client.put("/api/v1/me/mentor-profile", json=body, headers=world.headers("mentor"))
    assert ok.status_code == 200 and ok.get_json()["capacity"] == 1 and ok.get_json()["active_count"] == 1
    for bad in ({**body, "capacity": 0}, {**body, "active_count": 0}, {**body, "paused": False}):
        response = client.put("/api/v1/me/mentor-profile", json=bad, headers=world.headers("mentor"))
        assert response.status_code == 422, bad


def _selects_during(db, call) -> tuple[object, list[str]]:
    """What ``call`` returned, and the SELECT statements it sent."""
    from sqlalchemy import event

    seen: list[str] = []

    def on_statement(_conn, _cursor, statement, *_args):
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append(" ".join(statement.split()))

    bind = db.get_bind()
    event.listen(bind, "before_cursor_execute", on_statement)
    try:
        return call(), seen
    finally:
        event.remove(bind, "before_cursor_execute", on_statement)


def test_a_mentors_inbox_reads_its_requests_with_their_entrepreneurs_in_one_statement(client, world, db):
    """Each listed request names its entrepreneur: the requests and their entrepreneurs come in one
    statement however many asked, not one per request nor one more for the entrepreneurs."""
    asked = [world.new_entrepreneur()[1] for _ in range(4)]
    for profile in asked:
        world.pending_request(profile)
    db.commit()
    response, seen = _selects_during(
        db, lambda: client.get("/api/v1/requests?status=pending", headers=world.headers("mentor"))
    )
    assert response.status_code == 200
    inbox = response.get_json()
    assert [s for s in seen if "FROM entrepreneur" in s] == []
    listing = [s for s in seen if "FROM match_request" in s]
    assert len(listing) == 1 and "JOIN entrepreneur" in listing[0], seen
    by_id = {p.id: p for p in asked}
    assert {r["entrepreneur"]["id"] for r in inbox} == set(by_id)
    for r in inbox:
        p = by_id[r["entrepreneur"]["id"]]
        assert r["entrepreneur"] == {
            "id": p.id,
            "name": p.name,
            "business_name": p.business_name,
            "sector_code": p.sector_code,
            "stage_code": p.stage_code,
            "kecamatan_code": p.kecamatan_code,
            "needs": list(p.needs),
        }


def test_people_read_for_a_request_list_stay_whole_for_the_rest_of_the_session(db):
    """The lists read the other party's summary columns only; the rows stay in the session, and a
    later step of it (the weekly proposal reads a mentor's external id) loads what it needs."""
    from tests.factories import make_entrepreneur, make_mentor
    from webapp.services import directory

    entrepreneur, mentor = make_entrepreneur(db), make_mentor(db)
    mentorship.request_mentor(db, entrepreneur, mentor.id)
    db.commit()
    mentor_id, entrepreneur_id = mentor.id, entrepreneur.id
    db.expunge_all()  # the lists' statement is the first to meet these people in the session
    (sent,) = directory.requests_sent(db, entrepreneur_id)
    (received,) = directory.requests_received(db, mentor_id)
    assert sent.mentor.external_id and sent.mentor.bio is not None
    assert received.entrepreneur.external_id and received.entrepreneur.languages
    assert db.get(Mentor, mentor_id).capacity >= 1


def test_an_entrepreneurs_sent_requests_come_with_their_mentors_in_one_statement(client, world, db):
    req = world.pending_request()
    db.commit()
    response, seen = _selects_during(
        db, lambda: client.get("/api/v1/requests", headers=world.headers("entrepreneur"))
    )
    assert response.status_code == 200
    listing = [s for s in seen if "FROM match_request" in s]
    assert len(listing) == 1 and "JOIN mentor" in listing[0], seen
    mentor = world.mentor
    assert [(r["id"], r["mentor"]) for r in response.get_json()] == [
        (
            req.id,
            {
                "id": mentor.id,
                "name": mentor.name,
                "company": mentor.company,
                "kecamatan_code": mentor.kecamatan_code,
            },
        )
    ]


@pytest.mark.parametrize(
    ("orig", "status"),
    [
        (psycopg.errors.DeadlockDetected("deadlock detected"), 409),
        (psycopg.OperationalError("server closed the connection unexpectedly"), 503),
    ],
    ids=["deadlock", "outage"],
)
def test_an_api_write_aborted_for_a_concurrent_one_is_a_conflict_and_an_outage_a_503(
    client, world, monkeypatch, orig, status
):
    """An accept the database aborted for a concurrent write (a deadlock broken) can be sent again:
    409; a database that is gone: 503."""
    req = world.pending_request()
    world.db.commit()

    def aborted(*_a, **_k):
        raise OperationalError("UPDATE mentor ...", {}, orig)

    monkeypatch.setattr(mentorship, "accept_request", aborted)
    response = client.post(f"/api/v1/requests/{req.id}/accept", headers=world.headers("mentor"))
    assert response.status_code == status
    body = response.get_json()
    assert body["code"] == status
    if status == 409:
        assert body["reason"] == "conflict"
