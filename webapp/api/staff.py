"""``/api/v1/staff``: programme staff's member lists (and, as they land, cohort runs)."""

from __future__ import annotations

from models import Role
from webapp.access import roles
from webapp.api import API_PREFIX
from webapp.api.errors import AUTHENTICATED_ERRORS, api_blueprint, documented
from webapp.api.schemas import EntrepreneurPageSchema, MemberQuerySchema, MentorPageSchema
from webapp.database import get_db
from webapp.services import directory

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


def _columns(row) -> dict:
    return {column.key: getattr(row, column.key) for column in row.__table__.columns}


@blp.route("/entrepreneurs")
@roles(Role.STAFF)
@documented(blp, *AUTHENTICATED_ERRORS)
@blp.arguments(MemberQuerySchema, location="query")
@blp.response(200, EntrepreneurPageSchema)
def entrepreneurs(query):
    """Entrepreneurs whose name or id contains ``q`` (or in kecamatan ``q``), a page at a time."""
    return _page(directory.member_page(get_db(), "entrepreneurs", **query))


@blp.route("/mentors")
@roles(Role.STAFF)
@documented(blp, *AUTHENTICATED_ERRORS)
@blp.arguments(MemberQuerySchema, location="query")
@blp.response(200, MentorPageSchema)
def mentors(query):
    """Mentors whose name or id contains ``q`` (or in kecamatan ``q``), a page at a time."""
    return _page(directory.member_page(get_db(), "mentors", **query))
