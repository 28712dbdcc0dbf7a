"""The audit log: an append-only, hash-chained (RFC 6962-style) log with signed checkpoints, in its own database.

- :class:`AuditWriter` appends :class:`AuditEntry` batches on its own connection (committed before returning) and
  signs checkpoints, optionally mirrored to an anchor file outside the database;
- :func:`verify` recomputes everything and names the first bad entry;
- :mod:`mamori.kernel.audit.chain` holds the pure hashing functions.

No entry ever holds a personal value: labels, codes, opaque subject ids and field names only.
"""

from mamori.kernel.audit.chain import canonical_bytes, chain_hash, leaf_hash, merkle_root, node_hash
from mamori.kernel.audit.models import AuditBase
from mamori.kernel.audit.verify import PROBLEMS, VerifyReport, verify
from mamori.kernel.audit.writer import (
    AuditEntry,
    AuditWriter,
    Checkpoint,
    StoredEntry,
    signing_key_from_seed,
)

__all__ = [
    "PROBLEMS",
    "AuditBase",
    "AuditEntry",
    "AuditWriter",
    "Checkpoint",
    "StoredEntry",
    "VerifyReport",
    "canonical_bytes",
    "chain_hash",
    "leaf_hash",
    "merkle_root",
    "node_hash",
    "signing_key_from_seed",
    "verify",
]
