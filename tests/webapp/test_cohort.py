"""Cohort matching: drafts within free places, nobody told before approval; approve, reject, swap, audit."""

from __future__ import annotations

import re
from collections import Counter

import pytest
from sqlalchemy import func, select

from models import AuditLog, CohortRun, MatchRequest, Mentor, Notification, Role, StatusChange
from tests.factories import login, make_entrepreneur, make_mentor, make_user
from webapp.services import cohorts, mentorship
from webapp.services.demo import load_demo
from webapp.services.errors import Conflict, InvalidInput, NotFound


def _count(db, model, *where) -> int:
    return db.scalar(select(func.count()).select_from(model).where(*where))


@pytest.fixture
def staff(db):
    return make_user(db, Role.STAFF)


@pytest.fixture
def programme(db):
    """Five waiting entrepreneurs with accounts (Gambir, food), two mentors with accounts: 2 + 1 places."""
    entrepreneurs = [make_entrepreneur(db, make_user(db, Role.ENTREPRENEUR)) for _ in range(5)]
    big = make_mentor(db, make_user(db, Role.MENTOR), capacity=3, active_count=1)
    small = make_mentor(db, make_user(db, Role.MENTOR), capacity=1)
    return entrepreneurs, big, small


def _drafts(db, run):
    db.expire_all()  # the app's session may have changed them
    return list(
        db.scalars(select(MatchRequest).where(MatchRequest.cohort_run_id == run.id).order_by(MatchRequest.id))
    )


# --- running ------------------------------------------------------------------------------------


def test_a_run_writes_drafts_within_free_places_and_tells_nobody(db, staff, programme):
    _entrepreneurs, big, small = programme
    run = cohorts.run_cohort(db, staff_id=staff.id)
    drafts = _drafts(db, run)
    assert len(drafts) == 3  # 2 free places + 1
    assert {d.status for d in drafts} == {"draft"} and {d.origin for d in drafts} == {"cohort"}
    per_mentor = {m.id: sum(d.mentor_id == m.id for d in drafts) for m in (big, small)}
    assert per_mentor == {big.id: 2, small.id: 1}
    assert all(
        d.score is not None and d.reasons and d.reasons[0]["id"] and d.reasons[0]["en"] for d in drafts
    )
    assert _count(db, Notification) == 0
    assert run.report["matched"] == 3 and run.report["entrepreneurs"] == 5
    assert run.report["matched_share"] == pytest.approx(0.6)
    assert len(run.report["unmatched"]) == 2
    assert run.report["unmatched_by_reason"][0]["code"] == "mentors_taken"
    assert _count(db, StatusChange, StatusChange.to_status == "draft") == 3
    entry = db.scalar(select(AuditLog).where(AuditLog.action == "cohort.run"))
    assert entry.actor_id == staff.id and entry.object_id == str(run.id) and entry.after["drafts"] == 3


def test_a_second_run_counts_the_first_runs_drafts_against_free_places(db, staff, programme):
    cohorts.run_cohort(db, staff_id=staff.id)
    make_entrepreneur(db)
    second = cohorts.run_cohort(db, staff_id=staff.id)
    assert _drafts(db, second) == []
    assert second.report["entrepreneurs"] == 3  # the drafted ones are not waiting any more


def test_a_run_takes_only_waiting_entrepreneurs_of_the_filter(db, staff):
    make_mentor(db, capacity=10)
    gambir = make_entrepreneur(db)
    make_entrepreneur(db, kecamatan_code="31.74.01")  # Jakarta Selatan
    make_entrepreneur(db, sector_code="C")
    make_entrepreneur(db, profile_complete=False)
    asking = make_entrepreneur(db)
    mentorship.request_mentor(db, asking, make_mentor(db).id)
    run = cohorts.run_cohort(db, staff_id=staff.id, kota="31.71", sector="I")
    assert [d.entrepreneur_id for d in _drafts(db, run)] == [gambir.id]
    assert run.filters == {"kota": "31.71", "kecamatan": None, "sector": "I", "fair": False}
    by_kecamatan = cohorts.run_cohort(db, staff_id=staff.id, kecamatan="31.74.01")
    assert len(_drafts(db, by_kecamatan)) == 1


def test_drafts_never_exceed_a_mentors_free_places_in_a_city(db):
    load_demo(db, entrepreneurs=300, mentors=30, seed=1)
    staff = make_user(db, Role.STAFF)
    free = {m.id: m.free_places for m in db.scalars(select(Mentor))}
    run = cohorts.run_cohort(db, staff_id=staff.id)
    drafted = Counter(d.mentor_id for d in _drafts(db, run))
    assert drafted and all(n <= free[m] for m, n in drafted.items())
    assert sum(drafted.values()) == run.report["matched"] > 0
    assert len({d.entrepreneur_id for d in _drafts(db, run)}) == drafted.total()  # one each


def test_an_unknown_filter_is_refused(db, staff):
    with pytest.raises(InvalidInput):
        cohorts.run_cohort(db, staff_id=staff.id, kecamatan="99.99.99")


def test_paused_and_full_mentors_get_no_drafts(db, staff):
    make_entrepreneur(db)
    make_mentor(db, paused=True)
    make_mentor(db, capacity=1, active_count=1)
    run = cohorts.run_cohort(db, staff_id=staff.id, fair=True)
    assert _drafts(db, run) == [] and run.report["matched"] == 0 and run.report["fair"] is True


# --- decisions ----------------------------------------------------------------------------------


def test_approving_sends_the_proposal_and_tells_mentor_and_entrepreneur(db, staff, programme):
    run = cohorts.run_cohort(db, staff_id=staff.id)
    first = _drafts(db, run)[0]
    assert cohorts.approve(db, staff.id, [first.id]) == 1
    db.refresh(first)
    assert first.status == "pending" and first.sent_at is not None
    kinds = db.execute(select(Notification.user_id, Notification.kind)).all()
    assert sorted(kinds) == sorted(
        [(first.mentor.user_id, "proposal_approved"), (first.entrepreneur.user_id, "proposal_approved")]
    )
    entry = db.scalar(select(AuditLog).where(AuditLog.action == "proposal.approve"))
    assert (entry.actor_id, entry.object_id) == (staff.id, str(first.id))
    assert entry.before == {"status": "draft"} and entry.after["status"] == "pending"
    change = db.scalar(
        select(StatusChange).where(StatusChange.request_id == first.id, StatusChange.to_status == "pending")
    )
    assert change.from_status == "draft" and change.actor_id == staff.id
    # the mentor sees it and can accept it like any request
    match = mentorship.accept_request(db, first.mentor, first.id)
    assert match.status == "active"


def test_approving_twice_is_a_conflict(db, staff, programme):
    run = cohorts.run_cohort(db, staff_id=staff.id)
    first = _drafts(db, run)[0]
    cohorts.approve(db, staff.id, [first.id])
    with pytest.raises(Conflict) as exc:
        cohorts.approve(db, staff.id, [first.id])
    assert exc.value.code == "proposal_not_draft" and exc.value.status == 409
    assert exc.value.params["status"] == "pending"


def test_bulk_approval_approves_every_listed_draft(db, staff, programme):
    run = cohorts.run_cohort(db, staff_id=staff.id)
    ids = cohorts.draft_ids(db, run.id)
    assert cohorts.approve(db, staff.id, ids, run_id=run.id) == 3
    assert {d.status for d in _drafts(db, run)} == {"pending"}
    assert _count(db, AuditLog, AuditLog.action == "proposal.approve") == 3


def test_a_proposal_of_another_run_is_not_found(db, staff, programme):
    run = cohorts.run_cohort(db, staff_id=staff.id)
    with pytest.raises(NotFound):
        cohorts.approve(db, staff.id, [_drafts(db, run)[0].id], run_id=run.id + 1)


def test_rejecting_keeps_the_proposal_as_a_declined_example(db, staff, programme):
    run = cohorts.run_cohort(db, staff_id=staff.id)
    first = _drafts(db, run)[0]
    with pytest.raises(InvalidInput):
        cohorts.reject(db, staff.id, first.id, "because")
    rejected = cohorts.reject(db, staff.id, first.id, "known_conflict", "Masih bersaudara")
    assert rejected.status == "rejected" and rejected.response_reason == "known_conflict"
    assert rejected.response_note == "Masih bersaudara"
    assert _count(db, Notification) == 0
    history = mentorship.matching_history(db)
    assert [(h.entrepreneur_id, h.outcome) for h in history] == [(first.entrepreneur.external_id, "declined")]
    entry = db.scalar(select(AuditLog).where(AuditLog.action == "proposal.reject"))
    assert entry.after["reason"] == "known_conflict" and entry.after["note"] == "Masih bersaudara"
    with pytest.raises(Conflict):
        cohorts.reject(db, staff.id, first.id, "poor_fit")


def test_swapping_moves_a_draft_to_a_mentor_with_a_place_left_and_rescores_it(db, staff, programme):
    _entrepreneurs, big, small = programme
    run = cohorts.run_cohort(db, staff_id=staff.id)
    on_big = next(d for d in _drafts(db, run) if d.mentor_id == big.id)
    with pytest.raises(Conflict) as exc:  # small's only place is drafted already
        cohorts.swap(db, staff.id, on_big.id, small.id)
    assert exc.value.code == "mentor_full"
    spare = make_mentor(db, sectors=["C"], capacity=1)
    alternatives = cohorts.alternatives(db, [on_big])
    assert [a.mentor.id for a in alternatives[on_big.id]] == [spare.id]
    swapped = cohorts.swap(db, staff.id, on_big.id, spare.id)
    assert swapped.mentor_id == spare.id and swapped.status == "draft"
    assert swapped.score < on_big.score or "same_sector" not in [r["code"] for r in swapped.reasons]
    entry = db.scalar(select(AuditLog).where(AuditLog.action == "proposal.swap"))
    assert entry.before["mentor_id"] == big.id and entry.after["mentor_id"] == spare.id
    # the freed place on the big mentor can now take another draft
    other = next(d for d in _drafts(db, run) if d.mentor_id == small.id)
    assert cohorts.swap(db, staff.id, other.id, big.id).mentor_id == big.id


def test_swapping_to_an_unsuitable_mentor_is_refused(db, staff, programme):
    run = cohorts.run_cohort(db, staff_id=staff.id)
    draft = _drafts(db, run)[0]
    english_only = make_mentor(db, languages=["en"])
    with pytest.raises(Conflict) as exc:
        cohorts.swap(db, staff.id, draft.id, english_only.id)
    assert exc.value.code == "mentor_not_available"


# --- pages --------------------------------------------------------------------------------------

STAFF_URLS = ["/staff/cohorts", "/staff/cohorts/1", "/staff/audit", "/staff/model"]
STAFF_POSTS = [
    "/staff/cohorts",
    "/staff/cohorts/1/approve",
    "/staff/cohorts/1/proposals/1/approve",
    "/staff/cohorts/1/proposals/1/reject",
    "/staff/cohorts/1/proposals/1/swap",
    "/staff/model/train",
]


@pytest.mark.parametrize("role", [Role.ENTREPRENEUR, Role.MENTOR])
def test_members_get_403_on_every_staff_page(client, db, role):
    user = make_user(db, role)
    login(client, user.email)
    for url in STAFF_URLS:
        assert client.get(url).status_code == 403, url
    for url in STAFF_POSTS:
        assert client.post(url).status_code == 403, url


def _staff_client(client, db, role=Role.STAFF):
    user = make_user(db, role)
    login(client, user.email)
    return user


def test_staff_runs_a_cohort_and_reviews_its_reasons(client, db, programme):
    _staff_client(client, db, Role.ADMIN)
    page = client.get("/staff/cohorts")
    assert page.status_code == 200 and "Jalankan" in page.get_data(as_text=True)
    response = client.post("/staff/cohorts", data={"kota": "31.71", "fair": "y"})
    assert response.status_code == 302
    run = db.scalar(select(CohortRun).order_by(CohortRun.id.desc()))
    assert response.headers["Location"].endswith(f"/staff/cohorts/{run.id}")
    html = client.get(f"/staff/cohorts/{run.id}").get_data(as_text=True)
    assert "sektor sama" in html  # reasons in Bahasa Indonesia
    assert "60.0%" in html and "3/5" in html
    assert "mentor yang cocok sudah penuh oleh peserta lain" in html
    english = client.get(f"/staff/cohorts/{run.id}?lang=en").get_data(as_text=True)
    assert "same sector" in english and "suitable mentors filled by others" in english
    index = client.get("/staff/cohorts").get_data(as_text=True)
    assert f"/staff/cohorts/{run.id}" in index
    # The list shows the run's matched / waiting figures (read out of the report by the database).
    assert "<td>3 / 5</td>" in index and "draft: 3" in index, index[index.find("<tbody>"):][:600]


def test_the_review_table_sorts_and_filters(client, db, programme):
    staff = _staff_client(client, db)
    run = cohorts.run_cohort(db, staff_id=staff.id)
    drafts = _drafts(db, run)
    cohorts.reject(db, staff.id, drafts[0].id, "poor_fit")
    ids = lambda html: [int(x) for x in re.findall(r'id="proposal-(\d+)"', html)]  # noqa: E731
    by_score = ids(client.get(f"/staff/cohorts/{run.id}?sort=-score").get_data(as_text=True))
    scores = {d.id: d.score for d in drafts}
    assert [scores[i] for i in by_score] == sorted(scores.values(), reverse=True)
    ascending = ids(client.get(f"/staff/cohorts/{run.id}?sort=score").get_data(as_text=True))
    assert [scores[i] for i in ascending] == sorted(scores.values())
    assert ids(client.get(f"/staff/cohorts/{run.id}?status=rejected").get_data(as_text=True)) == [
        drafts[0].id
    ]
    assert ids(client.get(f"/staff/cohorts/{run.id}?kecamatan=31.74.01").get_data(as_text=True)) == []
    assert (
        len(ids(client.get(f"/staff/cohorts/{run.id}?sort=mentor&kecamatan=31.71.01").get_data(as_text=True)))
        == 3
    )


def test_staff_approve_reject_and_bulk_approve_through_the_page(client, db, programme):
    staff = _staff_client(client, db)
    run = cohorts.run_cohort(db, staff_id=staff.id)
    a, b, c = _drafts(db, run)
    base = f"/staff/cohorts/{run.id}"
    assert (
        client.post(f"{base}/proposals/{a.id}/approve", data={"sort": "mentor"})
        .headers["Location"]
        .endswith(f"{base}?sort=mentor")
    )
    again = client.post(f"{base}/proposals/{a.id}/approve")
    assert again.status_code == 409 and "sudah diputuskan" in again.get_data(as_text=True)
    rejected = client.post(f"{base}/proposals/{b.id}/reject", data={"reason": "poor_fit", "note": "jauh"})
    assert rejected.status_code == 302
    assert client.post(f"{base}/approve", data={"all": "1"}).status_code == 302
    statuses = {d.id: d.status for d in _drafts(db, run)}
    assert statuses == {a.id: "pending", b.id: "rejected", c.id: "pending"}
    actions = db.scalars(
        select(AuditLog.action).where(AuditLog.actor_id == staff.id).order_by(AuditLog.id)
    ).all()
    assert actions == ["cohort.run", "proposal.approve", "proposal.reject", "proposal.approve"]
    assert client.post(f"{base}/approve", data={"ids": [str(a.id)]}).status_code == 409


def test_staff_bulk_approve_the_ticked_drafts_and_swap_through_the_page(client, db, programme):
    _entrepreneurs, big, _small = programme
    staff = _staff_client(client, db)
    run = cohorts.run_cohort(db, staff_id=staff.id)
    spare = make_mentor(db, capacity=1, name="Mentor Cadangan")
    a, b, c = _drafts(db, run)
    html = client.get(f"/staff/cohorts/{run.id}").get_data(as_text=True)
    assert f"/staff/cohorts/{run.id}/proposals/{a.id}/swap" in html  # each draft links to its alternatives
    choices = client.get(f"/staff/cohorts/{run.id}/proposals/{a.id}/swap").get_data(as_text=True)
    assert "Mentor Cadangan" in choices  # offered as an alternative
    response = client.post(
        f"/staff/cohorts/{run.id}/proposals/{a.id}/swap", data={"mentor_id": str(spare.id)}
    )
    assert response.status_code == 302
    db.expire_all()
    assert db.get(MatchRequest, a.id).mentor_id == spare.id
    assert (
        client.post(f"/staff/cohorts/{run.id}/approve", data={"ids": [str(a.id), str(b.id)]}).status_code
        == 302
    )
    assert [d.status for d in _drafts(db, run)] == ["pending", "pending", "draft"]
    full = client.post(f"/staff/cohorts/{run.id}/proposals/{c.id}/swap", data={"mentor_id": str(spare.id)})
    assert full.status_code == 409
    decided = client.get(f"/staff/cohorts/{run.id}/proposals/{a.id}/swap").get_data(as_text=True)
    assert "sudah diputuskan" in decided and 'name="mentor_id"' not in decided
    assert client.get(f"/staff/cohorts/{run.id + 1}/proposals/{a.id}/swap").status_code == 404


def test_a_run_with_a_bad_filter_is_refused_on_the_page(client, db):
    _staff_client(client, db)
    response = client.post("/staff/cohorts", data={"kecamatan": "99.99.99"})
    assert response.status_code == 422
    assert _count(db, CohortRun) == 0


def test_an_unknown_run_is_404(client, db):
    _staff_client(client, db)
    assert client.get("/staff/cohorts/99999").status_code == 404
