"""Backups that cannot resurrect anyone (docs/backup.md).

- :func:`backup`: an online, consistent copy of the data store and the audit log (SQLite ``VACUUM INTO``,
  PostgreSQL ``pg_dump -Fc`` in an exported snapshot) and ``manifest.json`` (SHA-256 and size of every file,
  per-table row counts and content digests, the audit head, the journal length; MAC under a keystore key). The
  keystore is left out unless asked for, and then goes into a subdirectory of its own.
- :func:`check` then :func:`restore`: refuse a tampered or foreign backup before touching anything, put the
  files back offline, re-apply every key destruction recorded since (the key-destruction journal and the
  keystore's tombstones), erase the residue of those people through the subject data sources, verify the audit
  log, and report the time it took (RTO).
"""

from mamori.kernel.backup.manifest import MANIFEST
from mamori.kernel.backup.restore import RestorePlan, RestoreReport, check, data_store_present, restore
from mamori.kernel.backup.stores import sqlite_integrity, sqlite_table_stats
from mamori.kernel.backup.take import KEYSTORE_WARNING_EN, KEYSTORE_WARNING_JA, BackupReport, backup

__all__ = [
    "KEYSTORE_WARNING_EN",
    "KEYSTORE_WARNING_JA",
    "MANIFEST",
    "BackupReport",
    "RestorePlan",
    "RestoreReport",
    "backup",
    "check",
    "data_store_present",
    "restore",
    "sqlite_integrity",
    "sqlite_table_stats",
]
