"""Render a disclosure package as JSON, CSV (machine-readable, G-20), or the 通知書 in HTML or PDF.

The letter's words come from mamori.rights.service.letters (template rights/letter.html.j2, overridable under
$MAMORI_HOME/templates/rights/); the PDF draws the same content with reportlab, embedding a Japanese TrueType
font (IPAex Mincho; MAMORI_PDF_FONT names another) and ruling its tables. Packages go to a path the user gives
(CLI --out) or back in the API response; they are never stored.
"""

from __future__ import annotations

import io
import json
import os
from datetime import date
from pathlib import Path
from typing import Any

from mamori.kernel import files
from mamori.kernel.errors import ConfigurationError, ValidationFailed
from mamori.kernel.settings import Settings
from mamori.law.rules import G_20
from mamori.rights.schemas import DisclosurePackage
from mamori.rights.service import letters

FORMATS = ("json", "csv", "html", "pdf")
MACHINE_READABLE = ("json", "csv")  # G-20: a structured, commonly used, machine-readable format
MEDIA_TYPES = {
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
}
# The Japanese font embedded in the PDF letter (a TrueType file: reportlab embeds a subset of it). MAMORI_PDF_FONT
# names another file; otherwise the first of these that exists (Debian/Ubuntu: fonts-ipaexfont-mincho).
PDF_FONT_ENV = "MAMORI_PDF_FONT"
PDF_FONT_PATHS = (
    "/usr/share/fonts/opentype/ipaexfont-mincho/ipaexm.ttf",
    "/usr/share/fonts/truetype/ipaexfont-mincho/ipaexm.ttf",
    "/usr/share/fonts/opentype/ipafont-mincho/ipam.ttf",
    "/usr/share/fonts/truetype/ipafont-mincho/ipam.ttf",
    "/usr/share/fonts/ipa-mincho/ipam.ttf",
)
PDF_FONT_NAME = "IPAexMincho"


def _flat(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def to_json(p: DisclosurePackage) -> bytes:
    return p.model_dump_json(indent=2).encode("utf-8")


def to_csv(p: DisclosurePackage) -> bytes:
    """One row per field of each record (machine-readable; G-20); cells a spreadsheet would run as a formula get
    a leading ``'`` (kernel.files)."""
    buf = io.StringIO()
    w = files.csv_writer(buf)
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


def to_html(
    p: DisclosurePackage,
    today: date,
    *,
    settings: Settings | None = None,
    lang: str | None = None,
    method: str = "electronic",
) -> bytes:
    """The 通知書 as HTML (template rights/letter.html.j2, overridable under $MAMORI_HOME/templates)."""
    return letters.letter_html(p, today, settings=settings, lang=lang, fmt="html", method=method).encode(
        "utf-8"
    )


def pdf_font_path(settings: Settings | None = None) -> Path:
    """The TrueType font the PDF embeds: MAMORI_PDF_FONT (or the setting ``pdf_font``), else the IPA fonts.
    No silent fallback to a font the reader may not have: without one, the operator is told what to install."""
    configured = getattr(settings, "pdf_font", None) or os.environ.get(PDF_FONT_ENV)
    if configured:
        path = Path(str(configured)).expanduser()
        if path.is_file():
            return path
        raise ConfigurationError(
            f"PDF用の日本語フォント {path} が見つかりません（{PDF_FONT_ENV}）。",
            f"The PDF font {path} does not exist ({PDF_FONT_ENV}).",
            code="pdf_font_missing",
        )
    for candidate in PDF_FONT_PATHS:
        if Path(candidate).is_file():
            return Path(candidate)
    raise ConfigurationError(
        "PDFに埋め込む日本語フォントがありません。fonts-ipaexfont-mincho をインストールするか、"
        f"{PDF_FONT_ENV} にTrueTypeフォントのパスを指定してください。",
        "No Japanese font to embed in the PDF: install fonts-ipaexfont-mincho or set "
        f"{PDF_FONT_ENV} to a TrueType font file.",
        code="pdf_font_missing",
    )


def _register_font(settings: Settings | None) -> str:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    path = pdf_font_path(settings)
    name = PDF_FONT_NAME if path.name == "ipaexm.ttf" else f"MamoriJP-{path.stem}"
    if name not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(name, str(path)))
    return name


def to_pdf(
    p: DisclosurePackage,
    today: date,
    *,
    settings: Settings | None = None,
    lang: str | None = None,
    method: str = "electronic",
) -> bytes:
    """The 通知書 as a printable PDF: the same content as the HTML letter, the Japanese font embedded (IPAex
    Mincho), tables with ruled borders."""
    from xml.sax.saxutils import escape

    from reportlab.lib import colors
    from reportlab.lib.enums import TA_CENTER, TA_RIGHT
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, TableStyle
    from reportlab.platypus import Table as PdfTable

    c = letters.letter_context(p, today, settings=settings, lang=lang, fmt="pdf", method=method)
    font = _register_font(settings)
    body = ParagraphStyle("body", fontName=font, fontSize=10, leading=16, wordWrap="CJK")
    right = ParagraphStyle("right", parent=body, alignment=TA_RIGHT)
    center = ParagraphStyle("center", parent=body, alignment=TA_CENTER)
    h1 = ParagraphStyle(
        "h1", parent=body, fontSize=15, leading=24, alignment=TA_CENTER, spaceBefore=8, spaceAfter=8
    )
    h2 = ParagraphStyle("h2", parent=body, fontSize=11.5, leading=18, spaceBefore=8, spaceAfter=3)
    h3 = ParagraphStyle("h3", parent=body, fontSize=10.5, leading=16, spaceBefore=4, spaceAfter=2)
    cell = ParagraphStyle("cell", parent=body, fontSize=8.5, leading=12)
    grid = TableStyle(
        [
            ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
            ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#EEEEEE")),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ]
    )

    def para(text: str, style: ParagraphStyle = body) -> Paragraph:
        return Paragraph(escape(text).replace("\n", "<br/>"), style)

    def table(rows: list[list[str]]) -> PdfTable:
        t = PdfTable([[para(a, cell), para(b, cell)] for a, b in rows], colWidths=[45 * mm, 125 * mm])
        t.setStyle(grid)
        return t

    sender, w, en = c["sender"], c["w"], c["lang"] == "en"

    def cited(text: str, extra: str) -> str:
        return (f"{text} ({extra})" if en else f"{text}（{extra}）") if extra else text

    story: list[Any] = [
        para(c["today"], right),
        para(
            w["honorific"].replace("{name}", c["addressee"]),
            ParagraphStyle("to", parent=body, fontSize=12, leading=20),
        ),
        para(f"{sender.name}\n{sender.address}\n{sender.representative}", right),
        para(w["receipt_no"].replace("{no}", c["receipt_no"])),
        para(c["title"], h1),
        para(c["intro"]),
        Spacer(1, 3 * mm),
        para(w["ki"], center),
    ]
    kind = c["kind"]
    if kind != "purpose_notice" or c["no_data"]:
        story.append(para(w["provision_records"] if kind == "provision_records" else w["records"], h2))
        if c["no_data"]:
            story.append(para(w["none_records"] if kind == "provision_records" else w["none_data"]))
        for group in c["groups"]:
            story.append(para(group["label"], h3))
            for rows in group["records"]:
                story += [table(rows), Spacer(1, 2 * mm)]
    if c["purposes"]:
        story.append(para(w["purposes_of"] if kind == "purpose_notice" else w["purposes"], h2))
        story.append(table([[w["purpose"], w["content"]]] + [[x["title"], x["line"]] for x in c["purposes"]]))
    if c["recipients"]:
        story.append(para(w["recipients"], h2))
        story.append(table([[r["name"], cited(r["kind"], r["country"])] for r in c["recipients"]]))
    if c["refused"]:
        story.append(para(w["refused"], h2))
        rows = [[x["part"], x["line"]] for x in c["refused"]]
        if c["refusal_explanation"]:
            rows.append([w["explanation"], c["refusal_explanation"]])
        story.append(table(rows))
    if kind != "purpose_notice":
        story += [para(w["method"], h2), para(c["method_line"])]
    story += [
        para(w["fee"], h2),
        para(c["fee_line"]),
        para(w["basis"], h2),
        para(c["basis_line"]),
        para(w["contact"], h2),
        para(f"{w['contact_text']}\n{sender.contact}"),
        Spacer(1, 4 * mm),
        para(w["end"], right),
    ]
    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf,
        pagesize=A4,
        title=c["title"],
        author=sender.name,
        invariant=True,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
    )
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


def render(
    p: DisclosurePackage,
    fmt: str,
    today: date,
    *,
    settings: Settings | None = None,
    lang: str | None = None,
    method: str = "electronic",
) -> bytes:
    """The package in ``fmt``. The letter (html, pdf) names the sender from ``settings`` (the runtime's; the
    process settings when not given) and the method of disclosure (``electronic`` / ``paper``, 法第33条第1項)."""
    check_format(p.kind, fmt)
    if fmt == "json":
        return to_json(p)
    if fmt == "csv":
        return to_csv(p)
    if fmt == "html":
        return to_html(p, today, settings=settings, lang=lang, method=method)
    if fmt == "pdf":
        return to_pdf(p, today, settings=settings, lang=lang, method=method)
    raise ValidationFailed(
        f"形式は {', '.join(FORMATS)} のいずれかです。",
        f"Format must be one of {', '.join(FORMATS)}.",
        code="bad_format",
    )


def write(
    p: DisclosurePackage,
    fmt: str,
    out: Path,
    today: date,
    *,
    settings: Settings | None = None,
    lang: str | None = None,
    method: str = "electronic",
    force: bool = False,
) -> int:
    """Write the package to ``out`` (mode 0600, never through a link, an existing file only with ``force``:
    kernel.files); return the bytes written."""
    data = render(p, fmt, today, settings=settings, lang=lang, method=method)
    files.write_output(out, data, force=force)
    return len(data)
