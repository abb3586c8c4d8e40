"""Retraining the match model from the programme's own history, kept only when it is not worse."""

from __future__ import annotations

import datetime as dt
import logging
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from sqlalchemy import select
from sqlalchemy.orm import Session

from matching.scoring import MatchScorer, fit_from_history, history_training_set, load_model, save_model
from models import Entrepreneur, Mentor
from webapp.services import audit
from webapp.services.adapters import to_entrepreneurs, to_mentors
from webapp.services.mentorship import matching_history

log = logging.getLogger(__name__)

CURRENT = "current.joblib"
#: Tolerance of the comparison: a new model this much below the current one still counts as not worse.
AUC_TOLERANCE = 1e-9


@dataclass(frozen=True)
class TrainingResult:
    """What a training run did: the metrics, whether the new model was saved, and where."""

    saved: bool
    reason: str
    rows: int
    new_auc: float | None
    current_auc: float | None
    current_source: str
    metadata: dict = field(default_factory=dict)
    path: Path | None = None
    previous_path: Path | None = None


def read_current(model_dir: Path) -> MatchScorer | None:
    """The saved current model, or None when there is none or it cannot be read."""
    path = Path(model_dir) / CURRENT
    if not path.exists():
        return None
    try:
        return load_model(path)
    except Exception:  # noqa: BLE001 - an unreadable model is replaced as if absent
        log.exception("cannot read the current match model %s", path)
        return None


def _heldout(entrepreneurs, mentors, history, *, test_size: float, random_state: int):
    """The held-out part of the history, split exactly as ``fit_from_history`` splits it."""
    X, y = history_training_set(entrepreneurs, mentors, history)
    if len(y) < 2 or len(np.unique(y)) < 2 or min(np.bincount(y)) < 4:
        return None
    _X_tr, X_te, _y_tr, y_te = train_test_split(
        X, y, test_size=test_size, random_state=random_state, stratify=y
    )
    if len(np.unique(y_te)) < 2:
        return None
    return X_te, y_te


def train_model(
    db: Session,
    *,
    model_dir: Path,
    staff_id: int | None = None,
    test_size: float = 0.25,
    random_state: int = 0,
) -> TrainingResult:
    """Learn a scorer from the programme's history; save it as ``current.joblib`` only if not worse.

    The new model's held-out AUC (trained on three quarters of the history, measured on the rest)
    is compared with the current model's AUC on the same held-out rows (the prior weights' when no
    model is saved). The current model may have seen some of those rows, which favours keeping it:
    a retrained model replaces it only when it is at least as good. The replaced file is kept as
    ``previous-<UTC timestamp>.joblib``. An AuditLog row records the metrics either way.
    """
    model_dir = Path(model_dir)
    entrepreneurs = to_entrepreneurs(db.scalars(select(Entrepreneur).order_by(Entrepreneur.id)))
    mentors = to_mentors(db.scalars(select(Mentor).order_by(Mentor.id)))
    history = matching_history(db)
    new = fit_from_history(entrepreneurs, mentors, history, test_size=test_size, random_state=random_state)
    meta = dict(new.metadata_)
    new_auc = meta.get("heldout_auc") if meta.get("source") == "fitted" else meta.get("prior_auc")

    current = read_current(model_dir)
    current_source = "model" if current is not None else "prior"
    current_auc: float | None = None
    if current is None:
        current_auc = meta.get("prior_auc")
    else:
        split = _heldout(entrepreneurs, mentors, history, test_size=test_size, random_state=random_state)
        if split is not None:
            X_te, y_te = split
            current_auc = float(roc_auc_score(y_te, current.decision_function(X_te)))

    if new_auc is None:
        saved, reason = False, meta.get("reason", "too little usable history")
    elif current_auc is not None and new_auc < current_auc - AUC_TOLERANCE:
        saved, reason = False, "new model is worse than the current one on held-out history"
    else:
        saved, reason = True, "new model is not worse than the current one"

    path = previous = None
    if saved:
        new.metadata_ = {
            **meta,
            "compared_with": current_source,
            "current_auc": current_auc,
            "trained_by": staff_id,
        }
        path, previous = _install(new, model_dir)
    result = TrainingResult(
        saved=saved,
        reason=reason,
        rows=int(meta.get("rows", 0)),
        new_auc=new_auc,
        current_auc=current_auc,
        current_source=current_source,
        metadata=dict(new.metadata_),
        path=path,
        previous_path=previous,
    )
    audit.record(
        db,
        actor_id=staff_id,
        action="model.train",
        object_type="match_model",
        object_id=CURRENT,
        before={"source": current_source, "auc": current_auc},
        after={
            "saved": saved,
            "source": meta.get("source"),
            "rows": result.rows,
            "heldout_auc": meta.get("heldout_auc"),
            "prior_auc": meta.get("prior_auc"),
            "new_auc": new_auc,
            "trained_at": meta.get("trained_at"),
            "previous": previous.name if previous else None,
        },
        note=reason,
    )
    db.flush()
    log.info("model training: new AUC %s, current AUC %s, saved %s", new_auc, current_auc, saved)
    return result


def _install(scorer: MatchScorer, model_dir: Path) -> tuple[Path, Path | None]:
    """Write ``scorer`` as the current model, keeping the one it replaces as ``previous-<ts>.joblib``."""
    model_dir.mkdir(parents=True, exist_ok=True)
    current = model_dir / CURRENT
    tmp = model_dir / f".{CURRENT}.{os.getpid()}.tmp"
    save_model(scorer, tmp)
    previous = None
    if current.exists():
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
        previous = model_dir / f"previous-{stamp}.joblib"
        shutil.copy2(current, previous)  # a copy: current.joblib is never missing for readers
    os.replace(tmp, current)
    return current, previous


def previous_models(model_dir: Path) -> list[Path]:
    """The replaced models kept in ``model_dir``, newest first."""
    return sorted(Path(model_dir).glob("previous-*.joblib"), reverse=True)
