"""SELECTs of the inventory slice: its own tables, and the registries of the earlier slices it reports on.

None of these reads a personal value (the attribute keys in use come from the customers slice,
``subjects.attribute_keys_in_use``).
"""

from __future__ import annotations

from sqlalchemy import Select, select

from mamori.inventory.models import DataItem, StorageLocation
from mamori.processors.models import ProcessorContract, ProcessorSubcontract
from mamori.provision.models import (
    Counterparty,
    CounterpartyInfoSheet,
    JointUseDeclaration,
    OptOutFiling,
    Provision,
    ProvisionConsent,
)


def location(code: str) -> Select[StorageLocation]:
    return select(StorageLocation).where(StorageLocation.code == code)


def locations(include_retired: bool = True) -> Select[StorageLocation]:
    stmt = select(StorageLocation).order_by(StorageLocation.country, StorageLocation.code)
    return stmt if include_retired else stmt.where(StorageLocation.retired_at.is_(None))


def items() -> Select[DataItem]:
    return select(DataItem).order_by(DataItem.key)


def item(key: str) -> Select[DataItem]:
    return select(DataItem).where(DataItem.key == key)


def counterparties() -> Select[Counterparty]:
    return select(Counterparty).order_by(Counterparty.name, Counterparty.id)


def counterparty(counterparty_id: str) -> Select[Counterparty]:
    return select(Counterparty).where(Counterparty.id == counterparty_id)


def latest_sheets() -> Select[CounterpartyInfoSheet]:
    return select(CounterpartyInfoSheet).order_by(
        CounterpartyInfoSheet.counterparty_id, CounterpartyInfoSheet.version
    )


def open_contracts() -> Select[ProcessorContract]:
    """Outsourcee contracts not ended (draft, active, suspended): the recipients the data goes or will go to."""
    return (
        select(ProcessorContract)
        .where(ProcessorContract.status != "ended")
        .order_by(ProcessorContract.created_at, ProcessorContract.id)
    )


def approved_subcontracts() -> Select[ProcessorSubcontract, ProcessorContract]:
    return (
        select(ProcessorSubcontract, ProcessorContract)
        .join(ProcessorContract, ProcessorContract.id == ProcessorSubcontract.contract_id)
        .where(ProcessorSubcontract.status == "approved", ProcessorContract.status != "ended")
        .order_by(ProcessorSubcontract.requested_at, ProcessorSubcontract.id)
    )


def joint_uses() -> Select[JointUseDeclaration]:
    return select(JointUseDeclaration).order_by(JointUseDeclaration.code)


def provided_pairs() -> Select[str, str]:
    """(counterparty id, purpose) of every provision made, every consent to provide not withdrawn and every
    opt-out filing not stopped: which third parties receive data under which purpose."""
    made = select(Provision.counterparty_id, Provision.purpose)
    consented = select(ProvisionConsent.counterparty_id, ProvisionConsent.purpose).where(
        ProvisionConsent.withdrawn_at.is_(None)
    )
    filed = select(OptOutFiling.counterparty_id, OptOutFiling.purpose).where(
        OptOutFiling.counterparty_id.is_not(None), OptOutFiling.stopped_at.is_(None)
    )
    union = made.union(consented, filed).subquery()
    return select(union.c.counterparty_id, union.c.purpose)
