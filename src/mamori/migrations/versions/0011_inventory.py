"""GDPR lawful basis, special categories, ROPA and storage locations (G-6, G-30, R-23-7)

The inventory slice's tables: storage_locations (R-23-7, R-28-4) and data_items (R-2.3-1, G-6 tags).

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "storage_locations",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("operator", sa.String(length=200), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("region", sa.String(length=100), nullable=True),
        sa.Column("handles_data", sa.Boolean(), nullable=False),
        sa.Column("counterparty_id", sa.String(length=32), nullable=True),
        sa.Column("categories", sa.String(length=200), nullable=False),
        sa.Column("purposes", sa.Text(), nullable=False),
        sa.Column("foreign_note", sa.Text(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("retired_at", _TS, nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.Column("updated_by", sa.String(length=80), nullable=False),
        sa.ForeignKeyConstraint(
            ["counterparty_id"],
            ["counterparties.id"],
            name=op.f("fk_storage_locations_counterparty_id_counterparties"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_storage_locations")),
        sa.UniqueConstraint("code", name=op.f("uq_storage_locations_code")),
    )
    op.create_table(
        "data_items",
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("appi_category", sa.String(length=16), nullable=False),
        sa.Column("sensitive_kind", sa.String(length=32), nullable=True),
        sa.Column("gdpr_article9", sa.String(length=32), nullable=True),
        sa.Column("gdpr_article10", sa.Boolean(), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=True),
        sa.Column("updated_at", _TS, nullable=False),
        sa.Column("updated_by", sa.String(length=80), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_data_items")),
    )


def downgrade() -> None:
    op.drop_table("data_items")
    op.drop_table("storage_locations")
