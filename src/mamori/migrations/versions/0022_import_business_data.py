"""Imports of what companies really have (issue 19): saved column mappings, customer numbers, rows held for
approval, the job's pending count, the provenance's 取得の経緯, and API idempotency keys

``customer_external_ids`` holds a customer's number in another system sealed under their data key, with the blind
indexer's digest unique per system; like ``blind_index`` it has no row-level security (duplicate detection must
see every number and it holds nothing readable). ``import_pending`` holds rows waiting for the privacy officer,
each sealed under its own data key. ``import_mappings`` and ``idempotency_keys`` hold no personal value.

Revision ID: 0022
Revises: 0021
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("import_jobs") as batch:
        batch.add_column(sa.Column("pending", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("provenance") as batch:
        batch.add_column(sa.Column("acquisition", sa.Text(), nullable=True))
    op.create_table(
        "import_mappings",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_mappings")),
        sa.UniqueConstraint("name", name=op.f("uq_import_mappings_name")),
    )
    op.create_table(
        "customer_external_ids",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("customer_id", sa.String(length=32), nullable=False),
        sa.Column("system", sa.String(length=200), nullable=False),
        sa.Column("digest", sa.LargeBinary(length=16), nullable=False),
        sa.Column("value_enc", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_customer_external_ids_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_external_ids")),
        sa.UniqueConstraint("system", "digest", name=op.f("uq_customer_external_ids_system")),
    )
    with op.batch_alter_table("customer_external_ids") as batch:
        batch.create_index(batch.f("ix_customer_external_ids_customer_id"), ["customer_id"], unique=False)
    op.create_table(
        "import_pending",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("job_id", sa.String(length=32), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.String(length=32), nullable=True),
        sa.Column("purposes", sa.String(length=400), nullable=False),
        sa.Column("notified", sa.String(length=400), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=False),
        sa.Column("rule_id", sa.String(length=16), nullable=True),
        sa.Column("row_enc", sa.LargeBinary(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(length=80), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("customer_id", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_pending")),
    )
    with op.batch_alter_table("import_pending") as batch:
        batch.create_index(batch.f("ix_import_pending_job_id"), ["job_id"], unique=False)
        batch.create_index(batch.f("ix_import_pending_status"), ["status"], unique=False)
    op.create_table(
        "idempotency_keys",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("scope", sa.String(length=80), nullable=False),
        sa.Column("request_sha256", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("resource_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idempotency_keys")),
    )
    with op.batch_alter_table("idempotency_keys") as batch:
        batch.create_index(batch.f("ix_idempotency_keys_expires_at"), ["expires_at"], unique=False)


def downgrade() -> None:
    op.drop_table("idempotency_keys")
    op.drop_table("import_pending")
    op.drop_table("customer_external_ids")
    op.drop_table("import_mappings")
    with op.batch_alter_table("provenance") as batch:
        batch.drop_column("acquisition")
    with op.batch_alter_table("import_jobs") as batch:
        batch.drop_column("pending")
