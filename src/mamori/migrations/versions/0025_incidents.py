"""Leak incidents (issue 22): the incident register, its scope (the methods, who a list or a filter found, the
people by id), PPC report drafts, notices to the people, containment and substitute measures (the incidents
slice); the data inventory's "financial" flag on a data item (R-26-1 trigger (2)); why a processor contract is
suspended ("audit" or an incident's code: only an explicit resume lifts the latter).

Revision ID: 0025
Revises: 0024
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "incidents",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("suspected", sa.Boolean(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("known_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("known_by", sa.String(length=100), nullable=False),
        sa.Column("discovered_by", sa.String(length=200), nullable=False),
        sa.Column("cause", sa.String(length=32), nullable=False),
        sa.Column("cause_detail", sa.Text(), nullable=True),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("entrustor_name", sa.String(length=200), nullable=True),
        sa.Column("counterparty_id", sa.String(length=32), nullable=True),
        sa.Column("contract_id", sa.String(length=32), nullable=True),
        sa.Column("wrongful_purpose", sa.Boolean(), nullable=True),
        sa.Column("encryption_exempt", sa.Boolean(), nullable=False),
        sa.Column("encryption_reason", sa.String(length=300), nullable=True),
        sa.Column("pseudonymised", sa.Boolean(), nullable=False),
        sa.Column("gdpr_risk", sa.String(length=8), nullable=True),
        sa.Column("gdpr_reason", sa.String(length=300), nullable=True),
        sa.Column("secondary_damage", sa.Text(), nullable=True),
        sa.Column("actions_to_persons", sa.Text(), nullable=True),
        sa.Column("publication", sa.Text(), nullable=True),
        sa.Column("prevention", sa.Text(), nullable=True),
        sa.Column("other", sa.Text(), nullable=True),
        sa.Column("prelim_filed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("final_filed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("gdpr_filed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("entrustor_notified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.String(length=80), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            ["processor_contracts.id"],
            name=op.f("fk_incidents_contract_id_processor_contracts"),
        ),
        sa.ForeignKeyConstraint(
            ["counterparty_id"],
            ["counterparties.id"],
            name=op.f("fk_incidents_counterparty_id_counterparties"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incidents")),
        sa.UniqueConstraint("number", name=op.f("uq_incidents_number")),
    )
    op.create_table(
        "incident_measures",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("incident_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("target", sa.String(length=80), nullable=True),
        sa.Column("note", sa.String(length=300), nullable=True),
        sa.Column("result", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("by", sa.String(length=80), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incidents.id"], name=op.f("fk_incident_measures_incident_id_incidents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_measures")),
    )
    op.create_index("ix_incident_measures_incident", "incident_measures", ["incident_id"], unique=False)
    op.create_table(
        "incident_notices",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("incident_id", sa.String(length=32), nullable=False),
        sa.Column("customer_id", sa.String(length=32), nullable=False),
        sa.Column("channel", sa.String(length=12), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("mail_id", sa.String(length=32), nullable=True),
        sa.Column("measure_id", sa.String(length=32), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("by", sa.String(length=80), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_incident_notices_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incidents.id"], name=op.f("fk_incident_notices_incident_id_incidents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_notices")),
        sa.UniqueConstraint("incident_id", "customer_id", name=op.f("uq_incident_notices_incident_id")),
    )
    op.create_index("ix_incident_notices_customer", "incident_notices", ["customer_id"], unique=False)
    op.create_table(
        "incident_reports",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("incident_id", sa.String(length=32), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("drafted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("drafted_by", sa.String(length=80), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incidents.id"], name=op.f("fk_incident_reports_incident_id_incidents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_reports")),
        sa.UniqueConstraint("incident_id", "stage", "version", name=op.f("uq_incident_reports_incident_id")),
    )
    op.create_index(
        op.f("ix_incident_reports_incident_id"), "incident_reports", ["incident_id"], unique=False
    )
    op.create_table(
        "incident_scopes",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("incident_id", sa.String(length=32), nullable=False),
        sa.Column("method", sa.String(length=24), nullable=False),
        sa.Column("params", sa.Text(), nullable=False),
        sa.Column("persons", sa.Integer(), nullable=False),
        sa.Column("maximum", sa.Integer(), nullable=True),
        sa.Column("items", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("removed_by", sa.String(length=80), nullable=True),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incidents.id"], name=op.f("fk_incident_scopes_incident_id_incidents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_scopes")),
    )
    op.create_index("ix_incident_scopes_incident", "incident_scopes", ["incident_id"], unique=False)
    op.create_table(
        "incident_subjects",
        sa.Column("incident_id", sa.String(length=32), nullable=False),
        sa.Column("customer_id", sa.String(length=32), nullable=False),
        sa.Column("scope_id", sa.String(length=32), nullable=False),
        sa.Column("fields", sa.Text(), nullable=False),
        sa.Column("categories", sa.Text(), nullable=False),
        sa.Column("sensitive", sa.Boolean(), nullable=False),
        sa.Column("financial", sa.Boolean(), nullable=False),
        sa.Column("origin", sa.String(length=8), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_incident_subjects_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incidents.id"], name=op.f("fk_incident_subjects_incident_id_incidents")
        ),
        sa.ForeignKeyConstraint(
            ["scope_id"], ["incident_scopes.id"], name=op.f("fk_incident_subjects_scope_id_incident_scopes")
        ),
        sa.PrimaryKeyConstraint("incident_id", "customer_id", name=op.f("pk_incident_subjects")),
    )
    op.create_index("ix_incident_subjects_customer", "incident_subjects", ["customer_id"], unique=False)
    op.create_table(
        "incident_scope_members",
        sa.Column("scope_id", sa.String(length=32), nullable=False),
        sa.Column("customer_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_incident_scope_members_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["scope_id"],
            ["incident_scopes.id"],
            name=op.f("fk_incident_scope_members_scope_id_incident_scopes"),
        ),
        sa.PrimaryKeyConstraint("scope_id", "customer_id", name=op.f("pk_incident_scope_members")),
    )
    op.add_column(
        "data_items", sa.Column("financial", sa.Boolean(), server_default=sa.false(), nullable=False)
    )
    with op.batch_alter_table("processor_contracts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("suspended_reason", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("processor_contracts", schema=None) as batch_op:
        batch_op.drop_column("suspended_reason")

    with op.batch_alter_table("data_items", schema=None) as batch_op:
        batch_op.drop_column("financial")
    op.drop_table("incident_scope_members")
    op.drop_index("ix_incident_subjects_customer", table_name="incident_subjects")
    op.drop_table("incident_subjects")
    op.drop_index("ix_incident_scopes_incident", table_name="incident_scopes")
    op.drop_table("incident_scopes")
    op.drop_index(op.f("ix_incident_reports_incident_id"), table_name="incident_reports")
    op.drop_table("incident_reports")
    op.drop_index("ix_incident_notices_customer", table_name="incident_notices")
    op.drop_table("incident_notices")
    op.drop_index("ix_incident_measures_incident", table_name="incident_measures")
    op.drop_table("incident_measures")
    op.drop_table("incidents")
