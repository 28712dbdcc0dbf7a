"""Synthetic demo of the privacy officer's side: counterparties, a provision, an outsourcee contract, requests
from the person and a 政令5 record. Fictitious organisations and people only."""

from __future__ import annotations

import random
from datetime import timedelta

from mamori.customers.schemas import ActivityIn
from mamori.customers.service import core as customers_service
from mamori.customers.service import subjects
from mamori.kernel.context import SYSTEM_ACTOR
from mamori.kernel.runtime import Runtime
from mamori.processors import service as processors_service
from mamori.processors.schemas import (
    CLAUSES,
    EVALUATION_ITEMS,
    ContractCreate,
    CustomersIn,
    EvaluationIn,
)
from mamori.provision import service as provision_service
from mamori.provision.schemas import CounterpartyIn, InfoSheetIn, ProvideIn, ProvisionConsentIn
from mamori.rights import service as rights_service
from mamori.rights.schemas import RequestOpen


def seed(runtime: Runtime, rng: random.Random) -> dict[str, object]:
    """Idempotent: does nothing when counterparties already exist."""
    with runtime.transaction(SYSTEM_ACTOR) as ctx:
        if provision_service.list_counterparties(ctx):
            return {}
        ids = subjects.ids_with_purpose(ctx, "contract")
        # provided to the partner: persons told of partner-sharing who consented to it (demo.generate)
        sharing = sorted(subjects.ids_with_purpose(ctx, "partner-sharing"))
        if len(ids) < 12 or len(sharing) < 4:
            return {}
        shared = rng.sample(sharing, 4)
        picked = shared + rng.sample(sorted(set(ids) - set(shared)), 8)
        partner = provision_service.add_counterparty(
            ctx,
            CounterpartyIn(
                kind="third_party",
                name="架空ポイント連携株式会社",
                address="東京都千代田区架空町2-3-4",
                representative="代表取締役 架空 二郎",
            ),
        )
        foreign = provision_service.add_counterparty(
            ctx,
            CounterpartyIn(
                kind="third_party",
                name="Example Analytics Inc.",
                address="100 Example Street, Springfield, US",
                representative="CEO Jane Example",
                country="US",
            ),
        )
        provision_service.add_sheet(
            ctx,
            foreign.id,
            InfoSheetIn(
                protection_system="連邦レベルの包括的な個人情報保護法はなく、州法（例: カリフォルニア州）と分野別の法律がある（架空の説明）。",
                recipient_measures="OECD8原則に沿った社内規程と委託先管理（架空の説明）。",
            ),
        )
        outsourcee = provision_service.add_counterparty(
            ctx,
            CounterpartyIn(
                kind="outsourcee",
                name="架空配送センター株式会社",
                address="埼玉県さいたま市架空区5-6-7",
                representative="代表取締役 架空 三郎",
            ),
        )
        for cid in picked[:4]:
            provision_service.grant_consent(
                ctx,
                ProvisionConsentIn(
                    customer_id=cid,
                    counterparty_id=partner.id,
                    purpose="partner-sharing",
                    method="checkbox",
                    evidence="point-card-form-2026",
                ),
            )
    with runtime.transaction(SYSTEM_ACTOR) as ctx:
        provision_service.provide(
            ctx,
            ProvideIn.model_validate(
                {
                    "counterparty_id": partner.id,
                    "purpose": "partner-sharing",
                    "fields": ["name", "email"],
                    "customer_ids": picked[:4],
                }
            ),
        )
        today = ctx.clock.now().date()
        contract = processors_service.add_contract(
            ctx,
            ContractCreate(
                counterparty_id=outsourcee.id,
                work="ご注文商品の配送と配送日時のご連絡",
                purposes=["contract"],
                fields=["name", "postal_code", "address", "phones"],
                clauses=list(CLAUSES),
                starts_on=today - timedelta(days=30),
                ends_on=today + timedelta(days=335),
                reference="委託-2026-001",
            ),
        )
        processors_service.evaluate(
            ctx, contract.id, EvaluationIn(items=dict.fromkeys(EVALUATION_ITEMS, "meets"))
        )
        processors_service.activate(ctx, contract.id)
        processors_service.assign_customers(ctx, contract.id, CustomersIn(customer_ids=picked[4:10]))
    with runtime.transaction(SYSTEM_ACTOR, "support") as ctx:
        # 政令5(2): a record kept to prevent unjust demands is not 保有個人データ (R-16-4)
        customers_service.add_activity(
            ctx,
            picked[10],
            ActivityIn(kind="note", body="繰り返しの不当要求あり。対応は責任者へ。", withheld="seirei5-2"),
        )
    requests = 0
    for cid, kind in ((picked[0], "disclosure"), (picked[10], "stop_use"), (picked[11], "erasure")):
        with runtime.transaction(SYSTEM_ACTOR) as ctx:
            email = next((v for k, v in subjects.registered_contacts(ctx, cid) if k == "email"), None)
            if email is None:
                continue
            extra: dict[str, object] = {}
            if kind == "stop_use":
                extra = {"stop_scope": "purpose", "purpose": "marketing-email", "ground": "harm_to_rights"}
            if kind == "erasure":
                extra = {"ground": "no_longer_needed"}
            rights_service.open_request(
                ctx,
                RequestOpen.model_validate(
                    {"kind": kind, "channel": rng.choice(["phone", "letter"]), "emails": [email], **extra}
                ),
            )
            requests += 1
    return {"counterparties": 3, "provisions": 4, "contracts": 1, "requests": requests}
