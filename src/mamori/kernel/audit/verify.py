"""Verify the audit log end to end: every leaf, every chain link, every checkpoint and the external anchor.

The verifier trusts nothing stored next to the data: it recomputes each leaf hash from the stored columns, each
chain link from the recomputed leaves, and the Merkle root at every checkpoint and anchor line from the
recomputed leaves, checks the Ed25519 signatures against a pinned public key, and reports the first problem in
seq order with the seq of the first bad entry:

==================  =====================================================  ====================================
problem             what happened                                           ``first_bad_seq``
==================  =====================================================  ====================================
``leaf_mismatch``   a stored field (or the stored leaf hash) was changed    that entry
``chain_broken``    the stored chain hash (or the head row) was changed     that entry
``gap``             an entry was deleted (later rows renumbered or not)     the missing seq
``reorder``         rows were swapped / moved to another seq                the first misplaced position
``truncated``       a checkpoint, anchor line or the head names more        entries + 1
                    entries than the log holds
``bad_signature``   a checkpoint or anchor line is not signed by the key    first entry it should vouch for
``root_mismatch``   a validly signed checkpoint disagrees with the log      first entry it should vouch for
                    (entries rewritten with recomputed hashes)
``anchor_mismatch`` an anchor line disagrees with the log (log rebuilt)     first entry it should vouch for
==================  =====================================================  ====================================

"First entry it should vouch for" is one more than the tree size of the last checkpoint or anchor line that
verified before it: the verifier cannot say which entry a rewrite began at more exactly than the signed heads
allow. ``bad_checkpoint`` then names the tree size of the failing checkpoint or anchor line.

Entries are streamed in chunks of :data:`CHUNK` rows in one read snapshot (memory stays bounded: the Merkle
frontier is O(log n)); on SQLite the snapshot is a deferred read transaction, so appends are not blocked.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import json.encoder
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy import Connection, func, inspect, select, text
from sqlalchemy.engine import Engine

from mamori.kernel.audit.chain import (
    EMPTY_ROOT,
    ZERO_HASH,
    canonical_bytes,
    checkpoint_message,
    frontier_append,
    frontier_root,
    key_id,
    pack_frontier,
)
from mamori.kernel.audit.models import CHECKPOINTS, ENTRIES, HEAD, HEAD_ID
from mamori.kernel.db import make_engine
from mamori.kernel.errors import ValidationFailed

CHUNK = 20_000
REORDER_WINDOW = 64  # how far away a misplaced row's true seq is searched for

PROBLEMS = (
    "leaf_mismatch",
    "chain_broken",
    "gap",
    "reorder",
    "truncated",
    "bad_signature",
    "root_mismatch",
    "anchor_mismatch",
)


@dataclass(frozen=True)
class VerifyReport:
    ok: bool
    entries: int
    checkpoints: int
    first_bad_seq: int | None
    problem: str | None
    message_ja: str
    message_en: str
    bad_checkpoint: int | None = None  # tree size of the failing checkpoint / anchor line, if one failed
    anchors: int = 0  # anchor lines read


def _messages(problem: str, seq: int | None, size: int | None) -> tuple[str, str]:
    s = "?" if seq is None else str(seq)
    z = "?" if size is None else str(size)
    table = {
        "leaf_mismatch": (
            f"エントリー {s} の内容がハッシュと一致しません（改ざん）",
            f"entry {s}: the stored content does not match its leaf hash (tampered)",
        ),
        "chain_broken": (
            f"エントリー {s} でハッシュチェーンが切れています",
            f"the hash chain is broken at entry {s}",
        ),
        "gap": (f"エントリー {s} が欠落しています（削除）", f"entry {s} is missing (deleted)"),
        "reorder": (
            f"エントリー {s} の位置が入れ替えられています",
            f"entry {s} is out of place (entries reordered)",
        ),
        "truncated": (
            f"監査ログが切り詰められています（エントリー {s} 以降がありません）",
            f"the audit log was truncated: entries from {s} on are missing",
        ),
        "bad_signature": (
            f"チェックポイント（{z} 件）の署名が不正です。エントリー {s} 以降は保証されません",
            f"the checkpoint at tree size {z} has an invalid signature; entries from {s} on are not vouched for",
        ),
        "root_mismatch": (
            f"チェックポイント（{z} 件）がログと一致しません（エントリー {s}〜{z} の書き換え）",
            f"the checkpoint at tree size {z} does not match the log (entries {s}..{z} rewritten)",
        ),
        "anchor_mismatch": (
            f"外部アンカー（{z} 件）がログと一致しません（ログの作り直し：エントリー {s} 以降）",
            f"the external anchor at tree size {z} does not match the log (log rebuilt from entry {s})",
        ),
    }
    return table[problem]


@dataclass(frozen=True)
class _Signed:
    """A checkpoint row, an anchor line or the head row: something that claims the state at ``tree_size``."""

    tree_size: int
    kind: str  # "checkpoint" | "anchor" | "head"
    root_hash: bytes
    chain_hash: bytes
    at: str
    signature: bytes
    key_id: str
    frontier: bytes = b""
    line: int = 0  # anchor lines: position in the file (the file is chronological)


class _Problem(Exception):
    def __init__(self, problem: str, seq: int | None, size: int | None = None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.seq = seq
        self.size = size


def _public_key(public_key: Ed25519PublicKey | bytes) -> Ed25519PublicKey:
    if isinstance(public_key, Ed25519PublicKey):
        return public_key
    if isinstance(public_key, bytes) and len(public_key) == 32:
        return Ed25519PublicKey.from_public_bytes(public_key)
    raise ValidationFailed(
        "監査ログの公開鍵が不正です（Ed25519、32 バイト）",
        "invalid audit public key (Ed25519, 32 raw bytes)",
        code="invalid_input",
    )


def _read_anchor(path: Path) -> list[_Signed]:
    """Parse the anchor file; a torn final line (crash while appending) is ignored."""
    if not path.exists():
        return []
    raw = path.read_bytes()
    lines = raw.split(b"\n")
    out: list[_Signed] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
            out.append(
                _Signed(
                    tree_size=int(obj["tree_size"]),
                    kind="anchor",
                    line=number,
                    root_hash=base64.b64decode(obj["root_hash"], validate=True),
                    chain_hash=base64.b64decode(obj["chain_hash"], validate=True),
                    at=str(obj["at"]),
                    signature=base64.b64decode(obj["signature"], validate=True),
                    key_id=str(obj["key_id"]),
                )
            )
        except (ValueError, KeyError, TypeError, binascii.Error):
            if number == len(lines) and not raw.endswith(b"\n"):
                continue  # torn write of the last line
            raise _Problem("anchor_mismatch", None) from None
    return out


def _verify_signed(
    item: _Signed, key: Ed25519PublicKey, pinned_id: str, root: bytes, chain: bytes
) -> str | None:
    """None when the claim holds, else the problem code."""
    if item.kind == "head":
        if item.chain_hash != chain:
            return "chain_broken"
        return None
    if item.key_id != pinned_id:
        return "bad_signature"
    try:
        key.verify(
            item.signature, checkpoint_message(item.tree_size, item.root_hash, item.chain_hash, item.at)
        )
    except InvalidSignature:
        return "bad_signature"
    if item.root_hash != root or item.chain_hash != chain:
        return "root_mismatch" if item.kind == "checkpoint" else "anchor_mismatch"
    return None


def _snapshot_engine(engine: Engine) -> tuple[Engine, bool]:
    """An engine whose transactions are plain read snapshots (SQLite: deferred BEGIN, so writers go on)."""
    if engine.dialect.name == "sqlite":
        database = engine.url.database
        if database and database != ":memory:":
            return make_engine(engine.url.render_as_string(hide_password=False), immediate=False), True
    return engine, False


_SELECT_ENTRIES = (
    "SELECT seq, at, actor, actor_role, action, purpose, subject_ids, fields, decision, rule_ids, reason,"
    " details, leaf_hash, chain_hash FROM audit_entries ORDER BY seq"
)


def _row_at(conn: Connection, seq: int) -> Any:
    """The stored row at ``seq`` (only on the failure path, when it lies in the next chunk)."""
    return conn.execute(text(_SELECT_ENTRIES.replace(" ORDER BY seq", " WHERE seq = :s")), {"s": seq}).first()


def _pages(conn: Connection) -> Iterator[list[Any]]:
    """Every entry in seq order, :data:`CHUNK` rows at a time, straight from the driver (the hot path).

    SQLite steps through the table; PostgreSQL uses a server-side (named) cursor. Either way memory stays
    bounded, and the rows come from the same snapshot transaction as the counts and checkpoints.
    """
    dbapi: Any = conn.connection.dbapi_connection
    cursor = dbapi.cursor(name="mamori_audit_verify") if conn.dialect.name == "postgresql" else dbapi.cursor()
    try:
        cursor.execute(_SELECT_ENTRIES)
        while rows := cursor.fetchmany(CHUNK):
            yield rows
    finally:
        cursor.close()


def _leaf_at(row: Any, seq: int) -> bytes:
    return hashlib.sha256(
        b"\x00"
        + canonical_bytes(
            seq=seq,
            at=row[1],
            actor=row[2],
            actor_role=row[3],
            action=row[4],
            purpose=row[5],
            subject_ids_json=row[6],
            fields_json=row[7],
            decision=row[8],
            rule_ids_json=row[9],
            reason=row[10],
            details_json=row[11],
        )
    ).digest()


def _true_seq(row: Any, position: int) -> int | None:
    """The seq a misplaced row was written at (its stored leaf hash matches), searched near ``position``."""
    stored = bytes(row[12])
    for distance in range(1, REORDER_WINDOW + 1):
        for candidate in (position + distance, position - distance):
            if candidate >= 1 and _leaf_at(row, candidate) == stored:
                return candidate
    return None


def _stream(conn: Connection, key: Ed25519PublicKey, pinned_id: str, claims: list[_Signed]) -> int:
    """Walk the whole log; raise :class:`_Problem` at the first bad thing; return the number of entries."""
    claims = sorted(claims, key=lambda c: (c.tree_size, c.kind != "checkpoint", c.line))
    pending = 0
    confirmed: list[_Signed] = []  # checkpoints and anchor lines that verified, in tree-size order

    def first_unvouched(item: _Signed) -> int:
        """One past the largest tree size confirmed before ``item``: the first entry it may be wrong about.

        An anchor line is only bounded by earlier anchor lines (a rebuilt log's own checkpoints, or lines the
        rebuilt log appended later, do not vouch for the history an older line recorded); a checkpoint by any
        confirmed checkpoint or anchor line below its size.
        """
        sizes = [
            c.tree_size
            for c in confirmed
            if c.tree_size < item.tree_size
            and (item.kind != "anchor" or (c.kind == "anchor" and c.line < item.line))
        ]
        return max(sizes, default=0) + 1

    def settle(size: int, root: bytes, chain: bytes, frontier: list[bytes]) -> None:
        nonlocal pending
        while pending < len(claims) and claims[pending].tree_size == size:
            item = claims[pending]
            problem = _verify_signed(item, key, pinned_id, root, chain)
            if problem is None and item.kind == "head" and item.frontier != pack_frontier(frontier):
                problem = "root_mismatch"
            if problem is not None:
                if item.kind == "head":
                    raise _Problem(problem, size, size)
                raise _Problem(problem, first_unvouched(item), item.tree_size)
            if item.kind != "head":
                confirmed.append(item)
            pending += 1

    sha256 = hashlib.sha256
    q = json.encoder.encode_basestring
    expected = 1
    chain = ZERO_HASH
    frontier: list[bytes] = []
    settle(0, EMPTY_ROOT, ZERO_HASH, frontier)
    for rows in _pages(conn):
        for index, row in enumerate(rows):
            seq = row[0]
            if seq != expected:
                raise _Problem("gap", expected)
            # Inlined chain.canonical_bytes (the hot loop); test_audit_verify checks both agree.
            (_, at, actor, role, action, purpose, subjects, fields, decision, rules, reason, details) = row[
                :12
            ]
            leaf = sha256(
                (
                    f'\x00{{"action":{q(action)},"actor":{q(actor)},"actor_role":{q(role)},"at":{q(at)},'
                    f'"decision":{q(decision)},"details":{details},"fields":{fields},'
                    f'"purpose":{"null" if purpose is None else q(purpose)},'
                    f'"reason":{"null" if reason is None else q(reason)},'
                    f'"rule_ids":{rules},"seq":{seq},"subject_ids":{subjects}}}'
                ).encode()
            ).digest()
            if leaf != row[12]:
                true_seq = _true_seq(row, seq)
                if true_seq is None:
                    raise _Problem("leaf_mismatch", seq)
                following = rows[index + 1] if index + 1 < len(rows) else _row_at(conn, seq + 1)
                shifted = true_seq == seq + 1 and (
                    following is None or _true_seq(following, seq + 1) == seq + 2
                )
                raise _Problem("gap" if shifted else "reorder", seq)
            chain = sha256(b"\x01" + chain + leaf).digest()
            if chain != row[13]:
                raise _Problem("chain_broken", seq)
            frontier_append(frontier, seq - 1, leaf)
            expected += 1
            if pending < len(claims) and claims[pending].tree_size == seq:
                settle(seq, frontier_root(frontier), chain, frontier)
    total = expected - 1
    for item in claims:
        if item.kind == "head" and item.tree_size < total:
            # Rows beyond the head were not written by the writer (same snapshot, so not a concurrent append).
            raise _Problem("chain_broken", item.tree_size + 1)
    if pending < len(claims):
        # Every remaining claim names more entries than exist. A forged one is reported as such.
        for item in claims[pending:]:
            if item.kind != "head" and _verify_signed(item, key, pinned_id, b"", b"") == "bad_signature":
                raise _Problem("bad_signature", first_unvouched(item), item.tree_size)
        raise _Problem("truncated", total + 1, claims[pending].tree_size)
    return total


def _stream_nothing(key: Ed25519PublicKey, pinned_id: str, claims: list[_Signed]) -> None:
    """No audit tables at all: only an anchor can say something was there."""
    for item in sorted(claims, key=lambda c: (c.tree_size, c.line)):
        if item.tree_size == 0:
            problem = _verify_signed(item, key, pinned_id, EMPTY_ROOT, ZERO_HASH)
            if problem is not None:
                raise _Problem(problem, 1, 0)
            continue
        if _verify_signed(item, key, pinned_id, b"", b"") == "bad_signature":
            raise _Problem("bad_signature", 1, item.tree_size)
        raise _Problem("truncated", 1, item.tree_size)


def verify(
    engine: Engine, public_key: Ed25519PublicKey | bytes, anchor_path: Path | None = None
) -> VerifyReport:
    """Recompute the whole audit log and check it against its checkpoints and the external anchor file."""
    key = _public_key(public_key)
    pinned_id = key_id(key.public_bytes(Encoding.Raw, PublicFormat.Raw))
    snapshot, owned = _snapshot_engine(engine)
    total = 0
    n_checkpoints = 0
    n_anchors = 0
    try:
        with snapshot.connect() as conn:
            if conn.dialect.name == "postgresql":
                conn = conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                present = set(inspect(conn).get_table_names())
                has_schema = {"audit_entries", "audit_checkpoints", "audit_head"} <= present
                total = (
                    int(conn.execute(select(func.count()).select_from(ENTRIES)).scalar_one())
                    if has_schema
                    else 0
                )
                try:
                    claims = _read_anchor(anchor_path) if anchor_path is not None else []
                    n_anchors = len(claims)
                    if has_schema:
                        rows = conn.execute(select(CHECKPOINTS)).all()
                        n_checkpoints = len(rows)
                        claims += [
                            _Signed(
                                tree_size=int(r.tree_size),
                                kind="checkpoint",
                                root_hash=bytes(r.root_hash),
                                chain_hash=bytes(r.chain_hash),
                                at=r.at,
                                signature=bytes(r.signature),
                                key_id=r.key_id,
                            )
                            for r in rows
                        ]
                        head = conn.execute(select(HEAD).where(HEAD.c.id == HEAD_ID)).first()
                        if head is not None:
                            claims.append(
                                _Signed(
                                    tree_size=int(head.last_seq),
                                    kind="head",
                                    root_hash=b"",
                                    chain_hash=bytes(head.chain_hash),
                                    at="",
                                    signature=b"",
                                    key_id="",
                                    frontier=bytes(head.frontier),
                                )
                            )
                        _stream(conn, key, pinned_id, claims)
                    else:
                        _stream_nothing(key, pinned_id, claims)
                except _Problem as failure:
                    ja, en = _messages(failure.problem, failure.seq, failure.size)
                    return VerifyReport(
                        ok=False,
                        entries=total,
                        checkpoints=n_checkpoints,
                        first_bad_seq=failure.seq,
                        problem=failure.problem,
                        message_ja=ja,
                        message_en=en,
                        bad_checkpoint=failure.size
                        if failure.problem in {"bad_signature", "root_mismatch", "anchor_mismatch"}
                        else None,
                        anchors=n_anchors,
                    )
    finally:
        if owned:
            snapshot.dispose()
    return VerifyReport(
        ok=True,
        entries=total,
        checkpoints=n_checkpoints,
        first_bad_seq=None,
        problem=None,
        message_ja=f"検証 OK: エントリー {total} 件、チェックポイント {n_checkpoints} 件",
        message_en=f"verified: {total} entries, {n_checkpoints} checkpoints",
        anchors=n_anchors,
    )
