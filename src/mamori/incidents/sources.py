"""What the incidents slice registers with the kernel (issue 22): the subject data source through which a person's
disclosure shows the incident notices they were sent (and nothing else of the incident), the retention hold
that keeps a person in scope of an open incident from disposal, and the mail hooks of the notices.

Registered once by ``mamori.composition.register_all``; the rights and lifecycle slices iterate the registries and
never import this module.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from mamori.incidents.service import notices
from mamori.incidents.service.register import ref_of
from mamori.kernel import registry
from mamori.kernel.context import Context
from mamori.kernel.errors import NotFound
from mamori.kernel.registry import Correction, Hold, Recipient, SubjectRecord

NAME = "incidents"
CATEGORY = "incident_notice"
HOLD_CODE = "open_incident"
HOLD_RULE = "R-26-7"  # the incident's investigation and scope need the data as it stands until it is closed


class IncidentsSource:
    """A person's disclosure (R-33-1 / G-15) shows the notices about incidents they were sent (R-26-6 / G-34):
    the date, how (e-mail or post), the incident's 事案番号 and the data items of THAT person — nothing of the
    incident's other people, its scope methods, its reports or its containment, which the law does not require
    and which would disclose other people's and the company's matters."""

    name = NAME

    def summary(self, ctx: Context, subject_id: str) -> Mapping[str, int]:
        n = len(notices.sent_to(ctx, subject_id))
        return {CATEGORY: n} if n else {}

    def export(self, ctx: Context, subject_id: str) -> Sequence[SubjectRecord]:
        out: list[SubjectRecord] = []
        for notice, incident, subject in notices.sent_to(ctx, subject_id):
            out.append(
                SubjectRecord(
                    source=NAME,
                    category=CATEGORY,
                    record_id=notice.id,
                    data={
                        "incident_ref": ref_of(incident.number),
                        "channel": "email" if notice.channel == "email" else "post",
                        "notified_at": notice.at.isoformat(),
                        "items": notices.items_of(subject),
                    },
                    occurred_at=notice.at,
                )
            )
        return out

    def correct(
        self, ctx: Context, subject_id: str, record_id: str, changes: Mapping[str, str | None]
    ) -> Sequence[Correction]:
        raise NotFound(
            "漏えい等の通知の記録は訂正の対象ではありません（送付の事実の記録で、個人データの値を含みません）。",
            "Incident notice records cannot be corrected: they record that a notice was sent and hold no "
            "personal values.",
            code="record_not_found",
        )

    def erase(self, ctx: Context, subject_id: str) -> int:
        """Nothing is erased: the send log is the company's record of its legal duty to notify (R-26-6) and holds
        ids, channels and dates only — no address, no text, no value of the person."""
        return 0

    def erase_many(self, ctx: Context, subject_ids: Sequence[str]) -> int:
        """Many people at once: nothing erased, as for one person (see :meth:`erase`)."""
        return 0

    def recipients(self, ctx: Context, subject_id: str) -> Sequence[Recipient]:
        return ()


class IncidentsHold:
    """A person in scope of an incident that is not closed is held from retention disposal (R-26-7: the facts,
    the scope and the notices are still being worked on)."""

    name = NAME

    def held(self, ctx: Context, subject_ids: Sequence[str]) -> Mapping[str, Hold]:
        hold = Hold(HOLD_CODE, HOLD_RULE)
        return {cid: hold for cid in notices.in_open_incidents(ctx, subject_ids)}


def register() -> None:
    """Register the incidents source, the retention hold and the notice mail hooks."""
    registry.register_source(IncidentsSource())
    registry.register_retention_hold(IncidentsHold())
    notices.register_mail_hooks()
