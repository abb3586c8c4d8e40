"""The prior weights of the match scorer, and a scorer that holds them without scikit-learn.

``python -m matching rank`` and ``assign`` without ``--history`` score with the priors only; they take
:func:`prior_scorer`, which has the attributes the ranking reads from a fitted
:class:`matching.scoring.MatchScorer` (``coef_``, ``intercept_``, ``classes_``, ``metadata_``) and
its arithmetic, so the scikit-learn estimator (and its ~1 s import) stays off the batch path.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from matching.features import FEATURES

#: Hand-set weights of the features (log-odds per unit of feature), used when nothing is learned.
PRIOR_WEIGHTS: dict[str, float] = {
    "sector": 1.5,
    "stage_fit": 0.8,
    "stage_gap": -1.2,
    "needs_covered": 2.0,
    "proximity": 1.0,
    "languages_extra": 0.3,
    "time_match": 0.6,
    "bio_similarity": 0.4,
    "mentor_acceptance": 2.0,
    "mentor_rating": 1.5,
}
PRIOR_INTERCEPT = -2.5


class PriorScorer:
    """The prior weights as a fitted linear scorer (the arithmetic of ``MatchScorer.from_priors()``)."""

    def __init__(self) -> None:
        self.coef_ = np.array([PRIOR_WEIGHTS[f] for f in FEATURES], dtype=np.float64)
        self.intercept_ = float(PRIOR_INTERCEPT)
        self.classes_ = np.array([0, 1])
        self.n_features_in_ = len(FEATURES)
        self.metadata_: dict[str, Any] = {"source": "prior", "rows": 0}

    def decision_function(self, X: Any) -> np.ndarray:
        """The score of every row: ``X @ coef_ + intercept_``."""
        return np.asarray(X, dtype=np.float64) @ self.coef_ + self.intercept_

    def contributions(self, X: Any) -> np.ndarray:
        """Each feature's part of each score: ``X * coef_``."""
        return np.asarray(X, dtype=np.float64) * self.coef_

    @property
    def weights(self) -> dict[str, float]:
        """The weights by feature name."""
        return dict(zip(FEATURES, (float(w) for w in self.coef_), strict=True))


def prior_scorer() -> PriorScorer:
    """A scorer set to the documented prior weights."""
    return PriorScorer()
