"""``mamori incidents …`` commands: containment (issue 22 "Deliver" 7; R-26-7).

- ``mamori incidents contain KEY --disable-account U | --revoke-sessions U | --revoke-session ID |
  --revoke-tokens U | --revoke-token ID | --suspend-outsourcee CONTRACT | --rotate-keys [--json]`` — one step,
  done by the slice that owns it and recorded as a measure of the incident (audited with the incident id);
- ``mamori incidents measures KEY [--json]`` — the steps recorded so far.

``KEY`` is the incident's id or its 事案番号 (``INC-0003`` or ``3``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer
from rich.table import Table

from mamori.kernel import labels
from mamori.kernel.cli_support import CliState, cli_command, console, err_console, lazy, print_json, state
from mamori.kernel.errors import ValidationFailed

# Imported by the commands that use them, not at start-up (issue 16; see kernel/cli_support.py).
if TYPE_CHECKING:
    from mamori.incidents import containment_schemas as schemas
    from mamori.incidents.service import containment as service
else:
    schemas = lazy("mamori.incidents.containment_schemas")
    service = lazy("mamori.incidents.service.containment")

JSON_OPT = typer.Option(False, "--json")


def _label(st: CliState, pair: tuple[str, str] | None, code: str) -> str:
    if pair is None:
        return code
    return pair[1] if st.lang == "en" else pair[0]


def _counts(st: CliState, result: dict[str, int]) -> str:
    sep = ", " if st.lang == "en" else "、"
    return sep.join(f"{_label(st, schemas.COUNT_LABELS.get(k), k)}: {v}" for k, v in result.items())


def _one_step(
    st: CliState,
    disable_account: str | None,
    revoke_sessions: str | None,
    revoke_session: str | None,
    revoke_tokens: str | None,
    revoke_token: str | None,
    suspend_outsourcee: str | None,
    rotate_keys: bool,
) -> tuple[str, str | None]:
    chosen = [
        (kind, value)
        for kind, value in (
            ("disable_account", disable_account),
            ("revoke_sessions", revoke_sessions),
            ("revoke_session", revoke_session),
            ("revoke_tokens", revoke_tokens),
            ("revoke_token", revoke_token),
            ("suspend_outsourcee", suspend_outsourcee),
            ("rotate_keys", "" if rotate_keys else None),
        )
        if value is not None
    ]
    if len(chosen) != 1:
        raise ValidationFailed(
            "封じ込めの手順を一つだけ指定してください（--disable-account / --revoke-sessions / --revoke-session / "
            "--revoke-tokens / --revoke-token / --suspend-outsourcee / --rotate-keys）。",
            "Give exactly one containment step (--disable-account / --revoke-sessions / --revoke-session / "
            "--revoke-tokens / --revoke-token / --suspend-outsourcee / --rotate-keys).",
            code="one_step",
        )
    kind, value = chosen[0]
    return kind, value or None


def register(app: typer.Typer) -> None:
    """Add this part's commands to the ``mamori incidents`` group."""

    @app.command("contain")
    @cli_command
    def contain(
        ctx: typer.Context,
        key: str = typer.Argument(..., help="事案 ID または事案番号（INC-0003） / incident id or number"),
        disable_account: str | None = typer.Option(
            None,
            "--disable-account",
            help="アカウントを無効化（セッション・トークンも失効） / disable an account",
        ),
        revoke_sessions: str | None = typer.Option(
            None, "--revoke-sessions", help="ユーザーの全セッションを失効 / revoke a user's sessions"
        ),
        revoke_session: str | None = typer.Option(
            None, "--revoke-session", help="セッションを ID で失効 / revoke one session by its id"
        ),
        revoke_tokens: str | None = typer.Option(
            None, "--revoke-tokens", help="ユーザーの全 API トークンを失効 / revoke a user's API tokens"
        ),
        revoke_token: str | None = typer.Option(
            None, "--revoke-token", help="API トークンを ID で失効 / revoke one API token by its id"
        ),
        suspend_outsourcee: str | None = typer.Option(
            None,
            "--suspend-outsourcee",
            help="委託契約を停止（委託先のアクセスを止める） / suspend an outsourcee's contract",
        ),
        rotate_keys: bool = typer.Option(
            False,
            "--rotate-keys",
            help="鍵（KEK）を更新し全データ鍵を再ラップ（管理者） / rotate the keys (admin)",
        ),
        json_out: bool = JSON_OPT,
    ) -> None:
        """事案から封じ込めを実施して記録（R-26-7） / take a containment step from the incident and record it."""
        st = state(ctx)
        kind, target = _one_step(
            st,
            disable_account,
            revoke_sessions,
            revoke_session,
            revoke_tokens,
            revoke_token,
            suspend_outsourcee,
            rotate_keys,
        )
        step = schemas.ContainmentIn.model_validate({"kind": kind, "target": target})
        if kind == "rotate_keys":
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn  # only here

            columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
            with Progress(*columns, console=err_console, disable=json_out, transient=True) as progress:
                task = progress.add_task(st.t("再ラップ中", "rewrapping"), total=None)
                with st.transaction() as c:
                    measure = service.take(
                        c,
                        key,
                        step,
                        progress=lambda done, total: progress.update(task, completed=done, total=total),
                    )
        else:
            with st.transaction() as c:
                measure = service.take(c, key, step)
        if json_out:
            print_json(measure)
            return
        what = _label(st, schemas.CONTAINMENT_LABELS.get(measure.kind), measure.kind)
        console.print(
            st.t(
                f"{what}を実施し、事案の措置として記録しました（{_counts(st, measure.result)}）。",
                f"{what}: done and recorded as a measure of the incident ({_counts(st, measure.result)}).",
            ),
            markup=False,
            highlight=False,
            soft_wrap=True,
        )

    @app.command("measures")
    @cli_command
    def measures(
        ctx: typer.Context,
        key: str = typer.Argument(..., help="事案 ID または事案番号（INC-0003） / incident id or number"),
        json_out: bool = JSON_OPT,
    ) -> None:
        """事案で実施した措置（封じ込め・代替措置）の一覧 / the measures taken from the incident."""
        st = state(ctx)
        with st.transaction() as c:
            rows = service.measures(c, key)
        if json_out:
            print_json(rows)
            return
        if not rows:
            console.print(st.t("記録された措置はありません。", "No measure recorded."))
            return
        table = Table(
            st.t("日時", "at"),
            st.t("措置", "measure"),
            st.t("対象", "target"),
            st.t("結果", "result"),
            st.t("実施者", "by"),
        )
        for m in rows:
            table.add_row(
                labels.fmt_datetime(m.at, st.lang),
                _label(st, schemas.CONTAINMENT_LABELS.get(m.kind), m.kind),
                m.target or "",
                _counts(st, m.result),
                m.by,
            )
        console.print(table)
