"""Who may do what on the web pages: every route against every role, each cell its own test.

The expected answer comes from the table below, written down on purpose and never read from the
code's own declarations, so a page declared for the wrong people fails here. Public pages never
refuse and never send anyone to log in; anonymous visitors elsewhere are sent to log in; a role the
table does not name gets 403; a role it names gets anything but 403 or a server error (another
person's or a missing object answers 404). A route missing from the table fails until someone
decides who may use it. The JSON API has its own matrix in tests/api/test_role_matrix.py.
"""

from __future__ import annotations

import pytest

from models import Role
from tests.factories import login, make_user

ROLES = ["anonymous", *[r.value for r in Role]]

ANYONE = frozenset(ROLES)
LOGGED_IN = frozenset(ROLES) - {"anonymous"}
MEMBERS = frozenset({"entrepreneur", "mentor"})  # the programme's people, not its staff
ENTREPRENEURS = frozenset({"entrepreneur"})
MENTORS = frozenset({"mentor"})
STAFF = frozenset({"staff", "admin"})  # admins count as staff
ADMINS = frozenset({"admin"})  # no web page is for admins alone today

#: Who must be let in, by the first part of the path (``/staff/...``) ...
BY_SECTION = {"staff": STAFF, "mentor": MENTORS, "sessions": MEMBERS}

#: ... and by endpoint, for every page outside those sections and any exception inside them.
BY_ENDPOINT = {
    ANYONE: (
        "main.home",
        "auth.login",
        "auth.register",
        "auth.privacy",
        "health.healthz",
        "health.readyz",
        "sessions.feed",  # the secret in the URL is the only key
    ),
    LOGGED_IN: (
        "main.dashboard",
        "auth.logout",
        "auth.logout_everywhere",
        "auth.change_password",
        "account.personal_data_page",
        "account.personal_data_download",
        "sessions.calendar_settings",
        "sessions.calendar_create",
        "sessions.calendar_revoke",
    ),
    MEMBERS: (
        "account.give_consent",
        "account.withdraw_consent",
        "account.object_to_automated_proposals",
        "account.allow_automated_proposals",
        "account.delete_account",
        "entrepreneur.contact",
    ),
    ENTREPRENEURS: (
        "entrepreneur.business",
        "entrepreneur.wizard",
        "entrepreneur.suggestions",
        "entrepreneur.mentor_profile",
        "entrepreneur.request_mentor",
        "entrepreneur.requests",
        "entrepreneur.withdraw",
        "entrepreneur.mentorship_page",
        "entrepreneur.end",
    ),
}
ALLOWED = {endpoint: roles for roles, endpoints in BY_ENDPOINT.items() for endpoint in endpoints}

ARGUMENT_VALUES = {
    "kind": "entrepreneurs",
    "step": "business",
    "figure": "waiting_by_kecamatan",
    "token": "not-a-real-token",
    "member_id": "NOPE",
    "filename": "app.css",
}


def allowed_roles(endpoint: str, path: str) -> frozenset[str] | None:
    """The roles the table lets in, or None when the route is not in it."""
    if endpoint in ALLOWED:
        return ALLOWED[endpoint]
    return BY_SECTION.get(path.split("/")[1])


def _routes():
    from webapp import create_app

    app = create_app({"ENV": "testing", "DATABASE_URL": "sqlite://"})
    out = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.endpoint == "static" or rule.rule.startswith("/api/"):
            continue
        url = rule.rule
        for arg in rule.arguments:
            converter = rule._converters[arg]
            value = (
                "999999" if type(converter).__name__ == "IntegerConverter" else ARGUMENT_VALUES.get(arg, "x")
            )
            url = url.replace(f"<{arg}>", value).replace(f"<int:{arg}>", value)
            url = url.replace(f"<path:{arg}>", value)
        method = "GET" if "GET" in rule.methods else sorted(rule.methods - {"HEAD", "OPTIONS"})[0]
        out.append((method, url, rule.endpoint))
    app.extensions["jakmentor.engine"].dispose()
    return out


ROUTES = _routes()


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("method", "url", "endpoint"), ROUTES, ids=[f"{m} {u}" for m, u, _ in ROUTES])
def test_route_answers_each_role_as_the_table_says(client, db, method, url, endpoint, role):
    allowed = allowed_roles(endpoint, url)
    if allowed is None:
        pytest.fail(f"{endpoint} ({url}) is not in the table: decide who may use it")
    if role != "anonymous":
        user = make_user(db, Role(role))
        assert login(client, user.email).status_code == 302
    response = client.open(url, method=method)
    status = response.status_code
    assert status < 500, f"{method} {url} as {role}: server error"
    sent_to_login = status == 302 and "/login" in response.headers["Location"]
    if role in allowed:
        assert status != 403, f"{method} {url} refuses {role}, whom the table lets in"
        assert not (role == "anonymous" and sent_to_login), f"{method} {url} is public, yet asks to log in"
    elif role == "anonymous":
        assert sent_to_login, f"{method} {url} answers an anonymous visitor {status}, not the login page"
    else:
        assert status == 403, f"{method} {url} lets {role} in ({status}); the table says {sorted(allowed)}"


def test_every_route_is_in_the_table():
    missing = [f"{endpoint} ({url})" for _m, url, endpoint in ROUTES if allowed_roles(endpoint, url) is None]
    assert missing == []


def test_the_table_names_only_routes_that_exist():
    endpoints = [endpoint for endpoints in BY_ENDPOINT.values() for endpoint in endpoints]
    assert len(endpoints) == len(set(endpoints)), "an endpoint is in the table twice"
    assert set(endpoints) <= {endpoint for _m, _u, endpoint in ROUTES}


def test_every_route_declares_its_access(app):
    undeclared = [e for _m, _u, e in ROUTES if getattr(app.view_functions[e], "_access", None) is None]
    assert undeclared == []
