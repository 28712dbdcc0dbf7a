"""The SMTP backend (``MAMORI_MAIL_BACKEND=smtp``): the standard library's smtplib, one connection per message.

STARTTLS (``smtp_security=starttls``, the default, port 587), implicit TLS (``tls``, port 465) or none (``none``: a
relay on this host only). The server's certificate is checked against the system's CAs (``SSL_CERT_FILE`` adds a
private CA). Each message is ``multipart/alternative`` (text + HTML) with Date, Message-ID and
``Auto-Submitted: auto-generated`` (RFC 3834: no auto-replies); non-ASCII headers (Japanese subjects) are encoded
as UTF-8 (RFC 2047), bodies as UTF-8. A message's extra headers (``Message.headers``, e.g. ``List-Unsubscribe`` and
``List-Unsubscribe-Post`` of RFC 8058 for a campaign) are written after these.
"""

from __future__ import annotations

import smtplib
import ssl
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import TYPE_CHECKING

from mamori.kernel.errors import ValidationFailed
from mamori.kernel.notify import Message

if TYPE_CHECKING:
    from mamori.kernel.settings import Settings

SECURITY = ("starttls", "tls", "none")


class SmtpNotifier:
    """Sends each message through the configured SMTP server; keeps no copy (so an erasure has none to purge)."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        sender: str,
        security: str = "starttls",
        user: str | None = None,
        password: str | None = None,
        timeout: float = 10.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        if security not in SECURITY:
            raise ValueError(f"smtp security must be one of {SECURITY}")
        self.host = host
        self.port = port
        self.sender = sender
        self.security = security
        self.user = user
        self.password = password
        self.timeout = timeout
        self.ssl_context = ssl_context

    @classmethod
    def from_settings(cls, settings: Settings) -> SmtpNotifier:
        password = settings.smtp_password
        if password is None and settings.smtp_password_file is not None:
            password = read_password(settings.smtp_password_file)
        return cls(
            host=settings.smtp_host or "",
            port=int(settings.smtp_port),
            sender=settings.mail_from or "",
            security=settings.smtp_security.lower(),
            user=settings.smtp_user,
            password=password,
            timeout=float(settings.smtp_timeout),
        )

    def build(self, message: Message, *, at: datetime) -> EmailMessage:
        msg = EmailMessage(policy=SMTP_POLICY)
        msg["From"] = self.sender
        msg["To"] = message.to
        msg["Subject"] = message.subject
        msg["Date"] = format_datetime(at)
        domain = self.sender.rpartition("@")[2] or None
        msg["Message-ID"] = make_msgid(domain=domain)
        msg["Auto-Submitted"] = "auto-generated"
        for name, value in message.headers:  # checked when enqueued (mail.queue.check_headers)
            msg[name] = value
        msg.set_content(message.body, charset="utf-8")
        if message.html:
            msg.add_alternative(message.html, subtype="html", charset="utf-8")
        return msg

    def send(self, message: Message, *, at: datetime) -> str:
        if message.channel != "email":
            raise ValidationFailed(
                "SMTP で送れるのはメールだけです。", "SMTP sends e-mail only.", code="bad_channel"
            )
        msg = self.build(message, at=at)
        context = self.ssl_context or ssl.create_default_context()
        client: smtplib.SMTP
        if self.security == "tls":
            client = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        try:
            client.ehlo()
            if self.security == "starttls":
                client.starttls(context=context)  # SMTPNotSupportedError when the server offers no STARTTLS
                client.ehlo()
            if self.user:
                client.login(self.user, self.password or "")
            client.send_message(msg, from_addr=self.sender, to_addrs=[message.to])
        finally:
            try:
                client.quit()
            except (smtplib.SMTPException, OSError):
                client.close()
        return str(msg["Message-ID"]).strip("<>")


def read_password(path: Path) -> str:
    return path.read_text(encoding="utf-8").rstrip("\r\n")
