from __future__ import annotations

from typing import TYPE_CHECKING, cast

import typer
from rich.table import Table

from mamori.kernel import labels
from mamori.kernel.cli_support import CliState, cli_command, console, err_console, lazy, print_json, state
from mamori.kernel.errors import ValidationFailed

# Imported by the commands that use them, not at start-up (issue 16; see kernel/cli_support.py).
if TYPE_CHECKING:
    from mamori.kernel import policy
    from mamori.purposes import schemas, service
else:
    policy = lazy("mamori.kernel.policy")
    schemas = lazy("mamori.purposes.schemas")
    service = lazy("mamori.purposes.service")


def _opts(domain: str, codes: tuple[str, ...] | list[str]) -> str:
    """The allowed codes of an option with their words for --help: 「direct（本人から直接取得） / …」 (spaced, so the
    help panel can wrap it)."""
    return labels.choices(domain, codes).replace("、", " / ")


app = typer.Typer(help="利用目的の登録簿 / the purpose registry (R-17-1)", no_args_is_help=True)


@app.command("list")
@cli_command
def list_(
    ctx: typer.Context,
    json_out: bool = typer.Option(False, "--json"),
    active: bool = typer.Option(False, "--active", help="廃止済みを除く / hide retired"),
) -> None:
    """利用目的の一覧 / list purposes."""
    st = state(ctx)
    with st.transaction(system_ok=True) as c:
        items = service.list_purposes(c, include_retired=not active)
    if json_out:
        print_json(items)
        return
    table = Table(
        *(
            labels.label(f"purpose_field.{k}", st.lang)
            for k in ("code", "version", "title", "categories", "consent", "lawful_basis", "third_party")
        ),
        st.t("連絡手段", "Channels"),
        labels.label("field.status", st.lang),
    )
    for p in items:
        table.add_row(
            p.code,
            _version(st, p.version),
            p.title_en if st.lang == "en" else p.title_ja,
            _categories_label(st, [c.value for c in p.categories], p.profiling),
            _consent_label(st, p.consent_appi, p.consent_gdpr),
            _basis_label(st, p.lawful_basis, p.art9_condition, p.art10),
            _yesno(st, p.third_party),
            _channels_label(st, p.channels, p.marketing),
            labels.value("purpose_status", "retired" if p.retired else "active", st.lang),
        )
    console.print(table)


@app.command("show")
@cli_command
def show(
    ctx: typer.Context,
    code: str,
    json_out: bool = typer.Option(False, "--json"),
    history: bool = typer.Option(False, "--history", help="全ての版 / every version"),
) -> None:
    """利用目的の詳細 / show a purpose."""
    st = state(ctx)
    with st.transaction(system_ok=True) as c:
        items = service.history(c, code) if history else [service.show(c, code)]
    if json_out:
        print_json(items if history else items[0])
        return
    sep = ": " if st.lang == "en" else "："
    for p in items:
        title = p.title_en if st.lang == "en" else p.title_ja
        console.print(f"{p.code}  {_version(st, p.version)}  {title}", markup=False, highlight=False)
        console.print(p.text_en if st.lang == "en" else p.text_ja, markup=False)
        retention = (
            "—"
            if not p.retention_days
            else (f"{p.retention_days:,} days" if st.lang == "en" else f"{p.retention_days:,}日")
        )
        rows = [
            (
                "purpose_field.categories",
                labels.values("data_category", [c.value for c in p.categories], st.lang),
            ),
            ("purpose_field.consent", _consent_label(st, p.consent_appi, p.consent_gdpr)),
            ("purpose_field.third_party", _yesno(st, p.third_party)),
            ("purpose_field.retention", retention),
            ("purpose_field.lawful_basis", _basis_label(st, p.lawful_basis, p.art9_condition, p.art10)),
            ("field.status", labels.value("purpose_status", "retired" if p.retired else "active", st.lang)),
        ]
        if p.balancing_ref:
            rows.append(("purpose_field.balancing", p.balancing_ref))
        for key, text in rows:
            console.print(f"  {labels.label(key, st.lang)}{sep}{text}", markup=False, highlight=False)
        console.print(f"  {_profiling_head(st)}{sep}{_yesno(st, p.profiling)}", markup=False, highlight=False)
        for head, text in _channel_rows(st, p.channels, p.marketing):
            console.print(f"  {head}{sep}{text}", markup=False, highlight=False, soft_wrap=True)


def _version(st: CliState, version: int) -> str:
    return f"v{version}" if st.lang == "en" else f"第{version}版"


def _yesno(st: CliState, flag: bool) -> str:
    return labels.label("yesno.yes" if flag else "yesno.no", st.lang)


def _profiling_head(st: CliState) -> str:
    return st.t("分析・プロファイリング", "Analysis and profiling")


def _categories_label(st: CliState, categories: list[str], profiling: bool) -> str:
    """For ``purposes list``: the data categories, with 「（分析・プロファイリングを含む）」 for a purpose whose
    notice says it includes analysis / profiling (issue 24, R-17-1)."""
    words = labels.values("data_category", categories, st.lang)
    return (
        words + st.t("（分析・プロファイリングを含む）", " (incl. analysis and profiling)")
        if profiling
        else words
    )


def _consent_label(st: CliState, appi: bool, gdpr: bool) -> str:
    """Under which law the purpose needs the person's consent: 「個人情報保護法、GDPR」, or 「不要」."""
    regimes = [r for r, needed in (("appi", appi), ("gdpr", gdpr)) if needed]
    if not regimes:
        return st.t("不要", "not required")
    return labels.values("regime", regimes, st.lang)


def _basis_label(st: CliState, basis: str | None, art9: str | None, art10: bool) -> str:
    """G-6 at a glance: the Art. 6 basis, the Art. 9(2) condition, the Art. 10 flag (「—」 when none), in words
    with the code the options take (--lawful-basis, --art9)."""
    parts = [labels.value("lawful_basis", basis, st.lang, staff=True)]
    if art9:
        head = labels.label("purpose_field.art9", st.lang)
        parts.append(f"{head}: {labels.value('art9_condition', art9, st.lang, staff=True)}")
    if art10:
        parts.append(labels.label("purpose_field.art10", st.lang))
    return ("; " if st.lang == "en" else "、").join(parts)


def _channel_words(st: CliState, channels: list[str]) -> str:
    """The contact channels in words (「電話、メール」), 「なし」 when the purpose contacts nobody."""
    if not channels:
        return st.t("なし", "none")
    return labels.values("dnc_channel", list(channels), st.lang)


def _channels_label(st: CliState, channels: list[str], marketing: bool) -> str:
    """For ``purposes list``: the channels, with 「（広告宣伝）」 for a marketing purpose."""
    words = _channel_words(st, channels)
    return words + st.t("（広告宣伝）", " (advertising)") if marketing else words


def optin_channels(channels: list[str], marketing: bool) -> list[str]:
    """The channels of a marketing purpose that need the person's prior opt-in (TE-3: 特定電子メール法 第3条)."""
    return [c for c in channels if marketing and c in HELP_OPT_IN_CHANNELS]


def optin_note(st: CliState, channels: list[str], marketing: bool) -> str | None:
    """What a marketing purpose with e-mail or SMS means for staff (TE-3), or None."""
    need = optin_channels(channels, marketing)
    if not need:
        return None
    words = labels.values("dnc_channel", need, st.lang)
    return st.t(
        f"広告宣伝の{words}は、本人が事前に受信に同意（オプトイン）した人にだけ送れます"
        "（特定電子メール法 第3条、TE-3）。同意はこの目的への同意（consent grant -p）か、"
        "mamori consent optin ID --channel email で記録します。",
        f"Advertising by {words} may be sent only to persons who opted in beforehand (TE-3, Act on Specified "
        "Electronic Mail Art. 3): consent to this purpose (consent grant -p), or mamori consent optin ID "
        "--channel email",
    )


def _channel_rows(st: CliState, channels: list[str], marketing: bool) -> list[tuple[str, str]]:
    rows = [
        (st.t("連絡手段", "Contact channels"), _channel_words(st, channels)),
        (st.t("広告宣伝", "Advertising"), _yesno(st, marketing)),
    ]
    note = optin_note(st, channels, marketing)
    if note:
        rows.append((st.t("事前の同意", "Prior opt-in"), note))
    return rows


def _channels(raw: list[str]) -> list[str]:
    """``--channel`` values (repeated, or comma-separated), checked against the engine's list (one line)."""
    out: list[str] = []
    for name in (part.strip() for item in raw for part in item.split(",")):
        if not name:
            continue
        if name not in HELP_CHANNELS:
            raise ValidationFailed(
                f"不明な連絡手段です（{_CHANNEL_HELP}）",
                f"Unknown contact channel ({_CHANNEL_HELP})",
                rule_id="R-18-1",
                code="bad_channel",
            )
        if name not in out:
            out.append(name)
    return out


def _add_or_revise(ctx: typer.Context, revise: bool, **kw: object) -> None:
    st = state(ctx)
    cats = []
    for name in (part.strip() for part in str(kw.pop("categories")).split(",")):
        if name not in {x.value for x in policy.Category}:
            raise ValidationFailed(
                f"不明なデータ区分です: {name}（{_CAT_HELP}）",
                f"Unknown data category: {name} ({_CAT_HELP})",
                code="bad_category",
            )
        cats.append(policy.Category(name))
    json_out = bool(kw.pop("json_out"))
    channels = _channels(cast(list[str] | None, kw.pop("channels")) or [])
    data = schemas.PurposeCreate(categories=cats, channels=channels, **kw)
    with st.transaction() as tx:
        result = service.revise(tx, data) if revise else service.add(tx, data)
    if json_out:
        print_json(result)
        return
    console.print(
        st.t(
            f"登録しました: {result.code} {_version(st, result.version)}",
            f"saved: {result.code} {_version(st, result.version)}",
        )
    )
    console.print(
        f"{st.t('連絡手段', 'contact channels')}: {_channels_label(st, result.channels, result.marketing)}",
        markup=False,
        highlight=False,
    )
    note = optin_note(st, result.channels, result.marketing)
    if note:
        console.print(f"ℹ {note}", markup=False, highlight=False, soft_wrap=True)
    console.print(f"{_profiling_head(st)}: {_yesno(st, result.profiling)}", markup=False, highlight=False)
    for w in result.warnings:
        err_console.print(f"⚠ {w}", markup=False)
    if result.pending_notice is not None:
        # R-17-2 / R-21-1: the new version reaches a person only once they are notified of it
        console.print(
            st.t(
                f"新しい版の通知が必要な本人: {result.pending_notice}人"
                f"（mamori customers pending-notice {result.code} / customers notify）",
                f"persons who now need the new notice: {labels.fmt_count(result.pending_notice, '人', 'en')} "
                f"(mamori customers pending-notice {result.code} / customers notify)",
            ),
            markup=False,
        )


_CAT_HELP = "identifier,contact,attribute,behaviour,sensitive"
# The codes --help lists, written out so that --help imports no schema (issue 16); schemas.LAWFUL_BASES and
# schemas.ART9_CONDITIONS still validate, and tests/cli/test_startup.py fails if these drift from them.
HELP_LAWFUL_BASES = (
    "consent",
    "contract",
    "legal_obligation",
    "vital_interests",
    "public_task",
    "legitimate_interests",
)
HELP_ART9_CONDITIONS = (
    "explicit_consent",
    "employment",
    "vital_interests",
    "nonprofit_body",
    "made_public",
    "legal_claims",
    "substantial_public_interest",
    "health_care",
    "public_health",
    "archiving_research",
)
# The engine's contact channels (mamori.kernel.policy.CHANNELS / OPT_IN_CHANNELS), written out for --help as
# above; tests/purposes/test_channels_cli.py fails if they drift.
HELP_CHANNELS = ("phone", "email", "post", "sms", "visit")
HELP_OPT_IN_CHANNELS = ("email", "sms")
_CHANNEL_HELP = _opts("dnc_channel", HELP_CHANNELS)
_BASIS_HELP = (
    "GDPRの適法根拠（第6条第1項）: "
    + _opts("lawful_basis", HELP_LAWFUL_BASES)
    + "（--consent-gdpr なら consent） / GDPR Art. 6(1) lawful basis"
)
_ART9_HELP = (
    "要配慮・特別な種類のデータの要件（GDPR第9条第2項）: "
    + _opts("art9_condition", HELP_ART9_CONDITIONS)
    + " / GDPR Art. 9(2) condition"
)


@app.command("add")
@app.command("revise", help="利用目的の新しい版を登録する（R-17-2） / a new version of a purpose.")
@cli_command
def add(
    ctx: typer.Context,
    code: str,
    title_ja: str = typer.Option(..., "--title-ja"),
    title_en: str = typer.Option(..., "--title-en"),
    text_ja: str = typer.Option(..., "--text-ja"),
    text_en: str = typer.Option(..., "--text-en"),
    categories: str = typer.Option(
        ..., help="データ区分（カンマ区切り）: " + _opts("data_category", _CAT_HELP.split(","))
    ),
    third_party: bool = typer.Option(False, "--third-party"),
    consent_appi: bool = typer.Option(False, "--consent-appi"),
    consent_gdpr: bool = typer.Option(False, "--consent-gdpr"),
    retention_days: int | None = typer.Option(None, "--retention-days"),
    lawful_basis: str | None = typer.Option(None, "--lawful-basis", help=_BASIS_HELP),
    balancing_ref: str | None = typer.Option(
        None, "--balancing-ref", help="legitimate_interests: 比較衡量の記録ID / balancing record id"
    ),
    art9: str | None = typer.Option(None, "--art9", help=_ART9_HELP),
    art10: bool = typer.Option(False, "--art10", help="犯罪経歴データ（GDPR 10条） / criminal-offence data"),
    channels: list[str] | None = typer.Option(
        None,
        "--channel",
        help="この目的で本人に連絡する手段（繰り返し指定。改定は新しい版）: "
        + _CHANNEL_HELP
        + " / contact channels (repeat the option)",
    ),
    marketing: bool = typer.Option(
        False,
        "--marketing",
        help="広告宣伝の目的（メール・SMSは事前の同意が必要: 特定電子メール法 第3条） / advertising",
    ),
    profiling: bool = typer.Option(
        False,
        "--profiling",
        help="分析・プロファイリングを含む目的（日本語の文面に「分析」か「プロファイリング」と書き、行動か属性の"
        "区分を含めること。R-17-1。改定は新しい版） / includes analysis and profiling",
    ),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """利用目的を登録する（曖昧な表現は警告） / register a purpose (vague wording is warned about)."""
    _add_or_revise(
        ctx,
        ctx.info_name == "revise",
        code=code,
        title_ja=title_ja,
        title_en=title_en,
        text_ja=text_ja,
        text_en=text_en,
        categories=categories,
        third_party=third_party,
        consent_appi=consent_appi,
        consent_gdpr=consent_gdpr,
        retention_days=retention_days,
        lawful_basis=lawful_basis,
        balancing_ref=balancing_ref,
        art9_condition=art9,
        art10=art10,
        channels=channels,
        marketing=marketing,
        profiling=profiling,
        json_out=json_out,
    )


@app.command("retire")
@cli_command
def retire(ctx: typer.Context, code: str, json_out: bool = typer.Option(False, "--json")) -> None:
    """利用目的を廃止する（削除はしない） / retire a purpose (never deleted)."""
    st = state(ctx)
    with st.transaction() as c:
        result = service.retire(c, code)
    if json_out:
        print_json(result)
    else:
        console.print(st.t(f"廃止しました: {code}", f"retired: {code}"))
