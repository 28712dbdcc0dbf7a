"""check(): what a restore would do, before anything is changed."""

from __future__ import annotations

import time
from pathlib import Path

from mamori.kernel.backup import manifest
from mamori.kernel.backup.restore.anchors import _audit_choice, anchored_size
from mamori.kernel.backup.restore.apply import _require_sources
from mamori.kernel.backup.restore.common import RestorePlan, _current_keystore, _effective_settings
from mamori.kernel.backup.stores import (
    open_by_others,
    pg_list,
    sqlite_integrity,
)
from mamori.kernel.backup.take import stores_of
from mamori.kernel.clock import SystemClock
from mamori.kernel.crypto import kek_from_settings
from mamori.kernel.crypto.journal import Destruction, read_journal
from mamori.kernel.errors import ConfigurationError, Conflict, IntegrityFailure
from mamori.kernel.settings import Settings, read_store_id


def check(
    settings: Settings, backup_dir: Path, *, with_keystore: bool = False, accept_audit_loss: bool = False
) -> RestorePlan:
    """Everything that can refuse a restore, before anything is changed.

    When the audit log must come from the backup (the current one is missing or broken) and the anchor file
    vouches for more entries than the backup holds, those entries are lost: refused unless
    ``accept_audit_loss`` (then the anchor lines beyond the backup are archived and the loss is logged)."""
    t0 = time.perf_counter()
    backup_dir = backup_dir.expanduser().resolve()
    _require_sources()
    doc = manifest.read(backup_dir)
    manifest.check_files(backup_dir, doc)
    store_id = str(doc["store_id"])
    if settings.store_file.exists():
        current = read_store_id(settings.home_path)
        if current != store_id:
            raise Conflict(
                f"このバックアップは別のストア（{store_id}）のものです（現在のストア: {current}）。",
                f"this backup belongs to another store ({store_id}; this store is {current}).",
                code="backup_other_store",
            )
    settings = _effective_settings(settings, store_id)
    kek = kek_from_settings(settings)
    keystore, engine = _current_keystore(settings, SystemClock())
    try:
        manifest.check_mac(doc, keystore, kek)
    finally:
        if engine is not None:
            engine.dispose()

    stores = stores_of(settings)
    backends = doc.get("backends") or {}
    for role, backend in backends.items():
        store = stores.get(str(role))
        if store is None or backend != ("sqlite" if store.is_sqlite else "postgresql"):
            raise ConfigurationError(
                f"バックアップ（{role}: {backend}）と現在の設定の保存先の種類が異なります。",
                f"the backup's {role} store is {backend}, which is not the configured kind.",
                code="backup_backend_mismatch",
            )
    warnings: list[str] = []
    included = bool((doc.get("keystore") or {}).get("included"))
    if with_keystore:
        if not included:
            raise ConfigurationError(
                "このバックアップには鍵保管庫が含まれていません（--with-keystore なしで復元してください）。",
                "this backup holds no keystore (restore it without --with-keystore).",
                code="backup_without_keystore",
            )
        have = set(kek.versions())
        missing = sorted(set(doc["keystore"].get("kek_versions") or []) - have)
        if missing:
            raise ConfigurationError(
                f"鍵保管庫のバックアップが必要とする KEK の版 {missing} がありません（破棄済み）。",
                f"the keystore backup needs KEK version(s) {missing}, which no longer exist (destroyed).",
                code="kek_version_missing",
            )
    elif keystore is None:
        raise ConfigurationError(
            "現在の鍵保管庫がありません。鍵保管庫のバックアップから復元するには --with-keystore を付けてください。",
            "there is no current keystore; to restore the keystore backup too, add --with-keystore.",
            code="keystore_missing",
        )

    integrity: dict[str, str] = {}
    for name, entry in sorted(doc["files"].items()):
        if entry["store"] == "journal" or (entry["store"] == "keystore" and not with_keystore):
            continue
        path = backup_dir / name
        result = sqlite_integrity(path, immutable=True) if entry["format"] == "sqlite" else pg_list(path)
        integrity[name] = result
        if result != "ok":
            raise IntegrityFailure(
                f"{name} の整合性検査に失敗しました: {result}",
                f"{name} fails its integrity check: {result}",
                code="backup_corrupt",
                details={"file": name},
            )

    journal = read_journal(settings.resolved_journal_path())
    backup_journal: list[Destruction] = []
    if with_keystore and "keystore/destructions.jsonl" in doc["files"]:
        backup_journal = read_journal(backup_dir / "keystore" / "destructions.jsonl")
    needed = int(doc["journal"].get("length", 0))
    if len(journal) < needed:
        if with_keystore and len(backup_journal) >= needed:
            warnings.append(
                "the key-destruction journal is shorter than when the backup was taken: the copy in the backup "
                "was used, but destructions after the backup may be missing (restore the journal if a copy exists)"
            )
        else:
            raise IntegrityFailure(
                f"鍵破棄ジャーナルが {len(journal)} 件しかありません（バックアップ時 {needed} 件）。"
                "消去済みの本人が復元されるおそれがあるため中止しました。ジャーナルを戻してから再実行してください。",
                f"the key-destruction journal holds {len(journal)} entries but held {needed} when the backup was "
                "taken: erased people could come back, so the restore is refused. Put the journal back first.",
                code="journal_behind",
            )

    targets = [stores["data"], stores["audit"]] + ([stores["keystore"]] if with_keystore else [])
    paths = [p for s in targets if s.is_sqlite for p in (s.path, Path(f"{s.path}-wal"))]
    users = open_by_others(paths)
    if users:
        raise Conflict(
            f"ストアが使用中です（プロセス {', '.join(map(str, users[:5]))}）。サーバーを停止してから復元してください。",
            f"the store is in use (process {', '.join(map(str, users[:5]))}); stop the server before restoring.",
            code="store_in_use",
        )
    audit_mode, audit_reason = _audit_choice(settings, doc)
    lost = 0
    if audit_mode == "restored":
        size = int(doc["audit"].get("entries", 0))
        lost = max(0, anchored_size(settings.resolved_anchor_path()) - size)
        if lost and not accept_audit_loss:
            raise IntegrityFailure(
                f"バックアップの監査ログは {size} 件までですが、外部アンカーはその先の {lost} 件を保証しています"
                f"（{audit_reason}）。現在の監査ログを失った場合に限り --accept-audit-loss を付けて再実行してください"
                "（失われた範囲はアンカーの退避ファイルと監査ログに記録されます）。",
                f"the backup's audit log ends at entry {size} but the anchor vouches for {lost} more ({audit_reason}). "
                "Only if the current audit log is lost, run again with --accept-audit-loss (the lost range is "
                "kept in an archived anchor file and recorded in the log).",
                code="audit_loss",
            )
    return RestorePlan(
        backup_dir=backup_dir,
        doc=doc,
        settings=settings,
        with_keystore=with_keystore,
        integrity=integrity,
        backup_journal=backup_journal,
        warnings=warnings,
        check_seconds=time.perf_counter() - t0,
        audit_mode=audit_mode,
        audit_reason=audit_reason,
        audit_lost=lost,
    )


# -- 2. which audit log ------------------------------------------------------------------------------------------
