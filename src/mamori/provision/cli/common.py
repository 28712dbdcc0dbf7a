"""The provision Typer apps and the small parsing helpers their commands share."""

from __future__ import annotations

from datetime import date, datetime, time

import typer

from mamori.kernel import labels
from mamori.kernel.cli_support import CliState, console
from mamori.kernel.clock import JST

app = typer.Typer(
    help="第三者提供・共同利用・外国にある第三者への提供 / third-party provision, joint use, provision abroad",
    no_args_is_help=True,
)
counterparties_app = typer.Typer(
    help="提供先・提供元（第三者・委託先・共同利用者・事業承継）の登録 / counterparty registry",
    no_args_is_help=True,
)
consents_app = typer.Typer(help="第三者提供の同意 / provision consents", no_args_is_help=True)
records_app = typer.Typer(
    help="第三者提供記録（提供・受領） / provision and receipt records", no_args_is_help=True
)
joint_app = typer.Typer(help="共同利用 / joint use", no_args_is_help=True)
optout_app = typer.Typer(help="オプトアウトによる提供の届出 / opt-out filings", no_args_is_help=True)
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


# -- words for people (the label dictionary) -----------------------------------------------------------------------


def header(st: CliState, key: str) -> str:
    """A column header or field name from the label dictionary (``provision_field.*`` first, then ``field.*``)."""
    if "." in key:
        return labels.label(key, st.lang)
    return labels.label(f"provision_field.{key}", st.lang, default="") or labels.label(
        f"field.{key}", st.lang, default=key
    )


def country(st: CliState, code: str | None) -> str:
    """「日本」 / 「アメリカ合衆国（US）」: the country's name where the dictionary has it, with its code abroad."""
    if not code:
        return "—"
    if not labels.has(f"country.{code}"):
        return code
    return labels.value("country", code, st.lang, staff=code != "JP")


def shown(st: CliState, key: str, value: object, domains: dict[str, str] | None = None) -> str:
    """One field in words: codes through the dictionary (``domains``: field → label domain), times in JST with
    the zone, dates 2026年12月6日, booleans はい / いいえ, lists joined with 「、」."""
    if value is None or value == "" or value == [] or value == {}:
        return "—"
    if isinstance(value, bool):
        return labels.label("yesno.yes" if value else "yesno.no", st.lang)
    if isinstance(value, datetime):
        return labels.fmt_datetime(value, st.lang)
    if isinstance(value, date):
        return labels.fmt_date(value, st.lang)
    if key == "consent_fact" and isinstance(value, str):
        # 「consent:<同意ID> (paper)」 as the service records it → 「本人の同意: <同意ID> (paper)」
        basis, colon, rest = value.partition(":")
        if colon and labels.has(f"provision_basis.{basis}"):
            return f"{labels.value('provision_basis', basis, st.lang)}: {rest}"
        return value
    if domains and key in domains:
        return labels.value(domains[key], str(value), st.lang, staff=True)
    if key.endswith("country"):
        return country(st, str(value))
    sep = "; " if st.lang == "en" else "、"
    if isinstance(value, list):
        if key == "items":  # the fields of a person: 「氏名、メールアドレス」
            return sep.join(labels.label(f"field.{v}", st.lang, default=str(v)) for v in value)
        return sep.join(str(v) for v in value)
    if isinstance(value, dict):  # the person's identifying fields (records show)
        return sep.join(
            f"{labels.label(f'field.{k}', st.lang, default=str(k))}: {v if v not in (None, '') else '—'}"
            for k, v in value.items()
        )
    return str(value)


def print_fields(
    st: CliState,
    data: dict[str, object],
    domains: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> None:
    """A record as 「見出し：値」 lines (``headers``: field → the provision_field key naming it here)."""
    sep = ": " if st.lang == "en" else "："
    for key, value in data.items():
        head = header(st, (headers or {}).get(key, key))
        console.print(f"{head}{sep}{shown(st, key, value, domains)}", markup=False, highlight=False)


def version(st: CliState, n: int) -> str:
    return f"v{n}" if st.lang == "en" else f"第{n}版"
