"""Pure hashing of the audit log: canonical encoding, RFC 6962 leaf/node hashes, chain links, Merkle roots."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mamori.kernel.audit.chain import (
    EMPTY_ROOT,
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
    leaf_hash,
    merkle_root,
    node_hash,
    pack_frontier,
    parse_at,
    unpack_frontier,
)


def sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def mth(leaves: list[bytes]) -> bytes:
    """RFC 6962 §2.1 Merkle Tree Hash, written straight from the definition (reference for the tests)."""
    n = len(leaves)
    if n == 0:
        return sha(b"")
    if n == 1:
        return leaves[0]
    k = 1
    while k * 2 < n:
        k *= 2
    return sha(b"\x01" + mth(leaves[:k]) + mth(leaves[k:]))


def leaves(n: int) -> list[bytes]:
    return [sha(b"\x00" + f"entry {i}".encode()) for i in range(n)]


def test_leaf_and_node_hashes_use_the_rfc6962_prefixes():
    # given some data
    data = b'{"seq":1}'
    # then a leaf is SHA-256(0x00 || data) and a node SHA-256(0x01 || left || right)
    assert leaf_hash(data) == hashlib.sha256(b"\x00" + data).digest()
    a, b = leaf_hash(b"a"), leaf_hash(b"b")
    assert node_hash(a, b) == hashlib.sha256(b"\x01" + a + b).digest()
    assert leaf_hash(data) != hashlib.sha256(data).digest()


def test_chain_link_definition_and_genesis():
    # given two leaves
    l1, l2 = leaf_hash(b"one"), leaf_hash(b"two")
    # when chained from the zero hash
    c1 = chain_hash(ZERO_HASH, l1)
    c2 = chain_hash(c1, l2)
    # then each link is SHA-256(0x01 || previous || leaf)
    assert ZERO_HASH == bytes(32)
    assert c1 == sha(b"\x01" + bytes(32) + l1)
    assert c2 == sha(b"\x01" + c1 + l2)
    assert chain_hash(ZERO_HASH, l2) != c2


def test_merkle_root_of_empty_and_one_leaf():
    assert merkle_root([]) == sha(b"") == EMPTY_ROOT
    (only,) = leaves(1)
    assert merkle_root([only]) == only


def test_merkle_root_two_three_and_five_leaves_by_hand():
    # given leaves a..e
    a, b, c, d, e = leaves(5)

    def node(x: bytes, y: bytes) -> bytes:
        return sha(b"\x01" + x + y)

    # then the roots are the hand-expanded RFC 6962 trees
    assert merkle_root([a, b]) == node(a, b)
    assert merkle_root([a, b, c]) == node(node(a, b), c)
    assert merkle_root([a, b, c, d, e]) == node(node(node(a, b), node(c, d)), e)
    # and order matters
    assert merkle_root([b, a]) != merkle_root([a, b])


@pytest.mark.parametrize("n", list(range(0, 40)) + [63, 64, 65, 127, 128, 129, 1000])
def test_merkle_root_matches_the_recursive_definition(n):
    items = leaves(n)
    assert merkle_root(items) == mth(items)


@given(st.lists(st.binary(min_size=32, max_size=32), max_size=80))
def test_frontier_root_equals_mth_for_every_prefix(items):
    # given leaves appended one by one to a frontier
    frontier: list[bytes] = []
    for size, item in enumerate(items):
        frontier_append(frontier, size, item)
        # then every prefix's root is the MTH of that prefix, and the frontier survives packing
        assert frontier_root(frontier) == mth(items[: size + 1])
        assert unpack_frontier(pack_frontier(frontier), size + 1) == frontier


def test_frontier_refuses_a_size_it_does_not_match():
    frontier: list[bytes] = []
    frontier_append(frontier, 0, leaves(1)[0])
    with pytest.raises(ValueError):
        frontier_append(frontier, 3, leaves(1)[0])  # 3 leaves have 2 subtree roots, not 1
    with pytest.raises(ValueError):
        unpack_frontier(b"\x00" * 33, 1)
    with pytest.raises(ValueError):
        unpack_frontier(b"\x00" * 32, 3)


ENTRY = {
    "seq": 42,
    "at": "2026-11-23T01:02:03.000004Z",
    "actor": 'staff:"u1"\\x',
    "actor_role": "sales",
    "action": "customer.read",
    "purpose": None,
    "subject_ids": ["sub_1", "sub_2"],
    "fields": ["name_kana", "氏名"],
    "decision": "allow",
    "rule_ids": ["R-18-1"],
    "reason": None,
    "details": {"masked": "email,phone", "count": 2, "all": True, "none": None},
}


def canonical_of(entry: dict) -> bytes:
    return canonical_bytes(
        seq=entry["seq"],
        at=entry["at"],
        actor=entry["actor"],
        actor_role=entry["actor_role"],
        action=entry["action"],
        purpose=entry["purpose"],
        subject_ids_json=encode_list(entry["subject_ids"]),
        fields_json=encode_list(entry["fields"]),
        decision=entry["decision"],
        rule_ids_json=encode_list(entry["rule_ids"]),
        reason=entry["reason"],
        details_json=encode_details(entry["details"]),
    )


def test_canonical_encoding_is_sorted_compact_utf8_json_of_every_field():
    # when an entry is encoded
    encoded = canonical_of(ENTRY)
    # then it is exactly sorted-key compact JSON, UTF-8, non-ASCII kept
    assert encoded == json.dumps(ENTRY, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8"
    )
    assert "氏名".encode() in encoded
    assert json.loads(encoded) == ENTRY


@given(
    st.text(min_size=1, max_size=20),
    st.one_of(st.none(), st.text(max_size=10)),
    st.lists(st.text(max_size=8), max_size=4),
    st.dictionaries(
        st.text(max_size=5), st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=5))
    ),
)
def test_canonical_encoding_matches_json_dumps_for_any_text(actor, purpose, ids, details):
    entry = dict(ENTRY, actor=actor, purpose=purpose, subject_ids=ids, details=details)
    assert canonical_of(entry) == json.dumps(
        entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode("utf-8")


@pytest.mark.parametrize(
    "field, value",
    [
        ("seq", 43),
        ("at", "2026-11-23T01:02:03.000005Z"),
        ("actor", "staff:u2"),
        ("purpose", "contract"),
        ("subject_ids", ["sub_2", "sub_1"]),
        ("fields", ["name_kana"]),
        ("decision", "deny"),
        ("rule_ids", []),
        ("reason", "x"),
        ("details", {"masked": "email,phone", "count": 3, "all": True, "none": None}),
    ],
)
def test_any_field_change_changes_the_leaf(field, value):
    assert leaf_hash(canonical_of(dict(ENTRY, **{field: value}))) != leaf_hash(canonical_of(ENTRY))


def test_timestamps_are_fixed_width_utc_and_round_trip():
    # given an aware time in JST
    jst = datetime(2026, 11, 23, 10, 0, 0, 123, tzinfo=timezone(timedelta(hours=9)))
    # then it is stored as UTC with microseconds and parses back to the same instant
    text = format_at(jst)
    assert text == "2026-11-23T01:00:00.000123Z"
    assert parse_at(text) == jst
    assert parse_at(text).tzinfo is UTC
    assert len(format_at(datetime(2026, 1, 1, tzinfo=UTC))) == 27


def test_naive_timestamps_are_refused():
    with pytest.raises(ValueError):
        format_at(datetime(2026, 11, 23, 1, 0))


def test_checkpoint_message_binds_every_signed_value():
    base = checkpoint_message(10, b"r" * 32, b"c" * 32, "2026-11-23T01:00:00.000000Z")
    assert base.startswith(b"mamori.audit/v1\n10\n")
    assert checkpoint_message(11, b"r" * 32, b"c" * 32, "2026-11-23T01:00:00.000000Z") != base
    assert checkpoint_message(10, b"R" * 32, b"c" * 32, "2026-11-23T01:00:00.000000Z") != base
    assert checkpoint_message(10, b"r" * 32, b"C" * 32, "2026-11-23T01:00:00.000000Z") != base
    assert checkpoint_message(10, b"r" * 32, b"c" * 32, "2026-11-23T01:00:00.000001Z") != base


def test_entry_and_head_macs_are_hmac_sha256_over_label_seq_and_state():
    key = b"k" * 32
    chain = b"c" * 32
    assert (
        entry_mac(key, 7, chain)
        == hmac.new(
            key, b"mamori/audit/entry-mac/v1" + b"\x00" * 7 + b"\x07" + chain, hashlib.sha256
        ).digest()
    )
    frontier = b"f" * 64
    assert (
        head_mac(key, 3, chain, frontier)
        == hmac.new(
            key, b"mamori/audit/head-mac/v1" + (3).to_bytes(8, "big") + chain + frontier, hashlib.sha256
        ).digest()
    )
    # bound to the key, the seq and the chain hash; and an entry's MAC is never a head's
    assert entry_mac(b"j" * 32, 7, chain) != entry_mac(key, 7, chain)
    assert entry_mac(key, 8, chain) != entry_mac(key, 7, chain)
    assert entry_mac(key, 7, b"d" * 32) != entry_mac(key, 7, chain)
    assert head_mac(key, 7, chain, b"") != entry_mac(key, 7, chain)
