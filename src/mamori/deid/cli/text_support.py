"""Shared parts of ``mamori text`` (issue 6, 23): options, messages, keep lists, keys and summaries."""

from __future__ import annotations

import base64
import binascii
import os
import re
import secrets
import sys
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from mamori.kernel.cli_support import lazy
from mamori.kernel.errors import MamoriError

# Imported by the commands that use them, not at start-up (issue 16; see kernel/cli_support.py).
if TYPE_CHECKING:
    import mamori.deid.text.detect as detect  # the module (the package re-exports a function of that name)
    from mamori.deid.text import errors as text_errors
    from mamori.deid.text import formats, operators
    from mamori.deid.text import ner as ner_models
    from mamori.deid.text.detect.keep import KeepList
else:
    detect = lazy("mamori.deid.text.detect")
    formats = lazy("mamori.deid.text.formats")
    ner_models = lazy("mamori.deid.text.ner")
    operators = lazy("mamori.deid.text.operators")
    text_errors = lazy("mamori.deid.text.errors")


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


INPUTS_HELP = (
    "files (.txt .csv .srt .vtt …), directories (recursive: .txt .csv .srt .vtt .md .eml .log), "
    "or - with --jsonl (JSON Lines on stdin)"
)


DEFAULT_MAX_MB = 64


GlobOpt = Annotated[
    str | None, typer.Option("--glob", help="in a directory, only files matching this pattern (e.g. '*.txt')")
]


JsonlOpt = Annotated[
    bool, typer.Option("--jsonl", help='read JSON Lines from stdin (input -): {"id": …, "text": …} per line')
]


KeepRegistryOpt = Annotated[
    bool,
    typer.Option(
        "--keep-registry", help="also keep the counterparty registry's numbers and names (needs --as)"
    ),
]


KeepFileOpt = Annotated[
    Path | None, typer.Option("--keep-file", help="numbers or names to keep, one per line")
]


MaxSizeOpt = Annotated[
    int,
    typer.Option("--max-size", min=1, help="with many inputs: skip (and report) files larger than this, MB"),
]


def _single_file(files: Sequence[Path], jsonl: bool) -> Path | None:
    """The one file of the classic form ``mamori text scan FILE`` (output as before); None: the batch form."""
    if jsonl or len(files) != 1 or str(files[0]) == "-" or files[0].is_dir():
        return None
    return files[0]


def _keep_context(
    ctx: typer.Context, keep_registry: bool, keep_file: Path | None
) -> AbstractContextManager[None]:
    """``using_keep`` with the company's own numbers (MAMORI_OPERATOR_PHONES, always), the counterparty registry
    (``--keep-registry``) and ``--keep-file``; no keep list at all when none of them gives one."""
    from mamori.deid.text.detect import keep as keep_mod

    keep: keep_mod.KeepList | None = None
    # The settings are read only when the company's details are configured (MAMORI_OPERATOR_*): importing them
    # and the deid service costs more than the start-up budget of a simple `mamori text scan` (issue 23 item 5).
    if any(name.startswith("MAMORI_OPERATOR") for name in os.environ):
        from mamori.deid.service import text_keep
        from mamori.kernel.settings import get_settings

        keep = text_keep.keep_from_settings(get_settings())
    if keep_registry:
        from mamori.deid.service import text_keep
        from mamori.kernel.cli_support import state

        with state(ctx).transaction() as c:
            registry = text_keep.keep_list(c)
        keep = registry if keep is None else keep | registry
    if keep_file is not None:
        listed = _read_keep_file(keep_file)
        keep = listed if keep is None else keep | listed
    return keep_mod.using_keep(keep) if keep is not None else nullcontext()


def _read_keep_file(path: Path) -> KeepList:
    """``--keep-file``: one entry a line (blank lines and # comments skipped); an entry with 6+ digits and only
    phone punctuation is a number, anything else a name."""
    from mamori.deid.text.detect.keep import KeepList

    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise text_errors.InputUnreadable("--keep-file を読めません", "cannot read --keep-file") from exc
    numbers: list[str] = []
    names: list[str] = []
    for raw in lines:
        entry = raw.strip()
        if not entry or entry.startswith("#"):
            continue
        if _PHONE_LIKE.fullmatch(entry) and sum(ch.isdigit() for ch in entry) >= 6:
            numbers.append(entry)
        else:
            names.append(entry)
    return KeepList.of(numbers, names)


_PHONE_LIKE = re.compile(r"[0-9０-９+＋()（）\-‐－ー\s.]+")


def _print_findings(found: Sequence[formats.LocatedFinding], lang: str, prefix: str = "") -> None:
    labels = detect.TYPE_LABELS_EN if lang == "en" else detect.TYPE_LABELS_JA
    for f in found:
        where = f"{f.line}" + (f" [{f.column}]" if f.column is not None else "")
        name = labels.get(f.type, f.type)
        flag = _t(lang, "  ※要配慮: 要確認", "  * sensitive: review") if f.sensitive else ""
        typer.echo(f"{prefix}{where}\t{name}\t{f.start}-{f.end}\t{f.preview}{flag}")


def _summary(found: Sequence[formats.LocatedFinding], lang: str) -> str:
    labels = detect.TYPE_LABELS_EN if lang == "en" else detect.TYPE_LABELS_JA
    counts = Counter(f.type for f in found)
    summary = ", ".join(f"{labels.get(k, k)} {v}" for k, v in sorted(counts.items())) or "0"
    return _t(lang, f"検出: {len(found)} 件（{summary}）", f"found: {len(found)} ({summary})")


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


def _key_note(generated: bool, lang: str, *, many: bool) -> None:
    if not generated:
        return
    scope = _t(lang, "今回の実行内", "this run") if many else _t(lang, "同じ文書内", "this document")
    typer.echo(
        _t(
            lang,
            f"注意: 仮名化の鍵を今回限りで生成しました（{scope}でのみ一貫します）。"
            "再現するには --key-file か MAMORI_PSEUDONYM_KEY を指定してください。",
            f"note: a one-off pseudonym key was generated for this run (consistent within {scope} only);"
            " use --key-file or MAMORI_PSEUDONYM_KEY to reproduce.",
        ),
        err=True,
    )


def _redact_summary(
    findings: Sequence[detect.Finding], policy: operators.Policy, lang: str, *, files: int | None = None
) -> None:
    flagged = sum(1 for f in findings if f.sensitive)
    redacted = sum(1 for f in findings if policy.operator_for(f.type) != "keep")
    where = "" if files is None else _t(lang, f"（{files} 件の入力）", f" ({files} inputs)")
    typer.echo(_t(lang, f"墨消し: {redacted} 件{where}", f"redacted: {redacted}{where}"), err=True)
    if flagged:
        typer.echo(
            _t(
                lang,
                f"要配慮の可能性がある語: {flagged} 件（{operators.SENSITIVE_RULE_ID}）。墨消ししていません。確認してください。",
                f"possible sensitive (要配慮) terms: {flagged} ({operators.SENSITIVE_RULE_ID}); not redacted, please review.",
            ),
            err=True,
        )
