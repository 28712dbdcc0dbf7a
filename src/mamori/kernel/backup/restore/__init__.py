"""Restoring a backup: check everything first, put the files back offline, then re-apply every key destruction
so that no erased person comes back, and verify the audit log.

Order (docs/backup.md):

1. :func:`check` (nothing is changed): the manifest's shape, every file's size and SHA-256 (the first mismatch
   is named), the manifest's MAC, the store id, the backends, ``PRAGMA integrity_check`` of every SQLite file
   (``pg_restore --list`` of every dump), the KEK versions a keystore backup needs, the journal's length, and
   that no other process holds the SQLite files open.
2. :func:`restore`: the data store is put back; the audit log too, unless the current one verifies and already
   extends the backup's (an append-only log that holds no personal value: rolling it back would only lose the
   record of what happened since, the erasures included); the keystore only with ``with_keystore``.
3. Every destruction in the current journal and the current keystore's tombstones is re-applied: data keys
   still present in the keystore in use are deleted, and the residue of every subject destroyed since the backup
   began (blind-index rows, ciphertext) is erased through the registered subject data sources, as the system.
4. The restored outbox is cleared of entries the audit log already holds; the log is verified.
"""

from __future__ import annotations

from mamori.kernel.backup.restore.anchors import _anchor_lines as _anchor_lines
from mamori.kernel.backup.restore.anchors import _audit_choice as _audit_choice
from mamori.kernel.backup.restore.anchors import anchored_size as anchored_size
from mamori.kernel.backup.restore.anchors import archive_anchor as archive_anchor
from mamori.kernel.backup.restore.apply import _checkpoint_sqlite as _checkpoint_sqlite
from mamori.kernel.backup.restore.apply import _drop_drained_outbox as _drop_drained_outbox
from mamori.kernel.backup.restore.apply import _erase_residue as _erase_residue
from mamori.kernel.backup.restore.apply import _require_sources as _require_sources
from mamori.kernel.backup.restore.apply import restore as restore
from mamori.kernel.backup.restore.check import check as check
from mamori.kernel.backup.restore.common import ERASE_BATCH as ERASE_BATCH
from mamori.kernel.backup.restore.common import IN_FLIGHT_MARGIN as IN_FLIGHT_MARGIN
from mamori.kernel.backup.restore.common import OUTBOX as OUTBOX
from mamori.kernel.backup.restore.common import Progress as Progress
from mamori.kernel.backup.restore.common import RestorePlan as RestorePlan
from mamori.kernel.backup.restore.common import RestoreReport as RestoreReport
from mamori.kernel.backup.restore.common import _aware as _aware
from mamori.kernel.backup.restore.common import _current_keystore as _current_keystore
from mamori.kernel.backup.restore.common import _effective_settings as _effective_settings
from mamori.kernel.backup.restore.common import _store_exists as _store_exists
from mamori.kernel.backup.restore.common import _system_key_names as _system_key_names
from mamori.kernel.backup.restore.common import _tombstones as _tombstones
from mamori.kernel.backup.restore.common import data_store_present as data_store_present
