"""Refusals carry a concrete reason and APPI stop-use refusals the alternative measure (R-33-2, R-35-1; Art. 36)

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Sealed under the system key "rights_reasons": the concrete reason for a refusal (法第36条) and the
    # alternative measure taken instead of stopping use (法第35条 ただし書), kept as evidence of the decision.
    with op.batch_alter_table("rights_requests") as batch:
        batch.add_column(sa.Column("refusal_explanation_enc", sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column("alternative_measure_enc", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("rights_requests") as batch:
        batch.drop_column("alternative_measure_enc")
        batch.drop_column("refusal_explanation_enc")
