"""The mentor's journey: profile, pause and resume, the inbox of requests, and their mentees (sessions, 7 PAS, ending)."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice

from matching import reference
from matching.profiles import DAYS
from models import Mentor, Role, User
from webapp import journey_text as text
from webapp.access import roles
from webapp.database import get_db
from webapp.entrepreneur import (
    EndForm,
    MultiCheckboxField,
    TimeForm,
    _attach,
    _csrf_ok,
    _lang,
    area_choices,
    gender_choices,
    kecamatan_choices,
    language_choices,
    mode_choices,
)
from webapp.form_versions import form_version
from webapp.services import journeys, mentorship, profiles, progress
from webapp.services.errors import InvalidInput, NotFound, ServiceError

bp = Blueprint("mentor", __name__, url_prefix="/mentor")


def _sector_checks():
    return [SelectChoice(t.code, f"{t.code} · {t.name(_lang())}") for t in reference.sectors().values()]


def _stage_checks():
    return [SelectChoice(t.code, t.name(_lang())) for t in reference.stages().values()]


class ProfileForm(TimeForm):
    """The mentor's whole profile on one page (the weekly hours come from ``TimeForm``)."""

    company = StringField(_l("Perusahaan / jabatan (boleh dikosongkan)"))
    sectors = MultiCheckboxField(
        _l("Bidang usaha yang Anda kuasai"), choices=_sector_checks, validate_choice=False
    )
    stages = MultiCheckboxField(
        _l("Tahap usaha yang Anda dampingi"), choices=_stage_checks, validate_choice=False
    )
    expertise = MultiCheckboxField(_l("Keahlian Anda"), choices=area_choices, validate_choice=False)
    kecamatan = SelectField(_l("Kecamatan Anda"), choices=kecamatan_choices, validate_choice=False)
    capacity = StringField(_l("Berapa wirausaha yang bisa Anda dampingi sekaligus?"), default="2")
    languages = MultiCheckboxField(
        _l("Bahasa lain selain Bahasa Indonesia"), choices=language_choices, validate_choice=False
    )
    mode = RadioField(_l("Cara bertemu"), choices=mode_choices, default="either", validate_choice=False)
    gender = RadioField(
        _l("Jenis kelamin (boleh dikosongkan)"),
        choices=lambda: gender_choices(_("Tidak ingin menyebutkan")),
        default="",
        validate_choice=False,
    )
    bio = TextAreaField(_l("Tentang Anda (pengalaman usaha, cara Anda membimbing)"))


class DeclineForm(FlaskForm):
    reason = RadioField(
        _l("Alasan menolak"),
        choices=lambda: [SelectChoice(k, v) for k, v in text.decline_reasons().items()],
        validate_choice=False,
    )
    note = TextAreaField(_l("Pesan untuk wirausaha (boleh dikosongkan)"))


class ProgressForm(FlaskForm):
    step = SelectField(
        _l("Langkah 7 PAS"),
        choices=lambda: [
            SelectChoice(t.code, f"{t.code} · {t.name_id.capitalize()}")
            for t in reference.pas_steps().values()
        ],
        validate_choice=False,
    )
    achieved_on = StringField(_l("Tanggal tercapai"))
    note = StringField(_l("Catatan (boleh dikosongkan)"))


def _user(db) -> User:
    return db.get(User, current_user.id)


def _mentor_or_none(db) -> Mentor | None:
    return profiles.mentor_of(db, _user(db))


def _require_mentor(db) -> Mentor:
    mentor = _mentor_or_none(db)
    if mentor is None:
        abort(404)
    return mentor


# --- profile, pause ---------------------------------------------------------------------------------


@bp.route("/profile", methods=["GET", "POST"])
@roles(Role.MENTOR)
def profile():
    """The mentor's profile: what they know, whom they take, how many, when; plus pause and resume."""
    db = get_db()
    user = _user(db)
    mentor = profiles.mentor_of(db, user)
    form = ProfileForm()
    if request.method == "GET" and mentor is not None:
        form.company.data = mentor.company or ""
        form.sectors.data = list(mentor.sectors or [])
        form.stages.data = list(mentor.stages or [])
        form.expertise.data = list(mentor.expertise or [])
        form.kecamatan.data = mentor.kecamatan_code
        form.capacity.data = str(mentor.capacity)
        form.languages.data = [x for x in mentor.languages or [] if x != "id"]
        form.mode.data = mentor.mode
        form.gender.data = mentor.gender or ""
        form.bio.data = mentor.bio or ""
        for day, hours in profiles.availability_days(mentor.availability).items():
            getattr(form, f"from_{day}").data = str(hours[0]) if hours else ""
            getattr(form, f"to_{day}").data = str(hours[1]) if hours else ""
    status = 200
    if request.method == "POST":
        _csrf_ok(form)
        data = {
            name: f.data
            for name, f in form._fields.items()
            if name != "csrf_token" and not name.startswith(("from_", "to_"))
        }
        data["availability"] = profiles.availability_from_days(
            {d: (getattr(form, f"from_{d}").data, getattr(form, f"to_{d}").data) for d in DAYS}
        )
        try:
            profiles.save_mentor_profile(db, user, data)
        except InvalidInput as exc:
            db.rollback()
            _attach(form, exc.errors)
            status = 422
        else:
            db.commit()
            flash(_("Profil mentor tersimpan."), "success")
            return redirect(url_for("main.dashboard"))
    return render_template(
        "mentor/profile.html", form=form, mentor=mentor, days=DAYS, ref=reference, text=text
    ), status


@bp.post("/pause")
@roles(Role.MENTOR)
def pause():
    """Stop receiving requests and suggestions for a while."""
    return _set_paused(True)


@bp.post("/resume")
@roles(Role.MENTOR)
def resume():
    """Receive requests again (also after an automatic pause)."""
    return _set_paused(False)


def _set_paused(paused: bool):
    db = get_db()
    mentor = _require_mentor(db)
    _csrf_ok(FlaskForm())
    try:
        mentorship.set_paused(db, mentor, paused, actor_id=current_user.id)
    except ServiceError as exc:  # consent withdrawn: resuming waits for consent given again
        db.rollback()
        flash(text.service_message(exc, mentor=True), "error")
        return redirect(url_for("account.personal_data_page"))
    db.commit()
    flash(
        _("Profil dijeda: Anda tidak menerima permintaan baru.")
        if paused
        else _("Selamat datang kembali! Anda menerima permintaan lagi."),
        "success",
    )
    return redirect(
        url_for("mentor.inbox") if request.form.get("back") == "inbox" else url_for("main.dashboard")
    )


# --- inbox --------------------------------------------------------------------------------------------


@bp.get("/requests")
@roles(Role.MENTOR)
def inbox():
    """Requests waiting for the mentor's answer, each with the entrepreneur's profile and the reasons."""
    db = get_db()
    mentor = _mentor_or_none(db)
    if mentor is None:
        flash(_("Lengkapi profil mentor Anda dulu."), "info")
        return redirect(url_for("mentor.profile"))
    home = journeys.mentor_home(db, _user(db))
    return render_template(
        "mentor/inbox.html",
        home=home,
        form=DeclineForm(),
        waited=journeys.waited,
        ref=reference,
        text=text,
    )


@bp.post("/requests/<int:request_id>/accept")
@roles(Role.MENTOR)
def accept(request_id: int):
    """Accept a request: the mentorship starts and the entrepreneur's other requests close."""
    db = get_db()
    mentor = _require_mentor(db)
    _csrf_ok(FlaskForm())
    try:
        match = mentorship.accept_request(
            db, mentor, request_id, actor_id=current_user.id, version=form_version()
        )
    except NotFound:
        db.rollback()
        abort(404)
    except ServiceError as exc:
        db.rollback()
        flash(text.service_message(exc, mentor=True), "error")
        return redirect(url_for("mentor.inbox"))
    db.commit()
    flash(
        _(
            "Anda sekarang mendampingi %(name)s. Hubungi untuk pertemuan pertama.",
            name=match.entrepreneur.name,
        ),
        "success",
    )
    return redirect(url_for("mentor.mentee", match_id=match.id))


@bp.post("/requests/<int:request_id>/decline")
@roles(Role.MENTOR)
def decline(request_id: int):
    """Decline a request with a reason from the list and an optional note."""
    db = get_db()
    mentor = _require_mentor(db)
    form = DeclineForm()
    _csrf_ok(form)
    try:
        mentorship.decline_request(
            db,
            mentor,
            request_id,
            reason=form.reason.data or "",
            note=form.note.data,
            actor_id=current_user.id,
            version=form_version(),
        )
    except NotFound:
        db.rollback()
        abort(404)
    except ServiceError as exc:
        db.rollback()
        flash(text.service_message(exc, mentor=True), "error")
        return redirect(url_for("mentor.inbox"))
    db.commit()
    flash(_("Permintaan ditolak. Terima kasih sudah menjawab."), "success")
    return redirect(url_for("mentor.inbox"))


# --- mentees ------------------------------------------------------------------------------------------


@bp.get("/mentees")
@roles(Role.MENTOR)
def mentees():
    """The mentor's mentees, current first, with a link to each."""
    db = get_db()
    mentor = _mentor_or_none(db)
    if mentor is None:
        return redirect(url_for("mentor.profile"))
    matches = journeys.mentees_of(db, mentor, include_past=True)
    return render_template("mentor/mentees.html", mentor=mentor, matches=matches, ref=reference, text=text)


@bp.get("/mentees/<int:match_id>")
@roles(Role.MENTOR)
def mentee(match_id: int):
    """One mentee: profile, contact, sessions, 7 PAS (record a step), and ending the mentorship."""
    db = get_db()
    mentor = _require_mentor(db)
    try:
        page = journeys.mentee_page(db, _user(db), mentor, match_id)
    except NotFound:
        abort(404)
    return _mentee_page(page, ProgressForm(achieved_on=_today().isoformat()), EndForm())


def _mentee_page(page, progress_form, end_form, status=200):
    return render_template(
        "mentor/mentee.html",
        page=page,
        progress_form=progress_form,
        end_form=end_form,
        me=_user(get_db()),
        ref=reference,
        text=text,
    ), status


def _today() -> dt.date:
    return dt.datetime.now(progress.JAKARTA).date()


@bp.post("/mentees/<int:match_id>/progress")
@roles(Role.MENTOR)
def record_progress(match_id: int):
    """Record a 7 PAS step the mentee has reached."""
    db = get_db()
    mentor = _require_mentor(db)
    user = _user(db)
    try:
        page = journeys.mentee_page(db, user, mentor, match_id)
    except NotFound:
        abort(404)
    form = ProgressForm()
    _csrf_ok(form)
    try:
        achieved = dt.date.fromisoformat(form.achieved_on.data) if form.achieved_on.data else None
    except ValueError:
        form.achieved_on.errors = [_("Tanggal tidak valid.")]
        return _mentee_page(page, form, EndForm(), 422)
    try:
        progress.record_step(
            db, page.match.entrepreneur, form.step.data or "", achieved, user, form.note.data
        )
    except NotFound:
        db.rollback()
        abort(404)
    except InvalidInput as exc:
        db.rollback()
        _attach(form, exc.errors)
        return _mentee_page(page, form, EndForm(), 422)
    db.commit()
    flash(_("Langkah %(step)s tercatat.", step=form.step.data), "success")
    return redirect(url_for("mentor.mentee", match_id=match_id) + "#progress")


@bp.post("/mentees/<int:match_id>/end")
@roles(Role.MENTOR)
def end(match_id: int):
    """End a mentorship with a reason; the place becomes free."""
    db = get_db()
    mentor = _require_mentor(db)
    form = EndForm()
    _csrf_ok(form)
    try:
        mentorship.end_match(
            db,
            match_id,
            reason=form.reason.data or "",
            note=form.note.data,
            actor_id=current_user.id,
            mentor_id=mentor.id,
        )
    except NotFound:
        db.rollback()
        abort(404)
    except ServiceError as exc:
        db.rollback()
        flash(text.service_message(exc, mentor=True), "error")
        return redirect(url_for("mentor.mentee", match_id=match_id))
    db.commit()
    flash(_("Pendampingan telah diakhiri. Satu tempat Anda kosong lagi."), "success")
    return redirect(url_for("mentor.mentees"))
