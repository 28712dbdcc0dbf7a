"""``mamori analytics …`` (issue 24): the analytics slice's command group. Each module of this package adds its
commands with ``register(app)``; ``mamori kpi`` is a top-level command (``analytics.cli.kpi:kpi``)."""

from __future__ import annotations

import typer

from mamori.analytics.cli import kpi, runs

app = typer.Typer(
    name="analytics",
    help="顧客分析（利用目的の範囲内）・KPI・チェックリスト・データマップ / customer analytics within purpose",
    no_args_is_help=True,
)
runs.register(app)
kpi.register(app)
