"""the objection to automated proposals

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 09:00:00.000000

``user_account.automated_proposals_objected_at``: when the person objected to automated (cohort)
proposals (UU PDP Pasal 10), short of withdrawing consent; NULL when they have not, or withdrew the
objection. Nobody has objected before this revision: every existing row stays NULL.
"""

import sqlalchemy as sa
from alembic import op

import models.base

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "automated_proposals_objected_at", models.base.UTCDateTime(timezone=True), nullable=True
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.drop_column("automated_proposals_objected_at")
