"""``mamori incidents scope | scopes | scope-remove`` — the scope of an incident from evidence (issue 22; R-26-1,
R-26-7).

``scope KEY`` adds one method, chosen by its options:

- ``--from-audit --user U | --session ID | --token ID --since T --until T``: what the account, session or API
  token read or exported between two times (a progress bar while the audit log is read);
- ``--provision ID`` / ``--handover ID``: the people of a provision or of a handover to an outsourcee;
- ``--ids-file F --fields a,b``: customer ids, one a line (unknown ids refuse the whole file);
- ``--filter purpose=contract --filter origin=EU … --fields a,b``: a filter needing no decryption (purpose,
  import_job_id, origin, owner, team, created_since, created_until);
- ``--estimate N --fields a,b``: an unknown count entered as a maximum.

Times without a zone are Japan time (JST). ``scopes KEY`` shows the summary (people, items and categories by
people, 要配慮 / financial / EU / UK) and the methods; ``scope-remove KEY SCOPE_ID`` withdraws one. ``--json``
everywhere. Nothing here prints a personal value: ids, field names, categories and counts."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import typer
from rich.table import Table

from mamori.kernel.cli_support import CliState, cli_command, console, err_console, lazy, print_json, state

if TYPE_CHECKING:
    from mamori.incidents import scope_schemas as schemas
    from mamori.incidents.service import scope as service
    from mamori.kernel import errors
else:
    schemas = lazy("mamori.incidents.scope_schemas")
    service = lazy("mamori.incidents.service.scope")
    errors = lazy("mamori.kernel.errors")

JST = ZoneInfo("Asia/Tokyo")
MAX_IDS_FILE = 8 * 1024 * 1024
FILTER_KEYS = ("purpose", "import_job_id", "origin", "owner", "team", "created_since", "created_until")


def _bad(ja: str, en: str) -> errors.ValidationFailed:
    return errors.ValidationFailed(ja, en, code="bad_option")


def _time(text: str | None, name: str) -> datetime | None:
    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise _bad(
            f"{name} の日時の形式が正しくありません（例: 2026-12-04T10:00）。",
            f"{name}: not a date and time (e.g. 2026-12-04T10:00).",
        ) from None
    return value.replace(tzinfo=JST) if value.tzinfo is None else value


def _fields(text: str | None) -> list[str]:
    return [f.strip() for f in (text or "").split(",") if f.strip()]


def _ids(path: Path) -> list[str]:
    try:
        if path.stat().st_size > MAX_IDS_FILE:
            raise _bad(
                "ID ファイルが大きすぎます（8 MB まで）。", "The ids file is too large (8 MB at most)."
            )
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError):
        raise _bad(
            "ID ファイルを読めません（UTF-8 のテキスト）。", "Cannot read the ids file (UTF-8 text)."
        ) from None
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def _filter(pairs: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        name = name.strip()
        if not sep or name not in FILTER_KEYS:
            raise _bad(
                "--filter は 名前=値 です（名前: " + ", ".join(FILTER_KEYS) + "）。",
                "--filter takes name=value (names: " + ", ".join(FILTER_KEYS) + ").",
            )
        out[name] = _time(value, name) if name.startswith("created_") else value.strip()
    return out


def register(app: typer.Typer) -> None:
    """Add this part's commands to the ``mamori incidents`` group."""
    app.command("scope")(scope)
    app.command("scopes")(scopes)
    app.command("scope-remove")(scope_remove)


@cli_command
def scope(
    ctx: typer.Context,
    key: str = typer.Argument(..., help="事案番号（INC-0003）または事案ID / incident number or id"),
    from_audit: bool = typer.Option(False, "--from-audit", help="監査ログから / from the audit log"),
    user: str | None = typer.Option(None, "--user", help="担当者のユーザー名 / staff user name"),
    session: str | None = typer.Option(None, "--session", help="セッションID / session id"),
    token: str | None = typer.Option(None, "--token", help="API トークンID / API token id"),
    since: str | None = typer.Option(None, "--since", help="開始日時（含む、既定 JST） / from (inclusive)"),
    until: str | None = typer.Option(None, "--until", help="終了日時（含まない） / until (exclusive)"),
    provision: str | None = typer.Option(None, "--provision", help="提供記録ID / provision id"),
    handover: str | None = typer.Option(None, "--handover", help="委託先への引渡しID / handover id"),
    ids_file: Path | None = typer.Option(None, "--ids-file", help="顧客IDのファイル（1行に1件） / ids file"),
    filters: list[str] = typer.Option([], "--filter", help="条件 名前=値（複数可） / name=value"),
    estimate: int | None = typer.Option(None, "--estimate", help="最大人数の見込み / estimated maximum"),
    fields: str | None = typer.Option(None, "--fields", help="項目名（カンマ区切り） / field names"),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """事案の範囲を証拠から登録する（1つの方法） / add one method to an incident's scope."""
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn

    st = state(ctx)
    chosen = [
        name
        for name, given in (
            ("--from-audit", from_audit),
            ("--provision", provision is not None),
            ("--handover", handover is not None),
            ("--ids-file", ids_file is not None),
            ("--filter", bool(filters)),
            ("--estimate", estimate is not None),
        )
        if given
    ]
    if len(chosen) != 1:
        raise _bad(
            "方法を1つ指定してください: --from-audit / --provision / --handover / --ids-file / --filter / --estimate",
            "Choose one method: --from-audit / --provision / --handover / --ids-file / --filter / --estimate",
        )
    body: Any
    if from_audit:
        body = schemas.AuditScopeIn(
            username=user,
            session_id=session,
            token_id=token,
            since=_time(since, "--since"),
            until=_time(until, "--until"),
        )
    elif provision is not None:
        body = schemas.ProvisionScopeIn(provision_id=provision)
    elif handover is not None:
        body = schemas.HandoverScopeIn(handover_id=handover)
    elif ids_file is not None:
        body = schemas.IdsScopeIn(ids=_ids(ids_file), fields=_fields(fields))
    elif filters:
        body = schemas.FilterScopeIn.model_validate({**_filter(filters), "fields": _fields(fields)})
    else:
        body = schemas.EstimateScopeIn(maximum=estimate, fields=_fields(fields))
    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}"))
    with Progress(*columns, console=err_console, disable=json_out or not from_audit, transient=True) as bar:
        task = bar.add_task(
            st.t("監査ログを読んでいます（件）", "reading the audit log (entries)"), total=None
        )
        with st.transaction() as c:
            got = service.add(c, key, body, progress=lambda n: bar.update(task, completed=n))
    if json_out:
        print_json(got.model_dump(mode="json"))
        return
    maximum = f" / 最大 {got.maximum}" if got.maximum is not None else ""
    console.print(
        st.t(
            f"範囲を登録しました（{_word(st, schemas.METHOD_LABELS, got.method)}、範囲ID {got.id}）: {got.persons} 人{maximum}",
            f"Scope added ({got.method}, scope {got.id}): {got.persons} person(s)"
            + (f" / maximum {got.maximum}" if got.maximum is not None else ""),
        ),
        markup=False,
        soft_wrap=True,
    )
    _items_table(st, got.items)


def _items_table(st: CliState, items: dict[str, int]) -> None:
    if not items:
        return
    table = Table(st.t("項目", "Item"), st.t("人数", "People"))
    for name, count in items.items():
        table.add_row(schemas.field_label(name, st.lang), str(count))
    console.print(table)


def _word(st: CliState, table: dict[str, tuple[str, str]], code: str) -> str:
    pair = table.get(code)
    return st.t(*pair) if pair else code


@cli_command
def scopes(
    ctx: typer.Context,
    key: str = typer.Argument(..., help="事案番号または事案ID / incident number or id"),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """事案の範囲（人数・項目・区分）と登録した方法 / an incident's scope and the methods used."""
    st = state(ctx)
    with st.transaction() as c:
        s = service.summary(c, key)
    if json_out:
        print_json(s.model_dump(mode="json"))
        return
    console.print(
        st.t(
            f"対象者 {s.persons} 人（最大 {s.maximum} 人）、要配慮 {s.sensitive} 人、財産的被害のおそれ "
            f"{s.financial} 人、EU {s.eu} 人、英国 {s.uk} 人",
            f"{s.persons} person(s) (maximum {s.maximum}); sensitive {s.sensitive}, financial {s.financial}, "
            f"EU {s.eu}, UK {s.uk}",
        ),
        markup=False,
        soft_wrap=True,
    )
    if s.categories:
        table = Table(st.t("区分", "Category"), st.t("人数", "People"))
        for name, count in s.categories.items():
            table.add_row(_word(st, schemas.CATEGORY_LABELS, name), str(count))
        console.print(table)
    _items_table(st, s.items)
    table = Table(
        st.t("範囲ID", "Scope"), st.t("方法", "Method"), st.t("条件", "Parameters"), st.t("人数", "People")
    )
    for sc in s.scopes:
        params = ", ".join(f"{k}={v}" for k, v in sorted(sc.params.items()))
        shown = str(sc.persons) if sc.maximum is None else st.t(f"最大 {sc.maximum}", f"max {sc.maximum}")
        table.add_row(sc.id, _word(st, schemas.METHOD_LABELS, sc.method), params, shown)
    console.print(table)


@cli_command
def scope_remove(
    ctx: typer.Context,
    key: str = typer.Argument(..., help="事案番号または事案ID / incident number or id"),
    scope_id: str = typer.Argument(..., help="範囲ID / scope id"),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """登録した範囲を取り除く / withdraw one method from the scope."""
    st = state(ctx)
    with st.transaction() as c:
        got = service.remove(c, key, scope_id)
    if json_out:
        print_json(got.model_dump(mode="json"))
        return
    console.print(
        st.t(f"範囲 {got.id} を取り除きました。", f"Scope {got.id} removed."), markup=False, soft_wrap=True
    )
