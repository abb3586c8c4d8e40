"""Small random instances of entrepreneurs and mentors for the property tests (hypothesis strategies)."""

from __future__ import annotations

from hypothesis import strategies as st

from matching.profiles import Entrepreneur, Mentor, Window

KEC = ("31.71.01", "31.74.02", "31.75.06", "31.72.05", "31.01.01")
SECTORS = ("C", "G", "I", "J")
NEEDS = ("licensing", "financing", "marketing", "bookkeeping")
STAGES = ("idea", "early", "growth", "established")
AVAIL = (
    None,
    (Window(0, 8 * 60, 10 * 60),),
    (Window(5, 9 * 60, 12 * 60), Window(2, 19 * 60, 21 * 60)),
    (Window(6, 13 * 60, 15 * 60),),
)


def _subset(options, min_size=1):
    return st.lists(st.sampled_from(options), min_size=min_size, max_size=len(options), unique=True).map(tuple)


@st.composite
def entrepreneur(draw, i: int) -> Entrepreneur:
    sector = draw(st.sampled_from(SECTORS))
    return Entrepreneur(
        id=f"E{i}",
        name=f"E {i}",
        sector=sector,
        stage=draw(st.sampled_from(STAGES)),
        kecamatan=draw(st.sampled_from(KEC)),
        needs=draw(_subset(NEEDS)),
        languages=draw(st.sampled_from([("id",), ("id", "en"), ("zh",), ("id", "zh")])),
        mode=draw(st.sampled_from(["offline", "online", "either"])),
        availability=draw(st.sampled_from(AVAIL)),
        gender=draw(st.sampled_from([None, "f", "m"])),
        prefers_mentor_gender=draw(st.sampled_from([None, None, "f", "m"])),
        bio=draw(st.sampled_from(["", "warung makan padang", "toko kue dan roti", "jasa desain web"])),
    )


@st.composite
def mentor(draw, j: int) -> Mentor:
    capacity = draw(st.integers(0, 3))
    return Mentor(
        id=f"M{j}",
        name=f"M {j}",
        sectors=draw(_subset(SECTORS)),
        stages=draw(_subset(STAGES)),
        kecamatan=draw(st.sampled_from(KEC)),
        expertise=draw(_subset(NEEDS)),
        capacity=capacity,
        active_mentees=draw(st.integers(0, capacity)),
        languages=draw(st.sampled_from([("id",), ("id", "en"), ("en",), ("id", "zh")])),
        mode=draw(st.sampled_from(["offline", "online", "either"])),
        availability=draw(st.sampled_from(AVAIL)),
        gender=draw(st.sampled_from([None, "f", "m"])),
        bio=draw(st.sampled_from(["", "pemilik rumah makan", "pengusaha roti", "konsultan aplikasi"])),
        paused=draw(st.booleans()),
    )


@st.composite
def instance(draw, max_e: int = 8, max_m: int = 6):
    n_e = draw(st.integers(1, max_e))
    n_m = draw(st.integers(1, max_m))
    return [draw(entrepreneur(i)) for i in range(n_e)], [draw(mentor(j)) for j in range(n_m)]


def breaks_hard_constraint(e: Entrepreneur, m: Mentor) -> str | None:
    """Independent statement of the hard rules (as the contract's checker states them)."""
    if not set(e.languages) & set(m.languages):
        return "language"
    if {e.mode, m.mode} == {"offline", "online"}:
        return "mode"
    if e.prefers_mentor_gender and e.prefers_mentor_gender != m.gender:
        return "gender"
    if m.paused or m.free_capacity <= 0:
        return "capacity"
    return None


def share_time(e: Entrepreneur, m: Mentor) -> bool:
    return any(a.day == b.day and min(a.end, b.end) > max(a.start, b.start) for a in e.windows for b in m.windows)
