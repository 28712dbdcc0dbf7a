"""The incidents slice's commands (issue 22): ``mamori incidents …``."""

from __future__ import annotations

import typer

from mamori.incidents.cli import containment, notices, report, scope
from mamori.incidents.cli import register as register_cmds

app = typer.Typer(
    help="漏えい等事案（登録・範囲・分類・期限・報告・本人通知・封じ込め） / leak incidents",
    no_args_is_help=True,
)
for _part in (register_cmds, scope, report, notices, containment):
    _part.register(app)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="incidents")
