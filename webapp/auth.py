"""Accounts in the browser: register, log in, log out, change password; Flask-Login wiring."""

from __future__ import annotations

import datetime as dt
import logging
import math
from urllib.parse import urlsplit

from flask import Blueprint, Flask, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, RadioField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length

from models import Role, User
from webapp import access
from webapp.access import login_required, public
from webapp.config import PRIVACY_NOTICE_VERSION
from webapp.database import get_db
from webapp.extensions import limiter, login_manager
from webapp.services import accounts, login_sessions
from webapp.services.errors import ServiceError

bp = Blueprint("auth", __name__)
log = logging.getLogger(__name__)


class LoginUser:
    """The logged-in person as Flask-Login sees it: the user row, the session version and the
    secret of this device's server-side session (None for a request made with an API token)."""

    def __init__(self, user: User, session_secret: str | None = None):
        self.user = user
        self.session_secret = session_secret

    def __getattr__(self, name):
        return getattr(self.user, name)

    is_authenticated = True
    is_anonymous = False

    @property
    def is_active(self) -> bool:
        return self.user.is_active and self.user.deleted_at is None

    def get_id(self) -> str:
        # What the session and remember cookies carry: the secret names this device's session row
        # (revoked at logout); the version is the backstop for logout-everywhere and deletion.
        return f"{self.user.id}:{self.user.session_version}:{self.session_secret or ''}"


def init_login(app: Flask) -> None:
    """Configure Flask-Login and the deny-by-default access hook."""
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Silakan masuk untuk membuka halaman ini.")
    login_manager.session_protection = "basic"
    access.init_app(app)


def session_policy() -> login_sessions.SessionPolicy:
    """Idle limits and lifetimes of logins, from the configuration."""
    cfg = current_app.config
    return login_sessions.SessionPolicy(
        idle=dt.timedelta(minutes=cfg["SESSION_IDLE_MINUTES"]),
        lifetime=cfg["PERMANENT_SESSION_LIFETIME"],
        remember_idle=dt.timedelta(days=cfg["REMEMBER_IDLE_DAYS"]),
        remember_lifetime=cfg["REMEMBER_COOKIE_DURATION"],
    )


def start_login(user: User, *, remember: bool = False) -> None:
    """Log ``user`` in on this device: a fresh cookie session and a new server-side session row.

    The caller commits (the row must exist before the next request arrives).
    """
    lang = session.get("lang")
    session.clear()  # a fresh session at login: nothing from before survives
    if lang:
        session["lang"] = lang
    secret = login_sessions.start_session(
        get_db(),
        user,
        session_policy(),
        remember=remember,
        user_agent=request.user_agent.string,
        ip=request.remote_addr,
    )
    login_user(LoginUser(user, secret), remember=remember)


@login_manager.user_loader
def _load_user(token: str) -> LoginUser | None:
    user_id, version, secret = (token.split(":", 2) + ["", ""])[:3]
    if not user_id.isdigit() or not version.isdigit() or not secret:
        return None  # cookies from before server-side sessions name no session: logged out
    db = get_db()
    found = login_sessions.active_session_with_user(db, secret, int(user_id), session_policy())
    if found is None:
        return None
    record, user = found
    if user.session_version != int(version) or not user.is_active or user.deleted_at is not None:
        return None
    if login_sessions.touch(db, record):
        db.commit()  # last use, in its own short transaction before the request's work
    return LoginUser(user, secret)


def _login_key() -> str:
    """Rate-limit key for one account: the e-mail address being tried."""
    return "login:" + (request.form.get("email") or "").strip().lower()


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(
        _l("Kata sandi"), validators=[DataRequired(), Length(max=accounts.MAX_PASSWORD_LENGTH)]
    )
    remember = BooleanField(_l("Ingat saya di perangkat ini"))


class RegisterForm(FlaskForm):
    role = RadioField(
        _l("Saya mendaftar sebagai"),
        choices=[
            SelectChoice("entrepreneur", _l("Wirausaha (pemilik UMKM)")),
            SelectChoice("mentor", _l("Mentor")),
        ],
        default="entrepreneur",
        validators=[DataRequired()],
    )
    name = StringField(_l("Nama lengkap"), validators=[DataRequired(), Length(max=120)])
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(
        _l("Kata sandi"),
        validators=[DataRequired()],
    )
    consent = BooleanField(
        _l("Saya telah membaca pemberitahuan privasi dan setuju data saya diproses untuk pencocokan mentor."),
        validators=[DataRequired()],
    )
    #: UU PDP: children's data needs a parent's consent, so people under 18 cannot register themselves.
    adult = BooleanField(
        _l("Saya berusia 18 tahun atau lebih."),
        validators=[
            DataRequired(
                message=_l(
                    "Pendaftaran mandiri hanya untuk usia 18 tahun ke atas. Jika Anda belum 18 tahun, "
                    "hubungi staf program: pendaftaran memerlukan persetujuan orang tua atau wali."
                )
            )
        ],
    )


class ChangePasswordForm(FlaskForm):
    current = PasswordField(_l("Kata sandi sekarang"), validators=[DataRequired()])
    new = PasswordField(
        _l("Kata sandi baru"),
        validators=[DataRequired()],
    )
    confirm = PasswordField(
        _l("Ulangi kata sandi baru"),
        validators=[DataRequired(), EqualTo("new", message=_l("Kata sandi tidak sama."))],
    )


def password_message(code: str) -> str:
    """A person-readable reason for a refused password or account."""
    return {
        "too_short": _("Kata sandi minimal %(n)d karakter.", n=accounts.MIN_PASSWORD_LENGTH),
        "too_long": _("Kata sandi maksimal %(n)d karakter.", n=accounts.MAX_PASSWORD_LENGTH),
        "too_common": _("Kata sandi ini terlalu umum dan mudah ditebak. Pilih yang lain."),
        "wrong_password": _("Kata sandi sekarang salah."),
        "email_taken": _("Sudah ada akun dengan e-mail ini."),
        "bad_email": _("Alamat e-mail tidak valid."),
        "name_required": _("Nama wajib diisi."),
    }.get(code, _("Data tidak valid."))


def _safe_next(target: str | None) -> str:
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") and not target.startswith("//"):
            return target
    return url_for("main.dashboard")


@bp.route("/login", methods=["GET", "POST"])
@public
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
@limiter.limit("5 per minute", methods=["POST"], key_func=_login_key)
def login():
    """The login page; on success the session is renewed and the person lands on their dashboard."""
    if current_user.is_authenticated:
        return redirect(url_for("main.dashboard"))
    form = LoginForm()
    if form.validate_on_submit():
        db = get_db()
        try:
            user = accounts.authenticate(db, form.email.data, form.password.data)
        except accounts.LoginThrottled as exc:
            db.rollback()
            log.warning("login throttled (account floor)", extra={"event": "login_throttled"})
            minutes = max(1, math.ceil(exc.retry_after / 60))
            flash(_("Terlalu banyak percobaan yang gagal. Coba lagi dalam %(n)d menit.", n=minutes), "error")
            return render_template("auth/login.html", form=form), 429, {"Retry-After": str(exc.retry_after)}
        if user is None:
            db.commit()  # the failed attempt counts, on this account, across all processes
            log.info("login failed", extra={"event": "login_failed"})
            flash(_("E-mail atau kata sandi salah."), "error")
            return render_template("auth/login.html", form=form), 401
        start_login(user, remember=bool(form.remember.data))
        db.commit()
        log.info("login ok: user=%s role=%s", user.id, user.role.value, extra={"event": "login_ok"})
        return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
@login_required
def logout():
    """End this session: its server-side record is revoked, so a copy of the cookie is useless."""
    db = get_db()
    login_sessions.revoke(db, current_user.session_secret)
    db.commit()
    log.info("logout: user=%s", current_user.id, extra={"event": "logout"})
    logout_user()
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    flash(_("Anda telah keluar."), "info")
    return redirect(url_for("auth.login"))


@bp.post("/logout-everywhere")
@login_required
def logout_everywhere():
    """End every session of this account, on every device."""
    db = get_db()
    user = db.get(User, current_user.id)
    accounts.end_all_sessions(db, user)
    login_sessions.revoke_all(db, user)
    db.commit()
    log.info("logout everywhere: user=%s", user.id, extra={"event": "logout_everywhere"})
    logout_user()
    session.clear()
    flash(_("Anda telah keluar dari semua perangkat."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/register", methods=["GET", "POST"])
@public
@limiter.limit("20 per hour", methods=["POST"])
def register():
    """Self-registration for entrepreneurs and mentors (staff accounts are made by an admin)."""
    if current_user.is_authenticated:
        return redirect(url_for("main.dashboard"))
    form = RegisterForm()
    if form.validate_on_submit():
        db = get_db()
        try:
            user = accounts.create_user(
                db,
                email=form.email.data,
                name=form.name.data,
                password=form.password.data,
                role=Role(form.role.data),
                locale=session.get("lang", "id"),
                consent=True,
                notice_version=PRIVACY_NOTICE_VERSION,
                consent_channel="web_registration",
                adult_confirmed=True,
            )
        except ServiceError as exc:
            db.rollback()
            field = form.password if exc.code.startswith("too_") else form.email
            field.errors = [*field.errors, password_message(exc.code)]
            return render_template("auth/register.html", form=form), 422
        start_login(user)
        db.commit()
        flash(_("Selamat datang di JakMentor, %(name)s!", name=user.name), "success")
        return redirect(url_for("main.dashboard"))
    status = 422 if request.method == "POST" else 200
    return render_template("auth/register.html", form=form), status


@bp.route("/password", methods=["GET", "POST"])
@login_required
def change_password():
    """Change one's password (the current one is required); other devices are logged out."""
    form = ChangePasswordForm()
    if form.validate_on_submit():
        db = get_db()
        user = db.get(User, current_user.id)
        try:
            accounts.change_password(db, user, form.current.data, form.new.data)
            login_sessions.revoke_all(db, user, keep=current_user.session_secret)
        except ServiceError as exc:
            db.rollback()
            target = form.current if exc.code == "wrong_password" else form.new
            target.errors = [*target.errors, password_message(exc.code)]
            return render_template("auth/password.html", form=form), 422
        db.commit()
        # This device stays logged in (same session row, new version); every other one is ended.
        login_user(LoginUser(user, current_user.session_secret))
        log.info("password changed: user=%s", user.id, extra={"event": "password_changed"})
        flash(_("Kata sandi telah diganti."), "success")
        return redirect(url_for("main.dashboard"))
    return render_template("auth/password.html", form=form), (422 if request.method == "POST" else 200)


@bp.get("/privacy")
@public
def privacy():
    """The privacy notice (UU 27/2022): what is collected, why, for how long, and one's rights."""
    return render_template("auth/privacy.html", version=PRIVACY_NOTICE_VERSION)
