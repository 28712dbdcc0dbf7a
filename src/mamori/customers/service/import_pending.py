"""Imported rows held for the privacy officer instead of being written (issue 19, seed 001 case 3).

A row whose notified purposes (a per-row column of the file) do not cover the import's purposes is not written as
a customer: R-21-1 requires the purposes of use to have been notified to the person (or published) when their data
is acquired. The importer hands the row to :func:`hold`; the privacy officer then decides:

- :func:`hold` seals the validated row (its data, the ``extra`` business values and the provenance, as JSON) under
  a data key of its OWN (keystore subject = the pending row's id; never under a customer's key: no customer exists
  yet) and counts it on the job (``import_jobs.pending``). Nothing of the row is in clear in the database.
- :func:`list_pending` lists held rows without any personal value (line, reason, rule, purposes). The privacy
  officer sees every row; a sales rep only the rows of their own imports (status and reason) and never opens one.
- :func:`show` opens one row for the privacy officer, for a purpose of the import (or one the row says was
  notified): decided by the policy engine as a customer read is (fields the purpose does not cover come back
  masked and are never decrypted) and audited as a read of personal data with its purpose.
- :func:`approve` writes the customer through the import's own path (``import_rows.write_customers``): the held
  data and provenance, the owner the importer chose, the import's purposes recorded as notified. The officer must
  state that the purposes were notified to the person (``notified_confirmed``, R-21-1): the approval records that
  statement — the notice method (``notified`` unless said otherwise) with the time of the approval, and who
  approved in the audit log. Without it the approval is refused (R-21-1): approving never makes a notice that was
  not given. Then the row's data key is destroyed (crypto-shredding) and its ciphertext dropped.
- :func:`reject` destroys the row's data key and drops its ciphertext; the reason is a code (no free text that
  could carry a value), kept in the audit entry.

Approve and reject need ``customer.import_approve`` (the privacy officer only). Every step is audited with ids,
field names, codes and counts — never a value. Services never commit; the key destruction commits in the keystore's
own transaction after the business rows are flushed (a failure before it changes nothing; a failure after it leaves
an unreadable row that :func:`reject` completes).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ValidationError
from sqlalchemy import select
from sqlalchemy import update as sql_update

from mamori.customers import queries
from mamori.customers.models import ImportJob, ImportPending
from mamori.customers.pending_words import APPROVE_METHODS, REJECT_REASONS, STATUSES
from mamori.customers.permissions import CUSTOMER_IMPORT, CUSTOMER_IMPORT_APPROVE, CUSTOMER_READ
from mamori.customers.schemas import (
    FIELD_CATEGORIES,
    PROVIDER_METHODS,
    SCALAR_FIELDS,
    AttributeIn,
    CustomerCreate,
    ProvenanceIn,
)
from mamori.customers.service import external_ids
from mamori.customers.service.core.common import GDPR_ORIGINS, _validate_purposes
from mamori.customers.service.import_rows import Digests, NewCustomer, write_customers
from mamori.kernel.auditing import audits_refusals, authorise, record_info, record_read, record_write
from mamori.kernel.context import Context
from mamori.kernel.crypto import KeyDestroyed
from mamori.kernel.db import new_id
from mamori.kernel.errors import Conflict, IntegrityFailure, NotFound, PolicyDenied, ValidationFailed
from mamori.kernel.policy import Category, Resource, Scope, decide, row_scope
from mamori.kernel.runtime import SCRUB_PENDING
from mamori.law.rules import R_18_1, R_20_2, R_21_1, R_23_2, R_30_1
from mamori.purposes import service as purposes_service

# STATUSES, REJECT_REASONS (codes only: a free-text reason could carry a person's data into the audit log) and
# APPROVE_METHODS (how the confirmed notice was given: customer_purposes.method) come with their words from
# customers.pending_words.
EXTRA_KEYS = frozenset({"external_id", "id_system", "registered_on", "attributes"})
NOTE_MAX = 500

# The audit actions of this module (each needs words in kernel/labels/data/web_audit.toml).
HOLD_ACTION = "customer.import_hold"
LIST_ACTION = "customer.import_pending_list"
READ_ACTION = "customer.import_pending_read"
REJECT_ACTION = "customer.import_reject"

_ID = re.compile(r"^[0-9a-f]{32}$")
_TABLE, _COLUMN = "import_pending", "row"
_NOTE_KEY = "import_pending_notes"  # system key: the officer's note on a decision (outlives the row's key)


# -- views (no personal value in PendingItem; PendingRow is the opened row) --------------------------------------


class PendingItem(BaseModel):
    """One held row as listed: where it came from and why it waits — never a value of the row."""

    id: str
    job_id: str
    line: int
    status: str
    reason: str
    rule_id: str | None
    purposes: list[str]
    notified: list[str]
    owner_id: str | None
    created_by: str
    created_at: datetime
    decided_by: str | None = None
    decided_at: datetime | None = None
    customer_id: str | None = None


class PendingAttribute(BaseModel):
    key: str
    category: str
    value: str | None  # None: masked for the purpose


class PendingRow(PendingItem):
    """A held row opened for ``purpose``: each field the purpose does not cover is None and named in ``masked``."""

    purpose: str
    name: str | None = None
    kana: str | None = None
    birth_date: date | None = None
    gender: str | None = None
    postal_code: str | None = None
    address: str | None = None
    occupation: str | None = None
    employer: str | None = None
    phones: list[str] = []
    emails: list[str] = []
    external_id: str | None = None
    id_system: str | None = None
    registered_on: str | None = None
    attributes: list[PendingAttribute] = []
    provenance_method: str
    provenance_channel: str | None = None
    source: str | None = None
    masked: list[str] = []


# -- helpers ----------------------------------------------------------------------------------------------------


def _codes(text: str | None) -> list[str]:
    return [c for c in (text or "").split(",") if c]


def _item(row: ImportPending) -> PendingItem:
    return PendingItem(
        id=row.id,
        job_id=row.job_id,
        line=row.line,
        status=row.status,
        reason=row.reason,
        rule_id=row.rule_id,
        purposes=_codes(row.purposes),
        notified=_codes(row.notified),
        owner_id=row.owner_id,
        created_by=row.created_by,
        created_at=row.created_at,
        decided_by=row.decided_by,
        decided_at=row.decided_at,
        customer_id=row.customer_id,
    )


def _not_found() -> NotFound:
    return NotFound(
        "取り込み待ちの行が見つかりません。",
        "Held import row not found.",
        code="pending_not_found",
    )


def _check_id(pending_id: str) -> None:
    if not isinstance(pending_id, str) or not _ID.match(pending_id):
        raise _not_found()


def _load(ctx: Context, pending_id: str, *, lock: bool = False) -> ImportPending:
    _check_id(pending_id)
    stmt = select(ImportPending).where(ImportPending.id == pending_id)
    if lock:
        stmt = stmt.with_for_update()
    row = ctx.session.execute(stmt).scalar_one_or_none()
    if row is None:
        raise _not_found()
    return row


def _undecided(row: ImportPending) -> None:
    if row.status != "pending":
        raise Conflict(
            "この行はすでに判断済みです（承認または却下）。",
            "This row has already been decided (approved or rejected).",
            code="pending_decided",
            details={"status": row.status},
        )


def _authorise_officer(ctx: Context, pending_id: str | None = None) -> None:
    authorise(ctx, CUSTOMER_IMPORT_APPROVE, Resource(kind="import_pending", subject_id=pending_id))


def _seal(ctx: Context, pending_id: str, payload: dict[str, Any]) -> bytes:
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    return ctx.runtime.cipher.encrypt(pending_id, _TABLE, _COLUMN, pending_id, text)


def _open(ctx: Context, row: ImportPending) -> dict[str, Any]:
    """The held row's JSON; a row whose data is gone (key destroyed, ciphertext dropped) is refused."""
    if row.row_enc is None:
        raise _gone()
    try:
        text = ctx.runtime.cipher.decrypt(row.id, _TABLE, _COLUMN, row.id, bytes(row.row_enc))
    except (KeyDestroyed, IntegrityFailure):
        raise _gone() from None
    payload = json.loads(text)
    if not isinstance(payload, dict):  # pragma: no cover - we sealed a dict
        raise _gone()
    return payload


def _gone() -> Conflict:
    return Conflict(
        "この行のデータは破棄されています。却下して記録を閉じてください。",
        "This row's data has been destroyed; reject it to close the record.",
        code="pending_data_destroyed",
    )


def _check_extra(extra: dict[str, Any]) -> dict[str, Any]:
    """The business values the importer hands over: ``external_id`` / ``id_system`` (str), ``registered_on``
    (ISO date), ``attributes`` ([[key, category, value], …]). Anything else is a programming error."""
    unknown = sorted(set(extra) - EXTRA_KEYS)
    if unknown:
        raise ValidationFailed(
            f"取り込み待ちの行に不明な項目があります: {', '.join(unknown)}",
            f"Unknown extra keys for a held row: {', '.join(unknown)}",
            code="bad_pending_extra",
        )
    out: dict[str, Any] = {}
    for key in ("external_id", "id_system", "registered_on"):
        value = extra.get(key)
        if value is None or value == "":
            continue
        if isinstance(value, date):
            value = value.isoformat()
        if not isinstance(value, str) or len(value) > 200:
            raise ValidationFailed(
                f"取り込み待ちの行の項目 {key} が正しくありません。",
                f"Extra value {key} of a held row is not valid.",
                code="bad_pending_extra",
            )
        out[key] = value
    if "registered_on" in out:
        try:
            date.fromisoformat(out["registered_on"])
        except ValueError:
            raise ValidationFailed(
                "登録日の形式が正しくありません。",
                "The registration date is not a valid date.",
                code="bad_pending_extra",
            ) from None
    attrs = []
    for item in extra.get("attributes") or []:
        if not isinstance(item, list | tuple) or len(item) != 3:
            raise ValidationFailed(
                "取り込み待ちの行の属性は [キー, 分類, 値] で渡してください。",
                "Attributes of a held row are [key, category, value].",
                code="bad_pending_extra",
            )
        key, category, value = item
        attrs.append(_attribute(str(key), str(category), str(value)))
    if attrs:
        out["attributes"] = [[a.key, a.category.value, a.value] for a in attrs]
    return out


def _attribute(key: str, category: str, value: str) -> AttributeIn:
    try:
        return AttributeIn.model_validate({"key": key, "category": category, "value": value})
    except ValidationError:
        raise ValidationFailed(
            f"属性 {key} のキー・分類・値が正しくありません。",
            f"Attribute {key}: bad key, category or value.",
            code="bad_pending_extra",
        ) from None


def _refuse_sensitive(attributes: Sequence[AttributeIn]) -> None:
    if any(a.category == Category.SENSITIVE for a in attributes):
        # R-20-2: 要配慮 is never imported as ordinary data, and a held row is no way around it.
        raise PolicyDenied(
            "要配慮個人情報は取り込み待ちにできません（本人の同意を得て個別に記録してください）。",
            "Special care-required data cannot be held for approval (record it one by one with consent).",
            rule_id=R_20_2.id,
            code="sensitive_not_held",
        )


def _data_of(payload: dict[str, Any]) -> CustomerCreate:
    """The held CustomerCreate as the importer validated it (authenticated by the seal: not cleaned again)."""
    raw = dict(payload["data"])
    born = raw.get("birth_date")
    raw["birth_date"] = date.fromisoformat(born) if isinstance(born, str) else None
    raw["attributes"] = [AttributeIn.model_validate(a) for a in raw.get("attributes") or []]
    return CustomerCreate.model_construct(**raw)


def _all_attributes(data: CustomerCreate, extra: dict[str, Any]) -> list[AttributeIn]:
    """The row's attributes, then 登録日 (key ``registered_on``, category attribute), then the custom ones; a key
    given twice keeps its first value."""
    out: dict[str, AttributeIn] = {a.key: a for a in data.attributes}
    if extra.get("registered_on"):
        out.setdefault("registered_on", _attribute("registered_on", "attribute", extra["registered_on"]))
    for key, category, value in extra.get("attributes") or []:
        out.setdefault(key, _attribute(key, category, value))
    return list(out.values())


# -- hold -------------------------------------------------------------------------------------------------------


@audits_refusals(HOLD_ACTION)
def hold(
    ctx: Context,
    *,
    job_id: str,
    line: int,
    data: CustomerCreate,
    extra: dict[str, Any],
    owner_id: str | None,
    purposes: Sequence[str],
    notified: Sequence[str],
    reason: str = "purpose_not_notified",
    rule_id: str | None = R_21_1.id,
    provenance: ProvenanceIn,
) -> str:
    """Hold one validated row of import ``job_id`` for the privacy officer; returns the pending row's id.

    The row is sealed under a data key of its own, created here. Counted on the job (``pending``); audited
    without a value."""
    authorise(ctx, CUSTOMER_IMPORT, Resource(kind="customer", owner_id=owner_id))
    if row_scope(ctx, CUSTOMER_IMPORT) == Scope.OWN and owner_id != ctx.actor.id:
        # one who imports into their own book only (a sales rep) holds rows for themselves alone (R-23-2)
        raise PolicyDenied(
            "自分が担当する顧客としてだけ取り込めます。",
            "You may import customers into your own book only.",
            rule_id=R_23_2.id,
            code="out_of_scope",
        )
    if provenance.method in PROVIDER_METHODS:
        # Data from a provider enters with its receipt in one unit (R-30-1); it is never parked for later.
        raise PolicyDenied(
            "第三者・事業承継からのデータは取り込み待ちにできません。受領の手続きと同時に取り込んでください。",
            "Data from a provider cannot be held for approval; import it together with its receipt.",
            rule_id=R_30_1.id,
            code="provider_not_held",
        )
    if not re.fullmatch(r"[a-z][a-z0-9_]{0,63}", reason or ""):
        raise ValidationFailed(
            "保留の理由コードが正しくありません。", "Bad hold reason code.", code="bad_reason"
        )
    _refuse_sensitive(data.attributes)
    clean_extra = _check_extra(extra)
    _refuse_sensitive([_attribute(k, c, v) for k, c, v in clean_extra.get("attributes", [])])
    job = ctx.session.execute(queries.import_job(job_id)).scalar_one_or_none()
    if job is None:
        raise NotFound(
            "取り込みジョブが見つかりません。", "Import job not found.", code="import_job_not_found"
        )
    pending_id = new_id()
    ctx.runtime.keystore.create_data_keys([pending_id])
    payload = {
        "data": data.model_dump(mode="json"),
        "extra": clean_extra,
        "provenance": provenance.model_dump(mode="json", exclude={"receipt"}),
    }
    ctx.session.add(
        ImportPending(
            id=pending_id,
            job_id=job_id,
            line=int(line),
            owner_id=owner_id,
            purposes=",".join(dict.fromkeys(purposes)),
            notified=",".join(dict.fromkeys(notified)),
            reason=reason,
            rule_id=rule_id,
            row_enc=_seal(ctx, pending_id, payload),
            status="pending",
            created_by=ctx.actor.label,
            created_at=ctx.clock.now(),
        )
    )
    ctx.session.execute(
        sql_update(ImportJob).where(ImportJob.id == job_id).values(pending=ImportJob.pending + 1)
    )
    ctx.session.flush()
    record_write(
        ctx,
        "customer.import_hold",
        [],
        ["import_pending"],
        rule_ids=(rule_id,) if rule_id else (),
        details={"pending_id": pending_id, "job_id": job_id, "line": int(line), "reason": reason},
    )
    return pending_id


# -- list and open --------------------------------------------------------------------------------------------------


def list_pending(
    ctx: Context, status: str | None = "pending", job_id: str | None = None
) -> list[PendingItem]:
    """Held rows (newest job first, then by line) with no personal value. ``status``: pending / approved /
    rejected, or None / "all" for every row. The privacy officer sees every row; one who may import but not
    decide (a sales rep) only the rows of their own imports."""
    if status == "all":
        status = None
    if status is not None and status not in STATUSES:
        raise ValidationFailed(
            "状態は pending / approved / rejected / all のいずれかで指定してください。",
            "Status must be pending, approved, rejected or all.",
            code="bad_status",
        )
    if job_id is not None and not _ID.match(job_id):
        raise ValidationFailed(
            "取り込みジョブIDは32桁の英数字（0-9, a-f）で指定してください。",
            "A job id is 32 characters (0-9, a-f).",
            code="bad_job_id",
        )
    officer = decide(ctx, CUSTOMER_IMPORT_APPROVE, Resource(kind="import_pending")).allowed
    if not officer:
        authorise(ctx, CUSTOMER_IMPORT, Resource(kind="customer"))  # a refusal is audited
    stmt = select(ImportPending)
    if status is not None:
        stmt = stmt.where(ImportPending.status == status)
    if job_id is not None:
        stmt = stmt.where(ImportPending.job_id == job_id)
    if not officer and row_scope(ctx, CUSTOMER_IMPORT) != Scope.ALL:
        stmt = stmt.where(ImportPending.created_by == ctx.actor.label)
    stmt = stmt.order_by(ImportPending.created_at.desc(), ImportPending.job_id, ImportPending.line)
    rows = list(ctx.session.execute(stmt).scalars())
    record_info(
        ctx,
        "customer.import_pending_list",
        details={"status": status or "all", "job_id": job_id, "n": len(rows), "own_only": not officer},
    )
    return [_item(r) for r in rows]


@audits_refusals(READ_ACTION)
def show(ctx: Context, pending_id: str) -> PendingRow:
    """Open one held row for ``ctx.purpose`` (the privacy officer only).

    The purpose must be one of the import's purposes or one the row says was notified to the person; the policy
    engine decides it as a customer read (registered and current R-17-1, consent where the purpose needs it) and
    masks the fields outside its data categories (the row is sealed as one value: a masked field is opened with
    it but never returned). Audited as a read of personal data: the fields shown, the fields masked, the purpose."""
    _authorise_officer(ctx, pending_id)
    row = _load(ctx, pending_id)
    if row.status != "pending":
        raise _gone()
    purpose = ctx.purpose
    if not purpose:
        raise PolicyDenied(
            "個人データの利用には利用目的の指定が必要です。",
            "A purpose must be declared to use personal data.",
            rule_id=R_18_1.id,
            code="purpose_required",
        )
    of_row = set(_codes(row.purposes)) | set(_codes(row.notified))
    if purpose not in of_row:
        raise PolicyDenied(
            f"利用目的「{purpose}」はこの取り込みの利用目的ではありません（取り込みの利用目的: "
            f"{', '.join(sorted(of_row))}）。",
            f"Purpose '{purpose}' is not a purpose of this import (its purposes: {', '.join(sorted(of_row))}).",
            rule_id=R_18_1.id,
            code="purpose_not_of_row",
        )
    payload = _open(ctx, row)
    data = _data_of(payload)
    extra = dict(payload.get("extra") or {})
    prov = dict(payload.get("provenance") or {})
    attrs = _all_attributes(data, extra)
    fields: dict[str, Category] = {k: v for k, v in FIELD_CATEGORIES.items() if k != "activities"}
    fields["external_id"] = Category.IDENTIFIER
    for a in attrs:
        fields[f"attr:{a.key}"] = Category(a.category)
    resource = Resource(
        kind="import_pending",
        subject_id=row.id,
        owner_id=row.owner_id,
        purpose=purposes_service.facts(ctx, purpose),
        notified_purposes=frozenset(of_row),
        gdpr=data.origin in GDPR_ORIGINS,
        fields=fields,
    )
    # decided as a customer read: the purpose, its consent, masking by data category
    decision = authorise(ctx, CUSTOMER_READ, resource, [])
    masked = set(decision.masked_fields)
    values: dict[str, Any] = {}
    for f in SCALAR_FIELDS:
        if f not in masked:
            values[f] = getattr(data, f)
    view = PendingRow(
        **_item(row).model_dump(),
        purpose=purpose,
        phones=[] if "phones" in masked else list(data.phones),
        emails=[] if "emails" in masked else list(data.emails),
        external_id=None if "external_id" in masked else extra.get("external_id"),
        id_system=extra.get("id_system"),
        registered_on=None if "attr:registered_on" in masked else extra.get("registered_on"),
        attributes=[
            PendingAttribute(
                key=a.key,
                category=a.category.value,
                value=None if f"attr:{a.key}" in masked else a.value,
            )
            for a in attrs
        ],
        provenance_method=str(prov.get("method") or "direct"),
        provenance_channel=prov.get("channel"),
        source=prov.get("source"),
        masked=sorted(masked),
        **values,
    )
    record_read(
        ctx,
        "customer.import_pending_read",
        [],
        [f for f in fields if f not in masked],
        masked=masked,
        details={"pending_id": row.id, "job_id": row.job_id, "line": row.line},
    )
    return view


# -- decide -------------------------------------------------------------------------------------------------------


def _note_blob(ctx: Context, pending_id: str, note: str | None) -> bytes | None:
    """The officer's note sealed under a system key bound to the row (evidence of the decision; it outlives the
    row's key), or None. Needs the ``note_enc`` column (migration 0022)."""
    if note is None or not note.strip():
        return None
    if len(note) > NOTE_MAX:
        raise ValidationFailed(
            f"メモは{NOTE_MAX}文字以内で入力してください。",
            f"The note allows at most {NOTE_MAX} characters.",
            code="note_too_long",
        )
    if "note_enc" not in ImportPending.__table__.c:
        raise ValidationFailed(
            "この版ではメモを保存できません（メモなしで操作してください）。",
            "Notes cannot be stored in this version (leave the note out).",
            code="note_unsupported",
        )
    from mamori.kernel.crypto import make_aead, seal_with

    aead = make_aead(ctx.runtime.keystore.system_key(_NOTE_KEY))
    return seal_with(aead, note.strip().encode("utf-8"), f"{_TABLE}|note|{pending_id}".encode())


def _shred(ctx: Context, pending_id: str) -> None:
    """Crypto-shred the held row: its key (keystore's own committed transaction) and, after the business commit,
    the old pages of the data store's WAL (``Runtime.scrub``)."""
    ctx.runtime.keystore.destroy_data_keys([pending_id])
    ctx.memo[SCRUB_PENDING] = True


def _decide(ctx: Context, row: ImportPending, status: str, values: dict[str, Any]) -> None:
    """Set the decision only if the row is still pending (a concurrent decision loses: pending_decided)."""
    result = ctx.session.execute(
        sql_update(ImportPending)
        .where(ImportPending.id == row.id, ImportPending.status == "pending")
        .values(
            status=status,
            row_enc=None,
            decided_by=ctx.actor.label,
            decided_at=ctx.clock.now(),
            **values,
        )
        .execution_options(synchronize_session=False)
    )
    if int(getattr(result, "rowcount", 0) or 0) != 1:
        raise Conflict(
            "この行はすでに判断済みです（承認または却下）。",
            "This row has already been decided (approved or rejected).",
            code="pending_decided",
        )
    ctx.session.expire(row)


@audits_refusals(CUSTOMER_IMPORT_APPROVE)
def approve(
    ctx: Context,
    pending_id: str,
    *,
    notified_confirmed: bool = False,
    method: Literal["notified", "stated", "published"] = "notified",
    note: str | None = None,
) -> str:
    """Write the held row as a customer; returns the customer id. The privacy officer states that the import's
    purposes were notified to the person (``notified_confirmed``; R-21-1) — recorded on the customer as the notice
    of each purpose with ``method`` at the time of the approval. Then the row's key is destroyed."""
    _authorise_officer(ctx, pending_id)
    row = _load(ctx, pending_id, lock=True)
    _undecided(row)
    if method not in APPROVE_METHODS:
        raise ValidationFailed(
            "通知の方法は notified / stated / published のいずれかで指定してください。",
            "The notice method must be notified, stated or published.",
            code="bad_method",
        )
    if not notified_confirmed:
        raise PolicyDenied(
            "利用目的を本人に通知（または公表）したことを確認してから承認してください。"
            "通知されていない目的のために取得することはできません。",
            "Confirm that the purposes were notified to the person (or published) before approving: data is not "
            "acquired for purposes the person was not told of.",
            rule_id=R_21_1.id,
            code="notice_not_confirmed",
            details={"pending_id": row.id},
        )
    blob = _note_blob(ctx, row.id, note)
    payload = _open(ctx, row)
    data = _data_of(payload)
    extra = dict(payload.get("extra") or {})
    provenance = ProvenanceIn.model_validate(payload.get("provenance") or {})
    attrs = _all_attributes(data, extra)
    _refuse_sensitive(attrs)
    purposes = _codes(row.purposes)
    versions = _validate_purposes(ctx, purposes)  # R-17-1: a purpose retired since the hold is refused
    _refuse_duplicates(ctx, row, data, extra)
    data = data.model_copy(update={"attributes": attrs})
    cid = new_id()
    ctx.runtime.keystore.create_data_keys([cid])
    write_customers(
        ctx,
        [
            NewCustomer(
                customer_id=cid,
                data=data,
                provenance=provenance,
                purpose_versions=versions,
                purpose_method=method,
                owner_id=row.owner_id,
                import_line=row.line,
            )
        ],
        import_job_id=row.job_id,
    )
    if extra.get("external_id"):
        system = extra.get("id_system") or _job_source(ctx, row.job_id)
        external_ids.write(ctx, [(cid, system, extra["external_id"])])
    _decide(ctx, row, "approved", {"customer_id": cid, **({"note_enc": blob} if blob is not None else {})})
    ctx.session.flush()
    record_write(
        ctx,
        CUSTOMER_IMPORT_APPROVE,
        [cid],
        ["name", "kana", "birth_date", "gender", "postal_code", "address", "phones", "emails", "attributes"],
        rule_ids=(R_21_1.id,),
        details={
            "pending_id": row.id,
            "job_id": row.job_id,
            "line": row.line,
            "notified_confirmed": True,
            "method": method,
            "purposes": ",".join(purposes),
            "note": blob is not None,
        },
    )
    _shred(ctx, row.id)
    return cid


def _job_source(ctx: Context, job_id: str) -> str:
    job = ctx.session.execute(queries.import_job(job_id)).scalar_one_or_none()
    return job.source if job is not None else "import"


def _refuse_duplicates(ctx: Context, row: ImportPending, data: CustomerCreate, extra: dict[str, Any]) -> None:
    """A customer with the same e-mail, phone or customer number exists: not created twice (the officer rejects
    the row as a duplicate, or merges by importing again)."""
    digest = Digests(ctx.runtime).digest
    for kind, values in (("email", data.emails), ("phone", data.phones)):
        if not values:
            continue
        found = ctx.session.execute(queries.ids_by_digest(kind, [digest(kind, v) for v in values])).first()
        if found is not None:
            raise Conflict(
                "同じメールアドレスまたは電話番号の顧客がすでにいます。重複として却下してください。",
                "A customer with the same e-mail or phone exists; reject the row as a duplicate.",
                code="pending_duplicate",
                details={"customer_id": str(found[0]), "kind": kind},
            )
    if extra.get("external_id"):
        system = extra.get("id_system") or _job_source(ctx, row.job_id)
        existing = external_ids.find_existing(
            ctx, system, [external_ids.digest(ctx.runtime, system, extra["external_id"])]
        )
        if existing:
            raise Conflict(
                "同じ顧客番号の顧客がすでにいます。重複として却下してください。",
                "A customer with the same customer number exists; reject the row as a duplicate.",
                code="pending_duplicate",
                details={"customer_id": str(next(iter(existing.values()))), "kind": "external_id"},
            )


@audits_refusals(REJECT_ACTION)
def reject(ctx: Context, pending_id: str, reason: str, *, note: str | None = None) -> None:
    """Reject a held row: its data key is destroyed and its ciphertext dropped; ``reason`` is a code of
    :data:`REJECT_REASONS` (kept in the audit entry)."""
    _authorise_officer(ctx, pending_id)
    if reason not in REJECT_REASONS:
        raise ValidationFailed(
            "却下の理由は " + " / ".join(REJECT_REASONS) + " のいずれかで指定してください。",
            "The reason must be one of " + ", ".join(REJECT_REASONS) + ".",
            code="bad_reject_reason",
        )
    row = _load(ctx, pending_id, lock=True)
    _undecided(row)
    blob = _note_blob(ctx, row.id, note)
    _decide(ctx, row, "rejected", {"note_enc": blob} if blob is not None else {})
    ctx.session.flush()
    record_write(
        ctx,
        "customer.import_reject",
        [],
        ["import_pending"],
        rule_ids=(R_21_1.id,) if row.reason == "purpose_not_notified" else (),
        details={
            "pending_id": row.id,
            "job_id": row.job_id,
            "line": row.line,
            "reason": reason,
            "note": blob is not None,
        },
    )
    _shred(ctx, row.id)


__all__ = [
    "APPROVE_METHODS",
    "REJECT_REASONS",
    "STATUSES",
    "PendingItem",
    "PendingRow",
    "approve",
    "hold",
    "list_pending",
    "reject",
    "show",
]
