"""analytics slice (issue 24): analysis runs, saved segments (versioned) and their members, acquisition costs.

Revision ID: 0028
Revises: 0027
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0028"
down_revision: str | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "analytics_runs",
        sa.Column("id", sa.String(length=32), primary_key=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("path", sa.String(length=16), nullable=False),
        sa.Column("purpose_code", sa.String(length=64), nullable=False),
        sa.Column("purpose_version", sa.Integer(), nullable=True),
        sa.Column("dataset_id", sa.String(length=32), nullable=True),
        sa.Column("params", sa.Text(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("rows_in", sa.Integer(), nullable=False),
        sa.Column("subjects", sa.Integer(), nullable=False),
        sa.Column("left_out", sa.Text(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=True),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_analytics_runs_created", "analytics_runs", ["created_at"])
    op.create_table(
        "analytics_segments",
        sa.Column("id", sa.String(length=32), primary_key=True),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("path", sa.String(length=16), nullable=False),
        sa.Column("purpose_code", sa.String(length=64), nullable=False),
        sa.Column("run_id", sa.String(length=32), sa.ForeignKey("analytics_runs.id"), nullable=False),
        sa.Column("definition", sa.Text(), nullable=False),
        sa.Column("members", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("name", "version"),
    )
    op.create_index("ix_analytics_segments_name", "analytics_segments", ["name"])
    op.create_table(
        "analytics_segment_members",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True
        ),
        sa.Column(
            "segment_id",
            sa.String(length=32),
            sa.ForeignKey("analytics_segments.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "customer_id",
            sa.String(length=32),
            sa.ForeignKey("customers.id", ondelete="CASCADE"),
            nullable=True,
        ),
        sa.Column("pseudonym", sa.String(length=64), nullable=True),
    )
    op.create_index("ix_analytics_members_segment", "analytics_segment_members", ["segment_id"])
    op.create_index("ix_analytics_segment_members_customer_id", "analytics_segment_members", ["customer_id"])
    op.create_table(
        "analytics_acquisition_costs",
        sa.Column("id", sa.String(length=32), primary_key=True),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("campaign_id", sa.String(length=32), nullable=True),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("amount_yen", sa.BigInteger(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("analytics_acquisition_costs")
    op.drop_index("ix_analytics_segment_members_customer_id", table_name="analytics_segment_members")
    op.drop_index("ix_analytics_members_segment", table_name="analytics_segment_members")
    op.drop_table("analytics_segment_members")
    op.drop_index("ix_analytics_segments_name", table_name="analytics_segments")
    op.drop_table("analytics_segments")
    op.drop_index("ix_analytics_runs_created", table_name="analytics_runs")
    op.drop_table("analytics_runs")
