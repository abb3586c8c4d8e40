"""Write a synthetic Jakarta programme (entrepreneurs, mentors, history, rooms) as contract CSV files."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from matching import csvio
from matching.synthetic import generate_city


def main(argv: list[str] | None = None) -> int:
    """Generate the city and write the four CSV files into ``--out``."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entrepreneurs", type=int, default=2000, help="entrepreneurs (default 2000)")
    parser.add_argument("--mentors", type=int, default=150, help="mentors (default 150)")
    parser.add_argument("--history", type=int, default=None, help="earlier proposals (default: a fifth)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--out", type=Path, required=True, help="folder to write the CSV files into")
    args = parser.parse_args(argv)
    if args.entrepreneurs < 0 or args.mentors < 0 or (args.history is not None and args.history < 0):
        parser.error("counts must be 0 or more")

    args.out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    city = generate_city(args.entrepreneurs, args.mentors, seed=args.seed, n_history=args.history)
    generated = time.perf_counter()
    files = (
        ("entrepreneurs.csv", csvio.ENTREPRENEUR_COLUMNS, map(csvio.entrepreneur_row, city.entrepreneurs)),
        ("mentors.csv", csvio.MENTOR_COLUMNS, map(csvio.mentor_row, city.mentors)),
        ("history.csv", csvio.HISTORY_COLUMNS, map(csvio.history_row, city.history)),
        ("rooms.csv", csvio.ROOM_COLUMNS, map(csvio.room_row, city.rooms)),
    )
    for name, columns, rows in files:
        csvio.write_csv_atomic(args.out / name, columns, rows)
    written = time.perf_counter()
    print(
        f"{len(city.entrepreneurs)} entrepreneurs, {len(city.mentors)} mentors, "
        f"{len(city.history)} history rows, {len(city.rooms)} rooms in {args.out}: "
        f"generated in {generated - started:.2f} s, written in {written - generated:.2f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
