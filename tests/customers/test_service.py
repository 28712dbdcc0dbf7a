"""Customers: encrypted storage, purpose-checked and masked reads, row scope, audit — on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text

from mamori.consent import service as consent_service
from mamori.consent.schemas import ConsentIn
from mamori.customers import service
from mamori.customers.models import Customer
from mamori.customers.schemas import ActivityIn, AttributeIn, CustomerUpdate
from mamori.kernel.errors import NotFound, PolicyDenied, PreconditionFailed
from mamori.kernel.policy import Category
from tests.factories import grant, make_customer, seed_basics


@pytest.fixture
def actors(runtime):
    return seed_basics(runtime)


def audit_tail(runtime, n=5):
    return runtime.audit.tail(n)


def test_create_then_read_round_trips_every_field(runtime, actors):
    """R-21-2: the purposes stated at collection are recorded with the notice version shown."""
    cid = make_customer(runtime, actors["sato"], name="髙橋 𠮷子", kana="タカハシ ヨシコ")
    with runtime.transaction(actors["sato"], "contract") as ctx:
        view = service.get(ctx, cid)
    assert view.name == "髙橋 𠮷子"
    assert view.kana == "タカハシ ヨシコ"
    assert view.emails == ["taro.yamada@example.jp"]
    assert view.phones == ["+819012345678"]
    assert view.address == "東京都渋谷区神宮前1-2-3"
    assert str(view.birth_date) == "1985-01-02"
    assert view.masked == []
    assert view.provenance[0].channel == "web_form" and view.provenance[0].notice_version == "n-2026"
    assert set(view.notified_purposes) == {"contract", "marketing-email"}


def test_personal_values_are_ciphertext_in_the_database_R_23_5(runtime, actors):
    """R-23-5: personal values are sealed (AES-256-GCM) before they reach the database."""
    make_customer(runtime, actors["sato"], name="暗号 花子", email="hanako.angou@example.jp")
    with runtime.data_engine.connect() as conn:
        row = conn.execute(text("SELECT name_enc, address_enc FROM customers")).one()
    assert "暗号".encode() not in bytes(row[0])
    assert "渋谷".encode() not in bytes(row[1])


def test_read_for_a_purpose_not_notified_is_denied_and_audited(runtime, actors):
    cid = make_customer(runtime, actors["sato"], purposes=("contract",))
    with pytest.raises(PolicyDenied) as exc, runtime.transaction(actors["sato"], "marketing-email") as ctx:
        service.get(ctx, cid)
    assert exc.value.rule_id == "R-21-1"
    last = audit_tail(runtime, 1)[-1]
    assert last.decision == "deny" and "R-21-1" in last.rule_ids and cid in last.subject_ids


def test_masking_per_purpose(runtime, actors):
    cid = make_customer(runtime, actors["sato"])
    grant(runtime, actors["sato"], cid, "marketing-email")
    with runtime.transaction(actors["sato"], "marketing-email") as ctx:
        view = service.get(ctx, cid)
    assert view.name == "山田 太郎" and view.emails
    assert view.birth_date is None and view.employer is None and view.activities == []
    assert {"birth_date", "employer", "occupation", "gender", "activities"} <= set(view.masked)
    entry = audit_tail(runtime, 1)[-1]
    assert entry.decision == "allow" and "birth_date" not in entry.fields and "name" in entry.fields


def test_consent_needed_and_withdrawal_takes_effect_at_once(runtime, actors):
    cid = make_customer(runtime, actors["sato"])
    with pytest.raises(PolicyDenied) as exc, runtime.transaction(actors["sato"], "marketing-email") as ctx:
        service.get(ctx, cid)
    assert exc.value.code == "consent_missing"
    grant(runtime, actors["sato"], cid, "marketing-email")
    with runtime.transaction(actors["sato"], "marketing-email") as ctx:
        service.get(ctx, cid)
    with runtime.transaction(actors["sato"]) as ctx:
        consent_service.withdraw(ctx, cid, "marketing-email", ConsentIn(method="email"))
    with pytest.raises(PolicyDenied) as exc, runtime.transaction(actors["sato"], "marketing-email") as ctx:
        service.get(ctx, cid)
    assert exc.value.code == "consent_withdrawn"


def test_gdpr_subject_needs_consent_where_only_gdpr_requires_it(runtime, actors):
    jp = make_customer(
        runtime, actors["po"], email="jp@example.jp", phone=None, purposes=("gdpr-newsletter",)
    )
    eu = make_customer(
        runtime, actors["po"], email="eu@example.de", phone=None, purposes=("gdpr-newsletter",), origin="DE"
    )
    with runtime.transaction(actors["po"], "gdpr-newsletter") as ctx:
        service.get(ctx, jp)
    with pytest.raises(PolicyDenied) as exc, runtime.transaction(actors["po"], "gdpr-newsletter") as ctx:
        service.get(ctx, eu)
    assert exc.value.rule_id == "G-6"


def test_sales_rep_cannot_read_another_reps_customer_by_id(runtime, actors):
    cid = make_customer(runtime, actors["sato"])
    with pytest.raises(PolicyDenied) as exc, runtime.transaction(actors["suzuki"], "contract") as ctx:
        service.get(ctx, cid)
    assert exc.value.rule_id == "R-23-2"
    with runtime.transaction(actors["support"], "contract") as ctx:
        assert service.get(ctx, cid).id == cid


def test_analyst_has_no_row_access(runtime, actors):
    cid = make_customer(runtime, actors["sato"])
    with pytest.raises(PolicyDenied) as exc, runtime.transaction(actors["analyst"], "contract") as ctx:
        service.get(ctx, cid)
    assert exc.value.rule_id == "R-23-2"


def test_unknown_customer_is_not_found_and_audited(runtime, actors):
    with pytest.raises(NotFound), runtime.transaction(actors["support"], "contract") as ctx:
        service.get(ctx, "0" * 32)
    assert audit_tail(runtime, 1)[-1].decision == "deny"


def test_find_by_normalised_email_phone_name_and_kana(runtime, actors):
    cid = make_customer(runtime, actors["sato"], email="Taro.Yamada@Example.jp")
    other = make_customer(
        runtime,
        actors["sato"],
        name="佐々木 花",
        kana="ササキ ハナ",
        email="hana@example.jp",
        phone="03-1234-5678",
    )
    with runtime.transaction(actors["sato"], "contract") as ctx:
        assert [s.id for s in service.find(ctx, email="ｔａｒｏ．ｙａｍａｄａ＠ｅｘａｍｐｌｅ．ｊｐ")] == [
            cid
        ]
        assert [s.id for s in service.find(ctx, phone="+81 90 1234 5678")] == [cid]
        assert [s.id for s in service.find(ctx, phone="０９０１２３４５６７８")] == [cid]
        assert [s.id for s in service.find(ctx, name="山田太郎")] == [cid]
        assert [s.id for s in service.find(ctx, kana="ﾔﾏﾀﾞ ﾀﾛｳ")] == [cid]
        assert [s.id for s in service.find(ctx, kana="やまだ たろう")] == [cid]
        assert [s.id for s in service.find(ctx, kana="ササキハナ")] == [other]
        assert service.find(ctx, email="nobody@example.jp") == []


def test_find_hides_customers_outside_scope(runtime, actors):
    make_customer(runtime, actors["sato"], email="scope@example.jp")
    with runtime.transaction(actors["suzuki"], "contract") as ctx:
        assert service.find(ctx, email="scope@example.jp") == []
    assert audit_tail(runtime, 1)[-1].decision == "deny"


def test_list_is_row_scoped_and_purpose_filtered_with_cursor(runtime, actors):
    mine = {make_customer(runtime, actors["sato"], email=f"s{i}@example.jp", phone=None) for i in range(5)}
    make_customer(runtime, actors["suzuki"], email="other@example.jp", phone=None)
    make_customer(
        runtime, actors["sato"], email="c-only@example.jp", phone=None, purposes=("marketing-email",)
    )
    seen: set[str] = set()
    cursor = None
    while True:
        with runtime.transaction(actors["sato"], "contract") as ctx:
            items, cursor = service.list_page(ctx, after=cursor, limit=2)
        seen |= {i.id for i in items}
        if cursor is None:
            break
    assert seen == mine


def test_correction_R_22_1_with_version_check_and_outside_purpose_refused(runtime, actors):
    """R-22-1: corrections keep data accurate, without overwriting someone else\'s change."""
    cid = make_customer(runtime, actors["sato"])
    with runtime.transaction(actors["sato"], "contract") as ctx:
        view = service.update(
            ctx, cid, CustomerUpdate(address="大阪府大阪市北区梅田1-1-1"), expected_version=1
        )
    assert view.address == "大阪府大阪市北区梅田1-1-1" and view.version == 2
    with pytest.raises(PreconditionFailed), runtime.transaction(actors["sato"], "contract") as ctx:
        service.update(ctx, cid, CustomerUpdate(address="京都府京都市中京区1"), expected_version=1)
    grant(runtime, actors["sato"], cid, "marketing-email")
    with pytest.raises(PolicyDenied) as exc, runtime.transaction(actors["sato"], "marketing-email") as ctx:
        service.update(ctx, cid, CustomerUpdate(birth_date="1990-01-01"))
    assert exc.value.code == "field_outside_purpose"
    with runtime.transaction(actors["sato"], "contract") as ctx:
        assert service.get(ctx, cid).birth_date.isoformat() == "1985-01-02"


def test_sensitive_attribute_needs_consent_or_exception(runtime, actors):
    cid = make_customer(runtime, actors["po"], purposes=("health-service",))
    attr = AttributeIn(key="medical_history", value="高血圧で通院中", category=Category.SENSITIVE)
    with pytest.raises(PolicyDenied) as exc, runtime.transaction(actors["po"], "health-service") as ctx:
        service.add_attribute(ctx, cid, attr)
    assert exc.value.rule_id == "R-20-2"
    with runtime.transaction(actors["po"], "health-service") as ctx:
        assert service.get(ctx, cid).attributes == []
    with runtime.transaction(actors["po"]) as ctx:
        consent_service.grant_sensitive(ctx, cid, ConsentIn(method="paper", evidence="同意書-001"))
    with runtime.transaction(actors["po"], "health-service") as ctx:
        service.add_attribute(ctx, cid, attr)
    with runtime.transaction(actors["po"], "health-service") as ctx:
        view = service.get(ctx, cid)
    assert view.attributes[0].value == "高血圧で通院中"
    # a purpose that does not cover 要配慮 never shows it: the person is not registered for "contract" at all
    with pytest.raises(PolicyDenied), runtime.transaction(actors["po"], "contract") as ctx:
        service.get(ctx, cid)
    # and for a person registered for both, "contract" reads the record with the 要配慮 value withheld
    both = make_customer(
        runtime, actors["po"], purposes=("health-service", "contract"), email="both@example.jp"
    )
    with runtime.transaction(actors["po"]) as ctx:
        consent_service.grant_sensitive(ctx, both, ConsentIn(method="paper", evidence="同意書-002"))
    with runtime.transaction(actors["po"], "health-service") as ctx:
        service.add_attribute(ctx, both, attr)
    with runtime.transaction(actors["po"], "contract") as ctx:
        shown = service.get(ctx, both)
    assert shown.id == both and [(a.key, a.value) for a in shown.attributes] == [("medical_history", None)]
    with runtime.transaction(actors["po"], "health-service") as ctx:
        assert [a.value for a in service.get(ctx, both).attributes] == ["高血圧で通院中"]


def test_withdrawn_sensitive_consent_withholds_the_value_again_R_20_2(runtime, actors):
    cid = make_customer(runtime, actors["po"], purposes=("health-service",))
    attr = AttributeIn(key="medical_history", value="高血圧で通院中", category=Category.SENSITIVE)
    with runtime.transaction(actors["po"]) as ctx:
        consent_service.grant_sensitive(ctx, cid, ConsentIn(method="paper", evidence="同意書-003"))
    with runtime.transaction(actors["po"], "health-service") as ctx:
        service.add_attribute(ctx, cid, attr)
    with runtime.transaction(actors["po"]) as ctx:
        consent_service.withdraw_sensitive(ctx, cid, ConsentIn(method="paper", evidence="撤回書-003"))
    with runtime.transaction(actors["po"], "health-service") as ctx:
        assert [(a.key, a.value) for a in service.get(ctx, cid).attributes] == [("medical_history", None)]
    with pytest.raises(PolicyDenied) as exc, runtime.transaction(actors["po"], "health-service") as ctx:
        service.add_attribute(
            ctx, cid, AttributeIn(key="diagnosis", value="糖尿病", category=Category.SENSITIVE)
        )
    assert exc.value.rule_id == "R-20-2"


def test_create_requires_registered_active_purpose(runtime, actors):
    with pytest.raises(PolicyDenied) as exc:
        make_customer(runtime, actors["sato"], purposes=())
    assert exc.value.rule_id == "R-17-1"
    with pytest.raises(PolicyDenied) as exc:
        make_customer(runtime, actors["sato"], purposes=("unknown",))
    assert exc.value.code == "purpose_unknown"
    with runtime.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Customer)) == 0


def test_activity_logged_and_shown_with_behaviour_purpose(runtime, actors):
    cid = make_customer(runtime, actors["sato"])
    with runtime.transaction(actors["sato"], "contract") as ctx:
        service.add_activity(ctx, cid, ActivityIn(kind="purchase", body="電気ケトル", amount=3980))
    with runtime.transaction(actors["sato"], "contract") as ctx:
        view = service.get(ctx, cid)
    assert [(a.kind, a.body, a.amount) for a in view.activities] == [("purchase", "電気ケトル", 3980)]


def test_reads_and_denials_survive_a_rolled_back_transaction(runtime, actors):
    cid = make_customer(runtime, actors["sato"])
    before = len(runtime.audit.tail(10_000))

    class Boom(Exception):
        pass

    with pytest.raises(Boom), runtime.transaction(actors["sato"], "contract") as ctx:
        service.get(ctx, cid)
        service.update(ctx, cid, CustomerUpdate(occupation="教師"))
        raise Boom
    runtime.drain_outbox()
    entries = runtime.audit.tail(10_000)[before:]
    actions = [(e.action, e.decision) for e in entries]
    assert ("customer.read", "allow") in actions  # the read stays recorded
    assert ("customer.update", "allow") not in actions  # the rolled-back write never reached the chain
    with runtime.transaction(actors["sato"], "contract") as ctx:
        assert service.get(ctx, cid).occupation == "会社員"
