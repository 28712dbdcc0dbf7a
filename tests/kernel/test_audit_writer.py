"""The audit writer: appends on its own transaction, serialised, auto-checkpointed, anchored; entries hold no data."""

from __future__ import annotations

import dataclasses
import json
import threading
from datetime import UTC, datetime, timedelta, timezone

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from mamori.kernel.audit import AuditEntry, AuditWriter, signing_key_from_seed, verify
from mamori.kernel.audit.chain import checkpoint_message, format_at, merkle_root
from mamori.kernel.clock import FrozenClock
from mamori.kernel.db import make_engine
from mamori.kernel.errors import ConfigurationError, ValidationFailed

SEED = b"k" * 32


def entry(n: int = 0, **overrides) -> AuditEntry:
    values = dict(
        actor=f"staff:u{n}",
        actor_role="sales",
        action="customer.read",
        purpose="contract",
        subject_ids=(f"sub_{n:04d}",),
        fields=("name", "email"),
        decision="allow",
    )
    values.update(overrides)
    return AuditEntry(**values)


@pytest.fixture
def clock():
    return FrozenClock(datetime(2026, 11, 23, 1, 0, tzinfo=UTC))


@pytest.fixture
def make_writer(empty_db_url, clock, tmp_path):
    engines = []

    def make(url=None, *, every=1000, anchor=True, seed=SEED):
        engine = make_engine(url or empty_db_url("audit"))
        engines.append(engine)
        writer = AuditWriter(
            engine,
            signing_key_from_seed(seed),
            clock,
            checkpoint_every=every,
            anchor_path=tmp_path / "anchors.jsonl" if anchor else None,
        )
        writer.init_schema()
        return writer

    yield make
    for engine in engines:
        engine.dispose()


def test_append_returns_consecutive_seqs_and_tail_reads_newest_last(make_writer, clock):
    # given a fresh log
    writer = make_writer()
    # when two batches are appended
    first = writer.append([entry(1), entry(2)])
    clock.advance(timedelta(seconds=1))
    second = writer.append([entry(3, decision="deny", rule_ids=("R-18-1",), reason="purpose_not_notified")])
    # then seqs start at 1 without gaps, and tail gives the newest last with every field intact
    assert first == [1, 2]
    assert second == [3]
    tail = writer.tail(2)
    assert [e.seq for e in tail] == [2, 3]
    last = tail[-1]
    assert (last.actor, last.decision, last.rule_ids, last.reason) == (
        "staff:u3",
        "deny",
        ("R-18-1",),
        "purpose_not_notified",
    )
    assert last.at == datetime(2026, 11, 23, 1, 0, 1, tzinfo=UTC)
    assert last.subject_ids == ("sub_0003",)
    assert len(last.leaf_hash) == 32 and len(last.chain_hash) == 32
    assert writer.tail(0) == []
    assert [e.seq for e in writer.tail(100)] == [1, 2, 3]


def test_empty_append_writes_nothing(make_writer):
    writer = make_writer()
    assert writer.append([]) == []
    assert writer.tail(10) == []


def test_explicit_time_is_kept_in_utc(make_writer):
    writer = make_writer()
    jst = datetime(2026, 11, 23, 9, 30, 0, 5, tzinfo=timezone(timedelta(hours=9)))
    writer.append([entry(1, at=jst)])
    stored = writer.tail(1)[0].at
    assert stored == jst
    assert stored.utcoffset() == timedelta(0)


def test_append_is_committed_even_when_the_callers_business_transaction_rolls_back(make_writer, empty_db_url):
    # given a business transaction open on the data store
    writer = make_writer()
    data = make_engine(empty_db_url("data"))
    try:
        with data.connect() as conn:
            tx = conn.begin()
            conn.execute(text("CREATE TABLE t (x INTEGER)"))
            # when a read entry is audited inside it and the business transaction then rolls back
            writer.append([entry(1)])
            tx.rollback()
    finally:
        data.dispose()
    # then the audit entry stays, read back through a new engine
    other = make_engine(writer.engine.url.render_as_string(hide_password=False))
    try:
        with other.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM audit_entries")).scalar_one() == 1
    finally:
        other.dispose()


def test_checkpoints_every_n_entries_and_on_demand(make_writer, tmp_path):
    # given a writer that checkpoints every 5 entries
    writer = make_writer(every=5)
    # when 12 entries arrive in batches (one batch crosses 5 and 10)
    writer.append([entry(i) for i in range(3)])
    writer.append([entry(i) for i in range(3, 11)])  # 4..11: crosses 5 and 10 → one checkpoint at 11
    writer.append([entry(11)])
    # then a checkpoint is signed at the end of each batch that crossed a multiple of 5
    sizes = [c.tree_size for c in writer.checkpoints()]
    assert sizes == [11]
    # when a checkpoint is requested explicitly, twice
    made = writer.checkpoint()
    again = writer.checkpoint()
    # then it covers every entry, is stored once, and is signed over (size, root, chain, at)
    assert made.tree_size == 12 and again == made
    assert [c.tree_size for c in writer.checkpoints()] == [11, 12]
    leaves = [e.leaf_hash for e in writer.tail(12)]
    assert made.root_hash == merkle_root(leaves)
    assert made.chain_hash == writer.tail(1)[0].chain_hash
    key = Ed25519PublicKey.from_public_bytes(writer.public_key_bytes())
    key.verify(made.signature, checkpoint_message(12, made.root_hash, made.chain_hash, format_at(made.at)))
    with pytest.raises(InvalidSignature):
        key.verify(
            made.signature, checkpoint_message(11, made.root_hash, made.chain_hash, format_at(made.at))
        )
    # and each checkpoint was appended once to the anchor file outside the database
    lines = [json.loads(line) for line in (tmp_path / "anchors.jsonl").read_text().splitlines()]
    assert [line["tree_size"] for line in lines] == [11, 12]
    assert lines[1]["key_id"] == made.key_id == writer.key_id


def test_small_checkpoint_interval_signs_each_crossing(make_writer):
    writer = make_writer(every=2, anchor=False)
    for i in range(5):
        writer.append([entry(i)])
    assert [c.tree_size for c in writer.checkpoints()] == [2, 4]


def test_checkpoint_of_an_empty_log_is_the_empty_root(make_writer):
    writer = make_writer()
    made = writer.checkpoint()
    assert made.tree_size == 0
    assert made.root_hash == merkle_root([])


def test_init_schema_is_idempotent_and_keeps_entries(make_writer):
    writer = make_writer()
    writer.append([entry(1)])
    writer.init_schema()
    writer.init_schema()
    assert writer.append([entry(2)]) == [2]
    assert verify(writer.engine, writer.public_key_bytes()).ok


def test_append_before_init_is_a_configuration_error(empty_db_url, clock):
    engine = make_engine(empty_db_url("audit"))
    try:
        writer = AuditWriter(engine, signing_key_from_seed(SEED), clock)
        with pytest.raises(DBAPIError):  # no tables at all: the driver's error
            writer.append([entry(1)])
        writer.init_schema()
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM audit_head"))
        with pytest.raises(ConfigurationError):
            writer.append([entry(1)])
    finally:
        engine.dispose()


def test_bad_checkpoint_interval_is_refused(empty_db_url, clock):
    with pytest.raises(ConfigurationError):
        AuditWriter(make_engine("sqlite://"), signing_key_from_seed(SEED), clock, checkpoint_every=0)


def test_signing_key_is_derived_deterministically_from_the_seed():
    a = signing_key_from_seed(b"s" * 32)
    b = signing_key_from_seed(b"s" * 32)
    c = signing_key_from_seed(b"t" * 32)
    assert a.private_bytes_raw() == b.private_bytes_raw() != c.private_bytes_raw()
    assert a.private_bytes_raw() != b"s" * 32  # HKDF, not the raw secret
    with pytest.raises(ConfigurationError):
        signing_key_from_seed(b"short")


def test_entries_filters_by_subject_and_pages(make_writer):
    # given entries naming different subjects, including ids with LIKE wildcards and case differences
    writer = make_writer()
    writer.append(
        [
            entry(1, subject_ids=("sub_a",)),
            entry(2, subject_ids=("sub%a", "sub_b")),
            entry(3, subject_ids=("SUB_A",)),
            entry(4, subject_ids=("sub_a", "sub_c")),
            entry(5, subject_ids=()),
            entry(6, subject_ids=('x"sub_a',)),
        ]
    )
    # then the subject filter is exact (no wildcard, case or substring matches)
    assert [e.seq for e in writer.entries("sub_a")] == [1, 4]
    assert [e.seq for e in writer.entries("sub%a")] == [2]
    assert [e.seq for e in writer.entries("sub_")] == []
    # and paging works with and without the filter
    assert [e.seq for e in writer.entries("sub_a", limit=1)] == [1]
    assert [e.seq for e in writer.entries("sub_a", after_seq=1)] == [4]
    assert [e.seq for e in writer.entries(limit=2, after_seq=2)] == [3, 4]
    assert [e.seq for e in writer.entries()] == [1, 2, 3, 4, 5, 6]


def test_reading_with_bad_arguments_is_refused(make_writer):
    writer = make_writer()
    with pytest.raises(ValidationFailed):
        writer.tail(-1)
    with pytest.raises(ValidationFailed):
        writer.entries(limit=0)
    with pytest.raises(ValidationFailed):
        writer.entries(after_seq=-1)


def test_entry_has_no_free_text_field_except_reason_which_must_be_a_code():
    # The writer cannot tell a personal value from a label; the shape limits what a caller can put in.
    names = [f.name for f in dataclasses.fields(AuditEntry)]
    assert names == [
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
        "at",
    ]
    # reason is a code: no spaces, no Japanese, short
    for text_value in ["山田太郎さんの住所", "called about refund", "x" * 65, "", "a\nb"]:
        with pytest.raises(ValidationFailed):
            entry(reason=text_value)
    assert entry(reason="purpose_not_notified").reason == "purpose_not_notified"


@pytest.mark.parametrize(
    "overrides",
    [
        {"decision": "maybe"},
        {"actor": ""},
        {"action": "read\nforged line"},
        {"purpose": "x" * 300},
        {"subject_ids": "sub_1"},  # a bare string would be split into characters
        {"fields": ("name", 3)},
        {"rule_ids": None},
        {"details": {"amount": 1.5}},
        {"details": {"nested": {"a": 1}}},
        {"details": ["a"]},
        {"at": datetime(2026, 11, 23, 1, 0)},  # naive
        {"actor": "staff:\ud800"},  # lone surrogate: not UTF-8
    ],
)
def test_bad_entries_are_refused_without_echoing_values(overrides):
    with pytest.raises(ValidationFailed) as caught:
        entry(**overrides)
    assert caught.value.details["field"] in AuditEntry.__dataclass_fields__
    assert "forged" not in caught.value.message_en


def test_entry_collections_are_frozen():
    made = entry(subject_ids=["sub_1"], fields=["name"], details={"n": 1})
    assert made.subject_ids == ("sub_1",)
    with pytest.raises(TypeError):
        made.details["n"] = 2  # type: ignore[index]


def test_append_refuses_what_is_not_an_entry(make_writer):
    writer = make_writer()
    with pytest.raises(ValidationFailed):
        writer.append([{"actor": "x"}])  # type: ignore[list-item]
    assert writer.tail(1) == []


def test_two_writers_appending_concurrently_keep_one_chain(make_writer, empty_db_url):
    # given two writers on separate engines (as two processes would have) on the same audit database
    url = empty_db_url("audit")
    one = make_writer(url, every=7)
    two = make_writer(url, every=7)
    seqs: list[list[int]] = [[], []]
    errors: list[BaseException] = []

    def work(index, writer):
        try:
            for i in range(30):
                seqs[index].extend(writer.append([entry(i), entry(i + 100)][: 1 + i % 2]))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i, w)) for i, w in enumerate((one, two))]
    # when both append at once
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # then no append failed, the seqs are disjoint and contiguous, and the chain verifies
    assert errors == []
    total = len(seqs[0]) + len(seqs[1])
    assert total == 2 * 45
    assert sorted(seqs[0] + seqs[1]) == list(range(1, total + 1))
    report = verify(one.engine, one.public_key_bytes(), one.anchor_path)
    assert report.ok, report
    assert report.entries == total
    assert report.checkpoints >= total // 7 - 1


def test_group_commit_many_threads_one_writer_one_valid_chain(make_writer, tmp_path):
    """Concurrent appends on one writer are group-committed: every entry lands exactly once, each caller gets its
    own seqs back, checkpoints stay consistent, and the whole log verifies."""
    import threading

    from mamori.kernel.audit import verify

    writer = make_writer(every=25)
    results: dict[int, list[int]] = {}
    errors: list[BaseException] = []

    def worker(t: int) -> None:
        try:
            for i in range(30):
                seqs = writer.append([entry(t * 100 + i), entry(t * 100 + i, action="customer.find")])
                results.setdefault(t, []).extend(seqs)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    all_seqs = sorted(s for seqs in results.values() for s in seqs)
    assert all_seqs == list(range(1, 8 * 30 * 2 + 1))
    for seqs in results.values():  # a caller's two entries are consecutive and really are its own
        for a, b in zip(seqs[::2], seqs[1::2], strict=True):
            assert b == a + 1
    by_seq = {e.seq: e for e in writer.tail(10_000)}
    for t, seqs in results.items():
        assert {by_seq[s].subject_ids[0] for s in seqs} == {f"sub_{t * 100 + i:04d}" for i in range(30)}
    report = verify(writer.engine, writer.public_key_bytes(), tmp_path / "anchors.jsonl")
    assert report.ok, report
    assert report.checkpoints >= 8 * 30 * 2 // 25


def test_group_commit_a_bad_entry_fails_only_its_caller(make_writer):
    writer = make_writer()
    with pytest.raises(ValidationFailed):
        writer.append([entry(1, reason="not a code with spaces")])
    assert writer.append([entry(2)]) == [1]
