"""Engines, sessions and the unit of work.

Three stores, each its own database: the data store (customers, purposes, consents …), the keystore
(wrapped data keys) and the audit log. With SQLite they are three files in ``MAMORI_HOME``; with
PostgreSQL, three URLs (the keystore and audit may share a server but never a table with the data).

Services ``flush()``, never ``commit()``: the single commit happens here, at the edge (CLI command,
HTTP request, job), in :func:`unit_of_work`.
"""

from __future__ import annotations

import os
import secrets
import stat
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import DateTime, MetaData, TypeDecorator, create_engine, event
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import NullPool

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base of the data store (not the keystore, not the audit log)."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


SQLITE_BUSY_TIMEOUT_MS = 5000


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # SECURITY.md §5: WAL + synchronous=FULL survives power loss; foreign keys are off per connection by
    # default; secure_delete's default is a compile-time option, so it is set explicitly.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.close()


def _sqlite_begin_immediate(conn: Any) -> None:
    # A deferred read that later upgrades to a write can fail with SQLITE_BUSY_SNAPSHOT, which waiting does
    # not fix; every transaction therefore takes the write lock up front (BEGIN IMMEDIATE).
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str, *, immediate: bool = True, pool_size: int | None = None) -> Engine:
    """An engine with mamori's connection settings for SQLite or PostgreSQL.

    ``pool_size``: connections kept open (the HTTP server passes its admitted concurrency, so an admitted
    request never waits for one); a small overflow absorbs the server's own background work."""
    pool: dict[str, int] = {} if pool_size is None else {"pool_size": pool_size, "max_overflow": 4}
    if url.startswith("sqlite"):
        path = url.split("///", 1)[1] if "///" in url else ""
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
            poolclass=NullPool if path == ":memory:" else None,
            **({} if path == ":memory:" else pool),
        )
        if path and path != ":memory:":

            @event.listens_for(engine, "connect")
            def _owner_only(_dbapi_connection: Any, _record: Any) -> None:
                # Before the pragmas create -wal/-shm (SQLite gives them the database file's mode). Opening
                # creates the file; it is not created before (a missing file must stay visible as missing).
                if os.path.exists(path) and stat.S_IMODE(os.stat(path).st_mode) != 0o600:
                    os.chmod(path, 0o600)

        event.listen(engine, "connect", _sqlite_pragmas)

        @event.listens_for(engine, "connect")
        def _no_pysqlite_begin(dbapi_connection: Any, _record: Any) -> None:
            # Let SQLAlchemy emit BEGIN itself (pysqlite's implicit transactions are unreliable).
            dbapi_connection.isolation_level = None

        if immediate:
            event.listen(engine, "begin", _sqlite_begin_immediate)
        else:

            @event.listens_for(engine, "begin")
            def _begin(conn: Any) -> None:
                conn.exec_driver_sql("BEGIN")

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return create_engine(url, pool_pre_ping=True, **pool)


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def wal_truncate(engine: Engine, *, attempts: int = 20) -> bool:
    """SQLite: ``PRAGMA wal_checkpoint(TRUNCATE)`` so no old page image survives in the -wal file (after an
    erasure or a key destruction). Retries while readers block it; returns False if it could not complete.
    Always True on PostgreSQL (its WAL and dead tuples are the server's)."""
    if not is_sqlite(engine):
        return True
    raw = engine.raw_connection()
    try:
        for attempt in range(max(1, attempts)):
            cursor = raw.cursor()
            try:
                cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                row = cursor.fetchone()
            finally:
                cursor.close()
            if row is not None and int(row[0]) == 0:
                return True
            if attempt + 1 < attempts:
                time.sleep(0.05)
        return False
    finally:
        raw.close()


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=True)


@contextmanager
def unit_of_work(factory: sessionmaker[Session]) -> Iterator[Session]:
    """The edge's transaction: commit once when the block succeeds, roll back on any exception."""
    session = factory()
    try:
        yield session
    except BaseException:
        session.rollback()
        raise
    else:
        session.commit()
    finally:
        session.close()


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite stores them naive; this puts the UTC tzinfo back)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def new_id() -> str:
    """A random, non-enumerable row id (128 bits, hex) — the id of every entity that may be named in a URL."""
    return secrets.token_hex(16)


_T = TypeVar("_T")


def chunks(items: Sequence[_T], size: int = 500) -> Iterator[Sequence[_T]]:
    """Slices of ``items`` small enough for one ``IN (...)`` list on every backend."""
    for start in range(0, len(items), size):
        yield items[start : start + size]
