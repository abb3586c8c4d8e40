"""The API's test world: one account per role with a profile where the role has one, and a token each."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from models import Entrepreneur, Mentor, Role, User
from tests.factories import make_entrepreneur, make_mentor, make_user
from webapp.services import api_tokens, mentorship

ROLES = ("anonymous", "entrepreneur", "mentor", "staff", "admin")


def bearer(token: str) -> dict[str, str]:
    """The header that authenticates a request with a personal token."""
    return {"Authorization": f"Bearer {token}"}


@dataclass
class World:
    """Accounts, profiles and tokens the API tests act with."""

    db: object
    entrepreneur_user: User
    entrepreneur: Entrepreneur
    mentor_user: User
    mentor: Mentor
    staff_user: User
    admin_user: User
    tokens: dict[str, str]

    def headers(self, role: str) -> dict[str, str]:
        """Headers that make a request as ``role`` (none for anonymous)."""
        return {} if role == "anonymous" else bearer(self.tokens[role])

    def new_entrepreneur(self, **kw) -> tuple[User, Entrepreneur, str]:
        """Another entrepreneur with an account, a profile and a token."""
        user = make_user(self.db, Role.ENTREPRENEUR)
        profile = make_entrepreneur(self.db, user, **kw)
        return user, profile, api_tokens.create_token(self.db, user, "test").plain

    def new_mentor(self, **kw) -> tuple[User, Mentor, str]:
        """Another mentor with an account, a profile and a token."""
        user = make_user(self.db, Role.MENTOR)
        profile = make_mentor(self.db, user, **kw)
        return user, profile, api_tokens.create_token(self.db, user, "test").plain

    def pending_request(self, entrepreneur: Entrepreneur | None = None, mentor: Mentor | None = None):
        """A request waiting for the mentor's answer."""
        return mentorship.request_mentor(
            self.db, entrepreneur or self.entrepreneur, (mentor or self.mentor).id, message="Halo"
        )

    def cohort_run(self):
        """A cohort run by staff with at least one draft proposal (world's entrepreneur -> a mentor)."""
        from webapp.services import cohorts

        return cohorts.run_cohort(self.db, staff_id=self.staff_user.id)

    def draft_proposal(self):
        """A draft proposal of a fresh cohort run."""
        from webapp.services import directory

        return directory.run_proposals(self.db, self.cohort_run().id)[0]

    def active_match(self, entrepreneur: Entrepreneur | None = None, mentor: Mentor | None = None):
        """A running mentorship (the request accepted by the mentor)."""
        mentor = mentor or self.mentor
        req = self.pending_request(entrepreneur, mentor)
        return mentorship.accept_request(self.db, mentor, req.id)


@pytest.fixture
def world(db) -> World:
    """One person per role, each with a token; the entrepreneur and the mentor have profiles."""
    e_user = make_user(db, Role.ENTREPRENEUR)
    m_user = make_user(db, Role.MENTOR)
    s_user = make_user(db, Role.STAFF)
    a_user = make_user(db, Role.ADMIN)
    entrepreneur = make_entrepreneur(db, e_user)
    mentor = make_mentor(db, m_user)
    tokens = {
        role: api_tokens.create_token(db, user, f"{role} token").plain
        for role, user in (("entrepreneur", e_user), ("mentor", m_user), ("staff", s_user), ("admin", a_user))
    }
    db.commit()
    return World(db, e_user, entrepreneur, m_user, mentor, s_user, a_user, tokens)
