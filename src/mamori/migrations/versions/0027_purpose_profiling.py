"""Whether a purpose includes analysis / profiling (issue 24, R-17-1): the analytics slice analyses personal data
only under a purpose version whose notice says so. Existing versions say nothing of it: false.

Revision ID: 0027
Revises: 0026
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0027"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("purpose_versions") as batch:
        batch.add_column(sa.Column("profiling", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("purpose_versions") as batch:
        batch.drop_column("profiling")
