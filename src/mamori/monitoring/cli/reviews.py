"""``mamori monitoring review …`` and ``mamori monitoring reviews`` (issue 25 "Deliver" 3): access reviews.

- ``review due`` — the period now due, the last closed review, whether the previous period went without one;
- ``review start [--period 2026-Q4]`` — one line per account, flagged (unused, untrained …);
- ``review show [KEY]`` — a review's lines (the open review by default), flags highlighted;
- ``review decide KEY USERNAME confirm|change [--change disable|revoke_tokens] [--note TEXT]`` — a change is
  carried out at once; nobody decides their own line (R-23-2);
- ``review close KEY`` — seal it (refused while a line is undecided); ``review verify KEY`` — check the seal;
- ``reviews`` — every review, newest first.

``KEY`` is the review's reference (``AR-2026-Q4``) or id. Every command has ``--json``; errors are one line.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer
from rich.table import Table

from mamori.kernel import labels
from mamori.kernel.cli_support import CliState, cli_command, console, lazy, print_json, state
from mamori.kernel.clock import JST

if TYPE_CHECKING:
    from mamori.monitoring import review_schemas as schemas
    from mamori.monitoring.service import reviews as service
else:
    schemas = lazy("mamori.monitoring.review_schemas")
    service = lazy("mamori.monitoring.service.reviews")

JSON_OPT = typer.Option(False, "--json", help="JSON で出力 / output JSON")
KEY_HELP = "見直しの番号（AR-2026-Q4）または ID / the review's reference or id"


def _words(st: CliState, pair: tuple[str, str] | None, code: str) -> str:
    return code if pair is None else st.t(*pair)


def _flags(st: CliState, flags: list[str]) -> str:
    out = []
    for code in flags:
        word = _words(st, schemas.FLAG_LABELS.get(code), code)
        style = "bold red" if code in schemas.ATTENTION else "yellow"
        out.append(f"[{style}]{word}[/{style}]")
    return " ".join(out) or "—"


def _yes(st: CliState, value: bool, kind: str) -> str:
    if kind == "service":
        return "—"
    return "[green]✓[/green]" if value else "[bold red]✗[/bold red]"


def _status(st: CliState, status: str) -> str:
    return st.t("完了（封印済み）", "closed (sealed)") if status == "closed" else st.t("進行中", "open")


def _summary(st: CliState, r: schemas.ReviewRead) -> str:
    return st.t(
        f"{r.ref}（{r.period.start:%Y-%m-%d}〜{r.period.end:%Y-%m-%d}）{_status(st, r.status)}: "
        f"{r.lines}件中 判断済み {r.decided}件・要確認 {r.flagged}件・変更 {r.changes}件",
        f"{r.ref} ({r.period.start:%Y-%m-%d} to {r.period.end:%Y-%m-%d}) {_status(st, r.status)}: "
        f"{r.decided} of {r.lines} decided, {r.flagged} flagged, {r.changes} changed",
    )


def _show(st: CliState, r: schemas.ReviewDetail) -> None:
    console.print(_summary(st, r), markup=False, highlight=False, soft_wrap=True)
    table = Table(title=st.t("アクセス権の定期見直し", "Access review"))
    for head in (
        st.t("アカウント", "account"),
        st.t("役割", "role"),
        st.t("トークン", "tokens"),
        st.t("最終サインイン(JST)", "last sign-in (JST)"),
        st.t("研修/誓約", "trained/pledged"),
        st.t("顧客", "customers"),
        st.t("指摘", "flags"),
        st.t("判断", "decision"),
    ):
        table.add_column(head, overflow="fold")
    for line in r.items:
        decided = "—"
        if line.decision is not None:
            decided = _words(st, schemas.DECISION_LABELS.get(line.decision), line.decision)
            if line.change:
                decided += f" ({_words(st, schemas.CHANGE_LABELS.get(line.change), line.change)})"
        account = line.username
        if line.kind == "service":
            account += st.t("（サービス）", " (service)")
        if not line.active:
            account += " [bold red]" + st.t("無効", "disabled") + "[/bold red]"
        signed = (
            line.last_sign_in.astimezone(JST).strftime("%Y-%m-%d %H:%M")
            if line.last_sign_in
            else st.t("なし", "never")
        )
        table.add_row(
            account,
            labels.value("role", line.role, st.lang),
            (", ".join(line.token_purposes) + f" ({line.tokens})") if line.tokens else "—",
            signed,
            f"{_yes(st, line.trained, line.kind)}/{_yes(st, line.pledged, line.kind)}",
            str(line.owned_customers),
            _flags(st, line.flags),
            decided,
        )
    console.print(table)
    if r.digest:
        console.print(
            f"{st.t('封印（SHA-256）', 'seal (SHA-256)')}: {r.digest}", markup=False, highlight=False
        )


def register(app: typer.Typer) -> None:
    """Add ``review …`` and ``reviews`` to ``mamori monitoring``."""
    review_app = typer.Typer(
        help="アクセス権の定期見直し（開始・判断・完了・検証） / access reviews", no_args_is_help=True
    )
    app.add_typer(review_app, name="review")

    @review_app.command("due")
    @cli_command
    def due(ctx: typer.Context, json_out: bool = JSON_OPT) -> None:
        """いま見直す期間と前回の見直し / the period now due and the last review."""
        st = state(ctx)
        with st.transaction() as c:
            d = service.due(c)
        if json_out:
            print_json(d.model_dump(mode="json"))
            return
        state_words = (
            st.t("完了済み", "done")
            if d.done
            else st.t("進行中", "open")
            if d.open_review
            else st.t("未実施", "not started")
        )
        console.print(
            st.t(
                f"いまの期間: {d.period.label}（{d.period.start:%Y-%m-%d}〜{d.period.end:%Y-%m-%d}、"
                f"{d.interval_months}か月ごと）— {state_words}",
                f"Period now due: {d.period.label} ({d.period.start:%Y-%m-%d} to {d.period.end:%Y-%m-%d}, "
                f"every {d.interval_months} months) — {state_words}",
            ),
            markup=False,
            highlight=False,
        )
        if d.overdue:
            console.print(
                "[bold red]"
                + st.t(
                    f"期限超過: 前の期間 {d.previous.label} の見直しが完了していません。",
                    f"Overdue: no closed review for the previous period {d.previous.label}.",
                )
                + "[/bold red]",
                highlight=False,
            )
        if d.open_review:
            console.print(_summary(st, d.open_review), markup=False, highlight=False)
        if d.last_closed:
            console.print(
                st.t("前回: ", "Last closed: ") + _summary(st, d.last_closed), markup=False, highlight=False
            )

    @review_app.command("start")
    @cli_command
    def start(
        ctx: typer.Context,
        period: str | None = typer.Option(
            None, "--period", help="期間（2026-Q4 / 2026-H2 / 2026-11 / 2026-Y） / the period"
        ),
        json_out: bool = JSON_OPT,
    ) -> None:
        """見直しを開始（全アカウントを一覧に） / start a review of every account."""
        st = state(ctx)
        data = schemas.StartIn.model_validate({"period": period})
        with st.transaction() as c:
            r = service.start(c, data.period)
        if json_out:
            print_json(r.model_dump(mode="json"))
            return
        _show(st, r)

    @review_app.command("show")
    @cli_command
    def show(
        ctx: typer.Context,
        key: str | None = typer.Argument(
            None, help=KEY_HELP + "（省略時は進行中のもの / default: the open one）"
        ),
        json_out: bool = JSON_OPT,
    ) -> None:
        """見直しの各行（指摘を強調） / a review's lines, flags highlighted."""
        st = state(ctx)
        with st.transaction() as c:
            chosen = key if key is not None else service.open_key(c)
            if chosen is None:
                from mamori.kernel.errors import NotFound

                raise NotFound(
                    "進行中の見直しはありません（review start で開始できます）。",
                    "No review is open (start one with review start).",
                    code="review_not_found",
                )
            r = service.get(c, chosen)
        if json_out:
            print_json(r.model_dump(mode="json"))
            return
        _show(st, r)

    @review_app.command("decide")
    @cli_command
    def decide(
        ctx: typer.Context,
        key: str = typer.Argument(..., help=KEY_HELP),
        username: str = typer.Argument(
            ..., help="アカウントのユーザー名（または行 ID） / account or line id"
        ),
        decision: str = typer.Argument(..., help="confirm（承認） | change（変更）"),
        change: str | None = typer.Option(
            None, "--change", help="disable（無効化） | revoke_tokens（トークン失効）"
        ),
        note: str | None = typer.Option(None, "--note", help="判断の理由（個人情報は書かない） / reason"),
        json_out: bool = JSON_OPT,
    ) -> None:
        """行を承認または変更（変更はすぐ実施） / confirm or change a line (a change is done at once)."""
        st = state(ctx)
        data = schemas.DecideIn.model_validate({"decision": decision, "change": change, "note": note})
        with st.transaction() as c:
            line = service.decide(c, key, username, data.decision, data.change, data.note)
        if json_out:
            print_json(line.model_dump(mode="json"))
            return
        what = _words(st, schemas.DECISION_LABELS.get(line.decision or ""), line.decision or "")
        if line.change:
            what += f" ({_words(st, schemas.CHANGE_LABELS.get(line.change), line.change)})"
        console.print(
            st.t(f"{line.username}: {what}を記録しました。", f"{line.username}: {what} recorded."),
            markup=False,
            highlight=False,
        )

    @review_app.command("close")
    @cli_command
    def close(
        ctx: typer.Context, key: str = typer.Argument(..., help=KEY_HELP), json_out: bool = JSON_OPT
    ) -> None:
        """見直しを完了して封印（全行の判断が必要） / close and seal the review."""
        st = state(ctx)
        with st.transaction() as c:
            r = service.close(c, key)
        if json_out:
            print_json(r.model_dump(mode="json"))
            return
        console.print(_summary(st, r), markup=False, highlight=False, soft_wrap=True)
        console.print(
            st.t(
                f"封印しました（SHA-256 {r.digest}）。監査ログにも記録されています。",
                f"Sealed (SHA-256 {r.digest}); the audit log keeps the digest too.",
            ),
            markup=False,
            highlight=False,
        )

    @review_app.command("verify")
    @cli_command
    def verify(
        ctx: typer.Context, key: str = typer.Argument(..., help=KEY_HELP), json_out: bool = JSON_OPT
    ) -> None:
        """封印を検証（記録・監査ログと照合） / check the seal against the record and the audit log."""
        st = state(ctx)
        with st.transaction() as c:
            v = service.verify(c, key)
        if json_out:
            print_json(v.model_dump(mode="json"))
            if not v.ok:
                raise typer.Exit(4)
            return
        if v.ok:
            console.print(
                st.t(
                    f"{v.ref}: 記録は封印のとおりです（{v.lines}行、SHA-256 {v.computed}）。",
                    f"{v.ref}: the record matches its seal ({v.lines} lines, SHA-256 {v.computed}).",
                ),
                markup=False,
                highlight=False,
            )
            return
        parts = []
        if not v.stored_matches:
            parts.append(st.t("保存された封印と一致しません", "does not match the stored seal"))
        if not v.audit_matches:
            parts.append(
                st.t("監査ログの封印と一致しません", "does not match the seal in the audit log")
                if v.audited
                else st.t("監査ログに封印がありません", "no seal in the audit log")
            )
        console.print(
            "[bold red]"
            + st.t(
                f"{v.ref}: 記録が改ざんされています — " + "、".join(parts) + "。",
                f"{v.ref}: the record was altered — " + "; ".join(parts) + ".",
            )
            + "[/bold red]",
            highlight=False,
        )
        raise typer.Exit(4)

    @app.command("reviews")
    @cli_command
    def reviews(ctx: typer.Context, json_out: bool = JSON_OPT) -> None:
        """アクセス権の見直しの一覧（新しい順） / every access review, newest first."""
        st = state(ctx)
        with st.transaction() as c:
            rows = service.list_reviews(c)
        if json_out:
            print_json([r.model_dump(mode="json") for r in rows])
            return
        if not rows:
            console.print(st.t("見直しはまだありません。", "No access review yet."))
            return
        table = Table(title=st.t("アクセス権の定期見直し", "Access reviews"))
        table.add_column(st.t("番号", "ref"), no_wrap=True)
        for head in (
            st.t("期間", "period"),
            st.t("状態", "status"),
            st.t("行", "lines"),
            st.t("判断済", "decided"),
            st.t("要確認", "flagged"),
            st.t("変更", "changed"),
            st.t("完了(JST)", "closed (JST)"),
        ):
            table.add_column(head, overflow="fold")
        for r in rows:
            table.add_row(
                r.ref,
                r.period.label,
                _status(st, r.status),
                str(r.lines),
                str(r.decided),
                str(r.flagged),
                str(r.changes),
                r.closed_at.astimezone(JST).strftime("%Y-%m-%d %H:%M") if r.closed_at else "—",
            )
        console.print(table)
