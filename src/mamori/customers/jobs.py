"""The import job runner: an edge, like the CLI — it commits once per batch.

Data from a provider (third_party / succession) is the exception: it is confirmed (R-30-1) and written with its
receipt and recipient records in one transaction (all-or-nothing), whatever command starts it.

Every batch (customers, contact points, blind index, provenance, notified purposes and the job's checkpoint) is
one transaction, so a process killed at any point leaves whole batches only, and re-running the same file resumes
after the last committed line without duplicating rows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from mamori.customers.schemas import PROVIDER_METHODS, CustomerCreate, ProvenanceIn
from mamori.customers.service import importing
from mamori.customers.service.core.create import provider_intake, record_intake
from mamori.customers.service.import_rows import Digests
from mamori.customers.service.importing import ImportReport
from mamori.kernel.context import Actor
from mamori.kernel.runtime import Runtime

Progress = Callable[[int, int], None]


def run_import(
    runtime: Runtime,
    actor: Actor,
    path: Path | bytes,
    *,
    source: str,
    purposes: Sequence[str],
    provenance: ProvenanceIn,
    mapping: dict[str, str] | None = None,
    skip_bad_rows: bool = False,
    on_duplicate: str = "report",
    batch_size: int = 1000,
    owner_id: str | None = None,
    progress: Progress | None = None,
    file_name: str = "import.csv",
    auto_map: bool = True,
) -> ImportReport:
    """Validate every line, then write (see the module's docstring). ``path`` may be the file's bytes held in
    memory (the web upload, never written to disk; ``file_name`` names it to the dataset guards; with
    ``auto_map=False`` only the columns in ``mapping`` are read)."""
    provider = provenance.method in PROVIDER_METHODS
    if provenance.source is None and not provider:
        provenance = provenance.model_copy(update={"source": source})
    if provider:
        # R-30-1: the provider and the confirmation are checked before the file is even read.
        with runtime.transaction(actor) as ctx:
            provider_intake(ctx, provenance, purposes)
    with runtime.transaction(actor, readonly=True) as ctx:
        # 仮名加工情報 / 匿名加工情報 are never imported (R-41-5, R-43-5)
        if isinstance(path, bytes):
            importing.check_intake_data(ctx, path, file_name)
        else:
            importing.check_intake(ctx, path)
    if isinstance(path, bytes):
        vf = importing.validate_data(path, mapping, auto_map=auto_map)
    else:
        vf = importing.validate_file(path, mapping)
    report = ImportReport(job_id=None, total=vf.total, errors=vf.errors)
    if vf.errors and not skip_bad_rows:
        report.written = False
        return report
    report.skipped_bad = len({e.line for e in vf.errors})
    if provider:
        return _import_received(
            runtime,
            actor,
            vf,
            report,
            purposes=purposes,
            provenance=provenance,
            options={"on_duplicate": on_duplicate, "skip_bad_rows": skip_bad_rows},
            on_duplicate=on_duplicate,
            owner_id=owner_id,
            progress=progress,
        )
    with runtime.transaction(actor) as ctx:
        job, resumed = importing.start_job(
            ctx,
            vf,
            source=source,
            purposes=purposes,
            provenance=provenance,
            options={"on_duplicate": on_duplicate, "skip_bad_rows": skip_bad_rows},
        )
        job_id = job.id
        done_line = job.lines_done if resumed else 0
    report.job_id = job_id
    report.resumed_from_line = done_line
    rows: list[tuple[int, CustomerCreate]] = [(line, c) for line, c in vf.rows if line > done_line]
    seen: dict[tuple[str, bytes], int] = {}
    if done_line:
        # Lines already committed must still count as "seen" for in-file duplicate detection.
        digest = Digests(runtime).digest  # the indexer's digests, phones not parsed again
        for line, c in vf.rows:
            if line <= done_line:
                for e in c.emails:
                    seen[("email", digest("email", e))] = line
                for p in c.phones:
                    seen[("phone", digest("phone", p))] = line
    processed = len(vf.rows) - len(rows)
    if progress:
        progress(processed, len(vf.rows))
    with importing.cyclic_gc_paused():  # every validated line stays in memory until the end (see there)
        _write_batches(
            runtime,
            actor,
            job_id,
            rows,
            report,
            batch_size=batch_size,
            provenance=provenance,
            purposes=purposes,
            on_duplicate=on_duplicate,
            seen=seen,
            owner_id=owner_id,
            progress=progress,
            processed=processed,
            total=len(vf.rows),
        )
    with runtime.transaction(actor) as ctx:
        importing.finish_job(ctx, job_id)
    return report


def _write_batches(
    runtime: Runtime,
    actor: Actor,
    job_id: str,
    rows: Sequence[tuple[int, CustomerCreate]],
    report: ImportReport,
    *,
    batch_size: int,
    provenance: ProvenanceIn,
    purposes: Sequence[str],
    on_duplicate: str,
    seen: dict[tuple[str, bytes], int],
    owner_id: str | None,
    progress: Progress | None,
    processed: int,
    total: int,
) -> None:
    """One transaction per batch (customers, contact points, blind index, provenance, notified purposes and the
    job's checkpoint), committed here; progress reported after each."""
    for batch in importing.batches(rows, batch_size):
        last_line = batch[-1][0]
        with runtime.transaction(actor) as ctx:
            created, merged, dups = importing.import_batch(
                ctx,
                job_id,
                batch,
                provenance=provenance,
                purposes=purposes,
                on_duplicate=on_duplicate,
                last_line=last_line,
                seen=seen,
                owner_id=owner_id,
            )
        report.created += created
        report.merged += merged
        report.duplicates.extend(dups)
        processed += len(batch)
        if progress:
            progress(processed, total)


def _import_received(
    runtime: Runtime,
    actor: Actor,
    vf: importing.ValidatedFile,
    report: ImportReport,
    *,
    purposes: Sequence[str],
    provenance: ProvenanceIn,
    options: dict[str, object],
    on_duplicate: str,
    owner_id: str | None,
    progress: Progress | None,
) -> ImportReport:
    """Third-party / succession data: the confirmation (R-30-1), every row, the receipt, the recipient records
    (R-30-2) and the lineage (R-27-5) in ONE transaction — a failure anywhere leaves nothing written."""
    rows = list(vf.rows)
    with runtime.transaction(actor) as ctx:
        intake = provider_intake(ctx, provenance, purposes)
        job, _ = importing.start_job(
            ctx,
            vf,
            source=intake.provenance.source or "",
            purposes=purposes,
            provenance=intake.provenance,
            options=options,
            resume=False,
        )
        created, merged, dups = importing.import_batch(
            ctx,
            job.id,
            rows,
            provenance=intake.provenance,
            purposes=purposes,
            on_duplicate=on_duplicate,
            last_line=rows[-1][0] if rows else 0,
            seen={},
            owner_id=owner_id,
            intake=intake,
        )
        record_intake(
            ctx,
            intake,
            items=importing.received_items(rows),
            customer_ids=[d.customer_id for d in dups if d.action == "merged" and d.customer_id],
            import_job_id=job.id,
        )
        importing.finish_job(ctx, job.id)
    report.job_id = job.id
    report.created, report.merged = created, merged
    report.duplicates.extend(dups)
    report.receipt_id = intake.receipt_id
    if progress:
        progress(len(rows), len(rows))
    return report
