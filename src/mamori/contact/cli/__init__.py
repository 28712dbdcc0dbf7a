"""``mamori contact …`` (issue 20): lists, the check before a contact, campaigns, the inbound search."""

from __future__ import annotations

import typer

from mamori.contact.cli import campaigns, inbound, lists

app = typer.Typer(
    help="連絡：架電・送付リスト、連絡前の確認、メール配信、着信対応 / contact: lists, checks, campaigns, inbound",
    no_args_is_help=True,
)
lists.register(app)
campaigns.register(app)
inbound.register(app)
