"""third-party data through the receipt path; 要配慮 everywhere (R-30-1, R-20-2)

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # R-18-2: a succession receipt keeps the purposes that applied before the succession.
    with op.batch_alter_table("provision_receipts") as batch:
        batch.add_column(sa.Column("prior_purposes", sa.Text(), nullable=True))
    # Provider-sourced provenance names its receipt; succession provenance keeps its purpose limit (R-18-2).
    with op.batch_alter_table("provenance") as batch:
        batch.add_column(sa.Column("receipt_id", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("purpose_limit", sa.Text(), nullable=True))
        batch.create_index("ix_provenance_receipt_id", ["receipt_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("provenance") as batch:
        batch.drop_index("ix_provenance_receipt_id")
        batch.drop_column("purpose_limit")
        batch.drop_column("receipt_id")
    with op.batch_alter_table("provision_receipts") as batch:
        batch.drop_column("prior_purposes")
