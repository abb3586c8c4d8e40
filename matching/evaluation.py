"""Ranking-quality measures (NDCG@k, AUC) and synthetic worlds whose outcomes follow a known rule.

``known_rule_history`` draws earlier proposals whose acceptance follows a hidden logistic rule over
the pair features, unlike the prior weights (distance and stage matter more, sector less), so that
a learned scorer can be checked to recover it: better held-out AUC and NDCG@10 than the priors.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.metrics import roc_auc_score

from matching.features import FEATURES, ProfileEncoder, pair_features
from matching.profiles import Entrepreneur, HistoryRecord, Mentor

#: The hidden rule of the synthetic worlds (log-odds per unit of feature).
KNOWN_RULE: dict[str, float] = {
    "sector": 0.4,
    "stage_fit": 2.0,
    "stage_gap": -3.0,
    "needs_covered": 1.5,
    "proximity": 3.0,
    "languages_extra": 1.0,
    "time_match": 1.5,
    "bio_similarity": 0.0,
    "mentor_acceptance": 0.0,
    "mentor_rating": 0.0,
}
KNOWN_INTERCEPT = -3.0


def ndcg_at_k(relevance_in_ranked_order: Sequence[float], k: int = 10, ideal: Sequence[float] | None = None) -> float:
    """NDCG@k of one ranked list; ``ideal`` is the full set of relevances (defaults to the list)."""
    rel = np.asarray(relevance_in_ranked_order, dtype=float)[:k]
    best = np.sort(np.asarray(ideal if ideal is not None else relevance_in_ranked_order, dtype=float))[::-1][:k]
    disc = 1.0 / np.log2(np.arange(2, k + 2))
    idcg = float((best * disc[: len(best)]).sum())
    return float((rel * disc[: len(rel)]).sum() / idcg) if idcg > 0 else 0.0


def mean_ndcg(scores: np.ndarray, relevance: np.ndarray, k: int = 10) -> float:
    """Mean NDCG@k over rows: each row ranks its columns by ``scores``, judged by ``relevance``."""
    order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    ranked = np.take_along_axis(relevance, order, axis=1)
    ideal = -np.sort(-relevance, axis=1)[:, :k]
    disc = 1.0 / np.log2(np.arange(2, ranked.shape[1] + 2))
    dcg = (ranked * disc).sum(axis=1)
    idcg = (ideal * disc).sum(axis=1)
    ok = idcg > 0
    return float((dcg[ok] / idcg[ok]).mean()) if ok.any() else 0.0


def auc(y_true: Sequence[int], scores: Sequence[float]) -> float:
    """Area under the ROC curve (0.5 when only one class is present)."""
    y = np.asarray(y_true)
    return float(roc_auc_score(y, scores)) if len(np.unique(y)) == 2 else 0.5


def known_rule_logits(features: np.ndarray) -> np.ndarray:
    """The hidden rule's log-odds for a feature matrix (columns ``FEATURES``)."""
    w = np.array([KNOWN_RULE[f] for f in FEATURES])
    return features @ w + KNOWN_INTERCEPT


@dataclass
class KnownWorld:
    """People, history drawn from the known rule, and the encoded sides for judging rankings."""

    entrepreneurs: list[Entrepreneur]
    mentors: list[Mentor]
    history: list[HistoryRecord]


def known_rule_history(
    entrepreneurs: Sequence[Entrepreneur], mentors: Sequence[Mentor], n: int, *, seed: int = 0
) -> list[HistoryRecord]:
    """``n`` earlier proposals between random people, accepted with the known rule's probability."""
    rng = np.random.default_rng(seed)
    enc = ProfileEncoder().fit([*entrepreneurs, *mentors])
    ents = enc.encode_entrepreneurs(entrepreneurs)
    ments = enc.encode_mentors(mentors, history=())
    ei = rng.integers(0, len(entrepreneurs), n)
    mj = rng.integers(0, len(mentors), n)
    p = 1.0 / (1.0 + np.exp(-known_rule_logits(pair_features(ents, ments, ei, mj))))
    good = rng.random(n) < p
    out = []
    for i, j, g in zip(ei.tolist(), mj.tolist(), good.tolist(), strict=True):
        if g:
            rating = int(rng.integers(3, 6))
            out.append(HistoryRecord(entrepreneurs[i].id, mentors[j].id, "completed", rating))
        else:
            out.append(HistoryRecord(entrepreneurs[i].id, mentors[j].id, "declined"))
    return out


def known_rule_relevance(
    entrepreneurs: Sequence[Entrepreneur], mentors: Sequence[Mentor]
) -> np.ndarray:
    """The known rule's acceptance probability of every (entrepreneur, mentor) pair, as a matrix."""
    enc = ProfileEncoder().fit([*entrepreneurs, *mentors])
    ents = enc.encode_entrepreneurs(entrepreneurs)
    ments = enc.encode_mentors(mentors, history=())
    ei, mj = np.meshgrid(np.arange(len(entrepreneurs)), np.arange(len(mentors)), indexing="ij")
    f = pair_features(ents, ments, ei.ravel(), mj.ravel())
    return (1.0 / (1.0 + np.exp(-known_rule_logits(f)))).reshape(len(entrepreneurs), len(mentors))


def score_matrix(scorer_coef: np.ndarray, intercept: float, entrepreneurs: Sequence[Entrepreneur], mentors: Sequence[Mentor]) -> np.ndarray:
    """A linear scorer's scores of every pair (history features neutral), as a matrix."""
    enc = ProfileEncoder().fit([*entrepreneurs, *mentors])
    ents = enc.encode_entrepreneurs(entrepreneurs)
    ments = enc.encode_mentors(mentors, history=())
    ei, mj = np.meshgrid(np.arange(len(entrepreneurs)), np.arange(len(mentors)), indexing="ij")
    f = pair_features(ents, ments, ei.ravel(), mj.ravel())
    return (f @ np.asarray(scorer_coef) + intercept).reshape(len(entrepreneurs), len(mentors))
