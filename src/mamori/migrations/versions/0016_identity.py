"""identity (issue 17): staff account kinds (person / service), sessions that remember whether a second factor
was checked and which client opened them (web / api / cli), a counter of sign-in failures not charged to an account

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # "person": a staff member who signs in; "service": a machine client (no password, no interactive sign-in,
    # acts only through the API tokens an administrator issues it). Existing accounts are people.
    # Plain ADD COLUMN (constant defaults), never a batch "recreate": on SQLite re-creating staff_users would drop
    # the table under foreign_keys=ON and cascade-delete every session, token and enrolment that refers to it.
    op.add_column(
        "staff_users",
        sa.Column("kind", sa.String(length=16), nullable=False, server_default=sa.text("'person'")),
    )
    # A session opened before this revision is not known to have checked a TOTP code: mfa false (such a
    # session cannot create API tokens; signing in again gives one that can).
    op.add_column("staff_sessions", sa.Column("mfa", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column(
        "staff_sessions",
        sa.Column("channel", sa.String(length=8), nullable=False, server_default=sa.text("'web'")),
    )
    # A failed sign-in that is not charged to an account (unknown user name, disabled or locked account) is written
    # here — the time only, never the name — so that every failure does the same database work (equal timing).
    op.create_table(
        "staff_sign_in_misses",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_sign_in_misses")),
    )
    with op.batch_alter_table("staff_sign_in_misses", schema=None) as batch_op:
        batch_op.create_index("ix_staff_sign_in_misses_at", ["at"], unique=False)

    # A live token that someone other than its owner created (an administrator minting one for another user,
    # which is no longer possible) would keep acting as that user: revoke it. Its owner makes a new one.
    tokens = sa.table(
        "staff_api_tokens",
        sa.column("staff_id", sa.String),
        sa.column("created_by", sa.String),
        sa.column("revoked_at", sa.DateTime(timezone=True)),
    )
    op.execute(
        tokens.update()
        .where(
            tokens.c.revoked_at.is_(None),
            tokens.c.created_by != sa.literal("staff:") + tokens.c.staff_id,
            tokens.c.created_by != sa.literal("outsourcee:") + tokens.c.staff_id,
        )
        .values(revoked_at=datetime.now(UTC))
    )


def downgrade() -> None:
    with op.batch_alter_table("staff_sign_in_misses", schema=None) as batch_op:
        batch_op.drop_index("ix_staff_sign_in_misses_at")
    op.drop_table("staff_sign_in_misses")
    # ALTER TABLE … DROP COLUMN (SQLite ≥ 3.35, PostgreSQL): no table re-creation, so no cascade (see upgrade)
    for table, column in (("staff_sessions", "channel"), ("staff_sessions", "mfa"), ("staff_users", "kind")):
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
