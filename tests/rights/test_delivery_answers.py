"""A request is never marked answered when its answer was not delivered (issue 18): the answer goes through the
kernel mail queue to a REAL SMTP server (aiosmtpd); while the server refuses (451, then 550) the request stays open
(status, board, API); a successful retry closes it at the delivery time; a final failure shows 回答未送達 and is
resent or recorded as posted; an answer with no e-mail waits for the privacy officer to record the posting. No
address or code is left in the SQLite file once the mail is delivered."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

import pytest
from sqlalchemy import select

from mamori.kernel.clock import today_jst
from mamori.kernel.errors import PolicyDenied, ValidationFailed
from mamori.kernel.mail import deliver_due
from mamori.rights import service
from mamori.rights.models import RightsRequest
from mamori.rights.schemas import RequestOpen
from mamori.rights.service import delivery
from tests.api.conftest import Api
from tests.factories import make_customer
from tests.rights.delivery_support import (
    A_EMAIL,
    code_in,
    data_file,
    mailbox_of,
    open_verified,
    parts,
    raw_bytes,
)
from tests.rights.notice_support import publish

API = "/api/v1"
TEMPORARY = "451 4.3.0 Mailbox temporarily unavailable"
PERMANENT = "550 5.1.1 No such user here"


@pytest.fixture
def mailbox(settings_factory, clock, backend):
    yield from mailbox_of(settings_factory, clock, backend)


@pytest.fixture
def api(mailbox):
    return Api(mailbox.rt)  # staff users with passwords and TOTP; no lifespan: mail goes right after commit


@pytest.fixture
def actors(api):
    from mamori.kernel.context import SYSTEM_ACTOR
    from mamori.staff import service as staff_service

    with api.rt.transaction(SYSTEM_ACTOR, readonly=True) as s:
        return {u: staff_service.actor_for(s, u) for u in ("po", "support", "sato", "admin")}


@pytest.fixture
def person(api, actors):
    return make_customer(api.rt, actors["po"], name="佐藤 花子", email=A_EMAIL, phone="090-1111-2222")


def _row(rt, rid) -> RightsRequest:
    with rt.transaction() as ctx:
        row = ctx.session.execute(select(RightsRequest).where(RightsRequest.id == rid)).scalar_one()
        ctx.session.expunge(row)
        return row


def _board_line(client, v) -> str:
    page = client.get("/rights").text
    at = page.index(f'href="/rights/{v.id}"')
    return page[at : page.index("</tr>", at)]


def test_refused_by_the_server_the_request_stays_open_until_a_retry_delivers_it(mailbox, api, actors, person):
    rt, handler = mailbox.rt, mailbox.handler
    rid = open_verified(mailbox, actors, "stop_use", A_EMAIL)
    handler.rcpt_reply = TEMPORARY
    with rt.transaction(actors["po"]) as ctx:
        service.fulfil(ctx, rid)
    # a temporary refusal: retried later; the request is answered but NOT closed
    row = _row(rt, rid)
    assert row.status == "verified" and row.answer_state == "sending" and row.closed_at is None
    po, _ = api.client("po")
    assert po.get(f"{API}/rights/{rid}").json()["status"] == "verified"
    with rt.transaction(actors["po"]) as ctx:
        v = service.show(ctx, rid)
    line = _board_line(po, v)
    assert "回答送信中" in line and "overdue" not in line  # open, waiting for delivery
    assert [e.event for e in v.events][-1] == "fulfilled"
    # the server answers again with a temporary refusal at the next attempt: still open
    rt.clock.advance(timedelta(minutes=2))
    report = deliver_due(rt)
    assert report.retried == 1 and _row(rt, rid).status == "verified"
    # then it accepts: delivered, and the request closes at the delivery time
    handler.rcpt_reply = None
    rt.clock.advance(timedelta(minutes=5))
    delivered_at = rt.clock.now()
    assert deliver_due(rt).sent == 1
    row = _row(rt, rid)
    assert row.status == "closed" and row.answer_state == "delivered" and row.closed_at == delivered_at
    assert po.get(f"{API}/rights/{rid}").json()["status"] == "closed"
    with rt.transaction(actors["po"]) as ctx:
        events = service.show(ctx, rid).events
    assert [e.event for e in events][-2:] == ["fulfilled", "answered"]
    assert events[-1].details["delivery"] == "email"
    assert "利用を、すべての利用目的について停止" in parts(handler.received[-1]).text


def test_a_permanent_refusal_shows_undelivered_in_red_then_resend_closes_it(mailbox, api, actors, person):
    rt, handler = mailbox.rt, mailbox.handler
    rid = open_verified(mailbox, actors, "stop_use", A_EMAIL)
    handler.rcpt_reply = TEMPORARY
    with rt.transaction(actors["po"]) as ctx:
        service.fulfil(ctx, rid)
    handler.rcpt_reply = PERMANENT  # 451, then 550: finally failed
    rt.clock.advance(timedelta(minutes=2))
    assert deliver_due(rt).failed == 1
    row = _row(rt, rid)
    assert row.status == "verified" and row.answer_state == "undelivered"
    po, csrf = api.client("po")
    assert po.get(f"{API}/rights/{rid}").json()["status"] == "verified"
    with rt.transaction(actors["po"]) as ctx:
        v = service.show(ctx, rid)
    assert [e.event for e in v.events][-1] == "answer_undelivered"
    line = _board_line(po, v)
    assert 'class="answer-state overdue"' in line and "回答未送達" in line
    page = po.get(f"/rights/{rid}").text
    assert 'id="answer-state" class="overdue"' in page and "回答未送達" in page
    assert f'action="/rights/{rid}/resend"' in page and f'action="/rights/{rid}/posted"' in page
    assert f'action="/rights/{rid}/fulfil"' not in page  # answered: only the delivery actions remain
    # staff cannot fulfil it a second time
    with pytest.raises(PolicyDenied) as again, rt.transaction(actors["po"]) as ctx:
        service.fulfil(ctx, rid)
    assert again.value.code == "request_answered"
    # resend from the page: a NEW message, delivered, and the request closes
    handler.rcpt_reply = None
    before = len(handler.received)
    r = po.post(f"/rights/{rid}/resend", data={"csrf": csrf})
    assert r.status_code == 200 and "もう一度送りました" in r.text
    assert len(handler.received) == before + 1
    row = _row(rt, rid)
    assert row.status == "closed" and row.answer_state == "delivered"
    with rt.transaction(actors["po"]) as ctx:
        assert [e.event for e in service.show(ctx, rid).events][-3:] == [
            "answer_undelivered",
            "answer_resent",
            "answered",
        ]


def test_undelivered_can_be_recorded_as_posted(mailbox, api, actors, person):
    rt, handler = mailbox.rt, mailbox.handler
    rid = open_verified(mailbox, actors, "stop_use", A_EMAIL)
    handler.rcpt_reply = PERMANENT
    with rt.transaction(actors["po"]) as ctx:
        service.fulfil(ctx, rid)
    assert _row(rt, rid).answer_state == "undelivered"
    po, csrf = api.client("po")
    # a bad date: nothing changes
    tomorrow = (today_jst(rt.clock) + timedelta(days=1)).isoformat()
    r = po.post(f"/rights/{rid}/posted", data={"csrf": csrf, "posted_on": tomorrow})
    assert r.status_code == 422 and _row(rt, rid).status == "verified"
    r = po.post(f"/rights/{rid}/posted", data={"csrf": csrf, "posted_on": "not a date"})
    assert r.status_code == 422 and _row(rt, rid).status == "verified"
    # no CSRF token: refused, nothing changed
    r = po.post(f"/rights/{rid}/posted", data={"posted_on": today_jst(rt.clock).isoformat()})
    assert r.status_code == 403 and _row(rt, rid).status == "verified"
    today = today_jst(rt.clock).isoformat()
    r = po.post(f"/rights/{rid}/posted", data={"csrf": csrf, "posted_on": today})
    assert r.status_code == 200, r.text
    row = _row(rt, rid)
    assert row.status == "closed" and row.answer_state == "posted"
    with rt.transaction(actors["po"]) as ctx:
        last = service.show(ctx, rid).events[-1]
    assert last.event == "answered" and last.details == {
        "delivery": "post",
        "posted_on": today,
        "outcome": "fulfilled",
    }
    from mamori.kernel import labels

    log = po.get(f"/rights/{rid}").text  # the handling log says it in words
    assert "送付: 郵送" in log and f"郵送した日: {labels.fmt_date(today_jst(rt.clock), 'ja')}" in log
    with pytest.raises(PolicyDenied) as twice, rt.transaction(actors["po"]) as ctx:
        delivery.record_posted(ctx, rid, today_jst(ctx.clock))
    assert twice.value.code == "no_answer_waiting"


def test_no_email_on_file_the_answer_waits_for_the_posting_to_be_recorded(mailbox, api, actors, person):
    rt = mailbox.rt
    with rt.transaction(actors["support"]) as ctx:
        v = service.open_request(
            ctx, RequestOpen(kind="stop_use", channel="letter", phones=["090-1111-2222"])
        )
    with rt.transaction(actors["support"]) as ctx:
        service.verify_callback(ctx, v.id, v.identifiers[0].id)
    sent = len(mailbox.all())
    with rt.transaction(actors["po"]) as ctx:
        service.fulfil(ctx, v.id)
    assert len(mailbox.all()) == sent  # nothing to e-mail
    row = _row(rt, v.id)
    assert row.status == "verified" and row.answer_state == "posting"
    po, _ = api.client("po")
    with rt.transaction(actors["po"]) as ctx:
        view = service.show(ctx, v.id)
    assert "回答の郵送待ち" in _board_line(po, view)
    with rt.transaction(actors["po"]) as ctx:
        delivery.record_posted(ctx, v.id, today_jst(ctx.clock))
    assert _row(rt, v.id).status == "closed"


def test_only_the_privacy_officer_resends_or_records_a_posting(mailbox, api, actors, person):
    rt, handler = mailbox.rt, mailbox.handler
    rid = open_verified(mailbox, actors, "stop_use", A_EMAIL)
    handler.rcpt_reply = PERMANENT
    with rt.transaction(actors["po"]) as ctx:
        service.fulfil(ctx, rid)
    handler.rcpt_reply = None
    sent = len(handler.received)
    for who in ("support", "sato", "admin"):
        with pytest.raises(PolicyDenied) as refused, rt.transaction(actors[who]) as ctx:
            delivery.resend(ctx, rid)
        assert refused.value.rule_id == "R-23-2"
        with pytest.raises(PolicyDenied), rt.transaction(actors[who]) as ctx:
            delivery.record_posted(ctx, rid, today_jst(ctx.clock))
    support, csrf = api.client("support")
    for path, data in (("resend", {}), ("posted", {"posted_on": today_jst(rt.clock).isoformat()})):
        r = support.post(f"/rights/{rid}/{path}", data={"csrf": csrf, **data})
        assert r.status_code == 403
    assert len(handler.received) == sent and _row(rt, rid).answer_state == "undelivered"
    # resend is only for an undelivered answer
    with rt.transaction(actors["po"]) as ctx:
        delivery.record_posted(ctx, rid, today_jst(ctx.clock))
    with pytest.raises(PolicyDenied), rt.transaction(actors["po"]) as ctx:
        delivery.resend(ctx, rid)


def test_no_address_or_code_in_the_sqlite_file_once_delivered(mailbox, actors, person):
    rt = mailbox.rt
    rid = open_verified(mailbox, actors, "stop_use", A_EMAIL)
    code = code_in(parts(mailbox.all()[0]))
    with rt.transaction(actors["po"]) as ctx:
        service.fulfil(ctx, rid)
    mailbox.wait(3)
    assert _row(rt, rid).status == "closed"
    # the queue keeps the record only: read from outside the process
    con = sqlite3.connect(data_file(rt))
    try:
        rows = con.execute(
            "SELECT topic, status, to_enc, subject_enc, text_enc, html_enc FROM mail_queue ORDER BY created_at"
        ).fetchall()
        stored = con.execute("SELECT answer_enc FROM rights_requests WHERE id = ?", (rid,)).fetchone()
    finally:
        con.close()
    assert [r[:2] for r in rows] == [
        ("rights.code", "sent"),
        ("rights.received", "sent"),
        ("rights.answer", "sent"),
    ]
    assert all(r[2:] == (None, None, None, None) for r in rows)
    assert stored == (None,)
    raw = raw_bytes(rt)
    for needle in (
        A_EMAIL,
        "hanako.sato",
        f"確認コード: {code}",
        "本人確認コードのお知らせ",
        "利用を、すべての利用目的",
    ):
        assert needle.encode() not in raw, needle
    # the scan finds what is there: the receipt number is stored in clear on purpose
    with rt.transaction(actors["po"]) as ctx:
        assert service.show(ctx, rid).receipt_no.encode() in raw


def test_while_queued_the_message_is_sealed_not_plaintext(mailbox, actors, person):
    rt, handler = mailbox.rt, mailbox.handler
    rid = open_verified(mailbox, actors, "stop_use", A_EMAIL)
    handler.rcpt_reply = TEMPORARY
    with rt.transaction(actors["po"]) as ctx:
        service.fulfil(ctx, rid)
    raw = raw_bytes(rt)
    assert A_EMAIL.encode() not in raw and "利用を、すべての利用目的".encode() not in raw
    con = sqlite3.connect(data_file(rt))
    try:
        (to_enc,) = con.execute("SELECT to_enc FROM mail_queue WHERE topic = 'rights.answer'").fetchone()
        (answer_enc,) = con.execute("SELECT answer_enc FROM rights_requests WHERE id = ?", (rid,)).fetchone()
    finally:
        con.close()
    assert to_enc is not None and answer_enc is not None  # kept sealed for the retry and a resend


def test_a_web_disclosure_is_downloadable_from_the_answer_not_the_delivery(mailbox, api, actors, person):
    """The package window runs from the answer: a late or failed notice does not shift or block it."""
    rt, handler = mailbox.rt, mailbox.handler
    version = publish(rt)
    public, _ = api.client()
    r = public.post(
        f"{API}/privacy-requests", json={"kind": "disclosure", "email": A_EMAIL, "notice_version": version}
    )
    assert r.status_code in (200, 201, 202), r.text
    rid, token = r.json()["request_id"], r.json()["token"]
    hdr = {"Mamori-Request-Token": token}
    code = code_in(mailbox.last(A_EMAIL))
    assert (
        public.post(f"{API}/privacy-requests/{rid}/verify", headers=hdr, json={"code": code}).status_code
        == 200
    )
    received = mailbox.last(A_EMAIL)
    assert "受付のお知らせ" in received.subject
    assert f"http://127.0.0.1:8000/privacy/requests/{rid}" in received.text  # the opaque id, never the token
    assert token not in received.text and token not in received.html
    handler.rcpt_reply = PERMANENT
    with rt.transaction(actors["po"]) as ctx:
        service.fulfil(ctx, rid)
    row = _row(rt, rid)
    assert row.answer_state == "undelivered" and row.status == "verified" and row.answered_at is not None
    # the package is there all the same, for 30 days from the answer
    got = public.get(f"{API}/privacy-requests/{rid}/package", headers=hdr)
    assert got.status_code == 200, got.text
    rt.clock.advance(timedelta(days=31))
    late = public.get(f"{API}/privacy-requests/{rid}/package", headers=hdr)
    assert late.status_code == 403 and late.json()["code"] == "package_expired"


def test_the_disclosure_answer_mail_says_where_and_until_when(mailbox, api, actors, person):
    rt = mailbox.rt
    version = publish(rt)
    public, _ = api.client()
    r = public.post(
        f"{API}/privacy-requests", json={"kind": "disclosure", "email": A_EMAIL, "notice_version": version}
    )
    rid, token = r.json()["request_id"], r.json()["token"]
    code = code_in(mailbox.last(A_EMAIL))
    public.post(
        f"{API}/privacy-requests/{rid}/verify", headers={"Mamori-Request-Token": token}, json={"code": code}
    )
    with rt.transaction(actors["po"]) as ctx:
        service.fulfil(ctx, rid)
        until = delivery.download_until(ctx.session.get(RightsRequest, rid))
    answer = mailbox.last(A_EMAIL)
    assert "ご請求への対応のお知らせ" in answer.subject
    from mamori.kernel import labels

    line = f"{labels.fmt_date(until, 'ja')}まで、次のページからダウンロードいただけます"
    assert line in answer.text and line in answer.html
    assert f'href="http://127.0.0.1:8000/privacy/requests/{rid}"' in answer.html
    assert _row(rt, rid).status == "closed"


def test_bad_input_to_the_delivery_actions(mailbox, actors, person):
    rt = mailbox.rt
    rid = open_verified(mailbox, actors, "stop_use", A_EMAIL)
    with pytest.raises(PolicyDenied) as none_waiting, rt.transaction(actors["po"]) as ctx:
        delivery.resend(ctx, rid)  # not answered yet
    assert none_waiting.value.code == "no_answer_waiting"
    mailbox.handler.rcpt_reply = PERMANENT
    with rt.transaction(actors["po"]) as ctx:
        service.fulfil(ctx, rid)
    with pytest.raises(ValidationFailed) as early, rt.transaction(actors["po"]) as ctx:
        delivery.record_posted(ctx, rid, today_jst(ctx.clock) - timedelta(days=400))
    assert early.value.code == "bad_posted_on"
