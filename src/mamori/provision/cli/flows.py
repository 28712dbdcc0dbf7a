"""mamori provide, provision records … and receive: provision and receipt records (R-29-1, R-30-1)."""

from __future__ import annotations

import io
import json
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from mamori.kernel import files, labels
from mamori.kernel.cli_support import cli_command, console, err_console, lazy, print_json, state
from mamori.provision.cli.common import JSON_OPT, _csv_list, app, header, print_fields, records_app

# Imported by the commands that use them, not at start-up (issue 16; see kernel/cli_support.py).
if TYPE_CHECKING:
    from mamori.customers.service import importing
    from mamori.provision import jobs, schemas, service
else:
    importing = lazy("mamori.customers.service.importing")
    jobs = lazy("mamori.provision.jobs")
    schemas = lazy("mamori.provision.schemas")
    service = lazy("mamori.provision.service")


def _opts(domain: str, codes: tuple[str, ...] | list[str]) -> str:
    """The allowed codes of an option with their words for --help: 「direct（本人から直接取得） / …」 (spaced, so the
    help panel can wrap it)."""
    return labels.choices(domain, codes).replace("、", " / ")


# --- provide ----------------------------------------------------------------------------------------------


def _export_text(rows: list[dict[str, str | None]], fields: list[str], fmt: str) -> str:
    """The export as text: CSV cells a spreadsheet would run as a formula get a leading ``'`` (kernel.files)."""
    if fmt == "csv":
        buf = io.StringIO()
        writer = files.csv_dict_writer(buf, ["customer_id", *fields], lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        return buf.getvalue()
    return json.dumps(rows, ensure_ascii=False, indent=2) + "\n"


def _write_out(
    path: Path, rows: list[dict[str, str | None]], fields: list[str], fmt: str, *, force: bool = False
) -> None:
    """Write the export readable by the owner only (it holds personal data), by kernel.files' rules."""
    files.write_output(path, _export_text(rows, fields, fmt), force=force)


@cli_command
def provide(
    ctx: typer.Context,
    counterparty_id: str = typer.Option(..., "--to", help="提供先ID"),
    purpose: str = typer.Option(..., "--purpose", "-p", help="今回の提供の利用目的のコード"),
    fields: list[str] = typer.Option(..., "--field", "-f", help="提供する項目（name, email, attr:key …）"),
    customer_ids: list[str] = typer.Option([], "--customer", "-c", help="顧客ID（複数可）"),
    notified_purpose: str | None = typer.Option(None, "--notified", help="この利用目的を通知した顧客すべて"),
    basis: str = typer.Option(
        "consent",
        help="提供の根拠: "
        + _opts(
            "provision_basis", ("consent", "exception", "opt_out", "joint_use", "entrustment", "succession")
        ),
    ),
    exception_code: str | None = typer.Option(
        None,
        "--exception",
        help="法第27条第1項の例外: "
        + _opts("provision_exception", ("law", "life", "public_health", "state")),
    ),
    decided_by: str | None = typer.Option(None, "--decided-by"),
    reason: str | None = typer.Option(None, "--reason", help="判断理由（個人情報を書かない）"),
    filing: str | None = typer.Option(None, "--filing", help="オプトアウト届出ID"),
    joint: str | None = typer.Option(None, "--joint-use", help="共同利用ID"),
    continuous: bool = typer.Option(False, "--continuous", help="継続的提供（一括記録, R-29-1）"),
    contract_record: bool = typer.Option(False, "--contract-record", help="契約書等を記録とする（保存1年）"),
    skip_refused: bool = typer.Option(False, "--skip-refused", help="提供できない人を除いて提供する"),
    out: Path | None = typer.Option(None, "--out", help="出力ファイル（.csv / .json）"),
    fmt: str | None = typer.Option(None, "--format", help="csv / json（省略時は --out の拡張子）"),
    force: bool = typer.Option(
        False, "--force", help="既存の出力ファイルを置き換える / replace an existing file"
    ),
    json_out: bool = JSON_OPT,
) -> None:
    """第三者に提供する（本人ごとに根拠を確認し、記録を作成） / provide data to a counterparty."""
    st = state(ctx)
    out_format = fmt or (out.suffix.lstrip(".").lower() if out and out.suffix else "json")
    exception = None
    if exception_code is not None:
        exception = {"code": exception_code, "decided_by": decided_by or "", "reason": reason or ""}
    data = schemas.ProvideIn.model_validate(
        {
            "counterparty_id": counterparty_id,
            "purpose": purpose,
            "fields": _csv_list(fields),
            "customer_ids": customer_ids or None,
            "notified_purpose": notified_purpose,
            "basis": basis,
            "exception": exception,
            "opt_out_filing_id": filing,
            "joint_use_id": joint,
            "continuous": continuous,
            "medium": "contract" if contract_record else "system",
            "skip_refused": skip_refused,
            "out_format": out_format,
        }
    )
    # The export is written to a private temporary file inside the transaction (a write error rolls the provision
    # and its records back) and published only after the commit: a file never exists without its record. The file
    # is never written through a link, nor over an existing one without --force (kernel.files).
    # The file is opened only after the service has decided (a refusal is the refusal, not a file error); an
    # existing file is refused there, which rolls the provision and its records back.
    try:
        with ExitStack() as publish_after_commit:
            with st.transaction() as c:
                result = service.provide(c, data)
                if out is not None:
                    fh = publish_after_commit.enter_context(files.output_file(out, force=force, newline=""))
                    fh.write(_export_text(result.rows, result.fields, data.out_format))
    except service.ProvisionRefused as exc:
        for r in exc.refusals:
            err_console.print(
                f"{r.customer_id} [{r.rule_id}] {r.reason}", markup=False, highlight=False, soft_wrap=True
            )
        prefix = "エラー" if st.lang != "en" else "error"
        summary = exc.summary_en if st.lang == "en" else exc.summary_ja
        err_console.print(
            f"{prefix} ({exc.code}) [{exc.rule_id}]: {summary}", markup=False, highlight=False, soft_wrap=True
        )
        raise typer.Exit(exc.exit_code) from None
    for r in result.refused:
        err_console.print(
            st.t(
                f"除外: {r.customer_id} [{r.rule_id}] {r.reason}",
                f"skipped: {r.customer_id} [{r.rule_id}] {r.reason}",
            ),
            markup=False,
            highlight=False,
        )
    if json_out:
        print_json(result.model_dump(exclude={"rows"}) if out is not None else result)
        return
    console.print(
        st.t(
            f"{result.provided}人分を提供しました（第三者提供記録 {len(result.record_ids)}件）",
            f"provided {labels.fmt_count(result.provided, '人', 'en')} "
            f"({labels.fmt_count(len(result.record_ids), '件', 'en')})",
        )
    )


app.command("provide")(provide)


@app.command("mark-improper")
@cli_command
def mark_improper(
    ctx: typer.Context,
    customer_id: str,
    reference: str = typer.Option(..., help="調査記録の参照"),
    json_out: bool = JSON_OPT,
) -> None:
    """不正取得の疑いがあるデータとして印を付ける（オプトアウト提供不可, R-27-5） / mark improperly acquired."""
    st = state(ctx)
    with st.transaction() as c:
        service.mark_improper(c, customer_id, reference)
    print_json({"customer_id": customer_id, "flag": "improperly_acquired"}) if json_out else console.print(
        st.t(
            f"不正取得の疑いを記録しました: {customer_id}（オプトアウトによる提供の対象外）",
            f"marked as possibly improperly acquired: {customer_id} (excluded from opt-out provision)",
        )
    )


# --- records ----------------------------------------------------------------------------------------------


@records_app.command("list")
@cli_command
def records_list(
    ctx: typer.Context,
    counterparty_id: str | None = typer.Option(None, "--to"),
    customer_id: str | None = typer.Option(None, "--customer"),
    direction: str | None = typer.Option(
        None, help="提供・受領で絞り込む: " + _opts("record_direction", ("provided", "received"))
    ),
    json_out: bool = JSON_OPT,
) -> None:
    """提供・受領の記録 / list records."""
    st = state(ctx)
    with st.transaction() as c:
        items = service.list_records(
            c, counterparty_id=counterparty_id, customer_id=customer_id, direction=direction
        )
    if json_out:
        print_json(items)
        return
    table = Table("ID", *(header(st, k) for k in ("direction", "record_kind", "party", "retention_until")))
    for r in items:
        table.add_row(
            r.id,
            labels.value("record_direction", r.direction, st.lang),
            labels.value("provision_basis", r.kind, st.lang),
            r.counterparty_name,
            labels.fmt_date(r.retention_until, st.lang),
        )
    console.print(table)


@records_app.command("show")
@cli_command
def records_show(ctx: typer.Context, record_id: str, json_out: bool = JSON_OPT) -> None:
    """記録の詳細（本人を特定する情報を含む） / show one record."""
    st = state(ctx)
    with st.transaction() as c:
        r = service.show_record(c, record_id)
    if json_out:
        print_json(r)
        return
    print_fields(
        st,
        r.model_dump(),
        {
            "direction": "record_direction",
            "kind": "provision_basis",
            "exempt_code": "provision_exception",
            "medium": "record_medium",
        },
        {"kind": "record_kind"},
    )


@app.command("purge-expired")
@cli_command
def purge_expired(
    ctx: typer.Context,
    yes: bool = typer.Option(False, "--yes", help="実際に削除する（省略時は件数の確認のみ）"),
    json_out: bool = JSON_OPT,
) -> None:
    """保存期間（R-29-4）を過ぎた記録を削除（--yes がなければ確認のみ） / purge expired records (dry run without
    --yes)."""
    st = state(ctx)
    with st.transaction(system_ok=True) as c:
        got = service.purge_expired(c, apply=yes)
    if json_out:
        print_json(got)
    elif got.dry_run:
        console.print(
            st.t(
                f"保存期間を過ぎた第三者提供記録 {got.expired}件（--yes で削除します）",
                f"{got.expired} expired (run with --yes to delete)",
            )
        )
    else:
        console.print(
            st.t(f"削除 {got.purged}件 / 保存 {got.kept}件", f"purged {got.purged}, kept {got.kept}")
        )


# --- receive ----------------------------------------------------------------------------------------------


@app.command("receive")
@cli_command
def receive(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="CSV (UTF-8 / Shift_JIS)"),
    counterparty_id: str = typer.Option(..., "--from", help="提供元（登録済みの提供先ID, R-30-1）"),
    variant: str = typer.Option(
        ...,
        help="受領の根拠: "
        + _opts("provision_basis", ("opt_out", "consent", "referable", "non_operator", "succession")),
    ),
    identity: str = typer.Option(..., "--identity-confirmed-by", help="提供元の確認方法（R-30-1 (a)）"),
    acquisition: str = typer.Option(..., help="提供元の取得の経緯（R-30-1 (b)）"),
    lawful: bool = typer.Option(False, "--lawful", help="適正に取得されたことを確認した（R-20-1）"),
    ppc_published: bool = typer.Option(False, "--ppc-published", help="委員会の公表を確認（オプトアウト）"),
    consent_confirmed: bool = typer.Option(False, "--consent-confirmed"),
    prior_purposes: list[str] = typer.Option(
        [], "--prior-purpose", help="事業承継: 承継前の利用目的コード（複数可, R-18-2）"
    ),
    purposes: list[str] = typer.Option(
        ..., "--purpose", "-p", help="受領したデータの利用目的のコード（複数可）"
    ),
    mapping: list[str] = typer.Option([], "--map"),
    skip_bad_rows: bool = typer.Option(False, "--skip-bad-rows"),
    json_out: bool = JSON_OPT,
) -> None:
    """第三者から受領する（確認・記録つきの取込） / receive a file from a third party."""
    st = state(ctx)
    data = schemas.ReceiveIn.model_validate(
        {
            "counterparty_id": counterparty_id,
            "variant": variant,
            "identity_confirmed_by": identity,
            "acquisition": acquisition,
            "acquisition_lawful": lawful,
            "ppc_publication_confirmed": ppc_published,
            "consent_confirmed": consent_confirmed,
            "prior_purposes": prior_purposes,
        }
    )
    report, receipt = jobs.receive_file(
        st.runtime,
        st.actor(),
        file,
        data,
        purposes=purposes,
        mapping=importing.parse_mapping(mapping),
        skip_bad_rows=skip_bad_rows,
    )
    if json_out:
        print_json({"import": report.to_dict(st.lang), "receipt": receipt})
    else:
        for e in report.errors:
            err_console.print(e.text(st.lang), markup=False, soft_wrap=True)
        if receipt is not None:
            console.print(
                st.t(
                    f"受領しました: {receipt.person_count}人",
                    f"received {labels.fmt_count(receipt.person_count, '人', 'en')}",
                )
            )
    if receipt is None:
        raise typer.Exit(1)
