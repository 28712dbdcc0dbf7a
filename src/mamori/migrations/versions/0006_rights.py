"""rights slice tables: requests from the person, verified identifiers, subjects, handling log, throttle

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "rights_requests",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("regime", sa.String(length=8), nullable=False),
        sa.Column("regime_source", sa.String(length=8), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("extended_due_on", sa.Date(), nullable=True),
        sa.Column("extension_reason", sa.String(length=32), nullable=True),
        sa.Column("extension_notified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("agent_kind", sa.String(length=24), nullable=True),
        sa.Column("agent_document", sa.String(length=32), nullable=True),
        sa.Column("categories", sa.String(length=400), nullable=True),
        sa.Column("purpose", sa.String(length=64), nullable=True),
        sa.Column("stop_scope", sa.String(length=16), nullable=True),
        sa.Column("fee_yen", sa.Integer(), nullable=True),
        sa.Column("refusal_ground", sa.String(length=32), nullable=True),
        sa.Column("refused_parts", sa.String(length=400), nullable=True),
        sa.Column("withheld_count", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.LargeBinary(), nullable=True),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rights_requests")),
    )
    op.create_index("ix_rights_requests_open_due", "rights_requests", ["status", "due_on"], unique=False)

    op.create_table(
        "rights_identifiers",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("request_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("digest", sa.LargeBinary(), nullable=False),
        sa.Column("value_enc", sa.LargeBinary(), nullable=True),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("method", sa.String(length=16), nullable=True),
        sa.Column("document", sa.String(length=32), nullable=True),
        sa.Column("checked_by", sa.String(length=80), nullable=True),
        sa.Column("code_hash", sa.LargeBinary(), nullable=True),
        sa.Column("code_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("code_attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["rights_requests.id"],
            name=op.f("fk_rights_identifiers_request_id_rights_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rights_identifiers")),
    )
    op.create_index(
        op.f("ix_rights_identifiers_request_id"), "rights_identifiers", ["request_id"], unique=False
    )

    op.create_table(
        "rights_subjects",
        sa.Column("id", _SEQ, autoincrement=True, nullable=False),
        sa.Column("request_id", sa.String(length=32), nullable=False),
        sa.Column("customer_id", sa.String(length=32), nullable=False),
        sa.Column("identifier_id", sa.String(length=32), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["identifier_id"],
            ["rights_identifiers.id"],
            name=op.f("fk_rights_subjects_identifier_id_rights_identifiers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["rights_requests.id"],
            name=op.f("fk_rights_subjects_request_id_rights_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rights_subjects")),
    )
    op.create_index(op.f("ix_rights_subjects_customer_id"), "rights_subjects", ["customer_id"], unique=False)
    op.create_index(
        "ix_rights_subjects_request", "rights_subjects", ["request_id", "customer_id"], unique=True
    )

    op.create_table(
        "rights_events",
        sa.Column("seq", _SEQ, autoincrement=True, nullable=False),
        sa.Column("request_id", sa.String(length=32), nullable=False),
        sa.Column("event", sa.String(length=32), nullable=False),
        sa.Column("actor", sa.String(length=80), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rule_ids", sa.String(length=120), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["rights_requests.id"],
            name=op.f("fk_rights_events_request_id_rights_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_rights_events")),
    )
    op.create_index("ix_rights_events_request", "rights_events", ["request_id", "seq"], unique=False)

    op.create_table(
        "rights_attempts",
        sa.Column("id", _SEQ, autoincrement=True, nullable=False),
        sa.Column("key_digest", sa.LargeBinary(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rights_attempts")),
    )
    op.create_index("ix_rights_attempts_key_at", "rights_attempts", ["key_digest", "at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_rights_attempts_key_at", table_name="rights_attempts")
    op.drop_table("rights_attempts")
    op.drop_index("ix_rights_events_request", table_name="rights_events")
    op.drop_table("rights_events")
    op.drop_index("ix_rights_subjects_request", table_name="rights_subjects")
    op.drop_index(op.f("ix_rights_subjects_customer_id"), table_name="rights_subjects")
    op.drop_table("rights_subjects")
    op.drop_index(op.f("ix_rights_identifiers_request_id"), table_name="rights_identifiers")
    op.drop_table("rights_identifiers")
    op.drop_index("ix_rights_requests_open_due", table_name="rights_requests")
    op.drop_table("rights_requests")
