"""The ``rank`` and ``assign`` commands of the batch contract (BATCH.md).

Both read and validate every input file first (a bad file raises ``InputFileError`` before anything
is computed), then compute, then write the output with ``write_csv_atomic`` (all or nothing).
"""

from __future__ import annotations

import argparse
import gc
import logging
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from matching.assignment import build_report, solve_assignment
from matching.csvio import (
    csv_field,
    read_entrepreneurs,
    read_history,
    read_mentors,
    write_bytes_atomic,
    write_csv_atomic,
    write_rows_atomic,
)
from matching.explain import reasons_text
from matching.priors import prior_scorer
from matching.profiles import Entrepreneur, HistoryRecord, Mentor
from matching.ranking import (
    WORKERS,
    MatchProblem,
    ReasonLines,
    build_problem,
    rank_arrays,
    reason_lines,
    reason_texts,
)

if TYPE_CHECKING:
    from matching.priors import PriorScorer
    from matching.scoring import MatchScorer

logger = logging.getLogger(__name__)

RANK_COLUMNS = ("entrepreneur_id", "rank", "mentor_id", "score", "reasons")
ASSIGN_COLUMNS = ("entrepreneur_id", "mentor_id", "score", "reasons")


def read_inputs(args: argparse.Namespace) -> tuple[list[Entrepreneur], list[Mentor], list[HistoryRecord]]:
    """Every input file of a command, validated (raises ``InputFileError`` on the first bad file)."""
    entrepreneurs = read_entrepreneurs(args.entrepreneurs)
    mentors = read_mentors(args.mentors)
    history = read_history(args.history) if getattr(args, "history", None) else []
    return entrepreneurs, mentors, history


def scorer_for(entrepreneurs: Sequence[Entrepreneur], mentors: Sequence[Mentor], history: Sequence[HistoryRecord]) -> MatchScorer | PriorScorer:
    """The prior scorer, or one learned from ``history`` when it beats the priors on held-out rows.

    Without history no scikit-learn is imported: the priors are plain numpy (``matching.priors``)."""
    if not history:
        return prior_scorer()
    from matching.scoring import fit_from_history  # scikit-learn, only when learning

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
    gc.freeze()  # the records live to the end: keep the collector from walking them again and again
    scorer = scorer_for(entrepreneurs, mentors, history)
    t0 = time.perf_counter()
    problem = build_problem(entrepreneurs, mentors, scorer=scorer, history=history)
    logger.info("encoded both sides in %.2fs", time.perf_counter() - t0)
    return problem


def rank_command(args: argparse.Namespace) -> int:
    """``python -m matching rank``: the best ``--top`` feasible mentors of every entrepreneur."""
    problem = _problem(args)
    t0 = time.perf_counter()
    rows, mi, sc = rank_arrays(problem, args.top)
    p_idx, r_idx = np.nonzero(mi >= 0)
    ei, mj, s = rows[p_idx], mi[p_idx, r_idx], sc[p_idx, r_idx]
    logger.info("ranked %d suggestions in %.2fs", len(ei), time.perf_counter() - t0)
    t0 = time.perf_counter()
    lines = reason_lines(problem, ei, mj)
    logger.info("phrased their reasons in %.2fs", time.perf_counter() - t0)
    t0 = time.perf_counter()
    e_ids = [e.id for e in problem.entrepreneurs]
    m_ids = [m.id for m in problem.mentors]
    write_rank_csv(args.out, e_ids, m_ids, ei, r_idx + 1, mj, s, lines)
    logger.info("wrote %s in %.2fs", args.out, time.perf_counter() - t0)
    return 0


def write_rank_csv(
    path: str | Path,
    e_ids: Sequence[str],
    m_ids: Sequence[str],
    ei: np.ndarray,
    rank: np.ndarray,
    mj: np.ndarray,
    score: np.ndarray,
    lines: ReasonLines,
    chunk: int = 131_072,
) -> None:
    """Write R.csv exactly as ``csv.writer`` would, building the bytes in bulk (no Python per row).

    Every field is a fixed-width byte matrix padded with NUL (ids and phrases quoted by
    :func:`csv_field` once per distinct value, the score formatted with integer arithmetic as
    ``f"{score:.4f}"``); the rows are concatenated and the NUL padding dropped in one pass.
    Scores must be float32 values (exact in float64 after scaling by 10**4); files whose text
    contains NUL take the plain ``csv.writer`` path.
    """
    texts = lines.texts
    if any("\0" in t for t in (*e_ids, *m_ids, *texts)) or not np.array_equal(score.astype(np.float32), score):
        rows = zip(
            (e_ids[i] for i in ei.tolist()),
            rank.tolist(),
            (m_ids[j] for j in mj.tolist()),
            (f"{v:.4f}" for v in score.tolist()),
            lines.lines(),
            strict=True,
        )
        write_csv_atomic(path, RANK_COLUMNS, (dict(zip(RANK_COLUMNS, r, strict=True)) for r in rows))
        return
    e_tab = _byte_table([csv_field(x) + "," for x in e_ids])
    m_tab = _byte_table([csv_field(x) + "," for x in m_ids])
    r_tab = _byte_table([f"{r}," for r in range(int(rank.max(initial=0)) + 1)])
    # phrases: quoted fields need their '"' doubled; a phrase after the first is preceded by '; '
    limit = lines.shown.shape[1]
    special = np.array([any(ch in t for ch in ',"\r\n') for t in texts] + [False])
    raw = [t.replace('"', '""') if '"' in t else t for t in texts] + [""]
    first_tab = _byte_table(raw)
    next_tab = _byte_table([f"; {t}" for t in raw[:-1]] + [""])
    quote_tab = _byte_table(["", '"'])
    newline = np.frombuffer(b"\n", dtype=np.uint8)[None, :]
    header = (",".join(RANK_COLUMNS) + "\n").encode()

    def piece(a: int) -> bytes:
        b = slice(a, a + chunk)
        shown = lines.shown[b]
        ids = np.where(shown >= 0, shown, len(texts))
        quoted = special[ids].any(axis=1).astype(np.int64)
        parts = [e_tab[ei[b]], r_tab[rank[b]], m_tab[mj[b]], _score_bytes(score[b]), quote_tab[quoted], first_tab[ids[:, 0]]]
        parts += [next_tab[ids[:, k]] for k in range(1, limit)]
        parts += [quote_tab[quoted], np.broadcast_to(newline, (len(ids), 1))]
        block = np.concatenate(parts, axis=1)
        return block[block != 0].tobytes()

    def chunks() -> Iterator[bytes]:
        yield header
        with ThreadPoolExecutor(WORKERS) as pool:  # numpy copies and masks release the GIL
            yield from pool.map(piece, range(0, len(ei), chunk))

    write_bytes_atomic(path, chunks())


def _byte_table(strings: Sequence[str]) -> np.ndarray:
    """UTF-8 strings as rows of a uint8 matrix, padded with NUL."""
    encoded = [x.encode() for x in strings]
    width = max(map(len, encoded), default=0) or 1
    return np.array(encoded, dtype=f"S{width}").view(np.uint8).reshape(len(encoded), width)


def _score_bytes(v: np.ndarray) -> np.ndarray:
    """``f"{x:.4f},"`` of every value as NUL-padded bytes (exact for float32 values, rounding half to even)."""
    v = np.asarray(v, dtype=np.float64)
    a = np.rint(np.abs(v) * 1e4).astype(np.int64)
    whole, frac = np.divmod(a, 10_000)
    digits = max(int(whole.max(initial=0)).bit_length() * 3 // 10 + 1, 1)
    out = np.zeros((len(v), digits + 7), dtype=np.uint8)
    out[:, 0] = np.where(np.signbit(v), ord("-"), 0)
    for k in range(digits):  # right-aligned integer part, leading zeros left as NUL
        d = whole // 10 ** (digits - 1 - k)
        out[:, 1 + k] = np.where((d > 0) | (k == digits - 1), d % 10 + 48, 0)
    out[:, digits + 1] = ord(".")
    for k in range(4):
        out[:, digits + 2 + k] = frac // 10 ** (3 - k) % 10 + 48
    out[:, digits + 6] = ord(",")
    return out


def assign_command(args: argparse.Namespace) -> int:
    """``python -m matching assign``: one mentor each for as many as possible, best total score."""
    problem = _problem(args)
    fair = bool(getattr(args, "fair", False))
    t0 = time.perf_counter()
    sol = solve_assignment(problem, fair=fair)
    logger.info("assigned in %.2fs", time.perf_counter() - t0)
    report, unmatched = build_report(problem, sol, fair)
    for line in report.lines():
        logger.info("%s", line)
    matched = np.flatnonzero(sol.mentor >= 0)
    texts = dict(zip(matched.tolist(), reason_texts(problem, matched, sol.mentor[matched]), strict=True))
    phrased: dict[tuple, str] = {}
    rows = []
    m_ids = [m.id for m in problem.mentors]
    for i, (e, j, v) in enumerate(zip(problem.entrepreneurs, sol.mentor.tolist(), sol.score.tolist(), strict=True)):
        if j >= 0:
            rows.append((e.id, m_ids[j], f"{v:.4f}", texts[i]))
        else:
            why = unmatched[i]
            if why not in phrased:
                phrased[why] = reasons_text(why)
            rows.append((e.id, "", "", phrased[why]))
    write_rows_atomic(args.out, ASSIGN_COLUMNS, rows)
    return 0
