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

import json
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Table, delete, select, text
from sqlalchemy.exc import SQLAlchemyError

from mamori.kernel import registry
from mamori.kernel.audit import VerifyReport
from mamori.kernel.audit.chain import parse_at
from mamori.kernel.auditing import record_info
from mamori.kernel.backup import manifest
from mamori.kernel.backup.stores import (
    Store,
    fsync_path,
    open_by_others,
    pg_list,
    pg_restore,
    place_file,
    sqlite_integrity,
    sqlite_table_stats,
)
from mamori.kernel.backup.take import stores_of
from mamori.kernel.backup.verify import verify_audit
from mamori.kernel.clock import Clock, SystemClock
from mamori.kernel.context import SYSTEM_ACTOR, Actor
from mamori.kernel.crypto import Keystore, kek_from_settings
from mamori.kernel.crypto.journal import Destruction, append_destructions, read_journal
from mamori.kernel.crypto.keystore import DATA_KEYS, DESTROYED_KEYS, SYSTEM_KEYS
from mamori.kernel.db import make_engine
from mamori.kernel.errors import ConfigurationError, Conflict, IntegrityFailure, MamoriError
from mamori.kernel.outbox import AuditOutbox
from mamori.kernel.runtime import Runtime, migrate
from mamori.kernel.settings import STORE_FILE, Settings, read_store_id

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


def _drop_drained_outbox(rt: Runtime, seq_before: int) -> int:
    """Outbox rows of the restored data store that the audit log already holds (drained between the data copy
    and the audit copy, or kept in a current log) are deleted, so the next drain does not append them twice."""
    with rt.data_engine.connect() as conn:
        pending = {int(r[0]): json.loads(r[1]) for r in conn.execute(select(OUTBOX.c.id, OUTBOX.c.payload))}
    if not pending:
        return 0
    matched: set[int] = set()
    with rt.audit_engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT action, subject_ids, details, at FROM audit_entries "
                "WHERE seq > :s AND details LIKE '%outbox_id%'"
            ),
            {"s": seq_before},
        )
        for action, subject_ids, details, at in rows:
            try:
                oid = json.loads(details).get("outbox_id")
            except ValueError:
                continue
            payload = pending.get(oid) if isinstance(oid, int) else None
            if payload is None or payload.get("action") != action:
                continue
            if list(payload.get("subject_ids") or []) != json.loads(subject_ids):
                continue
            stamp = _aware(payload.get("at"))
            if stamp is not None and stamp != parse_at(str(at)):
                continue
            matched.add(int(oid))
    if matched:
        with rt.data_engine.begin() as conn:
            ids = sorted(matched)
            for start in range(0, len(ids), 500):
                conn.execute(delete(OUTBOX).where(OUTBOX.c.id.in_(ids[start : start + 500])))
    return len(matched)


# -- 4. re-applying destructions ---------------------------------------------------------------------------------


def _require_sources() -> list[registry.SubjectDataSource]:
    sources = list(registry.sources())
    if not sources:
        raise ConfigurationError(
            "主体データソースが登録されていないため、消去を再適用できません。",
            "no subject data source is registered, so erasures cannot be re-applied.",
            code="no_subject_sources",
        )
    return sources


def _erase_residue(rt: Runtime, subject_ids: Iterable[str]) -> tuple[int, dict[str, int]]:
    """Every registered subject data source erases what it holds about each id, as the system."""
    sources = _require_sources()
    ids = sorted(set(subject_ids))
    touched = 0
    by_source: dict[str, int] = {}
    for start in range(0, len(ids), ERASE_BATCH):
        with rt.transaction(SYSTEM_ACTOR) as ctx:
            for sid in ids[start : start + ERASE_BATCH]:
                removed = 0
                for source in sources:
                    n = int(source.erase(ctx, sid))
                    by_source[source.name] = by_source.get(source.name, 0) + n
                    removed += n
                touched += 1 if removed else 0
    return touched, by_source


def _checkpoint_sqlite(rt: Runtime) -> None:
    if not rt.is_sqlite:
        return
    raw = rt.data_engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        cursor.close()
    finally:
        raw.close()


def restore(
    plan: RestorePlan,
    *,
    actor: Actor = SYSTEM_ACTOR,
    clock: Clock | None = None,
    progress: Progress | None = None,
) -> RestoreReport:
    """Put the checked backup in place and re-apply every key destruction (see the module docstring)."""
    t0 = time.perf_counter()
    clock = clock or SystemClock()
    settings, doc = plan.settings, plan.doc
    stores = stores_of(settings)
    total, done = 8, 0

    def step(label: str) -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(label, done, total)

    # What the keys look like now, before anything is replaced.
    journal_path = settings.resolved_journal_path()
    journal = read_journal(journal_path)
    current_ks, current_engine = _current_keystore(settings, clock)
    tombstones: list[tuple[str, datetime | None]] = []
    current_system: set[str] = set()
    if current_ks is not None:
        try:
            tombstones = _tombstones(current_ks)
            current_system = _system_key_names(current_ks)
        except SQLAlchemyError:
            tombstones, current_system = [], set()
        finally:
            current_engine.dispose()
    audit_mode, audit_reason = plan.audit_mode, plan.audit_reason
    archived = None
    if audit_mode == "restored" and plan.audit_lost:
        archived = archive_anchor(
            settings.resolved_anchor_path(), int(doc["audit"].get("entries", 0)), clock.now()
        )
    step("checks")

    home = settings.home_path
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not settings.store_file.exists():
        (home / STORE_FILE).write_text(
            json.dumps({"store_id": doc["store_id"], "format": 1}), encoding="utf-8"
        )

    # Put the files back: keystore first, then data, then the audit log.
    roles = (
        (["keystore"] if plan.with_keystore else [])
        + ["data"]
        + (["audit"] if audit_mode == "restored" else [])
    )
    by_role = {e["store"]: (name, e) for name, e in doc["files"].items()}
    restored: list[str] = []
    mismatches: list[str] = []
    integrity = dict(plan.integrity)
    for role in roles:
        name, entry = by_role[role]
        store = stores[role]
        source = plan.backup_dir / name
        if store.is_sqlite:
            place_file(source, store.path, entry["sha256"])
            result = sqlite_integrity(store.path)
            integrity[f"{role}:restored"] = result
            after = sqlite_table_stats(store.path)
        else:
            after = pg_restore(store, source)
            integrity[f"{role}:restored"] = "ok"
        expected = entry.get("tables") or {}
        for table in sorted(set(expected) | set(after)):
            if expected.get(table) != after.get(table):
                mismatches.append(f"{role}.{table}")
        restored.append(name)
        step(role)

    rt = Runtime(settings, clock=clock)
    try:
        migrate(rt.data_engine)
        rt.keystore.init_schema()
        rt.audit.init_schema()
        step("schema")

        # The keystore in use: every destroyed subject's key goes, whatever copy it came from. These ids are in the
        # journal (or are added below), so this keystore handle writes no journal lines of its own.
        plain = Keystore(rt.keystore_engine, rt.kek, clock)
        known = {d.subject_id for d in journal} | {d.subject_id for d in plan.backup_journal}
        known |= {sid for sid, _ in tombstones}
        present = {sid for sid, _ in _tombstones(plain)}
        pending = sorted(known - present)
        still_keyed: set[str] = set()
        with rt.keystore_engine.connect() as conn:
            for start in range(0, len(pending), 500):
                chunk = pending[start : start + 500]
                still_keyed.update(
                    str(r[0])
                    for r in conn.execute(
                        select(DATA_KEYS.c.subject_id).where(DATA_KEYS.c.subject_id.in_(chunk))
                    )
                )
        keys_deleted = plain.destroy_data_keys(pending) if pending else 0
        unjournaled = sorted((known | present) - {d.subject_id for d in journal})
        if unjournaled:
            append_destructions(journal_path, unjournaled, clock.now())
        dropped_system = 0
        if plan.with_keystore and current_system:
            for name in sorted(_system_key_names(plain) - current_system):
                dropped_system += int(plain.destroy_system_key(name))
        rt.keystore.clear_cache()
        step("keys")

        duplicates = _drop_drained_outbox(rt, int(doc["audit"].get("seq_before_data_copy", 0)))

        # The data store: erase the residue of everyone destroyed since the backup began (or possibly in flight
        # while it was taken); anyone destroyed earlier was already erased in the copy.
        began = _aware(doc.get("created_at")) or clock.now()
        cutoff = began - IN_FLIGHT_MARGIN
        needed = int(doc["journal"].get("length", 0))
        candidates = {d.subject_id for d in journal[needed:]}
        for d in [*journal, *plan.backup_journal]:
            at = _aware(d.destroyed_at)
            if at is None or at >= cutoff:
                candidates.add(d.subject_id)
        for sid, at in [*tombstones, *_tombstones(plain)]:
            if at is None or at >= cutoff:
                candidates.add(sid)
        candidates |= still_keyed
        reerased, by_source = _erase_residue(rt, candidates)
        step("erasures")

        destructions = {
            "journal_entries": len(journal),
            "known_destroyed": len(known | present),
            "keys_deleted": keys_deleted,
            "journal_lines_added": len(unjournaled),
            "system_keys_dropped": dropped_system,
            "subjects_checked": len(candidates),
            "subjects_reerased": reerased,
            **{f"records_erased_{k}": v for k, v in sorted(by_source.items())},
        }
        with rt.transaction(actor) as ctx:
            record_info(
                ctx,
                "store.restore",
                sorted(candidates),
                details={
                    "backup_created_at": str(doc.get("created_at")),
                    "audit": audit_mode,
                    "keystore": "restored" if plan.with_keystore else "current",
                    "keys_deleted": keys_deleted,
                    "subjects_reerased": reerased,
                    "outbox_duplicates_dropped": duplicates,
                    "audit_entries_lost": plan.audit_lost,
                    "anchor_archived": archived,
                },
            )
        _checkpoint_sqlite(rt)
        step("audit")
        report: VerifyReport = verify_audit(rt)
        step("verify")
    finally:
        rt.close()
    verify: dict[str, object] = {
        "ok": report.ok,
        "entries": report.entries,
        "checkpoints": report.checkpoints,
        "problem": report.problem,
        "first_bad_seq": report.first_bad_seq,
        "message_ja": report.message_ja,
        "message_en": report.message_en,
    }
    return RestoreReport(
        backup_dir=str(plan.backup_dir),
        store_id=str(doc["store_id"]),
        backup_created_at=str(doc.get("created_at")),
        restored_files=restored,
        integrity=integrity,
        integrity_ok=all(v == "ok" for v in integrity.values()),
        tables_match=not mismatches,
        table_mismatches=mismatches,
        audit=audit_mode,
        audit_reason=audit_reason,
        keystore="restored" if plan.with_keystore else "current",
        destructions=destructions,
        outbox_duplicates_dropped=duplicates,
        verify=verify,
        rto_seconds=round(plan.check_seconds + time.perf_counter() - t0, 3),
        audit_entries_lost=plan.audit_lost,
        anchor_archived=archived,
        warnings=list(plan.warnings),
    )
