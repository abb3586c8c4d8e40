"""Objecting to automated proposals (PDP-6, UU PDP Pasal 10) short of withdrawing consent: cohort runs
leave the person out, everything else stays; withdrawing the objection brings them back."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from models import AuditLog, MatchRequest, Role, StatusChange, User
from tests.factories import login, make_entrepreneur, make_mentor, make_user
from webapp.services import cohorts, consent, journeys, mentorship, personal_data
from webapp.services.errors import Conflict


def _user(db, profile) -> User:
    return db.get(User, profile.user_id)


def _drafts(db, run) -> list[MatchRequest]:
    return list(db.scalars(select(MatchRequest).where(MatchRequest.cohort_run_id == run.id)))


@pytest.fixture
def staff(db):
    return make_user(db, Role.STAFF)


# --- cohort runs ----------------------------------------------------------------------------------


def test_an_entrepreneur_who_objects_is_left_out_of_cohort_runs_until_the_objection_is_withdrawn(db, staff):
    objecting = make_entrepreneur(db, make_user(db, Role.ENTREPRENEUR))
    other = make_entrepreneur(db, make_user(db, Role.ENTREPRENEUR))
    make_mentor(db, make_user(db, Role.MENTOR), capacity=5)
    consent.object_to_automated_proposals(db, _user(db, objecting))
    assert objecting.id not in {e.id for e in cohorts.waiting_entrepreneurs(db)}
    first = cohorts.run_cohort(db, staff_id=staff.id)
    assert {d.entrepreneur_id for d in _drafts(db, first)} == {other.id}

    consent.allow_automated_proposals(db, _user(db, objecting))
    second = cohorts.run_cohort(db, staff_id=staff.id)
    assert {d.entrepreneur_id for d in _drafts(db, second)} == {objecting.id}


def test_a_mentor_who_objects_gets_no_cohort_proposals_but_is_still_suggested_and_can_be_asked(db, staff):
    people = [make_entrepreneur(db, make_user(db, Role.ENTREPRENEUR)) for _ in range(3)]
    objecting = make_mentor(db, make_user(db, Role.MENTOR), capacity=5)
    other = make_mentor(db, make_user(db, Role.MENTOR), capacity=2)
    consent.object_to_automated_proposals(db, _user(db, objecting))
    run = cohorts.run_cohort(db, staff_id=staff.id)
    assert {d.mentor_id for d in _drafts(db, run)} == {other.id}
    assert run.report["mentors"] == 1  # the objecting mentor was not offered to the assignment

    # Self-service is untouched: the entrepreneur left without a proposal finds and asks them.
    waiting = next(e for e in people if e.id not in {d.entrepreneur_id for d in _drafts(db, run)})
    page = journeys.my_suggestions_page(db, _user(db, waiting))[1]
    assert objecting.id in {s.mentor.id for s in page.suggestions}
    req = mentorship.request_mentor(db, waiting, objecting.id)
    assert (req.status, req.origin) == ("pending", "entrepreneur")


def test_a_draft_cannot_be_swapped_to_a_mentor_who_objects_and_they_are_not_offered(db, staff):
    make_entrepreneur(db, make_user(db, Role.ENTREPRENEUR))
    make_mentor(db, make_user(db, Role.MENTOR), capacity=1)
    objecting = make_mentor(db, make_user(db, Role.MENTOR), capacity=3)
    consent.object_to_automated_proposals(db, _user(db, objecting))
    [draft] = _drafts(db, cohorts.run_cohort(db, staff_id=staff.id))
    offered = cohorts.alternatives(db, [draft])[draft.id]
    assert objecting.id not in {a.mentor.id for a in offered}
    with pytest.raises(Conflict) as refused:
        cohorts.swap(db, staff.id, draft.id, objecting.id)
    assert refused.value.code == "mentor_objected"


# --- what the objection changes -------------------------------------------------------------------


def test_objecting_drops_the_persons_drafts_but_not_what_staff_approved(db, staff):
    entrepreneur = make_entrepreneur(db, make_user(db, Role.ENTREPRENEUR))
    other = make_entrepreneur(db, make_user(db, Role.ENTREPRENEUR))
    mentor = make_mentor(db, make_user(db, Role.MENTOR), capacity=2)
    drafts = {d.entrepreneur_id: d for d in _drafts(db, cohorts.run_cohort(db, staff_id=staff.id))}
    cohorts.approve(db, staff.id, [drafts[other.id].id])

    dropped = consent.object_to_automated_proposals(db, _user(db, mentor))
    db.expire_all()
    mine, approved = (
        db.get(MatchRequest, drafts[entrepreneur.id].id),
        db.get(MatchRequest, drafts[other.id].id),
    )
    assert dropped == 1
    assert (mine.status, mine.response_reason) == ("closed", "automated_proposals_objected")
    assert approved.status == "pending"
    change = db.scalar(
        select(StatusChange).where(StatusChange.request_id == mine.id, StatusChange.to_status == "closed")
    )
    assert change.note == "automated_proposals_objected" and change.actor_id == mentor.user_id
    # A proposal the entrepreneur never received is not among their requests.
    assert mine.id not in {r.id for r in journeys.requests_of(db, entrepreneur)}
    assert consent.object_to_automated_proposals(db, _user(db, mentor)) == 0  # twice: nothing more


def test_an_entrepreneurs_objection_withdraws_their_draft(db, staff):
    entrepreneur = make_entrepreneur(db, make_user(db, Role.ENTREPRENEUR))
    make_mentor(db, make_user(db, Role.MENTOR))
    [draft] = _drafts(db, cohorts.run_cohort(db, staff_id=staff.id))
    assert consent.object_to_automated_proposals(db, _user(db, entrepreneur)) == 1
    db.expire_all()
    row = db.get(MatchRequest, draft.id)
    assert (row.status, row.response_reason) == ("withdrawn", "automated_proposals_objected")
    with pytest.raises(Conflict):
        cohorts.approve(db, staff.id, [draft.id])


def test_the_objection_and_its_withdrawal_are_audited_and_in_the_persons_export(db):
    user = make_user(db, Role.ENTREPRENEUR)
    make_entrepreneur(db, user)
    consent.object_to_automated_proposals(db, user)
    objected_at = user.automated_proposals_objected_at
    assert objected_at is not None
    export = personal_data.export_personal_data(db, user)
    assert export["consent"]["automated_proposals_objected_at"] == objected_at.isoformat()
    consent.allow_automated_proposals(db, user)
    assert user.automated_proposals_objected_at is None
    rows = db.scalars(
        select(AuditLog).where(AuditLog.object_type == "user", AuditLog.object_id == str(user.id))
    ).all()
    assert [r.action for r in rows] == ["automated_proposals.objected", "automated_proposals.allowed"]
    assert rows[0].actor_id == user.id and rows[0].after == {"drafts_dropped": 0}


def test_objecting_does_not_touch_consent_and_withdrawing_consent_keeps_the_objection(db):
    user = make_user(db, Role.MENTOR, consent=True, notice_version="2026-11")
    make_mentor(db, user)
    consent.object_to_automated_proposals(db, user)
    assert user.consent_withdrawn_at is None
    consent.withdraw_consent(db, user)
    consent.give_consent(db, user, notice_version="2026-11")
    assert user.automated_proposals_objected_at is not None


# --- the page -------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.ENTREPRENEUR, Role.MENTOR])
def test_the_objection_round_trip_on_the_personal_data_page(client, db, role):
    user = make_user(db, role)
    (make_entrepreneur if role is Role.ENTREPRENEUR else make_mentor)(db, user)
    login(client, user.email)
    page = client.get("/me/data").get_data(as_text=True)
    assert "Saya menolak usulan otomatis" in page and "Izinkan usulan otomatis lagi" not in page
    either = (
        "meminta mentor sendiri" if role is Role.ENTREPRENEUR else "mengirim permintaan langsung kepada Anda"
    )
    assert either in page

    done = client.post("/me/automated-proposals/object", follow_redirects=True)
    assert done.status_code == 200 and "Keberatan Anda tercatat" in done.get_data(as_text=True)
    db.expire_all()
    assert db.get(User, user.id).automated_proposals_objected_at is not None
    page = client.get("/me/data").get_data(as_text=True)
    assert "Anda menolak usulan otomatis sejak" in page and "Izinkan usulan otomatis lagi" in page
    english = client.get("/me/data?lang=en").get_data(as_text=True)
    assert "Allow automated proposals again" in english

    back = client.post("/me/automated-proposals/allow", follow_redirects=True)
    assert back.status_code == 200
    db.expire_all()
    assert db.get(User, user.id).automated_proposals_objected_at is None
    assert "Saya menolak usulan otomatis" in client.get("/me/data?lang=id").get_data(as_text=True)


def test_staff_accounts_have_no_objection_to_make(client, db):
    staff = make_user(db, Role.STAFF)
    login(client, staff.email)
    assert client.post("/me/automated-proposals/object").status_code == 403


def test_the_review_page_shows_staff_why_a_draft_was_dropped(client, db, staff):
    entrepreneur = make_entrepreneur(db, make_user(db, Role.ENTREPRENEUR))
    make_mentor(db, make_user(db, Role.MENTOR))
    run = cohorts.run_cohort(db, staff_id=staff.id)
    consent.object_to_automated_proposals(db, _user(db, entrepreneur))
    db.commit()
    login(client, staff.email)
    page = client.get(f"/staff/cohorts/{run.id}").get_data(as_text=True)
    assert "menolak usulan otomatis" in page
    assert "objected to automated proposals" in client.get(f"/staff/cohorts/{run.id}?lang=en").get_data(
        as_text=True
    )
