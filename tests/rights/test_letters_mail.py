"""The rights slice's messages leave through the kernel mail queue to a REAL SMTP server (aiosmtpd, in-process):
the one-time code, the receipt notice, the extension, the answer and the refusal — each a multipart text + HTML
mail with the same words, in Japanese, or in English for a request made in English; an operator's template under
$MAMORI_HOME/templates/rights/ is used instead of the shipped one (issue 18)."""

from __future__ import annotations

import re

import pytest

from mamori.kernel import labels
from mamori.rights import service
from mamori.rights.service import delivery
from tests.factories import make_customer, seed_basics
from tests.rights.delivery_support import (
    A_EMAIL,
    B_EMAIL,
    Parts,
    mailbox_of,
    open_verified,
)

SENDER = "株式会社まもり商事"
WHY = "ご指摘の配信は、ご同意の記録に基づくもので、法令違反の取扱いは確認されませんでした。<b>注意</b>"


@pytest.fixture
def mailbox(settings_factory, clock, backend):
    yield from mailbox_of(settings_factory, clock, backend)


@pytest.fixture
def actors(mailbox):
    return seed_basics(mailbox.rt)


@pytest.fixture
def people(mailbox, actors):
    a = make_customer(mailbox.rt, actors["po"], name="佐藤 花子", email=A_EMAIL, phone="090-1111-2222")
    b = make_customer(
        mailbox.rt, actors["po"], name="Anna Schmidt", kana=None, email=B_EMAIL, phone=None, origin="DE"
    )
    return {"a": a, "b": b}


def _html_has_same_words(p: Parts, *lines: str) -> None:
    assert p.html.lstrip().lower().startswith("<!doctype html>")
    for line in lines:
        assert line in p.text, line
        assert line in p.html, line
    assert "style=" not in p.html and "<img" not in p.html and "<script" not in p.html.lower()


def test_code_received_answer_mails_in_japanese_text_and_html(mailbox, actors, people):
    rid = open_verified(mailbox, actors, "stop_use", A_EMAIL)
    got = mailbox.all()
    assert len(got) == 2 and all(r.rcpt_tos == [A_EMAIL] for r in got)
    with mailbox.rt.transaction(actors["po"]) as ctx:
        v = service.show(ctx, rid)
    code_mail, received = (delivery_parts(r) for r in got)
    # the one-time code (R-37-1)
    assert code_mail.subject == f"【{SENDER}】本人確認コードのお知らせ（受付番号 {v.receipt_no}）"
    code = re.search(r"確認コード: (\d{6})", code_mail.text)
    assert code and f"<strong>{code.group(1)}</strong>" in code_mail.html
    _html_has_same_words(code_mail, "このコードを第三者に伝えないでください。")
    assert "http" not in code_mail.text and "href" not in code_mail.html  # nothing to click
    # 受付のお知らせ, once the address is proven: receipt number, what was asked, the answer deadline
    assert received.subject == f"【{SENDER}】ご請求の受付のお知らせ（受付番号 {v.receipt_no}）"
    due = labels.fmt_date(v.effective_due_on, "ja")
    assert re.fullmatch(r"\d{4}年\d{1,2}月\d{1,2}日", due)
    _html_has_same_words(
        received,
        f"受付番号：{v.receipt_no}",
        "ご請求の内容：保有個人データの利用停止等",
        f"回答期限：{due}",
    )
    # taken by phone: no privacy-center page to point to; the contact point instead
    assert "/privacy/requests/" not in received.text and "窓口" in received.text
    assert rid not in received.text and code.group(1) not in received.text
    # the answer: the stop of use
    with mailbox.rt.transaction(actors["po"]) as ctx:
        service.fulfil(ctx, rid)
    answer = delivery_parts(mailbox.wait(3)[-1])
    assert (
        answer.subject
        == f"【{SENDER}】保有個人データの利用停止等のご請求への対応のお知らせ（受付番号 {v.receipt_no}）"
    )
    _html_has_same_words(answer, "お客様の保有個人データの利用を、すべての利用目的について停止いたしました。")
    # verified twice? the receipt notice still goes once per request
    with mailbox.rt.transaction(actors["po"]) as ctx:
        assert service.show(ctx, rid).status == "closed"
    assert [e.event for e in _events(mailbox, actors, rid)].count("receipt_sent") == 1


def delivery_parts(r):
    from tests.rights.delivery_support import parts

    return parts(r)


def _events(mailbox, actors, rid):
    with mailbox.rt.transaction(actors["po"]) as ctx:
        return service.show(ctx, rid).events


def test_an_english_request_gets_english_mails_extension_and_refusal(mailbox, actors, people):
    rid = open_verified(mailbox, actors, "erasure", B_EMAIL, lang="en")
    code_mail, received = (delivery_parts(r) for r in mailbox.all())
    assert code_mail.subject.startswith(f"[{SENDER}] Your verification code")
    _html_has_same_words(code_mail, "Do not share this code with anyone else.")
    assert received.subject.startswith(f"[{SENDER}] We have received your request")
    with mailbox.rt.transaction(actors["po"]) as ctx:
        v = service.show(ctx, rid)
    assert v.regime == "gdpr"  # an EU origin
    _html_has_same_words(
        received,
        f"Receipt number: {v.receipt_no}",
        f"Deadline for our answer: {labels.fmt_date(v.effective_due_on, 'en')}",
    )
    # the extension (G-12)
    with mailbox.rt.transaction(actors["po"]) as ctx:
        ext = service.extend(ctx, rid, 2, "complexity")
    extension = delivery_parts(mailbox.wait(3)[-1])
    assert extension.subject.startswith(f"[{SENDER}] Extension of the deadline")
    _html_has_same_words(extension, f"New deadline: {labels.fmt_date(ext.extended_due_on, 'en')}")
    # the refusal, with the explanation the officer wrote: escaped in the HTML part, as typed in the text part
    why = "The records are kept for 7 years under the tax law <b>note</b> & more."
    with mailbox.rt.transaction(actors["po"]) as ctx:
        service.refuse(ctx, rid, "gdpr_legal_obligation", why)
    refusal = delivery_parts(mailbox.wait(4)[-1])
    assert refusal.subject.startswith(f"[{SENDER}] Our answer to your request")
    assert f"Explanation: {why}" in refusal.text
    assert "&lt;b&gt;note&lt;/b&gt; &amp; more." in refusal.html and "<b>note</b>" not in refusal.html
    assert "supervisory authority" in refusal.text and "supervisory authority" in refusal.html
    with mailbox.rt.transaction(actors["po"]) as ctx:
        assert service.show(ctx, rid).status == "closed"  # delivered: answered


def test_a_japanese_refusal_in_text_and_html(mailbox, actors, people):
    rid = open_verified(mailbox, actors, "stop_use", A_EMAIL)
    with mailbox.rt.transaction(actors["po"]) as ctx:
        service.refuse(ctx, rid, "not_justified", WHY)
    refusal = delivery_parts(mailbox.wait(3)[-1])
    assert "ご請求への回答" in refusal.subject
    _html_has_same_words(
        refusal,
        "誠に恐れ入りますが、ご請求に応じることはできません。",
        "根拠：個人情報の保護に関する法律第35条第2項",
    )
    assert f"具体的な事情：{WHY}" in refusal.text and "&lt;b&gt;注意&lt;/b&gt;" in refusal.html


def test_an_operator_template_overrides_the_shipped_one(mailbox, actors, people):
    """$MAMORI_HOME/templates/rights/<name> is looked up first, for the text and for the HTML part alike."""
    override = mailbox.rt.settings.home_path / "templates" / "rights"
    override.mkdir(parents=True, exist_ok=True)
    (override / "email_received.ja.txt.j2").write_text(
        "【{{ sender.name }}】受付しました {{ receipt_no }}\n\n当社独自の文面です。期限は{{ due_on }}です。\n",
        encoding="utf-8",
    )
    (override / "email_received.ja.html.j2").write_text(
        '<!DOCTYPE html><html lang="ja"><body><p>当社独自の文面です。期限は{{ due_on }}です。</p></body></html>\n',
        encoding="utf-8",
    )
    rid = open_verified(mailbox, actors, "disclosure", A_EMAIL)
    with mailbox.rt.transaction(actors["po"]) as ctx:
        v = service.show(ctx, rid)
    received = delivery_parts(mailbox.all()[-1])
    assert received.subject == f"【{SENDER}】受付しました {v.receipt_no}"
    due = labels.fmt_date(v.effective_due_on, "ja")
    assert f"当社独自の文面です。期限は{due}です。" in received.text
    assert f"当社独自の文面です。期限は{due}です。" in received.html
    # the code mail, not overridden, is still the shipped one
    assert "本人確認コードのお知らせ" in delivery_parts(mailbox.all()[0]).subject


def test_a_stranger_verifying_their_own_address_gets_the_same_receipt_notice(mailbox, actors, people):
    """Nothing in the receipt notice says whether data was found: a person with no data gets the same words."""
    stranger = "nobody@example.org"
    open_verified(mailbox, actors, "disclosure", stranger)
    open_verified(mailbox, actors, "disclosure", A_EMAIL)
    mine, theirs = (delivery_parts(r) for r in mailbox.all() if "受付のお知らせ" in delivery_parts(r).subject)

    def shape(p: Parts) -> str:
        return re.sub(r"R-\d{4}-\d{6}", "R-#", p.text)

    assert shape(mine) == shape(theirs)


def test_delivery_states_are_named_in_words():
    assert delivery.state_word("undelivered") == "回答未送達"
    assert delivery.state_word("undelivered", "en") == "Answer undelivered"
    assert delivery.state_word(None) == "—"
