"""session people and booked slots: one booked session per person and start time

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 09:00:00.000000

``mentoring_session`` gets the match's ``entrepreneur_id`` and ``mentor_id`` (filled from
``mentor_match``; a composite foreign key keeps them equal to the match's), and two partial unique
indexes refuse a second proposed/confirmed/held session of the same person at the same start time.

On SQLite the batch mode rebuilds ``mentoring_session``, which ``session_feedback`` refers to; the
environment (``env.py``) runs SQLite migrations with foreign keys off and checks them before commit.
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

BOOKED = sa.text("status IN ('proposed', 'confirmed', 'held')")


def _refuse_existing_double_bookings() -> None:
    """Stop with the offending rows rather than fail on the index with a bare IntegrityError."""
    for person in ("entrepreneur_id", "mentor_id"):
        clashes = (
            op.get_bind()
            .execute(
                sa.text(
                    f"SELECT {person}, starts_at, COUNT(*) FROM mentoring_session "  # nosec B608 # person from the literal tuple, BOOKED a constant
                    f"WHERE {BOOKED.text} GROUP BY {person}, starts_at HAVING COUNT(*) > 1"
                )
            )
            .all()
        )
        if clashes:
            raise RuntimeError(
                f"mentoring_session: booked sessions of the same {person} at the same start time; "
                f"cancel or move all but one first: {[tuple(row) for row in clashes]}"
            )


def upgrade() -> None:
    with op.batch_alter_table("mentor_match", schema=None) as batch_op:
        batch_op.create_index(
            "uq_mentor_match_id_people", ["id", "entrepreneur_id", "mentor_id"], unique=True
        )

    with op.batch_alter_table("mentoring_session", schema=None) as batch_op:
        batch_op.add_column(sa.Column("entrepreneur_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("mentor_id", sa.Integer(), nullable=True))

    op.execute(
        "UPDATE mentoring_session SET "
        "entrepreneur_id = (SELECT m.entrepreneur_id FROM mentor_match m WHERE m.id = mentoring_session.match_id), "
        "mentor_id = (SELECT m.mentor_id FROM mentor_match m WHERE m.id = mentoring_session.match_id)"
    )
    _refuse_existing_double_bookings()

    with op.batch_alter_table("mentoring_session", schema=None) as batch_op:
        batch_op.alter_column("entrepreneur_id", existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column("mentor_id", existing_type=sa.Integer(), nullable=False)
        batch_op.create_foreign_key(
            "fk_mentoring_session_match_people",
            "mentor_match",
            ["match_id", "entrepreneur_id", "mentor_id"],
            ["id", "entrepreneur_id", "mentor_id"],
        )
        batch_op.create_index(
            "uq_mentoring_session_mentor_start",
            ["mentor_id", "starts_at"],
            unique=True,
            sqlite_where=BOOKED,
            postgresql_where=BOOKED,
        )
        batch_op.create_index(
            "uq_mentoring_session_entrepreneur_start",
            ["entrepreneur_id", "starts_at"],
            unique=True,
            sqlite_where=BOOKED,
            postgresql_where=BOOKED,
        )


def downgrade() -> None:
    with op.batch_alter_table("mentoring_session", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_mentoring_session_entrepreneur_start", sqlite_where=BOOKED, postgresql_where=BOOKED
        )
        batch_op.drop_index("uq_mentoring_session_mentor_start", sqlite_where=BOOKED, postgresql_where=BOOKED)
        batch_op.drop_constraint("fk_mentoring_session_match_people", type_="foreignkey")
        batch_op.drop_column("mentor_id")
        batch_op.drop_column("entrepreneur_id")

    with op.batch_alter_table("mentor_match", schema=None) as batch_op:
        batch_op.drop_index("uq_mentor_match_id_people")
