"""Benchmark of the weekly scheduler: the greedy baseline next to the exact solver on one synthetic week.

    .venv/bin/python scripts/bench_schedule.py [--pairs 50000] [--seed 1] [--week 2026-W49]

People and rooms come from ``matching.synthetic.generate_city``; pairs give every mentor up to its
free capacity of mode-compatible mentees, and about 2% of entrepreneurs get a second mentor.
"""

from __future__ import annotations

import argparse
import logging
import time

import numpy as np

from matching.profiles import Pair
from matching.schedule import propose_week
from matching.synthetic import generate_city


def make_pairs(entrepreneurs, mentors, n_pairs: int, seed: int) -> list[Pair]:
    """Mode-compatible pairs within the mentors' free capacity, a few entrepreneurs listed twice."""
    rng = np.random.default_rng(seed)
    slots = [m for m in mentors for _ in range(m.free_capacity)]
    order = rng.permutation(len(slots))
    slots = [slots[i] for i in order]
    n_twice = n_pairs // 50
    people = list(entrepreneurs[: n_pairs - n_twice]) + list(entrepreneurs[:n_twice])
    pairs, waiting, k = [], [], 0
    for e in people:
        for j, m in enumerate(waiting):
            if {e.mode, m.mode} != {"offline", "online"}:
                pairs.append(Pair(e.id, m.id))
                del waiting[j]
                break
        else:
            while k < len(slots):
                m = slots[k]
                k += 1
                if {e.mode, m.mode} != {"offline", "online"} and Pair(e.id, m.id) not in pairs[-5:]:
                    pairs.append(Pair(e.id, m.id))
                    break
                waiting.append(m)
    return pairs


def main() -> None:
    """Generate a city, schedule one week greedily and exactly, print both results."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", type=int, default=50_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--week", default="2026-W49")
    ap.add_argument("--minutes", type=int, default=60)
    ap.add_argument("--time-limit", type=float, default=8.0, help="CP-SAT deterministic time budget")
    ap.add_argument("-v", "--verbose", action="store_true")
    a = ap.parse_args()
    logging.basicConfig(level=logging.INFO if a.verbose else logging.WARNING, format="%(message)s")
    t = time.perf_counter()
    city = generate_city(a.pairs, int(a.pairs * 0.7), seed=a.seed)
    pairs = make_pairs(city.entrepreneurs, city.mentors, a.pairs, a.seed)
    print(f"{len(pairs)} pairs, {len(city.entrepreneurs)} entrepreneurs, {len(city.mentors)} mentors, "
          f"{len(city.rooms)} rooms; generated in {time.perf_counter() - t:.1f} s")  # fmt: skip
    results = {}
    for method in ("greedy", "exact"):
        t = time.perf_counter()
        res = propose_week(pairs, city.entrepreneurs, city.mentors, city.rooms, a.week, minutes=a.minutes,
                           method=method, time_limit=a.time_limit)  # fmt: skip
        seconds = time.perf_counter() - t
        results[method] = res
        s = res.stats
        print(f"{method:>6}: {seconds:6.1f} s  placed {s.placed} ({s.online} online, {s.offline} in person)  "
              f"upper bound {s.upper_bound}  gap {s.gap}  components {s.components} "
              f"(largest {s.largest_component} pairs) {s.components_by_status}")  # fmt: skip
    extra = results["exact"].stats.placed - results["greedy"].stats.placed
    print(f"the solver places {extra} more pairs than greedy")


if __name__ == "__main__":
    main()
