"""mamori provision joint-use …, opt-out …, referable …, relay …"""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from mamori.kernel import labels
from mamori.kernel.cli_support import CliState, cli_command, console, lazy, print_json, state
from mamori.provision.cli.common import (
    JSON_OPT,
    _csv_list,
    joint_app,
    need,
    optout_app,
    referable_app,
    relay_app,
    version,
    when,
)

# Imported by the commands that use them, not at start-up (issue 16; see kernel/cli_support.py).
if TYPE_CHECKING:
    from mamori.provision import schemas
    from mamori.provision.service import joint_use, opt_out, referable, relay
else:
    schemas = lazy("mamori.provision.schemas")
    joint_use = lazy("mamori.provision.service.joint_use")
    opt_out = lazy("mamori.provision.service.opt_out")
    referable = lazy("mamori.provision.service.referable")
    relay = lazy("mamori.provision.service.relay")

# --- joint use --------------------------------------------------------------------------------------------


@joint_app.command("declare")
@cli_command
def joint_declare(
    ctx: typer.Context,
    code: str,
    items: list[str] = typer.Option(..., "--item", help="共同利用する個人データの項目"),
    members: list[str] = typer.Option(..., "--member", help="共同利用者（提供先ID）"),
    users_scope: str = typer.Option(..., "--scope", help="共同利用者の範囲（通知した文言）"),
    purposes: list[str] = typer.Option(..., "--purpose", "-p", help="共同利用する者の利用目的のコード"),
    responsible_name: str = typer.Option(..., "--responsible-name"),
    responsible_address: str = typer.Option(..., "--responsible-address"),
    responsible_representative: str = typer.Option(..., "--responsible-representative"),
    notified: str = typer.Option(..., "--notified", help="本人への通知日"),
    effective: str = typer.Option(..., "--effective", help="共同利用の開始日"),
    json_out: bool = JSON_OPT,
) -> None:
    """共同利用を登録（5項目） / declare joint use (R-27-2)."""
    st = state(ctx)
    data = schemas.JointUseIn(
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
    data = schemas.JointUseChangeIn.model_validate(
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
    print_json(got) if json_out else console.print(
        st.t(
            f"変更を記録しました（{version(st, got.version)}）",
            f"change recorded ({version(st, got.version)})",
        )
    )


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
    sep = ", " if st.lang == "en" else "、"
    for d in got:
        console.print(
            f"{d.id} {d.code} {version(st, d.version)}: "
            f"{labels.label('field.purposes', st.lang)} {sep.join(d.purposes)} / "
            f"{labels.label('provision_field.items', st.lang)} {sep.join(d.items)}",
            markup=False,
            highlight=False,
        )


# --- opt-out ----------------------------------------------------------------------------------------------


@optout_app.command("file")
@cli_command
def optout_file(
    ctx: typer.Context,
    purpose: str = typer.Option(..., "--purpose", "-p", help="提供の利用目的のコード"),
    items: list[str] = typer.Option(..., "--item", help="提供する個人データの項目"),
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
    data = schemas.OptOutIn(
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
    data = schemas.OptOutChangeIn.model_validate(
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
    print_json(got) if json_out else console.print(
        st.t(
            f"変更を記録しました（{version(st, got.version)}）",
            f"change recorded ({version(st, got.version)})",
        )
    )


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
        status = (
            st.t("提供可能", "usable")
            if f.usable
            else st.t("提供不可: ", "not usable: ") + "; ".join(f.problems)
        )
        console.print(f"{f.id} {f.purpose} {version(st, f.version)}: {status}", markup=False, highlight=False)


# --- referable ------------------------------------------------------------------------------------------


@referable_app.command("confirm")
@cli_command
def referable_confirm(
    ctx: typer.Context,
    counterparty_id: str = typer.Option(..., "--to"),
    items: list[str] = typer.Option(..., "--item"),
    method: str = typer.Option(
        ..., help="確認の方法: declaration（提供先の申告）/ evidence_check（同意記録の確認）（R-31-2）"
    ),
    evidence: str = typer.Option(..., help="誓約書・同意記録の参照"),
    foreign_info: bool = typer.Option(False, "--foreign-info-confirmed"),
    sheet_version: int | None = typer.Option(None, "--sheet-version"),
    json_out: bool = JSON_OPT,
) -> None:
    """提供先の本人同意取得を確認した記録 / record the consent confirmation (R-31-1, R-31-2)."""
    st = state(ctx)
    data = schemas.ReferableConfirmIn.model_validate(
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
    print_json({"confirmation_id": got}) if json_out else console.print(
        st.t(f"確認を記録しました: {got}", f"confirmation recorded: {got}")
    )


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
    data = schemas.ReferableProvideIn.model_validate(
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
        st.t(f"第三者提供記録: {got.record_id or '—'}", f"record: {got.record_id or '—'}")
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
            c, schemas.RelayOpenIn(requester_id=requester_id, target_id=target_id, message=message)
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
    method: str = typer.Option(
        "oral", help="回答の方法（電話なら oral、メールなら email） / how the answer came"
    ),
    evidence: str | None = typer.Option(None),
    decline: bool = typer.Option(False, "--decline", help="相手が取次を断った"),
    share_contact: bool = typer.Option(False, "--share-contact", help="相手が連絡先の提供に同意した"),
    json_out: bool = JSON_OPT,
) -> None:
    """相手方の回答（同意）を記録（取次の前でも後でも） / record the other customer's answer (before or after
    delivery); after delivery, a consent to share hands the contact over now."""
    st = state(ctx)
    data = schemas.RelayConsentIn.model_validate(
        {"method": method, "evidence": evidence, "agree": not decline, "share_contact": share_contact}
    )
    with st.transaction() as c:
        got = relay.consent(c, relay_id, data)
    if json_out:
        print_json(got)
        return
    console.print(labels.value("relay_status", got.status, st.lang))
    _print_contact(st, got)


@relay_app.command("deliver")
@cli_command
def relay_deliver(ctx: typer.Context, relay_id: str, json_out: bool = JSON_OPT) -> None:
    """伝言を取り出して取り次ぐ（1回限り、相手方の回答の前でも後でも） / take the message for delivery (once,
    before or after the other customer's answer)."""
    st = state(ctx)
    with st.transaction() as c:
        got = relay.deliver(c, relay_id)
    if json_out:
        print_json(got)
        return
    console.print(got.message or "", markup=False)
    _print_contact(st, got)
    if got.status == "delivered":
        console.print(
            st.t(
                f"相手方の回答（連絡先の提供）は後で記録できます: mamori provision relay consent {got.id}",
                f"the other customer's answer can be recorded later: mamori provision relay consent {got.id}",
            ),
            soft_wrap=True,
        )


@relay_app.command("show")
@cli_command
def relay_show(ctx: typer.Context, relay_id: str, json_out: bool = JSON_OPT) -> None:
    """取次依頼の状態（伝言・連絡先は表示しない） / a relay's state (no message, no contact)."""
    st = state(ctx)
    with st.transaction() as c:
        got = relay.show(c, relay_id)
    if json_out:
        print_json(got)
        return
    console.print(f"{got.id}  {labels.value('relay_status', got.status, st.lang)}")


def _print_contact(st: CliState, got: schemas.RelayRead) -> None:
    if got.contact:
        console.print(
            st.t("連絡先（同意済み）: ", "contact (consented): ")
            + ("; " if st.lang == "en" else "、").join(
                f"{labels.label(f'field.{k}', st.lang, default=k)}: {v}" for k, v in got.contact.items()
            ),
            markup=False,
            highlight=False,
        )
