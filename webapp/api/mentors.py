"""``/api/v1/mentors``: suggestions for an entrepreneur, and a mentor's public profile."""

from __future__ import annotations

from flask_login import current_user

from models import Role
from webapp.access import login_required, roles
from webapp.api import API_PREFIX
from webapp.api.callers import ID, current_entrepreneur
from webapp.api.errors import AUTHENTICATED_ERRORS, api_blueprint, documented
from webapp.api.schemas import PublicMentorSchema, SuggestionQuerySchema, SuggestionSchema
from webapp.database import get_db, read_only
from webapp.services import consent, directory, suggestions
from webapp.services.mentorship import reasons_json
from webapp.suggestion_cache import mentor_pools

blp = api_blueprint("mentors", __name__, url_prefix=f"{API_PREFIX}/mentors", description="Mentors")


def public_mentor(mentor) -> dict:
    """The fields of a mentor anyone logged in may see."""
    return {
        "id": mentor.id,
        "name": mentor.name,
        "company": mentor.company,
        "sectors": mentor.sectors,
        "stages": mentor.stages,
        "kecamatan_code": mentor.kecamatan_code,
        "expertise": mentor.expertise,
        "languages": mentor.languages,
        "mode": mentor.mode,
        "bio": mentor.bio,
        "accepting": mentor.free_places > 0,
    }


@blp.route("/suggestions")
@read_only
@roles(Role.ENTREPRENEUR)
@documented(blp, *AUTHENTICATED_ERRORS, 409)
@blp.arguments(SuggestionQuerySchema, location="query")
@blp.response(200, SuggestionSchema(many=True))
def suggestions_for_me(query):
    """The best mentors with a free place for the calling entrepreneur, with the reasons.

    409 ``consent_withdrawn`` when the caller has withdrawn consent to processing for matching.
    """
    consent.require_consent(current_user.user)
    found = suggestions.suggest_mentors(get_db(), current_entrepreneur(), **query, pools=mentor_pools())
    return [
        {
            "rank": s.rank,
            "score": s.score,
            "mentor": public_mentor(s.mentor),
            "reasons": reasons_json(s.reasons),
        }
        for s in found
    ]


@blp.route(f"/<{ID}:mentor_id>")
@read_only
@login_required
@documented(blp, *AUTHENTICATED_ERRORS)
@blp.response(200, PublicMentorSchema)
def get_mentor(mentor_id: int):
    """A mentor's public profile (no contact details)."""
    return public_mentor(directory.public_mentor(get_db(), mentor_id))
