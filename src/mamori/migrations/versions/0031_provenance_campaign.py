"""The acquisition campaign on provenance (issue 24 item 4, CAC per campaign): ``provenance.campaign``, a code such as
``2026秋フェア`` or ``ad-2026-11`` naming the campaign through which the person was acquired (not personal data;
plaintext). An acquisition cost for the channel ``campaign`` now names such a code in
``analytics_acquisition_costs.campaign_id`` (kept under its name, widened from an e-mail campaign's 32-character id
to a 64-character code). Existing rows name no campaign: NULL.

Revision ID: 0031
Revises: 0030
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0031"
down_revision: str | None = "0030"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("provenance") as batch:
        batch.add_column(sa.Column("campaign", sa.String(length=64), nullable=True))
    with op.batch_alter_table("analytics_acquisition_costs") as batch:
        batch.alter_column(
            "campaign_id",
            existing_type=sa.String(length=32),
            type_=sa.String(length=64),
            existing_nullable=True,
        )


def downgrade() -> None:
    with op.batch_alter_table("analytics_acquisition_costs") as batch:
        batch.alter_column(
            "campaign_id",
            existing_type=sa.String(length=64),
            type_=sa.String(length=32),
            existing_nullable=True,
        )
    with op.batch_alter_table("provenance") as batch:
        batch.drop_column("campaign")
