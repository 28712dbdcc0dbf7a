"""Choosing what to do with the audit log and its anchor file on restore."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from mamori.kernel.backup.restore.common import _store_exists
from mamori.kernel.backup.stores import (
    fsync_path,
)
from mamori.kernel.backup.take import stores_of
from mamori.kernel.backup.verify import verify_audit
from mamori.kernel.errors import MamoriError
from mamori.kernel.runtime import Runtime
from mamori.kernel.settings import Settings


def _audit_choice(settings: Settings, doc: dict[str, Any]) -> tuple[str, str]:
    """Keep the current audit log when it verifies and its entry at the backup's size is the backup's head."""
    stores = stores_of(settings)
    if not _store_exists(stores["audit"]):
        return "restored", "no current audit log"
    if not _store_exists(stores["keystore"]):
        return "restored", "no current keystore to check the current audit log with"
    rt = Runtime(settings)
    try:
        if not rt.keystore.has_system_key("audit_signing"):
            return "restored", "the current keystore holds no audit signing key"
        report = verify_audit(rt, drain=False)
        if not report.ok:
            return "restored", f"the current audit log fails verification ({report.problem})"
        size = int(doc["audit"].get("entries", 0))
        head = str(doc["audit"].get("head_chain_hash", ""))
        if report.entries < size:
            return "restored", "the current audit log is shorter than the backup's"
        with rt.audit_engine.connect() as conn:
            row = conn.execute(
                text("SELECT chain_hash FROM audit_entries WHERE seq = :s"), {"s": size}
            ).first()
        if size and (row is None or bytes(row[0]).hex() != head):
            return "restored", "the current audit log does not extend the backup's"
        return "kept", "the current audit log verifies and extends the backup's"
    except (SQLAlchemyError, MamoriError) as exc:
        return "restored", f"the current audit log is unreadable ({type(exc).__name__})"
    finally:
        rt.close()


def _anchor_lines(path: Path) -> list[tuple[int, bytes]]:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return []
    out: list[tuple[int, bytes]] = []
    for line in raw.split(b"\n"):
        try:
            out.append((int(json.loads(line)["tree_size"]), line))
        except (ValueError, KeyError, TypeError):
            continue  # blank or torn
    return out


def anchored_size(path: Path) -> int:
    """The largest tree size the anchor file vouches for (0 without one)."""
    return max((size for size, _ in _anchor_lines(path)), default=0)


def archive_anchor(path: Path, keep_upto: int, now: datetime) -> str:
    """Keep the anchor file as ``<name>.superseded-<time>`` and start it again with the lines that still describe
    the restored log (tree size up to ``keep_upto``); returns the archived file's name."""
    archived = path.with_name(f"{path.name}.superseded-{now.astimezone(UTC):%Y%m%dT%H%M%S%fZ}")
    tmp = path.with_name(f".{path.name}.restore-tmp")
    kept = b"".join(line + b"\n" for size, line in _anchor_lines(path) if size <= keep_upto)
    tmp.write_bytes(kept)
    os.chmod(tmp, 0o600)
    fsync_path(tmp)
    os.link(path, archived)
    os.replace(tmp, path)
    fsync_path(path.parent)
    return archived.name


# -- 3. the outbox -----------------------------------------------------------------------------------------------
