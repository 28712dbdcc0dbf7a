"""`mamori notice …`: the published notice (公表事項, R-32-1) — the draft against the version in force, publishing
a new version (privacy officer), and the versions kept."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from mamori.kernel import labels
from mamori.kernel.cli_support import CliState, cli_command, console, err_console, lazy, print_json, state

# Imported by the commands that use them, not at start-up (issue 16; see kernel/cli_support.py).
if TYPE_CHECKING:
    from mamori.notice import schemas, service
else:
    schemas = lazy("mamori.notice.schemas")
    service = lazy("mamori.notice.service")

app = typer.Typer(
    help="公表事項（個人情報の取扱いについて） / the published notice (R-32-1)", no_args_is_help=True
)

CHANGE_WORDS: dict[str, tuple[str, str]] = {
    "added": ("追加", "added"),
    "removed": ("削除", "removed"),
    "changed": ("変更", "changed"),
}


def _change(status: str, lang: str) -> str:
    ja, en = CHANGE_WORDS[status]
    return en if lang == "en" else ja


LANG_OPT = typer.Option(None, "--lang", help="表示する言語 ja / en（省略時は全体の --lang）")


def _lang(st: CliState, lang: str | None) -> str:
    return "en" if (lang or st.lang) == "en" else "ja"


def _print_content(content: schemas.NoticeContent, lang: str) -> None:
    for section in content.sections:
        for line in service.section_text(section, lang):
            console.print(line, markup=False)
        console.print()


def _print_placeholders(st: CliState, placeholders: list[schemas.Placeholder], lang: str) -> None:
    if placeholders:
        err_console.print(st.t("未設定の項目があります:", "settings not set:"), markup=False)
        for p in placeholders:
            err_console.print(f"  ! {p.message(lang)}", markup=False)


@app.command("draft")
@cli_command
def draft(
    ctx: typer.Context, json_out: bool = typer.Option(False, "--json"), lang: str | None = LANG_OPT
) -> None:
    """公表する内容の下書きと、公表中の版との違い / the draft and what changed against the published version."""
    st = state(ctx)
    words = _lang(st, lang)
    with st.transaction() as c:
        d = service.draft(c, words)
    if json_out:
        print_json(d)
        return
    if d.published is None:
        console.print(st.t("まだ公表していません（公表すると第1版になります）。", "nothing published yet."))
    elif d.unchanged:
        console.print(
            st.t(
                f"公表中の第{d.published.version}版と同じです（公表しても新しい版はできません）。",
                f"same as the published version {d.published.version} (publishing stores nothing).",
            )
        )
    else:
        console.print(
            st.t(
                f"公表中の第{d.published.version}版との違い:",
                f"changes against version {d.published.version}:",
            )
        )
        for ch in d.changes:
            if ch.status != "same":
                console.print(f"[{_change(ch.status, words)}] {ch.title(words)}", markup=False)
                for line in ch.diff:
                    console.print(f"    {line}", markup=False)
    console.print()
    _print_content(d.content, words)
    console.print(f"sha256: {d.sha256}", markup=False)
    _print_placeholders(st, d.placeholders, words)


@app.command("publish")
@cli_command
def publish(
    ctx: typer.Context,
    yes: bool = typer.Option(False, "--yes", help="確認せずに公表する（下書きを確認済みのとき）"),
    expect: str | None = typer.Option(
        None,
        "--expect",
        help="確認した下書きの sha256（notice draft が表示）。内容が変わっていれば公表しない",
    ),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """下書きを新しい版として公表する（変更がなければ何もしない。個人情報保護責任者のみ） / publish a new version."""
    st = state(ctx)
    if not yes and expect is None:
        if json_out:
            raise typer.BadParameter(
                "--json では --yes か --expect <sha256> を指定してください / with --json give --yes or --expect"
            )
        with st.transaction() as c:
            d = service.draft(c, st.lang)
        if d.unchanged and d.published is not None:
            console.print(
                st.t(
                    f"変更はありません（公表中は第{d.published.version}版）。",
                    f"unchanged (version {d.published.version} is in force).",
                )
            )
            return
        for ch in d.changes:
            if ch.status != "same":
                console.print(f"[{_change(ch.status, st.lang)}] {ch.title(st.lang)}", markup=False)
                for line in ch.diff:
                    console.print(f"    {line}", markup=False)
        _print_placeholders(st, d.placeholders, st.lang)
        if not typer.confirm(st.t("この内容で公表しますか？", "publish this?"), default=False):
            raise typer.Exit(1)
        expect = d.sha256
    with st.transaction() as c:
        result = service.publish(c, expected_sha256=expect)
    if json_out:
        print_json(result)
        return
    when = labels.fmt_date(result.published_at, st.lang)
    if result.published:
        console.print(
            st.t(
                f"第{result.version}版を公表しました（{when}）。",
                f"published version {result.version} ({when}).",
            )
        )
    else:
        console.print(
            st.t(
                f"変更はありません（公表中は第{result.version}版、{when}）。",
                f"unchanged (version {result.version} of {when} is in force).",
            )
        )
    _print_placeholders(st, result.placeholders, st.lang)


@app.command("show")
@cli_command
def show(
    ctx: typer.Context,
    version: int | None = typer.Option(None, "--version", min=1, help="版（省略時は公表中の版）"),
    json_out: bool = typer.Option(False, "--json"),
    lang: str | None = LANG_OPT,
) -> None:
    """公表した版の内容 / a published version."""
    st = state(ctx)
    words = _lang(st, lang)
    with st.transaction(system_ok=True) as c:  # the published notice is public
        found = service.shown(c, version)
    if json_out:
        print_json(found)
        return
    console.print(
        st.t(
            f"第{found.version}版（{labels.fmt_date(found.published_at, 'ja')}施行）",
            f"version {found.version} (in effect from {labels.fmt_date(found.published_at, 'en')})",
        )
    )
    console.print()
    _print_content(found.content, words)


@app.command("history")
@cli_command
def history(ctx: typer.Context, json_out: bool = typer.Option(False, "--json")) -> None:
    """公表した版の一覧（改定履歴） / every published version with its date."""
    st = state(ctx)
    with st.transaction(system_ok=True) as c:  # the published notice is public
        rows = service.history(c)
    if json_out:
        print_json(rows)
        return
    if not rows:
        console.print(st.t("まだ公表していません。", "nothing published yet."))
    for r in rows:
        console.print(
            f"{st.t('第', 'v')}{r.version}{st.t('版', '')}  {labels.fmt_datetime(r.published_at, st.lang)}  "
            f"{r.published_by}  {r.sha256[:12]}",
            markup=False,
        )
