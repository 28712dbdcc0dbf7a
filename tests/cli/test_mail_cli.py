"""`mamori mail status | deliver | retry | test` over a real store and a REAL SMTP server in-process (aiosmtpd):
--json, bad input, and the roles refused (only admin and the privacy officer manage the queue; cron's deliver
runs as the system)."""

from __future__ import annotations

import base64
import json
import secrets

import pytest
from typer.testing import CliRunner

from mamori.cli.main import app
from mamori.kernel.settings import reset_settings_cache
from tests.kernel.mail_support import Recorder, free_port, smtp_server

ADDRESS = "kenta.mori@example.jp"


@pytest.fixture
def handler():
    return Recorder()


@pytest.fixture
def cli(tmp_path, monkeypatch, handler):
    monkeypatch.setenv("MAMORI_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("MAMORI_KEK", base64.b64encode(secrets.token_bytes(32)).decode())
    for k in ("MAMORI_DATABASE_URL", "MAMORI_KEYSTORE_URL", "MAMORI_AUDIT_URL", "MAMORI_AS", "MAMORI_LANG"):
        monkeypatch.delenv(k, raising=False)
    with smtp_server(handler) as port:
        for k, v in {
            "MAMORI_MAIL_BACKEND": "smtp",
            "MAMORI_SMTP_HOST": "127.0.0.1",
            "MAMORI_SMTP_PORT": str(port),
            "MAMORI_SMTP_SECURITY": "none",
            "MAMORI_MAIL_FROM": "privacy@example.co.jp",
            "MAMORI_MAIL_RETRY_SECONDS": "0.001",
        }.items():
            monkeypatch.setenv(k, v)
        reset_settings_cache()
        runner = CliRunner()

        def run(*args: str):
            return runner.invoke(app, list(args), catch_exceptions=False)

        assert run("init").exit_code == 0
        for user, role in (("hoshino", "privacy_officer"), ("sato", "sales")):
            r = run("--as", "admin", "staff", "add", user, "--name", user, "--role", role, "--json")
            assert r.exit_code == 0, r.output
        yield run
    reset_settings_cache()


def j(result):
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def one_line(result) -> str:
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, result.stderr
    return lines[0]


def _enqueue(n: int = 1, **kw) -> list[str]:
    """Enqueue through the kernel API as a slice would (its own runtime: another process, in effect)."""
    from mamori import composition
    from mamori.kernel.mail import Mail, enqueue
    from mamori.kernel.runtime import open_runtime
    from mamori.kernel.settings import get_settings

    composition.register_all()
    rt = open_runtime(get_settings())
    try:
        with rt.transaction() as ctx:
            return [
                enqueue(
                    ctx, Mail(to=ADDRESS, subject="件名 テスト", text="コード 123456", topic="test.cli", **kw)
                )
                for _ in range(n)
            ]
    finally:
        rt.close()


def test_status_shows_counts_and_failures_with_codes_and_no_address(cli, handler):
    handler.rcpt_reply = "550 5.1.1 kenta.mori@example.jp: no such user"
    failed = _enqueue(2)
    handler.rcpt_reply = None
    sent = _enqueue(1)
    out = cli("--as", "hoshino", "mail", "status", "--json")
    doc = j(out)
    assert doc["counts"] == {"pending": 0, "sent": 1, "failed": 2}
    assert doc["by_topic"] == {"test.cli": {"pending": 0, "sent": 1, "failed": 2}}
    assert doc["backend"] == {
        "backend": "smtp",
        "host": "127.0.0.1",
        "port": doc["backend"]["port"],
        "security": "none",
    }
    assert sorted(f["id"] for f in doc["failures"]) == sorted(failed)
    assert {(f["last_error"], f["attempts"], f["retryable"]) for f in doc["failures"]} == {
        ("smtp_5xx", 1, True)
    }
    assert sent[0] not in {f["id"] for f in doc["failures"]}
    assert ADDRESS not in out.stdout and "件名" not in out.stdout and "123456" not in out.stdout
    text = cli("--as", "admin", "mail", "status")
    assert text.exit_code == 0 and "smtp_5xx" in text.stdout and ADDRESS not in text.stdout
    assert "失敗 2" in text.stdout


def test_retry_puts_a_failed_message_back_and_it_is_delivered(cli, handler):
    handler.rcpt_reply = "550 5.7.1 relay denied"
    (mid,) = _enqueue(1)
    handler.rcpt_reply = None
    doc = j(cli("--as", "hoshino", "mail", "retry", mid, "--json"))
    assert doc["id"] == mid and doc["status"] == "sent"
    assert [r.rcpt_tos for r in handler.wait(1)] == [[ADDRESS]]
    again = cli("--as", "hoshino", "mail", "retry", mid)
    assert again.exit_code != 0 and "mail_not_failed" in one_line(again)
    missing = cli("--as", "hoshino", "mail", "retry", "0" * 32)
    assert missing.exit_code != 0 and "mail_not_found" in one_line(missing)


def test_deliver_runs_a_pass_for_cron_as_the_system(cli, handler):
    handler.data_reply = "451 4.3.0 try again later"
    ids = _enqueue(2)
    handler.data_reply = None
    report = j(cli("mail", "deliver", "--json"))  # no --as: cron
    assert report["sent"] == 2 and report["failed"] == 0
    assert sorted(r.rcpt_tos[0] for r in handler.wait(2)) == [ADDRESS, ADDRESS]
    doc = j(cli("--as", "admin", "mail", "status", "--json"))
    assert doc["counts"]["sent"] == 2 and set(ids)


def test_test_sends_a_message_now_and_says_whether_it_was_accepted(cli, handler):
    doc = j(cli("--as", "admin", "mail", "test", "--to", ADDRESS, "--json"))
    assert doc["accepted"] is True and doc["backend"] == "smtp" and doc["error"] is None
    got = handler.wait(1)[0]
    assert got.rcpt_tos == [ADDRESS] and got.message["Subject"] == "mamori テストメール / test message"
    handler.rcpt_reply = "550 5.1.1 unknown"
    refused = cli("--as", "admin", "mail", "test", "--to", ADDRESS, "--json")
    assert refused.exit_code == 1 and json.loads(refused.stdout)["error"] == "smtp_5xx"
    plain = cli("--as", "admin", "mail", "test", "--to", ADDRESS)
    assert plain.exit_code == 1 and "mail_test_failed" in one_line(plain) and ADDRESS not in plain.stderr


def test_bad_input_is_one_line(cli):
    bad = cli("--as", "admin", "mail", "test", "--to", "not-an-address")
    assert bad.exit_code != 0 and "bad_mail" in one_line(bad)
    injected = cli("--as", "admin", "mail", "test", "--to", "a@example.jp\r\nBcc: x@example.com")
    assert injected.exit_code != 0 and "bad_mail" in one_line(injected)
    no_actor = cli("mail", "status")
    assert no_actor.exit_code == 2 and "actor_required" in one_line(no_actor)


@pytest.mark.parametrize(
    "args",
    [
        ("mail", "status", "--json"),
        ("mail", "deliver", "--json"),
        ("mail", "retry", "0" * 32),
        ("mail", "test", "--to", ADDRESS),
    ],
)
def test_a_sales_rep_is_refused(cli, handler, args):
    r = cli("--as", "sato", *args)
    assert r.exit_code == 3, r.output
    assert "denied" in one_line(r) or "role" in one_line(r)
    assert handler.received == []


def test_a_misconfigured_smtp_is_one_line(cli, monkeypatch):
    monkeypatch.delenv("MAMORI_SMTP_HOST")
    reset_settings_cache()
    r = cli("mail", "deliver")
    assert r.exit_code == 2 and "MAMORI_SMTP_HOST" in one_line(r)


def test_an_unreachable_server_leaves_the_message_queued_with_a_code(cli, monkeypatch):
    monkeypatch.setenv("MAMORI_SMTP_PORT", str(free_port()))
    reset_settings_cache()
    (mid,) = _enqueue(1)
    doc = j(cli("--as", "hoshino", "mail", "status", "--json"))
    assert doc["counts"]["pending"] == 1
    oldest = doc["oldest_pending"]
    assert oldest["id"] == mid and oldest["last_error"] == "connect" and oldest["attempts"] == 1
