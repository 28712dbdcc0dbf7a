"""``mamori text`` over many inputs in one process (issue 23): files, directories and JSON Lines on stdin."""

from __future__ import annotations

import json
import os
import sys
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from mamori.deid.cli.text_support import (
    _err,
    _print_findings,
    _summary,
    _t,
)
from mamori.kernel.cli_support import lazy
from mamori.kernel.errors import Conflict, MamoriError
from mamori.kernel.files import write_output

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


class _Bar:
    """One progress bar over every input of a batch (bytes), on stderr when it is a terminal."""

    def __init__(self, total: int, lang: str, verb: tuple[str, str]) -> None:
        self._bar: Any = None
        self._task: Any = None
        if total <= 0 or not sys.stderr.isatty():
            return
        from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

        self._bar = Progress(
            TextColumn(_t(lang, *verb)),
            BarColumn(),
            DownloadColumn(),
            TimeRemainingColumn(),
            console=_err,
            transient=True,
        )
        self._bar.start()
        self._task = self._bar.add_task("inputs", total=total)

    def advance(self, n: int) -> None:
        if self._bar is not None:
            self._bar.advance(self._task, n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()

    @contextmanager
    def per_input(self, size: int) -> Iterator[Callable[[int], None]]:
        """A progress callback for one input; on leaving, the bar is moved to the input's end whatever the
        reader reported (a file that failed half-way still counts as done)."""
        done = 0

        def advance(n: int) -> None:
            nonlocal done
            done += n
            self.advance(n)

        try:
            yield advance
        finally:
            self.advance(max(0, size - done))


@dataclass
class _Input:
    path: Path
    rel: str  # the name shown and, for redact, the path under --out-dir
    size: int


def _gather(
    args: Sequence[Path], glob: str | None, exclude: Path | None, lang: str
) -> tuple[list[_Input], int]:
    """The files named or found under the directories named; a missing argument is reported (one line) and
    counted. Returns (inputs, failures)."""
    inputs: list[_Input] = []
    failed = 0
    for arg in args:
        if str(arg) == "-":
            _report(str(arg), text_errors.InputUnreadable("- は --jsonl と使います", "- needs --jsonl"), lang)
            failed += 1
        elif arg.is_dir():
            for path in formats.input_files(arg, pattern=glob, exclude=exclude):
                inputs.append(_Input(path, path.relative_to(arg).as_posix(), _size(path)))
        elif arg.is_file():
            inputs.append(_Input(arg, arg.name, _size(arg)))
        else:
            _report(str(arg), text_errors.InputUnreadable("ファイルが見つかりません", "file not found"), lang)
            failed += 1
    return inputs, failed


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _report(name: str, exc: MamoriError, lang: str) -> None:
    """A failed input on one line (stderr): its name and what is wrong — never its content."""
    typer.echo(f"{name}: {exc.one_line(lang)}", err=True)


def _scan_many(
    args: Sequence[Path],
    lang: str,
    *,
    as_json: bool,
    columns: Sequence[str] | None,
    glob: str | None,
    jsonl: bool,
    max_bytes: int,
) -> int:
    """Scan every input in this process; the exit code (0, or non-zero when an input failed)."""
    if jsonl:
        return _jsonl_each(args, lang, _scan_jsonl)
    inputs, failed = _gather(args, glob, None, lang)
    missing = failed
    results: list[dict[str, object]] = []
    everything: list[formats.LocatedFinding] = []
    total_bytes = sum(i.size for i in inputs)
    bar = _Bar(total_bytes, lang, ("検査中", "scanning"))
    try:
        for item in inputs:
            with bar.per_input(item.size) as advance:
                try:
                    found = formats.scan_file(
                        item.path, columns=columns, progress=advance, max_bytes=max_bytes, binary_ok=False
                    )
                except MamoriError as exc:
                    failed += 1
                    _report(item.rel, exc, lang)
                    results.append({"file": item.rel, "error": exc.code, "message": exc.one_line(lang)})
                    continue
            everything.extend(found)
            counts = Counter(f.type for f in found)
            results.append(
                {
                    "file": item.rel,
                    "findings": [f.to_dict() for f in found],
                    "counts": dict(sorted(counts.items())),
                }
            )
            if not as_json:
                _print_findings(found, lang, prefix=f"{item.rel}:")
    finally:
        bar.close()
    if as_json:
        counts = Counter(f.type for f in everything)
        payload = {
            "files": results,
            "counts": dict(sorted(counts.items())),
            "scanned": len(inputs) - sum(1 for r in results if "error" in r),
            "failed": failed,
            "bytes": total_bytes,
            "sensitive_rule_id": operators.SENSITIVE_RULE_ID,
        }
        typer.echo(json.dumps(payload, ensure_ascii=False))
    else:
        typer.echo(
            _summary(everything, lang)
            + _t(
                lang,
                f"　入力 {len(inputs) + missing} 件・失敗 {failed} 件",
                f"; inputs {len(inputs) + missing}, failed {failed}",
            )
        )
    return 1 if failed else 0


def _jsonl_each(args: Sequence[Path], lang: str, handle: Callable[[object, str], dict[str, object]]) -> int:
    """``-`` with ``--jsonl``: each stdin line ``{"id": …, "text": …}`` → one JSON line on stdout. A bad line is
    answered with ``{"line": n, "id": …, "error": code}`` (and one line on stderr); the others go on."""
    if [str(a) for a in args] != ["-"]:
        raise text_errors.InputUnreadable(
            "--jsonl の入力は - （標準入力）だけです", "--jsonl reads only - (stdin)"
        )
    failed = 0
    out = sys.stdout
    for number, raw in enumerate(sys.stdin.buffer, start=1):
        if not raw.strip():
            continue
        doc_id: object = None
        try:
            try:
                doc = json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, ValueError) as exc:
                raise text_errors.InputUnreadable("JSON として読めない行です", "not a JSON line") from exc
            if isinstance(doc, dict):
                doc_id = doc.get("id", number)
            if not isinstance(doc, dict) or not isinstance(doc.get("text"), str):
                raise text_errors.InputUnreadable(
                    '行は {"id": …, "text": "…"} の形にしてください', 'a line must be {"id": …, "text": "…"}'
                )
            answer = {"id": doc_id, **handle(doc_id, doc["text"])}
        except MamoriError as exc:
            failed += 1
            _report(_t(lang, f"{number} 行目", f"line {number}"), exc, lang)
            answer = {"line": number, "id": doc_id, "error": exc.code, "message": exc.one_line(lang)}
        out.write(json.dumps(answer, ensure_ascii=False) + "\n")
    out.flush()
    return 1 if failed else 0


def _scan_jsonl(doc_id: object, text: str) -> dict[str, object]:
    found = formats.locate(text, formats.scan_text(text))
    counts = Counter(f.type for f in found)
    return {"findings": [f.to_dict() for f in found], "counts": dict(sorted(counts.items()))}


@dataclass
class _RedactJob:
    policy: operators.Policy
    key: bytes | None
    lang: str
    columns: Sequence[str] | None
    max_bytes: int
    findings: list[detect.Finding] = field(default_factory=list)
    files: int = 0

    def jsonl(self, doc_id: object, text: str) -> dict[str, object]:
        redacted, found = formats.redact_text(text, self.policy, key=self.key, lang=self.lang)
        self.findings.extend(found)
        self.files += 1
        counts = Counter(f.type for f in found if self.policy.operator_for(f.type) != "keep")
        return {"text": redacted, "counts": dict(sorted(counts.items()))}


def _redact_many(
    args: Sequence[Path], out_dir: Path, job: _RedactJob, *, glob: str | None, force: bool
) -> int:
    """Redact every input into ``out_dir`` (same relative paths). Every target is checked before any work: one
    that exists without --force refuses the run; a symbolic link on the way is never written through."""
    lang = job.lang
    if out_dir.is_symlink() or (out_dir.exists() and not out_dir.is_dir()):
        raise text_errors.InputUnreadable(
            "--out-dir はディレクトリにしてください（シンボリックリンクは不可）",
            "--out-dir must be a directory (not a symbolic link)",
        )
    inputs, failed = _gather(args, glob, out_dir, lang)
    seen: dict[str, int] = Counter(i.rel for i in inputs)
    existing = [i.rel for i in inputs if os.path.lexists(out_dir / i.rel)]
    if existing and not force:
        raise Conflict(
            f"出力先に {len(existing)} 件のファイルが既にあります（例: {existing[0]}）。--force で上書きします",
            f"{len(existing)} output file(s) exist already (e.g. {existing[0]}); use --force to replace them",
            code="file_exists",
        )
    bar = _Bar(sum(i.size for i in inputs), lang, ("墨消し中", "redacting"))
    try:
        for item in inputs:
            with bar.per_input(item.size) as advance:
                try:
                    if seen[item.rel] > 1:
                        raise text_errors.InputUnreadable(
                            "同じ名前の入力が複数あります（出力先が重なります）",
                            "several inputs share this output name",
                        )
                    target = _target(out_dir, item.rel)
                    text, found = formats.redact_file(
                        item.path,
                        job.policy,
                        key=job.key,
                        lang=lang,
                        columns=job.columns,
                        progress=advance,
                        max_bytes=job.max_bytes,
                        binary_ok=False,
                    )
                    write_output(target, text, force=force)  # never through a link (kernel.files)
                except MamoriError as exc:
                    failed += 1
                    _report(item.rel, exc, lang)
                    continue
            job.findings.extend(found)
            job.files += 1
    finally:
        bar.close()
    return 1 if failed else 0


def _target(out_dir: Path, rel: str) -> Path:
    """``out_dir/rel`` with its folders made; refused when any folder on the way is a symbolic link."""
    out_dir.mkdir(parents=True, exist_ok=True)
    here = out_dir
    for part in Path(rel).parent.parts:
        here = here / part
        if here.is_symlink():
            raise text_errors.InputUnreadable(
                "出力先のフォルダーがシンボリックリンクです（書き込みません）",
                "a folder under --out-dir is a symbolic link (not written through)",
            )
        here.mkdir(exist_ok=True)
    return out_dir / rel
