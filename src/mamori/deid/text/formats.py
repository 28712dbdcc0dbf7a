"""Scanning and redacting files: plain text, CSV columns and SRT/WebVTT subtitles.

Offsets in the results are offsets in the file's text (for CSV: in the cell). Subtitle cue numbers, timing
lines (``00:00:01,000 --> 00:00:04,000``), the WEBVTT header and NOTE/STYLE blocks are kept byte for byte;
only the cue text is scanned and redacted.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from mamori.deid.text.detect import Finding, detect
from mamori.deid.text.errors import InputUnreadable
from mamori.deid.text.operators import Policy, apply, masked_preview
from mamori.kernel.files import csv_writer as safe_csv_writer

_TIMING = re.compile(r"^\s*(?:\d{1,2}:)?\d{1,2}:\d{2}[.,]\d{3}\s+-->\s+")
_CUE_NUMBER = re.compile(r"^\s*\d+\s*$")
_BLOCK = 64 * 1024

Progress = Callable[[int], None]  # called with the number of bytes (UTF-8) just processed


@dataclass(frozen=True)
class LocatedFinding:
    """A finding with where it is: line (1-based) and, for CSV, row (1-based, header excluded) and column."""

    type: str
    start: int
    end: int
    line: int
    preview: str
    sensitive: bool
    row: int | None = None
    column: str | None = None

    def to_dict(self) -> dict[str, object]:
        d: dict[str, object] = {
            "type": self.type,
            "start": self.start,
            "end": self.end,
            "line": self.line,
            "preview": self.preview,
            "sensitive": self.sensitive,
        }
        if self.row is not None:
            d["row"] = self.row
            d["column"] = self.column
        return d


def kind_of(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix in (".srt", ".vtt"):
        return "subtitles"
    return "text"


# What `mamori text scan DIR` / `redact DIR` take from a directory (a file named on the command line is taken
# whatever its suffix).
SUPPORTED_SUFFIXES = (".txt", ".csv", ".srt", ".vtt", ".md", ".eml", ".log")
_SNIFF = 8192


def read_text(path: Path, *, max_bytes: int | None = None, binary_ok: bool = True) -> str:
    """The file's text (UTF-8 with or without BOM, else Shift_JIS). ``max_bytes`` refuses a larger file before
    reading it; ``binary_ok=False`` refuses a file with a NUL byte in its first 8 KB (an image, a PDF, a zip)."""
    try:
        if max_bytes is not None and path.stat().st_size > max_bytes:
            raise InputUnreadable(
                f"ファイルが大きすぎます（上限 {max_bytes // (1024 * 1024)} MB）",
                f"file too large (limit {max_bytes // (1024 * 1024)} MB)",
            )
        data = path.read_bytes()
    except OSError as exc:
        raise InputUnreadable("ファイルを読めません", "cannot read the file") from exc
    if not binary_ok and b"\x00" in data[:_SNIFF]:
        raise InputUnreadable("テキストファイルではありません（バイナリ）", "not a text file (binary)")
    for enc in ("utf-8-sig", "cp932"):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    raise InputUnreadable(
        "文字コードを判別できません（UTF-8 または Shift_JIS）",
        "unknown encoding (UTF-8 or Shift_JIS expected)",
    )


def _blocks(text: str) -> Iterator[tuple[int, str]]:
    """Split on line boundaries into blocks of about 64 KB (findings never span lines in practice)."""
    pos = 0
    while pos < len(text):
        end = min(len(text), pos + _BLOCK)
        if end < len(text):
            nl = text.rfind("\n", pos, end)
            end = nl + 1 if nl > pos else end
        yield pos, text[pos:end]
        pos = end


def _protected_mask(text: str) -> str:
    """Subtitle text with every non-cue-text line blanked (same length), so only cue text is scanned."""
    out: list[str] = []
    in_note = False
    for i, line in enumerate(text.splitlines(keepends=True)):
        body = line.rstrip("\r\n")
        keep_as_is = False
        if i == 0 and body.lstrip("\ufeff").startswith("WEBVTT"):
            keep_as_is = True
        elif body.startswith(("NOTE", "STYLE", "REGION")):
            in_note = True
            keep_as_is = True
        elif in_note:
            keep_as_is = True
            if not body.strip():
                in_note = False
        elif _TIMING.match(body) or _CUE_NUMBER.match(body):
            keep_as_is = True
        if keep_as_is:
            out.append(" " * len(body) + line[len(body) :])
        else:
            out.append(line)
    return "".join(out)


def scan_text(text: str, *, subtitles: bool = False, progress: Progress | None = None) -> list[Finding]:
    source = _protected_mask(text) if subtitles else text
    found: list[Finding] = []
    for offset, block in _blocks(source):
        for f in detect(block):
            found.append(Finding(f.type, f.start + offset, f.end + offset, f.sensitive))
        if progress:
            progress(len(block.encode("utf-8")))
    return found


def _line_starts(text: str) -> list[int]:
    starts = [0]
    starts += [m.end() for m in re.finditer("\n", text)]
    return starts


def locate(text: str, findings: Sequence[Finding]) -> list[LocatedFinding]:
    import bisect

    starts = _line_starts(text)
    return [
        LocatedFinding(
            f.type,
            f.start,
            f.end,
            bisect.bisect_right(starts, f.start),
            masked_preview(text[f.start : f.end]),
            f.sensitive,
        )
        for f in findings
    ]


def detect_cell(column: str, cell: str) -> list[Finding]:
    """Detect in one CSV cell with its column name as context (生年月日 → birth dates, 氏名 → names)."""
    prefix = f"{column}: " if column else ""
    out: list[Finding] = []
    for f in detect(prefix + cell):
        if f.start >= len(prefix):
            out.append(Finding(f.type, f.start - len(prefix), f.end - len(prefix), f.sensitive))
    return out


def _read_csv(text: str) -> tuple[list[str], list[list[str]]]:
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        return [], []
    return rows[0], rows[1:]


def _csv_columns(header: Sequence[str], wanted: Sequence[str] | None) -> list[int]:
    if not wanted:
        return list(range(len(header)))
    missing = [w for w in wanted if w not in header]
    if missing:
        raise InputUnreadable(
            f"CSV に列がありません（{len(missing)} 件）", f"column(s) not in the CSV header ({len(missing)})"
        )
    return [header.index(w) for w in wanted]


def input_files(root: Path, *, pattern: str | None = None, exclude: Path | None = None) -> list[Path]:
    """The files under ``root`` with a supported suffix (recursive, sorted; symbolic links to directories are not
    followed), filtered by ``pattern`` (a glob on the path relative to ``root`` or on the file name) and without
    anything under ``exclude`` (an output directory inside the input)."""
    import fnmatch
    import os

    skip = exclude.resolve() if exclude is not None else None
    out: list[Path] = []
    for folder, dirs, names in os.walk(root):
        here = Path(folder)
        if skip is not None and (here.resolve() == skip or skip in here.resolve().parents):
            dirs[:] = []
            continue
        dirs.sort()
        for name in sorted(names):
            path = here / name
            if path.suffix.lower() not in SUPPORTED_SUFFIXES:
                continue
            rel = path.relative_to(root).as_posix()
            if pattern and not (fnmatch.fnmatch(rel, pattern) or fnmatch.fnmatch(name, pattern)):
                continue
            out.append(path)
    return out


def scan_file(
    path: Path,
    *,
    columns: Sequence[str] | None = None,
    progress: Progress | None = None,
    max_bytes: int | None = None,
    binary_ok: bool = True,
) -> list[LocatedFinding]:
    text = read_text(path, max_bytes=max_bytes, binary_ok=binary_ok)
    kind = kind_of(path)
    if kind != "csv":
        return locate(text, scan_text(text, subtitles=kind == "subtitles", progress=progress))
    header, rows = _read_csv(text)
    idx = _csv_columns(header, columns)
    out: list[LocatedFinding] = []
    for r, row in enumerate(rows, start=1):
        for c in idx:
            if c >= len(row) or not row[c]:
                continue
            cell = row[c]
            for f in detect_cell(header[c], cell):
                out.append(
                    LocatedFinding(
                        f.type,
                        f.start,
                        f.end,
                        r + 1,
                        masked_preview(cell[f.start : f.end]),
                        f.sensitive,
                        r,
                        header[c],
                    )
                )
        if progress:
            progress(sum(len(x.encode("utf-8")) + 1 for x in row))
    return out


def redact_text(
    text: str,
    policy: Policy,
    *,
    key: bytes | None = None,
    lang: str = "ja",
    subtitles: bool = False,
    progress: Progress | None = None,
) -> tuple[str, list[Finding]]:
    findings = scan_text(text, subtitles=subtitles, progress=progress)
    return apply(text, findings, policy, key=key, lang=lang), findings


def redact_file(
    path: Path,
    policy: Policy,
    *,
    key: bytes | None = None,
    lang: str = "ja",
    columns: Sequence[str] | None = None,
    progress: Progress | None = None,
    max_bytes: int | None = None,
    binary_ok: bool = True,
) -> tuple[str, list[Finding]]:
    """The redacted content of ``path`` and the findings (offsets in the original text / cell)."""
    text = read_text(path, max_bytes=max_bytes, binary_ok=binary_ok)
    kind = kind_of(path)
    if kind != "csv":
        return redact_text(text, policy, key=key, lang=lang, subtitles=kind == "subtitles", progress=progress)
    header, rows = _read_csv(text)
    idx = set(_csv_columns(header, columns))
    buf = io.StringIO()
    writer = safe_csv_writer(buf, lineterminator="\n")  # cells a spreadsheet would run get a leading '
    writer.writerow(header)
    all_findings: list[Finding] = []
    for row in rows:
        new_row = list(row)
        for c in idx:
            if c < len(row) and row[c]:
                found = detect_cell(header[c], row[c])
                all_findings.extend(found)
                new_row[c] = apply(row[c], found, policy, key=key, lang=lang)
        writer.writerow(new_row)
        if progress:
            progress(sum(len(x.encode("utf-8")) + 1 for x in row))
    return buf.getvalue(), all_findings
