"""CLI: mamori provision … (and `mamori provide`). Thin: parse, open a Context, call the service, render."""

from __future__ import annotations

import csv
import io
import json
import os
from datetime import date, datetime, time
from pathlib import Path

import typer
from rich.table import Table

from mamori.customers.service.importing import parse_mapping
from mamori.kernel.cli_support import cli_command, console, err_console, print_json, state
from mamori.kernel.clock import JST
from mamori.provision import jobs, service
from mamori.provision.schemas import (
    CounterpartyIn,
    InfoSheetIn,
    JointUseChangeIn,
    JointUseIn,
    OptOutChangeIn,
    OptOutIn,
    ProvideIn,
    ProvisionConsentIn,
    ReceiveIn,
    ReferableConfirmIn,
    ReferableProvideIn,
    RelayConsentIn,
    RelayOpenIn,
    ReviewIn,
)
from mamori.provision.service import ProvisionRefused, joint_use, opt_out, referable, relay

app = typer.Typer(
    help="第三者提供・共同利用・越境移転 / third-party provision, joint use, cross-border",
    no_args_is_help=True,
)
counterparties_app = typer.Typer(help="提供先・提供元の登録 / counterparty registry", no_args_is_help=True)
consents_app = typer.Typer(help="第三者提供の同意 / provision consents", no_args_is_help=True)
records_app = typer.Typer(help="提供・受領の記録 / provision and receipt records", no_args_is_help=True)
joint_app = typer.Typer(help="共同利用 / joint use", no_args_is_help=True)
optout_app = typer.Typer(help="オプトアウト届出 / opt-out filings", no_args_is_help=True)
referable_app = typer.Typer(help="個人関連情報 / personally referable information", no_args_is_help=True)
relay_app = typer.Typer(help="連絡の取次 / relay instead of disclosure", no_args_is_help=True)
app.add_typer(counterparties_app, name="counterparties")
app.add_typer(consents_app, name="consents")
app.add_typer(records_app, name="records")
app.add_typer(joint_app, name="joint-use")
app.add_typer(optout_app, name="opt-out")
app.add_typer(referable_app, name="referable")
app.add_typer(relay_app, name="relay")

JSON_OPT = typer.Option(False, "--json")


def when(value: str | None, name: str) -> datetime | None:
    """ISO 8601 with an offset, or a date (midnight JST)."""
    if value is None:
        return None
    try:
        if len(value) == 10:
            return datetime.combine(date.fromisoformat(value), time(0), tzinfo=JST)
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{name}: ISO 8601 (YYYY-MM-DD or with an offset)") from None
    if parsed.tzinfo is None:
        raise typer.BadParameter(f"{name}: give a UTC offset (e.g. +09:00)")
    return parsed


def need(value: str | None, name: str) -> datetime:
    got = when(value, name)
    if got is None:
        raise typer.BadParameter(f"{name} is required")
    return got


def _csv_list(values: list[str]) -> list[str]:
    return [v.strip() for item in values for v in item.split(",") if v.strip()]


# --- counterparties ---------------------------------------------------------------------------------------


@counterparties_app.command("add")
@cli_command
def counterparty_add(
    ctx: typer.Context,
    kind: str = typer.Option(..., help="third_party / outsourcee / joint_user / succession"),
    name: str = typer.Option(..., help="名称"),
    address: str = typer.Option(..., help="住所"),
    representative: str = typer.Option(..., help="代表者"),
    country: str = typer.Option("JP", help="ISO 3166 alpha-2"),
    public_body: bool = typer.Option(False, "--public-body", help="国の機関・地方公共団体等（R-29-3）"),
    system_kind: str | None = typer.Option(None, "--system", help="基準適合体制: contract / cbpr（R-28-1）"),
    system_reference: str | None = typer.Option(None, "--system-reference"),
    reviewed: str | None = typer.Option(None, "--reviewed", help="基準適合体制の確認日"),
    json_out: bool = JSON_OPT,
) -> None:
    """提供先を登録する / register a counterparty."""
    st = state(ctx)
    data = CounterpartyIn.model_validate(
        {
            "kind": kind,
            "name": name,
            "address": address,
            "representative": representative,
            "country": country,
            "public_body": public_body,
            "system_kind": system_kind,
            "system_reference": system_reference,
            "system_reviewed_at": when(reviewed, "--reviewed"),
        }
    )
    with st.transaction() as c:
        cp = service.add_counterparty(c, data)
    print_json(cp) if json_out else console.print(st.t(f"登録しました: {cp.id}", f"registered: {cp.id}"))


@counterparties_app.command("list")
@cli_command
def counterparty_list(
    ctx: typer.Context,
    kind: str | None = typer.Option(None, help="種別で絞り込む"),
    json_out: bool = JSON_OPT,
) -> None:
    """提供先の一覧（年次確認の期限切れなどの警告つき） / list counterparties with alerts."""
    st = state(ctx)
    with st.transaction() as c:
        items = service.list_counterparties(c, kind)
    if json_out:
        print_json(items)
        return
    table = Table(
        "id", st.t("種別", "kind"), st.t("名称", "name"), st.t("国", "country"), st.t("警告", "alerts")
    )
    for cp in items:
        table.add_row(cp.id, cp.kind, cp.name, cp.country, "; ".join(cp.alerts) or "-")
    console.print(table)
    for cp in items:
        for alert in cp.alerts:
            err_console.print(f"⚠ {cp.id}: {alert}", markup=False)


@counterparties_app.command("show")
@cli_command
def counterparty_show(ctx: typer.Context, counterparty_id: str, json_out: bool = JSON_OPT) -> None:
    """提供先の詳細 / show a counterparty."""
    st = state(ctx)
    with st.transaction() as c:
        cp = service.get_counterparty(c, counterparty_id)
        sheets = service.sheets(c, counterparty_id)
    if json_out:
        print_json({"counterparty": cp, "sheets": sheets})
        return
    for k, v in cp.model_dump().items():
        console.print(f"{k}: {v}", markup=False)


@counterparties_app.command("sheet")
@cli_command
def counterparty_sheet(
    ctx: typer.Context,
    counterparty_id: str,
    protection_system: str = typer.Option(..., "--system-info", help="外国の個人情報保護制度（R-28-2）"),
    recipient_measures: str = typer.Option(..., "--measures", help="提供先が講ずる措置（R-28-2）"),
    json_out: bool = JSON_OPT,
) -> None:
    """外国の制度等の情報（新しい版） / a new version of the R-28-2 information sheet."""
    st = state(ctx)
    data = InfoSheetIn(protection_system=protection_system, recipient_measures=recipient_measures)
    with st.transaction() as c:
        sheet = service.add_sheet(c, counterparty_id, data)
    print_json(sheet) if json_out else console.print(st.t(f"第{sheet.version}版", f"version {sheet.version}"))


@counterparties_app.command("review")
@cli_command
def counterparty_review(
    ctx: typer.Context,
    counterparty_id: str,
    reviewed: str | None = typer.Option(None, "--reviewed", help="確認日（省略時は今）"),
    next_due: str | None = typer.Option(None, "--next-due", help="次回確認期限（1年以内）"),
    failed: bool = typer.Option(False, "--failed", help="継続が困難: 提供を停止する（R-28-3）"),
    json_out: bool = JSON_OPT,
) -> None:
    """基準適合体制の年次確認を記録 / record the yearly review (R-28-3)."""
    st = state(ctx)
    data = ReviewIn(
        reviewed_at=when(reviewed, "--reviewed"), next_due=when(next_due, "--next-due"), ok=not failed
    )
    with st.transaction() as c:
        cp = service.review(c, counterparty_id, data)
    print_json(cp) if json_out else console.print(
        st.t(f"次回確認期限: {cp.system_review_due}", f"next review due: {cp.system_review_due}")
    )


# --- consents ---------------------------------------------------------------------------------------------


@consents_app.command("grant")
@cli_command
def consent_grant(
    ctx: typer.Context,
    customer_id: str,
    counterparty_id: str = typer.Option(..., "--to"),
    purpose: str = typer.Option(..., "--purpose", "-p"),
    method: str = typer.Option("oral", help="checkbox / button / email / oral / paper / web_form"),
    evidence: str | None = typer.Option(None, help="証跡の参照（個人情報を書かない）"),
    sheet_version: int | None = typer.Option(
        None, "--sheet-version", help="本人に示した情報の版（外国, R-28-2）"
    ),
    json_out: bool = JSON_OPT,
) -> None:
    """第三者提供の同意を記録 / record consent to provision."""
    st = state(ctx)
    data = ProvisionConsentIn.model_validate(
        {
            "customer_id": customer_id,
            "counterparty_id": counterparty_id,
            "purpose": purpose,
            "method": method,
            "evidence": evidence,
            "sheet_version": sheet_version,
        }
    )
    with st.transaction() as c:
        got = service.grant_consent(c, data)
    print_json(got) if json_out else console.print(st.t(f"記録しました: {got.id}", f"recorded: {got.id}"))


@consents_app.command("withdraw")
@cli_command
def consent_withdraw(ctx: typer.Context, consent_id: str, json_out: bool = JSON_OPT) -> None:
    """同意の撤回（直ちに反映） / withdraw a provision consent."""
    st = state(ctx)
    with st.transaction() as c:
        got = service.withdraw_consent(c, consent_id)
    print_json(got) if json_out else console.print(st.t("撤回しました", "withdrawn"))


@consents_app.command("list")
@cli_command
def consent_list(
    ctx: typer.Context,
    customer_id: str | None = typer.Option(None, "--customer"),
    counterparty_id: str | None = typer.Option(None, "--to"),
    json_out: bool = JSON_OPT,
) -> None:
    """同意の一覧 / list provision consents."""
    st = state(ctx)
    with st.transaction() as c:
        items = service.list_consents(c, customer_id, counterparty_id)
    if json_out:
        print_json(items)
        return
    table = Table(
        "id", st.t("顧客", "customer"), st.t("提供先", "to"), st.t("目的", "purpose"), st.t("状態", "state")
    )
    for i in items:
        table.add_row(
            i.id, i.customer_id, i.counterparty_id, i.purpose, "withdrawn" if i.withdrawn_at else "active"
        )
    console.print(table)


# --- provide ----------------------------------------------------------------------------------------------


def _write_out(path: Path, rows: list[dict[str, str | None]], fields: list[str], fmt: str) -> None:
    """Write the export readable by the owner only (it holds personal data)."""
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=["customer_id", *fields], lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        text = buf.getvalue()
    else:
        text = json.dumps(rows, ensure_ascii=False, indent=2) + "\n"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
        fh.write(text)


@cli_command
def provide(
    ctx: typer.Context,
    counterparty_id: str = typer.Option(..., "--to", help="提供先ID"),
    purpose: str = typer.Option(..., "--purpose", "-p"),
    fields: list[str] = typer.Option(..., "--field", "-f", help="提供する項目（name, email, attr:key …）"),
    customer_ids: list[str] = typer.Option([], "--customer", "-c", help="顧客ID（複数可）"),
    notified_purpose: str | None = typer.Option(None, "--notified", help="この利用目的を通知した顧客すべて"),
    basis: str = typer.Option(
        "consent", help="consent / exception / opt_out / joint_use / entrustment / succession"
    ),
    exception_code: str | None = typer.Option(None, "--exception", help="law / life / public_health / state"),
    decided_by: str | None = typer.Option(None, "--decided-by"),
    reason: str | None = typer.Option(None, "--reason", help="判断理由（個人情報を書かない）"),
    filing: str | None = typer.Option(None, "--filing", help="オプトアウト届出ID"),
    joint: str | None = typer.Option(None, "--joint-use", help="共同利用ID"),
    continuous: bool = typer.Option(False, "--continuous", help="継続的提供（一括記録, R-29-1）"),
    contract_record: bool = typer.Option(False, "--contract-record", help="契約書等を記録とする（保存1年）"),
    skip_refused: bool = typer.Option(False, "--skip-refused", help="提供できない人を除いて提供する"),
    out: Path | None = typer.Option(None, "--out", help="出力ファイル（.csv / .json）"),
    fmt: str | None = typer.Option(None, "--format", help="csv / json（省略時は --out の拡張子）"),
    json_out: bool = JSON_OPT,
) -> None:
    """第三者に提供する（本人ごとに根拠を確認し、記録を作成） / provide data to a counterparty."""
    st = state(ctx)
    out_format = fmt or (out.suffix.lstrip(".").lower() if out and out.suffix else "json")
    exception = None
    if exception_code is not None:
        exception = {"code": exception_code, "decided_by": decided_by or "", "reason": reason or ""}
    data = ProvideIn.model_validate(
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
    # and its records back) and moved into place only after the commit: a file never exists without its record.
    tmp = out.with_name(f".{out.name}.partial") if out is not None else None
    try:
        with st.transaction() as c:
            result = service.provide(c, data)
            if tmp is not None:
                _write_out(tmp, result.rows, result.fields, data.out_format)
        if tmp is not None and out is not None:
            os.replace(tmp, out)
    except ProvisionRefused as exc:
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
    finally:
        if tmp is not None and tmp.exists():
            tmp.unlink()
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
            f"{result.provided} 人分を提供しました（記録 {len(result.record_ids)} 件）",
            f"provided {result.provided} persons ({len(result.record_ids)} records)",
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
        "ok"
    )


# --- records ----------------------------------------------------------------------------------------------


@records_app.command("list")
@cli_command
def records_list(
    ctx: typer.Context,
    counterparty_id: str | None = typer.Option(None, "--to"),
    customer_id: str | None = typer.Option(None, "--customer"),
    direction: str | None = typer.Option(None, help="provided / received"),
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
    table = Table(
        "id",
        st.t("区分", "dir"),
        st.t("種類", "kind"),
        st.t("相手方", "party"),
        st.t("保存期限", "keep until"),
    )
    for r in items:
        table.add_row(r.id, r.direction, r.kind, r.counterparty_name, f"{r.retention_until:%Y-%m-%d}")
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
    for k, v in r.model_dump().items():
        console.print(f"{k}: {v}", markup=False)


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
                f"期限切れ {got.expired} 件（--yes で削除します）",
                f"{got.expired} expired (run with --yes to delete)",
            )
        )
    else:
        console.print(
            st.t(f"削除 {got.purged} 件 / 保存 {got.kept} 件", f"purged {got.purged}, kept {got.kept}")
        )


# --- receive ----------------------------------------------------------------------------------------------


@app.command("receive")
@cli_command
def receive(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="CSV (UTF-8 / Shift_JIS)"),
    counterparty_id: str = typer.Option(..., "--from", help="提供元（登録済みの提供先ID, R-30-1）"),
    variant: str = typer.Option(..., help="opt_out / consent / referable / non_operator"),
    identity: str = typer.Option(..., "--identity-confirmed-by", help="提供元の確認方法（R-30-1 (a)）"),
    acquisition: str = typer.Option(..., help="提供元の取得の経緯（R-30-1 (b)）"),
    lawful: bool = typer.Option(False, "--lawful", help="適正に取得されたことを確認した（R-20-1）"),
    ppc_published: bool = typer.Option(False, "--ppc-published", help="委員会の公表を確認（オプトアウト）"),
    consent_confirmed: bool = typer.Option(False, "--consent-confirmed"),
    purposes: list[str] = typer.Option(..., "--purpose", "-p"),
    mapping: list[str] = typer.Option([], "--map"),
    skip_bad_rows: bool = typer.Option(False, "--skip-bad-rows"),
    json_out: bool = JSON_OPT,
) -> None:
    """第三者から受領する（確認・記録つきの取込） / receive a file from a third party."""
    st = state(ctx)
    data = ReceiveIn.model_validate(
        {
            "counterparty_id": counterparty_id,
            "variant": variant,
            "identity_confirmed_by": identity,
            "acquisition": acquisition,
            "acquisition_lawful": lawful,
            "ppc_publication_confirmed": ppc_published,
            "consent_confirmed": consent_confirmed,
        }
    )
    report, receipt = jobs.receive_file(
        st.runtime,
        st.actor(),
        file,
        data,
        purposes=purposes,
        mapping=parse_mapping(mapping),
        skip_bad_rows=skip_bad_rows,
    )
    if json_out:
        print_json({"import": report.to_dict(), "receipt": receipt})
    else:
        for e in report.errors:
            err_console.print(f"line {e.line}: {e.field}: {e.reason}", markup=False)
        if receipt is not None:
            console.print(
                st.t(f"受領しました: {receipt.person_count} 人", f"received {receipt.person_count} persons")
            )
    if receipt is None:
        raise typer.Exit(1)


# --- joint use --------------------------------------------------------------------------------------------


@joint_app.command("declare")
@cli_command
def joint_declare(
    ctx: typer.Context,
    code: str,
    items: list[str] = typer.Option(..., "--item"),
    members: list[str] = typer.Option(..., "--member", help="共同利用者（提供先ID）"),
    users_scope: str = typer.Option(..., "--scope", help="共同利用者の範囲（通知した文言）"),
    purposes: list[str] = typer.Option(..., "--purpose", "-p"),
    responsible_name: str = typer.Option(..., "--responsible-name"),
    responsible_address: str = typer.Option(..., "--responsible-address"),
    responsible_representative: str = typer.Option(..., "--responsible-representative"),
    notified: str = typer.Option(..., "--notified", help="本人への通知日"),
    effective: str = typer.Option(..., "--effective", help="共同利用の開始日"),
    json_out: bool = JSON_OPT,
) -> None:
    """共同利用を登録（5項目） / declare joint use (R-27-2)."""
    st = state(ctx)
    data = JointUseIn(
        code=code,
        items=_csv_list(items),
        member_ids=_csv_list(members),
        users_scope=users_scope,
        purposes=_csv_list(purposes),
        responsible_name=responsible_name,
        responsible_address=responsible_address,
        responsible_representative=responsible_representative,
        notified_at=need(notified, "--notified"),
        effective_from=need(effective, "--effective"),
    )
    with st.transaction() as c:
        got = joint_use.declare(c, data)
    print_json(got) if json_out else console.print(st.t(f"登録しました: {got.id}", f"declared: {got.id}"))


@joint_app.command("change")
@cli_command
def joint_change(
    ctx: typer.Context,
    declaration_id: str,
    item: str = typer.Option(
        ...,
        help="responsible_name / responsible_address / responsible_representative / responsible_party / "
        "purposes / items / members",
    ),
    value: str = typer.Option(..., "--value"),
    notified: str = typer.Option(..., "--notified"),
    effective: str = typer.Option(..., "--effective"),
    consent_reference: str | None = typer.Option(None, "--consent-reference"),
    json_out: bool = JSON_OPT,
) -> None:
    """共同利用の変更（R-27-3 の時期を確認） / change joint use."""
    st = state(ctx)
    data = JointUseChangeIn.model_validate(
        {
            "item": item,
            "new_value": value,
            "notified_at": need(notified, "--notified"),
            "effective_at": need(effective, "--effective"),
            "consent_reference": consent_reference,
        }
    )
    with st.transaction() as c:
        got = joint_use.change(c, declaration_id, data)
    print_json(got) if json_out else console.print(st.t(f"第{got.version}版", f"version {got.version}"))


@joint_app.command("show")
@cli_command
def joint_show(
    ctx: typer.Context, declaration_id: str | None = typer.Argument(None), json_out: bool = JSON_OPT
) -> None:
    """共同利用の内容と変更履歴 / show joint use (all when no id)."""
    st = state(ctx)
    with st.transaction() as c:
        got = [joint_use.show(c, declaration_id)] if declaration_id else joint_use.list_declarations(c)
    if json_out:
        print_json(got if declaration_id is None else got[0])
        return
    for d in got:
        console.print(
            f"{d.id} {d.code} v{d.version}: {', '.join(d.purposes)} / {', '.join(d.items)}", markup=False
        )


# --- opt-out ----------------------------------------------------------------------------------------------


@optout_app.command("file")
@cli_command
def optout_file(
    ctx: typer.Context,
    purpose: str = typer.Option(..., "--purpose", "-p"),
    items: list[str] = typer.Option(..., "--item"),
    acquisition: str = typer.Option(..., help="取得の方法"),
    provision_method: str = typer.Option(..., "--provision-method"),
    request_method: str = typer.Option(..., "--request-method", help="停止の求めの受付方法"),
    filed: str = typer.Option(..., "--filed", help="届出日"),
    published: str | None = typer.Option(None, "--ppc-published", help="委員会の公表日"),
    ppc_reference: str | None = typer.Option(None, "--ppc-reference"),
    notified: str = typer.Option(..., "--notified", help="本人への通知等の日"),
    objection_days: int = typer.Option(30, "--objection-days"),
    start: str = typer.Option(..., "--start", help="提供開始日"),
    counterparty_id: str | None = typer.Option(None, "--to"),
    json_out: bool = JSON_OPT,
) -> None:
    """オプトアウト届出を記録（R-27-4） / record an opt-out filing."""
    st = state(ctx)
    data = OptOutIn(
        counterparty_id=counterparty_id,
        purpose=purpose,
        items=_csv_list(items),
        acquisition=acquisition,
        provision_method=provision_method,
        request_method=request_method,
        filed_at=need(filed, "--filed"),
        ppc_reference=ppc_reference,
        ppc_published_at=when(published, "--ppc-published"),
        notified_at=need(notified, "--notified"),
        objection_days=objection_days,
        start_at=need(start, "--start"),
    )
    with st.transaction() as c:
        got = opt_out.file(c, data)
    print_json(got) if json_out else console.print(st.t(f"記録しました: {got.id}", f"recorded: {got.id}"))


@optout_app.command("change")
@cli_command
def optout_change(
    ctx: typer.Context,
    filing_id: str,
    item: str = typer.Option(
        ..., help="items / acquisition / provision_method / request_method / start_at / operator / stop"
    ),
    value: str = typer.Option(..., "--value"),
    notified: str = typer.Option(..., "--notified"),
    filed: str = typer.Option(..., "--filed"),
    effective: str = typer.Option(..., "--effective"),
    json_out: bool = JSON_OPT,
) -> None:
    """オプトアウト事項の変更（R-27-6） / change an opt-out filing."""
    st = state(ctx)
    data = OptOutChangeIn.model_validate(
        {
            "item": item,
            "new_value": value,
            "notified_at": need(notified, "--notified"),
            "filed_at": need(filed, "--filed"),
            "effective_at": need(effective, "--effective"),
        }
    )
    with st.transaction() as c:
        got = opt_out.change(c, filing_id, data)
    print_json(got) if json_out else console.print(st.t(f"第{got.version}版", f"version {got.version}"))


@optout_app.command("show")
@cli_command
def optout_show(
    ctx: typer.Context, filing_id: str | None = typer.Argument(None), json_out: bool = JSON_OPT
) -> None:
    """届出の状態（提供可能か、問題点） / show filings and whether they are usable."""
    st = state(ctx)
    with st.transaction() as c:
        got = [opt_out.show(c, filing_id)] if filing_id else opt_out.list_filings(c)
    if json_out:
        print_json(got if filing_id is None else got[0])
        return
    for f in got:
        status = "OK" if f.usable else "; ".join(f.problems)
        console.print(f"{f.id} {f.purpose} v{f.version}: {status}", markup=False)


# --- referable ------------------------------------------------------------------------------------------


@referable_app.command("confirm")
@cli_command
def referable_confirm(
    ctx: typer.Context,
    counterparty_id: str = typer.Option(..., "--to"),
    items: list[str] = typer.Option(..., "--item"),
    method: str = typer.Option(..., help="declaration / evidence_check（R-31-2）"),
    evidence: str = typer.Option(..., help="誓約書・同意記録の参照"),
    foreign_info: bool = typer.Option(False, "--foreign-info-confirmed"),
    sheet_version: int | None = typer.Option(None, "--sheet-version"),
    json_out: bool = JSON_OPT,
) -> None:
    """提供先の本人同意取得を確認した記録 / record the consent confirmation (R-31-1, R-31-2)."""
    st = state(ctx)
    data = ReferableConfirmIn.model_validate(
        {
            "counterparty_id": counterparty_id,
            "items": _csv_list(items),
            "method": method,
            "evidence": evidence,
            "foreign_info_confirmed": foreign_info,
            "sheet_version": sheet_version,
        }
    )
    with st.transaction() as c:
        got = referable.confirm(c, data)
    print_json({"confirmation_id": got}) if json_out else console.print(got)


@referable_app.command("provide")
@cli_command
def referable_provide(
    ctx: typer.Context,
    counterparty_id: str = typer.Option(..., "--to"),
    items: list[str] = typer.Option(..., "--item"),
    count: int = typer.Option(..., help="提供するID等の件数"),
    linkage_expected: bool = typer.Option(
        ..., "--linkage-expected/--no-linkage", help="提供先が個人データと結び付けることが想定されるか"
    ),
    confirmation_id: str | None = typer.Option(None, "--confirmation"),
    continuous: bool = typer.Option(False, "--continuous"),
    json_out: bool = JSON_OPT,
) -> None:
    """個人関連情報を提供（R-31-1、記録 R-31-3） / provide personally referable information."""
    st = state(ctx)
    data = ReferableProvideIn.model_validate(
        {
            "counterparty_id": counterparty_id,
            "items": _csv_list(items),
            "count": count,
            "linkage_expected": linkage_expected,
            "confirmation_id": confirmation_id,
            "continuous": continuous,
        }
    )
    with st.transaction() as c:
        got = referable.provide(c, data)
    print_json(got) if json_out else console.print(
        st.t(f"記録: {got.record_id or '-'}", f"record: {got.record_id or '-'}")
    )


# --- relay ------------------------------------------------------------------------------------------------


@relay_app.command("open")
@cli_command
def relay_open(
    ctx: typer.Context,
    requester_id: str = typer.Option(..., "--from"),
    target_id: str = typer.Option(..., "--to"),
    message: str = typer.Option(..., help="取り次ぐ伝言"),
    json_out: bool = JSON_OPT,
) -> None:
    """連絡先の開示を断り、伝言の取次を受け付ける / refuse disclosure, accept a relayed message."""
    st = state(ctx)
    with st.transaction() as c:
        got = relay.open_relay(
            c, RelayOpenIn(requester_id=requester_id, target_id=target_id, message=message)
        )
    if json_out:
        print_json(got)
        return
    console.print(
        st.t(
            f"連絡先は本人の同意なく提供できません（{got.disclosure_refused_rule}）。取次を受け付けました: {got.id}",
            f"the contact cannot be given without consent ({got.disclosure_refused_rule}); relay opened: {got.id}",
        )
    )


@relay_app.command("consent")
@cli_command
def relay_consent(
    ctx: typer.Context,
    relay_id: str,
    method: str = typer.Option("oral"),
    evidence: str | None = typer.Option(None),
    decline: bool = typer.Option(False, "--decline", help="相手が取次を断った"),
    share_contact: bool = typer.Option(False, "--share-contact", help="相手が連絡先の提供に同意した"),
    json_out: bool = JSON_OPT,
) -> None:
    """相手方の回答（同意）を記録 / record the other customer's answer."""
    st = state(ctx)
    data = RelayConsentIn.model_validate(
        {"method": method, "evidence": evidence, "agree": not decline, "share_contact": share_contact}
    )
    with st.transaction() as c:
        got = relay.consent(c, relay_id, data)
    print_json(got) if json_out else console.print(got.status)


@relay_app.command("deliver")
@cli_command
def relay_deliver(ctx: typer.Context, relay_id: str, json_out: bool = JSON_OPT) -> None:
    """伝言を取り出して取り次ぐ（1回限り） / take the message for delivery (once)."""
    st = state(ctx)
    with st.transaction() as c:
        got = relay.deliver(c, relay_id)
    if json_out:
        print_json(got)
        return
    console.print(got.message or "", markup=False)
    if got.contact:
        console.print(
            st.t("連絡先（同意済み）: ", "contact (consented): ")
            + json.dumps(got.contact, ensure_ascii=False)
        )
