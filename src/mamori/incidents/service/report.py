"""The PPC report (R-26-4, 規則8(1)) and the notice to the entrustor (R-26-5, 規則9): drafted, versioned, exported.

``draft`` writes the nine items in Japanese from the register (``incidents``), the scope (``incident_subjects`` /
``incident_scopes`` through the classification: counts, items by category — never a value), the classification
and the clock, the measures (containment steps, substitute measures) and the notices (counts by status). A 速報
says 「調査中」 for what is not known yet (R-26-2: report whatever is known). Each draft is a new version of its
stage with its body as canonical JSON and its SHA-256; a draft identical to the latest version is not stored
again. ``export`` renders a version as HTML, PDF (reportlab, the Japanese font embedded like the rights letters)
or JSON, laid out as the nine numbered items so each can be pasted into the PPC form (the form itself is outside
mamori).

When the company is the outsourcee (``role == "outsourcee"``), ``entrustor_notice`` drafts the notice of the known
items to the entrustor (委託元), which releases the outsourcee from reporting (R-26-5); recording that it was sent
is the register's filing.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import func, select

from mamori.customers.schemas import FIELD_CATEGORIES
from mamori.incidents.models import Incident, IncidentMeasure, IncidentNotice, IncidentReport
from mamori.incidents.permissions import INCIDENT_MANAGE, INCIDENT_READ
from mamori.incidents.report_schemas import (
    FORMATS,
    ITEM_TITLES,
    REPORT_STAGES,
    STAGE_LABELS,
    STAGES,
    ItemDiff,
    ReportBody,
    ReportItem,
    ReportRead,
    ReportsRead,
    ReportVersion,
)
from mamori.incidents.schemas import CAUSE_LABELS, KIND_LABELS
from mamori.incidents.service import classify, clock
from mamori.incidents.service.register import RESOURCE, find, ref_of
from mamori.inventory import queries as inventory_queries
from mamori.kernel import labels
from mamori.kernel.auditing import authorise, record_read, record_write
from mamori.kernel.context import Context
from mamori.kernel.db import new_id
from mamori.kernel.errors import NotFound, ValidationFailed
from mamori.kernel.policy import decide
from mamori.processors.models import ProcessorContract
from mamori.provision.models import Counterparty
from mamori.rights.service.render import pdf_font_path

R_26_4 = "R-26-4"
R_26_5 = "R-26-5"
UNKNOWN = "調査中"  # R-26-2: a 速報 reports what is known; the rest is under investigation
UNKNOWN_FINAL = "判明次第、追って報告します"  # R-26-3: what is still unknown may be supplemented later
MEDIUM = "電子媒体（顧客管理システム mamori に保存された顧客データ）"
DATA_TYPE = "顧客の個人データ"
# 規則7 numbers of the triggers, as the PPC form asks (①–④).
TRIGGER_MARKS = {
    "sensitive": ("①", "要配慮個人情報が含まれる個人データの漏えい等（規則7第1号）"),
    "financial": (
        "②",
        "不正に利用されることにより財産的被害が生じるおそれがある個人データの漏えい等（規則7第2号）",
    ),
    "wrongful": ("③", "不正の目的をもって行われたおそれがある漏えい等（規則7第3号）"),
    "over_1000": ("④", "本人の数が1,000人を超える漏えい等（規則7第4号）"),
}
CATEGORY_LABELS = {
    "identifier": "識別情報",
    "contact": "連絡先",
    "attribute": "属性",
    "behaviour": "行動・取引の履歴",
    "sensitive": "要配慮個人情報",
    "financial": "財産的被害のおそれがある情報",
    "other": "その他",
}
CATEGORY_ORDER = tuple(CATEGORY_LABELS)
NOTICE_STATUS_LABELS = {
    "sent": "通知済み",
    "queued": "送付待ち",
    "failed": "送付失敗",
    "no_contact": "連絡先不明（代替措置の対象）",
    "substitute": "代替措置により対応",
}
SUBSTITUTE_KINDS = ("publication", "inquiry_line")
MEASURE_LABELS = {
    "disable_account": "アカウントの無効化",
    "revoke_sessions": "セッションの一括失効",
    "revoke_tokens": "APIトークンの一括失効",
    "revoke_session": "セッションの失効",
    "revoke_token": "APIトークンの失効",
    "suspend_outsourcee": "委託先のアクセス停止",
    "rotate_keys": "暗号鍵の更新",
    "publication": "事案の公表",
    "inquiry_line": "問合せ窓口の設置",
}
TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
PDF_FONT_NAME = "IPAexMincho"


# -- reading the register ------------------------------------------------------------------------------------------


def _dt(value: datetime | None) -> str | None:
    return labels.fmt_datetime(value) if value is not None else None


def _field_label(name: str) -> str:
    if name.startswith("attr:"):
        return f"属性「{name[5:]}」"
    base, _, part = name.partition(":")
    if part:  # e.g. activities:sensitive — the 要配慮 notes of the activities
        return _field_label(base) + ("（要配慮個人情報の記載）" if part == "sensitive" else f"（{part}）")
    for key in (f"customer_field.{name}", f"field.{name}", f"field.{name.removesuffix('s')}"):
        if labels.has(key):
            return labels.label(key)
    return name


def _field_categories(ctx: Context, names: list[str]) -> dict[str, str]:
    """Each field name's category for item (2): the inventory's tags (要配慮, financial) first, then the customers
    slice's field categories."""
    tagged: dict[str, str] = {}
    wanted = set(names)
    if wanted:
        for item in ctx.session.execute(inventory_queries.items()).scalars():
            if item.key not in wanted:
                continue
            if item.sensitive_kind or item.appi_category == "sensitive":
                tagged[item.key] = "sensitive"
            elif item.financial:
                tagged[item.key] = "financial"
            elif item.appi_category in CATEGORY_LABELS:
                tagged[item.key] = item.appi_category
    out: dict[str, str] = {}
    for name in names:
        known = FIELD_CATEGORIES.get(name)
        if name.endswith(":sensitive"):
            out[name] = "sensitive"
            continue
        out[name] = tagged.get(name) or (
            str(known) if known is not None else "attribute" if name.startswith("attr:") else "other"
        )
    return out


def _organisation(ctx: Context, row: Incident) -> tuple[str | None, str | None]:
    """The outsourcee involved (the company being the entrustor): the counterparty's name and the contract's work
    (organisations and contracts, not people)."""
    counterparty_id = row.counterparty_id
    work: str | None = None
    if row.contract_id:
        contract = ctx.session.get(ProcessorContract, row.contract_id)
        if contract is not None:
            counterparty_id = counterparty_id or contract.counterparty_id
            work = contract.work + (f"（契約番号 {contract.reference}）" if contract.reference else "")
    name = None
    if counterparty_id:
        party = ctx.session.get(Counterparty, counterparty_id)
        name = party.name if party is not None else None
    return name, work


def _notice_counts(ctx: Context, incident_id: str) -> dict[str, int]:
    rows = ctx.session.execute(
        select(IncidentNotice.status, func.count())
        .where(IncidentNotice.incident_id == incident_id)
        .group_by(IncidentNotice.status)
    ).all()
    return {str(status): int(n) for status, n in rows}


def _measures(ctx: Context, incident_id: str) -> list[IncidentMeasure]:
    return list(
        ctx.session.execute(
            select(IncidentMeasure)
            .where(IncidentMeasure.incident_id == incident_id)
            .order_by(IncidentMeasure.at, IncidentMeasure.id)
        ).scalars()
    )


def _measure_line(m: IncidentMeasure) -> str:
    what = MEASURE_LABELS.get(m.kind, m.kind)
    extra = "、".join(x for x in (m.target and f"対象: {m.target}", m.note) if x)
    return f"{labels.fmt_date(m.at)} {what}" + (f"（{extra}）" if extra else "")


# -- the nine items --------------------------------------------------------------------------------------------------


def _item(number: int, lines: list[str], unknown: bool, facts: dict[str, Any]) -> ReportItem:
    title = next(t for n, t, _ in ITEM_TITLES if n == number)
    return ReportItem(number=number, title=title, text="\n".join(lines), unknown=unknown, facts=facts)


def _items(ctx: Context, row: Incident, stage: str) -> list[ReportItem]:
    missing = UNKNOWN if stage in ("prelim", "entrustor") else UNKNOWN_FINAL
    cls = classify.classification(ctx, row)
    due = clock.deadlines(row, cls)
    outsourcee_name, contract_work = _organisation(ctx, row)
    kind = KIND_LABELS.get(row.kind, (row.kind, row.kind))[0]
    items: list[ReportItem] = []

    # (1) 概要
    occurred = _dt(row.occurred_at)
    lines = [
        f"事案: {row.title}",
        f"事態の種類: {kind}{'のおそれ' if row.suspected else ''}",
        f"発生日時: {occurred or missing}",
        f"発覚日時: {labels.fmt_datetime(row.known_at)}（{row.known_by}が把握）",
        f"発見者: {row.discovered_by}",
    ]
    if cls.triggers:
        lines.append("報告対象事態（規則7）:")
        lines += [f"  {TRIGGER_MARKS[t][0]} {TRIGGER_MARKS[t][1]}" for t in cls.triggers]
    elif cls.exempt is not None:
        reason = classify.EXEMPT_LABELS[cls.exempt][0]
        why = f"（{row.encryption_reason}）" if cls.exempt == "encryption" and row.encryption_reason else ""
        lines.append(f"報告対象事態（規則7）: 該当なし — {reason}{why}")
    else:
        lines.append(f"報告対象事態（規則7）: {missing}")
    if cls.triggers and cls.exempt is not None:
        lines.append(f"除外事由: {classify.EXEMPT_LABELS[cls.exempt][0]}")
    if row.role == "outsourcee":
        lines.append(f"委託元: {row.entrustor_name or missing}（当社は委託を受けて取り扱う委託先）")
    elif outsourcee_name or contract_work or row.cause == "outsourcee":
        lines.append(f"委託先: {outsourcee_name or missing}")
        if contract_work:
            lines.append(f"委託している業務: {contract_work}")
    items.append(
        _item(
            1,
            lines,
            occurred is None or not (cls.triggers or cls.exempt),
            {
                "kind": row.kind,
                "suspected": row.suspected,
                "occurred_at": row.occurred_at.isoformat() if row.occurred_at else None,
                "known_at": row.known_at.isoformat(),
                "triggers": list(cls.triggers),
                "exempt": cls.exempt,
                "role": row.role,
                "entrustor": row.entrustor_name,
                "outsourcee": outsourcee_name,
            },
        )
    )

    # (2) 個人データの項目
    names = sorted(cls.items)
    by_category: dict[str, list[str]] = {}
    for name, category in _field_categories(ctx, names).items():
        by_category.setdefault(category, []).append(name)
    if names:
        lines = ["項目（区分ごと、括弧内は該当する本人の数）:"]
        for category in sorted(by_category, key=lambda c: CATEGORY_ORDER.index(c)):
            shown = "、".join(f"{_field_label(n)}（{cls.items[n]:,}人）" for n in by_category[category])
            lines.append(f"  {CATEGORY_LABELS[category]}: {shown}")
    else:
        lines = [f"項目: {missing}"]
    lines += [f"媒体: {MEDIUM}", f"種類: {DATA_TYPE}"]
    items.append(
        _item(
            2,
            lines,
            not names,
            {"items": dict(cls.items), "categories": dict(cls.categories), "by_category": by_category},
        )
    )

    # (3) 本人の数
    if cls.persons_max == 0:
        lines = [f"本人の数: {missing}"]
    elif cls.persons_max > cls.persons:
        lines = [f"最大 {cls.persons_max:,}人（うち特定済み {cls.persons:,}人。正確な数は調査中）"]
    else:
        lines = [f"{cls.persons:,}人"]
    if cls.persons_max:
        detail = [
            f"要配慮個人情報を含む本人 {cls.sensitive:,}人" if cls.sensitive else "",
            f"財産的被害のおそれがある項目を含む本人 {cls.financial:,}人" if cls.financial else "",
            f"EU・英国の本人 {cls.eu:,}人" if cls.eu else "",
        ]
        lines += [f"うち{d}" for d in detail if d]
    items.append(
        _item(
            3,
            lines,
            cls.persons_max == 0,
            {
                "persons": cls.persons,
                "persons_max": cls.persons_max,
                "sensitive": cls.sensitive,
                "financial": cls.financial,
                "eu": cls.eu,
            },
        )
    )

    # (4) 原因
    whose = (
        "委託を受けて取り扱う当社（委託先）における事案"
        if row.role == "outsourcee"
        else f"委託先（{outsourcee_name or missing}）における事案"
        if row.cause == "outsourcee" or outsourcee_name
        else "当社における事案"
    )
    lines = [
        f"原因の区分: {CAUSE_LABELS.get(row.cause, (row.cause, ''))[0]}",
        f"発生主体: {whose}",
        f"詳細: {row.cause_detail or missing}",
    ]
    items.append(_item(4, lines, not row.cause_detail, {"cause": row.cause}))

    # (5) 二次被害
    items.append(_item(5, [row.secondary_damage or missing], not row.secondary_damage, {}))

    # (6) 本人への対応
    notices = _notice_counts(ctx, row.id)
    measures = _measures(ctx, row.id)
    substitutes = [m for m in measures if m.kind in SUBSTITUTE_KINDS]
    lines = [row.actions_to_persons] if row.actions_to_persons else []
    if notices:
        counted = "、".join(
            f"{label} {notices[s]:,}人" for s, label in NOTICE_STATUS_LABELS.items() if notices.get(s)
        )
        lines.append(f"本人への通知（規則10）: {counted}")
    if substitutes:
        lines.append("代替措置:")
        lines += [f"  {_measure_line(m)}" for m in substitutes]
    unknown6 = not lines
    items.append(
        _item(
            6,
            lines or [missing],
            unknown6,
            {"notices": notices, "substitutes": [m.kind for m in substitutes]},
        )
    )

    # (7) 公表
    published = [m for m in measures if m.kind == "publication"]
    lines = [row.publication] if row.publication else []
    lines += [_measure_line(m) for m in published]
    items.append(_item(7, lines or [missing], not lines, {"publications": len(published)}))

    # (8) 再発防止
    steps = [m for m in measures if m.kind not in SUBSTITUTE_KINDS]
    lines = [row.prevention] if row.prevention else [f"再発防止策: {missing}"] if steps else []
    if steps:
        lines.append("実施済みの封じ込めの措置:")
        lines += [f"  {_measure_line(m)}" for m in steps]
    items.append(_item(8, lines or [missing], not row.prevention, {"containment": [m.kind for m in steps]}))

    # (9) その他
    lines = [row.other] if row.other else []
    if cls.eu:
        gdpr = f"EU・英国の本人 {cls.eu:,}人が含まれる（GDPR第33条）"
        if due.gdpr_due is not None:
            gdpr += f"。監督機関への通知期限 {labels.fmt_datetime(due.gdpr_due)}"
        lines.append(gdpr)
    if stage != "entrustor":
        lines.append(
            f"当社の把握日（1日目）: {labels.fmt_date(due.known_day)}、速報の目安: "
            f"{labels.fmt_date(due.prelim_from)}～{labels.fmt_date(due.prelim_due)}、"
            f"確報の期限: {labels.fmt_date(due.final_due)}"
        )
    items.append(_item(9, lines or ["特になし"], False, {"gdpr": cls.gdpr, "eu": cls.eu}))
    return items


def _body(ctx: Context, row: Incident, stage: str) -> ReportBody:
    ref = ref_of(row.number)
    if stage == "entrustor":
        title = f"個人データの漏えい等に関する委託元への通知（{ref}）"
        addressee = row.entrustor_name
    else:
        title = f"個人データの漏えい等事案に関する報告（{STAGE_LABELS[stage][0]}）（{ref}）"
        addressee = None
    return ReportBody(
        incident_ref=ref,
        stage=stage,
        title=title,
        addressee=addressee,
        sender=ctx.runtime.settings.operator_name,
        items=_items(ctx, row, stage),
    )


def canonical(body: ReportBody) -> str:
    """The body as stored: JSON with sorted keys and no spaces (the hash is of these bytes)."""
    return json.dumps(body.model_dump(mode="json"), ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _read(row: Incident, rep: IncidentReport, *, stored: bool = True) -> ReportRead:
    return ReportRead(
        id=rep.id,
        incident_id=row.id,
        incident_ref=ref_of(row.number),
        stage=rep.stage,
        version=rep.version,
        sha256=rep.sha256,
        drafted_at=rep.drafted_at,
        drafted_by=rep.drafted_by,
        stored=stored,
        body=ReportBody.model_validate_json(rep.body),
    )


def _latest(ctx: Context, incident_id: str, stage: str) -> IncidentReport | None:
    return ctx.session.execute(
        select(IncidentReport)
        .where(IncidentReport.incident_id == incident_id, IncidentReport.stage == stage)
        .order_by(IncidentReport.version.desc())
        .limit(1)
    ).scalar_one_or_none()


def _check_stage(stage: str, allowed: tuple[str, ...]) -> None:
    if stage not in allowed:
        raise ValidationFailed(
            f"段階は {' / '.join(allowed)} のいずれかです（速報 prelim・確報 final）。",
            f"The stage must be one of {', '.join(allowed)}.",
            code="bad_stage",
        )


def _store(ctx: Context, row: Incident, stage: str, rule_id: str, action: str) -> ReportRead:
    body = _body(ctx, row, stage)
    text = canonical(body)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    latest = _latest(ctx, row.id, stage)
    if latest is not None and latest.sha256 == digest:
        record_read(
            ctx,
            action,
            [],
            [],
            rule_ids=(rule_id,),
            details={"incident_id": row.id, "stage": stage, "version": latest.version, "stored": False},
        )
        return _read(row, latest, stored=False)
    rep = IncidentReport(
        id=new_id(),
        incident_id=row.id,
        stage=stage,
        version=(latest.version + 1) if latest is not None else 1,
        body=text,
        sha256=digest,
        drafted_at=ctx.clock.now(),
        drafted_by=ctx.actor.label,
    )
    ctx.session.add(rep)
    ctx.session.flush()
    record_write(
        ctx,
        action,
        [],
        [],
        rule_ids=(rule_id,),
        details={"incident_id": row.id, "stage": stage, "version": rep.version, "stored": True},
    )
    return _read(row, rep)


# -- use cases -----------------------------------------------------------------------------------------------------


def draft(ctx: Context, key: str, stage: str) -> ReportRead:
    """Draft the PPC report's nine items (R-26-4) as a new version of 速報 (prelim) or 確報 (final); an unchanged
    draft is not stored again (``stored`` False, the latest version returned)."""
    authorise(ctx, INCIDENT_MANAGE, RESOURCE, [])
    _check_stage(stage, REPORT_STAGES)
    row = find(ctx, key)
    return _store(ctx, row, stage, R_26_4, "incident.report.draft")


def entrustor_notice(ctx: Context, key: str) -> ReportRead:
    """Draft the notice of the known items to the entrustor (委託元) when the company is the outsourcee (R-26-5,
    規則9). Refused for an incident of the company's own data (role operator)."""
    authorise(ctx, INCIDENT_MANAGE, RESOURCE, [])
    row = find(ctx, key)
    if row.role != "outsourcee":
        raise ValidationFailed(
            "委託元への通知は、当社が委託先として取り扱う個人データの事案（役割: 委託先）についてのみ作成できます。"
            "当社自身の個人データの事案は個人情報保護委員会へ報告してください。",
            "A notice to the entrustor is drafted only when the company handles the data as an outsourcee; "
            "report an incident of the company's own data to the PPC.",
            rule_id=R_26_5,
            code="not_outsourcee",
        )
    return _store(ctx, row, "entrustor", R_26_5, "incident.entrustor_notice.draft")


def can_draft(ctx: Context) -> bool:
    """Whether the actor may draft (to offer the buttons; the drafting itself authorises and audits)."""
    return decide(ctx, INCIDENT_MANAGE, RESOURCE).allowed


def _versions(ctx: Context, incident_id: str) -> list[IncidentReport]:
    return list(
        ctx.session.execute(
            select(IncidentReport)
            .where(IncidentReport.incident_id == incident_id)
            .order_by(IncidentReport.stage, IncidentReport.version)
        ).scalars()
    )


def diff(prelim: ReportRead | None, final: ReportRead | None) -> list[ItemDiff]:
    """The nine items of the latest 速報 and 確報 side by side, each marked when its text changed."""
    a = {i.number: i.text for i in prelim.body.items} if prelim else {}
    b = {i.number: i.text for i in final.body.items} if final else {}
    return [
        ItemDiff(
            number=n,
            title=title,
            prelim=a.get(n),
            final=b.get(n),
            changed=prelim is not None and final is not None and a.get(n) != b.get(n),
        )
        for n, title, _ in ITEM_TITLES
    ]


def reports(ctx: Context, key: str) -> ReportsRead:
    """The latest 速報 and 確報 side by side (with what changed per item), the entrustor notice, every version."""
    authorise(ctx, INCIDENT_READ, RESOURCE, [])
    row = find(ctx, key)
    rows = _versions(ctx, row.id)
    latest: dict[str, IncidentReport] = {}
    for rep in rows:
        latest[rep.stage] = rep  # ordered by version: the last one wins
    views = {stage: _read(row, rep) for stage, rep in latest.items()}
    record_read(ctx, "incident.report.read", [], [], details={"incident_id": row.id, "versions": len(rows)})
    return ReportsRead(
        incident_id=row.id,
        incident_ref=ref_of(row.number),
        role=row.role,
        prelim=views.get("prelim"),
        final=views.get("final"),
        entrustor=views.get("entrustor"),
        versions=[
            ReportVersion(
                id=r.id,
                stage=r.stage,
                version=r.version,
                sha256=r.sha256,
                drafted_at=r.drafted_at,
                drafted_by=r.drafted_by,
            )
            for r in sorted(rows, key=lambda r: (STAGES.index(r.stage), r.version))
        ],
        diff=diff(views.get("prelim"), views.get("final")),
    )


def version(ctx: Context, key: str, stage: str, number: int | None = None) -> ReportRead:
    """One version of a stage (the latest when ``number`` is None), for readers of the board."""
    authorise(ctx, INCIDENT_READ, RESOURCE, [])
    _check_stage(stage, STAGES)
    row = find(ctx, key)
    return _version(ctx, row, stage, number)


def _version(ctx: Context, row: Incident, stage: str, number: int | None) -> ReportRead:
    if number is None:
        rep = _latest(ctx, row.id, stage)
    else:
        rep = ctx.session.execute(
            select(IncidentReport).where(
                IncidentReport.incident_id == row.id,
                IncidentReport.stage == stage,
                IncidentReport.version == number,
            )
        ).scalar_one_or_none()
    if rep is None:
        raise NotFound(
            "この段階・版の報告はまだ作成されていません。",
            "No report of this stage and version has been drafted.",
            code="report_not_found",
        )
    return _read(row, rep)


def export(ctx: Context, key: str, stage: str, version: int | None, fmt: str) -> bytes:
    """A version (the latest when ``number`` is None) as HTML, PDF or JSON, laid out as the nine numbered items."""
    authorise(ctx, INCIDENT_READ, RESOURCE, [])
    _check_stage(stage, STAGES)
    if fmt not in FORMATS:
        raise ValidationFailed(
            f"形式は {' / '.join(FORMATS)} のいずれかです。",
            f"The format must be one of {', '.join(FORMATS)}.",
            code="bad_format",
        )
    row = find(ctx, key)
    rep = _version(ctx, row, stage, version)
    record_read(
        ctx,
        "incident.report.export",
        [],
        [],
        rule_ids=(R_26_5 if stage == "entrustor" else R_26_4,),
        details={"incident_id": row.id, "stage": stage, "version": rep.version, "format": fmt},
    )
    return render(rep, fmt, ctx)


# -- rendering -----------------------------------------------------------------------------------------------------


@functools.cache
def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(fmt_datetime=labels.fmt_datetime, fmt_date=labels.fmt_date)
    return env


def to_html(rep: ReportRead) -> bytes:
    """The standalone HTML document (print view): the nine numbered items, one block each."""
    html = (
        _environment()
        .get_template("incidents/report_print.html")
        .render(report=rep, stage_label=STAGE_LABELS[rep.stage][0])
    )
    return html.encode("utf-8")


def _font(ctx: Context | None) -> str:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    path = pdf_font_path(ctx.runtime.settings if ctx is not None else None)
    name = PDF_FONT_NAME if path.name == "ipaexm.ttf" else f"MamoriJP-{path.stem}"
    if name not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(name, str(path)))
    return name


def to_pdf(rep: ReportRead, ctx: Context | None = None) -> bytes:
    """The same content as a PDF (A4, the Japanese font embedded), each item a ruled block."""
    from xml.sax.saxutils import escape

    from reportlab.lib import colors
    from reportlab.lib.enums import TA_CENTER, TA_RIGHT
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, TableStyle
    from reportlab.platypus import Table as PdfTable

    font = _font(ctx)
    body = ParagraphStyle("body", fontName=font, fontSize=10, leading=16, wordWrap="CJK")
    right = ParagraphStyle("right", parent=body, alignment=TA_RIGHT)
    h1 = ParagraphStyle(
        "h1", parent=body, fontSize=14, leading=22, alignment=TA_CENTER, spaceBefore=6, spaceAfter=8
    )
    cell = ParagraphStyle("cell", parent=body, fontSize=9, leading=14)
    grid = TableStyle(
        [
            ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#EEEEEE")),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ]
    )

    def para(text: str, style: ParagraphStyle = body) -> Paragraph:
        return Paragraph(escape(text).replace("\n", "<br/>").replace("  ", "&nbsp;&nbsp;"), style)

    b = rep.body
    story: list[Any] = [para(f"{STAGE_LABELS[rep.stage][0]} 第{rep.version}版", right)]
    if b.addressee:
        story.append(para(f"{b.addressee} 御中"))
    if b.sender:
        story.append(para(b.sender, right))
    story.append(para(b.title, h1))
    for item in b.items:
        t = PdfTable(
            [[para(f"({item.number}) {item.title}", cell)], [para(item.text, cell)]], colWidths=[170 * mm]
        )
        t.setStyle(grid)
        story += [t, Spacer(1, 3 * mm)]
    story.append(para(f"SHA-256: {rep.sha256}", ParagraphStyle("small", parent=body, fontSize=7)))
    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf,
        pagesize=A4,
        title=b.title,
        author=b.sender or "",
        invariant=True,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
    )
    doc.build(story)
    return buf.getvalue()


def to_json(rep: ReportRead) -> bytes:
    return rep.model_dump_json(indent=2).encode("utf-8")


def render(rep: ReportRead, fmt: str, ctx: Context | None = None) -> bytes:
    if fmt == "html":
        return to_html(rep)
    if fmt == "pdf":
        return to_pdf(rep, ctx)
    return to_json(rep)
