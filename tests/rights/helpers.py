"""Helpers for the rights tests: read one-time codes from the file outbox, open and verify requests."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

from mamori.kernel.runtime import Runtime
from mamori.rights import service
from mamori.rights.schemas import RequestOpen


def outbox(rt: Runtime) -> list[dict[str, str]]:
    d = Path(rt.settings.home_path) / "outbox"
    if not d.exists():
        return []
    found = []
    for p in sorted(d.glob("*.json"), key=lambda p: p.stat().st_mtime_ns):
        try:
            found.append(json.loads(p.read_text(encoding="utf-8")))
        except (OSError, ValueError):  # being written by a server's delivery worker right now
            continue
    return found


def last_code(rt: Runtime, to: str, *, wait: float = 30.0) -> str:
    """The code in the newest message to ``to``. A served app delivers from its worker thread (kernel.mail), so
    the file may appear a moment after the request's answer: wait for it (up to ``wait`` seconds)."""
    deadline = time.monotonic() + wait
    while True:
        for msg in reversed(outbox(rt)):
            if msg["to"] == to:
                found = re.search(r"コード: (\d{6})\b", msg["body"])
                assert found
                return found.group(1)
        if time.monotonic() > deadline:
            raise AssertionError("no code sent to this address")
        time.sleep(0.05)


def open_and_verify(rt: Runtime, actor, kind: str, email: str, **fields) -> str:
    """Staff take a request, send a code to the email and enter the code the person read out."""
    with rt.transaction(actor) as ctx:
        v = service.open_request(ctx, RequestOpen(kind=kind, channel="phone", emails=[email], **fields))
    ident = next(i.id for i in v.identifiers if i.kind == "email")
    with rt.transaction(actor) as ctx:
        service.send_code(ctx, v.id, ident)
    with rt.transaction(actor) as ctx:
        result = service.verify_code(ctx, v.id, ident, last_code(rt, email))
    assert result.verified
    return v.id
