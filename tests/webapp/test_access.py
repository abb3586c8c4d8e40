"""Deny by default: every route declares who may use it, and each role sees only what is theirs."""

from __future__ import annotations

import re

import pytest

from models import Role
from tests.factories import login, make_entrepreneur, make_user
from webapp.access import AUTHENTICATED, PUBLIC

PUBLIC_ENDPOINTS = {"static", "health.healthz", "health.readyz", "auth.login", "auth.register", "auth.privacy", "main.home"}
# The JSON API's reference vocabularies, its OpenAPI document and its docs page are public too.
PUBLIC_ENDPOINTS |= {f"reference.{name}" for name in ("kecamatan", "sectors", "stages", "support_areas")}
PUBLIC_ENDPOINTS |= {"api_docs.openapi_json", "api_docs.docs", "api_docs.asset"}
PUBLIC_ENDPOINTS |= {"sessions.feed"}  # a private calendar feed: the secret in its URL is the key (404 otherwise)


def test_every_endpoint_declares_its_access(app):
    undeclared, public = [], set()
    for rule in app.url_map.iter_rules():
        marker = getattr(app.view_functions[rule.endpoint], "_access", None)
        if rule.endpoint == "static":
            continue
        if marker is None:
            undeclared.append(rule.endpoint)
        elif marker == PUBLIC:
            public.add(rule.endpoint)
    assert undeclared == []
    assert public <= PUBLIC_ENDPOINTS


def _url_for_rule(rule) -> str:
    return re.sub(
        r"<(?:[^:<>]+:)?([^<>]+)>", lambda m: "entrepreneurs" if m.group(1) == "kind" else "1", rule.rule
    )


def test_anonymous_visitors_are_sent_to_login_everywhere_but_public_pages(app):
    client = app.test_client()
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        method = "GET" if "GET" in rule.methods else sorted(rule.methods - {"HEAD", "OPTIONS"})[0]
        response = client.open(_url_for_rule(rule), method=method)
        if rule.rule.startswith("/api/"):  # the JSON API answers 401 in its error envelope instead
            assert response.status_code == 401, rule.rule
            assert response.get_json()["code"] == 401, rule.rule
            continue
        assert response.status_code == 302, rule.rule
        assert "/login" in response.headers["Location"], rule.rule


STAFF_PAGES = [
    "/staff/import",
    "/staff/members/entrepreneurs",
    "/staff/members/mentors",
    "/staff/export/entrepreneurs.csv",
]


@pytest.mark.parametrize("role", [Role.ENTREPRENEUR, Role.MENTOR])
@pytest.mark.parametrize("url", STAFF_PAGES)
def test_members_cannot_open_staff_pages(client, db, role, url):
    user = make_user(db, role)
    login(client, user.email)
    assert client.get(url).status_code == 403


@pytest.mark.parametrize("role", [Role.STAFF, Role.ADMIN])
@pytest.mark.parametrize("url", STAFF_PAGES)
def test_staff_and_admins_open_staff_pages(client, db, role, url):
    user = make_user(db, role)
    login(client, user.email)
    assert client.get(url).status_code == 200


def test_an_entrepreneur_never_sees_another_entrepreneurs_profile(client, db):
    me, other = make_user(db), make_user(db)
    make_entrepreneur(db, me, needs=["licensing"])
    make_entrepreneur(db, other, name="Rahasia Orang Lain", needs=["export"])
    login(client, me.email)
    page = client.get("/dashboard").get_data(as_text=True)
    assert me.name in page
    assert "Rahasia Orang Lain" not in page


def test_authenticated_pages_are_not_cached(client, db):
    user = make_user(db)
    login(client, user.email)
    assert client.get("/dashboard").headers["Cache-Control"] == "no-store"


def test_security_headers_on_every_response(client):
    for url in ("/", "/login", "/does-not-exist"):
        headers = client.get(url).headers
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
        assert headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("role", list(Role))
def test_pages_open_to_any_logged_in_user_work_for_every_role(app, db, role):
    user = make_user(db, role)
    client = app.test_client()
    login(client, user.email)
    shared = [
        r
        for r in app.url_map.iter_rules()
        if getattr(app.view_functions[r.endpoint], "_access", None) == AUTHENTICATED
        and "GET" in r.methods
        and not r.arguments
    ]
    assert shared, "there are pages for every logged-in user"
    for rule in shared:
        status = client.get(rule.rule).status_code
        assert status in (200, 302), (rule.rule, role, status)
