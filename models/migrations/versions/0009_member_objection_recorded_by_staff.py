"""the objection to automated proposals of a member without an account, recorded by staff

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 09:00:00.000000

``entrepreneur.automated_proposals_objected_at`` and ``mentor.automated_proposals_objected_at``:
when staff recorded the member's objection to automated (cohort) proposals (UU PDP Pasal 10),
received outside the app, for members imported without an account (members with an account record
it themselves, ``user_account.automated_proposals_objected_at``, 0007). NULL when there is none.
Nobody has one before this revision: every existing row stays NULL. The columns are added in place
(no table rebuild on SQLite).
"""

import sqlalchemy as sa
from alembic import op

import models.base

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

TABLES = ("entrepreneur", "mentor")
COLUMN = "automated_proposals_objected_at"


def upgrade() -> None:
    for table in TABLES:
        op.add_column(table, sa.Column(COLUMN, models.base.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column(COLUMN)
