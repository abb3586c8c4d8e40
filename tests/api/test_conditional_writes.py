"""Lost updates through the API (CON-5): a request read alone has an ETag; writes sent with If-Match
are refused with 412 (the error envelope) and write nothing when the request changed since."""

from __future__ import annotations

from sqlalchemy import event, func, select, text
from sqlalchemy.orm import Session

from models import AuditLog, Match, MatchRequest, Mentor, Notification
from tests.api.conftest import bearer


def _count(db, model, *where) -> int:
    return db.scalar(select(func.count()).select_from(model).where(*where))


def _staff_headers(world, etag: str | None = None) -> dict[str, str]:
    headers = world.headers("staff")
    return {**headers, "If-Match": etag} if etag else headers


def _draft_and_spares(world):
    draft = world.draft_proposal()
    spares = [world.new_mentor()[1] for _ in range(2)]
    world.db.commit()
    return draft, spares


def test_a_request_read_alone_carries_its_version_as_etag_and_in_the_body(client, world):
    req = world.pending_request()
    world.db.commit()
    for role in ("entrepreneur", "mentor"):
        response = client.get(f"/api/v1/requests/{req.id}", headers=world.headers(role))
        assert response.status_code == 200
        assert response.headers["ETag"] == f'"request-{req.id}-v1"'
        assert response.get_json()["version"] == 1
    _user, _stranger, token = world.new_entrepreneur()
    world.db.commit()
    assert client.get(f"/api/v1/requests/{req.id}", headers=bearer(token)).status_code == 404


def test_the_second_of_two_staff_swapping_one_proposal_with_if_match_gets_412_and_writes_nothing(
    client, world
):
    draft, (spare, other_spare) = _draft_and_spares(world)
    url = f"/api/v1/staff/proposals/{draft.id}"
    first_read = client.get(url, headers=_staff_headers(world))
    second_read = client.get(url, headers=_staff_headers(world))
    assert first_read.headers["ETag"] == second_read.headers["ETag"] == f'"request-{draft.id}-v1"'
    reads = world.db.scalars(select(AuditLog).where(AuditLog.note == "staff_api.get_proposal")).all()
    assert [r.after for r in reads] == [
        {"entrepreneur": [draft.entrepreneur_id], "mentor": [draft.mentor_id]}
    ] * 2

    swapped = client.post(
        f"{url}/swap", json={"mentor_id": spare.id}, headers=_staff_headers(world, first_read.headers["ETag"])
    )
    assert swapped.status_code == 200 and swapped.headers["ETag"] == f'"request-{draft.id}-v2"'
    stale = second_read.headers["ETag"]
    refused = [
        client.post(f"{url}/swap", json={"mentor_id": other_spare.id}, headers=_staff_headers(world, stale)),
        client.post(f"{url}/approve", headers=_staff_headers(world, stale)),
        client.post(f"{url}/reject", json={"reason": "poor_fit"}, headers=_staff_headers(world, stale)),
    ]

    for response in refused:
        body = response.get_json()
        assert response.status_code == 412
        assert (body["code"], body["status"], body["reason"]) == (412, "Precondition Failed", "stale_version")
        assert body["details"]["version"] == 2
    world.db.expire_all()
    kept = world.db.get(MatchRequest, draft.id)
    assert (kept.status, kept.mentor_id, kept.version) == ("draft", spare.id, 2)
    assert _count(world.db, AuditLog, AuditLog.action.in_(("proposal.approve", "proposal.reject"))) == 0
    assert _count(world.db, AuditLog, AuditLog.action == "proposal.swap") == 1
    assert _count(world.db, Notification) == 0

    approved = client.post(f"{url}/approve", headers=_staff_headers(world, swapped.headers["ETag"]))
    assert approved.status_code == 200 and approved.get_json()["status"] == "pending"


def test_without_if_match_or_with_a_star_staff_writes_act_on_the_proposal_as_it_is_now(client, world):
    draft, (spare, other_spare) = _draft_and_spares(world)
    url = f"/api/v1/staff/proposals/{draft.id}"
    assert (
        client.post(f"{url}/swap", json={"mentor_id": spare.id}, headers=_staff_headers(world)).status_code
        == 200
    )
    again = client.post(f"{url}/swap", json={"mentor_id": other_spare.id}, headers=_staff_headers(world, "*"))
    assert again.status_code == 200 and again.get_json()["version"] == 3
    assert client.post(f"{url}/approve", headers=_staff_headers(world)).status_code == 200
    decided = client.post(f"{url}/reject", json={"reason": "poor_fit"}, headers=_staff_headers(world))
    assert decided.status_code == 409 and decided.get_json()["reason"] == "proposal_not_draft"  # as before


def test_a_mentor_accepting_a_request_withdrawn_since_it_was_read_gets_412_and_takes_no_place(client, world):
    req = world.pending_request()
    world.db.commit()
    url = f"/api/v1/requests/{req.id}"
    seen_by_mentor = client.get(url, headers=world.headers("mentor")).headers["ETag"]
    seen_by_entrepreneur = client.get(url, headers=world.headers("entrepreneur")).headers["ETag"]
    withdrawn = client.post(
        f"{url}/withdraw", headers={**world.headers("entrepreneur"), "If-Match": seen_by_entrepreneur}
    )
    assert withdrawn.status_code == 200 and withdrawn.headers["ETag"] == f'"request-{req.id}-v2"'

    for action, body in (("accept", None), ("decline", {"reason": "schedule"})):
        refused = client.post(
            f"{url}/{action}", json=body, headers={**world.headers("mentor"), "If-Match": seen_by_mentor}
        )
        assert refused.status_code == 412 and refused.get_json()["reason"] == "stale_version"
    world.db.expire_all()
    assert world.db.get(MatchRequest, req.id).status == "withdrawn"
    assert world.db.get(Mentor, world.mentor.id).active_count == 0 and _count(world.db, Match) == 0

    # Without If-Match: refused as before, because the request no longer waits (409).
    unconditional = client.post(f"{url}/accept", headers=world.headers("mentor"))
    assert unconditional.status_code == 409 and unconditional.get_json()["reason"] == "request_not_pending"


def test_if_match_on_someone_elses_request_is_404_not_412(client, world):
    req = world.pending_request()
    _user, _other_mentor, token = world.new_mentor()
    world.db.commit()
    response = client.post(f"/api/v1/requests/{req.id}/accept", headers={**bearer(token), "If-Match": '"x"'})
    assert response.status_code == 404


def test_a_weak_or_foreign_tag_does_not_satisfy_if_match(client, world):
    req = world.pending_request()
    other = world.pending_request(mentor=world.new_mentor()[1])
    world.db.commit()
    for tag in (f'W/"request-{req.id}-v1"', f'"request-{other.id}-v1"'):
        response = client.post(
            f"/api/v1/requests/{req.id}/withdraw", headers={**world.headers("entrepreneur"), "If-Match": tag}
        )
        assert response.status_code == 412, tag
    world.db.expire_all()
    assert world.db.get(MatchRequest, req.id).status == "pending"


def test_a_change_saved_between_the_if_match_check_and_the_write_is_refused_too(client, world):
    draft, (spare, _) = _draft_and_spares(world)
    etag = client.get(f"/api/v1/staff/proposals/{draft.id}", headers=_staff_headers(world)).headers["ETag"]
    moved_on = []

    def someone_else_saves_first(state):
        # The checks passed (If-Match named the current version); just before the swap's UPDATE
        # reaches the database, another staff member's change of the proposal is saved.
        if state.is_update and state.session is not world.db and not moved_on:
            moved_on.append(True)
            state.session.connection().execute(
                text("UPDATE match_request SET version = version + 1 WHERE id = :id"), {"id": draft.id}
            )

    event.listen(Session, "do_orm_execute", someone_else_saves_first)
    try:
        response = client.post(
            f"/api/v1/staff/proposals/{draft.id}/swap",
            json={"mentor_id": spare.id},
            headers=_staff_headers(world, etag),
        )
    finally:
        event.remove(Session, "do_orm_execute", someone_else_saves_first)

    assert moved_on and response.status_code == 412
    world.db.expire_all()
    kept = world.db.get(MatchRequest, draft.id)
    assert (kept.status, kept.mentor_id) == ("draft", draft.mentor_id)
