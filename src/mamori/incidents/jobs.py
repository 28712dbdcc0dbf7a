"""Scheduled work of the incidents slice (issue 22), registered with ``mamori.kernel.scheduler.register_job`` by
:mod:`mamori.jobs`.

- ``incidents.remind`` (daily 8:00 JST): :func:`remind_job` — the open incidents whose 速報 target, 確報 deadline
  (R-26-2, R-26-3) or GDPR 72 hours (G-33) fall within two days or have passed, in one digest to the privacy
  office's mailbox (``MAMORI_REMINDER_TO``) through the kernel mail queue. The digest carries 事案番号, ids,
  dates, counts of people and trigger codes — never a personal value, never the narrative text. Audited as
  ``incident.reminded`` with the counts.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime

from mamori.incidents.board_schemas import BoardRow
from mamori.incidents.service import register as register_service
from mamori.incidents.service.clock import DEADLINE_LABELS
from mamori.kernel import mail
from mamori.kernel.auditing import record_info
from mamori.kernel.clock import JST, today_jst
from mamori.kernel.context import SYSTEM_ACTOR, Context
from mamori.kernel.runtime import Runtime

REMIND_JOB = "incidents.remind"
A_REMINDED = "incident.reminded"
TOPIC = "incidents.remind"
WINDOW_DAYS = 2  # due within two days (JST) or overdue
MAX_LISTED = 100


def _addresses(raw: str | None) -> list[str]:
    return [a.strip() for a in (raw or "").split(",") if a.strip()]


def due_rows(ctx: Context) -> list[BoardRow]:
    """Open incidents with a deadline overdue or due within ``WINDOW_DAYS`` (JST days), nearest first."""
    return [
        row
        for row in register_service.board_rows(ctx, "open")
        if row.overdue or (row.days_left is not None and row.days_left <= WINDOW_DAYS)
    ]


def _when(value: date | datetime | None) -> str:
    if value is None:
        return "-"
    if isinstance(value, datetime):
        return value.astimezone(JST).strftime("%Y-%m-%d %H:%M JST")
    return value.isoformat()


def digest(today: date, rows: list[BoardRow]) -> str:
    """The reminder text: refs, ids, deadlines, counts and trigger codes (no narrative, no personal value)."""
    overdue = sum(1 for r in rows if r.overdue)
    lines = [
        f"{today.isoformat()} 時点で、期限を過ぎたか2日以内に期限が来る漏えい等事案があります"
        f"（{len(rows)}件、うち期限超過 {overdue}件）。",
        f"Incidents with a deadline passed or due within 2 days as of {today.isoformat()}: "
        f"{len(rows)} ({overdue} overdue).",
        "",
    ]
    for r in rows[:MAX_LISTED]:
        kind = DEADLINE_LABELS.get(r.next_kind or "", ("-", "-"))
        due = r.gdpr_due if r.next_kind == "gdpr" else r.next_due_day
        late = ("期限超過: " + ",".join(r.overdue) + " / overdue") if r.overdue else ""
        lines.append(
            f"- {r.ref} ({r.id}) {kind[0]} / {kind[1]}: {_when(due)}"
            f"  本人 {r.persons}人（最大 {r.persons_max}人） triggers: {','.join(r.triggers) or '-'} {late}".rstrip()
        )
        lines.append(f"  速報 {_when(r.prelim_due)}  確報 {_when(r.final_due)}  GDPR {_when(r.gdpr_due)}")
    if len(rows) > MAX_LISTED:
        lines.append(f"… ほか {len(rows) - MAX_LISTED}件 / and {len(rows) - MAX_LISTED} more")
    lines += ["", "mamori incidents list / 画面の「漏えい等事案」で確認してください。"]
    return "\n".join(lines) + "\n"


def remind(ctx: Context, *, job_run_id: str | None = None) -> dict[str, object]:
    """Queue the digest to the privacy office when a deadline is due within two days or overdue (R-26-2, R-26-3,
    G-33). Returns counts."""
    rows = due_rows(ctx)
    today = today_jst(ctx.clock)
    addresses = _addresses(ctx.runtime.settings.reminder_to)
    overdue = sum(1 for r in rows if r.overdue)
    queued = 0
    if rows and addresses:
        text = digest(today, rows)
        for to in addresses:
            mail.enqueue(
                ctx,
                mail.Mail(
                    to=to,
                    subject=f"【mamori】漏えい等事案の期限 {len(rows)}件（超過 {overdue}件） / incident deadlines",
                    text=text,
                    topic=TOPIC,
                ),
            )
            queued += 1
    record_info(
        ctx,
        A_REMINDED,
        details={
            "due": len(rows),
            "overdue": overdue,
            "queued": queued,
            "configured": bool(addresses),
            "job_run_id": job_run_id,
            "rules": "R-26-2,R-26-3,G-33",
        },
    )
    return {"due": len(rows), "overdue": overdue, "queued": queued, "configured": bool(addresses)}


def remind_job(rt: Runtime, *, job_run_id: str) -> Mapping[str, object]:
    """The scheduler's entry point: the reminder as the system, in one transaction; counts only."""
    with rt.transaction(SYSTEM_ACTOR) as ctx:
        return remind(ctx, job_run_id=job_run_id)
