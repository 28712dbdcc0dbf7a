"""Pure hashing for the audit log: canonical encoding, RFC 6962 leaf/node hashes, the chain, Merkle roots.

- canonical encoding: sorted-key compact JSON (``separators=(",", ":")``, UTF-8, non-ASCII kept as is) of every
  content field of an entry, including ``seq`` and ``at``;
- ``leaf_hash = SHA-256(0x00 || canonical)`` (RFC 6962 §2.1 leaf);
- ``chain_hash_n = SHA-256(0x01 || chain_hash_{n-1} || leaf_hash_n)``, ``chain_hash_0`` = 32 zero bytes;
- ``entry_mac_n = HMAC-SHA256(mac_key, "mamori/audit/entry-mac/v1" || seq_n (8 bytes, big-endian) || chain_hash_n)``
  and ``head_mac = HMAC-SHA256(mac_key, "mamori/audit/head-mac/v1" || last_seq (8 bytes) || chain_hash || frontier)``:
  the chain alone is recomputable by anyone holding the files; the MAC key (a keystore secret, wrapped by the
  KEK outside the data directory) is what makes a rebuilt chain detectable;
- ``merkle_root(leaves)`` = RFC 6962 Merkle Tree Hash over the leaf hashes: the empty tree is SHA-256(""), one
  leaf is itself, otherwise split at the largest power of two smaller than n and hash
  ``SHA-256(0x01 || left || right)``.

The roots are computed with a compact *frontier* (the roots of the perfect subtrees that make up the tree,
largest first), which gives the same value as the recursive definition in O(log n) memory.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import json.encoder
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime

HASH_SIZE = 32
ZERO_HASH = bytes(HASH_SIZE)
EMPTY_ROOT = hashlib.sha256(b"").digest()
LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"

DetailValue = str | int | bool | None

_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), sort_keys=True, allow_nan=False)
_encode = _ENCODER.encode
# The C string encoder json.dumps(ensure_ascii=False) uses for a str: quotes and escapes it.
_quote = json.encoder.encode_basestring
_sha256 = hashlib.sha256

AT_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def format_at(value: datetime) -> str:
    """The stored and hashed form of a timestamp: UTC, microseconds, fixed width (27 characters)."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("naive datetime")
    return value.astimezone(UTC).strftime(AT_FORMAT)


def parse_at(text: str) -> datetime:
    return datetime.strptime(text, AT_FORMAT).replace(tzinfo=UTC)


def encode_list(values: Iterable[str]) -> str:
    """Canonical JSON text of a list of strings (order kept)."""
    return _encode(list(values))


def encode_details(details: Mapping[str, DetailValue]) -> str:
    """Canonical JSON text of a flat mapping (keys sorted)."""
    return _encode(dict(details))


def canonical_bytes(
    *,
    seq: int,
    at: str,
    actor: str,
    actor_role: str,
    action: str,
    purpose: str | None,
    subject_ids_json: str,
    fields_json: str,
    decision: str,
    rule_ids_json: str,
    reason: str | None,
    details_json: str,
) -> bytes:
    """The bytes a leaf hash covers, built from the stored column values.

    The ``*_json`` arguments are the stored canonical JSON texts and are embedded verbatim, so the result equals
    ``json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False)`` of the parsed entry when
    those texts are canonical (the writer only stores canonical texts), and any change to a stored byte changes
    the result.
    """
    q = _quote
    return (
        f'{{"action":{q(action)},"actor":{q(actor)},"actor_role":{q(actor_role)},"at":{q(at)},'
        f'"decision":{q(decision)},"details":{details_json},"fields":{fields_json},'
        f'"purpose":{"null" if purpose is None else q(purpose)},"reason":{"null" if reason is None else q(reason)},'
        f'"rule_ids":{rule_ids_json},"seq":{int(seq)},"subject_ids":{subject_ids_json}}}'
    ).encode()


def leaf_hash(canonical: bytes) -> bytes:
    """RFC 6962 leaf hash: SHA-256(0x00 || data)."""
    return _sha256(LEAF_PREFIX + canonical).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 6962 interior node hash: SHA-256(0x01 || left || right)."""
    return _sha256(NODE_PREFIX + left + right).digest()


def chain_hash(previous: bytes, leaf: bytes) -> bytes:
    """One link: SHA-256(0x01 || chain_hash_{n-1} || leaf_hash_n); the first link uses :data:`ZERO_HASH`."""
    return _sha256(NODE_PREFIX + previous + leaf).digest()


# -- the keyed layer ----------------------------------------------------------------------------------------------

MAC_SIZE = 32
ENTRY_MAC_LABEL = b"mamori/audit/entry-mac/v1"
HEAD_MAC_LABEL = b"mamori/audit/head-mac/v1"


def entry_mac(key: bytes, seq: int, chain: bytes) -> bytes:
    """HMAC-SHA256 over the label, the 8-byte big-endian seq and the entry's chain hash."""
    return hmac.digest(key, ENTRY_MAC_LABEL + int(seq).to_bytes(8, "big") + chain, "sha256")


def head_mac(key: bytes, last_seq: int, chain: bytes, frontier: bytes) -> bytes:
    """HMAC-SHA256 over the label, the head's last seq (8 bytes), its chain hash and its packed frontier."""
    return hmac.digest(key, HEAD_MAC_LABEL + int(last_seq).to_bytes(8, "big") + chain + frontier, "sha256")


# -- the Merkle frontier ------------------------------------------------------------------------------------------


def frontier_append(frontier: list[bytes], size: int, leaf: bytes) -> None:
    """Add one leaf to ``frontier`` (in place); ``size`` is the number of leaves before the append.

    The frontier of a tree of ``size`` leaves holds one perfect-subtree root per set bit of ``size``, largest
    first. Appending merges equal-sized subtrees exactly like binary addition carries.
    """
    if len(frontier) != size.bit_count():
        raise ValueError("frontier does not match the tree size")
    node = leaf
    while size & 1:
        node = node_hash(frontier.pop(), node)
        size >>= 1
    frontier.append(node)


def frontier_root(frontier: Sequence[bytes]) -> bytes:
    """The RFC 6962 Merkle Tree Hash of the tree whose frontier is given."""
    if not frontier:
        return EMPTY_ROOT
    root = frontier[-1]
    for subtree in reversed(frontier[:-1]):
        root = node_hash(subtree, root)
    return root


def pack_frontier(frontier: Sequence[bytes]) -> bytes:
    return b"".join(frontier)


def unpack_frontier(blob: bytes, size: int) -> list[bytes]:
    if len(blob) != HASH_SIZE * size.bit_count():
        raise ValueError("frontier does not match the tree size")
    return [bytes(blob[i : i + HASH_SIZE]) for i in range(0, len(blob), HASH_SIZE)]


def merkle_root(leaves: Iterable[bytes]) -> bytes:
    """RFC 6962 Merkle Tree Hash (MTH) of a sequence of leaf hashes (already ``leaf_hash``-ed)."""
    frontier: list[bytes] = []
    size = 0
    for leaf in leaves:
        frontier_append(frontier, size, leaf)
        size += 1
    return frontier_root(frontier)


# -- checkpoints --------------------------------------------------------------------------------------------------

CHECKPOINT_ORIGIN = "mamori.audit/v1"


def checkpoint_message(tree_size: int, root: bytes, chain: bytes, at: str) -> bytes:
    """What a checkpoint signature covers: a small text note in the spirit of C2SP tlog-checkpoint.

    Lines: origin, tree size (decimal), base64 root hash, base64 chain hash, the UTC time; each ends in a newline.
    """
    return (
        f"{CHECKPOINT_ORIGIN}\n{int(tree_size)}\n{base64.b64encode(root).decode()}\n"
        f"{base64.b64encode(chain).decode()}\n{at}\n"
    ).encode()


def key_id(public_key_raw: bytes) -> str:
    """Identifier of a signing key: the first 16 hex digits of SHA-256(raw Ed25519 public key)."""
    return hashlib.sha256(public_key_raw).hexdigest()[:16]
