"""The call center's inbound screen (issue 20, seed 003 Q1 and Q2): find the caller by the number they call from,
show what the operator needs to answer 「どこで私の情報を知ったのか」 and 「もう電話してこないで」, and record a
do-not-contact request in one step.

- :func:`find` — the number in any Japanese form (全角, no hyphens, ``+81``, ``TEL:``) is normalised to E.164 and
  looked up through the blind index of phone numbers (never stored, never logged, never in a URL). Each match is
  read through the customers service for ``ctx.purpose`` (the policy engine masks what the purpose does not cover
  and audits the read); a match the actor's row scope does not cover (a sales rep and another rep's customer) is
  not shown, as in every customer search (R-23-2; the customers service audits the denial); a match in scope that
  the purpose may not read (not notified, use stopped …) is shown as refused, with the rule id and the person's
  do-not-contact and stop-use state only, so the operator can still honour a request. The find itself is audited
  (``contact.inbound.find``: the ids shown and counts, never the number).
- :func:`caller` — the same card for one customer id (the page after a request was recorded).
- :func:`record_do_not_contact` — one ledger line per channel through ``consent.service.do_not_contact`` (R-35-1,
  effective at the next decision), method ``oral`` (the person said it on the phone), an optional reference.

Roles: ``contact.reach`` — support and the privacy officer for everyone, a sales rep for their own customers,
nobody else (the analyst is refused with R-23-2). The customers and consent services apply their own grants.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from mamori.consent import service as consent_service
from mamori.consent.schemas import CHANNELS, ConsentIn
from mamori.contact.permissions import CONTACT_REACH
from mamori.customers import queries as customers_queries
from mamori.customers import service as customers_service
from mamori.customers.service import subjects
from mamori.kernel.auditing import record_denial, record_read
from mamori.kernel.context import Context
from mamori.kernel.crypto.blind_index import normalise_phone
from mamori.kernel.errors import NotFound, PolicyDenied, ValidationFailed
from mamori.kernel.policy import Resource, Scope, decide, row_scope
from mamori.kernel.schemas import InputModel
from mamori.law.rules import R_17_1, R_35_1
from mamori.purposes import service as purposes_service
from mamori.purposes.schemas import PurposeRead

MAX_CALLERS = 20  # a shared line (a family's landline, an office) matches a few people, never hundreds
REFERENCE_MAX = 200
PHONE_MAX = 40  # as the customers search (FindRequest.phone)
# A refusal that must look like "no such customer": outside the actor's scope is not admitted to exist (R-23-2).
_HIDDEN = frozenset(
    {"out_of_scope", "customer_not_found", "not_found", "no_running_contract", "outside_contract"}
)


class NoticedPurpose(BaseModel):
    """One purpose the person was notified of (R-21-1): the version they were told, how and when."""

    code: str
    title_ja: str
    title_en: str
    version: int
    current_version: int | None = None
    method: str  # notified / stated / published / exception
    notified_at: datetime
    exception_ground: str | None = None
    pending: bool = False  # only an older version was notified (R-17-2)


class Source(BaseModel):
    """Where the data came from (seed 003 Q1: 「どこで私の情報を知ったのか」)."""

    method: str  # direct / third_party / public / succession
    channel: str | None
    source: str | None  # the provider or public source (no personal value)
    acquisition: str | None  # 取得の経緯 as recorded
    notice_version: str | None
    acquired_at: datetime


class Caller(BaseModel):
    """A person the number matched. ``allowed`` False: the purpose may not read them (``refusal_code``,
    ``rule_ids``); then only the id and the do-not-contact / stop-use state are given."""

    customer_id: str
    allowed: bool = True
    refusal_code: str | None = None
    rule_ids: list[str] = Field(default_factory=list)
    refusal_ja: str | None = None
    refusal_en: str | None = None
    name: str | None = None
    kana: str | None = None
    masked: list[str] = Field(default_factory=list)
    purposes: list[NoticedPurpose] = Field(default_factory=list)
    sources: list[Source] = Field(default_factory=list)
    do_not_contact: list[str] = Field(default_factory=list)  # channels opted out (R-35-1)
    channels: dict[str, str] = Field(default_factory=dict)  # channel → opt_in / opt_out / none
    stopped: list[str] = Field(
        default_factory=list
    )  # stop-use in force: purpose codes, "*" (all), "@provision"


class InboundFind(BaseModel):
    purpose: str
    callers: list[Caller]


class PhoneIn(InputModel):
    """``POST /api/v1/contact/inbound/find``: the number travels in the body."""

    phone: str = Field(max_length=PHONE_MAX)


class DoNotContactIn(InputModel):
    channels: list[str] = Field(max_length=len(CHANNELS))
    reference: str | None = Field(default=None, max_length=REFERENCE_MAX)


def _bad_phone() -> ValidationFailed:
    return ValidationFailed(
        "電話番号として認識できません（例: 03-1234-5678、０９０１２３４５６７８、+81 90 1234 5678）。",
        "Not a phone number (e.g. 03-1234-5678, 09012345678, +81 90 1234 5678).",
        code="bad_phone",
    )


def check_phone(phone: str) -> str:
    """The number as given, stripped; ValidationFailed (never echoing it) when empty or not a phone number."""
    given = (phone or "").strip()
    if not given:
        raise ValidationFailed(
            "電話番号を入力してください。", "Enter the caller's phone number.", code="phone_required"
        )
    if len(given) > PHONE_MAX:
        raise _bad_phone()
    try:
        normalise_phone(given)
    except ValidationFailed:
        raise _bad_phone() from None
    return given


def may_use(ctx: Context) -> Scope:
    """The role gate of the screen: ``contact.reach`` (support, privacy officer: all; sales: own; any other role
    refused with R-23-2, the refusal audited)."""
    scope = row_scope(ctx, CONTACT_REACH)
    if scope == Scope.NONE:
        decision = decide(ctx, CONTACT_REACH, Resource(kind="customer", subject_id="*"))
        record_denial(ctx, CONTACT_REACH, [], decision)
        decision.raise_if_denied()
    return scope


def _may_reach(ctx: Context) -> Scope:
    """The role gate, then the declared purpose (registered, R-17-1)."""
    scope = may_use(ctx)
    if not ctx.purpose or purposes_service.facts(ctx, ctx.purpose) is None:
        raise NotFound(
            f"利用目的「{ctx.purpose or ''}」は登録されていません。",
            f"Purpose '{ctx.purpose or ''}' is not registered.",
            rule_id=R_17_1.id,
            code="purpose_unknown",
        )
    return scope


def _titles(ctx: Context, codes: set[str]) -> dict[tuple[str, int], PurposeRead]:
    out: dict[tuple[str, int], PurposeRead] = {}
    for code in sorted(codes):
        try:
            for p in purposes_service.history(ctx, code):
                out[(code, p.version)] = p
        except NotFound:
            continue
    return out


def _consent_state(ctx: Context, card: Caller) -> None:
    summary = consent_service.show(ctx, card.customer_id)
    states = dict.fromkeys(CHANNELS, "none")
    for e in summary.events:
        if e.kind == "channel" and e.target in states and e.action in ("opt_in", "opt_out"):
            states[e.target] = e.action
    card.channels = states
    card.do_not_contact = list(summary.do_not_contact)
    card.stopped = list(summary.suppressed)


def _read_card(ctx: Context, customer_id: str) -> Caller | None:
    """The card of one person for ``ctx.purpose``; None when it must look like nobody (out of scope, erased)."""
    try:
        view = customers_service.get(ctx, customer_id, include_activities=False)
    except NotFound:
        return None
    except PolicyDenied as exc:
        if exc.code in _HIDDEN:  # checked before any purpose rule: a refusal past it is in scope
            return None
        rules = exc.details.get("rule_ids")
        card = Caller(
            customer_id=customer_id,
            allowed=False,
            refusal_code=exc.code,
            rule_ids=[str(r) for r in rules] if isinstance(rules, list) else [],
            refusal_ja=exc.message_ja,
            refusal_en=exc.message_en,
        )
        _consent_state(ctx, card)
        return card
    titles = _titles(ctx, {n.purpose for n in view.notices})
    purposes = []
    for n in view.notices:
        p = titles.get((n.purpose, n.version))
        purposes.append(
            NoticedPurpose(
                code=n.purpose,
                title_ja=p.title_ja if p else n.purpose,
                title_en=p.title_en if p else n.purpose,
                version=n.version,
                current_version=n.current_version,
                method=n.method,
                notified_at=n.notified_at,
                exception_ground=n.exception_ground,
                pending=n.pending,
            )
        )
    sources = [
        Source(
            method=p.method,
            channel=p.channel,
            source=p.source,
            acquisition=p.acquisition,
            notice_version=p.notice_version,
            acquired_at=p.acquired_at,
        )
        for p in ctx.session.execute(customers_queries.provenance(customer_id)).scalars()
    ]
    card = Caller(
        customer_id=customer_id,
        name=view.name,
        kana=view.kana,
        masked=[f for f in view.masked if f in ("name", "kana")],
        purposes=purposes,
        sources=sources,
    )
    _consent_state(ctx, card)
    return card


def find(ctx: Context, phone: str) -> InboundFind:
    """The people the number ``phone`` (any Japanese form) belongs to, as ``ctx.purpose`` and the actor's scope
    allow. An unknown number gives an empty list (the interfaces say a neutral "not found")."""
    _may_reach(ctx)
    given = check_phone(phone)
    ids = subjects.locate(ctx, "phone", given)  # blind index; erased people left out
    callers: list[Caller] = []
    for cid in ids[:MAX_CALLERS]:
        card = _read_card(ctx, cid)
        if card is not None:
            callers.append(card)
    record_read(
        ctx,
        "contact.inbound.find",
        [c.customer_id for c in callers],
        ["phone_lookup"],
        details={
            "shown": len(callers),
            "refused": sum(1 for c in callers if not c.allowed),
            "capped": len(ids) > MAX_CALLERS,
        },
    )
    return InboundFind(purpose=ctx.purpose or "", callers=callers)


def caller(ctx: Context, customer_id: str) -> Caller:
    """One person's card (after a request was recorded): NotFound when the actor may not see them."""
    _may_reach(ctx)
    card = _read_card(ctx, customer_id)
    if card is None:
        raise NotFound("顧客が見つかりません。", "Customer not found.", code="customer_not_found")
    return card


def check_channels(channels: list[str]) -> list[str]:
    """The chosen channels, deduplicated in the product's order; ValidationFailed when none or an unknown one."""
    chosen = [c.strip() for c in channels if c and c.strip()]
    unknown = [c for c in chosen if c not in CHANNELS]
    if unknown or not chosen:
        raise ValidationFailed(
            "連絡を止める手段を選んでください（電話・メール・郵便・SMS・訪問）。",
            "Choose the channels to stop (phone, email, post, sms, visit).",
            rule_id=R_35_1.id,
            code="bad_channel" if unknown else "channel_required",
        )
    return [c for c in CHANNELS if c in chosen]


def record_do_not_contact(
    ctx: Context, customer_id: str, channels: list[str], *, reference: str | None = None
) -> Caller:
    """「もう電話してこないで」 in one step: a do-not-contact line per channel (R-35-1, method ``oral``), then the
    caller's card with the new state."""
    _may_reach(ctx)
    chosen = check_channels(channels)
    ref = (reference or "").strip() or None
    if ref is not None and len(ref) > REFERENCE_MAX:
        raise ValidationFailed(
            f"参照番号は{REFERENCE_MAX}文字以内です。",
            f"The reference is at most {REFERENCE_MAX} characters.",
            code="reference_too_long",
        )
    data = ConsentIn(method="oral", evidence=ref)
    for channel in chosen:
        consent_service.do_not_contact(ctx, customer_id, channel, data)
    return caller(ctx, customer_id)
