"""The Keystore: create, open, destroy and rotate data keys and system keys under the KEK."""

from __future__ import annotations

import itertools
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import (
    delete,
    func,
    insert,
    select,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from mamori.kernel.clock import Clock
from mamori.kernel.crypto.aead import KEY_LEN, new_key
from mamori.kernel.crypto.errors import KeyDestroyed
from mamori.kernel.crypto.journal import append_destructions
from mamori.kernel.crypto.kek import KekProvider
from mamori.kernel.crypto.keystore import rotation
from mamori.kernel.crypto.keystore.cache import _CachedKey
from mamori.kernel.crypto.keystore.helpers import (
    RotationReport,
    _check_name,
    _check_subject_id,
    _kek_mismatch,
)
from mamori.kernel.crypto.keystore.tables import (
    _DEK_CONTEXT,
    _IN_CHUNK,
    _KCV_CONTEXT,
    _KCV_PLAIN,
    _SYS_CONTEXT,
    DATA_KEYS,
    DEFAULT_CACHE_SIZE,
    DESTROYED_KEYS,
    KEK_CHECKS,
    SYSTEM_KEYS,
    KeystoreBase,
    _log,
)
from mamori.kernel.db import chunks, wal_truncate
from mamori.kernel.errors import ConfigurationError, Conflict, IntegrityFailure, ValidationFailed


class Keystore:
    """Wrapped DEKs per subject and named system keys, in the keystore's own database."""

    def __init__(
        self,
        engine: Engine,
        kek: KekProvider,
        clock: Clock,
        *,
        cache_size: int = DEFAULT_CACHE_SIZE,
        journal_path: Path | None = None,
        read_engine: Engine | None = None,
    ) -> None:
        self.engine = engine
        # Key reads on SQLite use a deferred BEGIN (no write lock: WAL readers neither block nor queue behind
        # writers); key creation and destruction keep BEGIN IMMEDIATE on ``engine``.
        self.read_engine = read_engine if read_engine is not None else engine
        # The key-destruction journal (ids only, outside MAMORI_HOME): what `mamori restore` re-applies.
        self.journal_path = journal_path
        self.kek = kek
        self.clock = clock
        self.cache_size = max(0, cache_size)
        self._cache: OrderedDict[str, _CachedKey] = OrderedDict()
        self._system: dict[str, bytes] = {}
        self._lock = threading.Lock()
        # Bumped by every eviction: keys read before a concurrent destruction are then not cached.
        self._evictions = 0
        self._checked_version: int | None = None

    # -- schema ------------------------------------------------------------------------------------------------
    def init_schema(self) -> None:
        """Create the keystore tables if missing (idempotent)."""
        KeystoreBase.metadata.create_all(self.engine)

    def is_empty(self) -> bool:
        """No data key, system key, tombstone or check value yet (a new store)."""
        with self.engine.connect() as conn:
            return all(
                conn.execute(select(t.c[list(t.c.keys())[0]]).limit(1)).first() is None
                for t in (DATA_KEYS, SYSTEM_KEYS, DESTROYED_KEYS, KEK_CHECKS)
            )

    # -- cache -------------------------------------------------------------------------------------------------
    def _cache_put(self, entries: Iterable[tuple[str, _CachedKey]], *, generation: int | None = None) -> None:
        if self.cache_size == 0:
            return
        with self._lock:
            if generation is not None and generation != self._evictions:
                return
            cache = self._cache
            for subject_id, entry in entries:
                if subject_id in cache:
                    cache.move_to_end(subject_id)
                cache[subject_id] = entry
            while len(cache) > self.cache_size:
                cache.popitem(last=False)

    def _cache_evict(self, subject_ids: Iterable[str]) -> None:
        with self._lock:
            self._evictions += 1
            for subject_id in subject_ids:
                self._cache.pop(subject_id, None)

    @property
    def generation(self) -> int:
        """Changes whenever cached keys are evicted (destruction, ``clear_cache``); lets callers that keep
        their own reference to a key's AESGCM object notice that it may be stale."""
        return self._evictions

    def clear_cache(self) -> None:
        """Forget every unwrapped key held in memory (e.g. after another process destroyed keys)."""
        with self._lock:
            self._evictions += 1
            self._cache.clear()
            self._system.clear()

    # -- data keys ---------------------------------------------------------------------------------------------
    def create_data_keys(self, subject_ids: Sequence[str]) -> None:
        """Create a random 32-byte DEK for each subject, wrap it with the current KEK and COMMIT.

        All rows go in one transaction with one bulk insert. Refuses (Conflict) a subject that already has a
        key or was destroyed before (a destroyed subject never gets a new key under the same id).
        """
        ids = sorted(_check_subject_id(s) for s in subject_ids)  # primary-key order: B-tree appends
        if not ids:
            return
        if any(a == b for a, b in zip(ids, ids[1:], strict=False)):
            raise ValidationFailed(
                "主体 ID が重複しています。",
                "The subject ids contain duplicates.",
                code="duplicate_subject_id",
            )
        material = os.urandom(KEY_LEN * len(ids))
        keys = [material[i * KEY_LEN : (i + 1) * KEY_LEN] for i in range(len(ids))]
        contexts = [_DEK_CONTEXT + s.encode("utf-8") for s in ids]
        versions, blobs = self._wrap_all(keys, contexts)
        now = self.clock.now()
        try:
            with self.engine.begin() as conn:
                if self._any_destroyed(conn, ids):
                    raise self._exists_conflict()
                try:
                    self._bulk_insert_data_keys(conn, ids, versions, blobs, now)
                except conn.dialect.loaded_dbapi.IntegrityError:  # raised by the driver, not SQLAlchemy
                    raise self._exists_conflict() from None
        except IntegrityError:
            raise self._exists_conflict() from None
        if self.cache_size:
            keep = self.cache_size
            self._cache_put(zip(ids[-keep:], map(_CachedKey, keys[-keep:]), strict=True))

    # -- key-check values ----------------------------------------------------------------------------------------
    def _opens(self, version: int, blob: bytes, context: bytes, expected: bytes | None = None) -> bool:
        try:
            plain = self.kek.unwrap(version, blob, context=context)
        except (IntegrityFailure, ConfigurationError):
            return False
        return expected is None or plain == expected

    def check_kek(self) -> int:
        """Refuse a KEK that is not this keystore's (ConfigurationError ``kek_mismatch``); returns the current
        version. Registers the check value of a version the first time it is current, once its lineage is
        proven: it opens an existing check value (a new version added by rotation) or, in a keystore without
        any (a new store, or one made before check values existed), an existing wrapped key."""
        version = self.kek.current_version()
        if self._checked_version == version:
            return version
        context = _KCV_CONTEXT + str(version).encode()
        with self.engine.begin() as conn:
            rows = {
                int(v): bytes(b)
                for v, b in conn.execute(select(KEK_CHECKS.c.kek_version, KEK_CHECKS.c.wrapped))
            }
            if version in rows:
                if not self._opens(version, rows[version], context, _KCV_PLAIN):
                    raise _kek_mismatch(version)
            else:
                available = set(self.kek.versions())
                if rows:
                    proven = any(
                        self._opens(v, b, _KCV_CONTEXT + str(v).encode(), _KCV_PLAIN)
                        for v, b in rows.items()
                        if v in available
                    )
                else:
                    proven = True
                    for table, ident, prefix in (
                        (DATA_KEYS, DATA_KEYS.c.subject_id, _DEK_CONTEXT),
                        (SYSTEM_KEYS, SYSTEM_KEYS.c.name, _SYS_CONTEXT),
                    ):
                        sample = conn.execute(
                            select(ident, table.c.kek_version, table.c.wrapped)
                            .where(table.c.kek_version.in_(sorted(available) or [version]))
                            .limit(1)
                        ).first()
                        if sample is not None:
                            proven = self._opens(
                                int(sample[1]), bytes(sample[2]), prefix + str(sample[0]).encode()
                            )
                            break
                if not proven:
                    raise _kek_mismatch(version)
                _, blob = self.kek.wrap(_KCV_PLAIN, context=context)
                conn.execute(
                    insert(KEK_CHECKS).values(kek_version=version, wrapped=blob, created_at=self.clock.now())
                )
        self._checked_version = version
        return version

    def _wrap_all(self, keys: list[bytes], contexts: list[bytes]) -> tuple[list[int], list[bytes]]:
        self.check_kek()
        wrap_many = getattr(self.kek, "wrap_many", None)
        if callable(wrap_many):
            version, blobs = wrap_many(keys, contexts)
            return [int(version)] * len(keys), [bytes(b) for b in blobs]
        versions: list[int] = []
        blobs = []
        for key, context in zip(keys, contexts, strict=True):
            version, blob = self.kek.wrap(key, context=context)
            versions.append(version)
            blobs.append(blob)
        return versions, blobs

    @staticmethod
    def _bulk_insert_data_keys(
        conn: Connection, ids: list[str], versions: list[int], blobs: list[bytes], now: datetime
    ) -> None:
        """Bulk insert on the driver, inside ``conn``'s transaction: COPY on PostgreSQL (psycopg), one
        executemany on SQLite. SQLAlchemy's per-row parameter handling costs more than the insert itself at
        100k rows. Falls back to a Core insert for any other driver."""
        columns = ("subject_id", "kek_version", "wrapped", "created_at")
        dbapi = conn.connection.dbapi_connection
        if dbapi is None:  # pragma: no cover - a live connection always has one
            raise RuntimeError("no DBAPI connection")
        if conn.dialect.name == "postgresql" and conn.dialect.driver == "psycopg":
            cursor = dbapi.cursor()
            try:
                with cursor.copy(f"COPY data_keys ({', '.join(columns)}) FROM STDIN") as copy:
                    for subject_id, version, blob in zip(ids, versions, blobs, strict=True):
                        copy.write_row((subject_id, version, blob, now))
            finally:
                cursor.close()
            return
        if conn.dialect.name == "sqlite":
            # The same text SQLAlchemy would store for this DateTime column, computed once.
            process = DATA_KEYS.c.created_at.type.dialect_impl(conn.dialect).bind_processor(conn.dialect)
            stamp = process(now) if process is not None else now
            cursor = dbapi.cursor()
            try:
                cursor.executemany(
                    f"INSERT INTO data_keys ({', '.join(columns)}) VALUES (?, ?, ?, ?)",
                    list(zip(ids, versions, blobs, itertools.repeat(stamp))),
                )
            finally:
                cursor.close()
            return
        conn.execute(
            insert(DATA_KEYS),
            [
                {"subject_id": s, "kek_version": v, "wrapped": b, "created_at": now}
                for s, v, b in zip(ids, versions, blobs, strict=True)
            ],
        )

    @staticmethod
    def _exists_conflict() -> Conflict:
        return Conflict(
            "データ鍵が既に存在するか、破棄済みの主体です。",
            "A data key already exists for a subject, or the subject's key was destroyed.",
            code="data_key_exists",
        )

    @staticmethod
    def _any_destroyed(conn: Connection, ids: Sequence[str]) -> bool:
        if not conn.execute(select(DESTROYED_KEYS.c.subject_id).limit(1)).first():
            return False
        for chunk in chunks(ids, _IN_CHUNK):
            found = conn.execute(
                select(DESTROYED_KEYS.c.subject_id).where(DESTROYED_KEYS.c.subject_id.in_(chunk)).limit(1)
            ).first()
            if found is not None:
                return True
        return False

    def _entry(self, subject_id: str) -> _CachedKey:
        with self._lock:
            entry = self._cache.get(subject_id)
            if entry is not None and entry.fresh():
                self._cache.move_to_end(subject_id)
                return entry
        return self._entries([subject_id], skip_missing=False)[subject_id]

    def _entries(self, subject_ids: Iterable[str], *, skip_missing: bool) -> dict[str, _CachedKey]:
        found: dict[str, _CachedKey] = {}
        misses: list[str] = []
        with self._lock:
            generation = self._evictions
            cache = self._cache
            for subject_id in subject_ids:
                if subject_id in found:
                    continue
                entry = cache.get(subject_id)
                if entry is None or not entry.fresh():
                    misses.append(subject_id)
                else:
                    cache.move_to_end(subject_id)
                    found[subject_id] = entry
        misses = [_check_subject_id(s) for s in dict.fromkeys(misses)]
        if misses:
            fetched: list[tuple[str, int, bytes]] = []
            with self.read_engine.connect() as conn:
                for chunk in chunks(misses, _IN_CHUNK):
                    stmt = select(DATA_KEYS.c.subject_id, DATA_KEYS.c.kek_version, DATA_KEYS.c.wrapped).where(
                        DATA_KEYS.c.subject_id.in_(chunk)
                    )
                    fetched.extend((str(r[0]), int(r[1]), bytes(r[2])) for r in conn.execute(stmt).all())
            unwrap = self.kek.unwrap
            new: list[tuple[str, _CachedKey]] = []
            for subject_id, version, blob in fetched:
                key = unwrap(version, blob, context=_DEK_CONTEXT + subject_id.encode("utf-8"))
                new.append((subject_id, _CachedKey(key)))
            self._cache_put(new, generation=generation)
            found.update(new)
            missing = [s for s in misses if s not in found]
            if missing and not skip_missing:
                raise KeyDestroyed(len(missing), details={"subject_ids": missing[:10]})
        return found

    def data_key(self, subject_id: str) -> bytes:
        """The subject's DEK; KeyDestroyed if it was destroyed or never created."""
        return self._entry(subject_id).key

    def data_keys(self, subject_ids: Iterable[str], *, skip_missing: bool = False) -> dict[str, bytes]:
        """DEKs of many subjects in a few queries; KeyDestroyed if any is missing (unless ``skip_missing``)."""
        return {s: e.key for s, e in self._entries(subject_ids, skip_missing=skip_missing).items()}

    def aead(self, subject_id: str) -> AESGCM:
        """The cached AES-256-GCM object of the subject's DEK (what :class:`FieldCipher` uses)."""
        return self._entry(subject_id).aead

    def aeads(self, subject_ids: Iterable[str], *, skip_missing: bool = False) -> dict[str, AESGCM]:
        return {s: e.aead for s, e in self._entries(subject_ids, skip_missing=skip_missing).items()}

    def has_data_key(self, subject_id: str) -> bool:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(DATA_KEYS.c.subject_id).where(DATA_KEYS.c.subject_id == _check_subject_id(subject_id))
            ).first()
        return row is not None

    def is_destroyed(self, subject_id: str) -> bool:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(DESTROYED_KEYS.c.subject_id).where(
                    DESTROYED_KEYS.c.subject_id == _check_subject_id(subject_id)
                )
            ).first()
        return row is not None

    def destroy_data_key(self, subject_id: str) -> bool:
        """Crypto-shred one subject: delete the wrapped DEK, record a tombstone, evict the cache, COMMIT, and
        (SQLite) checkpoint the WAL with TRUNCATE. Returns True if a key existed."""
        return self.destroy_data_keys([subject_id]) == 1

    def destroy_data_keys(self, subject_ids: Sequence[str]) -> int:
        """Crypto-shred many subjects in one transaction; returns how many keys existed.

        With a ``journal_path``, the ids not destroyed before are appended (and fsynced) to the key-destruction
        journal inside the transaction but before any key is deleted: a crash never loses a destruction that
        happened, and a failed append leaves every key in place."""
        ids = list(dict.fromkeys(_check_subject_id(s) for s in subject_ids))
        if not ids:
            return 0
        now = self.clock.now()
        self._cache_evict(ids)
        deleted = 0
        with self.engine.begin() as conn:
            if self.journal_path is not None:
                known: set[str] = set()
                for chunk in chunks(ids, _IN_CHUNK):
                    known.update(
                        str(r[0])
                        for r in conn.execute(
                            select(DESTROYED_KEYS.c.subject_id).where(DESTROYED_KEYS.c.subject_id.in_(chunk))
                        )
                    )
                append_destructions(self.journal_path, [s for s in ids if s not in known], now)
            for chunk in chunks(ids, _IN_CHUNK):
                deleted += conn.execute(delete(DATA_KEYS).where(DATA_KEYS.c.subject_id.in_(chunk))).rowcount
                already = {
                    str(r[0])
                    for r in conn.execute(
                        select(DESTROYED_KEYS.c.subject_id).where(DESTROYED_KEYS.c.subject_id.in_(chunk))
                    )
                }
                tombstones = [{"subject_id": s, "destroyed_at": now} for s in chunk if s not in already]
                if tombstones:
                    conn.execute(insert(DESTROYED_KEYS), tombstones)
        self._cache_evict(ids)
        if not self.checkpoint():
            _log.warning(
                "keystore WAL checkpoint incomplete after key destruction; it completes at the next one"
            )
        return deleted

    # -- system keys -------------------------------------------------------------------------------------------
    def system_key(self, name: str) -> bytes:
        """Get or create the named 32-byte system secret (e.g. "blind_index", "pseudonym:<dataset>",
        "audit_signing"), wrapped by the KEK and committed on creation."""
        name = _check_name(name)
        with self._lock:
            cached = self._system.get(name)
        if cached is not None:
            return cached
        context = _SYS_CONTEXT + name.encode("utf-8")
        self.check_kek()  # before the transaction (it may write a check value itself)
        for attempt in range(2):
            try:
                with self.engine.begin() as conn:
                    row = conn.execute(
                        select(SYSTEM_KEYS.c.kek_version, SYSTEM_KEYS.c.wrapped).where(
                            SYSTEM_KEYS.c.name == name
                        )
                    ).first()
                    if row is not None:
                        key = self.kek.unwrap(int(row[0]), bytes(row[1]), context=context)
                    else:
                        key = new_key()
                        version, blob = self.kek.wrap(key, context=context)
                        conn.execute(
                            insert(SYSTEM_KEYS).values(
                                name=name, kek_version=version, wrapped=blob, created_at=self.clock.now()
                            )
                        )
                break
            except IntegrityError:
                if attempt == 1:
                    raise
        with self._lock:
            self._system[name] = key
        return key

    def has_system_key(self, name: str) -> bool:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(SYSTEM_KEYS.c.name).where(SYSTEM_KEYS.c.name == _check_name(name))
            ).first()
        return row is not None

    def destroy_system_key(self, name: str) -> bool:
        """Delete the named system key (a later ``system_key(name)`` creates a new one). True if it existed."""
        name = _check_name(name)
        with self._lock:
            self._system.pop(name, None)
        with self.engine.begin() as conn:
            deleted = conn.execute(delete(SYSTEM_KEYS).where(SYSTEM_KEYS.c.name == name)).rowcount
        self.checkpoint()
        return deleted > 0

    # -- rotation ----------------------------------------------------------------------------------------------
    def count_on_old_versions(self, version: int | None = None) -> int:
        """How many DEKs and system keys are wrapped with a KEK version other than ``version`` (default current)."""
        target = self.kek.current_version() if version is None else version
        with self.engine.connect() as conn:
            return sum(
                int(
                    conn.execute(
                        select(func.count()).where(t.c.kek_version != target).select_from(t)
                    ).scalar_one()
                )
                for t in (DATA_KEYS, SYSTEM_KEYS)
            )

    def rotate(
        self,
        progress: Callable[[int, int], None] | None = None,
        *,
        batch_size: int = 1000,
        destroy_old: bool = True,
        drop_unreadable: bool = False,
    ) -> RotationReport:
        """Rewrap every DEK and system key that is not on the current KEK version, one committed transaction
        per batch; then check that none remain on old versions and, if the provider supports
        ``destroy_version`` (and ``destroy_old``), destroy every other KEK version it holds.

        Always finishes: a key that no available KEK version opens (its version was lost, or it was written
        under a wrong key before check values existed) is skipped and counted in ``unreadable``, and the old
        versions are then kept. With ``drop_unreadable`` such data keys are recorded as destroyed (their data
        was unreadable anyway; the journal and tombstones say so) so the rotation can complete; unreadable
        system keys are never dropped silently (they stay counted).

        Resumable: an interrupted rotation is finished by running it again. The provider's other versions are
        destroyed even if another installation shares the key file; give each installation its own file.
        """
        return rotation.rotate(
            self, progress, batch_size=batch_size, destroy_old=destroy_old, drop_unreadable=drop_unreadable
        )

    # -- maintenance -------------------------------------------------------------------------------------------
    def stats(self) -> dict[str, object]:
        """Counts only: keys per KEK version, system keys per version, destroyed subjects."""
        with self.engine.connect() as conn:
            by_version = {
                str(v): int(n)
                for v, n in conn.execute(
                    select(DATA_KEYS.c.kek_version, func.count())
                    .group_by(DATA_KEYS.c.kek_version)
                    .order_by(DATA_KEYS.c.kek_version)
                )
            }
            sys_by_version = {
                str(v): int(n)
                for v, n in conn.execute(
                    select(SYSTEM_KEYS.c.kek_version, func.count())
                    .group_by(SYSTEM_KEYS.c.kek_version)
                    .order_by(SYSTEM_KEYS.c.kek_version)
                )
            }
            destroyed = int(conn.execute(select(func.count()).select_from(DESTROYED_KEYS)).scalar_one())
            checks = sorted(int(v) for v in conn.execute(select(KEK_CHECKS.c.kek_version)).scalars())
        return {
            "kek_check_versions": checks,
            "kek_current_version": self.kek.current_version(),
            "kek_versions": self.kek.versions(),
            "data_keys": sum(by_version.values()),
            "data_keys_by_kek_version": by_version,
            "system_keys_by_kek_version": sys_by_version,
            "destroyed_data_keys": destroyed,
        }

    def checkpoint(self, *, attempts: int = 20) -> bool:
        """SQLite: checkpoint the keystore's WAL with TRUNCATE so no old page (e.g. a wrapped key) survives in
        -wal (:func:`mamori.kernel.db.wal_truncate`); always True on PostgreSQL."""
        return wal_truncate(self.engine, attempts=attempts)
