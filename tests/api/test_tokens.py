"""Personal API tokens: made from the browser session, shown once, stored as a hash, revocable."""

from __future__ import annotations

import hashlib
import re

import pytest
from sqlalchemy import select

from models import ApiToken
from tests.api.conftest import bearer
from tests.factories import PASSWORD, login


def _make_token(client, world, name="laptop"):
    login(client, world.entrepreneur_user.email)
    response = client.post("/api/v1/me/tokens", json={"name": name})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_a_token_is_shown_once_and_only_its_sha256_is_stored(app, client, world, db):
    made = _make_token(client, world)
    assert made["token"].startswith("jkm_") and made["name"] == "laptop"
    row = db.scalar(select(ApiToken).where(ApiToken.id == made["id"]))
    assert row.token_hash == hashlib.sha256(made["token"].encode()).hexdigest()
    listed = client.get("/api/v1/me/tokens").get_json()
    assert made["id"] in [t["id"] for t in listed]
    assert all("token" not in t for t in listed)
    assert made["token"] not in client.get("/api/v1/me/tokens").get_data(as_text=True)


def test_the_token_authenticates_without_a_cookie_and_sets_none(app, client, world):
    made = _make_token(client, world)
    fresh = app.test_client()
    response = fresh.get("/api/v1/me", headers=bearer(made["token"]))
    assert response.status_code == 200
    assert response.get_json()["account"]["email"] == world.entrepreneur_user.email
    assert "Set-Cookie" not in response.headers
    assert response.headers["Cache-Control"] == "no-store"


def test_a_revoked_token_stops_working_at_once(app, client, world):
    made = _make_token(client, world)
    assert client.delete(f"/api/v1/me/tokens/{made['id']}").status_code == 204
    response = app.test_client().get("/api/v1/me", headers=bearer(made["token"]))
    assert response.status_code == 401
    body = response.get_json()
    assert body["code"] == 401 and body["status"] == "Unauthorized" and "revoked" in body["message"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    listed = {t["id"]: t for t in client.get("/api/v1/me/tokens").get_json()}
    assert listed[made["id"]]["revoked_at"] is not None


def test_a_token_can_revoke_itself(app, world):
    client = app.test_client()
    token_id = client.get("/api/v1/me/tokens", headers=world.headers("mentor")).get_json()[0]["id"]
    assert client.delete(f"/api/v1/me/tokens/{token_id}", headers=world.headers("mentor")).status_code == 204
    assert client.get("/api/v1/me", headers=world.headers("mentor")).status_code == 401


@pytest.mark.parametrize(
    "header",
    ["Bearer jkm_not-a-real-token", "Bearer ", "Basic dXNlcjpwdw==", "jkm_no_scheme", "Bearer x" * 100],
)
def test_unknown_or_malformed_credentials_are_401_json(client, world, header):
    response = client.get("/api/v1/me", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.get_json()["code"] == 401


def test_no_credentials_at_all_is_401_json(client, world):
    response = client.post("/api/v1/requests", json={"mentor_id": world.mentor.id})
    assert response.status_code == 401
    assert response.is_json and response.get_json()["status"] == "Unauthorized"


def test_a_token_decides_who_calls_even_beside_another_persons_session(app, client, world):
    login(client, world.mentor_user.email)
    response = client.get("/api/v1/me", headers=world.headers("entrepreneur"))
    assert response.get_json()["account"]["id"] == world.entrepreneur_user.id
    bad = client.get("/api/v1/me", headers=bearer("jkm_revoked-or-unknown"))
    assert bad.status_code == 401  # a bad token is refused, not replaced by the cookie


def test_a_token_cannot_make_another_token(client, world):
    response = client.post("/api/v1/me/tokens", json={"name": "x"}, headers=world.headers("staff"))
    assert response.status_code == 403
    assert response.get_json()["reason"] == "session_required"


def test_another_persons_token_cannot_be_revoked_and_is_not_found(client, world):
    other = client.get("/api/v1/me/tokens", headers=world.headers("mentor")).get_json()[0]["id"]
    response = client.delete(f"/api/v1/me/tokens/{other}", headers=world.headers("entrepreneur"))
    assert response.status_code == 404
    assert client.get("/api/v1/me", headers=world.headers("mentor")).status_code == 200


def test_at_most_ten_usable_tokens(client, world):
    login(client, world.staff_user.email)
    statuses = [client.post("/api/v1/me/tokens", json={"name": f"t{i}"}).status_code for i in range(10)]
    assert statuses == [201] * 9 + [409]  # the world already gave this account one
    assert client.post("/api/v1/me/tokens", json={"name": "t"}).get_json()["reason"] == "too_many_tokens"


@pytest.mark.parametrize("body", [{}, {"name": ""}, {"name": "x" * 81}, {"name": "ok", "user_id": 1}])
def test_bad_token_names_and_unknown_fields_are_422(client, world, body):
    login(client, world.entrepreneur_user.email)
    response = client.post("/api/v1/me/tokens", json=body)
    assert response.status_code == 422
    assert response.get_json()["errors"]


class TestCsrf:
    """With CSRF on (as in production): cookie writes need the token, bearer writes do not."""

    @pytest.fixture
    def app_config(self):
        return {"ENV": "testing", "WTF_CSRF_ENABLED": True, "RATELIMIT_ENABLED": False}

    def _login_with_csrf(self, client, email) -> str:
        """Log in through the form (with its CSRF field); returns the token the docs page offers."""
        page = client.get("/login").get_data(as_text=True)
        csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        response = client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": csrf})
        assert response.status_code == 302
        page = client.get("/api/v1/docs").get_data(as_text=True)
        return re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)

    def test_a_cookie_write_without_the_csrf_token_is_refused(self, client, world):
        self._login_with_csrf(client, world.entrepreneur_user.email)
        response = client.post("/api/v1/me/tokens", json={"name": "x"})
        assert response.status_code == 400
        assert "CSRF" in response.get_json()["message"]

    def test_a_cookie_write_with_the_csrf_header_goes_through(self, client, world):
        csrf = self._login_with_csrf(client, world.entrepreneur_user.email)
        response = client.post("/api/v1/me/tokens", json={"name": "x"}, headers={"X-CSRFToken": csrf})
        assert response.status_code == 201

    def test_a_bearer_write_needs_no_csrf_token(self, app, world):
        body = {"mentor_id": world.mentor.id, "message": "Halo"}
        response = app.test_client().post(
            "/api/v1/requests", json=body, headers=world.headers("entrepreneur")
        )
        assert response.status_code == 201


def test_a_token_records_its_last_use_at_most_every_few_minutes_and_commits_nothing_else(app, world, db):
    """The first call records the use; the next calls within the interval write and commit nothing."""
    from sqlalchemy import event

    from webapp.services import api_tokens

    token = world.tokens["mentor"]
    row = db.scalar(select(ApiToken).where(ApiToken.token_hash == api_tokens.hash_token(token)))
    assert row.last_used_at is None
    client = app.test_client()
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 200
    db.expire_all()
    first = db.get(ApiToken, row.id).last_used_at
    assert first is not None

    ended: list[str] = []
    writes: list[str] = []

    def on_commit(*_args):  # the test's sessions commit by releasing a savepoint
        ended.append("commit")

    def on_statement(_conn, _cursor, statement, *_args):
        if not statement.lstrip().upper().startswith(("SELECT", "SAVEPOINT", "RELEASE", "ROLLBACK")):
            writes.append(statement)

    bind = db.get_bind()
    event.listen(bind, "release_savepoint", on_commit)
    event.listen(bind, "before_cursor_execute", on_statement)
    try:
        for _ in range(3):
            assert client.get("/api/v1/me", headers=bearer(token)).status_code == 200
    finally:
        event.remove(bind, "release_savepoint", on_commit)
        event.remove(bind, "before_cursor_execute", on_statement)
    assert writes == [] and ended == []
    db.expire_all()
    assert db.get(ApiToken, row.id).last_used_at == first


def test_a_post_with_a_token_leaves_no_write_intent_behind(app, world):
    """The token check declares a POST's write intent before the usual hook; the request must end
    with it undone, or the next request on this thread would take SQLite's write lock to read."""
    from models.db import SQLITE_BEGIN

    client = app.test_client()
    response = client.post("/api/v1/me/tokens", json={"name": "ci"}, headers=bearer(world.tokens["staff"]))
    assert response.status_code in (201, 403)
    assert SQLITE_BEGIN.get() == ""


@pytest.mark.parametrize("role", ["entrepreneur", "mentor"])
def test_a_token_call_reads_the_callers_profile_with_the_token(client, world, db, role):
    """The token, its account and the account's profile come in one statement: acting as an
    entrepreneur or a mentor costs no look-up of the profile by account of its own."""
    from sqlalchemy import event

    world.pending_request()
    db.commit()
    table = "entrepreneur" if role == "entrepreneur" else "mentor"
    statements: list[str] = []

    def on_statement(_conn, _cursor, statement, *_args):
        statements.append(" ".join(statement.split()))

    bind = db.get_bind()
    event.listen(bind, "before_cursor_execute", on_statement)
    try:
        listed = client.get("/api/v1/requests", headers=world.headers(role))
    finally:
        event.remove(bind, "before_cursor_execute", on_statement)
    assert listed.status_code == 200 and len(listed.get_json()) == 1
    own = world.entrepreneur.id if role == "entrepreneur" else world.mentor.id
    assert listed.get_json()[0][role]["id"] == own
    lookups = [s for s in statements if f"FROM {table} WHERE {table}.user_id" in s]
    assert lookups == [], lookups
