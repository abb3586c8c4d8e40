"""Who is calling the API: a personal token (``Authorization: Bearer ...``) or the browser session.

A token logs its user in for that one request only: nothing is written to the session and no
cookie is set. Requests carrying a token are not CSRF-prone (a browser never adds the header by
itself), so CSRF is checked only for cookie-authenticated writes. When a request carries a token,
the token alone decides who the caller is; a wrong or revoked one is a 401 even with a valid cookie.
"""

from __future__ import annotations

import logging

from flask import Flask, current_app, g, request
from flask_login import current_user

from webapp.api.errors import envelope_response
from webapp.auth import LoginUser
from webapp.database import get_db, intend_to_write
from webapp.extensions import csrf, login_manager
from webapp.services import api_tokens

log = logging.getLogger(__name__)

#: Largest request body the API reads (the web's CSV upload keeps the app-wide limit).
API_MAX_BODY = 1024 * 1024
_UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def authenticated_by_token() -> bool:
    """True when this request's caller was identified by a bearer token (not by the session)."""
    return g.get("api_auth") == "token"


def install(app: Flask, prefix: str) -> None:
    """Install the hooks for ``prefix``: one before every other hook, one after the access check."""

    def _authenticate():
        if not request.path.startswith(prefix + "/") and request.path != prefix:
            return None
        request.max_content_length = API_MAX_BODY
        exc = request.routing_exception
        if exc is not None:  # unknown path or wrong method: answer in the envelope, before any hook
            headers = {}
            if getattr(exc, "code", None) == 405:
                headers = {k: v for k, v in exc.get_headers() if k.lower() == "allow"}
            code = getattr(exc, "code", 404) or 404
            if code in (307, 308):  # werkzeug's redirect for a missing trailing slash
                return None
            return envelope_response(code, getattr(exc, "description", None), headers=headers)
        header = request.headers.get("Authorization")
        if header is None:
            return None
        scheme, _sep, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return envelope_response(401, "Use 'Authorization: Bearer <token>' with a personal API token.")
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            intend_to_write()  # this hook runs before the one that declares it for a POST
        db = get_db()
        user = api_tokens.user_for_token(db, token.strip())
        if user is None:
            db.rollback()
            log.info("api: unknown or revoked token from %s", request.remote_addr)
            return envelope_response(401, "The token is unknown or revoked.")
        # Flask-Login's own way of setting the request's user (what login_user does, minus the session).
        login_manager._update_request_context_with_user(LoginUser(user))
        g.api_auth = "token"
        return None

    def _csrf_for_cookie_writes():
        if request.blueprint is None or not request.path.startswith(prefix + "/"):
            return None
        if request.method not in _UNSAFE or authenticated_by_token():
            return None
        if not current_app.config.get("WTF_CSRF_ENABLED", True) or not current_user.is_authenticated:
            return None
        csrf.protect()
        return None

    # First of all hooks: the access check that follows must already see the token's user.
    app.before_request_funcs.setdefault(None, []).insert(0, _authenticate)
    app.before_request(_csrf_for_cookie_writes)
