"""The daily check of overdue oversight (issue 21, scheduled work): outsourcee audits past their due date (R-25-1)
and equivalent-measures systems of foreign recipients past their periodic review (R-28-3).

Run by the scheduler (job ``processors.overdue``: :func:`mamori.processors.jobs.overdue_job`, registered in
:mod:`mamori.jobs`) as the system: it counts the
overdue items and, when there are any, queues one digest e-mail to ``settings.reminder_to`` (the privacy office,
as the rights reminders) with the counts and the contract / counterparty ids — no personal data. Audited as
``oversight.overdue_checked`` with the counts.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from mamori.kernel import mail
from mamori.kernel.auditing import record_info
from mamori.kernel.clock import today_jst
from mamori.kernel.context import Context
from mamori.law.rules import R_25_1, R_28_3
from mamori.processors.models import ProcessorAudit, ProcessorContract
from mamori.provision.models import Counterparty

A_CHECKED = "oversight.overdue_checked"
TOPIC = "oversight.overdue"
MAX_LISTED = 50


def _addresses(raw: str | None) -> list[str]:
    return [a.strip() for a in (raw or "").split(",") if a.strip()]


def overdue(ctx: Context) -> dict[str, list[str]]:
    """The ids of the contracts with an audit past its due date (not ended) and of the counterparties whose
    equivalent-measures system review is past due (not stopped)."""
    today = today_jst(ctx.clock)
    now: datetime = ctx.clock.now()
    contracts = [
        cid
        for (cid,) in ctx.session.execute(
            select(ProcessorAudit.contract_id)
            .join(ProcessorContract, ProcessorContract.id == ProcessorAudit.contract_id)
            .where(
                ProcessorAudit.performed_on.is_(None),
                ProcessorAudit.due_on < today,
                ProcessorContract.status != "ended",
            )
            .group_by(ProcessorAudit.contract_id)
            .order_by(func.min(ProcessorAudit.due_on), ProcessorAudit.contract_id)
        )
    ]
    reviews = [
        cp
        for (cp,) in ctx.session.execute(
            select(Counterparty.id)
            .where(
                Counterparty.system_kind.is_not(None),
                Counterparty.system_stopped.is_(False),
                Counterparty.system_review_due.is_not(None),
                Counterparty.system_review_due <= now,
            )
            .order_by(Counterparty.system_review_due, Counterparty.id)
        )
    ]
    return {"contracts": contracts, "counterparties": reviews}


def check_overdue(ctx: Context, *, job_run_id: str | None = None) -> dict[str, object]:
    """Count the overdue audits and reviews; notify the privacy office (``reminder_to``) when there are any."""
    found = overdue(ctx)
    today = today_jst(ctx.clock)
    audits = int(
        ctx.session.execute(
            select(func.count())
            .select_from(ProcessorAudit)
            .join(ProcessorContract, ProcessorContract.id == ProcessorAudit.contract_id)
            .where(
                ProcessorAudit.performed_on.is_(None),
                ProcessorAudit.due_on < today,
                ProcessorContract.status != "ended",
            )
        ).scalar_one()
    )
    reviews = len(found["counterparties"])
    addresses = _addresses(ctx.runtime.settings.reminder_to)
    notified = 0
    if (audits or reviews) and addresses:
        text = _digest(today.isoformat(), audits, found)
        for to in addresses:
            mail.enqueue(
                ctx,
                mail.Mail(
                    to=to,
                    subject=f"【mamori】期限切れの監査・見直し {audits + reviews}件 / overdue audits and reviews",
                    text=text,
                    topic=TOPIC,
                ),
            )
            notified += 1
    counts: dict[str, object] = {
        "overdue_audits": audits,
        "contracts": len(found["contracts"]),
        "overdue_reviews": reviews,
        "notified": notified,
        "configured": bool(addresses),
    }
    details: dict[str, str | int | bool | None] = {
        "overdue_audits": audits,
        "overdue_reviews": reviews,
        "notified": notified,
        "job_run_id": job_run_id,
        "rules": f"{R_25_1.id},{R_28_3.id}",
    }
    record_info(ctx, A_CHECKED, details=details)
    return counts


def _digest(today: str, audits: int, found: dict[str, list[str]]) -> str:
    lines = [
        f"{today} 時点で期限を過ぎた委託先監査と外国提供先の体制の見直しがあります。",
        f"Overdue as of {today}: outsourcee audits and reviews of foreign recipients' systems.",
        "",
        f"委託先監査（R-25-1） / outsourcee audits: {audits}件（契約 {len(found['contracts'])}件）",
    ]
    lines += [f"  - contract {cid}" for cid in found["contracts"][:MAX_LISTED]]
    lines.append(f"体制の見直し（R-28-3） / system reviews: {len(found['counterparties'])}件")
    lines += [f"  - counterparty {cp}" for cp in found["counterparties"][:MAX_LISTED]]
    lines += [
        "",
        "mamori processors contracts list / mamori provision counterparties list で確認してください。",
    ]
    return "\n".join(lines) + "\n"
