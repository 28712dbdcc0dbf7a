"""The mail queue against a REAL SMTP server (aiosmtpd): retries with back-off on the clock (never a sleep),
permanent refusals, no double send by two concurrent workers, the hooks, erasure, the periodic jobs, the worker,
and nothing in plaintext in the SQLite file (issue 18)."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from mamori.kernel.context import ActorKind
from mamori.kernel.errors import PolicyDenied
from mamori.kernel.mail import Mail, deliver_due, enqueue, forget, register_delivery_hooks, run_periodic
from mamori.kernel.mail import queue as mail_queue
from mamori.kernel.mail.models import MailMessage
from tests.kernel.mail_support import Recorder, free_port, smtp_server
from tests.kernel.test_mail_delivery import HTML, SUBJECT, TEXT, _row

ADDRESS = "hanako.yamada@example.jp"
CODE = "731904"


@pytest.fixture
def hooks():
    """Delivered / failed hooks of the topic ``test.hooked`` recording (actor kind, ref, message id)."""
    calls: dict[str, list[tuple[str, str, str]]] = {"delivered": [], "failed": []}

    def delivered(ctx, ref, message_id):
        calls["delivered"].append((ctx.actor.kind.value, ref, message_id))

    def failed(ctx, ref, message_id):
        calls["failed"].append((ctx.actor.kind.value, ref, message_id))

    register_delivery_hooks("test.hooked", delivered=delivered, failed=failed)
    yield calls
    mail_queue._hooks.pop("test.hooked", None)


def _mail(**kw) -> Mail:
    values = dict(
        to=ADDRESS, subject=SUBJECT, text=TEXT + f"確認コード: {CODE}\n", html=HTML, topic="test.hooked"
    )
    values.update(kw)
    return Mail(**values)  # type: ignore[arg-type]


def _actions(rt, prefix: str = "mail.") -> list[tuple[str, dict]]:
    rt.drain_outbox()
    return [(e.action, dict(e.details)) for e in rt.audit.entries(limit=1000) if e.action.startswith(prefix)]


def test_a_temporary_failure_is_retried_with_doubling_back_off_then_fails(smtp_rt, hooks):
    handler = Recorder(data_reply="451 4.3.0 Mailbox temporarily unavailable for hanako.yamada@example.jp")
    with smtp_server(handler) as port:
        rt = smtp_rt(port, mail_retry_seconds=60, mail_max_attempts=3)
        t0 = rt.clock.now()
        with rt.transaction() as ctx:
            mid = enqueue(ctx, _mail(ref="req-1", subject_ids=("cust-1",)))
        row = _row(rt, mid)  # the first attempt ran right after the commit
        assert (row.status, row.attempts, row.last_error) == ("pending", 1, "smtp_4xx")
        assert row.next_attempt_at == t0 + timedelta(seconds=60)
        assert deliver_due(rt, now=t0 + timedelta(seconds=59)).retried == 0  # not due yet
        assert _row(rt, mid).attempts == 1
        report = deliver_due(rt, now=t0 + timedelta(seconds=60))
        assert (report.retried, report.errors) == (1, {"smtp_4xx": 1})
        row = _row(rt, mid)
        assert row.attempts == 2 and row.next_attempt_at == t0 + timedelta(seconds=60 + 120)
        assert hooks["failed"] == []
        report = deliver_due(rt, now=t0 + timedelta(seconds=180))
        assert report.failed == 1
    row = _row(rt, mid)
    assert (row.status, row.attempts, row.last_error) == ("failed", 3, "smtp_4xx")
    assert row.to_enc is not None  # kept FAILED_KEEP_DAYS so staff can put it back
    assert handler.received == []
    assert hooks["failed"] == [("system", "req-1", mid)] and hooks["delivered"] == []
    audited = _actions(rt)
    assert [a for a, _ in audited] == ["mail.retry", "mail.retry", "mail.failed"]
    assert audited[-1][1] == {
        "message_id": mid,
        "topic": "test.hooked",
        "attempts": 3,
        "error": "smtp_4xx",
        "outbox_id": audited[-1][1]["outbox_id"],
    }
    entries = [e for e in rt.audit.entries(limit=1000) if e.action.startswith("mail.")]
    assert all(e.subject_ids == ("cust-1",) for e in entries)
    assert not any(ADDRESS in repr(e) or "Mailbox" in repr(e) for e in entries)  # no address, no server text
    # after 30 days the failed message's content is erased
    assert deliver_due(rt, now=t0 + timedelta(days=31)).expired == 1
    assert _row(rt, mid).to_enc is None


def test_a_5xx_refusal_fails_at_once_and_calls_the_failed_hook_once(smtp_rt, hooks):
    handler = Recorder(rcpt_reply="550 5.1.1 <hanako.yamada@example.jp>: user unknown")
    with smtp_server(handler) as port:
        rt = smtp_rt(port, mail_max_attempts=6)
        with rt.transaction() as ctx:
            mid = enqueue(ctx, _mail(ref="req-2"))
        report = deliver_due(rt, now=rt.clock.now() + timedelta(days=1))
    row = _row(rt, mid)
    assert (row.status, row.attempts, row.last_error) == ("failed", 1, "smtp_5xx")
    assert report.sent == report.retried == report.failed == 0  # nothing left to do
    assert hooks["failed"] == [("system", "req-2", mid)]
    assert [a for a, _ in _actions(rt)] == ["mail.failed"]


def test_a_5xx_data_refusal_is_permanent_too(smtp_rt):
    handler = Recorder(data_reply="554 5.6.0 Message rejected")
    with smtp_server(handler) as port:
        rt = smtp_rt(port)
        with rt.transaction() as ctx:
            mid = enqueue(ctx, _mail(topic="test.plain"))
    assert (_row(rt, mid).status, _row(rt, mid).last_error) == ("failed", "smtp_5xx")


def test_no_server_is_a_connect_error_and_the_caller_never_sees_it(smtp_rt):
    rt = smtp_rt(free_port())  # nothing listens there
    with rt.transaction() as ctx:
        mid = enqueue(ctx, _mail(topic="test.plain"))  # the commit succeeds whatever the delivery does
    row = _row(rt, mid)
    assert (row.status, row.attempts, row.last_error) == ("pending", 1, "connect")


def test_delivery_calls_the_delivered_hook_in_a_system_transaction_and_retry_puts_a_failure_back(
    smtp_rt, hooks
):
    handler = Recorder(rcpt_reply="550 5.7.1 relay denied")
    with smtp_server(handler) as port:
        rt = smtp_rt(port)
        with rt.transaction() as ctx:
            mid = enqueue(ctx, _mail(ref="req-3"))
        assert _row(rt, mid).status == "failed"
        handler.rcpt_reply = None  # the operator fixed the relay
        with pytest.raises(PolicyDenied), rt.transaction(_staff(rt, "sales")) as ctx:
            mail_queue.retry(ctx, mid)  # sales holds no MAIL_MANAGE grant
        assert _row(rt, mid).status == "failed"
        admin = _staff(rt, "admin")
        with rt.transaction(admin) as ctx:
            mail_queue.retry(ctx, mid)
        got = handler.wait(1)
    assert got[0].rcpt_tos == [ADDRESS]
    row = _row(rt, mid)
    assert row.status == "sent" and row.to_enc is None
    assert hooks["delivered"] == [("system", "req-3", mid)] and len(hooks["failed"]) == 1
    # the sales refusal is audited as a denial of mail.manage (R-23-2)
    assert [a for a, _ in _actions(rt)] == ["mail.failed", "mail.manage", "mail.requeued", "mail.sent"]
    assert [e.decision for e in rt.audit.entries(limit=1000) if e.action == "mail.manage"] == ["deny"]
    # a sent message cannot be retried; its content is gone
    with pytest.raises(Exception) as err, rt.transaction(admin) as ctx:
        mail_queue.retry(ctx, mid)
    assert getattr(err.value, "code", "") == "mail_not_failed"


def _staff(rt, role: str):
    from mamori.kernel.context import Actor, Role

    return Actor(kind=ActorKind.STAFF, id=f"staff-{role}", name=role, role=Role(role))


def test_a_failing_hook_runs_again_at_the_next_pass(smtp_rt):
    calls: list[str] = []

    def delivered(ctx, ref, message_id):
        calls.append(message_id)
        if len(calls) == 1:
            raise RuntimeError("the hook's own work failed")

    register_delivery_hooks("test.flaky", delivered=delivered)
    try:
        handler = Recorder()
        with smtp_server(handler) as port:
            rt = smtp_rt(port)
            with rt.transaction() as ctx:
                mid = enqueue(ctx, _mail(topic="test.flaky"))
            assert calls == [mid] and _row(rt, mid).hook_pending is True
            assert deliver_due(rt).hooks == 1
            assert deliver_due(rt).hooks == 0
        assert calls == [mid, mid] and _row(rt, mid).hook_pending is False
        assert len(handler.received) == 1
    finally:
        mail_queue._hooks.pop("test.flaky", None)


def test_two_concurrent_workers_never_send_one_message_twice(smtp_rt, settings_factory):
    """Two runtimes (as two server processes) on one store run deliver_due at the same time over 12 due messages;
    the SMTP server is slow, so their passes overlap. Each message arrives exactly once."""
    from mamori.kernel.runtime import Runtime

    handler = Recorder(delay=0.05)
    with smtp_server(handler) as port:
        rt = smtp_rt(free_port())  # first attempts find no server: the messages stay due later
        t0 = rt.clock.now()
        ids = []
        with rt.transaction() as ctx:
            for i in range(12):
                ids.append(enqueue(ctx, _mail(to=f"person{i}@example.jp", topic="test.plain")))
        assert {_row(rt, m).last_error for m in ids} == {"connect"}
        settings = rt.settings.model_copy(update={"smtp_port": port})
        a = Runtime(settings, clock=rt.clock)
        b = Runtime(settings, clock=rt.clock)
        reports = []
        barrier = threading.Barrier(2)

        def run(r):
            barrier.wait()
            reports.append(deliver_due(r, now=t0 + timedelta(minutes=5)))

        threads = [threading.Thread(target=run, args=(r,)) for r in (a, b)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        got = handler.wait(12)
        a.close()
        b.close()
    recipients = sorted(r.rcpt_tos[0] for r in got)
    assert recipients == sorted(f"person{i}@example.jp" for i in range(12))  # each once, none twice
    assert sum(r.sent for r in reports) == 12
    assert all(_row(rt, m).status == "sent" for m in ids)


def _store_bytes(rt) -> bytes:
    path = Path(rt.data_engine.url.database)
    return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())


def test_nothing_is_in_plaintext_in_the_database_file(smtp_rt, backend):
    if backend != "sqlite":
        pytest.skip("reads the SQLite file")
    handler = Recorder(data_reply="451 4.3.0 later")
    with smtp_server(handler) as port:
        rt = smtp_rt(port)
        with rt.transaction() as ctx:
            mid = enqueue(ctx, _mail(topic="test.plain"))
        assert _row(rt, mid).status == "pending" and _row(rt, mid).to_enc is not None  # queued, sealed
        raw = _store_bytes(rt)
        assert mid.encode() in raw  # the row is there: the search below looks at the right file
        for secret in (ADDRESS, SUBJECT, CODE, "山田 太郎", "privacy@example"):
            assert secret.encode("utf-8") not in raw, secret
        handler.data_reply = None
        deliver_due(rt, now=rt.clock.now() + timedelta(hours=1))
        assert handler.wait(1)[0].rcpt_tos == [ADDRESS]
    raw = _store_bytes(rt)
    for secret in (ADDRESS, SUBJECT, CODE):
        assert secret.encode("utf-8") not in raw, secret


def test_forget_drops_the_content_concerning_the_person_but_keeps_keep(smtp_rt):
    handler = Recorder(data_reply="451 4.3.0 later")
    with smtp_server(handler) as port:
        rt = smtp_rt(port)
        with rt.transaction() as ctx:
            by_subject = enqueue(ctx, _mail(topic="test.plain", subject_ids=("cust-9",)))
            by_request = enqueue(ctx, _mail(topic="test.plain", request_id="req-9"))
            other = enqueue(ctx, _mail(to="someone@example.jp", topic="test.plain", subject_ids=("cust-1",)))
        with rt.transaction() as ctx:
            kept = enqueue(ctx, _mail(topic="test.plain", request_id="req-9", subject_ids=("cust-9",)))
            assert forget(ctx, subject_ids=["cust-9"], request_ids=["req-9"], keep=[kept]) == 2
        for mid in (by_subject, by_request):
            row = _row(rt, mid)
            assert (row.status, row.last_error) == ("failed", "erased")
            assert (row.to_enc, row.subject_enc, row.text_enc, row.html_enc) == (None, None, None, None)
        assert _row(rt, kept).to_enc is not None and _row(rt, other).to_enc is not None
        handler.data_reply = None
        report = deliver_due(rt, now=rt.clock.now() + timedelta(hours=1))
        got = handler.wait(2)
    assert report.sent == 2 and sorted(r.rcpt_tos[0] for r in got) == sorted([ADDRESS, "someone@example.jp"])
    assert _row(rt, kept).status == "sent"
    admin = _staff(rt, "admin")
    with rt.transaction(admin) as ctx, pytest.raises(Exception) as err:
        mail_queue.retry(ctx, by_subject)
    assert getattr(err.value, "code", "") == "mail_content_erased"


def test_forget_purges_old_file_outbox_copies_even_with_smtp_configured(smtp_rt):
    import json

    file_rt = smtp_rt(1, mail_backend="file")
    with file_rt.transaction() as ctx:
        enqueue(ctx, _mail(topic="test.plain", subject_ids=("cust-6",)))
    outbox = file_rt.settings.home_path / "outbox"
    assert len(list(outbox.glob("*.json"))) == 1
    smtp = type(file_rt)(file_rt.settings.model_copy(update={"mail_backend": "smtp"}), clock=file_rt.clock)
    try:
        with smtp.transaction() as ctx:
            forget(ctx, subject_ids=["cust-6"])
    finally:
        smtp.close()
    assert [json.loads(f.read_text()) for f in outbox.glob("*.json")] == []


def test_forget_purges_the_file_outbox_copies(smtp_rt, tmp_path):
    import json

    rt = smtp_rt(1, mail_backend="file")
    with rt.transaction() as ctx:
        enqueue(ctx, _mail(topic="test.plain", subject_ids=("cust-7",)))
        enqueue(ctx, _mail(to="keep@example.jp", topic="test.plain", subject_ids=("cust-8",)))
    outbox = rt.settings.home_path / "outbox"
    files = sorted(outbox.glob("*.json"))
    assert len(files) == 2  # written synchronously after the commit (no worker in this process)
    stored = [json.loads(f.read_text()) for f in files]
    assert {s["html"] for s in stored} == {HTML} and all(CODE in s["body"] for s in stored)
    with rt.transaction() as ctx:
        forget(ctx, subject_ids=["cust-7"])
    left = [json.loads(f.read_text()) for f in outbox.glob("*.json")]
    assert [s["to"] for s in left] == ["keep@example.jp"]


def test_periodic_jobs_run_once_per_interval_across_processes(smtp_rt):
    from mamori.kernel.runtime import Runtime

    runs: list[str] = []
    mail_queue.register_periodic("test.job", lambda r: runs.append("ran"), 3600)
    try:
        rt = smtp_rt(1, mail_backend="file")
        other = Runtime(rt.settings, clock=rt.clock)
        t0 = rt.clock.now()
        assert "test.job" in run_periodic(rt, now=t0)  # other slices' jobs may run too
        assert "test.job" not in run_periodic(other, now=t0 + timedelta(minutes=10))
        assert "test.job" in run_periodic(other, now=t0 + timedelta(hours=1))
        assert "test.job" not in run_periodic(rt, now=t0 + timedelta(hours=1, minutes=1))
        other.close()
        assert runs == ["ran", "ran"]
    finally:
        mail_queue._jobs.pop("test.job", None)


def test_the_server_worker_delivers_what_a_request_enqueued(smtp_rt):
    """With the server's lifespan running, a commit wakes the delivery worker (a thread) instead of sending in the
    caller's thread; the worker stops with the server."""
    from fastapi.testclient import TestClient

    from mamori.api.app import create_app
    from mamori.kernel.mail.worker import worker_for

    threads: list[str] = []
    register_delivery_hooks(
        "test.worker", delivered=lambda ctx, ref, mid: threads.append(threading.current_thread().name)
    )
    handler = Recorder()
    try:
        with smtp_server(handler) as port:
            rt = smtp_rt(port)
            with TestClient(create_app(rt)):
                worker = worker_for(rt)
                assert worker is not None
                with rt.transaction() as ctx:
                    mid = enqueue(ctx, _mail(topic="test.worker"))
                handler.wait(1)
                for _ in range(500):
                    if threads:
                        break
                    threading.Event().wait(0.02)
                assert _row(rt, mid).status == "sent"
            assert worker_for(rt) is None and not worker.is_alive()
    finally:
        mail_queue._hooks.pop("test.worker", None)
    assert threads == ["mamori-mail"]  # sent and hooked by the worker thread, not the committing one


def test_the_server_refuses_to_start_with_a_misconfigured_smtp(smtp_rt):
    from fastapi.testclient import TestClient

    from mamori.api.app import create_app
    from mamori.kernel.errors import ConfigurationError

    rt = smtp_rt(1, smtp_host=None)
    with pytest.raises(ConfigurationError) as err, TestClient(create_app(rt)):
        pass
    assert "MAMORI_SMTP_HOST" in err.value.message_en


def test_queue_rows_hold_ids_only(smtp_rt):
    rt = smtp_rt(1, mail_backend="file")
    with rt.transaction() as ctx:
        mid = enqueue(
            ctx, _mail(topic="test.plain", ref="req-5", request_id="req-5", subject_ids=("c2", "c1"))
        )
    with rt.transaction() as ctx:
        row = ctx.session.execute(select(MailMessage).where(MailMessage.id == mid)).scalar_one()
        assert (row.topic, row.ref, row.request_id, row.subject_ids) == (
            "test.plain",
            "req-5",
            "req-5",
            '["c1", "c2"]',
        )


def test_erase_all_content_drops_what_a_restored_backup_carried(smtp_rt):
    handler = Recorder(data_reply="451 4.3.0 later")
    with smtp_server(handler) as port:
        rt = smtp_rt(port)
        with rt.transaction() as ctx:
            waiting = enqueue(ctx, _mail(topic="test.plain"))
        assert mail_queue.erase_all_content(rt) == 1
        row = _row(rt, waiting)
        assert (row.status, row.last_error, row.to_enc, row.text_enc) == ("failed", "restored", None, None)
        handler.data_reply = None
        assert deliver_due(rt, now=rt.clock.now() + timedelta(hours=1)).sent == 0
    assert handler.received == []


def test_messages_leave_in_the_order_they_were_enqueued(smtp_rt):
    """Messages one transaction enqueued share their time: they leave in the order they were enqueued, after the
    commit and in a later pass alike."""
    import json

    rt = smtp_rt(1, mail_backend="file")
    with rt.transaction() as ctx:
        for i in range(6):
            enqueue(ctx, _mail(to=f"p{i}@example.jp", topic="test.plain"))
    outbox = sorted((rt.settings.home_path / "outbox").glob("*.json"), key=lambda p: p.stat().st_mtime_ns)
    assert [json.loads(p.read_text())["to"] for p in outbox] == [f"p{i}@example.jp" for i in range(6)]
    handler = Recorder()
    down = smtp_rt(free_port())
    with down.transaction() as ctx:
        for i in reversed(range(6)):
            enqueue(ctx, _mail(to=f"q{i}@example.jp", topic="test.plain"))
    with smtp_server(handler) as port:
        up = type(down)(down.settings.model_copy(update={"smtp_port": port}), clock=down.clock)
        try:
            assert deliver_due(up, now=down.clock.now() + timedelta(hours=1)).sent == 6
        finally:
            up.close()
    assert [r.rcpt_tos[0] for r in handler.received] == [f"q{i}@example.jp" for i in reversed(range(6))]
