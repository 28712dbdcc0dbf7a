"""Reaching customers lawfully (issue 20): the channels a purpose contacts people by and whether it is
advertising; the contact slice's list builds, e-mail campaigns and per-person campaign messages

``contact_sends`` holds ids, a status, an error code and the SHA-256 of the unsubscribe token: no address and no
body (the message is sealed in the mail queue). ``contact_list_builds`` holds counts by reason, never values.

Revision ID: 0023
Revises: 0022
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("purpose_versions") as batch:
        batch.add_column(sa.Column("channels", sa.String(length=64), nullable=False, server_default=""))
        batch.add_column(sa.Column("marketing", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table(
        "contact_list_builds",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("purpose_code", sa.String(length=64), nullable=False),
        sa.Column("purpose_version", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("segment", sa.String(length=400), nullable=True),
        sa.Column("fields", sa.String(length=200), nullable=False),
        sa.Column("included", sa.Integer(), nullable=False),
        sa.Column("excluded", sa.Text(), nullable=False),
        sa.Column("built_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("built_by", sa.String(length=80), nullable=False),
        sa.Column("output_sha256", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_list_builds")),
    )
    op.create_table(
        "contact_campaigns",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("purpose_code", sa.String(length=64), nullable=False),
        sa.Column("purpose_version", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("list_build_id", sa.String(length=32), nullable=True),
        sa.Column("counts", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["list_build_id"],
            ["contact_list_builds.id"],
            name=op.f("fk_contact_campaigns_list_build_id_contact_list_builds"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_campaigns")),
    )
    op.create_table(
        "contact_sends",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("campaign_id", sa.String(length=32), nullable=False),
        sa.Column("customer_id", sa.String(length=32), nullable=False),
        sa.Column("mail_message_id", sa.String(length=32), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=True),
        sa.Column("token_digest", sa.LargeBinary(length=32), nullable=True),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("unsubscribed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["contact_campaigns.id"],
            name=op.f("fk_contact_sends_campaign_id_contact_campaigns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_contact_sends_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_sends")),
        sa.UniqueConstraint("token_digest", name=op.f("uq_contact_sends_token_digest")),
    )
    op.create_index("ix_contact_sends_campaign", "contact_sends", ["campaign_id", "status"])
    op.create_index(op.f("ix_contact_sends_customer_id"), "contact_sends", ["customer_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_contact_sends_customer_id"), table_name="contact_sends")
    op.drop_index("ix_contact_sends_campaign", table_name="contact_sends")
    op.drop_table("contact_sends")
    op.drop_table("contact_campaigns")
    op.drop_table("contact_list_builds")
    with op.batch_alter_table("purpose_versions") as batch:
        batch.drop_column("marketing")
        batch.drop_column("channels")
