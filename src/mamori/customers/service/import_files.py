"""Reading the files offices really have (issue 19): CSV / TSV / text exports in any of the encodings Japanese
offices write, and Excel workbooks — one :class:`Table` of text values whatever came in.

- **What a file is** is decided by its bytes, not its name: a zip (``PK\\x03\\x04``) or an OLE2 compound file
  (``.xls``) is a workbook, read with python-calamine; anything else is text. A file named ``.xlsx`` / ``.xlsm`` /
  ``.xls`` that is neither is refused as ``not_a_table`` (the user meant a workbook; reading it as CSV would only
  give a misleading "column not in file").
- **Encoding** (text): a BOM decides at once (UTF-8, UTF-16 LE/BE); UTF-16 without one by its NUL bytes;
  otherwise charset-normalizer looks at a bounded sample, restricted to the encodings Japanese offices write
  (UTF-8, CP932 — not plain Shift_JIS, so ①, ㈱ and the NEC/IBM extensions decode —, UTF-16, EUC-JP,
  ISO-2022-JP). The whole file is then decoded once; no trial decoding.
- **Delimiter**: ``csv.Sniffer`` over the first lines among ``,`` tab ``;`` ``|`` (a ``.tsv`` is tab); quoting as
  Excel writes it (doubled quotes, newlines inside quotes — the line number is the line the record starts on).
- **Workbook cells** become text as Excel shows them: integral numbers ``123`` (not ``123.0``), other numbers
  without an exponent, dates ``YYYY-MM-DD`` (``YYYY-MM-DD HH:MM:SS`` with a time), times ``HH:MM:SS``, booleans
  ``TRUE`` / ``FALSE`` (what Excel writes in a CSV of the same sheet), empty ``""``.
- Header cells are stripped of whitespace (incl. U+3000) and a BOM; trailing empty header cells are dropped; all-
  empty records (Excel's trailing blank lines and ``,,,,``) are skipped wherever they are; a record longer than the
  header keeps its values (the importer reports "too many columns"), its trailing empty cells dropped.
- The protections of :mod:`~mamori.customers.service.import_checks` hold: a physical line over
  ``MAX_LINE_BYTES`` is refused before anything is read (:func:`check_line_lengths`), a field over
  ``MAX_FIELD_CHARS`` or a broken quote is the one-line :func:`unreadable_line` error.

Every refusal is one Japanese + English line (:class:`~mamori.kernel.errors.ValidationFailed`) that never contains
a value from the file.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, Literal

from mamori.customers.service.import_checks import (
    MAX_FIELD_CHARS,
    check_line_lengths,
    unreadable_line,
)
from mamori.kernel.errors import ValidationFailed

# -- what the bytes are -------------------------------------------------------------------------------------------

ZIP_MAGIC = b"PK\x03\x04"  # .xlsx / .xlsm / .ods (and any zip)
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls (BIFF) — and a password-protected .xlsx
# A password-protected OOXML file is an OLE2 container holding a stream named "EncryptedPackage".
_ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods")

# -- encodings ----------------------------------------------------------------------------------------------------

# What Japanese offices write; charset-normalizer's names. cp932, not shift_jis: ①, ㈱, 髙 and the NEC/IBM extensions.
JAPANESE_ENCODINGS = ["utf_8", "cp932", "utf_16", "euc_jp", "iso2022_jp"]
# charset-normalizer's name → the codec name this module reports (Table.encoding) and decodes with.
_CODEC = {
    "ascii": "utf-8",
    "utf_8": "utf-8",
    "cp932": "cp932",
    "utf_16": "utf-16",
    "utf_16_le": "utf-16-le",
    "utf_16_be": "utf-16-be",
    "euc_jp": "euc_jp",
    "iso2022_jp": "iso2022_jp",
}
ENCODING_LABELS = {
    "utf-8": "UTF-8",
    "cp932": "Shift_JIS (CP932)",
    "utf-16": "UTF-16",
    "utf-16-le": "UTF-16",
    "utf-16-be": "UTF-16",
    "euc_jp": "EUC-JP",
    "iso2022_jp": "ISO-2022-JP (JIS)",
}
# Bytes of the file the encoding is judged on (cut at a line end). A customer list's first 64 KiB are a few hundred
# lines; when they are all ASCII, the sample starts at the first non-ASCII byte instead.
SAMPLE_BYTES = 64 * 1024
_NON_ASCII = re.compile(rb"[\x80-\xff]")
# charset-normalizer gives up on an encoding when a chunk looks "chaotic" beyond this; with the candidates limited
# to five Japanese encodings, strict decoding is what tells them apart, and a list with many ① or ㈱ (symbols it
# counts as chaos) must not be refused: every candidate that decodes is kept and the least chaotic wins.
_CHAOS_THRESHOLD = 1.0

# -- delimiters ---------------------------------------------------------------------------------------------------

DELIMITERS = ",\t;|"
SNIFF_CHARS = 16 * 1024  # the first lines the delimiter is sniffed on

# Stripped from header cells: whitespace (str.strip's, which includes U+3000) and a BOM left inside the text.
_HEADER_STRIP = "\ufeff\u200b"


@dataclass
class Table:
    """A file read as a table. ``rows`` is an iterator, read once: (line, values), line the number the user sees
    (CSV: the physical line the record starts on, header = 1; workbook: the sheet's row number). ``kind`` "xlsx"
    is any workbook python-calamine read (.xlsx / .xlsm, and .xls / .ods); ``header_line``: the header's line."""

    header: list[str]
    rows: Iterator[tuple[int, list[str]]]
    kind: Literal["csv", "xlsx"]
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    sheets: list[str] = field(default_factory=list)
    header_line: int = 1


def read_table(data: bytes, file_name: str, *, sheet: str | None = None) -> Table:
    """The file as a :class:`Table`; ``sheet``: the workbook's sheet to read (the first visible worksheet
    without it; ignored for a text file). Raises ValidationFailed (bad_encoding, line_unreadable, bad_sheet,
    not_a_table, line_too_long), never naming a value."""
    if _is_workbook_bytes(data):
        return _read_workbook(data, sheet)
    if file_name.lower().endswith(WORKBOOK_SUFFIXES):
        raise _not_a_table(
            "Excel のファイルではありません（中身が .xlsx の形式ではありません）。"
            "Excel で開いて .xlsx で保存し直すか、CSV で保存してください。",
            "This is not an Excel file (its content is not in the .xlsx format); open it in Excel and save it "
            "again as .xlsx, or save it as CSV.",
            "not_workbook",
        )
    return _read_text(data, file_name)


def sheet_names(data: bytes, file_name: str) -> list[str]:
    """The workbook's sheet names, in order ([] for a text file)."""
    if not _is_workbook_bytes(data):
        return []
    wb = _open_workbook(data)
    try:
        return list(wb.sheet_names)
    finally:
        wb.close()


def _is_workbook_bytes(data: bytes) -> bool:
    return data.startswith(ZIP_MAGIC) or data.startswith(OLE2_MAGIC)


def _not_a_table(ja: str, en: str, reason: str) -> ValidationFailed:
    return ValidationFailed(ja, en, code="not_a_table", details={"reason": reason})


# -- text files ---------------------------------------------------------------------------------------------------


def detect_encoding(data: bytes) -> str | None:
    """The codec name of ``data``'s text (utf-8, utf-16-le, utf-16-be, cp932, euc_jp, iso2022_jp), or None when
    none of the Japanese offices' encodings fits. A BOM decides; otherwise charset-normalizer on a sample."""
    if data.startswith(b"\xef\xbb\xbf"):
        return "utf-8"
    if data.startswith(b"\xff\xfe"):
        return "utf-16-le"
    if data.startswith(b"\xfe\xff"):
        return "utf-16-be"
    bomless = _utf16_without_bom(data)
    if bomless is not None:
        return bomless
    from charset_normalizer import from_bytes

    best = from_bytes(
        _sample(data), cp_isolation=JAPANESE_ENCODINGS, threshold=_CHAOS_THRESHOLD, preemptive_behaviour=False
    ).best()
    if best is None:
        return None
    return _CODEC.get(best.encoding)


def _utf16_without_bom(data: bytes) -> str | None:
    """UTF-16 saved without a BOM (some tools' 「Unicode テキスト」): no text in the other encodings holds a NUL
    byte, UTF-16 holds one in every ASCII character (tabs, line ends, digits) — on the odd bytes for little endian,
    the even ones for big endian. Taken only when at least a fifth of that half is NUL, almost none of the other,
    and the sample decodes to text without control characters."""
    head = data[:SAMPLE_BYTES]
    head = head[: len(head) - len(head) % 2]
    if len(head) < 8 or b"\x00" not in head:
        return None
    even, odd = head[0::2].count(0), head[1::2].count(0)
    half = len(head) // 2
    if odd >= half // 5 and even <= odd // 20:
        codec = "utf-16-le"
    elif even >= half // 5 and odd <= even // 20:
        codec = "utf-16-be"
    else:
        return None
    try:
        text = head.decode(codec)
    except UnicodeDecodeError:
        return None
    if any(ord(ch) < 0x20 and ch not in "\t\r\n" for ch in text):
        return None
    return codec


def _sample(data: bytes) -> bytes:
    """At most SAMPLE_BYTES of ``data``, cut after a line end so no character is cut in two; when the start is
    all ASCII, the sample starts at the line of the first non-ASCII byte (an English header and numbers first
    tell nothing about the encoding of the names further down)."""
    if len(data) <= SAMPLE_BYTES:
        return data
    head = data[:SAMPLE_BYTES]
    if head.isascii():
        found = _NON_ASCII.search(data)
        if found is not None:
            start = data.rfind(b"\n", 0, found.start()) + 1
            head = data[start : start + SAMPLE_BYTES]
    end = head.rfind(b"\n")
    if end <= 0:
        return head
    end += 1
    if end < len(head) and end % 2 and head[end] == 0:  # UTF-16 LE without a BOM: keep the newline's 0 byte
        end += 1
    return head[:end]


def _decode(data: bytes, codec: str) -> str:
    """``data`` decoded once with ``codec`` (a BOM dropped); a byte that does not decode is one line naming the
    encoding found and the line, never the bytes."""
    body = data[3:] if codec == "utf-8" and data.startswith(b"\xef\xbb\xbf") else data
    if codec in ("utf-16-le", "utf-16-be") and data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        body = data[2:]
    try:
        return body.decode(codec)
    except UnicodeDecodeError as exc:
        line = body[: exc.start].decode(codec, errors="replace").count("\n") + 1
        name = ENCODING_LABELS.get(codec, codec)
        raise ValidationFailed(
            f"文字コードを {name} と判定しましたが、{line}行目に {name} として読めない文字があります。"
            "UTF-8（BOM 付き）で保存し直してください。",
            f"The encoding was detected as {name}, but line {line} has bytes that are not {name}; save the file "
            "again as UTF-8 (with BOM).",
            code="bad_encoding",
            details={"encoding": codec, "line": line},
        ) from None


def _read_text(data: bytes, file_name: str) -> Table:
    codec = detect_encoding(data)
    if codec is None:
        if b"\x00" in data:
            raise _not_a_table(
                "表のファイル（CSV・TSV・Excel）ではありません。",
                "This is not a table file (CSV, TSV or Excel).",
                "binary",
            )
        raise ValidationFailed(
            "文字コードを判別できません（UTF-8・Shift_JIS (CP932)・UTF-16・EUC-JP・JIS のいずれかで保存してください）。",
            "Unknown encoding (save the file as UTF-8, Shift_JIS (CP932), UTF-16, EUC-JP or JIS).",
            code="bad_encoding",
            details={"encoding": None},
        )
    if codec.startswith("utf-16"):
        text = _decode(data, codec)
        # a UTF-16 line's bytes cannot be split at b"\n"; the limit applies to the line in UTF-8
        check_line_lengths(text.encode("utf-8", errors="surrogatepass"))
    else:
        check_line_lengths(data)  # a line over the limit: one line naming it, before anything is decoded
        text = _decode(data, codec)
    if "\x00" in text:
        raise _not_a_table(
            "表のファイル（CSV・TSV・Excel）ではありません。",
            "This is not a table file (CSV, TSV or Excel).",
            "binary",
        )
    delimiter = "\t" if file_name.lower().endswith(".tsv") else sniff_delimiter(text)
    records = _csv_records(text, delimiter)
    header_line, header = _first_record(records)
    return Table(
        header=header,
        rows=_data_rows(records, len(header)),
        kind="csv",
        encoding=codec,
        delimiter=delimiter,
        header_line=header_line,
    )


def sniff_delimiter(text: str) -> str:
    """The delimiter of ``text`` among , tab ; | — csv.Sniffer on the first lines; when it cannot tell (one
    column, or lines it finds inconsistent), the candidate the first non-empty line has most of, else ","."""
    head = text[:SNIFF_CHARS]
    if len(text) > SNIFF_CHARS and "\n" in head:
        head = head[: head.rfind("\n")]
    first = next((ln for ln in head.splitlines() if ln.strip(" ,\t;|\u3000")), "")
    try:
        found = csv.Sniffer().sniff(head, delimiters=DELIMITERS).delimiter
    except csv.Error:
        found = ""
    if found and found in first:
        return found
    counts = {d: first.count(d) for d in DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _csv_records(text: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """(start line, values) of every record, as Excel quotes them; a record the reader refuses (a field over
    MAX_FIELD_CHARS, a broken quote) is the one-line error naming the line it starts on."""
    if csv.field_size_limit() < MAX_FIELD_CHARS:  # another module lowered the process-wide limit
        csv.field_size_limit(MAX_FIELD_CHARS)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quotechar='"', doublequote=True)
    done = 0  # physical lines consumed so far
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error:
            raise unreadable_line(done + 1) from None
        start = done + 1
        done = reader.line_num
        yield start, values


# -- both kinds ---------------------------------------------------------------------------------------------------


def _blank(values: list[str]) -> bool:
    return not any(v.strip() for v in values)


def clean_header(values: Iterable[str]) -> list[str]:
    """Header cells stripped of whitespace (incl. U+3000) and BOMs; trailing empty cells dropped."""
    out = [v.strip().strip(_HEADER_STRIP).strip() for v in values]
    while out and not out[-1]:
        out.pop()
    return out


def _first_record(records: Iterator[tuple[int, list[str]]]) -> tuple[int, list[str]]:
    """The first non-empty record, as the header (line, cleaned cells); an empty file is not a table."""
    for line, values in records:
        if not _blank(values):
            return line, clean_header(values)
    raise _not_a_table(
        "ファイルが空です（見出しの行がありません）。",
        "The file is empty (there is no header line).",
        "empty",
    )


def _data_rows(records: Iterator[tuple[int, list[str]]], width: int) -> Iterator[tuple[int, list[str]]]:
    """The data records: all-empty ones skipped; a record's trailing empty cells beyond the header dropped."""
    for line, values in records:
        if _blank(values):
            continue
        while len(values) > width and not values[-1].strip():
            values.pop()
        yield line, values


# -- workbooks ----------------------------------------------------------------------------------------------------


def _open_workbook(data: bytes) -> Any:
    """python-calamine's workbook over ``data``; what it cannot open is ``not_a_table`` with the cause."""
    import python_calamine as pc

    if data.startswith(OLE2_MAGIC) and _ENCRYPTED_PACKAGE in data[:1_048_576]:
        raise _password_protected()
    try:
        return pc.CalamineWorkbook.from_filelike(io.BytesIO(data))
    except pc.PasswordError:
        raise _password_protected() from None
    except (pc.CalamineError, pc.ZipError, pc.XmlError, ValueError, OSError):
        if data.startswith(OLE2_MAGIC):
            raise _not_a_table(
                ".xls（Excel 97-2003）のファイルとして読めません。Excel で開いて .xlsx で保存し直してください。",
                "This .xls (Excel 97-2003) file cannot be read; open it in Excel and save it again as .xlsx.",
                "bad_xls",
            ) from None
        raise _not_a_table(
            "Excel のファイルとして読めません（壊れているか、Excel 以外の zip ファイルです）。"
            "Excel で開いて .xlsx で保存し直すか、CSV で保存してください。",
            "This file cannot be read as an Excel workbook (it is damaged, or a zip file that is not a workbook); "
            "open it in Excel and save it again as .xlsx, or save it as CSV.",
            "bad_workbook",
        ) from None


def _password_protected() -> ValidationFailed:
    return _not_a_table(
        "パスワードで保護されたファイルは読めません。Excel でパスワードを外して保存し直してください。",
        "A password-protected file cannot be read; remove the password in Excel and save it again.",
        "password_protected",
    )


def _read_workbook(data: bytes, sheet: str | None) -> Table:
    import python_calamine as pc

    wb = _open_workbook(data)
    names = list(wb.sheet_names)
    if sheet is None:
        chosen = _first_sheet(wb, names)
    elif sheet in names:
        chosen = sheet
    else:
        wb.close()
        listed = "、".join(f"「{n}」" for n in names)
        raise ValidationFailed(
            f"指定したシートがありません。このファイルのシート: {listed}",
            f"No such sheet; the sheets of this file: {', '.join(names)}",
            code="bad_sheet",
            details={"sheets": names},
        )
    if chosen is None:
        wb.close()
        raise _not_a_table(
            "このファイルには表のシートがありません。", "This file has no worksheet.", "no_worksheet"
        )
    try:
        # iter_rows yields the sheet's rows from row 1 (its columns from the first used one), so the n-th row is
        # row n; the rows are made Python values one at a time (to_python would hold them all: +60 MiB at 100k)
        cells = wb.get_sheet_by_name(chosen).iter_rows()
    except (pc.CalamineError, pc.XmlError, pc.ZipError, ValueError):
        wb.close()
        raise _not_a_table(
            "Excel のシートを読めません（壊れている可能性があります）。",
            "The Excel sheet cannot be read (it may be damaged).",
            "bad_sheet_data",
        ) from None
    records = ((i, [cell_text(v) for v in row]) for i, row in enumerate(cells, start=1))
    header_line, header = _first_record(records)
    return Table(
        header=header,
        rows=_data_rows(records, len(header)),
        kind="xlsx",
        sheet=chosen,
        sheets=names,
        header_line=header_line,
    )


def _first_sheet(wb: Any, names: list[str]) -> str | None:
    """The first visible worksheet (a chart sheet or a hidden sheet is not what a user means by "the first");
    the first sheet of any kind when there is none."""
    import python_calamine as pc

    try:
        meta = list(wb.sheets_metadata)
    except (pc.CalamineError, AttributeError):  # pragma: no cover - metadata is there for every format read
        meta = []
    for m in meta:
        if m.typ == pc.SheetTypeEnum.WorkSheet and m.visible == pc.SheetVisibleEnum.Visible:
            return str(m.name)
    return names[0] if names else None


def cell_text(value: Any) -> str:
    """A workbook cell as text, the way the importer reads a CSV value (see the module's docstring)."""
    kind = type(value)
    if kind is str:
        return value  # type: ignore[no-any-return]
    if kind is float:
        return _number_text(value)
    if kind is bool:
        return "TRUE" if value else "FALSE"
    if kind is int:
        return str(value)
    if kind is datetime:
        if value.hour or value.minute or value.second or value.microsecond:
            return value.strftime("%Y-%m-%d %H:%M:%S")  # type: ignore[no-any-return]
        return value.date().isoformat()  # type: ignore[no-any-return]
    if kind is date:
        return value.isoformat()  # type: ignore[no-any-return]
    if kind is time:
        return value.strftime("%H:%M:%S")  # type: ignore[no-any-return]
    if kind is timedelta:  # a duration ([h]:mm:ss)
        seconds = int(value.total_seconds())
        sign = "-" if seconds < 0 else ""
        h, rest = divmod(abs(seconds), 3600)
        return f"{sign}{h}:{rest // 60:02d}:{rest % 60:02d}"
    if value is None:
        return ""
    return str(value)


def _number_text(value: float) -> str:
    """123.0 → "123"; 0.1 → "0.1"; 1e-07 → "0.0000001" (never an exponent); inf / nan as Excel cannot hold them."""
    if not math.isfinite(value):
        return ""
    if value.is_integer():
        return str(int(value))
    text = repr(value)
    if "e" in text or "E" in text:
        text = format(Decimal(text), "f")
    return text


__all__ = [
    "JAPANESE_ENCODINGS",
    "Table",
    "cell_text",
    "clean_header",
    "detect_encoding",
    "read_table",
    "sheet_names",
    "sniff_delimiter",
]
