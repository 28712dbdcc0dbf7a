"""E-mail campaign measurement (issue 24 item 4, brief T): a campaign's ``tracking`` option and the links of its body;
each send's ``tracked`` flag, the digest of its tracking token, the first open and first click times and the
click count. Existing campaigns and sends were not tracked: ``none`` / false / 0.

Revision ID: 0030
Revises: 0029
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0030"
down_revision: str | None = "0029"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("contact_campaigns") as batch:
        batch.add_column(sa.Column("tracking", sa.String(length=16), nullable=False, server_default="none"))
        batch.add_column(sa.Column("links", sa.Text(), nullable=True))
    with op.batch_alter_table("contact_sends") as batch:
        batch.add_column(sa.Column("tracked", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("track_digest", sa.LargeBinary(length=32), nullable=True))
        batch.add_column(sa.Column("opened_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("clicked_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("clicks", sa.Integer(), nullable=False, server_default=sa.text("0")))
        batch.create_unique_constraint(op.f("uq_contact_sends_track_digest"), ["track_digest"])


def downgrade() -> None:
    with op.batch_alter_table("contact_sends") as batch:
        batch.drop_constraint(op.f("uq_contact_sends_track_digest"), type_="unique")
        batch.drop_column("clicks")
        batch.drop_column("clicked_at")
        batch.drop_column("opened_at")
        batch.drop_column("track_digest")
        batch.drop_column("tracked")
    with op.batch_alter_table("contact_campaigns") as batch:
        batch.drop_column("links")
        batch.drop_column("tracking")
