"""Verify the audit log end to end: every leaf, every chain link, every checkpoint and the external anchor.

The verifier trusts nothing stored next to the data: it recomputes each leaf hash from the stored columns, each
chain link from the recomputed leaves, each entry's MAC and the head row's MAC under the MAC key (a keystore
secret: someone holding only the files can recompute hashes but not MACs), and the Merkle root at every
checkpoint and anchor line from the recomputed leaves, checks the Ed25519 signatures against a pinned public key,
and reports the first problem in seq order with the seq of the first bad entry:

==================  =====================================================  ====================================
problem             what happened                                           ``first_bad_seq``
==================  =====================================================  ====================================
``missing``         the audit database file or its tables are gone          1
``empty``           the log holds no entry (not even its genesis entry)     1
``leaf_mismatch``   a stored field (or the stored leaf hash) was changed    that entry
``chain_broken``    the stored chain hash (or the head row) was changed     that entry
``bad_mac``         an entry's MAC is wrong or missing ("unkeyed"): the     that entry (head row: last seq + 1)
                    chain was rewritten or rebuilt without the key; or
                    the head row is missing or its MAC is wrong
``gap``             an entry was deleted (later rows renumbered or not)     the missing seq
``reorder``         rows were swapped / moved to another seq                the first misplaced position
``truncated``       a checkpoint, anchor line or the head names more        entries + 1
                    entries than the log holds
``bad_signature``   a checkpoint or anchor line is not signed by the key    first entry it should vouch for
``root_mismatch``   a validly signed checkpoint disagrees with the log      first entry it should vouch for
                    (entries rewritten with recomputed hashes)
``anchor_mismatch`` an anchor line disagrees with the log (log rebuilt)     first entry it should vouch for
==================  =====================================================  ====================================

``missing`` and ``empty`` fail always, with or without an anchor file (a real log starts with a genesis entry);
a SQLite file that does not exist is reported without being created.

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
import hmac
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
    ENTRY_MAC_LABEL,
    MAC_SIZE,
    ZERO_HASH,
    canonical_bytes,
    checkpoint_message,
    frontier_append,
    frontier_root,
    head_mac,
    key_id,
    pack_frontier,
)
from mamori.kernel.audit.models import CHECKPOINTS, ENTRIES, HEAD, HEAD_ID
from mamori.kernel.db import make_engine
from mamori.kernel.errors import ValidationFailed

CHUNK = 20_000
REORDER_WINDOW = 64  # how far away a misplaced row's true seq is searched for

PROBLEMS = (
    "missing",
    "empty",
    "leaf_mismatch",
    "chain_broken",
    "bad_mac",
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


def _messages(problem: str, seq: int | None, size: int | None, variant: str = "") -> tuple[str, str]:
    s = "?" if seq is None else str(seq)
    z = "?" if size is None else str(size)
    if problem == "bad_mac" and variant == "unkeyed":
        return (
            f"エントリー {s} に MAC がありません（鍵のないエントリー）",
            f"entry {s} has no MAC (unkeyed entry)",
        )
    if problem == "bad_mac" and variant == "head":
        return (
            f"監査ログの先頭行がないか MAC が一致しません（エントリー {s} 以降が削除された可能性）",
            f"the audit head row is missing or its MAC does not match (entries from {s} on may have been removed)",
        )
    table = {
        "missing": (
            f"監査ログのデータベースまたはテーブルがありません（削除）。エントリー {s} 以降を確認できません",
            f"the audit database or its tables are missing (deleted): entries from {s} on cannot be checked",
        ),
        "empty": (
            f"監査ログが空です（開始エントリーを含むエントリー {s} 以降がありません：削除）",
            f"the audit log is empty: entries from {s} on, including the genesis entry, are missing (deleted)",
        ),
        "bad_mac": (
            f"エントリー {s} の MAC が一致しません（鍵なしでの書き換え・作り直し）",
            f"entry {s}: its MAC does not match (rewritten or rebuilt without the key)",
        ),
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
    mac: bytes | None = None  # the head row's MAC


class _Problem(Exception):
    def __init__(self, problem: str, seq: int | None, size: int | None = None, variant: str = "") -> None:
        super().__init__(problem)
        self.problem = problem
        self.seq = seq
        self.size = size
        self.variant = variant  # bad_mac: "" (an entry), "unkeyed" (an entry without a MAC) or "head"


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


def _mac_key(mac_key: bytes) -> bytes:
    if isinstance(mac_key, bytes) and len(mac_key) == MAC_SIZE:
        return mac_key
    raise ValidationFailed(
        "監査ログの MAC 鍵が不正です（32 バイト）", "invalid audit MAC key (32 bytes)", code="invalid_input"
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


def _sqlite_file_missing(engine: Engine) -> bool:
    """A SQLite database file that does not exist (connecting would create it empty: never do that here)."""
    if engine.dialect.name != "sqlite":
        return False
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return False
    return not Path(database).exists()


_SELECT_ENTRIES = (
    "SELECT seq, at, actor, actor_role, action, purpose, subject_ids, fields, decision, rule_ids, reason,"
    " details, leaf_hash, chain_hash, mac FROM audit_entries ORDER BY seq"
)
# A log made before entries were keyed, never upgraded by init_schema: every entry reads as unkeyed.
_SELECT_UNKEYED = _SELECT_ENTRIES.replace(", mac FROM", ", NULL AS mac FROM")


def _row_at(conn: Connection, seq: int, query: str = _SELECT_ENTRIES) -> Any:
    """The stored row at ``seq`` (only on the failure path, when it lies in the next chunk)."""
    return conn.execute(text(query.replace(" ORDER BY seq", " WHERE seq = :s")), {"s": seq}).first()


def _pages(conn: Connection, query: str = _SELECT_ENTRIES) -> Iterator[list[Any]]:
    """Every entry in seq order, :data:`CHUNK` rows at a time, straight from the driver (the hot path).

    SQLite steps through the table; PostgreSQL uses a server-side (named) cursor. Either way memory stays
    bounded, and the rows come from the same snapshot transaction as the counts and checkpoints.
    """
    dbapi: Any = conn.connection.dbapi_connection
    cursor = dbapi.cursor(name="mamori_audit_verify") if conn.dialect.name == "postgresql" else dbapi.cursor()
    try:
        cursor.execute(query)
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


def _stream(
    conn: Connection,
    key: Ed25519PublicKey,
    pinned_id: str,
    mac_key: bytes,
    claims: list[_Signed],
    *,
    keyed: bool = True,
) -> int:
    """Walk the whole log; raise :class:`_Problem` at the first bad thing; return the number of entries."""
    claims = sorted(claims, key=lambda c: (c.tree_size, c.kind != "checkpoint", c.line))
    pending = 0
    confirmed: list[_Signed] = []  # checkpoints and anchor lines that verified, in tree-size order
    bad_head: list[int] = []  # the head row's size when its MAC did not match
    query = _SELECT_ENTRIES if keyed else _SELECT_UNKEYED

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
            if problem is None and item.kind == "head":
                packed = pack_frontier(frontier)
                if item.frontier != packed:
                    problem = "root_mismatch"
                elif item.mac is None or not hmac.compare_digest(
                    head_mac(mac_key, size, chain, packed), item.mac
                ):
                    # Reported after the remaining claims: a signed checkpoint or anchor line naming more
                    # entries says more precisely what happened (a truncation) than the head row's MAC.
                    bad_head.append(size)
            if problem is not None:
                if item.kind == "head":
                    raise _Problem(problem, size, size)
                raise _Problem(problem, first_unvouched(item), item.tree_size)
            if item.kind != "head":
                confirmed.append(item)
            pending += 1

    sha256 = hashlib.sha256
    q = json.encoder.encode_basestring
    # HMAC state with the key and the label already absorbed: one copy + update + digest per entry (the same
    # value as chain.entry_mac, about a third cheaper than hmac.digest on the whole message).
    mac_state = hmac.new(mac_key, ENTRY_MAC_LABEL, hashlib.sha256)
    same = hmac.compare_digest
    expected = 1
    chain = ZERO_HASH
    frontier: list[bytes] = []
    settle(0, EMPTY_ROOT, ZERO_HASH, frontier)
    for rows in _pages(conn, query):
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
                following = rows[index + 1] if index + 1 < len(rows) else _row_at(conn, seq + 1, query)
                shifted = true_seq == seq + 1 and (
                    following is None or _true_seq(following, seq + 1) == seq + 2
                )
                raise _Problem("gap" if shifted else "reorder", seq)
            chain = sha256(b"\x01" + chain + leaf).digest()
            if chain != row[13]:
                raise _Problem("chain_broken", seq)
            # Inlined chain.entry_mac: the hashes above anyone can recompute; this needs the key.
            stored_mac = row[14]
            if stored_mac is None:
                raise _Problem("bad_mac", seq, variant="unkeyed")
            entry = mac_state.copy()
            entry.update(seq.to_bytes(8, "big") + chain)
            if not same(entry.digest(), stored_mac):
                raise _Problem("bad_mac", seq)
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
    if bad_head or not any(item.kind == "head" for item in claims):
        # The head row is what pins the end of the log; without it (or its MAC) a cut tail would go unnoticed.
        raise _Problem("bad_mac", total + 1, total, variant="head")
    return total


@dataclass
class _Seen:
    """What the verifier has counted so far (reported with a failure too)."""

    entries: int = 0
    checkpoints: int = 0
    anchors: int = 0


def _check(
    engine: Engine,
    key: Ed25519PublicKey,
    pinned_id: str,
    mac_key: bytes,
    anchor_path: Path | None,
    seen: _Seen,
) -> None:
    """Everything :func:`verify` checks; raises :class:`_Problem` at the first failure."""
    if _sqlite_file_missing(engine):
        raise _Problem("missing", 1)
    snapshot, owned = _snapshot_engine(engine)
    try:
        with snapshot.connect() as conn:
            if conn.dialect.name == "postgresql":
                conn = conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                present = set(inspect(conn).get_table_names())
                if not {"audit_entries", "audit_checkpoints", "audit_head"} <= present:
                    raise _Problem("missing", 1)
                seen.entries = int(conn.execute(select(func.count()).select_from(ENTRIES)).scalar_one())
                if seen.entries == 0:
                    raise _Problem("empty", 1)
                keyed = "mac" in {c["name"] for c in inspect(conn).get_columns("audit_entries")}
                head_keyed = "mac" in {c["name"] for c in inspect(conn).get_columns("audit_head")}
                claims = _read_anchor(anchor_path) if anchor_path is not None else []
                seen.anchors = len(claims)
                rows = conn.execute(select(CHECKPOINTS)).all()
                seen.checkpoints = len(rows)
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
                head_columns = [HEAD.c.last_seq, HEAD.c.chain_hash, HEAD.c.frontier]
                head = conn.execute(
                    select(*head_columns, *([HEAD.c.mac] if head_keyed else [])).where(HEAD.c.id == HEAD_ID)
                ).first()
                if head is not None:
                    mac = head.mac if head_keyed else None
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
                            mac=None if mac is None else bytes(mac),
                        )
                    )
                _stream(conn, key, pinned_id, mac_key, claims, keyed=keyed)
    finally:
        if owned:
            snapshot.dispose()


def verify(
    engine: Engine,
    public_key: Ed25519PublicKey | bytes,
    anchor_path: Path | None = None,
    *,
    mac_key: bytes,
) -> VerifyReport:
    """Recompute the whole audit log and check it against its MACs, its checkpoints and the external anchor file.

    ``mac_key`` is the log's 32-byte MAC key (``keystore.system_key("audit_mac")``); ``public_key`` the pinned
    Ed25519 key of its checkpoints. Never creates a missing SQLite file."""
    key = _public_key(public_key)
    mac = _mac_key(mac_key)
    pinned_id = key_id(key.public_bytes(Encoding.Raw, PublicFormat.Raw))
    seen = _Seen()
    try:
        _check(engine, key, pinned_id, mac, anchor_path, seen)
    except _Problem as failure:
        ja, en = _messages(failure.problem, failure.seq, failure.size, failure.variant)
        return VerifyReport(
            ok=False,
            entries=seen.entries,
            checkpoints=seen.checkpoints,
            first_bad_seq=failure.seq,
            problem=failure.problem,
            message_ja=ja,
            message_en=en,
            bad_checkpoint=failure.size
            if failure.problem in {"bad_signature", "root_mismatch", "anchor_mismatch"}
            else None,
            anchors=seen.anchors,
        )
    return VerifyReport(
        ok=True,
        entries=seen.entries,
        checkpoints=seen.checkpoints,
        first_bad_seq=None,
        problem=None,
        message_ja=f"検証 OK: エントリー {seen.entries} 件、チェックポイント {seen.checkpoints} 件",
        message_en=f"verified: {seen.entries} entries, {seen.checkpoints} checkpoints",
        anchors=seen.anchors,
    )
