"""Pair features of the matching model, built so that every linear score is one matrix product.

Each pair feature ``k`` is the dot product of an entrepreneur-side block ``E_k[i]`` and a
mentor-side block ``M_k[j]``; a weighted sum of features is therefore ``(E * w) @ M.T`` over the
concatenated blocks, which keeps city-scale scoring a dense GEMM and every explanation exact.

Features (all in about [0, 1]; ``stage_gap`` in [0, 1] as a penalty):

``sector``             1 for the same KBLI section, 0.5 for a related one (food service I and food
                       manufacturing C), else 0
``stage_fit``          1 when the entrepreneur's stage is among those the mentor takes
``stage_gap``          steps from the entrepreneur's stage to the nearest stage the mentor takes, / 3
``needs_covered``      share of the entrepreneur's needs that the mentor's expertise covers
``proximity``          exp(-km / 8) between kecamatan centroids, times a mode weight (1 when both
                       meet in person only, falling to 0.04 when both meet online only)
``languages_extra``    number of shared languages beyond Indonesian
``time_match``         cosine of the two weekly availabilities over 35 day-part bins
``bio_similarity``     cosine of the two bios in a TF-IDF (Indonesian and English stop words) + LSA space
``mentor_acceptance``  the mentor's smoothed acceptance rate minus the programme's (0 for a new mentor)
``mentor_rating``      the mentor's smoothed mean rating minus the programme's, / 4 (0 for a new mentor)
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from operator import attrgetter
from typing import TYPE_CHECKING

import numpy as np

from matching import reference
from matching.profiles import STAGES, Entrepreneur, HistoryRecord, Mentor, Window, effective_availability
from matching.text import INDONESIAN_STOP_WORDS, STOP_WORDS, TextSpace

if TYPE_CHECKING:  # the scikit-learn estimators live in matching.estimators, loaded on first use
    from matching.estimators import BioText, PairFeaturizer, ProfileEncoder

__all__ = [  # noqa: RUF022 - grouped by topic
    "FEATURES", "INDONESIAN_STOP_WORDS", "STOP_WORDS", "HistoryPriors", "SideBlocks", "Encoder",
    "BioText", "ProfileEncoder", "PairFeaturizer", "TextSpace",
    "common_minutes", "distance_km", "feature_widths", "mentor_history_stats", "mode_compatible",
    "pair_features", "sector_affinity", "sector_relation", "slot_bitmap", "smoothed_history", "stacked",
    "value_codes",
]
_ESTIMATORS = ("BioText", "ProfileEncoder", "PairFeaturizer")


def __getattr__(name: str) -> object:
    """The scikit-learn estimators (``BioText``, ``ProfileEncoder``, ``PairFeaturizer``), imported on
    first use, so that the batch commands, which need none of them, never import scikit-learn."""
    if name in _ESTIMATORS:
        from matching import estimators

        return getattr(estimators, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

logger = logging.getLogger(__name__)

FEATURES: tuple[str, ...] = (
    "sector",
    "stage_fit",
    "stage_gap",
    "needs_covered",
    "proximity",
    "languages_extra",
    "time_match",
    "bio_similarity",
    "mentor_acceptance",
    "mentor_rating",
)

SECTOR_CODES: tuple[str, ...] = tuple(reference.sectors())
SUPPORT_CODES: tuple[str, ...] = tuple(reference.support_areas())
KECAMATAN_CODES: tuple[str, ...] = tuple(reference.kecamatan())

#: Pairs of KBLI sections whose know-how carries over partly (weight 0.5): food service and food
#: manufacturing, trade and manufacturing, trade and transport, ICT and professional services, ...
RELATED_SECTORS: tuple[tuple[str, str], ...] = (
    ("C", "I"),
    ("C", "G"),
    ("G", "I"),
    ("G", "H"),
    ("J", "M"),
    ("J", "N"),
    ("M", "N"),
    ("R", "J"),
    ("R", "S"),
    ("I", "R"),
    ("P", "M"),
    ("Q", "S"),
    ("A", "C"),
    ("F", "L"),
    ("K", "M"),
)
RELATED_WEIGHT = 0.5
PROXIMITY_KM = 8.0
#: How much distance matters for a mode; a pair's weight is the product of the two sides'.
MODE_DISTANCE_WEIGHT: dict[str, float] = {"offline": 1.0, "either": 0.6, "online": 0.2}
#: Day-part bins (minutes since midnight) per day for the time_match feature.
DAY_PARTS: tuple[tuple[int, int], ...] = ((0, 600), (600, 780), (780, 960), (960, 1140), (1140, 1440))
SLOT_MINUTES = 5
_SLOTS = 7 * 24 * 60 // SLOT_MINUTES
_WORDS = (_SLOTS + 63) // 64



@dataclass(frozen=True)
class HistoryPriors:
    """Smoothing of the mentors' history: programme means and pseudo-counts (a new mentor is neutral)."""

    acceptance: float = 0.7
    rating: float = 4.0
    acceptance_strength: float = 5.0
    rating_strength: float = 3.0


def sector_affinity() -> np.ndarray:
    """The 21x21 sector relation: 1 on the diagonal, ``RELATED_WEIGHT`` for related sections."""
    n = len(SECTOR_CODES)
    rel = np.eye(n)
    idx = {s: i for i, s in enumerate(SECTOR_CODES)}
    for a, b in RELATED_SECTORS:
        rel[idx[a], idx[b]] = rel[idx[b], idx[a]] = RELATED_WEIGHT
    return rel


def kecamatan_distances() -> np.ndarray:
    """Great-circle distances in km between the 44 kecamatan centroids, in ``KECAMATAN_CODES`` order."""
    kec = reference.kecamatan()
    lat = np.radians([kec[c].lat for c in KECAMATAN_CODES])
    lon = np.radians([kec[c].lon for c in KECAMATAN_CODES])
    dlat = lat[:, None] - lat[None, :]
    dlon = lon[:, None] - lon[None, :]
    a = np.sin(dlat / 2) ** 2 + np.cos(lat)[:, None] * np.cos(lat)[None, :] * np.sin(dlon / 2) ** 2
    return 2 * 6371.0088 * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


_DIST = kecamatan_distances()
_KEC_INDEX = {c: i for i, c in enumerate(KECAMATAN_CODES)}
_SECTOR_INDEX = {s: i for i, s in enumerate(SECTOR_CODES)}
_SUPPORT_INDEX = {s: i for i, s in enumerate(SUPPORT_CODES)}
_STAGE_INDEX = {s: i for i, s in enumerate(STAGES)}
_AFFINITY = sector_affinity()
_MODE_CODE = {"offline": 0, "online": 1, "either": 2}
_MODE_WEIGHTS = np.array([MODE_DISTANCE_WEIGHT[m] for m in _MODE_CODE], dtype=np.float32)


def distance_km(kecamatan_a: str, kecamatan_b: str) -> float:
    """Great-circle distance in km between two kecamatan centroids."""
    return float(_DIST[_KEC_INDEX[kecamatan_a], _KEC_INDEX[kecamatan_b]])


def sector_relation(sector: str, mentor_sectors: Iterable[str]) -> float:
    """1 when the mentor knows the sector, ``RELATED_WEIGHT`` when only a related one, else 0."""
    i = _SECTOR_INDEX[sector]
    return max((_AFFINITY[i, _SECTOR_INDEX[s]] for s in mentor_sectors), default=0.0)


def _bins(windows: tuple[Window, ...]) -> np.ndarray:
    out = np.zeros(7 * len(DAY_PARTS))
    for w in windows:
        for p, (a, b) in enumerate(DAY_PARTS):
            lo, hi = max(a, w.start), min(b, w.end)
            if hi > lo:
                out[w.day * len(DAY_PARTS) + p] += (hi - lo) / 60.0
    norm = np.linalg.norm(out)
    return out / norm if norm else out


def slot_bitmap(windows: tuple[Window, ...]) -> np.ndarray:
    """The week as ``SLOT_MINUTES`` slots packed in uint64 words; a slot is set when wholly free."""
    bits = np.zeros(_WORDS * 64, dtype=bool)
    for w in windows:
        a = w.day * 1440 + w.start
        b = w.day * 1440 + w.end
        bits[-(-a // SLOT_MINUTES) : b // SLOT_MINUTES] = True
    return np.packbits(bits, bitorder="little").view(np.uint64)


def common_minutes(bitmaps_a: np.ndarray, bitmaps_b: np.ndarray) -> np.ndarray:
    """Minutes a week both sides are free, row by row, from two stacks of slot bitmaps."""
    both = np.bitwise_and(bitmaps_a, bitmaps_b)
    return np.bitwise_count(both).sum(axis=-1, dtype=np.int64) * SLOT_MINUTES


def value_codes(values: Iterable[object]) -> tuple[np.ndarray, list[object]]:
    """A code per value and the distinct values in code order (order of first appearance).

    Values are hashed once per distinct object (the CSV reader shares one object per distinct
    cell), so that tuples of windows or languages are not hashed again for every person.
    """
    objs = list(values)
    if not objs:
        return np.zeros(0, dtype=np.int64), []
    ids = np.fromiter(map(id, objs), dtype=np.int64, count=len(objs))
    _, first, inverse = np.unique(ids, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")  # distinct objects in order of first appearance
    index: dict[object, int] = {}
    by_object = np.empty(len(first), dtype=np.int64)
    by_object[order] = np.fromiter((index.setdefault(objs[f], len(index)) for f in first[order]), dtype=np.int64, count=len(first))
    return by_object[inverse.reshape(-1)], list(index)


def _indexes(values: Iterable[object], index: dict[object, int]) -> np.ndarray:
    """``index[v]`` for every value, looked up once per distinct value."""
    codes, distinct = value_codes(values)
    return np.array([index[v] for v in distinct], dtype=np.int64)[codes] if distinct else np.zeros(0, dtype=np.int64)


@dataclass
class SideBlocks:
    """One side's feature blocks: ``blocks[k]`` is an (n, d_k) array; plus data for checks and reasons."""

    blocks: dict[str, np.ndarray]
    bitmaps: np.ndarray
    kec: np.ndarray
    extra: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.kec)

    def take(self, idx: np.ndarray) -> SideBlocks:
        """The rows ``idx`` of every block."""
        return SideBlocks(
            {k: v[idx] for k, v in self.blocks.items()},
            self.bitmaps[idx],
            self.kec[idx],
            {k: v[idx] for k, v in self.extra.items()},
        )


def mentor_history_stats(
    mentor_ids: Sequence[str], history: Iterable[HistoryRecord], priors: HistoryPriors = HistoryPriors()
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per mentor: (accepted, proposals, rating sum, ratings) counted from ``history``."""
    index = {m: i for i, m in enumerate(mentor_ids)}
    acc = np.zeros(len(mentor_ids))
    n = np.zeros(len(mentor_ids))
    rsum = np.zeros(len(mentor_ids))
    rn = np.zeros(len(mentor_ids))
    for h in history:
        i = index.get(h.mentor_id)
        if i is None:
            continue
        n[i] += 1
        acc[i] += h.outcome != "declined"
        if h.rating is not None:
            rsum[i] += h.rating
            rn[i] += 1
    return acc, n, rsum, rn


def smoothed_history(
    acc: np.ndarray, n: np.ndarray, rsum: np.ndarray, rn: np.ndarray, priors: HistoryPriors
) -> tuple[np.ndarray, np.ndarray]:
    """The two history features from counts: smoothed acceptance and rating, centred on the priors."""
    a = priors.acceptance_strength
    b = priors.rating_strength
    acceptance = (acc + a * priors.acceptance) / (n + a) - priors.acceptance
    rating = ((rsum + b * priors.rating) / (rn + b) - priors.rating) / 4.0
    return acceptance, rating


class NotFittedError(ValueError, AttributeError):
    """Raised when an encoder is used before ``fit`` (as scikit-learn's ``NotFittedError``)."""


class Encoder:
    """Turns entrepreneurs and mentors into the side blocks whose products are the pair features.

    ``fit(people, history=...)`` learns the bio text space and the mentors' history statistics;
    ``encode_entrepreneurs`` and ``encode_mentors`` give the :class:`SideBlocks` of each side.
    Plain Python (no scikit-learn); :class:`ProfileEncoder` is the same as a scikit-learn transformer.
    """

    def __init__(self, n_text_components: int = 24, history_priors: HistoryPriors | None = None, random_state: int | None = 0):
        self.n_text_components = n_text_components
        self.history_priors = history_priors
        self.random_state = random_state

    def fit(self, X: Sequence[Entrepreneur | Mentor], y: object = None, history: Iterable[HistoryRecord] = ()) -> Encoder:
        """Learn the text space from the bios in ``X`` and the language list; keep ``history``."""
        people = list(X)
        self.text_ = TextSpace(self.n_text_components, random_state=self.random_state).fit([p.bio for p in people])
        langs = sorted({lang for p in people for lang in p.languages if lang != "id"})
        self.languages_ = tuple(langs)
        self.history_ = tuple(history)
        self.priors_ = self.history_priors or HistoryPriors()
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "text_"):
            raise NotFittedError(f"This {type(self).__name__} instance is not fitted yet. Call 'fit' first.")

    def transform(self, X: Sequence[Entrepreneur | Mentor]) -> SideBlocks:
        """Side blocks of a list of entrepreneurs or of mentors (not mixed)."""
        X = list(X)
        if X and isinstance(X[0], Mentor):
            return self.encode_mentors(X)
        return self.encode_entrepreneurs(X)

    def _common(self, people: Sequence[Entrepreneur | Mentor]) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray, np.ndarray]:
        lang_index = {lang: i for i, lang in enumerate(self.languages_)}
        lang_codes, lang_sets = value_codes(map(attrgetter("languages"), people))
        lang_table = np.zeros((len(lang_sets), len(self.languages_)), dtype=np.float32)
        for c, langs in enumerate(lang_sets):
            for lang in langs:
                if lang in lang_index:
                    lang_table[c, lang_index[lang]] = 1.0
        kec = _indexes(map(attrgetter("kecamatan"), people), _KEC_INDEX)
        pattern, windows = value_codes(map(attrgetter("availability"), people))
        eff = [effective_availability(w) for w in windows]
        bins = np.array([_bins(w) for w in eff], dtype=np.float32).reshape(len(eff), 7 * len(DAY_PARTS))
        bits = np.array([slot_bitmap(w) for w in eff], dtype=np.uint64).reshape(len(eff), _WORDS)
        text = self.text_.transform(list(map(attrgetter("bio"), people)))
        blocks = {"languages_extra": lang_table[lang_codes], "time_match": bins[pattern], "bio_similarity": text}
        return blocks, kec, bits[pattern], pattern

    def encode_entrepreneurs(self, entrepreneurs: Sequence[Entrepreneur]) -> SideBlocks:
        """The entrepreneur side: one-hots and shares that meet the mentor side's blocks."""
        self._check_fitted()
        n = len(entrepreneurs)
        blocks, kec, bitmaps, pattern = self._common(entrepreneurs)
        rows = np.arange(n)
        sector = np.zeros((n, len(SECTOR_CODES)), dtype=np.float32)
        sector[rows, _indexes(map(attrgetter("sector"), entrepreneurs), _SECTOR_INDEX)] = 1.0
        stage = np.zeros((n, len(STAGES)), dtype=np.float32)
        stage[rows, _indexes(map(attrgetter("stage"), entrepreneurs), _STAGE_INDEX)] = 1.0
        need_codes, need_sets = value_codes(map(attrgetter("needs"), entrepreneurs))
        need_table = np.zeros((len(need_sets), len(SUPPORT_CODES)), dtype=np.float32)
        for c, needs in enumerate(need_sets):
            for a in needs:
                need_table[c, _SUPPORT_INDEX[a]] = 1.0 / len(needs)
        mode_code = _indexes(map(attrgetter("mode"), entrepreneurs), _MODE_CODE).astype(np.int8)
        mode_w = _MODE_WEIGHTS[mode_code]
        proximity = (np.exp(-_DIST / PROXIMITY_KM)[kec] * mode_w[:, None]).astype(np.float32)
        ones = np.ones((n, 1), dtype=np.float32)
        blocks.update(
            sector=sector,
            stage_fit=stage,
            stage_gap=stage.copy(),
            needs_covered=need_table[need_codes],
            proximity=proximity,
            mentor_acceptance=ones,
            mentor_rating=ones.copy(),
        )
        return SideBlocks({k: blocks[k] for k in FEATURES}, bitmaps, kec, {"mode": mode_code, "pattern": pattern})

    def encode_mentors(self, mentors: Sequence[Mentor], history: Iterable[HistoryRecord] | None = None) -> SideBlocks:
        """The mentor side: sector affinities, stage fit and gap, expertise, place, history."""
        self._check_fitted()
        n = len(mentors)
        blocks, kec, bitmaps, pattern = self._common(mentors)
        sector = np.zeros((n, len(SECTOR_CODES)), dtype=np.float32)
        stage_fit = np.zeros((n, len(STAGES)), dtype=np.float32)
        stage_gap = np.zeros((n, len(STAGES)), dtype=np.float32)
        expertise = np.zeros((n, len(SUPPORT_CODES)), dtype=np.float32)
        place = np.zeros((n, len(KECAMATAN_CODES)), dtype=np.float32)
        mode_code = np.empty(n, dtype=np.int8)
        positions = np.arange(len(STAGES))
        for i, m in enumerate(mentors):
            sidx = [_SECTOR_INDEX[s] for s in m.sectors]
            sector[i] = _AFFINITY[:, sidx].max(axis=1)
            taken = np.array([_STAGE_INDEX[s] for s in m.stages])
            stage_fit[i, taken] = 1.0
            stage_gap[i] = np.abs(positions[:, None] - taken[None, :]).min(axis=1) / 3.0
            for s in m.expertise:
                expertise[i, _SUPPORT_INDEX[s]] = 1.0
            place[i, kec[i]] = MODE_DISTANCE_WEIGHT[m.mode]
            mode_code[i] = _MODE_CODE[m.mode]
        hist = self.history_ if history is None else tuple(history)
        stats = mentor_history_stats([m.id for m in mentors], hist, self.priors_)
        acceptance, rating = smoothed_history(*stats, self.priors_)
        blocks.update(
            sector=sector,
            stage_fit=stage_fit,
            stage_gap=stage_gap,
            needs_covered=expertise,
            proximity=place,
            mentor_acceptance=acceptance.astype(np.float32)[:, None],
            mentor_rating=rating.astype(np.float32)[:, None],
        )
        extra = {
            "mode": mode_code,
            "pattern": pattern,
            "accepted": stats[0],
            "proposals": stats[1],
            "rating_sum": stats[2],
            "ratings": stats[3],
        }
        return SideBlocks({k: blocks[k] for k in FEATURES}, bitmaps, kec, extra)


def feature_widths(side: SideBlocks) -> dict[str, int]:
    """Width of every feature block."""
    return {k: side.blocks[k].shape[1] for k in FEATURES}


def stacked(side: SideBlocks, weights: np.ndarray | None = None) -> np.ndarray:
    """All blocks side by side (float32), each multiplied by its feature's weight when given."""
    parts = []
    for k, name in enumerate(FEATURES):
        block = side.blocks[name]
        parts.append(block * np.float32(weights[k]) if weights is not None else block)
    return np.ascontiguousarray(np.hstack(parts), dtype=np.float32)


def pair_features(ents: SideBlocks, ments: SideBlocks, ei: np.ndarray, mj: np.ndarray) -> np.ndarray:
    """The (n_pairs, len(FEATURES)) feature matrix of the pairs (ents[ei[p]], ments[mj[p]])."""
    ei = np.asarray(ei, dtype=np.int64)
    mj = np.asarray(mj, dtype=np.int64)
    out = np.empty((len(ei), len(FEATURES)), dtype=np.float64)
    for k, name in enumerate(FEATURES):
        a = ents.blocks[name]
        b = ments.blocks[name]
        if a.shape[1] == 0:
            out[:, k] = 0.0
        else:
            out[:, k] = np.einsum("ij,ij->i", a[ei], b[mj], dtype=np.float64)
    return out


def mode_compatible(mode_a: str, mode_b: str) -> bool:
    """False only for offline with online."""
    return {mode_a, mode_b} != {"offline", "online"}

