"""provision slice tables: counterparties, provision consents, records, receipts, joint use, opt-out,
personally referable information confirmations, relayed messages

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "counterparties",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("address", sa.String(length=300), nullable=False),
        sa.Column("representative", sa.String(length=200), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("public_body", sa.Boolean(), nullable=False),
        sa.Column("system_kind", sa.String(length=16), nullable=True),
        sa.Column("system_reference", sa.String(length=200), nullable=True),
        sa.Column("system_reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("system_review_due", sa.DateTime(timezone=True), nullable=True),
        sa.Column("system_stopped", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_counterparties")),
    )
    op.create_index(op.f("ix_counterparties_kind"), "counterparties", ["kind"], unique=False)
    op.create_table(
        "joint_use_declarations",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("items", sa.Text(), nullable=False),
        sa.Column("member_ids", sa.Text(), nullable=False),
        sa.Column("users_scope", sa.Text(), nullable=False),
        sa.Column("purposes", sa.Text(), nullable=False),
        sa.Column("responsible_name", sa.String(length=200), nullable=False),
        sa.Column("responsible_address", sa.String(length=300), nullable=False),
        sa.Column("responsible_representative", sa.String(length=200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("notified_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("effective_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_joint_use_declarations")),
        sa.UniqueConstraint("code", name=op.f("uq_joint_use_declarations_code")),
    )
    op.create_table(
        "counterparty_info_sheets",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("counterparty_id", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("protection_system", sa.Text(), nullable=False),
        sa.Column("recipient_measures", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.ForeignKeyConstraint(
            ["counterparty_id"],
            ["counterparties.id"],
            name=op.f("fk_counterparty_info_sheets_counterparty_id_counterparties"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_counterparty_info_sheets")),
        sa.UniqueConstraint(
            "counterparty_id", "version", name=op.f("uq_counterparty_info_sheets_counterparty_id")
        ),
    )
    op.create_table(
        "joint_use_changes",
        sa.Column(
            "seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("declaration_id", sa.String(length=32), nullable=False),
        sa.Column("item", sa.String(length=32), nullable=False),
        sa.Column("old_value", sa.Text(), nullable=False),
        sa.Column("new_value", sa.Text(), nullable=False),
        sa.Column("notified_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("effective_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("consent_reference", sa.String(length=200), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(length=80), nullable=False),
        sa.ForeignKeyConstraint(
            ["declaration_id"],
            ["joint_use_declarations.id"],
            name=op.f("fk_joint_use_changes_declaration_id_joint_use_declarations"),
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_joint_use_changes")),
    )
    op.create_index(
        op.f("ix_joint_use_changes_declaration_id"), "joint_use_changes", ["declaration_id"], unique=False
    )
    op.create_table(
        "opt_out_filings",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("counterparty_id", sa.String(length=32), nullable=True),
        sa.Column("purpose", sa.String(length=64), nullable=False),
        sa.Column("items", sa.Text(), nullable=False),
        sa.Column("acquisition", sa.Text(), nullable=False),
        sa.Column("provision_method", sa.Text(), nullable=False),
        sa.Column("request_method", sa.Text(), nullable=False),
        sa.Column("filed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ppc_reference", sa.String(length=200), nullable=True),
        sa.Column("ppc_published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("notified_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("objection_days", sa.Integer(), nullable=False),
        sa.Column("start_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("stopped_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.ForeignKeyConstraint(
            ["counterparty_id"],
            ["counterparties.id"],
            name=op.f("fk_opt_out_filings_counterparty_id_counterparties"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_opt_out_filings")),
    )
    op.create_table(
        "provision_receipts",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("counterparty_id", sa.String(length=32), nullable=False),
        sa.Column("variant", sa.String(length=16), nullable=False),
        sa.Column("identity_confirmed_by", sa.String(length=200), nullable=False),
        sa.Column("acquisition", sa.Text(), nullable=False),
        sa.Column("ppc_publication_confirmed", sa.Boolean(), nullable=False),
        sa.Column("consent_confirmed", sa.Boolean(), nullable=False),
        sa.Column("items", sa.Text(), nullable=False),
        sa.Column("import_job_id", sa.String(length=32), nullable=True),
        sa.Column("person_count", sa.Integer(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_by", sa.String(length=80), nullable=False),
        sa.ForeignKeyConstraint(
            ["counterparty_id"],
            ["counterparties.id"],
            name=op.f("fk_provision_receipts_counterparty_id_counterparties"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_provision_receipts")),
    )
    op.create_index(
        op.f("ix_provision_receipts_counterparty_id"), "provision_receipts", ["counterparty_id"], unique=False
    )
    op.create_table(
        "referable_confirmations",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("counterparty_id", sa.String(length=32), nullable=False),
        sa.Column("items", sa.Text(), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("evidence", sa.String(length=200), nullable=False),
        sa.Column("foreign_info_confirmed", sa.Boolean(), nullable=False),
        sa.Column("sheet_version", sa.Integer(), nullable=True),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("confirmed_by", sa.String(length=80), nullable=False),
        sa.ForeignKeyConstraint(
            ["counterparty_id"],
            ["counterparties.id"],
            name=op.f("fk_referable_confirmations_counterparty_id_counterparties"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referable_confirmations")),
    )
    op.create_index(
        op.f("ix_referable_confirmations_counterparty_id"),
        "referable_confirmations",
        ["counterparty_id"],
        unique=False,
    )
    op.create_table(
        "opt_out_changes",
        sa.Column(
            "seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("filing_id", sa.String(length=32), nullable=False),
        sa.Column("item", sa.String(length=32), nullable=False),
        sa.Column("new_value", sa.Text(), nullable=False),
        sa.Column("notified_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("filed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("effective_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(length=80), nullable=False),
        sa.ForeignKeyConstraint(
            ["filing_id"], ["opt_out_filings.id"], name=op.f("fk_opt_out_changes_filing_id_opt_out_filings")
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_opt_out_changes")),
    )
    op.create_index(op.f("ix_opt_out_changes_filing_id"), "opt_out_changes", ["filing_id"], unique=False)
    op.create_table(
        "provision_consents",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("customer_id", sa.String(length=32), nullable=False),
        sa.Column("counterparty_id", sa.String(length=32), nullable=False),
        sa.Column("purpose", sa.String(length=64), nullable=False),
        sa.Column("method", sa.String(length=32), nullable=False),
        sa.Column("evidence", sa.String(length=200), nullable=True),
        sa.Column("foreign", sa.Boolean(), nullable=False),
        sa.Column("sheet_version", sa.Integer(), nullable=True),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(length=80), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_by", sa.String(length=80), nullable=True),
        sa.ForeignKeyConstraint(
            ["counterparty_id"],
            ["counterparties.id"],
            name=op.f("fk_provision_consents_counterparty_id_counterparties"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_provision_consents_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_provision_consents")),
    )
    op.create_index(
        op.f("ix_provision_consents_counterparty_id"), "provision_consents", ["counterparty_id"], unique=False
    )
    op.create_index(
        "ix_provision_consents_subject",
        "provision_consents",
        ["customer_id", "counterparty_id", "purpose"],
        unique=False,
    )
    op.create_table(
        "provision_lineage",
        sa.Column(
            "seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("customer_id", sa.String(length=32), nullable=False),
        sa.Column("flag", sa.String(length=24), nullable=False),
        sa.Column("receipt_id", sa.String(length=32), nullable=True),
        sa.Column("reference", sa.String(length=200), nullable=True),
        sa.Column("noted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("noted_by", sa.String(length=80), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_provision_lineage_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["receipt_id"],
            ["provision_receipts.id"],
            name=op.f("fk_provision_lineage_receipt_id_provision_receipts"),
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_provision_lineage")),
        sa.UniqueConstraint(
            "customer_id", "flag", "receipt_id", name=op.f("uq_provision_lineage_customer_id")
        ),
    )
    op.create_index(
        op.f("ix_provision_lineage_customer_id"), "provision_lineage", ["customer_id"], unique=False
    )
    op.create_table(
        "provisions",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("counterparty_id", sa.String(length=32), nullable=False),
        sa.Column("purpose", sa.String(length=64), nullable=False),
        sa.Column("basis", sa.String(length=16), nullable=False),
        sa.Column("exception_code", sa.String(length=16), nullable=True),
        sa.Column("exception_reason_enc", sa.LargeBinary(), nullable=True),
        sa.Column("decided_by", sa.String(length=80), nullable=True),
        sa.Column("opt_out_filing_id", sa.String(length=32), nullable=True),
        sa.Column("joint_use_id", sa.String(length=32), nullable=True),
        sa.Column("fields", sa.Text(), nullable=False),
        sa.Column("out_format", sa.String(length=8), nullable=False),
        sa.Column("person_count", sa.Integer(), nullable=False),
        sa.Column("refused_count", sa.Integer(), nullable=False),
        sa.Column("provided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("provided_by", sa.String(length=80), nullable=False),
        sa.ForeignKeyConstraint(
            ["counterparty_id"],
            ["counterparties.id"],
            name=op.f("fk_provisions_counterparty_id_counterparties"),
        ),
        sa.ForeignKeyConstraint(
            ["joint_use_id"],
            ["joint_use_declarations.id"],
            name=op.f("fk_provisions_joint_use_id_joint_use_declarations"),
        ),
        sa.ForeignKeyConstraint(
            ["opt_out_filing_id"],
            ["opt_out_filings.id"],
            name=op.f("fk_provisions_opt_out_filing_id_opt_out_filings"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_provisions")),
    )
    op.create_index(op.f("ix_provisions_counterparty_id"), "provisions", ["counterparty_id"], unique=False)
    op.create_table(
        "relay_requests",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("requester_id", sa.String(length=32), nullable=False),
        sa.Column("target_id", sa.String(length=32), nullable=False),
        sa.Column("message_enc", sa.LargeBinary(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("share_contact", sa.Boolean(), nullable=False),
        sa.Column("consent_method", sa.String(length=32), nullable=True),
        sa.Column("consent_evidence", sa.String(length=200), nullable=True),
        sa.Column("consented_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivered_by", sa.String(length=80), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.ForeignKeyConstraint(
            ["requester_id"],
            ["customers.id"],
            name=op.f("fk_relay_requests_requester_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["target_id"],
            ["customers.id"],
            name=op.f("fk_relay_requests_target_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_relay_requests")),
    )
    op.create_index(op.f("ix_relay_requests_requester_id"), "relay_requests", ["requester_id"], unique=False)
    op.create_index(op.f("ix_relay_requests_target_id"), "relay_requests", ["target_id"], unique=False)
    op.create_table(
        "provision_records",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("customer_id", sa.String(length=32), nullable=True),
        sa.Column("counterparty_id", sa.String(length=32), nullable=True),
        sa.Column("recipient_label", sa.String(length=80), nullable=True),
        sa.Column("counterparty_name", sa.String(length=200), nullable=False),
        sa.Column("counterparty_address", sa.String(length=300), nullable=False),
        sa.Column("counterparty_representative", sa.String(length=200), nullable=False),
        sa.Column("counterparty_country", sa.String(length=2), nullable=False),
        sa.Column("purpose", sa.String(length=64), nullable=True),
        sa.Column("items", sa.Text(), nullable=False),
        sa.Column("consent_fact", sa.String(length=300), nullable=True),
        sa.Column("subject_enc", sa.LargeBinary(), nullable=True),
        sa.Column("exempt_code", sa.String(length=32), nullable=True),
        sa.Column("bulk", sa.Boolean(), nullable=False),
        sa.Column("medium", sa.String(length=16), nullable=False),
        sa.Column("provision_id", sa.String(length=32), nullable=True),
        sa.Column("receipt_id", sa.String(length=32), nullable=True),
        sa.Column("first_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retention_until", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["counterparty_id"],
            ["counterparties.id"],
            name=op.f("fk_provision_records_counterparty_id_counterparties"),
        ),
        sa.ForeignKeyConstraint(
            ["provision_id"], ["provisions.id"], name=op.f("fk_provision_records_provision_id_provisions")
        ),
        sa.ForeignKeyConstraint(
            ["receipt_id"],
            ["provision_receipts.id"],
            name=op.f("fk_provision_records_receipt_id_provision_receipts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_provision_records")),
    )
    op.create_index(
        op.f("ix_provision_records_created_at"), "provision_records", ["created_at"], unique=False
    )
    op.create_index(
        op.f("ix_provision_records_retention_until"), "provision_records", ["retention_until"], unique=False
    )
    op.create_index(
        "ix_provision_records_subject", "provision_records", ["customer_id", "direction"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_provision_records_subject", table_name="provision_records")
    op.drop_index(op.f("ix_provision_records_retention_until"), table_name="provision_records")
    op.drop_index(op.f("ix_provision_records_created_at"), table_name="provision_records")
    op.drop_table("provision_records")
    op.drop_index(op.f("ix_relay_requests_target_id"), table_name="relay_requests")
    op.drop_index(op.f("ix_relay_requests_requester_id"), table_name="relay_requests")
    op.drop_table("relay_requests")
    op.drop_index(op.f("ix_provisions_counterparty_id"), table_name="provisions")
    op.drop_table("provisions")
    op.drop_index(op.f("ix_provision_lineage_customer_id"), table_name="provision_lineage")
    op.drop_table("provision_lineage")
    op.drop_index("ix_provision_consents_subject", table_name="provision_consents")
    op.drop_index(op.f("ix_provision_consents_counterparty_id"), table_name="provision_consents")
    op.drop_table("provision_consents")
    op.drop_index(op.f("ix_opt_out_changes_filing_id"), table_name="opt_out_changes")
    op.drop_table("opt_out_changes")
    op.drop_index(op.f("ix_referable_confirmations_counterparty_id"), table_name="referable_confirmations")
    op.drop_table("referable_confirmations")
    op.drop_index(op.f("ix_provision_receipts_counterparty_id"), table_name="provision_receipts")
    op.drop_table("provision_receipts")
    op.drop_table("opt_out_filings")
    op.drop_index(op.f("ix_joint_use_changes_declaration_id"), table_name="joint_use_changes")
    op.drop_table("joint_use_changes")
    op.drop_table("counterparty_info_sheets")
    op.drop_table("joint_use_declarations")
    op.drop_index(op.f("ix_counterparties_kind"), table_name="counterparties")
    op.drop_table("counterparties")
