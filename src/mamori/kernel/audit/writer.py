"""The audit writer: appends entries to the hash chain on its own connection and signs checkpoints.

Each :meth:`AuditWriter.append` call is one short transaction on the audit database, committed before it
returns, so a rolled-back business transaction cannot erase the read and denial entries it produced. Appends
are serialised by first *writing* the single ``audit_head`` row: on PostgreSQL that row lock queues concurrent
appenders (READ COMMITTED: the following SELECT then sees the winner's commit); on SQLite the engine from
:func:`mamori.kernel.db.make_engine` already opens every transaction with ``BEGIN IMMEDIATE``, and the head
write would take the database write lock anyway. Two processes appending at once therefore never fork the chain.

An entry never holds a personal value (see :class:`AuditEntry`); ``reason`` must be a short code.
"""

from __future__ import annotations

import base64
import json
import os
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy import Connection, insert, select, text, update
from sqlalchemy.engine import Engine, Row

from mamori.kernel.audit.chain import (
    CHECKPOINT_ORIGIN,
    ZERO_HASH,
    DetailValue,
    canonical_bytes,
    chain_hash,
    checkpoint_message,
    encode_details,
    encode_list,
    format_at,
    frontier_append,
    frontier_root,
    key_id,
    leaf_hash,
    pack_frontier,
    parse_at,
    unpack_frontier,
)
from mamori.kernel.audit.models import CHECKPOINTS, ENTRIES, HEAD, HEAD_ID, AuditBase
from mamori.kernel.clock import Clock
from mamori.kernel.errors import ConfigurationError, IntegrityFailure, ValidationFailed

DECISIONS = frozenset({"allow", "deny", "info"})
# `reason` is a machine code such as "purpose_not_notified" — never free text, never a personal value.
REASON_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:\-]{0,63}")
MAX_TEXT = 256
MAX_ITEMS = 100_000  # subject ids per entry: an import batch (CLI allows 20 000 rows) is one entry
SCHEMA_LOCK_KEY = 0x6D616D6F72690A  # pg_advisory_xact_lock key for init_schema ("mamori\n")
_SEED_INFO = b"mamori/audit/ed25519-signing/v1"


def _invalid(name: str, ja: str, en: str) -> ValidationFailed:
    return ValidationFailed(
        f"監査エントリーの項目 {name} が不正です: {ja}",
        f"audit entry field {name} is invalid: {en}",
        code="audit_entry_invalid",
        details={"field": name},
    )


def _check_text(name: str, value: object, *, required: bool = True) -> None:
    if value is None and not required:
        return
    if not isinstance(value, str):
        raise _invalid(name, "文字列ではありません", "not a string")
    if required and not value:
        raise _invalid(name, "空です", "empty")
    if len(value) > MAX_TEXT:
        raise _invalid(name, "長すぎます", "too long")
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        raise _invalid(name, "制御文字を含みます", "contains a control character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise _invalid(name, "UTF-8 にできません", "not encodable as UTF-8") from None


@dataclass(frozen=True)
class AuditEntry:
    """What one audited event says. Every field is a label, a code or an opaque id — never a personal value.

    - ``actor``: the actor label (``kind:id``), ``actor_role``: the role name;
    - ``action``: e.g. ``customer.read``; ``purpose``: the declared purpose code (or None);
    - ``subject_ids``: random opaque subject ids; ``fields``: field NAMES (never their values);
    - ``decision``: ``allow`` / ``deny`` / ``info``; ``rule_ids``: rule ids such as ``R-18-1``;
    - ``reason``: a short machine CODE (``[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}``, e.g. the policy's denial code),
      the only field a caller could misuse for text — it must never carry data, and the pattern refuses spaces;
    - ``details``: a flat mapping of small str/int/bool/None values (counts, ids, codes);
    - ``at``: when it happened (aware); None means the writer's clock at append time.
    """

    actor: str
    actor_role: str
    action: str
    purpose: str | None
    subject_ids: tuple[str, ...]
    fields: tuple[str, ...]
    decision: str
    rule_ids: tuple[str, ...] = ()
    reason: str | None = None
    details: Mapping[str, DetailValue] = field(default_factory=dict)
    at: datetime | None = None

    def __post_init__(self) -> None:
        _check_text("actor", self.actor)
        _check_text("actor_role", self.actor_role)
        _check_text("action", self.action)
        _check_text("purpose", self.purpose, required=False)
        if self.decision not in DECISIONS:
            raise _invalid("decision", "allow / deny / info のいずれかです", "must be allow, deny or info")
        if self.reason is not None and (
            not isinstance(self.reason, str) or REASON_PATTERN.fullmatch(self.reason) is None
        ):
            raise _invalid("reason", "コード（英数字と _ . : -）のみ", "must be a short code, not text")
        for name in ("subject_ids", "fields", "rule_ids"):
            value: Any = getattr(self, name)
            if isinstance(value, str | bytes) or not isinstance(value, Sequence | frozenset | set):
                raise _invalid(name, "文字列の列ではありません", "not a sequence of strings")
            items = tuple(value)
            if len(items) > MAX_ITEMS:
                raise _invalid(name, "多すぎます", "too many items")
            for item in items:
                _check_text(name, item)
            object.__setattr__(self, name, items)
        if not isinstance(self.details, Mapping):
            raise _invalid("details", "マッピングではありません", "not a mapping")
        clean: dict[str, DetailValue] = {}
        for key, val in self.details.items():
            _check_text("details", key)
            if val is not None and not isinstance(val, str | int | bool):
                raise _invalid(
                    "details", "値は文字列・整数・真偽値・null のみ", "values must be str/int/bool/null"
                )
            if isinstance(val, str):
                _check_text("details", val, required=False)
            clean[key] = val
        object.__setattr__(self, "details", MappingProxyType(clean))
        if self.at is not None and (
            not isinstance(self.at, datetime) or self.at.tzinfo is None or self.at.utcoffset() is None
        ):
            raise _invalid("at", "タイムゾーン付きの日時が必要です", "must be an aware datetime")


@dataclass(frozen=True)
class StoredEntry:
    """An entry as read back from the log, with its position and hashes."""

    seq: int
    at: datetime
    actor: str
    actor_role: str
    action: str
    purpose: str | None
    subject_ids: tuple[str, ...]
    fields: tuple[str, ...]
    decision: str
    rule_ids: tuple[str, ...]
    reason: str | None
    details: dict[str, DetailValue]
    leaf_hash: bytes
    chain_hash: bytes


@dataclass(frozen=True)
class Checkpoint:
    """A signed tree head over the first ``tree_size`` entries."""

    tree_size: int
    at: datetime
    root_hash: bytes
    chain_hash: bytes
    signature: bytes
    key_id: str

    def anchor_line(self) -> str:
        """The JSON line appended to the anchor file (outside the database)."""
        return json.dumps(
            {
                "origin": CHECKPOINT_ORIGIN,
                "tree_size": self.tree_size,
                "at": format_at(self.at),
                "root_hash": base64.b64encode(self.root_hash).decode(),
                "chain_hash": base64.b64encode(self.chain_hash).decode(),
                "signature": base64.b64encode(self.signature).decode(),
                "key_id": self.key_id,
            },
            sort_keys=True,
            separators=(",", ":"),
        )


def signing_key_from_seed(seed: bytes) -> Ed25519PrivateKey:
    """The audit signing key derived from a secret of at least 32 bytes (HKDF-SHA256, audit-specific info)."""
    if not isinstance(seed, bytes) or len(seed) < 32:
        raise ConfigurationError(
            "監査署名鍵の種は 32 バイト以上必要です",
            "the audit signing seed must be at least 32 bytes",
            code="configuration",
        )
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_SEED_INFO).derive(seed)
    return Ed25519PrivateKey.from_private_bytes(derived)


def public_key_raw(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def _stored(row: Row[Any]) -> StoredEntry:
    m = row._mapping
    return StoredEntry(
        seq=int(m["seq"]),
        at=parse_at(m["at"]),
        actor=m["actor"],
        actor_role=m["actor_role"],
        action=m["action"],
        purpose=m["purpose"],
        subject_ids=tuple(json.loads(m["subject_ids"])),
        fields=tuple(json.loads(m["fields"])),
        decision=m["decision"],
        rule_ids=tuple(json.loads(m["rule_ids"])),
        reason=m["reason"],
        details=dict(json.loads(m["details"])),
        leaf_hash=bytes(m["leaf_hash"]),
        chain_hash=bytes(m["chain_hash"]),
    )


def _checkpoint(row: Row[Any]) -> Checkpoint:
    m = row._mapping
    return Checkpoint(
        tree_size=int(m["tree_size"]),
        at=parse_at(m["at"]),
        root_hash=bytes(m["root_hash"]),
        chain_hash=bytes(m["chain_hash"]),
        signature=bytes(m["signature"]),
        key_id=m["key_id"],
    )


@dataclass(eq=False)
class _Pending:
    """One caller's entries waiting for a group commit."""

    rows: list[dict[str, Any]]
    wake: threading.Event = field(default_factory=threading.Event)
    done: bool = False
    seqs: list[int] = field(default_factory=list)
    error: BaseException | None = None


class AuditWriter:
    """Appends to the audit chain and signs checkpoints. Thread-safe (no state besides its configuration)."""

    def __init__(
        self,
        engine: Engine,
        signing_key: Ed25519PrivateKey,
        clock: Clock,
        *,
        checkpoint_every: int = 1000,
        anchor_path: Path | None = None,
    ) -> None:
        if checkpoint_every < 1:
            raise ConfigurationError(
                "監査チェックポイント間隔は 1 以上です",
                "audit_checkpoint_every must be at least 1",
            )
        self.engine = engine
        self._key = signing_key
        self.clock = clock
        self.checkpoint_every = checkpoint_every
        self.anchor_path = anchor_path
        self._mutex = threading.Lock()
        self._queue: list[_Pending] = []
        self._leading = False
        self._public_raw = public_key_raw(signing_key)
        self.key_id = key_id(self._public_raw)

    # -- schema ----------------------------------------------------------------------------------------------
    def init_schema(self) -> None:
        """Create the audit tables and the head row if missing. Idempotent, safe from several processes."""
        with self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": SCHEMA_LOCK_KEY})
            AuditBase.metadata.create_all(conn)
            if conn.execute(select(HEAD.c.id).where(HEAD.c.id == HEAD_ID)).first() is not None:
                return
            if conn.execute(select(ENTRIES.c.seq).limit(1)).first() is not None:
                raise IntegrityFailure(
                    "監査ログの先頭行がありません（エントリーは存在します）",
                    "the audit head row is missing although entries exist",
                    code="audit_head_missing",
                )
            conn.execute(insert(HEAD).values(id=HEAD_ID, last_seq=0, chain_hash=ZERO_HASH, frontier=b""))

    def public_key_bytes(self) -> bytes:
        """The raw 32-byte Ed25519 public key that verifies this writer's checkpoints (pin it)."""
        return self._public_raw

    # -- appending -------------------------------------------------------------------------------------------
    def _lock_head(self, conn: Connection) -> tuple[int, bytes, list[bytes]]:
        # Write the head row first: a row lock on PostgreSQL, the database write lock on SQLite.
        touched = conn.execute(
            update(HEAD).where(HEAD.c.id == HEAD_ID).values(last_seq=HEAD.c.last_seq)
        ).rowcount
        row = conn.execute(
            select(HEAD.c.last_seq, HEAD.c.chain_hash, HEAD.c.frontier).where(HEAD.c.id == HEAD_ID)
        ).first()
        if not touched or row is None:
            raise ConfigurationError(
                "監査ログが初期化されていません（mamori init）",
                "the audit log is not initialised (run mamori init)",
                code="audit_not_initialised",
            )
        last_seq = int(row.last_seq)
        try:
            frontier = unpack_frontier(bytes(row.frontier), last_seq)
        except ValueError:
            raise IntegrityFailure(
                "監査ログの先頭行が壊れています",
                "the audit head row is corrupt",
                code="audit_head_corrupt",
            ) from None
        return last_seq, bytes(row.chain_hash), frontier

    def append(self, entries: Sequence[AuditEntry]) -> list[int]:
        """Append entries on the audit database; they are committed when this returns. Returns their seqs.

        Group commit: when several threads of this process append at once, one of them (the leader) writes every
        queued entry in a single transaction — one fsync for all — and each caller returns only once its own
        entries are committed. Appends from other processes are still serialised by the head row."""
        if not entries:
            return []
        me = _Pending(self._prepare(entries))
        with self._mutex:
            self._queue.append(me)  # exactly once: a leader takes it from here
        while True:
            with self._mutex:
                if me.done:
                    break
                lead = not self._leading
                if lead:  # nobody is writing, so `me` is still queued
                    self._leading = True
                    batch, self._queue = self._queue, []
            if not lead:
                me.wake.wait()
                me.wake.clear()
                continue
            rows = [row for p in batch for row in p.rows]
            try:
                seqs = self._write(rows)
            except BaseException as exc:
                for p in batch:
                    p.error = exc
            else:
                at = 0
                for p in batch:
                    p.seqs = seqs[at : at + len(p.rows)]
                    at += len(p.rows)
            with self._mutex:
                for p in batch:
                    p.done = True
                    p.wake.set()
                self._leading = False
                if self._queue:
                    self._queue[0].wake.set()  # hand the lead to the next waiting caller
        if me.error is not None:
            raise me.error
        return me.seqs

    def _prepare(self, entries: Sequence[AuditEntry]) -> list[dict[str, Any]]:
        """Validate and encode entries (the caller's own errors surface here, before any queueing)."""
        now = self.clock.now()
        prepared: list[dict[str, Any]] = []
        for entry in entries:
            if not isinstance(entry, AuditEntry):
                raise _invalid("entry", "AuditEntry ではありません", "not an AuditEntry")
            at = entry.at if entry.at is not None else now
            try:
                at_text = format_at(at)
            except ValueError:
                raise _invalid(
                    "at", "タイムゾーン付きの日時が必要です", "must be an aware datetime"
                ) from None
            prepared.append(
                {
                    "at": at_text,
                    "actor": entry.actor,
                    "actor_role": entry.actor_role,
                    "action": entry.action,
                    "purpose": entry.purpose,
                    "subject_ids": encode_list(entry.subject_ids),
                    "fields": encode_list(entry.fields),
                    "decision": entry.decision,
                    "rule_ids": encode_list(entry.rule_ids),
                    "reason": entry.reason,
                    "details": encode_details(entry.details),
                }
            )
        return prepared

    def _write(self, prepared: list[dict[str, Any]]) -> list[int]:
        """One transaction: lock the head, chain the rows, insert, move the head, maybe checkpoint."""
        checkpoint: Checkpoint | None = None
        with self.engine.begin() as conn:
            first_seq, chain, frontier = self._lock_head(conn)
            seq = first_seq
            for row in prepared:
                seq += 1
                leaf = leaf_hash(
                    canonical_bytes(
                        seq=seq,
                        at=row["at"],
                        actor=row["actor"],
                        actor_role=row["actor_role"],
                        action=row["action"],
                        purpose=row["purpose"],
                        subject_ids_json=row["subject_ids"],
                        fields_json=row["fields"],
                        decision=row["decision"],
                        rule_ids_json=row["rule_ids"],
                        reason=row["reason"],
                        details_json=row["details"],
                    )
                )
                chain = chain_hash(chain, leaf)
                frontier_append(frontier, seq - 1, leaf)
                row["seq"] = seq
                row["leaf_hash"] = leaf
                row["chain_hash"] = chain
            conn.execute(insert(ENTRIES), prepared)
            conn.execute(
                update(HEAD)
                .where(HEAD.c.id == HEAD_ID)
                .values(last_seq=seq, chain_hash=chain, frontier=pack_frontier(frontier))
            )
            if seq // self.checkpoint_every > first_seq // self.checkpoint_every:
                checkpoint = self._sign(conn, seq, frontier_root(frontier), chain)
        if checkpoint is not None:
            self._anchor(checkpoint)
        return list(range(first_seq + 1, seq + 1))

    # -- checkpoints -----------------------------------------------------------------------------------------
    def _sign(self, conn: Connection, tree_size: int, root: bytes, chain: bytes) -> Checkpoint:
        at = self.clock.now()
        at_text = format_at(at)
        signature = self._key.sign(checkpoint_message(tree_size, root, chain, at_text))
        conn.execute(
            insert(CHECKPOINTS).values(
                tree_size=tree_size,
                at=at_text,
                root_hash=root,
                chain_hash=chain,
                signature=signature,
                key_id=self.key_id,
            )
        )
        return Checkpoint(tree_size, parse_at(at_text), root, chain, signature, self.key_id)

    def _anchor(self, checkpoint: Checkpoint) -> None:
        if self.anchor_path is None:
            return
        try:
            self.anchor_path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.anchor_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, (checkpoint.anchor_line() + "\n").encode())
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            raise ConfigurationError(
                "監査アンカーファイルに書き込めません",
                f"cannot write the audit anchor file ({exc.strerror})",
                code="audit_anchor_unwritable",
            ) from None

    def checkpoint(self) -> Checkpoint:
        """Sign the current tree head now (or return the existing checkpoint of this size) and anchor it."""
        with self.engine.begin() as conn:
            tree_size, chain, frontier = self._lock_head(conn)
            existing = conn.execute(select(CHECKPOINTS).where(CHECKPOINTS.c.tree_size == tree_size)).first()
            if existing is not None:
                return _checkpoint(existing)
            made = self._sign(conn, tree_size, frontier_root(frontier), chain)
        self._anchor(made)
        return made

    def checkpoints(self) -> list[Checkpoint]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(CHECKPOINTS).order_by(CHECKPOINTS.c.tree_size)).all()
        return [_checkpoint(r) for r in rows]

    # -- reading ---------------------------------------------------------------------------------------------
    def tail(self, n: int) -> list[StoredEntry]:
        """The newest ``n`` entries, newest last."""
        if n < 0:
            raise ValidationFailed("件数が不正です", "n must not be negative", details={"field": "n"})
        if n == 0:
            return []
        with self.engine.connect() as conn:
            rows = conn.execute(select(ENTRIES).order_by(ENTRIES.c.seq.desc()).limit(n)).all()
        return [_stored(r) for r in reversed(rows)]

    def entries(
        self, subject_id: str | None = None, *, limit: int = 100, after_seq: int = 0
    ) -> list[StoredEntry]:
        """Entries with ``seq > after_seq`` in seq order, at most ``limit``; only those naming ``subject_id``.

        Cost: the subject filter is a ``LIKE`` prefilter on the JSON text of ``subject_ids`` (a scan of the rows
        after ``after_seq``, no index), confirmed in Python after decoding. Fine for rights requests and audits
        of up to a few million entries; a subject index table would be the next step.
        """
        if not 1 <= limit <= 100_000:
            raise ValidationFailed("件数が不正です", "limit must be 1..100000", details={"field": "limit"})
        if after_seq < 0:
            raise ValidationFailed(
                "開始位置が不正です", "after_seq must not be negative", details={"field": "after_seq"}
            )
        if subject_id is not None:
            _check_text("subject_id", subject_id)
        found: list[StoredEntry] = []
        cursor = after_seq
        chunk = max(limit, 500) if subject_id is not None else limit
        with self.engine.connect() as conn:
            while len(found) < limit:
                stmt = select(ENTRIES).where(ENTRIES.c.seq > cursor).order_by(ENTRIES.c.seq).limit(chunk)
                if subject_id is not None:
                    token = encode_list([subject_id])[1:-1]
                    escaped = token.replace("!", "!!").replace("%", "!%").replace("_", "!_")
                    stmt = stmt.where(ENTRIES.c.subject_ids.like(f"%{escaped}%", escape="!"))
                rows = conn.execute(stmt).all()
                for row in rows:
                    item = _stored(row)
                    if subject_id is None or subject_id in item.subject_ids:
                        found.append(item)
                        if len(found) == limit:
                            break
                if len(rows) < chunk:
                    break
                cursor = int(rows[-1].seq)
        return found
