"""``mamori text``: scan and redact personal information in .txt, .csv and .srt/.vtt files.

Scan output never shows a detected value: each finding is reported with its type, offsets, line and a
masked preview (●●●-●●●●-●●●●), so the output can go to logs and tickets.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import secrets
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from mamori.kernel.cli_support import lazy
from mamori.kernel.errors import MamoriError
from mamori.kernel.files import check_output, write_output

# Imported by the commands that use them, not at start-up (issue 16; see kernel/cli_support.py).
if TYPE_CHECKING:
    import mamori.deid.text.detect as detect  # the module (the package re-exports a function of that name)
    from mamori.deid.text import errors as text_errors
    from mamori.deid.text import formats, operators
    from mamori.deid.text import ner as ner_models
else:
    detect = lazy("mamori.deid.text.detect")
    formats = lazy("mamori.deid.text.formats")
    ner_models = lazy("mamori.deid.text.ner")
    operators = lazy("mamori.deid.text.operators")
    text_errors = lazy("mamori.deid.text.errors")

app = typer.Typer(
    help="自由記述テキストの個人情報の検出と墨消し / detect and redact personal information in free text",
    no_args_is_help=True,
)
_err = Console(stderr=True)
_PROGRESS_MIN_BYTES = 1024 * 1024

LangOpt = Annotated[str | None, typer.Option("--lang", help="ja | en (default: MAMORI_LANG or ja)")]
ColumnOpt = Annotated[
    list[str] | None, typer.Option("--column", "-c", help="CSV column to scan (repeatable)")
]

NerOpt = Annotated[
    str | None, typer.Option("--ner", help="optional NER model for names/addresses: ginza (needs ja-ginza)")
]


def _ner_context(ner: str | None) -> AbstractContextManager[None]:
    """``using_ner`` with the requested model, or nothing. Raises NerUnavailable (unknown or not installed)."""
    if ner is None:
        return nullcontext()
    if ner.lower() != "ginza":
        raise text_errors.NerUnavailable("--ner に指定できるのは ginza のみです", "--ner accepts only: ginza")
    return ner_models.using_ner(ner_models.ginza_ner())


def _lang(lang: str | None) -> str:
    value = (lang or os.environ.get("MAMORI_LANG") or "ja").lower()
    return "en" if value.startswith("en") else "ja"


def _t(lang: str, ja: str, en: str) -> str:
    return en if lang == "en" else ja


def _fail(exc: MamoriError, lang: str) -> typer.Exit:
    typer.echo(exc.one_line(lang), err=True)
    return typer.Exit(exc.exit_code or 1)


@contextmanager
def _progress(path: Path, lang: str) -> Iterator[Callable[[int], None] | None]:
    try:
        size = path.stat().st_size
    except OSError:
        size = 0
    if size < _PROGRESS_MIN_BYTES or not sys.stderr.isatty():
        yield None
        return
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(
        TextColumn(_t(lang, "検査中", "scanning")),
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        console=_err,
        transient=True,
    ) as bar:
        task = bar.add_task("scan", total=size)

        def advance(n: int) -> None:
            bar.advance(task, n)

        yield advance


def _check_file(path: Path) -> None:
    if not path.is_file():
        raise text_errors.InputUnreadable("ファイルが見つかりません", "file not found")


@app.command("scan")
def scan_cmd(
    file: Annotated[Path, typer.Argument(help=".txt, .csv, .srt or .vtt")],
    as_json: Annotated[bool, typer.Option("--json", help="JSON output (masked previews only)")] = False,
    column: ColumnOpt = None,
    lang: LangOpt = None,
    ner: NerOpt = None,
) -> None:
    """個人情報を検出して一覧表示する（値そのものは表示しない）。"""
    lg = _lang(lang)
    try:
        _check_file(file)
        with _ner_context(ner), _progress(file, lg) as advance:
            found = formats.scan_file(file, columns=column or None, progress=advance)
    except MamoriError as exc:
        raise _fail(exc, lg) from None
    counts = Counter(f.type for f in found)
    if as_json:
        payload = {
            "file": file.name,
            "findings": [f.to_dict() for f in found],
            "counts": dict(sorted(counts.items())),
            "sensitive_rule_id": operators.SENSITIVE_RULE_ID,
        }
        typer.echo(json.dumps(payload, ensure_ascii=False))
        return
    labels = detect.TYPE_LABELS_EN if lg == "en" else detect.TYPE_LABELS_JA
    for f in found:
        where = f"{f.line}" + (f" [{f.column}]" if f.column is not None else "")
        name = labels.get(f.type, f.type)
        flag = _t(lg, "  ※要配慮: 要確認", "  * sensitive: review") if f.sensitive else ""
        typer.echo(f"{where}\t{name}\t{f.start}-{f.end}\t{f.preview}{flag}")
    summary = ", ".join(f"{labels.get(k, k)} {v}" for k, v in sorted(counts.items())) or "0"
    typer.echo(_t(lg, f"検出: {len(found)} 件（{summary}）", f"found: {len(found)} ({summary})"))


def _load_key(key_file: Path | None, lang: str) -> tuple[bytes, bool]:
    """(key, generated). Key from --key-file (raw bytes, or base64 text), MAMORI_PSEUDONYM_KEY, or a new one."""
    if key_file is not None:
        try:
            raw = key_file.read_bytes()
        except OSError as exc:
            raise text_errors.KeyInvalid("鍵ファイルを読めません", "cannot read the key file") from exc
        stripped = raw.strip()
        try:
            decoded = base64.b64decode(stripped, validate=True)
            if len(decoded) >= 16:
                return decoded, False
        except (binascii.Error, ValueError):
            pass
        if len(stripped) < 16:
            raise text_errors.KeyInvalid(
                "鍵が短すぎます（16 バイト以上）", "key too short (16 bytes or more)"
            )
        return stripped, False
    env = os.environ.get("MAMORI_PSEUDONYM_KEY")
    if env:
        try:
            decoded = base64.b64decode(env.strip(), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise text_errors.KeyInvalid(
                "MAMORI_PSEUDONYM_KEY は base64 で指定してください", "MAMORI_PSEUDONYM_KEY must be base64"
            ) from exc
        if len(decoded) < 16:
            raise text_errors.KeyInvalid(
                "鍵が短すぎます（16 バイト以上）", "key too short (16 bytes or more)"
            )
        return decoded, False
    return secrets.token_bytes(32), True


@app.command("redact")
def redact_cmd(
    file: Annotated[Path, typer.Argument(help=".txt, .csv, .srt or .vtt")],
    out: Annotated[Path | None, typer.Option("-o", "--out", help="output file (default: stdout)")] = None,
    policy_file: Annotated[Path | None, typer.Option("--policy", help="policy JSON")] = None,
    operator: Annotated[
        list[str] | None,
        typer.Option("--operator", help="TYPE=mask|label|pseudonym|remove|keep (repeatable)"),
    ] = None,
    key_file: Annotated[Path | None, typer.Option("--key-file", help="pseudonym key (raw or base64)")] = None,
    column: ColumnOpt = None,
    lang: LangOpt = None,
    ner: NerOpt = None,
    force: Annotated[bool, typer.Option("--force", help="replace an existing output file")] = False,
) -> None:
    """個人情報を墨消しする。要配慮の語は墨消しせず要確認として報告する（R-2.3-1）。"""
    lg = _lang(lang)
    try:
        _check_file(file)
        if out is not None:
            check_output(out, force=force)  # refused before any work
        policy = operators.Policy.from_json(policy_file) if policy_file else operators.Policy()
        policy = operators.Policy.from_pairs(operator or [], policy)
        uses_key = "pseudonym" in {policy.default, *policy.by_type.values()}
        key, generated = _load_key(key_file, lg) if uses_key else (b"", False)
        with _ner_context(ner), _progress(file, lg) as advance:
            text, findings = formats.redact_file(
                file, policy, key=key or None, lang=lg, columns=column or None, progress=advance
            )
        if out is not None:
            write_output(out, text, force=force)  # never through a link (kernel.files)
        else:
            typer.echo(text, nl=False)
    except MamoriError as exc:
        raise _fail(exc, lg) from None
    if generated:
        typer.echo(
            _t(
                lg,
                "注意: 仮名化の鍵を今回限りで生成しました（同じ文書内でのみ一貫します）。"
                "再現するには --key-file か MAMORI_PSEUDONYM_KEY を指定してください。",
                "note: a one-off pseudonym key was generated for this run (consistent within this document only);"
                " use --key-file or MAMORI_PSEUDONYM_KEY to reproduce.",
            ),
            err=True,
        )
    flagged = sum(1 for f in findings if f.sensitive)
    redacted = sum(1 for f in findings if policy.operator_for(f.type) != "keep")
    typer.echo(_t(lg, f"墨消し: {redacted} 件", f"redacted: {redacted}"), err=True)
    if flagged:
        typer.echo(
            _t(
                lg,
                f"要配慮の可能性がある語: {flagged} 件（{operators.SENSITIVE_RULE_ID}）。墨消ししていません。確認してください。",
                f"possible sensitive (要配慮) terms: {flagged} ({operators.SENSITIVE_RULE_ID}); not redacted, please review.",
            ),
            err=True,
        )
