"""Ranking: the best ``top`` feasible mentors for every entrepreneur, scored in blocks by one GEMM each.

Hard constraints are never scored away, they are applied by construction: entrepreneurs are grouped
by their constraint signature (languages, mode, preferred mentor gender) and each group is scored
only against the mentors it may meet (shared language, compatible modes, gender, free capacity, not
paused). Pairs with no common free time are dropped after scoring (exactly, on 5-minute slots).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from matching.explain import Reason, reason, summary
from matching.features import (
    FEATURES,
    ProfileEncoder,
    SideBlocks,
    common_minutes,
    distance_km,
    mode_compatible,
    pair_features,
    sector_relation,
    slot_bitmap,
    stacked,
)
from matching.profiles import STAGES, Entrepreneur, HistoryRecord, Mentor
from matching.scoring import MatchScorer

logger = logging.getLogger(__name__)

DEFAULT_BLOCK = 2048
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

    @property
    def weights(self) -> np.ndarray:
        """The scorer's weights, in ``FEATURES`` order."""
        return np.asarray(self.scorer.coef_, dtype=np.float64)

    def scores(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """The (len(rows), len(cols)) score matrix, float32."""
        S = self.E[rows] @ self.M[cols].T
        S += np.float32(self.intercept)
        return S

    def pair_scores(self, ei: np.ndarray, mj: np.ndarray) -> np.ndarray:
        """Scores of the pairs (ei[p], mj[p]) in float64."""
        return np.einsum("ij,ij->i", self.E[ei], self.M[mj], dtype=np.float64) + self.intercept

    def feasible_mask(self, i: int) -> np.ndarray:
        """Boolean mask over mentors that entrepreneur ``i`` may be matched to (all hard constraints + time)."""
        mask = np.zeros(len(self.mentors), dtype=bool)
        cand = self.group_mentors[self.e_group[i]]
        ok = common_minutes(self.ents.bitmaps[i][None, :], self.ments.bitmaps[cand]) > 0
        mask[cand[ok]] = True
        return mask


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
    scorer = scorer or MatchScorer.from_priors()
    encoder = ProfileEncoder().fit([*entrepreneurs, *mentors], history=history)
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
    return MatchProblem(entrepreneurs, mentors, scorer, ents, ments, E, M, scorer.intercept_, free, e_group, group_mentors)


def topk_rows(S: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Column indexes and values of the ``k`` largest entries of every row, best first.

    For wide rows it first keeps the ``k`` column groups with the largest maxima (the top ``k``
    entries can only lie in those), so the selection touches each score once.
    """
    B, n = S.shape
    k = min(k, n)
    if k <= 0:
        return np.zeros((B, 0), dtype=np.int64), np.zeros((B, 0), dtype=S.dtype)
    if n <= 4 * _GROUP or k * _GROUP * 2 >= n:
        idx = np.argpartition(S, n - k, axis=1)[:, n - k :] if k < n else np.broadcast_to(np.arange(n), (B, n)).copy()
    else:
        groups = -(-n // _GROUP)
        pad = groups * _GROUP - n
        P = np.pad(S, ((0, 0), (0, pad)), constant_values=-np.inf) if pad else S
        G = P.reshape(B, groups, _GROUP)
        gmax = G.max(axis=2)
        gsel = np.argpartition(gmax, groups - k, axis=1)[:, groups - k :]
        sub = np.take_along_axis(G, gsel[:, :, None], axis=1).reshape(B, k * _GROUP)
        pos = np.argpartition(sub, k * _GROUP - k, axis=1)[:, k * _GROUP - k :]
        idx = gsel[np.arange(B)[:, None], pos // _GROUP] * _GROUP + pos % _GROUP
    vals = np.take_along_axis(S, idx, axis=1)
    order = np.argsort(-vals, axis=1, kind="stable")
    return np.take_along_axis(idx, order, axis=1), np.take_along_axis(vals, order, axis=1)


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
    ok = common_minutes(problem.ents.bitmaps[rows][:, None, :], problem.ments.bitmaps[mi]) > 0
    short = np.flatnonzero((ok.sum(axis=1) < k) & (kk < len(cand)))
    vals = np.where(ok, vals.astype(np.float64), -np.inf)
    order = np.argsort(-vals, axis=1, kind="stable")[:, :k]
    sel_v = np.take_along_axis(vals, order, axis=1)
    sel_m = np.take_along_axis(mi, order, axis=1)
    n = sel_v.shape[1]
    out_m[:, :n] = np.where(np.isfinite(sel_v), sel_m, -1)
    out_s[:, :n] = sel_v
    for r in short:  # rare: most of the best mentors share no time with this entrepreneur
        okr = common_minutes(problem.ents.bitmaps[rows[r]][None, :], problem.ments.bitmaps[cand]) > 0
        row = np.where(okr, S[r].astype(np.float64), -np.inf)
        top = np.argsort(-row, kind="stable")[:k]
        good = np.isfinite(row[top])
        out_m[r] = -1
        out_s[r] = -np.inf
        out_m[r, : good.sum()] = cand[top[good]]
        out_s[r, : good.sum()] = row[top[good]]
    return out_m, out_s


def rank_arrays(problem: MatchProblem, top: int = 10, block_size: int = DEFAULT_BLOCK, rows: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For every entrepreneur row: the indexes (-1 for none) and scores of its best ``top`` mentors.

    Returns ``(rows, mentor_index[n, top], score[n, top])`` with rows in the input order.
    """
    rows_all = np.arange(len(problem.entrepreneurs)) if rows is None else np.asarray(rows, dtype=np.int64)
    pos = {int(r): p for p, r in enumerate(rows_all)} if rows is not None else None
    out_m = np.full((len(rows_all), top), -1, dtype=np.int64)
    out_s = np.full((len(rows_all), top), -np.inf, dtype=np.float64)
    for blk, cand in iter_blocks(problem, rows_all, block_size):
        if len(cand) == 0:
            continue
        S = problem.scores(blk, cand)
        m, s = top_feasible(problem, blk, cand, S, top)
        at = blk if pos is None else np.array([pos[int(r)] for r in blk])
        out_m[at], out_s[at] = m, s
    return rows_all, out_m, out_s


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


def _masks(items: Sequence[tuple[str, ...]], vocab: dict[str, int]) -> np.ndarray:
    out = np.zeros(len(items), dtype=np.int64)
    for n, xs in enumerate(items):
        v = 0
        for x in xs:
            b = vocab.get(x)
            if b is not None:
                v |= 1 << b
        out[n] = v
    return out


def _by_unique(keys: np.ndarray, make: Callable[[int], str]) -> np.ndarray:
    uniq, inverse = np.unique(keys, return_inverse=True)
    texts = np.array([make(int(k)) for k in uniq], dtype=object)
    return texts[inverse]


def reason_texts(problem: MatchProblem, ei: np.ndarray, mj: np.ndarray, lang: str = "en", limit: int = 4) -> list[str]:
    """The short reasons line of every pair (ei[p], mj[p]), as :func:`pair_reasons` would give it.

    Vectorised: each kind of reason is phrased once per distinct value, then the ``limit`` largest
    positive contributions of every pair are joined with '; '.
    """
    ei = np.asarray(ei, dtype=np.int64)
    mj = np.asarray(mj, dtype=np.int64)
    P = len(ei)
    if P == 0:
        return []
    ents, ments = problem.entrepreneurs, problem.mentors
    feats = pair_features(problem.ents, problem.ments, ei, mj)
    contrib = feats * problem.weights
    col = {f: k for k, f in enumerate(FEATURES)}
    cache = problem._text_cache
    if not cache:
        from matching.features import KECAMATAN_CODES, SECTOR_CODES, SUPPORT_CODES

        langs = sorted({x for p in (*ents, *ments) for x in p.languages if x != "id"})[:62]
        lv = {x: b for b, x in enumerate(langs)}
        sv = {x: b for b, x in enumerate(SUPPORT_CODES)}
        msec: dict[tuple[str, ...], int] = {}
        cache.update(
            langs=langs,
            e_lang=_masks([e.languages for e in ents], lv),
            m_lang=_masks([m.languages for m in ments], lv),
            e_needs=_masks([e.needs for e in ents], sv),
            m_exp=_masks([m.expertise for m in ments], sv),
            e_sector=np.array([SECTOR_CODES.index(e.sector) for e in ents], dtype=np.int64),
            m_sectors=np.array([msec.setdefault(m.sectors, len(msec)) for m in ments], dtype=np.int64),
            m_sector_list=list(msec),
            e_online=np.array([e.mode == "online" for e in ents]),
            m_online=np.array([m.mode == "online" for m in ments]),
            e_stage=np.array([STAGES.index(e.stage) for e in ents], dtype=np.int64),
            m_stages=_masks([m.stages for m in ments], {s: b for b, s in enumerate(STAGES)}),
            sectors=SECTOR_CODES,
            support=SUPPORT_CODES,
            kec=KECAMATAN_CODES,
        )
    c = cache
    texts = np.full((P, 9), "", dtype=object)
    weights = np.full((P, 9), -np.inf)

    # sector
    n_sets = len(c["m_sector_list"])
    skey = c["e_sector"][ei] * n_sets + c["m_sectors"][mj]
    has = feats[:, col["sector"]] > 0

    def sector_text(k: int) -> str:
        sector = c["sectors"][k // n_sets]
        msecs = c["m_sector_list"][k % n_sets]
        if sector in msecs:
            return reason("same_sector", sector=sector).text(lang)
        related = next((s for s in msecs if sector_relation(sector, (s,)) > 0), None)
        return reason("related_sector", sector=sector, mentor_sector=related).text(lang) if related else ""

    if has.any():
        texts[has, 0] = _by_unique(skey[has], sector_text)
        weights[has, 0] = contrib[has, col["sector"]]
    # needs
    covered = c["e_needs"][ei] & c["m_exp"][mj]
    has = covered > 0
    if has.any():
        texts[has, 1] = _by_unique(
            covered[has],
            lambda k: reason("needs_covered", areas=",".join(a for b, a in enumerate(c["support"]) if k >> b & 1)).text(lang),
        )
        weights[has, 1] = contrib[has, col["needs_covered"]]
    # stage
    fit = (c["m_stages"][mj] >> c["e_stage"][ei]) & 1
    texts[:, 2] = _by_unique(
        c["e_stage"][ei] * 2 + fit,
        lambda k: reason("stage_fit" if k % 2 else "stage_outside", stage=STAGES[k // 2]).text(lang),
    )
    weights[:, 2] = contrib[:, col["stage_fit"]] + contrib[:, col["stage_gap"]]
    # place
    online = c["e_online"][ei] | c["m_online"][mj]
    nk = len(c["kec"])
    pkey = np.where(online, -1, problem.ents.kec[ei] * nk + problem.ments.kec[mj])
    texts[:, 3] = _by_unique(
        pkey,
        lambda k: reason("online").text(lang)
        if k < 0
        else reason("distance", km=f"{distance_km(c['kec'][k // nk], c['kec'][k % nk]):.1f}").text(lang),
    )
    weights[:, 3] = contrib[:, col["proximity"]]
    # languages beyond Indonesian
    shared = c["e_lang"][ei] & c["m_lang"][mj]
    has = shared > 0
    if has.any():
        texts[has, 4] = _by_unique(
            shared[has],
            lambda k: reason("languages", languages=", ".join(x for b, x in enumerate(c["langs"]) if k >> b & 1)).text(lang),
        )
        weights[has, 4] = contrib[has, col["languages_extra"]]
    # common time
    minutes = common_minutes(problem.ents.bitmaps[ei], problem.ments.bitmaps[mj])
    texts[:, 5] = _by_unique(minutes, lambda k: reason("common_time", hours=_hours(k)).text(lang))
    weights[:, 5] = contrib[:, col["time_match"]]
    # bio
    has = feats[:, col["bio_similarity"]] >= 0.3
    texts[has, 6] = reason("similar_bio").text(lang)
    weights[has, 6] = contrib[has, col["bio_similarity"]]
    # mentor's record
    extra = problem.ments.extra
    n, acc, rn, rsum = extra["proposals"][mj], extra["accepted"][mj], extra["ratings"][mj], extra["rating_sum"][mj]
    has = n >= 3
    if has.any():
        tenths = np.rint(10 * acc[has] / n[has]).astype(np.int64)
        texts[has, 7] = _by_unique(tenths, lambda k: reason("acceptance", accepted=k).text(lang))
        weights[has, 7] = contrib[has, col["mentor_acceptance"]]
    has = rn >= 2
    if has.any():
        tenth = np.rint(10 * rsum[has] / rn[has]).astype(np.int64)
        texts[has, 8] = _by_unique(tenth, lambda k: reason("rating", rating=f"{k / 10:.1f}").text(lang))
        weights[has, 8] = contrib[has, col["mentor_rating"]]

    order = np.argsort(-weights, axis=1, kind="stable")[:, :limit]
    top_w = np.take_along_axis(weights, order, axis=1)
    top_t = np.take_along_axis(texts, order, axis=1)
    show = top_w > 0
    show[:, 0] |= ~show.any(axis=1)  # nothing positive: still say the strongest reason
    out = []
    for t_row, s_row in zip(top_t.tolist(), show.tolist(), strict=True):
        out.append("; ".join(t for t, s in zip(t_row, s_row, strict=True) if s and t))
    return out
