"""The match model for programme staff: what is in use, and retraining it (page and ``flask model``)."""

from __future__ import annotations

import datetime as dt
import sys

import click
from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask.cli import AppGroup
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select

from models import AuditLog, Role
from webapp.access import roles
from webapp.database import get_db
from webapp.model_store import current_scorer, model_dir
from webapp.services import model_training

bp = Blueprint("model", __name__, url_prefix="/staff/model")
model_cli = AppGroup("model", help="The match model: show it, retrain it from the programme's history.")


class TrainForm(FlaskForm):
    """The retrain button: only the CSRF token."""


def _parse_time(value: str | None) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(value) if value else None
    except ValueError:
        return None


@bp.get("")
@roles(Role.STAFF)
def index():
    """The model in use (trained at, rows, held-out AUC before and after) and the latest trainings."""
    scorer = current_scorer(model_dir())
    meta = dict(getattr(scorer, "metadata_", None) or {}) if scorer is not None else None
    trainings = list(
        get_db().scalars(
            select(AuditLog).where(AuditLog.action == "model.train").order_by(AuditLog.at.desc()).limit(10)
        )
    )
    return render_template(
        "model/index.html",
        meta=meta,
        trained_at=_parse_time(meta.get("trained_at")) if meta else None,
        previous=model_training.previous_models(model_dir()),
        trainings=trainings,
        form=TrainForm(),
    )


@bp.post("/train")
@roles(Role.STAFF)
def train():
    """Retrain from the programme's history; the new model replaces the current one only if not worse."""
    if not TrainForm().validate_on_submit():
        abort(400)
    db = get_db()
    result = model_training.train_model(db, model_dir=model_dir(), staff_id=current_user.id)
    db.commit()
    if result.saved:
        flash(_("Model baru dilatih dan dipakai."), "success")
    elif result.new_auc is None:
        flash(_("Riwayat belum cukup untuk melatih model; model yang ada tetap dipakai."), "error")
    else:
        flash(_("Model baru tidak lebih baik; model yang ada tetap dipakai."), "error")
    return redirect(url_for("model.index"))


def _fmt(value) -> str:
    return "-" if value is None else f"{value:.3f}"


@model_cli.command("train")
def train_command() -> None:
    """Retrain the match model from the database's history; keep it only if not worse than the current one."""
    db = get_db()
    result = model_training.train_model(db, model_dir=model_dir())
    db.commit()
    click.echo(
        f"history rows {result.rows}: new model held-out AUC {_fmt(result.new_auc)}, "
        f"current ({result.current_source}) {_fmt(result.current_auc)}"
    )
    if result.saved:
        click.echo(
            f"saved {result.path}"
            + (f" (previous kept as {result.previous_path.name})" if result.previous_path else "")
        )
    else:
        click.echo(f"not saved: {result.reason}")
        sys.exit(0 if result.new_auc is not None else 3)


@model_cli.command("show")
def show_command() -> None:
    """Print the metadata of the model in use."""
    scorer = current_scorer(model_dir())
    if scorer is None:
        click.echo(f"no saved model in {model_dir()}: the prior weights are in use")
        return
    meta = scorer.metadata_
    for key in ("source", "trained_at", "rows", "heldout_rows", "heldout_auc", "prior_auc", "current_auc"):
        click.echo(f"{key}: {meta.get(key)}")
