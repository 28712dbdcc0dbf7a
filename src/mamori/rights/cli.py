"""CLI: mamori rights … — requests from the person (本人からの請求)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from mamori.kernel.cli_support import CliState, cli_command, console, print_json, state
from mamori.kernel.clock import today_jst
from mamori.kernel.errors import PolicyDenied, ValidationFailed
from mamori.law.rules import R_33_1, R_37_1
from mamori.rights import service
from mamori.rights.schemas import DISCLOSING, RequestOpen, RequestView
from mamori.rights.service import render

app = typer.Typer(help="本人からの請求 / requests from the person", no_args_is_help=True)
JSON_OPT = typer.Option(False, "--json", help="JSON で出力")


def _print_view(st: CliState, v: RequestView) -> None:
    t = st.t
    due = (
        f"[red]{v.effective_due_on} ({t('期限超過', 'OVERDUE')})[/red]"
        if v.overdue
        else str(v.effective_due_on)
    )
    console.print(f"{t('受付番号', 'request')}: {v.id}  {v.kind} / {v.regime} [{v.rule_id}]")
    console.print(f"{t('状態', 'status')}: {v.status} {v.outcome or ''}  {t('期限', 'due')}: {due}")
    if v.agent_kind:
        console.print(f"{t('代理人', 'agent')}: {v.agent_kind} ({v.agent_document})")
    for i in v.identifiers:
        mark = "✓" if i.verified else "…"
        console.print(f"  {mark} {i.kind} {i.id} {i.method or ''} {i.document or ''}")
    console.print(f"{t('対象の顧客', 'subjects')}: {', '.join(v.subject_ids) or '-'}")
    for e in v.events:
        console.print(f"  #{e.seq} {e.at:%Y-%m-%d %H:%M} {e.event} {','.join(e.rule_ids)} {e.actor}")


@app.command("open")
@cli_command
def open_(
    ctx: typer.Context,
    kind: str = typer.Argument(
        ...,
        help="purpose_notice / disclosure / provision_records / correction / "
        "stop_use / erasure / stop_provision / restriction / portability / objection",
    ),
    regime: str | None = typer.Option(None, help="appi / gdpr（省略時は顧客の所在から判定）"),
    channel: str = typer.Option("phone", help="phone / letter / counter / email / web"),
    email: list[str] = typer.Option([], "--email", help="本人が申告したメールアドレス（未確認）"),
    phone: list[str] = typer.Option([], "--phone", help="本人が申告した電話番号（未確認）"),
    customer: str | None = typer.Option(None, "--customer", help="申告された顧客ID（未確認）"),
    category: list[str] = typer.Option([], "--category", help="範囲: データ源:区分"),
    purpose: str | None = typer.Option(None, help="利用停止する利用目的"),
    stop_scope: str | None = typer.Option(None, help="purpose / all / provision"),
    ground: str | None = typer.Option(None, help="利用停止・消去の理由 (R-35-1)"),
    agent_kind: str | None = typer.Option(None, help="legal_representative / mandated_agent (R-37-1)"),
    agent_document: str | None = typer.Option(None, help="確認した代理権の書類"),
    fee: int | None = typer.Option(None, "--fee", help="手数料（円、R-38-1: 利用目的の通知・開示のみ）"),
    json_out: bool = JSON_OPT,
) -> None:
    """請求を受け付ける / take a request (phone, letter, counter)."""
    st = state(ctx)
    data = RequestOpen.model_validate(
        {
            "kind": kind,
            "regime": regime,
            "channel": channel,
            "emails": email,
            "phones": phone,
            "customer_id": customer,
            "categories": category or None,
            "purpose": purpose,
            "stop_scope": stop_scope,
            "ground": ground,
            "agent_kind": agent_kind,
            "agent_document": agent_document,
            "fee_yen": fee,
        }
    )
    with st.transaction() as c:
        v = service.open_request(c, data)
    if json_out:
        print_json(v)
        return
    console.print(
        st.t(f"受け付けました: {v.id}（期限 {v.due_on}）", f"request opened: {v.id} (due {v.due_on})")
    )
    for i in v.identifiers:
        console.print(f"  {i.kind} {i.id}")


@app.command("add-identifier")
@cli_command
def add_identifier(
    ctx: typer.Context,
    request_id: str,
    kind: str = typer.Option(..., help="email / phone"),
    value: str = typer.Option(..., help="値（表示・記録されません）"),
    json_out: bool = JSON_OPT,
) -> None:
    """識別子を追加する（確認されるまで誰にも到達しない） / add an identifier (reaches nobody until verified)."""
    st = state(ctx)
    with st.transaction() as c:
        ident = service.add_identifier(c, request_id, kind, value)
    print_json(ident) if json_out else console.print(f"{ident.kind} {ident.id}")


@app.command("send-code")
@cli_command
def send_code(ctx: typer.Context, request_id: str, identifier_id: str, json_out: bool = JSON_OPT) -> None:
    """メールで確認コードを送る / send a one-time code to the email identifier."""
    st = state(ctx)
    with st.transaction() as c:
        service.send_code(c, request_id, identifier_id)
    print_json({"sent": True}) if json_out else console.print(st.t("送信しました", "code sent"))


@app.command("verify")
@cli_command
def verify(
    ctx: typer.Context,
    request_id: str,
    method: str = typer.Option(..., help="email_code / callback / id_document / login"),
    identifier: str | None = typer.Option(None, "--identifier", help="識別子ID（email_code, callback）"),
    code: str | None = typer.Option(None, help="本人が読み上げた確認コード"),
    customer: str | None = typer.Option(None, "--customer", help="本人確認書類で特定した顧客ID"),
    document: str | None = typer.Option(None, help="drivers_license / my_number_card / passport / …"),
    json_out: bool = JSON_OPT,
) -> None:
    """本人確認 (R-37-1) / verify the requester."""
    st = state(ctx)
    if method == "login":
        with st.transaction() as c:
            service.verify_login(c, request_id)
    reached = 0
    if method == "email_code":
        if not identifier or not code:
            raise ValidationFailed(
                "--identifier と --code が必要です。", "Give --identifier and --code.", code="missing"
            )
        with st.transaction() as c:
            result = service.verify_code(c, request_id, identifier, code)
        if not result.verified:
            raise PolicyDenied(
                f"確認コードが一致しないか期限切れです（残り {result.attempts_left} 回）。",
                f"Wrong or expired code ({result.attempts_left} attempts left).",
                rule_id=R_37_1.id,
                code="verification_failed",
            )
        reached = result.subjects
    elif method == "callback":
        if not identifier:
            raise ValidationFailed("--identifier が必要です。", "Give --identifier.", code="missing")
        with st.transaction() as c:
            reached = service.verify_callback(c, request_id, identifier)
    elif method == "id_document":
        if not customer or not document:
            raise ValidationFailed(
                "--customer と --document が必要です。", "Give --customer and --document.", code="missing"
            )
        with st.transaction() as c:
            reached = service.verify_document(c, request_id, customer, document)
    elif method != "login":
        raise ValidationFailed(
            "method は email_code / callback / id_document / login です。",
            "Unknown method.",
            code="bad_method",
        )
    if json_out:
        print_json({"verified": True, "customers_reached": reached})
    else:
        console.print(st.t(f"確認しました（対象 {reached} 件）", f"verified ({reached} customers reached)"))


@app.command("categories")
@cli_command
def categories(ctx: typer.Context, request_id: str, json_out: bool = JSON_OPT) -> None:
    """保有している区分と件数（範囲の特定を助ける） / categories held for the verified person."""
    st = state(ctx)
    with st.transaction() as c:
        held = service.held_categories(c, request_id)
    if json_out:
        print_json(held)
        return
    for k, n in held.items():
        console.print(f"{k}\t{n}")


@app.command("scope")
@cli_command
def scope(
    ctx: typer.Context,
    request_id: str,
    category: list[str] = typer.Option(..., "--category", help="データ源:区分（複数可）"),
    json_out: bool = JSON_OPT,
) -> None:
    """請求の範囲を区分で絞る / narrow the request by category."""
    st = state(ctx)
    with st.transaction() as c:
        v = service.set_scope(c, request_id, category)
    print_json(v) if json_out else console.print(", ".join(v.categories or []))


@app.command("show")
@cli_command
def show(ctx: typer.Context, request_id: str, json_out: bool = JSON_OPT) -> None:
    """請求と対応の記録 / a request and its handling log."""
    st = state(ctx)
    with st.transaction() as c:
        v = service.show(c, request_id)
    print_json(v) if json_out else _print_view(st, v)


@app.command("list")
@cli_command
def list_(
    ctx: typer.Context,
    all_: bool = typer.Option(False, "--all", help="対応済みも表示"),
    json_out: bool = JSON_OPT,
) -> None:
    """期限順の一覧（期限超過は赤） / the board, by due date (overdue in red)."""
    st = state(ctx)
    with st.transaction() as c:
        rows = service.board(c, include_closed=all_)
    if json_out:
        print_json(rows)
        return
    table = Table(
        st.t("期限", "due"),
        st.t("残日数", "days"),
        st.t("受付番号", "request"),
        st.t("種別", "kind"),
        st.t("法令", "regime"),
        st.t("状態", "status"),
    )
    for v in rows:
        style = "bold red" if v.overdue else None
        flag = st.t(" 期限超過", " OVERDUE") if v.overdue else ""
        table.add_row(
            f"{v.effective_due_on}{flag}", str(v.days_left), v.id, v.kind, v.regime, v.status, style=style
        )
    console.print(table)


def _parse_corrections(items: list[str]) -> list[tuple[str, str, dict[str, str | None]]]:
    out: list[tuple[str, str, dict[str, str | None]]] = []
    for item in items:
        head, sep, value = item.partition("=")
        parts = head.split(":")
        if not sep or len(parts) != 3 or not all(parts):
            raise ValidationFailed(
                "--correct は データ源:記録ID:項目=値 の形です（値を空にすると削除）。",
                "--correct takes source:record_id:field=value (an empty value deletes).",
                code="bad_correction",
            )
        out.append((parts[0], parts[1], {parts[2]: value or None}))
    return out


def _parse_partial(items: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items:
        cat, sep, ground = item.partition("=")
        if not sep:
            raise ValidationFailed(
                "--refuse-part は データ源:区分=事由 の形です。",
                "--refuse-part takes source:category=ground.",
                code="bad_partial_refusal",
            )
        out[cat] = ground
    return out


@app.command("fulfil")
@cli_command
def fulfil(
    ctx: typer.Context,
    request_id: str,
    out: Path | None = typer.Option(None, "--out", help="開示パッケージの書き出し先（DB には保存しません）"),
    fmt: str = typer.Option("json", "--format", help="json / csv / html / pdf"),
    refuse_part: list[str] = typer.Option(
        [], "--refuse-part", help="一部不開示: データ源:区分=事由 (R-33-2)"
    ),
    correct: list[str] = typer.Option([], "--correct", help="訂正: データ源:記録ID:項目=値 (R-34-1)"),
    json_out: bool = JSON_OPT,
) -> None:
    """請求に対応する（全データ源を通じて） / fulfil the request through every data source."""
    st = state(ctx)
    if fmt not in render.FORMATS:
        raise ValidationFailed(
            "形式は json / csv / html / pdf です。", "Format: json / csv / html / pdf.", code="bad_format"
        )
    corrections = _parse_corrections(correct)
    partial = _parse_partial(refuse_part)
    with st.transaction() as c:
        kind = service.show(c, request_id).kind
        render.check_format(kind, fmt)  # G-20: before fulfilling, not after
        if (kind in DISCLOSING or kind == "purpose_notice") and out is None:
            raise ValidationFailed(
                "開示パッケージの書き出し先を --out で指定してください。",
                "Give --out for the disclosure package.",
                rule_id=R_33_1.id,
                code="out_required",
            )
        outcome, package = service.fulfil(c, request_id, partial_refusals=partial, corrections=corrections)
        written = 0
        if package is not None and out is not None:
            written = render.write(package, fmt, out, today_jst(c.clock))
    if json_out:
        data = outcome.model_dump(mode="json")
        data["package"] = {"path": str(out), "format": fmt, "bytes": written} if package is not None else None
        print_json(data)
        return
    console.print(
        st.t(f"対応しました: {outcome.outcome} [{', '.join(outcome.rule_ids)}]", f"done: {outcome.outcome}")
    )
    for cor in outcome.corrections:
        console.print(f"  {cor.category} {cor.record_id} {cor.field}: {cor.before!r} → {cor.after!r}")
    for r in outcome.recipients_to_notify:
        console.print(st.t(f"  通知先: {r['name']} ({r['kind']})", f"  notify: {r['name']} ({r['kind']})"))
    if package is not None:
        console.print(st.t(f"  書き出し: {out} ({written} バイト)", f"  written: {out} ({written} bytes)"))


@app.command("refuse")
@cli_command
def refuse(
    ctx: typer.Context,
    request_id: str,
    ground: str = typer.Option(..., help="拒否事由 (R-33-2 / R-35-1 / G-17(3) / G-12)"),
    explanation: str | None = typer.Option(None, help="本人への説明（DB には保存しません）"),
    json_out: bool = JSON_OPT,
) -> None:
    """請求を拒否する（事由と説明つき） / refuse, with the legal ground."""
    st = state(ctx)
    with st.transaction() as c:
        v = service.refuse(c, request_id, ground, explanation)
    print_json(v) if json_out else console.print(st.t(f"拒否しました: {ground}", f"refused: {ground}"))


@app.command("extend")
@cli_command
def extend(
    ctx: typer.Context,
    request_id: str,
    months: int = typer.Option(..., help="1 または 2 (G-12)"),
    reason: str = typer.Option(..., help="complexity / volume"),
    json_out: bool = JSON_OPT,
) -> None:
    """GDPR の期限を延長する（1回、最大2か月、最初の1か月以内に通知） / extend a GDPR deadline."""
    st = state(ctx)
    with st.transaction() as c:
        v = service.extend(c, request_id, months, reason)
    print_json(v) if json_out else console.print(
        st.t(f"新しい期限: {v.extended_due_on}", f"new due: {v.extended_due_on}")
    )


@app.command("fee")
@cli_command
def fee(
    ctx: typer.Context, request_id: str, yen: int = typer.Option(..., "--yen"), json_out: bool = JSON_OPT
) -> None:
    """手数料を設定する（利用目的の通知・開示のみ、R-38-1） / set the fee."""
    st = state(ctx)
    with st.transaction() as c:
        v = service.set_fee(c, request_id, yen)
    print_json(v) if json_out else console.print(f"{v.fee_yen} 円")
