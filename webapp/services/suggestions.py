"""Mentors ranked for one entrepreneur, with the reasons, from the matching core."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from matching.explain import Reason
from matching.profiles import HistoryRecord
from matching.ranking import build_problem, explain_exclusions, pair_reasons, rank
from matching.reference import kota_of
from models import Entrepreneur, Mentor
from webapp.services.adapters import to_entrepreneur, to_mentor


@dataclass(frozen=True)
class MentorSuggestion:
    """A mentor suggested to an entrepreneur: rank, score and the reasons."""

    rank: int
    mentor: Mentor
    score: float
    reasons: tuple[Reason, ...]


def _candidates(db: Session, *, online_only: bool = False, kota: str | None = None) -> list[Mentor]:
    stmt = (
        select(Mentor)
        .where(Mentor.paused.is_(False), Mentor.active_count < Mentor.capacity)
        .order_by(Mentor.id)
    )
    if online_only:
        stmt = stmt.where(Mentor.mode != "offline")
    mentors = list(db.scalars(stmt))
    if kota:
        mentors = [m for m in mentors if kota_of(m.kecamatan_code) == kota]
    return mentors


def suggest_mentors(
    db: Session,
    entrepreneur: Entrepreneur,
    *,
    top: int = 10,
    online_only: bool = False,
    same_kota: bool = False,
    scorer=None,
    history: Sequence[HistoryRecord] = (),
) -> list[MentorSuggestion]:
    """The best ``top`` mentors for this entrepreneur who have a free place and meet every hard constraint."""
    mentors = _candidates(
        db, online_only=online_only, kota=kota_of(entrepreneur.kecamatan_code) if same_kota else None
    )
    if not mentors:
        return []
    by_external = {m.external_id: m for m in mentors}
    ranked = rank(
        [to_entrepreneur(entrepreneur)],
        [to_mentor(m) for m in mentors],
        scorer=scorer,
        history=history,
        top=top,
    )
    return [MentorSuggestion(s.rank, by_external[s.mentor_id], s.score, s.reasons) for s in ranked]


def score_pair(
    db: Session,
    entrepreneur: Entrepreneur,
    mentor: Mentor,
    *,
    scorer=None,
    history: Sequence[HistoryRecord] = (),
) -> tuple[float, tuple[Reason, ...]]:
    """The score and reasons of one pair, computed as the suggestions page computes them."""
    mentors = _candidates(db)
    if all(m.id != mentor.id for m in mentors):
        mentors.append(mentor)
    j = next(i for i, m in enumerate(mentors) if m.id == mentor.id)
    problem = build_problem(
        [to_entrepreneur(entrepreneur)], [to_mentor(m) for m in mentors], scorer=scorer, history=history
    )
    score = float(problem.pair_scores(np.array([0]), np.array([j]))[0])
    return score, pair_reasons(problem, 0, j)


def why_not(entrepreneur: Entrepreneur, mentor: Mentor) -> tuple[Reason, ...]:
    """Why this mentor cannot be asked (full, paused, no shared language...), or () when they can."""
    return explain_exclusions(to_entrepreneur(entrepreneur), [to_mentor(mentor)]).get(mentor.external_id, ())
