"""Notices to the people in scope of an incident (R-26-6, G-34) and substitute measures.

- :func:`plan`: who would be notified how — an e-mail address on file, a postal address only (a letter), or no
  usable contact (erased, neither) — counts and ids only; nothing is decrypted (presence of the sealed values).
- :func:`send`: one notice per person (``IncidentNotice``, unique per incident and person): an e-mail through the
  kernel mail queue (topic ``incidents.notice``, delivered after the commit; the delivered / failed hooks set the
  status ``sent`` / ``failed``), or — a postal address only — a letter (channel ``letter``, status ``queued``
  until the privacy officer records it posted, :func:`mark_letters_sent`; printed from :func:`letters`). A
  second send skips the people already notified (idempotent); people whose earlier attempt found no contact or
  failed are tried again. ``hold_back`` records that notice is held back while early notice would increase the
  damage (R-26-6) and sends nothing.
- :func:`substitute`: notice impossible (no or outdated contact): a publication or an inquiry line
  (``IncidentMeasure``), and the notices of those people marked ``substitute`` with the measure's id.
- :func:`log`: the send log per person (customer id, channel, status, time — never an address).

What a notice says: items (1) overview, (2) the person's OWN data items (field names and categories from their
``IncidentSubject`` row, never another person's, never a value), (4) cause, (5) secondary damage and (9) other
with the contact point (R-26-4 / 規則10) — drawn from the register. A person of EU/UK origin gets the G-34
wording (plain language: what happened, which of their data, likely consequences, the measures taken, the
contact point) in Japanese followed by English, since the customers slice records no language; everyone else
the Japanese notice.

Reading a person's e-mail or postal address to notify them is a legal duty (法第26条第2項), not a use for a
business purpose: like answering a rights request, the values come from
:func:`mamori.customers.service.subjects.read_fields` without a purpose (the read audited there by field names),
are handed to the mail queue or the printed letter and never stored or logged here.
"""

from __future__ import annotations

import functools
import io
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import select

from mamori.customers import queries as customers_queries
from mamori.customers.service import subjects as customer_subjects
from mamori.customers.service.core import GDPR_ORIGINS
from mamori.incidents.models import Incident, IncidentMeasure, IncidentNotice, IncidentSubject
from mamori.incidents.notice_schemas import (
    LettersMarkIn,
    NoticePlan,
    NoticeRead,
    NoticeSendIn,
    NoticeSendResult,
    SubstituteIn,
    SubstituteResult,
)
from mamori.incidents.permissions import INCIDENT_NOTIFY, INCIDENT_READ
from mamori.incidents.schemas import CAUSE_LABELS, KIND_LABELS
from mamori.incidents.service.register import RESOURCE, find, ref_of
from mamori.kernel import labels, mail
from mamori.kernel.auditing import authorise, record_info, record_write
from mamori.kernel.context import Context
from mamori.kernel.db import chunks, new_id
from mamori.kernel.errors import Conflict, ValidationFailed
from mamori.kernel.policy import Scope
from mamori.rights.service import letters as rights_letters

TOPIC = "incidents.notice"
RULE = "R-26-6"  # notify the persons (法第26条第2項, 規則10)
GDPR_RULE = "G-34"  # communicate a breach to the data subjects (GDPR 34)
AUDIT_ACTION = "incident.notify"


# One audit entry holds at most 100,000 subject ids (mamori.kernel.audit.entries.MAX_ITEMS): a large incident's
# notices are audited in parts of AUDIT_CHUNK people, each entry saying which part of how many it is.
AUDIT_CHUNK = 50_000


def _record_people(
    ctx: Context,
    ids: Sequence[str],
    *,
    rule_ids: Sequence[str],
    details: dict[str, str | int | bool | None],
) -> None:
    people = list(ids)
    parts = [people[i : i + AUDIT_CHUNK] for i in range(0, len(people), AUDIT_CHUNK)] or [[]]
    for n, part in enumerate(parts, 1):
        extra = {**details, "part": n, "parts": len(parts)} if len(parts) > 1 else details
        record_write(ctx, AUDIT_ACTION, part, [], rule_ids=rule_ids, details=extra)


EU_ORIGINS = frozenset({"EU", "UK", *GDPR_ORIGINS})
DONE = ("queued", "sent", "substitute")  # a notice in one of these states is not sent again
RETRY = ("no_contact", "failed")  # tried again by the next send
TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
FIELDS_EMAIL = ("email",)
FIELDS_LETTER = ("name", "postal_code", "address")

Progress = Callable[[int, int], None]


# -- the people and what they can be reached by ---------------------------------------------------------------


def _subjects(ctx: Context, incident_id: str) -> list[IncidentSubject]:
    return list(
        ctx.session.execute(
            select(IncidentSubject)
            .where(IncidentSubject.incident_id == incident_id)
            .order_by(IncidentSubject.customer_id)
        ).scalars()
    )


def _notices(ctx: Context, incident_id: str) -> dict[str, IncidentNotice]:
    rows = ctx.session.execute(
        select(IncidentNotice).where(IncidentNotice.incident_id == incident_id)
    ).scalars()
    return {n.customer_id: n for n in rows}


def _reach(ctx: Context, ids: Sequence[str]) -> tuple[set[str], set[str]]:
    """Which of ``ids`` (live customers) have an e-mail address on file, and which a postal address — from the
    presence of the sealed values, nothing decrypted."""
    with_email: set[str] = set()
    with_address: set[str] = set()
    for chunk in chunks(list(ids)):
        for cid, _cp, _blob in ctx.session.execute(
            customers_queries.contact_points_of_kind(ctx, Scope.ALL, "email", ids=chunk)
        ).all():
            with_email.add(str(cid))
        for cid, postal, address in ctx.session.execute(
            customers_queries.contact_values(ctx, Scope.ALL, ["postal_code", "address"], ids=chunk)
        ).all():
            if address is not None and postal is not None:
                with_address.add(str(cid))
    return with_email, with_address


def _is_eu(subject: IncidentSubject) -> bool:
    return (subject.origin or "").upper() in EU_ORIGINS


def _json_list(raw: str | None) -> list[str]:
    try:
        value = json.loads(raw or "[]")
    except ValueError:
        return []
    return [str(v) for v in value if isinstance(v, str)] if isinstance(value, list) else []


# -- plan -------------------------------------------------------------------------------------------------------


def plan(ctx: Context, key: str) -> NoticePlan:
    """Who would be notified how (incident.read): counts and ids, no contact value."""
    authorise(ctx, INCIDENT_READ, RESOURCE, [])
    row = find(ctx, key)
    people = _subjects(ctx, row.id)
    ids = [s.customer_id for s in people]
    notices = _notices(ctx, row.id)
    with_email, with_address = _reach(ctx, ids)
    email_ids = [c for c in ids if c in with_email]
    letter_ids = [c for c in ids if c not in with_email and c in with_address]
    none_ids = [c for c in ids if c not in with_email and c not in with_address]
    already = [c for c in ids if c in notices and notices[c].status in DONE]
    result = NoticePlan(
        incident_id=row.id,
        ref=ref_of(row.number),
        persons=len(ids),
        email=len(email_ids),
        letter=len(letter_ids),
        no_contact=len(none_ids),
        already=len(already),
        eu=sum(1 for s in people if _is_eu(s)),
        email_ids=email_ids,
        letter_ids=letter_ids,
        no_contact_ids=none_ids,
        already_ids=already,
    )
    record_info(
        ctx,
        str(INCIDENT_READ),
        details={
            "incident_id": row.id,
            "part": "notice_plan",
            "persons": result.persons,
            "no_contact": result.no_contact,
        },
    )
    return result


# -- what a notice says -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Section:
    heading: str
    lines: tuple[str, ...]


@dataclass(frozen=True)
class Content:
    """One notice in one language: the subject, the opening, the sections, the closing."""

    lang: str
    subject: str
    intro: str
    sections: tuple[Section, ...]
    closing: str


def _t(lang: str, ja: str, en: str) -> str:
    return en if lang == "en" else ja


def _kind_phrase(row: Incident, lang: str) -> str:
    ja, en = KIND_LABELS.get(row.kind, (row.kind, row.kind))
    if row.suspected:
        return _t(lang, f"{ja}のおそれ", f"possible {en}")
    return _t(lang, ja, en)


def _category_word(code: str, lang: str) -> str:
    if code == "financial":
        return _t(lang, "財産的被害が生じるおそれのある情報", "data whose misuse may cause financial loss")
    if labels.has(f"letter_data_category.{code}"):
        return labels.label(f"letter_data_category.{code}", lang)
    if labels.has(f"data_category.{code}"):
        return labels.label(f"data_category.{code}", lang)
    return _t(lang, "その他", "other")


_PLURAL_FIELDS = {"emails": "email", "phones": "phone"}  # the customers slice's list fields


def _field_word(name: str, lang: str) -> str:
    name = _PLURAL_FIELDS.get(name, name)
    if name.startswith("attr:"):
        key = name[5:]
        return rights_letters.field_label(key, lang) if labels.has(f"field.{key}") else key
    return rights_letters.field_label(name, lang)


def _items(subject: IncidentSubject, lang: str) -> tuple[str, ...]:
    sep = ", " if lang == "en" else "、"
    fields = _json_list(subject.fields)
    cats = _json_list(subject.categories)
    lines = [
        _t(lang, "項目：", "Items: ") + (sep.join(_field_word(f, lang) for f in fields) or "—"),
        _t(lang, "区分：", "Categories: ") + (sep.join(_category_word(c, lang) for c in cats) or "—"),
    ]
    if subject.sensitive:
        lines.append(_t(lang, "要配慮個人情報を含みます。", "This includes sensitive data (要配慮個人情報)."))
    if subject.financial:
        lines.append(
            _t(
                lang,
                "不正に利用された場合に財産的被害が生じるおそれのある情報を含みます。",
                "This includes data whose misuse may cause financial loss.",
            )
        )
    return tuple(lines)


def _text_or(value: str | None, ja: str, en: str, lang: str) -> tuple[str, ...]:
    text = (value or "").strip()
    return tuple(text.splitlines()) if text else (_t(lang, ja, en),)


def _content(ctx: Context, row: Incident, subject: IncidentSubject, lang: str, *, gdpr: bool) -> Content:
    """Items (1), (2), (4), (5), (9) of R-26-4 for one person (規則10); with ``gdpr`` the G-34 wording."""
    who = rights_letters.sender(ctx.runtime.settings, lang)
    ref = ref_of(row.number)
    kind = _kind_phrase(row, lang)
    cause_ja, cause_en = CAUSE_LABELS.get(row.cause, (row.cause, row.cause))
    cause = [_t(lang, cause_ja, cause_en)]
    if row.cause_detail:
        cause.extend(row.cause_detail.strip().splitlines())
    occurred = (
        labels.fmt_date(row.occurred_at, lang)
        if row.occurred_at
        else _t(lang, "調査中", "under investigation")
    )
    overview = (
        _t(lang, f"事案番号：{ref}", f"Reference: {ref}"),
        _t(lang, f"内容：{row.title}", f"What happened: {row.title}"),
        _t(lang, f"種別：{kind}", f"Kind: {kind}"),
        _t(lang, f"発生日：{occurred}", f"Date it occurred: {occurred}"),
        _t(
            lang,
            f"当社が知った日：{labels.fmt_date(row.known_at, lang)}",
            f"Date we became aware: {labels.fmt_date(row.known_at, lang)}",
        ),
    )
    damage = _text_or(
        row.secondary_damage,
        "現在調査中です。判明しましたら改めてお知らせいたします。",
        "We are still investigating and will tell you as soon as we know more.",
        lang,
    )
    contact = (_t(lang, f"お問い合わせ窓口：{who.contact}", f"Contact point: {who.contact}"),)
    other = tuple((row.other or "").strip().splitlines()) + contact
    sections: tuple[Section, ...]
    if gdpr:
        measures = tuple(
            line
            for text in (row.actions_to_persons, row.prevention)
            for line in (text or "").strip().splitlines()
        ) or (
            _t(lang, "再発防止策を検討しています。", "We are working on measures to prevent a recurrence."),
        )
        sections = (
            Section(_t(lang, "何が起きたか", "What happened"), overview),
            Section(
                _t(lang, "対象となったあなたの個人データ", "Which of your personal data"),
                _items(subject, lang),
            ),
            Section(_t(lang, "原因", "Why it happened"), tuple(cause)),
            Section(_t(lang, "考えられる影響", "Likely consequences for you"), damage),
            Section(
                _t(lang, "当社が講じた措置と講じる予定の措置", "What we have done and will do"), measures
            ),
            Section(
                _t(lang, "データ保護の窓口（DPO）・お問い合わせ", "Data protection officer and contact"),
                other,
            ),
        )
        intro = _t(
            lang,
            f"{who.name}です。あなたの個人データに関わる事案（{kind}）が発生しました。"
            "何が起きたか、あなたへの影響と当社の対応を、以下にわかりやすくご説明します。",
            f"This is {who.name}. An incident ({kind}) has affected your personal data. Below we explain in "
            "plain language what happened, what it may mean for you and what we are doing about it.",
        )
    else:
        sections = (
            Section(_t(lang, "1. 事案の概要", "1. Overview"), overview),
            Section(
                _t(lang, "2. 対象となったお客様の個人データの項目", "2. Your personal data concerned"),
                _items(subject, lang),
            ),
            Section(_t(lang, "3. 原因", "3. Cause"), tuple(cause)),
            Section(
                _t(lang, "4. 二次被害又はそのおそれの有無及びその内容", "4. Secondary damage or its risk"),
                damage,
            ),
            Section(_t(lang, "5. その他参考となる事項", "5. Other information"), other),
        )
        intro = _t(
            lang,
            f"{who.name}です。当社が取り扱うお客様の個人データについて{kind}が生じましたので、"
            "個人情報の保護に関する法律第26条第2項に基づきお知らせいたします。"
            "ご迷惑とご心配をおかけしますことを深くお詫び申し上げます。",
            f"This is {who.name}. We are writing to tell you of a {kind} concerning your personal data, as the "
            "Act on the Protection of Personal Information (Art. 26(2)) requires. We sincerely apologise.",
        )
    subject_line = _t(
        lang,
        f"【重要】個人データの{kind}に関するお知らせ（{ref}）",
        f"Important: {kind} of your personal data ({ref})",
    )
    closing = _t(
        lang,
        f"ご不明な点は上記の窓口までお問い合わせください。\n{who.name}",
        f"If you have any question, please contact us at the contact point above.\n{who.name}",
    )
    return Content(lang=lang, subject=subject_line, intro=intro, sections=sections, closing=closing)


def _contents(ctx: Context, row: Incident, subject: IncidentSubject) -> list[Content]:
    """The person's notice: Japanese; for an EU/UK person the G-34 wording in Japanese and English (no language
    is recorded for a customer, so both are given)."""
    if _is_eu(subject):
        return [_content(ctx, row, subject, "ja", gdpr=True), _content(ctx, row, subject, "en", gdpr=True)]
    return [_content(ctx, row, subject, "ja", gdpr=False)]


@functools.lru_cache(maxsize=1)
def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(enabled_extensions=("html.j2", "html"), default=False),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env


@dataclass(frozen=True)
class RenderedMail:
    subject: str
    text: str
    html: str
    lang: str


def render_mail(ctx: Context, row: Incident, subject: IncidentSubject) -> RenderedMail:
    parts = _contents(ctx, row, subject)
    env = _environment()
    text = env.get_template("incidents/notice_mail.txt.j2").render(parts=parts)
    html = env.get_template("incidents/notice_mail.html.j2").render(parts=parts, subject=parts[0].subject)
    subject_line = " / ".join(p.subject for p in parts)
    return RenderedMail(subject=subject_line, text=text.strip("\n") + "\n", html=html, lang=parts[0].lang)


def _letter_item(
    ctx: Context, row: Incident, subject: IncidentSubject, to: dict[str, str | None]
) -> dict[str, Any]:
    return {
        "parts": _contents(ctx, row, subject),
        "postal_code": to.get("postal_code") or "",
        "address": to.get("address") or "",
        "name": to.get("name") or "",
    }


def render_letters(ctx: Context, items: Sequence[dict[str, Any]]) -> str:
    """The printed letters (HTML, A4, each on its own pages): the address block, the date, the sender, the
    notice."""
    return (
        _environment()
        .get_template("incidents/notice_letter.html.j2")
        .render(
            items=items,
            today=labels.fmt_date(ctx.clock.now(), "ja"),
            sender=rights_letters.sender(ctx.runtime.settings, "ja"),
        )
    )


def render_letters_pdf(ctx: Context, items: Sequence[dict[str, Any]]) -> bytes:
    """The same letters as a PDF (A4; the Japanese font of the rights letters embedded, ``MAMORI_PDF_FONT``)."""
    from xml.sax.saxutils import escape

    from reportlab.lib.enums import TA_CENTER, TA_RIGHT
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer

    from mamori.rights.service import render as rights_render

    path = rights_render.pdf_font_path(ctx.runtime.settings)
    font = f"MamoriJP-{path.stem}"
    if font not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(font, str(path)))
    body = ParagraphStyle("body", fontName=font, fontSize=10, leading=16, wordWrap="CJK")
    right = ParagraphStyle("right", parent=body, alignment=TA_RIGHT)
    h1 = ParagraphStyle("h1", parent=body, fontSize=14, leading=22, alignment=TA_CENTER, spaceBefore=8)
    h2 = ParagraphStyle("h2", parent=body, fontSize=11, leading=18, spaceBefore=6, spaceAfter=2)

    def para(text: str, style: ParagraphStyle = body) -> Paragraph:
        return Paragraph(escape(text).replace("\n", "<br/>"), style)

    who = rights_letters.sender(ctx.runtime.settings, "ja")
    today = labels.fmt_date(ctx.clock.now(), "ja")
    story: list[Any] = []
    for n, item in enumerate(items):
        if n:
            story.append(PageBreak())
        story += [
            para(f"〒{item['postal_code']}\n{item['address']}\n{item['name']} 様"),
            Spacer(1, 6 * mm),
            para(today, right),
            para(f"{who.name}\n{who.address}\n{who.representative}", right),
        ]
        for k, part in enumerate(item["parts"]):
            if k:
                story.append(PageBreak())
            story += [para(part.subject, h1), para(part.intro)]
            for section in part.sections:
                story += [para(section.heading, h2), para("\n".join(section.lines))]
            story += [Spacer(1, 4 * mm), para(part.closing)]
    buf = io.BytesIO()
    SimpleDocTemplate(buf, pagesize=A4, invariant=True, leftMargin=20 * mm, rightMargin=20 * mm).build(story)
    return buf.getvalue()


# -- send -------------------------------------------------------------------------------------------------------


def _refuse_closed(row: Incident) -> None:
    if row.status == "closed":
        raise Conflict(
            "この事案は終了しています。通知するには事案を再開してください。",
            "This incident is closed; reopen it to send notices.",
            code="incident_closed",
            details={"incident_id": row.id},
        )


def _rules(eu: int) -> tuple[str, ...]:
    return (RULE, GDPR_RULE) if eu else (RULE,)


def _upsert(
    ctx: Context,
    row: Incident,
    existing: dict[str, IncidentNotice],
    customer_id: str,
    channel: str,
    status: str,
    mail_id: str | None = None,
    notice_id: str | None = None,
) -> IncidentNotice:
    now = ctx.clock.now()
    notice = existing.get(customer_id)
    if notice is None:
        notice = IncidentNotice(
            id=notice_id or new_id(),
            incident_id=row.id,
            customer_id=customer_id,
            channel=channel,
            status=status,
            mail_id=mail_id,
            at=now,
            by=ctx.actor.label,
        )
        ctx.session.add(notice)
        existing[customer_id] = notice
    else:
        notice.channel, notice.status, notice.mail_id = channel, status, mail_id
        notice.measure_id = None
        notice.at, notice.by = now, ctx.actor.label
    return notice


def send(
    ctx: Context,
    key: str,
    *,
    channel_preference: Sequence[str] = ("email", "letter"),
    hold_back: bool = False,
    progress: Progress | None = None,
) -> NoticeSendResult:
    """Notify every person in scope not notified yet (incident.notify; R-26-6, G-34 for EU/UK people)."""
    options = NoticeSendIn.model_validate(
        {"channel_preference": list(channel_preference), "hold_back": hold_back}
    )
    authorise(ctx, INCIDENT_NOTIFY, RESOURCE, [])
    row = find(ctx, key)
    _refuse_closed(row)
    ref = ref_of(row.number)
    people = _subjects(ctx, row.id)
    existing = _notices(ctx, row.id)
    todo = [s for s in people if not (s.customer_id in existing and existing[s.customer_id].status in DONE)]
    skipped = len(people) - len(todo)
    eu = sum(1 for s in todo if _is_eu(s))
    if options.hold_back:
        _record_people(
            ctx,
            [s.customer_id for s in todo],
            rule_ids=_rules(eu),
            details={"incident_id": row.id, "held_back": True, "persons": len(todo), "skipped": skipped},
        )
        return NoticeSendResult(
            incident_id=row.id, ref=ref, held_back=True, skipped=skipped, eu=eu, rule_ids=list(_rules(eu))
        )
    result = NoticeSendResult(incident_id=row.id, ref=ref, skipped=skipped, eu=eu, rule_ids=list(_rules(eu)))
    prefs = list(options.channel_preference)
    total = len(todo)
    done = 0
    if progress:
        progress(0, total)
    for batch in chunks(todo, 200):
        ids = [s.customer_id for s in batch]
        emails = (
            customer_subjects.read_fields(ctx, ids, list(FIELDS_EMAIL)) if "email" in prefs else {}
        )  # R-26-6: a legal duty, no purpose (module docstring)
        with_email = {cid for cid, v in emails.items() if v.get("email")}
        _, with_address = _reach(ctx, ids) if "letter" in prefs else (set(), set())
        for s in batch:
            cid = s.customer_id
            sent = False
            for channel in prefs:
                if channel == "email" and cid in with_email:
                    notice_id = existing[cid].id if cid in existing else new_id()
                    message_id = _enqueue(ctx, row, s, emails[cid]["email"] or "", notice_id)
                    if message_id is not None:
                        _upsert(ctx, row, existing, cid, "email", "queued", message_id, notice_id)
                        result.email += 1
                        sent = True
                        break
                if channel == "letter" and cid in with_address:
                    _upsert(ctx, row, existing, cid, "letter", "queued")
                    result.letter += 1
                    sent = True
                    break
            if not sent:
                _upsert(ctx, row, existing, cid, "letter" if "letter" in prefs else "email", "no_contact")
                result.no_contact += 1
                result.no_contact_ids.append(cid)
            done += 1
        emails.clear()  # the addresses are not kept past the enqueue
        ctx.session.flush()
        if progress:
            progress(done, total)
    _record_people(
        ctx,
        [s.customer_id for s in todo],
        rule_ids=_rules(eu),
        details={
            "incident_id": row.id,
            "email": result.email,
            "letter": result.letter,
            "no_contact": result.no_contact,
            "skipped": skipped,
        },
    )
    return result


def _enqueue(
    ctx: Context, row: Incident, subject: IncidentSubject, address: str, notice_id: str
) -> str | None:
    """Queue the e-mail (sealed, sent after the commit; ``ref`` the notice's id for the delivery hooks); None when
    the address is refused as malformed."""
    if not address:
        return None
    rendered = render_mail(ctx, row, subject)
    try:
        return mail.enqueue(
            ctx,
            mail.Mail(
                to=address,
                subject=rendered.subject,
                text=rendered.text,
                html=rendered.html,
                lang=rendered.lang,
                topic=TOPIC,
                ref=notice_id,
                subject_ids=(subject.customer_id,),
            ),
        )
    except ValidationFailed:  # an address the queue refuses: not usable, the next channel is tried
        return None


# -- delivery hooks (the mail queue, after the commit) ------------------------------------------------------------


def _notice_of_ref(ctx: Context, ref: str, message_id: str) -> IncidentNotice | None:
    notice = ctx.session.get(IncidentNotice, ref)
    if notice is None or notice.mail_id != message_id:
        return None  # a later send replaced it
    return notice


def _delivered(ctx: Context, ref: str, message_id: str) -> None:
    notice = _notice_of_ref(ctx, ref, message_id)
    if notice is not None and notice.status == "queued":
        notice.status = "sent"
        notice.at = ctx.clock.now()
        ctx.session.flush()


def _failed(ctx: Context, ref: str, message_id: str) -> None:
    notice = _notice_of_ref(ctx, ref, message_id)
    if notice is not None and notice.status == "queued":
        notice.status = "failed"
        notice.at = ctx.clock.now()
        ctx.session.flush()
        _record_people(
            ctx,
            [notice.customer_id],
            rule_ids=(RULE,),
            details={"incident_id": notice.incident_id, "notice_id": notice.id, "failed": True},
        )


def register_mail_hooks() -> None:
    """incidents.notice delivered → status sent; finally failed → failed (tried again by the next send)."""
    mail.register_delivery_hooks(TOPIC, delivered=_delivered, failed=_failed)


# -- letters ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Letter:
    customer_id: str
    ref: str  # the incident's 事案番号
    html: str
    pdf: bytes | None = None  # with ``pdf=True``


def _letter_items(ctx: Context, key: str) -> tuple[Incident, list[tuple[str, dict[str, Any]]]]:
    authorise(ctx, INCIDENT_NOTIFY, RESOURCE, [])
    row = find(ctx, key)
    people = {s.customer_id: s for s in _subjects(ctx, row.id)}
    ids = [
        n.customer_id
        for n in sorted(_notices(ctx, row.id).values(), key=lambda n: n.customer_id)
        if n.channel == "letter" and n.status in ("queued", "sent") and n.customer_id in people
    ]
    values = customer_subjects.read_fields(ctx, ids, list(FIELDS_LETTER)) if ids else {}
    items = [(cid, _letter_item(ctx, row, people[cid], values[cid])) for cid in ids if cid in values]
    _record_people(
        ctx,
        [cid for cid, _ in items],
        rule_ids=_rules(sum(1 for cid, _ in items if _is_eu(people[cid]))),
        details={"incident_id": row.id, "letters": len(items)},
    )
    return row, items


def letters(ctx: Context, key: str, *, pdf: bool = False) -> list[Letter]:
    """The letters to print for the people notified by letter (incident.notify), one document each: rendered now
    from the person's name and postal address (read for the legal duty, never stored) and the register."""
    row, items = _letter_items(ctx, key)
    ref = ref_of(row.number)
    return [
        Letter(cid, ref, render_letters(ctx, [item]), render_letters_pdf(ctx, [item]) if pdf else None)
        for cid, item in items
    ]


def letters_document(ctx: Context, key: str) -> tuple[str, int]:
    """Every letter of the incident in one printable document (each letter on its own pages) and their count."""
    _, items = _letter_items(ctx, key)
    return render_letters(ctx, [item for _, item in items]), len(items)


def letters_pdf(ctx: Context, key: str) -> tuple[bytes, str, int]:
    """Every letter of the incident in one PDF, the 事案番号 (for the file name) and the count."""
    row, items = _letter_items(ctx, key)
    return render_letters_pdf(ctx, [item for _, item in items]), ref_of(row.number), len(items)


def mark_letters_sent(ctx: Context, key: str, customer_ids: Sequence[str] = ()) -> int:
    """Record the letters posted (all queued letters, or those of ``customer_ids``): status ``sent``."""
    data = LettersMarkIn.model_validate({"customer_ids": list(customer_ids)})
    authorise(ctx, INCIDENT_NOTIFY, RESOURCE, [])
    row = find(ctx, key)
    wanted = set(data.customer_ids)
    now = ctx.clock.now()
    marked: list[str] = []
    for n in _notices(ctx, row.id).values():
        if n.channel == "letter" and n.status == "queued" and (not wanted or n.customer_id in wanted):
            n.status, n.at, n.by = "sent", now, ctx.actor.label
            marked.append(n.customer_id)
    ctx.session.flush()
    _record_people(
        ctx,
        sorted(marked),
        rule_ids=(RULE,),
        details={"incident_id": row.id, "letters_sent": len(marked)},
    )
    return len(marked)


# -- substitute measures ----------------------------------------------------------------------------------------


def substitute(ctx: Context, key: str, kind: str, note: str) -> SubstituteResult:
    """Notice impossible for some people (R-26-6): record the publication or inquiry line and mark their notices
    (status no_contact, or failed) as covered by it."""
    data = SubstituteIn.model_validate({"kind": kind, "note": note})
    authorise(ctx, INCIDENT_NOTIFY, RESOURCE, [])
    row = find(ctx, key)
    _refuse_closed(row)
    targets = [n for n in _notices(ctx, row.id).values() if n.status in RETRY]
    now = ctx.clock.now()
    measure = IncidentMeasure(
        id=new_id(),
        incident_id=row.id,
        kind=data.kind,
        target=None,
        note=data.note,
        result=json.dumps({"persons": len(targets)}),
        at=now,
        by=ctx.actor.label,
    )
    ctx.session.add(measure)
    for n in targets:
        n.channel, n.status, n.measure_id, n.mail_id = "substitute", "substitute", measure.id, None
        n.at, n.by = now, ctx.actor.label
    ctx.session.flush()
    ids = sorted(n.customer_id for n in targets)
    wanted = set(ids)
    eu = sum(1 for s in _subjects(ctx, row.id) if s.customer_id in wanted and _is_eu(s))
    _record_people(
        ctx,
        ids,
        rule_ids=_rules(eu),  # G-34: a public communication where individual notice is impossible
        details={
            "incident_id": row.id,
            "measure_id": measure.id,
            "substitute": data.kind,
            "persons": len(ids),
        },
    )
    return SubstituteResult(measure_id=measure.id, incident_id=row.id, kind=data.kind, persons=len(ids))


# -- the send log -----------------------------------------------------------------------------------------------


def _read(n: IncidentNotice) -> NoticeRead:
    return NoticeRead(
        id=n.id,
        customer_id=n.customer_id,
        channel=n.channel,
        status=n.status,
        at=n.at,
        by=n.by,
        mail_id=n.mail_id,
        measure_id=n.measure_id,
    )


def log(ctx: Context, key: str) -> list[NoticeRead]:
    """The send log per person (incident.read): customer id, channel, status, time — no address."""
    authorise(ctx, INCIDENT_READ, RESOURCE, [])
    row = find(ctx, key)
    out = [_read(n) for n in sorted(_notices(ctx, row.id).values(), key=lambda n: (n.status, n.customer_id))]
    record_info(
        ctx, str(INCIDENT_READ), details={"incident_id": row.id, "part": "notice_log", "notices": len(out)}
    )
    return out


# -- for the subject data source and the retention hold (no authorisation: ids only) ------------------------------


def sent_to(ctx: Context, customer_id: str) -> list[tuple[IncidentNotice, Incident, IncidentSubject | None]]:
    """The notices sent (or queued) to one person by e-mail or letter, with their incident and the person's scope
    row — for the person's disclosure (sources.py)."""
    rows = ctx.session.execute(
        select(IncidentNotice, Incident)
        .join(Incident, Incident.id == IncidentNotice.incident_id)
        .where(
            IncidentNotice.customer_id == customer_id,
            IncidentNotice.channel.in_(("email", "letter")),
            IncidentNotice.status.in_(("queued", "sent")),
        )
        .order_by(IncidentNotice.at)
    ).all()
    out: list[tuple[IncidentNotice, Incident, IncidentSubject | None]] = []
    for notice, incident in rows:
        subject = ctx.session.get(IncidentSubject, (incident.id, customer_id))
        out.append((notice, incident, subject))
    return out


def in_open_incidents(ctx: Context, customer_ids: Sequence[str]) -> set[str]:
    """Which of ``customer_ids`` are in scope of an incident that is not closed (the retention hold, R-26-7)."""
    found: set[str] = set()
    for chunk in chunks(list(dict.fromkeys(customer_ids))):
        found.update(
            str(c)
            for c in ctx.session.execute(
                select(IncidentSubject.customer_id)
                .join(Incident, Incident.id == IncidentSubject.incident_id)
                .where(IncidentSubject.customer_id.in_(chunk), Incident.status != "closed")
                .distinct()
            ).scalars()
        )
    return found


def items_of(subject: IncidentSubject | None) -> list[str]:
    return _json_list(subject.fields) if subject is not None else []
