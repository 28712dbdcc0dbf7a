"""Scheduled work of the staff slice (issue 21), registered with ``mamori.kernel.scheduler.register_job``.

- ``staff.training_expiry`` (daily): :func:`expiry_job` — who covered by the training policy has a required
  training expiring within 30 days or is not current (R-23-3); counts in the result, a digest to the privacy
  team's mailbox (``MAMORI_REMINDER_TO``).
"""

from __future__ import annotations

from collections.abc import Mapping

from mamori.kernel.context import SYSTEM_ACTOR
from mamori.kernel.runtime import Runtime
from mamori.staff.service import training

TRAINING_EXPIRY_JOB = "staff.training_expiry"


def expiry_job(rt: Runtime, *, job_run_id: str) -> Mapping[str, object]:
    """The scheduler's entry point: the training expiry check as the system, in one transaction; counts only."""
    with rt.transaction(SYSTEM_ACTOR) as ctx:
        return training.expiry_check(ctx, job_run_id=job_run_id)
