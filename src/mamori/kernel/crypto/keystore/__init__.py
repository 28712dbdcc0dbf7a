"""The keystore: per-person data keys (DEKs) and named system keys, wrapped by the KEK.

The keystore is ITS OWN database (a separate SQLite file or PostgreSQL database; never the data database),
with its own declarative base. Erasing a person destroys their DEK here (crypto-shredding); because data
backups never contain the keystore, restoring an old data backup with the current keystore leaves the erased
person unreadable (SECURITY.md §1 "the trap to avoid").

The keystore commits its own writes, unlike services (which only flush): a DEK must be durable *before* any
data encrypted under it is committed to the data store, and a destroyed key must stay destroyed even if the
caller's data transaction later rolls back. The worst case of that ordering is an unused key or a tombstone
for data that is still unreadable, never readable data whose key was lost.

Caching: unwrapped keys (and their AES-GCM objects) are kept in a bounded LRU per process. A key destroyed
by *another* process stays usable in this process's cache until evicted or the process restarts.

PostgreSQL note: a deleted row stays in the table file and the server's WAL until VACUUM and WAL recycling,
so on PostgreSQL shredding a single DEK relies on the KEK: rotate (:meth:`Keystore.rotate`) and destroy the
old KEK version to make any surviving copy of the wrapped key useless. On SQLite, ``secure_delete`` (set by
``make_engine``) zeroes the deleted bytes and the WAL is checkpointed with TRUNCATE after each destruction.
"""

from __future__ import annotations

from mamori.kernel.crypto.keystore.cache import CACHE_TTL_SECONDS as CACHE_TTL_SECONDS
from mamori.kernel.crypto.keystore.cache import _CachedKey as _CachedKey
from mamori.kernel.crypto.keystore.helpers import RotationReport as RotationReport
from mamori.kernel.crypto.keystore.helpers import _check_name as _check_name
from mamori.kernel.crypto.keystore.helpers import _check_subject_id as _check_subject_id
from mamori.kernel.crypto.keystore.helpers import _kek_mismatch as _kek_mismatch
from mamori.kernel.crypto.keystore.store import Keystore as Keystore
from mamori.kernel.crypto.keystore.tables import _DEK_CONTEXT as _DEK_CONTEXT
from mamori.kernel.crypto.keystore.tables import _IN_CHUNK as _IN_CHUNK
from mamori.kernel.crypto.keystore.tables import _KCV_CONTEXT as _KCV_CONTEXT
from mamori.kernel.crypto.keystore.tables import _KCV_PLAIN as _KCV_PLAIN
from mamori.kernel.crypto.keystore.tables import _SYS_CONTEXT as _SYS_CONTEXT
from mamori.kernel.crypto.keystore.tables import DATA_KEYS as DATA_KEYS
from mamori.kernel.crypto.keystore.tables import DEFAULT_CACHE_SIZE as DEFAULT_CACHE_SIZE
from mamori.kernel.crypto.keystore.tables import DESTROYED_KEYS as DESTROYED_KEYS
from mamori.kernel.crypto.keystore.tables import KEK_CHECKS as KEK_CHECKS
from mamori.kernel.crypto.keystore.tables import SUBJECT_ID_MAX as SUBJECT_ID_MAX
from mamori.kernel.crypto.keystore.tables import SYSTEM_KEY_NAME_MAX as SYSTEM_KEY_NAME_MAX
from mamori.kernel.crypto.keystore.tables import SYSTEM_KEYS as SYSTEM_KEYS
from mamori.kernel.crypto.keystore.tables import DataKey as DataKey
from mamori.kernel.crypto.keystore.tables import DestroyedKey as DestroyedKey
from mamori.kernel.crypto.keystore.tables import KekCheck as KekCheck
from mamori.kernel.crypto.keystore.tables import KeystoreBase as KeystoreBase
from mamori.kernel.crypto.keystore.tables import SystemKey as SystemKey
from mamori.kernel.crypto.keystore.tables import _log as _log
