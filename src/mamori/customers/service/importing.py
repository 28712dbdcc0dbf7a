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
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy import update as sql_update

from mamori.customers import queries
from mamori.customers.models import BlindIndex, ContactPoint, CustomerPurpose, ImportJob, Provenance
from mamori.customers.schemas import (
    GENDERS,
    MAX_EMAILS,
    MAX_PHONES,
    PROVIDER_METHODS,
    CustomerCreate,
    ProvenanceIn,
    clean_kana,
    clean_postal,
    notice_method_for,
    parse_birth_date,
)
from mamori.customers.service.core import (
    _validate_purposes,
)
from mamori.customers.service.core.create import Intake, check_succession_purposes
from mamori.customers.service.import_checks import (
    MAX_FIELD_CHARS,
    ValueMemo,
    check_line_lengths,
    clean_email_fast,
    clean_phone_fast,
    has_prefecture,
    unreadable_line,
)
from mamori.customers.service.import_rows import Digests, NewCustomer, write_customers
from mamori.kernel import registry, validation
from mamori.kernel.auditing import record_write
from mamori.kernel.context import Context
from mamori.kernel.db import new_id
from mamori.kernel.errors import NotFound, PolicyDenied, ValidationFailed
from mamori.kernel.labels import choices, label
from mamori.kernel.policy import Action, Resource, decide
from mamori.kernel.registry import DatasetUse, check_dataset_use
from mamori.law.rules import R_20_1, R_21_1, R_30_1

IMPORT_FIELDS = (
    "name",
    "kana",
    "birth_date",
    "gender",
    "postal_code",
    "address",
    "phone",
    "email",
    "occupation",
    "employer",
)
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


@dataclass(frozen=True)
class RowError:
    line: int  # 1-based line number in the file (header = line 1)
    field: str  # the mamori field (``*``: the whole line)
    reason: str  # English; :meth:`text` gives the line in the user's language
    reason_ja: str | None = None  # the validator's own Japanese (a validation.Invalid), when it gave one

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

    def text(self, lang: str = "ja") -> str:
        """「3行目: 氏名: 必須です」 / "line 3: Name: required"."""
        where = label("import_error.line", "en" if lang == "en" else "ja").format(line=self.line)
        if self.field == "*":
            return f"{where}: {self.reason_text(lang)}"
        return f"{where}: {validation.field_name(self.field, lang)}: {self.reason_text(lang)}"


@dataclass
class ValidatedFile:
    sha256: str
    total: int
    rows: list[tuple[int, CustomerCreate]]
    errors: list[RowError]


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
            "receipt_id": self.receipt_id,
            "errors": [
                {"line": e.line, "field": e.field, "reason": e.reason, "message": e.text(lang)}
                for e in self.errors
            ],
            "duplicates": [d.__dict__ for d in self.duplicates],
        }


def _row_to_customer(
    raw: dict[str, str], line: int, errors: list[RowError], memo: ValueMemo | None = None
) -> CustomerCreate | None:
    """Validate one mapped row with the same cleaners as the API schema, but without per-row model overhead.

    ``memo`` (one per file): a value that repeats is checked once; phones and emails take the exact fast paths
    of ``import_checks`` (same results and same refusals as ``clean_phone`` / ``clean_email``)."""
    if memo is None:
        memo = ValueMemo()
    out: dict[str, Any] = {}
    ok = True

    def bad(field_name: str, reason: str | ValueError) -> None:
        nonlocal ok
        ok = False
        if isinstance(reason, validation.Invalid):
            errors.append(RowError(line, field_name, reason.message_en, reason.message_ja))
        elif isinstance(reason, ValueError):
            errors.append(RowError(line, field_name, str(reason).split(": ", 1)[-1]))
        else:
            errors.append(RowError(line, field_name, reason))

    check = memo.check
    name = (raw.get("name") or "").strip()
    if not name:
        bad("name", "required")
    elif len(name) > 200:
        bad("name", "too long")
    out["name"] = name
    for fname, cleaner in (("kana", clean_kana), ("postal_code", clean_postal)):
        value = (raw.get(fname) or "").strip()
        if value:
            cleaned, exc = check(fname, cleaner, value)
            if exc is None:
                out[fname] = cleaned
            else:
                bad(fname, exc)
    bd = (raw.get("birth_date") or "").strip()
    if bd:
        born, exc = check("birth_date", parse_birth_date, bd)
        if exc is None:
            out["birth_date"] = born
        else:
            bad("birth_date", exc)
    gender = (raw.get("gender") or "").strip()
    if gender:
        g = GENDER_ALIASES.get(gender.lower(), gender.lower())
        if g not in GENDERS:
            bad("gender", "expected female / male / other / unknown")
        out["gender"] = g
    address = (raw.get("address") or "").strip()
    if address:
        if not check("address", has_prefecture, address)[0]:
            bad("address", "must start with a prefecture (都道府県)")
        out["address"] = address
    for fname, cleaner, target, limit in (
        ("phone", clean_phone_fast, "phones", MAX_PHONES),
        ("email", clean_email_fast, "emails", MAX_EMAILS),
    ):
        text = raw.get(fname) or ""
        if ";" in text or "；" in text:
            values = [v.strip() for v in text.replace("；", ";").split(";") if v.strip()]
        else:
            values = [text.strip()] if text.strip() else []
        if len(values) > limit:
            bad(
                fname,
                validation.Invalid(f"{limit}件以内で指定してください", f"allows at most {limit} item(s)"),
            )
            values = []
        cleaned_values = []
        for v in values:
            try:
                cleaned_values.append(cleaner(v))
            except ValueError as exc:
                bad(fname, exc)
        out[target] = cleaned_values
    if registry.text_scanning_available():
        for fname in ("occupation", "employer"):
            value = (raw.get(fname) or "").strip()
            if value:
                if check("free_text", _has_sensitive, value)[0]:
                    # R-20-2: 要配慮 in a free-text column is never imported as ordinary data.
                    bad(fname, "special care-required (要配慮) information: not imported (R-20-2)")
                out[fname] = value
    else:
        for fname in ("occupation", "employer"):
            value = (raw.get(fname) or "").strip()
            if value:
                out[fname] = value
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
        attributes=[],
        origin="JP",
    )


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


def parse_mapping(pairs: Sequence[str]) -> dict[str, str]:
    """``column=field`` pairs → {csv column: mamori field}."""
    mapping: dict[str, str] = {}
    for pair in pairs:
        if "=" not in pair:
            raise ValidationFailed(
                f"列の対応付けは 列名=項目 の形式で指定してください: {pair}",
                f"Column mapping must be column=field: {pair}",
                code="bad_mapping",
            )
        col, target = (p.strip() for p in pair.split("=", 1))
        if target not in IMPORT_FIELDS:
            raise ValidationFailed(
                f"不明な項目です: {target}（{', '.join(IMPORT_FIELDS)}）",
                f"Unknown field: {target} ({', '.join(IMPORT_FIELDS)})",
                code="bad_mapping",
            )
        mapping[col] = target
    return mapping


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


def decode_csv(data: bytes) -> str:
    """The file's text: UTF-8 (with or without BOM), else Shift_JIS (cp932)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            return data.decode("cp932")
        except UnicodeDecodeError:
            raise ValidationFailed(
                "文字コードを判別できません（UTF-8 または Shift_JIS）。",
                "Unknown encoding (expected UTF-8 or Shift_JIS).",
                code="bad_encoding",
            ) from None


def read_header(data: bytes) -> list[str]:
    """The column names of the file's first line (the only line read); a file with a line over the limit is
    refused here already (:func:`check_line_lengths`)."""
    check_line_lengths(data)
    reader = csv.reader(io.StringIO(decode_csv(data), newline=""))
    try:
        return next(reader, [])
    except csv.Error:
        raise unreadable_line(reader.line_num) from None


# Column names a file from a Japanese office usually has, for a suggested mapping (the user confirms it).
HEADER_ALIASES: dict[str, str] = {
    "氏名": "name",
    "名前": "name",
    "お名前": "name",
    "フリガナ": "kana",
    "ふりがな": "kana",
    "カナ": "kana",
    "氏名カナ": "kana",
    "生年月日": "birth_date",
    "性別": "gender",
    "郵便番号": "postal_code",
    "〒": "postal_code",
    "住所": "address",
    "電話番号": "phone",
    "電話": "phone",
    "携帯電話": "phone",
    "tel": "phone",
    "メールアドレス": "email",
    "メール": "email",
    "e-mail": "email",
    "mail": "email",
    "職業": "occupation",
    "勤務先": "employer",
    "会社名": "employer",
}


def suggest_mapping(header: Sequence[str]) -> dict[str, str]:
    """{column: field} for the columns whose name is a field's (``email``) or a usual Japanese heading (メール);
    each field suggested once (the first column that matches)."""
    out: dict[str, str] = {}
    for col in header:
        key = col.strip()
        target = key if key in IMPORT_FIELDS else HEADER_ALIASES.get(key, HEADER_ALIASES.get(key.lower()))
        if target and target not in out.values():
            out[col] = target
    return out


def validate_file(path: Path, mapping: dict[str, str] | None = None) -> ValidatedFile:
    """Read and validate the whole file. Columns named like mamori's fields map to themselves."""
    try:
        data = path.read_bytes()
    except OSError:
        raise NotFound(
            "ファイルを読み込めません。", "Cannot read the file.", code="file_unreadable"
        ) from None
    return validate_data(data, mapping)


def validate_data(
    data: bytes, mapping: dict[str, str] | None = None, *, auto_map: bool = True
) -> ValidatedFile:
    """:func:`validate_file` for bytes held in memory. ``auto_map=False``: only the columns in ``mapping`` are
    read (a column named like a field but left out of the mapping is ignored)."""
    sha = hashlib.sha256(data).hexdigest()
    check_line_lengths(data)  # a line over the limit: one line naming it, before anything is read (issue 17)
    text = decode_csv(data)
    # csv.reader read the way csv.DictReader reads (the same header, lines and values, without a dict per line):
    # blank lines are skipped, a short line's missing columns are empty, a line longer than the header is refused.
    # A field over MAX_FIELD_CHARS (the reader's limit) or a broken quote: one line naming the line.
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None) or []
    except csv.Error:
        raise unreadable_line(reader.line_num) from None
    mapping = dict(mapping or {})
    for col in header if auto_map else ():
        if col not in mapping and col.strip() in IMPORT_FIELDS:
            mapping[col] = col.strip()
    if "name" not in mapping.values():
        raise ValidationFailed(
            "name（氏名）に対応する列がありません。列と name の対応を指定してください。",
            "No column maps to 'name'; map one of the columns to 'name'.",
            code="bad_mapping",
        )
    missing = [c for c in mapping if c not in header]
    if missing:
        raise ValidationFailed(
            f"ファイルにない列が指定されています: {', '.join(missing)}",
            f"Mapped columns not in the file: {', '.join(missing)}",
            code="bad_mapping",
        )
    width = len(header)
    position = {col: i for i, col in enumerate(header)}  # a repeated name: its last column, as in DictReader
    picks = [(target, position[col]) for col, target in mapping.items()]
    rows: list[tuple[int, CustomerCreate]] = []
    errors: list[RowError] = []
    total = 0
    memo = ValueMemo()
    with cyclic_gc_paused():
        for i, values in enumerate(v for v in _records(reader) if v):
            line = i + 2
            total += 1
            n = len(values)
            if n > width:
                errors.append(RowError(line, "*", "too many columns"))
                continue
            mapped = {target: values[j] if j < n else "" for target, j in picks}
            try:
                customer = _row_to_customer(mapped, line, errors, memo)
            except ValidationError:
                errors.append(RowError(line, "*", "invalid row"))
                continue
            if customer is not None:
                rows.append((line, customer))
    return ValidatedFile(sha, total, rows, errors)


def _records(reader: Any) -> Iterator[list[str]]:
    """The reader's records; a record it refuses becomes the one-line error naming its line."""
    if csv.field_size_limit() < MAX_FIELD_CHARS:  # another module lowered the process-wide limit
        csv.field_size_limit(MAX_FIELD_CHARS)
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error:
            raise unreadable_line(reader.line_num) from None
        yield values


# -- job steps (each called inside one transaction by the job runner) ---------------------------------------------


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
    _validate_purposes(ctx, purposes)
    if not source.strip() or (
        provenance.method not in PROVIDER_METHODS and not (provenance.source or "").strip()
    ):
        # R-20-1: every import is traceable to where it came from; a blank source is refused.
        raise PolicyDenied(
            "取り込むデータの取得元を記録してください（空欄は受け付けません）。",
            "Record where the imported data came from (a blank source is refused).",
            rule_id=R_20_1.id,
            code="source_required",
        )
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


def import_batch(
    ctx: Context,
    job_id: str,
    batch: Sequence[tuple[int, CustomerCreate]],
    *,
    provenance: ProvenanceIn,
    purposes: Sequence[str],
    on_duplicate: str,
    last_line: int,
    seen: dict[tuple[str, bytes], int],
    owner_id: str | None = None,
    intake: Intake | None = None,
) -> tuple[int, int, list[Duplicate]]:
    """Write one batch and advance the job's checkpoint in the same transaction. Returns (created, merged, dups).

    ``intake`` (provider-sourced data) names the receipt and the R-18-2 purpose limit on the new provenance."""
    job = ctx.session.execute(queries.import_job(job_id)).scalar_one()
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
    # Blind-index tokens of every email/phone in the batch → existing customers (computed once: the same tokens
    # go into the blind index of the people created).
    tokens: dict[int, list[tuple[str, bytes]]] = {}
    by_kind: dict[str, set[bytes]] = {"email": set(), "phone": set()}
    for line, c in batch:
        toks = [("email", digest("email", e)) for e in c.emails] + [
            ("phone", digest("phone", p)) for p in c.phones
        ]
        tokens[line] = toks
        for kind, dg in toks:
            by_kind[kind].add(dg)
    existing: dict[tuple[str, bytes], str] = {}
    for kind, digests in by_kind.items():
        if digests:
            for cid, dg in ctx.session.execute(queries.ids_by_digest(kind, list(digests))).all():
                existing[(kind, dg)] = cid
    to_create: list[tuple[int, CustomerCreate]] = []
    duplicates: list[Duplicate] = []
    merges: list[tuple[int, str, CustomerCreate]] = []
    for line, c in batch:
        match = next(((k, existing[(k, d)]) for k, d in tokens[line] if (k, d) in existing), None)
        in_file = next((k for k, d in tokens[line] if (k, d) in seen), None)
        if match is not None or in_file is not None:
            if on_duplicate == "merge" and match is not None:
                merges.append((line, match[1], c))
                duplicates.append(Duplicate(line, match[1], match[0], "merged"))
                continue
            if on_duplicate != "create":
                duplicates.append(
                    Duplicate(
                        line, match[1] if match else None, match[0] if match else str(in_file), "reported"
                    )
                )
                continue
            duplicates.append(
                Duplicate(line, match[1] if match else None, match[0] if match else str(in_file), "created")
            )
        for tok in tokens[line]:
            seen[tok] = line
        to_create.append((line, c))
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
            owner_id=owner_id,
            import_line=line,
            contact_digests=tokens[line],
        )
        for (line, c), cid in zip(to_create, ids, strict=True)
    ]
    if merges:
        # R-18-2: merging new purposes into a person received by succession needs their consent.
        check_succession_purposes(ctx, [m[1] for m in merges], list(versions))
    write_customers(
        ctx, people, import_job_id=job_id, receipt_id=receipt_id, purpose_limit=limit, digests=digester
    )
    for _line, cid, c in merges:
        _merge_into(
            ctx,
            cid,
            c,
            provenance=provenance,
            versions=versions,
            job_id=job_id,
            receipt_id=receipt_id,
            purpose_limit=limit,
        )
    ctx.session.execute(
        sql_update(ImportJob)
        .where(ImportJob.id == job.id)
        .values(
            lines_done=last_line,
            created=ImportJob.created + len(ids),
            merged=ImportJob.merged + len(merges),
            duplicates=ImportJob.duplicates + len(duplicates),
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
    return len(ids), len(merges), duplicates


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
