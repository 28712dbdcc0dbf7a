"""Receiving a file from a third party (or by succession): an edge like mamori.customers.jobs.

``provision receive`` is the customers import with provider-sourced provenance, so all three entry points
(``customers add``, ``customers import``, ``provision receive``) take the same receipt path
(``service.receiving``): the R-30-1 / R-20-1 confirmation before anything is written, then the rows, the receipt,
the recipient records (R-30-2) and the opt-out lineage (R-27-5) in one transaction.
"""

from __future__ import annotations

from pathlib import Path

from mamori.customers import jobs as customer_jobs
from mamori.customers.schemas import ProvenanceIn, ReceiptIn
from mamori.customers.service.importing import ImportReport, MappingLike
from mamori.kernel.context import Actor
from mamori.kernel.runtime import Runtime
from mamori.provision.schemas import ReceiptRead, ReceiveIn
from mamori.provision.service import receiving


def receive_file(
    runtime: Runtime,
    actor: Actor,
    path: Path | bytes,
    data: ReceiveIn,
    *,
    purposes: list[str],
    mapping: MappingLike = None,
    skip_bad_rows: bool = False,
    on_duplicate: str = "report",
    file_name: str = "receipt.csv",
) -> tuple[ImportReport, ReceiptRead | None]:
    """``path`` may be the file's bytes held in memory (the web upload: never written to disk; ``file_name``
    names it to the dataset guards)."""
    report = customer_jobs.run_import(
        runtime,
        actor,
        path,
        source="",  # the provider's registered name, set by the receipt path
        purposes=purposes,
        provenance=ProvenanceIn(
            method="succession" if data.variant == "succession" else "third_party",
            channel="import",
            receipt=ReceiptIn.model_validate(data.model_dump()),
        ),
        mapping=mapping,
        skip_bad_rows=skip_bad_rows,
        on_duplicate=on_duplicate,
        file_name=file_name,
    )
    if not report.written or report.receipt_id is None:
        return report, None
    with runtime.transaction(actor, readonly=True) as ctx:
        receipt = receiving.read_receipt(ctx, report.receipt_id)
    return report, receipt
