"""The scikit-learn estimators of the feature side: :class:`BioText`, :class:`ProfileEncoder` and
:class:`PairFeaturizer` (get_params, clone, pipelines, ``NotFittedError``).

They add the scikit-learn contract to the plain classes that do the work (:class:`matching.text.TextSpace`
and :class:`matching.features.Encoder`), so they compute exactly the same numbers. They are importable
from :mod:`matching.features` as before, which loads this module (and scikit-learn) on first use only.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from matching.features import FEATURES, Encoder, SideBlocks, pair_features
from matching.profiles import Entrepreneur, HistoryRecord, Mentor
from matching.text import TextSpace

__all__ = ["BioText", "PairFeaturizer", "ProfileEncoder"]


class BioText(TextSpace, BaseEstimator, TransformerMixin):
    """Bios as unit vectors in a small LSA space: TF-IDF (Indonesian + English stop words), SVD, L2."""

    def __init__(self, n_components: int = 24, max_fit_docs: int = 3000, random_state: int | None = 0):
        super().__init__(n_components, max_fit_docs, random_state)

    def transform(self, X: Sequence[str]) -> np.ndarray:
        """Unit-length vectors (zero for an empty bio), computed once per distinct text."""
        check_is_fitted(self, "n_components_")
        return super().transform(X)


class ProfileEncoder(Encoder, BaseEstimator, TransformerMixin):
    """Turns entrepreneurs and mentors into the side blocks whose products are the pair features.

    ``fit(people, history=...)`` learns the bio text space and the mentors' history statistics;
    ``encode_entrepreneurs`` and ``encode_mentors`` give the :class:`SideBlocks` of each side.
    """

    def _check_fitted(self) -> None:
        check_is_fitted(self, "text_")

    def transform(self, X: Sequence[Entrepreneur | Mentor]) -> SideBlocks:
        """Side blocks of a list of entrepreneurs or of mentors (not mixed)."""
        return super().transform(X)


class PairFeaturizer(BaseEstimator, TransformerMixin):
    """sklearn transformer: a sequence of (Entrepreneur, Mentor) pairs to the matrix of ``FEATURES``.

    ``fit`` learns the bio text space from the people in the pairs and keeps ``history`` for the
    mentors' acceptance and rating features.
    """

    def __init__(self, history: Sequence[HistoryRecord] = (), n_text_components: int = 24, random_state: int | None = 0):
        self.history = history
        self.n_text_components = n_text_components
        self.random_state = random_state

    def fit(self, X: Sequence[tuple[Entrepreneur, Mentor]], y: object = None) -> PairFeaturizer:
        """Fit the profile encoder on everyone who appears in ``X``."""
        people = [p for pair in X for p in pair]
        self.encoder_ = ProfileEncoder(self.n_text_components, random_state=self.random_state).fit(
            people, history=self.history
        )
        return self

    def transform(self, X: Sequence[tuple[Entrepreneur, Mentor]]) -> np.ndarray:
        """The feature matrix, one row per pair."""
        check_is_fitted(self, "encoder_")
        X = list(X)
        ents = self.encoder_.encode_entrepreneurs([e for e, _ in X])
        ments = self.encoder_.encode_mentors([m for _, m in X])
        idx = np.arange(len(X))
        return pair_features(ents, ments, idx, idx)

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        """The names of the features, in column order."""
        return np.asarray(FEATURES, dtype=object)
