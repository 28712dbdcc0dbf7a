"""``mamori text``: scan and redact personal information in .txt, .csv and .srt/.vtt files.

Scan output never shows a detected value: each finding is reported with its type, offsets, line and a
masked preview (●●●-●●●●-●●●●), so the output can go to logs and tickets.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from mamori.deid.cli.text_batch import (
    _jsonl_each,
    _redact_many,
    _RedactJob,
    _scan_many,
)
from mamori.deid.cli.text_evaluate import evaluate_cmd
from mamori.deid.cli.text_support import (
    DEFAULT_MAX_MB,
    INPUTS_HELP,
    ColumnOpt,
    GlobOpt,
    JsonlOpt,
    KeepFileOpt,
    KeepRegistryOpt,
    LangOpt,
    MaxSizeOpt,
    NerOpt,
    _check_file,
    _fail,
    _keep_context,
    _key_note,
    _lang,
    _load_key,
    _ner_context,
    _print_findings,
    _progress,
    _redact_summary,
    _single_file,
    _summary,
)
from mamori.kernel.cli_support import lazy
from mamori.kernel.errors import MamoriError
from mamori.kernel.files import check_output, write_output

# Imported by the commands that use them, not at start-up (issue 16; see kernel/cli_support.py).
if TYPE_CHECKING:
    import mamori.deid.text.detect as detect  # the module (the package re-exports a function of that name)
    from mamori.deid.text import errors as text_errors
    from mamori.deid.text import formats, operators
else:
    detect = lazy("mamori.deid.text.detect")
    formats = lazy("mamori.deid.text.formats")
    operators = lazy("mamori.deid.text.operators")
    text_errors = lazy("mamori.deid.text.errors")

app = typer.Typer(
    help="自由記述テキストの個人情報の検出と墨消し / detect and redact personal information in free text",
    no_args_is_help=True,
)


@app.command("scan")
def scan_cmd(
    ctx: typer.Context,
    files: Annotated[list[Path], typer.Argument(help=INPUTS_HELP, metavar="INPUT...", show_default=False)],
    as_json: Annotated[bool, typer.Option("--json", help="JSON output (masked previews only)")] = False,
    column: ColumnOpt = None,
    lang: LangOpt = None,
    ner: NerOpt = None,
    glob: GlobOpt = None,
    jsonl: JsonlOpt = False,
    keep_registry: KeepRegistryOpt = False,
    keep_file: KeepFileOpt = None,
    max_size: MaxSizeOpt = DEFAULT_MAX_MB,
) -> None:
    """個人情報を検出して一覧表示する（値そのものは表示しない）。"""
    lg = _lang(lang)
    single = _single_file(files, jsonl)
    try:
        keep = _keep_context(ctx, keep_registry, keep_file)
        if single is None:
            with keep, _ner_context(ner):
                failed = _scan_many(
                    files,
                    lg,
                    as_json=as_json,
                    columns=column,
                    glob=glob,
                    jsonl=jsonl,
                    max_bytes=max_size * 1024 * 1024,
                )
            if failed:
                raise typer.Exit(failed)
            return
        _check_file(single)
        with keep, _ner_context(ner), _progress(single, lg) as advance:
            found = formats.scan_file(single, columns=column or None, progress=advance)
    except MamoriError as exc:
        raise _fail(exc, lg) from None
    counts = Counter(f.type for f in found)
    if as_json:
        payload = {
            "file": single.name,
            "findings": [f.to_dict() for f in found],
            "counts": dict(sorted(counts.items())),
            "sensitive_rule_id": operators.SENSITIVE_RULE_ID,
        }
        typer.echo(json.dumps(payload, ensure_ascii=False))
        return
    _print_findings(found, lg)
    typer.echo(_summary(found, lg))


@app.command("redact")
def redact_cmd(
    ctx: typer.Context,
    files: Annotated[list[Path], typer.Argument(help=INPUTS_HELP, metavar="INPUT...", show_default=False)],
    out: Annotated[Path | None, typer.Option("-o", "--out", help="output file (default: stdout)")] = None,
    out_dir: Annotated[
        Path | None, typer.Option("--out-dir", help="output directory for many inputs (same relative paths)")
    ] = None,
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
    glob: GlobOpt = None,
    jsonl: JsonlOpt = False,
    keep_registry: KeepRegistryOpt = False,
    keep_file: KeepFileOpt = None,
    max_size: MaxSizeOpt = DEFAULT_MAX_MB,
) -> None:
    """個人情報を墨消しする。要配慮の語は墨消しせず要確認として報告する（R-2.3-1）。"""
    lg = _lang(lang)
    single = _single_file(files, jsonl) if out_dir is None else None
    try:
        if single is None and out is not None:
            raise text_errors.InputUnreadable(
                "複数の入力には -o ではなく --out-dir を指定してください",
                "for many inputs use --out-dir, not -o",
            )
        if single is None and not jsonl and out_dir is None:
            raise text_errors.InputUnreadable(
                "複数のファイル・ディレクトリの墨消しには --out-dir が必要です",
                "redacting many files or a directory needs --out-dir",
            )
        if single is not None:
            _check_file(single)
            if out is not None:
                check_output(out, force=force)  # refused before any work
        policy = operators.Policy.from_json(policy_file) if policy_file else operators.Policy()
        policy = operators.Policy.from_pairs(operator or [], policy)
        uses_key = "pseudonym" in {policy.default, *policy.by_type.values()}
        key, generated = _load_key(key_file, lg) if uses_key else (b"", False)
        keep = _keep_context(ctx, keep_registry, keep_file)
        if single is None:
            job = _RedactJob(policy, key or None, lg, column or None, max_size * 1024 * 1024)
            with keep, _ner_context(ner):
                if jsonl:
                    failed = _jsonl_each(files, lg, job.jsonl)
                else:
                    assert out_dir is not None
                    failed = _redact_many(files, out_dir, job, glob=glob, force=force)
            _key_note(generated, lg, many=True)
            _redact_summary(job.findings, policy, lg, files=job.files)
            if failed:
                raise typer.Exit(failed)
            return
        with keep, _ner_context(ner), _progress(single, lg) as advance:
            text, findings = formats.redact_file(
                single, policy, key=key or None, lang=lg, columns=column or None, progress=advance
            )
        if out is not None:
            write_output(out, text, force=force)  # never through a link (kernel.files)
        else:
            typer.echo(text, nl=False)
    except MamoriError as exc:
        raise _fail(exc, lg) from None
    _key_note(generated, lg, many=False)
    _redact_summary(findings, policy, lg)


app.command("evaluate")(evaluate_cmd)
