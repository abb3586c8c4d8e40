"""A person's own data (UU 27/2022): see what is held, download it as JSON, withdraw or give consent,
object to automated proposals (or withdraw the objection), delete the account."""

from __future__ import annotations

import json
import logging
import math

from flask import Blueprint, Response, abort, flash, redirect, render_template, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, logout_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, StringField
from wtforms.validators import DataRequired, Length

from models import Role, User
from webapp.access import login_required, roles
from webapp.config import PRIVACY_NOTICE_VERSION
from webapp.database import get_db
from webapp.extensions import limiter
from webapp.services import accounts, consent, personal_data

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


class WithdrawConsentForm(FlaskForm):
    password = PasswordField(
        _l("Kata sandi sekarang"), validators=[DataRequired(), Length(max=accounts.MAX_PASSWORD_LENGTH)]
    )


class GiveConsentForm(FlaskForm):
    consent = BooleanField(
        _l("Saya telah membaca pemberitahuan privasi dan setuju data saya diproses untuk pencocokan mentor."),
        validators=[DataRequired()],
    )


class ObjectionForm(FlaskForm):
    """The objection to automated proposals, or its withdrawal: a button (only the CSRF token)."""


def _me() -> User:
    return get_db().get(User, current_user.id)


def _page(
    form: DeleteAccountForm | None = None,
    status: int = 200,
    *,
    withdraw_form: WithdrawConsentForm | None = None,
    consent_form: GiveConsentForm | None = None,
):
    user = _me()
    data = personal_data.export_personal_data(get_db(), user)
    counts = {key: len(value) for key, value in data.items() if isinstance(value, list)}
    return (
        render_template(
            "account/data.html",
            form=form or DeleteAccountForm(formdata=None),
            withdraw_form=withdraw_form or WithdrawConsentForm(formdata=None, prefix="withdraw"),
            consent_form=consent_form or GiveConsentForm(formdata=None, prefix="consent"),
            objection_form=ObjectionForm(formdata=None, prefix="objection"),
            objected_at=user.automated_proposals_objected_at,
            is_mentor=user.role is Role.MENTOR,
            data=data,
            counts=counts,
            can_delete=user.role in SELF_SERVICE_ROLES,
            withdrawn=user.consent_withdrawn_at is not None,
            confirm_word=CONFIRM_WORD,
        ),
        status,
    )


def _check_password(user: User, form: FlaskForm, render):
    """The re-authentication a sensitive change asks for: None when the password is right, else the
    page to answer with (the failed attempt is committed: it counts towards the login floor)."""
    db = get_db()
    try:
        confirmed = accounts.confirm_password(db, user, form.password.data)
    except accounts.LoginThrottled as exc:
        db.rollback()
        minutes = max(1, math.ceil(exc.retry_after / 60))
        form.password.errors = [
            _("Terlalu banyak percobaan yang gagal. Coba lagi dalam %(n)d menit.", n=minutes)
        ]
        page, _status = render(200)
        return page, 429, {"Retry-After": str(exc.retry_after)}
    if not confirmed:
        db.commit()
        form.password.errors = [_("Kata sandi sekarang salah.")]
        return render(422)
    return None


@bp.get("/me/data")
@login_required
def personal_data_page():
    """What JakMentor holds about the person, the download, and the delete form."""
    return _page()


@bp.post("/me/consent/withdraw")
@roles(*SELF_SERVICE_ROLES)
@limiter.limit("10 per hour", key_func=lambda: f"withdraw-consent:{current_user.id}")
def withdraw_consent():
    """Withdraw consent to processing for matching, after the password (UU PDP)."""
    user = _me()
    form = WithdrawConsentForm(prefix="withdraw")

    def render(status: int):
        return _page(status=status, withdraw_form=form)

    if not form.validate_on_submit():
        return render(422)
    refused = _check_password(user, form, render)
    if refused is not None:
        return refused
    db = get_db()
    consent.withdraw_consent(db, user)
    db.commit()
    flash(
        _(
            "Persetujuan Anda telah ditarik. Anda tidak lagi ikut pencocokan dan penjadwalan sesi. "
            "Anda dapat memberikan persetujuan lagi kapan saja di halaman ini."
        ),
        "success",
    )
    return redirect(url_for("account.personal_data_page"))


@bp.post("/me/consent/give")
@roles(*SELF_SERVICE_ROLES)
def give_consent():
    """Give consent to the current privacy notice (again, or for the first time on a staff-made account)."""
    user = _me()
    form = GiveConsentForm(prefix="consent")
    if not form.validate_on_submit():
        if not form.consent.data:
            form.consent.errors = [_("Centang persetujuan untuk melanjutkan.")]
        return _page(status=422, consent_form=form)
    db = get_db()
    consent.give_consent(db, user, notice_version=PRIVACY_NOTICE_VERSION)
    db.commit()
    flash(_("Terima kasih. Persetujuan Anda tercatat; Anda ikut pencocokan lagi."), "success")
    return redirect(url_for("account.personal_data_page"))


@bp.post("/me/automated-proposals/object")
@roles(*SELF_SERVICE_ROLES)
def object_to_automated_proposals():
    """Object to automated (cohort) proposals without withdrawing consent (UU PDP Pasal 10)."""
    if not ObjectionForm(prefix="objection").validate_on_submit():
        abort(400)
    db = get_db()
    consent.object_to_automated_proposals(db, _me())
    db.commit()
    flash(
        _(
            "Keberatan Anda tercatat: Anda tidak lagi diikutkan dalam usulan otomatis pencocokan kelompok. "
            "Anda dapat mengizinkannya lagi kapan saja di halaman ini."
        ),
        "success",
    )
    return redirect(url_for("account.personal_data_page"))


@bp.post("/me/automated-proposals/allow")
@roles(*SELF_SERVICE_ROLES)
def allow_automated_proposals():
    """Withdraw the objection: the next cohort run may propose the person again."""
    if not ObjectionForm(prefix="objection").validate_on_submit():
        abort(400)
    db = get_db()
    consent.allow_automated_proposals(db, _me())
    db.commit()
    flash(_("Usulan otomatis diizinkan lagi: Anda ikut pencocokan kelompok berikutnya."), "success")
    return redirect(url_for("account.personal_data_page"))


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
    refused = _check_password(user, form, lambda status: _page(form, status))
    if refused is not None:
        return refused
    db = get_db()
    personal_data.delete_account(db, user)
    db.commit()
    logout_user()
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    flash(_("Akun Anda telah dihapus. Data pribadi Anda sudah dianonimkan."), "success")
    return redirect(url_for("main.home"))
