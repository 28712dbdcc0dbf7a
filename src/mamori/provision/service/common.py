"""Helpers shared by the provision use cases: ids, authorisation, system-key sealing, datetimes."""

from __future__ import annotations

import json
from datetime import datetime

from mamori.kernel.auditing import authorise
from mamori.kernel.clock import ensure_aware
from mamori.kernel.context import Context
from mamori.kernel.crypto import aead
from mamori.kernel.errors import ValidationFailed
from mamori.kernel.policy import Action, Resource

# The system key under which records that must outlive a person's erasure are sealed (R-29-4).
RECORD_KEY = "provision_records"


def can_manage(ctx: Context, subject_ids: list[str] | None = None) -> None:
    authorise(ctx, Action.PROVISION_MANAGE, Resource(kind="provision"), subject_ids or [])


def can_read(ctx: Context, subject_ids: list[str] | None = None) -> None:
    authorise(ctx, Action.PROVISION_READ, Resource(kind="provision"), subject_ids or [])


def aware(value: datetime) -> datetime:
    return ensure_aware(value)


def require_aware(value: datetime, name: str) -> datetime:
    if value.tzinfo is None:
        raise ValidationFailed(
            f"{name} にはタイムゾーン付きの日時を指定してください。",
            f"{name} must carry a time zone.",
            code="naive_datetime",
        )
    return value


def seal(ctx: Context, table: str, column: str, row_id: str, value: object) -> bytes:
    """Seal a JSON-serialisable value under the provision system key, bound to table/column/row."""
    key = ctx.runtime.keystore.system_key(RECORD_KEY)
    aad = f"{table}|{column}|{row_id}".encode()
    return aead.seal(key, json.dumps(value, ensure_ascii=False).encode("utf-8"), aad)


def unseal(ctx: Context, table: str, column: str, row_id: str, blob: bytes) -> object:
    key = ctx.runtime.keystore.system_key(RECORD_KEY)
    aad = f"{table}|{column}|{row_id}".encode()
    return json.loads(aead.open_sealed(key, blob, aad).decode("utf-8"))


def split(value: str) -> list[str]:
    return [v for v in value.split(",") if v]


def join(values: list[str]) -> str:
    return ",".join(values)
