"""The bulk R.csv writer writes byte for byte what csv.writer writes, on awkward ids and phrases."""

from __future__ import annotations

import csv
import io

import numpy as np

from matching.batch import RANK_COLUMNS, write_rank_csv
from matching.ranking import ReasonLines


def test_bulk_rank_writer_equals_csv_writer(tmp_path):
    rng = np.random.default_rng(0)
    e_ids = ["E1", "E,2", 'E"3', "E\n4", "É5", "E\r6", "", " E 8 "]
    m_ids = ["M1", "M,2", "M 3", "ம4"]
    texts = ["same sector (C)", "offers licensing, financing", "3.2 km", 'odd "quote"', "both speak en", "línea"]
    n = 4000
    ei, mj = rng.integers(0, len(e_ids), n), rng.integers(0, len(m_ids), n)
    rank = rng.integers(1, 11, n)
    score = (rng.standard_normal(n) * rng.choice([0.001, 1, 100, 12345], n)).astype(np.float32).astype(np.float64)
    score[:6] = [0.0, -0.0, 0.00005, -0.00005, 1.23445, 99999.5]
    score = score.astype(np.float32).astype(np.float64)
    shown = np.full((n, 4), -1, dtype=np.int32)
    for p, k in enumerate(rng.integers(1, 5, n)):
        shown[p, :k] = rng.integers(0, len(texts), k)
    lines = ReasonLines(texts, shown)
    write_rank_csv(tmp_path / "R.csv", e_ids, m_ids, ei, rank, mj, score, lines, chunk=777)
    buf = io.StringIO(newline="")
    writer = csv.DictWriter(buf, fieldnames=RANK_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for i, r, j, v, t in zip(ei, rank, mj, score, lines.lines(), strict=True):
        writer.writerow({"entrepreneur_id": e_ids[i], "rank": int(r), "mentor_id": m_ids[j], "score": f"{v:.4f}", "reasons": t})
    assert (tmp_path / "R.csv").read_bytes() == buf.getvalue().encode()
