"""purpose versions notified per person, notice exceptions (R-17-2, R-21-3)

Also the GDPR lawful basis of each purpose version (G-6). Existing versions get ``consent`` where
``consent_gdpr`` was set and ``contract`` otherwise, except third-party purposes, which get none (a GDPR
subject's data is then refused for them until a privacy officer revises the purpose with its basis).

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("purpose_versions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lawful_basis", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("balancing_ref", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("art9_condition", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("art10", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("purpose_versions", schema=None) as batch_op:
        batch_op.alter_column("art10", server_default=None)
    versions = sa.table(
        "purpose_versions",
        sa.column("lawful_basis", sa.String),
        sa.column("consent_gdpr", sa.Boolean),
        sa.column("third_party", sa.Boolean),
    )
    op.execute(versions.update().where(versions.c.consent_gdpr == sa.true()).values(lawful_basis="consent"))
    op.execute(
        versions.update()
        .where(versions.c.consent_gdpr == sa.false(), versions.c.third_party == sa.false())
        .values(lawful_basis="contract")
    )
    with op.batch_alter_table("customer_purposes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("exception_ground", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("exception_by", sa.String(length=80), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("customer_purposes", schema=None) as batch_op:
        batch_op.drop_column("exception_by")
        batch_op.drop_column("exception_ground")
    with op.batch_alter_table("purpose_versions", schema=None) as batch_op:
        batch_op.drop_column("art10")
        batch_op.drop_column("art9_condition")
        batch_op.drop_column("balancing_ref")
        batch_op.drop_column("lawful_basis")
