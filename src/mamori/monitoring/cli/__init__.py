"""``mamori monitoring …`` (issue 25): the monitoring slice's command group. Each module of this package adds its
commands with ``register(app)``."""

from __future__ import annotations

import typer

from mamori.monitoring.cli import alerts, evaluate, report, reviews

app = typer.Typer(
    name="monitoring",
    help="監査ログの監視・アラート・アクセス権の定期見直し・月次報告 / monitoring, alerts, access reviews",
    no_args_is_help=True,
)
evaluate.register(app)
alerts.register(app)
reviews.register(app)
report.register(app)
