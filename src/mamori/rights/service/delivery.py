"""What the rights slice sends, through the kernel's mail queue (issue 18), and the answer's delivery.

Every message to the person — the one-time code (topic ``rights.code``), the receipt notice once an address is
proven (``rights.received``), the extension (``rights.extension``), the answer (``rights.answer``) and the refusal
(``rights.refusal``) — is rendered from the templates (:mod:`mamori.rights.service.letters`, text + HTML, the
person's language) and handed to :func:`mamori.kernel.mail.enqueue` inside the business transaction: stored
sealed, delivered after the commit, retried with back-off.

A request is never marked answered before its answer reached the person (``RightsRequest.answer_state``):

- ``sending``: the answer e-mail is queued; the request stays open (status ``verified``);
- ``delivered``: the delivered hook of ``rights.answer`` / ``rights.refusal`` closes the request (closed_at = the
  delivery, event ``answered``);
- ``undelivered``: the mail finally failed (event ``answer_undelivered``); the board shows 回答未送達 and the
  privacy officer resends (:func:`resend`, a new message to the current address) or posts the letter;
- ``posting``: no e-mail on file, or an answer (a disclosure package, a purpose notice) that staff hand over
  themselves: the letter is posted and the privacy officer records it (:func:`record_posted`);
- ``posted``: recorded as posted on a date; the request is closed.

Staff reminders (:func:`remind_due`, ``mamori rights remind``, the hourly job ``rights.remind``): one digest to
``settings.reminder_to`` listing the open requests due within 3 days (JST), each at most once a day (event
``reminded``) — receipt numbers, kinds, due dates and days left, no personal data.

The hooks and the periodic job are registered when this module is imported (the rights service imports it).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from mamori.kernel import mail
from mamori.kernel.auditing import authorise
from mamori.kernel.clock import JST, today_jst
from mamori.kernel.context import SYSTEM_ACTOR, Context
from mamori.kernel.crypto import KeyDestroyed
from mamori.kernel.errors import IntegrityFailure, PolicyDenied, ValidationFailed
from mamori.kernel.policy import Action, Resource
from mamori.law import requests as deadlines
from mamori.law.rules import G_12, R_33_1, R_37_1, R_39_1
from mamori.rights import queries
from mamori.rights.models import RightsRequest
from mamori.rights.schemas import RequestView, rule_for
from mamori.rights.service import letters
from mamori.rights.service.core.common import _identifiers, _load, close, event, subject_ids, view
from mamori.rights.service.sealing import open_value, request_key_id

if TYPE_CHECKING:
    from mamori.kernel.runtime import Runtime

log = logging.getLogger("mamori.rights")

TOPIC_CODE = "rights.code"
TOPIC_RECEIVED = "rights.received"
TOPIC_EXTENSION = "rights.extension"
TOPIC_ANSWER = "rights.answer"
TOPIC_REFUSAL = "rights.refusal"
TOPIC_REMINDER = "rights.reminder"
ANSWER_TOPICS = (TOPIC_ANSWER, TOPIC_REFUSAL)

SENDING = "sending"
DELIVERED = "delivered"
UNDELIVERED = "undelivered"
POSTING = "posting"
POSTED = "posted"
WAITING = (SENDING, UNDELIVERED, POSTING)  # answered, not yet delivered: the request stays open

REMIND_WITHIN_DAYS = 3
REMIND_EVERY_SECONDS = 3600.0
REMIND_JOB = "rights.remind"

_TABLE, _COLUMN = "rights_requests", "answer_enc"


# -- sending ---------------------------------------------------------------------------------------------------


def recipient(ctx: Context, req: RightsRequest, *, verified_only: bool = False) -> str | None:
    """The request's e-mail address: a verified one first (the newest), else — unless ``verified_only`` — one
    given at intake. None when no address is on file (or it is gone: the request closed, the person erased)."""
    idents = [i for i in _identifiers(ctx, req.id) if i.kind == "email"]
    verified = [i for i in idents if i.verified_at is not None]
    verified.sort(key=lambda i: i.verified_at or i.created_at, reverse=True)
    rest = [] if verified_only else [i for i in idents if i.verified_at is None]
    for ident in [*verified, *rest]:
        value = open_value(ctx, ident)
        if value:
            return value
    return None


def send(
    ctx: Context, req: RightsRequest, email: letters.Email, topic: str, *, to: str | None = None
) -> str | None:
    """Queue ``email`` to the person (``to``, else the request's address); the message id, or None when there is no
    address. Sent after the business transaction commits; nothing is sent if it rolls back."""
    address = to if to is not None else recipient(ctx, req)
    if not address:
        return None
    return mail.enqueue(
        ctx,
        mail.Mail(
            to=address,
            subject=email.subject,
            text=email.text,
            html=email.html,
            lang=email.lang,
            topic=topic,
            ref=req.id,
            subject_ids=tuple(subject_ids(ctx, req.id)),
            request_id=req.id,
        ),
    )


def send_received(ctx: Context, req: RightsRequest) -> str | None:
    """受付のお知らせ, once per request, to the first address the person proves (an e-mail verified by its code).
    Called when a request is verified; a verification by call-back or ID document sends nothing by itself (no
    address proven). The notice says nothing of whether data was found, so it goes alike to everyone."""
    if req.status == "closed" or _has_event(ctx, req.id, "receipt_sent"):
        return None
    to = recipient(ctx, req, verified_only=True)
    if to is None:
        return None
    message_id = send(ctx, req, letters.received_notice(ctx, req), TOPIC_RECEIVED, to=to)
    event(ctx, req, "receipt_sent", (R_37_1.id,), channel="email")
    return message_id


def _has_event(ctx: Context, request_id: str, name: str) -> bool:
    return ctx.session.execute(queries.has_event(request_id, name)).first() is not None


# -- the answer ------------------------------------------------------------------------------------------------


def _seal_answer(ctx: Context, req: RightsRequest, email: letters.Email) -> bytes | None:
    payload = json.dumps(
        {"subject": email.subject, "text": email.text, "html": email.html, "lang": email.lang}
    )
    try:
        return ctx.runtime.cipher.encrypt(request_key_id(req.id), _TABLE, _COLUMN, req.id, payload)
    except KeyDestroyed:  # an erasure destroyed the request's key: no resend (the letter is posted instead)
        return None


def _open_answer(ctx: Context, req: RightsRequest) -> letters.Email | None:
    if req.answer_enc is None:
        return None
    try:
        raw = ctx.runtime.cipher.decrypt(
            request_key_id(req.id), _TABLE, _COLUMN, req.id, bytes(req.answer_enc)
        )
    except (KeyDestroyed, IntegrityFailure):
        return None
    data = json.loads(raw)
    return letters.Email(subject=data["subject"], text=data["text"], html=data["html"], lang=data["lang"])


def answer(
    ctx: Context,
    req: RightsRequest,
    outcome: str,
    email: letters.Email | None,
    topic: str,
    *,
    message_id: str | None = None,
) -> str:
    """Record the answer (``outcome``, answered_at) and send it: queued to the person's address (state
    ``sending``; closed by the delivered hook), or — no e-mail, or ``email`` None for an answer staff hand over
    — the letter is to be posted (state ``posting``; closed when the privacy officer records it). ``message_id``:
    the answer was already queued (an erasure queues it before the person's values are dropped). Returns the
    state."""
    req.outcome = outcome
    req.answered_at = ctx.clock.now()
    if message_id is None and email is not None:
        message_id = send(ctx, req, email, topic)
    if message_id is not None:
        req.answer_state = SENDING
        req.answer_message_id = message_id
        req.answer_enc = _seal_answer(ctx, req, email) if email is not None else None
    else:
        req.answer_state = POSTING
        req.answer_message_id = None
        req.answer_enc = None
    ctx.session.flush()
    return req.answer_state


def _answer_rules(req: RightsRequest) -> tuple[str, ...]:
    rule = rule_for(req.kind, req.regime)
    return (rule, G_12.id) if req.regime == "gdpr" else (rule,)


def _delivered(ctx: Context, ref: str, message_id: str) -> None:
    """rights.answer / rights.refusal delivered: the request is answered — closed at the delivery time."""
    req = ctx.session.get(RightsRequest, ref) if ref else None
    if req is None or req.status == "closed" or req.answer_message_id != message_id:
        return  # an older message (resent since), or the request was closed otherwise (posted)
    req.answer_state = DELIVERED
    close(ctx, req, req.outcome or "fulfilled")
    event(ctx, req, "answered", _answer_rules(req), delivery="email", outcome=req.outcome)
    if req.kind == "erasure" and req.outcome != "refused":
        # The erasure's result notice was kept through the erasure only to reach the person: now that it has,
        # the copy a mail backend keeps (the file outbox) goes too (its queued content is already erased).
        mail.forget(ctx, subject_ids=subject_ids(ctx, req.id), request_ids=[req.id])


def _failed(ctx: Context, ref: str, message_id: str) -> None:
    """rights.answer / rights.refusal finally failed: 回答未送達 — the request stays open, for a resend or a post."""
    req = ctx.session.get(RightsRequest, ref) if ref else None
    if req is None or req.status == "closed" or req.answer_message_id != message_id:
        return
    req.answer_state = UNDELIVERED
    ctx.session.flush()
    event(ctx, req, "answer_undelivered", _answer_rules(req), outcome=req.outcome)


def _waiting(ctx: Context, request_id: str, states: Sequence[str]) -> RightsRequest:
    req = _load(ctx, request_id)
    if req.status == "closed" or req.answer_state not in states:
        raise PolicyDenied(
            "この請求には、送付を待っている回答がありません。",
            "This request has no answer waiting for delivery.",
            code="no_answer_waiting",
        )
    return req


def resend(ctx: Context, request_id: str) -> RequestView:
    """回答未送達: send the answer again as a new message to the request's current address (privacy officer)."""
    authorise(ctx, Action.RIGHTS_MANAGE, Resource(kind="rights_request"))
    req = _waiting(ctx, request_id, (UNDELIVERED,))
    email = _open_answer(ctx, req)
    to = recipient(ctx, req) if email is not None else None
    if email is None or to is None:
        raise ValidationFailed(
            "回答のメールを再送できません（宛先又は回答の内容が残っていません）。回答を郵送し、郵送で回答済みにしてください。",
            "The answer cannot be e-mailed again (no address or answer is left); post it and record it as posted.",
            code="resend_impossible",
        )
    topic = TOPIC_REFUSAL if req.outcome == "refused" else TOPIC_ANSWER
    message_id = send(ctx, req, email, topic, to=to)
    req.answer_state = SENDING
    req.answer_message_id = message_id
    ctx.session.flush()
    event(ctx, req, "answer_resent", _answer_rules(req), channel="email")
    return view(ctx, req)


def record_posted(ctx: Context, request_id: str, posted_on: date) -> RequestView:
    """郵送で回答済みにする: the privacy officer records that the answer letter was posted on ``posted_on`` (an
    answer without e-mail, or one whose e-mail never arrived); the request closes."""
    authorise(ctx, Action.RIGHTS_MANAGE, Resource(kind="rights_request"))
    req = _waiting(ctx, request_id, WAITING)
    today = today_jst(ctx.clock)
    received = req.received_at.astimezone(JST).date()
    if posted_on > today or posted_on < received:
        raise ValidationFailed(
            "郵送した日は、受付日から今日までの日付で入力してください。",
            "The posting date must lie between the day the request was received and today.",
            rule_id=R_33_1.id,
            code="bad_posted_on",
        )
    req.answer_state = POSTED
    close(ctx, req, req.outcome or "fulfilled")
    event(
        ctx,
        req,
        "answered",
        _answer_rules(req),
        delivery="post",
        posted_on=posted_on.isoformat(),
        outcome=req.outcome,
    )
    return view(ctx, req)


def answer_states(ctx: Context, request_ids: Sequence[str]) -> dict[str, str | None]:
    """The answer state of each request (for the board and the request page; the caller has authorised)."""
    if not request_ids:
        return {}
    return {rid: state for rid, state in ctx.session.execute(queries.answer_states(request_ids)).all()}


def download_until(req: RightsRequest) -> date | None:
    """The last day the person can download a disclosure answer: DOWNLOAD_DAYS after the answer was given (not
    after the e-mail's delivery, which may lag), in JST."""
    from mamori.rights.service.fulfil import DOWNLOAD_DAYS

    start = req.answered_at or req.closed_at
    return (start + timedelta(days=DOWNLOAD_DAYS)).astimezone(JST).date() if start else None


# -- staff reminders -------------------------------------------------------------------------------------------


@dataclass
class ReminderResult:
    """What :func:`remind_due` did: counts and receipt numbers only."""

    configured: bool
    due: int = 0  # open requests due within REMIND_WITHIN_DAYS
    sent: int = 0  # digests queued (one per address, or none)
    receipt_nos: list[str] = field(default_factory=list)  # listed in the digest (not yet reminded today)
    recipients: int = 0  # addresses in settings.reminder_to

    def as_dict(self) -> dict[str, object]:
        return {
            "configured": self.configured,
            "due": self.due,
            "sent": self.sent,
            "receipt_nos": list(self.receipt_nos),
            "recipients": self.recipients,
        }


def reminder_addresses(raw: str | None) -> list[str]:
    return [a.strip() for a in (raw or "").split(",") if a.strip()]


def _due_soon(ctx: Context, today: date) -> list[RightsRequest]:
    rows = [r for r in ctx.session.execute(queries.open_requests_by_due()).scalars() if r.receipt_no]
    soon = [
        r for r in rows if deadlines.days_left(r.extended_due_on or r.due_on, today) <= REMIND_WITHIN_DAYS
    ]
    return sorted(soon, key=lambda r: (r.extended_due_on or r.due_on, r.receipt_no))


def _reminded_today(ctx: Context, request_id: str, today: date) -> bool:
    start = datetime(today.year, today.month, today.day, tzinfo=JST)
    q = queries.reminded_between(request_id, start, start + timedelta(days=1))
    return ctx.session.execute(q).first() is not None


STATE_WORDS = {
    "ja": {
        SENDING: "回答送信中",
        DELIVERED: "回答送達済み",
        UNDELIVERED: "回答未送達",
        POSTING: "回答の郵送待ち",
        POSTED: "郵送で回答済み",
    },
    "en": {
        SENDING: "Answer being sent",
        DELIVERED: "Answer delivered",
        UNDELIVERED: "Answer undelivered",
        POSTING: "Answer to be posted",
        POSTED: "Answered by post",
    },
}


def state_word(state: str | None, lang: str = "ja") -> str:
    """The answer state in words (回答未送達 …); 「—」 when not answered yet."""
    if not state:
        return "—"
    return STATE_WORDS["en" if lang == "en" else "ja"].get(state, state)


def remind_due(ctx: Context) -> ReminderResult:
    """期限が3日以内の請求: one digest to ``settings.reminder_to`` (comma-separated) listing the open requests due
    within 3 days (JST; overdue ones included) that were not yet reminded today; each listed request gets the
    event ``reminded``. Privacy officer or the system (the hourly job). No personal data in the digest."""
    authorise(ctx, Action.RIGHTS_MANAGE, Resource(kind="rights_request"))
    settings = ctx.runtime.settings
    addresses = reminder_addresses(settings.reminder_to)
    today = today_jst(ctx.clock)
    soon = _due_soon(ctx, today)
    result = ReminderResult(configured=bool(addresses), due=len(soon), recipients=len(addresses))
    if not addresses:
        return result
    todo = [r for r in soon if not _reminded_today(ctx, r.id, today)]
    if not todo:
        return result
    lang = "en" if settings.lang == "en" else "ja"
    rows = [
        letters.DueRow(
            receipt_no=r.receipt_no,
            kind=r.kind,
            due=r.extended_due_on or r.due_on,
            days_left=deadlines.days_left(r.extended_due_on or r.due_on, today),
            state=state_word(r.answer_state, lang) if r.answer_state else None,
        )
        for r in todo
    ]
    digest = letters.reminder_digest(settings, rows, today)
    for to in addresses:  # one message per address: a recipient never sees the others
        mail.enqueue(
            ctx,
            mail.Mail(
                to=to,
                subject=digest.subject,
                text=digest.text,
                html=digest.html,
                lang=digest.lang,
                topic=TOPIC_REMINDER,
            ),
        )
    for r in todo:
        due = r.extended_due_on or r.due_on
        rule = G_12.id if r.regime == "gdpr" else R_39_1.id
        event(ctx, r, "reminded", (rule,), due=due.isoformat(), days_left=deadlines.days_left(due, today))
    result.sent = len(addresses)
    result.receipt_nos = [r.receipt_no for r in todo]
    return result


_unconfigured_logged = False


def remind_job(rt: Runtime) -> ReminderResult | None:
    """The hourly job (kernel.mail.register_periodic): does nothing without ``reminder_to`` (logged once)."""
    global _unconfigured_logged
    if not reminder_addresses(rt.settings.reminder_to):
        if not _unconfigured_logged:
            log.info("rights reminders: reminder_to is not set; no reminder is sent")
            _unconfigured_logged = True
        return None
    with rt.transaction(SYSTEM_ACTOR) as ctx:
        return remind_due(ctx)


mail.register_delivery_hooks(TOPIC_ANSWER, delivered=_delivered, failed=_failed)
mail.register_delivery_hooks(TOPIC_REFUSAL, delivered=_delivered, failed=_failed)
mail.register_periodic(REMIND_JOB, remind_job, REMIND_EVERY_SECONDS)
