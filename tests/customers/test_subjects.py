"""One person's data for rights / provision / processors: locate, read, the subject data source (export,
correct, erase by crypto-shredding), stop-use suppression and outsourcee grants."""

from __future__ import annotations

import shutil
from datetime import timedelta

import pytest
from sqlalchemy import create_engine, select

from mamori.consent import service as consent_service
from mamori.customers import service as customers_service
from mamori.customers.models import BlindIndex, Customer
from mamori.customers.schemas import ActivityIn, AttributeIn
from mamori.customers.service import subjects
from mamori.customers.sources import CustomersSource
from mamori.kernel import registry
from mamori.kernel.context import Actor, ActorKind, Role
from mamori.kernel.crypto.errors import KeyDestroyed
from mamori.kernel.crypto.fields import FieldCipher
from mamori.kernel.errors import NotFound, PolicyDenied, ValidationFailed
from mamori.kernel.policy import Category
from mamori.kernel.registry import AccessGrant
from tests.factories import grant, make_customer, seed_basics


@pytest.fixture
def actors(runtime):
    return seed_basics(runtime)


def test_locate_uses_registered_contacts_only_and_skips_erased(runtime, actors):
    a = make_customer(runtime, actors["support"], email="a@example.jp", phone="090-1111-2222")
    b = make_customer(
        runtime, actors["support"], name="鈴木 花子", email="b@example.jp", phone="080-3333-4444"
    )
    with runtime.transaction(actors["po"]) as ctx:
        assert subjects.locate(ctx, "email", "A@Example.JP") == [a]
        assert subjects.locate(ctx, "phone", "+81 80 3333 4444") == [b]
        assert subjects.locate(ctx, "email", "nobody@example.jp") == []
        with pytest.raises(ValidationFailed):
            subjects.locate(ctx, "name", "鈴木 花子")
        assert ("email", "a@example.jp") in subjects.registered_contacts(ctx, a)
        subjects.erase(ctx, b)
    with runtime.transaction(actors["po"]) as ctx:
        assert subjects.locate(ctx, "phone", "080-3333-4444") == []
        assert subjects.existing(ctx, [a, b, "f" * 32]) == {a}


def test_read_fields_and_sensitive_subjects(runtime, actors):
    a = make_customer(runtime, actors["support"], email="a@example.jp")
    b = make_customer(
        runtime,
        actors["support"],
        name="鈴木 花子",
        email="b@example.jp",
        purposes=("contract", "health-service"),
    )
    with runtime.transaction(actors["support"], purpose="health-service") as ctx:
        customers_service.add_attribute(
            ctx,
            b,
            AttributeIn(key="allergy", value="そば", category=Category.SENSITIVE),
            sensitive_exception="life",
        )
    with runtime.transaction(actors["po"]) as ctx:
        got = subjects.read_fields(ctx, [a, b], ["name", "email", "attr:allergy"])
        assert got[a] == {"name": "山田 太郎", "email": "a@example.jp", "attr:allergy": None}
        assert got[b]["name"] == "鈴木 花子" and got[b]["attr:allergy"] == "そば"
        assert subjects.sensitive_subjects(ctx, [a, b]) == {b}
        with pytest.raises(ValidationFailed):
            subjects.read_fields(ctx, [a], ["password"])


def test_export_leaves_withheld_records_flagged_R_16_4_and_never_another_persons(runtime, actors):
    """R-16-4: a 政令5 record (a malicious-claimer note) is flagged so disclosure leaves it out."""
    a = make_customer(runtime, actors["support"], email="a@example.jp")
    b = make_customer(runtime, actors["support"], name="鈴木 花子", email="b@example.jp")
    with runtime.transaction(actors["support"], purpose="contract") as ctx:
        customers_service.add_activity(ctx, a, ActivityIn(kind="call", body="配送日の確認"))
        customers_service.add_activity(
            ctx, a, ActivityIn(kind="note", body="不当要求あり 対応注意", withheld="seirei5-2")
        )
        customers_service.add_activity(ctx, b, ActivityIn(kind="call", body="花子さんの問い合わせ"))
    source = CustomersSource()
    with runtime.transaction(actors["po"]) as ctx:
        records = source.export(ctx, a)
        summary = source.summary(ctx, a)
    by_cat: dict[str, list] = {}
    for r in records:
        by_cat.setdefault(r.category, []).append(r)
    assert by_cat["profile"][0].data["name"] == "山田 太郎"
    assert {r.data["value"] for r in by_cat["contact"]} == {"a@example.jp", "+819012345678"}
    withheld = [r for r in by_cat["activity"] if r.excluded]
    assert [r.excluded for r in withheld] == ["seirei5-2"]
    assert summary["activity"] == 1  # the withheld record is not counted as held (R-16-4)
    assert "花子" not in repr(records) and "b@example.jp" not in repr(records)


def test_correct_updates_values_and_blind_index_and_refuses_foreign_records(runtime, actors):
    a = make_customer(runtime, actors["support"], email="a@example.jp")
    b = make_customer(runtime, actors["support"], name="鈴木 花子", email="b@example.jp")
    source = CustomersSource()
    with runtime.transaction(actors["po"]) as ctx:
        contact_a = next(r for r in source.export(ctx, a) if r.data.get("kind") == "email")
        contact_b = next(r for r in source.export(ctx, b) if r.data.get("kind") == "email")
        changes = source.correct(ctx, a, a, {"name": "山田 太朗", "address": "大阪府大阪市北区梅田1-1"})
        assert {(c.field, c.before, c.after) for c in changes} == {
            ("name", "山田 太郎", "山田 太朗"),
            ("address", "東京都渋谷区神宮前1-2-3", "大阪府大阪市北区梅田1-1"),
        }
        source.correct(ctx, a, contact_a.record_id, {"value": "new@example.jp"})
        with pytest.raises(NotFound):
            source.correct(ctx, a, contact_b.record_id, {"value": "x@example.jp"})  # b's record via a
        with pytest.raises(ValidationFailed):
            source.correct(ctx, a, a, {"postal_code": "not a postcode"})
        with pytest.raises(ValidationFailed):
            source.correct(ctx, a, contact_a.record_id, {"value": "not-an-email"})
    with runtime.transaction(actors["support"], purpose="contract") as ctx:
        assert [s.id for s in customers_service.find(ctx, name="山田 太朗")] == [a]
        assert customers_service.find(ctx, name="山田 太郎") == []
        assert [s.id for s in customers_service.find(ctx, email="new@example.jp")] == [a]
        assert customers_service.find(ctx, email="a@example.jp") == []


def test_erase_crypto_shreds_even_a_copy_taken_before(runtime, actors, tmp_path):
    a = make_customer(runtime, actors["support"], email="a@example.jp")
    keep = make_customer(runtime, actors["support"], name="鈴木 花子", email="b@example.jp")
    with runtime.transaction(actors["support"], purpose="contract") as ctx:
        customers_service.add_activity(ctx, a, ActivityIn(kind="call", body="配送日の確認"))
    url = str(runtime.data_engine.url)
    copy_rows: list[Customer] = []
    if url.startswith("sqlite"):
        runtime.data_engine.dispose()
        runtime.read_engine.dispose()  # the last connection to close folds the WAL into the file
        src = runtime.data_engine.url.database
        shutil.copy(src, tmp_path / "before.db")
        eng = create_engine(f"sqlite:///{tmp_path / 'before.db'}")
        with eng.connect() as conn:
            copy_rows = list(conn.execute(select(Customer).where(Customer.id == a)))
        eng.dispose()
    else:
        with runtime.data_engine.connect() as conn:  # a snapshot of the row as a backup would hold it
            copy_rows = list(conn.execute(select(Customer).where(Customer.id == a)))
    assert copy_rows and copy_rows[0].name_enc is not None
    with runtime.transaction(actors["po"]) as ctx:
        assert CustomersSource().erase(ctx, a) >= 3
    with runtime.sessions() as s:
        row = s.get(Customer, a)
        assert row is not None and row.erased_at is not None and row.name_enc is None
        assert s.scalars(select(BlindIndex).where(BlindIndex.customer_id == a)).all() == []
    runtime.keystore.clear_cache()
    cipher = FieldCipher(runtime.keystore)
    with pytest.raises(KeyDestroyed):
        cipher.decrypt(a, "customers", "name", a, copy_rows[0].name_enc)
    with runtime.transaction(actors["support"], purpose="contract") as ctx:
        assert customers_service.find(ctx, email="a@example.jp") == []
        with pytest.raises(NotFound):
            customers_service.get(ctx, a)
        assert customers_service.get(ctx, keep).name == "鈴木 花子"
        assert a not in {s.id for s in customers_service.list_page(ctx)[0]}


def test_stop_use_blocks_a_marketing_read_at_once_and_provision_flag_R_35_1(runtime, actors):
    a = make_customer(runtime, actors["support"])
    grant(runtime, actors["support"], a, "marketing-email")
    with runtime.transaction(actors["support"], purpose="marketing-email") as ctx:
        assert customers_service.get(ctx, a).name == "山田 太郎"
    with runtime.transaction(actors["po"]) as ctx:
        consent_service.suppress(ctx, a, "purpose", "marketing-email", "req-1")
    with (
        pytest.raises(PolicyDenied) as denied,
        runtime.transaction(actors["support"], purpose="marketing-email") as ctx,
    ):
        customers_service.get(ctx, a)
    assert denied.value.rule_id == "R-35-1"
    with runtime.transaction(actors["support"], purpose="contract") as ctx:
        assert customers_service.get(ctx, a).name == "山田 太郎"  # only the one purpose is stopped
        assert (
            not registry.purpose_states(ctx, [a], "contract")
            .get(a, registry.PurposeState())
            .provision_stopped
        )
    with runtime.transaction(actors["po"]) as ctx:
        consent_service.suppress(ctx, a, "provision", None, "req-2")
        consent_service.suppress(ctx, a, "all", None, "req-3")
        with pytest.raises(ValidationFailed):
            consent_service.suppress(ctx, a, "purpose", None, "req-4")
        assert consent_service.show(ctx, a).suppressed == ["*", "@provision", "marketing-email"]
    with runtime.transaction(actors["po"]) as ctx:
        state = registry.purpose_states(ctx, [a], "contract")[a]
        assert state.stopped and state.provision_stopped
    with pytest.raises(PolicyDenied), runtime.transaction(actors["support"], purpose="contract") as ctx:
        customers_service.get(ctx, a)
    with runtime.transaction(actors["po"]) as ctx:
        consent_service.lift_suppression(ctx, a, "all", None, "req-3")
    with runtime.transaction(actors["support"], purpose="contract") as ctx:
        assert customers_service.get(ctx, a).name == "山田 太郎"
    # Only the privacy officer handles requests; a sales rep cannot lift a stop.
    with pytest.raises(PolicyDenied), runtime.transaction(actors["sato"]) as ctx:
        consent_service.lift_suppression(ctx, a, "provision", None, "req-x")


def test_outsourcee_sees_only_the_contracts_customers_fields_and_time_R_25_1(runtime, actors, monkeypatch):
    covered = make_customer(runtime, actors["support"], email="a@example.jp")
    other = make_customer(runtime, actors["support"], name="鈴木 花子", email="b@example.jp")
    op = Actor(kind=ActorKind.OUTSOURCEE, id="op-1", name="op", role=Role.OUTSOURCEE)
    now = runtime.clock.now()
    grants: dict[str, AccessGrant] = {
        "op-1": AccessGrant(
            contract_id="c1",
            purposes=frozenset({"contract"}),
            fields=frozenset({"name", "phones"}),
            customer_ids=frozenset({covered}),
            valid_from=now - timedelta(days=1),
            valid_until=now + timedelta(days=1),
        )
    }
    monkeypatch.setattr(registry, "_grant_providers", [lambda ctx: grants.get(ctx.actor.id)])
    with runtime.transaction(op, purpose="contract") as ctx:
        view = customers_service.get(ctx, covered)
        assert view.name == "山田 太郎" and view.phones == ["+819012345678"]
        assert view.address is None and "address" in view.masked and "emails" in view.masked
        assert [s.id for s in customers_service.list_page(ctx)[0]] == [covered]
    for purpose, cid in (("contract", other), ("marketing-email", covered)):
        with pytest.raises(PolicyDenied) as denied, runtime.transaction(op, purpose=purpose) as ctx:
            customers_service.get(ctx, cid)
        assert denied.value.rule_id == "R-25-1"
    with pytest.raises(PolicyDenied), runtime.transaction(op, purpose="contract") as ctx:
        customers_service.add_activity(ctx, covered, ActivityIn(kind="call", body="架電"))
    grants["op-1"] = AccessGrant(
        contract_id="c1",
        purposes=frozenset({"contract"}),
        fields=frozenset({"name"}),
        customer_ids=frozenset({covered}),
        valid_from=now - timedelta(days=10),
        valid_until=now - timedelta(days=1),  # the contract has ended
    )
    with pytest.raises(PolicyDenied) as denied, runtime.transaction(op, purpose="contract") as ctx:
        customers_service.get(ctx, covered)
    assert denied.value.code == "no_running_contract"
    del grants["op-1"]
    with pytest.raises(PolicyDenied), runtime.transaction(op, purpose="contract") as ctx:
        customers_service.list_page(ctx)
