"""The synthetic Jakarta programme: deterministic, valid under the CSV contract, and realistic in shape."""

from __future__ import annotations

import runpy
from collections import Counter
from pathlib import Path

import pytest

from matching import csvio, reference
from matching.profiles import DAYS, GENDERS, MODES, OUTCOMES, STAGES
from matching.synthetic import City, generate_city, generate_rooms


@pytest.fixture(scope="module")
def city() -> City:
    return generate_city(600, 60, seed=7)


@pytest.fixture(scope="module")
def big_city() -> City:
    return generate_city(20_000, 400, seed=3)


def test_same_seed_gives_the_same_city_and_another_seed_a_different_one():
    a = generate_city(200, 20, seed=11)
    assert a == generate_city(200, 20, seed=11)
    assert a != generate_city(200, 20, seed=12)


def test_sizes_and_ids_follow_the_request(city: City):
    assert len(city.entrepreneurs) == 600 and len(city.mentors) == 60
    assert [e.id for e in city.entrepreneurs[:2]] == ["E000001", "E000002"]
    assert [m.id for m in city.mentors[:2]] == ["M00001", "M00002"]
    e_ids = {e.id for e in city.entrepreneurs}
    m_ids = {m.id for m in city.mentors}
    assert len(e_ids) == 600 and len(m_ids) == 60 and not e_ids & m_ids
    assert 0 < len(city.history) <= 600 // 5
    assert len(generate_city(100, 10, seed=1, n_history=37).history) <= 37
    empty = generate_city(0, 0)
    assert empty.entrepreneurs == [] and empty.mentors == [] and empty.history == []


def test_every_file_survives_the_csv_round_trip(city: City, tmp_path):
    files = [
        (
            "entrepreneurs.csv",
            csvio.ENTREPRENEUR_COLUMNS,
            csvio.entrepreneur_row,
            csvio.read_entrepreneurs,
            city.entrepreneurs,
        ),
        ("mentors.csv", csvio.MENTOR_COLUMNS, csvio.mentor_row, csvio.read_mentors, city.mentors),
        ("history.csv", csvio.HISTORY_COLUMNS, csvio.history_row, csvio.read_history, city.history),
        ("rooms.csv", csvio.ROOM_COLUMNS, csvio.room_row, csvio.read_rooms, city.rooms),
    ]
    for name, columns, to_row, read, records in files:
        path = tmp_path / name
        csvio.write_csv_atomic(path, columns, (to_row(r) for r in records))
        assert read(path) == records, name


def test_every_value_is_in_the_vocabularies(city: City):
    sectors, areas, kec = reference.sectors(), reference.support_areas(), reference.kecamatan()
    people = [*city.entrepreneurs, *city.mentors]
    for p in people:
        assert p.name.strip() and " " in p.name
        assert p.kecamatan in kec
        assert p.mode in MODES and p.gender in GENDERS
        assert p.languages[0] == "id" and all(len(x) == 2 for x in p.languages)
        assert p.bio and len(p.bio) < 400
        for w in p.availability or ():
            assert 0 <= w.day < len(DAYS) and 0 <= w.start < w.end <= 24 * 60
        if p.availability is not None:
            assert 1 <= len(p.availability) <= 4
    for e in city.entrepreneurs:
        assert e.sector in sectors and e.stage in STAGES
        assert 1 <= len(e.needs) <= 3 and set(e.needs) <= set(areas)
        assert e.prefers_mentor_gender in (None, *GENDERS)
    for m in city.mentors:
        assert 1 <= len(m.sectors) <= 3 and set(m.sectors) <= set(sectors)
        assert 2 <= len(m.expertise) <= 5 and set(m.expertise) <= set(areas)
        i = STAGES.index(m.stages[0])
        assert 2 <= len(m.stages) <= 3 and m.stages == STAGES[i : i + len(m.stages)]
        assert 1 <= m.capacity <= 5 and 0 <= m.active_mentees <= m.capacity and not m.paused
    for h in city.history:
        assert h.outcome in OUTCOMES
        assert (h.rating is not None) == (h.outcome == "completed")
        assert h.rating is None or 1 <= h.rating <= 5


def test_kbli_codes_lie_in_the_sector_and_about_half_are_given(big_city: City):
    with_kbli = [e for e in big_city.entrepreneurs if e.kbli]
    assert all(len(e.kbli) == 5 and reference.sector_of_kbli(e.kbli) == e.sector for e in with_kbli)
    assert 0.4 < len(with_kbli) / len(big_city.entrepreneurs) < 0.6


def test_history_refers_to_generated_people(city: City):
    e_ids = {e.id for e in city.entrepreneurs}
    m_ids = {m.id for m in city.mentors}
    assert all(h.entrepreneur_id in e_ids and h.mentor_id in m_ids for h in city.history)
    assert len({(h.entrepreneur_id, h.mentor_id) for h in city.history}) == len(city.history)


def test_shares_look_like_jakarta_umkm(big_city: City):
    es = big_city.entrepreneurs
    n = len(es)
    sectors = Counter(e.sector for e in es).most_common()
    assert {sectors[0][0], sectors[1][0]} == {"I", "G"}
    stages = Counter(e.stage for e in es)
    assert stages["idea"] + stages["early"] > 0.6 * n and stages["established"] < stages["growth"]
    women = sum(e.gender == "f" for e in es) / n
    assert 0.55 < women < 0.65
    assert 0.05 < sum(e.prefers_mentor_gender is not None for e in es) / n < 0.15
    assert 0.2 < sum(e.availability is None for e in es) / n < 0.3
    modes = Counter(e.mode for e in es)
    assert modes["either"] > modes["offline"] > modes["online"] > 0.1 * n
    kec = Counter(e.kecamatan for e in es)
    assert len(kec) == 44 and kec["31.73.01"] > 10 * kec["31.01.02"]  # Cengkareng vs Kepulauan Seribu
    assert 0.3 < sum(m.gender == "f" for m in big_city.mentors) / len(big_city.mentors) < 0.5
    en = sum("en" in e.languages for e in es) / n
    assert en < sum("en" in m.languages for m in big_city.mentors) / len(big_city.mentors)


def test_needs_follow_the_stage(big_city: City):
    by_stage = {
        s: Counter(a for e in big_city.entrepreneurs if e.stage == s for a in e.needs) for s in STAGES
    }
    assert by_stage["idea"].most_common(1)[0][0] == "business_planning"
    assert by_stage["established"]["export"] > by_stage["established"]["business_planning"]
    assert by_stage["growth"]["financing"] > by_stage["growth"]["licensing"]


def test_better_fitting_pairs_have_better_outcomes(big_city: City):
    es = {e.id: e for e in big_city.entrepreneurs}
    ms = {m.id: m for m in big_city.mentors}
    good, poor = [], []
    for h in big_city.history:
        e, m = es[h.entrepreneur_id], ms[h.mentor_id]
        fits = e.sector in m.sectors and set(e.needs) <= set(m.expertise)
        misfits = e.sector not in m.sectors and not set(e.needs) & set(m.expertise)
        (good if fits else poor if misfits else []).append(h)
    assert good and poor
    declined = [sum(h.outcome == "declined" for h in g) / len(g) for g in (good, poor)]
    assert declined[0] + 0.2 < declined[1]
    ratings = [[h.rating for h in g if h.rating] for g in (good, poor)]
    assert sum(ratings[0]) / len(ratings[0]) > sum(ratings[1]) / len(ratings[1]) + 0.5


def test_bios_name_the_place_and_are_mostly_indonesian(city: City):
    kec = reference.kecamatan()
    assert all(kec[e.kecamatan].name in e.bio for e in city.entrepreneurs)
    english = sum(e.bio.startswith(("I run", "Planning")) or " has " in e.bio for e in city.entrepreneurs)
    assert 0.03 < english / len(city.entrepreneurs) < 0.2
    assert len({e.bio for e in city.entrepreneurs}) > 0.95 * len(city.entrepreneurs)


def test_rooms_cover_all_44_kecamatan_centres():
    rooms = generate_rooms()
    kec = reference.kecamatan()
    assert {r.kecamatan for r in rooms} == set(kec) and len(kec) == 44
    assert len({r.id for r in rooms}) == len(rooms)
    for r in rooms:
        assert r.id in (f"R-{r.kecamatan}", f"R-{r.kecamatan}-2")
        assert kec[r.kecamatan].name in r.name and 1 <= r.capacity <= 4
        days = {w.day for w in r.availability}
        assert set(range(5)) <= days and 5 in days
        assert all(w.start >= 8 * 60 and w.end <= 21 * 60 for w in r.availability)
    assert any(6 not in {w.day for w in r.availability} for r in rooms)
    assert generate_rooms() == rooms


def test_make_city_script_writes_files_the_readers_accept(tmp_path, capsys):
    main = runpy.run_path(str(Path(__file__).parents[2] / "scripts" / "make_city.py"))["main"]
    assert main(["--entrepreneurs", "120", "--mentors", "12", "--seed", "5", "--out", str(tmp_path)]) == 0
    assert "120 entrepreneurs" in capsys.readouterr().out
    city = generate_city(120, 12, seed=5)
    assert csvio.read_entrepreneurs(tmp_path / "entrepreneurs.csv") == city.entrepreneurs
    assert csvio.read_mentors(tmp_path / "mentors.csv") == city.mentors
    assert csvio.read_history(tmp_path / "history.csv") == city.history
    assert csvio.read_rooms(tmp_path / "rooms.csv") == city.rooms
