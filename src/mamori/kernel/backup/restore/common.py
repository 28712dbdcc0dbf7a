"""Restore plans and reports, and the helpers that read the current stores and keystore."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Table, select, text
from sqlalchemy.exc import SQLAlchemyError

from mamori.kernel.backup.stores import (
    Store,
)
from mamori.kernel.clock import Clock
from mamori.kernel.crypto import Keystore, kek_from_settings
from mamori.kernel.crypto.journal import Destruction
from mamori.kernel.crypto.keystore import DESTROYED_KEYS, SYSTEM_KEYS
from mamori.kernel.db import make_engine
from mamori.kernel.outbox import AuditOutbox
from mamori.kernel.settings import Settings

Progress = Callable[[str, int, int], None]

# An erasure journaled up to this long before the backup began may still have been in flight (its data
# transaction not yet committed) when the data was copied: its residue is erased again.
IN_FLIGHT_MARGIN = timedelta(days=1)
ERASE_BATCH = 100
OUTBOX = cast(Table, AuditOutbox.__table__)


@dataclass
class RestorePlan:
    backup_dir: Path
    doc: dict[str, Any]
    settings: Settings
    with_keystore: bool
    integrity: dict[str, str]
    backup_journal: list[Destruction]
    warnings: list[str]
    check_seconds: float
    audit_mode: str = "restored"  # restored | kept
    audit_reason: str = ""
    audit_lost: int = 0  # anchored entries beyond the backup's log, accepted as lost


@dataclass
class RestoreReport:
    backup_dir: str
    store_id: str
    backup_created_at: str
    restored_files: list[str]
    integrity: dict[str, str]
    integrity_ok: bool
    tables_match: bool
    table_mismatches: list[str]
    audit: str  # restored | kept
    audit_reason: str
    keystore: str  # current | restored
    destructions: dict[str, int]
    outbox_duplicates_dropped: int
    verify: dict[str, object]
    rto_seconds: float
    audit_entries_lost: int = 0
    anchor_archived: str | None = None
    warnings: list[str] = field(default_factory=list)


# -- helpers -----------------------------------------------------------------------------------------------------


def _effective_settings(settings: Settings, store_id: str) -> Settings:
    """Without ``store.json`` (a lost MAMORI_HOME), locate the key directory from the backup's store id instead of
    letting the settings invent a new one."""
    if settings.store_file.exists() or settings.key_dir is not None:
        return settings
    key_dir = Path.home() / ".config" / "mamori" / "stores" / store_id
    return settings.model_copy(update={"key_dir": key_dir})


def _store_exists(store: Store) -> bool:
    if store.is_sqlite:
        return store.path.exists() and store.path.stat().st_size > 0
    try:
        engine = make_engine(store.url)
        try:
            with engine.connect() as conn:
                return bool(
                    conn.execute(
                        text("SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()")
                    ).scalar_one()
                )
        finally:
            engine.dispose()
    except SQLAlchemyError:
        return False


def data_store_present(settings: Settings) -> bool:
    """Is there a data store to authorise the restore against (else: a new or lost MAMORI_HOME)?"""
    if not settings.store_file.exists():
        return False
    return _store_exists(Store("data", settings.resolved_database_url()))


def _aware(value: object) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


def _current_keystore(settings: Settings, clock: Clock) -> tuple[Keystore | None, Any]:
    store = Store("keystore", settings.resolved_keystore_url())
    if not _store_exists(store):
        return None, None
    engine = make_engine(store.url)
    return Keystore(engine, kek_from_settings(settings), clock), engine


def _tombstones(keystore: Keystore) -> list[tuple[str, datetime | None]]:
    with keystore.engine.connect() as conn:
        return [
            (str(r[0]), _aware(r[1]))
            for r in conn.execute(select(DESTROYED_KEYS.c.subject_id, DESTROYED_KEYS.c.destroyed_at))
        ]


def _system_key_names(keystore: Keystore) -> set[str]:
    with keystore.engine.connect() as conn:
        return {str(r[0]) for r in conn.execute(select(SYSTEM_KEYS.c.name))}


# -- 1. check ----------------------------------------------------------------------------------------------------
