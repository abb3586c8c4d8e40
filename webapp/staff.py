"""Programme staff: CSV import with a preview, CSV export, and the member lists."""

from __future__ import annotations

import re
import secrets
from pathlib import Path

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from sqlalchemy import func, or_, select
from wtforms import HiddenField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired

from models import Entrepreneur, Mentor, Role
from webapp.access import roles
from webapp.database import get_db, intend_to_write
from webapp.row_messages import row_error_message
from webapp.services import access_log, consent, members_csv, programme
from webapp.services.errors import Conflict, InvalidInput, NotFound

bp = Blueprint("staff", __name__, url_prefix="/staff")
_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
PAGE_SIZE = 50


def _kind_choices():
    return [
        SelectChoice("entrepreneurs", _l("Wirausaha")),
        SelectChoice("mentors", _l("Mentor")),
        SelectChoice("rooms", _l("Ruang pertemuan")),
    ]


class UploadForm(FlaskForm):
    kind = SelectField(_l("Jenis data"), choices=_kind_choices, validators=[DataRequired()])
    file = FileField(_l("Berkas CSV"), validators=[FileRequired()])


class ConfirmForm(FlaskForm):
    kind = HiddenField(validators=[DataRequired()])
    token = HiddenField(validators=[DataRequired()])


def _upload_dir() -> Path:
    path = Path(current_app.instance_path) / "uploads"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _stash(text: str, filename: str) -> str:
    """Keep an uploaded file between its preview and its confirmation; returns a token."""
    token = secrets.token_urlsafe(24)
    (_upload_dir() / f"{current_user.id}-{token}.csv").write_text(text, encoding="utf-8")
    (_upload_dir() / f"{current_user.id}-{token}.name").write_text(filename, encoding="utf-8")
    return token


def _unstash(token: str) -> tuple[str, str] | None:
    if not _TOKEN_RE.match(token or ""):
        return None
    base = _upload_dir() / f"{current_user.id}-{token}"
    csv_path, name_path = base.with_suffix(".csv"), base.with_suffix(".name")
    if not csv_path.exists():
        return None
    return csv_path.read_text(encoding="utf-8"), name_path.read_text(encoding="utf-8")


def _drop_stash(token: str) -> None:
    base = _upload_dir() / f"{current_user.id}-{token}"
    base.with_suffix(".csv").unlink(missing_ok=True)
    base.with_suffix(".name").unlink(missing_ok=True)


def _log_read(db, kind: str, ids: list) -> None:
    """Record that the current staff member was shown these members (rooms are nobody's data)."""
    if kind == "entrepreneurs":
        access_log.record_read(db, actor_id=current_user.id, endpoint=request.endpoint, entrepreneurs=ids)
    elif kind == "mentors":
        access_log.record_read(db, actor_id=current_user.id, endpoint=request.endpoint, mentors=ids)


@bp.route("/import", methods=["GET", "POST"])
@roles(Role.STAFF)
def import_upload():
    """Upload a CSV file; nothing is written until the preview is confirmed."""
    form = UploadForm()
    if form.validate_on_submit():
        raw = form.file.data.read()
        filename = Path(form.file.data.filename or "upload.csv").name
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            form.file.errors = [
                *form.file.errors,
                _("Berkas bukan teks UTF-8. Simpan ulang sebagai CSV UTF-8."),
            ]
            return render_template("staff/import.html", form=form), 422
        db = get_db()
        try:
            plan = members_csv.plan_import(db, form.kind.data, text, filename)
        except InvalidInput as exc:
            db.rollback()
            messages = [(e, row_error_message(e)) for e in exc.errors]
            return render_template(
                "staff/import_errors.html", form=form, filename=filename, errors=messages
            ), 422
        db.rollback()
        token = _stash(text, filename)
        confirm = ConfirmForm(kind=form.kind.data, token=token)
        return render_template("staff/import_preview.html", plan=plan, confirm=confirm)
    return render_template("staff/import.html", form=form), (422 if request.method == "POST" else 200)


@bp.post("/import/confirm")
@roles(Role.STAFF)
def import_confirm():
    """Write a previewed file, all or nothing (validated again: the data may have changed)."""
    form = ConfirmForm()
    if not form.validate_on_submit() or form.kind.data not in members_csv.KINDS:
        abort(400)
    stashed = _unstash(form.token.data)
    if stashed is None:
        flash(_("Pratinjau sudah kedaluwarsa. Unggah berkasnya lagi."), "error")
        return redirect(url_for("staff.import_upload"))
    text, filename = stashed
    db = get_db()
    try:
        counts = members_csv.import_csv(db, form.kind.data, text, filename, actor_id=current_user.id)
    except InvalidInput as exc:
        db.rollback()
        messages = [(e, row_error_message(e)) for e in exc.errors]
        return render_template(
            "staff/import_errors.html", form=UploadForm(), filename=filename, errors=messages
        ), 422
    db.commit()
    _drop_stash(form.token.data)
    flash(
        _(
            "Impor selesai: %(new)d baru, %(updated)d diperbarui, %(unchanged)d tidak berubah.",
            new=counts["new"],
            updated=counts["updated"],
            unchanged=counts["unchanged"],
        ),
        "success",
    )
    return redirect(url_for("staff.import_upload"))


@bp.get("/export/<kind>.csv")
@roles(Role.STAFF)
def export(kind: str):
    """Download every member of a kind as CSV in the import format."""
    if kind not in members_csv.KINDS:
        abort(404)
    intend_to_write()
    db = get_db()
    _log_read(db, kind, access_log.all_ids(db, kind))
    text = members_csv.export_csv(db, kind)
    db.commit()
    return Response(
        text,
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename={kind}.csv"},
    )


@bp.get("/members/<kind>")
@roles(Role.STAFF)
def members(kind: str):
    """Entrepreneurs or mentors, searchable by name, id or kecamatan, a page at a time."""
    model = {"entrepreneurs": Entrepreneur, "mentors": Mentor}.get(kind)
    if model is None:
        abort(404)
    q = (request.args.get("q") or "").strip()[:80]
    page = max(1, request.args.get("page", 1, type=int) or 1)
    intend_to_write()
    stmt = select(model)
    if q:
        like = f"%{q.lower()}%"
        stmt = stmt.where(
            or_(
                func.lower(model.name).like(like),
                func.lower(model.external_id).like(like),
                model.kecamatan_code == q,
            )
        )
    db = get_db()
    total = db.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = list(db.scalars(stmt.order_by(model.external_id).limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)))
    pages = max(1, (total + PAGE_SIZE - 1) // PAGE_SIZE)
    responses = programme.mentor_response_stats(db, [r.id for r in rows]) if kind == "mentors" else {}
    _log_read(db, kind, [r.id for r in rows])
    db.commit()
    return render_template(
        "staff/members.html",
        kind=kind,
        rows=rows,
        responses=responses,
        q=q,
        page=page,
        pages=pages,
        total=total,
    )


@bp.route("/members/<kind>/<member_id>/edit", methods=["GET", "POST"])
@roles(Role.STAFF)
def member_edit(kind: str, member_id: str):
    """Correct one member's (or room's) fields; validated as an imported row, recorded in the audit log."""
    if kind not in members_csv.KINDS:
        abort(404)
    intend_to_write()
    db = get_db()
    try:
        row = members_csv.member_row(db, kind, member_id)
    except NotFound:
        abort(404)
    if request.method == "GET":
        _log_read(db, kind, [members_csv.member_pk(db, kind, member_id)])
        db.commit()
    errors: dict[str, str] = {}
    if request.method == "POST":
        values = {c: request.form.get(c, row[c]) for c in row if c != "id"}
        try:
            members_csv.update_member(db, kind, member_id, values, actor_id=current_user.id)
        except InvalidInput as exc:
            db.rollback()
            errors = {e.column: row_error_message(e) for e in exc.errors}
            row = {**row, **values}
            return render_template(
                "staff/member_edit.html",
                kind=kind,
                row=row,
                errors=errors,
                objection=_objection(db, kind, member_id),
            ), 422
        db.commit()
        flash(_("Perubahan disimpan."), "success")
        return redirect(url_for("staff.member_edit", kind=kind, member_id=member_id))
    return render_template(
        "staff/member_edit.html", kind=kind, row=row, errors=errors, objection=_objection(db, kind, member_id)
    )


def _objection(db, kind: str, member_id: str) -> dict | None:
    """What the member page shows of the objection to automated proposals (None for rooms)."""
    if kind == "rooms":
        return None
    profile = members_csv.member_profile(db, kind, member_id)
    user = profile.user
    return {
        "has_account": user is not None,
        "at": user.automated_proposals_objected_at if user else profile.automated_proposals_objected_at,
    }


@bp.post("/members/<kind>/<member_id>/objection")
@roles(Role.STAFF)
def member_objection(kind: str, member_id: str):
    """Record, for a member without an account, the objection to automated proposals they made
    outside the app (``objects=1``), or its withdrawal (``objects=0``); audited."""
    objects = request.form.get("objects")
    if kind == "rooms" or objects not in ("0", "1"):
        abort(400)
    db = get_db()
    try:
        profile = members_csv.member_profile(db, kind, member_id)
    except NotFound:
        abort(404)
    try:
        dropped = consent.record_member_objection(db, current_user.id, profile, objects == "1")
    except Conflict:
        db.rollback()
        flash(_("Anggota ini punya akun: ia mencatat atau mencabut keberatannya sendiri."), "error")
        return redirect(url_for("staff.member_edit", kind=kind, member_id=member_id), 303)
    db.commit()
    if objects == "1":
        flash(
            _(
                "Keberatan dicatat: pencocokan kelompok tidak mengusulkan anggota ini lagi (%(n)d usulan "
                "yang belum ditinjau dibatalkan).",
                n=dropped,
            ),
            "success",
        )
    else:
        flash(
            _("Pencabutan keberatan dicatat: pencocokan kelompok berikutnya dapat mengusulkannya lagi."),
            "success",
        )
    return redirect(url_for("staff.member_edit", kind=kind, member_id=member_id), 303)
