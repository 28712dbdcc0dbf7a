"""The person's privacy center in a real browser (issue 18), against a live server whose mail goes by SMTP to an
in-process aiosmtpd server: the person reads the notice, files a disclosure request, reads the code from the mail
the SMTP server received, verifies, sees the status; the privacy officer answers; the person downloads the PDF. A
stranger's address gets the same pages and a code mail with no data; five wrong codes lock the request. axe-core
finds nothing serious or critical on any page; no URL carries the address or the code."""

from __future__ import annotations

import base64
import email
import email.policy
import re
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path

import pytest

from tests.browser.conftest import CHROMIUM, Live, _free_port, serve_demo, sign_in
from tests.browser.test_shell import serious_violations

pytestmark = pytest.mark.browser

STRANGER = "someone.unknown@example.net"


@dataclass
class Inbox:
    """What the in-process SMTP server received."""

    messages: list[tuple[list[str], Message]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        with self.lock:
            self.messages.append(
                (
                    list(envelope.rcpt_tos),
                    email.message_from_bytes(envelope.content, policy=email.policy.default),
                )
            )
        return "250 OK"

    def to(self, address: str) -> list[Message]:
        with self.lock:
            return [m for rcpt, m in self.messages if address in rcpt]

    def wait_for(self, address: str, n: int = 1, timeout: float = 20.0) -> list[Message]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self.to(address)
            if len(got) >= n:
                return got
            time.sleep(0.1)
        raise AssertionError(f"the SMTP server received {len(self.to(address))} message(s), expected {n}")


def text_of(msg: Message) -> str:
    for part in msg.walk():
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode(part.get_content_charset() or "utf-8")
    raise AssertionError("no text part")


def subject_of(msg: Message) -> str:
    return str(msg["Subject"])  # decoded (RFC 2047) by the default policy


def code_in(msg: Message) -> str:
    found = re.search(r"(?:コード|[Cc]ode)\s*[:：]\s*(\d{6})\b", text_of(msg))
    assert found, "no code in the mail"
    return found.group(1)


@dataclass
class Center:
    live: Live
    inbox: Inbox
    runtime: object


@pytest.fixture(scope="module")
def center(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Center]:
    """A fresh demo store served by uvicorn, its mail sent by SMTP (MAMORI_MAIL_BACKEND=smtp) to aiosmtpd."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    smtp.start()
    home = tmp_path_factory.mktemp("center") / "home"
    port = _free_port()
    env = {
        "MAMORI_HOME": str(home),
        "MAMORI_KEK": base64.b64encode(secrets.token_bytes(32)).decode(),
        "MAMORI_KEY_DIR": str(home.parent / "keys"),
        "MAMORI_MAIL_BACKEND": "smtp",
        "MAMORI_SMTP_HOST": "127.0.0.1",
        "MAMORI_SMTP_PORT": str(smtp.port),
        "MAMORI_SMTP_SECURITY": "none",
        "MAMORI_MAIL_FROM": "privacy@example.co.jp",
        "MAMORI_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",  # the links in the mails
        "MAMORI_PRIVACY_CONTACT": "お客様相談室 個人情報窓口（0120-000-000）",
    }
    try:
        with serve_demo(home, env, customers=10, port=port) as live:
            yield Center(live, inbox, live.runtime)
    finally:
        smtp.stop()


@pytest.fixture
def chromium(browser, center: Center):
    """The session's Chromium (tests/browser/conftest.py), once the center's server runs."""
    return browser


@pytest.fixture
def person(chromium):
    """A browser of the person: every URL it asks for is kept (none may carry the address or the code)."""
    context = chromium.new_context(locale="ja-JP", timezone_id="Asia/Tokyo", accept_downloads=True)
    pg = context.new_page()
    pg.set_default_timeout(15_000)
    pg.urls = []
    pg.on("request", lambda req: pg.urls.append(req.url))
    yield pg
    context.close()


@pytest.fixture(scope="module")
def customer_email(center: Center) -> str:
    """A customer of the demo store with a registered e-mail address."""
    from mamori.kernel.context import SYSTEM_ACTOR
    from mamori.staff import service as staff_service
    from tests.factories import make_customer

    with center.runtime.transaction(SYSTEM_ACTOR, readonly=True) as s:
        po = staff_service.actor_for(s, "hoshino")
    address = "kaori.nishimura@example.jp"
    make_customer(
        center.runtime,
        po,
        name="西村 かおり",
        kana="ニシムラ カオリ",
        email=address,
        phone=None,
        purposes=("contract",),
    )
    return address


def axe_clean(page) -> None:
    assert serious_violations(page) == [], page.url


def file_request(page, center: Center, address: str) -> str:
    """The person opens the form, types the address, confirms and sends; the receipt number."""
    page.goto(center.live.url + "/privacy/requests/new")
    axe_clean(page)
    page.get_by_label("開示", exact=True).check()
    page.get_by_label("ご登録のメールアドレス").fill(address)
    page.get_by_role("button", name="確認画面へ").click()
    assert "入力内容の確認" in page.inner_text("main") and address in page.inner_text("main")
    axe_clean(page)
    page.get_by_role("button", name="送信する").click()
    page.wait_for_url(re.compile(r"/privacy/requests/[0-9a-f]{32}/received$"))
    axe_clean(page)
    return re.search(r"R-\d{4}-\d{6}", page.inner_text("main")).group(0)


def to_status(page) -> None:
    page.get_by_role("link", name="確認コードを入力して、請求の状況を見る").click()
    page.wait_for_url(re.compile(r"/privacy/requests/[0-9a-f]{32}$"))


def enter_code(page, code: str) -> None:
    page.get_by_label("確認コード（6桁）").fill(code)
    page.get_by_role("button", name="確認する").click()


def no_secret_in_urls(page, *secrets_: str) -> None:
    assert page.urls
    for url in page.urls:
        for s in secrets_:
            assert s not in url, url


def test_the_person_files_a_disclosure_verifies_by_smtp_code_and_downloads_the_answer(
    person, chromium, center: Center, customer_email: str, tmp_path
):
    page = person
    # the notice first (R-32-1), then the request form from its menu
    page.goto(center.live.url + "/privacy/notice")
    assert page.locator("h1").count() >= 1
    axe_clean(page)
    page.get_by_role("link", name="開示等の請求をする").first.click()
    page.wait_for_url(re.compile(r"/privacy/requests/new$"))
    assert "ご本人であることの確認" in page.inner_text("main")  # R-21-2, before submission
    assert not page.context.cookies()  # nothing set before the person starts
    receipt = file_request(page, center, customer_email)
    cookies = page.context.cookies()
    assert [c["name"] for c in cookies] == ["mamori_request"]
    assert cookies[0]["httpOnly"] and cookies[0]["sameSite"] == "Strict"
    assert cookies[0]["path"].startswith("/privacy/requests/")
    # the code, from the mail the SMTP server received (text + HTML)
    (mail,) = center.inbox.wait_for(customer_email)
    assert mail.is_multipart() and {p.get_content_type() for p in mail.walk()} >= {"text/plain", "text/html"}
    code = code_in(mail)
    to_status(page)
    assert "受付済み" in page.inner_text("main") and receipt in page.inner_text("main")
    axe_clean(page)
    enter_code(page, code)
    page.wait_for_url(re.compile(r"/privacy/requests/[0-9a-f]{32}$"))
    main = page.inner_text("main")
    assert "本人確認済み" in main and "基本情報" in main and "連絡先" in main
    axe_clean(page)
    rid = page.url.rsplit("/", 1)[1]
    # the privacy officer answers it on the staff pages (a download, never stored)
    staff_context = chromium.new_context(locale="ja-JP", timezone_id="Asia/Tokyo", accept_downloads=True)
    staff = staff_context.new_page()
    staff.set_default_timeout(15_000)
    sign_in(staff, center.live, "hoshino")
    staff.goto(f"{center.live.url}/rights/{rid}")
    staff.get_by_label("回答の形式").select_option("pdf")
    with staff.expect_download():
        staff.get_by_role("button", name="対応して回答する").click()
    staff_context.close()
    # the answer letter goes by SMTP; once delivered the request is answered, and the person downloads it
    center.inbox.wait_for(customer_email, 2)
    for _ in range(100):
        page.reload()
        if "回答済み" in page.inner_text("main"):
            break
        time.sleep(0.2)
    assert "回答済み" in page.inner_text("main")
    axe_clean(page)
    with page.expect_download() as dl:
        page.get_by_role("link", name="PDF（書面）").click()
    saved = tmp_path / "answer.pdf"
    dl.value.save_as(saved)
    assert saved.read_bytes().startswith(b"%PDF")
    no_secret_in_urls(page, customer_email, code, customer_email.split("@")[0])


def _same(text: str, receipt: str, address: str) -> str:
    """A page or a mail with what differs by request blanked: the receipt number, dates and times, the code."""
    text = text.replace(receipt, "<R>").replace(address, "<ADDRESS>")
    text = re.sub(r"\d{4}年\d{1,2}月\d{1,2}日", "<DATE>", text)
    text = re.sub(r"\b\d{1,2}:\d{2}\b", "<TIME>", text)
    text = re.sub(r"\b[0-9a-f]{32}\b", "<ID>", text)
    return re.sub(r"\b\d{6}\b", "<CODE>", text)


def test_a_strangers_address_gets_the_same_pages_and_mails_without_data(
    person, chromium, center: Center, customer_email: str
):
    seen = {}
    for address in (customer_email, STRANGER):
        context = chromium.new_context(locale="ja-JP", timezone_id="Asia/Tokyo")
        page = context.new_page()
        before = len(center.inbox.to(address))
        receipt = file_request(page, center, address)
        done = page.inner_text("main")
        to_status(page)
        status = page.inner_text("main")
        code_mail = center.inbox.wait_for(address, before + 1)[before]
        enter_code(page, code_in(code_mail))
        page.wait_for_url(re.compile(r"/privacy/requests/[0-9a-f]{32}$"))
        after = page.inner_text("main")
        if address == STRANGER:
            assert "お預かりしていません" in after
            axe_clean(page)
        else:
            assert "連絡先" in after
        # the code, then the receipt notice once the address is proven: alike for everyone
        mails = center.inbox.wait_for(address, before + 2)[before:]
        seen[address] = (
            _same(done, receipt, address),
            _same(status, receipt, address),
            [
                (_same(str(m["Subject"]), receipt, address), _same(text_of(m), receipt, address))
                for m in mails
            ],
        )
        context.close()
    assert seen[customer_email] == seen[STRANGER]
    for _subject, body in seen[STRANGER][2]:
        assert "西村" not in body and "ニシムラ" not in body and "基本情報" not in body
    time.sleep(1.0)  # and nothing more goes to the stranger
    assert len(center.inbox.to(STRANGER)) == 2


def test_five_wrong_codes_lock_the_request(person, center: Center, customer_email: str):
    page = person
    file_request(page, center, customer_email)
    to_status(page)
    for left in (4, 3, 2, 1):
        enter_code(page, "000000")
        assert f"あと{left}回入力できます" in page.inner_text("main")
    enter_code(page, "000000")
    main = page.inner_text("main")
    assert "入力回数の上限" in main and "お問い合わせ窓口" in main
    assert page.get_by_label("確認コード（6桁）").count() == 0
    axe_clean(page)
    page.goto(page.url.removesuffix("/verify"))
    assert "入力回数の上限" in page.inner_text("main")
    no_secret_in_urls(page, customer_email)
