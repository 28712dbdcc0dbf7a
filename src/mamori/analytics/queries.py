"""SELECTs of the KPI dashboard, the acquisition costs, the checklist and the data map (issue 24): counts, dates,
codes and ids of organisations — never a personal value.

The customers slice's tables (``customers``, ``activities``, ``provenance``, ``customer_purposes``) are not read
here: DESIGN.md says a slice reads only its own tables, so the statements over them (purchases per month, new
customers per channel or campaign, repeat and churn counts, channels and campaigns in use, live people, people
notified of a purpose) are built by ``mamori.customers.queries`` over their plaintext columns and executed by the
analytics services; the consent-rate and do-not-contact statements below join the consent ledger to the id-only
subqueries that slice builds (``live_ids_before``, ``notified_live_before``). tests/architecture checks that no
module outside the customers slice names its tables or imports its models.

Dates: the KPIs count by JST day and month (``jst``, from the customers slice's queries, does the grouping in the
database; JST has no daylight saving time).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, and_, distinct, func, select

from mamori.analytics.models import AcquisitionCost, AnalyticsRun
from mamori.consent.models import ConsentEvent
from mamori.contact.models import Campaign, CampaignSend
from mamori.customers import queries as customers_queries

# Re-exported from the customers slice: the JST grouping, and what a cost line may name (built over provenance).
from mamori.customers.queries import Grain as Grain
from mamori.customers.queries import campaigns_in_use as campaigns_in_use
from mamori.customers.queries import channels_in_use as channels_in_use
from mamori.customers.queries import jst as jst
from mamori.incidents.models import Incident
from mamori.inventory.models import StorageLocation
from mamori.kernel.audit.models import AuditEntryRow
from mamori.lifecycle.models import DisposalRecord, RetentionRule
from mamori.processors.models import ProcessorAudit, ProcessorContract
from mamori.provision.models import OptOutFiling, Provision, Receipt
from mamori.rights.models import RightsRequest
from mamori.staff.models import StaffUser

# -- consent and do-not-contact (the ledger's codes, by person id only) -------------------------------------------


def _latest_lines(kind: str, end: datetime) -> Any:
    """The newest ledger line (by seq) of each person and target of ``kind`` recorded before ``end``."""
    return (
        select(func.max(ConsentEvent.seq).label("seq"))
        .where(ConsentEvent.kind == kind, ConsentEvent.occurred_at < end)
        .group_by(ConsentEvent.customer_id, ConsentEvent.target)
        .subquery()
    )


def consented_per_purpose(end: datetime) -> Select[str, int]:
    """(purpose code, live people notified of it whose newest consent line for it says granted), before ``end``.
    The live-and-notified pairs come from the customers slice (ids and purpose codes only)."""
    latest = _latest_lines("purpose", end)
    notified = customers_queries.notified_live_before(end).subquery()
    return (
        select(ConsentEvent.target, func.count(distinct(ConsentEvent.customer_id)))
        .join(latest, latest.c.seq == ConsentEvent.seq)
        .join(
            notified,
            and_(
                notified.c.customer_id == ConsentEvent.customer_id,
                notified.c.purpose_code == ConsentEvent.target,
            ),
        )
        .where(ConsentEvent.action == "granted")
        .group_by(ConsentEvent.target)
    )


def do_not_contact_per_channel(end: datetime) -> Select[str, int]:
    """(channel, live people whose newest line for the channel is a do-not-contact), before ``end``. The live
    people's ids come from the customers slice."""
    latest = _latest_lines("channel", end)
    live = customers_queries.live_ids_before(end).subquery()
    return (
        select(ConsentEvent.target, func.count(distinct(ConsentEvent.customer_id)))
        .join(latest, latest.c.seq == ConsentEvent.seq)
        .join(live, live.c.id == ConsentEvent.customer_id)
        .where(ConsentEvent.action == "opt_out")
        .group_by(ConsentEvent.target)
    )


# -- requests from the person (dates and states only) --------------------------------------------------------------


def requests_received(
    start: datetime, end: datetime
) -> Select[str, datetime, date, date | None, datetime | None, str]:
    """(id, received at, due on, extended due on, answered at, status) of the requests received in [start, end)."""
    return (
        select(
            RightsRequest.id,
            RightsRequest.received_at,
            RightsRequest.due_on,
            RightsRequest.extended_due_on,
            RightsRequest.answered_at,
            RightsRequest.status,
        )
        .where(RightsRequest.received_at >= start, RightsRequest.received_at < end)
        .order_by(RightsRequest.received_at)
    )


def open_requests() -> Select[str, date, date | None, datetime | None]:
    """(id, due on, extended due on, answered at) of every request not closed."""
    return select(
        RightsRequest.id, RightsRequest.due_on, RightsRequest.extended_due_on, RightsRequest.answered_at
    ).where(RightsRequest.status != "closed")


# -- outsourcee audits, incidents, campaigns -----------------------------------------------------------------------


def processor_audits() -> Select[str, str, str, date, date | None, str | None, datetime | None]:
    """(audit id, contract id, contract status, due on, performed on, result, remedied at) of every audit."""
    return (
        select(
            ProcessorAudit.id,
            ProcessorAudit.contract_id,
            ProcessorContract.status,
            ProcessorAudit.due_on,
            ProcessorAudit.performed_on,
            ProcessorAudit.result,
            ProcessorAudit.remedied_at,
        )
        .join(ProcessorContract, ProcessorContract.id == ProcessorAudit.contract_id)
        .order_by(ProcessorAudit.due_on, ProcessorAudit.id)
    )


def contract_states() -> Select[str, str, date, date]:
    """(contract id, status, starts on, ends on) of every contract."""
    return select(
        ProcessorContract.id, ProcessorContract.status, ProcessorContract.starts_on, ProcessorContract.ends_on
    ).order_by(ProcessorContract.created_at, ProcessorContract.id)


def incidents_known(start: datetime, end: datetime) -> Select[Incident]:
    """The incidents the company knew of in [start, end)."""
    return (
        select(Incident)
        .where(Incident.known_at >= start, Incident.known_at < end)
        .order_by(Incident.known_at, Incident.id)
    )


def incident_counts() -> Select[str, int]:
    """(status, incidents) of the whole register."""
    return select(Incident.status, func.count()).group_by(Incident.status)


def campaign_sends(start: datetime, end: datetime) -> Select[str, int]:
    """(send status, messages) of the campaigns sent in [start, end)."""
    return (
        select(CampaignSend.status, func.count())
        .join(Campaign, Campaign.id == CampaignSend.campaign_id)
        .where(Campaign.sent_at >= start, Campaign.sent_at < end)
        .group_by(CampaignSend.status)
    )


def campaigns_sent(start: datetime, end: datetime) -> Select[int]:
    return select(func.count()).select_from(Campaign).where(Campaign.sent_at >= start, Campaign.sent_at < end)


# Sends that reached the person: sent, or sent and later unsubscribed from (not queued, failed or bounced).
DELIVERED_SENDS = ("sent", "unsubscribed")


def campaign_measurement(start: datetime, end: datetime) -> Select[bool, int, int, int]:
    """(tracked, delivered sends, opened, clicked) of the campaigns sent in [start, end), one row per tracked
    flag: counts only (brief T; a click records an open too, so ``opened`` includes every click)."""
    return (
        select(
            CampaignSend.tracked,
            func.count(),
            func.count(CampaignSend.opened_at),
            func.count(CampaignSend.clicked_at),
        )
        .join(Campaign, Campaign.id == CampaignSend.campaign_id)
        .where(
            Campaign.sent_at >= start,
            Campaign.sent_at < end,
            CampaignSend.status.in_(DELIVERED_SENDS),
        )
        .group_by(CampaignSend.tracked)
    )


# -- acquisition costs (this slice's table) ------------------------------------------------------------------------


def costs() -> Select[AcquisitionCost]:
    """Every cost line, oldest first (a later line for the same channel, campaign and period supersedes)."""
    return select(AcquisitionCost).order_by(AcquisitionCost.created_at, AcquisitionCost.id)


def costs_overlapping(start: date, end: date) -> Select[AcquisitionCost]:
    """The cost lines whose period overlaps [start, end] (dates, both included), oldest first."""
    return (
        select(AcquisitionCost)
        .where(AcquisitionCost.period_start <= end, AcquisitionCost.period_end >= start)
        .order_by(AcquisitionCost.created_at, AcquisitionCost.id)
    )


# -- the checklist's facts ------------------------------------------------------------------------------------------


def staff_accounts() -> Select[str, str, bool, bool]:
    """(role, kind, active, second factor enrolled) of every staff account — no name, no secret."""
    return select(StaffUser.role, StaffUser.kind, StaffUser.active, StaffUser.totp_secret_enc.is_not(None))


def retention_rules() -> Select[int]:
    """Active retention rules."""
    return select(func.count()).select_from(RetentionRule).where(RetentionRule.retired_at.is_(None))


def last_disposal() -> Select[datetime | None]:
    return select(func.max(DisposalRecord.ran_at))


def storage_locations() -> Select[int]:
    """Storage locations in use (not retired) in the inventory."""
    return select(func.count()).select_from(StorageLocation).where(StorageLocation.retired_at.is_(None))


def newest_audit_entry(action: str) -> Select[str | None]:
    """When the audit log last recorded ``action`` (its ``at`` text, UTC; run on the audit store)."""
    return select(func.max(AuditEntryRow.at)).where(AuditEntryRow.action == action)


def audit_size() -> Select[int | None]:
    """The audit log's last sequence number (run on the audit store)."""
    return select(func.max(AuditEntryRow.seq))


# -- the data map's flows ------------------------------------------------------------------------------------------


def provisions_by_recipient() -> Select[str, str, str, str, int, int, datetime]:
    """(counterparty id, basis, purpose, fields, provisions, people, last provided at) grouped."""
    return (
        select(
            Provision.counterparty_id,
            Provision.basis,
            Provision.purpose,
            Provision.fields,
            func.count(),
            func.sum(Provision.person_count),
            func.max(Provision.provided_at),
        )
        .group_by(Provision.counterparty_id, Provision.basis, Provision.purpose, Provision.fields)
        .order_by(Provision.counterparty_id, Provision.basis, Provision.purpose)
    )


def receipts_by_provider() -> Select[str, str, str, int, int, datetime]:
    """(counterparty id, variant, items, receipts, people, last received at) grouped."""
    return (
        select(
            Receipt.counterparty_id,
            Receipt.variant,
            Receipt.items,
            func.count(),
            func.sum(Receipt.person_count),
            func.max(Receipt.received_at),
        )
        .group_by(Receipt.counterparty_id, Receipt.variant, Receipt.items)
        .order_by(Receipt.counterparty_id, Receipt.variant)
    )


def opt_out_filings() -> Select[OptOutFiling]:
    """The opt-out provisions in force (not stopped)."""
    return select(OptOutFiling).where(OptOutFiling.stopped_at.is_(None)).order_by(OptOutFiling.created_at)


def latest_run(kind: str) -> Select[AnalyticsRun]:
    """The newest analysis run of ``kind`` (its summary holds aggregates only)."""
    return (
        select(AnalyticsRun)
        .where(AnalyticsRun.kind == kind)
        .order_by(AnalyticsRun.created_at.desc(), AnalyticsRun.id)
        .limit(1)
    )
