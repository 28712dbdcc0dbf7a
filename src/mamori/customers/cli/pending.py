"""CLI: mamori customers pending list | show | approve | reject — the rows an import held for the privacy officer
(issue 19, seed 001 case 3: the purposes notified to the person do not cover the import's, R-21-1).

Registered on the customers Typer app when mamori.customers.cli is imported."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer
from rich.table import Table

from mamori.customers.cli import app
from mamori.customers.pending_words import APPROVE_METHODS, REJECT_REASONS, choices, word
from mamori.kernel import labels
from mamori.kernel.cli_support import cli_command, console, lazy, print_json, state

# Imported by the commands that use them, not at start-up (issue 16; see kernel/cli_support.py).
if TYPE_CHECKING:
    from mamori.customers.service import import_pending
else:
    import_pending = lazy("mamori.customers.service.import_pending")

pending_app = typer.Typer(
    help="取り込み待ちの行（通知した利用目的が足りない行、R-21-1） / rows an import held for approval",
    no_args_is_help=True,
)
app.add_typer(pending_app, name="pending")


def _purposes(codes: list[str]) -> str:
    return ", ".join(codes) or "—"


@pending_app.command("list")
@cli_command
def list_(
    ctx: typer.Context,
    job: str | None = typer.Option(None, "--job", help="取り込みジョブID / import job id"),
    status: str = typer.Option(
        "pending", "--status", help="状態: pending / approved / rejected / all（既定: pending）"
    ),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """取り込み待ちの行の一覧（値は表示しません） / held rows, without any value."""
    st = state(ctx)
    with st.transaction() as c:
        items = import_pending.list_pending(c, status=status, job_id=job)
    if json_out:
        print_json([i.model_dump(mode="json") for i in items])
        return
    lang = st.lang
    by_job: dict[str, list[import_pending.PendingItem]] = {}
    for i in items:
        by_job.setdefault(i.job_id, []).append(i)
    for job_id, rows in by_job.items():
        console.print(st.t(f"取り込みジョブ {job_id}", f"import job {job_id}"), markup=False)
        table = Table(
            "ID",
            st.t("行", "Line"),
            st.t("状態", "Status"),
            st.t("理由", "Reason"),
            st.t("利用目的（取り込み / 通知済み）", "Purposes (import / notified)"),
        )
        for i in rows:
            table.add_row(
                i.id,
                str(i.line),
                word("status", i.status, lang),
                word("hold_reason", i.reason, lang) + (f" [{i.rule_id}]" if i.rule_id else ""),
                f"{_purposes(i.purposes)} / {_purposes(i.notified)}",
            )
        console.print(table)
    console.print(st.t(f"{len(items)}行", f"{len(items)} row(s)"), markup=False)


@pending_app.command("show")
@cli_command
def show(
    ctx: typer.Context,
    pending_id: str = typer.Argument(..., help="取り込み待ちの行のID / held row id"),
    purpose: str = typer.Option(
        ..., "--purpose", "-p", help="今回の利用の 利用目的のコード （必須） / the purpose of this use"
    ),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """取り込み待ちの行を利用目的を指定して開く（個人情報保護管理者のみ・記録されます） / open one held row."""
    st = state(ctx)
    with st.transaction(purpose) as c:
        row = import_pending.show(c, pending_id)
    if json_out:
        print_json(row.model_dump(mode="json"))
        return
    lang = st.lang
    mask = "●●●"

    def shown(field: str, text: str | None) -> str:
        return mask if field in row.masked else (text or "—")

    table = Table(st.t("項目", "Item"), st.t("値", "Value"))
    for field in ("name", "kana", "postal_code", "address", "occupation", "employer", "gender"):
        value = getattr(row, field)
        table.add_row(labels.label(f"field.{field}", lang), shown(field, value))
    born = None if row.birth_date is None else labels.fmt_birth_date(row.birth_date, lang)
    table.add_row(labels.label("field.birth_date", lang), shown("birth_date", born))
    table.add_row(
        labels.label("customer_field.phones", lang),
        shown("phones", ", ".join(labels.fmt_phone(p, lang) for p in row.phones)),
    )
    table.add_row(labels.label("customer_field.emails", lang), shown("emails", ", ".join(row.emails)))
    if row.external_id is not None or "external_id" in row.masked:
        table.add_row(st.t("顧客番号", "Customer number"), shown("external_id", row.external_id))
    for a in row.attributes:
        table.add_row(a.key, mask if a.value is None else a.value)
    console.print(table)
    console.print(
        st.t(
            f"{row.job_id} の{row.line}行目 / {word('hold_reason', row.reason, lang)}"
            f" / 取り込みの利用目的 {_purposes(row.purposes)}、通知済み {_purposes(row.notified)}",
            f"line {row.line} of {row.job_id} / {word('hold_reason', row.reason, lang)}"
            f" / import's purposes {_purposes(row.purposes)}, notified {_purposes(row.notified)}",
        ),
        markup=False,
    )


@pending_app.command("approve")
@cli_command
def approve(
    ctx: typer.Context,
    pending_id: str = typer.Argument(..., help="取り込み待ちの行のID / held row id"),
    notified_confirmed: bool = typer.Option(
        False,
        "--notified-confirmed",
        help="取り込みの利用目的を本人に通知（または公表）したことを確認した（必須、R-21-1）",
    ),
    method: str = typer.Option(
        "notified", "--method", help="通知の方法: " + choices("method", APPROVE_METHODS)
    ),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """取り込み待ちの行を承認して顧客として登録する（個人情報保護管理者のみ） / approve: write it as a customer."""
    st = state(ctx)
    with st.transaction() as c:
        customer_id = import_pending.approve(
            c,
            pending_id,
            notified_confirmed=notified_confirmed,
            method=method,  # type: ignore[arg-type]  # checked by the service
        )
    if json_out:
        print_json({"pending_id": pending_id, "status": "approved", "customer_id": customer_id})
        return
    console.print(
        st.t(
            f"承認しました: 顧客 {customer_id} を登録し、保留していたデータを破棄しました",
            f"approved: customer {customer_id} added; the held data was destroyed",
        ),
        markup=False,
    )


@pending_app.command("reject")
@cli_command
def reject(
    ctx: typer.Context,
    pending_id: str = typer.Argument(..., help="取り込み待ちの行のID / held row id"),
    reason: str = typer.Option(
        ..., "--reason", help="却下の理由: " + choices("reject_reason", REJECT_REASONS)
    ),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """取り込み待ちの行を却下してデータを破棄する（個人情報保護管理者のみ） / reject: destroy the held data."""
    st = state(ctx)
    with st.transaction() as c:
        import_pending.reject(c, pending_id, reason)
    if json_out:
        print_json({"pending_id": pending_id, "status": "rejected", "reason": reason})
        return
    console.print(
        st.t(
            f"却下しました（{word('reject_reason', reason, st.lang)}）。保留していたデータを破棄しました",
            f"rejected ({word('reject_reason', reason, st.lang)}); the held data was destroyed",
        ),
        markup=False,
    )
