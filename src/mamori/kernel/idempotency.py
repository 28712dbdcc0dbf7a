"""``Idempotency-Key`` for API requests that create something (issue 19): the same key from the same actor with
the same request gives the first answer again instead of creating twice.

The table ``idempotency_keys`` (migration 0022) keeps, per (actor, key): a hash of the key, the request's hash,
the status and the created resource's id — never the request body or any personal value.
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Integer, String, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from mamori.kernel.context import Actor, Context
from mamori.kernel.db import Base, UtcDateTime
from mamori.kernel.errors import Conflict, ValidationFailed


class IdempotencyKey(Base):
    __tablename__ = "idempotency_keys"

    # sha256 hex of actor || 0x00 || scope || 0x00 || key: the key itself is the client's and is not kept
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    scope: Mapped[str] = mapped_column(String(80))  # e.g. "POST /api/v1/customers"
    request_sha256: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    resource_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


# -- the functions (issue 19) -----------------------------------------------------------------------------------

TTL = timedelta(hours=24)  # how long a key is remembered; expired rows are deleted lazily (begin)
MAX_KEY_CHARS = 200
HEADER = "Idempotency-Key"
IN_FLIGHT = 0  # status_code of a key whose request has not finished (only visible inside its own transaction)
_PURGE_BATCH = 100


class IdempotencyKeyReused(ValidationFailed):
    """The same key came back with a different request (422, problem+json code ``idempotency_key_reused``)."""

    code = "idempotency_key_reused"


@dataclass(frozen=True)
class Replay:
    """The first answer to a key already used: give it again instead of doing the work twice."""

    status_code: int
    resource_id: str | None


def check_key(key: str) -> str:
    """The key as sent, if usable: 1 to 200 characters, no control characters (the key is never echoed)."""
    if (
        not isinstance(key, str)
        or not key
        or len(key) > MAX_KEY_CHARS
        or any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in key)
    ):
        raise ValidationFailed(
            "Idempotency-Key ヘッダーが正しくありません（1〜200 文字、制御文字なし）。",
            "Malformed Idempotency-Key header (1 to 200 characters, no control characters).",
            code="bad_idempotency_key",
        )
    return key


def key_id(actor: Actor, scope: str, key: str) -> str:
    """sha256 hex of actor || 0x00 || scope || 0x00 || key: one actor's key never answers another's request,
    and the key itself is not stored."""
    message = "\x00".join((actor.label, scope, key)).encode("utf-8", "surrogatepass")
    return hashlib.sha256(message).hexdigest()


def request_hash(payload: object) -> str:
    """sha256 hex of the request as parsed (canonical JSON: key order and whitespace do not matter)."""
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def begin(ctx: Context, scope: str, key: str, request_sha256: str) -> Replay | None:
    """Claim ``key`` for this request in the caller's transaction, or give the earlier answer.

    The key's row is inserted FIRST, before any work: its primary key is the lock. A second request with the
    same key waits on it (SQLite: the write lock every transaction takes; PostgreSQL: the uncommitted unique
    key) and, once the first has committed, finds the row: the same request gets :class:`Replay`, another one
    :class:`IdempotencyKeyReused`. If the first request failed (rolled back), its row is gone and the key is free.
    None: claimed; do the work, then call :func:`complete` in the same transaction."""
    check_key(key)
    now = ctx.clock.now()
    kid = key_id(ctx.actor, scope, key)
    s = ctx.session
    # lazily forget expired keys: this one, and a batch of others (PostgreSQL skips rows another request holds)
    expired = (
        select(IdempotencyKey.id)
        .where(IdempotencyKey.expires_at <= now)
        .order_by(IdempotencyKey.expires_at)
        .limit(_PURGE_BATCH)
        .with_for_update(skip_locked=True)
    )
    s.execute(delete(IdempotencyKey).where(IdempotencyKey.id.in_(expired.scalar_subquery())))
    s.execute(delete(IdempotencyKey).where(IdempotencyKey.id == kid, IdempotencyKey.expires_at <= now))
    try:
        with s.begin_nested():
            s.execute(
                insert(IdempotencyKey).values(
                    id=kid,
                    scope=scope,
                    request_sha256=request_sha256,
                    status_code=IN_FLIGHT,
                    resource_id=None,
                    created_at=now,
                    expires_at=now + TTL,
                )
            )
        return None
    except IntegrityError:
        pass
    row = s.execute(
        select(IdempotencyKey.request_sha256, IdempotencyKey.status_code, IdempotencyKey.resource_id).where(
            IdempotencyKey.id == kid
        )
    ).one_or_none()
    if (
        row is None
    ):  # pragma: no cover - the holder rolled back between our insert and this read: try once more
        return begin(ctx, scope, key, request_sha256)
    if row.request_sha256 != request_sha256:
        raise IdempotencyKeyReused(
            "この Idempotency-Key は別の内容の要求にすでに使われています。新しいキーで送ってください。",
            "This Idempotency-Key was already used for a different request; send it with a new key.",
        )
    if row.status_code == IN_FLIGHT:  # pragma: no cover - a committed row is always complete
        raise Conflict(
            "同じ Idempotency-Key の要求を処理中です。しばらくしてから再送してください。",
            "A request with this Idempotency-Key is in progress; retry shortly.",
            code="idempotency_key_in_flight",
        )
    return Replay(int(row.status_code), row.resource_id)


def complete(ctx: Context, scope: str, key: str, status_code: int, resource_id: str | None) -> None:
    """Record the answer of the request that claimed ``key`` (same transaction as its work)."""
    ctx.session.execute(
        update(IdempotencyKey)
        .where(IdempotencyKey.id == key_id(ctx.actor, scope, key))
        .values(status_code=status_code, resource_id=resource_id)
    )
