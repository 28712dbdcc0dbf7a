"""The customer's and the staff's lifecycle (issue 21): training courses, completions, pledges and the training
policy (R-23-3); a customer's last confirmation and the end of the relationship (R-22-1); retention rules, legal
holds, disposal records and handovers (the lifecycle slice); the scheduler's job runs.

Existing customers count as confirmed when they were created (the data was taken from them then).

Revision ID: 0024
Revises: 0023
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "job_runs",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("job", sa.String(length=64), nullable=False),
        sa.Column("slot", sa.String(length=32), nullable=False),
        sa.Column("worker", sa.String(length=80), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("result", sa.Text(), nullable=True),
        sa.Column("error", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_runs")),
        sa.UniqueConstraint("job", "slot", name=op.f("uq_job_runs_job")),
    )
    with op.batch_alter_table("job_runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_job_runs_job"), ["job"], unique=False)

    op.create_table(
        "lifecycle_disposals",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("ran_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ran_by", sa.String(length=80), nullable=False),
        sa.Column("trigger", sa.String(length=16), nullable=False),
        sa.Column("method", sa.String(length=32), nullable=False),
        sa.Column("persons", sa.Integer(), nullable=False),
        sa.Column("counts", sa.Text(), nullable=False),
        sa.Column("held", sa.Text(), nullable=False),
        sa.Column("rules", sa.Text(), nullable=False),
        sa.Column("plan_sha256", sa.String(length=64), nullable=False),
        sa.Column("job_run_id", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lifecycle_disposals")),
    )
    op.create_table(
        "lifecycle_retention_rules",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("purpose_code", sa.String(length=64), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("period_days", sa.Integer(), nullable=False),
        sa.Column("basis", sa.String(length=16), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("retired_by", sa.String(length=80), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lifecycle_retention_rules")),
    )
    op.create_table(
        "staff_pledge_versions",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_by", sa.String(length=80), nullable=True),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_staff_pledge_versions")),
    )
    op.create_table(
        "staff_training_courses",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("validity_days", sa.Integer(), nullable=False),
        sa.Column("required", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=True),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_training_courses")),
        sa.UniqueConstraint("code", name=op.f("uq_staff_training_courses_code")),
    )
    op.create_table(
        "staff_training_policy",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("enforced", sa.Boolean(), nullable=False),
        sa.Column("roles", sa.String(length=200), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=80), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_training_policy")),
    )
    op.create_table(
        "lifecycle_handovers",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("from_user", sa.String(length=32), nullable=False),
        sa.Column("to_user", sa.String(length=32), nullable=False),
        sa.Column("customers", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("by", sa.String(length=80), nullable=False),
        sa.Column("campaign_id", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["from_user"], ["staff_users.id"], name=op.f("fk_lifecycle_handovers_from_user_staff_users")
        ),
        sa.ForeignKeyConstraint(
            ["to_user"], ["staff_users.id"], name=op.f("fk_lifecycle_handovers_to_user_staff_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lifecycle_handovers")),
    )
    with op.batch_alter_table("lifecycle_handovers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_lifecycle_handovers_from_user"), ["from_user"], unique=False)
        batch_op.create_index(batch_op.f("ix_lifecycle_handovers_to_user"), ["to_user"], unique=False)

    op.create_table(
        "lifecycle_handover_customers",
        sa.Column("handover_id", sa.String(length=32), nullable=False),
        sa.Column("customer_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_lifecycle_handover_customers_customer_id_customers"),
        ),
        sa.ForeignKeyConstraint(
            ["handover_id"],
            ["lifecycle_handovers.id"],
            name=op.f("fk_lifecycle_handover_customers_handover_id_lifecycle_handovers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("handover_id", "customer_id", name=op.f("pk_lifecycle_handover_customers")),
    )
    with op.batch_alter_table("lifecycle_handover_customers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_lifecycle_handover_customers_customer_id"), ["customer_id"], unique=False
        )

    op.create_table(
        "staff_pledges",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(length=80), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["staff_users.id"], name=op.f("fk_staff_pledges_user_id_staff_users")
        ),
        sa.ForeignKeyConstraint(
            ["version"],
            ["staff_pledge_versions.version"],
            name=op.f("fk_staff_pledges_version_staff_pledge_versions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_pledges")),
        sa.UniqueConstraint("user_id", "version", name=op.f("uq_staff_pledges_user_id")),
    )
    with op.batch_alter_table("staff_pledges", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_staff_pledges_user_id"), ["user_id"], unique=False)

    op.create_table(
        "staff_training_completions",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("course_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(length=80), nullable=True),
        sa.Column("reference", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["staff_training_courses.id"],
            name=op.f("fk_staff_training_completions_course_id_staff_training_courses"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["staff_users.id"], name=op.f("fk_staff_training_completions_user_id_staff_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_training_completions")),
    )
    with op.batch_alter_table("staff_training_completions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_staff_training_completions_user_course", ["user_id", "course_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_staff_training_completions_user_id"), ["user_id"], unique=False)

    op.create_table(
        "lifecycle_legal_holds",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("customer_id", sa.String(length=32), nullable=False),
        sa.Column("reason_code", sa.String(length=32), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=True),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("set_by", sa.String(length=80), nullable=False),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("released_by", sa.String(length=80), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_lifecycle_legal_holds_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lifecycle_legal_holds")),
    )
    with op.batch_alter_table("lifecycle_legal_holds", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_lifecycle_legal_holds_customer_id"), ["customer_id"], unique=False
        )

    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("relationship_ended_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(sa.text("UPDATE customers SET confirmed_at = created_at WHERE confirmed_at IS NULL"))


def downgrade() -> None:
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_column("relationship_ended_at")
        batch_op.drop_column("confirmed_at")

    with op.batch_alter_table("lifecycle_legal_holds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lifecycle_legal_holds_customer_id"))

    op.drop_table("lifecycle_legal_holds")
    with op.batch_alter_table("staff_training_completions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_training_completions_user_id"))
        batch_op.drop_index("ix_staff_training_completions_user_course")

    op.drop_table("staff_training_completions")
    with op.batch_alter_table("staff_pledges", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_pledges_user_id"))

    op.drop_table("staff_pledges")
    with op.batch_alter_table("lifecycle_handovers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lifecycle_handovers_to_user"))
        batch_op.drop_index(batch_op.f("ix_lifecycle_handovers_from_user"))

    op.drop_table("lifecycle_handover_customers")
    op.drop_table("lifecycle_handovers")
    op.drop_table("staff_training_policy")
    op.drop_table("staff_training_courses")
    op.drop_table("staff_pledge_versions")
    op.drop_table("lifecycle_retention_rules")
    op.drop_table("lifecycle_disposals")
    with op.batch_alter_table("job_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_job_runs_job"))

    op.drop_table("job_runs")
