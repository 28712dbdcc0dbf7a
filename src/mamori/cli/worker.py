"""`mamori worker` and `mamori jobs` — the scheduled work (issue 21, docs/scheduler.md, ADR 0020).

- ``mamori worker`` runs the scheduler until stopped (SIGTERM / Ctrl-C): every registered job at its slots; any
  number of workers may run against one store, each slot runs once (``job_runs``). ``--once`` runs every job once
  for its latest slot not yet run, and exits (cron; exit code 1 when a job failed).
- ``mamori jobs list`` — the jobs, their schedules, next slot and last run; ``jobs runs [--job NAME] [--limit N]``
  — the newest runs; ``jobs run NAME`` — run one now (audited).

Who may: the kernel action JOBS_MANAGE (admin, privacy officer); ``mamori worker`` runs as the system when no
staff user is named (cron, systemd). Nothing here prints personal data: job names, slots, codes and counts.
"""

from __future__ import annotations

import signal
from datetime import datetime
from typing import TYPE_CHECKING, Any

import typer

from mamori.kernel import labels
from mamori.kernel.cli_support import CliState, cli_command, console, err_console, lazy, print_json, state

if TYPE_CHECKING:
    from mamori.kernel import scheduler
else:
    scheduler = lazy("mamori.kernel.scheduler")

jobs_app = typer.Typer(
    help="定期処理（管理者・個人情報保護管理者） / scheduled jobs (admin, privacy officer)",
    no_args_is_help=True,
)
JSON_OPT = typer.Option(False, "--json", help="JSON で出力 / JSON output")
NAME_WIDTH = 21  # the longest job name shown whole (staff.training_expiry)
STATUS_JA = {"running": "実行中", "succeeded": "成功", "failed": "失敗"}


def _status(st: CliState, value: str | None, stale: bool = False) -> str:
    if value is None:
        return "—"
    word = value if st.lang == "en" else STATUS_JA.get(value, value)
    return word + (st.t("（停止した可能性）", " (stale)") if stale else "")


def _when(value: object, lang: str) -> str:
    return labels.fmt_datetime(value, lang) if isinstance(value, datetime) else "—"


def _counts(result: dict[str, object] | None) -> str:
    if not result:
        return "—"
    return ", ".join(f"{k}={v}" for k, v in sorted(result.items()) if isinstance(v, int | bool | str))[:80]


@cli_command
def worker(
    ctx: typer.Context,
    once: bool = typer.Option(
        False,
        "--once",
        help="期限の来た処理を 1 回ずつ実行して終了（cron 用） / run each due job once and exit",
    ),
    json_out: bool = JSON_OPT,
) -> None:
    """定期処理のワーカー（複数起動しても各処理は 1 回だけ実行） / run the scheduled jobs (safe to start several)."""
    st = state(ctx)
    rt = st.runtime
    with st.transaction(system_ok=True) as c:  # cron / systemd run it without a staff user (the system actor)
        scheduler.authorise(c)
    if once:
        outcomes = scheduler.run_due(rt)
        failed = [o for o in outcomes if o.run is not None and o.run.status == scheduler.FAILED]
        if json_out:
            print_json({"worker": scheduler.worker_name(), "jobs": [o.as_dict() for o in outcomes]})
        else:
            ran = [o for o in outcomes if o.run is not None]
            console.print(
                st.t(
                    f"実行 {len(ran)}件（失敗 {len(failed)}件）、他のワーカーが実行済み・期限前 {len(outcomes) - len(ran)}件",
                    f"ran {len(ran)} ({len(failed)} failed); {len(outcomes) - len(ran)} already run elsewhere or not due",
                ),
                markup=False,
            )
            for o in ran:
                assert o.run is not None
                console.print(
                    f"  {o.job} {o.slot}: {_status(st, o.run.status)}"
                    + (f" ({o.run.error})" if o.run.error else f" {_counts(o.run.result)}"),
                    markup=False,
                )
        if failed:
            raise typer.Exit(1)
        return
    from mamori.kernel import observability

    observability.configure_logging(rt.settings)  # the server's log format: job failures as codes, on stderr
    sched = scheduler.build_scheduler(rt, blocking=True)

    def stop(signum: int, frame: Any) -> None:
        if sched.running:
            sched.shutdown(wait=False)
        else:  # stopped before the scheduler started
            raise SystemExit(0)

    def started(event: Any) -> None:
        if not json_out:
            err_console.print(
                st.t(
                    f"定期処理ワーカーを起動しました（{len(sched.get_jobs())}件、Ctrl-C で停止）。",
                    f"scheduler worker started ({len(sched.get_jobs())} jobs; Ctrl-C to stop).",
                ),
                markup=False,
            )

    from apscheduler.events import EVENT_SCHEDULER_STARTED

    sched.add_listener(started, EVENT_SCHEDULER_STARTED)
    signal.signal(signal.SIGTERM, stop)
    try:
        sched.start()
    except KeyboardInterrupt:
        if sched.running:
            sched.shutdown(wait=False)


@jobs_app.command("list")
@cli_command
def list_jobs(ctx: typer.Context, json_out: bool = JSON_OPT) -> None:
    """定期処理の一覧: 予定、次回、最終実行の結果 / the jobs, their schedules and last runs."""
    st = state(ctx)
    with st.transaction() as c:
        found = scheduler.overview(c)
    if json_out:
        print_json([v.as_dict() for v in found])
        return
    from rich.table import Table  # noqa: PLC0415  # not at start-up

    table = Table()
    table.add_column(st.t("名前", "name"), no_wrap=True, min_width=NAME_WIDTH)
    for header in (
        st.t("内容", "what"),
        st.t("予定", "schedule"),
        st.t("次回", "next"),
        st.t("最終実行", "last run"),
        st.t("結果", "status"),
    ):
        table.add_column(header)
    for v in found:
        last = v.last
        table.add_row(
            v.name,
            v.label_en if st.lang == "en" else v.label_ja,
            v.schedule,
            _when(v.next_slot, st.lang),
            _when(last.started_at, st.lang) if last else "—",
            (_status(st, last.status, last.stale) + (f" ({last.error})" if last.error else ""))
            if last
            else "—",
        )
    console.print(table)


@jobs_app.command("runs")
@cli_command
def list_runs(
    ctx: typer.Context,
    job: str | None = typer.Option(None, "--job", help="処理の名前 / the job's name"),
    limit: int = typer.Option(20, "--limit", min=1, max=1000),
    json_out: bool = JSON_OPT,
) -> None:
    """最近の実行記録 / the newest runs."""
    st = state(ctx)
    with st.transaction() as c:
        found = scheduler.runs(c, job=job, limit=limit)
    if json_out:
        print_json([r.as_dict() for r in found])
        return
    from rich.table import Table  # noqa: PLC0415  # not at start-up

    table = Table()
    table.add_column(st.t("名前", "name"), no_wrap=True, min_width=NAME_WIDTH)
    for header in (
        st.t("予定時刻（UTC）", "slot (UTC)"),
        st.t("ワーカー", "worker"),
        st.t("開始", "started"),
        st.t("結果", "status"),
        st.t("件数・エラー", "counts / error"),
    ):
        table.add_column(header)
    for r in found:
        table.add_row(
            r.job,
            r.slot,
            r.worker,
            _when(r.started_at, st.lang),
            _status(st, r.status, r.stale),
            r.error or _counts(r.result),
        )
    console.print(table)


@jobs_app.command("run")
@cli_command
def run_one(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="処理の名前（jobs list） / the job's name"),
    json_out: bool = JSON_OPT,
) -> None:
    """定期処理を今すぐ 1 回実行（記録・監査されます） / run a job now (recorded and audited)."""
    st = state(ctx)
    rt = st.runtime
    actor = st.actor()
    outcome = scheduler.run_now(rt, lambda: rt.transaction(actor, lang=st.lang), name)
    if json_out:
        print_json(outcome.as_dict())
    else:
        console.print(
            f"{outcome.job} {outcome.slot}: {_status(st, outcome.status)}"
            + (f" ({outcome.error})" if outcome.error else f" {_counts(outcome.result)}"),
            markup=False,
        )
    if outcome.status == scheduler.FAILED:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Mount ``mamori worker`` and ``mamori jobs``."""
    app.command("worker")(worker)
    app.add_typer(jobs_app, name="jobs")
