"""A real SMTP server in-process (aiosmtpd) for the mail tests: it records every envelope it accepts, and can be
told to refuse (``451`` temporary / ``550`` permanent) at RCPT or DATA, to offer STARTTLS or implicit TLS with a
self-signed certificate made here, and to require a login."""

from __future__ import annotations

import email
import email.policy
import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        msg = email.message_from_bytes(self.raw, policy=email.policy.default)
        assert isinstance(msg, EmailMessage)
        return msg


@dataclass
class Recorder:
    """The aiosmtpd handler: records accepted messages; ``rcpt_reply`` / ``data_reply`` refuse with that reply."""

    rcpt_reply: str | None = None
    data_reply: str | None = None
    delay: float = 0.0
    received: list[Received] = field(default_factory=list)
    arrived: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        if self.delay:
            time.sleep(self.delay)  # widen the window two concurrent senders could race in
        if self.data_reply:
            return self.data_reply
        with self.lock:
            self.received.append(
                Received(envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.content))
            )
        self.arrived.set()
        return "250 Message accepted for delivery"

    def wait(self, n: int = 1, timeout: float = 10.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.received) >= n:
                    return list(self.received)
            time.sleep(0.02)
        raise AssertionError(f"expected {n} message(s), got {len(self.received)}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 / localhost (made with ``cryptography``): (cert, key) PEM paths."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "smtp-cert.pem", directory / "smtp-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


def server_context(cert: Path, key: Path) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    return ctx


class Login:
    """An aiosmtpd authenticator accepting one user name and password."""

    def __init__(self, user: str, password: str) -> None:
        self.user, self.password = user.encode(), password.encode()
        self.tries: list[bytes] = []

    def __call__(self, server, session, envelope, mechanism, auth_data):  # noqa: ANN001
        if isinstance(auth_data, LoginPassword):
            self.tries.append(auth_data.login)
            if auth_data.login == self.user and auth_data.password == self.password:
                return AuthResult(success=True)
        return AuthResult(success=False, handled=False)


@contextmanager
def smtp_server(
    handler: Recorder,
    *,
    starttls: ssl.SSLContext | None = None,
    implicit_tls: ssl.SSLContext | None = None,
    login: Login | None = None,
) -> Iterator[int]:
    """Run aiosmtpd on 127.0.0.1 (a free port, yielded) until the block ends."""
    port = free_port()
    kwargs: dict[str, object] = {}
    if starttls is not None:
        kwargs.update(tls_context=starttls, require_starttls=True)
    if implicit_tls is not None:
        kwargs.update(ssl_context=implicit_tls)
    if login is not None:
        kwargs.update(authenticator=login, auth_required=True, auth_require_tls=starttls is not None)
    controller = Controller(handler, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()
