"""mentor.updated_at indexed: the mentor pool's version is two index lookups

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 10:00:00.000000

Every suggestions page asks whether the cached, encoded mentors are still current: the newest
``updated_at`` and the highest id of ``mentor``. With this index both are index lookups instead
of a scan of the whole table.
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_mentor_updated_at", "mentor", ["updated_at"])


def downgrade() -> None:
    op.drop_index("ix_mentor_updated_at", table_name="mentor")
