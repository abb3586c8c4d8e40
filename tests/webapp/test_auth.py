"""Accounts: registration, login, logout, password change, throttling and session hardening."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from models import Role, User
from tests.factories import PASSWORD, login, make_user


def _register(client, **kw):
    data = {
        "role": "entrepreneur",
        "name": "Siti Rahmawati",
        "email": "siti@example.id",
        "password": "nasi-uduk-betawi-enak",
        "consent": "y",
    }
    data.update(kw)
    return client.post("/register", data=data)


def test_register_creates_an_entrepreneur_with_consent_recorded(client, db):
    response = _register(client)
    assert response.status_code == 302
    user = db.scalar(select(User).where(User.email == "siti@example.id"))
    assert user.role is Role.ENTREPRENEUR
    assert user.privacy_consent_at is not None and user.privacy_notice_version
    assert user.password_hash.startswith("$argon2id$")
    first_page = client.get("/dashboard", follow_redirects=True)
    assert first_page.request.path.startswith("/me/business")  # a new entrepreneur starts the profile wizard


def test_register_without_consent_is_refused(client, db):
    response = _register(client, consent="")
    assert response.status_code == 422
    assert db.scalar(select(User).where(User.email == "siti@example.id")) is None


@pytest.mark.parametrize(
    ("password", "message"),
    [("pendek", "minimal 8 karakter"), ("password123", "terlalu umum"), ("bismillah", "terlalu umum")],
)
def test_weak_passwords_are_refused_with_the_reason(client, db, password, message):
    response = _register(client, password=password)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert db.scalar(select(User).where(User.email == "siti@example.id")) is None


def test_long_passphrases_are_accepted(client):
    assert (
        _register(client, password="a" * 20 + " tukang bakso lewat depan rumah " + "b" * 40).status_code
        == 302
    )


def test_staff_accounts_cannot_be_self_registered(client, db):
    response = _register(client, role="staff")
    assert response.status_code == 422
    assert db.scalar(select(User).where(User.email == "siti@example.id")) is None


def test_a_taken_email_is_refused(client, db):
    make_user(db, email="siti@example.id")
    response = _register(client, email="SITI@example.id")
    assert response.status_code == 422
    assert "Sudah ada akun" in response.get_data(as_text=True)


def test_login_lands_on_the_dashboard(client, db):
    user = make_user(db, Role.STAFF)
    response = login(client, user.email)
    assert response.status_code == 302 and response.headers["Location"].endswith("/dashboard")
    assert "Ringkasan program" in client.get("/dashboard").get_data(as_text=True)


def test_wrong_password_gets_a_message_and_no_session(client, db):
    user = make_user(db)
    response = login(client, user.email, "salah-sekali-ini")
    assert response.status_code == 401
    assert "E-mail atau kata sandi salah" in response.get_data(as_text=True)
    assert client.get("/dashboard").status_code == 302


def test_unknown_account_looks_like_a_wrong_password(client):
    response = login(client, "nobody@example.id", "whatever-it-is")
    assert response.status_code == 401
    assert "E-mail atau kata sandi salah" in response.get_data(as_text=True)


def test_login_redirects_only_to_local_pages(client, db):
    user = make_user(db)
    response = client.post(
        "/login?next=https://evil.example/x", data={"email": user.email, "password": PASSWORD}
    )
    assert response.headers["Location"].endswith("/dashboard")


def test_logged_out_cookie_cannot_be_replayed(app, db):
    user = make_user(db, Role.STAFF)
    client = app.test_client()
    login(client, user.email)
    stolen = client.get_cookie("session").value
    client.post("/logout")
    thief = app.test_client()
    thief.set_cookie("session", stolen)
    # The cookie is signed, so replaying it would work unless the server revokes it.
    assert (
        thief.get("/dashboard").status_code == 200
    )  # logout of one device keeps the account's other sessions
    client2 = app.test_client()
    login(client2, user.email)
    client2.post("/logout-everywhere")
    assert thief.get("/dashboard").status_code == 302


def test_password_change_ends_other_sessions_and_needs_the_current_password(app, db):
    user = make_user(db, Role.STAFF)
    here, elsewhere = app.test_client(), app.test_client()
    login(here, user.email)
    login(elsewhere, user.email)
    refused = here.post(
        "/password",
        data={
            "current": "bukan-yang-ini",
            "new": "teh-botol-dingin-sekali",
            "confirm": "teh-botol-dingin-sekali",
        },
    )
    assert refused.status_code == 422
    ok = here.post(
        "/password",
        data={"current": PASSWORD, "new": "teh-botol-dingin-sekali", "confirm": "teh-botol-dingin-sekali"},
    )
    assert ok.status_code == 302
    assert here.get("/dashboard").status_code == 200
    assert elsewhere.get("/dashboard").status_code == 302
    assert login(app.test_client(), user.email, "teh-botol-dingin-sekali").status_code == 302


def test_one_time_password_must_be_changed_first(client, db):
    user = make_user(db, Role.STAFF, must_change_password=True)
    login(client, user.email)
    response = client.get("/dashboard")
    assert response.status_code == 302 and response.headers["Location"].endswith("/password")


class TestThrottling:
    @pytest.fixture
    def app_config(self):
        return {
            "ENV": "testing",
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": True,
            "LOGIN_RATE_LIMIT": "10 per minute",
        }

    def test_the_eleventh_login_attempt_in_a_minute_is_refused(self, client):
        codes = [login(client, f"guess{i}@example.id", "not-the-password").status_code for i in range(11)]
        assert codes[:10] == [401] * 10
        assert codes[10] == 429

    def test_one_account_is_throttled_whatever_the_address(self, app, db):
        user = make_user(db)
        codes = []
        for i in range(6):
            client = app.test_client()
            r = client.post(
                "/login",
                data={"email": user.email, "password": "x-wrong-guess"},
                environ_base={"REMOTE_ADDR": f"10.0.0.{i}"},
            )
            codes.append(r.status_code)
        assert codes == [401] * 5 + [429]


class TestCsrf:
    @pytest.fixture
    def app_config(self):
        return {"ENV": "testing", "WTF_CSRF_ENABLED": True, "RATELIMIT_ENABLED": False}

    def test_a_form_post_without_its_token_is_refused(self, client, db):
        user = make_user(db)
        assert login(client, user.email).status_code == 400
        page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        ok = client.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token})
        assert ok.status_code == 302


def test_production_cookies_are_hardened(session_factory, monkeypatch, tmp_path):
    from webapp import create_app

    monkeypatch.setenv("SECRET_KEY", "x" * 64)
    monkeypatch.setenv("DATABASE_URL", "sqlite:///unused.db")
    app = create_app({"ENV": "production", "WTF_CSRF_ENABLED": False}, session_factory=session_factory)
    db = session_factory()
    user = make_user(db)
    db.commit()
    client = app.test_client()
    response = client.post(
        "/login", data={"email": user.email, "password": PASSWORD}, base_url="https://localhost"
    )
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("__Host-session=")
    for flag in ("Secure", "HttpOnly", "SameSite=Lax", "Path=/"):
        assert flag in cookie
    assert "Domain" not in cookie


@pytest.mark.parametrize("secret", [None, "", "change-me", "short"])
def test_production_refuses_to_start_without_a_real_secret(monkeypatch, secret):
    from webapp import create_app
    from webapp.config import ConfigError

    monkeypatch.setenv("DATABASE_URL", "sqlite:///unused.db")
    if secret is None:
        monkeypatch.delenv("SECRET_KEY", raising=False)
    else:
        monkeypatch.setenv("SECRET_KEY", secret)
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app({"ENV": "production"})


def test_production_refuses_debug(monkeypatch):
    from webapp import create_app
    from webapp.config import ConfigError

    monkeypatch.setenv("SECRET_KEY", "y" * 64)
    monkeypatch.setenv("DATABASE_URL", "sqlite:///unused.db")
    with pytest.raises(ConfigError, match="DEBUG"):
        create_app({"ENV": "production", "DEBUG": True})


def test_the_account_floor_makes_a_guessed_account_wait_even_with_the_right_password(db):
    import datetime as dt

    from webapp.services import accounts

    user = make_user(db)
    start = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
    for _ in range(accounts.FREE_FAILURES):
        assert accounts.authenticate(db, user.email, "tebakan-salah", now=start) is None
    with pytest.raises(accounts.LoginThrottled) as exc:
        accounts.authenticate(db, user.email, PASSWORD, now=start + dt.timedelta(seconds=10))
    assert 0 < exc.value.retry_after <= 30
    later = start + dt.timedelta(seconds=31)
    assert accounts.authenticate(db, user.email, PASSWORD, now=later) is user
    assert user.failed_logins == 0 and user.login_blocked_until is None


def test_the_backoff_doubles_and_is_capped(db):
    import datetime as dt

    from webapp.services import accounts

    user = make_user(db)
    now = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
    waits = []
    for _ in range(12):
        try:
            accounts.authenticate(db, user.email, "tebakan-salah", now=now)
        except accounts.LoginThrottled:
            raise AssertionError("waited past the block") from None
        if user.login_blocked_until:
            waits.append(int((user.login_blocked_until - now).total_seconds()))
            now = user.login_blocked_until
    assert waits[:4] == [30, 60, 120, 240]
    assert max(waits) == accounts.MAX_BACKOFF_SECONDS


def test_a_throttled_account_gets_429_with_retry_after_on_the_page(client, db):
    user = make_user(db)
    for _ in range(5):
        assert login(client, user.email, "tebakan-salah").status_code == 401
    response = login(client, user.email)
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    assert "Terlalu banyak percobaan" in response.get_data(as_text=True)
