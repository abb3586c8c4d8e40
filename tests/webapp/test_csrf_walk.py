"""CSRF on every state change: every web route and every API route that takes a write is walked
with CSRF on (as in production).

A web write without its token is refused with the 400 page and changes nothing (no row written,
the person still logged in or still out); with the token the same write gets past the check. An
API write with the browser session needs the token too; one with a personal token does not.
Who sends each request comes from the authorization table (tests/webapp/test_authorization_matrix.py)
for the web and from the routes' declared access for the API (tests/api/test_role_matrix.py checks it).
"""

from __future__ import annotations

import logging
import re
from contextlib import contextmanager

import pytest
from sqlalchemy import event
from werkzeug.routing import IntegerConverter

from models import Role
from tests.factories import PASSWORD, make_entrepreneur, make_mentor, make_user
from tests.webapp.test_authorization_matrix import ARGUMENT_VALUES, ROLES, allowed_roles
from webapp.access import AUTHENTICATED, PUBLIC
from webapp.services import api_tokens

UNSAFE = ("DELETE", "PATCH", "POST", "PUT")
CSRF_MISSING = "The CSRF token is missing."
NEW_PASSWORD = "teh-tarik-pandan-wangi"

#: Form bodies that would do what the route is for, had the token been there (others send nothing).
FORMS = {
    "auth.login": lambda user: {"email": user.email, "password": PASSWORD},
    "auth.register": lambda user: {
        "role": "entrepreneur",
        "name": "Siti Rahayu",
        "email": "siti.baru@test.jakmentor.id",
        "password": NEW_PASSWORD,
        "consent": "y",
        "adult": "y",
    },
    "auth.change_password": lambda user: {"current": PASSWORD, "new": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    "account.delete_account": lambda user: {"password": PASSWORD, "confirm": "HAPUS"},
    "account.withdraw_consent": lambda user: {"password": PASSWORD},
}


def _writes_of(api: bool) -> list[tuple[str, str, str, str]]:
    """(method, path, endpoint, role to send it as) for every write route of the web or the API."""
    from webapp import create_app

    app = create_app({"ENV": "testing", "DATABASE_URL": "sqlite://"})
    out = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.endpoint == "static" or rule.rule.startswith("/api/") != api:
            continue
        values = {
            arg: 999999
            if isinstance(rule._converters[arg], IntegerConverter)
            else ARGUMENT_VALUES.get(arg, "x")
            for arg in rule.arguments
        }
        path = rule.build(values)[1]
        if api:
            allowed = _declared(getattr(app.view_functions[rule.endpoint], "_access", None))
        else:
            allowed = allowed_roles(rule.endpoint, path) or frozenset()
        role = next((r for r in ROLES if r in allowed), "nobody")
        out.extend((method, path, rule.endpoint, role) for method in UNSAFE if method in rule.methods)
    app.extensions["jakmentor.engine"].dispose()
    return out


def _declared(marker) -> frozenset[str]:
    if marker == PUBLIC:
        return frozenset(ROLES)
    if marker == AUTHENTICATED:
        return frozenset(ROLES) - {"anonymous"}
    return frozenset(r.value for r in marker or ())


WEB_WRITES = _writes_of(api=False)
API_WRITES = _writes_of(api=True)


def _ids(rows) -> list[str]:
    return [f"{method} {path} as {role}" for method, path, _e, role in rows]


@pytest.fixture
def app_config():
    return {"ENV": "testing", "WTF_CSRF_ENABLED": True, "RATELIMIT_ENABLED": False}


def _person(db, role: str):
    """An account of ``role`` with its profile (anonymous requests get an entrepreneur to log in as)."""
    user = make_user(db, Role.ENTREPRENEUR if role == "anonymous" else Role(role))
    if user.role is Role.ENTREPRENEUR:
        make_entrepreneur(db, user)
    elif user.role is Role.MENTOR:
        make_mentor(db, user)
    return user


def _csrf_token(client, path: str) -> str:
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


def _log_in(client, user) -> str:
    """Log in through the form with its token; returns a token valid for the new session."""
    token = _csrf_token(client, "/login")
    response = client.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302 and "/login" not in response.headers["Location"]
    return _csrf_token(client, "/dashboard")


def _logged_in(client) -> bool:
    response = client.get("/dashboard")
    return not (response.status_code == 302 and "/login" in response.headers["Location"])


@contextmanager
def _row_writes(engine):
    """The INSERT, UPDATE and DELETE statements sent to the database inside the block."""
    seen: list[str] = []

    def record(_conn, _cursor, statement, _parameters, _context, _executemany):
        if statement.lstrip().split(None, 1)[0].upper() in ("INSERT", "UPDATE", "DELETE"):
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _refused_for_csrf(caplog) -> bool:
    return any(r.name == "flask_wtf.csrf" and r.getMessage().startswith("The CSRF") for r in caplog.records)


@pytest.fixture
def csrf_log(caplog):
    caplog.set_level(logging.INFO, logger="flask_wtf.csrf")
    return caplog


# --- the web ------------------------------------------------------------------------------------------


def test_the_walk_finds_the_web_writes():
    endpoints = {endpoint for _m, _p, endpoint, _r in WEB_WRITES}
    assert {"auth.login", "auth.logout", "account.delete_account", "cohorts.approve_many"} <= endpoints
    assert all(role != "nobody" for *_rest, role in WEB_WRITES)


@pytest.mark.parametrize(("method", "path", "endpoint", "role"), WEB_WRITES, ids=_ids(WEB_WRITES))
def test_a_web_write_without_its_csrf_token_is_refused_and_changes_nothing(
    client, db, engine, csrf_log, method, path, endpoint, role
):
    user = _person(db, role)
    if role != "anonymous":
        _log_in(client, user)
    form = FORMS.get(endpoint, lambda _user: {})(user)
    csrf_log.clear()
    with _row_writes(engine) as writes:
        response = client.open(path, method=method, data=form)
    assert response.status_code == 400
    assert "<h1>400 ·" in response.get_data(as_text=True)
    assert any(r.getMessage() == CSRF_MISSING for r in csrf_log.records)
    assert writes == []
    assert _logged_in(client) is (role != "anonymous")


@pytest.mark.parametrize(("method", "path", "endpoint", "role"), WEB_WRITES, ids=_ids(WEB_WRITES))
def test_a_web_write_with_its_csrf_token_gets_past_the_check(
    client, db, csrf_log, method, path, endpoint, role
):
    user = _person(db, role)
    token = _csrf_token(client, "/login") if role == "anonymous" else _log_in(client, user)
    form = {**FORMS.get(endpoint, lambda _user: {})(user), "csrf_token": token}
    csrf_log.clear()
    response = client.open(path, method=method, data=form)
    assert response.status_code < 500
    assert not _refused_for_csrf(csrf_log)


def test_logging_out_needs_the_token_and_works_with_it(client, db):
    token = _log_in(client, make_user(db, Role.MENTOR))
    assert client.post("/logout").status_code == 400
    assert _logged_in(client)
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert not _logged_in(client)


def test_pausing_as_a_mentor_needs_the_token_and_works_with_it(client, db):
    user = make_user(db, Role.MENTOR)
    mentor = make_mentor(db, user)
    token = _log_in(client, user)
    assert client.post("/mentor/pause").status_code == 400
    db.refresh(mentor)
    assert mentor.paused is False
    assert client.post("/mentor/pause", data={"csrf_token": token}).status_code in (302, 303)
    db.refresh(mentor)
    assert mentor.paused is True


# --- the API ------------------------------------------------------------------------------------------


def test_the_walk_finds_the_api_writes():
    endpoints = {endpoint for _m, _p, endpoint, _r in API_WRITES}
    assert {
        "me.create_token",
        "me.revoke_token",
        "requests.create_request",
        "staff_api.run_cohort",
    } <= endpoints
    assert all(role not in ("nobody", "anonymous") for *_rest, role in API_WRITES)


@pytest.mark.parametrize(("method", "path", "endpoint", "role"), API_WRITES, ids=_ids(API_WRITES))
def test_an_api_write_with_the_session_cookie_needs_the_csrf_token(
    client, db, engine, csrf_log, method, path, endpoint, role
):
    token = _log_in(client, _person(db, role))
    csrf_log.clear()
    with _row_writes(engine) as writes:
        refused = client.open(path, method=method, json={})
    assert refused.status_code == 400
    assert "CSRF" in refused.get_json()["message"]
    assert writes == []
    csrf_log.clear()
    passed = client.open(path, method=method, json={}, headers={"X-CSRFToken": token})
    assert passed.status_code < 500
    assert not _refused_for_csrf(csrf_log)


@pytest.mark.parametrize(("method", "path", "endpoint", "role"), API_WRITES, ids=_ids(API_WRITES))
def test_an_api_write_with_a_personal_token_needs_no_csrf_token(
    app, db, csrf_log, method, path, endpoint, role
):
    user = _person(db, role)
    bearer = api_tokens.create_token(db, user, "walk").plain
    db.commit()
    csrf_log.clear()
    response = app.test_client().open(
        path, method=method, json={}, headers={"Authorization": f"Bearer {bearer}"}
    )
    assert response.status_code < 500
    assert response.status_code != 400 or "CSRF" not in response.get_json()["message"]
    assert not _refused_for_csrf(csrf_log)
