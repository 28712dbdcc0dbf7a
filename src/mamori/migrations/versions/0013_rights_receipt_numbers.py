"""Readable receipt numbers for requests from the person (R-2026-000123)

rights_requests.receipt_no: the 受付番号 read out on the phone and printed on every letter and e-mail instead of
the 32-hex id — ``R-<year of receipt in JST>-<6-digit sequence per year>``, unique. Existing requests are numbered
in the order they were received. rights_requests.lang: the language the person made the request in (ja / en),
which the letters and e-mails to them use.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JST = timezone(timedelta(hours=9))


def _jst_year(value: object) -> int:
    if isinstance(value, str):  # SQLite returns the stored text
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)  # stored as UTC (kernel.db.UtcDateTime)
    return value.astimezone(_JST).year


def upgrade() -> None:
    with op.batch_alter_table("rights_requests") as batch:
        batch.add_column(sa.Column("receipt_no", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("lang", sa.String(length=2), server_default="ja", nullable=False))
    bind = op.get_bind()
    requests = sa.table(
        "rights_requests",
        sa.column("id", sa.String),
        sa.column("received_at", sa.DateTime),
        sa.column("receipt_no", sa.String),
    )
    rows = bind.execute(
        sa.select(requests.c.id, requests.c.received_at).order_by(requests.c.received_at, requests.c.id)
    ).all()
    seq: dict[int, int] = {}
    for request_id, received_at in rows:
        year = _jst_year(received_at)
        seq[year] = seq.get(year, 0) + 1
        bind.execute(
            requests.update()
            .where(requests.c.id == request_id)
            .values(receipt_no=f"R-{year}-{seq[year]:06d}")
        )
    with op.batch_alter_table("rights_requests") as batch:
        batch.alter_column("receipt_no", existing_type=sa.String(length=16), nullable=False)
        batch.create_unique_constraint("uq_rights_requests_receipt_no", ["receipt_no"])


def downgrade() -> None:
    with op.batch_alter_table("rights_requests") as batch:
        batch.drop_constraint("uq_rights_requests_receipt_no", type_="unique")
        batch.drop_column("lang")
        batch.drop_column("receipt_no")
