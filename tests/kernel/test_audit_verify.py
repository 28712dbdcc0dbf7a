"""`audit verify`: a clean log verifies; every kind of tampering (raw SQL on the audit tables, a forged or
re-signed checkpoint, a rebuilt log, a missing MAC) is caught and the first bad entry is named (SECURITY.md §7
tests 8, 9). tests/kernel/test_audit_attacks.py plays the same attacks with only sqlite3 + hashlib through the CLI."""

from __future__ import annotations

import hashlib
import hmac
import importlib
import json
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import text

from mamori.kernel.audit import PROBLEMS, AuditEntry, AuditWriter, signing_key_from_seed, verify
from mamori.kernel.audit.chain import (
    ZERO_HASH,
    canonical_bytes,
    chain_hash,
    checkpoint_message,
    entry_mac,
    frontier_append,
    head_mac,
    leaf_hash,
    pack_frontier,
)
from mamori.kernel.clock import FrozenClock
from mamori.kernel.db import make_engine
from mamori.kernel.errors import IntegrityFailure, ValidationFailed

SEED = b"v" * 32
MAC = b"m" * 32
# Entries in the sample log: the genesis entry (seq 1) and entry(n) at seq n for n = 2..12; checkpoints every 5
# → signed heads at 1 (genesis), 5 and 10.
N = 12


def entry(n: int) -> AuditEntry:
    return AuditEntry(
        actor=f"staff:u{n % 3}",
        actor_role="support" if n % 2 else "sales",
        action="customer.read" if n % 4 else "customer.update",
        purpose="contract",
        subject_ids=(f"sub_{n:04d}", 'sub_ä"\\'),
        fields=("氏名", "email"),
        decision="deny" if n % 5 == 0 else "allow",
        rule_ids=("R-18-1",) if n % 5 == 0 else (),
        reason="purpose_not_notified" if n % 5 == 0 else "ok",
        details={"masked": "phone", "count": n, "bulk": n % 2 == 0, "none": None},
    )


def make_writer(engine, clock, anchor=None, *, seed=SEED, mac=MAC) -> AuditWriter:
    return AuditWriter(
        engine, signing_key_from_seed(seed), clock, mac_key=mac, checkpoint_every=5, anchor_path=anchor
    )


@pytest.fixture
def log(empty_db_url, tmp_path):
    """A 12-entry log (genesis + 11) with checkpoints at 1, 5 and 10 and an anchor file; yields (writer, anchor)."""
    clock = FrozenClock(datetime(2026, 11, 23, 1, 0, tzinfo=UTC))
    engine = make_engine(empty_db_url("audit"))
    anchor = tmp_path / "anchors.jsonl"
    writer = make_writer(engine, clock, anchor)
    writer.init_schema()  # seq 1: the genesis entry, checkpointed and anchored
    for batch in ([2, 3, 4, 5], [6, 7, 8, 9, 10], [11], [12]):  # 4 transactions keep the fixture fast
        clock.advance(timedelta(seconds=1))
        writer.append([entry(i) for i in batch])
    yield writer, anchor
    engine.dispose()


def run(writer: AuditWriter, anchor=None, *, mac=MAC):
    return verify(writer.engine, writer.public_key_bytes(), anchor, mac_key=mac)


def sql(writer: AuditWriter, statement: str, **params) -> None:
    with writer.engine.begin() as conn:
        conn.execute(text(statement), params)


def value(writer: AuditWriter, column: str, seq: int):
    with writer.engine.connect() as conn:
        return conn.execute(
            text(f"SELECT {column} FROM audit_entries WHERE seq = :s"), {"s": seq}
        ).scalar_one()


def flipped(original):
    """One changed byte: the lowest bit of the middle byte (text stays valid UTF-8 when that byte is ASCII)."""
    if isinstance(original, bytes | memoryview):
        data = bytearray(bytes(original))
        data[len(data) // 2] ^= 0x01
        return bytes(data)
    chars = list(original)
    middle = len(chars) // 2
    while ord(chars[middle]) > 0x7E:  # keep to ASCII so the flip stays a single byte
        middle += 1
    chars[middle] = chr(ord(chars[middle]) ^ 0x01)
    return "".join(chars)


def assert_bad(report, problem: str, seq: int):
    assert report.ok is False
    assert report.problem == problem, report
    assert report.first_bad_seq == seq, report
    assert problem in PROBLEMS
    assert str(seq) in report.message_en and str(seq) in report.message_ja


def test_clean_log_verifies(log):
    writer, anchor = log
    report = run(writer, anchor)
    assert report.ok, report
    assert (report.entries, report.checkpoints, report.anchors) == (N, 3, 3)
    assert report.first_bad_seq is None and report.problem is None
    assert "12" in report.message_ja
    # the same without the anchor file (the database alone)
    assert run(writer).ok


def test_missing_schema_and_empty_log_fail(empty_db_url):
    # given a database without audit tables
    engine = make_engine(empty_db_url("audit"))
    clock = FrozenClock(datetime(2026, 1, 1, tzinfo=UTC))
    try:
        writer = make_writer(engine, clock)
        # then verify fails: there is no log at all (never "0 entries, ok")
        assert_bad(run(writer), "missing", 1)
        # when the log is initialised, it holds its genesis entry and verifies
        writer.init_schema()
        report = run(writer)
        assert report.ok and (report.entries, report.checkpoints) == (1, 1)
        # when every row is deleted, the empty log fails
        for table in ("audit_entries", "audit_checkpoints", "audit_head"):
            sql(writer, f"DELETE FROM {table}")
        assert_bad(run(writer), "empty", 1)
    finally:
        engine.dispose()


def test_missing_sqlite_file_is_reported_and_not_created(tmp_path):
    # given an audit log whose SQLite file was deleted
    path = tmp_path / "gone" / "audit.db"
    engine = make_engine(f"sqlite:///{path}")
    try:
        report = verify(engine, signing_key_from_seed(SEED).public_key(), None, mac_key=MAC)
        # then verify fails with `missing` and did not create an empty file in its place
        assert_bad(report, "missing", 1)
        assert not path.exists()
    finally:
        engine.dispose()


def test_every_entry_and_the_head_carry_the_mac(log):
    writer, _ = log
    with writer.engine.connect() as conn:
        rows = conn.execute(text("SELECT seq, chain_hash, mac FROM audit_entries ORDER BY seq")).all()
        head = conn.execute(text("SELECT last_seq, chain_hash, frontier, mac FROM audit_head")).one()
    assert [bytes(r.mac) for r in rows] == [entry_mac(MAC, r.seq, bytes(r.chain_hash)) for r in rows]
    assert bytes(head.mac) == head_mac(MAC, N, bytes(head.chain_hash), bytes(head.frontier))
    assert (
        entry_mac(MAC, 1, ZERO_HASH)
        == hmac.new(
            MAC, b"mamori/audit/entry-mac/v1" + (1).to_bytes(8, "big") + ZERO_HASH, hashlib.sha256
        ).digest()
    )


def test_verifying_with_another_mac_key_fails_at_the_first_entry(log):
    writer, anchor = log
    report = run(writer, anchor, mac=b"x" * 32)
    assert_bad(report, "bad_mac", 1)


def test_flipped_mac_names_that_entry(log):
    writer, anchor = log
    sql(writer, "UPDATE audit_entries SET mac = :v WHERE seq = 9", v=flipped(value(writer, "mac", 9)))
    assert_bad(run(writer, anchor), "bad_mac", 9)


def test_entry_without_a_mac_is_unkeyed(log):
    writer, anchor = log
    sql(writer, "UPDATE audit_entries SET mac = NULL WHERE seq = 4")
    report = run(writer, anchor)
    assert_bad(report, "bad_mac", 4)
    assert "unkeyed" in report.message_en


def test_bad_mac_key_is_refused(log):
    writer, _ = log
    with pytest.raises(ValidationFailed):
        run(writer, mac=b"short")


@pytest.mark.parametrize(
    "column",
    [
        "at",
        "actor",
        "actor_role",
        "action",
        "purpose",
        "subject_ids",
        "fields",
        "decision",
        "rule_ids",
        "reason",
        "details",
        "leaf_hash",
    ],
)
def test_one_flipped_byte_in_any_stored_field_names_that_entry(log, column):
    # given a clean log
    writer, anchor = log
    # when one byte of one column of entry 7 is flipped with raw SQL
    sql(writer, f"UPDATE audit_entries SET {column} = :v WHERE seq = 7", v=flipped(value(writer, column, 7)))
    # then verify names entry 7
    assert_bad(run(writer, anchor), "leaf_mismatch", 7)


def test_flipped_chain_hash_breaks_the_chain_at_that_entry(log):
    writer, anchor = log
    sql(
        writer,
        "UPDATE audit_entries SET chain_hash = :v WHERE seq = 3",
        v=flipped(value(writer, "chain_hash", 3)),
    )
    assert_bad(run(writer, anchor), "chain_broken", 3)


def test_changed_content_with_recomputed_leaf_breaks_the_chain(log):
    # given entry 8 rewritten and its leaf hash recomputed, but not the chain
    writer, anchor = log
    rewrite(writer, 8, actor="staff:intruder", rehash_chain=False)
    assert_bad(run(writer, anchor), "chain_broken", 8)


def test_deleted_row_is_a_gap_at_its_seq(log):
    writer, anchor = log
    sql(writer, "DELETE FROM audit_entries WHERE seq = 6")
    assert_bad(run(writer, anchor), "gap", 6)


def test_deleted_first_row_is_a_gap_at_one(log):
    writer, anchor = log
    sql(writer, "DELETE FROM audit_entries WHERE seq = 1")
    assert_bad(run(writer, anchor), "gap", 1)


def test_deleted_row_with_later_rows_renumbered_is_still_a_gap(log):
    writer, anchor = log
    sql(writer, "DELETE FROM audit_entries WHERE seq = 6")
    sql(writer, "UPDATE audit_entries SET seq = -seq WHERE seq > 6")
    sql(writer, "UPDATE audit_entries SET seq = -seq - 1 WHERE seq < 0")
    assert_bad(run(writer, anchor), "gap", 6)


def test_two_swapped_rows_are_a_reorder_at_the_first(log):
    writer, anchor = log
    sql(writer, "UPDATE audit_entries SET seq = -1 WHERE seq = 6")
    sql(writer, "UPDATE audit_entries SET seq = 6 WHERE seq = 7")
    sql(writer, "UPDATE audit_entries SET seq = 7 WHERE seq = -1")
    assert_bad(run(writer, anchor), "reorder", 6)


def test_row_moved_far_away_is_a_reorder(log):
    writer, anchor = log
    sql(writer, "UPDATE audit_entries SET seq = -1 WHERE seq = 2")
    sql(writer, "UPDATE audit_entries SET seq = 2 WHERE seq = 11")
    sql(writer, "UPDATE audit_entries SET seq = 11 WHERE seq = -1")
    assert_bad(run(writer, anchor), "reorder", 2)


def test_truncated_tail_after_the_last_checkpoint_is_caught_by_the_head(log):
    writer, anchor = log
    sql(writer, "DELETE FROM audit_entries WHERE seq > 10")
    assert_bad(run(writer, anchor), "truncated", 11)
    assert run(writer, anchor).entries == 10


def test_truncated_tail_covered_by_a_checkpoint(log):
    # given the tail and the head row cut back together (the head rewritten to entry 8's state, keyed)
    writer, anchor = log
    cut_back(writer, 8, checkpoints=False, mac=MAC)
    # then the checkpoint at 10 names more entries than exist
    assert_bad(run(writer), "truncated", 9)


def test_head_rolled_back_without_the_key_is_a_bad_head_mac(log):
    # given the tail cut and the head recomputed by someone without the MAC key (checkpoints removed too)
    writer, anchor = log
    cut_back(writer, 8, checkpoints=True, mac=None)
    # then even without the anchor the head row gives it away: entries from 9 on may have been removed
    report = run(writer)
    assert_bad(report, "bad_mac", 9)
    assert "head" in report.message_en
    # and with the anchor the truncation itself is named
    assert_bad(run(writer, anchor), "truncated", 9)
    # and the writer refuses to extend (and so re-key) the forged head
    with pytest.raises(IntegrityFailure) as caught:
        writer.append([entry(13)])
    assert caught.value.code == "audit_head_mac"


def test_truncating_entries_and_checkpoints_together_is_caught_by_the_anchor(log):
    # given a cut whose head row is keyed (an older copy of the head row put back, or an insider with the key)
    writer, anchor = log
    cut_back(writer, 8, checkpoints=True, mac=MAC)
    # without the anchor file the cut is invisible (the database alone is self-consistent) …
    assert run(writer).ok
    # … with it, the anchor line for 10 entries proves the truncation
    assert_bad(run(writer, anchor), "truncated", 9)


def test_missing_head_row_is_a_bad_head_mac(log):
    writer, anchor = log
    sql(writer, "DELETE FROM audit_head")
    assert_bad(run(writer), "bad_mac", N + 1)


def test_checkpoint_resigned_with_another_key_is_a_bad_signature(log):
    # given the checkpoint at 10 re-signed with a key that is not the pinned one
    writer, anchor = log
    other = Ed25519PrivateKey.generate()
    with writer.engine.connect() as conn:
        row = conn.execute(text("SELECT * FROM audit_checkpoints WHERE tree_size = 10")).one()
    message = checkpoint_message(10, bytes(row.root_hash), bytes(row.chain_hash), row.at)
    sql(writer, "UPDATE audit_checkpoints SET signature = :s WHERE tree_size = 10", s=other.sign(message))
    # then verify fails there: entries after the last good checkpoint (5) are no longer vouched for
    report = run(writer, anchor)
    assert_bad(report, "bad_signature", 6)
    assert report.bad_checkpoint == 10


def test_checkpoint_with_a_flipped_root_is_a_bad_signature(log):
    writer, anchor = log
    with writer.engine.connect() as conn:
        root = conn.execute(text("SELECT root_hash FROM audit_checkpoints WHERE tree_size = 5")).scalar_one()
    sql(writer, "UPDATE audit_checkpoints SET root_hash = :r WHERE tree_size = 5", r=flipped(root))
    report = run(writer, anchor)
    assert_bad(report, "bad_signature", 2)  # the genesis checkpoint (1) still vouches for entry 1
    assert report.bad_checkpoint == 5


def test_verifying_with_the_wrong_public_key_fails_at_the_first_checkpoint(log):
    writer, _ = log
    report = verify(writer.engine, signing_key_from_seed(b"w" * 32).public_key(), mac_key=MAC)
    assert_bad(report, "bad_signature", 1)


def test_entries_rewritten_with_every_hash_recomputed_are_caught_by_the_mac(log):
    # given an attacker without the MAC key who rewrites entry 7 and recomputes every later leaf, link and the head
    writer, anchor = log
    rewrite(writer, 7, actor="staff:intruder", rehash_chain=True)
    # then the chain itself looks fine, but entry 7's MAC does not match
    assert_bad(run(writer), "bad_mac", 7)


def test_entries_rewritten_with_the_mac_key_are_caught_by_the_signed_checkpoint(log):
    # given an attacker who also holds the MAC key (but not the signing key) and re-keys every rewritten entry
    writer, anchor = log
    rewrite(writer, 7, actor="staff:intruder", rehash_chain=True, mac=MAC)
    # then the chain and the MACs look fine, but the checkpoint at 10 (validly signed) disagrees
    report = run(writer)
    assert_bad(report, "root_mismatch", 6)
    assert report.bad_checkpoint == 10


def test_log_rebuilt_from_scratch_is_caught_by_the_older_anchor(log, empty_db_url):
    # given day N's anchor file, and a new log built from scratch with the same key writing to the same anchor
    old, anchor = log
    clock = FrozenClock(datetime(2026, 11, 30, 1, 0, tzinfo=UTC))
    engine = make_engine(empty_db_url("rebuilt"))
    try:
        rebuilt = make_writer(engine, clock, anchor)  # the same keys: an insider, not just the files
        rebuilt.init_schema()
        for i in range(2, 17):
            rebuilt.append([entry(i + 1000)])
        # then on its own the rebuilt log is consistent …
        assert run(rebuilt).ok
        # … but it does not extend the anchored history: the genesis entry is already not the anchored one
        report = run(rebuilt, anchor)
        assert_bad(report, "anchor_mismatch", 1)
        assert report.bad_checkpoint == 1
    finally:
        engine.dispose()


def test_dropped_audit_database_fails_with_or_without_the_anchor(log, empty_db_url):
    _, anchor = log
    engine = make_engine(empty_db_url("gone"))
    try:
        for path in (anchor, None):
            report = verify(engine, signing_key_from_seed(SEED).public_key(), path, mac_key=MAC)
            assert_bad(report, "missing", 1)
    finally:
        engine.dispose()


def test_anchor_file_tolerates_a_torn_last_line_but_not_garbage(log):
    writer, anchor = log
    good = anchor.read_text()
    anchor.write_text(good + '{"tree_size": 1')  # a crash mid-append
    assert run(writer, anchor).ok
    anchor.write_text('{"tree_size": 1}\n' + good)
    report = run(writer, anchor)
    assert report.ok is False and report.problem == "anchor_mismatch"


def test_forged_anchor_line_is_a_bad_signature(log):
    writer, anchor = log
    lines = anchor.read_text().splitlines()
    forged = json.loads(lines[0])
    forged["tree_size"] = 4
    anchor.write_text("\n".join([json.dumps(forged), *lines]) + "\n")
    report = run(writer, anchor)
    assert_bad(report, "bad_signature", 1)
    assert report.bad_checkpoint == 4


@pytest.mark.parametrize("mac", [None, MAC], ids=["without-key", "with-key"])
def test_rows_added_behind_the_writers_back_are_caught(log, mac):
    # given a well-formed entry 13 inserted with raw SQL (the head row still says 12)
    writer, anchor = log
    with writer.engine.connect() as conn:
        prev = bytes(conn.execute(text("SELECT chain_hash FROM audit_entries WHERE seq = 12")).scalar_one())
        row = dict(conn.execute(text("SELECT * FROM audit_entries WHERE seq = 12")).one()._mapping)
    row["seq"] = 13
    leaf = leaf_hash(canonical_of(row))
    row["leaf_hash"], row["chain_hash"] = leaf, chain_hash(prev, leaf)
    row["mac"] = entry_mac(mac, 13, row["chain_hash"]) if mac else bytes(row["mac"])  # else entry 12's MAC
    sql(
        writer,
        f"INSERT INTO audit_entries ({', '.join(row)}) VALUES ({', '.join(':' + k for k in row)})",
        **row,
    )
    # then without the key its MAC gives it away; with the key the head row (still at 12) does
    if mac is None:
        assert_bad(run(writer, anchor), "bad_mac", 13)
    else:
        assert_bad(run(writer, anchor), "chain_broken", 13)


def test_bad_public_key_is_refused(log):
    writer, _ = log
    with pytest.raises(ValidationFailed):
        verify(writer.engine, b"short", mac_key=MAC)


def test_verify_streams_in_chunks(log, monkeypatch):
    # given a chunk size smaller than the log, the result is the same (chunk boundaries are seamless)
    verify_module = importlib.import_module(
        "mamori.kernel.audit.verify"
    )  # the package re-exports the function
    writer, anchor = log
    monkeypatch.setattr(verify_module, "CHUNK", 5)
    assert run(writer, anchor).ok
    monkeypatch.setattr(verify_module, "CHUNK", 4)
    # a swap across a chunk boundary (rows 8 | 9) is still a reorder, not a gap
    sql(writer, "UPDATE audit_entries SET seq = -1 WHERE seq = 8")
    sql(writer, "UPDATE audit_entries SET seq = 8 WHERE seq = 9")
    sql(writer, "UPDATE audit_entries SET seq = 9 WHERE seq = -1")
    assert_bad(run(writer, anchor), "reorder", 8)
    sql(writer, "DELETE FROM audit_entries WHERE seq = 9")
    sql(writer, "UPDATE audit_entries SET seq = 9 WHERE seq = 10")
    sql(writer, "UPDATE audit_entries SET seq = 10 WHERE seq = 11")
    sql(writer, "UPDATE audit_entries SET seq = 11 WHERE seq = 12")
    # row 8 now holds entry 9, rows 9..11 hold 10..12: entry 8 was deleted and the rest renumbered
    assert_bad(run(writer, anchor), "gap", 8)


# -- helpers that play the attacker -----------------------------------------------------------------------------


def canonical_of(row: dict) -> bytes:
    return canonical_bytes(
        seq=row["seq"],
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


def rewrite(
    writer: AuditWriter, seq: int, *, actor: str, rehash_chain: bool, mac: bytes | None = None
) -> None:
    """Change one entry's actor and recompute its leaf; optionally every later link and the head row, and (with
    ``mac``, the key) their MACs."""
    with writer.engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(text("SELECT * FROM audit_entries ORDER BY seq"))]
    chain = ZERO_HASH
    frontier: list[bytes] = []
    with writer.engine.begin() as conn:
        for row in rows:
            if row["seq"] == seq:
                row["actor"] = actor
            leaf = leaf_hash(canonical_of(row))
            chain = chain_hash(chain, leaf)
            frontier_append(frontier, row["seq"] - 1, leaf)
            if row["seq"] == seq or (rehash_chain and row["seq"] > seq):
                stored_chain = chain if rehash_chain else row["chain_hash"]
                conn.execute(
                    text(
                        "UPDATE audit_entries SET actor = :a, leaf_hash = :l, chain_hash = :c, mac = :m"
                        " WHERE seq = :s"
                    ),
                    {
                        "a": row["actor"],
                        "l": leaf,
                        "c": stored_chain,
                        "m": entry_mac(mac, row["seq"], stored_chain) if mac else row["mac"],
                        "s": row["seq"],
                    },
                )
        if rehash_chain:
            packed = pack_frontier(frontier)
            conn.execute(
                text("UPDATE audit_head SET chain_hash = :c, frontier = :f"), {"c": chain, "f": packed}
            )
            if mac is not None:  # without the key the head keeps its old MAC
                conn.execute(
                    text("UPDATE audit_head SET mac = :m"),
                    {"m": head_mac(mac, rows[-1]["seq"], chain, packed)},
                )


def cut_back(writer: AuditWriter, size: int, *, checkpoints: bool, mac: bytes | None) -> None:
    """Delete every entry after `size` (and optionally the checkpoints beyond it) and rewrite the head row; with
    ``mac`` (the key, or an old copy of the head row) the head's MAC is right, else the old MAC stays."""
    with writer.engine.connect() as conn:
        leaves = [
            bytes(r[0])
            for r in conn.execute(
                text("SELECT leaf_hash FROM audit_entries WHERE seq <= :n ORDER BY seq"), {"n": size}
            )
        ]
        chain = bytes(
            conn.execute(
                text("SELECT chain_hash FROM audit_entries WHERE seq = :n"), {"n": size}
            ).scalar_one()
        )
    frontier: list[bytes] = []
    for i, leaf in enumerate(leaves):
        frontier_append(frontier, i, leaf)
    sql(writer, "DELETE FROM audit_entries WHERE seq > :n", n=size)
    if checkpoints:
        sql(writer, "DELETE FROM audit_checkpoints WHERE tree_size > :n", n=size)
    packed = pack_frontier(frontier)
    sql(
        writer,
        "UPDATE audit_head SET last_seq = :n, chain_hash = :c, frontier = :f",
        n=size,
        c=chain,
        f=packed,
    )
    if mac is not None:
        sql(writer, "UPDATE audit_head SET mac = :m", m=head_mac(mac, size, chain, packed))


def test_sha256_reference_is_the_one_used():
    # the verifier's inlined canonical encoding agrees with chain.canonical_bytes (a clean log with
    # non-ASCII, quotes and backslashes verifies above); and the hash is plain SHA-256
    assert leaf_hash(b"x") == hashlib.sha256(b"\x00x").digest()


def test_corrupt_head_frontier_is_reported_before_it_spoils_the_next_checkpoint(log):
    writer, anchor = log
    with writer.engine.connect() as conn:
        frontier = bytes(conn.execute(text("SELECT frontier FROM audit_head")).scalar_one())
    sql(writer, "UPDATE audit_head SET frontier = :f", f=flipped(frontier))
    report = run(writer, anchor)
    assert report.ok is False and report.problem == "root_mismatch" and report.first_bad_seq == N


def test_dropped_tables_fail_even_when_the_anchor_agrees_with_nothing(empty_db_url, tmp_path):
    # given a log whose tables were dropped, and an anchor file
    engine = make_engine(empty_db_url("anchored"))
    anchor = tmp_path / "anchors.jsonl"
    try:
        writer = make_writer(engine, FrozenClock(datetime(2026, 1, 1, tzinfo=UTC)), anchor)
        writer.init_schema()
        with engine.begin() as conn:
            for table in ("audit_entries", "audit_checkpoints", "audit_head"):
                conn.execute(text(f"DROP TABLE {table}"))
        # then verify fails (missing), with or without the anchor; an emptied anchor file changes nothing
        assert_bad(run(writer, anchor), "missing", 1)
        assert_bad(run(writer), "missing", 1)
        anchor.write_text("")
        assert_bad(run(writer, anchor), "missing", 1)
    finally:
        engine.dispose()


def test_log_from_before_the_mac_is_upgraded_in_place_and_reported_unkeyed(log):
    # given a log written before entries were keyed (no mac columns)
    writer, anchor = log
    sql(writer, "ALTER TABLE audit_entries DROP COLUMN mac")
    sql(writer, "ALTER TABLE audit_head DROP COLUMN mac")
    # then verify reads it and reports the first entry as unkeyed
    report = run(writer, anchor)
    assert_bad(report, "bad_mac", 1)
    assert "unkeyed" in report.message_en
    # when init_schema runs (mamori init after the upgrade), the columns come back and appends are keyed again
    writer.init_schema()
    writer.init_schema()
    assert writer.append([entry(13)]) == [N + 1]
    with writer.engine.connect() as conn:
        macs = conn.execute(text("SELECT mac FROM audit_entries ORDER BY seq")).scalars().all()
    assert macs[:N] == [None] * N and macs[N] is not None
    # but the old entries stay unkeyed: verify keeps saying so (a fresh store never has them)
    assert_bad(run(writer, anchor), "bad_mac", 1)


def test_writer_refuses_to_extend_a_head_whose_mac_was_removed(log):
    writer, _ = log
    sql(writer, "UPDATE audit_head SET mac = NULL")
    with pytest.raises(IntegrityFailure):
        writer.append([entry(13)])
    writer.init_schema()  # the column exists: the head is not trusted on first use again
    with pytest.raises(IntegrityFailure):
        writer.append([entry(13)])
    assert_bad(run(writer), "bad_mac", N + 1)
