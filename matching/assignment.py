"""Assignment of a whole cohort: one mentor for as many entrepreneurs as possible, then the best total.

The optimum is found by a min-cost flow (OR-Tools) on a candidate graph, and proved to be the optimum
of the *full* graph by an exactness check: from the optimal flow we compute node potentials (a dual
solution) and verify that no left-out feasible pair could improve the result (reduced cost >= 0).
Pairs that fail are added and the flow is solved again, until the certificate holds. The candidate
graph starts with every entrepreneur's best ``candidates`` mentors plus each mentor's best
entrepreneur of every scored block, so that crowded instances (everyone wants the same few mentors)
usually need no second round.

Edge weights are ``BIG + scaled score`` with ``BIG`` larger than any total score difference, so the
flow first maximises the number matched and only then the total score.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING

import numpy as np

from matching.explain import Reason, reason, summary
from matching.profiles import Entrepreneur, HistoryRecord, Mentor
from matching.ranking import (
    DEFAULT_BLOCK,
    MatchProblem,
    _descending_bits,
    build_problem,
    explain_exclusions,
    map_blocks,
    pair_reasons,
    top_feasible,
)

if TYPE_CHECKING:
    from matching.scoring import MatchScorer

logger = logging.getLogger(__name__)

SCALE = 10_000  # score units per 1.0, for integer flow costs
MAX_ROUNDS = 12
_ADD_PER_ROW = 16
#: Entrepreneurs kept per mentor beyond its free places, so that the optimum rarely needs more.
COLUMN_MARGIN = 10


@dataclass(frozen=True, slots=True)
class AssignedPair:
    """One row of an assignment: the entrepreneur, its mentor (None when unmatched), score and reasons."""

    entrepreneur_id: str
    mentor_id: str | None
    score: float | None
    reasons: tuple[Reason, ...]


@dataclass
class AssignmentReport:
    """What an assignment achieved: share matched, scores, mentor load, and who stayed unmatched and why."""

    entrepreneurs: int
    matched: int
    total_score: float
    mean_score: float | None
    lowest_score: float | None
    mentor_load: dict[str, tuple[int, int]]
    unmatched: dict[str, tuple[Reason, ...]]
    candidate_edges: int = 0
    rounds: int = 0
    certified: bool = False
    fair: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def matched_share(self) -> float:
        """Share of entrepreneurs who got a mentor."""
        return self.matched / self.entrepreneurs if self.entrepreneurs else 0.0

    def lines(self) -> list[str]:
        """The report as a few lines of English."""
        used = sum(1 for a, _ in self.mentor_load.values() if a)
        full = sum(1 for a, c in self.mentor_load.values() if c and a >= c)
        out = [
            f"matched {self.matched}/{self.entrepreneurs} ({100 * self.matched_share:.1f}%)",
            f"score mean {self.mean_score:.3f}, lowest {self.lowest_score:.3f}" if self.matched else "no pair matched",
            f"mentors used {used}/{len(self.mentor_load)}, filled to capacity {full}",
            f"candidate pairs {self.candidate_edges}, rounds {self.rounds}, optimum certified: {self.certified}",
        ]
        counts: dict[str, int] = {}
        for rs in self.unmatched.values():
            counts[rs[0].code] = counts.get(rs[0].code, 0) + 1
        if counts:
            out.append("unmatched: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items(), key=lambda kv: -kv[1])))
        return out + self.notes


@dataclass
class Assignment:
    """An assignment's rows (one per entrepreneur, input order) and its report."""

    rows: list[AssignedPair]
    report: AssignmentReport


@dataclass
class AssignmentArrays:
    """The raw solution: for each entrepreneur row the mentor index (-1 if none) and score."""

    mentor: np.ndarray
    score: np.ndarray
    edges: int
    rounds: int
    certified: bool


class _Graph:
    """Candidate edges, deduplicated, with the bounds that the exactness check needs.

    ``row_bound[i]``: no feasible pair of entrepreneur ``i`` left out of the graph scores above it
    (``-inf``: every feasible pair of ``i`` is in). ``col_bound[j]``: the same for mentor ``j``.
    """

    def __init__(self, n_e: int, n_m: int):
        self.ei: list[np.ndarray] = []
        self.mj: list[np.ndarray] = []
        self.row_bound = np.full(n_e, -np.inf)
        self.col_bound = np.full(n_m, -np.inf)
        self.keys = np.zeros(0, dtype=np.int64)

    def add(self, ei: np.ndarray, mj: np.ndarray) -> None:
        self.ei.append(np.asarray(ei, dtype=np.int64))
        self.mj.append(np.asarray(mj, dtype=np.int64))

    def arrays(self, n_m: int) -> tuple[np.ndarray, np.ndarray]:
        if not self.ei:
            self.keys = np.zeros(0, dtype=np.int64)
            return self.keys, self.keys
        self.keys = np.unique(np.concatenate(self.ei) * n_m + np.concatenate(self.mj))
        self.ei, self.mj = [self.keys // n_m], [self.keys % n_m]
        return self.ei[0], self.mj[0]

    def contains(self, ei: np.ndarray, mj: np.ndarray, n_m: int) -> np.ndarray:
        key = ei * n_m + mj
        pos = np.minimum(np.searchsorted(self.keys, key), max(len(self.keys) - 1, 0))
        return self.keys[pos] == key if len(self.keys) else np.zeros(len(key), dtype=bool)


class _ColumnPool:
    """Each mentor's best feasible entrepreneurs seen so far (at least ``want[j]`` of them), kept with
    a running threshold so that a scored block only hands over the few entries above it."""

    def __init__(self, want: np.ndarray):
        self.want = want
        self.threshold = np.full(len(want), -np.inf, dtype=np.float32)
        self.bound = np.full(len(want), -np.inf)  # no entry left out of the pool scores above it
        self.parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self.size = 0

    def add(self, ei: np.ndarray, mj: np.ndarray, s: np.ndarray, cut: np.ndarray, cand: np.ndarray) -> None:
        np.maximum.at(self.bound, cand, cut.astype(np.float64))
        self.parts.append((ei, mj, s))
        self.size += len(ei)
        if self.size > 4 * len(self.want) + 1_000_000:
            self.prune()

    def prune(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if not self.parts:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        ei, mj, s = (np.concatenate(x) for x in zip(*self.parts, strict=True))
        order = np.argsort((mj << 32) | _descending_bits(s).astype(np.int64), kind="stable")
        ei, mj, s = ei[order], mj[order], s[order]
        first = np.searchsorted(mj, np.arange(len(self.want)))
        rank_in_col = np.arange(len(mj)) - first[mj]
        keep = rank_in_col < self.want[mj]
        dropped = ~keep
        np.maximum.at(self.bound, mj[dropped], s[dropped].astype(np.float64))
        ei, mj, s = ei[keep], mj[keep], s[keep]
        full = np.flatnonzero((np.bincount(mj, minlength=len(self.want)) >= self.want) & (self.want > 0))
        last = np.searchsorted(mj, full, side="right") - 1
        self.threshold[full] = np.maximum(self.threshold[full], s[last])
        self.parts = [(ei, mj, s)]
        self.size = len(ei)
        return ei, mj, s


def _candidate_graph(problem: MatchProblem, candidates: int, block_size: int, margin: int = COLUMN_MARGIN) -> _Graph:
    """One scoring pass: each entrepreneur's best ``candidates`` feasible mentors and each mentor's best
    ``free + margin`` feasible entrepreneurs, with the bounds on everything left out."""
    n_e, n_m = len(problem.entrepreneurs), len(problem.mentors)
    graph = _Graph(n_e, n_m)
    pool = _ColumnPool(np.where(problem.free > 0, problem.free + margin, 0))
    rows_of = partial(_graph_block, problem, candidates, pool)
    for blk, cand, (m, _, bound, col) in map_blocks(problem, rows_of, None, block_size):
        ok = m >= 0
        graph.add(np.broadcast_to(blk[:, None], m.shape)[ok], m[ok])
        graph.row_bound[blk] = bound
        pool.add(*col, cand)
    ei, mj, _ = pool.prune()
    graph.add(ei, mj)
    graph.col_bound = pool.bound
    return graph


def _graph_block(
    problem: MatchProblem, k: int, pool: _ColumnPool, blk: np.ndarray, cand: np.ndarray, S: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    m, s = top_feasible(problem, blk, cand, S, k)
    full = (m >= 0).all(axis=1) & (len(cand) > k)
    bound = np.where(full, s[:, -1], -np.inf)  # -inf: every feasible mentor is listed
    # columns: a cut per mentor that its best ``want`` entries of this block reach (from the maxima
    # of interleaved row groups), raised to the pool's running threshold
    B = S.shape[0]
    want = int(pool.want[cand].max(initial=1))  # the group's mentors all have free places
    g = B // 8
    if g >= 2 * want:
        gmax = S[: g * 8].reshape(8, g, -1).max(axis=0)
        cut = np.partition(gmax, g - want, axis=0)[g - want]
    else:
        cut = np.full(S.shape[1], -np.inf, dtype=np.float32)
    cut = np.maximum(cut, pool.threshold[cand])
    r, c = np.nonzero(cut[None, :] <= S)
    ei, mj = blk[r], cand[c]
    ok = problem.common_time(ei, mj) > 0
    return m, s, bound, (ei[ok], mj[ok], S[r[ok], c[ok]], cut)


def _solve_flow(
    n_e: int, n_m: int, ei: np.ndarray, mj: np.ndarray, w: np.ndarray, free: np.ndarray
) -> tuple[np.ndarray, np.ndarray | None]:
    """Max-weight b-matching by min-cost flow; returns (flow per edge, node potentials or None)."""
    ue, e_local = np.unique(ei, return_inverse=True)
    um, m_local = np.unique(mj, return_inverse=True)
    ne, nm = len(ue), len(um)
    src, snk = ne + nm, ne + nm + 1
    from ortools.graph.python import min_cost_flow  # imported by the assign command only

    smcf = min_cost_flow.SimpleMinCostFlow()
    tails = np.concatenate([np.full(ne, src), e_local, ne + np.arange(nm), [src]]).astype(np.int32)
    heads = np.concatenate([np.arange(ne), ne + m_local, np.full(nm, snk), [snk]]).astype(np.int32)
    caps = np.concatenate([np.ones(ne), np.ones(len(ei)), free[um], [ne]]).astype(np.int64)
    costs = np.concatenate([np.zeros(ne), -w, np.zeros(nm), [0]]).astype(np.int64)
    arcs = smcf.add_arcs_with_capacity_and_unit_cost(tails, heads, caps, costs)
    supplies = np.zeros(ne + nm + 2, dtype=np.int64)
    supplies[src], supplies[snk] = ne, -ne
    smcf.set_nodes_supplies(np.arange(ne + nm + 2, dtype=np.int32), supplies)
    status = smcf.solve()
    if status != smcf.OPTIMAL:
        raise RuntimeError(f"min-cost flow failed with status {status}")
    flows = smcf.flows(arcs)
    edge_flow = flows[ne : ne + len(ei)]
    # residual graph and Bellman-Ford potentials (vectorised), the dual certificate
    cap_left = caps - flows
    has_fwd = cap_left > 0
    has_bwd = flows > 0
    t = np.concatenate([tails[has_fwd], heads[has_bwd]]).astype(np.int64)
    h = np.concatenate([heads[has_fwd], tails[has_bwd]]).astype(np.int64)
    c = np.concatenate([costs[has_fwd], -costs[has_bwd]])
    order = np.argsort(h, kind="stable")
    t, h, c = t[order], h[order], c[order]
    starts = np.flatnonzero(np.r_[True, np.diff(h) > 0])
    heads_u = h[starts]
    d = np.zeros(ne + nm + 2, dtype=np.int64)
    for _ in range(ne + nm + 3):
        best = np.minimum.reduceat(d[t] + c, starts)
        new = d.copy()
        np.minimum.at(new, heads_u, best)
        if np.array_equal(new, d):
            break
        d = new
    else:
        logger.warning("potentials did not converge: no optimality certificate")
        return edge_flow, None
    pot = np.zeros(n_e + n_m + 2, dtype=np.int64)
    pot[:n_e] = np.iinfo(np.int64).min // 4  # entrepreneurs outside the graph have no feasible pair
    pot[ue] = d[:ne]
    pot[n_e : n_e + n_m] = d[snk]  # a mentor outside the graph: only its (unused) arc to the sink
    pot[n_e + um] = d[ne : ne + nm]
    return edge_flow, pot


def _weights(scores: np.ndarray, lo: float, big: int) -> np.ndarray:
    return big + np.rint((scores - lo) * SCALE).astype(np.int64)


def solve_assignment(
    problem: MatchProblem,
    *,
    fair: bool = False,
    candidates: int = 12,
    block_size: int = DEFAULT_BLOCK,
    max_rounds: int = MAX_ROUNDS,
) -> AssignmentArrays:
    """The optimal assignment as arrays (see the module docstring for the method)."""
    n_e, n_m = len(problem.entrepreneurs), len(problem.mentors)
    mentor = np.full(n_e, -1, dtype=np.int64)
    score = np.full(n_e, np.nan)
    # sized by need: when places are scarce, the mentors' own best candidates carry the optimum
    places = int(problem.free.sum())
    k = int(min(candidates, max(1, np.ceil(candidates * places / max(n_e, 1)))))
    graph = _candidate_graph(problem, k, block_size)
    ei, mj = graph.arrays(n_m)
    if len(ei) == 0:
        return AssignmentArrays(mentor, score, 0, 0, True)
    bound = float(np.abs(problem.weights).sum() * 3 + abs(problem.intercept) + 1)
    lo = -bound
    big = (min(n_e, places) + 1) * int(2 * bound * SCALE + 1) + 1
    certified = False
    rounds = 0
    keys, s = graph.keys, problem.pair_scores(ei, mj)
    while True:
        rounds += 1
        if len(keys) != len(graph.keys):  # score only the pairs added since the last round
            old = np.searchsorted(graph.keys, keys)
            fresh = np.ones(len(graph.keys), dtype=bool)
            fresh[old] = False
            s_all = np.empty(len(graph.keys))
            s_all[old] = s
            s_all[fresh] = problem.pair_scores(ei[fresh], mj[fresh])
            keys, s = graph.keys, s_all
        w = _weights(s, lo, big)
        flow, pot = _solve_flow(n_e, n_m, ei, mj, w, problem.free)
        if pot is None or rounds >= max_rounds:
            break
        add_e, add_m = _violations(problem, graph, pot, lo, big, block_size)
        logger.info("round %d: %d candidate pairs, %d improving pairs found", rounds, len(ei), len(add_e))
        if len(add_e) == 0:
            certified = True
            break
        graph.add(add_e, add_m)
        ei, mj = graph.arrays(n_m)
    sel = flow > 0
    if fair:
        ei_f, mj_f, s_f = _fair(problem, ei, mj, s, int(sel.sum()), lo, big)
        mentor[ei_f], score[ei_f] = mj_f, s_f
    else:
        mentor[ei[sel]], score[ei[sel]] = mj[sel], s[sel]
    return AssignmentArrays(mentor, score, len(ei), rounds, certified)


def _violations(
    problem: MatchProblem, graph: _Graph, pot: np.ndarray, lo: float, big: int, block_size: int
) -> tuple[np.ndarray, np.ndarray]:
    """Feasible pairs outside the graph whose reduced cost is negative (they could improve the flow).

    A pair left out scores at most ``min(row_bound[i], col_bound[j])``, so it cannot improve the
    flow when that bound's weight is within ``d[i] - d[j]``. Per group of entrepreneurs this is a
    dominance query (rows sorted by ``d[i] - W(row_bound[i])``, prefix minima of ``d[i]``); only the
    mentors it cannot clear are scored exactly against the group.
    """
    n_e, n_m = len(problem.entrepreneurs), len(problem.mentors)
    d_e = pot[:n_e].astype(np.float64)
    d_m = pot[n_e : n_e + n_m].astype(np.float64)
    w_row = np.where(np.isfinite(graph.row_bound), _weights(np.nan_to_num(graph.row_bound, neginf=lo), lo, big), 0).astype(np.float64)
    w_col = np.where(np.isfinite(graph.col_bound), _weights(np.nan_to_num(graph.col_bound, neginf=lo), lo, big), 0).astype(np.float64)
    a_row = np.where(np.isfinite(graph.row_bound), d_e - w_row, np.inf)  # row i clears j when d[j] <= a_row[i]
    col_open = np.isfinite(graph.col_bound)  # -inf: every feasible pair of the mentor is in the graph
    add_e, add_m = [], []
    groups = problem.e_group
    order = np.argsort(groups, kind="stable")
    cuts = np.flatnonzero(np.diff(groups[order])) + 1
    for rows in np.split(order, cuts):
        cand = problem.group_mentors[groups[rows[0]]]
        cand = cand[col_open[cand]]
        if len(rows) == 0 or len(cand) == 0:
            continue
        by_a = np.argsort(a_row[rows], kind="stable")
        a_sorted = a_row[rows][by_a]
        prefix_min_d = np.minimum.accumulate(d_e[rows][by_a])
        n_below = np.searchsorted(a_sorted, d_m[cand] - 0.5, side="right")  # rows with a < d[j] (integers)
        has = n_below > 0
        suspect = np.zeros(len(cand), dtype=bool)
        suspect[has] = prefix_min_d[n_below[has] - 1] < w_col[cand[has]] + d_m[cand[has]] - 0.5
        if not suspect.any():
            continue
        cols = cand[suspect]
        for start in range(0, len(rows), block_size):
            blk = rows[start : start + block_size]
            S = problem.E[blk] @ problem.M[cols].T
            S += np.float32(problem.intercept)
            W = big + np.rint((S.astype(np.float64) - lo) * SCALE)
            slack = W - (d_e[blk][:, None] - d_m[cols][None, :])
            r, c = np.nonzero(slack > 0.5)
            if len(r) == 0:
                continue
            ok = problem.common_time(blk[r], cols[c]) > 0
            ok &= ~graph.contains(blk[r], cols[c], n_m)
            r, c, v = r[ok], c[ok], slack[r[ok], c[ok]]
            order_rc = np.lexsort((-v, r))
            r, c = r[order_rc], c[order_rc]
            first = np.r_[0, np.flatnonzero(np.diff(r)) + 1]
            rank_in_row = np.arange(len(r)) - np.repeat(first, np.diff(np.r_[first, len(r)]))
            keep = rank_in_row < _ADD_PER_ROW
            add_e.append(blk[r[keep]])
            add_m.append(cols[c[keep]])
    if not add_e:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate(add_e), np.concatenate(add_m)


def _max_matched(ei: np.ndarray, mj: np.ndarray, free: np.ndarray) -> int:
    ue, e_local = np.unique(ei, return_inverse=True)
    um, m_local = np.unique(mj, return_inverse=True)
    ne, nm = len(ue), len(um)
    src, snk = ne + nm, ne + nm + 1
    from ortools.graph.python import max_flow

    smf = max_flow.SimpleMaxFlow()
    tails = np.concatenate([np.full(ne, src), e_local, ne + np.arange(nm)]).astype(np.int32)
    heads = np.concatenate([np.arange(ne), ne + m_local, np.full(nm, snk)]).astype(np.int32)
    caps = np.concatenate([np.ones(ne), np.ones(len(ei)), free[um]]).astype(np.int64)
    smf.add_arcs_with_capacity(tails, heads, caps)
    smf.solve(src, snk)
    return int(smf.optimal_flow())


def _fair(
    problem: MatchProblem, ei: np.ndarray, mj: np.ndarray, s: np.ndarray, target: int, lo: float, big: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Max-min: the highest floor on scores that still matches ``target`` people, then the best total."""
    levels = np.unique(s)
    a, b = 0, len(levels) - 1  # levels[a] is always feasible (the whole graph)
    while a < b:
        mid = (a + b + 1) // 2
        keep = s >= levels[mid]
        if _max_matched(ei[keep], mj[keep], problem.free) >= target:
            a = mid
        else:
            b = mid - 1
    keep = s >= levels[a]
    ei, mj, s = ei[keep], mj[keep], s[keep]
    flow, _ = _solve_flow(len(problem.entrepreneurs), len(problem.mentors), ei, mj, _weights(s, lo, big), problem.free)
    sel = flow > 0
    return ei[sel], mj[sel], s[sel]


def unmatched_reasons(problem: MatchProblem, rows: np.ndarray) -> dict[int, tuple[Reason, ...]]:
    """Why each unmatched entrepreneur row got no mentor: no feasible mentor (and why), or all taken."""
    out: dict[int, tuple[Reason, ...]] = {}
    rows = np.asarray(rows, dtype=np.int64)
    n_ok = _feasible_counts(problem, rows)
    taken: dict[int, tuple[Reason, ...]] = {}
    cache: dict[tuple, tuple[Reason, ...]] = {}
    for i, n in zip(rows.tolist(), n_ok.tolist(), strict=True):
        if n:
            if n not in taken:
                taken[n] = (reason("mentors_taken", count=n),)
            out[i] = taken[n]
            continue
        e = problem.entrepreneurs[i]
        key = (problem.e_group[i], e.availability)
        if key not in cache:
            if not problem.mentors:
                cache[key] = (reason("no_mentors"),)
            else:
                counts: dict[str, int] = {}
                for rs in explain_exclusions(e, problem.mentors).values():
                    for r in rs:
                        counts[r.code] = counts.get(r.code, 0) + 1
                why = max(counts, key=lambda k: counts[k]) if counts else "full"
                cache[key] = (reason("no_feasible_mentor", why=why),)
        out[i] = cache[key]
    return out


def _feasible_counts(problem: MatchProblem, rows: np.ndarray) -> np.ndarray:
    """How many mentors each entrepreneur row may be matched to (hard constraints, free places, time)."""
    out = np.zeros(len(rows), dtype=np.int64)
    if problem.pattern_minutes is not None:
        e_pat, m_pat = problem.ents.extra["pattern"], problem.ments.extra["pattern"]
        meets = (problem.pattern_minutes > 0).astype(np.int64)
        for g in np.unique(problem.e_group[rows]):
            at = np.flatnonzero(problem.e_group[rows] == g)
            cand = problem.group_mentors[g]
            per_pattern = meets @ np.bincount(m_pat[cand], minlength=meets.shape[1])
            out[at] = per_pattern[e_pat[rows[at]]]
        return out
    for p, i in enumerate(rows.tolist()):  # pragma: no cover - too many availability patterns for a table
        cand = problem.group_mentors[problem.e_group[i]]
        out[p] = int((problem.common_time(np.full(len(cand), i), cand) > 0).sum())
    return out


def build_report(problem: MatchProblem, sol: AssignmentArrays, fair: bool) -> tuple[AssignmentReport, dict[int, tuple[Reason, ...]]]:
    """The report of a solution, and the unmatched reasons by entrepreneur row."""
    matched = sol.mentor >= 0
    scores = sol.score[matched]
    load = np.bincount(sol.mentor[matched], minlength=len(problem.mentors))
    unmatched = unmatched_reasons(problem, np.flatnonzero(~matched))
    report = AssignmentReport(
        entrepreneurs=len(problem.entrepreneurs),
        matched=int(matched.sum()),
        total_score=float(scores.sum()),
        mean_score=float(scores.mean()) if len(scores) else None,
        lowest_score=float(scores.min()) if len(scores) else None,
        mentor_load={m.id: (int(load[j]), int(problem.free[j])) for j, m in enumerate(problem.mentors)},
        unmatched={problem.entrepreneurs[i].id: r for i, r in unmatched.items()},
        candidate_edges=sol.edges,
        rounds=sol.rounds,
        certified=sol.certified and not fair,
        fair=fair,
    )
    if fair:
        report.notes.append("fair: lowest score raised first on the certified candidate graph, then the total")
    return report, unmatched


def assign(
    entrepreneurs: Sequence[Entrepreneur],
    mentors: Sequence[Mentor],
    *,
    scorer: MatchScorer | None = None,
    history: Sequence[HistoryRecord] = (),
    fair: bool = False,
    candidates: int = 12,
    block_size: int = DEFAULT_BLOCK,
) -> Assignment:
    """One mentor for as many entrepreneurs as possible, within free capacity, of highest total score.

    Parameters
    ----------
    fair : bool
        Favour the worst-off: among assignments matching the most people, raise the lowest score
        first, then maximise the total.
    candidates : int
        Mentors per entrepreneur in the first candidate graph (the exactness check widens it).
    """
    problem = build_problem(entrepreneurs, mentors, scorer=scorer, history=history)
    sol = solve_assignment(problem, fair=fair, candidates=candidates, block_size=block_size)
    report, unmatched = build_report(problem, sol, fair)
    rows = []
    for i, e in enumerate(problem.entrepreneurs):
        j = int(sol.mentor[i])
        if j >= 0:
            rs = summary(pair_reasons(problem, i, j), limit=8)
            rows.append(AssignedPair(e.id, problem.mentors[j].id, float(sol.score[i]), rs))
        else:
            rows.append(AssignedPair(e.id, None, None, unmatched[i]))
    return Assignment(rows, report)
