"""Staff tools around the queue (``mamori mail``, the /mail page): authorisation, one record, a test message."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mamori.kernel import auditing
from mamori.kernel.context import Actor, Context
from mamori.kernel.db import unit_of_work
from mamori.kernel.mail.backend import check, describe, notifier
from mamori.kernel.mail.models import MailMessage
from mamori.kernel.mail.queue import A_TEST, Mail, _authorise, _check, _record, classify
from mamori.kernel.notify import Message

if TYPE_CHECKING:
    from mamori.kernel.runtime import Runtime


def authorise(ctx: Context) -> None:
    """MAIL_MANAGE (admin, privacy officer; the system actor for cron): PolicyDenied, audited, for anyone else."""
    _authorise(ctx)


def record(rt: Runtime, message_id: str) -> dict[str, object] | None:
    """One message's record (no content), or None."""
    with unit_of_work(rt.read_sessions) as session:
        row = session.get(MailMessage, message_id)
        return _record(row) if row is not None else None


TEST_SUBJECT = "mamori テストメール / test message"
TEST_TEXT = (
    "mamori のメール送信設定の確認のために送信したテストメールです。返信は不要です。\n\n"
    "This is a test message from mamori, sent to check its e-mail settings. Please do not reply.\n"
)
TEST_HTML = (
    "<p>mamori のメール送信設定の確認のために送信したテストメールです。返信は不要です。</p>"
    "<p>This is a test message from mamori, sent to check its e-mail settings. Please do not reply.</p>"
)


def send_test(rt: Runtime, actor: Actor, to: str, *, lang: str = "ja") -> dict[str, object]:
    """Send a test message now, through the configured backend, outside the queue (nothing is stored); audited as
    ``mail.test`` with the outcome's code (never the address)."""
    with rt.transaction(actor, lang=lang) as ctx:
        _authorise(ctx)
        _check(Mail(to=to, subject=TEST_SUBJECT, text=TEST_TEXT))
    check(rt.settings)
    backend = str(describe(rt.settings)["backend"])
    ref: str | None = None
    error: str | None = None
    try:
        ref = notifier(rt.settings).send(
            Message(channel="email", to=to.strip(), subject=TEST_SUBJECT, body=TEST_TEXT, html=TEST_HTML),
            at=rt.clock.now(),
        )
    except Exception as exc:
        error = classify(exc)[0]
    with rt.transaction(actor, lang=lang) as ctx:
        auditing.record_write(
            ctx, A_TEST, (), (), details={"backend": backend, "accepted": error is None, "error": error}
        )
    return {"accepted": error is None, "backend": backend, "delivery_ref": ref, "error": error}
