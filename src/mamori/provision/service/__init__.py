"""Use cases of the provision slice (Context first; flush, never commit).

Modules: counterparties (registry, R-28 sheets and reviews), consents, providing, records, receiving,
joint_use, opt_out, referable, relay. The subject data source (R-33-3) is in ``mamori.provision.sources``.
"""

from __future__ import annotations

from mamori.provision.service.consents import grant as grant_consent
from mamori.provision.service.consents import list_consents
from mamori.provision.service.consents import withdraw as withdraw_consent
from mamori.provision.service.counterparties import (
    EQUIVALENT_COUNTRIES,
    add_counterparty,
    add_sheet,
    foreign_transfer_refusals,
    get_counterparty,
    list_counterparties,
    review,
    sheets,
)
from mamori.provision.service.providing import ProvisionRefused, mark_improper, provide
from mamori.provision.service.records import list_records, purge_expired, show_record

__all__ = [
    "EQUIVALENT_COUNTRIES",
    "ProvisionRefused",
    "add_counterparty",
    "add_sheet",
    "foreign_transfer_refusals",
    "get_counterparty",
    "grant_consent",
    "list_consents",
    "list_counterparties",
    "list_records",
    "mark_improper",
    "provide",
    "purge_expired",
    "review",
    "sheets",
    "show_record",
    "withdraw_consent",
]
