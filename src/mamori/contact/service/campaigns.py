"""E-mail campaigns under the 特定電子メール法 (issue 20): a draft, then one send to the purpose's mailing list.

- **Draft** (``create``): a name, the purpose it is sent under, a subject and a plain-text body written by marketing.
  The only placeholder is ``{name}``. The purpose must name the e-mail channel (R-18-1). Nothing personal is stored.
- **Send** (``send``, once): the recipients come from the list builder (:func:`mamori.contact.service.lists.build`
  under the campaign's purpose, channel e-mail), which applies the policy engine — notified, consent, stop-use,
  do-not-contact, and for a marketing purpose the prior opt-in (TE-3). Refused with TE-4 when the operator's name,
  address, complaint contact or public URL is not configured: every message carries (特定電子メール法 4条) the
  sender's name and address, where to send opinions and complaints, and an unsubscribe link with the line saying
  the recipient may refuse further mail, and the headers ``List-Unsubscribe`` / ``List-Unsubscribe-Post``
  (RFC 8058 one-click). Each recipient gets one ``CampaignSend`` (ids, status and an error code; the address lives
  only sealed in the mail queue, the body nowhere per person) and one queued mail (topic ``campaign``, ref = the
  send id). The unsubscribe token is random; only its sha256 is stored.
- **Measurement** (brief T, issue 24 item 4; :mod:`mamori.contact.service.tracking`): a campaign created with
  ``tracking`` ``clicks`` / ``opens_clicks`` — only under a purpose covering behaviour data (R-18-1,
  ``tracking_not_in_purpose``) — has its body's links rewritten to ``/c/<token>/<n>`` and, for opens, an HTML
  alternative with a 1×1 image; the footer says what is recorded. A person under the GDPR gets the untracked
  message (no consent to tracking: ePrivacy), their send ``tracked`` false.
- **Outcome**: the mail queue's delivered / failed hooks mark the send ``sent`` / ``failed`` (with the queue's
  error code); a bounce that arrives later is recorded with ``bounce`` (its code only).
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from urllib.parse import urlsplit

from sqlalchemy import func, select, update

from mamori.contact.campaign_schemas import (
    PLACEHOLDERS,
    CampaignCreate,
    CampaignPreview,
    CampaignRead,
    CampaignSendRead,
    CampaignSummary,
    Tracking,
)
from mamori.contact.models import Campaign, CampaignSend
from mamori.contact.permissions import CAMPAIGN_MANAGE, CAMPAIGN_SEND
from mamori.contact.service import tracking
from mamori.customers.service.subjects import gdpr_subjects
from mamori.kernel import mail
from mamori.kernel.auditing import authorise, record_refusal, record_write
from mamori.kernel.context import Context
from mamori.kernel.db import new_id
from mamori.kernel.errors import Conflict, NotFound, PolicyDenied, ValidationFailed
from mamori.kernel.mail.models import MailMessage
from mamori.kernel.policy import Category, PurposeFacts, Resource, Scope, row_scope
from mamori.kernel.registry import ConsentState, PurposeState
from mamori.kernel.settings import Settings
from mamori.law.rules import R_18_1, TE_3, TE_4
from mamori.purposes import service as purposes_service

TOPIC = "campaign"  # the mail queue topic of campaign messages (its hooks below)
CHANNEL = "email"
UNSUBSCRIBE_PATH = "/u/"
ONE_CLICK = "List-Unsubscribe=One-Click"  # RFC 8058 §3.1: the List-Unsubscribe-Post value (and the POST body)
SAMPLE_NAME = "山田 太郎"
DEFAULT_NAME = "お客様"  # {name} when the list gives no name

# Audit actions (labels in kernel/labels/data/web_audit.toml).
A_CREATED = "contact.campaign.created"
A_SENT = "contact.campaign.sent"
A_BOUNCED = "contact.campaign.bounced"

_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


# -- helpers ----------------------------------------------------------------------------------------------------


def token_digest(token: str) -> bytes:
    """The stored form of an unsubscribe token (the token itself is only in the sealed mail)."""
    return hashlib.sha256(token.encode("utf-8")).digest()


# The campaign-level question "may this actor send for this purpose at all", asked for a person as favourable as
# can be; every recipient is then decided one by one by the list builder.
FAVOURABLE = PurposeState(consent=ConsentState.GRANTED, channels_in=frozenset({CHANNEL}))


def _authorise_manage(ctx: Context) -> None:
    authorise(ctx, CAMPAIGN_MANAGE, Resource(kind="campaign"))


def _check_placeholders(*texts: str) -> None:
    for text in texts:
        unknown = sorted({m.group(1) for m in _PLACEHOLDER.finditer(text)} - set(PLACEHOLDERS))
        stray = _PLACEHOLDER.sub("", text)
        if unknown or "{" in stray or "}" in stray:
            raise ValidationFailed(
                "差し込みに使えるのは {name}（宛名）だけです。",
                "The only placeholder allowed is {name}.",
                code="unknown_placeholder",
            )


def _purpose_with_email(ctx: Context, code: str) -> PurposeFacts:
    facts = purposes_service.facts(ctx, code)
    if facts is None:
        raise NotFound(
            f"利用目的「{code}」は登録されていません。",
            f"Purpose '{code}' is not registered.",
            rule_id="R-17-1",
            code="purpose_unknown",
        )
    if facts.retired:
        raise ValidationFailed(
            f"利用目的「{code}」は廃止されています。",
            f"Purpose '{code}' has been retired.",
            rule_id="R-17-1",
            code="purpose_retired",
        )
    if CHANNEL not in facts.channels:
        raise ValidationFailed(
            f"利用目的「{code}」の連絡手段にメールが含まれていないため、メール配信には使えません（目的外利用）。",
            f"Purpose '{code}' does not name e-mail as a channel; it cannot be used for an e-mail campaign.",
            rule_id="R-18-1",
            code="channel_not_in_purpose",
        )
    return facts


def _check_tracking(ctx: Context, facts: PurposeFacts, tracking_option: str) -> None:
    """Brief T: recording opens and clicks is behaviour data about the person; a purpose that does not cover the
    behaviour category does not allow it (use beyond the purpose, R-18-1). Audited as a refusal."""
    if tracking_option == "none" or Category.BEHAVIOUR in facts.categories:
        return
    refused = PolicyDenied(
        f"利用目的「{facts.code}」は行動履歴を対象に含まないため、開封・クリックの計測はできません（目的外利用）。",
        f"Purpose '{facts.code}' does not cover behaviour data, so opens and clicks cannot be measured under it.",
        rule_id=R_18_1.id,
        code="tracking_not_in_purpose",
    )
    record_refusal(ctx, CAMPAIGN_MANAGE, (), refused)
    raise refused


def _links(body: str) -> list[str]:
    found = tracking.parse_links(body)
    if len(found) > tracking.MAX_LINKS:
        raise ValidationFailed(
            f"計測するメールのリンクは{tracking.MAX_LINKS}個までです。",
            f"A measured campaign may hold at most {tracking.MAX_LINKS} links.",
            code="too_many_links",
        )
    return found


def _stored_links(row: Campaign) -> list[str]:
    try:
        value = json.loads(row.links or "[]")
    except ValueError:
        return []
    return [str(v) for v in value] if isinstance(value, list) else []


@contextmanager
def _under_purpose(ctx: Context, purpose: str) -> Iterator[Context]:
    """The same unit of work (session, memo, audit outbox) with the campaign's purpose declared."""
    saved = ctx.purpose
    ctx.purpose = purpose
    try:
        yield ctx
    finally:
        ctx.purpose = saved


def _get(ctx: Context, campaign_id: str) -> Campaign:
    row = ctx.session.get(Campaign, campaign_id) if campaign_id else None
    if row is None:
        raise NotFound("キャンペーンが見つかりません。", "No such campaign.", code="campaign_not_found")
    return row


def _counts(raw: str | None) -> tuple[int, dict[str, int]]:
    try:
        value = json.loads(raw or "{}")
    except ValueError:
        value = {}
    if not isinstance(value, dict):
        return 0, {}
    excluded = value.get("excluded")
    return int(value.get("queued") or 0), (
        {str(k): int(v) for k, v in excluded.items()} if isinstance(excluded, dict) else {}
    )


def _send_counts(ctx: Context, campaign_id: str) -> dict[str, int]:
    rows = ctx.session.execute(
        select(CampaignSend.status, func.count())
        .where(CampaignSend.campaign_id == campaign_id)
        .group_by(CampaignSend.status)
    ).all()
    return {str(status): int(n) for status, n in sorted(rows)}


def _measured(ctx: Context, campaign_id: str) -> tuple[int, int, int]:
    """(tracked sends, opened, clicked) of a campaign (a click counts as an open)."""
    tracked, opened, clicked = ctx.session.execute(
        select(
            func.count(),
            func.count(CampaignSend.opened_at),
            func.count(CampaignSend.clicked_at),
        ).where(CampaignSend.campaign_id == campaign_id, CampaignSend.tracked.is_(True))
    ).one()
    return int(tracked), int(opened), int(clicked)


def _read(ctx: Context, row: Campaign) -> CampaignRead:
    queued, excluded = _counts(row.counts)
    tracked, opened, clicked = (
        _measured(ctx, row.id) if row.status == "sent" and row.tracking != "none" else (0, 0, 0)
    )
    return CampaignRead(
        id=row.id,
        name=row.name,
        purpose=row.purpose_code,
        purpose_version=row.purpose_version,
        channel=row.channel,
        subject=row.subject,
        body=row.body,
        status="sent" if row.status == "sent" else "draft",
        created_at=row.created_at,
        created_by=row.created_by,
        sent_at=row.sent_at,
        list_build_id=row.list_build_id,
        queued=queued,
        excluded=excluded,
        sends=_send_counts(ctx, row.id) if row.status == "sent" else {},
        tracking=_tracking_of(row),
        links=_stored_links(row),
        tracked=tracked,
        opened=opened,
        clicked=clicked,
    )


def _tracking_of(row: Campaign) -> Tracking:
    if row.tracking == "clicks":
        return "clicks"
    if row.tracking == "opens_clicks":
        return "opens_clicks"
    return "none"


def _send_read(row: CampaignSend) -> CampaignSendRead:
    return CampaignSendRead(
        id=row.id,
        campaign_id=row.campaign_id,
        customer_id=row.customer_id,
        status=row.status,
        reason=row.reason,
        queued_at=row.queued_at,
        finished_at=row.finished_at,
        unsubscribed_at=row.unsubscribed_at,
        tracked=bool(row.tracked),
        opened_at=row.opened_at,
        clicked_at=row.clicked_at,
        clicks=int(row.clicks or 0),
    )


# -- the sender's identity (TE-4) -------------------------------------------------------------------------------


def _te4(ja: str, en: str, code: str) -> PolicyDenied:
    return PolicyDenied(
        f"特定電子メールの表示義務を満たせないため送信できません: {ja}",
        f"The campaign cannot be sent without what every marketing e-mail must show: {en}",
        rule_id=TE_4.id,
        code=code,
    )


def _base_url(settings: Settings) -> str | None:
    base = (settings.public_base_url or "").strip().rstrip("/")
    parts = urlsplit(base)
    local = parts.hostname in ("localhost", "127.0.0.1", "::1")
    if not parts.netloc or not (parts.scheme == "https" or (parts.scheme == "http" and local)):
        return None
    return base


def sender_problems(settings: Settings) -> list[str]:
    """The settings that are missing for TE-4 (names of MAMORI_* variables); empty when a campaign may be sent."""
    missing = []
    if not (settings.operator_name or "").strip():
        missing.append("MAMORI_OPERATOR_NAME")
    if not (settings.operator_address or "").strip():
        missing.append("MAMORI_OPERATOR_ADDRESS")
    if not ((settings.privacy_contact or "").strip() or (settings.mail_from or "").strip()):
        missing.append("MAMORI_PRIVACY_CONTACT")
    if _base_url(settings) is None:
        missing.append("MAMORI_PUBLIC_BASE_URL")
    return missing


def _require_sender(settings: Settings) -> str:
    missing = sender_problems(settings)
    if "MAMORI_OPERATOR_NAME" in missing or "MAMORI_OPERATOR_ADDRESS" in missing:
        raise _te4(
            "送信者の氏名・名称と住所を設定してください（MAMORI_OPERATOR_NAME / MAMORI_OPERATOR_ADDRESS）。",
            "set the sender's name and address (MAMORI_OPERATOR_NAME / MAMORI_OPERATOR_ADDRESS).",
            "sender_not_configured",
        )
    if "MAMORI_PRIVACY_CONTACT" in missing:
        raise _te4(
            "苦情・問い合わせの連絡先を設定してください（MAMORI_PRIVACY_CONTACT）。",
            "set the contact for opinions and complaints (MAMORI_PRIVACY_CONTACT).",
            "complaint_contact_not_configured",
        )
    base = _base_url(settings)
    if base is None:
        raise _te4(
            "配信停止リンクの公開 URL を https で設定してください（MAMORI_PUBLIC_BASE_URL）。",
            "set the public https URL of the unsubscribe link (MAMORI_PUBLIC_BASE_URL).",
            "unsubscribe_url_not_configured",
        )
    return base


def unsubscribe_url(base: str, token: str) -> str:
    return f"{base}{UNSUBSCRIBE_PATH}{token}"


def footer(settings: Settings, link: str, tracking_option: str = "none") -> str:
    """What 特定電子メール法 4条 (TE-4) requires in every message: the sender, the address, the contact for
    opinions and complaints, and how to refuse further mail — and, for a measured message, what is recorded."""
    contact = (settings.privacy_contact or "").strip() or (settings.mail_from or "").strip()
    measured = tracking.footer_line(tracking_option)
    return (
        "\n\n――――――――――――――――――――\n"
        f"送信者: {(settings.operator_name or '').strip()}\n"
        f"住所: {(settings.operator_address or '').strip()}\n"
        f"ご意見・苦情・お問い合わせ: {contact}\n"
        "配信停止をご希望の方は、次のリンクからお手続きください。今後このメールの受信を拒否できます。\n"
        f"{link}\n" + (f"{measured}\n" if measured else "")
    )


def _headers(link: str) -> tuple[tuple[str, str], ...]:
    return (("List-Unsubscribe", f"<{link}>"), ("List-Unsubscribe-Post", ONE_CLICK))


def _fill(text: str, name: str) -> str:
    return text.replace("{name}", name)


def _one_line(value: str) -> str:
    return " ".join(value.split())


# -- drafts -----------------------------------------------------------------------------------------------------


def create(ctx: Context, data: CampaignCreate) -> CampaignRead:
    """A draft under a purpose that names e-mail (R-18-1); ``{name}`` is the only placeholder."""
    _authorise_manage(ctx)
    facts = _purpose_with_email(ctx, data.purpose)
    _check_tracking(ctx, facts, data.tracking)
    _check_placeholders(data.subject, data.body)
    body = data.body.replace("\r\n", "\n")
    row = Campaign(
        id=new_id(),
        name=data.name.strip(),
        purpose_code=data.purpose,
        purpose_version=facts.version,
        channel=CHANNEL,
        subject=data.subject.strip(),
        body=body,
        status="draft",
        created_at=ctx.clock.now(),
        created_by=ctx.actor.label,
        tracking=data.tracking,
        links=json.dumps(_links(body) if data.tracking != "none" else tracking.parse_links(body)),
    )
    ctx.session.add(row)
    ctx.session.flush()
    record_write(
        ctx,
        A_CREATED,
        (),
        (),
        rule_ids=(TE_3.id,) if facts.marketing else (),
        details={"campaign_id": row.id, "purpose": row.purpose_code, "tracking": row.tracking},
    )
    return _read(ctx, row)


def show(ctx: Context, campaign_id: str) -> CampaignRead:
    _authorise_manage(ctx)
    return _read(ctx, _get(ctx, campaign_id))


def list_campaigns(ctx: Context, *, limit: int = 200) -> list[CampaignSummary]:
    _authorise_manage(ctx)
    rows = ctx.session.execute(
        select(Campaign).order_by(Campaign.created_at.desc(), Campaign.id).limit(limit)
    ).scalars()
    out = []
    for row in rows:
        queued, _ = _counts(row.counts)
        out.append(
            CampaignSummary(
                id=row.id,
                name=row.name,
                purpose=row.purpose_code,
                status="sent" if row.status == "sent" else "draft",
                created_at=row.created_at,
                sent_at=row.sent_at,
                queued=queued,
                tracking=_tracking_of(row),
            )
        )
    return out


def preview(ctx: Context, campaign_id: str) -> CampaignPreview:
    """The message as a recipient sees it, with a sample name and a sample link (no list is built)."""
    _authorise_manage(ctx)
    row = _get(ctx, campaign_id)
    settings = ctx.runtime.settings
    base = _base_url(settings) or "https://（公開URL未設定）"
    link = unsubscribe_url(base, "（配信停止用の個別リンク）")
    return CampaignPreview(
        subject=_one_line(_fill(row.subject, SAMPLE_NAME)),
        text=_fill(row.body, SAMPLE_NAME) + footer(settings, link, row.tracking),
        headers=list(_headers(link)),
        sender_configured=not sender_problems(settings),
    )


def sends(ctx: Context, campaign_id: str, *, limit: int = 1000) -> list[CampaignSendRead]:
    """The campaign's sends (ids, status, error code) — for following up failures and bounces."""
    _authorise_manage(ctx)
    _get(ctx, campaign_id)
    rows = ctx.session.execute(
        select(CampaignSend)
        .where(CampaignSend.campaign_id == campaign_id)
        .order_by(CampaignSend.queued_at, CampaignSend.id)
        .limit(limit)
    ).scalars()
    return [_send_read(r) for r in rows]


# -- sending ----------------------------------------------------------------------------------------------------


def send(ctx: Context, campaign_id: str, *, ids: Sequence[str] | None = None) -> CampaignRead:
    """Send the campaign once, to the purpose's e-mail list as the policy engine builds it now — or, with ``ids``,
    to those customers only (each still decided by the list builder: notified, consent, opt-in, scope).

    Refused: a campaign already sent (Conflict), a purpose that no longer names e-mail (R-18-1), a sender not
    configured (TE-4). Each message is queued in this transaction and leaves after the commit.

    Issue 21: a sales rep may send (``contact.campaign_send`` Scope.OWN) only a message they wrote themselves, to
    explicit customers, and the list builder leaves out every customer who is not theirs (R-23-2)."""
    row = _get(ctx, campaign_id)
    with _under_purpose(ctx, row.purpose_code):
        facts = purposes_service.facts(ctx, row.purpose_code)
        authorise(
            ctx,
            CAMPAIGN_SEND,
            Resource(
                kind="campaign",
                purpose=facts,
                # the campaign as a whole, asked for a person as favourable as can be (notified, consenting, opted
                # in: customers.service.contactable.probe does the same); each person is then decided by the list
                # builder (notified, consent, TE-3, do-not-contact). Without the consent here, every purpose that
                # needs consent was refused outright (consent_missing) although its consenting people may be sent.
                notified_purposes=frozenset({row.purpose_code}),
                state=FAVOURABLE,
            ),
        )
        if row_scope(ctx, CAMPAIGN_SEND) != Scope.ALL and (ids is None or row.created_by != ctx.actor.label):
            refused = PolicyDenied(
                "担当者は自分で作成したメッセージを自分の担当顧客にだけ送信できます。",
                "A rep may send only a message they wrote, to their own customers.",
                rule_id="R-23-2",
                code="out_of_scope",
            )
            record_refusal(ctx, CAMPAIGN_SEND, (), refused)
            raise refused
        if row.status != "draft":
            raise Conflict(
                "このキャンペーンは送信済みです。",
                "This campaign has already been sent.",
                code="already_sent",
            )
        facts = _purpose_with_email(ctx, row.purpose_code)
        _check_tracking(ctx, facts, row.tracking)  # the purpose may have changed since the draft
        settings = ctx.runtime.settings
        base = _require_sender(settings)
        now = ctx.clock.now()
        claimed = ctx.session.execute(
            update(Campaign)
            .where(Campaign.id == row.id, Campaign.status == "draft")
            .values(status="sent", sent_at=now)
            .execution_options(synchronize_session=False)
        )
        if getattr(claimed, "rowcount", 0) != 1:  # another sender won the race
            raise Conflict(
                "このキャンペーンは送信済みです。",
                "This campaign has already been sent.",
                code="already_sent",
            )
        from mamori.contact.service import lists

        built = lists.build(ctx, channel=CHANNEL, ids=ids)
        measuring = row.tracking in ("clicks", "opens_clicks")
        # ePrivacy: no open or click is recorded for a person under the GDPR (no consent to it is asked here)
        gdpr = (
            gdpr_subjects(ctx, [str(p.get("customer_id") or "") for p in built.rows]) if measuring else set()
        )
        parts = tracking.pieces(row.body, _stored_links(row))
        queued = tracked_count = 0
        for person in built.rows:
            address = str(person.get("email") or "").strip()
            customer_id = str(person.get("customer_id") or "")
            if not address or not customer_id:
                continue
            name = _one_line(str(person.get("name") or "")) or DEFAULT_NAME
            token = secrets.token_urlsafe(32)
            link = unsubscribe_url(base, token)
            tracked = measuring and customer_id not in gdpr
            track = secrets.token_urlsafe(32) if tracked else None
            send_row = CampaignSend(
                id=new_id(),
                campaign_id=row.id,
                customer_id=customer_id,
                status="queued",
                token_digest=token_digest(token),
                queued_at=now,
                tracked=tracked,
                track_digest=tracking.digest(track) if track else None,
                clicks=0,
            )
            ctx.session.add(send_row)
            tail = footer(settings, link, row.tracking if tracked else "none")
            send_row.mail_message_id = mail.enqueue(
                ctx,
                mail.Mail(
                    to=address,
                    subject=_one_line(_fill(row.subject, name))[:998],
                    text=tracking.text_with(parts, name, base, track) + tail,
                    html=(
                        tracking.html_with(
                            parts, name, base, track, tail, link, pixel=row.tracking == "opens_clicks"
                        )
                        if track
                        else None
                    ),
                    topic=TOPIC,
                    ref=send_row.id,
                    subject_ids=(customer_id,),
                    headers=_headers(link),
                ),
            )
            queued += 1
            tracked_count += int(tracked)
        excluded = {str(k): int(v) for k, v in dict(built.excluded).items()}
        ctx.session.execute(
            update(Campaign)
            .where(Campaign.id == row.id)
            .values(
                purpose_version=built.purpose_version,  # the version in force when it was sent
                list_build_id=built.build_id,
                counts=json.dumps({"queued": queued, "excluded": excluded}, sort_keys=True),
            )
            .execution_options(synchronize_session=False)
        )
        ctx.session.flush()
        ctx.session.refresh(row)
        details: dict[str, str | int | bool | None] = {
            "campaign_id": row.id,
            "purpose": row.purpose_code,
            "list_build_id": built.build_id,
            "queued": queued,
            "excluded": sum(excluded.values()),
        }
        if measuring:
            details["tracking"] = row.tracking
            details["tracked"] = tracked_count
        record_write(
            ctx,
            A_SENT,
            (),
            (),
            rule_ids=(TE_4.id, TE_3.id) if facts.marketing else (TE_4.id,),
            details=details,
        )
        return _read(ctx, row)


def send_to(
    ctx: Context, *, name: str, purpose: str, subject: str, body: str, customer_ids: Sequence[str]
) -> CampaignRead:
    """A one-off message to explicit customers (issue 21: a successor's greeting to the customers handed over):
    written and sent at once by whoever may send campaigns (``contact.campaign_send``; a sales rep: to their own
    customers only). The draft is recorded like any campaign; each person is decided by the list builder under the
    message's purpose (notified, consent, opt-in, do-not-contact, scope) and the exclusions are counted by reason.
    """
    data = CampaignCreate(name=name, purpose=purpose, subject=subject, body=body)
    with _under_purpose(ctx, data.purpose):
        authorise(
            ctx,
            CAMPAIGN_SEND,
            Resource(
                kind="campaign",
                purpose=purposes_service.facts(ctx, data.purpose),
                notified_purposes=frozenset({data.purpose}),
                state=FAVOURABLE,  # as in send(): each person is decided by the list builder
            ),
        )
    facts = _purpose_with_email(ctx, data.purpose)
    _check_placeholders(data.subject, data.body)
    if not customer_ids:
        raise ValidationFailed("送信先の顧客がいません。", "No customer to send to.", code="no_recipients")
    row = Campaign(
        id=new_id(),
        name=data.name.strip(),
        purpose_code=data.purpose,
        purpose_version=facts.version,
        channel=CHANNEL,
        subject=data.subject.strip(),
        body=data.body.replace("\r\n", "\n"),
        status="draft",
        created_at=ctx.clock.now(),
        created_by=ctx.actor.label,
    )
    ctx.session.add(row)
    ctx.session.flush()
    record_write(
        ctx,
        A_CREATED,
        (),
        (),
        rule_ids=(TE_3.id,) if facts.marketing else (),
        details={"campaign_id": row.id, "purpose": row.purpose_code, "recipients": len(customer_ids)},
    )
    return send(ctx, row.id, ids=list(customer_ids))


# -- outcomes ---------------------------------------------------------------------------------------------------


def _send_row(ctx: Context, send_id: str) -> CampaignSend | None:
    return ctx.session.get(CampaignSend, send_id) if send_id else None


def _delivered(ctx: Context, ref: str, message_id: str) -> None:
    row = _send_row(ctx, ref)
    # failed: staff put the message back in the queue (``mamori mail retry``) and it has now left
    if row is not None and row.status in ("queued", "failed"):
        row.status = "sent"
        row.reason = None
        row.finished_at = ctx.clock.now()


def _failed(ctx: Context, ref: str, message_id: str) -> None:
    row = _send_row(ctx, ref)
    if row is None or row.status not in ("queued", "sent"):
        return
    message = ctx.session.get(MailMessage, message_id)
    row.status = "failed"
    row.reason = (message.last_error if message is not None else None) or "error"
    row.finished_at = ctx.clock.now()


mail.register_delivery_hooks(TOPIC, delivered=_delivered, failed=_failed)


def bounce(ctx: Context, send_id: str, reason: str) -> CampaignSendRead:
    """A bounce reported after delivery (a DSN, the provider's feedback): the send becomes ``bounced`` with the
    bounce's code (never the server's text or the address)."""
    _authorise_manage(ctx)
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", reason or ""):
        raise ValidationFailed(
            "バウンスの理由はコード（例: 5.1.1、mailbox_full）で指定してください。",
            "Give the bounce reason as a code (e.g. 5.1.1, mailbox_full).",
            code="bad_bounce_reason",
        )
    row = _send_row(ctx, send_id)
    if row is None:
        raise NotFound("配信記録が見つかりません。", "No such campaign send.", code="send_not_found")
    if row.status not in ("queued", "sent"):
        raise Conflict(
            f"この配信はバウンスとして記録できない状態です（{row.status}）。",
            f"This send cannot be recorded as bounced (it is {row.status}).",
            code="send_not_bounceable",
        )
    row.status = "bounced"
    row.reason = reason
    row.finished_at = ctx.clock.now()
    ctx.session.flush()
    record_write(
        ctx,
        A_BOUNCED,
        [row.customer_id],
        (),
        details={"campaign_id": row.campaign_id, "send_id": row.id, "reason": reason},
    )
    return _send_read(row)
