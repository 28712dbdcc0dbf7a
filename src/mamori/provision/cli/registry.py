"""mamori provision counterparties … and consents …: the counterparty registry and provision consents."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer
from rich.table import Table

from mamori.kernel import labels
from mamori.kernel.cli_support import cli_command, console, err_console, lazy, print_json, state
from mamori.provision.cli.common import (
    JSON_OPT,
    consents_app,
    counterparties_app,
    country,
    header,
    print_fields,
    version,
    when,
)

# Imported by the commands that use them, not at start-up (issue 16; see kernel/cli_support.py).
if TYPE_CHECKING:
    from mamori.provision import schemas, service
else:
    schemas = lazy("mamori.provision.schemas")
    service = lazy("mamori.provision.service")


def _opts(domain: str, codes: tuple[str, ...] | list[str]) -> str:
    """The allowed codes of an option with their words for --help: 「direct（本人から直接取得） / …」 (spaced, so the
    help panel can wrap it)."""
    return labels.choices(domain, codes).replace("、", " / ")


# --- counterparties ---------------------------------------------------------------------------------------


@counterparties_app.command("add")
@cli_command
def counterparty_add(
    ctx: typer.Context,
    kind: str = typer.Option(
        ...,
        help="区分: " + _opts("counterparty_kind", ("third_party", "outsourcee", "joint_user", "succession")),
    ),
    name: str = typer.Option(..., help="名称"),
    address: str = typer.Option(..., help="住所"),
    representative: str = typer.Option(..., help="代表者"),
    phone: str | None = typer.Option(None, "--phone", help="電話番号（代表など。mamori text で伏せない）"),
    country: str = typer.Option("JP", help="ISO 3166 alpha-2"),
    public_body: bool = typer.Option(False, "--public-body", help="国の機関・地方公共団体等（R-29-3）"),
    system_kind: str | None = typer.Option(None, "--system", help="基準適合体制: contract / cbpr（R-28-1）"),
    system_reference: str | None = typer.Option(None, "--system-reference"),
    reviewed: str | None = typer.Option(None, "--reviewed", help="基準適合体制の確認日"),
    json_out: bool = JSON_OPT,
) -> None:
    """提供先を登録する / register a counterparty."""
    st = state(ctx)
    data = schemas.CounterpartyIn.model_validate(
        {
            "kind": kind,
            "name": name,
            "address": address,
            "representative": representative,
            "phone": phone,
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
    kind: str | None = typer.Option(
        None, help="区分で絞り込む（third_party / outsourcee / joint_user / succession）"
    ),
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
        "ID",
        *(header(st, f"provision_field.{k}") for k in ("counterparty_kind", "name", "country", "alerts")),
    )
    for cp in items:
        table.add_row(
            cp.id,
            labels.value("counterparty_kind", cp.kind, st.lang, staff=True),
            cp.name,
            country(st, cp.country),
            "; ".join(cp.alerts) or "—",
        )
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
    print_fields(
        st,
        cp.model_dump(),
        {"kind": "counterparty_kind", "system_kind": "system_kind"},
        {"kind": "counterparty_kind"},
    )
    for sheet in sheets:
        console.print(
            st.t(
                f"外国の制度等の情報 {version(st, sheet.version)}（{labels.fmt_datetime(sheet.created_at, 'ja')}）",
                f"information sheet v{sheet.version} ({labels.fmt_datetime(sheet.created_at, 'en')})",
            ),
            markup=False,
            highlight=False,
        )


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
    data = schemas.InfoSheetIn(protection_system=protection_system, recipient_measures=recipient_measures)
    with st.transaction() as c:
        sheet = service.add_sheet(c, counterparty_id, data)
    print_json(sheet) if json_out else console.print(
        st.t(
            f"外国の制度等の情報を登録しました（{version(st, sheet.version)}）",
            f"sheet recorded: {version(st, sheet.version)}",
        )
    )


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
    data = schemas.ReviewIn(
        reviewed_at=when(reviewed, "--reviewed"), next_due=when(next_due, "--next-due"), ok=not failed
    )
    with st.transaction() as c:
        cp = service.review(c, counterparty_id, data)
    print_json(cp) if json_out else console.print(
        st.t(
            f"次回確認期限: {labels.fmt_date(cp.system_review_due, 'ja')}",
            f"next review due: {labels.fmt_date(cp.system_review_due, 'en')}",
        )
    )


# --- consents ---------------------------------------------------------------------------------------------


@consents_app.command("grant")
@cli_command
def consent_grant(
    ctx: typer.Context,
    customer_id: str,
    counterparty_id: str = typer.Option(..., "--to"),
    purpose: str = typer.Option(..., "--purpose", "-p"),
    method: str = typer.Option(
        "oral",
        help="同意を得た方法: "
        + _opts("consent_method", ("checkbox", "button", "email", "oral", "paper", "web_form")),
    ),
    evidence: str | None = typer.Option(None, help="証跡の参照（個人情報を書かない）"),
    sheet_version: int | None = typer.Option(
        None, "--sheet-version", help="本人に示した情報の版（外国, R-28-2）"
    ),
    json_out: bool = JSON_OPT,
) -> None:
    """第三者提供の同意を記録 / record consent to provision."""
    st = state(ctx)
    data = schemas.ProvisionConsentIn.model_validate(
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
    print_json(got) if json_out else console.print(st.t("同意の撤回を記録しました", "withdrawal recorded"))


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
        "ID",
        header(st, "provision_field.customer"),
        header(st, "provision_field.counterparty"),
        header(st, "field.purpose"),
        header(st, "provision_field.consent_state"),
    )
    for i in items:
        table.add_row(
            i.id,
            i.customer_id,
            i.counterparty_id,
            i.purpose,
            labels.value("provision_consent_status", "withdrawn" if i.withdrawn_at else "active", st.lang),
        )
    console.print(table)
