"""The consent ledger: append-only, state derived from the last line (R-CNS-1, G-7), do-not-contact."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from mamori.consent import service
from mamori.consent.models import ConsentEvent
from mamori.consent.schemas import ConsentIn
from mamori.kernel.errors import NotFound, PolicyDenied, ValidationFailed
from tests.factories import make_customer, seed_basics


@pytest.fixture
def actors(runtime):
    return seed_basics(runtime)


def test_grant_withdraw_regrant_is_append_only_and_last_line_wins_R_CNS_1_G_7(runtime, actors):
    cid = make_customer(runtime, actors["sato"])
    with runtime.transaction(actors["sato"]) as ctx:
        service.grant(
            ctx, cid, "marketing-email", ConsentIn(method="checkbox", notice_version="n1", evidence="f1")
        )
        service.withdraw(ctx, cid, "marketing-email", ConsentIn(method="email"))
    with runtime.transaction(actors["sato"]) as ctx:
        states = service.purpose_states(ctx, [cid], "marketing-email")
        assert states[cid].consent.value == "withdrawn"
        service.grant(ctx, cid, "marketing-email", ConsentIn(method="oral"))
    with runtime.transaction(actors["sato"]) as ctx:
        summary = service.show(ctx, cid)
    assert summary.purposes == {"marketing-email": "granted"}
    assert [e.action for e in summary.events] == ["granted", "withdrawn", "granted"]
    assert summary.events[0].notice_version == "n1" and summary.events[0].recorded_by.startswith("staff:")
    with runtime.sessions() as s:
        assert s.scalar(select(func.count()).select_from(ConsentEvent)) == 3
    runtime.drain_outbox()
    rules = {r for e in runtime.audit.tail(10) for r in e.rule_ids}
    assert {"R-CNS-1", "G-7"} <= rules


def test_do_not_contact_per_channel(runtime, actors):
    cid = make_customer(runtime, actors["support"])
    with runtime.transaction(actors["support"]) as ctx:
        assert service.may_contact(ctx, cid, "phone")
        service.do_not_contact(ctx, cid, "phone", ConsentIn(method="oral"))
    with runtime.transaction(actors["support"]) as ctx:
        assert not service.may_contact(ctx, cid, "phone")
        assert service.may_contact(ctx, cid, "email")
        with pytest.raises(ValidationFailed):
            service.do_not_contact(ctx, cid, "carrier-pigeon", ConsentIn(method="oral"))


def test_unknown_customer_or_purpose_and_scope(runtime, actors):
    cid = make_customer(runtime, actors["sato"])
    with pytest.raises(NotFound), runtime.transaction(actors["sato"]) as ctx:
        service.grant(ctx, "f" * 32, "contract", ConsentIn(method="oral"))
    with pytest.raises(NotFound), runtime.transaction(actors["sato"]) as ctx:
        service.grant(ctx, cid, "no-such-purpose", ConsentIn(method="oral"))
    with pytest.raises(PolicyDenied) as exc, runtime.transaction(actors["suzuki"]) as ctx:
        service.grant(ctx, cid, "contract", ConsentIn(method="oral"))
    assert exc.value.rule_id == "R-23-2"
    with runtime.transaction(actors["sato"]) as ctx:
        assert service.show(ctx, cid).events == []
