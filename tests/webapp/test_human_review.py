"""PDP-6 human review: no automated (cohort) pairing becomes an active mentorship unless a staff member's
approval is on record (a draft -> pending StatusChange by staff and a ``proposal.approve`` audit row)."""

from __future__ import annotations

import pytest
from sqlalchemy import and_, exists, select

from models import AuditLog, Match, MatchRequest, Role, StatusChange, User
from tests.factories import make_entrepreneur, make_mentor, make_user
from webapp.services import cohorts, mentorship
from webapp.services.errors import NotFound

STAFF_ROLES = (Role.STAFF, Role.ADMIN)


def unapproved_cohort_matches(db) -> list[Match]:
    """Matches from a cohort proposal without a staff approval recorded before the match started."""
    approved_by_staff = exists().where(
        StatusChange.request_id == MatchRequest.id,
        StatusChange.from_status == "draft",
        StatusChange.to_status == "pending",
        StatusChange.at <= Match.started_at,
        exists().where(User.id == StatusChange.actor_id, User.role.in_(STAFF_ROLES)),
    )
    audited = exists().where(
        AuditLog.action == "proposal.approve",
        AuditLog.object_type == "match_request",
        AuditLog.object_id == MatchRequest.id.cast(AuditLog.object_id.type),
        exists().where(User.id == AuditLog.actor_id, User.role.in_(STAFF_ROLES)),
    )
    stmt = (
        select(Match)
        .join(MatchRequest, MatchRequest.id == Match.request_id)
        .where(MatchRequest.origin == "cohort", ~and_(approved_by_staff, audited))
    )
    return list(db.scalars(stmt))


@pytest.fixture
def run(db):
    """A cohort run over three waiting entrepreneurs and one mentor with three places."""
    staff = make_user(db, Role.STAFF)
    for _ in range(3):
        make_entrepreneur(db, make_user(db, Role.ENTREPRENEUR))
    mentor = make_mentor(db, make_user(db, Role.MENTOR), capacity=3)
    run = cohorts.run_cohort(db, staff_id=staff.id)
    drafts = list(db.scalars(select(MatchRequest).where(MatchRequest.cohort_run_id == run.id)))
    assert len(drafts) == 3 and {d.status for d in drafts} == {"draft"}
    return staff, mentor, drafts


def test_no_cohort_pairing_becomes_an_active_match_without_a_recorded_staff_approval(db, run):
    staff, mentor, (approved, rejected, untouched) = run
    cohorts.reject(db, staff.id, rejected.id, "other", "bukan kecocokan yang baik")
    # The mentor cannot act on what staff have not approved: drafts and rejected proposals are not theirs.
    for proposal in (rejected, untouched):
        with pytest.raises(NotFound):
            mentorship.accept_request(db, mentor, proposal.id, actor_id=mentor.user_id)
    assert db.scalar(select(Match).where(Match.mentor_id == mentor.id)) is None

    cohorts.approve(db, staff.id, [approved.id])
    match = mentorship.accept_request(db, mentor, approved.id, actor_id=mentor.user_id)
    assert match.status == "active"
    assert db.scalars(select(Match).where(Match.status == "active", Match.mentor_id == mentor.id)).all() == [
        match
    ]
    assert unapproved_cohort_matches(db) == []


def test_the_check_catches_a_match_made_from_a_proposal_nobody_approved(db, run):
    staff, mentor, (forged, *_rest) = run
    db.add(Match(entrepreneur_id=forged.entrepreneur_id, mentor_id=mentor.id, request_id=forged.id))
    db.flush()
    assert [m.request_id for m in unapproved_cohort_matches(db)] == [forged.id]


def test_an_approval_by_a_member_instead_of_staff_does_not_count(db, run):
    _staff, mentor, (proposal, *_rest) = run
    cohorts.approve(db, mentor.user_id, [proposal.id])  # the service trusts its caller; the check does not
    mentorship.accept_request(db, mentor, proposal.id, actor_id=mentor.user_id)
    assert [m.request_id for m in unapproved_cohort_matches(db)] == [proposal.id]
