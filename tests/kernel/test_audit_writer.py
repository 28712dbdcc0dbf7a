"""The audit writer: appends on its own transaction, serialised, keyed, auto-checkpointed (by count and by time),
anchored (file outside MAMORI_HOME, optional syslog witness); a new log starts with a genesis entry; entries hold no
data."""

from __future__ import annotations

import dataclasses
import json
import os
import socket
import tempfile
import threading
from datetime import UTC, datetime, timedelta, timezone

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from mamori.kernel.audit import AuditEntry, AuditWriter, signing_key_from_seed, verify
from mamori.kernel.audit.chain import checkpoint_message, entry_mac, format_at, merkle_root
from mamori.kernel.clock import FrozenClock
from mamori.kernel.db import make_engine
from mamori.kernel.errors import ConfigurationError, IntegrityFailure, ValidationFailed

SEED = b"k" * 32
MAC = b"q" * 32


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

    def make(url=None, *, every=1000, anchor=True, seed=SEED, minutes=5.0, **options):
        engine = make_engine(url or empty_db_url("audit"))
        engines.append(engine)
        writer = AuditWriter(
            engine,
            signing_key_from_seed(seed),
            clock,
            mac_key=MAC,
            checkpoint_every=every,
            checkpoint_minutes=minutes,
            anchor_path=tmp_path / "anchors.jsonl" if anchor else None,
            **options,
        )
        writer.init_schema()
        return writer

    yield make
    for engine in engines:
        engine.dispose()


def test_append_returns_consecutive_seqs_and_tail_reads_newest_last(make_writer, clock):
    # given a fresh log (seq 1 is its genesis entry)
    writer = make_writer()
    # when two batches are appended
    first = writer.append([entry(1), entry(2)])
    clock.advance(timedelta(seconds=1))
    second = writer.append([entry(3, decision="deny", rule_ids=("R-18-1",), reason="purpose_not_notified")])
    # then seqs follow the genesis entry without gaps, and tail gives the newest last with every field intact
    assert first == [2, 3]
    assert second == [4]
    tail = writer.tail(2)
    assert [e.seq for e in tail] == [3, 4]
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
    assert [e.seq for e in writer.tail(100)] == [1, 2, 3, 4]


def test_empty_append_writes_nothing(make_writer):
    writer = make_writer()
    assert writer.append([]) == []
    assert [e.action for e in writer.tail(10)] == ["audit.genesis"]


def test_a_new_log_starts_with_an_anchored_genesis_entry(make_writer, tmp_path, clock):
    # given a new log
    writer = make_writer()
    # then it holds one entry that names no one, and a signed checkpoint of it is in the anchor file
    (genesis,) = writer.tail(10)
    assert (genesis.seq, genesis.action, genesis.actor, genesis.actor_role, genesis.decision) == (
        1,
        "audit.genesis",
        "system",
        "system",
        "info",
    )
    assert genesis.subject_ids == () and genesis.fields == () and genesis.at == clock.now()
    assert genesis.details == {"key_id": writer.key_id}
    (made,) = writer.checkpoints()
    assert made.tree_size == 1 and made.root_hash == merkle_root([genesis.leaf_hash])
    lines = [json.loads(line) for line in (tmp_path / "anchors.jsonl").read_text().splitlines()]
    assert [line["tree_size"] for line in lines] == [1]
    # when init_schema runs again, there is still one genesis entry and one checkpoint
    writer.init_schema()
    assert len(writer.tail(10)) == 1 and len(writer.checkpoints()) == 1
    assert writer.checkpoint() == made


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
            assert conn.execute(text("SELECT count(*) FROM audit_entries")).scalar_one() == 2  # genesis + 1
    finally:
        other.dispose()


def test_checkpoints_every_n_entries_and_on_demand(make_writer, tmp_path):
    # given a writer that checkpoints every 5 entries (seq 1, the genesis entry, has its own checkpoint)
    writer = make_writer(every=5)
    # when 12 entries arrive in batches (one batch crosses 5 and 10)
    writer.append([entry(i) for i in range(2)])  # 2..3
    writer.append([entry(i) for i in range(2, 10)])  # 4..11: crosses 5 and 10 → one checkpoint at 11
    writer.append([entry(11)])
    # then a checkpoint is signed at the end of each batch that crossed a multiple of 5
    sizes = [c.tree_size for c in writer.checkpoints()]
    assert sizes == [1, 11]
    # when a checkpoint is requested explicitly, twice
    made = writer.checkpoint()
    again = writer.checkpoint()
    # then it covers every entry, is stored once, and is signed over (size, root, chain, at)
    assert made.tree_size == 12 and again == made
    assert [c.tree_size for c in writer.checkpoints()] == [1, 11, 12]
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
    assert [line["tree_size"] for line in lines] == [1, 11, 12]
    assert lines[1]["key_id"] == made.key_id == writer.key_id


def test_small_checkpoint_interval_signs_each_crossing(make_writer):
    writer = make_writer(every=2, anchor=False)
    for i in range(5):
        writer.append([entry(i)])
    assert [c.tree_size for c in writer.checkpoints()] == [1, 2, 4, 6]


def test_checkpoints_by_time_when_the_newest_is_older_than_t_minutes(make_writer, clock):
    # given a writer that checkpoints every 1000 entries or 5 minutes
    writer = make_writer(every=1000, minutes=5.0)
    writer.append([entry(1)])  # seq 2, at the genesis checkpoint's time: not due
    clock.advance(timedelta(minutes=4, seconds=59))
    writer.append([entry(2)])  # seq 3: the newest checkpoint is 4:59 old
    assert [c.tree_size for c in writer.checkpoints()] == [1]
    # when the next append comes 5 minutes after the newest checkpoint
    clock.advance(timedelta(seconds=1))
    writer.append([entry(3)])
    # then it is covered by a checkpoint at once, and the clock starts again from there
    assert [c.tree_size for c in writer.checkpoints()] == [1, 4]
    clock.advance(timedelta(minutes=1))
    writer.append([entry(4)])
    assert [c.tree_size for c in writer.checkpoints()] == [1, 4]
    # without a time limit only the count matters
    counted = make_writer(every=1000, minutes=None, anchor=False)
    clock.advance(timedelta(days=1))
    counted.append([entry(5)])
    assert [c.tree_size for c in counted.checkpoints()] == [1]


def test_time_rule_sees_checkpoints_signed_by_another_writer(make_writer, clock, empty_db_url):
    # given two writers (two processes) on one log; the first signs a checkpoint 6 minutes in
    url = empty_db_url("audit")
    one = make_writer(url, every=1000)
    two = make_writer(url, every=1000)
    two.append([entry(1)])  # caches the genesis checkpoint's time
    clock.advance(timedelta(minutes=6))
    one.append([entry(2)])  # due: checkpoint at 3
    # when the second appends right after, it sees that checkpoint and does not sign another
    two.append([entry(3)])
    assert [c.tree_size for c in two.checkpoints()] == [1, 3]


def test_checkpoint_if_due_signs_only_when_entries_are_past_the_newest_checkpoint(make_writer, tmp_path):
    writer = make_writer(every=1000)
    # nothing past the genesis checkpoint: nothing to do
    assert writer.checkpoint_if_due() is None
    writer.append([entry(1), entry(2)])
    made = writer.checkpoint_if_due()
    assert made is not None and made.tree_size == 3
    assert writer.checkpoint_if_due() is None
    lines = [json.loads(line) for line in (tmp_path / "anchors.jsonl").read_text().splitlines()]
    assert [line["tree_size"] for line in lines] == [1, 3]
    assert verify(writer.engine, writer.public_key_bytes(), tmp_path / "anchors.jsonl", mac_key=MAC).ok


def test_init_schema_is_idempotent_and_keeps_entries(make_writer):
    writer = make_writer()
    writer.append([entry(1)])
    writer.init_schema()
    writer.init_schema()
    assert writer.append([entry(2)]) == [3]
    assert verify(writer.engine, writer.public_key_bytes(), mac_key=MAC).ok


def test_append_before_init_is_a_configuration_error(empty_db_url, clock):
    engine = make_engine(empty_db_url("audit"))
    try:
        writer = AuditWriter(engine, signing_key_from_seed(SEED), clock, mac_key=MAC)
        with pytest.raises(DBAPIError):  # no tables at all: the driver's error
            writer.append([entry(1)])
        writer.init_schema()
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM audit_head"))
        with pytest.raises(ConfigurationError):
            writer.append([entry(1)])
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    "options",
    [
        {"checkpoint_every": 0},
        {"checkpoint_minutes": 0},
        {"checkpoint_minutes": -1.0},
        {"mac_key": b"short"},
        {"mac_key": "q" * 32},
    ],
)
def test_bad_configuration_is_refused(clock, options):
    values = {"mac_key": MAC, **options}
    with pytest.raises(ConfigurationError):
        AuditWriter(make_engine("sqlite://"), signing_key_from_seed(SEED), clock, **values)


def test_anchor_inside_mamori_home_is_refused(tmp_path, clock):
    home = tmp_path / "home"
    engine = make_engine("sqlite://")
    for inside in (home / "audit-anchors.jsonl", home / "sub" / ".." / "x.jsonl", home):
        with pytest.raises(ConfigurationError) as caught:
            AuditWriter(
                engine, signing_key_from_seed(SEED), clock, mac_key=MAC, anchor_path=inside, home=home
            )
        assert caught.value.code == "anchor_inside_home"
    # a symlink into the home does not hide it
    (tmp_path / "link").symlink_to(home, target_is_directory=True)
    with pytest.raises(ConfigurationError):
        AuditWriter(
            engine,
            signing_key_from_seed(SEED),
            clock,
            mac_key=MAC,
            anchor_path=tmp_path / "link" / "a",
            home=home,
        )
    # beside the home (a sibling whose name starts the same) is fine
    AuditWriter(
        engine,
        signing_key_from_seed(SEED),
        clock,
        mac_key=MAC,
        anchor_path=tmp_path / "home2" / "a",
        home=home,
    )


def test_syslog_witness_receives_every_anchor_line(make_writer, tmp_path):
    # given a syslog socket (a unix datagram socket bound by the test) as the second witness
    directory = tempfile.mkdtemp(prefix="mamori-syslog-", dir="/tmp")  # short path: AF_UNIX limits its length
    path = os.path.join(directory, "log")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    try:
        server.bind(path)
        server.settimeout(5)
        # when a log is created (genesis checkpoint) and a checkpoint is signed
        writer = make_writer(anchor_syslog=path)
        writer.append([entry(1)])
        writer.checkpoint()
        received = [server.recv(65536) for _ in range(2)]
    finally:
        server.close()
        os.unlink(path)
        os.rmdir(directory)
    # then syslog got the same lines as the anchor file, at facility auth, tagged mamori-audit
    lines = (tmp_path / "anchors.jsonl").read_text().splitlines()
    assert len(lines) == 2
    for message, line in zip(received, lines, strict=True):
        text_ = message.decode()
        assert text_.startswith("<38>mamori-audit: ")  # LOG_AUTH (4) * 8 + INFO (6)
        assert text_.rstrip("\x00").endswith(line)


def test_unreachable_syslog_is_logged_not_fatal(make_writer, tmp_path, caplog):
    writer = make_writer(anchor_syslog=str(tmp_path / "no-such-socket"))
    with caplog.at_level("WARNING", logger="mamori.audit"):
        writer.append([entry(1)])
        made = writer.checkpoint()
    assert made.tree_size == 2
    assert "syslog" in caplog.text
    assert len((tmp_path / "anchors.jsonl").read_text().splitlines()) == 2


def test_syslog_address_forms():
    from mamori.kernel.audit.writer import _syslog_address

    assert _syslog_address("/dev/log") == "/dev/log"
    assert _syslog_address("logs.example.jp:514") == ("logs.example.jp", 514)
    assert _syslog_address("[::1]:514") == ("::1", 514)


def test_every_entry_is_keyed_and_a_forged_head_is_never_extended(make_writer):
    writer = make_writer()
    writer.append([entry(1), entry(2)])
    with writer.engine.connect() as conn:
        rows = conn.execute(text("SELECT seq, chain_hash, mac FROM audit_entries ORDER BY seq")).all()
    assert [bytes(r.mac) for r in rows] == [entry_mac(MAC, r.seq, bytes(r.chain_hash)) for r in rows]
    # when the head row is rolled back by someone without the key
    with writer.engine.begin() as conn:
        conn.execute(
            text("UPDATE audit_head SET last_seq = 2, chain_hash = :c, frontier = :f"),
            # the frontier of 2 leaves is the first subtree root of the frontier of 3 (2 + 1)
            {
                "c": bytes(rows[1].chain_hash),
                "f": bytes(conn.execute(text("SELECT frontier FROM audit_head")).scalar_one())[:32],
            },
        )
    # then the writer refuses to append on top of it (that would re-key the forged head)
    with pytest.raises(IntegrityFailure) as caught:
        writer.append([entry(3)])
    assert caught.value.code == "audit_head_mac"
    with pytest.raises(IntegrityFailure):
        writer.checkpoint_if_due()


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
    # then the subject filter is exact (no wildcard, case or substring matches); seq 1 is the genesis entry
    assert [e.seq for e in writer.entries("sub_a")] == [2, 5]
    assert [e.seq for e in writer.entries("sub%a")] == [3]
    assert [e.seq for e in writer.entries("sub_")] == []
    # and paging works with and without the filter
    assert [e.seq for e in writer.entries("sub_a", limit=1)] == [2]
    assert [e.seq for e in writer.entries("sub_a", after_seq=2)] == [5]
    assert [e.seq for e in writer.entries(limit=2, after_seq=3)] == [4, 5]
    assert [e.seq for e in writer.entries()] == [1, 2, 3, 4, 5, 6, 7]


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
    assert [e.action for e in writer.tail(10)] == ["audit.genesis"]


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
    assert sorted(seqs[0] + seqs[1]) == list(range(2, total + 2))  # after the one genesis entry
    report = verify(one.engine, one.public_key_bytes(), one.anchor_path, mac_key=MAC)
    assert report.ok, report
    assert report.entries == total + 1
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
    assert all_seqs == list(range(2, 8 * 30 * 2 + 2))
    for seqs in results.values():  # a caller's two entries are consecutive and really are its own
        for a, b in zip(seqs[::2], seqs[1::2], strict=True):
            assert b == a + 1
    by_seq = {e.seq: e for e in writer.tail(10_000)}
    for t, seqs in results.items():
        assert {by_seq[s].subject_ids[0] for s in seqs} == {f"sub_{t * 100 + i:04d}" for i in range(30)}
    report = verify(writer.engine, writer.public_key_bytes(), tmp_path / "anchors.jsonl", mac_key=MAC)
    assert report.ok, report
    assert report.checkpoints >= 8 * 30 * 2 // 25


def test_group_commit_a_bad_entry_fails_only_its_caller(make_writer):
    writer = make_writer()
    with pytest.raises(ValidationFailed):
        writer.append([entry(1, reason="not a code with spaces")])
    assert writer.append([entry(2)]) == [2]
