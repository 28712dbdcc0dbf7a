"""Notification delivery: one protocol, a file outbox by default.

The default :class:`FileOutbox` writes each message to its own file under ``$MAMORI_HOME/outbox`` (directory
0700, file 0600): useful on a single machine and in tests. ``MAMORI_MAIL_BACKEND=smtp`` sends e-mail through SMTP
instead (:mod:`mamori.kernel.mail.smtp`); :func:`set_notifier` plugs in any other sender (it wins over the
setting). E-mail goes through the sealed queue of :mod:`mamori.kernel.mail` (``enqueue``), which calls the
notifier after the transaction commits.

Every message says whom it concerns: ``subject_ids`` (the customers it is about, when known) and ``request_id``
(the request from the person it belongs to). A notifier that keeps copies (the file outbox) stores these tags,
so an erasure can forget every copy concerning the person — whatever address it went to, including an address
the person has since corrected — with :func:`purge_concerning`.

Callers never log a message: the body may carry a one-time code and the recipient address is personal data.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from mamori.kernel.errors import ValidationFailed


@dataclass(frozen=True)
class Message:
    channel: str  # "email" / "sms"
    to: str
    subject: str
    body: str
    subject_ids: tuple[str, ...] = ()  # the customers the message concerns (ids only)
    request_id: str | None = None  # the request from the person it belongs to
    html: str | None = None  # the HTML alternative of ``body`` (e-mail only)
    # Extra header lines (e-mail only), e.g. List-Unsubscribe (RFC 2369 / 8058); checked by the mail queue.
    headers: tuple[tuple[str, str], ...] = ()


class Notifier(Protocol):
    def send(self, message: Message, *, at: datetime) -> str:
        """Deliver ``message``; return a delivery reference (no personal data in it)."""
        ...


def _address(value: object) -> str:
    return str(value).strip().lower() if isinstance(value, str) else ""


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
        payload: dict[str, object] = {
            "channel": message.channel,
            "to": message.to,
            "subject": message.subject,
            "body": message.body,
            "html": message.html,
            "at": at.isoformat(),
            "subject_ids": list(message.subject_ids),
            "request_id": message.request_id,
        }
        if message.headers:
            payload["headers"] = [[name, value] for name, value in message.headers]
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(payload, fh, ensure_ascii=False)
        return ref

    def _stored(self) -> Iterable[tuple[Path, dict[str, Any]]]:
        if not self.directory.exists():
            return
        for path in sorted(self.directory.glob("*.json")):
            try:
                payload = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            if isinstance(payload, dict):
                yield path, payload

    @staticmethod
    def _shred(path: Path) -> None:
        """Overwrite the file with zeros, then unlink it (best effort: a journaling file system or an SSD may
        still keep old blocks; what this prevents is a copy readable through the file system)."""
        try:
            size = path.stat().st_size
            with open(path, "r+b") as fh:
                fh.write(b"\0" * size)
                fh.flush()
                os.fsync(fh.fileno())
        except OSError:
            pass
        path.unlink(missing_ok=True)

    def purge(
        self,
        *,
        subject_ids: Iterable[str] = (),
        request_ids: Iterable[str] = (),
        recipients: Iterable[str] = (),
    ) -> int:
        """Delete every stored message tagged with one of ``subject_ids`` or ``request_ids``, or sent to one of
        ``recipients`` (compared case- and space-insensitively); return how many."""
        subjects = {s for s in subject_ids if s}
        requests = {r for r in request_ids if r}
        addresses = {_address(r) for r in recipients} - {""}
        if not (subjects or requests or addresses):
            return 0
        removed = 0
        for path, payload in self._stored():
            tagged = payload.get("subject_ids")
            concerns = (
                (isinstance(tagged, list) and any(s in subjects for s in tagged if isinstance(s, str)))
                or payload.get("request_id") in requests
                or _address(payload.get("to")) in addresses
            )
            if concerns:
                self._shred(path)
                removed += 1
        return removed

    def purge_recipient(self, to: str) -> int:
        """Delete the stored messages sent to ``to`` (after the person's erasure); return how many."""
        return self.purge(recipients=(to,))


def purge_concerning(
    notifier: Notifier,
    *,
    subject_ids: Iterable[str] = (),
    request_ids: Iterable[str] = (),
    recipients: Iterable[str] = (),
) -> int:
    """Forget every kept message concerning these people (after an erasure): those tagged with one of
    ``subject_ids`` or ``request_ids``, and those sent to one of ``recipients``. A notifier that keeps no copy
    forgets nothing; one that can only purge by address (``purge_recipient``) is asked for each address."""
    recipients = list(recipients)
    purge = getattr(notifier, "purge", None)
    if callable(purge):
        return int(purge(subject_ids=list(subject_ids), request_ids=list(request_ids), recipients=recipients))
    return sum(purge_recipient(notifier, to) for to in recipients)


def purge_recipient(notifier: Notifier, to: str) -> int:
    """Forget messages kept for ``to`` if the notifier keeps any (the file outbox does; SMTP keeps none here)."""
    purge = getattr(notifier, "purge_recipient", None)
    return int(purge(to)) if callable(purge) else 0


_override: Notifier | None = None


def set_notifier(notifier: Notifier | None) -> None:
    """Plug in a production sender (SMTP, SMS gateway); ``None`` returns to the file outbox."""
    global _override
    _override = notifier


def override() -> Notifier | None:
    """The notifier plugged in with :func:`set_notifier`, if any (it wins over ``MAMORI_MAIL_BACKEND``)."""
    return _override


def notifier_for(home: Path) -> Notifier:
    """The plugged-in notifier, or the file outbox under ``home/outbox`` (the configured backend, SMTP included, is
    :func:`mamori.kernel.mail.backend.notifier`)."""
    return _override if _override is not None else FileOutbox(home / "outbox")
