"""The API's one error envelope: ``{"code", "status", "message", "errors", "reason"?, "details"?}``.

Installed on every API blueprint (so web pages keep their HTML error pages), plus
:func:`envelope_response` for the answers the API gives before a view is chosen (unknown paths,
wrong methods, bad tokens).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from http import HTTPStatus

from flask import Response, jsonify, request
from flask_smorest import Blueprint
from marshmallow import ValidationError
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from models.db import aborted_for_another
from webapp.services.errors import ServiceError, StaleVersion

log = logging.getLogger(__name__)

#: Statuses every authenticated operation can answer besides its own (documented on each one).
AUTHENTICATED_ERRORS = (400, 401, 403, 404, 405, 413, 422, 429)
PUBLIC_ERRORS = (400, 404, 405, 429)


def _status_name(code: int) -> str:
    try:
        return HTTPStatus(code).phrase
    except ValueError:
        return "Error"


def envelope(
    code: int,
    message: str | None = None,
    *,
    errors: Mapping | None = None,
    reason: str | None = None,
    details: Mapping | None = None,
) -> dict:
    """The error body for ``code``."""
    body: dict = {
        "code": code,
        "status": _status_name(code),
        "message": message or _status_name(code),
        "errors": dict(errors or {}),
    }
    if reason:
        body["reason"] = reason
    if details:
        body["details"] = dict(details)
    return body


def envelope_response(code: int, message: str | None = None, *, headers=None, **kw) -> Response:
    """A JSON error response with the envelope."""
    response = jsonify(envelope(code, message, **kw))
    response.status_code = code
    for key, value in (headers or {}).items():
        response.headers[key] = value
    if code == 401:
        response.headers.setdefault("WWW-Authenticate", 'Bearer realm="JakMentor API"')
    return response


def _field_errors(messages) -> dict:
    """webargs puts messages under their location (``{"json": {...}}``); fields are what clients need."""
    if not isinstance(messages, Mapping):
        return {"_schema": messages if isinstance(messages, list) else [str(messages)]}
    out: dict = {}
    for key, value in messages.items():
        if key in ("json", "query", "querystring", "form", "view_args", "headers") and isinstance(
            value, Mapping
        ):
            out.update(value)
        elif key in ("json", "query", "querystring", "form"):
            out["_schema"] = value if isinstance(value, list) else [str(value)]
        else:
            out[key] = value
    return out


#: Clearer words than werkzeug's (which speak of browsers and URLs) for the statuses views raise.
_API_MESSAGES = {
    401: "Authentication required: send 'Authorization: Bearer <token>' or log in.",
    403: "Your role may not use this operation.",
}


def _http_error(exc: HTTPException):
    code = exc.code or 500
    data = getattr(exc, "data", None) or {}
    headers = dict(data.get("headers") or {})
    if code == 405:
        headers.update(dict(exc.get_headers()))
        headers.pop("Content-Type", None)
    if code == 429:
        headers.setdefault("Retry-After", "60")
    errors = data.get("errors") or data.get("messages")
    message = data.get("message") or _API_MESSAGES.get(code) or exc.description
    if code == 422 and errors:
        message = "The request has invalid fields."
    return envelope_response(code, message, errors=_field_errors(errors) if errors else None, headers=headers)


def _service_field_errors(exc: ServiceError) -> dict:
    """A refusal's per-field problems (profile ``FieldError`` items, ``(field, value)`` filter pairs)."""
    out: dict[str, list[str]] = {}
    for item in getattr(exc, "errors", None) or []:
        if hasattr(item, "field") and hasattr(item, "code"):
            out.setdefault(str(item.field), []).append(str(item.code))
        elif isinstance(item, tuple | list) and len(item) == 2:
            out.setdefault(str(item[0]), []).append(f"Unknown value: {item[1]}")
    return out


def _service_error(exc: ServiceError):
    return envelope_response(
        exc.status,
        exc.message,
        errors=_service_field_errors(exc),
        reason=exc.code,
        details=exc.params or None,
    )


def _precondition_failed(exc: StaleVersion):
    # Only a write sent with If-Match names a version (webapp.api.etags): it named an older one.
    return envelope_response(
        412,
        "The request changed since you read it: GET it again (new ETag) and decide again.",
        reason=exc.code,
        details=exc.params or None,
    )


def _validation_error(exc: ValidationError):
    return envelope_response(422, "The request has invalid fields.", errors=_field_errors(exc.messages))


def _database_unavailable(exc: OperationalError):
    if aborted_for_another(exc):  # not an outage: the database let a concurrent write go first
        log.warning("api: write aborted by the database for a concurrent one: %s", type(exc.orig).__name__)
        return envelope_response(409, "The data changed meanwhile; reload and try again.", reason="conflict")
    # The blueprint's catch-all below would otherwise make an outage (a restart, a lost connection) a 500.
    log.error("api: database unavailable: %s", type(exc.orig).__name__ if exc.orig else "OperationalError")
    return envelope_response(
        503, "The database is unavailable; retry shortly.", headers={"Retry-After": "30"}
    )


def _constraint_conflict(exc: IntegrityError):
    # A write that raced with another and was refused by a database constraint: nothing was written.
    log.warning(
        "api: write refused by a database constraint: %s",
        type(exc.orig).__name__ if exc.orig else "IntegrityError",
    )
    return envelope_response(409, "The data changed meanwhile; reload and try again.", reason="conflict")


def _stale_edit(exc: StaleDataError):
    # The row was saved by someone else after this request read it (its version moved on): the
    # flush wrote nothing, and the teardown rolls the rest of the request back.
    log.warning("api: edit refused: the row changed since it was read (stale version)")
    return envelope_response(409, "The data changed meanwhile; reload and try again.", reason="conflict")


def _unexpected_error(exc: Exception):
    log.exception("api: unhandled error on %s %s", request.method, request.path)
    return envelope_response(500, "Unexpected error; it has been logged.")


def api_blueprint(name: str, import_name: str, *, url_prefix: str, description: str) -> Blueprint:
    """A flask-smorest blueprint whose errors (and those of the hooks before its views) get the envelope."""
    blp = Blueprint(name, import_name, url_prefix=url_prefix, description=description)
    blp.register_error_handler(HTTPException, _http_error)
    blp.register_error_handler(ServiceError, _service_error)
    blp.register_error_handler(StaleVersion, _precondition_failed)  # the subclass's own handler wins
    blp.register_error_handler(ValidationError, _validation_error)
    blp.register_error_handler(OperationalError, _database_unavailable)
    blp.register_error_handler(IntegrityError, _constraint_conflict)
    blp.register_error_handler(StaleDataError, _stale_edit)
    blp.register_error_handler(Exception, _unexpected_error)
    return blp


def documented(blp: Blueprint, *codes: int) -> Callable:
    """Document the error statuses an operation can answer, each with the envelope schema."""

    def decorate(view: Callable) -> Callable:
        for code in codes:
            view = blp.alt_response(code, response=HTTPStatus(code).name)(view)
        return view

    return decorate
