"""Benchmark rank and assign on a synthetic city, CSV in and out, next to simple baselines.

    .venv/bin/python scripts/bench_matching.py --entrepreneurs 200000 --mentors 10000

The commands run as `python -m matching` subprocesses (time and peak RSS include reading and writing
the CSV files). Baselines run on the same data: a plain Python loop (on a sample, extrapolated),
scikit-learn NearestNeighbors (brute force) for ranking, scipy linear_sum_assignment on capacity
slots (on a sample that fits in memory) and networkx min-cost flow (on a sample of the graph).
"""

from __future__ import annotations

import argparse
import resource
import subprocess  # nosec B404 # runs python -m matching with argument lists
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def _run(cmd: list[str]) -> tuple[float, float]:
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd)  # nosec B603 # cmd is sys.executable -m matching ..., built in this file
    _, status, usage = __import__("os").wait4(proc.pid, 0)
    if status != 0:
        raise SystemExit(f"{cmd} failed with status {status}")
    return time.perf_counter() - t0, usage.ru_maxrss / 1024 / 1024


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--entrepreneurs", type=int, default=20000)
    ap.add_argument("--mentors", type=int, default=1000)
    ap.add_argument("--top", type=int, default=10)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--sample", type=int, default=300, help="entrepreneurs in the baseline samples")
    ap.add_argument("--nx-sample", type=int, default=60, help="entrepreneurs in the networkx sample (slow)")
    a = ap.parse_args()

    from matching.csvio import (
        ENTREPRENEUR_COLUMNS,
        MENTOR_COLUMNS,
        entrepreneur_row,
        mentor_row,
        write_csv_atomic,
    )
    from matching.synthetic import generate_city

    t0 = time.perf_counter()
    city = generate_city(a.entrepreneurs, a.mentors, seed=a.seed, n_history=0)
    print(f"city: {a.entrepreneurs} entrepreneurs x {a.mentors} mentors generated in {time.perf_counter() - t0:.1f}s")
    rows: list[tuple[str, str, str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        write_csv_atomic(d / "E.csv", ENTREPRENEUR_COLUMNS, (entrepreneur_row(e) for e in city.entrepreneurs))
        write_csv_atomic(d / "M.csv", MENTOR_COLUMNS, (mentor_row(m) for m in city.mentors))
        common = ["--entrepreneurs", str(d / "E.csv"), "--mentors", str(d / "M.csv")]
        py = [sys.executable, "-m", "matching"]
        t, mem = _run([*py, "rank", *common, "--top", str(a.top), "--out", str(d / "R.csv")])
        rows.append(("rank (python -m matching, CSV in/out)", f"{t:.1f} s", f"{mem:.2f} GiB", "all"))
        t, mem = _run([*py, "assign", *common, "--out", str(d / "A.csv")])
        rows.append(("assign (python -m matching, CSV in/out)", f"{t:.1f} s", f"{mem:.2f} GiB", "all"))

    from matching.assignment import solve_assignment
    from matching.ranking import build_problem, pair_reasons

    rng = np.random.default_rng(a.seed)
    sample = np.sort(rng.choice(a.entrepreneurs, min(a.sample, a.entrepreneurs), replace=False))
    ents = [city.entrepreneurs[i] for i in sample]
    problem = build_problem(city.entrepreneurs, city.mentors)

    # plain Python loop: score every feasible pair one by one (sample, extrapolated)
    n_loop = min(20, len(sample))
    t0 = time.perf_counter()
    for i in sample[:n_loop]:
        mask = problem.feasible_mask(int(i))
        best = sorted(((float(problem.pair_scores(np.array([i]), np.array([j]))[0]), j) for j in np.flatnonzero(mask)), reverse=True)[: a.top]
        for _, j in best:
            pair_reasons(problem, int(i), j)
    per = (time.perf_counter() - t0) / n_loop
    rows.append(("rank, plain Python loop", f"{per * a.entrepreneurs:.0f} s (extrapolated)", "-", f"{n_loop} entrepreneurs"))

    # scikit-learn NearestNeighbors, brute force, on the same vectors (no constraints, no reasons)
    from sklearn.neighbors import NearestNeighbors

    t0 = time.perf_counter()
    nn = NearestNeighbors(n_neighbors=a.top, algorithm="brute", metric="euclidean", n_jobs=1).fit(problem.M)
    nn.kneighbors(problem.E[sample])
    per = (time.perf_counter() - t0) / len(sample)
    rows.append(("rank, sklearn NearestNeighbors brute", f"{per * a.entrepreneurs:.1f} s (extrapolated)", "-", f"{len(sample)} entrepreneurs"))

    # assignment baselines on a sub-problem: the sample against all mentors with free places
    sub = build_problem(ents, city.mentors, scorer=problem.scorer)
    t0 = time.perf_counter()
    sol = solve_assignment(sub)
    ours = time.perf_counter() - t0
    rows.append(("assign sample, ours (certified min-cost flow)", f"{ours:.2f} s", "-", f"{len(ents)} x {a.mentors}"))
    slots = np.repeat(np.arange(a.mentors), sub.free)
    from scipy.optimize import linear_sum_assignment

    t0 = time.perf_counter()
    W = np.zeros((len(ents), len(slots)))
    for i in range(len(ents)):
        mask = sub.feasible_mask(i)
        ok = mask[slots]
        W[i, ok] = 1e4 + sub.pair_scores(np.full(ok.sum(), i), slots[ok])
    r, c = linear_sum_assignment(W, maximize=True)
    lsa = time.perf_counter() - t0
    n_lsa = int((W[r, c] > 0).sum())
    rows.append(("assign sample, scipy linear_sum_assignment on slots", f"{lsa:.2f} s", f"{W.nbytes / 2**30:.2f} GiB matrix", f"{len(ents)} x {len(slots)} slots"))
    import networkx as nx

    n_nx_e = min(a.nx_sample, len(ents))
    t0 = time.perf_counter()
    G = nx.DiGraph()
    G.add_node("s", demand=-n_nx_e)
    G.add_node("t", demand=n_nx_e)
    G.add_edge("s", "t", capacity=n_nx_e, weight=0)
    for i in range(n_nx_e):
        G.add_edge("s", ("e", i), capacity=1, weight=0)
        mask = sub.feasible_mask(i)
        js = np.flatnonzero(mask)
        for j, s in zip(js, sub.pair_scores(np.full(len(js), i), js), strict=True):
            G.add_edge(("e", i), ("m", int(j)), capacity=1, weight=-int(1e6 + s * 1e4))
    for j in range(a.mentors):
        if sub.free[j]:
            G.add_edge(("m", j), "t", capacity=int(sub.free[j]), weight=0)
    flow = nx.min_cost_flow(G)
    n_nx = sum(v for k, f in flow.items() if isinstance(k, tuple) and k[0] == "e" for v in f.values())
    t_nx = time.perf_counter() - t0
    sub_nx = build_problem(ents[:n_nx_e], city.mentors, scorer=problem.scorer)
    t0 = time.perf_counter()
    sol_nx = solve_assignment(sub_nx)
    t_ours = time.perf_counter() - t0
    rows.append(("assign sample, networkx min_cost_flow", f"{t_nx:.2f} s (ours {t_ours:.2f} s)", "-", f"{n_nx_e} x {a.mentors}"))
    print(f"sample agreement: matched ours {int((sol.mentor >= 0).sum())}, scipy {n_lsa}; "
          f"networkx sample: ours {int((sol_nx.mentor >= 0).sum())}, networkx {n_nx}")

    print()
    print(f"| {a.entrepreneurs} x {a.mentors} | time | peak memory | on |")
    print("|---|---|---|---|")
    for name, t, mem, on in rows:
        print(f"| {name} | {t} | {mem} | {on} |")
    print(f"(ru_maxrss of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.2f} GiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
