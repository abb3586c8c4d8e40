"""Consent under UU PDP (PDP-1): withdrawing it in the app stops all matching; giving it again restores it."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from models import AuditLog, MatchRequest, MentoringSession, Notification, Role, User
from tests.factories import PASSWORD, login, make_entrepreneur, make_mentor, make_user
from tests.webapp.sessions_data import MONDAY, SUNDAY_EVENING, at, make_match, make_room
from webapp.services import cohorts, consent, mentorship, sessions, suggestions
from webapp.services.errors import Conflict


def _user(db, profile) -> User:
    return db.get(User, profile.user_id)


def _suggested_ids(db, entrepreneur) -> set[int]:
    return {s.mentor.id for s in suggestions.suggest_mentors(db, entrepreneur, top=50)}


def _proposed_session(db, match, day: int = 1) -> MentoringSession:
    row = MentoringSession(
        match_id=match.id,
        week_start=MONDAY + dt.timedelta(days=7 * (day // 7)),
        starts_at=at(day, 10),
        ends_at=at(day, 11),
        mode="online",
        status="proposed",
        created_at=SUNDAY_EVENING,
    )
    db.add(row)
    db.flush()
    return row


# --- the weekly job -------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["entrepreneur", "mentor"])
def test_after_withdrawal_the_pair_is_left_out_of_the_weekly_jobs_candidates(db, who):
    kept = make_match(db)
    left = make_match(db)
    assert {m.id for m in sessions.weekly_candidates(db, MONDAY)} >= {kept.id, left.id}
    consent.withdraw_consent(db, _user(db, getattr(left, who)))
    candidates = {m.id for m in sessions.weekly_candidates(db, MONDAY)}
    assert kept.id in candidates and left.id not in candidates


def test_the_weekly_run_proposes_no_session_to_someone_who_withdrew(db):
    make_room(db)
    kept, left = make_match(db), make_match(db)
    consent.withdraw_consent(db, _user(db, left.entrepreneur), now=SUNDAY_EVENING - dt.timedelta(days=1))
    run = sessions.propose_sessions_for_week(db, MONDAY, now=SUNDAY_EVENING, time_limit=1.0)
    booked = set(db.scalars(select(MentoringSession.match_id).where(MentoringSession.week_start == MONDAY)))
    assert run.status == "done" and kept.id in booked and left.id not in booked


def test_withdrawal_cancels_upcoming_proposed_sessions_but_not_past_or_confirmed_ones(db):
    match = make_match(db)
    past = _proposed_session(db, match, day=-5)
    upcoming = _proposed_session(db, match, day=2)
    confirmed = _proposed_session(db, match, day=9)
    confirmed.status = "confirmed"
    db.flush()
    done = consent.withdraw_consent(db, _user(db, match.mentor), now=at(0, 8))
    db.expire_all()
    assert db.get(MentoringSession, upcoming.id).status == "cancelled"
    assert db.get(MentoringSession, past.id).status == "proposed"
    assert db.get(MentoringSession, confirmed.id).status == "confirmed"
    assert done.sessions_cancelled == 1


# --- suggestions, requests and cohort runs --------------------------------------------------------


def test_a_mentor_who_withdrew_disappears_from_suggestions_and_returns_after_consenting_again(db):
    entrepreneur = make_entrepreneur(db, make_user(db, Role.ENTREPRENEUR))
    mentor = make_mentor(db, make_user(db, Role.MENTOR))
    assert mentor.id in _suggested_ids(db, entrepreneur)
    consent.withdraw_consent(db, _user(db, mentor))
    assert mentor.id not in _suggested_ids(db, entrepreneur)
    with pytest.raises(Conflict):
        mentorship.request_mentor(db, entrepreneur, mentor.id)
    consent.give_consent(db, _user(db, mentor), notice_version="2026-11")
    assert mentor.id in _suggested_ids(db, entrepreneur)


def test_an_entrepreneur_who_withdrew_cannot_ask_a_mentor(db):
    entrepreneur = make_entrepreneur(db, make_user(db, Role.ENTREPRENEUR))
    mentor = make_mentor(db, make_user(db, Role.MENTOR))
    consent.withdraw_consent(db, _user(db, entrepreneur))
    with pytest.raises(Conflict) as refused:
        mentorship.request_mentor(db, entrepreneur, mentor.id)
    assert refused.value.code == "consent_withdrawn"


def test_a_mentor_who_withdrew_cannot_resume_until_consenting_again(db):
    mentor = make_mentor(db, make_user(db, Role.MENTOR))
    consent.withdraw_consent(db, _user(db, mentor))
    assert (mentor.paused, mentor.paused_reason) == (True, "consent_withdrawn")
    with pytest.raises(Conflict):
        mentorship.set_paused(db, mentor, False)
    consent.give_consent(db, _user(db, mentor), notice_version="2026-11")
    assert (mentor.paused, mentor.paused_reason) == (False, None)


def test_a_pause_of_the_mentors_own_outlasts_withdrawal_and_consent(db):
    mentor = make_mentor(db, make_user(db, Role.MENTOR), paused=True, paused_reason="paused_by_mentor")
    consent.withdraw_consent(db, _user(db, mentor))
    consent.give_consent(db, _user(db, mentor), notice_version="2026-11")
    assert (mentor.paused, mentor.paused_reason) == (True, "paused_by_mentor")


def test_cohort_runs_leave_out_entrepreneurs_and_mentors_who_withdrew(db):
    staff = make_user(db, Role.STAFF)
    stays = make_entrepreneur(db, make_user(db, Role.ENTREPRENEUR))
    leaves = make_entrepreneur(db, make_user(db, Role.ENTREPRENEUR))
    no_account = make_entrepreneur(db)  # imported from a spreadsheet: no consent to withdraw
    open_mentor = make_mentor(db, make_user(db, Role.MENTOR), capacity=5)
    withdrawn_mentor = make_mentor(db, make_user(db, Role.MENTOR), capacity=5)
    consent.withdraw_consent(db, _user(db, leaves))
    consent.withdraw_consent(db, _user(db, withdrawn_mentor))
    waiting = {e.id for e in cohorts.waiting_entrepreneurs(db)}
    assert {stays.id, no_account.id} <= waiting and leaves.id not in waiting
    run = cohorts.run_cohort(db, staff_id=staff.id)
    drafts = list(db.scalars(select(MatchRequest).where(MatchRequest.cohort_run_id == run.id)))
    assert drafts and leaves.id not in {d.entrepreneur_id for d in drafts}
    assert {d.mentor_id for d in drafts} == {open_mentor.id}


def test_withdrawal_closes_open_requests_drops_draft_proposals_and_tells_the_other_side(db):
    entrepreneur = make_entrepreneur(db, make_user(db, Role.ENTREPRENEUR))
    asked = make_mentor(db, make_user(db, Role.MENTOR))
    proposed = make_mentor(db, make_user(db, Role.MENTOR))
    pending = mentorship.request_mentor(db, entrepreneur, asked.id)
    draft = MatchRequest(
        entrepreneur_id=entrepreneur.id, mentor_id=proposed.id, origin="cohort", status="draft"
    )
    answered = MatchRequest(entrepreneur_id=entrepreneur.id, mentor_id=proposed.id, status="declined")
    db.add_all([draft, answered])
    db.flush()
    done = consent.withdraw_consent(db, _user(db, entrepreneur))
    db.expire_all()
    assert db.get(MatchRequest, pending.id).status == "withdrawn"
    assert db.get(MatchRequest, draft.id).status == "withdrawn"
    assert db.get(MatchRequest, answered.id).status == "declined"
    assert (done.requests_closed, done.drafts_dropped) == (1, 1)
    told = db.scalars(select(Notification.kind).where(Notification.user_id == asked.user_id)).all()
    assert "request_closed" in told


def test_requests_waiting_on_a_mentor_who_withdrew_are_closed_not_declined(db):
    entrepreneur = make_entrepreneur(db, make_user(db, Role.ENTREPRENEUR))
    mentor = make_mentor(db, make_user(db, Role.MENTOR))
    pending = mentorship.request_mentor(db, entrepreneur, mentor.id)
    consent.withdraw_consent(db, _user(db, mentor))
    db.expire_all()
    row = db.get(MatchRequest, pending.id)
    # "declined" would teach the model a poor fit; the mentor only left.
    assert (row.status, row.response_reason) == ("closed", "consent_withdrawn")
    told = db.scalars(select(Notification.kind).where(Notification.user_id == entrepreneur.user_id)).all()
    assert "request_declined" in told


def test_withdrawal_and_consent_are_audited_and_consent_clears_the_withdrawal(db):
    user = make_user(db, Role.ENTREPRENEUR)
    consent.withdraw_consent(db, user)
    assert user.consent_withdrawn_at is not None
    consent.give_consent(db, user, notice_version="2026-11")
    assert user.consent_withdrawn_at is None
    assert user.privacy_consent_channel == "web_account" and user.privacy_notice_version == "2026-11"
    actions = db.scalars(
        select(AuditLog.action).where(AuditLog.object_type == "user", AuditLog.object_id == str(user.id))
    ).all()
    assert {"consent.withdrawn", "consent.given"} <= set(actions)


# --- the account page and the API ---------------------------------------------------------------


def test_withdrawal_on_the_account_page_needs_the_password_and_explains_the_consequences(client, db):
    user = make_user(db, Role.ENTREPRENEUR, consent=True, notice_version="2026-11")
    login(client, user.email)
    page = client.get("/me/data").get_data(as_text=True)
    assert "Tarik persetujuan saya" in page and "tidak lagi muncul di saran mentor" in page
    wrong = client.post("/me/consent/withdraw", data={"withdraw-password": "salah-sekali-ini"})
    assert wrong.status_code == 422
    db.expire_all()
    assert db.get(User, user.id).consent_withdrawn_at is None
    done = client.post("/me/consent/withdraw", data={"withdraw-password": PASSWORD})
    assert done.status_code == 302
    db.expire_all()
    assert db.get(User, user.id).consent_withdrawn_at is not None
    assert "Berikan persetujuan" in client.get("/me/data").get_data(as_text=True)


def test_an_entrepreneur_who_withdrew_is_sent_to_the_account_page_instead_of_suggestions(client, db):
    user = make_user(db, Role.ENTREPRENEUR)
    make_entrepreneur(db, user)
    consent.withdraw_consent(db, user)
    db.commit()
    login(client, user.email)
    response = client.get("/me/mentors")
    assert response.status_code == 302 and response.headers["Location"].endswith("/me/data")


def test_consent_given_again_on_the_account_page_restores_matching(client, db):
    user = make_user(db, Role.MENTOR)
    mentor = make_mentor(db, user)
    consent.withdraw_consent(db, user)
    db.commit()
    login(client, user.email)
    refused = client.post("/me/consent/give", data={})
    assert refused.status_code == 422
    assert client.post("/me/consent/give", data={"consent-consent": "y"}).status_code == 302
    db.expire_all()
    assert db.get(User, user.id).consent_withdrawn_at is None
    assert db.get(type(mentor), mentor.id).paused is False


def test_the_api_refuses_suggestions_to_an_entrepreneur_who_withdrew(client, db):
    user = make_user(db, Role.ENTREPRENEUR)
    make_entrepreneur(db, user)
    make_mentor(db, make_user(db, Role.MENTOR))
    db.commit()
    login(client, user.email)
    assert client.get("/api/v1/mentors/suggestions").status_code == 200
    consent.withdraw_consent(db, db.get(User, user.id))
    db.commit()
    response = client.get("/api/v1/mentors/suggestions")
    assert response.status_code == 409
    assert response.get_json()["reason"] == "consent_withdrawn"


def test_the_api_never_suggests_a_mentor_who_withdrew(client, db):
    user = make_user(db, Role.ENTREPRENEUR)
    make_entrepreneur(db, user)
    mentor = make_mentor(db, make_user(db, Role.MENTOR))
    consent.withdraw_consent(db, _user(db, mentor))
    db.commit()
    login(client, user.email)
    response = client.get("/api/v1/mentors/suggestions")
    assert response.status_code == 200
    assert mentor.id not in {s["mentor"]["id"] for s in response.get_json()}


def test_a_mentor_who_withdrew_cannot_resume_through_the_api(client, db):
    user = make_user(db, Role.MENTOR)
    make_mentor(db, user)
    consent.withdraw_consent(db, user)
    db.commit()
    login(client, user.email)
    response = client.put("/api/v1/me/pause", json={"paused": False})
    assert response.status_code == 409 and response.get_json()["reason"] == "consent_withdrawn"
