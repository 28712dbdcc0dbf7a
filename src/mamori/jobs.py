"""The scheduled jobs of every slice (issue 21, docs/scheduler.md), registered with the kernel scheduler.

Composition level: :func:`register_jobs` is called by ``mamori.composition.register_all``. Each job imports its
slice function when it RUNS (not at registration: ``mamori --help`` stays fast), so a missing function fails the
run loudly — recorded as ``failed`` with the error code ``ImportError`` / ``AttributeError`` — and the tests that
run every job catch it.

Times are Japan time (the crontab lines are read in Asia/Tokyo); a slot is stored in UTC.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from importlib import import_module
from typing import TYPE_CHECKING, Any

from mamori.kernel import scheduler

if TYPE_CHECKING:
    from mamori.kernel.runtime import Runtime

MAIL_DELIVER = "mail.deliver"
RIGHTS_REMIND = "rights.remind"
RETENTION = "lifecycle.retention"
TRAINING_EXPIRY = "staff.training_expiry"
OVERDUE = "processors.overdue"
INCIDENTS_REMIND = "incidents.remind"
MONITORING_EVALUATE = "monitoring.evaluate"


def _call(module: str, attr: str, rt: Runtime, job_run_id: str) -> Mapping[str, object] | None:
    fn: Any = getattr(import_module(module), attr)
    result = fn(rt, job_run_id=job_run_id)
    return dict(result) if isinstance(result, Mapping) else None


def _mail_deliver(rt: Runtime, *, job_run_id: str) -> dict[str, object]:
    """Retries that are due and the hooks of final outcomes (the server's delivery thread does the same; every
    message is claimed, so nothing is sent twice)."""
    from mamori.kernel.mail import queue

    report = queue.deliver_due(rt)
    return {k: v for k, v in report.as_dict().items() if k != "periodic"}


def _rights_remind(rt: Runtime, *, job_run_id: str) -> dict[str, object]:
    """The request deadline reminders (rights, R-39-1 / GDPR 12): through the mail queue's periodic claim, so that
    cron's ``mamori mail deliver`` and the scheduler never both send within the hour."""
    from mamori.kernel.mail import queue

    import_module("mamori.rights.service.delivery")  # registers the periodic job
    ran, value = queue.run_periodic_job(rt, RIGHTS_REMIND)
    out: dict[str, object] = {"ran": ran}
    as_dict = getattr(value, "as_dict", None)
    if callable(as_dict):
        got = as_dict()
        out.update({k: got[k] for k in ("configured", "due", "sent", "recipients") if k in got})
    elif ran:
        out["configured"] = False
    return out


def _retention(rt: Runtime, *, job_run_id: str) -> Mapping[str, object] | None:
    return _call("mamori.lifecycle.service.retention", "scheduled_run", rt, job_run_id)


def _training_expiry(rt: Runtime, *, job_run_id: str) -> Mapping[str, object] | None:
    return _call("mamori.staff.jobs", "expiry_job", rt, job_run_id)


def _overdue(rt: Runtime, *, job_run_id: str) -> Mapping[str, object] | None:
    return _call("mamori.processors.jobs", "overdue_job", rt, job_run_id)


def _incidents_remind(rt: Runtime, *, job_run_id: str) -> Mapping[str, object] | None:
    return _call("mamori.incidents.jobs", "remind_job", rt, job_run_id)


def _monitoring_evaluate(rt: Runtime, *, job_run_id: str) -> Mapping[str, object] | None:
    return _call("mamori.monitoring.jobs", "evaluate_job", rt, job_run_id)


def register_jobs() -> None:
    """The action JOBS_MANAGE and every slice's job (idempotent)."""
    scheduler.register_permissions()
    scheduler.register_job(
        MAIL_DELIVER,
        _mail_deliver,
        every=timedelta(minutes=5),
        label_ja="メールの再送（送信期限の来たもの）",
        label_en="E-mail retries that are due",
        lease=timedelta(minutes=30),
    )
    scheduler.register_job(
        RIGHTS_REMIND,
        _rights_remind,
        cron="0 * * * *",
        label_ja="本人からの請求の回答期限リマインダー（毎時）",
        label_en="Deadline reminders for requests from persons (hourly)",
    )
    scheduler.register_job(
        RETENTION,
        _retention,
        cron="30 2 * * *",
        label_ja="保存期間を過ぎた個人データの廃棄（毎日 2:30）",
        label_en="Disposal of personal data past its retention period (daily 2:30)",
        lease=timedelta(hours=6),
    )
    scheduler.register_job(
        TRAINING_EXPIRY,
        _training_expiry,
        cron="0 7 * * *",
        label_ja="研修の有効期限切れの確認（毎日 7:00）",
        label_en="Training expiry check (daily 7:00)",
    )
    scheduler.register_job(
        OVERDUE,
        _overdue,
        cron="0 8 * * *",
        label_ja="期限切れの委託先監査・体制見直しの確認（毎日 8:00）",
        label_en="Overdue outsourcee audits and system reviews (daily 8:00)",
    )
    scheduler.register_job(
        INCIDENTS_REMIND,
        _incidents_remind,
        cron="0 8 * * *",
        label_ja="漏えい等事案の報告期限リマインダー（毎日 8:00）",
        label_en="Incident report deadline reminders (daily 8:00)",
    )
    scheduler.register_job(
        MONITORING_EVALUATE,
        _monitoring_evaluate,
        every=timedelta(minutes=15),
        label_ja="監査ログの監視（15分ごと、新しい記録を評価してアラート）",
        label_en="Audit log monitoring (every 15 minutes: new entries evaluated, alerts raised)",
        lease=timedelta(hours=1),
    )


__all__ = ["register_jobs"]
