"""E-mail delivery through a REAL SMTP server in-process (aiosmtpd): after commit, multipart text + HTML, Japanese
subjects, STARTTLS / implicit TLS with a self-signed certificate, login, and nothing sent on rollback (issue 18)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from mamori.kernel.errors import ConfigurationError, ValidationFailed
from mamori.kernel.mail import Mail, deliver_due, enqueue
from mamori.kernel.mail.backend import check, notifier
from mamori.kernel.mail.models import MailMessage
from mamori.kernel.mail.smtp import SmtpNotifier
from tests.kernel.mail_support import Login, Recorder, self_signed, server_context, smtp_server

SUBJECT = "【テスト】ご請求を受け付けました（受付番号 R-2026-0001）"
TEXT = "山田 太郎 様\n\nご請求を受け付けました。確認コード: 482913\n"
HTML = "<p>山田 太郎 様</p><p>確認コード: <strong>482913</strong></p>"


def _row(rt, message_id: str) -> MailMessage:
    with rt.transaction() as ctx:
        row = ctx.session.get(MailMessage, message_id)
        assert row is not None
        ctx.session.expunge(row)
        return row


def test_a_message_leaves_after_commit_as_multipart_text_and_html_with_a_japanese_subject(smtp_rt):
    handler = Recorder()
    with smtp_server(handler) as port:
        rt = smtp_rt(port)
        with rt.transaction() as ctx:
            mid = enqueue(
                ctx,
                Mail(
                    to="taro@example.jp", subject=SUBJECT, text=TEXT, html=HTML, topic="test.notice", ref="r1"
                ),
            )
            assert handler.received == []  # nothing leaves before the commit
        got = handler.wait(1)
    assert len(got) == 1
    env = got[0]
    assert env.mail_from == "privacy@example.co.jp" and env.rcpt_tos == ["taro@example.jp"]
    assert (
        b"\xe3\x80\x90" not in env.raw.split(b"\r\n\r\n", 1)[0]
    )  # the header is RFC 2047-encoded, not raw UTF-8
    msg = env.message
    assert msg["Subject"] == SUBJECT
    assert msg["To"] == "taro@example.jp" and msg["From"] == "privacy@example.co.jp"
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg["Date"] and msg["Message-ID"].endswith("@example.co.jp>")
    assert msg.get_content_type() == "multipart/alternative"
    plain = msg.get_body(("plain",))
    html = msg.get_body(("html",))
    assert plain is not None and plain.get_content().replace("\r\n", "\n") == TEXT  # CRLF on the wire
    assert html is not None and html.get_content().strip() == HTML
    row = _row(rt, mid)
    assert row.status == "sent" and row.attempts == 1 and row.sent_at is not None
    assert row.delivery_ref == msg["Message-ID"].strip("<>")
    assert (row.to_enc, row.subject_enc, row.text_enc, row.html_enc) == (None, None, None, None)


def test_text_only_mail_is_a_single_text_part(smtp_rt):
    handler = Recorder()
    with smtp_server(handler) as port:
        rt = smtp_rt(port)
        with rt.transaction() as ctx:
            enqueue(ctx, Mail(to="a@example.jp", subject="Your request", text="Hello\n", lang="en"))
        msg = handler.wait(1)[0].message
    assert msg.get_content_type() == "text/plain" and msg.get_content() == "Hello\r\n"


def test_a_rolled_back_transaction_sends_nothing_and_stores_nothing(smtp_rt):
    handler = Recorder()
    with smtp_server(handler) as port:
        rt = smtp_rt(port)
        with pytest.raises(RuntimeError), rt.transaction() as ctx:
            enqueue(ctx, Mail(to="taro@example.jp", subject=SUBJECT, text=TEXT))
            raise RuntimeError("the business write failed")
        report = deliver_due(rt)
    assert handler.received == [] and report.sent == 0
    with rt.transaction() as ctx:
        assert ctx.session.execute(select(MailMessage)).first() is None


def test_starttls_with_a_self_signed_certificate_and_a_login(smtp_rt, tmp_path, monkeypatch):
    cert, key = self_signed(tmp_path)
    monkeypatch.setenv(
        "SSL_CERT_FILE", str(cert)
    )  # the client trusts the test's CA (ssl.create_default_context)
    handler = Recorder()
    login = Login("mamori", "s3cret-pw")
    (tmp_path / "pw").write_text("s3cret-pw\n")
    with smtp_server(handler, starttls=server_context(cert, key), login=login) as port:
        rt = smtp_rt(port, smtp_security="starttls", smtp_user="mamori", smtp_password_file=tmp_path / "pw")
        with rt.transaction() as ctx:
            mid = enqueue(ctx, Mail(to="taro@example.jp", subject=SUBJECT, text=TEXT, html=HTML))
        got = handler.wait(1)
    assert got[0].message["Subject"] == SUBJECT
    assert login.tries == [b"mamori"]
    assert _row(rt, mid).status == "sent"


def test_starttls_refuses_a_certificate_it_does_not_trust(smtp_rt, tmp_path):
    cert, key = self_signed(tmp_path)  # not trusted: SSL_CERT_FILE is not set
    handler = Recorder()
    with smtp_server(handler, starttls=server_context(cert, key)) as port:
        rt = smtp_rt(port, smtp_security="starttls")
        with rt.transaction() as ctx:
            mid = enqueue(ctx, Mail(to="taro@example.jp", subject=SUBJECT, text=TEXT))
    row = _row(rt, mid)
    assert handler.received == []
    assert row.status == "pending" and row.attempts == 1 and row.last_error == "tls"


def test_implicit_tls(smtp_rt, tmp_path, monkeypatch):
    cert, key = self_signed(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    handler = Recorder()
    with smtp_server(handler, implicit_tls=server_context(cert, key)) as port:
        rt = smtp_rt(port, smtp_security="tls")
        with rt.transaction() as ctx:
            enqueue(ctx, Mail(to="taro@example.jp", subject=SUBJECT, text=TEXT))
        assert handler.wait(1)[0].message["Subject"] == SUBJECT


def test_a_wrong_password_is_a_temporary_auth_failure(smtp_rt, tmp_path, monkeypatch):
    cert, key = self_signed(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    handler = Recorder()
    with smtp_server(handler, starttls=server_context(cert, key), login=Login("mamori", "right")) as port:
        rt = smtp_rt(port, smtp_security="starttls", smtp_user="mamori", smtp_password="wrong")
        with rt.transaction() as ctx:
            mid = enqueue(ctx, Mail(to="taro@example.jp", subject=SUBJECT, text=TEXT))
    row = _row(rt, mid)
    assert handler.received == [] and (row.status, row.last_error) == ("pending", "auth")


@pytest.mark.parametrize(
    ("overrides", "setting"),
    [
        ({"smtp_host": None}, "MAMORI_SMTP_HOST"),
        ({"mail_from": None}, "MAMORI_MAIL_FROM"),
        ({"smtp_security": "ssl3"}, "MAMORI_SMTP_SECURITY"),
        ({"mail_backend": "pigeon"}, "MAMORI_MAIL_BACKEND"),
        ({"smtp_password_file": "/nonexistent/pw"}, "MAMORI_SMTP_PASSWORD_FILE"),
    ],
)
def test_a_misconfigured_backend_is_one_line_naming_the_setting(tmp_path, overrides, setting):
    from mamori.kernel.settings import Settings

    values = dict(
        home=tmp_path / "h", mail_backend="smtp", smtp_host="mail.example.jp", mail_from="privacy@example.jp"
    )
    values.update(overrides)
    settings = Settings(**values)
    with pytest.raises(ConfigurationError) as err:
        check(settings)
    assert setting in err.value.message_en and "\n" not in err.value.message_en
    assert err.value.code == "mail_config"


def test_the_backend_follows_the_setting_and_set_notifier_wins(tmp_path):
    from mamori.kernel.notify import FileOutbox, set_notifier
    from mamori.kernel.settings import Settings

    smtp = Settings(home=tmp_path / "h", mail_backend="smtp", smtp_host="mail.example.jp", mail_from="a@b.jp")
    assert isinstance(notifier(smtp), SmtpNotifier)
    assert isinstance(notifier(Settings(home=tmp_path / "h")), FileOutbox)
    plugged = FileOutbox(tmp_path / "elsewhere")
    set_notifier(plugged)
    try:
        assert notifier(smtp) is plugged
    finally:
        set_notifier(None)


@pytest.mark.parametrize(
    "mail",
    [
        Mail(to="taro@example.jp", subject="件名\r\nBcc: evil@example.com", text="x"),
        Mail(to="taro@example.jp\r\nBcc: evil@example.com", subject="s", text="x"),
        Mail(to="not-an-address", subject="s", text="x"),
        Mail(to="a@example.jp, b@example.jp", subject="s", text="x"),
        Mail(to="", subject="s", text="x"),
    ],
)
def test_bad_mail_is_refused_before_anything_is_stored(smtp_rt, mail):
    rt = smtp_rt(1)
    with pytest.raises(ValidationFailed) as err, rt.transaction() as ctx:
        enqueue(ctx, mail)
    assert err.value.code == "bad_mail" and "evil" not in err.value.message_en
    with rt.transaction() as ctx:
        assert ctx.session.execute(select(MailMessage)).first() is None
