"""The provision Typer apps and the small parsing helpers their commands share."""

from __future__ import annotations

from datetime import date, datetime, time

import typer

from mamori.kernel.clock import JST

app = typer.Typer(
    help="第三者提供・共同利用・越境移転 / third-party provision, joint use, cross-border",
    no_args_is_help=True,
)
counterparties_app = typer.Typer(help="提供先・提供元の登録 / counterparty registry", no_args_is_help=True)
consents_app = typer.Typer(help="第三者提供の同意 / provision consents", no_args_is_help=True)
records_app = typer.Typer(help="提供・受領の記録 / provision and receipt records", no_args_is_help=True)
joint_app = typer.Typer(help="共同利用 / joint use", no_args_is_help=True)
optout_app = typer.Typer(help="オプトアウト届出 / opt-out filings", no_args_is_help=True)
referable_app = typer.Typer(help="個人関連情報 / personally referable information", no_args_is_help=True)
relay_app = typer.Typer(help="連絡の取次 / relay instead of disclosure", no_args_is_help=True)
app.add_typer(counterparties_app, name="counterparties")
app.add_typer(consents_app, name="consents")
app.add_typer(records_app, name="records")
app.add_typer(joint_app, name="joint-use")
app.add_typer(optout_app, name="opt-out")
app.add_typer(referable_app, name="referable")
app.add_typer(relay_app, name="relay")

JSON_OPT = typer.Option(False, "--json")


def when(value: str | None, name: str) -> datetime | None:
    """ISO 8601 with an offset, or a date (midnight JST)."""
    if value is None:
        return None
    try:
        if len(value) == 10:
            return datetime.combine(date.fromisoformat(value), time(0), tzinfo=JST)
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{name}: ISO 8601 (YYYY-MM-DD or with an offset)") from None
    if parsed.tzinfo is None:
        raise typer.BadParameter(f"{name}: give a UTC offset (e.g. +09:00)")
    return parsed


def need(value: str | None, name: str) -> datetime:
    got = when(value, name)
    if got is None:
        raise typer.BadParameter(f"{name} is required")
    return got


def _csv_list(values: list[str]) -> list[str]:
    return [v.strip() for item in values for v in item.split(",") if v.strip()]
