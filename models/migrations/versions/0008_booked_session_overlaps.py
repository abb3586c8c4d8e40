"""booked sessions never overlap for a person, and never overfill a room

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 09:00:00.000000

0004 made the database refuse two booked (proposed, confirmed, held) sessions of one person at the
same start. This revision refuses any overlap of their intervals ``[starts_at, ends_at)``, whatever
the starts (a session ending when the next starts does not overlap), and refuses a booked session
that would put more booked sessions in its room at some moment than the room's ``capacity``.

PostgreSQL: ``btree_gist`` and two exclusion constraints, ``ex_mentoring_session_mentor_overlap``
and ``ex_mentoring_session_entrepreneur_overlap`` (``person WITH =, tstzrange(starts_at, ends_at)
WITH &&``, for booked rows); the room's count is a BEFORE INSERT/UPDATE trigger
(``mentoring_session_room_capacity``) that first locks the room's row (``FOR NO KEY UPDATE``: two
bookings of one room queue there, and foreign-key checks on the room are not held up), then counts
with a fresh snapshot (READ COMMITTED, the isolation level the application uses), so concurrent
bookings of one room cannot both pass. It raises ``check_violation`` naming
``mentoring_session_room_full``.

SQLite: BEFORE INSERT and BEFORE UPDATE triggers (``mentoring_session_booked_insert`` and
``..._update``) do the same three checks and ``RAISE(ABORT, ...)`` with the constraint's name
(``ex_mentoring_session_mentor_overlap``, ``ex_mentoring_session_entrepreneur_overlap``,
``mentoring_session_room_full``); SQLite serialises writers, so the check and the write cannot
interleave with another writer's. Times are compared through ``julianday()``, which reads
timestamps written with or without fractional seconds alike. A later migration that rebuilds
``mentoring_session`` in batch mode on SQLite drops these triggers and must create them again.

A room's moment with the most sessions is the start of one of them, so the room check counts, at
the new session's start and at each start of an overlapping session inside it, the other booked
sessions in progress; ``capacity`` or more there refuses the row. Lowering a room's capacity is not
refused; bookings made after it are held to the new capacity. A booked session whose room, times
and booked state do not change (a confirmation, feedback) is not counted again.

The upgrade stops, naming the rows, when booked sessions already overlap or overfill a room.
``ix_mentoring_session_room_start`` (booked rows) serves the room count. The downgrade leaves the
``btree_gist`` extension installed (other schemas of the database may use it).
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

BOOKED_STATES = "('proposed', 'confirmed', 'held')"
BOOKED = sa.text(f"status IN {BOOKED_STATES}")
PEOPLE = ("mentor_id", "entrepreneur_id")
ROOM_FULL = "mentoring_session_room_full"


def _overlap_name(person: str) -> str:
    return f"ex_mentoring_session_{person.removesuffix('_id')}_overlap"


# --- existing rows ----------------------------------------------------------------------------------


def _refuse_existing_clashes() -> None:
    """Stop with the offending rows rather than fail on a constraint (or leave SQLite's rows unchecked)."""
    bind = op.get_bind()
    t = (lambda col: f"julianday({col})") if bind.dialect.name == "sqlite" else (lambda col: col)
    for person in PEOPLE:
        clashes = bind.execute(
            sa.text(
                f"SELECT a.{person}, a.id, b.id FROM mentoring_session a JOIN mentoring_session b "  # nosec B608 # person from the literal tuple, the rest constants
                f"ON a.{person} = b.{person} AND a.id < b.id "
                f"AND {t('a.starts_at')} < {t('b.ends_at')} AND {t('b.starts_at')} < {t('a.ends_at')} "
                f"WHERE a.status IN {BOOKED_STATES} AND b.status IN {BOOKED_STATES} ORDER BY a.id, b.id"
            )
        ).all()
        if clashes:
            raise RuntimeError(
                f"mentoring_session: booked sessions of the same {person} overlap; cancel or move one "
                f"of each pair first ({person}, session, session): {[tuple(row) for row in clashes]}"
            )
    overfull = bind.execute(
        sa.text(
            "SELECT s.room_id, s.id, r.capacity, (SELECT count(*) FROM mentoring_session o "  # nosec B608 # constants only
            f"WHERE o.room_id = s.room_id AND o.status IN {BOOKED_STATES} "
            f"AND {t('o.starts_at')} <= {t('s.starts_at')} AND {t('o.ends_at')} > {t('s.starts_at')}) AS n "
            "FROM mentoring_session s JOIN room r ON r.id = s.room_id "
            f"WHERE s.status IN {BOOKED_STATES} ORDER BY s.room_id, s.id"
        )
    ).all()
    overfull = [tuple(row) for row in overfull if row.n > row.capacity]
    if overfull:
        raise RuntimeError(
            "mentoring_session: rooms hold more booked sessions at once than their capacity; cancel or "
            f"move some first (room, session starting then, capacity, sessions then): {overfull}"
        )


# --- PostgreSQL -------------------------------------------------------------------------------------

_PG_ROOM_FUNCTION = """
CREATE FUNCTION mentoring_session_room_capacity() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    places integer;
BEGIN
    IF NEW.room_id IS NULL OR NEW.status NOT IN ('proposed', 'confirmed', 'held') THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'UPDATE' AND OLD.status IN ('proposed', 'confirmed', 'held') AND OLD.room_id = NEW.room_id
            AND OLD.starts_at = NEW.starts_at AND OLD.ends_at = NEW.ends_at THEN
        RETURN NEW;  -- the same booking: it takes no further place
    END IF;
    -- Bookings of one room queue here; each statement below then reads what the others committed.
    SELECT capacity INTO places FROM room WHERE id = NEW.room_id FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        RETURN NEW;  -- the foreign key refuses the row
    END IF;
    IF EXISTS (
        SELECT 1
        FROM (
            SELECT NEW.starts_at AS moment
            UNION
            SELECT o.starts_at FROM mentoring_session o
            WHERE o.room_id = NEW.room_id AND o.status IN ('proposed', 'confirmed', 'held') AND o.id <> NEW.id
              AND o.starts_at > NEW.starts_at AND o.starts_at < NEW.ends_at
        ) AS moments
        WHERE (
            SELECT count(*) FROM mentoring_session o
            WHERE o.room_id = NEW.room_id AND o.status IN ('proposed', 'confirmed', 'held') AND o.id <> NEW.id
              AND o.starts_at <= moments.moment AND o.ends_at > moments.moment
        ) >= places
    ) THEN
        RAISE EXCEPTION 'mentoring_session_room_full: room % takes % booked sessions at once', NEW.room_id, places
            USING ERRCODE = 'check_violation', CONSTRAINT = 'mentoring_session_room_full', TABLE = 'mentoring_session';
    END IF;
    RETURN NEW;
END;
$$
"""

_PG_ROOM_TRIGGER = """
CREATE TRIGGER mentoring_session_room_capacity
BEFORE INSERT OR UPDATE OF room_id, starts_at, ends_at, status ON mentoring_session
FOR EACH ROW EXECUTE FUNCTION mentoring_session_room_capacity()
"""


def _upgrade_postgresql() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    for person in PEOPLE:
        op.execute(
            f"ALTER TABLE mentoring_session ADD CONSTRAINT {_overlap_name(person)} "
            f"EXCLUDE USING gist ({person} WITH =, tstzrange(starts_at, ends_at) WITH &&) "
            f"WHERE (status IN {BOOKED_STATES})"
        )
    op.execute(_PG_ROOM_FUNCTION)
    op.execute(_PG_ROOM_TRIGGER)


def _downgrade_postgresql() -> None:
    op.execute("DROP TRIGGER mentoring_session_room_capacity ON mentoring_session")
    op.execute("DROP FUNCTION mentoring_session_room_capacity()")
    for person in reversed(PEOPLE):
        op.execute(f"ALTER TABLE mentoring_session DROP CONSTRAINT {_overlap_name(person)}")


# --- SQLite -----------------------------------------------------------------------------------------


def _sqlite_trigger(event: str) -> str:
    """The SQLite trigger for ``INSERT`` or ``UPDATE``: the three checks on the new row."""
    update = event == "UPDATE"
    other = "AND o.id <> OLD.id " if update else ""
    checks = [
        f"SELECT RAISE(ABORT, '{_overlap_name(person)}: booked sessions of one person overlap') "  # nosec B608 # constants only
        f"WHERE EXISTS (SELECT 1 FROM mentoring_session o WHERE o.{person} = NEW.{person} "
        f"AND o.status IN {BOOKED_STATES} {other}"
        "AND julianday(o.starts_at) < julianday(NEW.ends_at) "
        "AND julianday(o.ends_at) > julianday(NEW.starts_at));"
        for person in PEOPLE
    ]
    same_booking = (
        f"AND NOT (OLD.status IN {BOOKED_STATES} AND OLD.room_id IS NEW.room_id "
        "AND OLD.starts_at IS NEW.starts_at AND OLD.ends_at IS NEW.ends_at) "
        if update
        else ""
    )
    checks.append(
        f"SELECT RAISE(ABORT, '{ROOM_FULL}: the room takes no more booked sessions at that time') "  # nosec B608 # constants only
        f"WHERE NEW.room_id IS NOT NULL {same_booking}AND EXISTS ("
        "SELECT 1 FROM ("
        "SELECT NEW.starts_at AS moment UNION "
        f"SELECT o.starts_at FROM mentoring_session o WHERE o.room_id = NEW.room_id "
        f"AND o.status IN {BOOKED_STATES} {other}"
        "AND julianday(o.starts_at) > julianday(NEW.starts_at) "
        "AND julianday(o.starts_at) < julianday(NEW.ends_at)"
        ") AS moments WHERE ("
        f"SELECT count(*) FROM mentoring_session o WHERE o.room_id = NEW.room_id "
        f"AND o.status IN {BOOKED_STATES} {other}"
        "AND julianday(o.starts_at) <= julianday(moments.moment) "
        "AND julianday(o.ends_at) > julianday(moments.moment)"
        ") >= (SELECT capacity FROM room WHERE id = NEW.room_id));"
    )
    columns = " OF room_id, starts_at, ends_at, status, mentor_id, entrepreneur_id" if update else ""
    body = "\n    ".join(checks)
    return (
        f"CREATE TRIGGER mentoring_session_booked_{event.lower()}\n"
        f"BEFORE {event}{columns} ON mentoring_session\n"
        f"FOR EACH ROW WHEN NEW.status IN {BOOKED_STATES}\n"
        f"BEGIN\n    {body}\nEND"
    )


# --- both -------------------------------------------------------------------------------------------


def upgrade() -> None:
    _refuse_existing_clashes()
    op.create_index(
        "ix_mentoring_session_room_start",
        "mentoring_session",
        ["room_id", "starts_at"],
        sqlite_where=BOOKED,
        postgresql_where=BOOKED,
    )
    if op.get_bind().dialect.name == "postgresql":
        _upgrade_postgresql()
    else:
        for event in ("INSERT", "UPDATE"):
            op.execute(_sqlite_trigger(event))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _downgrade_postgresql()
    else:
        for event in ("UPDATE", "INSERT"):
            op.execute(f"DROP TRIGGER mentoring_session_booked_{event.lower()}")
    op.drop_index("ix_mentoring_session_room_start", table_name="mentoring_session")
