from __future__ import annotations

import typer
from rich.table import Table

from mamori.kernel.cli_support import cli_command, console, err_console, print_json, state
from mamori.kernel.errors import ValidationFailed
from mamori.kernel.policy import Category
from mamori.purposes import service
from mamori.purposes.schemas import ART9_CONDITIONS, LAWFUL_BASES, PurposeCreate

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
        "code",
        "v",
        st.t("名称", "title"),
        st.t("データ区分", "categories"),
        st.t("同意", "consent"),
        st.t("GDPR根拠", "GDPR basis"),
        st.t("第三者提供", "3rd party"),
        st.t("状態", "status"),
    )
    for p in items:
        table.add_row(
            p.code,
            str(p.version),
            p.title_en if st.lang == "en" else p.title_ja,
            ",".join(c.value for c in p.categories),
            ("APPI " if p.consent_appi else "") + ("GDPR" if p.consent_gdpr else ""),
            _basis_label(p.lawful_basis, p.art9_condition, p.art10),
            "✓" if p.third_party else "",
            st.t("廃止", "retired") if p.retired else st.t("有効", "active"),
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
    for p in items:
        console.print(f"[bold]{p.code}[/bold] v{p.version}  {p.title_ja} / {p.title_en}")
        console.print(p.text_en if st.lang == "en" else p.text_ja, markup=False)
        console.print(
            f"  categories: {', '.join(c.value for c in p.categories)}  retention: {p.retention_days or '-'}"
        )
        console.print(
            f"  GDPR: {_basis_label(p.lawful_basis, p.art9_condition, p.art10)}"
            + (f"  balancing: {p.balancing_ref}" if p.balancing_ref else ""),
            markup=False,
        )


def _basis_label(basis: str | None, art9: str | None, art10: bool) -> str:
    """G-6 at a glance: the Art. 6 basis, the Art. 9(2) condition, the Art. 10 flag ("-" when none)."""
    parts = [basis or "-"]
    if art9:
        parts.append(f"art9:{art9}")
    if art10:
        parts.append("art10")
    return " ".join(parts)


def _add_or_revise(ctx: typer.Context, revise: bool, **kw: object) -> None:
    st = state(ctx)
    cats = []
    for name in (part.strip() for part in str(kw.pop("categories")).split(",")):
        if name not in {x.value for x in Category}:
            raise ValidationFailed(
                f"不明なデータ区分です: {name}（{_CAT_HELP}）",
                f"Unknown data category: {name} ({_CAT_HELP})",
                code="bad_category",
            )
        cats.append(Category(name))
    json_out = bool(kw.pop("json_out"))
    data = PurposeCreate(categories=cats, **kw)
    with st.transaction() as tx:
        result = service.revise(tx, data) if revise else service.add(tx, data)
    if json_out:
        print_json(result)
        return
    console.print(
        st.t(f"登録しました: {result.code} v{result.version}", f"saved: {result.code} v{result.version}")
    )
    for w in result.warnings:
        err_console.print(f"⚠ {w}", markup=False)
    if result.pending_notice is not None:
        # R-17-2 / R-21-1: the new version reaches a person only once they are notified of it
        console.print(
            st.t(
                f"新しい版の通知が必要な本人: {result.pending_notice} 人"
                f"（mamori customers pending-notice {result.code} / customers notify）",
                f"persons who now need the new notice: {result.pending_notice} "
                f"(mamori customers pending-notice {result.code} / customers notify)",
            ),
            markup=False,
        )


_CAT_HELP = "identifier,contact,attribute,behaviour,sensitive"
_BASIS_HELP = "GDPR 6(1): " + " / ".join(LAWFUL_BASES) + " (--consent-gdpr = consent)"
_ART9_HELP = "GDPR 9(2) (sensitive): " + " / ".join(ART9_CONDITIONS)


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
    categories: str = typer.Option(..., help=_CAT_HELP),
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
