"""The lifecycle slice's commands (issue 21): ``mamori handover``, ``mamori retention``, ``mamori quality``."""

from __future__ import annotations

import typer

from mamori.lifecycle.cli import handover, quality, retention


def register(app: typer.Typer) -> None:
    handover.register(app)
    retention.register(app)
    quality.register(app)
