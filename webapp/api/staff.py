"""``/api/v1/staff``: programme staff's member lists, cohort runs and the review of their proposals.

A proposal read alone carries its ``ETag``; approving, rejecting and swapping take ``If-Match``, so two
staff reviewing one run cannot overwrite each other's decisions (:mod:`webapp.api.etags`).
"""

from __future__ import annotations

from flask import request
from flask_login import current_user

from models import MatchRequest, Role
from webapp.access import roles
from webapp.api import API_PREFIX
from webapp.api.callers import ID
from webapp.api.errors import AUTHENTICATED_ERRORS, api_blueprint, documented
from webapp.api.etags import RESPONSE_HEADERS, conditional, etag_headers, if_match_version
from webapp.api.schemas import (
    CohortRunCreateSchema,
    CohortRunSchema,
    EntrepreneurPageSchema,
    MemberQuerySchema,
    MentorPageSchema,
    RejectProposalSchema,
    RequestSchema,
    SwapProposalSchema,
)
from webapp.database import get_db, intend_to_write
from webapp.model_store import current_scorer, model_dir
from webapp.services import access_log, cohorts, directory

blp = api_blueprint("staff_api", __name__, url_prefix=f"{API_PREFIX}/staff", description="Programme staff")


def _page(page: directory.MemberPage) -> dict:
    items = [{**_columns(row), "has_account": row.user_id is not None} for row in page.items]
    return {
        "items": items,
        "page": page.page,
        "per_page": page.per_page,
        "total": page.total,
        "pages": page.pages,
    }


def _logged_page(kind: str, query: dict) -> dict:
    """One member page, with a ``personal_data.read`` audit row naming the people on it."""
    intend_to_write()
    db = get_db()
    page = directory.member_page(db, kind, **query)
    ids = [row.id for row in page.items]
    people = {"entrepreneurs": ids} if kind == "entrepreneurs" else {"mentors": ids}
    access_log.record_read(db, actor_id=current_user.id, endpoint=request.endpoint, **people)
    db.commit()
    return _page(page)


def _columns(row) -> dict:
    return {column.key: getattr(row, column.key) for column in row.__table__.columns}


@blp.route("/entrepreneurs")
@roles(Role.STAFF)
@documented(blp, *AUTHENTICATED_ERRORS)
@blp.arguments(MemberQuerySchema, location="query")
@blp.response(200, EntrepreneurPageSchema)
def entrepreneurs(query):
    """Entrepreneurs whose name or id contains ``q`` (or in kecamatan ``q``), a page at a time."""
    return _logged_page("entrepreneurs", query)


@blp.route("/mentors")
@roles(Role.STAFF)
@documented(blp, *AUTHENTICATED_ERRORS)
@blp.arguments(MemberQuerySchema, location="query")
@blp.response(200, MentorPageSchema)
def mentors(query):
    """Mentors whose name or id contains ``q`` (or in kecamatan ``q``), a page at a time."""
    return _logged_page("mentors", query)


def _run(run) -> dict:
    """A run with its proposals; the people they name are recorded as read (the caller commits)."""
    db = get_db()
    proposals = directory.run_proposals(db, run.id)
    access_log.record_read(
        db,
        actor_id=current_user.id,
        endpoint=request.endpoint,
        entrepreneurs=[p.entrepreneur_id for p in proposals],
        mentors=[p.mentor_id for p in proposals],
    )
    return {
        "id": run.id,
        "created_at": run.created_at,
        "created_by_id": run.created_by_id,
        "filters": run.filters,
        "report": run.report,
        "proposals": proposals,
    }


@blp.route("/cohorts", methods=["POST"])
@roles(Role.STAFF)
@documented(blp, *AUTHENTICATED_ERRORS, 409)
@blp.arguments(CohortRunCreateSchema)
@blp.response(201, CohortRunSchema)
def run_cohort(body):
    """Match the waiting entrepreneurs (of a kota, kecamatan or sector) as draft proposals for review."""
    db = get_db()
    run = cohorts.run_cohort(db, staff_id=current_user.id, scorer=current_scorer(model_dir()), **body)
    out = _run(run)
    db.commit()
    return out


@blp.route(f"/cohorts/<{ID}:run_id>", methods=["GET"])
@roles(Role.STAFF)
@documented(blp, *AUTHENTICATED_ERRORS)
@blp.response(200, CohortRunSchema)
def get_cohort(run_id: int):
    """A cohort run: its filters, its report and every proposal it made."""
    intend_to_write()
    out = _run(cohorts.get_run(get_db(), run_id))
    get_db().commit()
    return out


@blp.route(f"/proposals/<{ID}:request_id>", methods=["GET"])
@roles(Role.STAFF)
@documented(blp, *AUTHENTICATED_ERRORS)
@blp.response(200, RequestSchema, headers=RESPONSE_HEADERS)
def get_proposal(request_id: int):
    """One cohort proposal, in whatever state, with its ETag (send it back in If-Match to decide on it)."""
    intend_to_write()
    db = get_db()
    req = directory.proposal(db, request_id)
    access_log.record_read(
        db,
        actor_id=current_user.id,
        endpoint=request.endpoint,
        entrepreneurs=[req.entrepreneur_id],
        mentors=[req.mentor_id],
    )
    headers = etag_headers(req)
    db.commit()
    return req, 200, headers


@blp.route(f"/proposals/<{ID}:request_id>/approve", methods=["POST"])
@roles(Role.STAFF)
@documented(blp, *AUTHENTICATED_ERRORS, 409)
@conditional(blp)
@blp.response(200, RequestSchema, headers=RESPONSE_HEADERS)
def approve_proposal(request_id: int):
    """Send a draft proposal to its mentor (it becomes a pending request)."""
    db = get_db()
    version = if_match_version(request_id)
    cohorts.approve(
        db, current_user.id, [request_id], versions=None if version is None else {request_id: version}
    )
    req = db.get(MatchRequest, request_id)
    headers = etag_headers(req)
    db.commit()
    return req, 200, headers


@blp.route(f"/proposals/<{ID}:request_id>/reject", methods=["POST"])
@roles(Role.STAFF)
@documented(blp, *AUTHENTICATED_ERRORS, 409)
@conditional(blp)
@blp.arguments(RejectProposalSchema)
@blp.response(200, RequestSchema, headers=RESPONSE_HEADERS)
def reject_proposal(body, request_id: int):
    """Reject a draft proposal with a reason; nobody is notified."""
    db = get_db()
    req = cohorts.reject(
        db, current_user.id, request_id, body["reason"], body["note"], version=if_match_version(request_id)
    )
    headers = etag_headers(req)
    db.commit()
    return req, 200, headers


@blp.route(f"/proposals/<{ID}:request_id>/swap", methods=["POST"])
@roles(Role.STAFF)
@documented(blp, *AUTHENTICATED_ERRORS, 409)
@conditional(blp)
@blp.arguments(SwapProposalSchema)
@blp.response(200, RequestSchema, headers=RESPONSE_HEADERS)
def swap_proposal(body, request_id: int):
    """Give a draft proposal another mentor who fits and has a place left."""
    db = get_db()
    req = cohorts.swap(
        db,
        current_user.id,
        request_id,
        body["mentor_id"],
        scorer=current_scorer(model_dir()),
        version=if_match_version(request_id),
    )
    headers = etag_headers(req)
    db.commit()
    return req, 200, headers
