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

import numpy as np
from ortools.graph.python import max_flow, min_cost_flow

from matching.explain import Reason, reason, summary
from matching.features import common_minutes
from matching.profiles import Entrepreneur, HistoryRecord, Mentor
from matching.ranking import (
    DEFAULT_BLOCK,
    MatchProblem,
    build_problem,
    explain_exclusions,
    iter_blocks,
    pair_reasons,
    top_feasible,
)
from matching.scoring import MatchScorer

logger = logging.getLogger(__name__)

SCALE = 10_000  # score units per 1.0, for integer flow costs
MAX_ROUNDS = 12
_ADD_PER_ROW = 16


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
    """Candidate edges, deduplicated, with per-row bounds for the exactness check."""

    def __init__(self, n_e: int):
        self.ei: list[np.ndarray] = []
        self.mj: list[np.ndarray] = []
        self.kth = np.full(n_e, -np.inf)

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


def _candidate_graph(problem: MatchProblem, candidates: int, block_size: int) -> _Graph:
    graph = _Graph(len(problem.entrepreneurs))
    ebits, mbits = problem.ents.bitmaps, problem.ments.bitmaps
    for blk, cand in iter_blocks(problem, None, block_size):
        if len(cand) == 0:
            continue
        S = problem.scores(blk, cand)
        m, s = top_feasible(problem, blk, cand, S, candidates)
        ok = m >= 0
        graph.add(np.broadcast_to(blk[:, None], m.shape)[ok], m[ok])
        full = ok.all(axis=1) & (len(cand) > candidates)
        graph.kth[blk] = np.where(full, s[:, -1], -np.inf)  # -inf: every feasible mentor is listed
        best = S.argmax(axis=0)  # each mentor's best entrepreneur of this block
        rows = blk[best]
        keep = common_minutes(ebits[rows], mbits[cand]) > 0
        graph.add(rows[keep], cand[keep])
    return graph


def _solve_flow(
    n_e: int, n_m: int, ei: np.ndarray, mj: np.ndarray, w: np.ndarray, free: np.ndarray
) -> tuple[np.ndarray, np.ndarray | None]:
    """Max-weight b-matching by min-cost flow; returns (flow per edge, node potentials or None)."""
    ue, e_local = np.unique(ei, return_inverse=True)
    um, m_local = np.unique(mj, return_inverse=True)
    ne, nm = len(ue), len(um)
    src, snk = ne + nm, ne + nm + 1
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
    graph = _candidate_graph(problem, candidates, block_size)
    ei, mj = graph.arrays(n_m)
    if len(ei) == 0:
        return AssignmentArrays(mentor, score, 0, 0, True)
    bound = float(np.abs(problem.weights).sum() * 3 + abs(problem.intercept) + 1)
    lo = -bound
    big = (n_e + 1) * int(2 * bound * SCALE + 1) + 1
    certified = False
    rounds = 0
    while True:
        rounds += 1
        s = problem.pair_scores(ei, mj)
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
    """Feasible pairs outside the graph whose reduced cost is negative (they could improve the flow)."""
    n_e = len(problem.entrepreneurs)
    d_e = pot[:n_e]
    d_m = pot[n_e : n_e + len(problem.mentors)]
    group_max = np.array([d_m[g].max() if len(g) else 0 for g in problem.group_mentors])
    limit = d_e - group_max[problem.e_group]
    kth_w = np.where(np.isfinite(graph.kth), _weights(np.nan_to_num(graph.kth, neginf=lo), lo, big), 0)
    suspect = np.flatnonzero(np.isfinite(graph.kth) & (kth_w > limit + 1))
    add_e, add_m = [], []
    for blk, cand in iter_blocks(problem, suspect, block_size):
        S = problem.scores(blk, cand).astype(np.float64)
        W = big + np.rint((S - lo) * SCALE)
        slack = W - (d_e[blk][:, None] - d_m[cand][None, :]).astype(np.float64)
        r, c = np.nonzero(slack > 1)
        if len(r) == 0:
            continue
        ok = common_minutes(problem.ents.bitmaps[blk[r]], problem.ments.bitmaps[cand[c]]) > 0
        ok &= ~graph.contains(blk[r], cand[c], len(problem.mentors))
        r, c, v = r[ok], c[ok], slack[r[ok], c[ok]]
        order = np.lexsort((-v, r))
        r, c = r[order], c[order]
        first = np.r_[0, np.flatnonzero(np.diff(r)) + 1]
        rank_in_row = np.arange(len(r)) - np.repeat(first, np.diff(np.r_[first, len(r)]))
        keep = rank_in_row < _ADD_PER_ROW
        add_e.append(blk[r[keep]])
        add_m.append(cand[c[keep]])
    if not add_e:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate(add_e), np.concatenate(add_m)


def _max_matched(ei: np.ndarray, mj: np.ndarray, free: np.ndarray) -> int:
    ue, e_local = np.unique(ei, return_inverse=True)
    um, m_local = np.unique(mj, return_inverse=True)
    ne, nm = len(ue), len(um)
    src, snk = ne + nm, ne + nm + 1
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
    cache: dict[tuple, tuple[Reason, ...]] = {}
    for i in rows:
        i = int(i)
        cand = problem.group_mentors[problem.e_group[i]]
        if len(cand):
            n_ok = int((common_minutes(problem.ents.bitmaps[i][None, :], problem.ments.bitmaps[cand]) > 0).sum())
            if n_ok:
                out[i] = (reason("mentors_taken", count=n_ok),)
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
