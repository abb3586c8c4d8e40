"""Who may do what on the web pages: every route against every role, each cell its own test.

The expected answer comes from the route's declared access: public pages never refuse, anonymous
visitors are sent to log in, a role outside the declaration gets 403, and a role inside it gets
anything but 403 or a server error (another person's or a missing object answers 404).
The JSON API has its own matrix in tests/api/test_role_matrix.py.
"""

from __future__ import annotations

import pytest

from models import Role
from tests.factories import login, make_user
from webapp.access import AUTHENTICATED, PUBLIC

ROLES = ["anonymous", *[r.value for r in Role]]
ARGUMENT_VALUES = {
    "kind": "entrepreneurs",
    "step": "business",
    "figure": "waiting_by_kecamatan",
    "token": "not-a-real-token",
    "member_id": "NOPE",
    "filename": "app.css",
}


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
            value = "999999" if type(converter).__name__ == "IntegerConverter" else ARGUMENT_VALUES.get(arg, "x")
            url = url.replace(f"<{arg}>", value).replace(f"<int:{arg}>", value)
            url = url.replace(f"<path:{arg}>", value)
        method = "GET" if "GET" in rule.methods else sorted(rule.methods - {"HEAD", "OPTIONS"})[0]
        marker = getattr(app.view_functions[rule.endpoint], "_access", None)
        out.append((method, url, marker))
    app.extensions["jakmentor.engine"].dispose()
    return out


ROUTES = _routes()


def _expected(marker, role: str) -> str:
    if marker == PUBLIC:
        return "open"
    if role == "anonymous":
        return "login"
    if marker == AUTHENTICATED:
        return "allowed"
    allowed = {r.value for r in marker}
    if role in allowed or (role == "admin" and "staff" in allowed):
        return "allowed"
    return "forbidden"


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("method", "url", "marker"), ROUTES, ids=[f"{m} {u}" for m, u, _ in ROUTES])
def test_route_answers_each_role_as_declared(client, db, method, url, marker, role):
    if role != "anonymous":
        user = make_user(db, Role(role))
        assert login(client, user.email).status_code == 302
    response = client.open(url, method=method)
    expected = _expected(marker, role)
    status = response.status_code
    assert status < 500, f"{method} {url} as {role}: server error"
    if expected == "login":
        assert status == 302 and "/login" in response.headers["Location"]
    elif expected == "forbidden":
        assert status == 403
    else:
        assert status != 403


def test_every_route_declares_its_access():
    assert all(marker is not None for _m, _u, marker in ROUTES)
