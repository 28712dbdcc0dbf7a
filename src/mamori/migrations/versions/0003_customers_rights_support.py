"""customers: erasure tombstones and 政令5 withheld records (R-16-4)

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("customers") as batch:
        batch.add_column(sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("customer_attributes") as batch:
        batch.add_column(sa.Column("withheld", sa.String(length=16), nullable=True))
    with op.batch_alter_table("activities") as batch:
        batch.add_column(sa.Column("withheld", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("activities") as batch:
        batch.drop_column("withheld")
    with op.batch_alter_table("customer_attributes") as batch:
        batch.drop_column("withheld")
    with op.batch_alter_table("customers") as batch:
        batch.drop_column("erased_at")
