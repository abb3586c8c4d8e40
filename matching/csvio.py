"""Reading and writing the CSV files of the batch contract (BATCH.md), with row-level validation.

Every reader checks every row and collects every problem before it gives up, so that a person
fixing a spreadsheet sees all bad rows at once. Row numbers are spreadsheet rows: the header is
row 1, the first record row 2.
"""

from __future__ import annotations

import csv
import dataclasses
import gc
import io
import os
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from matching import reference
from matching.profiles import (
    DAYS,
    GENDERS,
    MODES,
    OUTCOMES,
    STAGES,
    Entrepreneur,
    HistoryRecord,
    Mentor,
    Pair,
    Room,
    Window,
    format_availability,
)

MAX_ERRORS_LISTED = 200
_LANG_RE = re.compile(r"^[a-z]{2}$")
_KBLI_RE = re.compile(r"^\d{2,5}$")
_WINDOW_RE = re.compile(r"^(mon|tue|wed|thu|fri|sat|sun)\s+(\d{2}):(\d{2})-(\d{2}):(\d{2})$")


@dataclass(frozen=True, slots=True)
class RowError:
    """One problem in one cell: where it is, what was there, and why it is wrong.

    ``code`` names the kind of problem and ``params`` its details, so that a user interface can
    phrase the message in its own language; ``reason`` is the English phrasing.
    """

    file: str
    row: int
    column: str
    value: str
    reason: str
    code: str = "invalid"
    params: tuple[tuple[str, str], ...] = ()

    def __str__(self) -> str:
        where = f"{self.file} row {self.row}" if self.row else self.file
        if self.column:
            where += f", column {self.column}"
        shown = f" {self.value!r}:" if self.value else ""
        return f"{where}:{shown} {self.reason}"


class InputFileError(ValueError):
    """A CSV file that breaks the contract; ``errors`` lists every problem found."""

    def __init__(self, errors: list[RowError]):
        self.errors = errors
        first = str(errors[0]) if errors else "invalid input"
        more = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
        super().__init__(first + more)


class _CellError(ValueError):
    def __init__(self, reason: str, code: str, **params: object):
        super().__init__(reason)
        self.reason, self.code = reason, code
        self.params = tuple((k, str(v)) for k, v in params.items())


# --- cell parsers -------------------------------------------------------------------------------


def split_list(cell: str) -> tuple[str, ...]:
    """A ``;``-separated cell as a tuple of trimmed, non-empty items, duplicates removed, order kept."""
    return tuple(dict.fromkeys(x.strip() for x in cell.split(";") if x.strip()))


@lru_cache(maxsize=65536)
def parse_availability(cell: str) -> tuple[Window, ...] | None:
    """Weekly windows from ``tue 19:00-21:00;sat 09:00-12:00``; a blank cell gives ``None``.

    Raises ``ValueError`` naming the bad window.
    """
    cell = cell.strip()
    if not cell:
        return None
    out = []
    for part in (p.strip() for p in cell.split(";")):
        if not part:
            continue
        m = _WINDOW_RE.match(part.lower())
        if not m:
            raise _CellError(f"window {part!r} is not like 'tue 19:00-21:00'", "bad_window", window=part)
        h1, m1, h2, m2 = (int(x) for x in m.groups()[1:])
        start, end = h1 * 60 + m1, h2 * 60 + m2
        if h1 > 24 or h2 > 24 or m1 > 59 or m2 > 59 or end > 24 * 60:
            raise _CellError(f"window {part!r} has an impossible time", "bad_time", window=part)
        if end <= start:
            raise _CellError(f"window {part!r} ends before it starts or crosses midnight", "window_order", window=part)
        out.append(Window(DAYS.index(m.group(1)), start, end))
    return tuple(dict.fromkeys(out))


def _required_text(cell: str) -> str:
    if not cell:
        raise _CellError("is required", "required")
    return cell


def _optional_text(cell: str) -> str:
    return cell


def _sector(cell: str) -> str:
    if not cell:
        raise _CellError("is required", "required")
    if cell.upper() not in reference.sectors():
        raise _CellError("is not a KBLI 2020 section letter (A to U)", "unknown_sector")
    return cell.upper()


def _sectors(cell: str) -> tuple[str, ...]:
    items = split_list(cell)
    if not items:
        raise _CellError("needs at least one KBLI section letter", "required")
    bad = [x for x in items if x.upper() not in reference.sectors()]
    if bad:
        raise _CellError(f"{', '.join(bad)} is not a KBLI 2020 section letter (A to U)", "unknown_sector")
    return tuple(x.upper() for x in items)


def _kbli(cell: str) -> str | None:
    if not cell:
        return None
    if not _KBLI_RE.match(cell) or reference.sector_of_kbli(cell) is None:
        raise _CellError("is not a KBLI code of 2 to 5 digits", "bad_kbli")
    return cell


def _stage(cell: str) -> str:
    if not cell:
        raise _CellError("is required", "required")
    if cell.lower() not in STAGES:
        raise _CellError(f"is not a stage ({', '.join(STAGES)})", "unknown_stage")
    return cell.lower()


def _stages(cell: str) -> tuple[str, ...]:
    items = split_list(cell.lower())
    if not items:
        raise _CellError("needs at least one stage", "required")
    bad = [x for x in items if x not in STAGES]
    if bad:
        raise _CellError(f"{', '.join(bad)} is not a stage ({', '.join(STAGES)})", "unknown_stage")
    return tuple(s for s in STAGES if s in items)


def _kecamatan(cell: str) -> str:
    if not cell:
        raise _CellError("is required", "required")
    if cell not in reference.kecamatan():
        raise _CellError("is not a kecamatan code of DKI Jakarta (like 31.74.01)", "unknown_kecamatan")
    return cell


def _support_areas(cell: str) -> tuple[str, ...]:
    items = split_list(cell.lower())
    if not items:
        raise _CellError("needs at least one support area", "required")
    bad = [x for x in items if x not in reference.support_areas()]
    if bad:
        raise _CellError(f"{', '.join(bad)} is not a support area", "unknown_support_area")
    return items


def _languages(cell: str) -> tuple[str, ...]:
    items = split_list(cell.lower())
    if not items:
        return ("id",)
    bad = [x for x in items if not _LANG_RE.match(x)]
    if bad:
        raise _CellError(f"{', '.join(bad)} is not a two-letter ISO 639-1 code", "bad_language")
    return items


def _mode(cell: str) -> str:
    if not cell:
        return "either"
    if cell.lower() not in MODES:
        raise _CellError(f"is not a mode ({', '.join(MODES)})", "unknown_mode")
    return cell.lower()


def _gender(cell: str) -> str | None:
    if not cell:
        return None
    if cell.lower() not in GENDERS:
        raise _CellError("is not f, m or blank", "unknown_gender")
    return cell.lower()


def _availability(cell: str) -> tuple[Window, ...] | None:
    try:
        return parse_availability(cell)
    except _CellError:
        raise
    except ValueError as exc:  # pragma: no cover - parse_availability raises _CellError
        raise _CellError(str(exc), "bad_window") from exc


def _room_availability(cell: str) -> tuple[Window, ...]:
    windows = _availability(cell)
    if windows is None:
        raise _CellError("is required (the room's opening hours)", "required")
    return windows


def _count(cell: str) -> int:
    if not cell:
        raise _CellError("is required", "required")
    try:
        value = int(cell)
    except ValueError:
        raise _CellError("is not a whole number", "not_integer") from None
    if value < 0:
        raise _CellError("must be 0 or more", "negative")
    return value


def _optional_count(cell: str) -> int:
    return _count(cell) if cell else 0


def _outcome(cell: str) -> str:
    if cell.lower() not in OUTCOMES:
        raise _CellError(f"is not an outcome ({', '.join(OUTCOMES)})", "unknown_outcome")
    return cell.lower()


def _rating(cell: str) -> int | None:
    if not cell:
        return None
    try:
        value = int(float(cell))
    except ValueError:
        raise _CellError("is not a rating from 1 to 5", "bad_rating") from None
    if not 1 <= value <= 5 or float(cell) != value:
        raise _CellError("is not a rating from 1 to 5", "bad_rating")
    return value


# --- record specs ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Spec:
    """How one kind of record is read: its columns, which are required, and how each cell parses."""

    kind: str
    build: Callable[..., Any]
    columns: dict[str, Callable[[str], Any]]
    required: tuple[str, ...]
    unique_id: bool = True
    id_columns: tuple[str, ...] = ("id",)
    extra_checks: tuple[Callable[[dict[str, Any]], tuple[str, _CellError] | None], ...] = field(default=())


def _mentor_checks(values: dict[str, Any]) -> tuple[str, _CellError] | None:
    if values["active_mentees"] > values["capacity"]:
        return "active_mentees", _CellError(
            f"is more than capacity {values['capacity']}", "over_capacity", capacity=values["capacity"]
        )
    return None


def _entrepreneur_checks(values: dict[str, Any]) -> tuple[str, _CellError] | None:
    kbli = values.get("kbli")
    if kbli and reference.sector_of_kbli(kbli) != values["sector"]:
        return "kbli", _CellError(
            f"lies in KBLI section {reference.sector_of_kbli(kbli)}, not in sector {values['sector']}",
            "kbli_sector_mismatch",
            section=reference.sector_of_kbli(kbli),
            sector=values["sector"],
        )
    return None


def _history_checks(values: dict[str, Any]) -> tuple[str, _CellError] | None:
    if values["rating"] is not None and values["outcome"] != "completed":
        return "rating", _CellError("is only given for a completed mentorship", "rating_not_completed")
    return None


ENTREPRENEUR = Spec(
    "entrepreneurs",
    Entrepreneur,
    {
        "id": _required_text,
        "name": _required_text,
        "sector": _sector,
        "kbli": _kbli,
        "stage": _stage,
        "kecamatan": _kecamatan,
        "needs": _support_areas,
        "languages": _languages,
        "mode": _mode,
        "availability": _availability,
        "gender": _gender,
        "prefers_mentor_gender": _gender,
        "bio": _optional_text,
    },
    ("id", "name", "sector", "stage", "kecamatan", "needs"),
    extra_checks=(_entrepreneur_checks,),
)

MENTOR = Spec(
    "mentors",
    Mentor,
    {
        "id": _required_text,
        "name": _required_text,
        "sectors": _sectors,
        "stages": _stages,
        "kecamatan": _kecamatan,
        "expertise": _support_areas,
        "capacity": _count,
        "active_mentees": _optional_count,
        "languages": _languages,
        "mode": _mode,
        "availability": _availability,
        "gender": _gender,
        "bio": _optional_text,
    },
    ("id", "name", "sectors", "stages", "kecamatan", "expertise", "capacity"),
    extra_checks=(_mentor_checks,),
)

HISTORY = Spec(
    "history",
    HistoryRecord,
    {"entrepreneur_id": _required_text, "mentor_id": _required_text, "outcome": _outcome, "rating": _rating},
    ("entrepreneur_id", "mentor_id", "outcome"),
    unique_id=False,
    extra_checks=(_history_checks,),
)

ROOM = Spec(
    "rooms",
    Room,
    {
        "id": _required_text,
        "kecamatan": _kecamatan,
        "name": _required_text,
        "capacity": _count,
        "availability": _room_availability,
    },
    ("id", "kecamatan", "name", "capacity", "availability"),
)

PAIR = Spec(
    "pairs",
    Pair,
    {"entrepreneur_id": _required_text, "mentor_id": _optional_text},
    ("entrepreneur_id", "mentor_id"),
    unique_id=False,
)


def parse_rows(spec: Spec, rows: Iterable[dict[str, str | None]], fieldnames: Iterable[str], source: str) -> list[Any]:
    """Validate already-split CSV rows against ``spec``; return the records or raise ``InputFileError``."""
    errors: list[RowError] = []
    header = [(h or "").strip() for h in fieldnames]
    missing = [c for c in spec.required if c not in header]
    if missing:
        for col in missing:
            errors.append(RowError(source, 1, col, "", "required column is missing from the header", "missing_column"))
        raise InputFileError(errors)
    records: list[Any] = []
    seen: dict[str, int] = {}
    for rowno, raw in enumerate(rows, start=2):
        row = {(k or "").strip(): v for k, v in raw.items() if k is not None}
        if all(not (v or "").strip() for v in row.values()):
            continue  # a wholly blank line (spreadsheets leave them) is skipped, not an error
        values: dict[str, Any] = {}
        bad = False
        for col in spec.columns:  # a column absent from the header reads as blank (its default)
            cell = (row.get(col) or "").strip()
            try:
                values[col] = spec.columns[col](cell)
            except _CellError as exc:
                errors.append(RowError(source, rowno, col, cell, exc.reason, exc.code, exc.params))
                bad = True
        if not bad:
            for check in spec.extra_checks:
                found = check(values)
                if found:
                    col, exc = found
                    errors.append(RowError(source, rowno, col, (row.get(col) or "").strip(), exc.reason, exc.code, exc.params))
                    bad = True
        if spec.unique_id and "id" in values:
            first = seen.setdefault(values["id"], rowno)
            if first != rowno:
                errors.append(
                    RowError(source, rowno, "id", values["id"], f"repeats the id of row {first}", "duplicate_id", (("row", str(first)),))
                )
                bad = True
        if len(errors) >= MAX_ERRORS_LISTED:
            break
        if not bad:
            records.append(spec.build(**{k: v for k, v in values.items() if k in spec.columns}))
    if errors:
        raise InputFileError(errors)
    return records


# --- the fast reader: column by column, each distinct cell value parsed once ----------------------

#: Parsers that are pure functions of the stripped cell: the fast reader parses each distinct value once.
_MEMOISABLE: frozenset[Callable[[str], Any]] = frozenset(
    {_sector, _sectors, _kbli, _stage, _stages, _kecamatan, _support_areas, _languages, _mode, _gender,
     _availability, _room_availability, _count, _optional_count, _outcome, _rating}
)  # fmt: skip
#: The columns that each built-in extra check reads (its result is memoised on their values).
_CHECK_INPUTS: dict[Callable[..., Any], tuple[str, ...]] = {
    _mentor_checks: ("active_mentees", "capacity"),
    _entrepreneur_checks: ("kbli", "sector"),
    _history_checks: ("rating", "outcome"),
}


class _CsvFailure(Exception):
    """A ``csv.Error``, with what ``csv.DictReader`` had read and the ``line_num`` it would report."""

    def __init__(self, exc: csv.Error, line: int, header: list[str] | None, rows: list[list[str]], header_ok: bool):
        super().__init__(str(exc))
        self.exc, self.line, self.header, self.rows, self.header_ok = exc, line, header, rows, header_ok


def _split(text: str) -> tuple[list[str] | None, list[list[str]]]:
    """Header and rows as ``csv.DictReader`` sees them (it skips the rows that are ``[]``).

    On a CSV error raises ``_CsvFailure`` with the rows read before it and DictReader's ``line_num``.
    """
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        return header, [r for r in reader if r]
    except csv.Error:
        pass
    # rare: replay row by row as DictReader does, to keep the rows before the error and its line number
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise _CsvFailure(exc, 0, None, [], False) from None
    line = reader.line_num
    rows: list[list[str]] = []
    try:
        for row in reader:
            line = reader.line_num
            while row == []:
                row = next(reader, None)
            if row is None:
                break
            line = reader.line_num  # DictReader reads ``fieldnames`` again, which updates ``line_num``
            rows.append(row)
    except csv.Error as exc:
        raise _CsvFailure(exc, line, header, rows, True) from None
    return header, rows  # pragma: no cover - the first pass failed, so the replay fails too


def _column_index(header: list[str]) -> dict[str, int]:
    """Stripped column name -> index of the cell that ``parse_rows`` reads (DictReader's last-wins rules)."""
    last: dict[str, int] = {}
    for k, name in enumerate(header):
        last[name] = k  # dict(zip(fieldnames, row)): a repeated name keeps its last cell, first position
    out: dict[str, int] = {}
    for name, k in last.items():
        out[name.strip()] = k
    return out


def _validate(spec: Spec, header_row: list[str] | None, rows: list[list[str]], source: str) -> tuple[list[Any], list[RowError], bool]:
    """Records, errors, and whether the error limit stopped the reading: ``parse_rows`` on list rows."""
    header = [(h or "").strip() for h in header_row or []]
    missing = [c for c in spec.required if c not in header]
    if missing:
        raise InputFileError(
            [RowError(source, 1, col, "", "required column is missing from the header", "missing_column") for col in missing]
        )
    index = _column_index(header_row or [])
    kept = sorted(set(index.values()))
    need = max(kept) + 1 if kept else 0
    if rows and min(map(len, rows)) < need:
        rows = [r if len(r) >= need else r + [""] * (need - len(r)) for r in rows]
    rownos = list(range(2, len(rows) + 2))
    columns: list[tuple[str, ...]] = list(zip(*rows, strict=False)) if rows and need else []

    # wholly blank rows are skipped (they keep their row number)
    if rows and kept:
        first = list(map(str.strip, columns[kept[0]]))
        if "" in first:
            blank = [p for p, v in enumerate(first) if not v and not any(rows[p][k].strip() for k in kept)]
            if blank:
                drop = set(blank)
                keep_pos = [p for p in range(len(rows)) if p not in drop]
                rownos = [rownos[p] for p in keep_pos]
                columns = [tuple(col[p] for p in keep_pos) for col in columns]
    elif rows:  # no header cell at all: every row reads as blank
        rownos, columns = [], []
    n = len(rownos)

    cell_errors: dict[int, list[RowError]] = {}
    values: dict[str, list[Any]] = {}
    stripped: dict[str, list[str]] = {}
    for col, parse in spec.columns.items():
        k = index.get(col)
        cells = list(map(str.strip, columns[k])) if k is not None and n else [""] * n
        stripped[col] = cells
        bad_at: list[int] = []
        if parse is _optional_text:
            vals: list[Any] = cells
        elif parse is _required_text:
            vals = cells
            if "" in cells:
                vals = list(cells)
                exc = _error_of(parse, "")
                for p, v in enumerate(cells):
                    if not v:
                        vals[p] = exc
                        bad_at.append(p)
        elif parse in _MEMOISABLE:
            parsed: dict[str, Any] = {}
            failed: set[str] = set()
            for v in dict.fromkeys(cells):
                try:
                    parsed[v] = parse(v)
                except _CellError as exc:
                    parsed[v] = exc
                    failed.add(v)
            vals = list(map(parsed.__getitem__, cells))
            if failed:
                bad_at = [p for p, v in enumerate(cells) if v in failed]
        else:
            vals = []
            for p, v in enumerate(cells):
                try:
                    vals.append(parse(v))
                except _CellError as exc:
                    vals.append(exc)
                    bad_at.append(p)
        for p in bad_at:
            exc = vals[p]
            cell_errors.setdefault(p, []).append(RowError(source, rownos[p], col, cells[p], exc.reason, exc.code, exc.params))
        values[col] = vals

    # extra checks, on rows whose cells all parsed
    check_errors: dict[int, list[RowError]] = {}
    names = list(spec.columns)
    for check in spec.extra_checks:
        inputs = _CHECK_INPUTS.get(check)
        memo: dict[tuple[Any, ...], Any] = {}
        cols = [values[c] for c in (inputs or names)]
        for p, key in enumerate(zip(*cols, strict=True)):
            if p in cell_errors:
                continue
            if inputs is None:
                found = check(dict(zip(names, key, strict=True)))
            else:
                try:
                    found = memo[key]
                except KeyError:
                    found = memo[key] = check(dict(zip(inputs, key, strict=True)))
            if found:
                col, exc = found
                cell = stripped[col][p] if col in stripped else ""
                check_errors.setdefault(p, []).append(RowError(source, rownos[p], col, cell, exc.reason, exc.code, exc.params))

    # repeated ids (a row whose id parsed registers it, even if another cell is bad)
    dup_errors: dict[int, RowError] = {}
    if spec.unique_id and "id" in spec.columns:
        ids = values["id"]
        id_bad = {p for p, errs in cell_errors.items() if any(e.column == "id" for e in errs)}
        ok_ids = [v for p, v in enumerate(ids) if p not in id_bad] if id_bad else ids
        if len(set(ok_ids)) != len(ok_ids):
            seen: dict[Any, int] = {}
            for p, v in enumerate(ids):
                if p in id_bad:
                    continue
                first_row = seen.setdefault(v, rownos[p])
                if first_row != rownos[p]:
                    dup_errors[p] = RowError(
                        source, rownos[p], "id", v, f"repeats the id of row {first_row}", "duplicate_id", (("row", str(first_row)),)
                    )

    errors: list[RowError] = []
    for p in sorted({*cell_errors, *check_errors, *dup_errors}):
        errors.extend(cell_errors.get(p, ()))
        errors.extend(check_errors.get(p, ()))
        if p in dup_errors:
            errors.append(dup_errors[p])
        if len(errors) >= MAX_ERRORS_LISTED:
            break  # as parse_rows: the rest of the file is not read
    if errors:
        return [], errors, len(errors) >= MAX_ERRORS_LISTED
    return _build(spec, values, n), [], False


def _error_of(parse: Callable[[str], Any], cell: str) -> _CellError:
    try:
        parse(cell)
    except _CellError as exc:
        return exc
    raise AssertionError(f"{parse.__name__} accepted {cell!r}")  # pragma: no cover


def _build(spec: Spec, values: dict[str, list[Any]], n: int) -> list[Any]:
    """The records, built with positional arguments when the columns are the builder's leading fields."""
    names = list(spec.columns)
    if dataclasses.is_dataclass(spec.build):
        fields = [f.name for f in dataclasses.fields(spec.build) if f.init]
        lead = fields[: len(names)]
        if set(lead) == set(names):
            return list(map(spec.build, *(values[c] for c in lead))) if n else []
    return [spec.build(**dict(zip(names, row, strict=True))) for row in zip(*(values[c] for c in names), strict=True)]


def read_text(spec: Spec, text: str, source: str) -> list[Any]:
    """Validate CSV ``text`` (already decoded) against ``spec``.

    The same records and errors as :func:`parse_rows` over ``csv.DictReader`` rows, read column by
    column so that each distinct cell value of a column is parsed once.
    """
    if text.startswith("\ufeff"):
        text = text[1:]
    if not text.strip():
        raise InputFileError([RowError(source, 0, "", "", "the file is empty; it needs a header row", "empty_file")])
    with _no_gc():
        return _read_text(spec, text, source)


@contextmanager
def _no_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while millions of small containers are built (none are cycles)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _read_text(spec: Spec, text: str, source: str) -> list[Any]:
    try:
        header, rows = _split(text)
    except _CsvFailure as failure:
        if failure.header_ok:  # parse_rows checked the header, then read rows until the error
            _, errors, stopped = _validate(spec, failure.header, failure.rows, source)
            if stopped:
                raise InputFileError(errors) from None
        raise InputFileError([RowError(source, failure.line, "", "", f"is not valid CSV: {failure.exc}", "bad_csv")]) from None
    records, errors, _ = _validate(spec, header, rows, source)
    if errors:
        raise InputFileError(errors)
    return records


def read_file(spec: Spec, path: str | os.PathLike[str]) -> list[Any]:
    """Read and validate a CSV file against ``spec``; ``InputFileError`` names file, row, column and reason."""
    name = Path(path).name
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise InputFileError([RowError(name, 0, "", "", f"cannot be read: {exc.strerror or exc}", "unreadable")]) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputFileError([RowError(name, 0, "", "", f"is not UTF-8 text (byte {exc.start})", "not_utf8")]) from None
    return read_text(spec, text, name)


def read_entrepreneurs(path: str | os.PathLike[str]) -> list[Entrepreneur]:
    """Entrepreneurs from an ``entrepreneurs.csv`` file."""
    return read_file(ENTREPRENEUR, path)


def read_mentors(path: str | os.PathLike[str]) -> list[Mentor]:
    """Mentors from a ``mentors.csv`` file."""
    return read_file(MENTOR, path)


def read_history(path: str | os.PathLike[str]) -> list[HistoryRecord]:
    """History records from a ``history.csv`` file."""
    return read_file(HISTORY, path)


def read_rooms(path: str | os.PathLike[str]) -> list[Room]:
    """Rooms from a ``rooms.csv`` file."""
    return read_file(ROOM, path)


def read_pairs(path: str | os.PathLike[str]) -> list[Pair]:
    """Pairs from a ``pairs.csv`` (or an assignment output); rows with an empty mentor are skipped."""
    return [p for p in read_file(PAIR, path) if p.mentor_id]


# --- writing ------------------------------------------------------------------------------------

ENTREPRENEUR_COLUMNS = (
    "id", "name", "sector", "kbli", "stage", "kecamatan", "needs", "languages", "mode",
    "availability", "gender", "prefers_mentor_gender", "bio",
)  # fmt: skip
MENTOR_COLUMNS = (
    "id", "name", "sectors", "stages", "kecamatan", "expertise", "capacity", "active_mentees",
    "languages", "mode", "availability", "gender", "bio",
)  # fmt: skip
HISTORY_COLUMNS = ("entrepreneur_id", "mentor_id", "outcome", "rating")
ROOM_COLUMNS = ("id", "kecamatan", "name", "capacity", "availability")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, tuple):
        if value and isinstance(value[0], Window):
            return format_availability(value)
        return ";".join(value)
    return str(value)


def entrepreneur_row(e: Entrepreneur) -> dict[str, str]:
    """An entrepreneur as a CSV row of the contract (``availability`` blank when it was blank)."""
    row = {c: _cell(getattr(e, c)) for c in ENTREPRENEUR_COLUMNS}
    row["availability"] = format_availability(e.availability)
    return row


def mentor_row(m: Mentor) -> dict[str, str]:
    """A mentor as a CSV row of the contract."""
    row = {c: _cell(getattr(m, c)) for c in MENTOR_COLUMNS}
    row["availability"] = format_availability(m.availability)
    return row


def history_row(h: HistoryRecord) -> dict[str, str]:
    """A history record as a CSV row."""
    return {c: _cell(getattr(h, c)) for c in HISTORY_COLUMNS}


def room_row(r: Room) -> dict[str, str]:
    """A room as a CSV row."""
    return {c: _cell(getattr(r, c)) for c in ROOM_COLUMNS}


def write_csv_text(columns: Iterable[str], rows: Iterable[dict[str, Any]]) -> str:
    """CSV text with a header, for downloads."""
    buf = io.StringIO(newline="")
    writer = csv.DictWriter(buf, fieldnames=list(columns), extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def write_csv_atomic(path: str | os.PathLike[str], columns: Iterable[str], rows: Iterable[dict[str, Any]] | Iterator) -> None:
    """Write a CSV file all at once: to a temporary file beside it, then renamed into place.

    A failure part-way leaves no output file (and no partial one) behind.
    """
    target = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent or ".")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(columns), extrasaction="ignore", lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_bytes_atomic(path: str | os.PathLike[str], chunks: Iterable[bytes]) -> None:
    """Write ready-made bytes (e.g. UTF-8 CSV text built in bulk) all at once, like :func:`write_csv_atomic`."""
    target = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent or ".")
    try:
        with os.fdopen(fd, "wb") as f:
            for chunk in chunks:
                f.write(chunk)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def csv_field(value: str) -> str:
    """``value`` as ``csv.writer`` writes it in a row of several fields (quoted only when needed)."""
    if not any(ch in value for ch in ',"\r\n'):
        return value
    buf = io.StringIO(newline="")
    csv.writer(buf, lineterminator="\n").writerow((value, ""))
    return buf.getvalue()[:-2]


def write_rows_atomic(path: str | os.PathLike[str], columns: Iterable[str], rows: Iterable[Iterable[Any]]) -> None:
    """Like :func:`write_csv_atomic` for rows given as tuples in column order (one ``csv.writer`` pass)."""
    target = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent or ".")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f, lineterminator="\n")
            writer.writerow(list(columns))
            writer.writerows(rows)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
