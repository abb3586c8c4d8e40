"""``/api/v1/matches``: the caller's mentorships, and ending one."""

from __future__ import annotations

from flask_login import current_user
from marshmallow import ValidationError

from models import Role
from webapp.access import roles
from webapp.api import API_PREFIX
from webapp.api.callers import ID, current_entrepreneur, current_mentor
from webapp.api.errors import AUTHENTICATED_ERRORS, api_blueprint, documented
from webapp.api.schemas import EndMatchSchema, MatchSchema
from webapp.database import get_db
from webapp.services import directory, mentorship

blp = api_blueprint("matches", __name__, url_prefix=f"{API_PREFIX}/matches", description="Mentorships")


@blp.route("", methods=["GET"])
@roles(Role.ENTREPRENEUR, Role.MENTOR)
@documented(blp, *AUTHENTICATED_ERRORS, 409)
@blp.response(200, MatchSchema(many=True))
def list_matches():
    """The caller's mentorships, active and past, newest first."""
    db = get_db()
    if current_user.role is Role.ENTREPRENEUR:
        return directory.matches_of(db, entrepreneur_id=current_entrepreneur().id)
    return directory.matches_of(db, mentor_id=current_mentor().id)


@blp.route(f"/<{ID}:match_id>/end", methods=["POST"])
@roles(Role.ENTREPRENEUR, Role.MENTOR)
@documented(blp, *AUTHENTICATED_ERRORS, 409)
@blp.arguments(EndMatchSchema)
@blp.response(200, MatchSchema)
def end(body, match_id: int):
    """Either side ends an active mentorship; the entrepreneur may rate it (1-5)."""
    if current_user.role is Role.ENTREPRENEUR:
        owner = {"entrepreneur_id": current_entrepreneur().id}
    else:
        if body["rating"] is not None:
            raise ValidationError({"rating": ["Only the entrepreneur rates a mentorship."]})
        owner = {"mentor_id": current_mentor().id}
    db = get_db()
    match = mentorship.end_match(
        db,
        match_id,
        reason=body["reason"],
        note=body["note"],
        rating=body["rating"],
        actor_id=current_user.id,
        **owner,
    )
    db.commit()
    return match
