"""Accounts in the browser: register, log in, log out, change password; Flask-Login wiring."""

from __future__ import annotations

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
from webapp.services import accounts
from webapp.services.errors import ServiceError

bp = Blueprint("auth", __name__)
log = logging.getLogger(__name__)


class LoginUser:
    """The logged-in person as Flask-Login sees it: the user row plus the session version."""

    def __init__(self, user: User):
        self.user = user

    def __getattr__(self, name):
        return getattr(self.user, name)

    is_authenticated = True
    is_anonymous = False

    @property
    def is_active(self) -> bool:
        return self.user.is_active and self.user.deleted_at is None

    def get_id(self) -> str:
        # The version makes logout-everywhere, password change and deletion revoke old cookies.
        return f"{self.user.id}:{self.user.session_version}"


def init_login(app: Flask) -> None:
    """Configure Flask-Login and the deny-by-default access hook."""
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Silakan masuk untuk membuka halaman ini.")
    login_manager.session_protection = "basic"
    access.init_app(app)


@login_manager.user_loader
def _load_user(token: str) -> LoginUser | None:
    user_id, _sep, version = token.partition(":")
    if not user_id.isdigit() or not version.isdigit():
        return None
    user = get_db().get(User, int(user_id))
    if (
        user is None
        or user.session_version != int(version)
        or not user.is_active
        or user.deleted_at is not None
    ):
        return None
    return LoginUser(user)


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
            log.warning("login throttled (account floor) from %s", request.remote_addr)
            minutes = max(1, math.ceil(exc.retry_after / 60))
            flash(_("Terlalu banyak percobaan yang gagal. Coba lagi dalam %(n)d menit.", n=minutes), "error")
            return render_template("auth/login.html", form=form), 429, {"Retry-After": str(exc.retry_after)}
        if user is None:
            db.commit()  # the failed attempt counts, on this account, across all processes
            log.info("login failed from %s", request.remote_addr)
            flash(_("E-mail atau kata sandi salah."), "error")
            return render_template("auth/login.html", form=form), 401
        db.commit()
        lang = session.get("lang")
        session.clear()  # a fresh session at login: nothing from before survives
        if lang:
            session["lang"] = lang
        login_user(LoginUser(user), remember=bool(form.remember.data))
        log.info("login ok: user=%s role=%s", user.id, user.role.value)
        return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
@login_required
def logout():
    """End this session (the cookie is cleared)."""
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
    db.commit()
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
            )
        except ServiceError as exc:
            db.rollback()
            field = form.password if exc.code.startswith("too_") else form.email
            field.errors = [*field.errors, password_message(exc.code)]
            return render_template("auth/register.html", form=form), 422
        db.commit()
        session.clear()
        login_user(LoginUser(user))
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
        except ServiceError as exc:
            db.rollback()
            target = form.current if exc.code == "wrong_password" else form.new
            target.errors = [*target.errors, password_message(exc.code)]
            return render_template("auth/password.html", form=form), 422
        db.commit()
        login_user(LoginUser(user))  # this device stays logged in with the new session version
        flash(_("Kata sandi telah diganti."), "success")
        return redirect(url_for("main.dashboard"))
    return render_template("auth/password.html", form=form), (422 if request.method == "POST" else 200)


@bp.get("/privacy")
@public
def privacy():
    """The privacy notice (UU 27/2022): what is collected, why, for how long, and one's rights."""
    return render_template("auth/privacy.html", version=PRIVACY_NOTICE_VERSION)
