"""consent record, consent withdrawal and the adult confirmation

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 09:00:00.000000

``user_account`` gets the rest of the consent record (``privacy_consent_purposes``,
``privacy_consent_channel``), ``consent_withdrawn_at`` (the person left matching; cleared when they
consent again) and ``adult_confirmed_at`` (the registration's "18 or older" confirmation).

Consent recorded before this revision was given on the registration form (the demo loader marks
its own with the notice version ``demo``) to the notice whose purposes were matching, sessions and
programme statistics: those rows are filled in accordingly. Accounts without consent stay NULL.
"""

import sqlalchemy as sa
from alembic import op

import models.base

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

#: The purposes of the privacy notice in force when the earlier consents were given.
EARLIER_PURPOSES = ["matching", "sessions", "programme_statistics"]

_user_account = sa.table(
    "user_account",
    sa.column("privacy_notice_version", sa.String),
    sa.column("privacy_consent_at", sa.DateTime),
    sa.column("privacy_consent_purposes", sa.JSON),
    sa.column("privacy_consent_channel", sa.String),
)


def upgrade() -> None:
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.add_column(sa.Column("privacy_consent_purposes", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("privacy_consent_channel", sa.String(length=20), nullable=True))
        batch_op.add_column(
            sa.Column("consent_withdrawn_at", models.base.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("adult_confirmed_at", models.base.UTCDateTime(timezone=True), nullable=True)
        )

    consented = _user_account.c.privacy_consent_at.is_not(None)
    op.get_bind().execute(
        _user_account.update()
        .where(consented)
        .values(
            privacy_consent_purposes=EARLIER_PURPOSES,
            privacy_consent_channel=sa.case(
                (_user_account.c.privacy_notice_version == "demo", "demo"), else_="web_registration"
            ),
        )
    )


def downgrade() -> None:
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.drop_column("adult_confirmed_at")
        batch_op.drop_column("consent_withdrawn_at")
        batch_op.drop_column("privacy_consent_channel")
        batch_op.drop_column("privacy_consent_purposes")
