"""Fixtures of the processors tests: an outsourcee counterparty, a contract ready to run, covered customers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest

from mamori.kernel.context import SYSTEM_ACTOR, Actor
from mamori.kernel.runtime import Runtime
from mamori.processors import service
from mamori.processors.schemas import (
    CLAUSES,
    EVALUATION_ITEMS,
    ContractCreate,
    CustomersIn,
    EvaluationIn,
    OperatorCreate,
)
from mamori.provision import service as provision_service
from mamori.provision.schemas import CounterpartyIn
from mamori.staff import service as staff_service
from tests.factories import make_customer, seed_basics

STARTS = date(2026, 11, 1)  # the frozen test clock is 2026-11-23 10:00 JST
ENDS = date(2027, 3, 31)


def add_counterparty(
    rt: Runtime, po: Actor, *, kind: str = "outsourcee", country: str = "JP", **extra: object
) -> str:
    with rt.transaction(po) as ctx:
        cp = provision_service.add_counterparty(
            ctx,
            CounterpartyIn.model_validate(
                {
                    "kind": kind,
                    "name": "架空コールセンター株式会社",
                    "address": "東京都千代田区架空町1-1",
                    "representative": "代表取締役 架空 一郎",
                    "country": country,
                    **extra,
                }
            ),
        )
    return cp.id


def contract_data(counterparty_id: str, **overrides: object) -> ContractCreate:
    values: dict[str, object] = {
        "counterparty_id": counterparty_id,
        "work": "お客様へのアフターサービスの電話対応",
        "purposes": ["contract"],
        "fields": ["name", "kana", "phones"],
        "clauses": list(CLAUSES),
        "starts_on": STARTS,
        "ends_on": ENDS,
        "reference": "C-2026-001",
    }
    values.update(overrides)
    return ContractCreate.model_validate(values)


def all_meet() -> EvaluationIn:
    return EvaluationIn(items={i: "meets" for i in EVALUATION_ITEMS}, note="ISMS 認証を確認")


def running_contract(rt: Runtime, po: Actor, counterparty_id: str, **overrides: object) -> str:
    with rt.transaction(po) as ctx:
        c = service.add_contract(ctx, contract_data(counterparty_id, **overrides))
        service.evaluate(ctx, c.id, all_meet())
        service.activate(ctx, c.id)
    return c.id


@dataclass
class World:
    rt: Runtime
    actors: dict[str, Actor]
    counterparty_id: str
    contract_id: str
    covered: str  # a customer the contract covers
    uncovered: str  # a customer it does not
    operator: Actor

    @property
    def po(self) -> Actor:
        return self.actors["po"]


def add_operator(rt: Runtime, po: Actor, contract_id: str, username: str = "cc-op1") -> Actor:
    with rt.transaction(po) as ctx:
        service.add_operator(
            ctx, contract_id, OperatorCreate(username=username, display_name="オペレーター1")
        )
    with rt.transaction(SYSTEM_ACTOR, readonly=True) as session:
        return staff_service.actor_for(session, username)


@pytest.fixture
def actors(runtime):
    return seed_basics(runtime)


@pytest.fixture
def world(runtime, actors) -> World:
    po = actors["po"]
    cp = add_counterparty(runtime, po)
    covered = make_customer(runtime, actors["sato"], name="架空 花子", email="hanako@example.jp")
    uncovered = make_customer(runtime, actors["sato"], name="架空 次郎", email="jiro@example.jp")
    contract_id = running_contract(runtime, po, cp)
    with runtime.transaction(po) as ctx:
        service.assign_customers(ctx, contract_id, CustomersIn(customer_ids=[covered]))
    operator = add_operator(runtime, po, contract_id)
    return World(runtime, actors, cp, contract_id, covered, uncovered, operator)
