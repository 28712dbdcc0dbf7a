"""Taking a backup: an online, consistent copy of the data store and the audit log (and, only when asked, the
keystore, into a subdirectory of its own), then ``manifest.json``."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import text

from mamori import __version__
from mamori.kernel.backup import manifest
from mamori.kernel.backup.stores import (
    Store,
    fsync_path,
    pg_dump,
    seal_file,
    sha256_file,
    sqlite_audit_head,
    sqlite_copy,
    sqlite_kek_versions,
    sqlite_table_stats,
)
from mamori.kernel.crypto.journal import journal_length
from mamori.kernel.errors import Conflict, ValidationFailed
from mamori.kernel.runtime import Runtime
from mamori.kernel.settings import Settings

Progress = Callable[[str, int, int], None]  # (step label, steps done, steps in all)

KEYSTORE_WARNING_JA = (
    "鍵保管庫のバックアップ（keystore/）はデータのバックアップと別の場所に保管し、消去期限（1 か月）を"
    "超えて保持しないでください。同じ場所にあると、消去した本人のデータが読めるようになります。"
)
KEYSTORE_WARNING_EN = (
    "keep the keystore backup (keystore/) apart from the data backups and no longer than the erasure deadline "
    "(one month): stored together, they make erased people readable again."
)


@dataclass
class BackupReport:
    out_dir: str
    store_id: str
    created_at: str
    files: list[dict[str, Any]]
    tables: int
    audit_entries: int
    journal_length: int
    with_keystore: bool
    seconds: float
    warnings: list[str] = field(default_factory=list)


def stores_of(settings: Settings) -> dict[str, Store]:
    """Each store as a backup reads and a restore writes it: through the owner role where one is configured
    (MAMORI_MIGRATION_*_URL, docs/postgres.md) — the app role may only append to the audit log, reads no sequence
    and sees a sales rep's rows only — else through the app's own URL."""
    return {
        "data": Store("data", settings.migration_database_url or settings.resolved_database_url()),
        "audit": Store("audit", settings.migration_audit_url or settings.resolved_audit_url()),
        "keystore": Store("keystore", settings.migration_keystore_url or settings.resolved_keystore_url()),
    }


def _inside(path: Path, root: Path) -> bool:
    return path == root or path.is_relative_to(root)


def prepare_out_dir(settings: Settings, out_dir: Path) -> Path:
    """Refuse MAMORI_HOME, the key directory and a non-empty directory; create it with mode 0700."""
    out = out_dir.expanduser().resolve()
    home = settings.home_path
    if _inside(out, home):
        raise ValidationFailed(
            f"バックアップ先 {out} が MAMORI_HOME（{home}）の中です。別の場所を指定してください。",
            f"the backup directory {out} is inside MAMORI_HOME ({home}); choose another place.",
            code="backup_inside_home",
        )
    key_dir = settings.resolved_key_dir()
    if _inside(out, key_dir) or _inside(key_dir, out):
        raise ValidationFailed(
            f"バックアップ先 {out} が鍵ディレクトリと重なっています。データのバックアップは鍵と別に置きます。",
            f"the backup directory {out} overlaps the key directory; data backups are kept apart from keys.",
            code="backup_inside_key_dir",
        )
    if out.exists():
        if not out.is_dir() or any(out.iterdir()):
            raise Conflict(
                f"バックアップ先 {out} が空ではありません。新しい空のディレクトリを指定してください。",
                f"the backup directory {out} is not empty; give a new, empty directory.",
                code="backup_dir_not_empty",
            )
    else:
        out.mkdir(parents=True, mode=0o700)
    os.chmod(out, 0o700)
    return out


def _file_entry(path: Path, store: Store) -> dict[str, Any]:
    return {
        "store": store.role,
        "format": store.format,
        "size": path.stat().st_size,
        "sha256": sha256_file(path),
    }


def _audit_seq(rt: Runtime) -> int:
    with rt.audit_engine.connect() as conn:
        row = conn.execute(text("SELECT last_seq FROM audit_head WHERE id = 1")).first()
    return int(row[0]) if row else 0


def backup(
    rt: Runtime, out_dir: Path, *, with_keystore: bool = False, progress: Progress | None = None
) -> BackupReport:
    """Copy the stores into ``out_dir`` (see docs/backup.md). Data first, then the audit log, then the keystore:
    a data key is committed before any data under it, so a keystore copied last holds every key the data copy
    needs (minus keys destroyed in between, which is what erasure means)."""
    settings = rt.settings
    out = prepare_out_dir(settings, out_dir)
    t0 = time.perf_counter()
    store_id = settings.store_id()
    stores = stores_of(settings)
    roles = ["data", "audit"] + (["keystore"] if with_keystore else [])
    total = 2 * len(roles) + 2
    done = 0

    def step(label: str) -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(label, done, total)

    if progress is not None:
        progress("data", 0, total)
    created_at = rt.clock.now()
    rt.drain_outbox()  # fewer entries pending in the data copy's outbox
    seq_before = _audit_seq(rt)
    journal_path = settings.resolved_journal_path()
    journal_len = journal_length(journal_path)
    files: dict[str, dict[str, Any]] = {}
    audit_info: dict[str, Any] = {}
    kek_versions: list[int] = []
    for role in roles:
        store = stores[role]
        target = out / store.file_name
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(target.parent, 0o700)
        if store.is_sqlite:
            sqlite_copy(store.path, target)
            step(role)
            tables = sqlite_table_stats(target, immutable=True)
            if role == "audit":
                audit_info = sqlite_audit_head(target, immutable=True)
            if role == "keystore":
                kek_versions = sqlite_kek_versions(target, immutable=True)
        else:
            info = pg_dump(store, target)
            step(role)
            tables = info["tables"]
            audit_info = info.get("audit", audit_info)
            kek_versions = info.get("kek_versions", kek_versions)
        entry = _file_entry(target, store)
        entry["tables"] = tables
        files[store.file_name] = entry
        step(f"{role} digests")
    if with_keystore:
        # The journal as it stood (ids only), so a keystore restored after losing the key directory still knows
        # every destruction up to this backup.
        copy = out / "keystore" / "destructions.jsonl"
        if journal_path.exists():
            shutil.copyfile(journal_path, copy)
        else:
            copy.write_bytes(b"")
        seal_file(copy)
        files["keystore/destructions.jsonl"] = {
            "store": "journal",
            "format": "jsonl",
            "size": copy.stat().st_size,
            "sha256": sha256_file(copy),
        }
        fsync_path(copy.parent)
    finished_at = rt.clock.now()
    doc: dict[str, Any] = {
        "kind": manifest.KIND,
        "format": manifest.FORMAT,
        "store_id": store_id,
        "created_at": created_at.isoformat(),
        "finished_at": finished_at.isoformat(),
        "mamori_version": __version__,
        "backends": {role: ("sqlite" if stores[role].is_sqlite else "postgresql") for role in roles},
        "files": files,
        "audit": {**audit_info, "seq_before_data_copy": seq_before},
        "journal": {"length": journal_len},
        "keystore": {"included": with_keystore, "kek_versions": kek_versions},
    }
    manifest.sign(doc, rt.keystore, store_id)
    manifest.write(out, doc)
    step("manifest")
    fsync_path(out)
    warnings = [KEYSTORE_WARNING_EN] if with_keystore else []
    return BackupReport(
        out_dir=str(out),
        store_id=store_id,
        created_at=doc["created_at"],
        files=[{"name": name, "size": e["size"], "sha256": e["sha256"]} for name, e in sorted(files.items())]
        + [
            {
                "name": manifest.MANIFEST,
                "size": (out / manifest.MANIFEST).stat().st_size,
                "sha256": sha256_file(out / manifest.MANIFEST),
            }
        ],
        tables=sum(len(e.get("tables", {})) for e in files.values()),
        audit_entries=int(audit_info.get("entries", 0)),
        journal_length=journal_len,
        with_keystore=with_keystore,
        seconds=round(time.perf_counter() - t0, 3),
        warnings=warnings,
    )
