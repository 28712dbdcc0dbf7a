"""Receiving a file from a third party: an edge like mamori.customers.jobs (commits per step).

1. confirm (R-30-1, R-20-1) — nothing is written when the confirmation fails;
2. the customers import (validation, duplicates, resumable batches) with provenance "third_party";
3. the receipt and the recipient records (R-30-2), lineage for opt-out (R-27-5).
"""

from __future__ import annotations

from pathlib import Path

from mamori.customers import jobs as customer_jobs
from mamori.customers.schemas import ProvenanceIn
from mamori.customers.service import importing
from mamori.customers.service.importing import ImportReport
from mamori.kernel.context import Actor
from mamori.kernel.runtime import Runtime
from mamori.provision.schemas import ReceiptRead, ReceiveIn
from mamori.provision.service import counterparties, receiving

ITEM_NAMES = ("name", "kana", "birth_date", "gender", "postal_code", "address", "phone", "email")


def receive_file(
    runtime: Runtime,
    actor: Actor,
    path: Path,
    data: ReceiveIn,
    *,
    purposes: list[str],
    mapping: dict[str, str] | None = None,
    skip_bad_rows: bool = False,
    on_duplicate: str = "report",
) -> tuple[ImportReport, ReceiptRead | None]:
    with runtime.transaction(actor) as ctx:
        receiving.confirm(ctx, data)
        source = counterparties.get_row(ctx, data.counterparty_id).name
    vf = importing.validate_file(path, mapping)
    items = sorted({f for _, c in vf.rows for f in ITEM_NAMES if _has(c, f)})
    report = customer_jobs.run_import(
        runtime,
        actor,
        path,
        source=source,
        purposes=purposes,
        provenance=ProvenanceIn(method="third_party", channel="import", source=source),
        mapping=mapping,
        skip_bad_rows=skip_bad_rows,
        on_duplicate=on_duplicate,
    )
    if not report.written or report.job_id is None:
        return report, None
    with runtime.transaction(actor) as ctx:
        receipt = receiving.record(
            ctx, data, import_job_id=report.job_id, items=items or ["name"], customer_ids=[]
        )
    return report, receipt


def _has(c: object, f: str) -> bool:
    if f in ("phone", "email"):
        return bool(getattr(c, f + "s", None))
    return getattr(c, f, None) not in (None, "")
