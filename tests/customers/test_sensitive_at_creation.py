"""R-20-2 at creation: 要配慮個人情報 is acquired only with the person's consent or a recorded exception."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from mamori.consent import service as consent_service
from mamori.customers import service
from mamori.customers.models import Customer
from mamori.customers.schemas import AttributeIn, CustomerCreate, ProvenanceIn, SensitiveConsentIn
from mamori.kernel.errors import PolicyDenied
from mamori.kernel.policy import Category
from tests.factories import seed_basics

HISTORY = AttributeIn(key="medical_history", value="高血圧で通院中", category=Category.SENSITIVE)


@pytest.fixture
def actors(runtime):
    return seed_basics(runtime)


def _create(
    runtime, actor, *, name: str, sensitive_basis: str | None, consent: SensitiveConsentIn | None = None
):
    with runtime.transaction(actor) as ctx:
        return service.create(
            ctx,
            CustomerCreate(name=name, emails=[f"{name}@example.jp"], attributes=[HISTORY]),
            provenance=ProvenanceIn(method="direct", channel="paper_form", notice_version="n-2026"),
            purposes=["health-service"],
            sensitive_basis=sensitive_basis,
            sensitive_consent=consent,
        )


def _customers(runtime) -> int:
    with runtime.sessions() as s:
        return int(s.execute(select(func.count()).select_from(Customer)).scalar_one())


@pytest.mark.parametrize("basis", [None, "", "because_sales_said_so"])
def test_sensitive_attribute_at_creation_without_consent_or_exception_is_refused_R_20_2(
    runtime, actors, basis
):
    before = _customers(runtime)
    with pytest.raises(PolicyDenied) as exc:
        _create(runtime, actors["po"], name="nobasis", sensitive_basis=basis)
    assert exc.value.rule_id == "R-20-2" and exc.value.code == "sensitive_consent_missing"
    assert _customers(runtime) == before  # nothing of the person was stored


def test_sensitive_basis_consent_with_no_line_in_the_ledger_is_refused_R_20_2(runtime, actors):
    before = _customers(runtime)
    with pytest.raises(PolicyDenied) as exc:
        _create(runtime, actors["po"], name="claimed", sensitive_basis="consent")
    assert exc.value.rule_id == "R-20-2" and exc.value.code == "sensitive_consent_not_in_ledger"
    assert _customers(runtime) == before


@pytest.mark.parametrize("basis", ["consent", None])
def test_consent_given_at_collection_is_written_to_the_ledger_before_the_value_R_20_2(runtime, actors, basis):
    before = _customers(runtime)
    view = _create(
        runtime,
        actors["po"],
        name=f"consented{basis}",
        sensitive_basis=basis,
        consent=SensitiveConsentIn(method="paper", evidence="同意書 No.12"),
    )
    assert _customers(runtime) == before + 1
    with runtime.transaction(actors["po"]) as ctx:
        assert consent_service.show(ctx, view.id).sensitive == "granted"
    with runtime.transaction(actors["po"], "health-service") as ctx:
        shown = service.get(ctx, view.id)
    assert [(a.key, a.value) for a in shown.attributes] == [("medical_history", "高血圧で通院中")]


def test_sensitive_attribute_at_creation_with_a_recorded_exception_is_kept_R_20_2(runtime, actors):
    before = _customers(runtime)
    view = _create(runtime, actors["po"], name="withlaw", sensitive_basis="law")
    assert _customers(runtime) == before + 1
    with runtime.transaction(actors["po"], "health-service") as ctx:
        shown = service.get(ctx, view.id)
    assert [a.key for a in shown.attributes] == ["medical_history"]
