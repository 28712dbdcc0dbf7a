"""monitoring slice (issue 25): settings, daily baselines, evaluation state, alerts and their events, access
reviews and their lines.

Revision ID: 0029
Revises: 0028
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0029"
down_revision: str | None = "0028"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "monitoring_settings",
        sa.Column("key", sa.String(length=64), primary_key=True),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("updated_by", sa.String(length=80), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "monitoring_daily",
        sa.Column("actor", sa.String(length=80), primary_key=True),
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("entries", sa.Integer(), nullable=False),
        sa.Column("reads", sa.Integer(), nullable=False),
        sa.Column("denials", sa.Integer(), nullable=False),
        sa.Column("exports", sa.Integer(), nullable=False),
        sa.Column("off_hours", sa.Integer(), nullable=False),
        sa.Column("sensitive", sa.Integer(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "monitoring_state",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("evaluated_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "monitoring_alerts",
        sa.Column("id", sa.String(length=32), primary_key=True),
        sa.Column("number", sa.Integer(), nullable=False, unique=True),
        sa.Column("fingerprint", sa.String(length=200), nullable=False, unique=True),
        sa.Column("signal", sa.String(length=32), nullable=False),
        sa.Column("severity", sa.String(length=8), nullable=False),
        sa.Column("actor", sa.String(length=80), nullable=False),
        sa.Column("actor_role", sa.String(length=32), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("first_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("observed", sa.Float(), nullable=False),
        sa.Column("threshold", sa.Float(), nullable=False),
        sa.Column("baseline", sa.Float(), nullable=True),
        sa.Column("baseline_kind", sa.String(length=8), nullable=True),
        sa.Column("entries_total", sa.Integer(), nullable=False),
        sa.Column("entry_seqs", sa.Text(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("dismiss_reason", sa.String(length=32), nullable=True),
        sa.Column("dismiss_note", sa.Text(), nullable=True),
        sa.Column("incident_id", sa.String(length=32), nullable=True),
        sa.Column("handled_by", sa.String(length=80), nullable=True),
        sa.Column("handled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("mailed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_monitoring_alerts_status", "monitoring_alerts", ["status", "created_at"])
    op.create_index("ix_monitoring_alerts_day", "monitoring_alerts", ["day"])
    op.create_table(
        "monitoring_alert_events",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("alert_id", sa.String(length=32), sa.ForeignKey("monitoring_alerts.id"), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("by", sa.String(length=80), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("detail", sa.String(length=64), nullable=True),
    )
    op.create_index("ix_monitoring_alert_events_alert_id", "monitoring_alert_events", ["alert_id"])
    op.create_table(
        "access_reviews",
        sa.Column("id", sa.String(length=32), primary_key=True),
        sa.Column("ref", sa.String(length=32), nullable=False, unique=True),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("unused_days", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("started_by", sa.String(length=80), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_by", sa.String(length=80), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("digest", sa.String(length=64), nullable=True),
    )
    op.create_table(
        "access_review_lines",
        sa.Column("id", sa.String(length=32), primary_key=True),
        sa.Column("review_id", sa.String(length=32), sa.ForeignKey("access_reviews.id"), nullable=False),
        sa.Column("staff_id", sa.String(length=32), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("token_purposes", sa.Text(), nullable=False),
        sa.Column("tokens", sa.Integer(), nullable=False),
        sa.Column("last_sign_in", sa.DateTime(timezone=True), nullable=True),
        sa.Column("trained", sa.Boolean(), nullable=False),
        sa.Column("pledged", sa.Boolean(), nullable=False),
        sa.Column("owned_customers", sa.Integer(), nullable=False),
        sa.Column("flags", sa.String(length=200), nullable=False),
        sa.Column("decision", sa.String(length=8), nullable=True),
        sa.Column("change", sa.String(length=64), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("decided_by", sa.String(length=80), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_access_review_lines_review_id", "access_review_lines", ["review_id"])


def downgrade() -> None:
    op.drop_index("ix_access_review_lines_review_id", table_name="access_review_lines")
    op.drop_table("access_review_lines")
    op.drop_table("access_reviews")
    op.drop_index("ix_monitoring_alert_events_alert_id", table_name="monitoring_alert_events")
    op.drop_table("monitoring_alert_events")
    op.drop_index("ix_monitoring_alerts_day", table_name="monitoring_alerts")
    op.drop_index("ix_monitoring_alerts_status", table_name="monitoring_alerts")
    op.drop_table("monitoring_alerts")
    op.drop_table("monitoring_state")
    op.drop_table("monitoring_daily")
    op.drop_table("monitoring_settings")
