"""The audit log page for programme staff: who did what, when, and the values before and after."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, StringField
from wtforms.validators import Length, Optional

from models import Role
from webapp.access import roles
from webapp.database import get_db
from webapp.services import audit

bp = Blueprint("audit", __name__, url_prefix="/staff/audit")
PER_PAGE = 50


class AuditSearchForm(FlaskForm):
    """The search form (GET: no CSRF token, nothing changes)."""

    class Meta:
        csrf = False

    action = StringField(_l("Tindakan"), validators=[Optional(), Length(max=60)])
    actor = StringField(_l("E-mail pelaku"), validators=[Optional(), Length(max=254)])
    object_id = StringField(_l("Id objek"), validators=[Optional(), Length(max=64)])
    date_from = DateField(_l("Dari tanggal"), validators=[Optional()])
    date_to = DateField(_l("Sampai tanggal"), validators=[Optional()])


@bp.get("")
@roles(Role.STAFF)
def index():
    """Search the audit log by action, actor e-mail, object id and dates (Jakarta time), newest first."""
    form = AuditSearchForm(formdata=request.args)
    valid = form.validate()
    db = get_db()
    filters = {}
    if valid:
        filters = dict(
            action=form.action.data or None,
            actor_email=form.actor.data or None,
            object_id=form.object_id.data or None,
            date_from=form.date_from.data,
            date_to=form.date_to.data,
        )
    page_no = max(1, request.args.get("page", 1, type=int) or 1)
    result = audit.search(db, **filters, page=page_no, per_page=PER_PAGE)
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template(
        "audit/index.html", form=form, result=result, args=args, actions=audit.actions(db)
    ), (200 if valid else 422)
