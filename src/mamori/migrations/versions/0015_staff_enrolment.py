"""staff: first-sign-in TOTP enrolment in progress (ticket hash, sealed pending secret, 10-minute expiry)

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The pending TOTP secret is sealed under the staff member's data key (subject staff:<id>); the ticket the
    # enrolment form carries is kept as its SHA-256, like a session token.
    op.create_table(
        "staff_totp_enrolments",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("ticket_hash", sa.String(length=64), nullable=False),
        sa.Column("staff_id", sa.String(length=32), nullable=False),
        sa.Column("secret_enc", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff_users.id"],
            name=op.f("fk_staff_totp_enrolments_staff_id_staff_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_totp_enrolments")),
        sa.UniqueConstraint("ticket_hash", name=op.f("uq_staff_totp_enrolments_ticket_hash")),
    )
    with op.batch_alter_table("staff_totp_enrolments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_staff_totp_enrolments_staff_id"), ["staff_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("staff_totp_enrolments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_totp_enrolments_staff_id"))
    op.drop_table("staff_totp_enrolments")
