"""Japanese person names: the name dictionaries and SudachiDict plus context (honorifics, labels,
signatures, 担当 / です / と申します / より, kana full names, フリガナ fields and readings)."""

from __future__ import annotations

import re
from functools import lru_cache

from mamori.deid.text import names
from mamori.deid.text.detect import morph
from mamori.deid.text.detect.common import Finding, lazy_compile
from mamori.deid.text.detect.persons_common import (
    _COMPANY_AFTER,
    _HON_AFTER,
    _HONORIFIC,
    _JA_NOT_NAME_WORDS,
    _K,
    _KANJI_OR_KANA,
    _NOT_A_NAME_END,
    _NOT_NAMES,
    _PLACE_END,
    _SUR_GIV,
    _company_word_end,
    _finditer_near,
    _hon_windows,
    _near,
    _plausible,
    re_split_kana,
)
from mamori.deid.text.detect.structured import _HIRA, _KANJI, _KATA, _ONE_KANJI

_NAME_LABEL = lazy_compile(
    r"(?:氏名|お名前|名前|担当者?|差出人|送信者|講師|登壇者|受講者|申込者|契約者|フリガナ|ふりがな|"
    r"name|from|contact|attendee|speaker)[\s:：]*$",
    re.IGNORECASE,
)


@lru_cache(maxsize=1)
def _ja_name_patterns() -> tuple[re.Pattern[str], re.Pattern[str]]:
    surnames = names.ja_surnames()
    given = names.ja_given_names()
    giv_alt = "|".join(sorted(given, key=len, reverse=True))
    # Kana surnames grouped by their first character (longest first within a group, as in one alternation): the
    # pattern starts with a literal, so the engine skips other characters fast; the look-behind (not inside a
    # katakana word) comes after that first character.
    by_first: dict[str, list[str]] = {}
    for v in sorted({v for v in surnames.values() if v}, key=len, reverse=True):
        by_first.setdefault(v[0], []).append(v[1:])
    kana_sur = "|".join(
        first + "(?<![" + _KATA + "].)(?:" + "|".join(tails) + ")" for first, tails in by_first.items()
    )
    kana_giv = "|".join(sorted({v for v in given.values() if v}, key=len, reverse=True))
    # What may follow a surname: a given name (dictionary, or free when an honorific follows), an honorific.
    rest = re.compile(
        r"(?:(?P<sp>[ 　]?)(?:(?P<giv>" + giv_alt + r")(?![" + _KANJI + r"])"
        r"|(?P<free>[" + _KANJI + r"]{1,3}|[" + _HIRA + r"]{2,4})(?=[ 　]?" + _HONORIFIC + r")))?"
        r"(?P<hon>[ 　]?" + _HONORIFIC + r")?"
    )
    kana = re.compile(r"(?:" + kana_sur + r")[ 　・]?(?:" + kana_giv + r")(?![" + _KATA + r"])")
    return rest, kana


# A surname not in the dictionary: 2-4 kanji right before an honorific, not inside a longer kanji run.
# (Here and below, a look-behind "not after a kanji" is written after the first character, as (?<![…].): a
# pattern that starts with a character class lets the engine skip other characters fast. Same matches.)
_SURNAME_HON = lazy_compile(
    r"([" + _KANJI + r"](?<![" + _KANJI + r"].)[" + _KANJI + r"]{1,3})(?=" + _HONORIFIC + r")"
)

# After a name label (お名前：, 氏名:, お客様：): kanji surname + optional space + kanji/hiragana given name.
_LABELLED_JA_NAME = lazy_compile(
    r"(?:氏名|お名前|名前|お客様|差出人|申込者|契約者|担当者?)[ :]+"
    r"(["
    + _KANJI
    + r"]{1,4}(?: ?(?:["
    + _KANJI
    + r"]{1,3}|["
    + _HIRA
    + r"]{2,3}))??)(?=です|$|[\n,、。]|\()",
    re.MULTILINE,
)

# A name alone on the line under a department / company line (e-mail signatures).
_SIGNATURE_NAME = lazy_compile(
    r"(?:部|課|室|店|社|センター|事務所)\n([" + _KANJI + r"]{1,4} ?[" + _KANJI + _HIRA + r"]{1,3})(?=\n)"
)

_FREE_JA_NAME = lazy_compile(
    r"([" + _KANJI + r"](?<![" + _KANJI + r"].)[" + _KANJI + r"]{0,2}[ 　][" + _KANJI + r"]{1,3})"
    r"(?=[ 　]?" + _HONORIFIC + r")"
)


_DESU_WORD = lazy_compile("です")


@lru_cache(maxsize=1)
def _surname_first_pattern() -> re.Pattern[str]:
    """The characters a dictionary surname can start with: the regex engine finds them faster than a loop."""
    return re.compile("[" + "".join(sorted({re.escape(n[0]) for n in names.ja_surnames()})) + "]")


def _find_person_ja(norm: str) -> list[Finding]:
    out: list[Finding] = []
    rest, kana = _ja_name_patterns()
    surnames = names.ja_surnames()
    for hit in _surname_first_pattern().finditer(norm):
        s = hit.start()
        sur_end = 0
        for k in (4, 3, 2, 1):  # longest dictionary surname starting here
            if norm[s : s + k] in surnames:
                sur_end = s + k
                break
        if not sur_end:
            continue
        m = rest.match(norm, sur_end)
        if m is None:  # pragma: no cover - every group is optional
            continue
        prev = norm[s - 1] if s > 0 else ""
        if prev and _ONE_KANJI.match(prev) and not m.group("hon"):
            continue
        has_given = bool(m.group("giv") or m.group("free"))
        end = m.end("giv") if m.group("giv") else m.end("free") if m.group("free") else sur_end
        nxt = norm[end : end + 1]
        if m.group("giv") and not m.group("hon") and _ONE_KANJI.match(nxt):
            continue
        if m.group("hon") or m.group("giv"):
            out.append(Finding("person", s, end))
        elif _NAME_LABEL.search(norm[max(0, s - 12) : s]) and (
            has_given or not nxt or not _KANJI_OR_KANA.match(nxt)
        ):
            out.append(Finding("person", s, end))
    for m in kana.finditer(norm):
        out.append(Finding("person", m.start(), m.end()))
    hon = _hon_windows(norm)
    if hon:
        for m in _finditer_near(_FREE_JA_NAME, norm, hon):
            out.append(Finding("person", m.start(1), m.end(1)))
        for m in _finditer_near(_SURNAME_HON, norm, hon):
            cand = m.group(1)
            if cand[-1] not in _NOT_A_NAME_END and cand[-1] not in _PLACE_END and cand not in _NOT_NAMES:
                if not _company_word_end(cand):
                    out.append(Finding("person", m.start(1), m.end(1)))
    for m in _SIGNATURE_NAME.finditer(norm):
        out.append(Finding("person", m.start(1), m.end(1)))
    for m in _LABELLED_JA_NAME.finditer(norm):
        cand = m.group(1)
        if cand not in _NOT_NAMES and cand[-1] not in _NOT_A_NAME_END:
            out.append(Finding("person", m.start(1), m.end(1)))
    return out


_NK = "(?<![" + _KANJI + "])"  # not inside a longer kanji run (on the left)

# After a name: not more kanji, unless the kanji start an honorific.
_END_K = r"(?:(?![" + _KANJI + r"])|(?=" + _HONORIFIC + r"|様方))"

_JA_FULL_SPACED = lazy_compile(
    _NK + r"(" + _K + r"{1,4})[ ](" + _K + r"{1,3}?|[" + _HIRA + r"]{1,3}[子美江代恵])" + _END_K
)

# The same, tried at every position (a title or a department may stand right before: 営業2課 鷲尾 伊織).
# (One kanji is taken first and the zero-width test is made from its position in a look-behind: a pattern that
# starts with a character class lets the engine skip other characters fast. Same starts and groups; the match
# itself is that one kanji instead of empty.)
_JA_FULL_SPACED_ANY = lazy_compile(
    _K
    + r"(?<=(?=("
    + _K
    + r"{1,4})[ ]("
    + _K
    + r"{1,3}?|["
    + _HIRA
    + r"]{1,3}[子美江代恵]|(?!さん|さま|くん|ちゃん|です|より|から|まで|など)["
    + _HIRA
    + r"]{2,4}(?=[ ]?(?:様|さん|$|\n)))"
    + _END_K
    + r")"
    + _K
    + r")",
    re.MULTILINE,
)

_TITLE_BEFORE = lazy_compile(
    r"(?:店長|所長|院長|社長|部長|課長|係長|室長|会長|代表|担当|主任|記録|受付|医師)$"
)

# What may follow a full name whose given name is one kanji (碓氷 颯): the end of the line, a bracket, an
# honorific, a comma, an e-mail address.
_NAME_TERMINATOR = lazy_compile(
    r"[ ]*(?:$|\n|[、,。()<]|様|さん|氏|殿|先生|[ ]+(?:[0-9]|より|TEL|Tel))", re.MULTILINE
)

_ONE_KANJI_NOT_GIVEN = frozenset("様氏殿君方宛他等家邸駅店課部係室行分名人件号階棟館")

_NOT_AFTER_K = "(?<![" + _KANJI + "].)"  # after a first kanji: it does not follow another (a fast _NK)

_KANJI_RUN3 = lazy_compile(_K + _NOT_AFTER_K + _K + r"{2,6}(?![" + _KANJI + r"])")

_ONE_KANJI_HON = lazy_compile(
    r"("
    + _K
    + _NOT_AFTER_K
    + r")(?=[ ]?(?:(?:さん|さま|くん|ちゃん)(?:[^"
    + _HIRA
    + r"]|[がはにとのへをもやでよ]|$)|様|氏|殿|先生))"
)

# Strong contexts where any short kanji run is a name.
_SELF_INTRO = lazy_compile(
    r"(?:^|(?<=[\n。！!？?「」『』、 ,:：の]))(?:私|わたくし|わたし)?[、,は]?[ ]?"
    r"("
    + _K
    + r"{1,4}(?:[ ]"
    + _K
    + r"{1,3})?)[ ]?(?=(?:\([^()\n]{1,20}\)[ ]?)?(?:と申します|と申し|と言います|といいます|と申す))",
    re.MULTILINE,
)

_DESU = lazy_compile(
    r"(?:^|(?<=[\n。！!？?「」の:： ]))(?:(?:私|わたくし|わたし)[、,は]?[ ]?|(?:営業|担当|総務|経理)の"
    r"|(?:はい|ええ|えっと|あの)[、,]?[ ]?)?"
    r"(" + _K + r"{1,4}(?:[ ]" + _K + r"{1,3})?)(?=です(?:[。！!、,\n ]|$|が))",
    re.MULTILINE,
)

_STAFF = lazy_compile(
    r"(?:担当者?|営業|窓口)(?:の|は|[ ]?[:：])?[ ]?(" + _K + r"{1,4}?(?:[ ]" + _K + r"{1,3}?)?)" + _END_K
)

_FROM_LINE = lazy_compile(
    r"^[ ]*(" + _K + r"{1,4})[ ]?より[ ]*$|^[ ]*以上、[ ]?(" + _K + r"{1,4})[ ]*$", re.MULTILINE
)

_C_O = lazy_compile(_NK + r"(" + _K + r"{1,4}(?:[ ]" + _K + r"{1,3})?)[ ]?様方")

_KANA_WORD = r"[" + _KATA + r"]{2,7}"

_HIRA_WORD = r"[" + _HIRA + r"]{2,5}"

_KANA_OR_HIRA = _KATA + _HIRA

# A katakana word, a separator and another, or two hiragana words, not after kana: the first character is taken
# by one class (katakana and hiragana do not overlap, a look-behind says which), so the engine skips fast.
_KANA_FULL = lazy_compile(
    r"(["
    + _KANA_OR_HIRA
    + r"](?<!["
    + _KANA_OR_HIRA
    + r"].)(?:(?<=["
    + _KATA
    + r"])["
    + _KATA
    + r"]{1,6}[ ・]"
    + _KANA_WORD
    + r"|(?<=["
    + _HIRA
    + r"])["
    + _HIRA
    + r"]{1,4}[ ]"
    + _HIRA_WORD
    + r"?))(?:(?!["
    + _KANA_OR_HIRA
    + r"])|(?=さん|さま|くん|ちゃん))"
)

_KANA_SEP = lazy_compile(r"[ ・](?=[" + _KATA + _HIRA + r"])")  # where a kana full name can be split

_KANA_LABEL_HINT = lazy_compile(
    r"氏名|名前|ガナ|がな|カナ|担当|差出人|申込者|契約者|私|わたくし|(?:部|課|室|店|社|センター|事務所|グループ|チーム)\n"
)

_KANA_CONTEXT_BEFORE = lazy_compile(
    r"(?:(?:氏名|お名前|名前|フリガナ|ふりがな|カナ|よみがな|担当者?|差出人|申込者|契約者|私|わたくし)[ ]*[:：は、]?[ ]*"
    r"|(?:部|課|室|店|社|センター|事務所|グループ|チーム)\n[ ]*)$"
)

_KANA_FIELD = lazy_compile(
    r"(?:フ[ ]?リ[ ]?ガ[ ]?ナ|ふ[ ]?り[ ]?が[ ]?な|よみがな|カナ氏名|氏名カナ|氏名\(カナ\)|カナ|"
    r"(?:お名前|氏名|名前)[^\n:：]{0,12}(?=[:：][ ]*[" + _KATA + _HIRA + r"]+[ ・]))\)?[ ]*[:：]?[ ]*"
    r"(["
    + _KATA
    + _HIRA
    + r"]["
    + _KATA
    + _HIRA
    + r" ・]{1,20}["
    + _KATA
    + _HIRA
    + r"])(?=[ ]*(?:$|\n|,|、|\)))",
    re.MULTILINE,
)

_READING = lazy_compile(
    r"[ ]*\n?[ ]*\(([" + _KATA + r"ー][" + _KATA + r" ・]{0,20}|[" + _HIRA + r"][" + _HIRA + r" ・]{0,20})\)"
)


def _find_person_ja_dict(norm: str) -> list[Finding]:
    out: list[Finding] = []
    surnames = names.ja_surnames()
    given = names.ja_given_names()
    if " " in norm:
        for m in _JA_FULL_SPACED_ANY.finditer(norm):
            s0 = m.start()
            if s0 and _ONE_KANJI.match(norm[s0 - 1]) and not _TITLE_BEFORE.search(norm, max(0, s0 - 6), s0):
                continue
            sur, giv = m.group(1), m.group(2)
            gt = morph.tags(giv)
            giv_end = m.start(2) + len(giv)
            one_ok = (
                len(giv) == 1
                and giv not in _ONE_KANJI_NOT_GIVEN
                and _NAME_TERMINATOR.match(norm, giv_end) is not None
            )
            if (
                (morph.is_surname(sur) or sur in surnames)
                and (giv in given or gt & morph.NAME or (not gt and len(giv) >= 2) or one_ok)
                and giv not in _JA_NOT_NAME_WORDS
                and not _COMPANY_AFTER.match(norm, giv_end)
            ):
                out.append(Finding("person", m.start(1), giv_end))
    for m in _KANJI_RUN3.finditer(norm):
        run = m.group()
        end = m.end()
        while run and run[-1] in "様氏殿君" and len(run) > 3:
            run, end = run[:-1], end - 1
        if run[-1] in _PLACE_END or _COMPANY_AFTER.match(norm, end):
            continue
        k = morph.split_full_name(run)
        if k and (morph.tags(run[k:]) & morph.COMMON) == 0:
            out.append(Finding("person", m.start(), end))
        elif _HON_AFTER.match(norm, end) and (k := _surname_prefix(run)):
            rest = run[k:]
            rt = morph.tags(rest)
            if (
                not rt & (morph.ORG | morph.PLACE)
                and rest not in _JA_NOT_NAME_WORDS
                and not (len(rest) >= 2 and rt & morph.COMMON and not rt & morph.NAME)
            ):
                out.append(Finding("person", m.start(), end))
    hon = _hon_windows(norm)
    if hon:
        for m in _finditer_near(_ONE_KANJI_HON, norm, hon):
            if morph.is_surname(m.group(1)):
                out.append(Finding("person", m.start(1), m.end(1)))
    if "と申" in norm or "と言い" in norm or "といいます" in norm:
        out += _strong(norm, _SELF_INTRO)
    if "様方" in norm:
        out += _strong(norm, _C_O)
    if "です" in norm:
        for m in _finditer_near(_DESU, norm, _near(norm, _DESU_WORD, 20, 6)):
            cand = m.group(1)
            if _plausible(cand) and (not morph.tags(cand) & morph.PLACE or morph.is_surname(cand)):
                out.append(Finding("person", m.start(1), m.end(1)))
    if "担当" in norm or "営業" in norm or "窓口" in norm:
        for m in _STAFF.finditer(norm):
            if _plausible(m.group(1)):
                out.append(Finding("person", m.start(1), m.end(1)))
    if "より" in norm or "以上" in norm:
        for m in _FROM_LINE.finditer(norm):
            g = 1 if m.group(1) else 2
            if _plausible(m.group(g)):
                out.append(Finding("person", m.start(g), m.end(g)))
    # Kana full names next to a name context or an honorific; readings in フリガナ fields.
    if " " in norm or "・" in norm:
        business = names.katakana_business_words()
        for m in _finditer_near(_KANA_FULL, norm, _near(norm, _KANA_SEP, 8, 10)):
            if any(p in business for p in re_split_kana(m.group(1))):
                continue
            if _HON_AFTER.match(norm, m.end()) or _KANA_CONTEXT_BEFORE.search(
                norm, max(0, m.start() - 10), m.start()
            ):
                out.append(Finding("person", m.start(1), m.end(1)))
    if "ガ" in norm or "が" in norm or "カナ" in norm or "名前" in norm or "氏名" in norm:
        for m in _KANA_FIELD.finditer(norm):
            out.append(Finding("person", m.start(1), m.end(1)))
    return out


def _surname_prefix(run: str) -> int:
    """The length of a dictionary surname that starts ``run`` and leaves 1-3 kanji of given name (0: none)."""
    if run[-1] in _NOT_A_NAME_END:
        return 0
    for k in range(min(4, len(run) - 1), 1, -1):
        if len(run) - k <= 3 and (morph.is_surname(run[:k]) or run[:k] in names.ja_surnames()):
            return k
    return 0


def _strong(norm: str, pat: re.Pattern[str]) -> list[Finding]:
    """Any short kanji run in a strong context (と申します, 様方) that is not a company or an ordinary word."""
    out: list[Finding] = []
    for m in pat.finditer(norm):
        cand = m.group(1)
        core = cand.replace(" ", "")
        if cand not in _NOT_NAMES and core not in _JA_NOT_NAME_WORDS and core[-1] not in _NOT_A_NAME_END:
            out.append(Finding("person", m.start(1), m.end(1)))
    return out


def _readings(norm: str, persons: list[Finding]) -> list[Finding]:
    """A reading in brackets right after a Japanese name is a span of its own: 桐生 朝日（キリュウ アサヒ）."""
    out: list[Finding] = []
    for f in persons:
        m = _READING.match(norm, f.end)
        if m is None:
            hon = _HON_AFTER.match(norm, f.end)
            m = _READING.match(norm, hon.end()) if hon else None
        if m is not None:
            word = m.group(1)
            if " " not in word and "・" not in word:
                t = morph.tags(word)
                if word in names.katakana_business_words() or (t & morph.COMMON and not t & _SUR_GIV):
                    continue  # 神田（サポート）: a role, not a reading
            out.append(Finding("person", m.start(1), m.end(1)))
    return out
