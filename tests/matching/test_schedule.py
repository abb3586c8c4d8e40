"""The weekly scheduler: every rule of BATCH.md command 3, optimality, determinism, the CLI."""

from __future__ import annotations

import csv
import datetime as dt
import itertools
import shutil
import subprocess
import sys
from pathlib import Path

import holidays
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matching.csvio import parse_availability
from matching.profiles import Entrepreneur, Mentor, Pair, Room
from matching.schedule import (
    REASONS,
    WIB,
    blocked_days,
    parse_iso_week,
    propose_week,
)

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = Path(__file__).resolve().parent / "data" / "examples"
WEEK = "2026-W49"  # Mon 30 Nov - Sun 6 Dec 2026, no holiday
MONDAY = dt.date(2026, 11, 30)
KEC_A, KEC_B, KEC_C = "31.74.01", "31.74.02", "31.71.01"


def ent(id: str, *, kec: str = KEC_A, mode: str = "either", avail: str = "") -> Entrepreneur:
    """An entrepreneur with only the fields the scheduler reads."""
    return Entrepreneur(
        id, id, "C", "early", kec, ("financing",), mode=mode, availability=parse_availability(avail)
    )


def men(id: str, *, kec: str = KEC_B, mode: str = "either", avail: str = "") -> Mentor:
    """A mentor with only the fields the scheduler reads."""
    return Mentor(
        id, id, ("C",), ("early",), kec, ("financing",), 3, mode=mode, availability=parse_availability(avail)
    )


def room(id: str, *, kec: str = KEC_A, cap: int = 1, avail: str = "") -> Room:
    """A room open Monday to Saturday 08:00-21:00 unless told otherwise."""
    text = avail or ";".join(f"{d} 08:00-21:00" for d in ("mon", "tue", "wed", "thu", "fri", "sat"))
    return Room(id, kec, id, cap, parse_availability(text))


def run(pairs, es, ms, rooms=(), week=WEEK, **kw):
    """propose_week on plain lists of pairs given as (entrepreneur id, mentor id)."""
    return propose_week([Pair(e, m) for e, m in pairs], es, ms, list(rooms), week, **kw)


# --- an independent checker of every rule -----------------------------------------------------------


def violations(result, es, ms, rooms, minutes=60, busy=None, room_busy=None, exclude=None) -> list[str]:
    """Every broken rule in ``result`` (written apart from the scheduler, after check.py)."""
    es = {e.id: e for e in es}
    ms = {m.id: m for m in ms}
    rooms = {r.id: r for r in rooms}
    monday = result.monday
    cal = holidays.country_holidays(
        "ID", years={monday.year, (monday + dt.timedelta(6)).year}, categories=("public", "government")
    )
    problems = []
    person_iv: dict[str, list] = {}
    room_iv: dict[str, list] = {}
    for who, spans in (busy or {}).items():
        person_iv.setdefault(who, []).extend(spans)
    for rid, spans in (room_busy or {}).items():
        room_iv.setdefault(rid, []).extend(spans)

    def inside(wins, day, a, b):
        return any(w.day == day and w.start <= a and b <= w.end for w in wins)

    for s in result.sessions:
        e, m = es[s.entrepreneur_id], ms[s.mentor_id]
        tag = f"{e.id}-{m.id}@{s.start}"
        if s.start.utcoffset() != dt.timedelta(hours=7) or s.end - s.start != dt.timedelta(minutes=minutes):
            problems.append(f"{tag}: offset or length")
        day = (s.start.date() - monday).days
        a, b = s.start.hour * 60 + s.start.minute, s.end.hour * 60 + s.end.minute
        if not 0 <= day < 7 or s.start.date() != s.end.date():
            problems.append(f"{tag}: outside the week")
        if s.start.date() in cal:
            problems.append(f"{tag}: holiday")
        if day == 4 and a < 13 * 60 and b > 11 * 60 + 30:
            problems.append(f"{tag}: Friday prayer")
        if not inside(e.windows, day, a, b) or not inside(m.windows, day, a, b):
            problems.append(f"{tag}: outside availability")
        if s.start in set((exclude or {}).get((e.id, m.id), ())):
            problems.append(f"{tag}: a declined time")
        if s.mode == "online":
            if "offline" in (e.mode, m.mode) or s.room_id is not None:
                problems.append(f"{tag}: online not allowed")
        elif s.mode == "offline":
            r = rooms.get(s.room_id)
            if r is None or "online" in (e.mode, m.mode):
                problems.append(f"{tag}: offline not allowed")
            else:
                if r.kecamatan not in (e.kecamatan, m.kecamatan):
                    problems.append(f"{tag}: room elsewhere")
                if not inside(r.availability, day, a, b):
                    problems.append(f"{tag}: room closed")
                room_iv.setdefault(r.id, []).append((s.start, s.end))
        else:
            problems.append(f"{tag}: mode {s.mode}")
        for who in (e.id, m.id):
            person_iv.setdefault(who, []).append((s.start, s.end))
    for who, spans in person_iv.items():
        for (a1, b1), (a2, b2) in itertools.combinations(spans, 2):
            if a1 < b2 and a2 < b1:
                problems.append(f"{who} double-booked at {a1} and {a2}")
    for rid, spans in room_iv.items():
        cap = rooms[rid].capacity
        for a, _ in spans:
            if sum(1 for x, y in spans if x <= a < y) > cap:
                problems.append(f"room {rid} overfilled at {a}")
    for u in result.unplaced:
        if not u.reason or u.code not in REASONS:
            problems.append(f"unplaced {u} without a known code and reason")
    return problems


# --- the calendar ---------------------------------------------------------------------------------


def test_parse_iso_week_gives_the_monday():
    assert parse_iso_week("2026-W49") == dt.date(2026, 11, 30)
    assert parse_iso_week("2026-W53") == dt.date(2026, 12, 28)
    assert parse_iso_week("2027-W01") == dt.date(2027, 1, 4)


@pytest.mark.parametrize(
    "text", ["2025-W53", "2026-W00", "2026-W54", "2026-49", "next week", "", "2026-12-01"]
)
def test_parse_iso_week_rejects_what_is_not_a_week(text):
    with pytest.raises(ValueError):
        parse_iso_week(text)


def test_blocked_days_follow_the_holidays_package_with_cuti_bersama():
    monday = parse_iso_week("2026-W52")
    cal = holidays.country_holidays("ID", years=2026, categories=("public", "government"))
    expected = {monday + dt.timedelta(i) for i in range(7) if monday + dt.timedelta(i) in cal}
    got = blocked_days(monday)
    assert set(got) == expected
    assert dt.date(2026, 12, 25) in got  # Christmas Day
    assert dt.date(2026, 12, 24) in got  # cuti bersama (government category), not a public holiday
    assert all(name for name in got.values())
    assert blocked_days(MONDAY) == {}


def test_a_week_across_new_year_blocks_new_years_day():
    monday = parse_iso_week("2026-W53")
    assert dt.date(2027, 1, 1) in blocked_days(monday)


def test_no_session_on_a_holiday_and_a_holiday_only_pair_is_told_why():
    week = "2026-W52"
    blocked = blocked_days(parse_iso_week(week))
    es = [ent("E1"), ent("E2", avail="thu 09:00-12:00;fri 14:00-16:00")]
    ms = [men("M1"), men("M2", avail="thu 09:00-12:00;fri 14:00-16:00")]
    result = run([("E1", "M1"), ("E2", "M2")], es, ms, week=week)
    assert [s.entrepreneur_id for s in result.sessions] == ["E1"]
    assert result.sessions[0].start.date() not in blocked
    assert [(u.entrepreneur_id, u.code) for u in result.unplaced] == [("E2", "holiday_week")]
    assert "Christmas" in result.unplaced[0].reason
    assert violations(result, es, ms, []) == []


def test_friday_prayer_is_kept_free():
    es = [ent("E1", avail="fri 11:00-14:00"), ent("E2", avail="fri 11:30-13:00")]
    ms = [men("M1", avail="fri 11:00-14:00"), men("M2", avail="fri 11:00-13:30")]
    result = run([("E1", "M1"), ("E2", "M2")], es, ms)
    assert [(s.start.hour, s.start.minute) for s in result.sessions] == [(13, 0)]
    assert [u.code for u in result.unplaced] == ["friday_prayer"]
    assert result.sessions[0].start == dt.datetime(2026, 12, 4, 13, 0, tzinfo=WIB)


# --- places and modes ----------------------------------------------------------------------------------


def test_a_full_room_places_one_pair_and_explains_the_other():
    es = [
        ent("E1", mode="offline", avail="tue 10:00-11:00"),
        ent("E2", mode="offline", avail="tue 10:00-11:00"),
    ]
    ms = [men("M1", avail="tue 10:00-11:00"), men("M2", avail="tue 10:00-11:00")]
    result = run([("E1", "M1"), ("E2", "M2")], es, ms, [room("R1", cap=1)])
    assert len(result.sessions) == 1 and result.sessions[0].room_id == "R1"
    assert [u.code for u in result.unplaced] == ["rooms_full"]
    assert result.stats.upper_bound == 1
    # with room for two, both meet
    both = run([("E1", "M1"), ("E2", "M2")], es, ms, [room("R1", cap=2)])
    assert len(both.sessions) == 2 and violations(both, es, ms, [room("R1", cap=2)]) == []


def test_in_person_prefers_the_entrepreneurs_kecamatan():
    es = [ent("E1", kec=KEC_A)]
    ms = [men("M1", kec=KEC_B)]
    rooms = [room("RB", kec=KEC_B), room("RA", kec=KEC_A), room("RC", kec=KEC_C)]
    result = run([("E1", "M1")], es, ms, rooms)
    assert (result.sessions[0].mode, result.sessions[0].room_id) == ("offline", "RA")
    # without a room near the entrepreneur, the mentor's kecamatan; never a third one
    result = run([("E1", "M1")], es, ms, rooms[:1] + rooms[2:])
    assert result.sessions[0].room_id == "RB"
    result = run([("E1", "M1")], es, ms, rooms[2:])
    assert (result.sessions[0].mode, result.sessions[0].room_id) == ("online", None)


def test_an_online_only_pair_meets_online_without_a_room():
    es = [ent("E1", mode="online", avail="wed 19:00-21:00")]
    ms = [men("M1", avail="wed 20:00-21:00")]
    result = run([("E1", "M1")], es, ms, [room("RA"), room("RB", kec=KEC_B)])
    (s,) = result.sessions
    assert (s.mode, s.room_id, s.start.hour) == ("online", None, 20)
    assert s.start.isoformat() == "2026-12-02T20:00:00+07:00"


def test_incompatible_modes_and_missing_rooms_are_explained():
    es = [
        ent("E1", mode="offline"),
        ent("E2", mode="offline", avail="mon 18:00-20:00"),
        ent("E3", mode="offline"),
    ]
    ms = [men("M1", mode="online"), men("M2", kec=KEC_C)]
    rooms = [room("RA", avail="mon 08:00-16:00")]
    result = run([("E1", "M1"), ("E2", "M2"), ("E3", "X9"), ("X8", "M2")], es, ms, rooms)
    codes = {(u.entrepreneur_id, u.mentor_id): u.code for u in result.unplaced}
    assert codes == {
        ("E1", "M1"): "incompatible_modes",
        ("E2", "M2"): "room_closed",
        ("E3", "X9"): "unknown_mentor",
        ("X8", "M2"): "unknown_entrepreneur",
    }
    nowhere = run([("E3", "M2")], es, ms, [room("RB", kec=KEC_B)])
    assert [u.code for u in nowhere.unplaced] == ["no_room_nearby"]


def test_room_hours_are_respected():
    es = [ent("E1", mode="offline", avail="mon 09:00-12:00")]
    ms = [men("M1", avail="mon 08:00-12:00")]
    rooms = [room("RA", avail="mon 08:00-10:00")]
    result = run([("E1", "M1")], es, ms, rooms)
    assert [(s.start.hour, s.start.minute, s.room_id) for s in result.sessions] == [(9, 0, "RA")]


def test_no_common_time():
    es = [ent("E1", avail="mon 09:00-10:00")]
    ms = [men("M1", avail="mon 09:30-11:00")]
    result = run([("E1", "M1")], es, ms)
    assert [u.code for u in result.unplaced] == ["no_common_time"]
    assert "60 minutes" in result.unplaced[0].reason


# --- people ---------------------------------------------------------------------------------------------


def test_a_mentor_with_two_mentees_at_one_time_is_never_double_booked():
    es = [ent("E1", avail="tue 19:00-20:00"), ent("E2", avail="tue 19:00-20:00")]
    ms = [men("M1", avail="tue 19:00-21:00")]
    result = run([("E1", "M1"), ("E2", "M1")], es, ms)
    assert len(result.sessions) == 1
    assert [u.code for u in result.unplaced] == ["person_busy"]
    wider = [ent("E1", avail="tue 19:00-21:00"), ent("E2", avail="tue 19:00-20:00")]
    result = run([("E1", "M1"), ("E2", "M1")], wider, ms)
    assert {s.entrepreneur_id: s.start.hour for s in result.sessions} == {"E1": 20, "E2": 19}
    assert violations(result, wider, ms, []) == []


def test_an_entrepreneur_listed_twice_gets_two_separate_sessions_and_a_repeated_pair_one():
    es = [ent("E1", avail="sat 09:00-11:00")]
    ms = [men("M1", avail="sat 09:00-11:00"), men("M2", avail="sat 09:00-11:00")]
    result = run([("E1", "M1"), ("E1", "M2"), ("E1", "M1")], es, ms)
    assert len(result.sessions) == 2
    assert [u.code for u in result.unplaced] == ["duplicate_pair"]
    assert violations(result, es, ms, []) == []


def test_busy_exclude_room_busy_and_preferred_are_honoured():
    es = [ent("E1", avail="mon 09:00-12:00"), ent("E2", mode="offline", avail="mon 09:00-11:00")]
    ms = [men("M1", avail="mon 09:00-12:00"), men("M2", avail="mon 09:00-11:00")]
    rooms = [room("RA", cap=1)]
    at = lambda h, m=0: dt.datetime(2026, 11, 30, h, m, tzinfo=WIB)  # noqa: E731
    base = run([("E1", "M1")], es, ms, rooms, preferred={("E1", "M1"): (0, 10 * 60 + 30)})
    assert base.sessions[0].start == at(10, 30)
    busy = {"M1": [(at(10), at(11, 30))]}
    moved = run([("E1", "M1")], es, ms, rooms, preferred={("E1", "M1"): (0, 10 * 60 + 30)}, busy=busy)
    assert moved.sessions[0].start == at(9)
    assert violations(moved, es, ms, rooms, busy=busy) == []
    declined = {("E1", "M1"): [at(h, m) for h in (9, 10) for m in (0, 30)]}
    other = run([("E1", "M1")], es, ms, rooms, exclude=declined)
    assert other.sessions[0].start == at(11)
    everything = {("E1", "M1"): [at(h, m) for h in (9, 10, 11) for m in (0, 30)]}
    assert [u.code for u in run([("E1", "M1")], es, ms, rooms, exclude=everything).unplaced] == [
        "no_time_left"
    ]
    room_busy = {"RA": [(at(9), at(10))]}
    result = run([("E2", "M2")], es, ms, rooms, room_busy=room_busy)
    assert (result.sessions[0].start, result.sessions[0].room_id) == (at(10), "RA")
    assert violations(result, es, ms, rooms, room_busy=room_busy) == []
    full = {"RA": [(at(8), at(12))]}
    assert [u.code for u in run([("E2", "M2")], es, ms, rooms, room_busy=full).unplaced] == ["rooms_full"]


def test_minutes_sets_the_session_length():
    es, ms = [ent("E1", avail="thu 10:00-11:30")], [men("M1")]
    result = run([("E1", "M1")], es, ms, minutes=90)
    assert result.sessions[0].end - result.sessions[0].start == dt.timedelta(minutes=90)
    assert [u.code for u in run([("E1", "M1")], es, ms, minutes=120).unplaced] == ["no_common_time"]


# --- random instances: rules, optimality, determinism --------------------------------------------------

DAYS3 = ("mon", "wed", "fri")


@st.composite
def instances(draw, max_pairs=6):
    """Small random weeks: few people sharing few rooms and windows, so conflicts are frequent."""

    def avail():
        wins = draw(
            st.lists(
                st.tuples(st.sampled_from(DAYS3), st.integers(8, 19), st.integers(1, 3)),
                min_size=0,
                max_size=2,
            )
        )
        return ";".join(f"{d} {h:02d}:00-{min(h + n, 21):02d}:00" for d, h, n in wins)

    kecs = (KEC_A, KEC_B)
    n_e, n_m = draw(st.integers(1, 4)), draw(st.integers(1, 3))
    es = [
        ent(
            f"E{i}",
            kec=draw(st.sampled_from(kecs)),
            mode=draw(st.sampled_from(["offline", "online", "either"])),
            avail=avail(),
        )
        for i in range(n_e)
    ]
    ms = [
        men(
            f"M{i}",
            kec=draw(st.sampled_from(kecs)),
            mode=draw(st.sampled_from(["offline", "either", "either"])),
            avail=avail(),
        )
        for i in range(n_m)
    ]
    rooms = [
        room(
            f"R{i}",
            kec=draw(st.sampled_from(kecs)),
            cap=draw(st.integers(0, 2)),
            avail=draw(st.sampled_from(["", "mon 08:00-12:00;wed 10:00-20:00", "fri 13:00-21:00"])),
        )
        for i in range(draw(st.integers(0, 2)))
    ]
    pairs = draw(
        st.lists(
            st.tuples(st.sampled_from([e.id for e in es]), st.sampled_from([m.id for m in ms])),
            min_size=1,
            max_size=max_pairs,
            unique=True,
        )
    )
    week = draw(st.sampled_from([WEEK, "2026-W52", "2026-W12"]))
    return pairs, es, ms, rooms, week


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances(max_pairs=8))
def test_no_schedule_ever_breaks_a_rule(inst):
    pairs, es, ms, rooms, week = inst
    result = run(pairs, es, ms, rooms, week=week)
    assert violations(result, es, ms, rooms) == []
    assert len(result.sessions) + len(result.unplaced) == len(pairs)
    assert result.stats.placed <= result.stats.upper_bound <= len(pairs)


def brute_force_best(pairs, es, ms, rooms, week, minutes=60):
    """The most pairs any schedule can place, by trying every combination of start, place or nothing."""
    es_ = {e.id: e for e in es}
    ms_ = {m.id: m for m in ms}
    monday = parse_iso_week(week)
    blocked = {(d - monday).days for d in blocked_days(monday)}
    choices = []
    for eid, mid in pairs:
        e, m = es_[eid], ms_[mid]
        opts = [None]
        if {e.mode, m.mode} == {"offline", "online"}:
            choices.append(opts)
            continue
        for day in range(7):
            if day in blocked:
                continue
            for a in range(0, 24 * 60 - minutes + 1, 30):
                b = a + minutes
                if day == 4 and a < 13 * 60 and b > 11 * 60 + 30:
                    continue
                if not all(
                    any(w.day == day and w.start <= a and b <= w.end for w in p.windows) for p in (e, m)
                ):
                    continue
                if "offline" not in (e.mode, m.mode):
                    opts.append((day, a, None))
                if "online" not in (e.mode, m.mode):
                    for r in rooms:
                        if (
                            r.kecamatan in (e.kecamatan, m.kecamatan)
                            and r.capacity > 0
                            and any(w.day == day and w.start <= a and b <= w.end for w in r.availability)
                        ):
                            opts.append((day, a, r.id))
        choices.append(opts)
    caps = {r.id: r.capacity for r in rooms}
    best = 0

    def search(i, placed, used):
        nonlocal best
        if placed + (len(pairs) - i) <= best:
            return
        if i == len(pairs):
            best = max(best, placed)
            return
        eid, mid = pairs[i]
        for opt in choices[i][1:]:
            day, a, rid = opt
            if any(
                d2 == day and abs(a2 - a) < minutes and {eid, mid} & {e2, m2} for e2, m2, d2, a2, _ in used
            ):
                continue
            if rid is not None:
                same = [a2 for (_, _, d2, a2, r2) in used if r2 == rid and d2 == day] + [a]
                if any(sum(1 for x in same if p - minutes < x <= p) > caps[rid] for p in same):
                    continue
            used.append((eid, mid, day, a, rid))
            search(i + 1, placed + 1, used)
            used.pop()
        search(i + 1, placed, used)

    search(0, 0, [])
    return best


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances(max_pairs=5))
def test_places_as_many_pairs_as_brute_force(inst):
    pairs, es, ms, rooms, week = inst
    result = run(pairs, es, ms, rooms, week=week)
    assert len(result.sessions) == brute_force_best(pairs, es, ms, rooms, week)
    assert result.stats.upper_bound == len(result.sessions)


def test_the_same_input_gives_the_same_output():
    es = [
        ent(
            f"E{i}",
            kec=(KEC_A, KEC_B)[i % 2],
            mode=("offline", "either")[i % 3 == 0],
            avail=("tue 09:00-13:00;thu 10:00-12:00", "")[i % 4 == 0],
        )
        for i in range(30)
    ]
    ms = [men(f"M{i}", kec=(KEC_A, KEC_B)[i % 2], avail="tue 09:00-12:00;thu 09:00-12:00") for i in range(8)]
    rooms = [room("RA", cap=2), room("RB", kec=KEC_B, cap=1)]
    pairs = [(f"E{i}", f"M{i % 8}") for i in range(30)]
    first = run(pairs, es, ms, rooms)
    second = run(list(pairs), list(es), list(ms), list(rooms))
    assert first.sessions == second.sessions and first.unplaced == second.unplaced
    assert violations(first, es, ms, rooms) == []
    assert first.stats.upper_bound >= first.stats.placed


def test_solver_places_at_least_as_many_as_greedy():
    es = [
        ent(f"E{i}", mode="offline", avail="tue 09:00-11:00" if i % 2 else "tue 09:00-10:00")
        for i in range(6)
    ]
    ms = [men("M0", avail="tue 09:00-11:00"), men("M1", avail="tue 09:00-11:00")]
    rooms = [room("RA", cap=1, avail="tue 09:00-11:00")]
    pairs = [(f"E{i}", f"M{i % 2}") for i in range(6)]
    exact = run(pairs, es, ms, rooms)
    greedy = run(pairs, es, ms, rooms, method="greedy")
    assert len(exact.sessions) >= len(greedy.sessions)
    assert len(exact.sessions) == 2 == exact.stats.upper_bound


# --- the command line ---------------------------------------------------------------------------------


def cli(*args, cwd=ROOT):
    """Run ``python -m matching schedule`` in a fresh interpreter."""
    return subprocess.run(
        [sys.executable, "-m", "matching", "schedule", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
    )


def example_args(folder: Path, out: Path, week: str = WEEK):
    return [
        "--entrepreneurs",
        folder / "entrepreneurs.csv",
        "--mentors",
        folder / "mentors.csv",
        "--pairs",
        folder / "pairs.csv",
        "--rooms",
        folder / "rooms.csv",
        "--week",
        week,
        "--out",
        out,
    ]


def test_cli_on_the_contract_examples_keeps_every_rule(tmp_path):
    from matching.csvio import read_entrepreneurs, read_mentors, read_pairs, read_rooms
    from matching.schedule import ProposedSession, ScheduleStats, Unplaced, WeekSchedule

    out = tmp_path / "S.csv"
    p = cli(*example_args(EXAMPLES, out))
    assert p.returncode == 0, p.stderr
    rows = read_rows(out)
    assert list(rows[0]) == ["entrepreneur_id", "mentor_id", "start", "end", "mode", "room_id", "reason"]
    pairs = read_pairs(EXAMPLES / "pairs.csv")
    assert [(r["entrepreneur_id"], r["mentor_id"]) for r in rows] == [
        (x.entrepreneur_id, x.mentor_id) for x in pairs
    ]
    es, ms, rooms = (
        read_entrepreneurs(EXAMPLES / "entrepreneurs.csv"),
        read_mentors(EXAMPLES / "mentors.csv"),
        read_rooms(EXAMPLES / "rooms.csv"),
    )
    sessions, unplaced = [], []
    for r in rows:
        if r["start"]:
            assert r["start"].endswith("+07:00") and r["end"].endswith("+07:00") and not r["reason"]
            assert (r["mode"] == "online") == (r["room_id"] == "")
            sessions.append(
                ProposedSession(
                    r["entrepreneur_id"],
                    r["mentor_id"],
                    dt.datetime.fromisoformat(r["start"]),
                    dt.datetime.fromisoformat(r["end"]),
                    r["mode"],
                    r["room_id"] or None,
                )
            )
        else:
            assert r["reason"] and not r["mode"] and not r["room_id"]
            code = next(
                c
                for c, text in REASONS.items()
                if text.split("{")[0] and r["reason"].startswith(text.split("{")[0])
            )
            unplaced.append(Unplaced(r["entrepreneur_id"], r["mentor_id"], code, r["reason"]))
    stats = ScheduleStats(len(rows), len(sessions), 0, 0, 0, 0, {}, {}, 0, 0.0)
    result = WeekSchedule(MONDAY, sessions, unplaced, stats)
    assert violations(result, es, ms, rooms) == []
    assert len(sessions) >= 6
    # and the same run again writes the same file
    again = tmp_path / "S2.csv"
    assert cli(*example_args(EXAMPLES, again)).returncode == 0
    assert again.read_text() == out.read_text()


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def copy_examples(tmp_path: Path) -> Path:
    folder = tmp_path / "in"
    shutil.copytree(EXAMPLES, folder)
    return folder


def test_cli_rejects_a_malformed_rooms_file_with_row_and_column(tmp_path):
    folder = copy_examples(tmp_path)
    lines = (folder / "rooms.csv").read_text(encoding="utf-8").splitlines()
    lines[3] = lines[3].replace(",3,", ",three,", 1).replace(",1,", ",three,", 1).replace(",2,", ",three,", 1)
    (folder / "rooms.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "S.csv"
    p = cli(*example_args(folder, out))
    assert p.returncode == 2
    assert "rooms.csv row 4, column capacity" in p.stderr
    assert not out.exists() and not list(tmp_path.glob(".S.csv*"))


def test_cli_rejects_an_unknown_id_in_pairs_with_row_and_column(tmp_path):
    folder = copy_examples(tmp_path)
    with (folder / "pairs.csv").open("a", encoding="utf-8") as f:
        f.write("E000000,M99999\n")
    out = tmp_path / "S.csv"
    p = cli(*example_args(folder, out))
    assert p.returncode == 2
    assert "pairs.csv row 13, column mentor_id: 'M99999': is not in mentors.csv" in p.stderr
    assert not out.exists()


def test_cli_rejects_a_malformed_pairs_file(tmp_path):
    folder = copy_examples(tmp_path)
    (folder / "pairs.csv").write_text("entrepreneur,mentor_id\nE000000,M00001\n", encoding="utf-8")
    out = tmp_path / "S.csv"
    p = cli(*example_args(folder, out))
    assert p.returncode == 2 and "pairs.csv row 1, column entrepreneur_id" in p.stderr
    assert not out.exists()


@pytest.mark.parametrize("week", ["2026-W60", "2025-W53", "tomorrow"])
def test_cli_rejects_a_bad_week(tmp_path, week):
    out = tmp_path / "S.csv"
    p = cli(*example_args(EXAMPLES, out, week))
    assert p.returncode == 2 and "--week" in p.stderr and week in p.stderr
    assert not out.exists()


def test_cli_skips_pairs_without_a_mentor(tmp_path):
    folder = copy_examples(tmp_path)
    with (folder / "pairs.csv").open("a", encoding="utf-8") as f:
        f.write("E000030,\n")
    out = tmp_path / "S.csv"
    assert cli(*example_args(folder, out)).returncode == 0
    rows = read_rows(out)
    assert len(rows) == 11 and all(r["mentor_id"] for r in rows)


def test_matching_schedule_never_loads_the_web_stack():
    code = (
        "import sys, matching.schedule; "
        "bad = [m for m in ('flask', 'sqlalchemy', 'marshmallow', 'webapp', 'models') if m in sys.modules]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert p.returncode == 0, p.stdout + p.stderr


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(instances(max_pairs=8))
def test_the_two_step_solve_of_huge_components_keeps_every_rule(monkeypatch, inst):
    """Huge components are solved count-first on a reduced model, then improved greedily."""
    import matching.schedule as schedule

    monkeypatch.setattr(schedule, "FULL_MODEL_OPTIONS", 0)
    monkeypatch.setattr(schedule, "COUNT_MODEL_OPTIONS", 3)
    pairs, es, ms, rooms, week = inst
    result = run(pairs, es, ms, rooms, week=week)
    assert violations(result, es, ms, rooms) == []
    assert result.stats.placed <= result.stats.upper_bound
    monkeypatch.setattr(schedule, "COUNT_MODEL_OPTIONS", 10_000)
    assert len(run(pairs, es, ms, rooms, week=week).sessions) == brute_force_best(pairs, es, ms, rooms, week)
