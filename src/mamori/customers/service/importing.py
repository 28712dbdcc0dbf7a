"""CSV import: validate every line first, then write in batches (each batch one transaction, committed by the
job runner in ``customers.jobs``). Duplicates of existing customers are found by blind index.

Nothing from a file with errors is written unless the caller asks to skip bad rows; every rejected line is
reported with its reason (never its value).
"""

from __future__ import annotations

import csv
import gc
import hashlib
import io
import json
import re
import unicodedata
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy import update as sql_update

from mamori.customers import queries
from mamori.customers.models import (
    BlindIndex,
    ContactPoint,
    CustomerPurpose,
    ImportJob,
    Provenance,
)
from mamori.customers.schemas import (
    GENDERS,
    MAX_EMAILS,
    MAX_PHONES,
    PROVIDER_METHODS,
    AttributeIn,
    CustomerCreate,
    ProvenanceIn,
    clean_kana,
    clean_postal,
    notice_method_for,
    parse_birth_date,
)
from mamori.customers.service import external_ids, import_mapping, import_pending
from mamori.customers.service.core import (
    _validate_purposes,
)
from mamori.customers.service.core.create import Intake, check_succession_purposes
from mamori.customers.service.identity import KIND as IDENTITY
from mamori.customers.service.identity import identity_digest
from mamori.customers.service.import_checks import (
    ValueMemo,
    clean_email_fast,
    clean_phone_fast,
    has_prefecture,
)
from mamori.customers.service.import_files import read_table
from mamori.customers.service.import_mapping import ImportMapping
from mamori.customers.service.import_rows import Digests, NewCustomer, write_customers
from mamori.kernel import registry, validation
from mamori.kernel.auditing import record_write
from mamori.kernel.context import Context
from mamori.kernel.db import new_id
from mamori.kernel.errors import NotFound, PolicyDenied, ValidationFailed
from mamori.kernel.jptext import complete_address, fold, postal_exists
from mamori.kernel.labels import choices, label
from mamori.kernel.policy import Action, Category, Resource, Scope, decide, row_scope
from mamori.kernel.registry import DatasetUse, check_dataset_use
from mamori.law.rules import R_20_1, R_21_1, R_23_2, R_30_1
from mamori.staff import queries as staff_queries

# the person's own fields (the columns named exactly like one map to it); the mapping's FIELDS add business data
IMPORT_FIELDS = import_mapping.FIELDS[:10]
GENDER_ALIASES = {
    "女": "female",
    "女性": "female",
    "f": "female",
    "男": "male",
    "男性": "male",
    "m": "male",
    "その他": "other",
    "不明": "unknown",
}
MAX_EXTERNAL_ID = 64  # characters of a customer number (顧客番号)
_CELL_SPLIT = re.compile(r"[;；](?!ext=)")
_PURPOSE_SPLIT = re.compile(r"[,、，;；\s\u3000/・]+")


@dataclass(frozen=True)
class RowError:
    line: int  # the line number the user sees (CSV: the line the record starts on; xlsx: the row; header = 1)
    field: str  # the mamori field (``*``: the whole line)
    reason: str  # English; :meth:`text` gives the line in the user's language
    reason_ja: str | None = None  # the validator's own Japanese (a validation.Invalid), when it gave one
    column: str | None = None  # the file's heading(s) the field came from (never a value)

    def reason_text(self, lang: str = "ja") -> str:
        """Why the line was refused, in ``lang`` (no value from the file)."""
        if lang == "en":
            return self.reason
        if self.reason_ja:
            return self.reason_ja
        if self.reason == "required":
            return label("pydantic.missing", "ja")
        if self.reason == "too long":
            return label("pydantic.string_too_long", "ja").format(max_length=200)
        if self.reason == "too many columns":
            return label("import_error.too_many_columns", "ja")
        if self.reason == "invalid row":
            return label("import_error.invalid_row", "ja")
        if self.reason.startswith("special care-required"):
            return label("import_error.sensitive", "ja")
        if self.field == "gender" and self.reason.startswith("expected "):
            return label("pydantic.literal_error", "ja").format(expected=choices("gender", GENDERS, "ja"))
        return validation.value_error_text(self.reason, "ja")

    def field_label(self, lang: str = "ja") -> str:
        """The field's label alone (「電話番号」; a custom attribute's key); "" for the whole line."""
        if self.field == "*":
            return ""
        return (
            validation.field_name(self.field, lang) if not self.field.startswith("attr:") else self.field[5:]
        )

    def field_text(self, lang: str = "ja") -> str:
        """The field's label, with the file's column when it differs: 「電話番号［電話1列］」 / "Phone [column 電話1]"."""
        name = self.field_label(lang)
        if not self.column or self.column in (self.field, name):
            return name
        return f"{name} [column {self.column}]" if lang == "en" else f"{name}［{self.column}列］"

    def text(self, lang: str = "ja") -> str:
        """「3行目: 氏名: 必須です」 / "line 3: Name: required"."""
        where = label("import_error.line", "en" if lang == "en" else "ja").format(line=self.line)
        if self.field == "*":
            return f"{where}: {self.reason_text(lang)}"
        return f"{where}: {self.field_text(lang)}: {self.reason_text(lang)}"


@dataclass(frozen=True, slots=True)
class RowExtra:
    """What a line carries besides the person's data: their number in the issuing system, the owner as the file
    names them, and the purposes the file says were notified to them (None: the file has no such column)."""

    external_id: str | None = None
    owner: str | None = None
    notified: tuple[str, ...] | None = None


@dataclass
class ValidatedFile:
    sha256: str
    total: int
    rows: list[tuple[int, CustomerCreate]]
    errors: list[RowError]
    extras: dict[int, RowExtra] = field(default_factory=dict)  # line → extra (only lines that have one)
    kind: str = "csv"
    encoding: str | None = None
    sheet: str | None = None
    id_system: str | None = None  # from the mapping (else the import's source)
    # columns left out of an explicit mapping that look like a field (heading → field): shown as a hint, never read
    unmapped: dict[str, str] = field(default_factory=dict)

    def add_error(self, error: RowError) -> None:
        """A line refused after validation (e.g. an unknown owner): it leaves ``rows``."""
        self.errors.append(error)
        self.rows = [(line, c) for line, c in self.rows if line != error.line]
        self.extras.pop(error.line, None)


@dataclass
class Duplicate:
    line: int
    customer_id: str | None  # None: duplicate of an earlier line of the same file
    matched_on: str
    action: str  # reported / merged / created


@dataclass
class ImportReport:
    job_id: str | None
    total: int
    created: int = 0
    merged: int = 0
    skipped_bad: int = 0
    resumed_from_line: int = 0
    errors: list[RowError] = field(default_factory=list)
    duplicates: list[Duplicate] = field(default_factory=list)
    written: bool = True
    receipt_id: str | None = None  # provider-sourced data: the receipt written with the rows (R-30-1/R-30-2)
    pending: int = 0  # rows held for the privacy officer's approval (purposes not notified, R-21-1)
    pending_lines: list[int] = field(default_factory=list)
    dry_run: bool = False
    unmapped: dict[str, str] = field(default_factory=dict)  # heading → the field it looks like (not imported)

    def summary(self, lang: str = "ja") -> list[tuple[str, str, int]]:
        """The refusals grouped by field and reason: (code, text, number of lines), most frequent first."""
        groups: dict[tuple[str, str], set[int]] = {}
        texts: dict[tuple[str, str], str] = {}
        for e in self.errors:
            key = (e.field, e.reason)
            groups.setdefault(key, set()).add(e.line)
            if key not in texts:
                name = e.field_label(lang)
                texts[key] = f"{name}: {e.reason_text(lang)}" if name else e.reason_text(lang)
        rows = [(f"{k[0]}:{k[1]}", texts[k], len(lines)) for k, lines in groups.items()]
        return sorted(rows, key=lambda r: (-r[2], r[0]))

    def errors_csv(self, lang: str = "ja") -> str:
        """The rejected lines as CSV (line, column, field, reason) for fixing the file in Excel — no value."""
        out = io.StringIO()
        w = csv.writer(out, lineterminator="\r\n")
        w.writerow(["line", "column", "field", "reason"] if lang == "en" else ["行", "列", "項目", "理由"])
        for e in sorted(self.errors, key=lambda e: e.line):
            name = e.field_label(lang)
            w.writerow([e.line, e.column or "", name, e.reason_text(lang)])
        return out.getvalue()

    def to_dict(self, lang: str = "ja") -> dict[str, object]:
        """The report; each error with ``reason`` (stable English) and ``message`` (the line in ``lang``)."""
        return {
            "job_id": self.job_id,
            "total": self.total,
            "created": self.created,
            "merged": self.merged,
            "skipped_bad": self.skipped_bad,
            "resumed_from_line": self.resumed_from_line,
            "written": self.written,
            "dry_run": self.dry_run,
            "pending": self.pending,
            "pending_lines": self.pending_lines,
            "receipt_id": self.receipt_id,
            "errors": [
                {
                    "line": e.line,
                    "field": e.field,
                    "column": e.column,
                    "reason": e.reason,
                    "message": e.text(lang),
                }
                for e in self.errors
            ],
            "summary": [{"code": c, "text": t, "lines": n} for c, t, n in self.summary(lang)],
            "unmapped_columns": self.unmapped,
            "duplicates": [d.__dict__ for d in self.duplicates],
        }


def _row_to_customer(
    raw: Mapping[str, Any],
    line: int,
    errors: list[RowError],
    memo: ValueMemo | None = None,
    column_of: Callable[[str], str | None] | None = None,
    attributes: Mapping[str, str] | None = None,
) -> CustomerCreate | None:
    """Validate one mapped row with the same cleaners as the API schema, but without per-row model overhead.

    ``raw``: target → text (a list of cells for phone / email). ``memo`` (one per file): a value that repeats is
    checked once; phones and emails take the exact fast paths of ``import_checks`` (same results and same
    refusals as ``clean_phone`` / ``clean_email``). ``column_of(target)`` names the file's column in errors;
    ``attributes`` gives the data category of each ``attr:<key>`` target."""
    if memo is None:
        memo = ValueMemo()
    out: dict[str, Any] = {}
    ok = True

    def bad(field_name: str, reason: str | ValueError) -> None:
        nonlocal ok
        ok = False
        column = column_of(field_name) if column_of is not None else None
        if isinstance(reason, validation.Invalid):
            errors.append(RowError(line, field_name, reason.message_en, reason.message_ja, column))
        elif isinstance(reason, ValueError):
            errors.append(RowError(line, field_name, str(reason).split(": ", 1)[-1], None, column))
        else:
            errors.append(RowError(line, field_name, reason, None, column))

    def text_of(target: str) -> str:
        value = raw.get(target)
        if isinstance(value, list):
            return " ".join(v for v in value if v).strip()
        return (value or "").strip()

    check = memo.check
    name = text_of("name")
    if not name:
        bad("name", "required")
    elif len(name) > 200:
        bad("name", "too long")
    out["name"] = name
    for fname, cleaner in (("kana", clean_kana), ("postal_code", clean_postal)):
        value = text_of(fname)
        if value:
            cleaned, exc = check(fname, cleaner, value)
            if exc is None:
                out[fname] = cleaned
            else:
                bad(fname, exc)
    postal = out.get("postal_code")
    if postal is not None and not check("postal_exists", postal_exists, postal)[0]:
        bad("postal_code", _NO_SUCH_POSTAL)
        postal = None
    bd = text_of("birth_date")
    if bd:
        born, exc = check("birth_date", parse_birth_date, bd)
        if exc is None:
            out["birth_date"] = born
        else:
            bad("birth_date", exc)
    gender = text_of("gender")
    if gender:
        g = GENDER_ALIASES.get(gender.lower(), gender.lower())
        if g not in GENDERS:
            bad("gender", "expected female / male / other / unknown")
        out["gender"] = g
    address = text_of("address")
    if address:
        if check("address", has_prefecture, address)[0]:
            out["address"] = fold(address)
        elif postal is not None:
            # A list written without the 都道府県: it comes from the postal code (Japan Post's data).
            completed, exc = check("complete_address", lambda a: complete_address(a, postal), address)
            if exc is None:
                out["address"] = completed
            else:
                bad("address", exc)
        elif "postal_code" in out or text_of("postal_code"):
            pass  # the postal code's own error stands; no second one for the address
        else:
            bad("address", "must start with a prefecture (都道府県)")
    for fname, cleaner, target, limit in (
        ("phone", clean_phone_fast, "phones", MAX_PHONES),
        ("email", clean_email_fast, "emails", MAX_EMAILS),
    ):
        cells = raw.get(fname) or []
        if isinstance(cells, str):
            cells = [cells]
        values: list[str] = []
        for text in cells:
            if ";" in text or "；" in text:  # several in one cell; "…;ext=12" (our own export) is one number
                values.extend(v.strip() for v in _CELL_SPLIT.split(text) if v.strip())
            elif text.strip():
                values.append(text.strip())
        if len(values) > limit:
            bad(
                fname,
                validation.Invalid(f"{limit}件以内で指定してください", f"allows at most {limit} item(s)"),
            )
            values = []
        cleaned_values: list[str] = []
        for v in values:
            try:
                cleaned = cleaner(v)
            except ValueError as exc:
                bad(fname, exc)
                continue
            if cleaned not in cleaned_values:  # the same number in two columns is one contact point
                cleaned_values.append(cleaned)
        out[target] = cleaned_values
    scanning = registry.text_scanning_available()
    if scanning:
        for fname in ("occupation", "employer"):
            value = text_of(fname)
            if value:
                if check("free_text", _has_sensitive, value)[0]:
                    # R-20-2: 要配慮 in a free-text column is never imported as ordinary data.
                    bad(fname, "special care-required (要配慮) information: not imported (R-20-2)")
                out[fname] = value
    else:
        for fname in ("occupation", "employer"):
            value = text_of(fname)
            if value:
                out[fname] = value
    attrs: list[AttributeIn] = []
    registered = text_of("registered_on")
    if registered:
        day, refused = check("registered_on", parse_birth_date, registered)
        if refused is not None:
            bad("registered_on", refused)
        else:
            attrs.append(
                AttributeIn.model_construct(
                    key="registered_on", value=day.isoformat(), category=Category.ATTRIBUTE, withheld=None
                )
            )
    for target in raw:
        if not target.startswith("attr:"):
            continue
        value = text_of(target)
        if not value:
            continue
        key = target[5:]
        if len(value) > 2000:
            bad(target, "too long")
            continue
        if scanning and check("free_text", _has_sensitive, value)[0]:
            bad(target, "special care-required (要配慮) information: not imported (R-20-2)")
            continue
        category = Category((attributes or {}).get(key) or Category.ATTRIBUTE.value)
        attrs.append(AttributeIn.model_construct(key=key, value=value, category=category, withheld=None))
    external = text_of("external_id")
    if external and len(external) > MAX_EXTERNAL_ID:
        bad(
            "external_id",
            validation.Invalid(
                f"{MAX_EXTERNAL_ID}文字以内で指定してください", f"allows at most {MAX_EXTERNAL_ID} characters"
            ),
        )
    if not ok:
        return None
    return CustomerCreate.model_construct(
        name=out["name"],
        kana=out.get("kana"),
        birth_date=out.get("birth_date"),
        gender=out.get("gender"),
        postal_code=out.get("postal_code"),
        address=out.get("address"),
        phones=out.get("phones", []),
        emails=out.get("emails", []),
        occupation=out.get("occupation"),
        employer=out.get("employer"),
        attributes=attrs,
        origin="JP",
    )


_NO_SUCH_POSTAL = validation.Invalid(
    "存在しない郵便番号です（日本郵便の郵便番号データにありません）",
    "no such postal code (not in Japan Post's postal-code data)",
)


def _row_extra(raw: Mapping[str, Any]) -> RowExtra | None:
    """The line's customer number, owner and notified purposes, when the mapping has them."""

    def text_of(target: str) -> str | None:
        value = raw.get(target)
        if value is None:
            return None
        if isinstance(value, list):
            value = " ".join(value)
        return unicodedata.normalize("NFKC", value).strip()

    external = text_of("external_id") or None
    owner = text_of("owner") or None
    notified_text = text_of("notified_purposes")
    notified = None
    if notified_text is not None:
        notified = tuple(sorted({p.lower() for p in _PURPOSE_SPLIT.split(notified_text) if p}))
    if external is None and owner is None and notified is None:
        return None
    return RowExtra(external_id=external, owner=owner, notified=notified)


def _has_sensitive(value: str) -> bool:
    """R-20-2: whether the registered text scanners find 要配慮 information in a free-text value."""
    return any(f.sensitive for f in registry.scan_text(value))


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for a bulk step (restored after it, whatever happens).

    An import keeps every validated line in memory: with the collector on, each full collection walks all of them
    again, so validation and writing slow down as the file grows. The objects a bulk step makes are freed by
    reference counting; whatever cyclic garbage it leaves is collected once the collector is back on."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


MappingLike = ImportMapping | Mapping[str, str] | None


def parse_mapping(pairs: Sequence[str], seps: Sequence[str] = ()) -> ImportMapping:
    """``--map`` / ``--sep`` options → the mapping (import_mapping.parse_cli: joins, several phone columns,
    custom attributes; two columns on one field without a join are refused)."""
    return import_mapping.parse_cli(list(pairs), list(seps))


def as_mapping(mapping: MappingLike) -> ImportMapping | None:
    """An ImportMapping from what callers give: the model itself, or ``{column: field}`` (the older form)."""
    if mapping is None or isinstance(mapping, ImportMapping):
        return mapping
    if not mapping:
        return None
    by_target: dict[str, list[str]] = {}
    for col, target in mapping.items():
        by_target.setdefault(target, []).append(col)
    return import_mapping.from_dict({"fields": {t: {"columns": cols} for t, cols in by_target.items()}})


def check_intake(ctx: Context, path: Path) -> None:
    """Before anything is read into customers: the registered dataset guards (deid) refuse a file that is
    仮名加工情報 (R-41-5) or 匿名加工情報 (R-43-5), naming the rule. A missing file is left to validate_file."""
    try:
        sha = hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return
    check_dataset_use(ctx, DatasetUse(use="customer.import", file_name=path.name, sha256=sha, path=path))


def check_intake_data(ctx: Context, data: bytes, file_name: str) -> None:
    """:func:`check_intake` for a file held in memory (an upload that is never written to disk): the guards
    recognise a de-identified dataset by the hash of its bytes (there is no manifest beside it)."""
    sha = hashlib.sha256(data).hexdigest()
    check_dataset_use(ctx, DatasetUse(use="customer.import", file_name=file_name, sha256=sha, path=None))


def read_header(data: bytes, file_name: str = "import.csv", sheet: str | None = None) -> list[str]:
    """The column names of the file's header (headings stripped of whitespace)."""
    return read_table(data, file_name, sheet=sheet).header


def suggest_mapping(header: Sequence[str]) -> ImportMapping:
    """The usual Japanese headings mapped (姓+名 → name, 電話1/電話2 → phone, …): import_mapping.suggest."""
    return import_mapping.suggest(list(header))


def validate_file(
    path: Path, mapping: MappingLike = None, *, sheet: str | None = None, auto_map: bool = True
) -> ValidatedFile:
    """Read and validate the whole file. Columns named like mamori's fields map to themselves."""
    try:
        data = path.read_bytes()
    except OSError:
        raise NotFound(
            "ファイルを読み込めません。", "Cannot read the file.", code="file_unreadable"
        ) from None
    return validate_data(data, mapping, auto_map=auto_map, sheet=sheet, file_name=path.name)


def validate_data(
    data: bytes,
    mapping: MappingLike = None,
    *,
    auto_map: bool = True,
    sheet: str | None = None,
    file_name: str = "import.csv",
) -> ValidatedFile:
    """:func:`validate_file` for bytes held in memory (.csv / .tsv / .txt in any usual encoding, or .xlsx).

    No mapping: the headings are mapped as :func:`suggest_mapping` suggests. A mapping given: its columns, and
    (``auto_map``) every other column named exactly like an unmapped field. ``auto_map=False``: only the mapping's
    columns are read."""
    sha = hashlib.sha256(data).hexdigest()
    model = as_mapping(mapping)
    table = read_table(
        data, file_name, sheet=sheet if sheet is not None else (model.sheet if model else None)
    )
    header = table.header
    unmapped: dict[str, str] = {}
    if model is None:
        model = import_mapping.suggest(header) if auto_map else ImportMapping()
    else:
        if auto_map:
            model = _with_same_named(model, header)
        used = {c for fm in model.fields.values() for c in fm.columns}
        for target, fm in import_mapping.suggest(header).fields.items():
            if target not in model.fields:
                unmapped.update({c: target for c in fm.columns if c not in used})
    if "name" not in model.fields:
        raise ValidationFailed(
            "name（氏名）に対応する列がありません。列と name の対応を指定してください。",
            "No column maps to 'name'; map one of the columns to 'name'.",
            code="bad_mapping",
        )
    compiled = import_mapping.compile(model, header)
    width = len(header)
    extract = compiled.extract
    columns: dict[str, str | None] = {}

    def column_of(target: str) -> str | None:
        if target not in columns:
            names = compiled.columns_of(target)
            columns[target] = "+".join(names) if names else None
        return columns[target]

    attributes = dict(model.attributes)
    rows: list[tuple[int, CustomerCreate]] = []
    extras: dict[int, RowExtra] = {}
    errors: list[RowError] = []
    total = 0
    memo = ValueMemo()
    with cyclic_gc_paused():
        for line, values in table.rows:
            total += 1
            if len(values) > width:
                errors.append(RowError(line, "*", "too many columns"))
                continue
            if len(values) < width:
                values = values + [""] * (width - len(values))
            raw = extract(values)
            try:
                customer = _row_to_customer(raw, line, errors, memo, column_of, attributes)
            except ValidationError:
                errors.append(RowError(line, "*", "invalid row"))
                continue
            if customer is not None:
                rows.append((line, customer))
                extra = _row_extra(raw)
                if extra is not None:
                    extras[line] = extra
    return ValidatedFile(
        sha,
        total,
        rows,
        errors,
        extras,
        kind=table.kind,
        encoding=table.encoding,
        sheet=table.sheet,
        id_system=model.id_system,
        unmapped=unmapped,
    )


def _with_same_named(model: ImportMapping, header: Sequence[str]) -> ImportMapping:
    """The mapping plus every column named exactly like a field the mapping leaves unmapped (``email``)."""
    used = {c for fm in model.fields.values() for c in fm.columns}
    extra = [
        f"{col}={col}"
        for col in header
        if col in IMPORT_FIELDS and col not in model.fields and col not in used
    ]
    if not extra:
        return model
    more = import_mapping.parse_cli(extra)
    return model.model_copy(update={"fields": {**model.fields, **more.fields}})


# -- job steps (each called inside one transaction by the job runner) ---------------------------------------------


def _source_required() -> PolicyDenied:
    # R-20-1: every import is traceable to where it came from; a blank source is refused.
    return PolicyDenied(
        "取り込むデータの取得元を記録してください（空欄は受け付けません）。",
        "Record where the imported data came from (a blank source is refused).",
        rule_id=R_20_1.id,
        code="source_required",
    )


def check_source(ctx: Context, source: str, purposes: Sequence[str], provenance: ProvenanceIn) -> None:
    """The purposes exist and the source is given (R-20-1): before the file is read, and again when the job
    starts. Data from a provider is named by its receipt (``provider_intake``, R-30-1)."""
    _validate_purposes(ctx, purposes)
    if not source.strip() or (
        provenance.method not in PROVIDER_METHODS and not (provenance.source or "").strip()
    ):
        raise _source_required()


def check_importer(ctx: Context, owner_id: str | None) -> str | None:
    """Whether the actor may import, and into whose book: the owner the lines get by default.

    A sales rep (row scope ``own``) imports into their own book only: the owner is the rep, and naming another
    owner is refused (R-23-2: access limited to what the job needs)."""
    decide(ctx, Action.CUSTOMER_IMPORT, Resource(kind="customer")).raise_if_denied()
    if row_scope(ctx, Action.CUSTOMER_IMPORT) != Scope.OWN:
        return owner_id
    own = ctx.actor.id
    if owner_id is not None and owner_id != own:
        raise PolicyDenied(
            "営業担当者は自分の担当顧客としてのみ取り込めます（他の担当者を指定できません）。",
            "A sales rep imports into their own book only (another owner cannot be named).",
            rule_id=R_23_2.id,
            code="import_own_book_only",
        )
    return own


def resolve_owners(ctx: Context, vf: ValidatedFile, owner_id: str | None) -> dict[str, str]:
    """The file's owner column (担当営業) → staff ids: a username, else a unique display name (spaces ignored).
    A line naming nobody known — or, for a sales rep, someone else — is refused with its line number."""
    names = {e.owner for e in vf.extras.values() if e.owner}
    if not names:
        return {}
    staff = ctx.session.execute(staff_queries.all_staff()).scalars().all()
    by_username = {u.username: u for u in staff if u.active}
    by_display: dict[str, list[Any]] = {}
    for u in staff:
        if u.active:
            by_display.setdefault("".join(u.display_name.split()), []).append(u)
    found: dict[str, str] = {}
    for name in names:
        user = by_username.get(name)
        if user is None:
            matches = by_display.get("".join(name.split()), [])
            user = matches[0] if len(matches) == 1 else None
        if user is not None:
            found[name] = user.id
    own_only = row_scope(ctx, Action.CUSTOMER_IMPORT) == Scope.OWN
    for line, extra in list(vf.extras.items()):
        if not extra.owner:
            continue
        staff_id = found.get(extra.owner)
        if staff_id is None:
            vf.add_error(RowError(line, "owner", "no active staff member by this name", _UNKNOWN_OWNER_JA))
        elif own_only and staff_id != owner_id:
            vf.add_error(
                RowError(
                    line,
                    "owner",
                    "a sales rep imports into their own book only (R-23-2)",
                    "営業担当者は自分の担当顧客としてのみ取り込めます（R-23-2）",
                )
            )
    return found


_UNKNOWN_OWNER_JA = "有効なスタッフのユーザー名または表示名ではありません"


def prior_lines(ctx: Context, sha256: str) -> dict[int, str | None]:
    """The lines of this exact file that a finished earlier import created: line → customer id (a re-run of the
    same file creates nothing twice, even for people without an e-mail, phone or number)."""
    jobs = ctx.session.execute(queries.finished_imports(sha256)).scalars().all()
    if not jobs:
        return {}
    rows = ctx.session.execute(queries.lines_imported(jobs)).all()
    out: dict[int, str | None] = {int(line): cid for line, cid in rows if line is not None}
    held = ctx.session.execute(queries.lines_held(jobs)).all()
    for line, cid in held:  # held for approval before (and maybe approved since): not held twice
        out.setdefault(int(line), cid)
    return out


def start_job(
    ctx: Context,
    vf: ValidatedFile,
    *,
    source: str,
    purposes: Sequence[str],
    provenance: ProvenanceIn,
    options: dict[str, object],
    resume: bool = True,
) -> tuple[ImportJob, bool]:
    """Find the unfinished job for this exact file (resume) or start a new one. Returns (job, resumed).

    Provider-sourced data (third_party / succession) is checked by ``provider_intake`` (R-30-1) before this and
    imported in one transaction with its receipt, so it never resumes (``resume=False``)."""
    decide(ctx, Action.CUSTOMER_IMPORT, Resource(kind="customer")).raise_if_denied()
    check_source(ctx, source, purposes, provenance)
    if provenance.method in PROVIDER_METHODS and resume:
        raise PolicyDenied(
            "第三者・事業承継からのデータは受領の手続きと同じ処理単位で取り込みます。",
            "Data from a provider is imported in one unit with its receipt.",
            rule_id=R_20_1.id,
            code="provider_import_not_resumable",
        )
    existing = ctx.session.execute(queries.unfinished_import(vf.sha256)).scalars().first() if resume else None
    if existing is not None:
        return existing, True
    job = ImportJob(
        id=new_id(),
        file_sha256=vf.sha256,
        source=source,
        purposes=",".join(purposes),
        status="running",
        rows_total=vf.total,
        lines_done=0,
        options=json.dumps(options),
        created_at=ctx.clock.now(),
        created_by=ctx.actor.label,
    )
    ctx.session.add(job)
    ctx.session.flush()
    return job, False


@dataclass
class BatchOutcome:
    created: int = 0
    merged: int = 0
    duplicates: list[Duplicate] = field(default_factory=list)
    pending: list[int] = field(default_factory=list)  # lines held for the privacy officer's approval


@dataclass(frozen=True)
class BatchOptions:
    """What every batch of one import shares (see :func:`import_batch`)."""

    provenance: ProvenanceIn
    purposes: Sequence[str]
    on_duplicate: str = "report"
    owner_id: str | None = None
    intake: Intake | None = None
    extras: Mapping[int, RowExtra] = field(default_factory=dict)
    owners: Mapping[str, str] = field(default_factory=dict)  # the file's owner text → staff id
    id_system: str | None = None  # the issuing system of the customer numbers
    # line → the customer an earlier run of the same file created (None: the line was held for approval then)
    prior: Mapping[int, str | None] = field(default_factory=dict)


def import_batch(
    ctx: Context,
    job_id: str | None,
    batch: Sequence[tuple[int, CustomerCreate]],
    options: BatchOptions,
    *,
    last_line: int,
    seen: dict[tuple[str, bytes], int],
    dry_run: bool = False,
) -> BatchOutcome:
    """Write one batch and advance the job's checkpoint in the same transaction.

    Each line is, in this order: a line an earlier run of the same file created (reported, never created twice);
    a duplicate of an existing customer or an earlier line (by e-mail, phone, customer number or identity key:
    reported, merged or created as ``on_duplicate`` says); held for the privacy officer when the purposes the file
    says were notified to the person do not cover the import's (R-21-1); else created. ``dry_run``: the same
    decisions, nothing written (a read-only transaction is enough)."""
    provenance, purposes, intake = options.provenance, options.purposes, options.intake
    versions = _validate_purposes(ctx, purposes)
    if provenance.method in PROVIDER_METHODS and (intake is None or intake.facts is None):
        raise PolicyDenied(
            "第三者・事業承継からのデータは受領の手続きを経て取り込んでください。",
            "Data from a provider enters only through the receipt path.",
            rule_id=R_30_1.id,
            code="provider_required",
        )
    receipt_id = intake.receipt_id if intake else None
    limit = intake.purpose_limit if intake else ()
    digester = Digests(ctx.runtime)
    digest = digester.digest
    indexer = ctx.runtime.indexer
    system = options.id_system
    # Blind-index tokens of every line (computed once: the same tokens go into the blind index of the people
    # created) → existing customers.
    tokens: dict[int, list[tuple[str, bytes]]] = {}
    contacts_of: dict[
        int, list[tuple[str, bytes]]
    ] = {}  # every contact point's digest, in the writer's order
    identities: dict[int, bytes] = {}
    by_kind: dict[str, set[bytes]] = {"email": set(), "phone": set(), IDENTITY: set(), EXTERNAL: set()}
    numbers: dict[int, tuple[str, bytes]] = {}
    for line, c in batch:
        contacts_of[line] = [("email", digest("email", e)) for e in c.emails] + [
            ("phone", digest("phone", p)) for p in c.phones
        ]
        # a number with an extension is a switchboard's: colleagues share it, so it tells no one apart
        toks = [t for t, p in zip(contacts_of[line], [*c.emails, *c.phones], strict=True) if ";ext=" not in p]
        ident = identity_digest(indexer, c.name, c.kana, c.birth_date, c.postal_code)
        if ident is not None:
            identities[line] = ident
            toks.append((IDENTITY, ident))
        extra = options.extras.get(line)
        if extra is not None and extra.external_id and system:
            dg = external_ids.digest(ctx.runtime, system, extra.external_id)
            numbers[line] = (extra.external_id, dg)
            toks.append((EXTERNAL, dg))
        tokens[line] = toks
        for kind, dg in toks:
            by_kind[kind].add(dg)
    existing: dict[tuple[str, bytes], str] = {}
    for kind in ("email", "phone", IDENTITY):
        if by_kind[kind]:
            for cid, dg in ctx.session.execute(queries.ids_by_digest(kind, list(by_kind[kind]))).all():
                existing[(kind, dg)] = cid
    if by_kind[EXTERNAL] and system:
        for dg, cid in external_ids.find_existing(ctx, system, list(by_kind[EXTERNAL])).items():
            existing[(EXTERNAL, dg)] = cid
    out = BatchOutcome()
    to_create: list[tuple[int, CustomerCreate]] = []
    merges: list[tuple[int, str, CustomerCreate]] = []
    wanted = set(purposes)
    for line, c in batch:
        if line in options.prior:
            # the same line of the same file was imported before (a re-run): never created twice
            earlier = options.prior[line]
            if options.on_duplicate == "merge" and earlier is not None:
                merges.append((line, earlier, c))
                out.duplicates.append(Duplicate(line, earlier, "same_file", "merged"))
            else:
                out.duplicates.append(Duplicate(line, earlier, "same_file", "reported"))
            continue
        # the most telling key first: the customer number, then contacts, then the identity key
        order = sorted(tokens[line], key=lambda t: _KEY_ORDER.get(t[0], 9))
        match = next(((k, existing[(k, d)]) for k, d in order if (k, d) in existing), None)
        in_file = next((k for k, d in order if (k, d) in seen), None)
        if match is not None or in_file is not None:
            on = match[0] if match else str(in_file)
            if options.on_duplicate == "merge" and match is not None:
                merges.append((line, match[1], c))
                out.duplicates.append(Duplicate(line, match[1], on, "merged"))
                continue
            if options.on_duplicate != "create":
                out.duplicates.append(Duplicate(line, match[1] if match else None, on, "reported"))
                continue
            out.duplicates.append(Duplicate(line, match[1] if match else None, on, "created"))
        extra = options.extras.get(line)
        if extra is not None and extra.notified is not None and not wanted <= set(extra.notified):
            # R-21-1: the person was not told of (all) the import's purposes: the line waits for the officer.
            out.pending.append(line)
            if not dry_run:
                import_pending.hold(
                    ctx,
                    job_id=job_id or "",
                    line=line,
                    data=c,
                    extra=_extra_json(extra, system),
                    owner_id=_owner_of(options, extra),
                    purposes=list(purposes),
                    notified=list(extra.notified),
                    reason="purpose_not_notified",
                    rule_id=R_21_1.id,
                    provenance=provenance,
                )
            for tok in tokens[line]:
                seen[tok] = line
            continue
        for tok in tokens[line]:
            seen[tok] = line
        to_create.append((line, c))
    if dry_run:
        out.created = len(to_create)
        out.merged = len(merges)
        return out
    # Random ids as ever, handed out in ascending order along the batch: each table's index on the customer id
    # then takes the batch's rows in key order (fewer pages touched than in random order).
    ids = sorted(new_id() for _ in to_create)
    if ids:
        ctx.runtime.keystore.create_data_keys(ids)
    method = notice_method_for(provenance)  # R-21-2: stated only for data given in writing
    people = [
        NewCustomer(
            customer_id=cid,
            data=c,
            provenance=provenance,
            purpose_versions=versions,
            purpose_method=method,
            owner_id=_owner_of(options, options.extras.get(line)),
            import_line=line,
            contact_digests=contacts_of[line],
            identity=identities.get(line, b""),
        )
        for (line, c), cid in zip(to_create, ids, strict=True)
    ]
    if merges:
        # R-18-2: merging new purposes into a person received by succession needs their consent.
        check_succession_purposes(ctx, [m[1] for m in merges], list(versions))
    write_customers(
        ctx, people, import_job_id=job_id, receipt_id=receipt_id, purpose_limit=limit, digests=digester
    )
    if system:
        held = {cid for (kind, _dg), cid in existing.items() if kind == EXTERNAL}
        rows = [
            (cid, system, numbers[line][0])
            for (line, _c), cid in zip(to_create, ids, strict=True)
            if line in numbers
        ]
        rows += [
            (cid, system, numbers[line][0])
            for line, cid, _c in merges
            if line in numbers and (EXTERNAL, numbers[line][1]) not in existing and cid not in held
        ]
        if rows:
            external_ids.write(ctx, rows)
    for _line, cid, c in merges:
        _merge_into(
            ctx,
            cid,
            c,
            provenance=provenance,
            versions=versions,
            job_id=job_id or "",
            receipt_id=receipt_id,
            purpose_limit=limit,
        )
    if job_id is not None:
        ctx.session.execute(
            sql_update(ImportJob)
            .where(ImportJob.id == job_id)
            .values(
                lines_done=last_line,
                created=ImportJob.created + len(ids),
                merged=ImportJob.merged + len(merges),
                duplicates=ImportJob.duplicates + len(out.duplicates),
            )
        )
    if ids or merges:
        record_write(
            ctx,
            Action.CUSTOMER_IMPORT,
            ids + [m[1] for m in merges],
            ["name", "kana", "birth_date", "gender", "postal_code", "address", "phones", "emails"],
            rule_ids=(R_21_1.id,),
            details={"job_id": job_id, "created": len(ids), "merged": len(merges)},
        )
    out.created = len(ids)
    out.merged = len(merges)
    return out


EXTERNAL = "external_id"
_KEY_ORDER = {EXTERNAL: 0, "email": 1, "phone": 2, IDENTITY: 3}


def _owner_of(options: BatchOptions, extra: RowExtra | None) -> str | None:
    if extra is not None and extra.owner:
        return options.owners.get(extra.owner, options.owner_id)
    return options.owner_id


def _extra_json(extra: RowExtra, system: str | None) -> dict[str, object]:
    """What a held line carries besides CustomerCreate (for import_pending.hold; sealed there)."""
    out: dict[str, object] = {}
    if extra.external_id and system:
        out["external_id"] = extra.external_id
        out["id_system"] = system
    return out


def _merge_into(
    ctx: Context,
    cid: str,
    c: CustomerCreate,
    *,
    provenance: ProvenanceIn,
    versions: dict[str, int],
    job_id: str,
    receipt_id: str | None = None,
    purpose_limit: Sequence[str] = (),
) -> None:
    """Merge a duplicate line into the existing customer: new contact points, notified purposes, provenance."""
    now = ctx.clock.now()
    digest = Digests(ctx.runtime).digest  # the indexer's digests, phones not parsed again
    have = {(b.kind, b.digest) for b in ctx.session.query(BlindIndex).filter(BlindIndex.customer_id == cid)}
    for kind, values in (("email", c.emails), ("phone", c.phones)):
        for value in values:
            dg = digest(kind, value)
            if (kind, dg) in have:
                continue
            cp_id = new_id()
            ctx.session.add(
                ContactPoint(
                    id=cp_id,
                    customer_id=cid,
                    kind=kind,
                    label=None,
                    created_at=now,
                    value_enc=ctx.runtime.cipher.encrypt(cid, "contact_points", "value", cp_id, value),
                )
            )
            ctx.session.add(BlindIndex(customer_id=cid, kind=kind, digest=dg))
    notified = {code for _, code in ctx.session.execute(queries.notified_purposes([cid])).all()}
    for code, version in versions.items():
        if code not in notified:
            ctx.session.add(
                CustomerPurpose(
                    customer_id=cid,
                    purpose_code=code,
                    purpose_version=version,
                    method=notice_method_for(provenance),
                    notified_at=now,
                )
            )
    ctx.session.add(
        Provenance(
            id=new_id(),
            customer_id=cid,
            method=provenance.method,
            channel=provenance.channel,
            notice_version=provenance.notice_version,
            source=provenance.source,
            acquired_at=now,
            recorded_by=ctx.actor.label,
            import_job_id=job_id,
            receipt_id=receipt_id,
            purpose_limit=",".join(purpose_limit) if purpose_limit else None,
            acquisition=provenance.acquisition,
            campaign=provenance.campaign,
        )
    )
    ctx.session.flush()


RECEIVED_ITEMS = ("name", "kana", "birth_date", "gender", "postal_code", "address", "phone", "email")


def received_items(rows: Sequence[tuple[int, CustomerCreate]]) -> list[str]:
    """The data items present in the file (for the receipt record, R-30-2), never their values."""

    def has(c: CustomerCreate, f: str) -> bool:
        if f in ("phone", "email"):
            return bool(getattr(c, f + "s", None))
        return getattr(c, f, None) not in (None, "")

    extra = [f for f in ("occupation", "employer") if any(has(c, f) for _, c in rows)]
    return sorted({f for _, c in rows for f in RECEIVED_ITEMS if has(c, f)} | set(extra)) or ["name"]


def finish_job(ctx: Context, job_id: str) -> None:
    ctx.session.execute(
        sql_update(ImportJob).where(ImportJob.id == job_id).values(status="done", finished_at=ctx.clock.now())
    )


def job_lines_done(ctx: Context, job_id: str) -> int:
    job = ctx.session.execute(queries.import_job(job_id)).scalar_one()
    return int(job.lines_done)


def batches(
    rows: Sequence[tuple[int, CustomerCreate]], size: int
) -> Iterator[list[tuple[int, CustomerCreate]]]:
    for i in range(0, len(rows), size):
        yield list(rows[i : i + size])
