"""Scheduled work of the monitoring slice (issue 25), registered by :mod:`mamori.jobs`.

- ``monitoring.evaluate`` (every 15 minutes): the audit log's new entries evaluated as the system
  (:func:`mamori.monitoring.service.evaluate.run`); new high-severity alerts are e-mailed to the privacy office
  (``MAMORI_REMINDER_TO``) by the alerts service. Counts only.
"""

from __future__ import annotations

from collections.abc import Mapping

from mamori.kernel.context import SYSTEM_ACTOR
from mamori.kernel.runtime import Runtime
from mamori.monitoring.service import evaluate

EVALUATE_JOB = "monitoring.evaluate"


def evaluate_job(rt: Runtime, *, job_run_id: str) -> Mapping[str, object]:
    """The scheduler's entry point: one incremental evaluation as the system, in one transaction."""
    with rt.transaction(SYSTEM_ACTOR) as ctx:
        result = evaluate.run(ctx)
    return {
        "job_run_id": job_run_id,
        "entries": result.entries,
        "raised": result.raised,
        "updated": result.updated,
        "mailed": result.mailed,
    }
