"""The audit log: an append-only, hash-chained (RFC 6962-style), keyed (HMAC per entry and on the head row) log with
signed checkpoints, in its own database (docs/audit.md).

- :class:`AuditWriter` appends :class:`AuditEntry` batches on its own connection (committed before returning) and
  signs checkpoints (by count, by age, on demand), anchored to a file outside MAMORI_HOME and optionally syslog;
- :func:`verify` recomputes everything and names the first bad entry;
- :mod:`mamori.kernel.audit.chain` holds the pure hashing functions.

No entry ever holds a personal value: labels, codes, opaque subject ids and field names only.
"""

from mamori.kernel.audit.chain import (
    canonical_bytes,
    chain_hash,
    entry_mac,
    head_mac,
    leaf_hash,
    merkle_root,
    node_hash,
)
from mamori.kernel.audit.entries import AuditEntry, Checkpoint, StoredEntry, signing_key_from_seed
from mamori.kernel.audit.models import AuditBase
from mamori.kernel.audit.verify import PROBLEMS, VerifyReport, verify
from mamori.kernel.audit.writer import AuditWriter

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
    "entry_mac",
    "head_mac",
    "leaf_hash",
    "merkle_root",
    "node_hash",
    "signing_key_from_seed",
    "verify",
]
