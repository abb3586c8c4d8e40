"""Entity tags of requests (CON-5): reads answer ``ETag: "request-<id>-v<version>"``, writes take ``If-Match``.

A write sent with ``If-Match`` happens only if the request is still at the version the tag names:
otherwise it answers 412 with the error envelope (reason ``stale_version``, the current version in
``details``) and writes nothing. The version check is part of the write's guarded UPDATE, so a
change committed between the check and the write is refused too. ``If-Match: *`` or no
``If-Match`` keeps the unconditional behaviour (the guarded UPDATE still refuses what is no longer
possible, with 409).

The tags are strong: If-Match compares them strongly (RFC 9110, 13.1.1). A tag stands for the
request's own state (status, mentor, answer, score...), which moves its version; the names of the
people shown with it are theirs and do not.
"""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus

from flask import request
from flask_smorest import Blueprint

from models import MatchRequest
from webapp.database import get_db

#: A version no request has (versions start at 1): what a write is held to when ``If-Match``
#: names none of the request's current tag, so that the service refuses it after its own checks
#: of who may see the request (a stranger's request stays 404, not 412).
NO_SUCH_VERSION = 0

IF_MATCH_PARAMETER = {
    "name": "If-Match",
    "in": "header",
    "required": False,
    "description": (
        'The request\'s ETag as you read it (`"request-<id>-v<version>"`): the write happens only '
        "if nobody changed the request since, else 412 and nothing is written. Without it (or with "
        "`*`) the write is unconditional."
    ),
    "schema": {"type": "string"},
}
ETAG_HEADER = {
    "description": 'The request\'s version as an entity tag, `"request-<id>-v<version>"`; send it back in If-Match.',
    "schema": {"type": "string"},
}
RESPONSE_HEADERS = {"ETag": ETAG_HEADER}


def request_etag(req: MatchRequest) -> str:
    """The (unquoted) entity tag of a request at its current version."""
    return f"request-{req.id}-v{req.version}"


def etag_headers(req: MatchRequest) -> dict[str, str]:
    """Response headers carrying the request's entity tag."""
    return {"ETag": f'"{request_etag(req)}"'}


def if_match_version(request_id: int) -> int | None:
    """The version ``If-Match`` holds a write on the request to, for the service's ``version``.

    None without the header (or with ``*``): no condition. The request's current version when
    the header names its current tag; otherwise ``NO_SUCH_VERSION``, which the service refuses
    with ``StaleVersion`` (412) once it has checked that the caller may see the request.
    """
    if_match = request.if_match
    if not if_match or if_match.star_tag:
        return None
    req = get_db().get(MatchRequest, request_id)
    if req is not None and if_match.contains(request_etag(req)):
        return req.version
    return NO_SUCH_VERSION


def conditional(blp: Blueprint) -> Callable:
    """Document that a write takes ``If-Match`` and may answer 412 (with the error envelope)."""

    def decorate(view: Callable) -> Callable:
        view = blp.alt_response(412, response=HTTPStatus(412).name)(view)
        return blp.doc(parameters=[IF_MATCH_PARAMETER])(view)

    return decorate
