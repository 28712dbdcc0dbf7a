"""processors slice tables: outsourcing contracts, evaluations, audits, sub-outsourcing, covered customers,
operator links and the handover log (R-25-1)

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TS = sa.DateTime(timezone=True)


def _by(name: str, nullable: bool = False) -> sa.Column[str]:
    return sa.Column(name, sa.String(length=80), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "processor_contracts",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("counterparty_id", sa.String(length=32), nullable=False),
        sa.Column("work", sa.String(length=500), nullable=False),
        sa.Column("purposes", sa.JSON(), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("clauses", sa.JSON(), nullable=False),
        sa.Column("activity_write", sa.Boolean(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("reference", sa.String(length=200), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        _by("created_by"),
        sa.Column("activated_at", _TS, nullable=True),
        _by("activated_by", True),
        sa.Column("ended_at", _TS, nullable=True),
        _by("ended_by", True),
        sa.Column("end_disposal", sa.String(length=16), nullable=True),
        sa.Column("end_evidence", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["counterparty_id"],
            ["counterparties.id"],
            name=op.f("fk_processor_contracts_counterparty_id_counterparties"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_processor_contracts")),
    )
    op.create_index(
        "ix_processor_contracts_counterparty", "processor_contracts", ["counterparty_id"], unique=False
    )

    op.create_table(
        "processor_evaluations",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("contract_id", sa.String(length=32), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("result", sa.String(length=16), nullable=False),
        sa.Column("note", sa.String(length=1000), nullable=True),
        sa.Column("evaluated_at", _TS, nullable=False),
        _by("evaluated_by"),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            ["processor_contracts.id"],
            name=op.f("fk_processor_evaluations_contract_id_processor_contracts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_processor_evaluations")),
    )
    op.create_index(
        "ix_processor_evaluations_contract", "processor_evaluations", ["contract_id"], unique=False
    )

    op.create_table(
        "processor_audits",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("contract_id", sa.String(length=32), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("scheduled_at", _TS, nullable=False),
        _by("scheduled_by"),
        sa.Column("performed_on", sa.Date(), nullable=True),
        sa.Column("result", sa.String(length=16), nullable=True),
        sa.Column("findings", sa.String(length=1000), nullable=True),
        sa.Column("recorded_at", _TS, nullable=True),
        _by("recorded_by", True),
        sa.Column("remedied_at", _TS, nullable=True),
        _by("remedied_by", True),
        sa.Column("remedy", sa.String(length=1000), nullable=True),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            ["processor_contracts.id"],
            name=op.f("fk_processor_audits_contract_id_processor_contracts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_processor_audits")),
    )
    op.create_index(
        "ix_processor_audits_contract", "processor_audits", ["contract_id", "due_on"], unique=False
    )

    op.create_table(
        "processor_subcontracts",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("contract_id", sa.String(length=32), nullable=False),
        sa.Column("subcontractor", sa.String(length=200), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("work", sa.String(length=500), nullable=False),
        sa.Column("methods", sa.String(length=1000), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("requested_at", _TS, nullable=False),
        _by("requested_by"),
        sa.Column("decided_at", _TS, nullable=True),
        _by("decided_by", True),
        sa.Column("decision_note", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            ["processor_contracts.id"],
            name=op.f("fk_processor_subcontracts_contract_id_processor_contracts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_processor_subcontracts")),
    )
    op.create_index(
        "ix_processor_subcontracts_contract", "processor_subcontracts", ["contract_id"], unique=False
    )

    op.create_table(
        "processor_customers",
        sa.Column("contract_id", sa.String(length=32), nullable=False),
        sa.Column("customer_id", sa.String(length=32), nullable=False),
        sa.Column("via", sa.String(length=80), nullable=False),
        sa.Column("added_at", _TS, nullable=False),
        _by("added_by"),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            ["processor_contracts.id"],
            name=op.f("fk_processor_customers_contract_id_processor_contracts"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_processor_customers_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("contract_id", "customer_id", name=op.f("pk_processor_customers")),
    )
    op.create_index("ix_processor_customers_customer", "processor_customers", ["customer_id"], unique=False)

    op.create_table(
        "processor_operators",
        sa.Column("staff_id", sa.String(length=32), nullable=False),
        sa.Column("contract_id", sa.String(length=32), nullable=False),
        sa.Column("linked_at", _TS, nullable=False),
        _by("linked_by"),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            ["processor_contracts.id"],
            name=op.f("fk_processor_operators_contract_id_processor_contracts"),
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff_users.id"], name=op.f("fk_processor_operators_staff_id_staff_users")
        ),
        sa.PrimaryKeyConstraint("staff_id", name=op.f("pk_processor_operators")),
    )
    op.create_index("ix_processor_operators_contract", "processor_operators", ["contract_id"], unique=False)

    op.create_table(
        "processor_handovers",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("contract_id", sa.String(length=32), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("customer_count", sa.Integer(), nullable=False),
        sa.Column("withheld_count", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("handed_at", _TS, nullable=False),
        _by("handed_by"),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            ["processor_contracts.id"],
            name=op.f("fk_processor_handovers_contract_id_processor_contracts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_processor_handovers")),
    )
    op.create_index("ix_processor_handovers_contract", "processor_handovers", ["contract_id"], unique=False)

    op.create_table(
        "processor_handover_subjects",
        sa.Column("handover_id", sa.String(length=32), nullable=False),
        sa.Column("customer_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["handover_id"],
            ["processor_handovers.id"],
            name=op.f("fk_processor_handover_subjects_handover_id_processor_handovers"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_processor_handover_subjects_customer_id_customers"),
        ),
        sa.PrimaryKeyConstraint("handover_id", "customer_id", name=op.f("pk_processor_handover_subjects")),
    )
    op.create_index(
        "ix_processor_handover_subjects_customer",
        "processor_handover_subjects",
        ["customer_id"],
        unique=False,
    )


def downgrade() -> None:
    for table, index in (
        ("processor_handover_subjects", "ix_processor_handover_subjects_customer"),
        ("processor_handovers", "ix_processor_handovers_contract"),
        ("processor_operators", "ix_processor_operators_contract"),
        ("processor_customers", "ix_processor_customers_customer"),
        ("processor_subcontracts", "ix_processor_subcontracts_contract"),
        ("processor_audits", "ix_processor_audits_contract"),
        ("processor_evaluations", "ix_processor_evaluations_contract"),
        ("processor_contracts", "ix_processor_contracts_counterparty"),
    ):
        op.drop_index(index, table_name=table)
        op.drop_table(table)
