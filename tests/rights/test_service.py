"""Requests from the person end to end through the service: every kind, identity, records, erasure."""

from __future__ import annotations

import json
import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from mamori.customers import service as customers_service
from mamori.customers.models import Customer
from mamori.customers.schemas import ActivityIn, AttributeIn
from mamori.customers.service import subjects as customer_subjects
from mamori.kernel import registry
from mamori.kernel.clock import today_jst
from mamori.kernel.errors import IntegrityFailure, MamoriError, NotFound, PolicyDenied, ValidationFailed
from mamori.kernel.registry import Recipient, SubjectRecord
from mamori.rights import service
from mamori.rights.models import RightsEvent, RightsIdentifier, RightsRequest
from mamori.rights.schemas import RequestOpen
from mamori.rights.service import delivery, render
from tests.factories import grant, make_customer, seed_basics
from tests.rights.helpers import last_code, open_and_verify, outbox

A_EMAIL = "hanako.sato@example.jp"
B_EMAIL = "jiro.suzuki@example.com"
B_PHONE = "080-9876-5432"


@pytest.fixture
def actors(runtime):
    return seed_basics(runtime)


@pytest.fixture
def people(runtime, actors):
    a = make_customer(
        runtime, actors["po"], name="佐藤 花子", kana="サトウ ハナコ", email=A_EMAIL, phone="090-1111-2222"
    )
    b = make_customer(
        runtime,
        actors["po"],
        name="鈴木 次郎",
        kana="スズキ ジロウ",
        email=B_EMAIL,
        phone=B_PHONE,
        address="大阪府大阪市北区梅田9-9-9",
    )
    with runtime.transaction(actors["po"], "contract") as ctx:
        customers_service.add_activity(ctx, a, ActivityIn(kind="purchase", body="万年筆を購入", amount=12000))
        customers_service.add_activity(
            ctx, a, ActivityIn(kind="note", body="悪質クレーム対応メモ", withheld="seirei5-2")
        )
        customers_service.add_attribute(
            ctx, a, AttributeIn(key="claimer_flag", value="要注意顧客", withheld="seirei5-2")
        )
    return {"a": a, "b": b}


def _events(rt, rid: str) -> list[RightsEvent]:
    with rt.sessions() as s:
        return list(
            s.execute(
                select(RightsEvent).where(RightsEvent.request_id == rid).order_by(RightsEvent.seq)
            ).scalars()
        )


def _dump(package) -> str:
    return package.model_dump_json()


# -- disclosure -----------------------------------------------------------------------------------------------


def test_disclosure_end_to_end_only_the_verified_persons_data_R_33_1_R_16_4(
    runtime, actors, people, tmp_path
):
    # given A's consent to marketing e-mail on the consent ledger, and a request by phone, not yet verified
    grant(runtime, actors["po"], people["a"], "marketing-email")
    with runtime.transaction(actors["support"]) as ctx:
        v = service.open_request(ctx, RequestOpen(kind="disclosure", channel="phone", emails=[A_EMAIL]))
    assert v.regime == "appi" and v.due_on == date(2026, 12, 7) and v.rule_id == "R-33-1"
    # when the privacy officer tries to fulfil before verification: nothing is shown (R-37-1)
    with pytest.raises(PolicyDenied) as exc, runtime.transaction(actors["po"]) as ctx:
        service.fulfil(ctx, v.id)
    assert exc.value.rule_id == "R-37-1"
    with pytest.raises(PolicyDenied), runtime.transaction(actors["po"]) as ctx:
        service.held_categories(ctx, v.id)
    # and after the code sent to the registered email is read out
    ident = v.identifiers[0].id
    with runtime.transaction(actors["support"]) as ctx:
        service.send_code(ctx, v.id, ident)
    with runtime.transaction(actors["support"]) as ctx:
        assert service.verify_code(ctx, v.id, ident, last_code(runtime, A_EMAIL)).verified
    with runtime.transaction(actors["po"]) as ctx:
        held = service.held_categories(ctx, v.id)
        outcome, package = service.fulfil(ctx, v.id)
    # then the package has A's data, its sources and purposes, and nothing of B
    text = _dump(package)
    assert "佐藤 花子" in text and "万年筆を購入" in text and A_EMAIL in text
    assert "鈴木" not in text and B_EMAIL not in text and "梅田" not in text
    assert package.subject_ids == [people["a"]]
    assert {p["code"] for p in package.purposes} == {"contract", "marketing-email"}
    assert any(r.category == "provenance" for r in package.records)
    consents = [
        (r.source, r.data["target"], r.data["action"]) for r in package.records if r.category == "consent"
    ]
    assert consents == [("consent", "marketing-email", "granted")]  # the consent ledger is disclosed too
    # the malicious-claimer records (政令5) are left out and counted, never shown (R-16-4)
    assert "悪質クレーム" not in text and "要注意顧客" not in text and "claimer_flag" not in text
    assert held["customers:activity"] == 1 and held["customers:attribute"] == 0
    assert outcome.outcome == "fulfilled" and {"R-16-4", "R-33-1"} <= set(outcome.rule_ids)
    # taken by phone, the package is handed over by staff: the request waits until the posting is recorded
    with runtime.transaction(actors["po"]) as ctx:
        shown = service.show(ctx, v.id)
    assert shown.status == "verified" and shown.withheld_count == 2
    with runtime.transaction(actors["po"]) as ctx:
        shown = delivery.record_posted(ctx, v.id, today_jst(ctx.clock))
    assert shown.status == "closed"
    assert [e.event for e in shown.events] == [
        "received",
        "code_sent",
        "verified",
        "receipt_sent",
        "fulfilled",
        "answered",
    ]
    fulfilled = shown.events[-2]
    assert fulfilled.details["withheld"] == 2 and "R-33-1" in fulfilled.rule_ids
    # the handling log holds no personal value
    assert "佐藤" not in json.dumps([e.details for e in shown.events], ensure_ascii=False)
    # every format renders; the letter is Japanese and escaped
    for fmt in render.FORMATS:
        data = render.render(package, fmt, date(2026, 11, 23))
        assert data
    assert render.render(package, "pdf", date(2026, 11, 23)).startswith(b"%PDF")
    html = render.render(package, "html", date(2026, 11, 23)).decode()
    assert "保有個人データ開示のお知らせ" in html and "佐藤 花子" in html
    csv_text = render.render(package, "csv", date(2026, 11, 23)).decode("utf-8-sig")
    assert "万年筆を購入" in csv_text and "鈴木" not in csv_text
    out = tmp_path / "pkg.json"
    render.write(package, "json", out, date(2026, 11, 23))
    assert oct(out.stat().st_mode & 0o777) == "0o600"
    # the package is not stored: no table holds the disclosed values
    with runtime.sessions() as s:
        for e in s.execute(select(RightsEvent)).scalars():
            assert "万年筆" not in e.details


def test_a_shared_household_email_alone_reaches_nobody_R_37_1(runtime, actors):
    # two family members registered the same email; verifying it proves the mailbox, not which of them asks
    shared = "family@example.jp"
    mother = make_customer(runtime, actors["po"], name="山本 花子", email=shared, phone="090-5555-1111")
    son = make_customer(runtime, actors["po"], name="山本 一郎", email=shared, phone="090-5555-2222")
    rid = open_and_verify(runtime, actors["support"], "disclosure", shared, phones=["090-5555-2222"])
    with runtime.transaction(actors["po"]) as ctx:
        assert service.show(ctx, rid).subject_ids == []
        phone = next(i.id for i in service.show(ctx, rid).identifiers if i.kind == "phone")
    # a call-back to the son's own registered number tells them apart: only the son is reached
    with runtime.transaction(actors["support"]) as ctx:
        service.verify_callback(ctx, rid, phone)
    with runtime.transaction(actors["po"]) as ctx:
        assert service.show(ctx, rid).subject_ids == [son]
        _, package = service.fulfil(ctx, rid)
    assert "山本 一郎" in _dump(package) and "山本 花子" not in _dump(package)
    assert mother != son


def test_own_email_naming_another_customer_is_refused_R_37_1(runtime, actors, people):
    # seed 001 case 2: A verifies their own email but names B's customer id (and B's phone, unverified)
    rid = open_and_verify(
        runtime, actors["support"], "disclosure", A_EMAIL, customer_id=people["b"], phones=[B_PHONE]
    )
    with runtime.transaction(actors["po"]) as ctx:
        v = service.show(ctx, rid)
        outcome, package = service.fulfil(ctx, rid)
    assert v.subject_ids == [people["a"]]  # B is not reached by any verified identifier
    text = _dump(package)
    assert "鈴木" not in text and B_EMAIL not in text and "9876" not in text
    assert outcome.outcome == "partial" and "R-37-1" in outcome.rule_ids
    assert "identifier_refused" in [e.event for e in _events(runtime, rid)]
    # naming one's own customer id is fine
    own = open_and_verify(runtime, actors["support"], "disclosure", A_EMAIL, customer_id=people["a"])
    with runtime.transaction(actors["po"]) as ctx:
        outcome, package = service.fulfil(ctx, own)
    assert outcome.outcome == "fulfilled" and package.subject_ids == [people["a"]]


def test_verified_email_plus_unverified_phone_never_reaches_the_phone_owner_R_37_1(runtime, actors, people):
    with runtime.transaction(actors["support"]) as ctx:
        v = service.open_request(ctx, RequestOpen(kind="disclosure", emails=[A_EMAIL]))
        phone = service.add_identifier(ctx, v.id, "phone", B_PHONE)
    ident = v.identifiers[0].id
    with runtime.transaction(actors["support"]) as ctx:
        service.send_code(ctx, v.id, ident)
    with runtime.transaction(actors["support"]) as ctx:
        service.verify_code(ctx, v.id, ident, last_code(runtime, A_EMAIL))
    with runtime.transaction(actors["po"]) as ctx:
        assert service.show(ctx, v.id).subject_ids == [people["a"]]
    # a code cannot be sent to a phone; only a call-back to the registered number verifies it
    with pytest.raises(ValidationFailed), runtime.transaction(actors["support"]) as ctx:
        service.send_code(ctx, v.id, phone.id)
    with runtime.transaction(actors["support"]) as ctx:  # support does not see the figure (issue 17)
        assert service.verify_callback(ctx, v.id, phone.id) is None
    with runtime.transaction(actors["po"]) as ctx:
        assert set(service.show(ctx, v.id).subject_ids) == {people["a"], people["b"]}


def test_one_time_code_hashed_expires_and_limits_attempts_R_37_1(runtime, actors, people):
    with runtime.transaction(actors["support"]) as ctx:
        v = service.open_request(ctx, RequestOpen(kind="disclosure", emails=[A_EMAIL]))
    ident = v.identifiers[0].id
    with runtime.transaction(actors["support"]) as ctx:
        service.send_code(ctx, v.id, ident)
    code = last_code(runtime, A_EMAIL)
    sent = outbox(runtime)[-1]
    path = next((Path(runtime.settings.home_path) / "outbox").glob("*.json"))
    assert oct(path.stat().st_mode & 0o777) == "0o600" and sent["to"] == A_EMAIL
    with runtime.sessions() as s:
        row = s.execute(select(RightsIdentifier).where(RightsIdentifier.id == ident)).scalar_one()
        assert code.encode() not in row.code_hash and A_EMAIL.encode() not in row.value_enc
        assert A_EMAIL.encode() not in row.digest
    wrong = "000000" if code != "000000" else "111111"
    for left in (4, 3, 2, 1, 0):
        with runtime.transaction(actors["support"]) as ctx:
            result = service.verify_code(ctx, v.id, ident, wrong)
        assert not result.verified and result.attempts_left == left
    with runtime.transaction(actors["support"]) as ctx:  # the right code no longer works
        assert not service.verify_code(ctx, v.id, ident, code).verified
    # a new code, but too late
    with runtime.transaction(actors["support"]) as ctx:
        service.send_code(ctx, v.id, ident)
    runtime.clock.advance(timedelta(minutes=16))
    with runtime.transaction(actors["support"]) as ctx:
        assert not service.verify_code(ctx, v.id, ident, last_code(runtime, A_EMAIL)).verified
    with runtime.transaction(actors["po"]) as ctx:
        assert service.show(ctx, v.id).status == "received"
    with pytest.raises(ValidationFailed) as exc, runtime.transaction(actors["po"]) as ctx:
        service.verify_login(ctx, v.id)
    assert exc.value.code == "login_unavailable"


def test_id_document_verification_by_privacy_officer_only(runtime, actors, people):
    with runtime.transaction(actors["support"]) as ctx:
        v = service.open_request(ctx, RequestOpen(kind="disclosure", channel="counter"))
    with pytest.raises(PolicyDenied) as exc, runtime.transaction(actors["support"]) as ctx:
        service.verify_document(ctx, v.id, people["a"], "drivers_license")
    assert exc.value.rule_id == "R-23-2"
    with pytest.raises(ValidationFailed), runtime.transaction(actors["po"]) as ctx:
        service.verify_document(ctx, v.id, people["a"], "library_card")
    with pytest.raises(NotFound), runtime.transaction(actors["po"]) as ctx:
        service.verify_document(ctx, v.id, "f" * 32, "passport")
    with runtime.transaction(actors["po"]) as ctx:
        assert service.verify_document(ctx, v.id, people["a"], "my_number_card") == 1
        shown = service.show(ctx, v.id)
    assert shown.subject_ids == [people["a"]]
    assert shown.identifiers[0].method == "id_document" and shown.identifiers[0].document == "my_number_card"
    assert shown.identifiers[0].checked_by.startswith("staff:")


def test_scope_narrows_the_disclosure_and_partial_refusal_R_33_2(runtime, actors, people):
    rid = open_and_verify(runtime, actors["support"], "disclosure", A_EMAIL)
    with pytest.raises(ValidationFailed), runtime.transaction(actors["po"]) as ctx:
        service.set_scope(ctx, rid, ["nosuchsource:contact"])
    with runtime.transaction(actors["po"]) as ctx:
        service.set_scope(ctx, rid, ["customers:contact", "customers:activity", "customers:profile"])
    with pytest.raises(ValidationFailed) as bad, runtime.transaction(actors["po"]) as ctx:
        service.fulfil(ctx, rid, partial_refusals={"customers:activity": "because"})
    assert bad.value.rule_id == "R-33-2"
    with pytest.raises(ValidationFailed) as gdpr, runtime.transaction(actors["po"]) as ctx:
        service.fulfil(
            ctx,
            rid,
            partial_refusals={"customers:activity": "gdpr_rights_of_others"},
            refusal_explanation=WHY,
        )
    assert gdpr.value.code == "bad_partial_refusal"  # a GDPR ground never refuses part of an APPI disclosure
    with pytest.raises(ValidationFailed) as unexplained, runtime.transaction(actors["po"]) as ctx:
        service.fulfil(ctx, rid, partial_refusals={"customers:activity": "business_hindrance"})
    assert unexplained.value.code == "explanation_required"  # 法第36条
    with runtime.transaction(actors["po"]) as ctx:
        outcome, package = service.fulfil(
            ctx,
            rid,
            partial_refusals={"customers:activity": "business_hindrance"},
            refusal_explanation="対応履歴には調査中の不正利用案件の記録が含まれるため",
        )
    cats = {r.category for r in package.records}
    assert cats == {"contact", "profile"}
    assert outcome.outcome == "partial" and "R-33-2" in outcome.rule_ids
    assert package.refused_categories == {"customers:activity": "business_hindrance"}
    with runtime.sessions() as sess:
        stored = sess.execute(select(RightsRequest.refused_parts).where(RightsRequest.id == rid)).scalar_one()
    assert stored == "customers:activity=business_hindrance"
    assert package.refusal_explanation == "対応履歴には調査中の不正利用案件の記録が含まれるため"
    assert "業務の適正な実施" in render.render(package, "html", date(2026, 11, 23)).decode()


def test_provision_records_only_R_33_3(runtime, actors, people):
    rid = open_and_verify(runtime, actors["support"], "provision_records", A_EMAIL)
    with runtime.transaction(actors["po"]) as ctx:
        outcome, package = service.fulfil(ctx, rid)
    assert "R-33-3" in package.rule_ids
    assert all(r.category == "provision_record" for r in package.records)
    assert "佐藤 花子" not in _dump(package)


def test_purpose_notice_with_fee_R_32_2_R_38_1(runtime, actors, people):
    rid = open_and_verify(runtime, actors["support"], "purpose_notice", A_EMAIL, fee_yen=500)
    with runtime.transaction(actors["po"]) as ctx:
        outcome, package = service.fulfil(ctx, rid)
    assert outcome.rule_ids == ["R-32-2"]
    assert {p["code"] for p in package.purposes} == {"contract", "marketing-email"}
    assert (
        package.records == []
        and "メールでのご案内" in render.render(package, "html", date(2026, 11, 23)).decode()
    )


def test_fees_refused_on_correction_and_stop_R_38_1(runtime, actors, people):
    for kind in ("correction", "stop_use", "erasure"):
        with pytest.raises(PolicyDenied) as exc, runtime.transaction(actors["support"]) as ctx:
            service.open_request(ctx, RequestOpen(kind=kind, emails=[A_EMAIL], fee_yen=300))
        assert exc.value.rule_id == "R-38-1"
    with runtime.transaction(actors["support"]) as ctx:
        v = service.open_request(ctx, RequestOpen(kind="correction", emails=[A_EMAIL]))
    with pytest.raises(PolicyDenied) as exc, runtime.transaction(actors["po"]) as ctx:
        service.set_fee(ctx, v.id, 300)
    assert exc.value.rule_id == "R-38-1"
    with runtime.transaction(actors["support"]) as ctx:
        d = service.open_request(ctx, RequestOpen(kind="disclosure", emails=[A_EMAIL]))
    with runtime.transaction(actors["po"]) as ctx:
        assert service.set_fee(ctx, d.id, 300).fee_yen == 300


# -- correction, stop-use, erasure ---------------------------------------------------------------------------------


def test_correction_before_after_notice_R_34_1_G_16(runtime, actors, people):
    rid = open_and_verify(runtime, actors["support"], "correction", A_EMAIL)
    with pytest.raises(ValidationFailed), runtime.transaction(actors["po"]) as ctx:
        service.fulfil(ctx, rid)  # no corrections given
    # a record of another person cannot be corrected through this request
    with pytest.raises(NotFound), runtime.transaction(actors["po"]) as ctx:
        service.fulfil(ctx, rid, corrections=[("customers", people["b"], {"address": "東京都港区1-1-1"})])
    with runtime.transaction(actors["po"]) as ctx:
        outcome, package = service.fulfil(
            ctx, rid, corrections=[("customers", people["a"], {"address": "東京都港区芝公園4-2-8"})]
        )
    assert package is None and outcome.rule_ids == ["R-34-1"]
    [c] = outcome.corrections
    assert (
        c.field == "address" and c.before == "東京都渋谷区神宮前1-2-3" and c.after == "東京都港区芝公園4-2-8"
    )
    with runtime.transaction(actors["po"], "contract") as ctx:
        assert customers_service.get(ctx, people["a"]).address == "東京都港区芝公園4-2-8"
        assert customers_service.get(ctx, people["b"]).address == "大阪府大阪市北区梅田9-9-9"
    fulfilled = next(e for e in _events(runtime, rid) if e.event == "fulfilled")
    assert "港区" not in fulfilled.details and "address" in fulfilled.details
    assert json.loads(fulfilled.details)["notified"] is True
    notice = outbox(runtime)[-1]  # R-34-1: the result, with before and after, is notified to the person
    assert notice["to"] == A_EMAIL and "芝公園" in notice["body"] and "神宮前" in notice["body"]


def test_stop_use_blocks_marketing_read_at_once_R_35_1(runtime, actors, people):
    grant(runtime, actors["po"], people["a"], "marketing-email")
    with runtime.transaction(actors["po"], "marketing-email") as ctx:
        assert customers_service.get(ctx, people["a"]).name == "佐藤 花子"
    rid = open_and_verify(
        runtime, actors["support"], "stop_use", A_EMAIL, purpose="marketing-email", ground="harm_to_rights"
    )
    with runtime.transaction(actors["po"]) as ctx:
        outcome, _ = service.fulfil(ctx, rid)
    assert "R-35-1" in outcome.rule_ids and outcome.suppressions
    with pytest.raises(PolicyDenied) as exc, runtime.transaction(actors["po"], "marketing-email") as ctx:
        customers_service.get(ctx, people["a"])
    assert exc.value.rule_id == "R-35-1"
    with runtime.transaction(actors["po"], "contract") as ctx:  # other purposes still work
        assert customers_service.get(ctx, people["a"]).name == "佐藤 花子"
    with runtime.transaction(actors["po"], "marketing-email") as ctx:  # B is untouched
        grant(runtime, actors["po"], people["b"], "marketing-email")
    with runtime.transaction(actors["po"], "marketing-email") as ctx:
        assert customers_service.get(ctx, people["b"]).name == "鈴木 次郎"


def test_stop_provision_sets_provision_stopped_R_35_1(runtime, actors, people):
    rid = open_and_verify(runtime, actors["support"], "stop_provision", A_EMAIL, ground="unlawful_provision")
    with runtime.transaction(actors["po"]) as ctx:
        service.fulfil(ctx, rid)
    with runtime.transaction(actors["po"]) as ctx:
        states = registry.purpose_states(ctx, [people["a"], people["b"]], "contract")
    assert states[people["a"]].provision_stopped and not states[people["b"]].provision_stopped


def test_gdpr_restriction_and_objection_G_18_G_21(runtime, actors):
    eu = make_customer(
        runtime,
        actors["po"],
        name="Anna Schmidt",
        kana=None,
        email="anna@example.de",
        phone=None,
        origin="DE",
    )
    grant(runtime, actors["po"], eu, "marketing-email")
    with runtime.transaction(actors["support"]) as ctx:
        v = service.open_request(
            ctx,
            RequestOpen(
                kind="objection",
                emails=["anna@example.de"],
                purpose="marketing-email",
                ground="direct_marketing",
            ),
        )
    assert v.regime == "gdpr" and v.rule_id == "G-21"
    ident = v.identifiers[0].id
    with runtime.transaction(actors["support"]) as ctx:
        service.send_code(ctx, v.id, ident)
    with runtime.transaction(actors["support"]) as ctx:
        service.verify_code(ctx, v.id, ident, last_code(runtime, "anna@example.de"))
    with runtime.transaction(actors["po"]) as ctx:
        outcome, _ = service.fulfil(ctx, v.id)
    assert "G-21" in outcome.rule_ids
    with pytest.raises(PolicyDenied) as exc, runtime.transaction(actors["po"], "marketing-email") as ctx:
        customers_service.get(ctx, eu)
    assert exc.value.rule_id == "R-35-1"
    # restriction (G-18): every use stops
    rid = open_and_verify(runtime, actors["support"], "restriction", "anna@example.de")
    with runtime.transaction(actors["po"]) as ctx:
        outcome, _ = service.fulfil(ctx, rid)
    assert "G-18" in outcome.rule_ids
    with pytest.raises(PolicyDenied) as stopped, runtime.transaction(actors["po"], "contract") as ctx:
        customers_service.get(ctx, eu)
    assert stopped.value.rule_id == "R-35-1"  # stopped by the restriction, not refused for another reason
    with pytest.raises(ValidationFailed) as exc2, runtime.transaction(actors["support"]) as ctx:
        service.open_request(ctx, RequestOpen(kind="portability", regime="appi", emails=["anna@example.de"]))
    assert exc2.value.rule_id == "G-12"


def test_gdpr_regime_from_origin_month_deadline_and_extension_G_12_G_15(runtime, actors):
    eu = make_customer(
        runtime,
        actors["po"],
        name="Anna Schmidt",
        kana=None,
        email="anna@example.de",
        phone=None,
        origin="DE",
    )
    rid = open_and_verify(runtime, actors["support"], "disclosure", "anna@example.de")
    with runtime.transaction(actors["po"]) as ctx:
        v = service.show(ctx, rid)
    assert v.regime == "gdpr" and v.due_on == date(2026, 12, 23) and v.rule_id == "G-15"
    with runtime.transaction(actors["po"]) as ctx:
        with pytest.raises(ValidationFailed):
            service.extend(ctx, rid, 1, "because")
        ext = service.extend(ctx, rid, 2, "complexity")
    assert ext.extended_due_on == date(2027, 2, 23) and ext.effective_due_on == date(2027, 2, 23)
    assert any("延長" in m["subject"] for m in outbox(runtime))  # the person is told, with the reason
    with pytest.raises(PolicyDenied) as again, runtime.transaction(actors["po"]) as ctx:
        service.extend(ctx, rid, 1, "volume")
    assert again.value.code == "already_extended" and again.value.rule_id == "G-12"
    with runtime.transaction(actors["po"]) as ctx:
        outcome, package = service.fulfil(ctx, rid)
    assert "G-15" in outcome.rule_ids and package.subject_ids == [eu] and package.regime == "gdpr"
    with runtime.transaction(actors["po"]) as ctx:  # staff sent the package: the officer records it
        delivery.record_posted(ctx, rid, today_jst(ctx.clock))
    # a second GDPR request: extending after the first month is refused
    rid2 = open_and_verify(runtime, actors["support"], "portability", "anna@example.de")
    runtime.clock.advance(timedelta(days=32))
    with pytest.raises(PolicyDenied) as late, runtime.transaction(actors["po"]) as ctx:
        service.extend(ctx, rid2, 1, "volume")
    assert late.value.code == "extension_too_late"
    with runtime.transaction(actors["po"]) as ctx:
        board = service.board(ctx)
    assert [b.id for b in board] == [rid2] and board[0].overdue
    with runtime.transaction(actors["po"]) as ctx:
        outcome, package = service.fulfil(ctx, rid2)
    assert "G-20" in package.rule_ids and "Anna Schmidt" in render.render(
        package, "csv", date(2027, 1, 1)
    ).decode("utf-8-sig")


def test_appi_has_no_extension_and_board_is_sorted_with_overdue_flag_R_39_1(runtime, actors, people):
    with runtime.transaction(actors["support"]) as ctx:
        first = service.open_request(ctx, RequestOpen(kind="disclosure", emails=[A_EMAIL]))
    runtime.clock.advance(timedelta(days=3))
    with runtime.transaction(actors["support"]) as ctx:
        second = service.open_request(
            ctx, RequestOpen(kind="erasure", emails=[B_EMAIL], ground="no_longer_needed")
        )
        gdpr = service.open_request(ctx, RequestOpen(kind="disclosure", regime="gdpr", emails=[B_EMAIL]))
    with pytest.raises(PolicyDenied) as exc, runtime.transaction(actors["po"]) as ctx:
        service.extend(ctx, first.id, 1, "volume")
    assert exc.value.rule_id == "R-39-1"
    runtime.clock.advance(timedelta(days=12))
    with runtime.transaction(actors["po"]) as ctx:
        board = service.board(ctx)
    assert [b.id for b in board] == [first.id, second.id, gdpr.id]
    assert [b.overdue for b in board] == [True, False, False]
    assert board[1].days_left == 2


def test_erasure_crypto_shreds_keeps_evidence_and_lists_recipients_R_35_1_G_17_G_19(
    runtime, actors, people, backend, tmp_path
):
    class FakeSlice:
        """A slice registered after rights was written: its data is disclosed and erased with no rights edit."""

        name = "zz_test_slice"
        erased: list[str] = []

        def summary(self, ctx, subject_id):
            return {"ticket": 1}

        def export(self, ctx, subject_id):
            return [SubjectRecord(self.name, "ticket", f"t-{subject_id[:4]}", {"subject": "返品の相談"})]

        def correct(self, ctx, subject_id, record_id, changes):
            raise NotFound("x", "x")

        def erase(self, ctx, subject_id):
            self.erased.append(subject_id)
            return 1

        def recipients(self, ctx, subject_id):
            return [Recipient("cp1", "架空配送株式会社", "outsourcee", "JP")]

    source = FakeSlice()
    registry.register_source(source)
    try:
        rid = open_and_verify(runtime, actors["support"], "erasure", A_EMAIL, ground="no_longer_needed")
        with runtime.sessions() as s:
            blob = s.execute(select(Customer.name_enc).where(Customer.id == people["a"])).scalar_one()
        copy = None
        if backend == "sqlite":  # a copy of the data database taken before the erasure
            src = Path(runtime.data_url.split("///", 1)[1])
            runtime.data_engine.dispose()
            copy = tmp_path / "before-erasure.db"
            shutil.copyfile(src, copy)
            for suffix in ("-wal", "-shm"):
                if Path(str(src) + suffix).exists():
                    shutil.copyfile(str(src) + suffix, str(copy) + suffix)
        with runtime.transaction(actors["po"]) as ctx:
            outcome, package = service.fulfil(ctx, rid)
        assert package is None and source.erased == [people["a"]]
        assert outcome.erased["customers"] >= 3 and outcome.erased["zz_test_slice"] == 1
        assert outcome.recipients_to_notify == [
            {
                "counterparty_id": "cp1",
                "name": "架空配送株式会社",
                "kind": "outsourcee",
                "country": "JP",
                "last_provided_at": None,
            }
        ]
        assert "R-35-1" in outcome.rule_ids
    finally:
        registry._sources.pop(source.name, None)
    # the old ciphertext cannot be decrypted with the current keystore
    runtime.keystore.clear_cache()
    with pytest.raises(MamoriError):
        runtime.cipher.decrypt(people["a"], "customers", "name", people["a"], blob)
    if copy is not None:
        from mamori.kernel.db import make_engine

        engine = make_engine(f"sqlite:///{copy}")
        with engine.connect() as conn:
            old = conn.execute(select(Customer.name_enc).where(Customer.id == people["a"])).scalar_one()
            other = conn.execute(select(Customer.name_enc).where(Customer.id == people["b"])).scalar_one()
        engine.dispose()
        assert old is not None
        with pytest.raises((IntegrityFailure, MamoriError)):
            runtime.cipher.decrypt(people["a"], "customers", "name", people["a"], old)
        assert runtime.cipher.decrypt(people["b"], "customers", "name", people["b"], other) == "鈴木 次郎"
    # the customer can no longer be found; B still can
    with runtime.transaction(actors["po"]) as ctx:
        assert customer_subjects.locate(ctx, "email", A_EMAIL) == []
        assert customer_subjects.locate(ctx, "email", B_EMAIL) == [people["b"]]
        with pytest.raises(NotFound):
            customers_service.get(ctx.with_purpose("contract"), people["a"])
    # the request record keeps the evidence, without personal data
    with runtime.sessions() as s:
        req = s.execute(select(RightsRequest).where(RightsRequest.id == rid)).scalar_one()
        idents = list(s.execute(select(RightsIdentifier).where(RightsIdentifier.request_id == rid)).scalars())
    assert req.status == "closed" and req.outcome == "fulfilled"
    assert all(i.value_enc is None and i.code_hash is None for i in idents)
    assert all(m["to"] != A_EMAIL for m in outbox(runtime))  # the kept copies of codes sent to A are gone
    events = _events(runtime, rid)
    assert [e.event for e in events][-2:] == ["fulfilled", "answered"]  # closed once the notice was delivered
    assert all("佐藤" not in e.details and "example.jp" not in e.details for e in events)
    # a second erasure request for the same person finds nobody
    with runtime.transaction(actors["support"]) as ctx:
        v = service.open_request(ctx, RequestOpen(kind="erasure", emails=[A_EMAIL]))
    with runtime.transaction(actors["support"]) as ctx:
        service.send_code(ctx, v.id, v.identifiers[0].id)
    with runtime.transaction(actors["po"]) as ctx:  # the privacy officer sees the figure (issue 17)
        assert service.verify_code(ctx, v.id, v.identifiers[0].id, last_code(runtime, A_EMAIL)).subjects == 0
    with pytest.raises(PolicyDenied), runtime.transaction(actors["po"]) as ctx:
        service.fulfil(ctx, v.id)


# -- refusal, agents, authorisation, bad input ---------------------------------------------------------------------


WHY = "開示すると同居のご家族の連絡先が明らかになるため"


def test_refusal_grounds_per_kind_R_33_2_R_35_1_G_17(runtime, actors, people):
    rid = open_and_verify(runtime, actors["support"], "disclosure", A_EMAIL)
    with pytest.raises(ValidationFailed), runtime.transaction(actors["po"]) as ctx:
        service.refuse(ctx, rid, "not_justified", WHY)  # an R-35-1 ground does not refuse a disclosure
    with pytest.raises(ValidationFailed), runtime.transaction(actors["po"]) as ctx:
        service.refuse(ctx, rid, "no_such_ground", WHY)
    with pytest.raises(ValidationFailed) as no_reason, runtime.transaction(actors["po"]) as ctx:
        service.refuse(ctx, rid, "harm_to_person")  # 法第36条: never without a concrete reason
    assert no_reason.value.code == "explanation_required"
    with runtime.transaction(actors["po"]) as ctx:
        v = service.refuse(ctx, rid, "harm_to_person", WHY)
    assert v.outcome == "refused" and v.refusal_ground == "harm_to_person"
    assert "R-33-2" in v.events[-1].rule_ids and v.events[-1].details == {
        "alternative": False,
        "explained": True,
        "ground": "harm_to_person",
        "notified": True,
    }
    notice = outbox(runtime)[-1]  # the ground's reason, the explanation and the article go to the person
    assert notice["to"] == A_EMAIL and WHY in notice["body"]
    assert "個人情報の保護に関する法律第33条第2項第1号" in notice["body"]
    assert "R-33-2" not in notice["body"]  # customer text cites the article, never the rule id
    with pytest.raises(PolicyDenied) as closed, runtime.transaction(actors["po"]) as ctx:
        service.fulfil(ctx, rid)
    assert closed.value.code == "request_closed"
    erid = open_and_verify(runtime, actors["support"], "erasure", A_EMAIL)
    with pytest.raises(ValidationFailed) as gd, runtime.transaction(actors["po"]) as ctx:
        service.refuse(ctx, erid, "gdpr_legal_claims", WHY)  # a GDPR exception on an APPI request
    assert gd.value.rule_id == "R-35-1" and gd.value.code == "bad_ground"
    with runtime.transaction(actors["po"]) as ctx:
        assert "R-35-1" in service.refuse(ctx, erid, "not_justified", WHY).events[-1].rule_ids
    with runtime.transaction(actors["po"], "contract") as ctx:
        assert customers_service.get(ctx, people["a"]).name == "佐藤 花子"  # nothing erased
    eu = make_customer(
        runtime,
        actors["po"],
        name="Anna Schmidt",
        kana=None,
        email="anna@example.de",
        phone=None,
        origin="DE",
    )
    grid = open_and_verify(runtime, actors["support"], "erasure", "anna@example.de")
    with pytest.raises(ValidationFailed) as appi_on_gdpr, runtime.transaction(actors["po"]) as ctx:
        service.refuse(ctx, grid, "not_justified", WHY)  # an APPI ground on a GDPR request
    assert appi_on_gdpr.value.rule_id == "G-12"
    with runtime.transaction(actors["po"]) as ctx:
        assert "G-17" in service.refuse(ctx, grid, "gdpr_legal_claims", WHY).events[-1].rule_ids
    assert eu


def test_agents_recorded_with_document_R_37_1(runtime, actors, people):
    with pytest.raises(ValidationFailed) as exc, runtime.transaction(actors["support"]) as ctx:
        service.open_request(
            ctx, RequestOpen(kind="disclosure", emails=[A_EMAIL], agent_kind="mandated_agent")
        )
    assert exc.value.rule_id == "R-37-1"
    with pytest.raises(ValidationFailed), runtime.transaction(actors["support"]) as ctx:
        service.open_request(
            ctx,
            RequestOpen(
                kind="disclosure",
                emails=[A_EMAIL],
                agent_kind="legal_representative",
                agent_document="power_of_attorney",
            ),
        )
    with pytest.raises(ValidationFailed), runtime.transaction(actors["support"]) as ctx:
        service.open_request(
            ctx, RequestOpen(kind="disclosure", emails=[A_EMAIL], agent_document="power_of_attorney")
        )
    with runtime.transaction(actors["support"]) as ctx:
        v = service.open_request(
            ctx,
            RequestOpen(
                kind="disclosure",
                channel="letter",
                emails=[A_EMAIL],
                agent_kind="legal_representative",
                agent_document="family_register",
            ),
        )
    assert v.agent_kind == "legal_representative" and v.agent_document == "family_register"
    assert v.events[0].details["agent_document"] == "family_register"


def test_roles_and_bad_input(runtime, actors, people):
    with pytest.raises(PolicyDenied) as exc, runtime.transaction(actors["analyst"]) as ctx:
        service.open_request(ctx, RequestOpen(kind="disclosure", emails=[A_EMAIL]))
    assert exc.value.rule_id == "R-23-2"
    with runtime.transaction(actors["sato"]) as ctx:  # sales may take a request ...
        v = service.open_request(ctx, RequestOpen(kind="disclosure", emails=[A_EMAIL]))
    for fn in (
        lambda ctx: service.show(ctx, v.id),
        lambda ctx: service.board(ctx),
        lambda ctx: service.fulfil(ctx, v.id),
        lambda ctx: service.refuse(ctx, v.id, "harm_to_person", "第三者の権利利益を害するおそれがあるため"),
        lambda ctx: service.held_categories(ctx, v.id),
    ):
        for who in ("sato", "support", "analyst", "admin"):  # ... but only the privacy officer manages it
            with pytest.raises(PolicyDenied) as denied, runtime.transaction(actors[who]) as ctx:
                fn(ctx)
            assert denied.value.rule_id == "R-23-2"
    with pytest.raises(NotFound), runtime.transaction(actors["po"]) as ctx:
        service.show(ctx, "0" * 32)
    with pytest.raises(ValidationFailed), runtime.transaction(actors["support"]) as ctx:
        service.open_request(ctx, RequestOpen(kind="disclosure", phones=["not a phone"]))
    with pytest.raises(ValidationFailed), runtime.transaction(actors["support"]) as ctx:
        service.add_identifier(ctx, v.id, "fax", "03-1234-5678")
    with pytest.raises(ValidationFailed), runtime.transaction(actors["support"]) as ctx:
        service.open_request(ctx, RequestOpen(kind="stop_use", emails=[A_EMAIL], stop_scope="purpose"))
    from pydantic import ValidationError

    for bad in (
        {"kind": "gossip"},
        {"kind": "disclosure", "emails": ["not-an-email"]},
        {"kind": "disclosure", "customer_id": "../etc"},
        {"kind": "disclosure", "categories": ["Bad Category"]},
        {"kind": "disclosure", "fee_yen": -1},
        {"kind": "disclosure", "channel": "pigeon"},
        {"kind": "disclosure", "emails": ["a\x00@example.jp"]},
    ):
        with pytest.raises(ValidationError):
            RequestOpen.model_validate(bad)


def test_gdpr_rectification_lists_recipients_to_notify_G_16_G_19(runtime, actors):
    class Recipients:
        name = "zz_recipients"

        def summary(self, ctx, subject_id):
            return {}

        def export(self, ctx, subject_id):
            return []

        def correct(self, ctx, subject_id, record_id, changes):
            raise NotFound("x", "x")

        def erase(self, ctx, subject_id):
            return 0

        def recipients(self, ctx, subject_id):
            return [Recipient("cp9", "Fictional Logistics GmbH", "third_party", "DE")]

    eu = make_customer(
        runtime,
        actors["po"],
        name="Anna Schmidt",
        kana=None,
        email="anna@example.de",
        phone=None,
        origin="DE",
    )
    registry.register_source(Recipients())
    try:
        rid = open_and_verify(runtime, actors["support"], "correction", "anna@example.de")
        with runtime.transaction(actors["po"]) as ctx:
            outcome, _ = service.fulfil(
                ctx, rid, corrections=[("customers", eu, {"occupation": "Ingenieurin"})]
            )
    finally:
        registry._sources.pop("zz_recipients", None)
    assert outcome.rule_ids == ["R-34-1", "G-16", "G-19"]
    assert outcome.corrections[0].before == "会社員" and outcome.corrections[0].after == "Ingenieurin"
    assert [r["name"] for r in outcome.recipients_to_notify] == ["Fictional Logistics GmbH"]
