"""What stays however personal it looks: a company's own numbers and names (issue 23).

Built-in rules (always on): free-dial (0120, 0800) and navi-dial (0570) numbers are a company's, never a
person's; in a company's signature block (lines around a company name — 株式会社, 有限会社, Co., Ltd., Inc.,
支店, 本社 …) the numbers on a TEL / 代表 / FAX line are the company's, and so are the postal code and address on
its lines (a business card; not a line marked 自宅 / 住所 / home). A mobile number (090/080/070) or a line marked
直通 / 携帯 / mobile / direct stays personal; a venue's or an office's address (会場, 所在地, 本社 …) stays.

A ``KeepList`` comes from the company settings (MAMORI_OPERATOR_PHONES …) and the counterparty registry
(``mamori.deid.service.text_keep``); ``apply_keep`` drops the findings it covers: numbers compared digits
only, names by their exact text.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from mamori.deid.text.detect.common import Finding, lazy_compile


@dataclass(frozen=True)
class KeepList:
    """Numbers (digits only, e.g. "0312345678") and names that are never personal data."""

    numbers: frozenset[str] = field(default_factory=frozenset)
    names: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def of(cls, numbers: Iterable[str] = (), names: Iterable[str] = ()) -> KeepList:
        """A keep list from raw phone numbers (any format; digits are kept, +81 becomes 0) and names."""
        return cls(
            frozenset(d for d in (_digits(n) for n in numbers) if len(d) >= 6),
            frozenset(n.strip() for n in names if n and n.strip()),
        )

    def __or__(self, other: KeepList) -> KeepList:
        return KeepList(self.numbers | other.numbers, self.names | other.names)


# The keep list in effect (set with ``using_keep``); None: no company list, the built-in rules only.
KEEP_LIST: ContextVar[KeepList | None] = ContextVar("mamori_text_keep", default=None)


@contextmanager
def using_keep(keep: KeepList | None) -> Iterator[None]:
    token = KEEP_LIST.set(keep)
    try:
        yield
    finally:
        KEEP_LIST.reset(token)


_NON_DIGIT = lazy_compile(r"\D")


_OCR_DIGITS = str.maketrans("OoIl", "0011")  # a scanned 0 / 1 read as a letter ("Ol2O-…")


def _digits(raw: str) -> str:
    d = _NON_DIGIT.sub("", raw.translate(_OCR_DIGITS))
    if raw.lstrip().startswith("+81"):
        d = "0" + d[2:].removeprefix("0")
    return d


_COMPANY_DIAL = ("0120", "0800", "0570")
_MOBILE = ("090", "080", "070")
_COMPANY_LINE = lazy_compile(
    r"株式会社|有限会社|合同会社|合資会社|合名会社|社団法人|財団法人|\(株\)|㈱|\(有\)|㈲|支店|支社|本社|本店|営業所|事業所"
    r"|事務所|クリニック|医院|病院|(?:^|(?<=\n))[^:\n]*\S店(?=\s*$)"
    r"|\b(?:Co\.,?\s?Ltd|CO\.,?\s?LTD|Inc|INC|Corp|Corporation|CORP|LLC|K\.K\.|Ltd|LTD|GmbH|PLC|Holdings|Industries)\b"
)
_COMPANY_NUMBER_LABEL = lazy_compile(
    r"TEL|Tel\b|tel\b|Phone|電話|代表|FAX|Fax|fax|ファックス|ファクス|フリーダイヤル|ナビダイヤル|Main|(?:^|\s)[TF][:.]"
)
_PERSONAL_LABEL = lazy_compile(r"直通|携帯|個人|[Mm]obile|MOBILE|[Cc]ell|CELL|[Dd]irect|DIRECT|\bDID\b")
_SIG_SPAN = 5  # lines either side of a company line that can belong to its signature block
_CARD_SPAN = 9  # lines below the company's name on a business card (short lines only)
# A cheap test before _COMPANY_LINE: every word it matches contains one of these.
_COMPANY_HINT = lazy_compile(
    r"会社|法人|店|支社|本社|営業所|事業所|事務所|クリニック|医院|病院|\([株有]\)|㈱|㈲|Co\.|CO\.|Inc|INC|Corp|CORP|LLC|K\.K\.|Ltd|LTD|GmbH|PLC|Holdings|Industries"
)
_NOT_A_SIGNATURE_LINE = lazy_compile(r"[。：]|: |\bmet\b|\bof\b")


def _company_line(norm: str, a: int, b: int) -> bool:
    """A short line naming a company, not a sentence or a labelled field (「訪問先：…株式会社」, "met X of Y Inc.")."""
    line = norm[a:b].strip()
    return (
        len(line) <= (60 if line.isascii() else 40)
        and _COMPANY_LINE.search(norm, a, b) is not None
        and _NOT_A_SIGNATURE_LINE.search(norm, a, b) is None
    )


def _card_line(line: str) -> bool:
    """A short line of a business card (a name, a title), not a sentence or a labelled home field: a blank line
    above it does not end the card."""
    return (
        len(line.strip()) <= 30 and "。" not in line and "、" not in line and _HOME_CUE.search(line) is None
    )


def _in_signature_block(norm: str, line_start: int, line_end: int) -> bool:
    """Whether the line is in a company's signature block: a line naming a company within a few lines of it,
    with no blank line between (on a business card — the company's name first, then short lines — a single blank
    line above is no end)."""
    if _company_line(norm, line_start, line_end):
        return True
    card = _card_line(norm[line_start:line_end])  # every line passed so far is a card's short line
    a = line_start
    steps = 0
    while steps < (_CARD_SPAN if card else _SIG_SPAN) and a > 0:  # lines above
        a0 = norm.rfind("\n", 0, a - 1) + 1
        if not norm[a0 : a - 1].strip():
            if not card or a0 == 0 or not norm[norm.rfind("\n", 0, a0 - 1) + 1 : a0 - 1].strip():
                break  # a blank line after a sentence, or two blank lines
            a = a0
            continue
        if _company_line(norm, a0, a - 1):
            return True
        card = card and _card_line(norm[a0 : a - 1])
        a = a0
        steps += 1
    b = line_end
    for _ in range(_SIG_SPAN):  # lines below
        if b >= len(norm):
            break
        b1 = norm.find("\n", b + 1)
        b1 = len(norm) if b1 < 0 else b1
        if not norm[b + 1 : b1].strip():
            break
        if _company_line(norm, b + 1, b1):
            return True
        b = b1
    return False


def _company_number(norm: str, start: int, digits: str, company_named: bool) -> bool:
    """A phone number that is a company's by the built-in rules: free-dial / navi-dial anywhere; a non-mobile
    number on a TEL / 代表 / FAX line (not 直通 / 携帯 / mobile) of a company's signature block."""
    if digits.startswith(_COMPANY_DIAL):
        return True
    if not company_named or digits.startswith(_MOBILE):
        return False
    a = norm.rfind("\n", 0, start) + 1
    b = norm.find("\n", start)
    b = len(norm) if b < 0 else b
    # the label is the words before the number, after any number before it: "TEL 045-… / Mobile 080-…"
    label = norm[a:start]
    prev = _LAST_NUMBER.search(label)
    if prev:
        label = label[prev.end() :]
    if _PERSONAL_LABEL.search(label) or not _COMPANY_NUMBER_LABEL.search(label):
        return False
    return _in_signature_block(norm, a, b)


# A company's number said in a sentence: 店舗代表番号は 011-…, 事務所代表 03-…, "the main line (06-…)",
# "Serizawa Estate, 03-…", 猪狩運輸株式会社 呉営業所 0823-… (the words just before it on its line).
_COMPANY_NUMBER_CUE = lazy_compile(
    r"代表|店舗|事務所|窓口|本社|本店|支店|支社|営業所|センター|[^\s]店[\s:：)）]|株式会社|有限会社|[Mm]ain|branch|[Ss]tore"
    r"|[Ss]hop|front desk|[Oo]ffice|[Cc]ompany|Co\.|Inc\.?|Corp|Ltd|KK|Estate|Trading|Clinic|院の|法人|役所|役場"
    r"|店(?:TEL|Tel|電話|番号)"
)
_SENTENCE_END = lazy_compile(r"[。!?！？]|(?<!Co)(?<!Inc)(?<!Ltd)(?<!No)\.\s")
_LAST_NUMBER = lazy_compile(r".*\d[\d\s()\-‐]*\d")
_PERSONAL_CUE = lazy_compile(
    r"直通|携帯|個人|自宅|ご本人|本人|[Mm]obile|MOBILE|[Cc]ell|[Dd]irect|DIRECT|\bDID\b|[Hh]ome|さん|様"
)
_CUE_WINDOW = 30
# A company's or a venue's address: 会場は…, 所在地…, 本社 〒…, 場所：…株式会社（…）
_PLACE_CUE = lazy_compile(
    r"会場|(?<!設置)場所|所在地|本社|本店|支店|支社|営業所|事務所|オフィス|スタジオ|店舗|当院|当社|弊社|イベント|Clinic|[Oo]ffice"
)
_HOME_CUE = lazy_compile(r"住所|自宅|お届け|送付先|届け先|設置|引越|転居|在住|住ん|[Hh]ome|[Aa]ddress|現地")


def _before(norm: str, start: int) -> str:
    a = max(norm.rfind("\n", 0, start) + 1, start - _CUE_WINDOW)
    return norm[a:start]


def _company_number_said(norm: str, start: int, digits: str) -> bool:
    if digits.startswith(_MOBILE):
        return False
    before = _before(norm, start)
    ends = [m.end() for m in _SENTENCE_END.finditer(before)]
    if ends:  # only the sentence the number is in: …さん、ありがとう。窓口は 026-… is the office's
        before = before[ends[-1] :]
    # only the words after the previous number on the line: "Tel (direct): 03-… | Main: 03-…"
    prev = _LAST_NUMBER.search(before)
    if prev:
        before = before[prev.end() :]
    return _COMPANY_NUMBER_CUE.search(before) is not None and _PERSONAL_CUE.search(before) is None


def _company_place(norm: str, start: int, company_named: bool) -> bool:
    """An address (or its postal code) that is a venue's or a company's: after 会場は / 所在地 / 本社 … on its line,
    or on a line of a company's signature block (a business card: 会社名 / 氏名 / 〒 住所) not marked 自宅 / home."""
    before = _before(norm, start)
    if _HOME_CUE.search(before):
        return False
    if _PLACE_CUE.search(before) is not None:
        return True
    if not company_named:
        return False
    a = norm.rfind("\n", 0, start) + 1
    b = norm.find("\n", start)
    b = len(norm) if b < 0 else b
    return _HOME_CUE.search(norm, a, b) is None and _in_signature_block(norm, a, b)


def apply_keep(norm: str, findings: list[Finding], keep: KeepList | None) -> list[Finding]:
    """``findings`` without those that are a company's number (built-in rules) or a kept number or name."""
    numbers = keep.numbers if keep is not None else frozenset()
    names = keep.names if keep is not None else frozenset()
    if not names:
        for f in findings:
            if f.type in ("phone", "address", "postal_code"):
                break
        else:
            return findings
    company_named = _COMPANY_HINT.search(norm) is not None  # no company named: no signature block
    out: list[Finding] = []
    for f in findings:
        if f.type == "phone":
            digits = _digits(norm[f.start : f.end])
            if (
                digits in numbers
                or _company_number(norm, f.start, digits, company_named)
                or _company_number_said(norm, f.start, digits)
            ):
                continue
        elif f.type in ("address", "postal_code") and _company_place(norm, f.start, company_named):
            continue
        elif names and f.type == "person" and norm[f.start : f.end].strip() in names:
            continue
        out.append(f)
    return out
