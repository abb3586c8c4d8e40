"""Lost updates (CON-5): an edit of a row saved by someone else since it was read answers 409, writes nothing.

The pages that change a request carry the version their user saw (hidden field ``version``): a post
made from a page older than the request is refused with the conflict message and writes nothing.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.orm.exc import StaleDataError

from models import AuditLog, Match, MatchRequest, Mentor, Notification, Role, User
from tests.factories import PASSWORD, login, make_entrepreneur, make_mentor, make_user
from webapp.services import cohorts, mentorship

CHANGED_MEANWHILE = "Data berubah sementara Anda mengisinya"


def test_deleting_an_account_while_the_mentor_answers_its_request_answers_409_and_deletes_nothing(client, db):
    user = make_user(db, Role.ENTREPRENEUR)
    entrepreneur = make_entrepreneur(db, user)
    mentor = make_mentor(db, make_user(db, Role.MENTOR))
    request = mentorship.request_mentor(db, entrepreneur, mentor.id)
    db.commit()
    login(client, user.email)
    answered = []

    def mentor_answers_meanwhile(_mapper, conn, target):
        # The deletion read the request (version 1) and changed it in memory; the mentor's answer
        # is saved just before the deletion's write reaches the database (the version moves on).
        if target.id == request.id and not answered:
            answered.append(True)
            conn.execute(
                text("UPDATE match_request SET version = version + 1 WHERE id = :id"), {"id": request.id}
            )

    event.listen(MatchRequest, "before_update", mentor_answers_meanwhile)
    try:
        response = client.post("/me/delete", data={"password": PASSWORD, "confirm": "HAPUS"})
    finally:
        event.remove(MatchRequest, "before_update", mentor_answers_meanwhile)
    assert answered and response.status_code == 409
    assert "Data berubah sementara Anda mengisinya" in response.get_data(as_text=True)
    db.expire_all()
    kept = db.get(User, user.id)
    assert kept.deleted_at is None and kept.email == user.email  # nothing half-written
    assert db.get(MatchRequest, request.id).status == "pending"


def test_a_stale_edit_through_the_api_answers_409_with_the_conflict_envelope(client, db, monkeypatch):
    user = make_user(db, Role.ENTREPRENEUR)
    entrepreneur = make_entrepreneur(db, user)
    mentor = make_mentor(db, make_user(db, Role.MENTOR))
    request = mentorship.request_mentor(db, entrepreneur, mentor.id)
    db.commit()
    login(client, user.email)
    real_withdraw = mentorship.withdraw_request

    def withdraw_then_find_it_changed(session, *args, **kwargs):
        real_withdraw(session, *args, **kwargs)  # written in this request's transaction only
        raise StaleDataError(
            "UPDATE statement on table 'match_request' expected to update 1 row(s); 0 were matched."
        )

    monkeypatch.setattr(mentorship, "withdraw_request", withdraw_then_find_it_changed)
    response = client.post(f"/api/v1/requests/{request.id}/withdraw")
    assert response.status_code == 409
    body = response.get_json()
    assert (body["code"], body["status"], body["reason"]) == (409, "Conflict", "conflict")
    db.expire_all()
    assert db.scalar(select(MatchRequest.status).where(MatchRequest.id == request.id)) == "pending"


# --- forms carry the version the user saw ---------------------------------------------------------


def _form_version(html: str, action: str) -> str:
    """The hidden version of the form that posts to ``action`` on a page."""
    form = html[html.index(f'action="{action}"') :]
    return re.search(r'name="version" value="(\d+)"', form[: form.index("</form>")]).group(1)


def _logged_in(app, user):
    client = app.test_client()
    login(client, user.email)
    return client


@pytest.fixture
def review(app, db):
    """Two staff members with the review page of one run open: two drafts on one mentor, two spare mentors."""
    for _ in range(2):
        make_entrepreneur(db, make_user(db, Role.ENTREPRENEUR))
    make_mentor(db, make_user(db, Role.MENTOR), capacity=2)
    first_staff, second_staff = make_user(db, Role.STAFF), make_user(db, Role.STAFF)
    run = cohorts.run_cohort(db, staff_id=first_staff.id)
    spares = [make_mentor(db, make_user(db, Role.MENTOR), capacity=1) for _ in range(2)]
    db.commit()
    drafts = list(
        db.scalars(select(MatchRequest).where(MatchRequest.cohort_run_id == run.id).order_by(MatchRequest.id))
    )
    first, second = _logged_in(app, first_staff), _logged_in(app, second_staff)
    base = f"/staff/cohorts/{run.id}"
    return first, second, base, drafts, spares


def _count(db, model, *where) -> int:
    return db.scalar(select(func.count()).select_from(model).where(*where))


def test_the_second_of_two_staff_swapping_one_proposal_is_refused_instead_of_overwriting_the_first(
    db, review
):
    first, second, base, (draft, _other), (spare, other_spare) = review
    swap = f"{base}/proposals/{draft.id}/swap"
    first_page = first.get(swap).get_data(as_text=True)
    second_page = second.get(swap).get_data(as_text=True)  # both see version 1
    assert _form_version(first_page, swap) == _form_version(second_page, swap) == "1"

    done = first.post(swap, data={"mentor_id": spare.id, "version": _form_version(first_page, swap)})
    assert done.status_code == 302
    refused = second.post(
        swap, data={"mentor_id": other_spare.id, "version": _form_version(second_page, swap)}
    )

    assert refused.status_code == 409 and CHANGED_MEANWHILE in refused.get_data(as_text=True)
    db.expire_all()
    kept = db.get(MatchRequest, draft.id)
    assert (kept.status, kept.mentor_id, kept.version) == ("draft", spare.id, 2)  # the first's choice stands
    assert _count(db, AuditLog, AuditLog.action == "proposal.swap") == 1


def test_approving_or_rejecting_from_a_review_page_older_than_the_proposal_is_refused_and_writes_nothing(
    db, review
):
    first, second, base, (draft, _other), (spare, _) = review
    seen = second.get(base).get_data(as_text=True)  # the second staff member's page: version 1
    first.post(f"{base}/proposals/{draft.id}/swap", data={"mentor_id": spare.id})  # the first changes it

    approve, reject = f"{base}/proposals/{draft.id}/approve", f"{base}/proposals/{draft.id}/reject"
    refused_approval = second.post(approve, data={"version": _form_version(seen, approve)})
    refused_rejection = second.post(
        reject, data={"reason": "poor_fit", "note": "", "version": _form_version(seen, reject)}
    )

    for refused in (refused_approval, refused_rejection):
        assert refused.status_code == 409 and CHANGED_MEANWHILE in refused.get_data(as_text=True)
    db.expire_all()
    kept = db.get(MatchRequest, draft.id)
    assert (kept.status, kept.mentor_id, kept.version) == ("draft", spare.id, 2)
    assert _count(db, AuditLog, AuditLog.action.in_(("proposal.approve", "proposal.reject"))) == 0
    assert _count(db, Notification) == 0  # nobody was told of an approval

    reloaded = second.get(base).get_data(as_text=True)  # the page as it is now: the approval goes through
    assert second.post(approve, data={"version": _form_version(reloaded, approve)}).status_code == 302
    db.expire_all()
    assert db.get(MatchRequest, draft.id).status == "pending"


def test_a_bulk_approval_including_a_proposal_changed_since_the_page_was_made_approves_none(db, review):
    first, second, base, (draft, other), (spare, _) = review
    seen = second.get(base).get_data(as_text=True)
    first.post(f"{base}/proposals/{other.id}/swap", data={"mentor_id": spare.id})
    versions = {  # the rows' fields that belong to the bulk form (form="bulk")
        f"version-{r.id}": re.search(rf'name="version-{r.id}" value="(\d+)" form="bulk"', seen).group(1)
        for r in (draft, other)
    }

    refused = second.post(f"{base}/approve", data={"ids": [str(draft.id), str(other.id)], **versions})

    assert refused.status_code == 409 and CHANGED_MEANWHILE in refused.get_data(as_text=True)
    db.expire_all()
    assert [db.get(MatchRequest, r.id).status for r in (draft, other)] == ["draft", "draft"]


def test_staff_posts_without_the_version_act_on_the_proposal_as_it_is_now(db, review):
    # Pages opened before the field existed, and scripts: no version, so no version check (the
    # guarded UPDATE still refuses a proposal already decided: tests/webapp/test_cohort.py).
    first, second, base, (draft, _other), (spare, other_spare) = review
    assert first.post(f"{base}/proposals/{draft.id}/swap", data={"mentor_id": spare.id}).status_code == 302
    assert (
        second.post(f"{base}/proposals/{draft.id}/swap", data={"mentor_id": other_spare.id}).status_code
        == 302
    )
    db.expire_all()
    assert db.get(MatchRequest, draft.id).mentor_id == other_spare.id
    assert second.post(f"{base}/proposals/{draft.id}/approve").status_code == 302
    db.expire_all()
    assert db.get(MatchRequest, draft.id).status == "pending"


def test_a_version_that_is_not_a_number_is_a_bad_request(db, review):
    _first, second, base, (draft, _other), _spares = review
    assert second.post(f"{base}/proposals/{draft.id}/approve", data={"version": "1; DROP"}).status_code == 400
    assert (
        second.post(f"{base}/approve", data={"ids": [str(draft.id)], f"version-{draft.id}": "x"}).status_code
        == 400
    )
    db.expire_all()
    assert db.get(MatchRequest, draft.id).status == "draft"


@pytest.fixture
def open_request(app, db):
    """An entrepreneur's pending request, with the entrepreneur's and the mentor's pages open on it."""
    e_user, m_user = make_user(db, Role.ENTREPRENEUR), make_user(db, Role.MENTOR)
    entrepreneur = make_entrepreneur(db, e_user)
    mentor = make_mentor(db, m_user)
    request = mentorship.request_mentor(db, entrepreneur, mentor.id)
    db.commit()
    entrepreneur_client, mentor_client = _logged_in(app, e_user), _logged_in(app, m_user)
    return request, mentor, entrepreneur_client, mentor_client


def test_a_mentor_answering_from_an_inbox_older_than_the_request_is_refused_and_takes_no_place(
    db, open_request
):
    request, mentor, entrepreneur, mentor_client = open_request
    inbox = mentor_client.get("/mentor/requests").get_data(as_text=True)
    mine = entrepreneur.get("/me/requests").get_data(as_text=True)
    withdraw = f"/me/requests/{request.id}/withdraw"
    assert entrepreneur.post(withdraw, data={"version": _form_version(mine, withdraw)}).status_code == 302

    accept, decline = f"/mentor/requests/{request.id}/accept", f"/mentor/requests/{request.id}/decline"
    for action, data in ((accept, {}), (decline, {"reason": "schedule"})):
        answer = mentor_client.post(
            action, data={**data, "version": _form_version(inbox, action)}, follow_redirects=True
        )
        assert answer.request.path == "/mentor/requests" and CHANGED_MEANWHILE in answer.get_data(
            as_text=True
        )
    db.expire_all()
    assert db.get(MatchRequest, request.id).status == "withdrawn"
    assert db.get(Mentor, mentor.id).active_count == 0 and _count(db, Match) == 0

    # Without the version the answer is refused as before: the request no longer waits.
    old_client = mentor_client.post(accept, follow_redirects=True).get_data(as_text=True)
    assert "sudah tidak menunggu jawaban" in old_client and CHANGED_MEANWHILE not in old_client


def test_withdrawing_from_a_page_older_than_the_request_is_refused_and_the_answer_stands(db, open_request):
    request, mentor, entrepreneur, mentor_client = open_request
    mine = entrepreneur.get("/me/requests").get_data(as_text=True)
    inbox = mentor_client.get("/mentor/requests").get_data(as_text=True)
    accept = f"/mentor/requests/{request.id}/accept"
    assert mentor_client.post(accept, data={"version": _form_version(inbox, accept)}).status_code == 302

    withdraw = f"/me/requests/{request.id}/withdraw"
    refused = entrepreneur.post(
        withdraw, data={"version": _form_version(mine, withdraw)}, follow_redirects=True
    )

    assert CHANGED_MEANWHILE in refused.get_data(as_text=True)
    db.expire_all()
    assert db.get(MatchRequest, request.id).status == "accepted"
    assert db.get(Mentor, mentor.id).active_count == 1
