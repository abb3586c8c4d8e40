"""The JSON API at ``/api/v1`` (flask-smorest): the same actions as the web pages, for each role.

Authentication is a personal token (``Authorization: Bearer <token>``) or the browser session
(then CSRF applies to writes). Every error is one JSON envelope (:mod:`webapp.api.errors`). The
OpenAPI document is at ``/api/v1/openapi.json`` and Swagger UI at ``/api/v1/docs``, both served
from our own origin.
"""

from __future__ import annotations

from flask import Flask
from flask_smorest import Api

from webapp.api.schemas import ErrorSchema

API_PREFIX = "/api/v1"


class JakMentorApi(Api):
    """flask-smorest's Api with our error envelope schema in the document.

    flask-smorest installs an app-wide handler for every ``HTTPException``; ours are installed on the
    API blueprints instead (:func:`webapp.api.errors.install`), so the web pages keep their HTML
    error pages.
    """

    ERROR_SCHEMA = ErrorSchema

    def _register_error_handlers(self) -> None:
        return None


def _blueprints():
    from webapp.api import matches, me, mentors, reference, requests, staff

    return [me.blp, reference.blp, mentors.blp, requests.blp, matches.blp, staff.blp]


def init_api(app: Flask) -> JakMentorApi:
    """Build the API on ``app``: blueprints, token authentication, CSRF for cookie writes, docs."""
    from webapp.api import docs, security
    from webapp.extensions import csrf

    app.config.setdefault("API_TITLE", "JakMentor API")
    app.config.setdefault("API_VERSION", "1")
    app.config.setdefault("OPENAPI_VERSION", "3.0.3")
    api = JakMentorApi(
        app,
        spec_kwargs={
            "info": {
                "description": (
                    "Pairs Jakarta's UMKM entrepreneurs with mentors. Authenticate with a personal "
                    "token (`Authorization: Bearer <token>`, made at POST /api/v1/me/tokens while "
                    "logged in) or the browser session (then send `X-CSRFToken` on writes). "
                    "Every error has the body {code, status, message, errors, reason?, details?}. "
                    "A request or proposal read alone carries an ETag; send it back as If-Match on "
                    "its writes and they answer 412 (writing nothing) if it changed meanwhile."
                )
            },
            "security": [{"bearerAuth": []}, {"sessionCookie": []}],
        },
    )
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})
    api.spec.components.security_scheme(
        "sessionCookie",
        {"type": "apiKey", "in": "cookie", "name": app.config.get("SESSION_COOKIE_NAME") or "session"},
    )
    for blp in _blueprints():
        csrf.exempt(blp)  # checked per request instead: cookie-authenticated writes only (security.py)
        api.register_blueprint(blp)
    app.register_blueprint(docs.bp, url_prefix=API_PREFIX)
    security.install(app, API_PREFIX)
    app.extensions["jakmentor.api"] = api
    return api
