"""Ranking: the best ``top`` feasible mentors for every entrepreneur, scored in blocks by one GEMM each.

Hard constraints are never scored away, they are applied by construction: entrepreneurs are grouped
by their constraint signature (languages, mode, preferred mentor gender) and each group is scored
only against the mentors it may meet (shared language, compatible modes, gender, free capacity, not
paused). Pairs with no common free time are dropped after scoring (exactly, on 5-minute slots).
"""

from __future__ import annotations

import logging
import os
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, TypeVar

import numpy as np
from threadpoolctl import threadpool_limits

from matching.explain import Reason, reason, summary
from matching.features import (
    FEATURES,
    Encoder,
    SideBlocks,
    common_minutes,
    distance_km,
    mode_compatible,
    pair_features,
    sector_relation,
    slot_bitmap,
    stacked,
    value_codes,
)
from matching.priors import prior_scorer
from matching.profiles import STAGES, Entrepreneur, HistoryRecord, Mentor

if TYPE_CHECKING:
    from matching.scoring import MatchScorer

logger = logging.getLogger(__name__)

DEFAULT_BLOCK = 1024
#: Threads that score blocks (each with one BLAS thread); the target machine has two cores.
WORKERS = min(2, os.cpu_count() or 1)
T = TypeVar("T")
_EXTRA = 8  # candidates fetched beyond ``top`` to survive the exact common-time check
_GROUP = 64  # column group width of the block top-k


@dataclass(frozen=True, slots=True)
class Suggestion:
    """A ranked suggestion: the mentor at ``rank`` (from 1) for an entrepreneur, its score and reasons."""

    entrepreneur_id: str
    rank: int
    mentor_id: str
    score: float
    reasons: tuple[Reason, ...]


@dataclass
class MatchProblem:
    """Everything needed to score pairs: encoded sides, weighted matrices and feasibility groups."""

    entrepreneurs: Sequence[Entrepreneur]
    mentors: Sequence[Mentor]
    scorer: MatchScorer
    ents: SideBlocks
    ments: SideBlocks
    E: np.ndarray
    M: np.ndarray
    intercept: float
    free: np.ndarray
    e_group: np.ndarray
    group_mentors: list[np.ndarray]
    _text_cache: dict = field(default_factory=dict)
    #: Common minutes a week by (entrepreneur availability pattern, mentor pattern), when small enough.
    pattern_minutes: np.ndarray | None = None

    @property
    def weights(self) -> np.ndarray:
        """The scorer's weights, in ``FEATURES`` order."""
        return np.asarray(self.scorer.coef_, dtype=np.float64)

    def scores(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """The (len(rows), len(cols)) score matrix, float32."""
        S = self.E[rows] @ self.M[cols].T
        S += np.float32(self.intercept)
        return S

    def pair_scores(self, ei: np.ndarray, mj: np.ndarray, chunk: int = 32_768) -> np.ndarray:
        """Scores of the pairs (ei[p], mj[p]) in float64."""
        ei, mj = np.asarray(ei), np.asarray(mj)
        out = np.empty(len(ei))
        for a in range(0, len(ei), chunk):
            e = self.E[ei[a : a + chunk]].astype(np.float64)
            e *= self.M[mj[a : a + chunk]]
            out[a : a + chunk] = e.sum(axis=1)
        return out + self.intercept

    def feasible_mask(self, i: int) -> np.ndarray:
        """Boolean mask over mentors that entrepreneur ``i`` may be matched to (all hard constraints + time)."""
        mask = np.zeros(len(self.mentors), dtype=bool)
        cand = self.group_mentors[self.e_group[i]]
        ok = self.common_time(np.full(len(cand), i), cand) > 0
        mask[cand[ok]] = True
        return mask

    def common_time(self, ei: np.ndarray, mj: np.ndarray) -> np.ndarray:
        """Minutes a week that entrepreneurs ``ei`` and mentors ``mj`` are both free (broadcast)."""
        ei, mj = np.asarray(ei), np.asarray(mj)
        if self.pattern_minutes is not None:
            return self.pattern_minutes[self.ents.extra["pattern"][ei], self.ments.extra["pattern"][mj]]
        ei, mj = np.broadcast_arrays(ei, mj)
        return common_minutes(self.ents.bitmaps[ei], self.ments.bitmaps[mj])


def _e_signature(e: Entrepreneur) -> tuple:
    return (frozenset(e.languages), e.mode, e.prefers_mentor_gender)


def _m_signature(m: Mentor) -> tuple:
    return (frozenset(m.languages), m.mode, m.gender)


def signature_compatible(esig: tuple, msig: tuple) -> bool:
    """Whether entrepreneurs of ``esig`` may meet mentors of ``msig`` (language, mode, gender)."""
    langs, mode, pref = esig
    mlangs, mmode, gender = msig
    return bool(langs & mlangs) and mode_compatible(mode, mmode) and (pref is None or pref == gender)


def build_problem(
    entrepreneurs: Sequence[Entrepreneur],
    mentors: Sequence[Mentor],
    *,
    scorer: MatchScorer | None = None,
    history: Sequence[HistoryRecord] = (),
) -> MatchProblem:
    """Encode both sides and group the entrepreneurs by the mentors they may meet."""
    scorer = scorer or prior_scorer()  # the prior weights, without importing scikit-learn
    encoder = Encoder().fit([*entrepreneurs, *mentors], history=history)
    ents = encoder.encode_entrepreneurs(entrepreneurs)
    ments = encoder.encode_mentors(mentors)
    w = np.asarray(scorer.coef_, dtype=np.float64)
    E = stacked(ents, w)
    M = stacked(ments)
    free = np.array([m.free_capacity for m in mentors], dtype=np.int64)
    msig: dict[tuple, int] = {}
    m_code = np.array([msig.setdefault(_m_signature(m), len(msig)) for m in mentors], dtype=np.int64)
    msig_list = list(msig)
    esig: dict[tuple, int] = {}
    e_group = np.array([esig.setdefault(_e_signature(e), len(esig)) for e in entrepreneurs], dtype=np.int64)
    open_ = free > 0
    group_mentors = []
    for sig in esig:
        ok_codes = np.array([signature_compatible(sig, s) for s in msig_list], dtype=bool)
        mask = open_ & (ok_codes[m_code] if len(msig_list) else np.zeros(len(mentors), dtype=bool))
        group_mentors.append(np.flatnonzero(mask))
    logger.info(
        "problem: %d entrepreneurs in %d groups, %d mentors (%d with free places), %d feature columns",
        len(entrepreneurs), len(esig), len(mentors), int(open_.sum()), E.shape[1],
    )  # fmt: skip
    problem = MatchProblem(entrepreneurs, mentors, scorer, ents, ments, E, M, scorer.intercept_, free, e_group, group_mentors)
    problem.pattern_minutes = _pattern_minutes(ents, ments)
    return problem


def _pattern_minutes(ents: SideBlocks, ments: SideBlocks, limit: int = 4_000_000) -> np.ndarray | None:
    """Common minutes for every pair of availability patterns (people share few), or None if too many."""
    _, e_first = np.unique(ents.extra["pattern"], return_index=True)
    _, m_first = np.unique(ments.extra["pattern"], return_index=True)
    if len(e_first) * len(m_first) > limit:
        return None
    eb, mb = ents.bitmaps[e_first], ments.bitmaps[m_first]
    out = np.zeros((len(eb), len(mb)), dtype=np.int32)
    step = max(1, 200_000 // max(len(mb), 1))
    for a in range(0, len(eb), step):
        out[a : a + step] = common_minutes(eb[a : a + step, None, :], mb[None, :, :])
    return out


def topk_rows(S: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Column indexes and values of the ``k`` largest entries of every row, best first (ties: lower column).

    For wide rows the columns are cut into ``_GROUP`` interleaved groups (column ``j`` in group
    ``j % groups``, so that the group maxima are a fast reduction over contiguous memory); the
    ``k``-th largest group maximum is a threshold that at least ``k`` entries reach, so only the
    few entries at or above it are sorted.
    """
    B, n = S.shape
    k = min(k, n)
    if k <= 0 or B == 0:
        return np.zeros((B, 0), dtype=np.int64), np.zeros((B, 0), dtype=S.dtype)
    groups = n // _GROUP
    if groups < 2 * k:
        if n <= 4 * _GROUP:
            idx = np.broadcast_to(np.arange(n), (B, n))
        else:
            idx = np.argpartition(S, n - k, axis=1)[:, n - k :]
        vals = np.take_along_axis(S, idx, axis=1)
        order = np.lexsort((idx, -vals), axis=1)[:, :k]
        return np.take_along_axis(idx, order, axis=1), np.take_along_axis(vals, order, axis=1)
    gmax = S[:, : groups * _GROUP].reshape(B, _GROUP, groups).max(axis=1)
    threshold = np.partition(gmax, groups - k, axis=1)[:, groups - k]
    flat = np.flatnonzero(threshold[:, None] <= S)
    r, col = np.divmod(flat, n)
    val = S.reshape(-1)[flat]
    # sorted by row, value descending, column (one int64 sort when the three fit in 63 bits)
    col_bits = max(int(n - 1).bit_length(), 1)
    if int(B).bit_length() + 32 + col_bits <= 63:
        key = (r << (32 + col_bits)) | (_descending_bits(val).astype(np.int64) << col_bits) | col
        order = np.argsort(key)
    else:  # pragma: no cover - more than 2**20 mentors in one block
        order = np.lexsort((col, _descending_bits(val), r))
    r, col, val = r[order], col[order], val[order]
    pick = np.searchsorted(r, np.arange(B))[:, None] + np.arange(k)
    return col[pick], val[pick]


def _descending_bits(v: np.ndarray) -> np.ndarray:
    """Unsigned 32-bit keys whose ascending order is the descending order of the float32 values."""
    i = np.ascontiguousarray(v, dtype=np.float32).view(np.int32)
    asc = np.where(i < 0, ~i, i | np.int32(-(2**31))).view(np.uint32)  # ascending order of the floats
    return np.uint32(0xFFFFFFFF) - asc


def iter_blocks(problem: MatchProblem, rows: np.ndarray | None = None, block_size: int = DEFAULT_BLOCK) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Blocks of entrepreneur rows that share one feasible mentor set: yields (rows, mentor indexes)."""
    rows = np.arange(len(problem.entrepreneurs)) if rows is None else np.asarray(rows, dtype=np.int64)
    if len(rows) == 0:
        return
    groups = problem.e_group[rows]
    order = np.argsort(groups, kind="stable")
    rows, groups = rows[order], groups[order]
    cuts = np.flatnonzero(np.diff(groups)) + 1
    for part in np.split(rows, cuts):
        cand = problem.group_mentors[problem.e_group[part[0]]]
        for start in range(0, len(part), block_size):
            yield part[start : start + block_size], cand


def map_blocks(
    problem: MatchProblem,
    work: Callable[[np.ndarray, np.ndarray, np.ndarray], T],
    rows: np.ndarray | None = None,
    block_size: int = DEFAULT_BLOCK,
    workers: int | None = None,
) -> Iterator[tuple[np.ndarray, np.ndarray, T]]:
    """``work(rows, mentors, S)`` on every block with feasible mentors, in up to ``workers`` threads.

    ``S`` is the block's float32 score matrix (one GEMM with one BLAS thread per worker, so that the
    threads do not oversubscribe the cores; numpy releases the GIL in GEMM, partition and reductions).
    Yields ``(rows, mentors, result)`` in block order.

    More than one block runs with one BLAS thread whatever ``workers`` is: OpenBLAS picks another
    kernel for another thread count, and the scores would differ in the last float32 bits (seen with
    OpenBLAS 0.3.31: 1 in 7 scores), so that the ranking would depend on the number of workers. A
    single block (a web request's one entrepreneur) keeps the process's setting, which gunicorn
    sets to one thread (and setting a limit costs more than that request's product).
    """
    workers = workers or WORKERS
    mt_cache: dict[int, np.ndarray] = {}

    def job(blk: np.ndarray, cand: np.ndarray, Mt: np.ndarray) -> T:
        S = problem.E[blk] @ Mt
        S += np.float32(problem.intercept)
        return work(blk, cand, S)

    def mentor_matrix(cand: np.ndarray) -> np.ndarray:
        key = id(cand)
        if key not in mt_cache:
            mt_cache.clear()
            mt_cache[key] = np.ascontiguousarray(problem.M[cand].T)
        return mt_cache[key]

    blocks = ((blk, cand) for blk, cand in iter_blocks(problem, rows, block_size) if len(cand))
    if workers <= 1:
        n_rows = len(problem.entrepreneurs) if rows is None else len(rows)
        with threadpool_limits(limits=1, user_api="blas") if n_rows > block_size else nullcontext():
            for blk, cand in blocks:
                yield blk, cand, job(blk, cand, mentor_matrix(cand))
        return
    from concurrent.futures import ThreadPoolExecutor

    with threadpool_limits(limits=1, user_api="blas"), ThreadPoolExecutor(workers) as pool:
        pending: deque = deque()
        for blk, cand in blocks:
            pending.append((blk, cand, pool.submit(job, blk, cand, mentor_matrix(cand))))
            if len(pending) > 2 * workers:
                b, c, f = pending.popleft()
                yield b, c, f.result()
        while pending:
            b, c, f = pending.popleft()
            yield b, c, f.result()


def top_feasible(problem: MatchProblem, rows: np.ndarray, cand: np.ndarray, S: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The best ``k`` mentors of each row of ``S`` that share free time; (mentor index or -1, score)."""
    B = len(rows)
    out_m = np.full((B, k), -1, dtype=np.int64)
    out_s = np.full((B, k), -np.inf, dtype=np.float64)
    if len(cand) == 0 or B == 0:
        return out_m, out_s
    kk = min(k + _EXTRA, len(cand))
    idx, vals = topk_rows(S, kk)
    mi = cand[idx]
    ok = problem.common_time(rows[:, None], mi) > 0
    short = np.flatnonzero((ok.sum(axis=1) < k) & (kk < len(cand)))
    vals = np.where(ok, vals.astype(np.float64), -np.inf)
    order = np.argsort(-vals, axis=1, kind="stable")[:, :k]
    sel_v = np.take_along_axis(vals, order, axis=1)
    sel_m = np.take_along_axis(mi, order, axis=1)
    n = sel_v.shape[1]
    out_m[:, :n] = np.where(np.isfinite(sel_v), sel_m, -1)
    out_s[:, :n] = sel_v
    for a in range(0, len(short), 256):  # most of the best mentors share no time with these rows
        part = short[a : a + 256]
        ok_all = problem.common_time(rows[part][:, None], cand[None, :]) > 0
        idx, v = topk_rows(np.where(ok_all, S[part, : len(cand)], np.float32(-np.inf)), k)
        v = v.astype(np.float64)
        good = np.isfinite(v)
        out_m[part] = -1
        out_s[part] = -np.inf
        out_m[part, : idx.shape[1]] = np.where(good, cand[idx], -1)
        out_s[part, : idx.shape[1]] = v
    return out_m, out_s


def rank_arrays(
    problem: MatchProblem, top: int = 10, block_size: int = DEFAULT_BLOCK, rows: np.ndarray | None = None, workers: int | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For every entrepreneur row: the indexes (-1 for none) and scores of its best ``top`` mentors.

    Returns ``(rows, mentor_index[n, top], score[n, top])`` with rows in the input order.
    """
    rows_all = np.arange(len(problem.entrepreneurs)) if rows is None else np.asarray(rows, dtype=np.int64)
    pos = None
    if rows is not None:
        pos = np.full(len(problem.entrepreneurs), -1, dtype=np.int64)
        pos[rows_all] = np.arange(len(rows_all))
    out_m = np.full((len(rows_all), top), -1, dtype=np.int64)
    out_s = np.full((len(rows_all), top), -np.inf, dtype=np.float64)
    work = partial(_top_of_block, problem, top)
    for blk, _, (m, s) in map_blocks(problem, work, rows_all, block_size, workers):
        at = blk if pos is None else pos[blk]
        out_m[at], out_s[at] = m, s
    return rows_all, out_m, out_s


def _top_of_block(problem: MatchProblem, top: int, blk: np.ndarray, cand: np.ndarray, S: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return top_feasible(problem, blk, cand, S, top)


# --- explanations ---------------------------------------------------------------------------------


def pair_reasons(problem: MatchProblem, i: int, j: int, features: np.ndarray | None = None) -> tuple[Reason, ...]:
    """Every reason for the pair (entrepreneur ``i``, mentor ``j``), largest contribution first."""
    if features is None:
        features = pair_features(problem.ents, problem.ments, np.array([i]), np.array([j]))[0]
    contrib = dict(zip(FEATURES, features * problem.weights, strict=True))
    e, m = problem.entrepreneurs[i], problem.mentors[j]
    out: list[Reason] = []
    rel = sector_relation(e.sector, m.sectors)
    if rel >= 1.0:
        out.append(reason("same_sector", contrib["sector"], sector=e.sector))
    elif rel > 0:
        related = next(s for s in m.sectors if sector_relation(e.sector, (s,)) > 0)
        out.append(reason("related_sector", contrib["sector"], sector=e.sector, mentor_sector=related))
    covered = [a for a in e.needs if a in m.expertise]
    if covered:
        out.append(reason("needs_covered", contrib["needs_covered"], areas=",".join(covered)))
    stage_w = contrib["stage_fit"] + contrib["stage_gap"]
    out.append(reason("stage_fit" if e.stage in m.stages else "stage_outside", stage_w, stage=e.stage))
    if "online" in (e.mode, m.mode):
        out.append(reason("online", contrib["proximity"]))
    else:
        out.append(reason("distance", contrib["proximity"], km=f"{distance_km(e.kecamatan, m.kecamatan):.1f}"))
    shared = [x for x in e.languages if x != "id" and x in m.languages]
    if shared:
        out.append(reason("languages", contrib["languages_extra"], languages=", ".join(shared)))
    minutes = int(common_minutes(slot_bitmap(e.windows), slot_bitmap(m.windows)))
    out.append(reason("common_time", contrib["time_match"], hours=_hours(minutes)))
    if features[FEATURES.index("bio_similarity")] >= 0.3:
        out.append(reason("similar_bio", contrib["bio_similarity"]))
    extra = problem.ments.extra
    n, acc = extra["proposals"][j], extra["accepted"][j]
    if n >= 3:
        out.append(reason("acceptance", contrib["mentor_acceptance"], accepted=round(10 * acc / n)))
    rn = extra["ratings"][j]
    if rn >= 2:
        out.append(reason("rating", contrib["mentor_rating"], rating=f"{extra['rating_sum'][j] / rn:.1f}"))
    out.sort(key=lambda r: -r.weight)
    return tuple(out)


def _hours(minutes: int) -> str:
    h = minutes / 60
    return f"{h:.0f}" if abs(h - round(h)) < 1e-9 else f"{h:.1f}"


def rank(
    entrepreneurs: Sequence[Entrepreneur],
    mentors: Sequence[Mentor],
    *,
    scorer: MatchScorer | None = None,
    history: Sequence[HistoryRecord] = (),
    top: int = 10,
    block_size: int = DEFAULT_BLOCK,
    problem: MatchProblem | None = None,
) -> list[Suggestion]:
    """The best ``top`` feasible mentors of every entrepreneur, best first, each with its reasons.

    Parameters
    ----------
    scorer : MatchScorer, optional
        The scorer; the documented prior weights when omitted.
    history : sequence of HistoryRecord
        Earlier outcomes, for the mentors' acceptance and rating features.
    block_size : int
        Entrepreneurs scored per matrix product (memory is about ``block_size * mentors * 4`` bytes).
    problem : MatchProblem, optional
        A problem already built by :func:`build_problem` over the same people (reuse it to answer
        single entrepreneurs in milliseconds).
    """
    problem = problem or build_problem(entrepreneurs, mentors, scorer=scorer, history=history)
    rows, mi, sc = rank_arrays(problem, top, block_size)
    out: list[Suggestion] = []
    for p, i in enumerate(rows):
        e = problem.entrepreneurs[i]
        for r in range(top):
            j = int(mi[p, r])
            if j < 0:
                break
            out.append(Suggestion(e.id, r + 1, problem.mentors[j].id, float(sc[p, r]), pair_reasons(problem, int(i), j)))
    return out


def explain_exclusions(entrepreneur: Entrepreneur, mentors: Sequence[Mentor]) -> dict[str, tuple[Reason, ...]]:
    """Why each left-out mentor cannot be suggested: full, paused, language, mode, gender, no common time."""
    out: dict[str, tuple[Reason, ...]] = {}
    ebits = slot_bitmap(entrepreneur.windows)
    for m in mentors:
        why: list[Reason] = []
        if m.paused:
            why.append(reason("paused"))
        elif m.free_capacity <= 0:
            why.append(reason("full"))
        if not set(entrepreneur.languages) & set(m.languages):
            why.append(reason("no_shared_language"))
        if not mode_compatible(entrepreneur.mode, m.mode):
            why.append(reason("meets_online_only" if m.mode == "online" else "meets_offline_only"))
        if entrepreneur.prefers_mentor_gender and entrepreneur.prefers_mentor_gender != m.gender:
            why.append(reason("gender_preference"))
        if int(common_minutes(ebits, slot_bitmap(m.windows))) == 0:
            why.append(reason("no_common_time"))
        if why:
            out[m.id] = tuple(why)
    return out


def short_reasons(reasons: tuple[Reason, ...], limit: int = 4) -> tuple[Reason, ...]:
    """The few reasons shown in a list (positive, largest first)."""
    return summary(reasons, limit)


# --- the same reasons as text, for many pairs at once (the CSV commands) --------------------------


def _mask_codes(items: Iterable[tuple[str, ...]], vocab: dict[str, int]) -> np.ndarray:
    """A bit mask per item (bit ``vocab[x]`` for each known ``x``), computed once per distinct item."""
    codes, distinct = value_codes(items)
    masks = np.zeros(len(distinct) + 1, dtype=np.int64)
    for n, xs in enumerate(distinct):
        for x in xs:
            b = vocab.get(x)
            if b is not None:
                masks[n] |= 1 << b
    return masks[codes]


def _reason_cache(problem: MatchProblem) -> dict:
    """Per-person codes of everything the reasons depend on (computed once per problem)."""
    cache = problem._text_cache
    if cache:
        return cache
    from matching.features import KECAMATAN_CODES, SECTOR_CODES, SUPPORT_CODES

    ents, ments = problem.entrepreneurs, problem.mentors
    langs = sorted({x for p in (*ents, *ments) for x in p.languages if x != "id"})[:62]
    lv = {x: b for b, x in enumerate(langs)}
    sv = {x: b for b, x in enumerate(SUPPORT_CODES)}
    m_sectors, m_sector_list = value_codes(m.sectors for m in ments)
    sector_index = {x: i for i, x in enumerate(SECTOR_CODES)}
    stage_index = {x: i for i, x in enumerate(STAGES)}
    mode_w = problem.ments.blocks["proximity"].max(axis=1) if len(ments) else np.zeros(0, dtype=np.float32)
    needs_w = problem.ents.blocks["needs_covered"].max(axis=1) if len(ents) else np.zeros(0, dtype=np.float32)
    cache.update(
        langs=langs,
        e_lang=_mask_codes((e.languages for e in ents), lv),
        m_lang=_mask_codes((m.languages for m in ments), lv),
        e_needs=_mask_codes((e.needs for e in ents), sv),
        m_exp=_mask_codes((m.expertise for m in ments), sv),
        e_needs_w=needs_w.astype(np.float64),
        e_sector=np.fromiter((sector_index[e.sector] for e in ents), dtype=np.int64, count=len(ents)),
        m_sectors=m_sectors,
        m_sector_list=m_sector_list,
        e_online=problem.ents.extra["mode"] == 1,
        m_online=problem.ments.extra["mode"] == 1,
        m_mode_w=mode_w.astype(np.float64),
        e_stage=np.fromiter((stage_index[e.stage] for e in ents), dtype=np.int64, count=len(ents)),
        sectors=SECTOR_CODES,
        support=SUPPORT_CODES,
        kec=KECAMATAN_CODES,
    )
    return cache


def _feature_values(problem: MatchProblem, ei: np.ndarray, mj: np.ndarray) -> np.ndarray:
    """``pair_features`` of the pairs, from per-person codes instead of whole feature blocks (same values)."""
    c = _reason_cache(problem)
    ents, ments = problem.ents.blocks, problem.ments.blocks
    col = {f: k for k, f in enumerate(FEATURES)}
    out = np.zeros((len(ei), len(FEATURES)))
    es = c["e_stage"][ei]
    out[:, col["sector"]] = ments["sector"][mj, c["e_sector"][ei]]
    out[:, col["stage_fit"]] = ments["stage_fit"][mj, es]
    out[:, col["stage_gap"]] = ments["stage_gap"][mj, es]
    out[:, col["needs_covered"]] = np.bitwise_count(c["e_needs"][ei] & c["m_exp"][mj]) * c["e_needs_w"][ei]
    out[:, col["proximity"]] = ents["proximity"][ei, problem.ments.kec[mj]].astype(np.float64) * c["m_mode_w"][mj]
    out[:, col["languages_extra"]] = np.bitwise_count(c["e_lang"][ei] & c["m_lang"][mj])
    if problem.pattern_minutes is not None:
        e_pat, m_pat = problem.ents.extra["pattern"], problem.ments.extra["pattern"]
        _, e_first = np.unique(e_pat, return_index=True)
        _, m_first = np.unique(m_pat, return_index=True)
        cos = np.einsum("ik,jk->ij", ents["time_match"][e_first], ments["time_match"][m_first], dtype=np.float64)
        out[:, col["time_match"]] = cos[e_pat[ei], m_pat[mj]]
    else:
        out[:, col["time_match"]] = np.einsum("ij,ij->i", ents["time_match"][ei], ments["time_match"][mj], dtype=np.float64)
    if ents["bio_similarity"].shape[1]:
        out[:, col["bio_similarity"]] = np.einsum("ij,ij->i", ents["bio_similarity"][ei], ments["bio_similarity"][mj], dtype=np.float64)
    out[:, col["mentor_acceptance"]] = ments["mentor_acceptance"][mj, 0]
    out[:, col["mentor_rating"]] = ments["mentor_rating"][mj, 0]
    return out


@dataclass
class ReasonLines:
    """The short reasons of many pairs: ``texts`` (distinct phrases) and, per pair, the indexes of the
    phrases shown, in order (``-1`` pads)."""

    texts: list[str]
    shown: np.ndarray

    def lines(self) -> list[str]:
        """Each pair's reasons joined with '; '."""
        texts = self.texts
        return ["; ".join(texts[t] for t in row if t >= 0) for row in self.shown.tolist()]


def reason_lines(problem: MatchProblem, ei: np.ndarray, mj: np.ndarray, lang: str = "en", limit: int = 4, chunk: int = 262_144) -> ReasonLines:
    """The short reasons of every pair (ei[p], mj[p]) as phrase indexes: what :func:`reason_texts` joins.

    Each kind of reason is phrased once per distinct value (sector relation, covered needs, stage,
    distance, shared languages, common hours, bio, the mentor's record), then the ``limit`` largest
    positive contributions of every pair are picked with a few vectorised passes.
    """
    ei = np.asarray(ei, dtype=np.int64)
    mj = np.asarray(mj, dtype=np.int64)
    texts: list[str] = []
    index: dict[str, int] = {}
    lock = threading.Lock()
    shown = np.full((len(ei), limit), -1, dtype=np.int32)
    _reason_cache(problem)

    def run(a: int) -> None:
        shown[a : a + chunk] = _reason_chunk(problem, ei[a : a + chunk], mj[a : a + chunk], lang, limit, texts, index, lock)

    starts = range(0, len(ei), chunk)
    if WORKERS > 1 and len(starts) > 1:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(WORKERS) as pool:  # the array work releases the GIL
            list(pool.map(run, starts))
    else:
        for a in starts:
            run(a)
    return ReasonLines(texts, shown)


def _reason_chunk(
    problem: MatchProblem,
    ei: np.ndarray,
    mj: np.ndarray,
    lang: str,
    limit: int,
    texts: list[str],
    index: dict[str, int],
    lock: threading.Lock,
) -> np.ndarray:
    P = len(ei)
    c = _reason_cache(problem)
    feats = _feature_values(problem, ei, mj)
    contrib = feats * problem.weights
    col = {f: k for k, f in enumerate(FEATURES)}
    ids = np.full((P, 9), -1, dtype=np.int32)
    weights = np.full((P, 9), -np.inf)

    def phrase(slot: int, has: np.ndarray | None, keys: np.ndarray, make: Callable[[int], str], weight: np.ndarray) -> None:
        at = slice(None) if has is None else has
        k = keys if has is None else keys[has]
        if len(k) == 0:
            return
        uniq, inverse = np.unique(k, return_inverse=True)
        with lock:  # one vocabulary of phrases for all chunks
            table = np.array([index.setdefault(t, len(index)) for t in (make(int(u)) for u in uniq)], dtype=np.int32)
            if len(index) > len(texts):
                texts.extend(list(index)[len(texts) :])
        ids[at, slot] = table[inverse]
        weights[at, slot] = weight if has is None else weight[has]

    n_sets = len(c["m_sector_list"])

    def sector_text(k: int) -> str:
        sector = c["sectors"][k // n_sets]
        msecs = c["m_sector_list"][k % n_sets]
        if sector in msecs:
            return reason("same_sector", sector=sector).text(lang)
        related = next((s for s in msecs if sector_relation(sector, (s,)) > 0), None)
        return reason("related_sector", sector=sector, mentor_sector=related).text(lang) if related else ""

    phrase(0, feats[:, col["sector"]] > 0, c["e_sector"][ei] * n_sets + c["m_sectors"][mj], sector_text, contrib[:, col["sector"]])
    covered = c["e_needs"][ei] & c["m_exp"][mj]
    phrase(
        1,
        covered > 0,
        covered,
        lambda k: reason("needs_covered", areas=",".join(a for b, a in enumerate(c["support"]) if k >> b & 1)).text(lang),
        contrib[:, col["needs_covered"]],
    )
    fit = feats[:, col["stage_fit"]] > 0
    phrase(
        2,
        None,
        c["e_stage"][ei] * 2 + fit,
        lambda k: reason("stage_fit" if k % 2 else "stage_outside", stage=STAGES[k // 2]).text(lang),
        contrib[:, col["stage_fit"]] + contrib[:, col["stage_gap"]],
    )
    online = c["e_online"][ei] | c["m_online"][mj]
    nk = len(c["kec"])
    phrase(
        3,
        None,
        np.where(online, -1, problem.ents.kec[ei] * nk + problem.ments.kec[mj]),
        lambda k: reason("online").text(lang)
        if k < 0
        else reason("distance", km=f"{distance_km(c['kec'][k // nk], c['kec'][k % nk]):.1f}").text(lang),
        contrib[:, col["proximity"]],
    )
    shared = c["e_lang"][ei] & c["m_lang"][mj]
    phrase(
        4,
        shared > 0,
        shared,
        lambda k: reason("languages", languages=", ".join(x for b, x in enumerate(c["langs"]) if k >> b & 1)).text(lang),
        contrib[:, col["languages_extra"]],
    )
    minutes = problem.common_time(ei, mj)
    phrase(5, None, minutes, lambda k: reason("common_time", hours=_hours(k)).text(lang), contrib[:, col["time_match"]])
    bio = feats[:, col["bio_similarity"]] >= 0.3
    phrase(6, bio, np.zeros(P, dtype=np.int64), lambda k: reason("similar_bio").text(lang), contrib[:, col["bio_similarity"]])
    extra = problem.ments.extra
    n, acc, rn, rsum = extra["proposals"][mj], extra["accepted"][mj], extra["ratings"][mj], extra["rating_sum"][mj]
    has = n >= 3
    tenths = np.rint(10 * acc / np.maximum(n, 1)).astype(np.int64)
    phrase(7, has, tenths, lambda k: reason("acceptance", accepted=k).text(lang), contrib[:, col["mentor_acceptance"]])
    has = rn >= 2
    tenth = np.rint(10 * rsum / np.maximum(rn, 1)).astype(np.int64)
    phrase(8, has, tenth, lambda k: reason("rating", rating=f"{k / 10:.1f}").text(lang), contrib[:, col["mentor_rating"]])

    # the ``limit`` largest contributions, largest first (ties: the earlier kind); positive ones are
    # shown, or the strongest alone when none is positive; a reason without a phrase is skipped
    rows = np.arange(P)
    out = np.full((P, limit), -1, dtype=np.int32)
    for pos in range(min(limit, 9)):
        best = weights.argmax(axis=1)
        w = weights[rows, best]
        show = w > 0 if pos else np.ones(P, dtype=bool)
        out[:, pos] = np.where(show, ids[rows, best], -1)
        weights[rows, best] = -np.inf
        ids[rows, best] = -1
    empty = index.get("")
    if empty is not None:  # drop phrase-less reasons, keeping the others in order
        bad = np.flatnonzero((out == empty).any(axis=1))
        for p in bad:
            keep = [t for t in out[p] if t >= 0 and t != empty]
            out[p] = -1
            out[p, : len(keep)] = keep
    return out


def reason_texts(problem: MatchProblem, ei: np.ndarray, mj: np.ndarray, lang: str = "en", limit: int = 4) -> list[str]:
    """The short reasons line of every pair (ei[p], mj[p]), as :func:`pair_reasons` would give it."""
    return reason_lines(problem, ei, mj, lang, limit).lines()
