"""Notification delivery: one protocol, a file outbox by default.

The default :class:`FileOutbox` writes each message to its own file under ``$MAMORI_HOME/outbox`` (directory
0700, file 0600): useful on a single machine and in tests. Production plugs an SMTP (or SMS) sender in here by
calling :func:`set_notifier` at start-up; nothing else in mamori sends messages.

Callers never log a message: the body may carry a one-time code and the recipient address is personal data.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from mamori.kernel.errors import ValidationFailed


@dataclass(frozen=True)
class Message:
    channel: str  # "email" / "sms"
    to: str
    subject: str
    body: str


class Notifier(Protocol):
    def send(self, message: Message, *, at: datetime) -> str:
        """Deliver ``message``; return a delivery reference (no personal data in it)."""
        ...


class FileOutbox:
    """Writes one JSON file per message, readable only by the owner (mode 0600)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def send(self, message: Message, *, at: datetime) -> str:
        if message.channel not in ("email", "sms"):
            raise ValidationFailed(
                "不明な送信チャネルです。", "Unknown delivery channel.", code="bad_channel"
            )
        self.directory.mkdir(parents=True, exist_ok=True)
        os.chmod(self.directory, 0o700)
        ref = f"{at:%Y%m%dT%H%M%S}-{secrets.token_hex(6)}"
        path = self.directory / f"{ref}.json"
        payload = {
            "channel": message.channel,
            "to": message.to,
            "subject": message.subject,
            "body": message.body,
            "at": at.isoformat(),
        }
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(payload, fh, ensure_ascii=False)
        return ref

    def purge_recipient(self, to: str) -> int:
        """Delete the stored messages sent to ``to`` (after the person's erasure); return how many."""
        if not self.directory.exists():
            return 0
        removed = 0
        for path in self.directory.glob("*.json"):
            try:
                payload = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            if isinstance(payload, dict) and payload.get("to") == to:
                path.unlink(missing_ok=True)
                removed += 1
        return removed


def purge_recipient(notifier: Notifier, to: str) -> int:
    """Forget messages kept for ``to`` if the notifier keeps any (the file outbox does; SMTP keeps none here)."""
    purge = getattr(notifier, "purge_recipient", None)
    return int(purge(to)) if callable(purge) else 0


_override: Notifier | None = None


def set_notifier(notifier: Notifier | None) -> None:
    """Plug in a production sender (SMTP, SMS gateway); ``None`` returns to the file outbox."""
    global _override
    _override = notifier


def notifier_for(home: Path) -> Notifier:
    """The plugged-in notifier, or the file outbox under ``home/outbox``."""
    return _override if _override is not None else FileOutbox(home / "outbox")
