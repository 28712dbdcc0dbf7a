"""CLI: mamori rights … — requests from the person (本人からの請求)."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from mamori.kernel import files, labels
from mamori.kernel.cli_support import CliState, cli_command, console, lazy, print_json, state
from mamori.kernel.clock import today_jst
from mamori.kernel.errors import PolicyDenied, ValidationFailed

# Imported by the commands that use them, not at start-up (issue 16; see kernel/cli_support.py).
if TYPE_CHECKING:
    from mamori.law import rules
    from mamori.rights import grounds as grounds_mod
    from mamori.rights import schemas, service
    from mamori.rights.service import delivery, render
else:
    rules = lazy("mamori.law.rules")
    grounds_mod = lazy("mamori.rights.grounds")
    schemas = lazy("mamori.rights.schemas")
    service = lazy("mamori.rights.service")
    render = lazy("mamori.rights.service.render")
    delivery = lazy("mamori.rights.service.delivery")

app = typer.Typer(help="本人からの請求 / requests from the person", no_args_is_help=True)
JSON_OPT = typer.Option(False, "--json", help="JSON で出力")


def _ref(v: schemas.RequestView) -> str:
    """The receipt number staff read out on the phone (the internal id when a request predates them)."""
    return v.receipt_no or v.id


def _print_view(st: CliState, v: schemas.RequestView) -> None:
    t, lang = st.t, st.lang
    due = labels.fmt_date(v.effective_due_on, lang)
    if v.overdue:
        due = f"[red]{due}（{t('期限超過', 'OVERDUE')}）[/red]"
    kind = labels.value("kind", v.kind, lang, staff=True)
    regime = labels.value("regime", v.regime, lang)
    console.print(f"{t('受付番号', 'receipt no.')}: {_ref(v)}  （ID {v.id}）")
    console.print(f"{t('請求の種類', 'kind')}: {kind}  {t('適用法令', 'regime')}: {regime}  [{v.rule_id}]")
    console.print(f"{t('受付日時', 'received')}: {labels.fmt_datetime(v.received_at, lang)}")
    outcome = f" / {labels.value('outcome', v.outcome, lang)}" if v.outcome else ""
    status = labels.value("request_status", v.status, lang)
    console.print(f"{t('状態', 'status')}: {status}{outcome}  {t('回答期限', 'due')}: {due}")
    if v.refusal_ground:
        console.print(
            f"{t('不対応の事由', 'ground')}: {labels.value('refusal_ground', v.refusal_ground, lang)}"
        )
    if v.fee_yen is not None:
        console.print(f"{t('手数料', 'fee')}: {labels.fmt_yen(v.fee_yen, lang)}")
    if v.agent_kind:
        agent = labels.value("agent_kind", v.agent_kind, lang)
        doc = labels.value("agent_document", v.agent_document, lang)
        console.print(f"{t('代理人', 'agent')}: {agent}（{doc}）")
    for i in v.identifiers:
        mark = t("確認済み", "verified") if i.verified else t("未確認", "unverified")
        how = labels.value("verify_method", i.method, lang) if i.method else ""
        doc = labels.value("id_document", i.document, lang) if i.document else ""
        kind_word = labels.value("identifier", i.kind, lang)
        console.print(f"  {kind_word} {i.id} [{mark}] {how} {doc}".rstrip(), markup=False)
    console.print(f"{t('対象の顧客', 'subjects')}: {', '.join(v.subject_ids) or '—'}")
    for e in v.events:
        event = labels.value("rights_event", e.event, lang)
        console.print(
            f"  #{e.seq} {labels.fmt_datetime(e.at, lang)} {event} {','.join(e.rule_ids)} {e.actor}",
            markup=False,
        )


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
    data = schemas.RequestOpen.model_validate(
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
    due = labels.fmt_date(v.due_on, st.lang)
    console.print(
        st.t(
            f"受け付けました: 受付番号 {_ref(v)}（ID {v.id}、回答期限 {due}）",
            f"request opened: {_ref(v)} (ID {v.id}, due {due})",
        )
    )
    for i in v.identifiers:
        console.print(f"  {labels.value('identifier', i.kind, st.lang)} {i.id}")


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
    print_json(ident) if json_out else console.print(
        f"{labels.value('identifier', ident.kind, st.lang)} {ident.id}"
    )


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
    document: str | None = typer.Option(
        None,
        help="本人確認書類: drivers_license（運転免許証） / my_number_card（マイナンバーカード、表面のみ） / "
        "passport / residence_card / health_insurance_card（記号・番号等を隠して提示）",
    ),
    json_out: bool = JSON_OPT,
) -> None:
    """本人確認 (R-37-1) / verify the requester."""
    st = state(ctx)
    if method == "login":
        with st.transaction() as c:
            service.verify_login(c, request_id)
    reached: int | None = 0  # None: not shown to this staff member (only the privacy officer sees the figure)
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
                rule_id=rules.R_37_1.id,
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
        if document == "health_insurance_card" and not json_out:
            # 健康保険法（告知要求制限）: the card's 記号・番号・保険者番号 may not be asked for or copied.
            console.print(
                st.t(
                    "注意: 健康保険証は、記号・番号・保険者番号・QRコードを隠した状態で提示してもらい、"
                    "写しを取る場合もそれらを復元できないよう塗りつぶしてください（健康保険法の告知要求制限）。",
                    "Note: a health insurance card is shown with its symbol, number, insurer number and QR code "
                    "masked; any copy must have them blacked out (Health Insurance Act).",
                ),
                markup=False,
                soft_wrap=True,
            )
    elif method != "login":
        raise ValidationFailed(
            "method は email_code / callback / id_document / login です。",
            "Unknown method.",
            code="bad_method",
        )
    if json_out:
        print_json({"verified": True, "customers_reached": reached})
    else:
        console.print(
            st.t("確認しました", "verified")
            if reached is None
            else st.t(f"確認しました（対象 {reached} 件）", f"verified ({reached} customers reached)")
        )


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
        category = labels.value("record_category", k.split(":", 1)[-1], st.lang)
        console.print(f"{k}\t{category}\t{labels.fmt_count(n, '件', st.lang)}")


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
        state_ = delivery.answer_states(c, [v.id]).get(v.id)
    if json_out:
        print_json({**v.model_dump(mode="json"), "answer_state": state_})
        return
    _print_view(st, v)
    if state_:
        word = delivery.state_word(state_, st.lang)
        console.print(
            f"{st.t('回答の送付', 'answer')}: {'[red]' + word + '[/red]' if state_ == 'undelivered' else word}"
        )


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
        st.t("回答期限", "due"),
        st.t("残日数", "days left"),
        st.t("受付番号", "receipt no."),
        st.t("請求の種類", "kind"),
        st.t("適用法令", "regime"),
        st.t("状態", "status"),
        "ID",
    )
    for v in rows:
        style = "bold red" if v.overdue else None
        if v.overdue:  # colours and words, not colours alone (UI.md)
            flag = st.t("（期限超過）", " (OVERDUE)")
        elif v.days_left <= 3 and v.status != "closed":
            flag = st.t("（3日以内）", " (within 3 days)")
        else:
            flag = ""
        table.add_row(
            f"{labels.fmt_date(v.effective_due_on, st.lang)}{flag}",
            st.t(f"{v.days_left}日", str(v.days_left)),
            _ref(v),
            labels.value("kind", v.kind, st.lang, staff=True),
            labels.value("regime", v.regime, st.lang),
            labels.value("request_status", v.status, st.lang),
            v.id,
            style=style,
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
        [],
        "--refuse-part",
        help="一部不開示: データ源:区分=事由（事由は mamori rights grounds ID で確認。R-33-2）",
    ),
    explanation: str | None = typer.Option(
        None, "--explanation", help="一部不開示の具体的な理由（本人に伝えます。法第36条。暗号化して記録）"
    ),
    correct: list[str] = typer.Option([], "--correct", help="訂正: データ源:記録ID:項目=値 (R-34-1)"),
    delivery: str = typer.Option(
        "electronic",
        "--delivery",
        help="開示の方法（法第33条第1項）: electronic（電磁的記録の提供） / paper（書面の交付）",
    ),
    force: bool = typer.Option(
        False, "--force", help="既存の出力ファイルを置き換える / replace an existing file"
    ),
    json_out: bool = JSON_OPT,
) -> None:
    """請求に対応する（全データ源を通じて） / fulfil the request through every data source."""
    st = state(ctx)
    if delivery not in ("electronic", "paper"):
        raise ValidationFailed(
            "開示の方法は electronic（電磁的記録の提供）又は paper（書面の交付）です。",
            "The method of disclosure is electronic or paper.",
            rule_id=rules.R_33_1.id,
            code="bad_delivery",
        )
    if fmt not in render.FORMATS:
        raise ValidationFailed(
            "形式は json / csv / html / pdf です。", "Format: json / csv / html / pdf.", code="bad_format"
        )
    corrections = _parse_corrections(correct)
    partial = _parse_partial(refuse_part)
    # The package is written before the commit and published after it (the ExitStack closes after the
    # transaction): no disclosure file without its record, never through a link (kernel.files).
    with contextlib.ExitStack() as publish_after_commit:
        with st.transaction() as c:
            kind = service.show(c, request_id).kind  # authorises (RIGHTS_MANAGE)
            render.check_format(kind, fmt)  # G-20: before fulfilling, not after
            if out is not None:
                files.check_output(out, force=force)  # an existing file: refused before anything is fulfilled
            if (kind in schemas.DISCLOSING or kind == "purpose_notice") and out is None:
                raise ValidationFailed(
                    "開示パッケージの書き出し先を --out で指定してください。",
                    "Give --out for the disclosure package.",
                    rule_id=rules.R_33_1.id,
                    code="out_required",
                )
            outcome, package = service.fulfil(
                c,
                request_id,
                partial_refusals=partial,
                corrections=corrections,
                refusal_explanation=explanation,
            )
            written = 0
            if package is not None and out is not None:
                body = render.render(
                    package, fmt, today_jst(c.clock), settings=c.runtime.settings, method=delivery
                )
                fh = publish_after_commit.enter_context(files.output_file(out, force=force, binary=True))
                fh.write(body)
                written = len(body)
    if json_out:
        data = outcome.model_dump(mode="json")
        data["package"] = {"path": str(out), "format": fmt, "bytes": written} if package is not None else None
        print_json(data)
        return
    console.print(
        st.t(
            f"対応しました: {labels.value('outcome', outcome.outcome, 'ja')} [{', '.join(outcome.rule_ids)}]",
            f"done: {labels.value('outcome', outcome.outcome, 'en')} [{', '.join(outcome.rule_ids)}]",
        )
    )
    for cor in outcome.corrections:
        field = labels.label(f"field.{cor.field}", st.lang, default=cor.field)
        category = labels.value("record_category", cor.category, st.lang)
        console.print(f"  {category} {cor.record_id} {field}: {cor.before!r} → {cor.after!r}", markup=False)
    for r in outcome.recipients_to_notify:
        console.print(st.t(f"  通知先: {r['name']}", f"  notify: {r['name']}"), markup=False)
    if package is not None:
        console.print(st.t(f"  書き出し: {out} ({written} バイト)", f"  written: {out} ({written} bytes)"))


@app.command("refuse")
@cli_command
def refuse(
    ctx: typer.Context,
    request_id: str,
    ground: str = typer.Option(
        ..., help="不対応の事由（この請求に使える事由は mamori rights grounds ID で確認）"
    ),
    explanation: str | None = typer.Option(
        None, help="本人に伝える具体的な理由（必須。法第36条。暗号化して記録）"
    ),
    alternative: str | None = typer.Option(
        None, help="利用停止等に代えてとる措置（事由 alternative_measure のとき必須。法第35条ただし書）"
    ),
    json_out: bool = JSON_OPT,
) -> None:
    """請求に応じない旨を決定し、本人に通知する（事由・理由つき） / refuse, with the ground and the reason."""
    st = state(ctx)
    with st.transaction() as c:
        v = service.refuse(c, request_id, ground, explanation, alternative)
    if json_out:
        print_json(v)
        return
    console.print(
        st.t(
            f"不対応を決定し通知しました: {labels.value('refusal_ground', ground, 'ja')}",
            f"refused: {labels.value('refusal_ground', ground, 'en')}",
        )
    )


@app.command("resend")
@cli_command
def resend(ctx: typer.Context, request_id: str, json_out: bool = JSON_OPT) -> None:
    """回答未送達の回答メールを再送する（新しいメールとして） / e-mail an undelivered answer again."""
    st = state(ctx)
    with st.transaction() as c:
        v = delivery.resend(c, request_id)
    print_json(v) if json_out else console.print(
        st.t(f"回答を再送しました: {_ref(v)}", f"answer sent again: {_ref(v)}"), markup=False
    )


@app.command("posted")
@cli_command
def posted(
    ctx: typer.Context,
    request_id: str,
    on: str | None = typer.Option(None, "--on", help="郵送した日 YYYY-MM-DD（省略時は今日）"),
    json_out: bool = JSON_OPT,
) -> None:
    """回答を郵送したことを記録し、請求を完了する / record that the answer letter was posted."""
    from datetime import date

    st = state(ctx)
    try:
        day = date.fromisoformat(on) if on else None
    except ValueError:
        raise ValidationFailed(
            "郵送した日は YYYY-MM-DD の形で入力してください。",
            "Give the posting date as YYYY-MM-DD.",
            code="bad_posted_on",
        ) from None
    with st.transaction() as c:
        v = delivery.record_posted(c, request_id, day or today_jst(c.clock))
    print_json(v) if json_out else console.print(
        st.t(f"郵送で回答済みにしました: {_ref(v)}", f"recorded as answered by post: {_ref(v)}"), markup=False
    )


@app.command("remind")
@cli_command
def remind(ctx: typer.Context, json_out: bool = JSON_OPT) -> None:
    """期限が3日以内の請求を担当者にメールで知らせる（1日1回まで） / remind staff of requests due within 3 days."""
    st = state(ctx)
    with st.transaction() as c:
        result = delivery.remind_due(c)
    if not result.configured:
        console.print(
            st.t(
                "通知先が設定されていません（MAMORI_REMINDER_TO）。リマインダーは送っていません。",
                "No reminder address is set (MAMORI_REMINDER_TO); no reminder was sent.",
            ),
            markup=False,
        )
        raise typer.Exit(1)
    if json_out:
        print_json(result.as_dict())
        return
    listed = "、".join(result.receipt_nos) if st.lang != "en" else ", ".join(result.receipt_nos)
    console.print(
        st.t(
            f"期限が3日以内の請求: {result.due}件、今回知らせた請求: {len(result.receipt_nos)}件"
            + (f"（{listed}）" if listed else "")
            + f"、送信: {result.sent}通",
            f"due within 3 days: {result.due}; reminded now: {len(result.receipt_nos)}"
            + (f" ({listed})" if listed else "")
            + f"; messages: {result.sent}",
        ),
        markup=False,
    )


@app.command("grounds")
@cli_command
def grounds_cmd(ctx: typer.Context, request_id: str, json_out: bool = JSON_OPT) -> None:
    """この請求に使える不対応の事由（請求の種類と適用法令による） / the grounds that can refuse this request."""
    st = state(ctx)
    with st.transaction() as c:
        v = service.show(c, request_id)
    usable = grounds_mod.for_request(v.kind, v.regime)
    if json_out:
        print_json(
            [
                {
                    "ground": g.code,
                    "rule_id": g.rule_id,
                    "article": grounds_mod.citation(g, v.kind, v.regime, st.lang),
                    "reason": g.reason(st.lang),
                    "partial": g.partial,
                    "needs_alternative": g.needs_alternative,
                }
                for g in usable
            ]
        )
        return
    for g in usable:  # lines, not a table: the reasons are sentences and must not be cut
        console.print(
            labels.value("refusal_ground", g.code, st.lang, staff=True), markup=False, soft_wrap=True
        )
        cited = grounds_mod.citation(g, v.kind, v.regime, st.lang, staff=True)
        console.print(f"  {st.t('根拠', 'article')}: {cited}", markup=False, soft_wrap=True)
        console.print(
            f"  {st.t('本人に伝える理由', 'reason told')}: {g.reason(st.lang)}", markup=False, soft_wrap=True
        )


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
        st.t(
            f"新しい回答期限: {labels.fmt_date(v.extended_due_on, 'ja')}",
            f"new due date: {labels.fmt_date(v.extended_due_on, 'en')}",
        )
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
    print_json(v) if json_out else console.print(
        st.t(f"手数料: {labels.fmt_yen(v.fee_yen, 'ja')}", f"fee: {labels.fmt_yen(v.fee_yen, 'en')}")
    )
