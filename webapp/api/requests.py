"""``/api/v1/requests``: an entrepreneur asks a mentor; the mentor accepts or declines.

A request read alone carries its ``ETag``; the writes on it take ``If-Match`` (:mod:`webapp.api.etags`).
"""

from __future__ import annotations

from flask_login import current_user

from models import Role
from webapp.access import roles
from webapp.api import API_PREFIX
from webapp.api.callers import ID, current_entrepreneur, current_mentor
from webapp.api.errors import AUTHENTICATED_ERRORS, api_blueprint, documented
from webapp.api.etags import RESPONSE_HEADERS, conditional, etag_headers, if_match_version
from webapp.api.schemas import (
    DeclineSchema,
    MatchSchema,
    RequestCreateSchema,
    RequestQuerySchema,
    RequestSchema,
)
from webapp.database import get_db, read_only
from webapp.services import directory, mentorship
from webapp.suggestion_cache import mentor_pools

blp = api_blueprint("requests", __name__, url_prefix=f"{API_PREFIX}/requests", description="Mentor requests")


@blp.route("", methods=["POST"])
@roles(Role.ENTREPRENEUR)
@documented(blp, *AUTHENTICATED_ERRORS, 409)
@blp.arguments(RequestCreateSchema)
@blp.response(201, RequestSchema)
def create_request(body):
    """Ask a mentor (at most 3 waiting at once; not while matched)."""
    db = get_db()
    req = mentorship.request_mentor(
        db,
        current_entrepreneur(),
        body["mentor_id"],
        message=body["message"],
        actor_id=current_user.id,
        pools=mentor_pools(),
    )
    db.commit()
    return req


@blp.route("", methods=["GET"])
@read_only
@roles(Role.ENTREPRENEUR, Role.MENTOR)
@documented(blp, *AUTHENTICATED_ERRORS, 409)
@blp.arguments(RequestQuerySchema, location="query")
@blp.response(200, RequestSchema(many=True))
def list_requests(query):
    """The caller's requests: an entrepreneur's sent ones, a mentor's received ones (newest first)."""
    db = get_db()
    if current_user.role is Role.ENTREPRENEUR:
        return directory.requests_sent(db, current_entrepreneur().id, status=query["status"])
    return directory.requests_received(db, current_mentor().id, status=query["status"])


@blp.route(f"/<{ID}:request_id>", methods=["GET"])
@roles(Role.ENTREPRENEUR, Role.MENTOR)
@documented(blp, *AUTHENTICATED_ERRORS)
@blp.response(200, RequestSchema, headers=RESPONSE_HEADERS)
def get_request(request_id: int):
    """One of the caller's requests, with its ETag (send it back in If-Match to withdraw, accept or decline)."""
    db = get_db()
    if current_user.role is Role.ENTREPRENEUR:
        req = directory.own_request(db, request_id, entrepreneur_id=current_entrepreneur().id)
    else:
        req = directory.own_request(db, request_id, mentor_id=current_mentor().id)
    return req, 200, etag_headers(req)


@blp.route(f"/<{ID}:request_id>/withdraw", methods=["POST"])
@roles(Role.ENTREPRENEUR)
@documented(blp, *AUTHENTICATED_ERRORS, 409)
@conditional(blp)
@blp.response(200, RequestSchema, headers=RESPONSE_HEADERS)
def withdraw(request_id: int):
    """The entrepreneur takes back a request the mentor has not answered."""
    db = get_db()
    req = mentorship.withdraw_request(
        db, current_entrepreneur(), request_id, actor_id=current_user.id, version=if_match_version(request_id)
    )
    headers = etag_headers(req)
    db.commit()
    return req, 200, headers


@blp.route(f"/<{ID}:request_id>/accept", methods=["POST"])
@roles(Role.MENTOR)
@documented(blp, *AUTHENTICATED_ERRORS, 409)
@conditional(blp)
@blp.response(200, MatchSchema)
def accept(request_id: int):
    """The mentor accepts: a place is taken and the mentorship starts (409 ``capacity_full`` when none is left)."""
    db = get_db()
    match = mentorship.accept_request(
        db, current_mentor(), request_id, actor_id=current_user.id, version=if_match_version(request_id)
    )
    db.commit()
    return match


@blp.route(f"/<{ID}:request_id>/decline", methods=["POST"])
@roles(Role.MENTOR)
@documented(blp, *AUTHENTICATED_ERRORS, 409)
@conditional(blp)
@blp.arguments(DeclineSchema)
@blp.response(200, RequestSchema, headers=RESPONSE_HEADERS)
def decline(body, request_id: int):
    """The mentor declines with a reason from the list and an optional note."""
    db = get_db()
    req = mentorship.decline_request(
        db,
        current_mentor(),
        request_id,
        reason=body["reason"],
        note=body["note"],
        actor_id=current_user.id,
        version=if_match_version(request_id),
    )
    headers = etag_headers(req)
    db.commit()
    return req, 200, headers
