"""CON-8 in the database, for free-form intervals (migration 0008): a person's booked sessions never
overlap, whatever their starts, and a room never holds more booked sessions at once than its capacity;
written straight to the database (no service checks), on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import inspect, text, update
from sqlalchemy.exc import IntegrityError

from models import Match, MentoringSession, Room
from tests.factories import make_entrepreneur, make_mentor
from tests.models.test_session_slots import _seed_at_0003

T9 = dt.datetime(2026, 12, 1, 2, 0, tzinfo=dt.UTC)  # Tuesday 09:00 WIB
MENTOR_OVERLAP = "ex_mentoring_session_mentor_overlap"
ENTREPRENEUR_OVERLAP = "ex_mentoring_session_entrepreneur_overlap"
ROOM_FULL = "mentoring_session_room_full"


def _min(n: int) -> dt.timedelta:
    return dt.timedelta(minutes=n)


def _match(db, entrepreneur=None, mentor=None, status: str = "active") -> Match:
    match = Match(
        entrepreneur_id=(entrepreneur or make_entrepreneur(db)).id,
        mentor_id=(mentor or make_mentor(db)).id,
        status=status,
    )
    db.add(match)
    db.flush()
    return match


def _session(
    db,
    match: Match,
    start: dt.datetime,
    minutes: int = 60,
    status: str = "proposed",
    room: Room | None = None,
) -> MentoringSession:
    row = MentoringSession(
        match_id=match.id,
        week_start=dt.date(2026, 11, 30),
        starts_at=start,
        ends_at=start + _min(minutes),
        mode="offline" if room else "online",
        room_id=room.id if room else None,
        status=status,
    )
    db.add(row)
    db.flush()
    return row


def _refused(db, name: str, write) -> None:
    """``write`` is refused by the database, naming ``name``; the test goes on after it."""
    with pytest.raises(IntegrityError) as exc, db.begin_nested():
        write()
    assert name in str(exc.value.orig)


def _room(db, capacity: int) -> Room:
    room = Room(
        id=f"OVERLAP-{capacity}",
        kecamatan_code="31.71.01",
        name="PPKUKM Gambir",
        capacity=capacity,
        availability="mon 08:00-17:00;tue 08:00-17:00",
    )
    db.add(room)
    db.flush()
    return room


# --- people -----------------------------------------------------------------------------------------


def test_the_database_refuses_a_mentor_overlapping_booked_sessions_whatever_their_starts(db):
    mentor = make_mentor(db)
    _session(db, _match(db, mentor=mentor), T9)
    for start, minutes in (
        (T9 + _min(30), 60),
        (T9 - _min(30), 60),
        (T9 - _min(30), 120),
        (T9 + _min(15), 30),
    ):
        _refused(db, MENTOR_OVERLAP, lambda s=start, m=minutes: _session(db, _match(db, mentor=mentor), s, m))


def test_the_database_refuses_an_entrepreneur_overlapping_booked_sessions_whatever_their_starts(db):
    entrepreneur = make_entrepreneur(db)
    earlier = _match(db, entrepreneur=entrepreneur)
    _session(db, earlier, T9, status="confirmed")
    earlier.status = "ended"  # a session of an earlier mentorship still holds the time
    db.flush()
    later = _match(db, entrepreneur=entrepreneur)
    _refused(db, ENTREPRENEUR_OVERLAP, lambda: _session(db, later, T9 + _min(59)))
    _refused(db, ENTREPRENEUR_OVERLAP, lambda: _session(db, later, T9 - _min(59)))


def test_sessions_that_only_touch_do_not_overlap(db):
    mentor, entrepreneur = make_mentor(db), make_entrepreneur(db)
    _session(db, _match(db, entrepreneur=entrepreneur, mentor=mentor), T9, status="held")
    _session(db, _match(db, mentor=mentor), T9 + _min(60))  # the mentor's next mentee at 10:00
    _session(db, _match(db, mentor=mentor), T9 - _min(60))  # and the one before at 08:00
    _session(db, _match(db, entrepreneur=entrepreneur, status="ended"), T9 + _min(120))
    _session(db, _match(db, entrepreneur=entrepreneur, status="ended"), T9 + _min(180), status="confirmed")


def test_declined_cancelled_and_missed_sessions_leave_the_time_free_until_booked_again(db):
    mentor = make_mentor(db)
    gone = [
        _session(db, _match(db, mentor=mentor), T9 + _min(15 * i), status=status)
        for i, status in enumerate(("declined", "cancelled", "missed"))
    ]
    booked = _session(db, _match(db, mentor=mentor), T9 + _min(20))
    assert booked.id
    for row in gone:
        _refused(
            db,
            MENTOR_OVERLAP,
            lambda row=row: db.execute(
                update(MentoringSession).where(MentoringSession.id == row.id).values(status="proposed")
            ),
        )


def test_a_raw_update_moving_a_booked_session_onto_another_is_refused(db):
    mentor = make_mentor(db)
    _session(db, _match(db, mentor=mentor), T9)
    other = _session(db, _match(db, mentor=mentor), T9 + _min(120))
    _refused(
        db,
        MENTOR_OVERLAP,
        lambda: db.execute(
            update(MentoringSession)
            .where(MentoringSession.id == other.id)
            .values(starts_at=T9 + _min(45), ends_at=T9 + _min(105))
        ),
    )
    _refused(
        db,
        MENTOR_OVERLAP,
        lambda: db.execute(
            update(MentoringSession).where(MentoringSession.id == other.id).values(starts_at=T9 + _min(59))
        ),
    )
    # a session's own new time may overlap its old one
    db.execute(
        update(MentoringSession)
        .where(MentoringSession.id == other.id)
        .values(starts_at=T9 + _min(90), ends_at=T9 + _min(150))
    )


# --- rooms ------------------------------------------------------------------------------------------


def test_a_room_takes_staggered_sessions_up_to_its_capacity_at_every_moment_and_no_more(db):
    room = _room(db, capacity=2)
    _session(db, _match(db), T9, room=room)  # 09:00-10:00
    _session(db, _match(db), T9 + _min(30), room=room)  # 09:30-10:30: two at once
    _session(db, _match(db), T9 + _min(60), room=room)  # 10:00-11:00: still two at once
    _session(db, _match(db), T9 + _min(90), room=room)  # 10:30-11:30
    _session(db, _match(db), T9 + _min(30), status="cancelled", room=room)  # does not count
    _session(db, _match(db), T9 + _min(30))  # online: takes no place
    for start, minutes in ((T9 + _min(45), 30), (T9 - _min(30), 120), (T9 + _min(75), 60)):
        _refused(db, ROOM_FULL, lambda s=start, m=minutes: _session(db, _match(db), s, m, room=room))
    _session(db, _match(db), T9 + _min(150), room=room)  # 11:30: one left, one place free


def test_a_raw_update_into_a_full_room_is_refused_and_a_confirmation_there_is_not(db):
    room = _room(db, capacity=1)
    inside = _session(db, _match(db), T9, room=room)
    online = _session(db, _match(db), T9 + _min(30))
    _refused(
        db,
        ROOM_FULL,
        lambda: db.execute(
            update(MentoringSession)
            .where(MentoringSession.id == online.id)
            .values(mode="offline", room_id=room.id)
        ),
    )
    db.execute(update(MentoringSession).where(MentoringSession.id == inside.id).values(status="confirmed"))
    db.execute(update(MentoringSession).where(MentoringSession.id == inside.id).values(status="held"))


def test_a_room_whose_capacity_is_lowered_keeps_its_bookings_and_takes_no_new_one_above_it(db):
    room = _room(db, capacity=2)
    first = _session(db, _match(db), T9, room=room)
    _session(db, _match(db), T9, room=room)
    db.execute(update(Room).where(Room.id == room.id).values(capacity=1))
    db.execute(update(MentoringSession).where(MentoringSession.id == first.id).values(status="confirmed"))
    db.execute(update(MentoringSession).where(MentoringSession.id == first.id).values(status="cancelled"))
    _refused(
        db,
        ROOM_FULL,
        lambda: db.execute(
            update(MentoringSession).where(MentoringSession.id == first.id).values(status="proposed")
        ),
    )


def test_a_closed_room_takes_no_booked_session(db):
    room = _room(db, capacity=0)
    _session(db, _match(db), T9, status="declined", room=room)
    _refused(db, ROOM_FULL, lambda: _session(db, _match(db), T9, room=room))


# --- migration 0008 ---------------------------------------------------------------------------------


#: The rules of migration 0008 on each database.
RULES = {
    "postgresql": {MENTOR_OVERLAP, ENTREPRENEUR_OVERLAP, "mentoring_session_room_capacity"},
    "sqlite": {"mentoring_session_booked_insert", "mentoring_session_booked_update"},
}


def _rules(engine) -> set[str]:
    """The rules of 0008 present in the database (with the room index, on both)."""
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            names = conn.execute(
                text(
                    "SELECT conname FROM pg_constraint WHERE conrelid = 'mentoring_session'::regclass "
                    "UNION SELECT tgname FROM pg_trigger WHERE tgrelid = 'mentoring_session'::regclass"
                )
            ).scalars()
        else:
            names = conn.execute(
                text(
                    "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'mentoring_session'"
                )
            ).scalars()
        found = set(names)
    found |= {ix["name"] for ix in inspect(engine).get_indexes("mentoring_session")}
    return found & {"ix_mentoring_session_room_start", *RULES["postgresql"], *RULES["sqlite"]}


def _all_rules(engine) -> set[str]:
    return {"ix_mentoring_session_room_start", *RULES[engine.dialect.name]}


def _row(session_id: int, match_id: int, start: str, end: str) -> str:
    """A raw INSERT of a confirmed session of the seeded pair's people (entrepreneur 801, mentor 701)."""
    return (
        "INSERT INTO mentoring_session (id, match_id, entrepreneur_id, mentor_id, week_start, starts_at, "
        "ends_at, mode, status, entrepreneur_confirmed, mentor_confirmed, created_at) VALUES "
        f"({session_id}, {match_id}, 801, 701, '2026-11-30', '2026-12-01 {start}', '2026-12-01 {end}', "
        "'online', 'confirmed', true, true, '2026-11-27 00:00:00')"
    )


#: Earlier mentorships of the seeded pair, whose sessions may share the week of session 502.
_EARLIER_MATCHES = (
    "INSERT INTO mentor_match (id, entrepreneur_id, mentor_id, status, cadence, started_at) VALUES "
    + (", ".join(f"({n}, 801, 701, 'ended', 'weekly', '2026-11-01 00:00:00')" for n in (602, 603, 604)))
)
#: Over session 502 (02:00-03:00 UTC).
_OVERLAPPING = _row(503, 602, "02:30:00", "03:30:00")


def test_migration_0008_keeps_the_sessions_and_round_trips(empty_database_url):
    from models.db import make_engine
    from models.migrate import downgrade, upgrade

    url = empty_database_url
    upgrade(url, revision="0003")
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            _seed_at_0003(conn)  # a held and a proposed session of one pair, 02:00-03:00 UTC
        upgrade(url, revision="0007")
        with engine.begin() as conn:
            conn.execute(text(_EARLIER_MATCHES))
            conn.execute(text(_row(503, 602, "03:00:00", "04:00:00")))  # right after 502, written before 0008
        upgrade(url)
        engine.dispose()
        assert _rules(engine) == _all_rules(engine)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM mentoring_session")).scalar() == 3
            # right before 502, with fractional seconds beside rows without: touching, not overlapping
            conn.execute(text(_row(504, 603, "01:00:00.000000", "02:00:00.000000")))
            conn.commit()
            with pytest.raises(IntegrityError) as exc:
                conn.execute(text(_row(505, 604, "02:59:00", "03:01:00")))
            assert MENTOR_OVERLAP in str(exc.value.orig) or ENTREPRENEUR_OVERLAP in str(exc.value.orig)
            conn.rollback()
        downgrade(url, revision="0007")
        engine.dispose()
        assert _rules(engine) == set()
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM mentoring_session WHERE id = 504"))
            conn.execute(text(_row(505, 604, "02:59:00", "03:01:00")))  # nothing refuses it at 0007
            conn.execute(text("DELETE FROM mentoring_session WHERE id = 505"))
        upgrade(url)
        engine.dispose()
        assert _rules(engine) == _all_rules(engine)
        with engine.connect() as conn:
            ids = conn.execute(text("SELECT id FROM mentoring_session ORDER BY id")).scalars().all()
            assert ids == [501, 502, 503]
            assert conn.execute(text("SELECT session_id FROM session_feedback")).scalar() == 501
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("arrange", "message"),
    [
        ([_EARLIER_MATCHES, _OVERLAPPING], r"same mentor_id overlap.*\(701, 502, 503\)"),
        (
            [
                "INSERT INTO room (id, kecamatan_code, name, capacity, availability) "
                "VALUES ('SHUT', '31.71.01', 'Tutup', 0, '')",
                "UPDATE mentoring_session SET room_id = 'SHUT', mode = 'offline' WHERE id = 502",
            ],
            r"rooms hold more booked sessions.*\('SHUT', 502, 0, 1\)",
        ),
    ],
    ids=["person", "room"],
)
def test_migration_0008_stops_on_existing_clashes_and_names_them(empty_database_url, arrange, message):
    from models.db import make_engine
    from models.migrate import upgrade

    url = empty_database_url
    upgrade(url, revision="0003")
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            _seed_at_0003(conn)
        upgrade(url, revision="0007")
        with engine.begin() as conn:
            for sql in arrange:
                conn.execute(text(sql))
        with pytest.raises(RuntimeError, match=message):
            upgrade(url)
        engine.dispose()
        with engine.connect() as conn:  # nothing of 0008 was applied
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0007"
        assert _rules(engine) == set()
    finally:
        engine.dispose()
