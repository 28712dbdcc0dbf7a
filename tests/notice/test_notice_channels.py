"""Issue 20 (R-32-1 with TE-3): the published notice names each purpose's contact channels and, for an
advertising purpose by e-mail or SMS, that it is sent only with prior consent and can be stopped at any time. A
purpose that contacts nobody reads as before. Revising a purpose's channels changes the draft (a new version to
publish), and the published version keeps what it said."""

from __future__ import annotations

import pytest

from mamori.kernel.context import SYSTEM_ACTOR
from mamori.kernel.policy import Category
from mamori.notice import service
from mamori.purposes import service as purposes_service
from mamori.purposes.schemas import PurposeCreate
from tests.factories import PURPOSES, seed_basics
from tests.notice.conftest import OPERATOR, seed_registries

OUTBOUND = PurposeCreate(
    code="outbound",
    title_ja="お電話・郵便・メールでの新商品のご案内",
    title_en="Offers by phone, post and e-mail",
    text_ja="新商品のご案内をお電話・郵便・メールでお届けするため、氏名・住所・電話番号・メールアドレスを利用します。",
    text_en="We use your name, address, phone numbers and email addresses to tell you about new products.",
    categories=[Category.IDENTIFIER, Category.CONTACT],
    channels=["phone", "post", "email"],
    marketing=True,
)


@pytest.fixture
def store(make_runtime):
    rt = make_runtime(**OPERATOR)
    actors = seed_basics(rt)
    seed_registries(rt)
    with rt.transaction(SYSTEM_ACTOR) as ctx:
        purposes_service.add(ctx, OUTBOUND)
    return rt, actors


def entry(content, title_ja):
    purposes = next(s for s in content.sections if s.id == "purposes")
    return next(e for e in purposes.entries if e.heading and e.heading.ja == title_ja)


def facts(e, lang="ja"):
    return {f.label(lang): f.value(lang) for f in e.facts}


def test_R_32_1_a_contact_purpose_names_its_channels_and_the_opt_in_for_advertising_mail(store):
    rt, actors = store
    with rt.transaction(actors["po"]) as ctx:
        d = service.draft(ctx)
    out = facts(entry(d.content, OUTBOUND.title_ja))
    assert out["ご連絡の方法"] == "電話、メール、郵便"
    mail = out["広告・宣伝のメール等"]
    assert "メール" in mail and "あらかじめ受信に同意いただいた方にだけ" in mail and "いつでも停止" in mail
    assert "ご連絡の停止" in out
    en = facts(entry(d.content, OUTBOUND.title_ja), "en")
    assert en["How we contact you"] == "Phone, E-mail, Post"
    assert "only to those who agreed beforehand" in en["Advertising e-mail and messages"]
    # a purpose that contacts nobody: no channel line, its facts as before
    contract = facts(entry(d.content, PURPOSES["contract"].title_ja))
    assert list(contract) == ["取り扱う情報", "第三者への提供"]
    text = "\n".join(line for s in d.content.sections for line in service.section_text(s, "ja"))
    assert "ご連絡の方法: 電話、メール、郵便" in text or "ご連絡の方法：電話、メール、郵便" in text


def test_R_32_1_advertising_by_phone_only_does_not_speak_of_mail_consent(store):
    rt, actors = store
    with rt.transaction(SYSTEM_ACTOR) as ctx:
        purposes_service.revise(ctx, OUTBOUND.model_copy(update={"channels": ["phone"]}))
    with rt.transaction(actors["po"]) as ctx:
        out = facts(entry(service.draft(ctx).content, OUTBOUND.title_ja))
    assert out["ご連絡の方法"] == "電話" and "広告・宣伝のメール等" not in out


def test_R_32_1_revising_the_channels_changes_the_draft_and_the_published_version_stays(store):
    rt, actors = store
    with rt.transaction(actors["po"]) as ctx:
        first = service.publish(ctx)
    with rt.transaction(SYSTEM_ACTOR) as ctx:
        purposes_service.revise(ctx, OUTBOUND.model_copy(update={"channels": ["post"], "marketing": False}))
    with rt.transaction(actors["po"]) as ctx:
        d = service.draft(ctx)
        assert not d.unchanged
        second = service.publish(ctx)
    assert second.published and second.version == first.version + 1
    with rt.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        old = service.get(ctx, first.version)
        new = service.get(ctx, second.version)
    assert facts(entry(old.content, OUTBOUND.title_ja))["ご連絡の方法"] == "電話、メール、郵便"
    assert facts(entry(new.content, OUTBOUND.title_ja)) == {
        "取り扱う情報": "識別情報、連絡先",
        "第三者への提供": "この目的で第三者に提供することはありません。",
        "ご連絡の方法": "郵便",
    }


def test_R_32_1_only_the_privacy_officer_drafts_and_publishes(store):
    rt, actors = store
    from mamori.kernel.errors import PolicyDenied

    with rt.transaction(actors["support"]) as ctx, pytest.raises(PolicyDenied):
        service.publish(ctx)
