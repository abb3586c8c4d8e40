"""The rank and assign commands of BATCH.md on the contract examples, and on a malformed file."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from matching.cli import main

EXAMPLES = Path(__file__).resolve().parents[2].parent / "shared" / "contract" / "examples"
if not EXAMPLES.exists():  # pragma: no cover - repository copy of the examples
    EXAMPLES = Path(__file__).resolve().parents[1] / "data" / "examples"


def _read(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@pytest.fixture()
def files(tmp_path):
    for name in ("entrepreneurs.csv", "mentors.csv", "history.csv"):
        shutil.copy(EXAMPLES / name, tmp_path / name)
    return tmp_path


def test_rank_writes_the_contract_columns_best_first(files):
    out = files / "R.csv"
    args = ["rank", "--entrepreneurs", str(files / "entrepreneurs.csv"), "--mentors", str(files / "mentors.csv"),
            "--history", str(files / "history.csv"), "--top", "3", "--out", str(out)]  # fmt: skip
    assert main(args) == 0
    rows = _read(out)
    assert list(rows[0]) == ["entrepreneur_id", "rank", "mentor_id", "score", "reasons"]
    by_e: dict[str, list[dict]] = {}
    for r in rows:
        by_e.setdefault(r["entrepreneur_id"], []).append(r)
        assert r["reasons"]
    for rs in by_e.values():
        assert [int(r["rank"]) for r in rs] == list(range(1, len(rs) + 1)) and len(rs) <= 3
        scores = [float(r["score"]) for r in rs]
        assert scores == sorted(scores, reverse=True)


def test_assign_gives_every_entrepreneur_one_row_within_capacity(files):
    out = files / "A.csv"
    assert main(["assign", "--entrepreneurs", str(files / "entrepreneurs.csv"), "--mentors", str(files / "mentors.csv"),
                 "--fair", "--out", str(out)]) == 0  # fmt: skip
    rows = _read(out)
    assert list(rows[0]) == ["entrepreneur_id", "mentor_id", "score", "reasons"]
    ents = _read(files / "entrepreneurs.csv")
    ments = {m["id"]: m for m in _read(files / "mentors.csv")}
    assert sorted(r["entrepreneur_id"] for r in rows) == sorted(e["id"] for e in ents)
    load: dict[str, int] = {}
    for r in rows:
        assert r["reasons"]
        if r["mentor_id"]:
            load[r["mentor_id"]] = load.get(r["mentor_id"], 0) + 1
    for mid, n in load.items():
        assert n <= int(ments[mid]["capacity"]) - int(ments[mid]["active_mentees"] or 0)


@pytest.mark.parametrize("command", ["rank", "assign"])
def test_a_malformed_file_exits_2_naming_row_and_column_and_writes_nothing(files, command, capsys):
    bad = files / "mentors.csv"
    lines = bad.read_text(encoding="utf-8").splitlines()
    lines[3] = lines[3].replace(",3,0,", ",three,0,", 1) if ",3,0," in lines[3] else lines[3].replace("31.7", "99.9", 1)
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = files / "out.csv"
    code = main([command, "--entrepreneurs", str(files / "entrepreneurs.csv"), "--mentors", str(bad), "--out", str(out)])
    assert code == 2
    assert not out.exists()
    err = capsys.readouterr().err
    assert "mentors.csv row 4, column" in err
