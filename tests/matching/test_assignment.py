"""Assignment: hard constraints and capacities always hold, and the total is the exact optimum."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from scipy.optimize import linear_sum_assignment

from matching.assignment import assign, solve_assignment
from matching.ranking import build_problem
from matching.synthetic import generate_city
from tests.matching.people import breaks_hard_constraint, instance, share_time


def _optimum(problem):
    """Lexicographic optimum (most matched, then total score) by linear_sum_assignment over capacity slots."""
    ents, ments = problem.entrepreneurs, problem.mentors
    slots = [j for j, m in enumerate(ments) for _ in range(m.free_capacity)]
    if not slots:
        return 0, 0.0
    big = 1e4
    W = np.zeros((len(ents), len(slots)))
    for i, e in enumerate(ents):
        for s, j in enumerate(slots):
            if breaks_hard_constraint(e, ments[j]) is None and share_time(e, ments[j]):
                W[i, s] = big + problem.pair_scores(np.array([i]), np.array([j]))[0]
    r, c = linear_sum_assignment(W, maximize=True)
    used = W[r, c] > 0
    return int(used.sum()), float((W[r, c][used] - big).sum())


@settings(max_examples=60, deadline=None)
@given(instance(max_e=9, max_m=5))
def test_assignment_is_feasible_and_equals_the_exact_optimum(inst):
    ents, ments = inst
    result = assign(ents, ments)
    load: dict[str, int] = {}
    for row in result.rows:
        if row.mentor_id is None:
            assert row.reasons
            continue
        e, m = ents[int(row.entrepreneur_id[1:])], ments[int(row.mentor_id[1:])]
        assert breaks_hard_constraint(e, m) is None and share_time(e, m)
        load[m.id] = load.get(m.id, 0) + 1
    for m in ments:
        assert load.get(m.id, 0) <= m.free_capacity
    assert [r.entrepreneur_id for r in result.rows] == [e.id for e in ents]
    n, total = _optimum(build_problem(ents, ments))
    assert result.report.matched == n
    assert abs(result.report.total_score - total) < 1e-3 * max(1, n)
    assert result.report.certified


@settings(max_examples=25, deadline=None)
@given(instance(max_e=9, max_m=5))
def test_fair_assignment_matches_as_many_and_never_lowers_the_worst_score(inst):
    ents, ments = inst
    plain = assign(ents, ments)
    fair = assign(ents, ments, fair=True)
    assert fair.report.matched == plain.report.matched
    if plain.report.matched:
        assert fair.report.lowest_score >= plain.report.lowest_score - 1e-9
    for m in ments:
        assert sum(r.mentor_id == m.id for r in fair.rows) <= m.free_capacity


def test_crowded_instance_matches_as_many_as_the_full_graph():
    """Everyone wants the same few mentors: a top-k graph alone would strand people; the check widens it."""
    city = generate_city(400, 60, seed=11, n_history=0)
    ments = list(city.mentors)
    star = {m.id for m in ments[:4]}
    from dataclasses import replace

    ments = [
        replace(m, capacity=2, active_mentees=0, paused=False, languages=("id",), mode="either", availability=None,
                sectors=("C", "G", "I", "J", "S") if m.id in star else m.sectors,
                expertise=tuple(sorted({"licensing", "financing", "marketing", "digital_marketing", "packaging_branding",
                                        "bookkeeping"})) if m.id in star else m.expertise[:1])
        for m in ments
    ]  # fmt: skip
    ents = [replace(e, languages=("id",), prefers_mentor_gender=None, mode="either", availability=None) for e in city.entrepreneurs]
    problem = build_problem(ents, ments)
    sol = solve_assignment(problem, candidates=3)
    from ortools.graph.python import max_flow

    smf = max_flow.SimpleMaxFlow()
    n_e, n_m = len(ents), len(ments)
    for i in range(n_e):
        smf.add_arc_with_capacity(n_e + n_m, i, 1)
        for j in range(n_m):
            smf.add_arc_with_capacity(i, n_e + j, 1)
    for j, m in enumerate(ments):
        smf.add_arc_with_capacity(n_e + j, n_e + n_m + 1, m.free_capacity)
    smf.solve(n_e + n_m, n_e + n_m + 1)
    assert int((sol.mentor >= 0).sum()) == smf.optimal_flow() == min(n_e, sum(m.free_capacity for m in ments))
    assert sol.certified
    assert np.bincount(sol.mentor[sol.mentor >= 0], minlength=n_m).max() <= 2


def test_report_counts_load_and_explains_the_unmatched():
    city = generate_city(120, 10, seed=4, n_history=0)
    result = assign(city.entrepreneurs, city.mentors)
    rep = result.report
    assert rep.matched == sum(r.mentor_id is not None for r in result.rows)
    assert 0 <= rep.matched_share <= 1
    assert sum(a for a, _ in rep.mentor_load.values()) == rep.matched
    assert all(a <= c for a, c in rep.mentor_load.values())
    assert set(rep.unmatched) == {r.entrepreneur_id for r in result.rows if r.mentor_id is None}
    assert all(rs[0].code in {"mentors_taken", "no_feasible_mentor", "no_mentors"} for rs in rep.unmatched.values())
    assert rep.lines()
