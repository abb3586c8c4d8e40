"""Configuration: development (the default, SQLite under instance/), testing and production.

Settings come from the environment. The secrets:

``SECRET_KEY``
    Signs the session cookie, the "remember me" cookie and the CSRF tokens. Production refuses to
    start without one of at least 32 random characters (a key of fewer than 10 different characters
    counts as typed, not random); development keeps a random one under
    ``instance/``; tests make a new one per app.
``SECRET_KEY_FALLBACKS``
    Earlier keys, comma-separated, newest first, to rotate ``SECRET_KEY`` without logging everyone
    out (Flask 3.1): session cookies signed with a listed key are still accepted, and re-signed with
    the new key as they change. Production refuses a weak or placeholder fallback as it refuses a
    weak ``SECRET_KEY``. Only the session cookie honours the fallbacks: "remember me" cookies
    (Flask-Login) and CSRF tokens in pages opened before the switch are signed with the current key
    only, so remembered browsers log in again and a form opened before the switch is sent again.
    Drop an old key from the list once the sessions it signed have ended (12 hours at most).

CSRF: ``WTF_CSRF_SSL_STRICT`` stays on, so over HTTPS a form POST must come with a ``Referer`` of
this very host, besides its token.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
from pathlib import Path

from flask import Flask
from flask.helpers import get_debug_flag

PRIVACY_NOTICE_VERSION = "2026-11"
_PLACEHOLDER_SECRETS = {"", "change-me", "changeme", "secret", "dev", "development"}


class ConfigError(RuntimeError):
    """The configuration is unsafe or incomplete; the app refuses to start."""


def _dev_secret_key(instance_path: str) -> str:
    """A random key generated once per checkout and kept in instance/ (never in the code)."""
    path = Path(instance_path) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32), encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()


def _flag(value: str | None, *, default: bool) -> bool:
    if value is None or not value.strip():
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


def _list(value: str | None) -> list[str]:
    """A comma-separated setting as a list, blanks dropped."""
    return [item.strip() for item in (value or "").split(",") if item.strip()]


def load_config(app: Flask, overrides: dict | None = None) -> None:
    """Fill ``app.config`` from the environment for ``JAKMENTOR_ENV`` (development, testing, production)."""
    overrides = dict(overrides or {})
    env = overrides.pop("ENV", None) or os.environ.get("JAKMENTOR_ENV", "development")
    cfg = app.config
    cfg["ENV_NAME"] = env
    cfg["DATABASE_URL"] = os.environ.get(
        "DATABASE_URL", f"sqlite:///{Path(app.instance_path) / 'jakmentor.db'}"
    )
    cfg["REDIS_URL"] = os.environ.get("REDIS_URL")
    cfg["SMTP_URL"] = os.environ.get("SMTP_URL")
    cfg["MAIL_FROM"] = os.environ.get("MAIL_FROM", "JakMentor <no-reply@jakmentor.local>")
    cfg["BABEL_DEFAULT_LOCALE"] = "id"
    cfg["BABEL_DEFAULT_TIMEZONE"] = "Asia/Jakarta"
    cfg["LANGUAGES"] = ("id", "en")
    cfg["MAX_CONTENT_LENGTH"] = 8 * 1024 * 1024  # CSV uploads of a few thousand members fit easily
    cfg["SESSION_COOKIE_HTTPONLY"] = True
    cfg["SESSION_COOKIE_SAMESITE"] = "Lax"
    cfg["REMEMBER_COOKIE_HTTPONLY"] = True
    cfg["REMEMBER_COOKIE_SAMESITE"] = "Lax"
    cfg["REMEMBER_COOKIE_DURATION"] = dt.timedelta(days=14)
    cfg["PERMANENT_SESSION_LIFETIME"] = dt.timedelta(hours=12)  # absolute end of a login (server-side)
    # A login not used for this long ends (server-side record); "remember me" logins get days.
    cfg["SESSION_IDLE_MINUTES"] = int(os.environ.get("SESSION_IDLE_MINUTES", "120"))
    cfg["REMEMBER_IDLE_DAYS"] = int(os.environ.get("REMEMBER_IDLE_DAYS", "7"))
    # Retention (PDP-4, webapp/services/retention.py): ended logins and old login throttles are
    # deleted or cleared after this many days, delivered notifications after the second (7 at least).
    cfg["SESSION_RETENTION_DAYS"] = int(os.environ.get("SESSION_RETENTION_DAYS", "30"))
    cfg["NOTIFICATION_RETENTION_DAYS"] = int(os.environ.get("NOTIFICATION_RETENTION_DAYS", "90"))
    # Entrepreneur and mentor accounts with no login for this many days (and no active mentorship)
    # are anonymised by the same daily job; 0 turns it off. Staff and admin accounts never expire.
    cfg["INACTIVE_ACCOUNT_RETENTION_DAYS"] = int(os.environ.get("INACTIVE_ACCOUNT_RETENTION_DAYS", "1095"))
    cfg["WTF_CSRF_TIME_LIMIT"] = None  # tokens live as long as the session
    cfg["WTF_CSRF_SSL_STRICT"] = True  # over HTTPS the Referer must name this host (kept on)
    cfg["RATELIMIT_STORAGE_URI"] = os.environ.get("RATELIMIT_STORAGE_URI") or cfg["REDIS_URL"] or "memory://"
    cfg["RATELIMIT_HEADERS_ENABLED"] = True
    cfg["LOGIN_RATE_LIMIT"] = os.environ.get("LOGIN_RATE_LIMIT", "10 per minute")
    cfg["SCHEDULER_ENABLED"] = False
    cfg["TRUST_PROXY_HOPS"] = int(os.environ.get("TRUST_PROXY_HOPS", "0"))
    cfg["LOG_FORMAT"] = os.environ.get("LOG_FORMAT", "json" if env == "production" else "text")
    cfg["LOG_LEVEL"] = os.environ.get("LOG_LEVEL", "INFO")
    # The OpenAPI document and Swagger UI: open to all in development, staff only in production.
    cfg["API_DOCS_PUBLIC"] = _flag(os.environ.get("API_DOCS_PUBLIC"), default=env != "production")
    # HSTS on every response, not only those that arrived over HTTPS (browsers ignore it over HTTP).
    cfg["HSTS_ALWAYS"] = env == "production"

    if env == "production":
        cfg["DEBUG"] = False
        cfg["SESSION_COOKIE_SECURE"] = True
        cfg["REMEMBER_COOKIE_SECURE"] = True
        cfg["SESSION_COOKIE_NAME"] = "__Host-session"
        cfg["REMEMBER_COOKIE_NAME"] = "__Host-remember"  # Flask-Login sets Path=/ and no Domain
        cfg["PREFERRED_URL_SCHEME"] = "https"
        cfg["SECRET_KEY"] = os.environ.get("SECRET_KEY", "")
        cfg["SECRET_KEY_FALLBACKS"] = _list(os.environ.get("SECRET_KEY_FALLBACKS"))
    elif env == "testing":
        cfg["TESTING"] = True
        cfg["SECRET_KEY"] = secrets.token_hex(32)
        cfg["SECRET_KEY_FALLBACKS"] = []
        cfg["ARGON2_FAST"] = True  # cheap hashes keep the suite fast; never outside tests
    else:
        cfg["SECRET_KEY"] = os.environ.get("SECRET_KEY") or _dev_secret_key(app.instance_path)
        cfg["SECRET_KEY_FALLBACKS"] = _list(os.environ.get("SECRET_KEY_FALLBACKS"))
    if os.environ.get("TRUSTED_HOSTS"):
        cfg["TRUSTED_HOSTS"] = [h.strip() for h in os.environ["TRUSTED_HOSTS"].split(",") if h.strip()]
    cfg.update(overrides)
    _refuse_unsafe(cfg)


def _refuse_unsafe(cfg) -> None:
    if cfg["ENV_NAME"] != "production":
        return
    key = cfg.get("SECRET_KEY") or ""
    if _weak_secret(key):
        raise ConfigError(
            "production needs SECRET_KEY: at least 32 random characters (e.g. `python -c 'import secrets; print(secrets.token_hex(32))'`)"
        )
    for number, old in enumerate(cfg.get("SECRET_KEY_FALLBACKS") or [], start=1):
        if _weak_secret(old):
            raise ConfigError(
                f"SECRET_KEY_FALLBACKS: key {number} is weak or a placeholder; every earlier key must be at least 32 random characters"
            )
    if cfg.get("DEBUG") or get_debug_flag():
        raise ConfigError("production refuses to run with DEBUG on (DEBUG or FLASK_DEBUG)")
    if not cfg.get("TRUSTED_HOSTS"):
        raise ConfigError(
            "production needs TRUSTED_HOSTS: the names this service answers to, comma-separated "
            "(e.g. jakmentor.jakarta.go.id); a request for any other Host is refused"
        )
    if "DATABASE_URL" not in os.environ and not cfg.get("DATABASE_URL_EXPLICIT"):
        raise ConfigError("production needs DATABASE_URL (e.g. postgresql+psycopg://user@host/jakmentor)")


def _weak_secret(key: str) -> bool:
    """A placeholder, shorter than 32 characters, or typed rather than generated (fewer than 10
    different characters: ``"a" * 40``, ``"password" * 4``; 64 random hex digits hold 16)."""
    return key.strip().lower() in _PLACEHOLDER_SECRETS or len(key) < 32 or len(set(key)) < 10
