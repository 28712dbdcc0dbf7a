"""Scheduled work of the processors slice (issue 21), registered with ``mamori.kernel.scheduler.register_job``
by :mod:`mamori.jobs`.

- ``processors.overdue`` (daily): :func:`overdue_job` — outsourcee audits past their due date (R-25-1) and
  foreign recipients' equivalent-measures systems past their review (R-28-3); counts in the result, a digest to
  the privacy team's mailbox (``MAMORI_REMINDER_TO``) when there are any.
"""

from __future__ import annotations

from collections.abc import Mapping

from mamori.kernel.context import SYSTEM_ACTOR
from mamori.kernel.runtime import Runtime
from mamori.processors.service import overdue

OVERDUE_JOB = "processors.overdue"


def overdue_job(rt: Runtime, *, job_run_id: str) -> Mapping[str, object]:
    """The scheduler's entry point: the overdue check as the system, in one transaction; counts only."""
    with rt.transaction(SYSTEM_ACTOR) as ctx:
        return overdue.check_overdue(ctx, job_run_id=job_run_id)
