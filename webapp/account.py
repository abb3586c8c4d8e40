"""A person's own data (UU 27/2022): see what is held, download it as JSON, delete the account."""

from __future__ import annotations

import json
import logging
import math

from flask import Blueprint, Response, abort, flash, redirect, render_template, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from models import Role, User
from webapp.access import login_required, roles
from webapp.database import get_db
from webapp.extensions import limiter
from webapp.services import accounts, personal_data

bp = Blueprint("account", __name__)
log = logging.getLogger(__name__)

#: The word a person types to confirm that they mean to delete their account.
CONFIRM_WORD = "HAPUS"
#: Staff and admin accounts are closed by an admin, not by self-service.
SELF_SERVICE_ROLES = (Role.ENTREPRENEUR, Role.MENTOR)


class DeleteAccountForm(FlaskForm):
    password = PasswordField(
        _l("Kata sandi sekarang"), validators=[DataRequired(), Length(max=accounts.MAX_PASSWORD_LENGTH)]
    )
    confirm = StringField(_l("Ketik HAPUS untuk memastikan"), validators=[DataRequired(), Length(max=20)])


def _me() -> User:
    return get_db().get(User, current_user.id)


def _page(form: DeleteAccountForm, status: int = 200):
    user = _me()
    data = personal_data.export_personal_data(get_db(), user)
    counts = {key: len(value) for key, value in data.items() if isinstance(value, list)}
    return (
        render_template(
            "account/data.html",
            form=form,
            data=data,
            counts=counts,
            can_delete=user.role in SELF_SERVICE_ROLES,
            confirm_word=CONFIRM_WORD,
        ),
        status,
    )


@bp.get("/me/data")
@login_required
def personal_data_page():
    """What JakMentor holds about the person, the download, and the delete form."""
    return _page(DeleteAccountForm())


@bp.get("/me/data.json")
@login_required
def personal_data_download():
    """Everything held about the person as a JSON file (only ever their own)."""
    db = get_db()
    user = _me()
    data = personal_data.download_personal_data(db, user)
    db.commit()
    body = json.dumps(data, ensure_ascii=False, indent=2, sort_keys=False)
    return Response(
        body,
        mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="jakmentor-data-{user.id}.json"'},
    )


@bp.post("/me/delete")
@roles(Role.ENTREPRENEUR, Role.MENTOR)  # staff and admin accounts are closed by an admin, not by themselves
@limiter.limit("10 per hour", key_func=lambda: f"delete-account:{current_user.id}")
def delete_account():
    """Delete (anonymise) the person's own account after the password and the typed word."""
    user = _me()
    if user.role not in SELF_SERVICE_ROLES:
        abort(403)
    form = DeleteAccountForm()
    if not form.validate_on_submit():
        return _page(form, 422)
    if form.confirm.data.strip().upper() != CONFIRM_WORD:
        form.confirm.errors = [_("Ketik %(word)s untuk memastikan.", word=CONFIRM_WORD)]
        return _page(form, 422)
    db = get_db()
    try:
        confirmed = accounts.confirm_password(db, user, form.password.data)
    except accounts.LoginThrottled as exc:
        db.rollback()
        minutes = max(1, math.ceil(exc.retry_after / 60))
        form.password.errors = [
            _("Terlalu banyak percobaan yang gagal. Coba lagi dalam %(n)d menit.", n=minutes)
        ]
        page, _status = _page(form)
        return page, 429, {"Retry-After": str(exc.retry_after)}
    if not confirmed:
        db.commit()  # the failed attempt counts towards the account's login floor
        form.password.errors = [_("Kata sandi sekarang salah.")]
        return _page(form, 422)
    personal_data.delete_account(db, user)
    db.commit()
    logout_user()
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    flash(_("Akun Anda telah dihapus. Data pribadi Anda sudah dianonimkan."), "success")
    return redirect(url_for("main.home"))
