"""The published notice (公表事項, R-32-1) generated from the registries and the settings, and its versions."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from datetime import timedelta

import pytest

from mamori.kernel import notice as kernel_notice
from mamori.kernel.context import SYSTEM_ACTOR
from mamori.kernel.errors import Conflict, PolicyDenied
from mamori.notice import service
from mamori.purposes import service as purposes_service
from tests.factories import PURPOSES, seed_basics
from tests.kernel.test_sensitive_refusal_sweep import denials_since, last_seq
from tests.notice.conftest import FOREIGN_NOTE, OPERATOR, seed_registries


@pytest.fixture
def store(make_runtime):
    rt = make_runtime(**OPERATOR)
    actors = seed_basics(rt)
    seed_registries(rt)
    return rt, actors


def text_of(content, lang="ja") -> str:
    return "\n".join(line for s in content.sections for line in service.section_text(s, lang))


def section(content, sid):
    return next(s for s in content.sections if s.id == sid)


def test_R_32_1_the_draft_names_the_operator_every_purpose_in_force_joint_use_fee_and_countries(store):
    rt, actors = store
    with rt.transaction(SYSTEM_ACTOR) as ctx:
        purposes_service.retire(ctx, "gdpr-newsletter")
    with rt.transaction(actors["po"]) as ctx:
        d = service.draft(ctx)
    text = text_of(d.content)
    # (1) the operator
    for key in ("operator_name", "operator_address", "operator_representative", "privacy_contact"):
        assert OPERATOR[key] in text
    assert OPERATOR["accredited_body"] in text
    # (2) every purpose in force with its wording; the retired one is gone; third-party provision stated
    purposes = section(d.content, "purposes")
    headings = [e.heading.ja for e in purposes.entries]
    for code, p in PURPOSES.items():
        if code == "gdpr-newsletter":
            assert p.title_ja not in headings and p.text_ja not in text
        else:
            assert p.title_ja in headings and p.text_ja in text
    sharing = next(e for e in purposes.entries if e.heading.ja == PURPOSES["partner-sharing"].title_ja)
    assert "第三者への提供が含まれます" in sharing.facts[1].value.ja
    contract = next(e for e in purposes.entries if e.heading.ja == PURPOSES["contract"].title_ja)
    assert "第三者に提供することはありません" in contract.facts[1].value.ja
    # R-27-2 (c): the five items of joint use
    joint = section(d.content, "joint_use").entries[0]
    facts = {f.label.ja: f.value.ja for f in joint.facts}
    assert "共同して利用します" in joint.paragraphs[0].ja  # ① that joint use happens
    assert facts["共同して利用する個人データの項目"] == "氏名、メールアドレス、電話番号"  # ② the items
    assert "架空グループ販売株式会社" in facts["共同して利用する者の範囲"]  # ③ the joint users
    assert facts["利用する者の利用目的"] == PURPOSES["contract"].title_ja  # ④ their purposes
    assert facts["管理について責任を有する者"] == (
        "架空商事株式会社（住所: 東京都千代田区架空町1-2-3、代表者: 代表取締役 架空太郎）"
    )  # ⑤ the responsible party
    # R-38-1: the fee, only for purpose notification and disclosure, and how to pay
    fees = text_of(type(d.content)(sections=[section(d.content, "fees")]))
    assert "1,000円" in fees and "利用目的の通知、開示、第三者提供記録の開示" in fees
    assert OPERATOR["fee_payment"] in fees and "訂正・利用停止・消去" in fees and "無料" in fees
    # the request procedures: every kind, the form, the one-time code
    requests = text_of(type(d.content)(sections=[section(d.content, "requests")]))
    assert "第三者提供の停止" in requests and "データポータビリティ" in requests
    assert "/privacy/requests/new" in requests and "確認コード" in requests
    # R-23-7: the foreign country by name, with what was understood of its system
    foreign = section(d.content, "foreign")
    assert [e.heading.ja for e in foreign.entries] == ["アメリカ合衆国"]
    assert FOREIGN_NOTE in text
    assert "United States" in text_of(d.content, "en")
    # no placeholder when everything is set (the security summary is mamori's own: listed, to be completed)
    assert [p.setting for p in d.placeholders] == ["MAMORI_SECURITY_MEASURES_FILE"]


def test_R_32_1_unset_settings_show_a_placeholder_and_are_listed(make_runtime):
    rt = make_runtime(request_fee_yen=500)
    actors = seed_basics(rt)
    with rt.transaction(actors["po"]) as ctx:
        d = service.draft(ctx)
    text = text_of(d.content)
    assert "（事業者名未設定）" in text and "（お問い合わせ窓口未設定）" in text
    assert "（手数料の支払方法未設定）" in text
    assert {p.setting for p in d.placeholders} >= {
        "MAMORI_OPERATOR_NAME",
        "MAMORI_OPERATOR_ADDRESS",
        "MAMORI_OPERATOR_REPRESENTATIVE",
        "MAMORI_PRIVACY_CONTACT",
        "MAMORI_FEE_PAYMENT",
    }
    assert "共同利用は行っていません" in text and "外国で個人データを取り扱うことはありません" in text


def test_the_security_measures_file_replaces_mamoris_summary(make_runtime, tmp_path):
    path = tmp_path / "security.txt"
    path.write_text("基本方針を定めています。\n\n従業者に年2回の研修を行っています。\n", encoding="utf-8")
    rt = make_runtime(security_measures_file=path, **OPERATOR)
    actors = seed_basics(rt)
    with rt.transaction(actors["po"]) as ctx:
        d = service.draft(ctx)
    security = section(d.content, "security").entries[0].paragraphs
    assert [p.ja for p in security] == ["基本方針を定めています。", "従業者に年2回の研修を行っています。"]
    assert d.placeholders == []


def test_R_32_1_publishing_twice_without_a_change_keeps_one_version(store):
    rt, actors = store
    with rt.transaction(actors["po"]) as ctx:
        first = service.publish(ctx)
    with rt.transaction(actors["po"]) as ctx:
        again = service.publish(ctx)
        assert service.draft(ctx).unchanged
    assert first.published and first.version == 1
    assert not again.published and again.version == 1 and again.sha256 == first.sha256
    with rt.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        assert [v.version for v in service.history(ctx)] == [1]
    publishes = [e for e in rt.audit.tail(200) if e.action == "notice.publish" and e.decision == "allow"]
    assert len(publishes) == 1 and publishes[0].rule_ids == ("R-32-1",)


def test_R_32_1_a_changed_purpose_makes_version_2_and_version_1_stays_as_published(store):
    rt, actors = store
    with rt.transaction(actors["po"]) as ctx:
        service.publish(ctx)
    old_text = PURPOSES["contract"].text_ja
    new_text = "お問い合わせに回答するため、氏名と連絡先を利用します（改定）。"
    with rt.transaction(SYSTEM_ACTOR) as ctx:
        purposes_service.revise(ctx, PURPOSES["contract"].model_copy(update={"text_ja": new_text}))
    rt.clock.advance(timedelta(days=3))
    with rt.transaction(actors["po"]) as ctx:
        d = service.draft(ctx)
        assert not d.unchanged
        changed = {c.id: c for c in d.changes}
        assert changed["purposes"].status == "changed" and changed["operator"].status == "same"
        assert any(line.startswith("+") and new_text in line for line in changed["purposes"].diff)
        assert any(line.startswith("-") and old_text in line for line in changed["purposes"].diff)
        second = service.publish(ctx, expected_sha256=d.sha256)
    assert second.published and second.version == 2
    with rt.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        v1 = service.get(ctx, 1)
        v2 = service.current(ctx)
        assert v1 is not None and v2 is not None and v2.version == 2
        assert old_text in text_of(v1.content) and new_text not in text_of(v1.content)
        assert new_text in text_of(v2.content)
        assert v2.published_at - v1.published_at == timedelta(days=3)
        assert service.get(ctx, 3) is None and service.get(ctx, 10**12) is None


def test_a_draft_that_changed_after_review_is_not_published(store):
    rt, actors = store
    with rt.transaction(actors["po"]) as ctx:
        reviewed = service.draft(ctx).sha256
    with rt.transaction(SYSTEM_ACTOR) as ctx:
        purposes_service.retire(ctx, "gdpr-newsletter")
    with pytest.raises(Conflict) as exc, rt.transaction(actors["po"]) as ctx:
        service.publish(ctx, expected_sha256=reviewed)
    assert exc.value.code == "notice_draft_changed" and exc.value.rule_id == "R-32-1"
    with rt.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        assert service.history(ctx) == []


@pytest.mark.parametrize("who", ["sato", "support", "analyst", "admin"])
def test_R_32_1_only_the_privacy_officer_drafts_and_publishes_and_a_refusal_is_audited(store, who):
    rt, actors = store
    for call in (service.publish, service.draft):
        before = last_seq(rt)
        with pytest.raises(PolicyDenied), rt.transaction(actors[who]) as ctx:
            call(ctx)
        denied = denials_since(rt, before)
        assert [e.action for e in denied] == ["notice.publish"] and denied[0].actor_role == actors[
            who
        ].role.value
    with rt.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        assert service.history(ctx) == []


def test_the_kernel_provider_answers_current_and_get_R_21_2(store):
    rt, actors = store
    with rt.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        assert kernel_notice.current_notice(ctx) is None and kernel_notice.notice_version(ctx, 1) is None
    with rt.transaction(actors["po"]) as ctx:
        published = service.publish(ctx)
    with rt.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        now = kernel_notice.current_notice(ctx)
        assert now is not None and now.version == 1 and now.published_at == published.published_at
        assert kernel_notice.notice_version(ctx, 1) == now
        assert kernel_notice.notice_version(ctx, 2) is None and kernel_notice.notice_version(ctx, 0) is None


def test_the_stored_version_is_the_canonical_content_with_its_digest_and_no_customer_data(store, backend):
    rt, actors = store
    from tests.factories import make_customer

    make_customer(rt, actors["sato"], name="山田花子", email="hanako.yamada@example.jp")
    with rt.transaction(actors["po"]) as ctx:
        service.publish(ctx)
    if backend != "sqlite":
        pytest.skip("the file is read with sqlite3")
    path = rt.settings.database_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as db:
        content, sha = db.execute(
            "SELECT content, sha256 FROM published_notices WHERE version = 1"
        ).fetchone()
    assert hashlib.sha256(content.encode()).hexdigest() == sha
    assert json.loads(content)["sections"][0]["id"] == "operator"
    assert "山田" not in content and "hanako" not in content
