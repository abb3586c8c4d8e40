"""Ranking: only feasible mentors, best first, equal to a brute-force ranking; fast path for one person."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings

from matching.explain import reasons_text
from matching.ranking import build_problem, explain_exclusions, pair_reasons, rank, rank_arrays, reason_texts
from matching.synthetic import generate_city
from tests.matching.people import breaks_hard_constraint, instance, share_time


@settings(max_examples=60, deadline=None)
@given(instance())
def test_ranked_mentors_never_break_a_hard_constraint_and_match_brute_force(inst):
    ents, ments = inst
    problem = build_problem(ents, ments)
    out = rank(ents, ments, top=3, problem=problem)
    by_e: dict[str, list] = {}
    for s in out:
        e = ents[int(s.entrepreneur_id[1:])]
        m = ments[int(s.mentor_id[1:])]
        assert breaks_hard_constraint(e, m) is None
        assert share_time(e, m)
        assert s.reasons
        by_e.setdefault(e.id, []).append(s)
    for i, e in enumerate(ents):
        feasible = [j for j, m in enumerate(ments) if breaks_hard_constraint(e, m) is None and share_time(e, m)]
        got = by_e.get(e.id, [])
        assert [s.rank for s in got] == list(range(1, len(got) + 1))
        assert len(got) == min(3, len(feasible))
        brute = sorted((problem.pair_scores(np.array([i]), np.array([j]))[0] for j in feasible), reverse=True)[:3]
        np.testing.assert_allclose([s.score for s in got], brute, rtol=1e-4, atol=1e-4)


def test_wide_rows_take_the_group_topk_path_and_agree_with_a_full_sort():
    city = generate_city(300, 700, seed=3, n_history=0)
    problem = build_problem(city.entrepreneurs, city.mentors)
    rows, mi, sc = rank_arrays(problem, top=10, block_size=64)
    for i in range(0, 300, 37):
        mask = problem.feasible_mask(i)
        cols = np.flatnonzero(mask)
        full = np.sort(problem.pair_scores(np.full(len(cols), i), cols))[::-1][:10]
        np.testing.assert_allclose(sc[i][: len(full)], full, rtol=1e-4, atol=1e-4)


def test_reasons_name_the_sector_needs_and_distance_in_both_languages():
    city = generate_city(50, 30, seed=5, n_history=0)
    problem = build_problem(city.entrepreneurs, city.mentors)
    out = rank(city.entrepreneurs, city.mentors, top=5, problem=problem)
    first = out[0]
    assert reasons_text(first.reasons, "en") and reasons_text(first.reasons, "id")
    assert abs(sum(r.weight for r in first.reasons if r.code not in {"similar_bio"}) - 0) >= 0
    texts = reason_texts(problem, np.array([0]), np.array([city.mentors.index(next(m for m in city.mentors if m.id == first.mentor_id))]))
    assert texts[0]


def test_exclusions_say_why_each_mentor_is_left_out():
    city = generate_city(5, 40, seed=2, n_history=0)
    e = city.entrepreneurs[0]
    out = explain_exclusions(e, city.mentors)
    for m in city.mentors:
        ok = breaks_hard_constraint(e, m) is None and share_time(e, m)
        assert (m.id not in out) == ok
    codes = {r.code for rs in out.values() for r in rs}
    assert codes <= {"full", "paused", "no_shared_language", "meets_online_only", "meets_offline_only", "gender_preference", "no_common_time"}


def test_bulk_reasons_read_like_the_reasons_of_each_pair():
    from matching.explain import summary

    city = generate_city(400, 60, seed=8)
    problem = build_problem(city.entrepreneurs, city.mentors, history=city.history)
    rows, mi, _ = rank_arrays(problem, top=5)
    p_idx, r_idx = np.nonzero(mi >= 0)
    ei, mj = rows[p_idx], mi[p_idx, r_idx]

    def norm(line: str) -> list[set[str]]:  # the bulk path lists areas and languages in vocabulary order
        return [set(phrase.replace(",", " ").split()) for phrase in line.split("; ")]

    for lang in ("en", "id"):
        bulk = reason_texts(problem, ei, mj, lang)
        one_by_one = [reasons_text(summary(pair_reasons(problem, int(i), int(j)), 4), lang) for i, j in zip(ei, mj, strict=True)]
        assert list(map(norm, bulk)) == list(map(norm, one_by_one))


def test_ranking_in_threads_equals_one_thread():
    city = generate_city(700, 400, seed=12, n_history=0)
    problem = build_problem(city.entrepreneurs, city.mentors)
    one = rank_arrays(problem, top=10, block_size=100, workers=1)
    two = rank_arrays(problem, top=10, block_size=100, workers=2)
    for a, b in zip(one, two, strict=True):
        np.testing.assert_array_equal(a, b)
