"""The column-wise CSV reader gives exactly the records and errors of the row-by-row reference."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matching import csvio
from matching.synthetic import generate_city


def reference_read(spec: csvio.Spec, text: str, source: str):
    """The reader as it was: csv.DictReader rows through ``parse_rows``."""
    if text.startswith("\ufeff"):
        text = text[1:]
    if not text.strip():
        raise csvio.InputFileError([csvio.RowError(source, 0, "", "", "the file is empty; it needs a header row", "empty_file")])
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        return csvio.parse_rows(spec, reader, reader.fieldnames or [], source)
    except csv.Error as exc:
        raise csvio.InputFileError(
            [csvio.RowError(source, reader.line_num, "", "", f"is not valid CSV: {exc}", "bad_csv")]
        ) from None


def outcome(read, spec, text):
    try:
        return "ok", read(spec, text, "f.csv")
    except csvio.InputFileError as exc:
        return "error", (str(exc), exc.errors)


def assert_same(spec, text):
    expected = outcome(reference_read, spec, text)
    got = outcome(csvio.read_text, spec, text)
    assert got == expected
    return got


E_HEADER = ",".join(csvio.ENTREPRENEUR_COLUMNS)
GOOD_E = "E1,Sari,C,10710,early,31.71.01,financing;marketing,id;en,offline,tue 19:00-21:00,f,,bakes bread"


def test_the_synthetic_city_reads_the_same_both_ways():
    city = generate_city(300, 40, seed=3)
    for spec, columns, to_row, records in (
        (csvio.ENTREPRENEUR, csvio.ENTREPRENEUR_COLUMNS, csvio.entrepreneur_row, city.entrepreneurs),
        (csvio.MENTOR, csvio.MENTOR_COLUMNS, csvio.mentor_row, city.mentors),
        (csvio.HISTORY, csvio.HISTORY_COLUMNS, csvio.history_row, city.history),
        (csvio.ROOM, csvio.ROOM_COLUMNS, csvio.room_row, city.rooms),
    ):
        text = csvio.write_csv_text(columns, (to_row(r) for r in records))
        kind, got = assert_same(spec, text)
        assert kind == "ok" and got == list(records)


@pytest.mark.parametrize(
    "text",
    [
        E_HEADER + "\n" + GOOD_E + "\n",
        "\ufeff" + E_HEADER + "\r\n" + GOOD_E + "\r\n",
        E_HEADER + "\n\n" + GOOD_E + "\n\n\n",  # blank lines do not count as rows
        E_HEADER + "\n,,,,,,,,,,,,\n   ,  \n" + GOOD_E + "\n",  # blank-valued rows keep their number
        E_HEADER + "\n" + GOOD_E + "\n" + GOOD_E.replace("E1", "E2") + "\n" + GOOD_E + "\n",  # repeated id
        E_HEADER + "\n" + GOOD_E.replace("E1", "") + "\n" + GOOD_E.replace("E1", "") + "\n",  # blank ids
        E_HEADER + "\n" + GOOD_E.replace(",C,", ",Z,").replace("31.71.01", "99") + "\n",
        E_HEADER + "\n" + GOOD_E.replace("10710", "47111") + "\n",  # kbli of another section
        E_HEADER + "\n" + GOOD_E.replace("10710", "1x") + "\n",
        E_HEADER + "\n" + GOOD_E.replace("tue 19:00-21:00", "tue 21:00-19:00;xyz") + "\n",
        E_HEADER + "\n" + GOOD_E.replace("id;en", "ind") + "\n",
        E_HEADER + "\n" + GOOD_E.replace("offline", "OFFLINE").replace("early", " Early ") + "\n",
        E_HEADER + "\n" + GOOD_E.replace(",f,,", ",x,y,") + "\n",
        E_HEADER + "\n" + "E1,Sari,C\n",  # short row
        E_HEADER + "\n" + GOOD_E + ",extra,cells\n",  # long row
        " id , name ,sector,stage,kecamatan,needs\nE1,A,C,idea,31.71.01,financing\n",  # spaced header
        "id,name,sector,stage,kecamatan,needs,id\nE1,A,C,idea,31.71.01,financing,E9\nE2,B,C,idea,31.71.01,financing\n",
        "id,name,sector,stage,kecamatan,needs, id\nE1,A,C,idea,31.71.01,financing,E9\n",
        "id,name,sector,stage,kecamatan\nE1,A,C,idea,31.71.01\n",  # missing column
        "\nid,name\n",
        "id,name,sector,stage,kecamatan,needs\n\"E1\nx\",\"A, B\",C,idea,31.71.01,\"financing; marketing;;\"\n",
        "id,name,sector,stage,kecamatan,needs,unknown\nE1,A,c,IDEA,31.71.01,FINANCING,zzz\n",
    ],
)
def test_tricky_entrepreneur_files_read_the_same(text):
    assert_same(csvio.ENTREPRENEUR, text)


@pytest.mark.parametrize(
    "row",
    [
        "M1,Budi,G;C;g,early;idea,31.71.01,marketing,3,1,,either,,m,",
        "M1,Budi,G,early,31.71.01,marketing,2,3,,either,,m,",  # over capacity
        "M1,Budi,G,early,31.71.01,marketing,dua,-1,,either,,m,",
        "M1,Budi,,,31.71.01,,-4,,,weird,mon 08:00-25:00,q,",
        "M1,Budi,G,early,31.71.01,marketing,,0,,,,,",
    ],
)
def test_tricky_mentor_rows_read_the_same(row):
    header = ",".join(csvio.MENTOR_COLUMNS)
    assert_same(csvio.MENTOR, f"{header}\n{row}\n{row.replace('M1', 'M2')}\n")


def test_history_rooms_and_pairs_read_the_same():
    assert_same(csvio.HISTORY, "entrepreneur_id,mentor_id,outcome,rating\nE1,M1,completed,5\nE1,M1,declined,4\nE2,M2,x,4.5\n,M1,accepted,\n")
    assert_same(csvio.ROOM, "id,kecamatan,name,capacity,availability\nR1,31.71.01,Ruang,2,mon 09:00-17:00\nR2,31.71.01,B,1,\n")
    assert_same(csvio.PAIR, "entrepreneur_id,mentor_id\nE1,M1\nE2,\n,M3\n")


def test_many_bad_rows_stop_at_the_error_limit_like_the_reference():
    rows = [GOOD_E.replace("E1", f"E{i}").replace(",C,", ",Z,").replace("31.71.01", "0") for i in range(150)]
    kind, (message, errors) = assert_same(csvio.ENTREPRENEUR, E_HEADER + "\n" + "\n".join(rows) + "\n")
    assert kind == "error" and len(errors) == csvio.MAX_ERRORS_LISTED


def test_a_csv_error_is_reported_like_the_reference():
    huge = "x" * (csv.field_size_limit() + 10)
    assert_same(csvio.ENTREPRENEUR, E_HEADER + "\n" + GOOD_E + "\n\n" + GOOD_E.replace(",C,", ",Z,") + f"\n\"{huge}\",a\n")
    assert_same(csvio.ENTREPRENEUR, E_HEADER + "\n" + GOOD_E + "\n\n\n" + f"\"{huge}\",a\n")  # after blank lines
    assert_same(csvio.ENTREPRENEUR, E_HEADER + "\n" + f"\"{huge}\",a\n")  # the first row
    assert_same(csvio.ENTREPRENEUR, f"\"{huge}\",a\n" + GOOD_E + "\n")  # in the header
    bad = [GOOD_E.replace("E1", f"E{i}").replace(",C,", ",Z,").replace("31.71.01", "0") for i in range(120)]
    assert_same(csvio.ENTREPRENEUR, E_HEADER + "\n" + "\n".join(bad) + f"\n\"{huge}\",a\n")  # limit first
    assert_same(csvio.ENTREPRENEUR, "id,name\n" + f"\"{huge}\",a\n")  # missing columns first


CELLS = st.sampled_from(
    ["", " ", "E1", "E2", "C", "q", "idea", "Growth", "31.71.01", "31.99.99", "financing", "financing;marketing",
     "bogus", "id;en", "x", "offline", "online", "mon 08:00-10:00", "sun 10:00-09:00", "3", "-1", "2", "f", "m",
     "10710", "47111", "a \"quoted\" cell", "a, comma", "multi\nline", "completed", "declined", "4", "4.5"]
)  # fmt: skip
HEADERS = st.lists(
    st.sampled_from([*csvio.ENTREPRENEUR_COLUMNS, *csvio.MENTOR_COLUMNS, "outcome", "rating", " id", "other", ""]),
    min_size=1,
    max_size=15,
)


@settings(max_examples=300, deadline=None)
@given(
    spec=st.sampled_from([csvio.ENTREPRENEUR, csvio.MENTOR, csvio.HISTORY, csvio.PAIR]),
    header=HEADERS,
    rows=st.lists(st.lists(CELLS, max_size=16), max_size=8),
    complete=st.booleans(),
)
def test_random_files_read_the_same(spec, header, rows, complete):
    if complete:
        header = [*header, *(c for c in spec.columns if c not in header)]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    for r in rows:
        w.writerow(r) if r else buf.write("\n")
    assert_same(spec, buf.getvalue())
