"""The ``rank`` and ``assign`` commands of the batch contract (BATCH.md).

Both read and validate every input file first (a bad file raises ``InputFileError`` before anything
is computed), then compute, then write the output with ``write_csv_atomic`` (all or nothing).
"""

from __future__ import annotations

import argparse
import logging
import time
from collections.abc import Sequence

import numpy as np

from matching.assignment import build_report, solve_assignment
from matching.csvio import read_entrepreneurs, read_history, read_mentors, write_csv_atomic
from matching.explain import reasons_text
from matching.profiles import Entrepreneur, HistoryRecord, Mentor
from matching.ranking import MatchProblem, build_problem, rank_arrays, reason_texts
from matching.scoring import MatchScorer, fit_from_history

logger = logging.getLogger(__name__)

RANK_COLUMNS = ("entrepreneur_id", "rank", "mentor_id", "score", "reasons")
ASSIGN_COLUMNS = ("entrepreneur_id", "mentor_id", "score", "reasons")


def read_inputs(args: argparse.Namespace) -> tuple[list[Entrepreneur], list[Mentor], list[HistoryRecord]]:
    """Every input file of a command, validated (raises ``InputFileError`` on the first bad file)."""
    entrepreneurs = read_entrepreneurs(args.entrepreneurs)
    mentors = read_mentors(args.mentors)
    history = read_history(args.history) if getattr(args, "history", None) else []
    return entrepreneurs, mentors, history


def scorer_for(entrepreneurs: Sequence[Entrepreneur], mentors: Sequence[Mentor], history: Sequence[HistoryRecord]) -> MatchScorer:
    """The prior scorer, or one learned from ``history`` when it beats the priors on held-out rows."""
    if not history:
        return MatchScorer.from_priors()
    scorer = fit_from_history(entrepreneurs, mentors, history)
    meta = scorer.metadata_
    logger.info(
        "scorer: %s (history rows %s, held-out AUC learned %s vs priors %s)",
        meta.get("source"), meta.get("rows"), meta.get("heldout_auc"), meta.get("prior_auc"),
    )  # fmt: skip
    return scorer


def _problem(args: argparse.Namespace) -> MatchProblem:
    t0 = time.perf_counter()
    entrepreneurs, mentors, history = read_inputs(args)
    logger.info("read %d entrepreneurs, %d mentors, %d history rows in %.2fs",
                len(entrepreneurs), len(mentors), len(history), time.perf_counter() - t0)  # fmt: skip
    scorer = scorer_for(entrepreneurs, mentors, history)
    return build_problem(entrepreneurs, mentors, scorer=scorer, history=history)


def rank_command(args: argparse.Namespace) -> int:
    """``python -m matching rank``: the best ``--top`` feasible mentors of every entrepreneur."""
    problem = _problem(args)
    t0 = time.perf_counter()
    rows, mi, sc = rank_arrays(problem, args.top)
    p_idx, r_idx = np.nonzero(mi >= 0)
    ei, mj, s = rows[p_idx], mi[p_idx, r_idx], sc[p_idx, r_idx]
    logger.info("ranked %d suggestions in %.2fs", len(ei), time.perf_counter() - t0)
    texts = reason_texts(problem, ei, mj)
    e_ids = [e.id for e in problem.entrepreneurs]
    m_ids = [m.id for m in problem.mentors]
    out = (
        {"entrepreneur_id": e_ids[i], "rank": r + 1, "mentor_id": m_ids[j], "score": f"{v:.4f}", "reasons": t}
        for i, r, j, v, t in zip(ei.tolist(), r_idx.tolist(), mj.tolist(), s.tolist(), texts, strict=True)
    )
    write_csv_atomic(args.out, RANK_COLUMNS, out)
    return 0


def assign_command(args: argparse.Namespace) -> int:
    """``python -m matching assign``: one mentor each for as many as possible, best total score."""
    problem = _problem(args)
    fair = bool(getattr(args, "fair", False))
    sol = solve_assignment(problem, fair=fair)
    report, unmatched = build_report(problem, sol, fair)
    for line in report.lines():
        logger.info("%s", line)
    matched = np.flatnonzero(sol.mentor >= 0)
    texts = dict(zip(matched.tolist(), reason_texts(problem, matched, sol.mentor[matched]), strict=True))
    rows = []
    for i, e in enumerate(problem.entrepreneurs):
        j = int(sol.mentor[i])
        if j >= 0:
            rows.append({"entrepreneur_id": e.id, "mentor_id": problem.mentors[j].id,
                         "score": f"{sol.score[i]:.4f}", "reasons": texts[i]})  # fmt: skip
        else:
            rows.append({"entrepreneur_id": e.id, "mentor_id": "", "score": "", "reasons": reasons_text(unmatched[i])})
    write_csv_atomic(args.out, ASSIGN_COLUMNS, rows)
    return 0
