"""Free text on a customer: personal information the purpose does not need is warned about; 要配慮 without
consent is refused (R-20-2, R-2.3-1) — the deid text scanner reaches customers through the kernel registry."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from mamori.consent import service as consent_service
from mamori.consent.schemas import ConsentIn
from mamori.customers import service
from mamori.customers.models import Activity
from mamori.customers.schemas import ActivityIn
from mamori.kernel.errors import PolicyDenied
from tests.factories import make_customer, seed_basics


@pytest.fixture
def actors(runtime):
    return seed_basics(runtime)


def activities(rt):
    with rt.sessions() as s:
        return s.scalar(select(func.count()).select_from(Activity))


def test_former_employer_in_a_note_warns_when_the_purpose_does_not_need_it(runtime, actors):
    """Seed 004: a prospect's career history passed around in notes. health-service covers behaviour (notes) but
    not attributes, so the career detail gets a warning; contract covers attributes, so it does not."""
    cid = make_customer(runtime, actors["po"], purposes=("health-service", "contract"))
    note = ActivityIn(kind="note", body="前職は株式会社サンプル商事の営業部長だったそうです。")
    with runtime.transaction(actors["po"], "health-service") as ctx:
        _, warnings = service.add_activity(ctx, cid, note)
    assert [(w.type, w.rule_id) for w in warnings] == [("flag:career", "R-18-1")]
    with runtime.transaction(actors["po"], "contract") as ctx:
        _, warnings = service.add_activity(ctx, cid, note)
    assert warnings == []


def test_a_my_number_in_a_note_is_always_flagged(runtime, actors):
    cid = make_customer(runtime, actors["support"], purposes=("contract",))
    number = valid_my_number("12345678901")
    with runtime.transaction(actors["support"], "contract") as ctx:
        _, warnings = service.add_activity(
            ctx, cid, ActivityIn(kind="call", body=f"個人番号は {number} とのこと")
        )
    assert [w.type for w in warnings] == ["my_number"]


def valid_my_number(first11: str) -> str:
    """Append the official check digit (個人番号の検査用数字) to 11 digits."""
    digits = [int(c) for c in reversed(first11)]
    total = sum(d * ((n + 1) if n <= 6 else (n - 5)) for n, d in enumerate(digits, start=1))
    remainder = total % 11
    return first11 + str(0 if remainder <= 1 else 11 - remainder)


def test_sensitive_information_in_a_note_is_refused_without_consent_R_20_2(runtime, actors):
    cid = make_customer(runtime, actors["support"], purposes=("health-service",))
    before = activities(runtime)
    body = ActivityIn(kind="call", body="持病の糖尿病で通院中とのこと。")
    with pytest.raises(PolicyDenied) as exc, runtime.transaction(actors["support"], "health-service") as ctx:
        service.add_activity(ctx, cid, body)
    assert exc.value.rule_id == "R-20-2" and exc.value.code == "sensitive_in_note"
    assert "糖尿病" not in exc.value.one_line() and activities(runtime) == before
    with runtime.transaction(actors["support"]) as ctx:
        consent_service.grant_sensitive(ctx, cid, ConsentIn(method="paper", evidence="同意書-7"))
    with runtime.transaction(actors["support"], "health-service") as ctx:
        service.add_activity(ctx, cid, body)
    assert activities(runtime) == before + 1


def test_career_note_under_a_contact_only_purpose_gets_a_warning(runtime, actors):
    cid = make_customer(runtime, actors["po"], purposes=("marketing-email",))
    with runtime.transaction(actors["po"]) as ctx:
        consent_service.grant(ctx, cid, "marketing-email", ConsentIn(method="checkbox"))
    # marketing-email covers identifier + contact only; activities are behaviour → the write itself is refused
    with pytest.raises(PolicyDenied) as exc, runtime.transaction(actors["po"], "marketing-email") as ctx:
        service.add_activity(ctx, cid, ActivityIn(kind="note", body="前職は架空商事の部長"))
    assert exc.value.code == "field_outside_purpose"
