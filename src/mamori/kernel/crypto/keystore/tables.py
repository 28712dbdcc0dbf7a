"""The keystore's own tables (its own database and declarative base) and their limits."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import (
    DateTime,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from mamori.kernel.db import NAMING_CONVENTION

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
