"""Cohort matching for programme staff: run a cohort, then review its draft proposals."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from matching import reference
from models import MatchRequest, Role
from webapp.access import roles
from webapp.database import get_db, intend_to_write, read_only
from webapp.form_versions import form_version, form_versions
from webapp.form_widgets import KeptSelect
from webapp.model_store import current_scorer, model_dir
from webapp.services import access_log, cohorts, consent
from webapp.services.errors import NotFound, ServiceError
from webapp.services.mentorship import REJECT_REASONS, matching_history

bp = Blueprint("cohorts", __name__, url_prefix="/staff/cohorts")
PER_PAGE = 100
#: The unmatched entrepreneurs named on the review page; the rest are only counted.
UNMATCHED_SHOWN = 200
_BACK_KEYS = ("sort", "status", "kecamatan", "page")
STATUSES = ("draft", "pending", "rejected", "accepted", "declined", "expired", "closed", "withdrawn")


def status_label(status: str) -> str:
    """A request status in the reader's language."""
    return {
        "draft": _("draf"),
        "pending": _("menunggu jawaban mentor"),
        "rejected": _("ditolak staf"),
        "accepted": _("diterima"),
        "declined": _("ditolak mentor"),
        "expired": _("kedaluwarsa"),
        "closed": _("ditutup"),
        "withdrawn": _("ditarik"),
    }.get(status, status)


def reject_reason_label(code: str) -> str:
    """A staff rejection reason in the reader's language."""
    return {
        "poor_fit": _("kurang cocok"),
        "known_conflict": _("ada konflik kepentingan"),
        "mentor_unavailable": _("mentor tidak tersedia"),
        "other": _("lainnya"),
    }.get(code, code)


#: Why a draft may have been dropped before review: its person withdrew consent or objected.
DROPPED_REASONS = (consent.WITHDRAWN, consent.OBJECTED)


def dropped_reason_label(code: str | None) -> str | None:
    """Why a draft was dropped before review, in the reader's language (None for other codes)."""
    return {
        consent.WITHDRAWN: _("persetujuan data ditarik"),
        consent.OBJECTED: _("menolak usulan otomatis"),
    }.get(code or "")


def _lang() -> str:
    return str(get_locale() or "id")


def _kota_choices():
    return [SelectChoice("", _l("Semua kota"))] + [
        SelectChoice(k.code, k.name) for k in reference.kota().values()
    ]


def _kecamatan_choices():
    return [SelectChoice("", _l("Semua kecamatan"))] + [
        SelectChoice(k.code, f"{k.name} ({k.city})") for k in reference.kecamatan().values()
    ]


def _sector_choices():
    lang = _lang()
    return [SelectChoice("", _l("Semua bidang usaha"))] + [
        SelectChoice(s.code, f"{s.code} · {s.name(lang)}") for s in reference.sectors().values()
    ]


def _reject_choices():
    return [SelectChoice(code, reject_reason_label(code)) for code in REJECT_REASONS]


class RunForm(FlaskForm):
    kota = SelectField(
        _l("Kota"), choices=_kota_choices, default="", validators=[Optional()], widget=KeptSelect()
    )
    kecamatan = SelectField(
        _l("Kecamatan"), choices=_kecamatan_choices, default="", validators=[Optional()], widget=KeptSelect()
    )
    sector = SelectField(
        _l("Bidang usaha"), choices=_sector_choices, default="", validators=[Optional()], widget=KeptSelect()
    )
    fair = BooleanField(_l("Adil: naikkan dulu skor terendah"))


class ActionForm(FlaskForm):
    """A button that changes data: only the CSRF token."""


class RejectForm(FlaskForm):
    reason = SelectField(_l("Alasan"), choices=_reject_choices, validators=[DataRequired()])
    note = TextAreaField(_l("Catatan"), validators=[Optional(), Length(max=1000)])


class SwapForm(FlaskForm):
    mentor_id = IntegerField(_l("Mentor pengganti"), validators=[DataRequired()])


def _problem_message(exc: ServiceError) -> str:
    status = exc.params.get("status")
    messages = {
        "proposal_not_draft": _(
            "Usulan ini sudah diputuskan sebelumnya (%(status)s).", status=status_label(str(status))
        ),
        "mentor_not_available": _("Mentor ini tidak memenuhi syarat untuk wirausaha ini."),
        "mentor_full": _("Semua tempat mentor ini sudah diusulkan untuk wirausaha lain."),
        "already_requested": _("Wirausaha ini sudah punya permintaan terbuka ke mentor ini."),
        "same_mentor": _("Usulan ini sudah memakai mentor tersebut."),
        "mentor_objected": _("Mentor ini menolak usulan otomatis; wirausaha dapat memintanya langsung."),
        "bad_reason": _("Pilih alasan penolakan dari daftar."),
        "bad_filter": _("Filter tidak dikenal. Pilih dari daftar."),
        "stale_version": _("Data berubah sementara Anda mengisinya. Muat ulang halaman lalu coba lagi."),
    }
    return messages.get(exc.code, _("Perubahan tidak dapat disimpan."))


def _problem(exc: ServiceError, run_id: int | None = None):
    """Roll back and answer a refused change with its status (409 for a conflict) and a way back."""
    get_db().rollback()
    if isinstance(exc, NotFound):
        abort(404)
    back = url_for("cohorts.review", run_id=run_id, **_back_args()) if run_id else url_for("cohorts.index")
    return render_template("cohorts/problem.html", message=_problem_message(exc), back=back), exc.status


def _back_args() -> dict:
    source = request.form if request.method == "POST" else request.args
    return {k: source[k] for k in _BACK_KEYS if source.get(k)}


def _back(run_id: int):
    return redirect(url_for("cohorts.review", run_id=run_id, **_back_args()))


@bp.route("", methods=["GET", "POST"])
@read_only  # the GET (a POST keeps its transaction)
@roles(Role.STAFF)
def index():
    """The cohort runs, newest first, and the form to run a new one."""
    form = RunForm()
    db = get_db()
    if form.validate_on_submit():
        try:
            run = cohorts.run_cohort(
                db,
                staff_id=current_user.id,
                kota=form.kota.data or None,
                kecamatan=form.kecamatan.data or None,
                sector=form.sector.data or None,
                fair=bool(form.fair.data),
                scorer=current_scorer(model_dir()),
            )
        except ServiceError as exc:
            return _problem(exc)
        db.commit()
        flash(
            _(
                "Pencocokan kohort selesai: %(matched)d dari %(total)d wirausaha mendapat usulan mentor.",
                matched=run.report.get("matched", 0),
                total=run.report.get("entrepreneurs", 0),
            ),
            "success",
        )
        return redirect(url_for("cohorts.review", run_id=run.id))
    runs = cohorts.list_runs(db)
    status = 422 if request.method == "POST" else 200
    return render_template(
        "cohorts/index.html", form=form, runs=runs, ref=reference, status_label=status_label
    ), status


def _log_read(db, *, entrepreneurs, mentors) -> None:
    """Record that the current staff member was shown these people (one access-log row; committed here)."""
    access_log.record_read(
        db, actor_id=current_user.id, endpoint=request.endpoint, entrepreneurs=entrepreneurs, mentors=mentors
    )
    db.commit()


@bp.get("/<int:run_id>")
@roles(Role.STAFF)
def review(run_id: int):
    """A run's report and its proposals: sortable, filterable, each with its reasons and actions.

    The people on the page (the proposals' entrepreneurs and mentors, the unmatched entrepreneurs
    named) are recorded in the access log, in one row.
    """
    intend_to_write()
    db = get_db()
    try:
        run = cohorts.get_run(db, run_id)
    except NotFound:
        abort(404)
    sort = request.args.get("sort", "-score")
    sort = sort if sort in cohorts.SORTS else "-score"
    status = request.args.get("status") or None
    status = status if status in STATUSES else None
    kecamatan = request.args.get("kecamatan") or None
    page_no = max(1, request.args.get("page", 1, type=int) or 1)
    page = cohorts.review_page(
        db, run_id, status=status, kecamatan=kecamatan, sort=sort, page=page_no, per_page=PER_PAGE
    )
    args = {"sort": sort, "status": status, "kecamatan": kecamatan, "page": page.page}
    # Every row shows statuses and a reason menu: translate each label once per page, not per row.
    status_labels = {s: status_label(s) for s in STATUSES}
    reason_labels = {code: reject_reason_label(code) for code in REJECT_REASONS}
    dropped_labels = {code: dropped_reason_label(code) for code in DROPPED_REASONS}
    named = ((run.report or {}).get("unmatched") or [])[:UNMATCHED_SHOWN]
    _log_read(
        db,
        entrepreneurs=[r.entrepreneur_id for r in page.rows] + [u["entrepreneur_id"] for u in named],
        mentors=[r.mentor_id for r in page.rows],
    )
    return render_template(
        "cohorts/review.html",
        run=run,
        report=run.report or {},
        page=page,
        args={k: v for k, v in args.items() if v},
        sort=sort,
        status=status,
        kecamatan=kecamatan,
        statuses=STATUSES,
        status_label=lambda s: status_labels.get(s) or status_label(s),
        reject_reason_label=lambda code: reason_labels.get(code) or reject_reason_label(code),
        reject_reasons=REJECT_REASONS,
        dropped_reason_label=lambda code: dropped_labels.get(code or ""),
        lang=_lang(),
        ref=reference,
        action_form=ActionForm(),
        unmatched_shown=UNMATCHED_SHOWN,
    )


@bp.post("/<int:run_id>/approve")
@roles(Role.STAFF)
def approve_many(run_id: int):
    """Approve the ticked drafts (each at the version the page showed), or every draft of the run (``all``).

    ``all`` means the drafts as they are now, on every page of the table, so it checks no version.
    """
    if not ActionForm().validate_on_submit():
        abort(400)
    db = get_db()
    versions = {}
    if request.form.get("all"):
        ids = cohorts.draft_ids(db, run_id)
    else:
        try:
            ids = [int(i) for i in request.form.getlist("ids")]
        except ValueError:
            abort(400)
        versions = form_versions()
    if not ids:
        flash(_("Tidak ada usulan yang dipilih."), "error")
        return _back(run_id)
    try:
        n = cohorts.approve(db, current_user.id, ids, run_id=run_id, versions=versions)
    except ServiceError as exc:
        return _problem(exc, run_id)
    db.commit()
    flash(_("%(n)d usulan disetujui dan dikirim ke mentor.", n=n), "success")
    return _back(run_id)


@bp.post("/<int:run_id>/proposals/<int:request_id>/approve")
@roles(Role.STAFF)
def approve_one(run_id: int, request_id: int):
    """Approve one draft: the mentor is asked now."""
    if not ActionForm().validate_on_submit():
        abort(400)
    db = get_db()
    version = form_version()
    try:
        cohorts.approve(
            db,
            current_user.id,
            [request_id],
            run_id=run_id,
            versions=None if version is None else {request_id: version},
        )
    except ServiceError as exc:
        return _problem(exc, run_id)
    db.commit()
    flash(_("Usulan disetujui dan dikirim ke mentor."), "success")
    return _back(run_id)


@bp.post("/<int:run_id>/proposals/<int:request_id>/reject")
@roles(Role.STAFF)
def reject(run_id: int, request_id: int):
    """Reject one draft with a reason and a note."""
    form = RejectForm()
    if not form.validate_on_submit():
        flash(_("Pilih alasan penolakan dari daftar."), "error")
        return _back(run_id)
    db = get_db()
    try:
        cohorts.reject(
            db,
            current_user.id,
            request_id,
            form.reason.data,
            form.note.data,
            run_id=run_id,
            version=form_version(),
        )
    except ServiceError as exc:
        return _problem(exc, run_id)
    db.commit()
    flash(_("Usulan ditolak."), "success")
    return _back(run_id)


@bp.route("/<int:run_id>/proposals/<int:request_id>/swap", methods=["GET", "POST"])
@roles(Role.STAFF)
def swap(run_id: int, request_id: int):
    """Give one draft another mentor: the page lists the best alternatives with a place left.

    The alternatives are ranked only when staff open this page for one proposal, not for every row
    of the review table (ranking them for a whole page cost about a second of CPU per view).
    """
    db = get_db()
    if request.method == "GET":
        intend_to_write()  # before the first query: the page writes its access-log row
        try:
            run = cohorts.get_run(db, run_id)
        except NotFound:
            abort(404)
        req = db.get(MatchRequest, request_id)
        if req is None or req.cohort_run_id != run_id:
            abort(404)
        options = []
        if req.status == "draft":
            options = cohorts.alternatives(
                db, [req], top=3, scorer=current_scorer(model_dir()), history=matching_history(db)
            ).get(req.id, [])
        _log_read(
            db, entrepreneurs=[req.entrepreneur_id], mentors=[req.mentor_id, *(a.mentor.id for a in options)]
        )
        back = url_for("cohorts.review", run_id=run_id, **_back_args())
        return render_template(
            "cohorts/swap.html", run=run, req=req, options=options, back=back, lang=_lang(), ref=reference,
            args=_back_args(), status_label=status_label,
        )  # fmt: skip
    form = SwapForm()
    if not form.validate_on_submit():
        flash(_("Pilih mentor pengganti dari daftar."), "error")
        return _back(run_id)
    try:
        req = cohorts.swap(
            db,
            current_user.id,
            request_id,
            form.mentor_id.data,
            run_id=run_id,
            scorer=current_scorer(model_dir()),
            version=form_version(),
        )
    except ServiceError as exc:
        return _problem(exc, run_id)
    db.commit()
    flash(_("Mentor usulan diganti dengan %(name)s.", name=req.mentor.name), "success")
    return _back(run_id)
