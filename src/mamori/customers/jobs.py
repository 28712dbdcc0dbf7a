"""The import job runner: an edge, like the CLI — it commits once per batch.

Data from a provider (third_party / succession) is the exception: it is confirmed (R-30-1) and written with its
receipt and recipient records in one transaction (all-or-nothing), whatever command starts it.

Every batch (customers, contact points, blind index, provenance, notified purposes and the job's checkpoint) is
one transaction, so a process killed at any point leaves whole batches only, and re-running the same file resumes
after the last committed line without duplicating rows.
"""

from __future__ import annotations

import dataclasses
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
    mapping: importing.MappingLike = None,
    sheet: str | None = None,
    skip_bad_rows: bool = False,
    on_duplicate: str = "report",
    batch_size: int = 1000,
    owner_id: str | None = None,
    progress: Progress | None = None,
    file_name: str = "import.csv",
    auto_map: bool = True,
    dry_run: bool = False,
    id_system: str | None = None,
) -> ImportReport:
    """Validate every line, then write (see the module's docstring). ``path`` may be the file's bytes held in
    memory (the web upload, never written to disk; ``file_name`` names it to the dataset guards and tells a
    spreadsheet from text; with ``auto_map=False`` only the columns in ``mapping`` are read).

    ``dry_run``: every check (permission, source, purposes, lines, owners, duplicates, the purpose check that holds
    lines for approval) and the same report, nothing written. A sales rep imports into their own book only
    (owner = themselves, R-23-2). ``id_system``: where the customer numbers come from (else the mapping's, else the
    source)."""
    provider = provenance.method in PROVIDER_METHODS
    if provenance.source is None and not provider:
        provenance = provenance.model_copy(update={"source": source})
    if provider and not dry_run:
        # R-30-1: the provider and the confirmation are checked before the file is even read.
        with runtime.transaction(actor) as ctx:
            provider_intake(ctx, provenance, purposes)
    with runtime.transaction(actor, readonly=True) as ctx:
        # 仮名加工情報 / 匿名加工情報 are never imported (R-41-5, R-43-5)
        if isinstance(path, bytes):
            importing.check_intake_data(ctx, path, file_name)
        else:
            importing.check_intake(ctx, path)
        owner_id = importing.check_importer(ctx, owner_id)
        if not provider:  # a provider is named by its receipt (R-30-1), checked above
            importing.check_source(ctx, source, purposes, provenance)
    if isinstance(path, bytes):
        vf = importing.validate_data(path, mapping, auto_map=auto_map, sheet=sheet, file_name=file_name)
    else:
        vf = importing.validate_file(path, mapping, sheet=sheet, auto_map=auto_map)
    system = (id_system or vf.id_system or provenance.source or source or "").strip() or None
    with runtime.transaction(actor, readonly=True) as ctx:
        owners = importing.resolve_owners(ctx, vf, owner_id)
        prior = {} if provider else importing.prior_lines(ctx, vf.sha256)
    report = ImportReport(
        job_id=None, total=vf.total, errors=vf.errors, dry_run=dry_run, unmapped=dict(vf.unmapped)
    )
    if vf.errors and not skip_bad_rows:
        report.written = False
        if not dry_run:
            return report
    report.skipped_bad = len({e.line for e in vf.errors})
    options = importing.BatchOptions(
        provenance=provenance,
        purposes=list(purposes),
        on_duplicate=on_duplicate,
        owner_id=owner_id,
        extras=vf.extras,
        owners=owners,
        id_system=system,
        prior=prior,
    )
    if dry_run:
        return _dry_run(runtime, actor, vf, report, options, batch_size=batch_size, progress=progress)
    if provider:
        return _import_received(
            runtime,
            actor,
            vf,
            report,
            options=options,
            job_options={"on_duplicate": on_duplicate, "skip_bad_rows": skip_bad_rows},
            progress=progress,
        )
    with runtime.transaction(actor) as ctx:
        job, resumed = importing.start_job(
            ctx,
            vf,
            source=source,
            purposes=purposes,
            provenance=provenance,
            options={"on_duplicate": on_duplicate, "skip_bad_rows": skip_bad_rows, "id_system": system},
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
        for batch in importing.batches(rows, batch_size):
            with runtime.transaction(actor) as ctx:
                outcome = importing.import_batch(
                    ctx, job_id, batch, options, last_line=batch[-1][0], seen=seen
                )
            _add(report, outcome)
            processed += len(batch)
            if progress:
                progress(processed, len(vf.rows))
    with runtime.transaction(actor) as ctx:
        importing.finish_job(ctx, job_id)
    return report


def _add(report: ImportReport, outcome: importing.BatchOutcome) -> None:
    report.created += outcome.created
    report.merged += outcome.merged
    report.duplicates.extend(outcome.duplicates)
    report.pending += len(outcome.pending)
    report.pending_lines.extend(outcome.pending)


def _dry_run(
    runtime: Runtime,
    actor: Actor,
    vf: importing.ValidatedFile,
    report: ImportReport,
    options: importing.BatchOptions,
    *,
    batch_size: int,
    progress: Progress | None,
) -> ImportReport:
    """The decisions an import would take, line by line, in read-only transactions: nothing is written."""
    seen: dict[tuple[str, bytes], int] = {}
    done = 0
    for batch in importing.batches(vf.rows, batch_size):
        with runtime.transaction(actor, readonly=True) as ctx:
            outcome = importing.import_batch(
                ctx, None, batch, options, last_line=batch[-1][0], seen=seen, dry_run=True
            )
        _add(report, outcome)
        done += len(batch)
        if progress:
            progress(done, len(vf.rows))
    report.written = False
    return report


def _import_received(
    runtime: Runtime,
    actor: Actor,
    vf: importing.ValidatedFile,
    report: ImportReport,
    *,
    options: importing.BatchOptions,
    job_options: dict[str, object],
    progress: Progress | None,
) -> ImportReport:
    """Third-party / succession data: the confirmation (R-30-1), every row, the receipt, the recipient records
    (R-30-2) and the lineage (R-27-5) in ONE transaction — a failure anywhere leaves nothing written."""
    rows = list(vf.rows)
    purposes = options.purposes
    with runtime.transaction(actor) as ctx:
        intake = provider_intake(ctx, options.provenance, purposes)
        job, _ = importing.start_job(
            ctx,
            vf,
            source=intake.provenance.source or "",
            purposes=purposes,
            provenance=intake.provenance,
            options=job_options,
            resume=False,
        )
        received = dataclasses.replace(options, provenance=intake.provenance, intake=intake)
        outcome = importing.import_batch(
            ctx, job.id, rows, received, last_line=rows[-1][0] if rows else 0, seen={}
        )
        record_intake(
            ctx,
            intake,
            items=importing.received_items(rows),
            customer_ids=[
                d.customer_id for d in outcome.duplicates if d.action == "merged" and d.customer_id
            ],
            import_job_id=job.id,
        )
        importing.finish_job(ctx, job.id)
    report.job_id = job.id
    _add(report, outcome)
    report.receipt_id = intake.receipt_id
    if progress:
        progress(len(rows), len(rows))
    return report
