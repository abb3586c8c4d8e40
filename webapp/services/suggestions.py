"""Mentors ranked for one entrepreneur, with the reasons, from the matching core."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from matching.explain import Reason
from matching.features import pair_features
from matching.profiles import HistoryRecord
from matching.ranking import MatchProblem, explain_exclusions, pair_reasons, rank_arrays
from models import Entrepreneur, Mentor
from webapp.services.adapters import to_entrepreneur, to_mentor
from webapp.services.mentor_pool import MentorPools, Version, build_pool, pool_for


@dataclass(frozen=True)
class MentorSuggestion:
    """A mentor suggested to an entrepreneur: rank, score and the reasons."""

    rank: int
    mentor: Mentor
    score: float
    reasons: tuple[Reason, ...]


@dataclass(frozen=True)
class Ranked:
    """The ranking before the mentors' rows are read: pool positions, database ids and scores, best first."""

    problem: MatchProblem
    positions: tuple[int, ...]
    ids: tuple[int, ...]
    scores: tuple[float, ...]

    def suggestions(self, rows: Mapping[int, Mentor]) -> list[MentorSuggestion]:
        """The suggestions with each mentor's row and reasons (mentors missing from ``rows`` are left out)."""
        if not self.positions:
            return []
        p = self.problem
        features = pair_features(
            p.ents, p.ments, np.zeros(len(self.positions), dtype=np.int64), np.array(self.positions)
        )
        return [
            MentorSuggestion(n, rows[mid], s, pair_reasons(p, 0, j, features[k]))
            for k, (n, j, mid, s) in enumerate(
                zip(range(1, len(self.ids) + 1), self.positions, self.ids, self.scores, strict=True)
            )
            if mid in rows
        ]


def rank_mentors(
    db: Session,
    entrepreneur: Entrepreneur,
    *,
    top: int = 10,
    online_only: bool = False,
    same_kota: bool = False,
    scorer=None,
    history: Sequence[HistoryRecord] = (),
    pools: MentorPools | None = None,
    version: Version | None = None,
) -> Ranked:
    """The best ``top`` mentors for this entrepreneur who have a free place and meet every hard constraint.

    The bio text space is learned from all mentors (see ``mentor_pool``); ``pools`` is a per-process
    cache of that encoding (the web app holds one), without which it is built for this call. Both
    give the same ranking. ``version``: the pool's version when the caller has read it already.
    """
    pool = pool_for(db, pools, history, version)
    problem = pool.problem(
        to_entrepreneur(entrepreneur), scorer, online_only=online_only, same_kota=same_kota
    )
    if len(problem.group_mentors[0]) == 0:
        return Ranked(problem, (), (), ())
    _rows, picked, scores = rank_arrays(problem, top, workers=1)
    ranked = [(int(j), float(s)) for j, s in zip(picked[0], scores[0], strict=True) if j >= 0]
    return Ranked(
        problem,
        tuple(j for j, _s in ranked),
        tuple(int(pool.ids[j]) for j, _s in ranked),
        tuple(s for _j, s in ranked),
    )


def suggest_mentors(db: Session, entrepreneur: Entrepreneur, **options) -> list[MentorSuggestion]:
    """``rank_mentors`` (same options) with the mentors' rows and the reasons."""
    ranked = rank_mentors(db, entrepreneur, **options)
    if not ranked.ids:
        return []
    return ranked.suggestions({m.id: m for m in db.scalars(select(Mentor).where(Mentor.id.in_(ranked.ids)))})


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
