"""Render a disclosure package as JSON, CSV, a Japanese letter in HTML (Jinja2) or PDF (reportlab).

Packages go to a path the user gives (CLI --out) or back in the API response; they are never stored.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from mamori.kernel.errors import ValidationFailed
from mamori.law.rules import G_20
from mamori.rights.schemas import DisclosurePackage

FORMATS = ("json", "csv", "html", "pdf")
MACHINE_READABLE = ("json", "csv")  # G-20: a structured, commonly used, machine-readable format
MEDIA_TYPES = {
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
}
_TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
_env = Environment(
    loader=FileSystemLoader(str(_TEMPLATES)),
    autoescape=select_autoescape(["html", "j2"]),
    trim_blocks=True,
    lstrip_blocks=True,
)

CATEGORY_LABELS = {
    "profile": "基本情報",
    "contact": "連絡先",
    "attribute": "属性",
    "activity": "取引・対応履歴",
    "provenance": "取得元",
    "purpose": "通知した利用目的",
    "consent": "同意の記録",
    "provision_record": "第三者提供記録",
}
GROUND_LABELS = {
    "harm_to_person": "本人又は第三者の生命、身体、財産その他の権利利益を害するおそれ（第33条第2項第1号）",
    "business_hindrance": "業務の適正な実施に著しい支障を及ぼすおそれ（同第2号）",
    "other_law": "他の法令に違反することとなる場合（同第3号）",
}
TITLES = {
    "purpose_notice": "利用目的の通知",
    "disclosure": "保有個人データ開示のお知らせ",
    "provision_records": "第三者提供記録の開示のお知らせ",
    "portability": "個人データの提供（データポータビリティ）",
}


def _flat(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def to_json(p: DisclosurePackage) -> bytes:
    return p.model_dump_json(indent=2).encode("utf-8")


def to_csv(p: DisclosurePackage) -> bytes:
    """One row per field of each record (machine-readable; G-20)."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(
        ["source", "category", "record_id", "field", "value", "acquired_from", "purposes", "occurred_at"]
    )
    for r in p.records:
        for field, value in r.data.items():
            w.writerow(
                [
                    r.source,
                    r.category,
                    r.record_id,
                    field,
                    _flat(value),
                    r.acquired_from or "",
                    " ".join(r.purposes),
                    r.occurred_at.isoformat() if r.occurred_at else "",
                ]
            )
    for pur in p.purposes:
        w.writerow(["purposes", "purpose", pur["code"], "title", pur["title"], "", pur["code"], ""])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")  # BOM: Excel opens UTF-8 Japanese correctly


def _groups(p: DisclosurePackage) -> list[dict[str, Any]]:
    groups: dict[str, list[Any]] = {}
    for r in p.records:
        groups.setdefault(f"{r.source}:{r.category}", []).append(r)
    return [
        {"label": CATEGORY_LABELS.get(key.split(":", 1)[1], key), "records": recs}
        for key, recs in groups.items()
    ]


def _title(p: DisclosurePackage) -> str:
    return TITLES.get(p.kind, "ご請求への回答")


def to_html(p: DisclosurePackage, today: date) -> bytes:
    template = _env.get_template("rights/letter.html.j2")
    return template.render(
        p=p,
        title=_title(p),
        today=f"{today.year}年{today.month}月{today.day}日",
        regime_label="GDPR" if p.regime == "gdpr" else "個人情報の保護に関する法律",
        intro="ご請求いただいた内容について、次のとおり回答いたします。",
        groups=_groups(p),
        grounds=GROUND_LABELS,
    ).encode("utf-8")


def to_pdf(p: DisclosurePackage, today: date) -> bytes:
    """A printable Japanese letter (reportlab's built-in CID font HeiseiMin-W3: no font file needed)."""
    from xml.sax.saxutils import escape

    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer
    from reportlab.platypus import Table as PdfTable

    font = "HeiseiMin-W3"
    if font not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(font))
    body = ParagraphStyle("body", fontName=font, fontSize=9.5, leading=14, wordWrap="CJK")
    h1 = ParagraphStyle("h1", parent=body, fontSize=15, leading=22, spaceAfter=6)
    h2 = ParagraphStyle("h2", parent=body, fontSize=11.5, leading=18, spaceBefore=8, spaceAfter=4)
    cell = ParagraphStyle("cell", parent=body, fontSize=8, leading=11)

    def para(text: str, style: ParagraphStyle = body) -> Paragraph:
        return Paragraph(escape(text).replace("\n", "<br/>"), style)

    story: list[Any] = [
        para(f"{today.year}年{today.month}月{today.day}日"),
        para(_title(p), h1),
        para(f"受付番号: {p.request_id}"),
        para("ご請求いただいた内容について、次のとおり回答いたします。"),
        Spacer(1, 4 * mm),
    ]
    if p.no_data:
        story.append(para("ご請求の範囲で当社が保有する個人データはありません。"))
    if p.purposes:
        story.append(para("利用目的", h2))
        rows = [[para(x, cell) for x in ("コード", "利用目的", "内容")]]
        rows += [[para(x["code"], cell), para(x["title"], cell), para(x["text"], cell)] for x in p.purposes]
        story.append(PdfTable(rows, colWidths=[30 * mm, 40 * mm, 100 * mm], repeatRows=1))
    for group in _groups(p):
        story.append(para(group["label"], h2))
        rows = [[para(x, cell) for x in ("記録", "内容", "取得元", "日時")]]
        for r in group["records"]:
            content = "\n".join(f"{k}: {_flat(v)}" for k, v in r.data.items() if v is not None)
            rows.append(
                [
                    para(r.record_id[:12], cell),
                    para(content, cell),
                    para(r.acquired_from or "", cell),
                    para(r.occurred_at.strftime("%Y-%m-%d") if r.occurred_at else "", cell),
                ]
            )
        story.append(PdfTable(rows, colWidths=[25 * mm, 95 * mm, 30 * mm, 22 * mm], repeatRows=1))
    if p.recipients:
        story.append(para("提供先・委託先", h2))
        for r in p.recipients:
            story.append(para(f"{r['name']}（{r['kind']}, {r.get('country') or ''}）"))
    if p.refused_categories:
        story.append(para("開示しない部分", h2))
        for cat, ground in p.refused_categories.items():
            story.append(para(f"{cat}: {GROUND_LABELS.get(ground, ground)}"))
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A4, title=_title(p), author="mamori", invariant=True)
    doc.build(story)
    return buf.getvalue()


def check_format(kind: str, fmt: str) -> None:
    """G-20: the answer to a portability request is the data in a machine-readable format the person can take
    to another controller (json or csv); a letter (html, pdf) is for disclosure."""
    if kind == "portability" and fmt not in MACHINE_READABLE:
        raise ValidationFailed(
            f"データポータビリティの回答は機械可読な形式（{' / '.join(MACHINE_READABLE)}）で出力してください。",
            f"A portability answer is given in a machine-readable format ({' / '.join(MACHINE_READABLE)}).",
            rule_id=G_20.id,
            code="portability_format",
        )


def render(p: DisclosurePackage, fmt: str, today: date) -> bytes:
    check_format(p.kind, fmt)
    if fmt == "json":
        return to_json(p)
    if fmt == "csv":
        return to_csv(p)
    if fmt == "html":
        return to_html(p, today)
    if fmt == "pdf":
        return to_pdf(p, today)
    raise ValidationFailed(
        f"形式は {', '.join(FORMATS)} のいずれかです。",
        f"Format must be one of {', '.join(FORMATS)}.",
        code="bad_format",
    )


def write(p: DisclosurePackage, fmt: str, out: Path, today: date) -> int:
    """Write the package to ``out`` (mode 0600); return the bytes written."""
    import os

    data = render(p, fmt, today)
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    return len(data)
