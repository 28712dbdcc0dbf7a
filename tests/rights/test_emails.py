"""Golden tests of the e-mails the rights workflow sends: read from the outbox after real requests walked through
`mamori rights` and the public API, each checked by the letters' shared checker (sender named, no code, no rule
id, no ISO/UTC time, no internal id) and for its key lines."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from mamori.kernel import labels
from mamori.kernel.clock import JST
from mamori.kernel.notify import FileOutbox, Message, set_notifier
from tests.api.conftest import Api
from tests.factories import make_customer
from tests.rights.test_letters import (
    EMAIL,
    OPERATOR,
    RECEIPT,
    SENDER,
    add_person,
    assert_customer_text,
    assert_refusal,
    ok,
    opened,
    operator_cli,
    outbox,
)

API = "/api/v1"


@pytest.fixture
def cli(tmp_path, monkeypatch):
    yield from operator_cli(tmp_path, monkeypatch)


@pytest.fixture
def person(cli) -> str:
    return add_person()


def mail(subject: str, body: str, *, lang: str = "ja") -> str:
    """Subject and body as one text for the checker; both must name the sender."""
    assert SENDER in subject, f"the subject does not name the sender: {subject!r}"
    text = f"{subject}\n{body}"
    assert_customer_text(text, lang=lang)
    assert OPERATOR["MAMORI_PRIVACY_CONTACT"] in body  # 窓口 at the end
    assert "http" not in text  # nothing to click
    return text


def last_to(tmp_path, rid: str) -> dict:
    return [m for m in outbox(tmp_path) if m["request_id"] == rid][-1]


def received_on(v: dict) -> str:
    return labels.fmt_date(datetime.fromisoformat(v["received_at"]))


class Kept:
    """The file outbox, keeping a copy of every message: an erasure purges the outbox, not this list."""

    def __init__(self, home) -> None:
        self.box = FileOutbox(home / "outbox")
        self.messages: list[Message] = []

    def send(self, message: Message, *, at: datetime) -> str:
        self.messages.append(message)
        return self.box.send(message, at=at)

    def purge(self, **tags) -> int:
        return self.box.purge(**tags)


@pytest.fixture
def kept(cli, tmp_path):
    k = Kept(tmp_path / "home")
    set_notifier(k)
    yield k
    set_notifier(None)


def test_code_email_says_who_sends_it_why_and_until_when_R_37_1(cli, person, tmp_path):
    v = ok(cli("--as", "takahashi", "rights", "open", "disclosure", "--email", EMAIL, "--json"))
    before = datetime.now(UTC)
    ok(cli("--as", "takahashi", "rights", "send-code", v["id"], v["identifiers"][0]["id"], "--json"))
    m = last_to(tmp_path, v["id"])
    text = mail(m["subject"], m["body"])
    assert m["subject"] == f"【{SENDER}】本人確認コードのお知らせ（受付番号 {v['receipt_no']}）"
    assert RECEIPT.fullmatch(v["receipt_no"])
    assert (
        f"このメールは、{SENDER}が、{received_on(v)}に受け付けた保有個人データの開示のご請求"
        f"（受付番号 {v['receipt_no']}）について、ご請求がご本人からのものであることを確認するためにお送りしています。"
    ) in m["body"]
    assert re.search(r"^確認コード: \d{6}$", m["body"], re.M)
    until = re.search(r"^(\d{2}):(\d{2})（日本時間）まで有効$", m["body"], re.M)
    assert until, m["body"]
    expected = (before + timedelta(minutes=15)).astimezone(JST)
    assert abs((int(until[1]) * 60 + int(until[2])) - (expected.hour * 60 + expected.minute)) <= 1
    assert "このコードを第三者に伝えないでください" in text
    assert "お心当たりがない場合は、このメールを破棄してください" in text
    assert "当社の担当者が確認コードをお尋ねします" in text  # taken by phone: read it out to the staff


@pytest.fixture
def runtime(settings_factory, clock):
    """The API's runtime with the operator configured (the frozen clock: 2026-11-23 10:00 JST)."""
    from mamori import composition as bootstrap
    from mamori.kernel.runtime import Runtime

    bootstrap.register_all()
    rt = Runtime(
        settings_factory(
            operator_name=SENDER,
            operator_address=OPERATOR["MAMORI_OPERATOR_ADDRESS"],
            operator_representative=OPERATOR["MAMORI_OPERATOR_REPRESENTATIVE"],
            privacy_contact=OPERATOR["MAMORI_PRIVACY_CONTACT"],
        ),
        clock=clock,
    )
    rt.init()
    yield rt
    rt.close()


def test_public_request_e_mails_are_in_the_language_of_the_request(runtime, published_notice):
    api = Api(runtime)
    from mamori.kernel.context import SYSTEM_ACTOR
    from mamori.staff import service as staff_service

    with runtime.transaction(SYSTEM_ACTOR, readonly=True) as s:
        po = staff_service.actor_for(s, "po")
    make_customer(runtime, po, name="佐藤 花子", email="hanako@example.jp", phone="090-1111-2222")
    make_customer(
        runtime, po, name="Anna Schmidt", email="anna@example.de", phone="090-3333-4444", origin="DE"
    )
    public, _ = api.client()
    r = public.post(
        f"{API}/privacy-requests",
        json={"kind": "disclosure", "email": "hanako@example.jp", "notice_version": published_notice},
    )
    assert r.status_code == 202, r.text
    ja = r.json()
    assert RECEIPT.fullmatch(ja["receipt_no"]) and ja["message"].startswith("受け付けました（回答期限 2026年")
    r = public.post(
        f"{API}/privacy-requests",
        json={
            "kind": "erasure",
            "regime": "gdpr",
            "email": "anna@example.de",
            "notice_version": published_notice,
        },
        headers={"Accept-Language": "en"},
    )
    assert r.status_code == 202, r.text
    en = r.json()
    assert en["receipt_no"] == ja["receipt_no"][:-1] + "2" and en["message"].startswith(
        "Received (answer due "
    )
    from tests.rights.helpers import outbox as rt_outbox

    sent = {m["request_id"]: m for m in rt_outbox(runtime)}
    m = sent[ja["request_id"]]
    mail(m["subject"], m["body"])
    assert "2026年11月23日に受け付けた保有個人データの開示のご請求" in m["body"]
    assert "10:15（日本時間）まで有効" in m["body"]  # 15 minutes after 10:00 JST, as a clock time
    assert "ご請求の手続の画面に、この確認コードを入力してください。" in m["body"]  # filed on the web
    m = sent[en["request_id"]]
    text = mail(m["subject"], m["body"], lang="en")
    assert m["subject"] == f"[{SENDER}] Your verification code (receipt number {en['receipt_no']})"
    assert "Valid until 10:15 JST" in text and "Do not share this code with anyone else." in text
    assert "If you did not make this request, please delete this e-mail" in text
    for configured in OPERATOR.values():  # the operator's own words may be Japanese; nothing else is
        text = text.replace(configured, "")
    assert not re.search(r"[ぁ-んァ-ン]", text)


def test_correction_email_lists_each_item_with_its_label_before_and_after_R_34_1(cli, person, tmp_path):
    v = opened(cli, tmp_path, "correction")
    ok(
        cli(
            "--as",
            "hoshino",
            "rights",
            "fulfil",
            v["id"],
            "--correct",
            f"customers:{person}:address=東京都港区芝公園4-2-8",
            "--correct",
            f"customers:{person}:birth_date=1985-01-05",
            "--json",
        )
    )
    m = last_to(tmp_path, v["id"])
    mail(m["subject"], m["body"])
    assert (
        m["subject"]
        == f"【{SENDER}】保有個人データの訂正等のご請求への対応のお知らせ（受付番号 {v['receipt_no']}）"
    )
    assert (
        f"{received_on(v)}付けでご請求のありました保有個人データの訂正等（受付番号 {v['receipt_no']}）について、"
        in m["body"]
    )
    assert "・基本情報の住所：東京都渋谷区神宮前1-2-3 → 東京都港区芝公園4-2-8" in m["body"]
    assert "・基本情報の生年月日：1985年1月2日（昭和60年） → 1985年1月5日（昭和60年）" in m["body"]
    assert "根拠：個人情報の保護に関する法律第34条" in m["body"]


@pytest.mark.parametrize(
    ("kind", "options", "said"),
    [
        (
            "stop_use",
            ("--purpose", "marketing-email"),
            "利用目的「新商品・キャンペーンのメールでのご案内」のためのお客様の保有個人データの利用を停止いたしました。",
        ),
        ("stop_use", (), "お客様の保有個人データの利用を、すべての利用目的について停止いたしました。"),
        ("stop_provision", (), "お客様の保有個人データの第三者への提供を停止いたしました。"),
    ],
)
def test_stop_notices_say_exactly_what_was_stopped_R_35_1(cli, person, tmp_path, kind, options, said):
    v = opened(cli, tmp_path, kind, *options)
    ok(cli("--as", "hoshino", "rights", "fulfil", v["id"], "--json"))
    m = last_to(tmp_path, v["id"])
    mail(m["subject"], m["body"])
    assert said in m["body"], m["body"]
    assert "または" not in m["body"] and "（又は" not in m["body"]  # no hedging between use and provision
    assert "個人情報の保護に関する法律第35条" in m["body"]


def test_erasure_has_one_text_sent_and_returned_R_35_1(cli, person, tmp_path, kept):
    v = opened(cli, tmp_path, "erasure")
    done = ok(cli("--as", "hoshino", "rights", "fulfil", v["id"], "--json"))
    # the result notice (the code and the receipt notice sent on verification aside)
    notices = [
        m
        for m in kept.messages
        if m.request_id == v["id"] and "確認コード" not in m.body and "受付のお知らせ" not in m.subject
    ]
    assert len(notices) == 1
    [notice] = notices
    assert notice.body == done["notice_ja"]  # one text: what was sent is what staff see
    mail(notice.subject, notice.body)
    assert "当社が保有するお客様の個人データを消去いたしました。" in notice.body
    assert v["receipt_no"] in notice.subject and v["receipt_no"] in notice.body
    assert not [m for m in outbox(tmp_path) if m["request_id"] == v["id"]]  # the kept copies are purged


def test_extension_email_gives_the_new_due_date_and_the_reason_in_words_G_12(cli, person, tmp_path):
    v = ok(
        cli(
            "--as",
            "takahashi",
            "rights",
            "open",
            "disclosure",
            "--regime",
            "gdpr",
            "--email",
            EMAIL,
            "--json",
        )
    )
    extended = ok(
        cli(
            "--as",
            "hoshino",
            "rights",
            "extend",
            v["id"],
            "--months",
            "1",
            "--reason",
            "complexity",
            "--json",
        )
    )
    new_due = labels.fmt_date(datetime.fromisoformat(extended["extended_due_on"]))
    m = last_to(tmp_path, v["id"])
    mail(m["subject"], m["body"])
    assert m["subject"] == f"【{SENDER}】ご請求への回答期限の延長のお知らせ（受付番号 {v['receipt_no']}）"
    assert f"ご請求の内容が複雑であるため、回答期限を{new_due}まで延長させていただきます。" in m["body"]
    assert f"新しい回答期限：{new_due}" in m["body"] and "根拠：GDPR第12条第3項" in m["body"]


WHY = "ご指摘のメール配信は、ご同意の記録に基づくものであり、法令違反の取扱いは確認されませんでした。"


def test_refusal_emails_give_reason_explanation_article_and_where_to_complain(cli, person, tmp_path):
    v = opened(cli, tmp_path, "stop_use")
    ok(
        cli(
            "--as",
            "hoshino",
            "rights",
            "refuse",
            v["id"],
            "--ground",
            "not_justified",
            "--explanation",
            WHY,
            "--json",
        )
    )
    m = last_to(tmp_path, v["id"])
    text = mail(m["subject"], m["body"])
    assert_refusal(text, "not_justified", WHY)
    assert (
        m["subject"]
        == f"【{SENDER}】保有個人データの利用停止等のご請求への回答（受付番号 {v['receipt_no']}）"
    )
    assert "誠に恐れ入りますが、ご請求に応じることはできません。" in m["body"]
    assert "根拠：個人情報の保護に関する法律第35条第2項" in m["body"]
    assert "苦情のお申出は、下記の窓口で承ります" in m["body"]
    # 法第35条 ただし書: not as asked, and the alternative measure is stated
    v = opened(cli, tmp_path, "erasure")
    measure = "ご登録のデータは消去せず、今後一切のご案内の送付を停止し、社内での参照を管理者に限定します。"
    why = "ご契約中の保証サービスの履行に必要な記録であり、消去には多額の費用を要するためです。"
    ok(
        cli(
            "--as",
            "hoshino",
            "rights",
            "refuse",
            v["id"],
            "--ground",
            "alternative_measure",
            "--explanation",
            why,
            "--alternative",
            measure,
            "--json",
        )
    )
    m = last_to(tmp_path, v["id"])
    text = mail(m["subject"], m["body"])
    assert_refusal(text, "alternative_measure", why)
    assert "ご請求どおりの対応はいたしかねます。代わりに、下記の措置をとらせていただきます。" in m["body"]
    assert f"代わりにとる措置：{measure}" in m["body"]
    assert "根拠：個人情報の保護に関する法律第35条第2項ただし書" in m["body"]
    # a GDPR refusal also names the supervisory authority (Art. 12(4) GDPR)
    v = opened(cli, tmp_path, "erasure", "--regime", "gdpr")
    why = "会計帳簿として法令で定める保存期間（7年）が満了していないためです。"
    ok(
        cli(
            "--as",
            "hoshino",
            "rights",
            "refuse",
            v["id"],
            "--ground",
            "gdpr_legal_obligation",
            "--explanation",
            why,
            "--json",
        )
    )
    m = last_to(tmp_path, v["id"])
    text = mail(m["subject"], m["body"])
    assert_refusal(text, "gdpr_legal_obligation", why)
    assert "根拠：GDPR第17条第3項(b)" in m["body"] and "監督機関に苦情を申し立てること" in m["body"]


def test_a_request_made_in_english_is_answered_in_english(cli, person, tmp_path, monkeypatch):
    monkeypatch.setenv("MAMORI_LANG", "en")
    from mamori.kernel.settings import reset_settings_cache

    reset_settings_cache()
    v = ok(cli("--as", "takahashi", "rights", "open", "stop_provision", "--email", EMAIL, "--json"))
    ok(cli("--as", "takahashi", "rights", "send-code", v["id"], v["identifiers"][0]["id"], "--json"))
    m = last_to(tmp_path, v["id"])
    text = mail(m["subject"], m["body"], lang="en")
    assert m["subject"] == f"[{SENDER}] Your verification code (receipt number {v['receipt_no']})"
    assert "Our staff will ask you for this code" in text
    code = re.search(r"^Verification code: (\d{6})$", m["body"], re.M)
    assert code
    ident = v["identifiers"][0]["id"]
    verify = ("--method", "email_code", "--identifier", ident, "--code", code[1], "--json")
    ok(cli("--as", "takahashi", "rights", "verify", v["id"], *verify))
    ok(cli("--as", "hoshino", "rights", "fulfil", v["id"], "--json"))
    m = last_to(tmp_path, v["id"])
    text = mail(m["subject"], m["body"], lang="en")
    assert "we have stopped providing your retained personal data to third parties." in text
    assert "Legal basis: Art. 35 of the Act on the Protection of Personal Information" in text
