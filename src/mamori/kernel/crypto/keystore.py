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

import itertools
import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import (
    DateTime,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    bindparam,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from mamori.kernel.clock import Clock
from mamori.kernel.crypto.aead import KEY_LEN, make_aead, new_key
from mamori.kernel.crypto.errors import KeyDestroyed
from mamori.kernel.crypto.journal import append_destructions
from mamori.kernel.crypto.kek import KekProvider
from mamori.kernel.db import NAMING_CONVENTION, wal_truncate
from mamori.kernel.errors import ConfigurationError, Conflict, IntegrityFailure, ValidationFailed

_log = logging.getLogger(__name__)

SUBJECT_ID_MAX = 64
SYSTEM_KEY_NAME_MAX = 128
DEFAULT_CACHE_SIZE = 50_000
_IN_CHUNK = 900  # below SQLite's historical 999 bound on bound parameters
_DEK_CONTEXT = b"dek|"
_SYS_CONTEXT = b"sys|"
_KCV_CONTEXT = b"kcv|"
_KCV_PLAIN = b"mamori key-check value, v1\x00\x00\x00\x00\x00\x00"  # 32 bytes


class KeystoreBase(DeclarativeBase):
    """Declarative base of the keystore database (never mixed with the data store's Base)."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class DataKey(KeystoreBase):
    __tablename__ = "data_keys"

    # SQLite: WITHOUT ROWID keeps one B-tree keyed by subject_id (faster bulk insert and lookup).
    __table_args__ = {"sqlite_with_rowid": False}

    subject_id: Mapped[str] = mapped_column(String(SUBJECT_ID_MAX), primary_key=True)
    kek_version: Mapped[int] = mapped_column(Integer)
    wrapped: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class DestroyedKey(KeystoreBase):
    """Tombstone of a crypto-shredded subject: when, never what."""

    __tablename__ = "destroyed_keys"

    subject_id: Mapped[str] = mapped_column(String(SUBJECT_ID_MAX), primary_key=True)
    destroyed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SystemKey(KeystoreBase):
    __tablename__ = "system_keys"

    name: Mapped[str] = mapped_column(String(SYSTEM_KEY_NAME_MAX), primary_key=True)
    kek_version: Mapped[int] = mapped_column(Integer)
    wrapped: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class KekCheck(KeystoreBase):
    """Key-check value per KEK version: a known constant wrapped by that version.

    A KEK that cannot open the check value of its version (a wrong key file, a wrong ``MAMORI_KEK``) is
    refused before it wraps anything, so a wrong key can never write keys nobody can read later.
    """

    __tablename__ = "kek_checks"

    kek_version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    wrapped: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


DATA_KEYS: Table = KeystoreBase.metadata.tables["data_keys"]
KEK_CHECKS: Table = KeystoreBase.metadata.tables["kek_checks"]
DESTROYED_KEYS: Table = KeystoreBase.metadata.tables["destroyed_keys"]
SYSTEM_KEYS: Table = KeystoreBase.metadata.tables["system_keys"]


# An unwrapped key is trusted from memory for this long; after that the keystore is asked again, so a key
# destroyed by another process (an erasure run from the CLI while the server runs) stops working everywhere.
CACHE_TTL_SECONDS = 30.0


class _CachedKey:
    """An unwrapped DEK and, built on first use, its AESGCM object."""

    __slots__ = ("_aead", "key", "loaded")

    def __init__(self, key: bytes) -> None:
        self.key = key
        self._aead: AESGCM | None = None
        self.loaded = time.monotonic()

    def fresh(self) -> bool:
        return time.monotonic() - self.loaded < CACHE_TTL_SECONDS

    @property
    def aead(self) -> AESGCM:
        if self._aead is None:
            self._aead = make_aead(self.key)
        return self._aead


@dataclass
class RotationReport:
    rewrapped: int
    to_version: int
    remaining_on_old: int
    destroyed_versions: list[int] = field(default_factory=list)
    # Keys no available KEK version opens (lost or written under a wrong key): skipped, never fatal.
    unreadable: int = 0
    # Of those, data keys recorded as destroyed because ``drop_unreadable`` was given.
    dropped: int = 0


def _kek_mismatch(version: int) -> ConfigurationError:
    return ConfigurationError(
        f"この KEK（版 {version}）はこの鍵保管庫の鍵ではありません（鍵確認値が一致しません）。"
        "鍵ファイル・MAMORI_KEK を確認してください。何も書き込んでいません。",
        f"this KEK (version {version}) is not this keystore's key (the key-check value does not open): "
        "check the key file / MAMORI_KEK. Nothing was written.",
        code="kek_mismatch",
    )


def _chunks(items: Sequence[str], size: int = _IN_CHUNK) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _check_subject_id(subject_id: object) -> str:
    if not isinstance(subject_id, str) or not 0 < len(subject_id) <= SUBJECT_ID_MAX:
        raise ValidationFailed(
            f"主体 ID が不正です（1〜{SUBJECT_ID_MAX} 文字の文字列が必要）。",
            f"A subject id must be a string of 1 to {SUBJECT_ID_MAX} characters.",
            code="bad_subject_id",
        )
    return subject_id


def _check_name(name: object) -> str:
    if not isinstance(name, str) or not 0 < len(name) <= SYSTEM_KEY_NAME_MAX:
        raise ValidationFailed(
            f"システム鍵の名前が不正です（1〜{SYSTEM_KEY_NAME_MAX} 文字）。",
            f"A system key name must be 1 to {SYSTEM_KEY_NAME_MAX} characters.",
            code="bad_key_name",
        )
    return name


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
    ) -> None:
        self.engine = engine
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
        for chunk in _chunks(ids):
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
            with self.engine.connect() as conn:
                for chunk in _chunks(misses):
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
                for chunk in _chunks(ids):
                    known.update(
                        str(r[0])
                        for r in conn.execute(
                            select(DESTROYED_KEYS.c.subject_id).where(DESTROYED_KEYS.c.subject_id.in_(chunk))
                        )
                    )
                append_destructions(self.journal_path, [s for s in ids if s not in known], now)
            for chunk in _chunks(ids):
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
        to_version = self.check_kek()
        total = self.count_on_old_versions(to_version)
        done = 0
        unreadable: list[str] = []
        unreadable_system = 0
        if progress is not None:
            progress(done, total)
        for table, ident, prefix in (
            (DATA_KEYS, DATA_KEYS.c.subject_id, _DEK_CONTEXT),
            (SYSTEM_KEYS, SYSTEM_KEYS.c.name, _SYS_CONTEXT),
        ):
            stmt = (
                update(table)
                .where(ident == bindparam("b_ident"), table.c.kek_version == bindparam("b_old"))
                .values(kek_version=bindparam("b_version"), wrapped=bindparam("b_wrapped"))
            )
            after = ""
            while True:
                with self.engine.begin() as conn:
                    rows = conn.execute(
                        select(ident, table.c.kek_version, table.c.wrapped)
                        .where(table.c.kek_version != to_version, ident > after)
                        .order_by(ident)
                        .limit(max(1, batch_size))
                    ).all()
                    if not rows:
                        break
                    after = str(rows[-1][0])
                    opened: list[tuple[str, int, bytes, bytes]] = []
                    for name, old, blob in rows:
                        context = prefix + str(name).encode("utf-8")
                        try:
                            key = self.kek.unwrap(int(old), bytes(blob), context=context)
                        except (IntegrityFailure, ConfigurationError):
                            if table is DATA_KEYS:
                                unreadable.append(str(name))
                            else:
                                unreadable_system += 1
                            continue
                        opened.append((str(name), int(old), context, key))
                    if opened:
                        versions, blobs = self._wrap_all([o[3] for o in opened], [o[2] for o in opened])
                        if any(v != to_version for v in versions):
                            raise Conflict(
                                "再ラップ中に KEK の現行版が変わりました。もう一度実行してください。",
                                "The current KEK version changed during rotation; run it again.",
                                code="kek_changed",
                            )
                        params: list[dict[str, Any]] = [
                            {"b_ident": name, "b_old": old, "b_version": version, "b_wrapped": wrapped}
                            for (name, old, _, _), version, wrapped in zip(
                                opened, versions, blobs, strict=True
                            )
                        ]
                        conn.execute(stmt, params)
                done += len(rows)
                if progress is not None:
                    progress(done, max(total, done))
        dropped = 0
        if unreadable and drop_unreadable:
            dropped = self.destroy_data_keys(unreadable)
        remaining = self.count_on_old_versions(to_version)
        destroyed: list[int] = []
        destroy = getattr(self.kek, "destroy_version", None)
        if remaining == 0 and destroy_old and callable(destroy):
            for version in self.kek.versions():
                if version != to_version:
                    destroy(version)
                    destroyed.append(version)
            # A key wrapped by another process between the count and the destruction would be lost: recount,
            # so that the report shows it (non-zero) instead of hiding it.
            remaining = self.count_on_old_versions(to_version)
        self.checkpoint()
        return RotationReport(
            rewrapped=done - len(unreadable) - unreadable_system,
            to_version=to_version,
            remaining_on_old=remaining,
            destroyed_versions=destroyed,
            unreadable=len(unreadable) + unreadable_system,
            dropped=dropped,
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
