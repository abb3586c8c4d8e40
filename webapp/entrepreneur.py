"""The entrepreneur's journey: the business-profile wizard, "Mentor untuk saya", requests, the mentorship, 7 PAS.

Also the contact settings (phone and sharing it) that entrepreneurs and mentors both use.
"""

from __future__ import annotations

import math

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import (
    BooleanField,
    PasswordField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TelField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.widgets import CheckboxInput, ListWidget

from matching import reference
from matching.explain import summary
from matching.profiles import DAYS
from models import Entrepreneur, Role, User
from webapp import journey_text as text
from webapp.access import roles
from webapp.database import get_db, read_only
from webapp.form_versions import form_version
from webapp.services import accounts, consent, journeys, mentorship, profiles
from webapp.services.errors import InvalidInput, NotFound, ServiceError
from webapp.suggestion_cache import kept_cards, mentor_pools

bp = Blueprint("entrepreneur", __name__, url_prefix="/me")

STEP_TITLES = {
    "business": _l("Usaha Anda"),
    "kelurahan": _l("Kelurahan"),
    "needs": _l("Kebutuhan dan cara bertemu"),
    "time": _l("Waktu luang"),
    "about": _l("Tentang Anda"),
}


class MultiCheckboxField(SelectMultipleField):
    """Checkboxes for a multiple choice (phone-friendly, no JavaScript)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _lang() -> str:
    from webapp import select_locale

    return "en" if select_locale() == "en" else "id"


def sector_choices():
    lang = _lang()
    return [SelectChoice("", _("Pilih bidang usaha"))] + [
        SelectChoice(t.code, f"{t.code} · {t.name(lang)}") for t in reference.sectors().values()
    ]


def stage_choices():
    lang = _lang()
    return [
        SelectChoice(t.code, f"{t.name(lang)}: {_stage_hint(t.code)}") for t in reference.stages().values()
    ]


def _stage_hint(code: str) -> str:
    return {
        "idea": _("punya ide, belum berjualan"),
        "early": _("berjualan kurang dari sekitar 2 tahun"),
        "growth": _("penjualan stabil, mulai punya karyawan"),
        "established": _("beberapa tahun berjalan, mencari pasar atau modal baru"),
    }.get(code, "")


def kecamatan_choices():
    rows = sorted(reference.kecamatan().values(), key=lambda k: (k.city, k.name))
    return [SelectChoice("", _("Pilih kecamatan"))] + [
        SelectChoice(k.code, f"{k.name} ({k.city})") for k in rows
    ]


def area_choices():
    lang = _lang()
    return [SelectChoice(t.code, t.name(lang)) for t in reference.support_areas().values()]


def language_choices():
    names = text.languages()
    return [SelectChoice(code, names[code]) for code in profiles.OTHER_LANGUAGES]


def mode_choices():
    return [SelectChoice(k, v) for k, v in text.modes().items()]


def gender_choices(blank):
    return [SelectChoice("", blank)] + [SelectChoice(k, v) for k, v in text.genders().items()]


def hour_choices():
    return [SelectChoice("", "--")] + [SelectChoice(str(h), f"{h:02d}.00") for h in range(6, 23)]


class BusinessForm(FlaskForm):
    business_name = StringField(_l("Nama usaha"))
    sector = SelectField(_l("Bidang usaha (kategori KBLI)"), choices=sector_choices, validate_choice=False)
    kbli = StringField(_l("Kode KBLI (boleh dikosongkan)"))
    stage = RadioField(_l("Tahap usaha"), choices=stage_choices, validate_choice=False)
    kecamatan = SelectField(_l("Kecamatan tempat usaha"), choices=kecamatan_choices, validate_choice=False)


class KelurahanForm(FlaskForm):
    kelurahan = SelectField(_l("Kelurahan"), choices=[], validate_choice=False)


class NeedsForm(FlaskForm):
    needs = MultiCheckboxField(
        _l("Bantuan yang Anda butuhkan (pilih satu atau lebih)"), choices=area_choices, validate_choice=False
    )
    languages = MultiCheckboxField(
        _l("Bahasa lain yang Anda kuasai (Bahasa Indonesia sudah termasuk)"),
        choices=language_choices,
        validate_choice=False,
    )
    mode = RadioField(
        _l("Cara bertemu mentor"), choices=mode_choices, default="either", validate_choice=False
    )


class TimeForm(FlaskForm):
    """Per-day from/to hours; built with one pair of fields per day below."""


for _day in DAYS:
    setattr(TimeForm, f"from_{_day}", SelectField(_l("Mulai"), choices=hour_choices, validate_choice=False))
    setattr(TimeForm, f"to_{_day}", SelectField(_l("Selesai"), choices=hour_choices, validate_choice=False))


class AboutForm(FlaskForm):
    gender = RadioField(
        _l("Jenis kelamin Anda (boleh dikosongkan)"),
        choices=lambda: gender_choices(_("Tidak ingin menyebutkan")),
        default="",
        validate_choice=False,
    )
    prefers_mentor_gender = RadioField(
        _l("Mentor yang Anda inginkan"),
        choices=lambda: gender_choices(_("Laki-laki atau perempuan sama saja")),
        default="",
        validate_choice=False,
    )
    bio = TextAreaField(_l("Ceritakan usaha Anda dan bantuan yang Anda cari"))


STEP_FORMS = {
    "business": BusinessForm,
    "kelurahan": KelurahanForm,
    "needs": NeedsForm,
    "time": TimeForm,
    "about": AboutForm,
}


class RequestForm(FlaskForm):
    message = TextAreaField(_l("Pesan singkat untuk mentor (boleh dikosongkan)"))


class EndForm(FlaskForm):
    reason = SelectField(
        _l("Alasan"),
        choices=lambda: [SelectChoice(k, v) for k, v in text.end_reasons().items()],
        validate_choice=False,
    )
    rating = RadioField(
        _l("Nilai pendampingan ini (boleh dikosongkan)"),
        choices=lambda: (
            [SelectChoice("", _("Tanpa nilai"))] + [SelectChoice(str(n), "★" * n) for n in range(1, 6)]
        ),
        default="",
        validate_choice=False,
    )
    note = TextAreaField(_l("Catatan (boleh dikosongkan)"))


class ContactForm(FlaskForm):
    phone = TelField(_l("Nomor HP (WhatsApp)"))
    share_phone = BooleanField(
        _l(
            "Tampilkan nomor saya kepada mentor/wirausaha pasangan saya (hanya jika mereka juga membagikan nomornya)"
        )
    )
    # Checked by the service, and only when the number changes (a fresh authentication, SESS-3).
    password = PasswordField(_l("Kata sandi sekarang"))


# --- helpers --------------------------------------------------------------------------------------


def _user(db) -> User:
    return db.get(User, current_user.id)


def _profile(db) -> Entrepreneur | None:
    return profiles.entrepreneur_of(db, _user(db))


def _csrf_ok(form: FlaskForm) -> None:
    """Forms here are validated by the services; WTForms checks only the CSRF token."""
    if request.method == "POST" and not form.validate():
        abort(400)


def _attach(form: FlaskForm, errors) -> None:
    """Put each service error on its form field (errors without a field go to ``form.page_errors``)."""
    form.page_errors = []
    for err in errors:
        target = form._fields.get(err.field)
        if target is not None:
            target.errors = [*target.errors, text.field_error(err)]
        else:
            form.page_errors.append(text.field_error(err))


def _prefill(form: FlaskForm, step: str, row: Entrepreneur | None) -> None:
    if row is None or request.method == "POST":
        return
    if step == "business":
        form.business_name.data = row.business_name or ""
        form.sector.data = row.sector_code
        form.kbli.data = row.kbli or ""
        form.stage.data = row.stage_code
        form.kecamatan.data = row.kecamatan_code
    elif step == "kelurahan":
        form.kelurahan.data = row.kelurahan_code or ""
    elif step == "needs":
        form.needs.data = list(row.needs or [])
        form.languages.data = [x for x in row.languages or [] if x != "id"]
        form.mode.data = row.mode
    elif step == "time":
        for day, hours in profiles.availability_days(row.availability).items():
            getattr(form, f"from_{day}").data = str(hours[0]) if hours else ""
            getattr(form, f"to_{day}").data = str(hours[1]) if hours else ""
    elif step == "about":
        form.gender.data = row.gender or ""
        form.prefers_mentor_gender.data = row.prefers_mentor_gender or ""
        form.bio.data = row.bio or ""


def _step_data(form: FlaskForm, step: str) -> dict:
    if step == "time":
        return {
            "availability": profiles.availability_from_days(
                {d: (getattr(form, f"from_{d}").data, getattr(form, f"to_{d}").data) for d in DAYS}
            )
        }
    return {name: f.data for name, f in form._fields.items() if name != "csrf_token"}


# --- profile ----------------------------------------------------------------------------------------


@bp.get("/business")
@roles(Role.ENTREPRENEUR)
def business():
    """The entrepreneur's page: their business profile, mentorship, requests and 7 PAS progress."""
    db = get_db()
    home = journeys.entrepreneur_home(db, _user(db))
    if home.profile is None:
        return redirect(url_for("entrepreneur.wizard", step="business"))
    return render_template("entrepreneur/business.html", home=home, ref=reference, text=text)


@bp.route("/business/<step>", methods=["GET", "POST"])
@roles(Role.ENTREPRENEUR)
def wizard(step: str):
    """One step of the profile wizard; each step saves, so the profile can be finished later."""
    if step not in profiles.ENTREPRENEUR_STEPS:
        abort(404)
    db = get_db()
    user = _user(db)
    row = profiles.entrepreneur_of(db, user)
    if row is None and step != "business":
        return redirect(url_for("entrepreneur.wizard", step="business"))
    form = STEP_FORMS[step]()
    if step == "kelurahan":
        form.kelurahan.choices = [SelectChoice("", _("Pilih kelurahan"))] + [
            SelectChoice(k.code, k.name)
            for k in sorted(reference.kelurahan().values(), key=lambda k: k.name)
            if k.kecamatan_code == row.kecamatan_code
        ]
    _prefill(form, step, row)
    status = 200
    if request.method == "POST":
        _csrf_ok(form)
        editing = row is not None and row.profile_complete
        try:
            saved = profiles.save_entrepreneur_profile(db, user, _step_data(form, step), step=step)
        except InvalidInput as exc:
            db.rollback()
            earlier = [e for e in exc.errors if e.field not in _step_fields(step)]
            if exc.code == "incomplete" and earlier:
                flash(_("Lengkapi langkah ini dulu."), "error")
                return redirect(url_for("entrepreneur.wizard", step=profiles.next_entrepreneur_step(row)))
            _attach(form, exc.errors)
            status = 422
        else:
            db.commit()
            if editing:
                flash(_("Profil usaha tersimpan."), "success")
                return redirect(url_for("entrepreneur.business"))
            if saved.profile_complete:
                flash(_("Profil usaha lengkap. Ini mentor yang cocok untuk Anda."), "success")
                return redirect(url_for("entrepreneur.suggestions"))
            steps = list(profiles.ENTREPRENEUR_STEPS)
            return redirect(url_for("entrepreneur.wizard", step=steps[steps.index(step) + 1]))
    steps = list(profiles.ENTREPRENEUR_STEPS)
    return render_template(
        "entrepreneur/wizard.html",
        form=form,
        step=step,
        number=steps.index(step) + 1,
        total=len(steps),
        steps=steps,
        titles=STEP_TITLES,
        row=row,
        ref=reference,
        text=text,
        days=DAYS,
    ), status


def _step_fields(step: str) -> set[str]:
    return set(profiles.ENTREPRENEUR_STEPS[step])


# --- suggestions and requests -----------------------------------------------------------------------


def _complete_profile_or_redirect(db):
    withdrawn = _withdrawn_redirect()
    if withdrawn:
        return None, withdrawn
    row = _profile(db)
    if row is None or not row.profile_complete:
        return None, _to_the_wizard(row)
    return row, None


def _withdrawn_redirect():
    """Where someone who withdrew consent goes instead of a matching page (UU PDP), else None."""
    if consent.has_withdrawn(current_user.user):
        flash(text.service_message(consent.ConsentWithdrawn()), "info")
        return redirect(url_for("account.personal_data_page"))
    return None


def _to_the_wizard(row: Entrepreneur | None):
    flash(_("Lengkapi profil usaha Anda dulu agar kami dapat mencarikan mentor."), "info")
    return redirect(url_for("entrepreneur.wizard", step=profiles.next_entrepreneur_step(row)))


@bp.get("/mentors")
@read_only
@roles(Role.ENTREPRENEUR)
def suggestions():
    """The "Mentor untuk saya" page: mentors ranked for this entrepreneur, with the reasons."""
    online_only = request.args.get("online") == "1"
    same_kota = request.args.get("kota") == "1"
    withdrawn = _withdrawn_redirect()
    if withdrawn:
        return withdrawn
    db = get_db()
    row, page = journeys.my_suggestions_page(
        db, _user(db), online_only=online_only, same_kota=same_kota, pools=mentor_pools()
    )
    if page is None:
        return _to_the_wizard(row)
    return render_template(
        "entrepreneur/suggestions.html",
        page=page,
        mentor_cards=_mentor_cards(page),
        online_only=online_only,
        same_kota=same_kota,
        profile=row,
        ref=reference,
    )


def _mentor_cards(page: journeys.SuggestionsPage) -> Markup:
    """The mentor cards of the suggestions page, rendered once per ranking, language and card facts.

    Most of the busiest page's rendering: someone who comes back to their suggestions (from a
    mentor's profile, after asking one) gets the cards made for the same ranking, unless something
    they show changed (``card_facts``: places, acceptance, asked or not, the mentor's own details).
    The store lives with the ranking (``Ranked.rendered``) and holds one set of cards per
    language; only the rankings shown last keep theirs (``KeptCards``).
    """
    if not page.suggestions:
        return Markup("")
    lang, facts = _lang(), page.card_facts()
    kept = page.rendered.get(lang)
    if kept is None or kept[0] != facts:
        cards = Markup(  # nosec B704 # the output of an autoescaped template (every value in it was escaped)
            render_template(
                "entrepreneur/_mentor_cards.html", page=page, summary=summary, ref=reference, text=text
            )
        )
        kept = page.rendered[lang] = (facts, cards)
    kept_cards().shown(page.rendered)
    return kept[1]


@bp.get("/mentors/<int:mentor_id>")
@read_only
@roles(Role.ENTREPRENEUR)
def mentor_profile(mentor_id: int):
    """A mentor's public profile (no contact details), every reason, and the request form."""
    db = get_db()
    row, redirect_to = _complete_profile_or_redirect(db)
    if redirect_to:
        return redirect_to
    try:
        page = journeys.mentor_profile_page(db, row, mentor_id, pools=mentor_pools())
    except NotFound:
        abort(404)
    return render_template(
        "entrepreneur/mentor.html", page=page, form=RequestForm(), ref=reference, text=text
    )


@bp.post("/mentors/<int:mentor_id>/request")
@roles(Role.ENTREPRENEUR)
def request_mentor(mentor_id: int):
    """Send a request (with an optional message) to a mentor."""
    db = get_db()
    row, redirect_to = _complete_profile_or_redirect(db)
    if redirect_to:
        return redirect_to
    form = RequestForm()
    _csrf_ok(form)
    try:
        req = mentorship.request_mentor(
            db, row, mentor_id, message=form.message.data, actor_id=current_user.id, pools=mentor_pools()
        )
    except NotFound:
        db.rollback()
        abort(404)
    except ServiceError as exc:
        db.rollback()
        flash(text.service_message(exc), "error")
        return redirect(url_for("entrepreneur.mentor_profile", mentor_id=mentor_id))
    db.commit()
    flash(
        _("Permintaan terkirim ke %(name)s. Mentor biasanya menjawab dalam 7 hari.", name=req.mentor.name),
        "success",
    )
    return redirect(url_for("entrepreneur.requests"))


@bp.get("/requests")
@roles(Role.ENTREPRENEUR)
def requests():
    """The entrepreneur's requests: status and how long each has waited."""
    db = get_db()
    home = journeys.entrepreneur_home(db, _user(db))
    if home.profile is None:
        return redirect(url_for("entrepreneur.wizard", step="business"))
    return render_template(
        "entrepreneur/requests.html",
        home=home,
        limit=mentorship.MAX_OPEN_REQUESTS,
        waited=journeys.waited,
        ref=reference,
        text=text,
    )


@bp.post("/requests/<int:request_id>/withdraw")
@roles(Role.ENTREPRENEUR)
def withdraw(request_id: int):
    """Take a pending request back."""
    db = get_db()
    row = _profile(db)
    if row is None:
        abort(404)
    _csrf_ok(FlaskForm())
    try:
        mentorship.withdraw_request(db, row, request_id, actor_id=current_user.id, version=form_version())
    except NotFound:
        db.rollback()
        abort(404)
    except ServiceError as exc:
        db.rollback()
        flash(text.service_message(exc), "error")
        return redirect(url_for("entrepreneur.requests"))
    db.commit()
    flash(_("Permintaan ditarik."), "success")
    return redirect(url_for("entrepreneur.requests"))


# --- the mentorship ---------------------------------------------------------------------------------


@bp.get("/mentorship")
@roles(Role.ENTREPRENEUR)
def mentorship_page():
    """The current mentorship: the mentor's contact, the sessions, 7 PAS, and ending it."""
    db = get_db()
    row = _profile(db)
    if row is None:
        return redirect(url_for("entrepreneur.wizard", step="business"))
    page = journeys.entrepreneur_match_page(db, _user(db), row)
    return render_template(
        "entrepreneur/mentorship.html", page=page, form=EndForm(), me=_user(db), ref=reference, text=text
    )


@bp.post("/mentorship/<int:match_id>/end")
@roles(Role.ENTREPRENEUR)
def end(match_id: int):
    """End the mentorship with a reason and an optional rating; then look for a new mentor."""
    db = get_db()
    row = _profile(db)
    if row is None:
        abort(404)
    form = EndForm()
    _csrf_ok(form)
    rating = int(form.rating.data) if (form.rating.data or "").isdigit() else None
    try:
        mentorship.end_match(
            db,
            match_id,
            reason=form.reason.data or "",
            note=form.note.data,
            rating=rating,
            actor_id=current_user.id,
            entrepreneur_id=row.id,
        )
    except NotFound:
        db.rollback()
        abort(404)
    except ServiceError as exc:
        db.rollback()
        flash(text.service_message(exc), "error")
        return redirect(url_for("entrepreneur.mentorship_page"))
    db.commit()
    flash(_("Pendampingan telah diakhiri. Terima kasih! Anda dapat meminta mentor baru."), "success")
    return redirect(url_for("entrepreneur.suggestions"))


# --- contact settings (entrepreneurs and mentors) -----------------------------------------------------


@bp.route("/contact", methods=["GET", "POST"])
@roles(Role.ENTREPRENEUR, Role.MENTOR)
def contact():
    """One's phone number and whether a matched partner may see it (and chat on WhatsApp)."""
    db = get_db()
    user = _user(db)
    form = ContactForm()
    if request.method == "GET":
        form.phone.data = user.phone or ""
        form.share_phone.data = user.share_phone
    status, headers = 200, {}
    if request.method == "POST":
        _csrf_ok(form)
        try:
            profiles.save_contact_settings(
                db, user, form.phone.data, bool(form.share_phone.data), password=form.password.data
            )
        except accounts.LoginThrottled as exc:
            db.rollback()
            minutes = max(1, math.ceil(exc.retry_after / 60))
            form.password.errors = [
                _("Terlalu banyak percobaan yang gagal. Coba lagi dalam %(n)d menit.", n=minutes)
            ]
            status, headers = 429, {"Retry-After": str(exc.retry_after)}
        except InvalidInput as exc:
            if exc.code == "wrong_password":
                db.commit()  # only the failed attempt, which counts towards the account's login floor
            else:
                db.rollback()
            _attach(form, exc.errors)
            status = 422
        else:
            db.commit()
            flash(_("Kontak tersimpan."), "success")
            return redirect(url_for("main.dashboard"))
    return render_template("entrepreneur/contact.html", form=form), status, headers
