"""``mamori retention …`` (issue 21, R-22-1): retention rules, the disposal plan, the run, disposal records and the
privacy officer's legal holds."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from mamori.kernel import labels
from mamori.kernel.cli_support import CliState, cli_command, console, err_console, lazy, print_json, state

# Imported by the commands that use them, not at start-up (issue 16; see kernel/cli_support.py).
if TYPE_CHECKING:
    from mamori.lifecycle import retention_schemas as schemas
    from mamori.lifecycle.service import holds as holds_service
    from mamori.lifecycle.service import retention as service
else:
    schemas = lazy("mamori.lifecycle.retention_schemas")
    holds_service = lazy("mamori.lifecycle.service.holds")
    service = lazy("mamori.lifecycle.service.retention")

app = typer.Typer(
    help="保存期間と廃棄（R-22-1）：ルール、廃棄計画、廃棄の実行と記録、保全 / retention and disposal",
    no_args_is_help=True,
)
hold_app = typer.Typer(help="保全（訴訟・調査等）: 廃棄を止める / legal holds", no_args_is_help=True)
app.add_typer(hold_app, name="hold")

JSON_OPT = typer.Option(False, "--json", help="JSON で出力 / output JSON")
BASIS_WORDS = {
    "relationship_end": ("取引終了から", "from relationship end"),
    "last_activity": ("最終活動から", "from last activity"),
}
HOLD_WORDS = {
    "open_request": ("本人からの請求が未了", "open request from the person"),
    "legal_hold": ("保全（訴訟・調査等）", "legal hold"),
    "open_incident": ("漏えい等の事案が対応中", "open incident"),
}
REASON_WORDS = {
    "litigation": ("訴訟", "litigation"),
    "investigation": ("調査", "investigation"),
    "regulator": ("当局対応", "regulator"),
    "other": ("その他", "other"),
}


def _word(st: CliState, table: dict[str, tuple[str, str]], key: str) -> str:
    pair = table.get(key)
    return st.t(*pair) if pair else key


def _at(value: str | None) -> datetime | None:
    """``--at 2031-01-01``: the start of that day in Japan time."""
    if value is None:
        return None
    from mamori.kernel.clock import JST

    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        raise typer.BadParameter(
            "日付は YYYY-MM-DD で指定してください / give the date as YYYY-MM-DD"
        ) from None
    return datetime.combine(day, time(0, 0), tzinfo=JST)


@app.command("rule-add")
@cli_command
def rule_add(
    ctx: typer.Context,
    purpose: str = typer.Option(
        ..., "--purpose", "-p", help="利用目的のコード（* = すべて） / purpose code or *"
    ),
    category: str = typer.Option(
        "*", "--category", help="データ区分（* = その人のすべて） / data category or *"
    ),
    days: int = typer.Option(..., "--days", help="保存期間（日） / period in days"),
    basis: str = typer.Option(..., "--from", help="起算点: relationship_end | last_activity"),
    note: str | None = typer.Option(None, "--note", help="根拠など（社内メモ） / a note"),
    json_out: bool = JSON_OPT,
) -> None:
    """保存期間のルールを追加 / add a retention rule."""
    st = state(ctx)
    data = schemas.RuleCreate.model_validate(
        {"purpose": purpose, "category": category, "days": days, "basis": basis, "note": note}
    )
    with st.transaction() as c:
        rule = service.add_rule(c, data)
    if json_out:
        print_json(rule)
    else:
        console.print(st.t(f"ルールを追加しました: {rule.id}", f"rule added: {rule.id}"), highlight=False)


def _rules_table(st: CliState, rules: list[schemas.RuleRead]) -> Table:
    table = Table()
    table.add_column(st.t("ID", "id"), overflow="fold", min_width=32)  # whole: rule-retire takes it
    for header in (
        st.t("利用目的", "purpose"),
        st.t("データ区分", "category"),
        st.t("保存期間", "period"),
        st.t("起算点", "counted"),
        st.t("メモ", "note"),
    ):
        table.add_column(header)
    for r in rules:
        table.add_row(
            r.id,
            r.purpose,
            r.category,
            st.t(f"{r.days}日", f"{r.days} days"),
            _word(st, BASIS_WORDS, r.basis),
            r.note or "",
        )
    return table


@app.command("rule-list")
@cli_command
def rule_list(
    ctx: typer.Context,
    include_retired: bool = typer.Option(False, "--all", help="廃止済みも表示 / include retired"),
    json_out: bool = JSON_OPT,
) -> None:
    """保存期間のルール一覧 / list the retention rules."""
    st = state(ctx)
    with st.transaction() as c:
        rules = service.list_rules(c, include_retired=include_retired)
    if json_out:
        print_json(rules)
        return
    console.print(_rules_table(st, rules))


@app.command("rule-retire")
@cli_command
def rule_retire(ctx: typer.Context, rule_id: str, json_out: bool = JSON_OPT) -> None:
    """ルールを廃止 / retire a rule."""
    st = state(ctx)
    with st.transaction() as c:
        rule = service.retire_rule(c, rule_id)
    if json_out:
        print_json(rule)
    else:
        console.print(st.t(f"廃止しました: {rule.id}", f"retired: {rule.id}"), highlight=False)


def _print_plan(st: CliState, plan: schemas.RetentionPlan) -> None:
    console.print(
        st.t(
            f"基準日時: {labels.fmt_datetime(plan.at, st.lang)}  対象 {plan.persons_checked}人",
            f"as of {labels.fmt_datetime(plan.at, st.lang)}; {plan.persons_checked} persons checked",
        ),
        highlight=False,
    )
    table = Table(
        st.t("ルール", "rule"),
        st.t("利用目的", "purpose"),
        st.t("データ区分", "category"),
        st.t("保存期間", "period"),
        st.t("廃棄対象", "due"),
    )
    for r in plan.rules:
        table.add_row(
            r.rule_id[:8],
            r.purpose,
            r.category,
            st.t(
                f"{r.days}日（{_word(st, BASIS_WORDS, r.basis)}）",
                f"{r.days} days ({_word(st, BASIS_WORDS, r.basis)})",
            ),
            str(r.due),
        )
    console.print(table)
    console.print(
        st.t(
            f"廃棄（暗号鍵の破棄）: {plan.due}人  区分のみ削除: {plan.category_due}人  ルールの対象外: {plan.uncovered}人",
            f"to crypto-shred: {plan.due}; category only: {plan.category_due}; covered by no rule: {plan.uncovered}",
        ),
        highlight=False,
    )
    if plan.held:
        held = Table(st.t("保留の理由", "held by"), st.t("規則", "rule"), st.t("人数", "persons"))
        for h in plan.held:
            held.add_row(_word(st, HOLD_WORDS, h.code), h.rule_id, str(h.persons))
        console.print(held)
    kept = plan.provision_kept
    if kept.persons:
        console.print(
            st.t(
                f"第三者提供の記録は保存します（R-29-4）: {kept.persons}人・{kept.records}件、"
                f"保存期限 {labels.fmt_date(kept.earliest_until, st.lang)}〜{labels.fmt_date(kept.latest_until, st.lang)}",
                f"provision records kept (R-29-4): {kept.records} of {kept.persons} persons, until "
                f"{labels.fmt_date(kept.earliest_until, st.lang)} – {labels.fmt_date(kept.latest_until, st.lang)}",
            ),
            highlight=False,
        )
    console.print(f"sha256: {plan.sha256}", markup=False, highlight=False)


@app.command("plan")
@cli_command
def plan(
    ctx: typer.Context,
    at: str | None = typer.Option(None, "--at", help="この日（日本時間 0 時）時点で計算 / as of this day"),
    json_out: bool = JSON_OPT,
) -> None:
    """廃棄計画：何を・なぜ廃棄するか（個人データは表示しない） / what would be disposed of, and why."""
    st = state(ctx)
    when = _at(at)
    with st.transaction() as c:
        result = service.plan(c, at=when, detail=json_out)
    if json_out:
        print_json(result)
        return
    _print_plan(st, result)


def _print_record(st: CliState, r: schemas.DisposalRead) -> None:
    console.print(
        st.t(
            f"廃棄記録 {r.id}: {labels.fmt_datetime(r.ran_at, st.lang)} {r.ran_by}（{r.trigger}）方法 {r.method}、{r.persons}人",
            f"disposal {r.id}: {labels.fmt_datetime(r.ran_at, st.lang)} by {r.ran_by} ({r.trigger}), {r.method}, "
            f"{r.persons} persons",
        ),
        highlight=False,
    )
    if r.counts:
        console.print(
            "  " + ", ".join(f"{k}={v}" for k, v in r.counts.items()), markup=False, highlight=False
        )
    if r.held:
        console.print(
            "  "
            + st.t("保留: ", "held: ")
            + ", ".join(f"{_word(st, HOLD_WORDS, k)}={v}" for k, v in r.held.items()),
            markup=False,
            highlight=False,
        )


@app.command("run")
@cli_command
def run(
    ctx: typer.Context,
    yes: bool = typer.Option(False, "--yes", help="確認せずに実行 / do not ask"),
    json_out: bool = JSON_OPT,
) -> None:
    """廃棄を実行（暗号鍵の破棄による消去）し、廃棄記録を残す / dispose of what is due and record it."""
    st = state(ctx)
    expected: str | None = None
    if not yes:
        if json_out:
            raise typer.BadParameter("--json では --yes を指定してください / with --json give --yes")
        with st.transaction() as c:
            shown = service.plan(c)
        _print_plan(st, shown)
        expected = shown.sha256
        if not typer.confirm(
            st.t("廃棄を実行しますか？（元に戻せません）", "dispose now? (cannot be undone)"), default=False
        ):
            raise typer.Exit(1)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn  # only for this command

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=err_console, disable=json_out, transient=True) as progress:
        task = progress.add_task(st.t("廃棄中", "disposing"), total=None)
        with st.transaction() as c:
            record = service.run(
                c,
                progress=lambda done, total: progress.update(task, completed=done, total=total),
                expected_sha256=expected,
            )
    if json_out:
        print_json(record)
        return
    _print_record(st, record)


@app.command("disposals")
@cli_command
def disposals(ctx: typer.Context, json_out: bool = JSON_OPT) -> None:
    """廃棄記録の一覧 / the disposal records."""
    st = state(ctx)
    with st.transaction() as c:
        records = service.disposals(c)
    if json_out:
        print_json(records)
        return
    for r in records:
        _print_record(st, r)
    if not records:
        console.print(st.t("廃棄記録はありません。", "no disposal records."))


@hold_app.command("set")
@cli_command
def hold_set(
    ctx: typer.Context,
    customer_id: str,
    reason: str = typer.Option(..., "--reason", help="litigation | investigation | regulator | other"),
    note: str | None = typer.Option(None, "--note", help="事件番号など（社内メモ） / a reference"),
    json_out: bool = JSON_OPT,
) -> None:
    """保全を設定（廃棄を止める） / put a legal hold on a customer."""
    st = state(ctx)
    with st.transaction() as c:
        made = holds_service.set(c, customer_id, reason, note)
    if json_out:
        print_json(made)
    else:
        console.print(st.t(f"保全を設定しました: {made.id}", f"hold set: {made.id}"), highlight=False)


@hold_app.command("release")
@cli_command
def hold_release(ctx: typer.Context, hold_id: str, json_out: bool = JSON_OPT) -> None:
    """保全を解除 / release a legal hold."""
    st = state(ctx)
    with st.transaction() as c:
        done = holds_service.release(c, hold_id)
    if json_out:
        print_json(done)
    else:
        console.print(st.t(f"保全を解除しました: {done.id}", f"hold released: {done.id}"), highlight=False)


@hold_app.command("list")
@cli_command
def hold_list(
    ctx: typer.Context,
    include_released: bool = typer.Option(False, "--all", help="解除済みも表示 / include released"),
    json_out: bool = JSON_OPT,
) -> None:
    """保全の一覧 / list the legal holds."""
    st = state(ctx)
    with st.transaction() as c:
        rows = holds_service.list_holds(c, include_released=include_released)
    if json_out:
        print_json(rows)
        return
    table = Table()
    table.add_column(st.t("ID", "id"), overflow="fold", min_width=32)  # whole: hold release takes it
    table.add_column(st.t("顧客ID", "customer"), overflow="fold", min_width=32)
    for header in (st.t("理由", "reason"), st.t("設定", "set"), st.t("解除", "released")):
        table.add_column(header)
    for h in rows:
        table.add_row(
            h.id,
            h.customer_id,
            _word(st, REASON_WORDS, h.reason),
            f"{labels.fmt_date(h.set_at, st.lang)} {h.set_by}",
            labels.fmt_date(h.released_at, st.lang) if h.released_at else "",
        )
    console.print(table)


def register(app_: typer.Typer) -> None:
    """Adds the command group to the top-level app."""
    app_.add_typer(app, name="retention")
