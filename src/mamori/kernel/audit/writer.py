"""The audit writer: appends entries to the hash chain on its own connection and signs checkpoints.

Each :meth:`AuditWriter.append` call is one short transaction on the audit database, committed before it
returns, so a rolled-back business transaction cannot erase the read and denial entries it produced. Appends
are serialised by first *writing* the single ``audit_head`` row: on PostgreSQL that row lock queues concurrent
appenders (READ COMMITTED: the following SELECT then sees the winner's commit); on SQLite the engine from
:func:`mamori.kernel.db.make_engine` already opens every transaction with ``BEGIN IMMEDIATE``, and the head
write would take the database write lock anyway. Two processes appending at once therefore never fork the chain.

Keyed: every entry carries ``HMAC-SHA256(mac_key, label || seq || chain_hash)`` and the head row a MAC over its
state, so a chain rebuilt from the files alone (plain ``sqlite3`` + ``hashlib``) does not verify. The writer checks
the head row's MAC before extending it, so it never launders a forged head.

Checkpoints (signed tree heads) are made when an append crosses a multiple of ``checkpoint_every``, when the
newest checkpoint is older than ``checkpoint_minutes`` at append time, and by :meth:`AuditWriter.checkpoint_if_due`
(called when a runtime closes and periodically by the API server). Each one is appended to the anchor file (which
must lie outside ``MAMORI_HOME``) and, optionally, sent to syslog as a second witness.

A new log is never empty: :meth:`AuditWriter.init_schema` writes a genesis entry and anchors a checkpoint of it.

An entry never holds a personal value (see :class:`AuditEntry`); ``reason`` must be a short code.
"""

from __future__ import annotations

import hmac
import json
import logging
import os
import sys
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from logging.handlers import SysLogHandler
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Connection, LargeBinary, bindparam, func, insert, inspect, or_, select, text, update
from sqlalchemy.engine import Engine

from mamori.kernel.audit.chain import (
    MAC_SIZE,
    ZERO_HASH,
    canonical_bytes,
    chain_hash,
    checkpoint_message,
    encode_details,
    encode_list,
    entry_mac,
    format_at,
    frontier_append,
    frontier_root,
    head_mac,
    key_id,
    leaf_hash,
    pack_frontier,
    parse_at,
    unpack_frontier,
)
from mamori.kernel.audit.entries import (
    AuditEntry,
    Checkpoint,
    StoredEntry,
    _check_text,
    _checkpoint,
    _invalid,
    _stored,
    public_key_raw,
)
from mamori.kernel.audit.models import ACTOR_AT_INDEX, CHECKPOINTS, ENTRIES, HEAD, HEAD_ID, AuditBase
from mamori.kernel.clock import Clock
from mamori.kernel.errors import ConfigurationError, IntegrityFailure, ValidationFailed

SCHEMA_LOCK_KEY = 0x6D616D6F72690A  # pg_advisory_xact_lock key for init_schema ("mamori\n")
GENESIS_ACTION = "audit.genesis"

_log = logging.getLogger("mamori.audit")


@dataclass(eq=False)
class _Pending:
    """One caller's entries waiting for a group commit."""

    rows: list[dict[str, Any]]
    wake: threading.Event = field(default_factory=threading.Event)
    done: bool = False
    seqs: list[int] = field(default_factory=list)
    error: BaseException | None = None


def _inside(path: Path, home: Path) -> bool:
    """``path`` is ``home`` or lies under it (both resolved, so symlinks and ``..`` do not hide it)."""
    target = path.expanduser().resolve()
    root = home.expanduser().resolve()
    return target == root or target.is_relative_to(root)


def _syslog_address(value: str) -> str | tuple[str, int]:
    """A unix socket path (``/dev/log``) or ``host:port`` (UDP; ``[::1]:514`` for IPv6)."""
    host, sep, port = value.rpartition(":")
    if sep and host and port.isdigit() and not value.startswith("/"):
        return host.strip("[]"), int(port)
    return value


class _SyslogWitness(SysLogHandler):
    """A SysLogHandler that remembers a failed send instead of printing a traceback."""

    failed: str | None = None

    def handleError(self, record: logging.LogRecord) -> None:
        exc = sys.exc_info()[1]
        self.failed = (getattr(exc, "strerror", None) or type(exc).__name__) if exc else "error"


# The statements of every append, built once (compiled once per process: the append is on every read's path).
_TOUCH_HEAD = update(HEAD).where(HEAD.c.id == HEAD_ID).values(last_seq=HEAD.c.last_seq)
_READ_HEAD = select(HEAD.c.last_seq, HEAD.c.chain_hash, HEAD.c.frontier, HEAD.c.mac).where(
    HEAD.c.id == HEAD_ID
)
_INSERT_ENTRIES = insert(ENTRIES)
_MOVE_HEAD = (
    update(HEAD)
    .where(HEAD.c.id == HEAD_ID)
    .values(
        last_seq=bindparam("n_seq"),
        chain_hash=bindparam("n_chain"),
        frontier=bindparam("n_frontier"),
        mac=bindparam("n_mac"),
    )
)


class AuditWriter:
    """Appends to the audit chain and signs checkpoints. Thread-safe (its state is its configuration, a cache of
    the newest checkpoint's time and the group-commit queue).

    - ``mac_key``: the 32-byte secret that keys every entry and the head row (``keystore.system_key("audit_mac")``);
    - ``checkpoint_every`` / ``checkpoint_minutes``: sign a checkpoint when an append crosses a multiple of N, or
      when the newest checkpoint is older than T minutes at append time (``None``: count only);
    - ``anchor_path``: the anchor file (one JSON line per checkpoint); refused inside ``home`` when given;
    - ``anchor_syslog``: a second witness — a syslog socket path (``/dev/log``) or ``host:port`` (UDP).
    """

    def __init__(
        self,
        engine: Engine,
        signing_key: Ed25519PrivateKey,
        clock: Clock,
        *,
        mac_key: bytes,
        checkpoint_every: int = 100,
        checkpoint_minutes: float | None = 5.0,
        anchor_path: Path | None = None,
        anchor_syslog: str | None = None,
        home: Path | None = None,
    ) -> None:
        if checkpoint_every < 1:
            raise ConfigurationError(
                "監査チェックポイント間隔は 1 以上です",
                "audit_checkpoint_every must be at least 1",
            )
        if checkpoint_minutes is not None and not checkpoint_minutes > 0:
            raise ConfigurationError(
                "監査チェックポイントの時間間隔（分）は正の数です",
                "audit_checkpoint_minutes must be positive",
            )
        if not isinstance(mac_key, bytes) or len(mac_key) != MAC_SIZE:
            raise ConfigurationError(
                "監査ログの MAC 鍵は 32 バイトです",
                "the audit MAC key must be 32 bytes",
                code="audit_mac_key",
            )
        if anchor_path is not None and home is not None and _inside(anchor_path, home):
            raise ConfigurationError(
                f"監査アンカーファイル（{anchor_path}）が MAMORI_HOME の中にあります。データと一緒に書き換えられない"
                "場所（別のボリューム、MAMORI_AUDIT_ANCHOR）を指定してください",
                f"the audit anchor file ({anchor_path}) is inside MAMORI_HOME; put it where a copy of the data "
                "directory cannot rewrite it (another volume, MAMORI_AUDIT_ANCHOR)",
                code="anchor_inside_home",
            )
        self.engine = engine
        self._key = signing_key
        self._mac_key = mac_key
        self.clock = clock
        self.checkpoint_every = checkpoint_every
        self.checkpoint_minutes = checkpoint_minutes
        self.anchor_path = anchor_path
        self.anchor_syslog = anchor_syslog
        self.wrote_entries = False  # this writer committed at least one append (the runtime anchors on close)
        self._newest_checkpoint_at: datetime | None = None
        self._mutex = threading.Lock()
        self._queue: list[_Pending] = []
        self._leading = False
        self._public_raw = public_key_raw(signing_key)
        self.key_id = key_id(self._public_raw)

    # -- schema ----------------------------------------------------------------------------------------------
    def init_schema(self) -> None:
        """Create the audit tables and the head row if missing; start a new log with its genesis entry.

        Idempotent and safe from several processes. A log created before entries were keyed gets its ``mac``
        columns added (its old entries stay unkeyed, which verify reports). A new (or empty) log gets a genesis
        entry and a signed, anchored checkpoint of it, so a real log is never empty.
        """
        made: Checkpoint | None = None
        with self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": SCHEMA_LOCK_KEY})
            AuditBase.metadata.create_all(conn)
            ACTOR_AT_INDEX.create(conn, checkfirst=True)  # a log created before issue 22 gets the index too
            head_column_added = self._add_mac_columns(conn)
            head = conn.execute(select(HEAD).where(HEAD.c.id == HEAD_ID)).first()
            if head is None:
                if conn.execute(select(ENTRIES.c.seq).limit(1)).first() is not None:
                    raise IntegrityFailure(
                        "監査ログの先頭行がありません（エントリーは存在します）",
                        "the audit head row is missing although entries exist",
                        code="audit_head_missing",
                    )
                conn.execute(
                    insert(HEAD).values(
                        id=HEAD_ID,
                        last_seq=0,
                        chain_hash=ZERO_HASH,
                        frontier=b"",
                        mac=head_mac(self._mac_key, 0, ZERO_HASH, b""),
                    )
                )
                last_seq = 0
            else:
                last_seq = int(head.last_seq)
                if head_column_added:
                    # Upgrading an unkeyed log in place: the head is trusted as it stands now (its entries are not
                    # keyed and verify says so); from here on every append is keyed.
                    conn.execute(
                        update(HEAD)
                        .where(HEAD.c.id == HEAD_ID)
                        .values(
                            mac=head_mac(
                                self._mac_key, last_seq, bytes(head.chain_hash), bytes(head.frontier)
                            )
                        )
                    )
            if last_seq == 0:
                genesis = AuditEntry(
                    actor="system",
                    actor_role="system",
                    action=GENESIS_ACTION,
                    purpose=None,
                    subject_ids=(),
                    fields=(),
                    decision="info",
                    details={"key_id": self.key_id},
                )
                _, made = self._append_rows(conn, self._prepare([genesis]), force_checkpoint=True)
        if made is not None:
            self.wrote_entries = True
            self._anchor(made)

    @staticmethod
    def _add_mac_columns(conn: Connection) -> bool:
        """Add the ``mac`` column to tables made before it existed; True when the head table got it now."""
        inspector = inspect(conn)
        blob = LargeBinary().compile(dialect=conn.dialect)
        head_added = False
        for table in (ENTRIES, HEAD):
            if "mac" not in {c["name"] for c in inspector.get_columns(table.name)}:
                conn.execute(text(f"ALTER TABLE {table.name} ADD COLUMN mac {blob}"))
                head_added = head_added or table is HEAD
        return head_added

    def public_key_bytes(self) -> bytes:
        """The raw 32-byte Ed25519 public key that verifies this writer's checkpoints (pin it)."""
        return self._public_raw

    # -- appending -------------------------------------------------------------------------------------------
    def _lock_head(self, conn: Connection) -> tuple[int, bytes, list[bytes]]:
        # Write the head row first: a row lock on PostgreSQL, the database write lock on SQLite.
        touched = conn.execute(_TOUCH_HEAD).rowcount
        row = conn.execute(_READ_HEAD).first()
        if not touched or row is None:
            raise ConfigurationError(
                "監査ログが初期化されていません（mamori init）",
                "the audit log is not initialised (run mamori init)",
                code="audit_not_initialised",
            )
        last_seq = int(row.last_seq)
        chain = bytes(row.chain_hash)
        packed = bytes(row.frontier)
        try:
            frontier = unpack_frontier(packed, last_seq)
        except ValueError:
            raise IntegrityFailure(
                "監査ログの先頭行が壊れています",
                "the audit head row is corrupt",
                code="audit_head_corrupt",
            ) from None
        if row.mac is None or not hmac.compare_digest(
            head_mac(self._mac_key, last_seq, chain, packed), bytes(row.mac)
        ):
            # Never extend (and so re-key) a head someone else wrote: that would launder a truncation.
            raise IntegrityFailure(
                "監査ログの先頭行の MAC が一致しません（改ざんの可能性）。mamori audit verify で確認してください",
                "the audit head row's MAC does not match (possible tampering); run mamori audit verify",
                code="audit_head_mac",
            )
        return last_seq, chain, frontier

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
        with self.engine.begin() as conn:
            seqs, checkpoint = self._append_rows(conn, prepared)
        self.wrote_entries = True
        if checkpoint is not None:
            self._anchor(checkpoint)
        return seqs

    def _append_rows(
        self, conn: Connection, prepared: list[dict[str, Any]], *, force_checkpoint: bool = False
    ) -> tuple[list[int], Checkpoint | None]:
        """Inside the caller's transaction: chain, key and insert the rows, move the head, maybe sign."""
        first_seq, chain, frontier = self._lock_head(conn)
        mac_key = self._mac_key
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
            row["mac"] = entry_mac(mac_key, seq, chain)
        conn.execute(_INSERT_ENTRIES, prepared)
        packed = pack_frontier(frontier)
        conn.execute(
            _MOVE_HEAD,
            {
                "n_seq": seq,
                "n_chain": chain,
                "n_frontier": packed,
                "n_mac": head_mac(mac_key, seq, chain, packed),
            },
        )
        due = (
            force_checkpoint
            or seq // self.checkpoint_every > first_seq // self.checkpoint_every
            or self._time_due(conn)
        )
        checkpoint = self._sign(conn, seq, frontier_root(frontier), chain) if due else None
        return list(range(first_seq + 1, seq + 1)), checkpoint

    def _time_due(self, conn: Connection) -> bool:
        """The newest checkpoint is older than ``checkpoint_minutes`` (or there is none)."""
        if self.checkpoint_minutes is None:
            return False
        limit = timedelta(minutes=self.checkpoint_minutes)
        now = self.clock.now()
        cached = self._newest_checkpoint_at  # only ever too old (another process may have signed since)
        if cached is not None and now - cached < limit:
            return False
        newest = conn.execute(
            select(CHECKPOINTS.c.at).order_by(CHECKPOINTS.c.tree_size.desc()).limit(1)
        ).scalar()
        if newest is None:
            return True
        self._newest_checkpoint_at = parse_at(newest)
        return now - self._newest_checkpoint_at >= limit

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
        made = Checkpoint(tree_size, parse_at(at_text), root, chain, signature, self.key_id)
        self._newest_checkpoint_at = made.at
        return made

    def _anchor(self, checkpoint: Checkpoint) -> None:
        """Append the checkpoint to the anchor file (fsynced) and send it to the syslog witness, if any."""
        line = checkpoint.anchor_line()
        if self.anchor_syslog:
            self._witness(self.anchor_syslog, line)
        if self.anchor_path is None:
            return
        try:
            self.anchor_path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.anchor_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, (line + "\n").encode())
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            raise ConfigurationError(
                "監査アンカーファイルに書き込めません",
                f"cannot write the audit anchor file ({exc.strerror})",
                code="audit_anchor_unwritable",
            ) from None

    @staticmethod
    def _witness(address: str, line: str) -> None:
        """Send one anchor line to syslog (a second witness). A failure is logged, never raised: the anchor file
        stays the primary record, and an unreachable syslog must not stop audited work."""
        try:
            handler = _SyslogWitness(address=_syslog_address(address), facility=SysLogHandler.LOG_AUTH)
        except OSError as exc:
            _log.warning("audit anchor not sent to syslog: %s", exc.strerror or type(exc).__name__)
            return
        try:
            handler.ident = "mamori-audit: "
            handler.emit(
                logging.makeLogRecord(
                    {"name": "mamori.audit.anchor", "msg": line, "levelno": logging.INFO, "levelname": "INFO"}
                )
            )
        finally:
            handler.close()
        if handler.failed:
            _log.warning("audit anchor not sent to syslog: %s", handler.failed)

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

    def checkpoint_if_due(self) -> Checkpoint | None:
        """Sign and anchor a checkpoint only if entries were appended after the newest one; else None.

        The runtime calls this when it closes (so each CLI process anchors what it wrote) and the API server
        every ``checkpoint_minutes``."""
        with self.engine.begin() as conn:
            tree_size, chain, frontier = self._lock_head(conn)
            newest = conn.execute(select(func.max(CHECKPOINTS.c.tree_size))).scalar()
            if tree_size == 0 or (newest is not None and int(newest) >= tree_size):
                return None
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

    def search(
        self,
        *,
        actors: Sequence[str] = (),
        action: str | None = None,
        decision: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        subject_id: str | None = None,
        before: int | None = None,
        limit: int = 100,
    ) -> list[StoredEntry]:
        """The newest entries (``seq < before``), newest first, at most ``limit``, matching every filter given:
        an actor label among ``actors``, ``action`` itself or any action under it (``rights`` → ``rights.*``),
        the decision, ``since <= at < until``, and ``subject_id`` among the subjects (a ``LIKE`` prefilter on the
        JSON text, confirmed after decoding, as :meth:`entries`)."""
        if not 1 <= limit <= 100_000:
            raise ValidationFailed("件数が不正です", "limit must be 1..100000", details={"field": "limit"})
        stmt = select(ENTRIES)
        if actors:
            stmt = stmt.where(ENTRIES.c.actor.in_(list(actors)))
        if action:
            stmt = stmt.where(
                or_(
                    ENTRIES.c.action == action,
                    ENTRIES.c.action.like(_like_escaped(action) + ".%", escape="!"),
                )
            )
        if decision:
            stmt = stmt.where(ENTRIES.c.decision == decision)
        if since is not None:
            stmt = stmt.where(ENTRIES.c.at >= format_at(since))
        if until is not None:
            stmt = stmt.where(ENTRIES.c.at < format_at(until))
        if subject_id is not None:
            _check_text("subject_id", subject_id)
            token = encode_list([subject_id])[1:-1]  # "<id>" with its quotes, as stored in the JSON list
            stmt = stmt.where(ENTRIES.c.subject_ids.like(f"%{_like_escaped(token)}%", escape="!"))
        found: list[StoredEntry] = []
        cursor = before
        chunk = max(limit, 500) if subject_id is not None else limit
        with self.engine.connect() as conn:
            while len(found) < limit:
                page = stmt if cursor is None else stmt.where(ENTRIES.c.seq < cursor)
                rows = conn.execute(page.order_by(ENTRIES.c.seq.desc()).limit(chunk)).all()
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

    def by_seqs(self, seqs: Sequence[int]) -> list[StoredEntry]:
        """The entries with these sequence numbers, in seq order (the entries an alert names, issue 25); a number
        not in the log is left out. At most 100,000 numbers."""
        wanted = sorted({int(s) for s in seqs})
        if len(wanted) > 100_000:
            raise ValidationFailed("件数が不正です", "at most 100000 entries", details={"field": "seqs"})
        found: list[StoredEntry] = []
        with self.engine.connect() as conn:
            for start in range(0, len(wanted), 2000):
                part = wanted[start : start + 2000]
                rows = conn.execute(
                    select(ENTRIES).where(ENTRIES.c.seq.in_(part)).order_by(ENTRIES.c.seq)
                ).all()
                found.extend(_stored(row) for row in rows)
        return found

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
                    stmt = stmt.where(ENTRIES.c.subject_ids.like(f"%{_like_escaped(token)}%", escape="!"))
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

    def reads(
        self,
        actor: str | Sequence[str],
        since: datetime,
        until: datetime,
        *,
        via: str | None = None,
        decision: str | Sequence[str] = "allow",
        actions: Sequence[str] = (),
        chunk: int = 5000,
    ) -> Iterator[ActorEntry]:
        """What ``actor`` (one label, or several: the same person as staff and as an outsourcee) did between
        ``since`` (inclusive) and ``until`` (exclusive), oldest first (label by label): the entries with one of the decisions (and
        one of ``actions`` when given), and — with ``via`` (``session:<id>`` / ``token:<id>``) — only those made
        through that credential (issue 22: an incident's scope).

        Read through the ``ix_audit_entries_actor_at`` index (an equality on the actor, a range on the time), in
        chunks of ``chunk`` rows on short connections (keyset on (at, seq)). ``via`` is matched on the details'
        canonical JSON text (``"via":"token:…"`` with both quotes): exact, since the details are a flat object
        whose string values have their quotes escaped. Only the columns a reader needs are fetched, and their
        JSON is decoded when asked for (:class:`ActorEntry`)."""
        labels = [actor] if isinstance(actor, str) else list(actor)
        for label in labels:
            _check_text("actor", label)
        if via is not None:
            _check_text("via", via)
        if not labels:
            return
        if not 1 <= chunk <= 100_000:
            raise ValidationFailed("件数が不正です", "chunk must be 1..100000", details={"field": "chunk"})
        decisions = [decision] if isinstance(decision, str) else list(decision)
        for label in labels:  # one equality per label: the index's order, no sort
            stmt = select(
                ENTRIES.c.seq,
                ENTRIES.c.at,
                ENTRIES.c.action,
                ENTRIES.c.decision,
                ENTRIES.c.subject_ids,
                ENTRIES.c.fields,
                ENTRIES.c.details,
            ).where(
                ENTRIES.c.actor == label,
                ENTRIES.c.at < format_at(until),
                ENTRIES.c.decision.in_(decisions),
            )
            if actions:
                stmt = stmt.where(ENTRIES.c.action.in_(list(actions)))
            if via is not None:
                token = encode_details({"via": via})[1:-1]  # "via":"token:…" as the canonical JSON holds it
                stmt = stmt.where(ENTRIES.c.details.like(f"%{_like_escaped(token)}%", escape="!"))
            stmt = stmt.order_by(ENTRIES.c.at, ENTRIES.c.seq).limit(chunk)
            last_at, last_seq = format_at(since), -1
            while True:
                page = stmt.where(  # the plain lower bound keeps the index range tight on both backends
                    ENTRIES.c.at >= last_at,
                    or_(ENTRIES.c.at > last_at, (ENTRIES.c.at == last_at) & (ENTRIES.c.seq > last_seq)),
                )
                with self.engine.connect() as conn:
                    rows = conn.execute(page).all()
                for row in rows:
                    yield ActorEntry(*row)
                if len(rows) < chunk:
                    break
                last_at, last_seq = rows[-1].at, int(rows[-1].seq)


def _decode_list(value: str) -> tuple[str, ...]:
    """A canonical JSON list of strings. Ids and field names carry no backslash, so ``["a","b"]`` splits on
    ``","`` exactly (a string holding a quote would be escaped: such text takes ``json.loads``)."""
    if value == "[]":
        return ()
    if "\\" not in value and value.startswith('["') and value.endswith('"]'):
        return tuple(value[2:-2].split('","'))
    return tuple(json.loads(value))


class ActorEntry:
    """One entry as :meth:`AuditWriter.reads` returns it: the columns a reader of an actor's work needs, the JSON
    ones decoded on first use (a scan of thousands of entries decodes only what it looks at)."""

    __slots__ = ("_details", "_fields", "_subjects", "action", "at_text", "decision", "seq")

    def __init__(
        self, seq: int, at: str, action: str, decision: str, subject_ids: str, fields: str, details: str
    ) -> None:
        self.seq = int(seq)
        self.at_text = at
        self.action = action
        self.decision = decision
        self._subjects: str | tuple[str, ...] = subject_ids
        self._fields: str | tuple[str, ...] = fields
        self._details: str | dict[str, Any] = details

    @property
    def at(self) -> datetime:
        return parse_at(self.at_text)

    @property
    def subject_ids(self) -> tuple[str, ...]:
        if isinstance(self._subjects, str):
            self._subjects = _decode_list(self._subjects)
        return self._subjects

    @property
    def fields(self) -> tuple[str, ...]:
        if isinstance(self._fields, str):
            self._fields = _decode_list(self._fields)
        return self._fields

    @property
    def details(self) -> dict[str, Any]:
        if isinstance(self._details, str):
            self._details = dict(json.loads(self._details))
        return self._details


def _like_escaped(text: str) -> str:
    """``text`` for a ``LIKE … ESCAPE '!'`` pattern: its wildcards taken literally."""
    return text.replace("!", "!!").replace("%", "!%").replace("_", "!_")
