"""Attacks by someone who holds the audit database files but no key (issue 11), judged by `mamori audit verify`.

The store is a real runtime: a genesis entry, 30 audited entries through the writer, checkpoints every 10 and an
anchor line per checkpoint in the anchor file outside MAMORI_HOME (``<key dir>/audit-anchors.jsonl``), the last
one written when the runtime closed. The attacker then works on the audit database with nothing but the database
driver (``sqlite3``; ``psycopg`` on PostgreSQL) and ``hashlib`` — no mamori code, no key, no write access to the
anchor file — and recomputes whatever a public description of the format lets them recompute: leaf hashes, chain
hashes, the Merkle frontier and the head row. Each attack must make `mamori audit verify` exit non-zero and name
the problem and the first bad entry (SECURITY.md §2 "What audit verify should check", §7 tests 8 and 9).

What stays out of reach, documented in docs/audit.md: a log truncated back to an older copy of itself *within the
window not yet anchored* (at most ``audit_checkpoint_every`` entries or ``audit_checkpoint_minutes``; see
``test_truncation_inside_the_unanchored_window_is_the_documented_limit``).
"""

from __future__ import annotations

import base64
import hashlib
import json
import sqlite3
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from typer.testing import CliRunner

from mamori.kernel.audit import AuditEntry
from mamori.kernel.errors import IntegrityFailure
from mamori.kernel.settings import Settings, reset_settings_cache
from tests.factories import point_env_at

ENTRIES = 30  # audited entries written by the store (after the genesis entry)
TOTAL = ENTRIES + 1
EVERY = 10  # audit_checkpoint_every
SNAPSHOT_AT = 26  # the attacker copied the head row when the log held this many entries (an old backup)


# -- the attacker's own toolkit: the database driver, json and hashlib only ------------------------------------------


def leaf_of(row: dict[str, Any]) -> bytes:
    """RFC 6962 leaf of an entry: SHA-256(0x00 || sorted compact UTF-8 JSON of its fields)."""
    doc = {k: row[k] for k in ("action", "actor", "actor_role", "at", "decision", "purpose", "reason", "seq")}
    for k in ("details", "fields", "rule_ids", "subject_ids"):
        doc[k] = json.loads(row[k])
    text = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(b"\x00" + text.encode()).digest()


def link(previous: bytes, leaf: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + previous + leaf).digest()


def frontier_of(leaves: list[bytes]) -> bytes:
    """The packed Merkle frontier (roots of the perfect subtrees, largest first) — RFC 6962 arithmetic."""
    frontier: list[bytes] = []
    for size, leaf in enumerate(leaves):
        node = leaf
        while size & 1:
            node = hashlib.sha256(b"\x01" + frontier.pop() + node).digest()
            size >>= 1
        frontier.append(node)
    return b"".join(frontier)


class Attacker:
    """A raw DB-API connection to the audit database (autocommit) and the attacks built on it."""

    def __init__(self, url: str) -> None:
        self.url = url
        if url.startswith("sqlite"):
            self.path: Path | None = Path(url.split("///", 1)[1])
            self.conn: Any = sqlite3.connect(self.path, isolation_level=None)
            self.conn.row_factory = sqlite3.Row
            self.mark = "?"
        else:
            import psycopg
            from psycopg.rows import dict_row

            self.path = None
            self.conn = psycopg.connect(
                url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True, row_factory=dict_row
            )
            self.mark = "%s"

    def close(self) -> None:
        self.conn.close()

    def sql(self, statement: str, *params: Any) -> list[dict[str, Any]]:
        cursor = self.conn.execute(statement.replace("?", self.mark), params)
        rows = cursor.fetchall() if cursor.description else []
        return [dict(r) for r in rows]

    def entries(self) -> list[dict[str, Any]]:
        return self.sql("SELECT * FROM audit_entries ORDER BY seq")

    def head(self) -> dict[str, Any]:
        return self.sql("SELECT * FROM audit_head")[0]

    def rechain(self, from_seq: int) -> None:
        """Recompute every leaf and link from ``from_seq`` on, and the head row, exactly as the writer would —
        except the MACs, which need the key (the old ones stay, moved along with their rows)."""
        rows = self.entries()
        chain = bytes(32)
        leaves = []
        for row in rows:
            leaf = leaf_of(row)
            chain = link(chain, leaf)
            leaves.append(leaf)
            if row["seq"] >= from_seq:
                self.sql(
                    "UPDATE audit_entries SET leaf_hash = ?, chain_hash = ? WHERE seq = ?",
                    leaf,
                    chain,
                    row["seq"],
                )
        self.sql(
            "UPDATE audit_head SET last_seq = ?, chain_hash = ?, frontier = ?",
            len(rows),
            chain,
            frontier_of(leaves),
        )

    def renumber(self, old: int, new: int) -> None:
        self.sql("UPDATE audit_entries SET seq = ? WHERE seq = ?", new, old)

    def drop_checkpoints_after(self, size: int) -> None:
        self.sql("DELETE FROM audit_checkpoints WHERE tree_size > ?", size)


# -- the store under attack -------------------------------------------------------------------------------------------


@dataclass
class Store:
    settings: Settings
    anchor: Path
    old_head: dict[str, Any]

    def attacker(self) -> Attacker:
        return Attacker(self.settings.migration_audit_url or self.settings.resolved_audit_url())


def sample(i: int) -> AuditEntry:
    """What a working day leaves behind: reads, a denial, an update (opaque ids and field names only)."""
    kind = i % 5
    return AuditEntry(
        actor=f"staff:u{i % 4}",
        actor_role="sales" if i % 2 else "support",
        action=("customer.read", "customer.read", "customer.update", "customer.find", "customer.read")[kind],
        purpose="contract",
        subject_ids=(f"sub_{i:04x}",),
        fields=("name", "email") if kind != 3 else (),
        decision="deny" if kind == 4 else "allow",
        rule_ids=("R-18-1",) if kind == 4 else (),
        reason="purpose_not_notified" if kind == 4 else None,
        details={"n": i},
    )


@pytest.fixture
def store(settings_factory, clock, monkeypatch) -> Store:
    from mamori import composition as bootstrap
    from mamori.kernel.runtime import Runtime

    bootstrap.register_all()
    settings = settings_factory(audit_checkpoint_every=EVERY)
    rt = Runtime(settings, clock=clock)
    rt.init()
    old_head: dict[str, Any] = {}
    for i in range(1, ENTRIES + 1):
        clock.advance(timedelta(seconds=1))
        rt.audit.append([sample(i)])
        if i + 1 == SNAPSHOT_AT:
            spy = Attacker(settings.migration_audit_url or settings.resolved_audit_url())
            old_head = spy.head()
            spy.close()
    anchor = rt.anchor_path
    rt.close()  # anchors what this "process" wrote: a checkpoint at 31
    # the CLI (another process) sees the same stores through the environment
    point_env_at(monkeypatch, settings, MAMORI_AUDIT_CHECKPOINT_EVERY=EVERY)
    yield Store(settings, anchor, old_head)
    reset_settings_cache()


def mamori(*args: str):
    from mamori.cli.main import app

    return CliRunner().invoke(app, ["--lang", "en", *args], catch_exceptions=False)


def assert_verify_fails(problem: str, seq: int) -> None:
    """`mamori audit verify` exits non-zero, names the problem and the first bad entry (JSON and one line)."""
    result = mamori("audit", "verify", "--json")
    assert result.exit_code == IntegrityFailure.exit_code, result.output
    report = json.loads(result.stdout)
    assert (report["ok"], report["problem"], report["first_bad_seq"]) == (False, problem, seq), report
    result = mamori("audit", "verify")
    assert result.exit_code == IntegrityFailure.exit_code
    line = result.stderr.strip()
    assert f"(audit_{problem})" in line and f"[seq {seq}]" in line, line
    assert str(seq) in line.split(":", 1)[1]


def anchored_sizes(store: Store) -> list[int]:
    return [json.loads(line)["tree_size"] for line in store.anchor.read_text().splitlines()]


# -- the clean store ---------------------------------------------------------------------------------------------------


def test_clean_store_verifies_and_is_anchored_outside_the_home(store):
    result = mamori("audit", "verify")
    assert result.exit_code == 0, result.output
    assert f"verified: {TOTAL} entries" in result.stdout
    # the anchor file lies in the key directory, outside MAMORI_HOME, and holds every checkpoint incl. the last
    assert not store.anchor.resolve().is_relative_to(store.settings.home_path)
    assert store.anchor == store.settings.resolved_anchor_path()
    assert anchored_sizes(store) == [1, 10, 20, 30, TOTAL]


def test_the_attackers_hashing_is_the_real_one(store):
    # the attack is meaningful only if the attacker can recompute what the log stores: they can
    attacker = store.attacker()
    try:
        rows = attacker.entries()
        chain = bytes(32)
        for row in rows:
            assert leaf_of(row) == bytes(row["leaf_hash"])
            chain = link(chain, leaf_of(row))
            assert chain == bytes(row["chain_hash"])
        assert frontier_of([leaf_of(r) for r in rows]) == bytes(attacker.head()["frontier"])
        # what they cannot do is key a row: every row carries a MAC they have no key for
        assert all(row["mac"] is not None and len(bytes(row["mac"])) == 32 for row in rows)
    finally:
        attacker.close()


# -- (a) … (g) ----------------------------------------------------------------------------------------------------------


def test_a_dropped_entry_with_everything_after_it_rechained(store):
    attacker = store.attacker()
    try:
        attacker.sql("DELETE FROM audit_entries WHERE seq = 12")
        for seq in range(13, TOTAL + 1):
            attacker.renumber(seq, seq - 1)
        attacker.rechain(12)
        attacker.drop_checkpoints_after(11)
    finally:
        attacker.close()
    assert_verify_fails("bad_mac", 12)


def test_b_edited_actor_of_a_read_with_leaf_chain_and_head_recomputed(store):
    attacker = store.attacker()
    try:
        read = next(r for r in attacker.entries() if r["action"] == "customer.read" and r["seq"] > 14)
        attacker.sql("UPDATE audit_entries SET actor = ? WHERE seq = ?", "staff:someone-else", read["seq"])
        attacker.rechain(read["seq"])
    finally:
        attacker.close()
    assert_verify_fails("bad_mac", read["seq"])


def test_c_audit_database_deleted_outright(store, backend):
    attacker = store.attacker()
    try:
        if attacker.path is None:  # PostgreSQL: the tables go
            for table in ("audit_entries", "audit_checkpoints", "audit_head"):
                attacker.sql(f"DROP TABLE {table}")
    finally:
        attacker.close()
    if attacker.path is not None:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{attacker.path}{suffix}").unlink(missing_ok=True)
    assert_verify_fails("missing", 1)
    if attacker.path is not None:
        assert not attacker.path.exists()  # verify did not create an empty database in its place


def test_d_tables_emptied(store):
    attacker = store.attacker()
    try:
        for table in ("audit_entries", "audit_checkpoints", "audit_head"):
            attacker.sql(f"DELETE FROM {table}")
    finally:
        attacker.close()
    assert_verify_fails("empty", 1)


def test_e_truncated_tail_with_the_head_rolled_back_by_hand(store):
    # the last 5 entries removed, their checkpoints too, and the head recomputed for 26 entries (MAC left stale)
    attacker = store.attacker()
    try:
        attacker.sql("DELETE FROM audit_entries WHERE seq > ?", SNAPSHOT_AT)
        attacker.drop_checkpoints_after(SNAPSHOT_AT)
        attacker.rechain(SNAPSHOT_AT + 1)
    finally:
        attacker.close()
    # the anchor line for 31 entries names the cut
    assert_verify_fails("truncated", SNAPSHOT_AT + 1)


def test_e_truncated_tail_with_an_old_copy_of_the_head_put_back(store):
    # the head row restored from an older copy of the files (its MAC is genuine): the database alone is consistent
    attacker = store.attacker()
    try:
        attacker.sql("DELETE FROM audit_entries WHERE seq > ?", SNAPSHOT_AT)
        attacker.drop_checkpoints_after(SNAPSHOT_AT)
        old = store.old_head
        attacker.sql(
            "UPDATE audit_head SET last_seq = ?, chain_hash = ?, frontier = ?, mac = ?",
            old["last_seq"],
            old["chain_hash"],
            old["frontier"],
            old["mac"],
        )
    finally:
        attacker.close()
    # only the anchor (written before the cut, when the runtime closed) shows it
    assert_verify_fails("truncated", SNAPSHOT_AT + 1)


def test_f_two_entries_reordered_and_rechained(store):
    attacker = store.attacker()
    try:
        attacker.renumber(8, -8)
        attacker.renumber(9, 8)
        attacker.renumber(-8, 9)
        attacker.rechain(8)
    finally:
        attacker.close()
    assert_verify_fails("bad_mac", 8)


def test_g_checkpoints_resigned_with_the_attackers_own_key(store):
    # every checkpoint signed again with the attacker's Ed25519 key (and its key id)
    own = Ed25519PrivateKey.generate()
    own_id = hashlib.sha256(own.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)).hexdigest()[:16]
    attacker = store.attacker()
    try:
        for cp in attacker.sql("SELECT * FROM audit_checkpoints ORDER BY tree_size"):
            note = (
                f"mamori.audit/v1\n{cp['tree_size']}\n{base64.b64encode(bytes(cp['root_hash'])).decode()}\n"
                f"{base64.b64encode(bytes(cp['chain_hash'])).decode()}\n{cp['at']}\n"
            )
            attacker.sql(
                "UPDATE audit_checkpoints SET signature = ?, key_id = ? WHERE tree_size = ?",
                own.sign(note.encode()),
                own_id,
                cp["tree_size"],
            )
    finally:
        attacker.close()
    # the first forged checkpoint (the genesis one) no longer vouches for anything from entry 1 on
    assert_verify_fails("bad_signature", 1)


# -- SECURITY.md §7 test 8: clean → 0; one bit flip / delete / reorder / truncate / wrong-key re-sign → non-zero ------


def _flip_bit(attacker: Attacker) -> int:
    row = attacker.sql("SELECT actor FROM audit_entries WHERE seq = 7")[0]
    actor = row["actor"]
    attacker.sql("UPDATE audit_entries SET actor = ? WHERE seq = 7", actor[:-1] + chr(ord(actor[-1]) ^ 0x01))
    return 7


def _delete(attacker: Attacker) -> int:
    attacker.sql("DELETE FROM audit_entries WHERE seq = 17")
    return 17


def _reorder(attacker: Attacker) -> int:
    attacker.renumber(21, -21)
    attacker.renumber(22, 21)
    attacker.renumber(-21, 22)
    return 21


def _truncate(attacker: Attacker) -> int:
    attacker.sql("DELETE FROM audit_entries WHERE seq > 28")
    return 29


def _resign_one(attacker: Attacker) -> int:
    cp = attacker.sql("SELECT * FROM audit_checkpoints WHERE tree_size = 20")[0]
    note = (
        f"mamori.audit/v1\n20\n{base64.b64encode(bytes(cp['root_hash'])).decode()}\n"
        f"{base64.b64encode(bytes(cp['chain_hash'])).decode()}\n{cp['at']}\n"
    )
    attacker.sql(
        "UPDATE audit_checkpoints SET signature = ? WHERE tree_size = 20",
        Ed25519PrivateKey.generate().sign(note.encode()),
    )
    return 11  # one past the last checkpoint that still verifies (10)


@pytest.mark.parametrize(
    ("attack", "problem"),
    [
        (_flip_bit, "leaf_mismatch"),
        (_delete, "gap"),
        (_reorder, "reorder"),
        (_truncate, "truncated"),
        (_resign_one, "bad_signature"),
    ],
    ids=["bit-flip", "delete", "reorder", "truncate", "wrong-key-resign"],
)
def test_security_7_8_each_tampering_names_the_first_bad_index(store, attack, problem):
    assert mamori("audit", "verify").exit_code == 0
    attacker = store.attacker()
    try:
        first_bad = attack(attacker)
    finally:
        attacker.close()
    assert_verify_fails(problem, first_bad)


# -- SECURITY.md §7 test 9: anchored checkpoint from day N, log rebuilt from scratch → fails against the anchor ------


def test_security_7_9_log_rebuilt_by_the_application_fails_against_day_ns_anchor(store, backend):
    # given day N's log, anchored; then the audit database is thrown away
    attacker = store.attacker()
    try:
        if attacker.path is None:
            for table in ("audit_entries", "audit_checkpoints", "audit_head"):
                attacker.sql(f"DROP TABLE {table}")
    finally:
        attacker.close()
    if attacker.path is not None:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{attacker.path}{suffix}").unlink(missing_ok=True)
    # when the application itself rebuilds it the next day (mamori init: new genesis, real keys, same anchor file)
    assert mamori("init").exit_code == 0
    assert mamori("audit", "checkpoint").exit_code == 0
    # then the new log is consistent on its own, but not the history day N anchored: it fails from entry 1
    assert_verify_fails("anchor_mismatch", 1)


def test_security_7_9_log_rebuilt_from_scratch_with_hashlib_fails(store):
    # given the attacker rebuilds a whole log: every entry re-chained from a fresh start with their own content
    attacker = store.attacker()
    try:
        for row in attacker.entries():
            attacker.sql("UPDATE audit_entries SET actor = ? WHERE seq = ?", "staff:nobody", row["seq"])
        attacker.rechain(1)
        attacker.drop_checkpoints_after(0)
    finally:
        attacker.close()
    # then the very first entry's MAC gives it away
    assert_verify_fails("bad_mac", 1)


# -- the window ----------------------------------------------------------------------------------------------------------


def test_truncation_inside_the_unanchored_window_is_the_documented_limit(store, clock):
    # given 3 more entries after the last anchor, not yet checkpointed (fewer than audit_checkpoint_every and
    # within audit_checkpoint_minutes), and an old copy of the head row taken before them
    from mamori.kernel.runtime import Runtime

    rt = Runtime(store.settings, clock=clock)
    attacker = store.attacker()
    try:
        before = attacker.head()
        rt.audit.append([sample(100 + i) for i in range(3)])
        assert [c.tree_size for c in rt.audit.checkpoints()][-1] == TOTAL
        # when the attacker cuts exactly those entries and puts the old head back
        attacker.sql("DELETE FROM audit_entries WHERE seq > ?", TOTAL)
        attacker.sql(
            "UPDATE audit_head SET last_seq = ?, chain_hash = ?, frontier = ?, mac = ?",
            before["last_seq"],
            before["chain_hash"],
            before["frontier"],
            before["mac"],
        )
    finally:
        attacker.close()
        rt.audit.wrote_entries = False  # this "process" died before it could anchor (no checkpoint on close)
        rt.close()
    # then nothing can tell: the cut falls in the window no checkpoint had reached yet (docs/audit.md). Had the
    # window been anchored (closing the runtime, the API's timer, `mamori audit checkpoint`, or the next append
    # after audit_checkpoint_minutes), the same cut would be `truncated` (test_e_… above).
    assert mamori("audit", "verify").exit_code == 0
    assert anchored_sizes(store)[-1] == TOTAL
