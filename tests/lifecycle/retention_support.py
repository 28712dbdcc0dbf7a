"""Helpers of the retention tests (issue 21): staff, customers with a relationship end, rules. Synthetic data."""

from __future__ import annotations

from datetime import date

from mamori.customers.service import relationship
from mamori.kernel import registry
from mamori.kernel.context import Actor
from mamori.kernel.runtime import Runtime
from mamori.lifecycle.retention_schemas import RuleCreate
from mamori.lifecycle.service import retention
from mamori.rights.service.holds import RIGHTS_HOLD
from tests.factories import make_customer, seed_basics

YEAR = 365


def retention_actors(runtime: Runtime) -> dict[str, Actor]:
    registry.register_retention_hold(RIGHTS_HOLD)  # the composition layer registers it in the app
    return seed_basics(runtime)


def person(runtime: Runtime, actor: Actor, n: int, **extra: object) -> str:
    return make_customer(
        runtime,
        actor,
        name=str(extra.pop("name", f"保存 太郎{n}")),
        email=f"keep{n}@example.jp",
        phone=f"090-2222-{3300 + n:04d}",
        **extra,  # type: ignore[arg-type]
    )


def end(runtime: Runtime, actor: Actor, cid: str, on: date) -> None:
    with runtime.transaction(actor, "contract") as ctx:
        relationship.end_relationship(ctx, cid, on=on)


def add_rule(runtime: Runtime, actor: Actor, **fields: object) -> str:
    with runtime.transaction(actor) as ctx:
        return retention.add_rule(ctx, RuleCreate.model_validate(fields)).id
