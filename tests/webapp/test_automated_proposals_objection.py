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


# --- members without an account: staff record the objection they made outside the app ---------------


def test_staff_record_the_objection_of_an_entrepreneur_without_an_account_and_its_withdrawal(db, staff):
    objecting = make_entrepreneur(db)  # imported from the programme's spreadsheet: no account
    make_mentor(db, make_user(db, Role.MENTOR), capacity=5)
    [draft] = _drafts(db, cohorts.run_cohort(db, staff_id=staff.id))
    assert draft.entrepreneur_id == objecting.id

    assert consent.record_member_objection(db, staff.id, objecting, True) == 1
    assert (draft.status, draft.response_reason) == ("withdrawn", consent.OBJECTED)
    assert objecting.id not in {e.id for e in cohorts.waiting_entrepreneurs(db)}
    assert _drafts(db, cohorts.run_cohort(db, staff_id=staff.id)) == []
    assert consent.record_member_objection(db, staff.id, objecting, True) == 0  # already recorded

    consent.record_member_objection(db, staff.id, objecting, False)
    assert objecting.automated_proposals_objected_at is None
    [again] = _drafts(db, cohorts.run_cohort(db, staff_id=staff.id))
    assert again.entrepreneur_id == objecting.id
    trail = db.execute(
        select(AuditLog.action, AuditLog.actor_id, AuditLog.object_type, AuditLog.object_id)
        .where(AuditLog.action.like("automated_proposals.%"))
        .order_by(AuditLog.id)
    ).all()
    assert trail == [
        ("automated_proposals.objected", staff.id, "entrepreneur", objecting.external_id),
        ("automated_proposals.allowed", staff.id, "entrepreneur", objecting.external_id),
    ]


def test_a_mentor_without_an_account_whose_objection_staff_recorded_is_neither_proposed_nor_swapped_to(
    db, staff
):
    make_entrepreneur(db, make_user(db, Role.ENTREPRENEUR))
    make_mentor(db, make_user(db, Role.MENTOR), capacity=1)
    objecting = make_mentor(db, capacity=3)
    consent.record_member_objection(db, staff.id, objecting, True)
    run = cohorts.run_cohort(db, staff_id=staff.id)
    [draft] = _drafts(db, run)
    assert draft.mentor_id != objecting.id and run.report["mentors"] == 1
    with pytest.raises(Conflict) as refused:
        cohorts.swap(db, staff.id, draft.id, objecting.id)
    assert refused.value.code == "mentor_objected"


def test_staff_cannot_record_an_objection_for_a_member_with_an_account(db, staff):
    member = make_entrepreneur(db, make_user(db, Role.ENTREPRENEUR))
    with pytest.raises(Conflict) as refused:
        consent.record_member_objection(db, staff.id, member, True)
    assert refused.value.code == "member_has_account"
    assert member.automated_proposals_objected_at is None


def test_the_objection_round_trip_on_the_staff_member_page(client, db, staff):
    member = make_entrepreneur(db, external_id="TEOBJ1")
    login(client, staff.email)
    page = client.get("/staff/members/entrepreneurs/TEOBJ1/edit").get_data(as_text=True)
    assert "Anggota ini belum punya akun" in page and "Catat keberatan" in page
    assert 'name="objects" value="1"' in page and "Catat bahwa keberatan dicabut" not in page

    recorded = client.post("/staff/members/entrepreneurs/TEOBJ1/objection", data={"objects": "1"})
    assert recorded.status_code == 303
    page = client.get("/staff/members/entrepreneurs/TEOBJ1/edit").get_data(as_text=True)
    assert "Keberatan dicatat" in page and "(dicatat staf)" in page
    assert 'name="objects" value="0"' in page and "Catat bahwa keberatan dicabut" in page
    db.expire_all()
    assert db.get(type(member), member.id).automated_proposals_objected_at is not None

    withdrawn = client.post("/staff/members/entrepreneurs/TEOBJ1/objection", data={"objects": "0"})
    assert withdrawn.status_code == 303
    page = client.get("/staff/members/entrepreneurs/TEOBJ1/edit").get_data(as_text=True)
    assert "Pencabutan keberatan dicatat" in page and "(dicatat staf)" not in page
    db.expire_all()
    assert db.get(type(member), member.id).automated_proposals_objected_at is None

    assert (
        client.post("/staff/members/entrepreneurs/TEOBJ1/objection", data={"objects": "x"}).status_code == 400
    )
    assert client.post("/staff/members/rooms/R1/objection", data={"objects": "1"}).status_code == 400
    assert (
        client.post("/staff/members/entrepreneurs/NOPE/objection", data={"objects": "1"}).status_code == 404
    )


def test_the_staff_member_page_of_a_member_with_an_account_sends_them_to_their_own_page(client, db, staff):
    user = make_user(db, Role.MENTOR)
    make_mentor(db, user, external_id="TMOBJ1")
    consent.object_to_automated_proposals(db, user)
    login(client, staff.email)
    page = client.get("/staff/members/mentors/TMOBJ1/edit").get_data(as_text=True)
    assert "Anggota ini menolak usulan otomatis sejak" in page and "punya akun" in page
    assert 'name="objects"' not in page
    refused = client.post("/staff/members/mentors/TMOBJ1/objection", data={"objects": "0"})
    assert refused.status_code == 303
    assert "ia mencatat atau mencabut keberatannya sendiri" in client.get(refused.location).get_data(
        as_text=True
    )
    db.expire_all()
    assert db.get(User, user.id).automated_proposals_objected_at is not None
