"""The mail queue: enqueue in the caller's transaction, deliver after commit, retry with back-off (docs/mail.md).

Every message is stored SEALED (address, subject, text and HTML under the system key ``mail_queue``, each bound to
its row and column) and delivered after the transaction commits. A delivery claims its row first (compare-and-set
on ``lease_until`` / ``lease_token``), so two workers — two server processes, or the CLI and a server — never send
one message twice. The outcome is recorded with a short error CODE (never the server's text or an address) and
audited without personal data (``mail.sent`` / ``mail.retry`` / ``mail.failed``); the topic's delivered / failed
hook then runs in a new system transaction.

Content kept: until the message is sent (then erased), or — a message that finally failed — 30 days so that staff
can put it back in the queue (``mamori mail retry``, the /mail page), or until an erasure forgets it.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import smtplib
import ssl
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import false, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from mamori.kernel import auditing
from mamori.kernel.context import SYSTEM_ACTOR, Context
from mamori.kernel.crypto import make_aead, open_with, seal_with
from mamori.kernel.db import new_id, unit_of_work
from mamori.kernel.errors import ConfigurationError, IntegrityFailure, NotFound, ValidationFailed
from mamori.kernel.mail.models import FAILED, PENDING, SENT, MailJob, MailMessage
from mamori.kernel.notify import FileOutbox, Message, Notifier, purge_concerning
from mamori.kernel.permissions import MAIL_MANAGE
from mamori.kernel.policy import Resource

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    from mamori.kernel.runtime import Runtime

log = logging.getLogger("mamori.mail")

KEY_NAME = "mail_queue"  # the system key that seals the queued content
PENDING_INFO = (
    "mamori.mail_pending"  # Session.info: ids enqueued in this transaction (delivered after commit)
)
FAILED_KEEP_DAYS = 30  # a finally failed message's content is kept this long for a staff retry
CONTENT_COLUMNS = ("to_enc", "subject_enc", "text_enc", "html_enc")
MAX_SUBJECT = 998
MAX_BODY = 1_000_000
MAX_HEADERS = 8
HEADER_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,63}$")
# Header names a caller may not set: the backend writes these itself (or they shape the MIME structure).
RESERVED_HEADERS = frozenset(
    {
        "from",
        "to",
        "cc",
        "bcc",
        "subject",
        "date",
        "message-id",
        "sender",
        "reply-to",
        "return-path",
        "auto-submitted",
        "mime-version",
        "content-type",
        "content-transfer-encoding",
        "content-disposition",
    }
)
# The extra headers travel sealed in ``text_enc`` (no column of their own): this mark, their JSON, a newline, the
# text. A text never starts with NUL (refused), so a plain text is never read as headers.
_HEADERS_MARK = "\0mamori-headers\0"

# Audit actions (labels in kernel/labels/data/web_audit.toml).
A_SENT = "mail.sent"
A_RETRY = "mail.retry"
A_FAILED = "mail.failed"
A_REQUEUED = "mail.requeued"
A_FORGOTTEN = "mail.forgotten"
A_TEST = "mail.test"


@dataclass(frozen=True)
class Mail:
    """One e-mail to send. ``topic`` names its kind (its hooks: ``register_delivery_hooks``); ``ref`` is handed to
    the hooks (e.g. the request id); ``subject_ids`` / ``request_id`` say whom it concerns (for an erasure)."""

    to: str
    subject: str
    text: str
    html: str | None = None
    lang: str = "ja"
    topic: str = "general"
    ref: str | None = None
    subject_ids: tuple[str, ...] = ()
    request_id: str | None = None
    # Extra header lines, e.g. ("List-Unsubscribe", "<https://…/u/TOKEN>"): sealed with the text (they may carry a
    # token), written by the backend. Names from :data:`HEADER_NAME`, never one the backend sets itself.
    headers: tuple[tuple[str, str], ...] = ()


Hook = Callable[[Context, str, str], None]


@dataclass(frozen=True)
class _Hooks:
    delivered: Hook | None
    failed: Hook | None


@dataclass(frozen=True)
class _Job:
    name: str
    fn: Callable[[Runtime], object]
    every_seconds: float


_hooks: dict[str, _Hooks] = {}
_jobs: dict[str, _Job] = {}


@dataclass
class DeliveryReport:
    """One pass of :func:`deliver_due`: counts only (no address, no subject)."""

    sent: int = 0
    retried: int = 0  # a temporary failure: back in the queue with a later next_attempt_at
    failed: int = 0  # finally failed (permanent refusal, or the last attempt)
    skipped: int = 0  # claimed by another worker meanwhile
    hooks: int = 0  # delivered / failed hooks run
    expired: int = 0  # failed messages whose content was erased after FAILED_KEEP_DAYS
    periodic: list[str] = field(default_factory=list)  # periodic jobs run (run_periodic)
    errors: dict[str, int] = field(default_factory=dict)  # error code -> count

    def as_dict(self) -> dict[str, object]:
        return {
            "sent": self.sent,
            "retried": self.retried,
            "failed": self.failed,
            "skipped": self.skipped,
            "hooks": self.hooks,
            "expired": self.expired,
            "periodic": list(self.periodic),
            "errors": dict(self.errors),
        }


# -- registration ---------------------------------------------------------------------------------------------


def register_delivery_hooks(topic: str, *, delivered: Hook | None = None, failed: Hook | None = None) -> None:
    """``delivered(ctx, ref, message_id)`` / ``failed(ctx, ref, message_id)`` run in a new system transaction once a
    message of ``topic`` is delivered / has finally failed. Registering a topic again replaces its hooks."""
    _hooks[topic] = _Hooks(delivered=delivered, failed=failed)


def register_periodic(name: str, fn: Callable[[Runtime], object], every_seconds: float) -> None:
    """A job the server's delivery worker runs every ``every_seconds`` (and ``mamori mail deliver`` when it is due);
    its last run is kept in the data store, so several processes run it once per interval between them."""
    if every_seconds <= 0:
        raise ValueError("every_seconds must be positive")
    _jobs[name] = _Job(name=name, fn=fn, every_seconds=float(every_seconds))


def periodic_jobs() -> list[str]:
    return sorted(_jobs)


# -- sealing --------------------------------------------------------------------------------------------------


def _aead(rt: Runtime) -> AESGCM:
    return make_aead(rt.keystore.system_key(KEY_NAME))


def _aad(message_id: str, column: str) -> bytes:
    return f"mail_queue|{column}|{message_id}".encode()


def _seal(aead: AESGCM, message_id: str, column: str, value: str | None) -> bytes | None:
    if value is None:
        return None
    return seal_with(aead, value.encode("utf-8"), _aad(message_id, column))


def _open(aead: AESGCM, message_id: str, column: str, blob: bytes | None) -> str | None:
    if blob is None:
        return None
    return open_with(aead, bytes(blob), _aad(message_id, column)).decode("utf-8")


def _erase_content(row: MailMessage) -> None:
    row.to_enc = row.subject_enc = row.text_enc = row.html_enc = None


def _has_content(row: MailMessage) -> bool:
    return row.to_enc is not None and row.text_enc is not None


# -- enqueue --------------------------------------------------------------------------------------------------


def _check(mail: Mail) -> None:
    to = mail.to.strip() if isinstance(mail.to, str) else ""
    bad = (
        not to
        or "@" not in to
        or any(c in to for c in "\r\n\0 <>,")
        or len(to) > 320
        or not isinstance(mail.subject, str)
        or any(c in mail.subject for c in "\r\n\0")
        or len(mail.subject) > MAX_SUBJECT
        or not isinstance(mail.text, str)
        or len(mail.text) > MAX_BODY
        or (mail.html is not None and len(mail.html) > MAX_BODY)
        or mail.text.startswith("\0")
        or not mail.topic
        or len(mail.topic) > 64
        or not _headers_ok(mail.headers)
    )
    if bad:
        raise ValidationFailed(
            "送信するメールの宛先・件名・本文が不正です。",
            "The e-mail to send has an invalid address, subject or body.",
            code="bad_mail",
        )


def _headers_ok(headers: object) -> bool:
    if not isinstance(headers, tuple) or len(headers) > MAX_HEADERS:
        return False
    for item in headers:
        if not (isinstance(item, tuple) and len(item) == 2):
            return False
        name, value = item
        if not (isinstance(name, str) and isinstance(value, str)) or not HEADER_NAME.match(name):
            return False
        if name.lower() in RESERVED_HEADERS or len(value) > MAX_SUBJECT or any(c in value for c in "\r\n\0"):
            return False
    return True


def _pack(text: str, headers: tuple[tuple[str, str], ...]) -> str:
    if not headers:
        return text
    return _HEADERS_MARK + json.dumps([[n, v] for n, v in headers], ensure_ascii=False) + "\n" + text


def _unpack(stored: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    if not stored.startswith(_HEADERS_MARK):
        return stored, ()
    head, _, text = stored[len(_HEADERS_MARK) :].partition("\n")
    try:
        value = json.loads(head)
    except ValueError:
        return text, ()
    pairs = (
        tuple((str(p[0]), str(p[1])) for p in value if isinstance(p, list) and len(p) == 2)
        if isinstance(value, list)
        else ()
    )
    return text, pairs


def enqueue(ctx: Context, mail: Mail) -> str:
    """Store ``mail`` sealed in the caller's transaction and return its id (opaque). It is delivered after the
    transaction commits (the delivery worker is woken, or — no worker in this process — it is delivered right
    after the commit); a rollback sends nothing. A delivery failure never raises here: it is retried."""
    _check(mail)
    rt = ctx.runtime
    now = ctx.clock.now()
    message_id = new_id()
    pending = ctx.session.info.setdefault(PENDING_INFO, [])
    aead = _aead(rt)
    row = MailMessage(
        id=message_id,
        topic=mail.topic,
        ref=mail.ref,
        request_id=mail.request_id,
        subject_ids=json.dumps(sorted(set(mail.subject_ids))),
        lang="en" if mail.lang == "en" else "ja",
        status=PENDING,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
        position=len(pending),
        hook_pending=False,
        to_enc=_seal(aead, message_id, "to_enc", mail.to.strip()),
        subject_enc=_seal(aead, message_id, "subject_enc", mail.subject),
        text_enc=_seal(aead, message_id, "text_enc", _pack(mail.text, mail.headers)),
        html_enc=_seal(aead, message_id, "html_enc", mail.html),
    )
    ctx.session.add(row)
    pending.append(message_id)
    return message_id


def take_committed(session_info: dict[object, object]) -> list[str]:
    """The ids a committed transaction enqueued (Runtime.transaction calls this after the commit)."""
    ids = session_info.pop(PENDING_INFO, None)
    return list(ids) if isinstance(ids, list) else []


# -- delivery -------------------------------------------------------------------------------------------------


def classify(exc: BaseException) -> tuple[str, bool]:
    """A failure's CODE and whether it is permanent (a 5xx refusal of the recipient, sender or message)."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [c for c, _ in exc.recipients.values()] or [550]
        return ("smtp_5xx", True) if all(c >= 500 for c in codes) else ("smtp_4xx", False)
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return "auth", False
    if isinstance(exc, smtplib.SMTPSenderRefused | smtplib.SMTPDataError):
        return ("smtp_5xx", True) if exc.smtp_code >= 500 else ("smtp_4xx", False)
    if isinstance(exc, smtplib.SMTPResponseException):
        return ("smtp_5xx" if exc.smtp_code >= 500 else "smtp_4xx"), False
    if isinstance(exc, smtplib.SMTPNotSupportedError | ssl.SSLError | ssl.CertificateError):
        return "tls", False
    if isinstance(exc, TimeoutError):
        return "timeout", False
    if isinstance(exc, smtplib.SMTPServerDisconnected | ConnectionError | OSError | smtplib.SMTPConnectError):
        return "connect", False
    if isinstance(exc, ValidationFailed):
        return "invalid", True
    if isinstance(exc, ConfigurationError):
        return "config", False
    return "error", False


def backoff(settings_retry_seconds: float, attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed attempt: retry_seconds * 2**(attempts-1)."""
    return timedelta(seconds=float(settings_retry_seconds) * (2 ** max(0, attempts - 1)))


def _lease(rt: Runtime) -> timedelta:
    # Long enough for one SMTP conversation (connect, TLS, login, data, quit) with the configured timeout.
    return timedelta(seconds=max(60.0, float(rt.settings.smtp_timeout) * 6))


def _due_ids(rt: Runtime, now: datetime, limit: int, ids: Sequence[str] | None) -> list[str]:
    with unit_of_work(rt.read_sessions) as session:
        q = select(MailMessage.id).where(
            MailMessage.status == PENDING,
            MailMessage.next_attempt_at <= now,
            or_(MailMessage.lease_until.is_(None), MailMessage.lease_until < now),
        )
        if ids is not None:
            if not ids:
                return []
            q = q.where(MailMessage.id.in_(list(ids)))
        q = q.order_by(MailMessage.next_attempt_at, MailMessage.created_at, MailMessage.position).limit(limit)
        found = list(session.execute(q).scalars())
    if ids is not None:  # after a commit: in the order they were enqueued
        order = {m: i for i, m in enumerate(ids)}
        found.sort(key=lambda m: order.get(m, len(order)))
    return found


def _claim(rt: Runtime, message_id: str, now: datetime) -> tuple[str, MailMessage, Message | None] | None:
    """Claim one due row (compare-and-set): its lease token, the row's record and the opened message (None when
    its content is gone or cannot be opened). None if another worker claimed it first."""
    token = secrets.token_hex(16)
    with unit_of_work(rt.sessions) as session:
        res = session.execute(
            update(MailMessage)
            .where(
                MailMessage.id == message_id,
                MailMessage.status == PENDING,
                MailMessage.next_attempt_at <= now,
                or_(MailMessage.lease_until.is_(None), MailMessage.lease_until < now),
            )
            .values(lease_until=now + _lease(rt), lease_token=token)
            .execution_options(synchronize_session=False)
        )
        if getattr(res, "rowcount", 0) != 1:
            return None
        row = session.get(MailMessage, message_id)
        assert row is not None
        session.expunge(row)
    message: Message | None = None
    if _has_content(row):
        aead = _aead(rt)
        try:
            body, headers = _unpack(_open(aead, row.id, "text_enc", row.text_enc) or "")
            message = Message(
                channel="email",
                to=_open(aead, row.id, "to_enc", row.to_enc) or "",
                subject=_open(aead, row.id, "subject_enc", row.subject_enc) or "",
                body=body,
                html=_open(aead, row.id, "html_enc", row.html_enc),
                subject_ids=tuple(_ids(row.subject_ids)),
                request_id=row.request_id,
                headers=headers,
            )
        except IntegrityFailure:
            message = None
    return token, row, message


def _ids(raw: str | None) -> list[str]:
    try:
        value = json.loads(raw or "[]")
    except ValueError:
        return []
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _finish(
    rt: Runtime,
    row: MailMessage,
    token: str,
    now: datetime,
    *,
    delivery_ref: str | None,
    error: str | None,
    permanent: bool,
) -> str | None:
    """Record one attempt's outcome (if the lease is still ours) and audit it; the new status, or None."""
    attempts = row.attempts + 1
    max_attempts = int(rt.settings.mail_max_attempts)
    hooks = _hooks.get(row.topic)
    values: dict[str, object] = {"attempts": attempts, "lease_until": None, "lease_token": None}
    if error is None:
        outcome, action = SENT, A_SENT
        values.update(
            status=SENT,
            sent_at=now,
            delivery_ref=(delivery_ref or "")[:128] or None,
            last_error=None,
            hook_pending=bool(hooks and hooks.delivered),
            **dict.fromkeys(CONTENT_COLUMNS),
        )
    elif permanent or attempts >= max_attempts:
        outcome, action = FAILED, A_FAILED
        values.update(
            status=FAILED, failed_at=now, last_error=error, hook_pending=bool(hooks and hooks.failed)
        )
    else:
        outcome, action = PENDING, A_RETRY
        values.update(
            last_error=error, next_attempt_at=now + backoff(rt.settings.mail_retry_seconds, attempts)
        )
    with rt.transaction(SYSTEM_ACTOR) as ctx:
        res = ctx.session.execute(
            update(MailMessage)
            .where(MailMessage.id == row.id, MailMessage.lease_token == token)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        if getattr(res, "rowcount", 0) != 1:
            return None  # the lease expired and another worker took the row over: its outcome counts
        details: dict[str, str | int | bool | None] = {
            "message_id": row.id,
            "topic": row.topic,
            "attempts": attempts,
        }
        if error is not None:
            details["error"] = error
        auditing.record_write(ctx, action, _ids(row.subject_ids), (), details=details)
    return outcome


def _notifier(rt: Runtime) -> Notifier:
    from mamori.kernel.mail.backend import notifier

    return notifier(rt.settings)


def deliver_due(
    rt: Runtime,
    *,
    now: datetime | None = None,
    limit: int = 100,
    ids: Sequence[str] | None = None,
    notifier: Notifier | None = None,
) -> DeliveryReport:
    """One pass: send what is due (at most ``limit``; only ``ids`` if given), record and audit each outcome, run the
    hooks of final outcomes, and erase the content of messages that failed more than FAILED_KEEP_DAYS ago."""
    now = now or rt.clock.now()
    report = DeliveryReport()
    due = _due_ids(rt, now, limit, ids)
    sender = notifier
    for message_id in due:
        claimed = _claim(rt, message_id, now)
        if claimed is None:
            report.skipped += 1
            continue
        token, row, message = claimed
        ref: str | None = None
        error: str | None = None
        permanent = False
        if message is None:
            error, permanent = "no_content", True
        else:
            try:
                if sender is None:
                    sender = _notifier(rt)
                ref = sender.send(message, at=now)
            except Exception as exc:  # recorded as a code and retried; never raised into the caller
                error, permanent = classify(exc)
        outcome = _finish(rt, row, token, now, delivery_ref=ref, error=error, permanent=permanent)
        if outcome == SENT:
            report.sent += 1
        elif outcome == FAILED:
            report.failed += 1
        elif outcome == PENDING:
            report.retried += 1
        else:
            report.skipped += 1
        if error is not None and outcome is not None:
            report.errors[error] = report.errors.get(error, 0) + 1
    report.hooks = run_hooks(rt, ids=ids)
    if ids is None:
        report.expired = _expire(rt, now)
    return report


def run_hooks(rt: Runtime, *, ids: Sequence[str] | None = None, limit: int = 100) -> int:
    """Run the delivered / failed hook of final messages whose hook has not run yet (each once: the row's
    ``hook_pending`` is cleared by compare-and-set in the hook's own system transaction)."""
    topics = [t for t, h in _hooks.items() if h.delivered or h.failed]
    if not topics:
        return 0
    with unit_of_work(rt.read_sessions) as session:
        q = select(MailMessage.id, MailMessage.topic, MailMessage.ref, MailMessage.status).where(
            MailMessage.hook_pending.is_(True),
            MailMessage.status.in_((SENT, FAILED)),
            MailMessage.topic.in_(topics),
        )
        if ids is not None:
            q = q.where(MailMessage.id.in_(list(ids)))
        todo = list(session.execute(q.limit(limit)).all())
    ran = 0
    for message_id, topic, ref, status_ in todo:
        hooks = _hooks.get(topic)
        hook = (hooks.delivered if status_ == SENT else hooks.failed) if hooks else None
        try:
            with rt.transaction(SYSTEM_ACTOR) as ctx:
                res = ctx.session.execute(
                    update(MailMessage)
                    .where(MailMessage.id == message_id, MailMessage.hook_pending.is_(True))
                    .values(hook_pending=False)
                    .execution_options(synchronize_session=False)
                )
                if getattr(res, "rowcount", 0) != 1:
                    continue
                if hook is not None:
                    hook(ctx, ref or "", message_id)
                    ran += 1
        except Exception as exc:  # the hook runs again at the next pass (its transaction rolled back)
            log.warning(
                "mail hook failed: topic=%s message=%s error=%s",
                topic,
                message_id,
                getattr(exc, "code", type(exc).__name__),
            )
    return ran


def _expire(rt: Runtime, now: datetime) -> int:
    cutoff = now - timedelta(days=FAILED_KEEP_DAYS)
    with unit_of_work(rt.sessions) as session:
        res = session.execute(
            update(MailMessage)
            .where(
                MailMessage.status == FAILED, MailMessage.failed_at < cutoff, MailMessage.to_enc.is_not(None)
            )
            .values(**dict.fromkeys(CONTENT_COLUMNS))
            .execution_options(synchronize_session=False)
        )
        return int(getattr(res, "rowcount", 0) or 0)


def run_periodic(rt: Runtime, *, now: datetime | None = None) -> list[str]:
    """Run the registered periodic jobs that are due (claimed by compare-and-set in ``mail_jobs``: one process
    runs a job once per interval). A job's failure is logged by its error type and retried at its next turn."""
    now = now or rt.clock.now()
    ran: list[str] = []
    for job in list(_jobs.values()):
        if not _claim_job(rt, job, now):
            continue
        error: str | None = None
        try:
            job.fn(rt)
        except Exception as exc:
            error = str(getattr(exc, "code", type(exc).__name__))[:64]
            log.warning("periodic job %s failed: %s", job.name, error)
        with unit_of_work(rt.sessions) as session:
            session.execute(
                update(MailJob)
                .where(MailJob.name == job.name)
                .values(last_run_at=now, lease_until=None, last_error=error)
                .execution_options(synchronize_session=False)
            )
        ran.append(job.name)
    return ran


def run_periodic_job(rt: Runtime, name: str, *, now: datetime | None = None) -> tuple[bool, object]:
    """Run one registered periodic job if it is due (the same claim in ``mail_jobs`` as :func:`run_periodic`, so
    the scheduler's run and cron's ``mamori mail deliver`` never both run it within its interval). Returns whether
    it ran and what it returned; its exception is recorded (``last_error``) and raised to the caller (the
    scheduler records the run as failed)."""
    job = _jobs.get(name)
    if job is None:
        raise NotFound("その定期処理はありません。", "No such periodic job.", code="job_not_found")
    now = now or rt.clock.now()
    if not _claim_job(rt, job, now):
        return False, None
    error: str | None = None
    try:
        return True, job.fn(rt)
    except Exception as exc:
        error = str(getattr(exc, "code", type(exc).__name__))[:64]
        raise
    finally:
        with unit_of_work(rt.sessions) as session:
            session.execute(
                update(MailJob)
                .where(MailJob.name == job.name)
                .values(last_run_at=now, lease_until=None, last_error=error)
                .execution_options(synchronize_session=False)
            )


def _claim_job(rt: Runtime, job: _Job, now: datetime) -> bool:
    with unit_of_work(rt.sessions) as session:
        if session.get(MailJob, job.name) is None:
            try:
                with session.begin_nested():
                    session.add(MailJob(name=job.name))
            except IntegrityError:
                pass
    with unit_of_work(rt.sessions) as session:
        res = session.execute(
            update(MailJob)
            .where(
                MailJob.name == job.name,
                or_(
                    MailJob.last_run_at.is_(None),
                    MailJob.last_run_at <= now - timedelta(seconds=job.every_seconds),
                ),
                or_(MailJob.lease_until.is_(None), MailJob.lease_until < now),
            )
            .values(lease_until=now + timedelta(seconds=max(300.0, job.every_seconds)))
            .execution_options(synchronize_session=False)
        )
        return getattr(res, "rowcount", 0) == 1


# -- erasure --------------------------------------------------------------------------------------------------


def forget(
    ctx: Context,
    *,
    subject_ids: Iterable[str] = (),
    request_ids: Iterable[str] = (),
    keep: Iterable[str] = (),
) -> int:
    """An erasure: erase the queued content of every message concerning these people (tagged with one of
    ``subject_ids`` or ``request_ids``) except the ids in ``keep`` (the erasure's own result notice); a message not
    yet sent is not sent (status failed, error ``erased``; no hook runs). Then the backend's kept copies concerning
    them (the file outbox) are purged, by tag and by the addresses those messages went to. Returns how many
    queued messages were forgotten."""
    subjects = {s for s in subject_ids if s}
    requests = {r for r in request_ids if r}
    kept = set(keep)
    if not (subjects or requests):
        return 0
    rt = ctx.runtime
    now = ctx.clock.now()
    aead = _aead(rt)
    rows = ctx.session.execute(
        select(MailMessage).where(
            or_(MailMessage.to_enc.is_not(None), MailMessage.status == PENDING),
            or_(
                MailMessage.request_id.in_(sorted(requests)) if requests else false(),
                *(MailMessage.subject_ids.contains(s) for s in sorted(subjects)),
            ),
        )
    ).scalars()
    recipients: set[str] = set()
    forgotten = 0
    for row in rows:
        concerns = row.request_id in requests or bool(subjects & set(_ids(row.subject_ids)))
        if not concerns or row.id in kept:
            continue
        try:
            to = _open(aead, row.id, "to_enc", row.to_enc)
        except IntegrityFailure:
            to = None
        if to:
            recipients.add(to)
        _erase_content(row)
        if row.status == PENDING:
            row.status = FAILED
            row.failed_at = now
            row.last_error = "erased"
            row.hook_pending = False
            row.lease_until = None
            row.lease_token = None
        forgotten += 1
    if forgotten:
        ctx.session.flush()
        auditing.record_write(ctx, A_FORGOTTEN, sorted(subjects), (), details={"messages": forgotten})
    for kept_copies in _copy_keepers(rt):
        purge_concerning(
            kept_copies,
            subject_ids=sorted(subjects),
            request_ids=sorted(requests),
            recipients=sorted(recipients),
        )
    return forgotten


def _copy_keepers(rt: Runtime) -> list[Notifier]:
    """The notifiers that may hold copies: the configured one (if it can be built) and the file outbox, which may
    hold copies from before the backend was switched to SMTP."""
    try:
        configured: Notifier | None = _notifier(rt)
    except ConfigurationError:
        configured = None
    outbox = FileOutbox(rt.settings.home_path / "outbox")
    if configured is None:
        return [outbox]
    if isinstance(configured, FileOutbox) and configured.directory == outbox.directory:
        return [configured]
    return [configured, outbox]


def erase_all_content(rt: Runtime) -> int:
    """After a restore: erase the sealed content of every message the backup carried (it was waiting or had failed
    when the backup was taken: stale, and it may concern someone erased since). Messages not yet sent become
    ``failed`` (code ``restored``); no hook runs. Returns how many rows held content."""
    now = rt.clock.now()
    with unit_of_work(rt.sessions) as session:
        erased = session.execute(
            update(MailMessage)
            .where(MailMessage.to_enc.is_not(None))
            .values(**dict.fromkeys(CONTENT_COLUMNS))
            .execution_options(synchronize_session=False)
        )
        session.execute(
            update(MailMessage)
            .where(MailMessage.status == PENDING)
            .values(
                status=FAILED,
                failed_at=now,
                last_error="restored",
                hook_pending=False,
                lease_until=None,
                lease_token=None,
            )
            .execution_options(synchronize_session=False)
        )
        return int(getattr(erased, "rowcount", 0) or 0)


# -- staff: status and retry ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class MailStatus:
    counts: dict[str, int]  # status -> count
    by_topic: dict[str, dict[str, int]]  # topic -> status -> count
    oldest_pending: dict[str, object] | None
    failures: list[dict[str, object]]
    periodic: list[dict[str, object]]

    def as_dict(self) -> dict[str, object]:
        return {
            "counts": self.counts,
            "by_topic": self.by_topic,
            "oldest_pending": self.oldest_pending,
            "failures": self.failures,
            "periodic": self.periodic,
        }


def _authorise(ctx: Context) -> None:
    auditing.authorise(ctx, MAIL_MANAGE, Resource(kind="mail"))


def status(ctx: Context, *, failures: int = 50) -> MailStatus:
    """The queue at a glance (admin, privacy officer): counts by status and topic, the oldest pending message,
    the newest finally failed ones with their error codes and times — ids, topics and codes only, no address."""
    _authorise(ctx)
    counts = dict.fromkeys((PENDING, SENT, FAILED), 0)
    by_topic: dict[str, dict[str, int]] = {}
    for topic, status_, n in ctx.session.execute(
        select(MailMessage.topic, MailMessage.status, func.count()).group_by(
            MailMessage.topic, MailMessage.status
        )
    ):
        counts[status_] = counts.get(status_, 0) + int(n)
        by_topic.setdefault(topic, dict.fromkeys((PENDING, SENT, FAILED), 0))[status_] = int(n)
    oldest = ctx.session.execute(
        select(MailMessage).where(MailMessage.status == PENDING).order_by(MailMessage.created_at).limit(1)
    ).scalar_one_or_none()
    failed_rows = ctx.session.execute(
        select(MailMessage)
        .where(MailMessage.status == FAILED)
        .order_by(MailMessage.failed_at.desc(), MailMessage.id)
        .limit(failures)
    ).scalars()
    jobs = ctx.session.execute(select(MailJob).order_by(MailJob.name)).scalars()
    return MailStatus(
        counts=counts,
        by_topic=dict(sorted(by_topic.items())),
        oldest_pending=_record(oldest) if oldest is not None else None,
        failures=[_record(r) for r in failed_rows],
        periodic=[
            {"name": j.name, "last_run_at": j.last_run_at, "last_error": j.last_error}
            for j in jobs
            if j.name in _jobs or j.last_run_at is not None
        ],
    )


def _record(row: MailMessage) -> dict[str, object]:
    return {
        "id": row.id,
        "topic": row.topic,
        "status": row.status,
        "attempts": row.attempts,
        "last_error": row.last_error,
        "created_at": row.created_at,
        "next_attempt_at": row.next_attempt_at if row.status == PENDING else None,
        "sent_at": row.sent_at,
        "failed_at": row.failed_at,
        "retryable": row.status == FAILED and _has_content(row),
    }


def retry(ctx: Context, message_id: str) -> dict[str, object]:
    """Put a finally failed message back in the queue (admin, privacy officer), if its content is still kept
    (erased after FAILED_KEEP_DAYS and by an erasure). Delivered after the commit like a new message."""
    _authorise(ctx)
    row = ctx.session.get(MailMessage, message_id) if isinstance(message_id, str) and message_id else None
    if row is None:
        raise NotFound("メッセージが見つかりません。", "No such message.", code="mail_not_found")
    if row.status != FAILED:
        raise ValidationFailed(
            "再送できるのは送信に失敗したメッセージだけです。",
            "Only a message whose delivery failed can be sent again.",
            code="mail_not_failed",
        )
    if not _has_content(row):
        raise ValidationFailed(
            "このメッセージの内容は消去済みのため再送できません。",
            "This message's content has been erased; it cannot be sent again.",
            code="mail_content_erased",
        )
    now = ctx.clock.now()
    row.status = PENDING
    row.attempts = 0
    row.next_attempt_at = now
    row.failed_at = None
    row.last_error = None
    row.lease_until = None
    row.lease_token = None
    row.hook_pending = False
    ctx.session.flush()
    auditing.record_write(
        ctx, A_REQUEUED, _ids(row.subject_ids), (), details={"message_id": row.id, "topic": row.topic}
    )
    ctx.session.info.setdefault(PENDING_INFO, []).append(row.id)
    return _record(row)


__all__ = [
    "A_FAILED",
    "A_FORGOTTEN",
    "A_REQUEUED",
    "A_RETRY",
    "A_SENT",
    "A_TEST",
    "DeliveryReport",
    "Hook",
    "Mail",
    "MailStatus",
    "backoff",
    "classify",
    "deliver_due",
    "enqueue",
    "erase_all_content",
    "forget",
    "register_delivery_hooks",
    "register_periodic",
    "retry",
    "run_hooks",
    "run_periodic",
    "run_periodic_job",
    "status",
]
