"""Structured identifiers: phone numbers, My Number / 法人番号, cards, IP addresses, postal codes, bank accounts."""

from __future__ import annotations

import ipaddress
import re
from functools import lru_cache

import phonenumbers

from mamori.deid.text.checkdigits import corporate_number_valid, luhn_valid, my_number_valid
from mamori.deid.text.detect.common import Finding

# --- structured identifiers ------------------------------------------------------------------------------

_KANJI = r"\u3400-\u9fff\u3005"  # CJK ideographs + 々
_KATA = r"\u30a1-\u30fa\u30fc"
_HIRA = r"\u3041-\u3096"

_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,24}(?![A-Za-z0-9-])"
)
_SEP = r"[-\s.ー]?"
_PHONE = re.compile(
    r"(?<![A-Za-z0-9_+-])(?:"
    r"\+81[-\s]?\(?0?\)?\d{1,4}[-\s.]?\d{1,4}[-\s.]?\d{3,4}"  # +81 forms
    r"|\+1[-\s.]?\(?\d{3}\)?[-\s.]?\d{3}[-\s.]\d{4}"  # +1 (US/CA)
    r"|\(0\d{1,4}\)\s?\d{1,4}" + _SEP + r"\d{3,4}"  # (03)1234-5678
    r"|0\d{1,4}" + _SEP + r"\d{1,4}" + _SEP + r"\d{3,4}"  # domestic JP
    r"|\(\d{3}\)\s?\d{3}[-.]\d{4}|\d{3}[-.]\d{3}[-.]\d{4}"  # domestic US
    r")(?![A-Za-z0-9_-])"
)
_POSTAL = re.compile(
    r"(?:〒|郵便番号[:\s]*)\s?(\d{3}-?\d{4})(?!\d)|(?<![A-Za-z0-9_-])(\d{3}-\d{4})(?![A-Za-z0-9_-])"
)
_DIGIT_RUN = re.compile(r"(?<![A-Za-z0-9_-])\d(?:[- ]?\d){11,18}(?![A-Za-z0-9_-])")
_IPV4 = re.compile(r"(?<![A-Za-z0-9_.])(?:\d{1,3}\.){3}\d{1,3}(?![A-Za-z0-9_.]|\.\d)")
_IPV6 = re.compile(
    r"(?<![A-Za-z0-9_])(?:[0-9A-Fa-f]{1,4}:){2,7}(?::|[0-9A-Fa-f]{1,4})(?:[0-9A-Fa-f:]*)(?![A-Za-z0-9_:])"
)
_HEX_COLON = re.compile(r"[0-9A-Fa-f]:[0-9A-Fa-f]{1,4}:")
_BANK = re.compile(
    r"(?:口座番号|口座|普通預金|当座預金|普通|当座|account\s+(?:no\.?|number|#)|a/c(?:\s+no\.?)?)"
    r"[\s:#]*(?:(?:普通|当座)[\s:]*)?(?:no\.?\s*)?(\d(?:[- ]?\d){5,13})(?![\d-])",
    re.IGNORECASE,
)

_ORDER_CONTEXT = re.compile(
    r"(?:(?:注文|受注|発注|請求書?|伝票|管理|会員|顧客|製品|型番|商品|品番|案件|問合せ|問い合わせ|チケット|予約|見積)"
    r"(?:番号|No\.?|ID|#|コード)|(?:order|invoice|ticket|ref|sku|model|serial|tracking)(?:\s*(?:no\.?|number|#|id))?)"
    r"[\s:#]*$",
    re.IGNORECASE,
)
_NON_DIGIT = re.compile(r"\D")
_CARD_WORD = re.compile(r"カード|card", re.IGNORECASE)
_GROUP_SEP = re.compile(r"[- ]")
_ONE_KANJI = re.compile(r"[" + _KANJI + r"]")
_ONE_KANJI_KATA = re.compile(r"[" + _KANJI + _KATA + r"]")
_JP_PHONE_DIGITS = re.compile(r"0[789]0[1-9]\d{7}|050[1-9]\d{7}|0120\d{6}|0800\d{7}|0570\d{6}|0[1-9]\d{8}")
_JP_NON_FIXED = ("050", "070", "080", "090", "0120", "0800", "0570", "020", "060", "0990")


def _jp_phone_valid(digits: str) -> bool:
    """Numbering-plan check for Japanese numbers (総務省 電気通信番号計画): mobile/050 11 digits, 0120/0570 10,
    0800 11, fixed lines 10 digits with a non-zero area code."""
    if not _JP_PHONE_DIGITS.fullmatch(digits):
        return False
    if len(digits) == 10:
        return digits.startswith(("0120", "0570")) or not digits.startswith(_JP_NON_FIXED)
    return digits.startswith(("050", "070", "080", "090", "0800"))


@lru_cache(maxsize=2048)
def _nanp_area_valid(area: str) -> bool:
    try:
        return phonenumbers.is_valid_number(phonenumbers.parse(f"+1{area}2012345", None))
    except phonenumbers.NumberParseException:  # pragma: no cover - the input is always well formed
        return False


def _nanp_valid(digits: str) -> bool:
    """10-digit NANP number: area and exchange codes start 2-9, the area code is not N11 and must be one
    libphonenumber knows for the US/Canada/Caribbean."""
    if len(digits) != 10 or digits[0] in "01" or digits[3] in "01":
        return False
    if digits[1:3] == "11":
        return False
    return _nanp_area_valid(digits[:3])


def _find_phones(norm: str) -> list[Finding]:
    out: list[Finding] = []
    for m in _PHONE.finditer(norm):
        raw = m.group().replace("ー", "-")
        digits = _NON_DIGIT.sub("", raw)
        if len(digits) < 9 or len(digits) > 13:
            continue
        if _ORDER_CONTEXT.search(norm[max(0, m.start() - 16) : m.start()]):
            continue
        if digits.startswith("81") and raw.lstrip().startswith("+81"):
            digits = "0" + digits[2:].removeprefix("0")
            ok = _jp_phone_valid(digits)
        elif digits.startswith("0"):
            ok = _jp_phone_valid(digits)
        else:  # North American forms: NANP shape + libphonenumber's metadata for the area code (cached)
            ok = _nanp_valid(digits.removeprefix("1") if len(digits) == 11 else digits)
        if ok:
            out.append(Finding("phone", m.start(), m.end()))
    return out


def _groups_ok(raw: str, allowed: tuple[tuple[int, ...], ...]) -> bool:
    parts = tuple(len(p) for p in _GROUP_SEP.split(raw))
    return len(parts) == 1 or parts in allowed


def _find_numbers(norm: str) -> list[Finding]:
    """My Number (12), 法人番号 (13) and card numbers (13-19) from one scan of digit runs."""
    out: list[Finding] = []
    for m in _DIGIT_RUN.finditer(norm):
        digits = _NON_DIGIT.sub("", m.group())
        before = norm[max(0, m.start() - 20) : m.start()]
        n = len(digits)
        raw = m.group()
        if n == 12 and my_number_valid(digits) and _groups_ok(raw, ((4, 4, 4),)):
            out.append(Finding("my_number", m.start(), m.end()))
        elif (
            n == 13
            and corporate_number_valid(digits)
            and _groups_ok(raw, ((1, 4, 4, 4),))
            and not _CARD_WORD.search(before)
        ):
            out.append(Finding("corporate_number", m.start(), m.end()))
        elif (
            13 <= n <= 19
            and digits[0] in "23456"
            and luhn_valid(digits)
            and _groups_ok(raw, ((4, 4, 4, 4), (4, 6, 5), (4, 6, 4), (4, 4, 4, 4, 3), (4, 4, 4, 1)))
        ):
            if _ORDER_CONTEXT.search(before):
                continue
            out.append(Finding("credit_card", m.start(), m.end()))
    return out


def _find_ips(norm: str) -> list[Finding]:
    out: list[Finding] = []
    if "." in norm:
        for m in _IPV4.finditer(norm):
            try:
                ipaddress.IPv4Address(m.group())
            except ValueError:
                continue
            out.append(Finding("ip_address", m.start(), m.end()))
    if "::" in norm or _HEX_COLON.search(norm):
        for m in _IPV6.finditer(norm):
            try:
                ipaddress.IPv6Address(m.group())
            except ValueError:
                continue
            out.append(Finding("ip_address", m.start(), m.end()))
    return out


def _find_postal(norm: str) -> list[Finding]:
    out: list[Finding] = []
    for m in _POSTAL.finditer(norm):
        g = 1 if m.group(1) else 2
        s, e = m.span(g)
        if g == 2 and _ORDER_CONTEXT.search(norm[max(0, s - 16) : s]):
            continue
        out.append(Finding("postal_code", s, e))
    return out


def _find_bank(norm: str) -> list[Finding]:
    return [Finding("bank_account", m.start(1), m.end(1)) for m in _BANK.finditer(norm)]
