"""The mail queue: messages waiting to be delivered (sealed), their attempts and outcome (issue 18)

``mail_queue`` holds each e-mail's record (topic, ref, request and subject ids, status, attempts, times, the last
error's code) and, until it is delivered, its content sealed under the system key ``mail_queue`` (kernel/mail).
``mail_jobs`` keeps the periodic jobs' last runs, shared by every process. The app's role is granted these tables
by ``mamori init`` like every data-store table (kernel/runtime.migrate_schemas); they hold no customer row, so they
have no row-level security.

Revision ID: 0019
Revises: 0018
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "mail_queue",
        sa.Column("id", sa.String(length=32), primary_key=True),
        sa.Column("topic", sa.String(length=64), nullable=False),
        sa.Column("ref", sa.String(length=64), nullable=True),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column("subject_ids", sa.Text(), nullable=False),
        sa.Column("lang", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lease_token", sa.String(length=32), nullable=True),
        sa.Column("last_error", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivery_ref", sa.String(length=128), nullable=True),
        sa.Column("hook_pending", sa.Boolean(), nullable=False),
        sa.Column("to_enc", sa.LargeBinary(), nullable=True),
        sa.Column("subject_enc", sa.LargeBinary(), nullable=True),
        sa.Column("text_enc", sa.LargeBinary(), nullable=True),
        sa.Column("html_enc", sa.LargeBinary(), nullable=True),
    )
    op.create_index("ix_mail_queue_topic", "mail_queue", ["topic"])
    op.create_index("ix_mail_queue_request_id", "mail_queue", ["request_id"])
    op.create_index("ix_mail_queue_status", "mail_queue", ["status"])
    op.create_index("ix_mail_queue_next_attempt_at", "mail_queue", ["next_attempt_at"])
    op.create_table(
        "mail_jobs",
        sa.Column("name", sa.String(length=64), primary_key=True),
        sa.Column("last_run_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=64), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("mail_jobs")
    op.drop_index("ix_mail_queue_next_attempt_at", table_name="mail_queue")
    op.drop_index("ix_mail_queue_status", table_name="mail_queue")
    op.drop_index("ix_mail_queue_request_id", table_name="mail_queue")
    op.drop_index("ix_mail_queue_topic", table_name="mail_queue")
    op.drop_table("mail_queue")
