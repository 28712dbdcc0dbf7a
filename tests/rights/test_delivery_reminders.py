"""Reminders to staff of requests due within 3 days (issue 18): one digest to settings.reminder_to listing exactly
the open requests due within 3 days (JST; overdue included), at most once per request per day, with no personal
data; `mamori rights remind`; the hourly job; refused to other roles."""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import update
from typer.testing import CliRunner

from mamori.kernel.clock import JST, today_jst
from mamori.kernel.errors import PolicyDenied
from mamori.kernel.mail import queue as mail_queue
from mamori.rights import service
from mamori.rights.models import RightsRequest
from mamori.rights.schemas import RequestOpen
from mamori.rights.service import delivery
from tests.factories import make_customer, seed_basics
from tests.rights.delivery_support import (
    A_EMAIL,
    mailbox_of,
    parts,
)

STAFF = "privacy-team@example.co.jp"
BOSS = "dpo@example.co.jp"


@pytest.fixture
def mailbox(settings_factory, clock, backend):
    yield from mailbox_of(settings_factory, clock, backend)


@pytest.fixture
def actors(mailbox):
    return seed_basics(mailbox.rt)


def _open(rt, actors, due: date, kind: str = "disclosure", phone: str = "090-1234-5678") -> RightsRequest:
    """A request taken by staff (a phone number only: nothing goes to the person), its due date set."""
    with rt.transaction(actors["support"]) as ctx:
        v = service.open_request(ctx, RequestOpen(kind=kind, channel="letter", phones=[phone]))
        ctx.session.execute(update(RightsRequest).where(RightsRequest.id == v.id).values(due_on=due))
    return v


def _set_reminder_to(rt, value: str | None) -> None:
    object.__setattr__(rt.settings, "reminder_to", value)


def test_one_digest_lists_exactly_the_requests_due_within_3_days_and_only_once_a_day(mailbox, actors):
    rt, handler = mailbox.rt, mailbox.handler
    _set_reminder_to(rt, f"{STAFF}, {BOSS}")
    make_customer(rt, actors["po"], name="佐藤 花子", email=A_EMAIL, phone="090-1234-5678")
    today = today_jst(rt.clock)
    overdue = _open(rt, actors, today - timedelta(days=1))
    due_today = _open(rt, actors, today)
    in_3 = _open(rt, actors, today + timedelta(days=3), kind="erasure")
    in_4 = _open(rt, actors, today + timedelta(days=4))
    closed = _open(rt, actors, today + timedelta(days=1))
    with rt.transaction(actors["po"]) as ctx:
        ctx.session.execute(
            update(RightsRequest).where(RightsRequest.id == closed.id).values(status="closed")
        )
    with rt.transaction(actors["po"]) as ctx:
        result = delivery.remind_due(ctx)
    listed = {overdue.receipt_no, due_today.receipt_no, in_3.receipt_no}
    assert set(result.receipt_nos) == listed and result.due == 3 and result.sent == 2
    got = handler.wait(2)
    assert sorted(r.rcpt_tos[0] for r in got) == sorted([STAFF, BOSS])
    assert all(len(r.rcpt_tos) == 1 for r in got)  # one message per address: nobody sees the others
    digest = parts(got[0])
    assert digest.subject.endswith("期限が3日以内の請求（3件）")
    for text in (digest.text, digest.html):
        for rn in listed:
            assert rn in text
        assert in_4.receipt_no not in text and closed.receipt_no not in text
        assert "1日超過" in text and "本日が期限" in text and "残り3日" in text
        assert "消去" in text  # the kind in words
        assert "佐藤" not in text and A_EMAIL not in text and "1234-5678" not in text  # no personal data
        for v in (overdue, due_today, in_3):
            assert v.id not in text  # no internal id either
    # again the same day: nothing new to say
    with rt.transaction(actors["po"]) as ctx:
        again = delivery.remind_due(ctx)
    assert again.sent == 0 and again.receipt_nos == [] and again.due == 3
    assert len(handler.received) == 2
    # a request falling due meanwhile is reminded alone
    rt.clock.advance(timedelta(hours=1))
    soon = _open(rt, actors, today + timedelta(days=2))
    with rt.transaction(actors["po"]) as ctx:
        assert delivery.remind_due(ctx).receipt_nos == [soon.receipt_no]
    # the next day (JST), the open ones are reminded again — the one now 4 → 3 days away included
    tomorrow = datetime(today.year, today.month, today.day, 9, 0, tzinfo=JST) + timedelta(days=1)
    rt.clock.advance(tomorrow - rt.clock.now())
    with rt.transaction(actors["po"]) as ctx:
        next_day = delivery.remind_due(ctx)
    assert set(next_day.receipt_nos) == listed | {soon.receipt_no, in_4.receipt_no}
    with rt.transaction(actors["po"]) as ctx:
        events = [e.event for e in service.show(ctx, overdue.id).events]
    assert events.count("reminded") == 2


def test_the_reminder_is_in_english_when_the_installation_is(mailbox, actors):
    rt, handler = mailbox.rt, mailbox.handler
    _set_reminder_to(rt, STAFF)
    object.__setattr__(rt.settings, "lang", "en")
    v = _open(rt, actors, today_jst(rt.clock) + timedelta(days=1))
    with rt.transaction(actors["po"]) as ctx:
        delivery.remind_due(ctx)
    digest = parts(handler.wait(1)[0])
    assert digest.subject.endswith("Requests due within 3 days (1)")
    assert v.receipt_no in digest.text and "1 day(s) left" in digest.text and "1 day(s) left" in digest.html


def test_without_reminder_to_nothing_is_sent_and_the_job_does_nothing(mailbox, actors, caplog):
    rt, handler = mailbox.rt, mailbox.handler
    _set_reminder_to(rt, None)
    _open(rt, actors, today_jst(rt.clock))
    with rt.transaction(actors["po"]) as ctx:
        result = delivery.remind_due(ctx)
    assert not result.configured and result.sent == 0 and result.due == 1
    delivery._unconfigured_logged = False
    with caplog.at_level("INFO", logger="mamori.rights"):
        assert delivery.remind_job(rt) is None
        assert delivery.remind_job(rt) is None
    said = [r.getMessage() for r in caplog.records if r.name == "mamori.rights"]
    assert len(said) == 1 and "reminder_to" in said[0]  # logged once, no personal data
    assert handler.received == []


def test_the_hourly_job_is_registered_and_sends_through_the_periodic_runner(mailbox, actors):
    rt, handler = mailbox.rt, mailbox.handler
    assert delivery.REMIND_JOB in mail_queue.periodic_jobs()
    assert mail_queue._jobs[delivery.REMIND_JOB].every_seconds == 3600
    _set_reminder_to(rt, STAFF)
    v = _open(rt, actors, today_jst(rt.clock))
    assert delivery.REMIND_JOB in mail_queue.run_periodic(rt)
    mail_queue.deliver_due(rt)
    assert v.receipt_no in parts(handler.wait(1)[0]).text
    # within the hour: not run again
    rt.clock.advance(timedelta(minutes=30))
    assert delivery.REMIND_JOB not in mail_queue.run_periodic(rt)


def test_other_roles_are_refused(mailbox, actors):
    rt = mailbox.rt
    _set_reminder_to(rt, STAFF)
    _open(rt, actors, today_jst(rt.clock))
    for who in ("support", "sato", "admin", "analyst"):
        with pytest.raises(PolicyDenied) as refused, rt.transaction(actors[who]) as ctx:
            delivery.remind_due(ctx)
        assert refused.value.rule_id == "R-23-2"
    assert mailbox.handler.received == []


# -- the command -------------------------------------------------------------------------------------------------


@pytest.fixture
def cli(tmp_path, monkeypatch):
    import base64
    import secrets

    from mamori.cli.main import app
    from mamori.kernel.settings import reset_settings_cache

    monkeypatch.setenv("MAMORI_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("MAMORI_KEK", base64.b64encode(secrets.token_bytes(32)).decode())
    for k in ("MAMORI_DATABASE_URL", "MAMORI_KEYSTORE_URL", "MAMORI_AUDIT_URL", "MAMORI_AS", "MAMORI_LANG"):
        monkeypatch.delenv(k, raising=False)
    monkeypatch.delenv("MAMORI_REMINDER_TO", raising=False)
    reset_settings_cache()
    runner = CliRunner()

    def run(*args: str, env: dict[str, str] | None = None):
        if env:
            for k, val in env.items():
                monkeypatch.setenv(k, val)
            reset_settings_cache()
        return runner.invoke(app, list(args), catch_exceptions=False)

    assert run("init").exit_code == 0
    assert run("demo", "--customers", "3").exit_code == 0
    yield run
    reset_settings_cache()


def test_mamori_rights_remind(cli):
    # no address set: one line, exit 1
    r = cli("--as", "hoshino", "rights", "remind")
    assert r.exit_code == 1
    assert len([ln for ln in r.output.splitlines() if ln.strip()]) == 1 and "MAMORI_REMINDER_TO" in r.output
    # a phone request due in 3 days (the demo's requests are older or later)
    opened = json.loads(
        cli("--as", "hoshino", "rights", "open", "disclosure", "--phone", "090-1234-5678", "--json").stdout
    )
    from mamori.kernel.runtime import open_runtime
    from mamori.kernel.settings import get_settings

    rt = open_runtime(get_settings())
    try:
        with rt.transaction() as ctx:
            tomorrow = today_jst(ctx.clock) + timedelta(days=1)
            ctx.session.execute(
                update(RightsRequest).where(RightsRequest.id == opened["id"]).values(due_on=tomorrow)
            )
    finally:
        rt.close()
    listed = json.loads(cli("--as", "hoshino", "rights", "list", "--json").stdout)
    due_soon = sorted(v["receipt_no"] for v in listed if v["days_left"] <= 3)
    r = cli("--as", "hoshino", "rights", "remind", "--json", env={"MAMORI_REMINDER_TO": STAFF})
    assert r.exit_code == 0, r.output
    got = json.loads(r.stdout)
    assert got["configured"] and sorted(got["receipt_nos"]) == due_soon and got["recipients"] == 1
    assert opened["receipt_no"] in got["receipt_nos"] and got["sent"] == 1
    # the words, and nothing twice in a day
    again = cli("--as", "hoshino", "rights", "remind")
    assert again.exit_code == 0 and "今回知らせた請求: 0件" in again.stdout and "送信: 0通" in again.stdout
    # another role is refused
    refused = cli("--as", "takahashi", "rights", "remind")
    assert refused.exit_code != 0 and "R-23-2" in refused.output
    assert re.search(r"R-\d{4}-\d{6}", again.stdout) is None
