"""What the mail queue costs over sending directly (issue 18).

    .venv/bin/python bench/mail_queue.py [--messages 200] [--json]

An in-process aiosmtpd server on 127.0.0.1 receives every message. The baseline sends N messages straight through
the SMTP notifier (one connection per message, as the queue's sender does): no queue, no sealing, no record. The
queue path enqueues the same N messages in N business transactions (sealed address, subject, text and HTML; one
row each), each delivered right after its commit (no worker in the process: the CLI's path) with its claim, its
send, its record and its audit entry. Reports messages per second for both and the ratio. Same run, same server.
"""

from __future__ import annotations

import argparse
import base64
import json
import secrets
import socket
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from aiosmtpd.controller import Controller

from mamori import composition as bootstrap
from mamori.kernel import mail
from mamori.kernel.context import SYSTEM_ACTOR
from mamori.kernel.mail.smtp import SmtpNotifier
from mamori.kernel.notify import Message
from mamori.kernel.runtime import Runtime
from mamori.kernel.settings import Settings


class Count:
    def __init__(self) -> None:
        self.n = 0

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        self.n += 1
        return "250 OK"


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


SUBJECT = "【架空商事】本人確認コードのお知らせ"
TEXT = "確認コード: 123456\n有効期限: 2026年12月6日 20時15分（日本時間）\n" * 3
HTML = "<p>確認コード: <strong>123456</strong></p>" * 3


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=200)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    counter = Count()
    server = Controller(counter, hostname="127.0.0.1", port=_port())
    server.start()
    home = Path(tempfile.mkdtemp(prefix="mamori-bench-mail-"))
    settings = Settings(
        home=home / "home",
        key_dir=home / "keys",
        kek=base64.b64encode(secrets.token_bytes(32)).decode(),
        mail_backend="smtp",
        smtp_host="127.0.0.1",
        smtp_port=server.port,
        smtp_security="none",
        mail_from="privacy@example.co.jp",
    )
    bootstrap.register_all()
    rt = Runtime(settings)
    rt.init()
    n = args.messages
    direct = SmtpNotifier.from_settings(settings)
    start = time.perf_counter()
    for i in range(n):
        msg = Message(channel="email", to=f"person{i}@example.jp", subject=SUBJECT, body=TEXT, html=HTML)
        direct.send(msg, at=datetime.now(UTC))
    direct_s = time.perf_counter() - start
    sent_direct = counter.n

    start = time.perf_counter()
    for i in range(n):
        with rt.transaction(SYSTEM_ACTOR) as ctx:
            mail.enqueue(
                ctx,
                mail.Mail(to=f"person{i}@example.jp", subject=SUBJECT, text=TEXT, html=HTML, topic="bench"),
            )
    queued_s = time.perf_counter() - start
    sent_queued = counter.n - sent_direct
    with rt.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        counts = mail.status(ctx)
    rt.close()
    server.stop()
    result = {
        "messages": n,
        "direct_per_s": round(n / direct_s, 1),
        "queued_per_s": round(n / queued_s, 1),
        "queue_cost_ratio": round(queued_s / direct_s, 2),
        "received_direct": sent_direct,
        "received_queued": sent_queued,
        "queue_sent": counts.counts.get("sent", 0),
    }
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:18} {value}")
    print(f"store: {home}", file=sys.stderr)


if __name__ == "__main__":
    main()
