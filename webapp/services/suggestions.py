"""Mentors ranked for one entrepreneur, with the reasons, from the matching core."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from matching.explain import Reason
from matching.profiles import HistoryRecord
from matching.ranking import explain_exclusions, pair_reasons, rank_arrays
from models import Entrepreneur, Mentor
from webapp.services.adapters import to_entrepreneur, to_mentor
from webapp.services.mentor_pool import MentorPools, build_pool, pool_for


@dataclass(frozen=True)
class MentorSuggestion:
    """A mentor suggested to an entrepreneur: rank, score and the reasons."""

    rank: int
    mentor: Mentor
    score: float
    reasons: tuple[Reason, ...]


def suggest_mentors(
    db: Session,
    entrepreneur: Entrepreneur,
    *,
    top: int = 10,
    online_only: bool = False,
    same_kota: bool = False,
    scorer=None,
    history: Sequence[HistoryRecord] = (),
    pools: MentorPools | None = None,
) -> list[MentorSuggestion]:
    """The best ``top`` mentors for this entrepreneur who have a free place and meet every hard constraint.

    The bio text space is learned from all mentors (see ``mentor_pool``); ``pools`` is a per-process
    cache of that encoding (the web app holds one), without which it is built for this call. Both
    give the same ranking.
    """
    pool = pool_for(db, pools, history)
    problem = pool.problem(
        to_entrepreneur(entrepreneur), scorer, online_only=online_only, same_kota=same_kota
    )
    if len(problem.group_mentors[0]) == 0:
        return []
    _rows, picked, scores = rank_arrays(problem, top, workers=1)
    ranked = [(int(j), float(s)) for j, s in zip(picked[0], scores[0], strict=True) if j >= 0]
    ids = [int(pool.ids[j]) for j, _s in ranked]
    rows = {m.id: m for m in db.scalars(select(Mentor).where(Mentor.id.in_(ids)))}
    return [
        MentorSuggestion(n, rows[mid], s, pair_reasons(problem, 0, j))
        for n, ((j, s), mid) in enumerate(zip(ranked, ids, strict=True), start=1)
        if mid in rows
    ]


def score_pair(
    db: Session,
    entrepreneur: Entrepreneur,
    mentor: Mentor,
    *,
    scorer=None,
    history: Sequence[HistoryRecord] = (),
    pools: MentorPools | None = None,
) -> tuple[float, tuple[Reason, ...]]:
    """The score and reasons of one pair, computed as the suggestions page computes them."""
    pool = pool_for(db, pools, history)
    j = pool.index_of(mentor.id)
    if j is None:  # a mentor added since the pool was read (the cache catches up on the next call)
        pool = build_pool(db, history=history)
        j = pool.index_of(mentor.id)
    problem = pool.problem(to_entrepreneur(entrepreneur), scorer, only=j)
    score = float(problem.pair_scores(np.array([0]), np.array([j]))[0])
    return score, pair_reasons(problem, 0, j)


def why_not(entrepreneur: Entrepreneur, mentor: Mentor) -> tuple[Reason, ...]:
    """Why this mentor cannot be asked (full, paused, no shared language...), or () when they can."""
    return explain_exclusions(to_entrepreneur(entrepreneur), [to_mentor(mentor)]).get(mentor.external_id, ())
