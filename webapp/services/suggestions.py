"""Mentors ranked for one entrepreneur, with the reasons, from the matching core."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from matching.explain import Reason
from matching.features import pair_features
from matching.profiles import HistoryRecord
from matching.ranking import explain_exclusions, pair_reasons, rank_arrays
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
    """The ranking before the mentors' rows are read: pool positions, database ids, scores and the
    reasons, best first."""

    positions: tuple[int, ...]
    ids: tuple[int, ...]
    scores: tuple[float, ...]
    reasons: tuple[tuple[Reason, ...], ...]
    #: What the web page made of this ranking, kept as long as the ranking is (its mentor cards,
    #: per language); the ranking's own fields never change, so nothing else can go stale here.
    rendered: dict = field(default_factory=dict, compare=False, repr=False)

    def suggestions(self, rows: Mapping[int, Mentor]) -> list[MentorSuggestion]:
        """The suggestions with each mentor's row (mentors missing from ``rows`` are left out)."""
        return [
            MentorSuggestion(n, rows[mid], s, why)
            for n, (mid, s, why) in enumerate(zip(self.ids, self.scores, self.reasons, strict=True), start=1)
            if mid in rows
        ]


RANKED_KEEP = 4096  # rankings a pool keeps (a few hundred bytes each)


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

    With the default scorer, a pool keeps the rankings it made: the same profile with the same
    filters is ranked once per pool version (any change of any mentor makes a new version, whose
    pool starts with none), so someone paging back to their suggestions costs no ranking.
    """
    pool = pool_for(db, pools, history, version)
    profile = to_entrepreneur(entrepreneur)
    key = (profile, online_only, same_kota, top) if scorer is None and not history else None
    found = pool.ranked.get(key) if key is not None else None
    if found is not None:
        return found
    problem = pool.problem(profile, scorer, online_only=online_only, same_kota=same_kota)
    ranked = Ranked((), (), (), ())
    if len(problem.group_mentors[0]):
        _rows, picked, scores = rank_arrays(problem, top, workers=1)
        best = [(int(j), float(s)) for j, s in zip(picked[0], scores[0], strict=True) if j >= 0]
        positions = np.array([j for j, _s in best], dtype=np.int64)
        features = pair_features(problem.ents, problem.ments, np.zeros(len(best), dtype=np.int64), positions)
        ranked = Ranked(
            tuple(j for j, _s in best),
            tuple(int(pool.ids[j]) for j, _s in best),
            tuple(s for _j, s in best),
            tuple(pair_reasons(problem, 0, j, features[k]) for k, (j, _s) in enumerate(best)),
        )
    if key is not None:
        if len(pool.ranked) >= RANKED_KEEP:
            pool.ranked.clear()
        pool.ranked[key] = ranked
    return ranked


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
