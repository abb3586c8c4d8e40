"""The command line of the matching core, as specified in the batch contract (BATCH.md).

Every command reads and validates all of its input before it computes anything, writes its output
file atomically, and on a bad file prints one clear line naming the file, row and column, then
exits with status 2 without writing any output.
"""

from __future__ import annotations

import argparse
import logging
import sys

from matching.csvio import InputFileError

EXIT_BAD_INPUT = 2


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be 1 or more")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with the three subcommands."""
    parser = argparse.ArgumentParser(
        prog="python -m matching",
        description="Rank, assign and schedule mentors for Jakarta's entrepreneurs from CSV files.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--entrepreneurs", required=True, metavar="E.csv", help="entrepreneurs file")
        p.add_argument("--mentors", required=True, metavar="M.csv", help="mentors file")

    rank = sub.add_parser("rank", help="the best --top feasible mentors for every entrepreneur")
    common(rank)
    rank.add_argument("--history", metavar="H.csv", help="earlier proposals and outcomes to learn from")
    rank.add_argument("--top", type=_positive_int, default=10, help="mentors per entrepreneur (default 10)")
    rank.add_argument("--out", required=True, metavar="R.csv", help="output file")
    rank.set_defaults(func=_run_rank)

    assign = sub.add_parser("assign", help="one mentor for as many entrepreneurs as possible, best total score")
    common(assign)
    assign.add_argument("--history", metavar="H.csv", help="earlier proposals and outcomes to learn from")
    assign.add_argument(
        "--fair", action="store_true", help="favour the worst-off: raise the lowest scores first, then the total"
    )
    assign.add_argument("--out", required=True, metavar="A.csv", help="output file")
    assign.set_defaults(func=_run_assign)

    schedule = sub.add_parser("schedule", help="one session in an ISO week for as many pairs as possible")
    common(schedule)
    schedule.add_argument("--pairs", required=True, metavar="A.csv", help="pairs (entrepreneur_id,mentor_id)")
    schedule.add_argument("--rooms", required=True, metavar="ROOMS.csv", help="rooms at kecamatan centres")
    schedule.add_argument("--week", required=True, help="ISO week, e.g. 2026-W49")
    schedule.add_argument("--minutes", type=_positive_int, default=60, help="session length (default 60)")
    schedule.add_argument("--out", required=True, metavar="S.csv", help="output file")
    schedule.set_defaults(func=_run_schedule)
    return parser


def _run_rank(args: argparse.Namespace) -> int:
    from matching.batch import rank_command

    return rank_command(args)


def _run_assign(args: argparse.Namespace) -> int:
    from matching.batch import assign_command

    return assign_command(args)


def _run_schedule(args: argparse.Namespace) -> int:
    from matching.schedule import schedule_command

    return schedule_command(args)


def main(argv: list[str] | None = None) -> int:
    """Run one command; return the process exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(message)s")
    try:
        return args.func(args)
    except InputFileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
