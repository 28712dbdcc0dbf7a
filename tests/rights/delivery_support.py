"""Helpers of the rights delivery tests (issue 18): a runtime whose mail goes to a REAL SMTP server in-process
(aiosmtpd, tests.kernel.mail_support), and the requests walked through the service up to the point under test."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from mamori.kernel.context import Actor
from mamori.kernel.runtime import Runtime
from mamori.rights import service
from mamori.rights.schemas import RequestOpen
from tests.kernel.mail_support import Received, Recorder, smtp_server

A_EMAIL = "hanako.sato@example.jp"
B_EMAIL = "anna.schmidt@example.de"


@dataclass
class Mailbox:
    """The SMTP server's handler and the runtime that sends to it."""

    rt: Runtime
    handler: Recorder

    def all(self) -> list[Received]:
        with self.handler.lock:
            return list(self.handler.received)

    def wait(self, n: int) -> list[Received]:
        return self.handler.wait(n)

    def last(self, to: str) -> Parts:
        for r in reversed(self.all()):
            if to in r.rcpt_tos:
                return parts(r)
        raise AssertionError("nothing received for this address")


@dataclass
class Parts:
    to: list[str]
    subject: str
    text: str
    html: str


def parts(r: Received) -> Parts:
    msg = r.message
    text = msg.get_body(preferencelist=("plain",))
    html = msg.get_body(preferencelist=("html",))
    assert text is not None and html is not None, "a text and an HTML part"
    return Parts(r.rcpt_tos, str(msg["subject"]), text.get_content(), html.get_content())


def code_in(p: Parts) -> str:
    found = re.search(r"(?:コード|code): (\d{6})\b", p.text)
    assert found, p.text
    return found.group(1)


def mailbox_of(settings_factory, clock, backend) -> Iterator[Mailbox]:  # type: ignore[no-untyped-def]
    """For a ``mailbox`` fixture (``yield from mailbox_of(...)``): a runtime whose mail backend is SMTP at
    127.0.0.1:<port>, where an aiosmtpd server records what arrives."""
    from mamori import composition

    handler = Recorder()
    with smtp_server(handler) as port:
        composition.register_all()
        rt = Runtime(
            settings_factory(
                mail_backend="smtp",
                smtp_host="127.0.0.1",
                smtp_port=port,
                smtp_security="none",
                smtp_timeout=5.0,
                mail_from="privacy@example.co.jp",
                mail_retry_seconds=60.0,
                mail_max_attempts=3,
                operator_name="株式会社まもり商事",
                privacy_contact="お客様相談室",
            ),
            clock=clock,
        )
        rt.init()
        try:
            yield Mailbox(rt, handler)
        finally:
            rt.close()


def open_verified(box: Mailbox, actors: dict[str, Actor], kind: str, email: str, *, lang: str = "ja") -> str:
    """Staff take a request by phone, the code goes by SMTP, the person reads it out, staff enter it."""
    rt = box.rt
    with rt.transaction(actors["support"], lang=lang) as ctx:
        v = service.open_request(ctx, RequestOpen(kind=kind, channel="phone", emails=[email]))
    ident = v.identifiers[0].id
    before = len(box.all())
    with rt.transaction(actors["support"]) as ctx:
        service.send_code(ctx, v.id, ident)
    box.wait(before + 1)
    code = code_in(box.last(email))
    with rt.transaction(actors["po"]) as ctx:
        assert service.verify_code(ctx, v.id, ident, code).verified
    box.wait(before + 2)  # the receipt notice
    return v.id


def data_file(rt: Runtime) -> Path:
    """The SQLite data file (a test reading it skips on PostgreSQL, which has no file to read)."""
    url = str(rt.data_engine.url)
    if not url.startswith("sqlite:///"):
        pytest.skip("reads the SQLite file from outside the process")
    return Path(url.removeprefix("sqlite:///"))


def raw_bytes(rt: Runtime) -> bytes:
    """The SQLite data file and its WAL as bytes, after a checkpoint (what an attacker copying it would read)."""
    path = data_file(rt)
    con = sqlite3.connect(path)
    try:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        con.close()
    out = path.read_bytes()
    wal = path.with_name(path.name + "-wal")
    if wal.exists():
        out += wal.read_bytes()
    return out
