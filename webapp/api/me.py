"""``/api/v1/me``: the caller's account and profile (read and save), personal API tokens, a mentor's pause."""

from __future__ import annotations

from flask_login import current_user

from models import Role
from webapp.access import login_required, roles
from webapp.api import API_PREFIX
from webapp.api.callers import ID, current_mentor
from webapp.api.errors import AUTHENTICATED_ERRORS, api_blueprint, documented
from webapp.api.schemas import (
    EntrepreneurProfileSchema,
    IssuedTokenSchema,
    MentorProfileSchema,
    MeSchema,
    OwnEntrepreneurSchema,
    OwnMentorSchema,
    PauseSchema,
    TokenCreateSchema,
    TokenSchema,
)
from webapp.api.security import authenticated_by_token
from webapp.database import get_db
from webapp.extensions import limiter
from webapp.services import api_tokens, directory, mentorship, profiles
from webapp.services.errors import ServiceError

blp = api_blueprint("me", __name__, url_prefix=f"{API_PREFIX}/me", description="The caller's own account")


class SessionRequired(ServiceError):
    """Tokens are made from a logged-in browser session, never from another token."""

    status = 403


@blp.route("")
@login_required
@documented(blp, *AUTHENTICATED_ERRORS)
@blp.response(200, MeSchema)
def get_me():
    """The caller's account and, for entrepreneurs and mentors, their profile."""
    db = get_db()
    return {
        "account": current_user.user,
        "entrepreneur": directory.entrepreneur_of_user(db, current_user.id),
        "mentor": directory.mentor_of_user(db, current_user.id),
    }


@blp.route("/tokens", methods=["GET"])
@login_required
@documented(blp, *AUTHENTICATED_ERRORS)
@blp.response(200, TokenSchema(many=True))
def list_tokens():
    """The caller's API tokens (never the tokens themselves, which are not stored)."""
    return api_tokens.list_tokens(get_db(), current_user.id)


@blp.route("/tokens", methods=["POST"])
@login_required
@limiter.limit("20 per hour")
@documented(blp, *AUTHENTICATED_ERRORS, 409)
@blp.arguments(TokenCreateSchema)
@blp.response(201, IssuedTokenSchema)
def create_token(body):
    """Make a personal API token; the response is the only time the token is shown.

    Needs the browser session (a token cannot make more tokens).
    """
    if authenticated_by_token():
        raise SessionRequired("session_required", "log in with the browser session to make a token")
    db = get_db()
    issued = api_tokens.create_token(db, current_user.user, body["name"])
    db.commit()
    token = issued.token
    return {
        "id": token.id,
        "name": token.name,
        "created_at": token.created_at,
        "last_used_at": token.last_used_at,
        "revoked_at": token.revoked_at,
        "token": issued.plain,
    }


@blp.route(f"/tokens/<{ID}:token_id>", methods=["DELETE"])
@login_required
@documented(blp, *AUTHENTICATED_ERRORS)
@blp.response(204)
def revoke_token(token_id: int):
    """Revoke one of the caller's tokens; it stops working at once."""
    db = get_db()
    api_tokens.revoke_token(db, current_user.id, token_id)
    db.commit()
    return ""


@blp.route("/pause", methods=["PUT"])
@roles(Role.MENTOR)
@documented(blp, *AUTHENTICATED_ERRORS, 409)
@blp.arguments(PauseSchema)
@blp.response(200, OwnMentorSchema)
def set_pause(body):
    """A mentor pauses (no new requests, no suggestions) or resumes."""
    db = get_db()
    mentor = mentorship.set_paused(db, current_mentor(), body["paused"], actor_id=current_user.id)
    db.commit()
    return mentor


@blp.route("/entrepreneur-profile", methods=["PUT"])
@roles(Role.ENTREPRENEUR)
@documented(blp, *AUTHENTICATED_ERRORS)
@blp.arguments(EntrepreneurProfileSchema)
@blp.response(200, OwnEntrepreneurSchema)
def save_entrepreneur_profile(body):
    """Create or replace the caller's business profile (checked as the web wizard checks it)."""
    db = get_db()
    profile = profiles.save_entrepreneur_profile(db, current_user.user, body)
    db.commit()
    return profile


@blp.route("/mentor-profile", methods=["PUT"])
@roles(Role.MENTOR)
@documented(blp, *AUTHENTICATED_ERRORS)
@blp.arguments(MentorProfileSchema)
@blp.response(200, OwnMentorSchema)
def save_mentor_profile(body):
    """Create or replace the caller's mentor profile (capacity never below the mentees held now)."""
    db = get_db()
    profile = profiles.save_mentor_profile(db, current_user.user, body)
    db.commit()
    return profile
