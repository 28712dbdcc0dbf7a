"""`audit verify`: a clean log verifies; every kind of tampering (raw SQL on the audit tables, a forged or
re-signed checkpoint, a rebuilt log) is caught and the first bad entry is named (SECURITY.md §7 tests 8, 9)."""

from __future__ import annotations

import hashlib
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
    frontier_append,
    leaf_hash,
    pack_frontier,
)
from mamori.kernel.clock import FrozenClock
from mamori.kernel.db import make_engine
from mamori.kernel.errors import ValidationFailed

SEED = b"v" * 32
N = 12  # entries in the sample log; checkpoints every 5 → signed heads at 5 and 10


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


@pytest.fixture
def log(empty_db_url, tmp_path):
    """A 12-entry log with checkpoints at 5 and 10 and an anchor file; yields (writer, anchor_path)."""
    clock = FrozenClock(datetime(2026, 11, 23, 1, 0, tzinfo=UTC))
    engine = make_engine(empty_db_url("audit"))
    anchor = tmp_path / "anchors.jsonl"
    writer = AuditWriter(engine, signing_key_from_seed(SEED), clock, checkpoint_every=5, anchor_path=anchor)
    writer.init_schema()
    for batch in ([1, 2, 3, 4, 5], [6, 7, 8, 9, 10], [11], [12]):  # 4 transactions keep the fixture fast
        writer.append([entry(i) for i in batch])
        clock.advance(timedelta(seconds=1))
    yield writer, anchor
    engine.dispose()


def run(writer: AuditWriter, anchor=None):
    return verify(writer.engine, writer.public_key_bytes(), anchor)


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
    assert (report.entries, report.checkpoints, report.anchors) == (N, 2, 2)
    assert report.first_bad_seq is None and report.problem is None
    assert "12" in report.message_ja


def test_empty_log_and_missing_schema_verify(empty_db_url):
    engine = make_engine(empty_db_url("audit"))
    try:
        key = signing_key_from_seed(SEED)
        raw = AuditWriter(engine, key, FrozenClock(datetime(2026, 1, 1, tzinfo=UTC))).public_key_bytes()
        assert verify(engine, raw).ok  # no tables yet: an empty log
        AuditWriter(engine, key, FrozenClock(datetime(2026, 1, 1, tzinfo=UTC))).init_schema()
        report = verify(engine, key.public_key())
        assert report.ok and report.entries == 0
    finally:
        engine.dispose()


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
    # given the tail and the head row cut back together (the head rewritten to entry 8's state)
    writer, anchor = log
    cut_back(writer, 8, checkpoints=False)
    # then the checkpoint at 10 names more entries than exist
    assert_bad(run(writer), "truncated", 9)


def test_truncating_entries_and_checkpoints_together_is_caught_by_the_anchor(log):
    writer, anchor = log
    cut_back(writer, 8, checkpoints=True)
    # without the anchor file the cut is invisible (the database alone is self-consistent) …
    assert run(writer).ok
    # … with it, the anchor line for 10 entries proves the truncation
    assert_bad(run(writer, anchor), "truncated", 9)


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
    assert_bad(report, "bad_signature", 1)
    assert report.bad_checkpoint == 5


def test_verifying_with_the_wrong_public_key_fails_at_the_first_checkpoint(log):
    writer, _ = log
    report = verify(writer.engine, signing_key_from_seed(b"w" * 32).public_key())
    assert_bad(report, "bad_signature", 1)


def test_entries_rewritten_with_every_hash_recomputed_are_caught_by_the_signed_checkpoint(log):
    # given an attacker who rewrites entry 7 and recomputes every later leaf, link and the head
    writer, anchor = log
    rewrite(writer, 7, actor="staff:intruder", rehash_chain=True)
    # then the chain itself looks fine, but the checkpoint at 10 (validly signed) disagrees
    report = run(writer)
    assert_bad(report, "root_mismatch", 6)
    assert report.bad_checkpoint == 10


def test_log_rebuilt_from_scratch_is_caught_by_the_older_anchor(log, empty_db_url):
    # given day N's anchor file, and a new log built from scratch with the same key writing to the same anchor
    old, anchor = log
    clock = FrozenClock(datetime(2026, 11, 30, 1, 0, tzinfo=UTC))
    engine = make_engine(empty_db_url("rebuilt"))
    try:
        rebuilt = AuditWriter(
            engine, signing_key_from_seed(SEED), clock, checkpoint_every=5, anchor_path=anchor
        )
        rebuilt.init_schema()
        for i in range(1, 16):
            rebuilt.append([entry(i + 1000)])
        # then on its own the rebuilt log is consistent …
        assert run(rebuilt).ok
        # … but it does not extend the anchored history: the first entry is already not the anchored one
        report = run(rebuilt, anchor)
        assert_bad(report, "anchor_mismatch", 1)
        assert report.bad_checkpoint == 5
    finally:
        engine.dispose()


def test_dropped_audit_database_is_caught_by_the_anchor(log, empty_db_url):
    _, anchor = log
    engine = make_engine(empty_db_url("gone"))
    try:
        report = verify(engine, signing_key_from_seed(SEED).public_key(), anchor)
        assert_bad(report, "truncated", 1)
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


def test_rows_added_behind_the_writers_back_break_the_chain(log):
    # given a well-formed entry 13 inserted with raw SQL (the head row still says 12)
    writer, anchor = log
    with writer.engine.connect() as conn:
        prev = bytes(conn.execute(text("SELECT chain_hash FROM audit_entries WHERE seq = 12")).scalar_one())
        row = dict(conn.execute(text("SELECT * FROM audit_entries WHERE seq = 12")).one()._mapping)
    row["seq"] = 13
    leaf = leaf_hash(canonical_of(row))
    row["leaf_hash"], row["chain_hash"] = leaf, chain_hash(prev, leaf)
    sql(
        writer,
        f"INSERT INTO audit_entries ({', '.join(row)}) VALUES ({', '.join(':' + k for k in row)})",
        **row,
    )
    assert_bad(run(writer, anchor), "chain_broken", 13)


def test_bad_public_key_is_refused(log):
    writer, _ = log
    with pytest.raises(ValidationFailed):
        verify(writer.engine, b"short")


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


def rewrite(writer: AuditWriter, seq: int, *, actor: str, rehash_chain: bool) -> None:
    """Change one entry's actor and recompute its leaf; optionally every later link, and the head row."""
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
                conn.execute(
                    text(
                        "UPDATE audit_entries SET actor = :a, leaf_hash = :l, chain_hash = :c WHERE seq = :s"
                    ),
                    {
                        "a": row["actor"],
                        "l": leaf,
                        "c": chain if rehash_chain else row["chain_hash"],
                        "s": row["seq"],
                    },
                )
        if rehash_chain:
            conn.execute(
                text("UPDATE audit_head SET chain_hash = :c, frontier = :f"),
                {"c": chain, "f": pack_frontier(frontier)},
            )


def cut_back(writer: AuditWriter, size: int, *, checkpoints: bool) -> None:
    """Delete every entry after `size` (and optionally the checkpoints beyond it) and rewrite the head row."""
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
    sql(
        writer,
        "UPDATE audit_head SET last_seq = :n, chain_hash = :c, frontier = :f",
        n=size,
        c=chain,
        f=pack_frontier(frontier),
    )


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


def test_anchor_without_any_audit_database(empty_db_url, tmp_path):
    # given an anchor file from an empty log's checkpoint, and one forged line
    engine = make_engine(empty_db_url("anchored"))
    anchor = tmp_path / "anchors.jsonl"
    key = signing_key_from_seed(SEED)
    try:
        writer = AuditWriter(engine, key, FrozenClock(datetime(2026, 1, 1, tzinfo=UTC)), anchor_path=anchor)
        writer.init_schema()
        writer.checkpoint()  # tree size 0
        with engine.begin() as conn:
            for table in ("audit_entries", "audit_checkpoints", "audit_head"):
                conn.execute(text(f"DROP TABLE {table}"))
        # then the empty-tree anchor agrees with a missing log
        assert verify(engine, key.public_key(), anchor).ok
        # and a forged line claiming entries is a bad signature, not a truncation
        line = json.loads(anchor.read_text())
        line["tree_size"] = 3
        anchor.write_text(anchor.read_text() + json.dumps(line) + "\n")
        report = verify(engine, key.public_key(), anchor)
        assert report.ok is False and report.problem == "bad_signature" and report.bad_checkpoint == 3
    finally:
        engine.dispose()
