"""Deny by default: every view declares who may use it, and a request hook enforces it."""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import Flask, abort, current_app, redirect, request, url_for
from flask_login import current_user

from models import Role

log = logging.getLogger(__name__)

PUBLIC = "public"
AUTHENTICATED = "authenticated"


def public(view: Callable) -> Callable:
    """Mark a view as open to everyone, logged in or not."""
    view._access = PUBLIC  # type: ignore[attr-defined]
    return view


def login_required(view: Callable) -> Callable:
    """Mark a view as open to any logged-in user."""
    view._access = AUTHENTICATED  # type: ignore[attr-defined]
    return view


def roles(*allowed: Role) -> Callable[[Callable], Callable]:
    """Mark a view as open only to users with one of ``allowed`` roles (admins count as staff)."""

    def decorate(view: Callable) -> Callable:
        view._access = frozenset(allowed)  # type: ignore[attr-defined]
        return view

    return decorate


def access_of(endpoint: str | None) -> object:
    """The access marker of an endpoint, or None when it has none (which means: denied)."""
    if endpoint is None:
        return None
    view = current_app.view_functions.get(endpoint)
    return getattr(view, "_access", None)


def _allowed(role: Role, marker: frozenset) -> bool:
    return role in marker or (role is Role.ADMIN and Role.STAFF in marker)


def init_app(app: Flask) -> None:
    """Install the hook that enforces the markers on every request."""

    @app.before_request
    def _enforce():
        if request.endpoint is None:
            return None  # 404/405 are answered by Flask
        if request.endpoint == "static":
            return None
        marker = access_of(request.endpoint)
        if marker == PUBLIC:
            return None
        if marker is None:
            log.warning(
                "access denied: %s has no access rule", request.endpoint, extra={"event": "authz_denied"}
            )
            abort(403)
        if not current_user.is_authenticated:
            if request.path.startswith("/api/"):
                log.info(
                    "authentication required for %s", request.endpoint, extra={"event": "authn_required"}
                )
                abort(401)
            return redirect(
                url_for("auth.login", next=request.full_path if request.query_string else request.path)
            )
        if current_user.must_change_password and request.endpoint not in (
            "auth.change_password",
            "auth.logout",
        ):
            return redirect(url_for("auth.change_password"))
        if marker == AUTHENTICATED:
            return None
        if not _allowed(current_user.role, marker):
            log.warning(
                "access denied: role %s on %s",
                current_user.role.value,
                request.endpoint,
                extra={"event": "authz_denied"},
            )
            abort(403)
        return None
