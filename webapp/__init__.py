"""JakMentor's web application: ``create_app`` builds it from named steps."""

from __future__ import annotations

import logging

from flask import Flask, g, request, session
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)


def create_app(config: dict | None = None, *, session_factory: sessionmaker[Session] | None = None) -> Flask:
    """Build the application. ``config`` overrides settings (``ENV`` picks the environment)."""
    from webapp.config import load_config

    app = Flask(__name__, instance_relative_config=True)
    load_config(app, config)
    _register_logging(app)
    _register_extensions(app, session_factory)
    _register_blueprints(app)
    _register_error_handlers(app)
    _register_security_headers(app)
    _register_cli(app)
    return app


def select_locale() -> str:
    """The language of this request: the user's choice in the session, else Bahasa Indonesia."""
    from flask_login import current_user

    chosen = session.get("lang")
    if chosen in ("id", "en"):
        return chosen
    if getattr(current_user, "is_authenticated", False):
        return current_user.locale
    return "id"


def _register_logging(app: Flask) -> None:
    from webapp import logging_setup

    logging_setup.init_app(app)


def _register_extensions(app: Flask, session_factory) -> None:
    from webapp import auth, database, i18n, suggestion_cache
    from webapp.extensions import babel, csrf, limiter, login_manager
    from webapp.services.accounts import use_fast_hashing

    database.init_app(app, session_factory)
    suggestion_cache.init_app(app)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=lambda: "Asia/Jakarta")
    i18n.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    auth.init_login(app)
    use_fast_hashing(bool(app.config.get("ARGON2_FAST")))
    if app.config["TRUST_PROXY_HOPS"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["TRUST_PROXY_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    @app.context_processor
    def _template_globals():
        from flask_babel import get_locale

        return {"current_lang": str(get_locale() or "id")}

    @app.before_request
    def _remember_language():
        lang = request.args.get("lang")
        if lang in ("id", "en"):
            session["lang"] = lang
        g.lang = select_locale()


def _register_blueprints(app: Flask) -> None:
    from webapp.account import bp as account_bp
    from webapp.api import init_api
    from webapp.audit import bp as audit_bp
    from webapp.auth import bp as auth_bp
    from webapp.cohorts import bp as cohorts_bp
    from webapp.entrepreneur import bp as entrepreneur_bp
    from webapp.health import bp as health_bp
    from webapp.insights import bp as insights_bp
    from webapp.main import bp as main_bp
    from webapp.mentor import bp as mentor_bp
    from webapp.model_admin import bp as model_bp
    from webapp.sessions_views import bp as sessions_bp
    from webapp.staff import bp as staff_bp

    app.register_blueprint(health_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(main_bp)
    app.register_blueprint(entrepreneur_bp)
    app.register_blueprint(mentor_bp)
    app.register_blueprint(staff_bp)
    app.register_blueprint(cohorts_bp)
    app.register_blueprint(audit_bp)
    app.register_blueprint(model_bp)
    app.register_blueprint(account_bp)
    app.register_blueprint(insights_bp)
    app.register_blueprint(sessions_bp)
    init_api(app)


def _register_error_handlers(app: Flask) -> None:
    from webapp.errors import register

    register(app)


def _register_security_headers(app: Flask) -> None:
    """Security headers on every response: pages, API, static files, errors and redirects."""
    hsts_always = bool(app.config.get("HSTS_ALWAYS"))

    @app.after_request
    def _headers(response):
        h = response.headers
        h.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
        )
        h.setdefault("X-Content-Type-Options", "nosniff")
        h.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        h.setdefault("X-Frame-Options", "DENY")
        if hsts_always or request.is_secure:
            h.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        from flask_login import current_user

        if getattr(current_user, "is_authenticated", False):
            h["Cache-Control"] = "no-store"
        return response


def _register_cli(app: Flask) -> None:
    from webapp.cli import register

    register(app)
