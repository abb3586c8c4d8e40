"""Security baseline: cookies, headers on every response, trusted hosts, API docs, body limits, XSS,
and structured logs that never carry secrets or personal data."""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import re
from email.utils import parsedate_to_datetime

import pytest
from sqlalchemy.orm import sessionmaker

from models import Role
from tests.factories import PASSWORD, login, make_entrepreneur, make_mentor, make_user, production_environment
from webapp.services import api_tokens

HTTPS = "https://localhost"


def _production_app(session_factory, monkeypatch, **overrides):
    from webapp import create_app

    production_environment(monkeypatch)
    return create_app(
        {"ENV": "production", "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False, **overrides},
        session_factory=session_factory,
    )


# --- Cookies (SESS-1) ---------------------------------------------------------------------------


def test_every_cookie_set_at_login_is_hardened_in_production(session_factory, monkeypatch):
    app = _production_app(session_factory, monkeypatch)
    db = session_factory()
    user = make_user(db)
    db.commit()
    response = app.test_client().post(
        "/login", data={"email": user.email, "password": PASSWORD, "remember": "y"}, base_url=HTTPS
    )
    assert response.status_code == 302
    cookies = response.headers.getlist("Set-Cookie")
    names = sorted(c.split("=", 1)[0] for c in cookies)
    assert names == ["__Host-remember", "__Host-session"]
    for cookie in cookies:
        attributes = [part.strip() for part in cookie.split(";")[1:]]
        lowered = [a.lower() for a in attributes]
        assert "secure" in lowered and "httponly" in lowered, cookie
        assert "samesite=lax" in lowered and "path=/" in lowered, cookie
        assert not any(a.startswith("domain") for a in lowered), cookie
    remember = next(c for c in cookies if c.startswith("__Host-remember="))
    expires = parsedate_to_datetime(re.search(r"Expires=([^;]+)", remember).group(1))
    lasts = expires - dt.datetime.now(dt.UTC)
    assert dt.timedelta(days=13) < lasts <= dt.timedelta(days=14)  # far below Flask-Login's 365 days


# --- Security headers on every response (HDR-1) -------------------------------------------------


def _routes() -> list[tuple[str, str]]:
    """(endpoint, URL) of every GET route, with sample values in its arguments."""
    from webapp import create_app

    app = create_app({"ENV": "testing"}, session_factory=sessionmaker())
    samples = {"filename": "swagger-ui.css", "kind": "mentors", "week": "2026-W49"}
    out = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods:
            continue
        values = {}
        for name, converter in rule._converters.items():
            kind = type(converter).__name__
            values[name] = 1 if kind in ("IntegerConverter", "NumberConverter") else samples.get(name, "x")
        if rule.endpoint == "static":
            values["filename"] = "api/docs.js"
        with app.test_request_context():
            from flask import url_for

            out.append((rule.endpoint, url_for(rule.endpoint, **values)))
    return sorted(out)


ROUTES = _routes()


def _assert_security_headers(response) -> None:
    h = response.headers
    csp = h.get("Content-Security-Policy", "")
    for directive in (
        "default-src 'self'",
        "object-src 'none'",
        "frame-ancestors 'none'",
        "script-src 'self'",
    ):
        assert directive in csp, (response.request.path, csp)
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert h.get("X-Content-Type-Options") == "nosniff"
    assert h.get("Referrer-Policy") == "strict-origin-when-cross-origin"
    assert h.get("X-Frame-Options") == "DENY"
    hsts = h.get("Strict-Transport-Security", "")
    assert int(re.search(r"max-age=(\d+)", hsts).group(1)) >= 31536000 and "includeSubDomains" in hsts
    assert re.fullmatch(r"[0-9a-f]{32}", h.get("X-Request-ID", ""))
    response.close()  # file responses (static, Swagger UI assets) hold the file open


@pytest.fixture
def staff_client(app, db):
    user = make_user(db, Role.STAFF)
    client = app.test_client()
    client.post("/login", data={"email": user.email, "password": PASSWORD}, base_url=HTTPS)
    return client


@pytest.mark.parametrize(("endpoint", "url"), ROUTES, ids=[e for e, _u in ROUTES])
def test_every_get_route_sends_the_security_headers(app, staff_client, endpoint, url):
    anonymous = app.test_client().get(url, base_url=HTTPS)
    _assert_security_headers(anonymous)
    as_staff = staff_client.get(url, base_url=HTTPS)
    _assert_security_headers(as_staff)
    if as_staff.status_code == 200 and endpoint not in ("static", "api_docs.asset"):
        assert as_staff.headers["Cache-Control"] == "no-store"


def test_error_responses_send_the_security_headers_too(app):
    from webapp.access import public

    @app.get("/_boom")
    @public
    def _boom():
        raise RuntimeError("boom")

    client = app.test_client()
    for method, url, code in [
        ("GET", "/no-such-page", 404),
        ("GET", "/api/v1/no-such-thing", 404),
        ("DELETE", "/login", 405),
        ("GET", "/_boom", 500),
        ("GET", "/api/v1/me", 401),
    ]:
        response = client.open(url, method=method, base_url=HTTPS)
        assert response.status_code == code, url
        _assert_security_headers(response)


def test_production_sends_hsts_even_when_the_proxy_forgot_the_scheme(session_factory, monkeypatch):
    app = _production_app(session_factory, monkeypatch)
    response = app.test_client().get("/privacy")  # plain http: a proxy without X-Forwarded-Proto
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


def test_development_sends_hsts_only_over_https(client):
    assert "Strict-Transport-Security" not in client.get("/privacy").headers
    assert "Strict-Transport-Security" in client.get("/privacy", base_url=HTTPS).headers


def test_the_api_docs_page_needs_nothing_the_policy_forbids(client):
    page = client.get("/api/v1/docs").get_data(as_text=True)
    assert "<script>" not in page and " style=" not in page and "onload=" not in page  # no inline code
    sources = re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', page)
    assert sources and all(s.startswith("/") and not s.startswith("//") for s in sources)
    for source in sources:
        response = client.get(source)
        response.close()
        assert response.status_code == 200, source


# --- Configuration (CFG-1) ----------------------------------------------------------------------


def test_a_foreign_host_is_refused_when_trusted_hosts_are_set(session_factory, monkeypatch):
    from webapp import create_app

    monkeypatch.setenv("TRUSTED_HOSTS", "jakmentor.jakarta.go.id, localhost")
    app = create_app({"ENV": "testing"}, session_factory=session_factory)
    client = app.test_client()
    assert client.get("/privacy", base_url="https://jakmentor.jakarta.go.id").status_code == 200
    refused = client.get("/privacy", base_url="https://evil.example")
    assert refused.status_code == 400
    _assert_security_headers(refused)
    assert client.get("/privacy", headers={"Host": "evil.example"}).status_code == 400


def test_behind_a_proxy_a_forwarded_host_outside_trusted_hosts_is_refused(session_factory, monkeypatch):
    """ProxyFix takes the proxy's X-Forwarded-Host as the Host: it is held to TRUSTED_HOSTS too."""
    app = _production_app(session_factory, monkeypatch, TRUST_PROXY_HOPS=1)
    client = app.test_client()
    proto = {"X-Forwarded-Proto": "https"}
    assert client.get("/privacy", headers={**proto, "X-Forwarded-Host": "localhost"}).status_code == 200
    refused = client.get("/privacy", headers={**proto, "X-Forwarded-Host": "evil.example"})
    assert refused.status_code == 400
    _assert_security_headers(refused)


def test_production_is_not_in_debug(session_factory, monkeypatch):
    assert _production_app(session_factory, monkeypatch).debug is False


@pytest.mark.parametrize("url", ["/api/v1/openapi.json", "/api/v1/docs"])
def test_api_docs_are_staff_only_in_production(session_factory, monkeypatch, url):
    app = _production_app(session_factory, monkeypatch)
    assert app.config["API_DOCS_PUBLIC"] is False
    db = session_factory()
    staff, entrepreneur = make_user(db, Role.STAFF), make_user(db)
    db.commit()
    assert app.test_client().get(url, base_url=HTTPS).status_code == 404
    as_entrepreneur = app.test_client()
    as_entrepreneur.post("/login", data={"email": entrepreneur.email, "password": PASSWORD}, base_url=HTTPS)
    assert as_entrepreneur.get(url, base_url=HTTPS).status_code == 404
    as_staff = app.test_client()
    as_staff.post("/login", data={"email": staff.email, "password": PASSWORD}, base_url=HTTPS)
    assert as_staff.get(url, base_url=HTTPS).status_code == 200


def test_api_docs_can_be_opened_in_production_by_the_switch(session_factory, monkeypatch):
    monkeypatch.setenv("API_DOCS_PUBLIC", "true")
    app = _production_app(session_factory, monkeypatch)
    assert app.test_client().get("/api/v1/openapi.json", base_url=HTTPS).status_code == 200


def test_api_docs_are_public_in_development(client):
    assert client.get("/api/v1/openapi.json").status_code == 200
    assert client.get("/api/v1/docs").status_code == 200


# --- Request size (INPUT-2) ---------------------------------------------------------------------


def test_a_form_post_above_8_mib_gets_413(client):
    response = client.post("/login", data={"email": "a@b.id", "password": "x" * (8 * 1024 * 1024 + 1)})
    assert response.status_code == 413
    assert "Berkas terlalu besar" in response.get_data(as_text=True)


def test_an_api_body_above_1_mib_gets_413_in_the_envelope(client, db):
    user = make_user(db)
    make_entrepreneur(db, user)
    token = api_tokens.create_token(db, user, "test").plain
    body = json.dumps({"mentor_id": 1, "message": "x" * (1024 * 1024)})
    response = client.post(
        "/api/v1/requests",
        data=body,
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 413
    assert response.get_json()["code"] == 413


# --- Output escaping (XSS-1) --------------------------------------------------------------------


def test_a_script_saved_as_a_bio_is_shown_escaped(client, db):
    m_user = make_user(db, Role.MENTOR)
    make_mentor(db, m_user)
    login(client, m_user.email)
    profile = {
        "company": "Katering Ratna",
        "sectors": ["I"],
        "stages": ["early"],
        "expertise": ["marketing"],
        "kecamatan": "31.71.06",
        "capacity": "2",
        "languages": ["id"],
        "mode": "either",
        "gender": "f",
        "bio": "<script>alert(1)</script>",
    }
    assert client.post("/mentor/profile", data=profile).status_code == 302
    client.post("/logout")
    e_user = make_user(db)
    make_entrepreneur(db, e_user)
    login(client, e_user.email)
    mentor_id = db.get(type(m_user), m_user.id).mentor.id
    page = client.get(f"/me/mentors/{mentor_id}").get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert(1)" not in page


# --- Structured logs (LOG-1) --------------------------------------------------------------------


def _events(caplog, name: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if getattr(r, "event", None) == name]


def test_a_failed_login_is_one_event_without_the_password_or_the_address(client, db, caplog):
    user = make_user(db)
    caplog.set_level(logging.DEBUG)
    assert login(client, user.email, "tebakan-yang-salah-sekali").status_code == 401
    [event] = _events(caplog, "login_failed")
    assert event.levelno == logging.INFO
    assert "tebakan-yang-salah-sekali" not in caplog.text
    assert user.email not in caplog.text and user.name not in caplog.text


def test_log_lines_are_json_with_utc_time_request_id_user_and_address(client, db):
    from webapp.logging_setup import make_handler

    stream = io.StringIO()
    handler = make_handler("json", stream)
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        user = make_user(db, Role.STAFF)
        response = login(client, user.email)
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    [ok] = [line for line in lines if line.get("event") == "login_ok"]
    assert ok["level"] == "INFO" and ok["logger"] == "webapp.auth"
    assert ok["ts"].endswith("+00:00")
    assert ok["request_id"] == response.headers["X-Request-ID"]
    assert ok["user_id"] == user.id and ok["ip"] == "127.0.0.1"


def test_authorization_denials_are_logged_with_the_user(client, db, caplog):
    user = make_user(db)
    login(client, user.email)
    caplog.set_level(logging.INFO)
    assert client.get("/staff/members/mentors").status_code == 403
    [event] = _events(caplog, "authz_denied")
    assert event.levelno == logging.WARNING and "entrepreneur" in event.getMessage()
    anonymous = client.application.test_client()
    assert anonymous.get("/api/v1/me").status_code == 401
    assert len(_events(caplog, "authn_required")) == 1


class TestRateLimitLog:
    @pytest.fixture
    def app_config(self):
        return {"ENV": "testing", "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": True}

    def test_a_rate_limit_hit_is_logged(self, client, caplog):
        caplog.set_level(logging.INFO)
        codes = [login(client, f"tamu{i}@example.id", "bukan-sandinya").status_code for i in range(11)]
        assert codes[-1] == 429
        assert len(_events(caplog, "rate_limited")) == 1


def test_no_password_token_cookie_or_address_in_any_log(app, db, caplog):
    from webapp.logging_setup import JsonFormatter, RequestContextFilter

    json_stream = io.StringIO()
    json_handler = logging.StreamHandler(json_stream)
    json_handler.addFilter(RequestContextFilter())
    json_handler.setFormatter(JsonFormatter())
    logging.getLogger().addHandler(json_handler)
    caplog.set_level(logging.DEBUG)
    try:
        user = make_user(db, Role.ENTREPRENEUR, name="Siti Rahmawati")
        client = app.test_client()
        login(client, user.email, "salah-tebak-sandi-ini")
        login(client, user.email)
        session_cookie = client.get_cookie("session").value
        client.get("/dashboard")
        made = client.post("/api/v1/me/tokens", json={"name": "laptop"})
        assert made.status_code == 201
        token = made.get_json()["token"]
        headers = {"Authorization": f"Bearer {token}"}
        assert app.test_client().get("/api/v1/me", headers=headers).status_code == 200
        assert (
            app.test_client().get("/api/v1/me", headers={"Authorization": "Bearer x" + token}).status_code
            == 401
        )
        client.post("/logout")
        app.test_client().get("/dashboard", headers={"Cookie": f"session={session_cookie}"})
    finally:
        logging.getLogger().removeHandler(json_handler)
    everything = caplog.text + json_stream.getvalue() + "".join(repr(r.args) for r in caplog.records)
    assert caplog.records  # the session did log
    for secret in (PASSWORD, "salah-tebak-sandi-ini", token, session_cookie, user.email, "Siti Rahmawati"):
        assert secret not in everything, secret


# --- Odds and ends of the baseline (AUTH-1, AUTH-5, CORS-1) -------------------------------------


def test_passwords_are_hashed_with_argon2id_at_the_rfc_9106_defaults_and_weaker_hashes_upgraded(client, db):
    from webapp.services import accounts

    user = make_user(db)  # the suite's cheap parameters: what a weaker legacy hash looks like
    assert user.password_hash.startswith("$argon2id$v=19$m=1024,t=1,p=1")
    accounts.use_fast_hashing(False)
    try:
        assert accounts.hash_password("x" * 12).startswith("$argon2id$v=19$m=65536,t=3,p=4$")
        assert login(client, user.email).status_code == 302
    finally:
        accounts.use_fast_hashing(True)
    db.refresh(user)
    assert user.password_hash.startswith("$argon2id$v=19$m=65536,t=3,p=4$")


class TestBehindOneProxy:
    @pytest.fixture
    def app_config(self):
        return {
            "ENV": "testing",
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
            "TRUST_PROXY_HOPS": 1,
        }

    def test_a_forged_forwarded_address_is_not_believed(self, client, db):
        from models import UserSession

        user = make_user(db)
        client.post(
            "/login",
            data={"email": user.email, "password": PASSWORD},
            headers={"X-Forwarded-For": "1.2.3.4, 203.0.113.7", "X-Forwarded-Proto": "https"},
        )
        record = db.query(UserSession).filter_by(user_id=user.id).one()
        assert record.ip == "203.0.113.7"  # the address our one proxy saw, not the client's claim


def test_no_cross_origin_access_is_granted(client):
    preflight = client.options(
        "/api/v1/me",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
    )
    assert "Access-Control-Allow-Origin" not in preflight.headers
    response = client.get("/api/v1/reference/sectors", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in response.headers


# --- CSRF over HTTPS: the token and a Referer from this host (CSRF-1) ------------------------------


def _csrf_token(client, path: str = "/login") -> str:
    page = client.get(path, base_url=HTTPS).get_data(as_text=True)
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


def _logins(db, user) -> int:
    from models import UserSession

    db.expire_all()
    return db.query(UserSession).filter_by(user_id=user.id).count()


@pytest.mark.parametrize(
    "referer",
    ["https://evil.example/login", None, "http://localhost/login", "https://localhost.evil.example/login"],
    ids=["foreign", "none", "plain-http", "look-alike"],
)
def test_over_https_a_form_post_with_a_valid_token_but_no_referer_from_this_host_is_refused(
    session_factory, monkeypatch, referer
):
    app = _production_app(session_factory, monkeypatch, WTF_CSRF_ENABLED=True)
    assert app.config["WTF_CSRF_SSL_STRICT"] is True  # the production config keeps the Referer check on
    db = session_factory()
    user = make_user(db)
    db.commit()
    client = app.test_client()
    token = _csrf_token(client)
    response = client.post(
        "/login",
        data={"email": user.email, "password": PASSWORD, "csrf_token": token},
        headers={"Referer": referer} if referer else {},
        base_url=HTTPS,
    )
    assert response.status_code == 400
    assert _logins(db, user) == 0


def test_over_https_a_form_post_with_this_hosts_referer_passes(session_factory, monkeypatch):
    app = _production_app(session_factory, monkeypatch, WTF_CSRF_ENABLED=True)
    db = session_factory()
    user = make_user(db, Role.STAFF)
    db.commit()
    client = app.test_client()
    token = _csrf_token(client)
    same_host = {"Referer": "https://localhost/login"}
    response = client.post(
        "/login",
        data={"email": user.email, "password": PASSWORD, "csrf_token": token},
        headers=same_host,
        base_url=HTTPS,
    )
    assert response.status_code == 302 and _logins(db, user) == 1
    # Logged in, a state change (logging out) follows the same rule.
    token = _csrf_token(client, "/dashboard")
    refused = client.post(
        "/logout", data={"csrf_token": token}, headers={"Referer": "https://evil.example/"}, base_url=HTTPS
    )
    assert refused.status_code == 400
    assert client.get("/dashboard", base_url=HTTPS).status_code == 200
    done = client.post("/logout", data={"csrf_token": token}, headers=same_host, base_url=HTTPS)
    assert done.status_code == 302
    assert client.get("/dashboard", base_url=HTTPS).status_code == 302
