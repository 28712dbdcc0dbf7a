"""Fixtures of the provision tests: staff per role, counterparties, customers (synthetic data only)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from mamori.kernel.context import Actor
from mamori.kernel.runtime import Runtime
from mamori.provision import service
from mamori.provision.schemas import CounterpartyIn, InfoSheetIn, ProvideIn, ProvisionConsentIn
from mamori.provision.service import counterparties
from tests.factories import make_customer, seed_basics

NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # the frozen test clock


@pytest.fixture
def actors(runtime):
    return seed_basics(runtime)


def add_cp(rt: Runtime, po: Actor, *, kind: str = "third_party", country: str = "JP", **extra: object) -> str:
    data = {
        "kind": kind,
        "name": "架空データ販売株式会社",
        "address": "東京都港区架空1-2-3",
        "representative": "代表取締役 架空一郎",
        "country": country,
        **extra,
    }
    with rt.transaction(po) as ctx:
        return service.add_counterparty(ctx, CounterpartyIn.model_validate(data)).id


def add_sheet(rt: Runtime, po: Actor, cp: str) -> int:
    with rt.transaction(po) as ctx:
        return counterparties.add_sheet(
            ctx,
            cp,
            InfoSheetIn(
                protection_system="個人情報保護法制あり（架空）", recipient_measures="OECD8原則に対応"
            ),
        ).version


def consent(
    rt: Runtime, po: Actor, cid: str, cp: str, purpose: str = "contract", sheet: int | None = None
) -> str:
    with rt.transaction(po) as ctx:
        return service.grant_consent(
            ctx,
            ProvisionConsentIn(
                customer_id=cid,
                counterparty_id=cp,
                purpose=purpose,
                method="checkbox",
                evidence="form-7",
                sheet_version=sheet,
            ),
        ).id


def provide_in(cp: str, ids: list[str], **extra: object) -> ProvideIn:
    return ProvideIn.model_validate(
        {
            "counterparty_id": cp,
            "purpose": "contract",
            "fields": ["name", "email"],
            "customer_ids": ids,
            **extra,
        }
    )


def customers(rt: Runtime, actor: Actor, n: int) -> list[str]:
    return [
        make_customer(rt, actor, name=f"試験 {i}郎", email=f"user{i}@example.jp", phone=None)
        for i in range(n)
    ]


def days(n: int) -> timedelta:
    return timedelta(days=n)
