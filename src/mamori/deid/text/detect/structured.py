"""Structured identifiers: phone numbers, My Number / 法人番号, cards, IP addresses, postal codes, bank accounts."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from functools import lru_cache

from mamori.deid.text.checkdigits import corporate_number_valid, luhn_valid, my_number_valid
from mamori.deid.text.detect.common import Finding, lazy_compile
from mamori.deid.text.normalize import digits_view, view_span

# --- structured identifiers ------------------------------------------------------------------------------

_KANJI = r"\u3400-\u9fff\u3005"  # CJK ideographs + 々
_KATA = r"\u30a1-\u30fa\u30fc"
_HIRA = r"\u3041-\u3096"

_EMAIL = lazy_compile(
    r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,24}(?![A-Za-z0-9-])"
)
_SEP = r"[-\s.ー]?"
_PHONE = lazy_compile(
    r"(?<![A-Za-z0-9_+-])(?:"
    r"\+81[-\s]?\(?0?\)?\d{1,4}[-\s.]?\d{1,4}[-\s.]?\d{3,4}"  # +81 forms
    r"|\+1[-\s.]?\(?\d{3}\)?[-\s.]?\d{3}[-\s.]\d{4}"  # +1 (US/CA)
    r"|\(0\d{1,4}\)\s?\d{1,4}" + _SEP + r"\d{3,4}"  # (03)1234-5678
    r"|0\d{1,4}\s?\(\d{1,4}\)\s?\d{3,4}"  # 03(3960)7215
    r"|\+[2-9]\d{0,2}(?:[ .-]?\(?\d{1,5}\)?){2,5}"  # other countries: +44 20 7946 0018, +65 9188 2047
    r"|0\d{1,4}" + _SEP + r"\d{1,4}" + _SEP + r"\d{3,4}"  # domestic JP
    r"|\(\d{3}\)\s?\d{3}[-.]\d{4}|\d{3}[-.]\d{3}[-.]\d{4}"  # domestic US
    r")(?![A-Za-z0-9_-])"
)
_POSTAL = lazy_compile(
    r"(?:〒|郵便番号[:\s]*)\s?(\d{3}-?\d{4})(?!\d)|(?<![A-Za-z0-9_-])(\d{3}-\d{4})(?![A-Za-z0-9_-])"
)
_DIGIT_RUN = lazy_compile(r"(?<![A-Za-z0-9_-])\d(?:[- ]?\d){11,18}(?![A-Za-z0-9_-])")
# The look-behind comes after the first digit, so the engine can skip to digits fast (a leading character class).
_IPV4 = lazy_compile(r"\d(?<![A-Za-z0-9_.]\d)\d{0,2}\.(?:\d{1,3}\.){2}\d{1,3}(?![A-Za-z0-9_.]|\.\d)")
_IPV6 = lazy_compile(
    r"(?<![A-Za-z0-9_])(?:[0-9A-Fa-f]{1,4}:){2,7}(?::|[0-9A-Fa-f]{1,4})(?:[0-9A-Fa-f:]*)(?![A-Za-z0-9_:])"
)
_HEX_COLON = lazy_compile(r"[0-9A-Fa-f]:[0-9A-Fa-f]{1,4}:")
_BANK_NUMBER = (
    r"[\s:#、,]*(?:[のは][\s:#、,]*)?(?:(?:普通|当座)[\s:、,]*)?(?:no\.?\s*)?(\d(?:[- ]?\d){5,13})(?![\d-])"
)
_BANK = lazy_compile(r"(?:口座番号|口座|普通預金|当座預金|普通|当座|貯蓄預金)" + _BANK_NUMBER, re.IGNORECASE)
# Case variants spelt out (an IGNORECASE alternation of English words scans every position slowly).
_ACCOUNT_WORD = r"[Aa](?:ccount|CCOUNT)"
_BANK_EN = lazy_compile(
    r"(?:(?:"
    + _ACCOUNT_WORD
    + r"|[Aa](?:cct|CCT|cc|CC)\.?)\s*(?:[Nn][Oo]\.?|[Nn]umber|NUMBER|[Nn]um\.?|NUM\.?|#)"
    r"|(?:[Ss]avings|SAVINGS|[Cc]hecking|CHECKING|[Oo]rdinary|ORDINARY|[Ff]utsu|FUTSU)(?:\s+"
    + _ACCOUNT_WORD
    + r")?"
    r"|(?:[Cc]urrent|CURRENT|[Dd]eposit|DEPOSIT|[Bb]ank|BANK)\s+"
    + _ACCOUNT_WORD
    + r"|[Aa]/[Cc](?:\s+[Nn][Oo]\.?)?)"
    r"[\s:#,]*(?:[Nn][Oo]\.?\s*)?(\d(?:[- ]?\d){5,13})(?![\d-])"
)
# ゆうちょ銀行: 記号 (5 digits) + 番号 (up to 8 digits), labelled or written 12345-12345678 near ゆうちょ / 貯金.
_YUCHO = lazy_compile(
    r"記号[\s:：]*(\d{5})[\s、,]*(?:番号|No\.?)[\s:：]*(\d{1,8})(?!\d)"
    r"|(?<![\d-])(1\d{4})[- ](\d{6,8})(?![\d-])"
)
_YUCHO_CONTEXT = lazy_compile(r"ゆうちょ|貯金|振替|記号|口座|JP ?Bank|JP ?BANK|Japan Post")
_ASCII_LETTER = lazy_compile(r"[A-Za-z]")

_ORDER_CONTEXT = lazy_compile(
    r"(?:(?:注文|受注|発注|請求書?|伝票|管理|会員|顧客|製品|型番|商品|品番|案件|問合せ|問い合わせ|チケット|予約|見積)"
    r"(?:番号|No\.?|ID|#|コード)|(?:order|invoice|ticket|ref|sku|model|serial|tracking)(?:\s*(?:no\.?|number|#|id))?)"
    r"[\s:#]*$",
    re.IGNORECASE,
)
_NON_DIGIT = lazy_compile(r"\D")
_CARD_WORD = lazy_compile(r"カード|card", re.IGNORECASE)
_GROUP_SEP = lazy_compile(r"[- ]")
_ONE_KANJI = lazy_compile(r"[" + _KANJI + r"]")
_ONE_KANJI_KATA = lazy_compile(r"[" + _KANJI + _KATA + r"]")
_JP_PHONE_DIGITS = lazy_compile(r"0[789]0[1-9]\d{7}|050[1-9]\d{7}|0120\d{6}|0800\d{7}|0570\d{6}|0[1-9]\d{8}")
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
    import phonenumbers  # noqa: PLC0415  # ~0.05 s to import: only when a number needs its metadata

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


def _on_view(norm: str, find: Callable[[str], list[Finding]]) -> list[Finding]:
    """``find`` run on the number view of ``norm`` (OCR noise undone: ``digits_view``), offsets on ``norm``."""
    view, positions = digits_view(norm)
    found = find(view)
    if positions is None:
        return found
    return [Finding(f.type, *view_span(positions, f.start, f.end)) for f in found]


# A phone label just before a number: an international number libphonenumber only finds "possible" is kept there.
_PHONE_LABEL = lazy_compile(
    r"(?:TEL|[Tt]el|[Pp]hone|PHONE|[Mm]obile|MOBILE|[Cc]ell|携帯|電話|\b[TM])\W{0,4}$"
)


def _intl_valid(raw: str, before: str) -> bool:
    import phonenumbers  # noqa: PLC0415  # ~0.05 s to import: only when a number needs its metadata

    try:
        num = phonenumbers.parse(raw, None)
    except phonenumbers.NumberParseException:
        return False
    if phonenumbers.is_valid_number(num):
        return True
    return phonenumbers.is_possible_number(num) and _PHONE_LABEL.search(before) is not None


def _find_phones(norm: str) -> list[Finding]:
    return _on_view(norm, _phones_in)


def _phones_in(norm: str) -> list[Finding]:
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
        elif raw.startswith("+") and not raw.startswith("+1"):
            ok = _intl_valid(raw, norm[max(0, m.start() - 12) : m.start()])
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


# A label right before a number: a 12-digit 個人番号 or a 16-digit card number is taken even when its check digit
# fails (a typo, a misread scan: the number is still someone's).
_MY_NUMBER_LABEL = lazy_compile(r"(?:個人番号|マイナンバー|[Mm]y ?[Nn]umber|MY ?NUMBER)[^\n]{0,40}$")
_CARD_LABEL = lazy_compile(r"(?:カード|[Cc]ard|CARD)\s?(?:番号|No\.?|[Nn]umber|NUMBER|#)[^\d\n]{0,6}$")


def _find_numbers(norm: str) -> list[Finding]:
    return _on_view(norm, _numbers_in)


def _numbers_in(norm: str) -> list[Finding]:
    """My Number (12), 法人番号 (13) and card numbers (13-19) from one scan of digit runs."""
    out: list[Finding] = []
    for m in _DIGIT_RUN.finditer(norm):
        digits = _NON_DIGIT.sub("", m.group())
        before = norm[max(0, m.start() - 20) : m.start()]
        n = len(digits)
        if n == 12:  # a 個人番号 label anywhere before it on the line
            before = norm[max(norm.rfind("\n", 0, m.start()) + 1, m.start() - 60) : m.start()]
        raw = m.group()
        if (
            n == 12
            and _groups_ok(raw, ((4, 4, 4),))
            and (my_number_valid(digits) or _MY_NUMBER_LABEL.search(before))
        ):
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
        elif n == 16 and _groups_ok(raw, ((4, 4, 4, 4),)) and _CARD_LABEL.search(before):
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
    return _on_view(norm, _postal_in)


def _postal_in(norm: str) -> list[Finding]:
    out: list[Finding] = []
    for m in _POSTAL.finditer(norm):
        g = 1 if m.group(1) else 2
        s, e = m.span(g)
        if g == 2 and _ORDER_CONTEXT.search(norm[max(0, s - 16) : s]):
            continue
        out.append(Finding("postal_code", s, e))
    return out


# Cheap searches before the account patterns: a Japanese account word, a ゆうちょ word.
_BANK_JA_HINT = lazy_compile(r"口座|預金|普通|当座")
_BANK_EN_HINT = lazy_compile(r"account|acct|acc\.|a/c|savings|checking|ordinary|futsu")
_YUCHO_HINT = lazy_compile(r"記号|ゆうちょ|貯金|振替|JP ?B|Japan Post")


def _find_bank(norm: str) -> list[Finding]:
    return _on_view(norm, _bank_in)


def _bank_in(norm: str) -> list[Finding]:
    out: list[Finding] = []
    if _BANK_JA_HINT.search(norm):
        out += [Finding("bank_account", m.start(1), m.end(1)) for m in _BANK.finditer(norm)]
    if _BANK_EN_HINT.search(norm.lower()):  # literals on a lower-cased copy: far faster than the full pattern
        out += [Finding("bank_account", m.start(1), m.end(1)) for m in _BANK_EN.finditer(norm)]
    if _YUCHO_HINT.search(norm):
        for m in _YUCHO.finditer(norm):
            if m.group(1):
                out.append(Finding("bank_account", m.start(1), m.end(2)))
            elif _YUCHO_CONTEXT.search(norm, max(0, m.start() - 40), m.start()):
                out.append(Finding("bank_account", m.start(3), m.end(4)))
    return out
