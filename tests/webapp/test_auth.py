"""Accounts: registration, login, logout, password change, throttling and session hardening."""

from __future__ import annotations

import datetime as dt
import re
import secrets

import pytest
from sqlalchemy import func, select

from models import Role, User, UserSession, utcnow
from tests.factories import PASSWORD, login, make_user, production_environment


def _register(client, **kw):
    data = {
        "role": "entrepreneur",
        "name": "Siti Rahmawati",
        "email": "siti@example.id",
        "password": "nasi-uduk-betawi-enak",
        "consent": "y",
        "adult": "y",
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


def test_register_records_the_purposes_and_channel_of_the_consent(client, db):
    assert _register(client).status_code == 302
    user = db.scalar(select(User).where(User.email == "siti@example.id"))
    assert user.privacy_consent_purposes == ["matching", "sessions", "programme_statistics"]
    assert user.privacy_consent_channel == "web_registration"
    assert user.consent_withdrawn_at is None


@pytest.mark.parametrize("role", ["entrepreneur", "mentor"])
def test_register_without_confirming_18_or_older_is_refused_with_the_reason(client, db, role):
    response = _register(client, role=role, adult="")
    assert response.status_code == 422
    assert "hanya untuk usia 18 tahun ke atas" in response.get_data(as_text=True)
    assert db.scalar(select(User).where(User.email == "siti@example.id")) is None


def test_register_records_when_the_person_confirmed_being_18_or_older(client, db):
    assert _register(client).status_code == 302
    user = db.scalar(select(User).where(User.email == "siti@example.id"))
    assert user.adult_confirmed_at is not None


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


@pytest.mark.parametrize("length", [64, 128])
def test_passwords_of_64_and_128_characters_are_accepted(client, db, length):
    password = ("jalan-jalan ke kota tua " * 6)[:length]
    assert len(password) == length
    assert _register(client, password=password).status_code == 302
    client.post("/logout")
    assert login(client, "siti@example.id", password).status_code == 302


def test_a_password_of_129_characters_is_refused(client, db):
    response = _register(client, password="k" * 60 + "-opi-" + "s" * 64)
    assert response.status_code == 422
    assert "maksimal 128 karakter" in response.get_data(as_text=True)
    assert db.scalar(select(User).where(User.email == "siti@example.id")) is None


@pytest.mark.parametrize(
    "typed",
    [
        "Kerak-Telor Monas Sore Hari 2026 " + "x" * 40,  # a character less
        "kerak-telor monas sore hari 2026 " + "x" * 41,  # case folded
        "KERAK-TELOR MONAS SORE HARI 2026 " + "X" * 41,
        "Kerak-Telor Monas Sore Hari 2026 " + "x" * 41 + " ",  # a trailing space
        " Kerak-Telor Monas Sore Hari 2026 " + "x" * 41,
        ("Kerak-Telor Monas Sore Hari 2026 " + "x" * 41)[:72],  # bcrypt's 72-byte cut
    ],
)
def test_a_password_is_checked_exactly_as_typed(client, db, typed):
    password = "Kerak-Telor Monas Sore Hari 2026 " + "x" * 41
    user = make_user(db, password=password)
    assert login(client, user.email, typed).status_code == 401
    assert login(client, user.email, password).status_code == 302


def test_changing_the_password_without_the_current_one_is_refused(client, db):
    user = make_user(db, Role.STAFF)
    login(client, user.email)
    old_hash = user.password_hash
    for current in ("", "bukan-sandi-sekarang"):
        response = client.post(
            "/password",
            data={"current": current, "new": "teh-botol-dingin-sekali", "confirm": "teh-botol-dingin-sekali"},
        )
        assert response.status_code == 422
    db.refresh(user)
    assert user.password_hash == old_hash
    assert login(client.application.test_client(), user.email, "teh-botol-dingin-sekali").status_code == 401


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
    other_device = app.test_client()
    login(other_device, user.email)
    client.post("/logout")
    thief = app.test_client()
    thief.set_cookie("session", stolen)
    # The cookie is signed and still well-formed, but its server-side session was revoked.
    assert thief.get("/dashboard").status_code == 302
    assert other_device.get("/dashboard").status_code == 200  # logout ends this device only
    other_device.post("/logout-everywhere")
    assert other_device.get("/dashboard").status_code == 302


def test_logout_everywhere_revokes_every_session(app, db):
    user = make_user(db, Role.STAFF)
    first, second = app.test_client(), app.test_client()
    login(first, user.email)
    login(second, user.email)
    second.post("/logout-everywhere")
    assert first.get("/dashboard").status_code == 302
    rows = db.scalars(select(UserSession).where(UserSession.user_id == user.id)).all()
    assert len(rows) == 2 and all(r.revoked_at is not None for r in rows)


def test_each_login_is_a_new_server_side_session_with_its_device(app, db):
    user = make_user(db)
    client = app.test_client()
    login(client, user.email)
    before = client.get_cookie("session").value
    client.post("/logout")
    login(client, user.email)
    assert client.get_cookie("session").value != before
    rows = db.scalars(select(UserSession).where(UserSession.user_id == user.id)).all()
    assert len(rows) == 2 and len({r.id for r in rows}) == 2
    assert [r.revoked_at is None for r in sorted(rows, key=lambda r: r.created_at)] == [False, True]
    assert rows[0].ip == "127.0.0.1" and len(rows[0].id) == 64


def _only_session(db, user) -> UserSession:
    db.expire_all()
    return db.scalar(select(UserSession).where(UserSession.user_id == user.id))


def test_an_idle_session_ends(app, db):
    user = make_user(db, Role.STAFF)
    client = app.test_client()
    login(client, user.email)
    record = _only_session(db, user)
    record.last_seen_at = utcnow() - dt.timedelta(minutes=app.config["SESSION_IDLE_MINUTES"] - 5)
    db.flush()
    assert client.get("/dashboard").status_code == 200  # still within the idle limit, and touched
    assert utcnow() - _only_session(db, user).last_seen_at < dt.timedelta(minutes=1)
    record = _only_session(db, user)
    record.last_seen_at = utcnow() - dt.timedelta(minutes=app.config["SESSION_IDLE_MINUTES"] + 1)
    db.flush()
    response = client.get("/dashboard")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_session_ends_at_its_absolute_lifetime_however_active(app, db):
    user = make_user(db, Role.STAFF)
    client = app.test_client()
    login(client, user.email)
    record = _only_session(db, user)
    assert record.expires_at - record.created_at == app.config["PERMANENT_SESSION_LIFETIME"]
    record.expires_at = utcnow() - dt.timedelta(seconds=1)
    db.flush()
    assert client.get("/dashboard").status_code == 302


def test_last_seen_is_written_at_most_once_a_minute(app, db):
    user = make_user(db, Role.STAFF)
    client = app.test_client()
    login(client, user.email)
    seen = _only_session(db, user).last_seen_at
    for _ in range(3):
        assert client.get("/dashboard").status_code == 200
    assert _only_session(db, user).last_seen_at == seen


def test_remember_me_carries_the_same_revocable_session(app, db):
    user = make_user(db, Role.STAFF)
    client = app.test_client()
    client.post("/login", data={"email": user.email, "password": PASSWORD, "remember": "y"})
    remember = client.get_cookie("remember_token").value
    record = _only_session(db, user)
    assert record.remember and record.expires_at - record.created_at == app.config["REMEMBER_COOKIE_DURATION"]
    browser_restarted = app.test_client()  # the session cookie is gone, the remember cookie stays
    browser_restarted.set_cookie("remember_token", remember)
    assert browser_restarted.get("/dashboard").status_code == 200
    assert db.scalar(select(func.count()).select_from(UserSession)) == 1  # no new session row
    client.post("/logout")
    thief = app.test_client()
    thief.set_cookie("remember_token", remember)
    assert thief.get("/dashboard").status_code == 302


def test_a_cookie_from_before_server_side_sessions_is_logged_out(app, db):
    user = make_user(db, Role.STAFF)
    client = app.test_client()
    with client.session_transaction() as s:
        s["_user_id"], s["_fresh"] = f"{user.id}:{user.session_version}", True
    assert client.get("/dashboard").status_code == 302


def test_deleting_the_account_revokes_every_session(app, db):
    from webapp.services.personal_data import delete_account

    user = make_user(db)
    client = app.test_client()
    login(client, user.email)
    delete_account(db, user)
    db.flush()
    record = _only_session(db, user)
    assert record.revoked_at is not None and record.ip is None and record.user_agent is None
    assert client.get("/me/data").status_code == 302


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
    open_rows = db.scalars(
        select(UserSession).where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
    ).all()
    assert len(open_rows) == 1  # this device's only
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

    production_environment(monkeypatch)
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


@pytest.mark.parametrize("secret", [None, "", "change-me", "short", "a" * 40, "password" * 4])
def test_production_refuses_to_start_without_a_real_secret(monkeypatch, secret):
    from webapp import create_app
    from webapp.config import ConfigError

    production_environment(monkeypatch)
    if secret is None:
        monkeypatch.delenv("SECRET_KEY", raising=False)
    else:
        monkeypatch.setenv("SECRET_KEY", secret)
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app({"ENV": "production"})


def _production_app_with_keys(session_factory, monkeypatch, key: str, fallbacks: str | None = None):
    from webapp import create_app

    production_environment(monkeypatch, SECRET_KEY=key)
    if fallbacks is None:
        monkeypatch.delenv("SECRET_KEY_FALLBACKS", raising=False)
    else:
        monkeypatch.setenv("SECRET_KEY_FALLBACKS", fallbacks)
    return create_app(
        {"ENV": "production", "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False},
        session_factory=session_factory,
    )


def test_a_session_signed_with_the_old_key_logs_in_only_while_that_key_is_a_fallback(
    session_factory, monkeypatch
):
    https = "https://localhost"
    old_key, older_key, new_key = (secrets.token_hex(32) for _ in range(3))
    before = _production_app_with_keys(session_factory, monkeypatch, old_key)
    db = session_factory()
    user = make_user(db, Role.STAFF)
    db.commit()
    browser = before.test_client()
    response = browser.post("/login", data={"email": user.email, "password": PASSWORD}, base_url=https)
    assert response.status_code == 302
    signed_with_old_key = browser.get_cookie("__Host-session").value

    def dashboard(app):
        client = app.test_client()
        client.set_cookie("__Host-session", signed_with_old_key, secure=True)
        return client.get("/dashboard", base_url=https)

    rotated = _production_app_with_keys(session_factory, monkeypatch, new_key, f" {older_key} , {old_key},")
    assert rotated.config["SECRET_KEY_FALLBACKS"] == [older_key, old_key]
    assert dashboard(rotated).status_code == 200
    retired = _production_app_with_keys(session_factory, monkeypatch, new_key, older_key)
    response = dashboard(retired)
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert dashboard(_production_app_with_keys(session_factory, monkeypatch, new_key)).status_code == 302


@pytest.mark.parametrize(
    "fallbacks", ["change-me", "short", "k" * 64, f"{secrets.token_hex(32)},secret", f"{secrets.token_hex(32)},dev"]
)
def test_production_refuses_a_weak_or_placeholder_fallback_key(monkeypatch, fallbacks):
    from webapp import create_app
    from webapp.config import ConfigError

    production_environment(monkeypatch, SECRET_KEY_FALLBACKS=fallbacks)
    with pytest.raises(ConfigError, match="SECRET_KEY_FALLBACKS"):
        create_app({"ENV": "production"})


def test_production_refuses_debug(monkeypatch):
    from webapp import create_app
    from webapp.config import ConfigError

    production_environment(monkeypatch)
    with pytest.raises(ConfigError, match="DEBUG"):
        create_app({"ENV": "production", "DEBUG": True})


def test_production_refuses_debug_asked_for_by_flask_debug(monkeypatch):
    """`flask run --debug` and FLASK_DEBUG=1 turn on the interactive debugger after the app is made."""
    from webapp import create_app
    from webapp.config import ConfigError

    production_environment(monkeypatch, FLASK_DEBUG="1")
    with pytest.raises(ConfigError, match="FLASK_DEBUG"):
        create_app({"ENV": "production"})


def test_production_refuses_to_start_without_trusted_hosts(monkeypatch):
    from webapp import create_app
    from webapp.config import ConfigError

    production_environment(monkeypatch)
    monkeypatch.delenv("TRUSTED_HOSTS")
    with pytest.raises(ConfigError, match="TRUSTED_HOSTS"):
        create_app({"ENV": "production"})


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
