"""SELECTs of the KPI dashboard, the acquisition costs, the checklist and the data map (issue 24): counts, dates,
codes and ids of organisations — never a personal value.

The customers slice's tables are named here as lightweight tables (``customers``, ``activities``,
``provenance``) that declare only their plaintext columns: ids, the activity kind, the provenance channel and
dates. No sealed column is declared, so no statement built here can select a personal value (the KPIs are
aggregate statistics; nothing is decrypted), and the customers models themselves are not imported
(tests/architecture: no other slice imports them).

Dates: the KPIs count by JST day and month. The window bounds arrive as aware UTC datetimes (JST midnights);
grouping by JST month or day is done by the database (SQLite ``strftime`` with ``+9 hours``, PostgreSQL
``to_char(timezone('Asia/Tokyo', …))``): JST has no daylight saving time.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    and_,
    case,
    column,
    distinct,
    exists,
    func,
    literal_column,
    select,
    table,
)

from mamori.analytics.models import AcquisitionCost, AnalyticsRun
from mamori.consent.models import ConsentEvent
from mamori.contact.models import Campaign, CampaignSend
from mamori.customers.models import CustomerPurpose
from mamori.incidents.models import Incident
from mamori.inventory.models import StorageLocation
from mamori.kernel.audit.models import AuditEntryRow
from mamori.kernel.db import UtcDateTime
from mamori.lifecycle.models import DisposalRecord, RetentionRule
from mamori.processors.models import ProcessorAudit, ProcessorContract
from mamori.provision.models import OptOutFiling, Provision, Receipt
from mamori.rights.models import RightsRequest
from mamori.staff.models import StaffUser

# The plaintext columns the KPIs count (see the module docstring); the sealed columns are not declared.
CUSTOMERS = table(
    "customers",
    column("id", String),
    column("created_at", UtcDateTime()),
    column("erased_at", UtcDateTime()),
)
ACTIVITIES = table(
    "activities",
    column("customer_id", String),
    column("kind", String),
    column("occurred_at", UtcDateTime()),
)
PROVENANCE = table(
    "provenance",
    column("id", String),
    column("customer_id", String),
    column("channel", String),
    column("acquired_at", UtcDateTime()),
)
PURCHASE = "purchase"

Grain = Literal["month", "day"]
_FORMATS = {
    "sqlite": {"month": "'%Y-%m'", "day": "'%Y-%m-%d'"},
    "postgresql": {"month": "'YYYY-MM'", "day": "'YYYY-MM-DD'"},
}


def jst(value: ColumnElement[Any], dialect: str, grain: Grain) -> ColumnElement[str]:
    """The JST month (``2026-11``) or day (``2026-11-23``) of a UTC timestamp column, computed by the database."""
    if dialect == "postgresql":
        local = func.timezone(literal_column("'Asia/Tokyo'"), value)
        return func.to_char(local, literal_column(_FORMATS["postgresql"][grain]))
    return func.strftime(literal_column(_FORMATS["sqlite"][grain]), value, literal_column("'+9 hours'"))


# -- purchases (activities of kind "purchase": the kind and the time only) ---------------------------------------


def purchases_by_month(dialect: str, start: datetime, end: datetime) -> Select[str, int]:
    """(JST month, purchases) in [start, end)."""
    month = jst(ACTIVITIES.c.occurred_at, dialect, "month").label("month")
    return (
        select(month, func.count())
        .where(
            ACTIVITIES.c.kind == PURCHASE,
            ACTIVITIES.c.occurred_at >= start,
            ACTIVITIES.c.occurred_at < end,
        )
        .group_by(month)
    )


def purchase_facts(
    dialect: str, start: datetime, end: datetime, cutoff: datetime
) -> Select[int, int | None, int | None, int | None]:
    """In one scan of the purchases before ``end``: (people who had bought, those whose last purchase is before
    ``cutoff``, people who bought in [start, end), those of them who bought on two or more JST days). Grouped by an
    expression of the customer id, so SQLite scans the table instead of walking the (customer, time) index row by
    row for the kind (measured 2x faster on a million purchases). An erased person's activities are deleted at
    erasure, so they are not counted."""
    in_window = ACTIVITIES.c.occurred_at >= start
    day = jst(ACTIVITIES.c.occurred_at, dialect, "day")
    per_person = (
        select(
            func.max(ACTIVITIES.c.occurred_at).label("last"),
            func.count(distinct(case((in_window, day)))).label("days"),
        )
        .where(ACTIVITIES.c.kind == PURCHASE, ACTIVITIES.c.occurred_at < end)
        .group_by(ACTIVITIES.c.customer_id.concat(literal_column("''")))
        .subquery()
    )
    return select(
        func.count(),
        func.sum(case((per_person.c.last < cutoff, 1), else_=0)),
        func.sum(case((per_person.c.days >= 1, 1), else_=0)),
        func.sum(case((per_person.c.days >= 2, 1), else_=0)),
    )


# -- acquisition (the earliest provenance row of each person) -----------------------------------------------------


def _acquisitions() -> Any:
    """Each person's earliest provenance row: (customer id, channel, acquired at)."""
    ranked = select(
        PROVENANCE.c.customer_id,
        PROVENANCE.c.channel,
        PROVENANCE.c.acquired_at,
        func.row_number()
        .over(
            partition_by=PROVENANCE.c.customer_id,
            order_by=(PROVENANCE.c.acquired_at, PROVENANCE.c.id),
        )
        .label("n"),
    ).subquery()
    return (
        select(ranked.c.customer_id, ranked.c.channel, ranked.c.acquired_at).where(ranked.c.n == 1).subquery()
    )


def new_customers_by_channel(start: datetime, end: datetime) -> Select[str | None, int]:
    """(channel, people acquired) for the people whose first provenance falls in [start, end). Erased people were
    acquired too: their provenance rows are kept."""
    first = _acquisitions()
    return (
        select(first.c.channel, func.count())
        .where(first.c.acquired_at >= start, first.c.acquired_at < end)
        .group_by(first.c.channel)
    )


def new_customers_by_month(dialect: str, start: datetime, end: datetime) -> Select[str, str | None, int]:
    """(JST month, channel, people acquired) in [start, end)."""
    first = _acquisitions()
    month = jst(first.c.acquired_at, dialect, "month").label("month")
    return (
        select(month, first.c.channel, func.count())
        .where(first.c.acquired_at >= start, first.c.acquired_at < end)
        .group_by(month, first.c.channel)
    )


def channels_in_use() -> Select[str]:
    """The provenance channels recorded on at least one person (what a cost may be entered for)."""
    return (
        select(PROVENANCE.c.channel)
        .where(PROVENANCE.c.channel.is_not(None))
        .group_by(PROVENANCE.c.channel)
        .order_by(PROVENANCE.c.channel)
    )


# -- consent and do-not-contact (the ledger's codes, by person id only) -------------------------------------------


def _live_before(end: datetime) -> ColumnElement[bool]:
    return and_(CUSTOMERS.c.erased_at.is_(None), CUSTOMERS.c.created_at < end)


def live_customers(end: datetime | None = None) -> Select[int]:
    """People not erased (created before ``end`` when given)."""
    live = select(func.count()).select_from(CUSTOMERS).where(CUSTOMERS.c.erased_at.is_(None))
    return live if end is None else live.where(CUSTOMERS.c.created_at < end)


def notified_per_purpose(end: datetime) -> Select[str, int]:
    """(purpose code, live people notified of it before ``end``)."""
    return (
        select(CustomerPurpose.purpose_code, func.count(distinct(CustomerPurpose.customer_id)))
        .join(CUSTOMERS, CUSTOMERS.c.id == CustomerPurpose.customer_id)
        .where(_live_before(end), CustomerPurpose.notified_at < end)
        .group_by(CustomerPurpose.purpose_code)
    )


def _latest_lines(kind: str, end: datetime) -> Any:
    """The newest ledger line (by seq) of each person and target of ``kind`` recorded before ``end``."""
    return (
        select(func.max(ConsentEvent.seq).label("seq"))
        .where(ConsentEvent.kind == kind, ConsentEvent.occurred_at < end)
        .group_by(ConsentEvent.customer_id, ConsentEvent.target)
        .subquery()
    )


def consented_per_purpose(end: datetime) -> Select[str, int]:
    """(purpose code, live people notified of it whose newest consent line for it says granted), before ``end``."""
    latest = _latest_lines("purpose", end)
    notified = exists().where(
        CustomerPurpose.customer_id == ConsentEvent.customer_id,
        CustomerPurpose.purpose_code == ConsentEvent.target,
        CustomerPurpose.notified_at < end,
    )
    return (
        select(ConsentEvent.target, func.count(distinct(ConsentEvent.customer_id)))
        .join(latest, latest.c.seq == ConsentEvent.seq)
        .join(CUSTOMERS, CUSTOMERS.c.id == ConsentEvent.customer_id)
        .where(ConsentEvent.action == "granted", _live_before(end), notified)
        .group_by(ConsentEvent.target)
    )


def do_not_contact_per_channel(end: datetime) -> Select[str, int]:
    """(channel, live people whose newest line for the channel is a do-not-contact), before ``end``."""
    latest = _latest_lines("channel", end)
    return (
        select(ConsentEvent.target, func.count(distinct(ConsentEvent.customer_id)))
        .join(latest, latest.c.seq == ConsentEvent.seq)
        .join(CUSTOMERS, CUSTOMERS.c.id == ConsentEvent.customer_id)
        .where(ConsentEvent.action == "opt_out", _live_before(end))
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


def campaign_exists(campaign_id: str) -> Select[str]:
    return select(Campaign.id).where(Campaign.id == campaign_id)


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
