"""A request filed in the privacy center records the notice version shown before submission (R-21-2); answer delivery

Revision ID: 0021
Revises: 0020
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("rights_requests") as batch:
        batch.add_column(sa.Column("notice_version", sa.Integer(), nullable=True))
        # The answer's delivery: the request closes when the answer e-mail is delivered or the letter posted.
        batch.add_column(sa.Column("answer_state", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("answer_message_id", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("answer_enc", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("rights_requests") as batch:
        batch.drop_column("answer_enc")
        batch.drop_column("answered_at")
        batch.drop_column("answer_message_id")
        batch.drop_column("answer_state")
        batch.drop_column("notice_version")
