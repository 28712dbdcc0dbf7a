"""restore(): replace the data store, drain the outbox, re-erase the people erased since the backup."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import delete, select, text
from sqlalchemy.exc import SQLAlchemyError

from mamori.kernel import registry
from mamori.kernel.audit import VerifyReport
from mamori.kernel.audit.chain import parse_at
from mamori.kernel.auditing import record_info
from mamori.kernel.backup.restore.anchors import archive_anchor
from mamori.kernel.backup.restore.common import (
    ERASE_BATCH,
    IN_FLIGHT_MARGIN,
    OUTBOX,
    Progress,
    RestorePlan,
    RestoreReport,
    _aware,
    _current_keystore,
    _system_key_names,
    _tombstones,
)
from mamori.kernel.backup.stores import (
    pg_restore,
    place_file,
    sqlite_integrity,
    sqlite_table_stats,
)
from mamori.kernel.backup.take import stores_of
from mamori.kernel.backup.verify import verify_audit
from mamori.kernel.clock import Clock, SystemClock
from mamori.kernel.context import SYSTEM_ACTOR, Actor
from mamori.kernel.crypto import Keystore
from mamori.kernel.crypto.journal import append_destructions, read_journal
from mamori.kernel.crypto.keystore import DATA_KEYS
from mamori.kernel.db import chunks
from mamori.kernel.errors import ConfigurationError
from mamori.kernel.runtime import Runtime
from mamori.kernel.settings import STORE_FILE


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
            for chunk in chunks(ids, 500):
                conn.execute(delete(OUTBOX).where(OUTBOX.c.id.in_(chunk)))
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
    for batch in chunks(ids, ERASE_BATCH):
        with rt.transaction(SYSTEM_ACTOR) as ctx:
            for sid in batch:
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
        rt.migrate_schemas()  # as the owner where one is configured, then the app role's grants again (PostgreSQL)
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
            for chunk in chunks(pending, 500):
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
        # Mail the backup carried (waiting or failed then) is stale and may concern someone erased since: its sealed
        # content is erased and what was waiting is marked failed ("restored"), never sent (docs/mail.md).
        from mamori.kernel.mail.queue import erase_all_content

        erase_all_content(rt)

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
