"""Activities carry the data category of their text: 要配慮 notes are stored as "sensitive" (R-2.3-1, R-20-2)

Revision ID: 0018
Revises: 0017
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # "sensitive" when the text scanner found 要配慮 in the note, else "behaviour". Rows written before this
    # revision stay NULL (their text is sealed; the service classifies them when it reads them).
    with op.batch_alter_table("activities") as batch:
        batch.add_column(sa.Column("category", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("activities") as batch:
        batch.drop_column("category")
