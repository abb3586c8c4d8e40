"""The match scorer: a linear model over the pair features, with prior weights and learning from history.

The score of a pair is ``coef_ @ features + intercept_``, the log-odds that the proposal is accepted
and goes well. Linear on purpose: scoring a whole city is one matrix product, and every score
decomposes exactly into one contribution per feature (see :mod:`matching.explain`).

Prior weights (``PRIOR_WEIGHTS``) are set by hand so that rankings are sensible with no history:
what the entrepreneur needs and the sector weigh most, then stage fit, place and time, then the
mentor's own record (smoothed so that a new mentor scores as an average one).
"""

from __future__ import annotations

import datetime as dt
import logging
import platform
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.multiclass import type_of_target, unique_labels
from sklearn.utils.validation import check_is_fitted, validate_data

from matching.estimators import ProfileEncoder
from matching.features import FEATURES, mentor_history_stats, pair_features, smoothed_history
from matching.priors import PRIOR_INTERCEPT, PRIOR_WEIGHTS
from matching.profiles import Entrepreneur, HistoryRecord, Mentor

logger = logging.getLogger(__name__)

__all__ = [
    "MODEL_FORMAT", "PRIOR_INTERCEPT", "PRIOR_WEIGHTS", "MatchScorer", "fit_from_history", "history_training_set",
    "library_versions", "load_model", "outcome_label", "save_model",
]  # fmt: skip

MODEL_FORMAT = 1


def outcome_label(record: HistoryRecord) -> int:
    """1 for a proposal that went well (accepted, or completed with a rating of 3 or more), else 0."""
    if record.outcome == "declined":
        return 0
    if record.outcome == "completed" and record.rating is not None and record.rating <= 2:
        return 0
    return 1


class MatchScorer(ClassifierMixin, BaseEstimator):
    """Linear scorer of pair features: prior weights, or weights learned by logistic regression.

    Parameters
    ----------
    C : float
        Inverse L2 regularisation strength of the logistic regression.
    max_iter : int
        Iterations of the solver.

    Use :meth:`from_priors` for the hand-set weights, :meth:`fit` on a feature matrix (columns
    ``FEATURES``) and labels, or :func:`fit_from_history` on profiles and history.
    """

    def __init__(self, C: float = 1.0, max_iter: int = 500):
        self.C = C
        self.max_iter = max_iter

    def __sklearn_tags__(self):  # noqa: D105 - scikit-learn protocol
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        return tags

    @classmethod
    def from_priors(cls) -> MatchScorer:
        """A scorer already set to the documented prior weights (no history needed)."""
        scorer = cls()
        scorer.coef_ = np.array([PRIOR_WEIGHTS[f] for f in FEATURES], dtype=np.float64)
        scorer.intercept_ = float(PRIOR_INTERCEPT)
        scorer.classes_ = np.array([0, 1])
        scorer.n_features_in_ = len(FEATURES)
        scorer.metadata_ = {"source": "prior", "rows": 0}
        return scorer

    def fit(self, X: Any, y: Any) -> MatchScorer:
        """Learn the weights from pair features ``X`` and binary outcomes ``y``; returns ``self``."""
        X, y = validate_data(self, X, y, dtype=np.float64)
        y_type = type_of_target(y, input_name="y", raise_unknown=True)
        if y_type != "binary":
            raise ValueError(f"Only binary classification is supported. The type of the target is {y_type}.")
        self.classes_ = unique_labels(y)
        if len(self.classes_) != 2:
            raise ValueError(f"MatchScorer needs two outcome classes, got one class ({self.classes_})")
        from sklearn.linear_model import LogisticRegression  # imported when learning

        model = LogisticRegression(C=self.C, max_iter=self.max_iter)
        model.fit(X, y)
        self.n_iter_ = model.n_iter_
        self.coef_ = model.coef_[0].astype(np.float64)
        self.intercept_ = float(model.intercept_[0])
        self.metadata_ = {"source": "fitted", "rows": int(len(y))}
        return self

    def decision_function(self, X: Any) -> np.ndarray:
        """The score of every row: ``X @ coef_ + intercept_`` (higher is better)."""
        check_is_fitted(self, "coef_")
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return X @ self.coef_ + self.intercept_

    def contributions(self, X: Any) -> np.ndarray:
        """Each feature's part of each score: ``X * coef_`` (rows sum to score minus intercept)."""
        check_is_fitted(self, "coef_")
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return X * self.coef_

    def predict_proba(self, X: Any) -> np.ndarray:
        """Probability of each class (the second is a good outcome)."""
        p = 1.0 / (1.0 + np.exp(-self.decision_function(X)))
        return np.column_stack([1.0 - p, p])

    def predict(self, X: Any) -> np.ndarray:
        """The more likely class of every row."""
        check_is_fitted(self, "coef_")
        return self.classes_[(self.decision_function(X) > 0).astype(int)]

    @property
    def weights(self) -> dict[str, float]:
        """The weights by feature name (when the scorer has ``len(FEATURES)`` inputs)."""
        check_is_fitted(self, "coef_")
        return dict(zip(FEATURES, (float(w) for w in self.coef_), strict=True))


def history_training_set(
    entrepreneurs: Sequence[Entrepreneur],
    mentors: Sequence[Mentor],
    history: Sequence[HistoryRecord],
    encoder: ProfileEncoder | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Features and labels of the history rows whose two people are known.

    The mentor's history features leave the row itself out, so that a row never predicts itself.
    """
    ents_by_id = {e.id: i for i, e in enumerate(entrepreneurs)}
    ments_by_id = {m.id: j for j, m in enumerate(mentors)}
    rows = [h for h in history if h.entrepreneur_id in ents_by_id and h.mentor_id in ments_by_id]
    if not rows:
        return np.zeros((0, len(FEATURES))), np.zeros(0, dtype=int)
    if encoder is None:
        encoder = ProfileEncoder().fit([*entrepreneurs, *mentors], history=history)
    ents = encoder.encode_entrepreneurs(entrepreneurs)
    ments = encoder.encode_mentors(mentors, history=())
    ei = np.array([ents_by_id[h.entrepreneur_id] for h in rows])
    mj = np.array([ments_by_id[h.mentor_id] for h in rows])
    X = pair_features(ents, ments, ei, mj)
    acc, n, rsum, rn = mentor_history_stats([m.id for m in mentors], history)
    own_acc = np.array([h.outcome != "declined" for h in rows], dtype=float)
    own_r = np.array([h.rating or 0 for h in rows], dtype=float)
    own_rn = np.array([h.rating is not None for h in rows], dtype=float)
    loo = smoothed_history(acc[mj] - own_acc, n[mj] - 1, rsum[mj] - own_r, rn[mj] - own_rn, encoder.priors_)
    X[:, FEATURES.index("mentor_acceptance")] = loo[0]
    X[:, FEATURES.index("mentor_rating")] = loo[1]
    y = np.array([outcome_label(h) for h in rows], dtype=int)
    return X, y


def fit_from_history(
    entrepreneurs: Sequence[Entrepreneur],
    mentors: Sequence[Mentor],
    history: Iterable[HistoryRecord],
    *,
    C: float = 1.0,
    test_size: float = 0.25,
    random_state: int = 0,
    min_rows: int = 30,
) -> MatchScorer:
    """A scorer learned from ``history``, kept only if it beats the priors on held-out history.

    The history rows whose entrepreneur and mentor are both known are split (stratified) into a
    training and a held-out part; the learned model is adopted when its held-out AUC is higher than
    that of the prior weights, and then refitted on all rows. Otherwise the priors are returned.
    ``metadata_`` records trained_at, rows, heldout_auc, prior_auc and which one was adopted.
    """
    from sklearn.metrics import roc_auc_score  # imported when learning
    from sklearn.model_selection import train_test_split

    history = list(history)
    X, y = history_training_set(entrepreneurs, mentors, history)
    prior = MatchScorer.from_priors()
    meta: dict[str, Any] = {
        "trained_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "rows": int(len(y)),
        "heldout_auc": None,
        "prior_auc": None,
        "versions": library_versions(),
        "features": list(FEATURES),
    }
    if len(y) < min_rows or len(np.unique(y)) < 2 or min(np.bincount(y)) < 4:
        logger.info("history has %d usable rows: keeping the prior weights", len(y))
        prior.metadata_ = {**meta, "source": "prior", "reason": "too little usable history"}
        return prior
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=test_size, random_state=random_state, stratify=y)
    if len(np.unique(y_tr)) < 2 or len(np.unique(y_te)) < 2:
        prior.metadata_ = {**meta, "source": "prior", "reason": "split lacks a class"}
        return prior
    learned = MatchScorer(C=C).fit(X_tr, y_tr)
    prior_auc = float(roc_auc_score(y_te, prior.decision_function(X_te)))
    learned_auc = float(roc_auc_score(y_te, learned.decision_function(X_te)))
    meta.update(prior_auc=prior_auc, heldout_auc=learned_auc, heldout_rows=int(len(y_te)))
    logger.info("held-out AUC: priors %.3f, learned %.3f (%d rows)", prior_auc, learned_auc, len(y_te))
    if learned_auc <= prior_auc:
        prior.metadata_ = {**meta, "source": "prior", "reason": "learned model did not beat the priors"}
        return prior
    final = MatchScorer(C=C).fit(X, y)
    final.metadata_ = {**meta, "source": "fitted"}
    return final


def library_versions() -> dict[str, str]:
    """Versions of the libraries a saved model depends on."""
    import joblib
    import scipy
    import sklearn

    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "scikit-learn": sklearn.__version__,
        "joblib": joblib.__version__,
        "model_format": str(MODEL_FORMAT),
    }


def save_model(scorer: MatchScorer, path: str | Path) -> None:
    """Save a fitted scorer with its metadata (trained_at, rows, heldout_auc, prior_auc, versions)."""
    import joblib

    check_is_fitted(scorer, "coef_")
    meta = dict(getattr(scorer, "metadata_", {}))
    meta.setdefault("trained_at", dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))
    meta.setdefault("rows", 0)
    meta.setdefault("heldout_auc", None)
    meta.setdefault("prior_auc", None)
    meta["versions"] = library_versions()
    meta["features"] = list(FEATURES)
    joblib.dump({"format": MODEL_FORMAT, "scorer": scorer, "metadata": meta}, Path(path))


def load_model(path: str | Path) -> MatchScorer:
    """Load a scorer saved by :func:`save_model`; its ``metadata_`` holds the saved metadata."""
    import joblib

    payload = joblib.load(Path(path))
    if not isinstance(payload, dict) or payload.get("format") != MODEL_FORMAT:
        raise ValueError(f"{path} is not a JakMentor match model (format {MODEL_FORMAT})")
    meta = payload["metadata"]
    if meta.get("features") != list(FEATURES):
        raise ValueError(f"{path} was trained on features {meta.get('features')}, not {list(FEATURES)}")
    saved, now = meta.get("versions", {}), library_versions()
    if saved.get("scikit-learn") != now["scikit-learn"]:
        logger.warning("model %s saved with scikit-learn %s, running %s", path, saved.get("scikit-learn"), now["scikit-learn"])
    scorer: MatchScorer = payload["scorer"]
    scorer.metadata_ = meta
    return scorer
