"""SELECTs of the lifecycle slice (issue 21): ids, codes, dates and counts; no personal value is selected here."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Select, func, select

from mamori.provision.models import ProvisionRecord

# -- retention (R-22-1, R-29-4): provision records kept after a disposal — ids, counts and dates only ------------


def kept_provision_records(customer_ids: Sequence[str]) -> Select[str | None, int, datetime]:
    """Per person, how many provision / receipt records are held and until when the last one is kept (R-29-4)."""
    return (
        select(ProvisionRecord.customer_id, func.count(), func.max(ProvisionRecord.retention_until))
        .where(ProvisionRecord.customer_id.in_(list(customer_ids)))
        .group_by(ProvisionRecord.customer_id)
    )


# -- handover: the customers one handover moved (ids) ------------------------------------------------------------


def handover_customers(handover_id: str) -> Select[str]:
    from mamori.lifecycle.models import HandoverCustomer

    return select(HandoverCustomer.customer_id).where(HandoverCustomer.handover_id == handover_id)
