"""CLI: mamori processors … — 委託先の管理 (contracts, evaluations, audits, sub-outsourcing, operators, handover)."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from mamori.kernel import files, labels
from mamori.kernel.cli_support import CliState, cli_command, console, lazy, print_json, state
from mamori.kernel.clock import today_jst
from mamori.kernel.errors import ValidationFailed

# Imported by the commands that use them, not at start-up (issue 16; see kernel/cli_support.py).
if TYPE_CHECKING:
    from mamori.law import articles
    from mamori.processors import schemas, service
else:
    articles = lazy("mamori.law.articles")
    schemas = lazy("mamori.processors.schemas")
    service = lazy("mamori.processors.service")


# The codes --help lists, written out so that --help imports no schema (issue 16); schemas.CLAUSES and
# schemas.EVALUATION_ITEMS still validate, and tests/cli/test_startup.py fails if these drift from them.
HELP_CLAUSES = (
    "confidentiality",
    "purpose_limitation",
    "security_measures",
    "subcontract_approval",
    "breach_notice",
    "return_or_deletion",
    "audit_right",
)
HELP_EVALUATION_ITEMS = (
    "basic_policy",
    "handling_rules",
    "organisational",
    "human",
    "physical",
    "technical",
    "external_environment",
)


def _opts(domain: str, codes: tuple[str, ...] | list[str]) -> str:
    """The allowed codes of an option with their words for --help: 「direct（本人から直接取得） / …」 (spaced, so the
    help panel can wrap it)."""
    return labels.choices(domain, codes).replace("、", " / ")


app = typer.Typer(help="委託先の管理 / outsourcees, contracts, audits, scoped access", no_args_is_help=True)
contracts_app = typer.Typer(help="委託契約 / outsourcing contracts", no_args_is_help=True)
audits_app = typer.Typer(help="委託先の監査 / audits of outsourcees", no_args_is_help=True)
subs_app = typer.Typer(help="再委託 / sub-outsourcing requests", no_args_is_help=True)
operators_app = typer.Typer(help="委託先オペレーター / outsourcee operator accounts", no_args_is_help=True)
app.add_typer(contracts_app, name="contracts")
app.add_typer(audits_app, name="audits")
app.add_typer(subs_app, name="subcontractors")
app.add_typer(operators_app, name="operators")

JSON_OPT = typer.Option(False, "--json")


def _split(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def _h(st: CliState, key: str) -> str:
    """A heading from the label dictionary (processors_field.*, or field.*)."""
    return labels.label(f"processors_field.{key}", st.lang, default="") or labels.label(
        f"field.{key}", st.lang, default=key
    )


def _yesno(st: CliState, flag: bool) -> str:
    return labels.label("yesno.yes" if flag else "yesno.no", st.lang)


def _period(st: CliState, start: object, end: object) -> str:
    fmt = labels.fmt_date
    return f"{fmt(start, st.lang)}〜{fmt(end, st.lang)}"  # type: ignore[arg-type]


def _country(st: CliState, code: str | None) -> str:
    if not code:
        return "—"
    if not labels.has(f"country.{code}"):
        return code
    return labels.value("country", code, st.lang, staff=code != "JP")


def _br(st: CliState, text: str) -> str:
    """「（…）」 in Japanese, " (…)" in English."""
    return f" ({text})" if st.lang == "en" else f"（{text}）"


def _sep(st: CliState) -> str:
    return ", " if st.lang == "en" else "、"


# -- contracts -----------------------------------------------------------------------------------------------


@contracts_app.command("add")
@cli_command
def contracts_add(
    ctx: typer.Context,
    counterparty: str = typer.Option(..., "--counterparty", help="委託先の ID（provision counterparties）"),
    work: str = typer.Option(..., "--work", help="委託する業務の内容"),
    purposes: str = typer.Option(..., "--purposes", help="利用目的コード（カンマ区切り）"),
    fields: str = typer.Option(..., "--fields", help="業務に必要な項目（カンマ区切り, attr:<key> 可）"),
    clauses: str = typer.Option(
        "",
        "--clauses",
        help="契約に含まれる条項（カンマ区切り）: " + _opts("contract_clause", HELP_CLAUSES),
    ),
    starts_on: str = typer.Option(..., "--starts", help="開始日 YYYY-MM-DD"),
    ends_on: str = typer.Option(..., "--ends", help="終了日 YYYY-MM-DD（当日を含む）"),
    activity_write: bool = typer.Option(False, "--activity-write", help="対応履歴の記録を委託する"),
    reference: str | None = typer.Option(None, "--reference", help="契約番号など（個人情報を書かない）"),
    json_out: bool = JSON_OPT,
) -> None:
    """委託契約を登録（下書き） / record an outsourcing contract (draft)."""
    st = state(ctx)
    data = schemas.ContractCreate.model_validate(
        {
            "counterparty_id": counterparty,
            "work": work,
            "purposes": _split(purposes),
            "fields": _split(fields),
            "clauses": _split(clauses),
            "starts_on": starts_on,
            "ends_on": ends_on,
            "activity_write": activity_write,
            "reference": reference,
        }
    )
    with st.transaction() as c:
        out = service.add_contract(c, data)
    if json_out:
        print_json(out)
        return
    console.print(st.t(f"委託契約を登録しました: {out.id}", f"contract recorded: {out.id}"))
    if out.missing_clauses:
        console.print(
            st.t(
                "不足している条項（開始できません, R-25-1）: ", "missing clauses (cannot activate, R-25-1): "
            )
            + _sep(st).join(
                labels.value("contract_clause", c, st.lang, staff=True) for c in out.missing_clauses
            )
        )


@contracts_app.command("list")
@cli_command
def contracts_list(
    ctx: typer.Context,
    status: str | None = typer.Option(
        None,
        "--status",
        help="状態で絞り込む: " + _opts("contract_status", ("draft", "active", "suspended", "ended")),
    ),
    json_out: bool = JSON_OPT,
) -> None:
    """委託契約の一覧（監査期限切れを表示） / contracts, with overdue audits."""
    st = state(ctx)
    with st.transaction() as c:
        rows = service.list_contracts(c, status)
    if json_out:
        print_json(rows)
        return
    table = Table(
        "ID",
        *(
            _h(st, k)
            for k in (
                "status",
                "outsourcee",
                "work",
                "period",
                "customers",
                "evaluation",
                "overdue_audits",
                "next_audit",
            )
        ),
    )
    for r in rows:
        overdue = (
            f"[bold red]{labels.fmt_count(r.overdue_audits, '件', st.lang)}{_br(st, _h(st, 'overdue'))}[/]"
            if r.overdue_audits
            else labels.fmt_count(0, "件", st.lang)
        )
        table.add_row(
            r.id,
            labels.value("contract_status", r.status, st.lang, staff=True),
            f"{r.outsourcee}{_br(st, _country(st, r.country))}",
            r.work,
            _period(st, r.starts_on, r.ends_on),
            labels.fmt_count(r.customers, "人", st.lang),
            labels.value("evaluation_result", r.evaluation, st.lang),
            overdue,
            labels.fmt_date(r.next_audit_due, st.lang),
        )
    console.print(table)
    late = sum(r.overdue_audits for r in rows)
    if late:
        console.print(
            f"[bold red]{st.t(f'期限超過の監査: {late}件', f'overdue audits: {late}')}[/]", highlight=False
        )


@contracts_app.command("show")
@cli_command
def contracts_show(ctx: typer.Context, contract_id: str, json_out: bool = JSON_OPT) -> None:
    """委託契約の詳細 / one contract with its evaluations, audits and sub-outsourcing."""
    st = state(ctx)
    with st.transaction() as c:
        d = service.show_contract(c, contract_id)
    if json_out:
        print_json(d)
        return
    sep = _sep(st)
    for label, value in (
        (_h(st, "outsourcee"), f"{d.outsourcee}{_br(st, _country(st, d.country))}"),
        (_h(st, "status"), labels.value("contract_status", d.status, st.lang, staff=True)),
        (_h(st, "work"), d.work),
        (_h(st, "purposes"), sep.join(d.purposes) or "—"),
        (_h(st, "fields"), sep.join(labels.label(f"field.{f}", st.lang, default=f) for f in d.fields) or "—"),
        (_h(st, "period"), _period(st, d.starts_on, d.ends_on)),
        (
            _h(st, "missing_clauses"),
            sep.join(labels.value("contract_clause", c, st.lang, staff=True) for c in d.missing_clauses)
            or "—",
        ),
        (_h(st, "evaluation"), labels.value("evaluation_result", d.evaluation, st.lang)),
        (_h(st, "customers"), labels.fmt_count(d.customers, "人", st.lang)),
        (_h(st, "operators"), labels.fmt_count(d.operators, "人", st.lang)),
        (_h(st, "overdue_audits"), labels.fmt_count(d.overdue_audits, "件", st.lang)),
    ):
        console.print(f"{label}: {value}", markup=False, highlight=False)
    for a in d.audits:
        flag = _br(st, _h(st, "overdue")) if a.overdue else ""
        console.print(
            f"  {_h(st, 'audit')} {a.id} {_h(st, 'due')} {labels.fmt_date(a.due_on, st.lang)} "
            f"{labels.value('audit_method', a.method, st.lang)} → "
            f"{labels.value('audit_result', a.result, st.lang)}{flag}",
            markup=False,
            highlight=False,
        )
    for s in d.subcontracts:
        console.print(
            f"  {_h(st, 'subcontract')} {s.id} {s.subcontractor}{_br(st, _country(st, s.country))} "
            f"{labels.value('subcontract_status', s.status, st.lang)}",
            markup=False,
            highlight=False,
        )


@contracts_app.command("evaluate")
@cli_command
def contracts_evaluate(
    ctx: typer.Context,
    contract_id: str,
    falls_short: str = typer.Option(
        "",
        "--falls-short",
        help="基準を満たさない項目（カンマ区切り）: " + _opts("evaluation_item", HELP_EVALUATION_ITEMS),
    ),
    meets: str = typer.Option("", "--meets", help="満たす項目（カンマ区切り, all = すべて）"),
    note: str | None = typer.Option(None, "--note"),
    json_out: bool = JSON_OPT,
) -> None:
    """委託先の選定評価（GL-T 10 の各項目） / record a selection evaluation against the GL-T 10 items."""
    st = state(ctx)
    short = _split(falls_short)
    ok = list(schemas.EVALUATION_ITEMS) if meets.strip() == "all" else _split(meets)
    items: dict[str, str] = {i: "meets" for i in ok if i not in short}
    items.update({i: "falls_short" for i in short})
    data = schemas.EvaluationIn.model_validate({"items": items, "note": note})
    with st.transaction() as c:
        ev = service.evaluate(c, contract_id, data)
    print_json(ev) if json_out else console.print(
        st.t(
            f"選定評価を記録しました: {labels.value('evaluation_result', ev.result, 'ja')}",
            f"evaluation recorded: {labels.value('evaluation_result', ev.result, 'en')}",
        )
    )


@contracts_app.command("activate")
@cli_command
def contracts_activate(ctx: typer.Context, contract_id: str, json_out: bool = JSON_OPT) -> None:
    """委託契約を開始（条項と選定評価を確認, R-25-1） / start a contract."""
    st = state(ctx)
    with st.transaction() as c:
        out = service.activate(c, contract_id)
    print_json(out) if json_out else console.print(st.t("開始しました。", "activated."))


@contracts_app.command("end")
@cli_command
def contracts_end(
    ctx: typer.Context,
    contract_id: str,
    disposal: str = typer.Option(
        ..., "--disposal", help="個人データの扱い: " + _opts("disposal", ("returned", "deleted"))
    ),
    evidence: str = typer.Option(..., "--evidence", help="返却・削除の証明書などの参照"),
    json_out: bool = JSON_OPT,
) -> None:
    """委託契約を終了（返却・削除の確認を記録、アクセスは直ちに終了） / end a contract."""
    st = state(ctx)
    data = schemas.EndIn.model_validate({"disposal": disposal, "evidence": evidence})
    with st.transaction() as c:
        out = service.end(c, contract_id, data)
    print_json(out) if json_out else console.print(st.t("終了しました。", "ended."))


@contracts_app.command("customers")
@cli_command
def contracts_customers(
    ctx: typer.Context,
    contract_id: str,
    add: str = typer.Option("", "--add", help="対象に加える顧客 ID（カンマ区切り）"),
    purpose: str | None = typer.Option(None, "--purpose", help="この利用目的を通知済みの顧客を対象に加える"),
    remove: str = typer.Option("", "--remove", help="対象から外す顧客 ID（カンマ区切り）"),
    json_out: bool = JSON_OPT,
) -> None:
    """委託の対象顧客（追加・削除・一覧） / customers a contract covers (add, remove, list)."""
    st = state(ctx)
    if remove and (add or purpose):
        raise ValidationFailed(
            "--remove は --add / --purpose と同時に使えません。",
            "--remove cannot be combined with --add / --purpose.",
            code="bad_options",
        )
    with st.transaction() as c:
        if add or purpose:
            data = schemas.CustomersIn.model_validate({"customer_ids": _split(add), "purpose": purpose})
            cov = service.assign_customers(c, contract_id, data)
        elif remove:
            cov = service.remove_customers(c, contract_id, _split(remove))
        else:
            ids = service.covered_customers(c, contract_id)
            print_json({"contract_id": contract_id, "customer_ids": ids}) if json_out else console.print(
                "\n".join(ids) or "-", markup=False, highlight=False
            )
            return
    print_json(cov) if json_out else console.print(
        st.t(
            f"対象顧客: 変更 {cov.added}人、不明 {cov.unknown}件、合計 {cov.total}人",
            f"covered customers: changed {cov.added}, unknown {cov.unknown}, total {cov.total}",
        )
    )


# -- audits --------------------------------------------------------------------------------------------------


@audits_app.command("schedule")
@cli_command
def audits_schedule(
    ctx: typer.Context,
    contract_id: str,
    due: str = typer.Option(..., "--due", help="期限 YYYY-MM-DD"),
    method: str = typer.Option(
        "document",
        "--method",
        help="監査の方法: " + _opts("audit_method", ("on_site", "document", "questionnaire", "remote")),
    ),
    json_out: bool = JSON_OPT,
) -> None:
    """監査を予定 / schedule an audit."""
    st = state(ctx)
    data = schemas.AuditScheduleIn.model_validate({"due_on": due, "method": method})
    with st.transaction() as c:
        a = service.schedule_audit(c, contract_id, data)
    print_json(a) if json_out else console.print(
        st.t(f"監査を予定しました: {a.id}", f"audit scheduled: {a.id}")
    )


@audits_app.command("record")
@cli_command
def audits_record(
    ctx: typer.Context,
    audit_id: str,
    result: str = typer.Option(
        ..., "--result", help="監査の結果: " + _opts("audit_result", ("passed", "failed"))
    ),
    performed_on: str | None = typer.Option(None, "--performed-on", help="実施日 YYYY-MM-DD（既定: 今日）"),
    findings: str | None = typer.Option(None, "--findings", help="指摘事項（個人情報を書かない）"),
    json_out: bool = JSON_OPT,
) -> None:
    """監査結果を記録（不合格なら契約を停止） / record an audit result (a failure suspends the contract)."""
    st = state(ctx)
    with st.transaction() as c:
        data = schemas.AuditResultIn.model_validate(
            {
                "result": result,
                "performed_on": performed_on or today_jst(c.clock).isoformat(),
                "findings": findings,
            }
        )
        a = service.record_audit(c, audit_id, data)
    print_json(a) if json_out else console.print(
        st.t(
            f"監査結果を記録しました: {labels.value('audit_result', a.result, 'ja')}",
            f"audit result recorded: {labels.value('audit_result', a.result, 'en')}",
        )
    )


@audits_app.command("remedy")
@cli_command
def audits_remedy(
    ctx: typer.Context,
    audit_id: str,
    remedy: str = typer.Option(..., "--remedy", help="是正の内容"),
    json_out: bool = JSON_OPT,
) -> None:
    """不合格監査の是正を記録（すべて是正されれば契約を再開） / record the remedy of a failed audit."""
    st = state(ctx)
    data = schemas.RemedyIn.model_validate({"remedy": remedy})
    with st.transaction() as c:
        a = service.remedy_audit(c, audit_id, data)
    print_json(a) if json_out else console.print(st.t("是正を記録しました。", "remedy recorded."))


@audits_app.command("list")
@cli_command
def audits_list(
    ctx: typer.Context,
    contract: str | None = typer.Option(None, "--contract"),
    overdue: bool = typer.Option(False, "--overdue", help="期限切れのみ"),
    json_out: bool = JSON_OPT,
) -> None:
    """監査の予定と結果 / audits (overdue ones flagged)."""
    st = state(ctx)
    with st.transaction() as c:
        rows = service.list_audits(c, contract, overdue_only=overdue)
    if json_out:
        print_json(rows)
        return
    table = Table(
        "ID", *(_h(st, k) for k in ("contract", "due", "method", "performed", "result", "remedied"))
    )
    for a in rows:
        due = labels.fmt_date(a.due_on, st.lang)
        if a.overdue:
            due = f"[bold red]{due}{_br(st, _h(st, 'overdue'))}[/]"
        table.add_row(
            a.id,
            a.contract_id,
            due,
            labels.value("audit_method", a.method, st.lang, staff=True),
            labels.fmt_date(a.performed_on, st.lang),
            labels.value("audit_result", a.result, st.lang),
            _yesno(st, a.remedied_at is not None),
        )
    console.print(table)
    late = sum(1 for a in rows if a.overdue)
    if late:
        console.print(
            f"[bold red]{st.t(f'期限超過の監査: {late}件', f'overdue audits: {late}')}[/]", highlight=False
        )


# -- sub-outsourcing -----------------------------------------------------------------------------------------


@subs_app.command("request")
@cli_command
def subs_request(
    ctx: typer.Context,
    contract_id: str,
    name: str = typer.Option(..., "--name", help="再委託先の名称"),
    country: str = typer.Option("JP", "--country"),
    work: str = typer.Option(..., "--work", help="再委託する業務"),
    methods: str = typer.Option(..., "--methods", help="取扱方法・安全管理措置"),
    json_out: bool = JSON_OPT,
) -> None:
    """再委託の申請を記録 / record a sub-outsourcing request."""
    st = state(ctx)
    data = schemas.SubcontractIn.model_validate(
        {"subcontractor": name, "country": country, "work": work, "methods": methods}
    )
    with st.transaction() as c:
        s = service.request_subcontract(c, contract_id, data)
    print_json(s) if json_out else console.print(
        st.t(f"申請を記録しました: {s.id}", f"request recorded: {s.id}")
    )


@subs_app.command("approve")
@cli_command
def subs_approve(
    ctx: typer.Context,
    subcontract_id: str,
    note: str | None = typer.Option(None, "--note"),
    json_out: bool = JSON_OPT,
) -> None:
    """再委託を承認（個人情報保護管理者） / approve sub-outsourcing (privacy officer)."""
    st = state(ctx)
    with st.transaction() as c:
        s = service.approve_subcontract(c, subcontract_id, schemas.DecisionIn(note=note))
    print_json(s) if json_out else console.print(st.t("承認しました。", "approved."))


@subs_app.command("refuse")
@cli_command
def subs_refuse(
    ctx: typer.Context,
    subcontract_id: str,
    note: str | None = typer.Option(None, "--note"),
    json_out: bool = JSON_OPT,
) -> None:
    """再委託を拒否（個人情報保護管理者） / refuse sub-outsourcing (privacy officer)."""
    st = state(ctx)
    with st.transaction() as c:
        s = service.refuse_subcontract(c, subcontract_id, schemas.DecisionIn(note=note))
    print_json(s) if json_out else console.print(st.t("拒否しました。", "refused."))


# -- operators -----------------------------------------------------------------------------------------------


@operators_app.command("add")
@cli_command
def operators_add(
    ctx: typer.Context,
    contract_id: str,
    username: str,
    display_name: str = typer.Option(..., "--display-name"),
    json_out: bool = JSON_OPT,
) -> None:
    """委託先オペレーターのアカウントを作成し契約に紐付け（二要素認証が必須） / open an operator account for a contract."""
    st = state(ctx)
    data = schemas.OperatorCreate.model_validate({"username": username, "display_name": display_name})
    with st.transaction() as c:
        op = service.add_operator(c, contract_id, data)
    if json_out:
        print_json(op)
        return
    console.print(
        st.t(
            f"作成しました: {op.username}（パスワードと二要素認証の設定が必要です）",
            f"created: {op.username} (a password and a second factor must be set)",
        ),
        markup=False,
    )


@operators_app.command("list")
@cli_command
def operators_list(
    ctx: typer.Context, contract: str | None = typer.Option(None, "--contract"), json_out: bool = JSON_OPT
) -> None:
    """委託先オペレーターの一覧 / operator accounts."""
    st = state(ctx)
    with st.transaction() as c:
        rows = service.list_operators(c, contract)
    if json_out:
        print_json(rows)
        return
    table = Table(*(_h(st, k) for k in ("username", "contract", "mfa", "active")))
    for o in rows:
        table.add_row(o.username, o.contract_id, _yesno(st, o.mfa_enrolled), _yesno(st, o.active))
    console.print(table)


# -- handover ------------------------------------------------------------------------------------------------


@app.command("handover")
@cli_command
def handover(
    ctx: typer.Context,
    contract_id: str,
    out: Path = typer.Option(
        ..., "--out", help="出力する CSV ファイル（既存のファイルは --force なしでは上書きしない）"
    ),
    fields: str | None = typer.Option(None, "--fields", help="項目（カンマ区切り; 既定: 契約の項目すべて）"),
    force: bool = typer.Option(
        False, "--force", help="既存の出力ファイルを置き換える / replace an existing file"
    ),
    json_out: bool = JSON_OPT,
) -> None:
    """委託先への引渡しファイルを作成し、引渡し記録を残す（R-25-1） / export the handover file and log it."""
    st = state(ctx)
    data = schemas.HandoverIn.model_validate({"fields": _split(fields) if fields is not None else None})
    # The file is opened only after the service has authorised the handover (a refusal is the refusal, not a file
    # error); an existing file is refused there, which rolls the handover back. It is written before the commit
    # and published only after it (the ExitStack closes after the transaction): no unlogged file, no half file,
    # never through a link (kernel.files).
    with contextlib.ExitStack() as publish_after_commit:
        with st.transaction() as c:
            result = service.handover(c, contract_id, data)
            fh = publish_after_commit.enter_context(files.output_file(out, force=force, newline=""))
            writer = files.csv_dict_writer(fh, ["customer_id", *result.record.fields])  # formulas neutralised
            writer.writeheader()
            writer.writerows(result.rows)
    rec = result.record
    if json_out:
        print_json(rec)
        return
    console.print(
        st.t(
            f"引渡しを記録しました: {rec.customer_count}人（除外 {rec.withheld_count}人）→ {out}",
            f"handover recorded: {labels.fmt_count(rec.customer_count, '人', 'en')} "
            f"({rec.withheld_count} withheld) → {out}",
        ),
        markup=False,
    )
    for rule, n in rec.withheld_rules.items():
        try:
            why = articles.cite(rule, st.lang, staff=True)
        except (KeyError, LookupError):
            why = rule
        console.print(f"  {why}: {labels.fmt_count(n, '人', st.lang)}", markup=False, highlight=False)


@app.command("handovers")
@cli_command
def handovers(ctx: typer.Context, contract_id: str, json_out: bool = JSON_OPT) -> None:
    """引渡し記録の一覧（値は含まない） / the handover log of a contract."""
    st = state(ctx)
    with st.transaction() as c:
        rows = service.list_handovers(c, contract_id)
    if json_out:
        print_json(rows)
        return
    table = Table(*(_h(st, k) for k in ("handed_at", "handed_by", "count", "fields")))
    for h in rows:
        table.add_row(
            labels.fmt_datetime(h.handed_at, st.lang),
            h.handed_by,
            labels.fmt_count(h.customer_count, "人", st.lang),
            _sep(st).join(labels.label(f"field.{f}", st.lang, default=f) for f in h.fields),
        )
    console.print(table)
