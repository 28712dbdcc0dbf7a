"""Person names: dictionaries plus context (honorifics, labels, signatures, CSV name columns)."""

from __future__ import annotations

import re
from functools import lru_cache

from mamori.deid.text import names
from mamori.deid.text.detect import morph
from mamori.deid.text.detect.common import Finding, lazy_compile
from mamori.deid.text.detect.romaji import find_romaji_names
from mamori.deid.text.detect.structured import _HIRA, _KANJI, _KATA, _ONE_KANJI

# --- person names ----------------------------------------------------------------------------------------

_HONORIFIC = r"(?:さん|様|さま|氏|殿|くん|君|ちゃん|先生|部長|課長|社長)"
_NAME_LABEL = lazy_compile(
    r"(?:氏名|お名前|名前|担当者?|差出人|送信者|講師|登壇者|受講者|申込者|契約者|フリガナ|ふりがな|"
    r"name|from|contact|attendee|speaker)[\s:：]*$",
    re.IGNORECASE,
)
_KANJI_OR_KANA = lazy_compile(r"[" + _KANJI + _KATA + _HIRA + r"]")


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


_HONORIFIC_HINT = lazy_compile(_HONORIFIC)
_NOT_A_NAME_END = "社店所局課部院会館行校園庁省署組合様方者員長業"
_NOT_NAMES = frozenset(
    "担当 担当者 関係者 利用者 顧客 患者 会員 株主 取引先 御社 貴社 弊社 当社 各位 皆 お客 同僚 上司 部下 家族 "
    "本人 代表 先方 先生 講師 受講者 参加者 申込者 契約者 相手 社員 職員".split()
)
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
_CSV_PERSON_HEADER = lazy_compile(r"^(?:氏名|お名前|名前|顧客名|name|full ?name)$", re.IGNORECASE)
_CSV_CELL_NAME = lazy_compile(
    r"[" + _KANJI + _KATA + _HIRA + r"][" + _KANJI + _KATA + _HIRA + r" ]{0,10}|[A-Z][A-Za-z .'-]{1,40}"
)
_FREE_JA_NAME = lazy_compile(
    r"([" + _KANJI + r"](?<![" + _KANJI + r"].)[" + _KANJI + r"]{0,2}[ 　][" + _KANJI + r"]{1,3})"
    r"(?=[ 　]?" + _HONORIFIC + r")"
)
_EN_TITLE = lazy_compile(
    r"(?:M(?<![A-Za-z].)(?:r|rs|s|iss)|D(?<![A-Za-z].)r|P(?<![A-Za-z].)rof)\.?\s((?:[A-Z][a-z]+(?:-[A-Z][a-z]+)?\s)?[A-Z][a-z]+(?:-[A-Z][a-z]+)?|[A-Z]{2,}(?![A-Za-z]))"
)
_EN_CAND = lazy_compile(
    r"([A-Z](?<![A-Za-z].)"
    r"(?<!(?=(?:Dear|Hi|Hello|Name|From|Contact|Regards|Sincerely|Thanks|Mr|Mrs|Ms|Miss|Dr|Prof)\b).)[a-z]+)(?:\s([A-Z])\.)?\s([A-Z][a-z]+(?:-[A-Z][a-z]+)?)(?![A-Za-z])"
)
_EN_LABEL = lazy_compile(r"(?:Dear|Name|Contact|From|Attendee|Speaker|Regards,?|Sincerely,?)[\s:,]*$")


_DESU_WORD = lazy_compile("です")


def _near(norm: str, trigger: re.Pattern[str], back: int, fwd: int) -> list[tuple[int, int]]:
    """Merged windows around the hits of ``trigger``: the (costly) name patterns run only there."""
    out: list[tuple[int, int]] = []
    n = len(norm)
    cur_lo = cur_hi = -1  # the window being merged (its end never decreases: hits come in order)
    for m in trigger.finditer(norm):
        s, e = m.span()
        lo = s - back if s > back else 0
        hi = e + fwd if e + fwd < n else n
        if lo <= cur_hi:
            cur_hi = hi
        else:
            if cur_hi >= 0:
                out.append((cur_lo, cur_hi))
            cur_lo, cur_hi = lo, hi
    if cur_hi >= 0:
        out.append((cur_lo, cur_hi))
    return out


@lru_cache(maxsize=2)
def _hon_windows(norm: str) -> list[tuple[int, int]]:
    return _near(norm, _HONORIFIC_HINT, 30, 8)


def _finditer_near(pat: re.Pattern[str], norm: str, windows: list[tuple[int, int]]) -> list[re.Match[str]]:
    """``pat.finditer`` inside the windows (look-behinds still see the text before a window)."""
    out: list[re.Match[str]] = []
    finditer = pat.finditer
    for lo, hi in windows:
        out += finditer(norm, lo, hi)
    return out


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


def _find_person_csv(norm: str) -> list[Finding]:
    """Cells of a column whose CSV header names a person (氏名, お名前, name)."""
    first, sep, rest = norm.partition("\n")
    if "," not in first or not sep:
        return []
    cols = [i for i, h in enumerate(first.split(",")) if _CSV_PERSON_HEADER.match(h.strip())]
    out: list[Finding] = []
    if not cols:
        return out
    pos = len(first) + 1
    for line in rest.split("\n"):
        cells = line.split(",")
        off = pos
        for i, cell in enumerate(cells):
            if i in cols and _CSV_CELL_NAME.fullmatch(cell.strip()):
                lead = len(cell) - len(cell.lstrip())
                out.append(Finding("person", off + lead, off + lead + len(cell.strip())))
            off += len(cell) + 1
        pos += len(line) + 1
    return out


def _find_person_en(norm: str) -> list[Finding]:
    out: list[Finding] = []
    firsts = names.en_first_names()
    lasts = names.en_last_names()
    if "M" in norm or "D" in norm or "P" in norm:
        for m in _EN_TITLE.finditer(norm):
            out.append(Finding("person", m.start(1), m.end(1)))
    for m in _EN_CAND.finditer(norm):
        first, last = m.group(1), m.group(3)
        labelled = bool(_EN_LABEL.search(norm[max(0, m.start() - 12) : m.start()]))
        if first in firsts and (last in lasts or labelled or last.split("-")[0] in lasts):
            out.append(Finding("person", m.start(), m.end()))
        elif labelled and (first in firsts or last in lasts):
            out.append(Finding("person", m.start(), m.end()))
    return out


# --- names beyond the lists: the SudachiDict name dictionary plus context ------------------------------------

_K = "[" + _KANJI + "]"
_NK = "(?<![" + _KANJI + "])"  # not inside a longer kanji run (on the left)
# After a name: not more kanji, unless the kanji start an honorific.
_END_K = r"(?:(?![" + _KANJI + r"])|(?=" + _HONORIFIC + r"|様方))"
_COMPANY_AFTER = lazy_compile(
    r"[ ]?(?:製作所|商事|株式会社|有限会社|合同会社|銀行|病院|駅|町|区|市|村|郡|県|都|府|工業|産業|建設)"
)
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
_COMPOUND_END = "中済付更化的性用式会料費額書票表日時後前内外部面点版品物類件数率度"
_PLACE_END = "町区市村郡県都府駅線港橋"
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
_HON_AFTER = lazy_compile(r"[ ]?" + _HONORIFIC)
_JA_NOT_NAME_WORDS = frozenset(
    "会社 弊社 当社 御社 貴社 本社 支社 支店 営業 担当 部署 部長 課長 社長 皆様 皆さん 先方 本日 今回 次回 "
    "以上 宜しく 宛先 各位 全員 一同 事務局 窓口 代表 私 我々 当方 先日 本件 今後 確認 対応 連絡 電話".split()
)


def _plausible(cand: str) -> bool:
    """A kanji candidate from a strong context: not an ordinary word, not a company or a place."""
    core = cand.replace(" ", "")
    if core[0] in "様氏殿君各皆御貴弊当本" or "各位" in core:
        return False
    if cand in _NOT_NAMES or core in _JA_NOT_NAME_WORDS or core[-1] in _NOT_A_NAME_END:
        return False
    if " " in cand:
        return True
    t = morph.tags(core)
    if t & morph.NAME or core in names.ja_surnames() or morph.split_full_name(core):
        return True
    # A word the dictionary does not know may be a rare surname; an ordinary word, a place or a compound noun
    # (資料送付, 本日中, 確認済) is not.
    return not t and len(core) <= 4 and core[-1] not in _COMPOUND_END


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


def re_split_kana(s: str) -> list[str]:
    return s.replace("・", " ").split()


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


# --- English given names in context -------------------------------------------------------------------------

_EN_CAP = r"[A-Z][a-z]+(?:-[A-Z][a-z]+)?"
_GREETING = lazy_compile(
    r"(?=[ HDGMT])(?:^|(?<=\n))[ ]*(?:Hi|Hello|Hey|Dear|Good (?:morning|afternoon|evening)|Morning|Thanks|Thank you),?[ ]+"
    r"(" + _EN_CAP + r"(?:[ ]" + _EN_CAP + r")?)[ ]*(?=[,!:\n]|$)",
    re.MULTILINE,
)
_SIGN_OFF = lazy_compile(
    r"(?:Thanks|Thank you|Many thanks|Best|Best regards|Kind regards|Warm regards|Regards|Cheers|Sincerely|"
    r"Yours(?: sincerely| truly)?|All the best|Cordially|Take care|Best wishes|Talk soon)[,!.]?[ ]*"
    r"(?:\n[ ]*|[ ]+|[ ]*-[ ]*)"
    r"(" + _EN_CAP + r"(?:[ ]" + _EN_CAP + r")?)[ ]*(?=\n|$)",
    re.MULTILINE,
)


def _find_person_en_context(norm: str) -> list[Finding]:
    out: list[Finding] = []
    stop = names.en_not_names()
    for pat in (_GREETING, _SIGN_OFF):
        for m in pat.finditer(norm):
            words = m.group(1).split()
            if all(w.lower() not in stop for w in words):
                out.append(Finding("person", m.start(1), m.end(1)))
    return out


# --- round 2: chat speakers, kana/Latin names before honorifics, OCR-spaced names, English contexts -----------

_KANA = "[" + _KATA + _HIRA + "]"
_KANA_CHAR = lazy_compile("[" + _KATA + _HIRA + "ー・]")
_ROLE_WORDS = frozenset(
    "お客様 お客さま 客 オペレーター オペレータ 参加者 司会 進行 司会者 女性 男性 ゲスト システム 受付 担当 担当者 "
    "スタッフ 本人 相手 話者 質問者 回答者 通訳 講師 主催 事務局 自動応答 ボット 店舗 本部 サポート".split()
)
# A timestamp that opens a chat line: 10:02 / [20:41] / [2026/07/28, 18:02] / [00:04:05] / 2026/03/14 10:02.
_TS = r"(?:\[[0-9/.,: -]{4,24}\]|(?:[0-9]{4}[/.-][0-9]{1,2}[/.-][0-9]{1,2}[ ,]+)?[0-9]{1,2}:[0-9]{2}(?::[0-9]{2})?)"
# Line-opening patterns start with a literal newline (matched on "\n" + text) so the engine can jump from
# line to line instead of trying every position.
_SPEAKER = lazy_compile(
    r"\n[ ]*(?:(?P<ts>"
    + _TS
    + r")[ ]*)?(?P<label>[^\s:：\[\]<>|｜][^:：\n\[\]<>|｜]{0,30}?)[ ]*[:：](?=[ ]|\S)"
)
# A chat header line: a name (a role in brackets may follow), then the time, then the end of the line.
_HEADER = lazy_compile(
    r"\n[ ]*(?P<label>[^\s:：\[\]()（）][^:：\n\[\]()（）]{0,30}?)(?:[ ]*\([^)\n]{1,20}\)[ ]{0,3}|[ ]{1,3})"
    r"[0-9]{1,2}:[0-9]{2}[ ]*(?=\n|$)"
)
_COLON = lazy_compile(":")
_HEADER_TIME = lazy_compile(r"[0-9]:[0-9]{2}[ ]*(?=\n|\Z)")
_ROLE_THEN_NAME = lazy_compile(r"^(?P<role>[^()\s]{1,12})[ ]?\((?P<name>[^()]{1,20})\)$")
_NAME_THEN_ROLE = lazy_compile(r"^(?P<name>[^()]{1,20}?)[ ]?\((?P<role>[^()]{1,20})\)$")
_LATIN_ROLES = frozenset(
    "agent customer visitor guest host operator system bot support moderator interviewer interviewee caller "
    "speaker staff user admin note internal participant sent to cc bcc subject date tel fax mobile phone email "
    "mail address re fw fwd attachment total branch relations department office team desk center centre".split()
)
_HANDLE = lazy_compile(r"[a-z][a-z0-9]{1,15}[._][a-z][a-z0-9]{0,15}")
_EMOJI_TAIL = lazy_compile(r"[^\w)）]+$")
_KANA_NAME = lazy_compile(_KANA + r"{2,10}(?:[ ・]" + _KANA + r"{1,10})?")
_LATIN_NAME = lazy_compile(r"[A-Z][A-Za-z'-]+(?:[ ][A-Z][A-Za-z'-]+){0,2}|[A-Z]{2,}(?:[ ][A-Z]{2,}){0,2}")


_SUR_GIV = (
    morph.SURNAME | morph.GIVEN
)  # 人名,一般 also tags katakana loanwords (パート), so it is left out here


def _kana_ok(cand: str, strong: bool) -> bool:
    """A kana name candidate: not a company or shop word; one word only when the dictionary does not know it
    as an ordinary word (or knows it as a name)."""
    parts = re_split_kana(cand)
    business = names.katakana_business_words()
    if any(p in business for p in parts) or cand[0] in "おご" and len(parts) == 1:
        return False
    if len(parts) >= 2:
        return True
    t = morph.tags(cand)
    return bool(t & _SUR_GIV) or not t & (morph.COMMON | morph.ORG) or (strong and not t & morph.COMMON)


def _latin_ok(cand: str) -> bool:
    stop = names.en_not_names()
    return all(w.lower() not in stop and w.lower() not in _LATIN_ROLES for w in cand.split())


def _speaker_name(label: str) -> tuple[int, int] | None:
    """Where the person's name is inside a chat speaker label (None: the label is a role, not a person)."""
    lab = _EMOJI_TAIL.sub("", label.rstrip())
    if not lab:
        return None
    off = 0
    m = _ROLE_THEN_NAME.match(lab)
    if m and (m.group("role").lower() in _LATIN_ROLES or m.group("role") in _ROLE_WORDS):
        off, lab = m.start("name"), m.group("name")
    else:
        m = _NAME_THEN_ROLE.match(lab)
        if m:
            lab = m.group("name")
        else:
            first, _, rest = lab.partition(" ")
            if rest and first.lower() in _LATIN_ROLES:
                off, lab = len(first) + 1, rest
    if lab.startswith("@"):
        off, lab = off + 1, lab[1:]
    ok = False
    if _HANDLE.fullmatch(lab):
        ok = True
    elif lab.isascii():
        ok = bool(_LATIN_NAME.fullmatch(lab)) and _latin_ok(lab)
    elif _KANA_NAME.fullmatch(lab):
        ok = lab not in _ROLE_WORDS and _kana_ok(lab, True)
    elif re.fullmatch(_K + r"{1,4}(?:[ ]" + _K + r"{1,3})?", lab):
        first = lab.split()[0]
        ft = morph.tags(first)
        last_t = morph.tags(lab.split()[-1])
        if any(p in _ROLE_WORDS or p in _JA_NOT_NAME_WORDS for p in lab.split()) or (
            " " in lab
            and ft & morph.COMMON
            and not ft & morph.NAME
            and last_t & morph.COMMON
            and not last_t & morph.NAME
        ):
            return None
        t = morph.tags(lab)
        ok = (
            lab not in _ROLE_WORDS
            and _plausible(lab)
            and (" " in lab or bool(t & morph.SURNAME) or not t & morph.COMMON)
        )
    return (off, off + len(lab)) if ok else None


def _find_speakers(norm: str) -> list[Finding]:
    out: list[Finding] = []
    if ":" not in norm:
        return out
    nl = "\n" + norm  # offsets below are one more than in norm
    labels: dict[str, int] = {}
    hits = []
    for m in _finditer_near(_SPEAKER, nl, _near(nl, _COLON, 60, 2)):
        lab = m.group("label")
        labels[lab] = labels.get(lab, 0) + 1
        hits.append(m)
    for m in hits:
        lab = m.group("label")
        # Without a timestamp a line-opening label is a speaker only when it opens several lines.
        if not m.group("ts") and labels[lab] < 2 and not _ROLE_THEN_NAME.match(lab):
            continue
        span = _speaker_name(lab)
        if span:
            out.append(Finding("person", m.start("label") - 1 + span[0], m.start("label") - 1 + span[1]))
    for m in _finditer_near(_HEADER, nl, _near(nl, _HEADER_TIME, 50, 3)):
        span = _speaker_name(m.group("label"))
        if span:
            out.append(Finding("person", m.start("label") - 1 + span[0], m.start("label") - 1 + span[1]))
    return out


# A kana or Latin word right before an honorific (ナルミさん, かつらぎさん, Karasawa様).
_KANA_HON = lazy_compile(
    r"(?=[" + _KATA + _HIRA + r"])(?:([" + _KATA + r"ー]{2,10}(?:[ ・][" + _KATA + r"ー]{2,10})?)"
    r"|([" + _HIRA + r"]{2,6}))(?=[ ]?(?:さん|様|さま|くん|ちゃん|氏))"
)
_LATIN_HON = lazy_compile(r"(?=[A-Z])([A-Z][A-Za-z'-]+(?:[ ][A-Z][A-Za-z'-]+){0,2})[ ]?(?=様|さん|さま|氏)")
_LATIN_COMPANY = frozenset(
    "inc corp co ltd llc kk gk japan group systems system tech technologies bank shop store company holdings "
    "labs lab studio works service services solutions ryokan hotel inn clinic support team shop info news "
    "trading partners residence securities online career corporation".split()
)


_PARTICLE_START = "のにをはがでともおごへや"


def _find_hon_words(norm: str) -> list[Finding]:
    out: list[Finding] = []
    hon = _hon_windows(norm)
    for m in _finditer_near(_KANA_HON, norm, hon):
        g = 1 if m.group(1) else 2
        prev = norm[m.start() - 1] if m.start() else ""
        if (
            prev
            and prev in ("ー・" if g == 1 else "ー")
            or _KANA_CHAR.match(prev)
            and (g == 2 or prev >= "\u30a0")
        ):
            continue
        start, word = m.start(g), m.group(g)
        if g == 2 and word[0] in "のはがにをと" and len(word) >= 3 and not _KANA_CHAR.match(prev or " "):
            start, word = start + 1, word[1:]  # 経理のひいらぎさん: the particle after a kanji word
        if g == 2 and (word[0] in _PARTICLE_START or "の" in word):
            continue  # a hiragana phrase (れじのおにいさん), not a name
        if _kana_ok(word, False):
            out.append(Finding("person", start, start + len(word)))
    if not norm.isascii():
        for m in _finditer_near(_LATIN_HON, norm, hon):
            if m.start() and (
                norm[m.start() - 1].isascii()
                and norm[m.start() - 1].isalpha()
                or norm[m.start() - 1] in ".'-"
            ):
                continue
            words = m.group(1).split()
            if _latin_ok(m.group(1)) and not any(w.lower() in _LATIN_COMPANY for w in words):
                out.append(Finding("person", m.start(1), m.end(1)))
    return out


def _spaced_label(*words: str) -> str:
    return "|".join("[ ]?".join(w) for w in words)


# A name written with OCR spaces between its characters (柘 植   頼 子): single characters one space apart,
# surname and given name further apart, after a name label or alone on its line.
_OCR_LABEL = _spaced_label(
    "氏名", "お名前", "名前", "お客様名", "被保険者", "名義人", "契約者", "申込者", "代表者"
)
_OCR_NAME = lazy_compile(
    r"(?:(?P<lab>" + _OCR_LABEL + r")[ ]*[:：]?[ ]*|\n[ ]*(?!" + _OCR_LABEL + r"))"
    r"(?P<name>"
    + _K
    + r"(?:[ ]{0,3}(?![様殿])["
    + _KANJI
    + _HIRA
    + r"]){1,7})(?P<tail>[ ]*(?:様|(?=\n)|$|\())"
)


def _find_ocr_spaced(norm: str) -> list[Finding]:
    out: list[Finding] = []
    for m in _OCR_NAME.finditer("\n" + norm):  # offsets are one more than in norm
        name = m.group("name")
        if "  " not in name and not re.search(r"(?:^|[ ])\S[ ]\S(?:[ ]|$)", name):
            continue  # not spaced out
        groups = [g.replace(" ", "") for g in re.split(r"[ ]{2,}", name)]
        core = "".join(groups)
        if not 2 <= len(core) <= 7 or len(groups) > 2:
            continue
        sur = groups[0] if len(groups) == 2 else ""
        if not m.group("lab"):
            if not sur or not (morph.is_surname(sur) or sur in names.ja_surnames()):
                continue
        if core in _JA_NOT_NAME_WORDS or core[-1] in _NOT_A_NAME_END or core[-1] in _PLACE_END:
            continue
        out.append(Finding("person", m.start("name") - 1, m.end("name") - 1))
    return out


# A kana full name (two kana words) before です / と申します / といいます: a self-introduction.
_KANA_INTRO = lazy_compile(
    r"(?=[" + _KATA + _HIRA + r"])([" + _KATA + r"ー]{2,10}[ ・][" + _KATA + r"ー]{2,10}"
    r"|(?<![" + _HIRA + _KATA + r"])[" + _HIRA + r"]{2,5}[ ][" + _HIRA + r"]{1,4})[ ]?"
    r"(?=です|と申します|と申し|といいます|と言います)"
)
_INTRO_WORD = lazy_compile("です|と申|といいます|と言います")
_KANA_ONE_INTRO = lazy_compile(
    r"(?=["
    + _KATA
    + r"])(["
    + _KATA
    + r"ー]{2,10})(?:[ ]?(?=と申します|と申し|といいます|と言います)|(?=です[。、,]))"
)
# An account holder (名義 / 口座名義 / 名義人) in kana.
_HOLDER = lazy_compile(
    r"(?:名義人?|口座名義)[ ]*[:：]?[ ]*([" + _KATA + r"ー]{1,10}(?:[ ・][" + _KATA + r"ー]{1,10})?)"
    r"(?=[ ]*(?:$|\n|様|\)))",
    re.MULTILINE,
)
# English contexts: "My name is …", "I'm …", "From: … <", "Customer: …, ", "my colleague …".
_EN_WORD = r"(?:[A-Z][a-z]+(?:[-'][A-Z]?[a-z]+)?|[A-Z]{2,}[0-9A-Z]*)"


def _both(*words: str) -> list[str]:
    """Each word capitalised and in lower case (literals, not a class: see ``_EN_CONTEXT``)."""
    return [v for w in words for v in (w[0].upper() + w[1:], w[0].lower() + w[1:])]


_NAME_TAIL = r"name(?: here)?(?: is| as)?"
_EN_LABELS = (
    "From Customer Visitor Guests? Companion Account_holder Full_name Contact_person Patient Name Attendee "
    "Speaker Host Holder speaker_tonight 名義 氏名 お名前 候補者 出向者 申込者 契約者 患者様?"
).split()
# Every alternative starts with a literal character (case variants spelt out, a shared tail repeated), so the
# engine skips other characters fast; the order is that of the words in one alternation.
_EN_CONTEXT_WORDS = (
    _both("my name is")
    + ["I'm", "I am"]
    + _both(
        "this is", "it's", "colleague", "partner", "husband", "wife", "daughter", "son", "engineer(?:の)?"
    )
    + ["customer", "Hi", "Hey", "Thanks,", "Happy Birthday"]
    + [w + " " + _NAME_TAIL for w in _both("family", "maiden", "legal", "last", "first", "given")]
    + [_NAME_TAIL]
    + [w.replace("_", " ") + r"[ ]*[:：]" for w in _EN_LABELS]
    + _both("host,")
)
_EN_CONTEXT = lazy_compile(
    r"(?:" + "|".join(_EN_CONTEXT_WORDS) + r")[ ]*"
    r"(?:(?:Mr|Mrs|Ms|Miss|Dr)\.?[ ])?"
    r"(" + _EN_WORD + r"(?:,?[ ]{1,2}" + _EN_WORD + r"){0,3})"
    r"(?![A-Za-z])"
)


@lru_cache(maxsize=1)
def _not_name_or_role() -> frozenset[str]:
    return names.en_not_names() | _LATIN_ROLES


_ASCII_CAPITAL = lazy_compile(r"[A-Z]")


def _find_intro_names(norm: str) -> list[Finding]:
    out: list[Finding] = []
    if "です" in norm or "と申" in norm or "といいます" in norm or "と言います" in norm:
        intro = _near(norm, _INTRO_WORD, 26, 6)
        for m in _finditer_near(_KANA_INTRO, norm, intro):
            prev = norm[m.start() - 1] if m.start() else ""
            if prev and _KANA_CHAR.match(prev) and (prev >= "\u30a0" or norm[m.start()] < "\u30a0"):
                continue
            if _kana_ok(m.group(1), True):
                out.append(Finding("person", m.start(1), m.end(1)))
        for m in _finditer_near(_KANA_ONE_INTRO, norm, intro):
            prev = norm[m.start() - 1] if m.start() else "\n"
            if prev == " " and m.start() > 1 and norm[m.start() - 2] in ":：":
                prev = ":"
            # after と申します any boundary will do; before です only the start of an utterance
            if prev not in (":：\n" if norm.startswith("です", m.end()) else ":：、。 \n"):
                continue
            if _kana_ok(m.group(1), False):
                out.append(Finding("person", m.start(1), m.end(1)))
    if "名義" in norm:
        for m in _HOLDER.finditer(norm):
            out.append(Finding("person", m.start(1), m.end(1)))
    # the name after the context word starts with an ASCII capital: without one, nothing to scan for
    for m in _EN_CONTEXT.finditer(norm) if _ASCII_CAPITAL.search(norm) else ():
        if m.start() and norm[m.start() - 1].isascii() and norm[m.start() - 1].isalpha():
            continue
        cand = m.group(1)
        if any(w.strip(",").lower() in _LATIN_COMPANY for w in cand.split()):
            continue
        if (
            ", " in cand
            and not cand.split(",")[0].isupper()
            and ":" not in m.group(0)[: m.start(1) - m.start()]
        ):
            cand = cand.partition(", ")[0]
        elif ", " in cand and not cand.split(",")[0].isupper():
            # a list of names (Guests: A B, C D): the first one here, the others below
            first, _, more = cand.partition(", ")
            for mm in re.finditer(_EN_WORD + r"(?:[ ]" + _EN_WORD + r")*", more):
                if _latin_ok(mm.group()):
                    st = m.start(1) + len(first) + 2 + mm.start()
                    out.append(Finding("person", st, st + len(mm.group())))
            cand = first
        words = [w.strip(",") for w in cand.split()]
        while words and words[-1].lower() in _not_name_or_role():
            words.pop()
        if not words or not _latin_ok(" ".join(words)):
            continue
        if len(words) == 1 and words[0].isupper() and len(words[0]) <= 3:
            continue
        end = m.start(1) + len(cand)
        while norm[m.start(1) : end].split() and norm[end - 1 : end].isspace():
            end -= 1
        # trim stripped words from the end
        text = norm[m.start(1) : end]
        while len(text.replace(",", "").split()) > len(words):
            text = text[: text.rstrip().rfind(" ")].rstrip().rstrip(",")
        out.append(Finding("person", m.start(1), m.start(1) + len(text)))
    return out


# A reading in brackets after a Latin name: Marisol Castellanos（マリソル・カステヤノス）.
_LATIN_READING = lazy_compile(r"[A-Za-z][ ]?\(([" + _KATA + r"ー][" + _KATA + r"ー ・]{1,24})\)")
_LATIN_PAIR_READING = lazy_compile(
    r"(?=[A-Z])([A-Z][a-z]+(?:[-'][A-Z]?[a-z]+)?[ ][A-Z][A-Za-z'-]+)[ ]?\((["
    + _KATA
    + r"ー]{2,12}[ ・]["
    + _KATA
    + r"ー]{2,12})\)"
)


_ATTEND = lazy_compile(
    r"(?:出席者?|参加者?|当方|先方|受付者?|記録|記入者|受電|報告者|作成者|対応者?|同席者?|同行者?|担当者?)"
    r"[ ]*[:：][ ]*([^\n]{1,80})"
)
_ATTEND_ITEM = lazy_compile(
    r"(?:^|(?<=[、,/]))[ ]*("
    + _K
    + r"{1,4}(?:[ ]"
    + _K
    + r"{1,3})?(?!["
    + _KANJI
    + r"])|["
    + _KATA
    + r"ー]{2,8}(?=[ ]*(?:[、,/(]|$)))"
)
_TITLES_AFTER = "店長|所長|院長|准教授|教授|会長|係長|主任|室長|支店長|センター長|SV|マネージャー|店主"
_TITLE_AFTER = lazy_compile(_TITLES_AFTER)
_TITLE_THEN = lazy_compile(
    r"(?:店長|所長|院長|社長|代表|教授)(?:の)?[ ]?(" + _K + r"{2,4})(?=[がはよりにをも、。)]|[ ]*$)",
    re.MULTILINE,
)
_SIGN_LINE = lazy_compile(r"[\n。][ ]*(" + _K + r"{2,4})[ ]*(?=\n[ ]*\n|\n-|\n>|\Z)")


def _surname_like(cand: str) -> bool:
    t = morph.tags(cand)
    return cand in names.ja_surnames() or bool(t & morph.SURNAME and not t & morph.COMMON)


def _find_surnames_alone(norm: str) -> list[Finding]:
    out: list[Finding] = []
    for m in _ATTEND.finditer(norm):
        for it in _ATTEND_ITEM.finditer(m.group(1)):
            cand = it.group(1)
            if _KANA_CHAR.match(cand[0]):
                ok = _kana_ok(cand, False)
            else:
                t = morph.tags(cand)
                ok = _plausible(cand) and (
                    " " in cand or bool(t & morph.SURNAME) or cand in names.ja_surnames() or not t
                )
            if ok:
                out.append(Finding("person", m.start(1) + it.start(1), m.start(1) + it.end(1)))
    for m in _TITLE_AFTER.finditer(norm):
        j = i = m.start()  # the kanji run right before the title: a surname of 2-4 kanji
        while i > 0 and j - i <= 4 and _ONE_KANJI.match(norm[i - 1]):
            i -= 1
        if 2 <= j - i <= 4 and _surname_like(norm[i:j]):
            out.append(Finding("person", i, j))
    for m in _TITLE_THEN.finditer(norm):
        if _surname_like(m.group(1)):
            out.append(Finding("person", m.start(1), m.end(1)))
    for m in _SIGN_LINE.finditer("\n" + norm):
        if _surname_like(m.group(1)):
            out.append(Finding("person", m.start(1) - 1, m.end(1) - 1))
    return out


# The display name of an e-mail header (From: 東雲 董子 <toko@example.jp>): a Japanese full name, a kana name,
# or two or three Latin words that are not a company.
_MAIL_FROM = lazy_compile(
    r"(?:From|To|Cc|差出人|送信者|宛先)[ ]*:[ ]*\"?(" + _K + r"{1,4}[ ]" + _K + r"{1,3}|" + _K + r"{2,4}|"
    r"["
    + _KATA
    + r"ー]{2,10}[ ・]["
    + _KATA
    + r"ー]{2,10}|[A-Z][A-Za-z'-]+(?:[ ][A-Z][A-Za-z'-]+){1,2})\"?[ ]*<[^<>\s@]+@"
)
# A bracketed note header naming its writer: [Internal note — Narumi], [Customer — Philippa Brannigan].
_BRACKET_ROLE = lazy_compile(
    r"\[([A-Za-z]+(?: [a-z]+)?)[ ]?[—–-][ ]?([A-Z][A-Za-z'-]+(?:[ ][A-Z][A-Za-z'-]+){0,2})\]"
)


def _find_mail_names(norm: str) -> list[Finding]:
    out: list[Finding] = []
    if "@" in norm and "<" in norm:
        for m in _MAIL_FROM.finditer(norm):
            cand = m.group(1)
            if cand.isascii():
                ok = _latin_ok(cand) and not any(w.lower() in _LATIN_COMPANY for w in cand.split())
            elif _KANA_CHAR.match(cand[0]):
                ok = _kana_ok(cand, True)
            else:
                ok = _plausible(cand) and (" " in cand or _surname_like(cand))
            if ok:
                out.append(Finding("person", m.start(1), m.end(1)))
    if "[" in norm:
        for m in _BRACKET_ROLE.finditer(norm):
            if m.group(1).split()[0].lower() in _LATIN_ROLES and _latin_ok(m.group(2)):
                out.append(Finding("person", m.start(2), m.end(2)))
    return out


def _find_round2(norm: str) -> list[Finding]:
    out = _find_speakers(norm) + _find_mail_names(norm)
    if not norm.isascii():
        out += _find_surnames_alone(norm)
    if not norm.isascii():
        if (
            "さん" in norm
            or "様" in norm
            or "さま" in norm
            or "くん" in norm
            or "ちゃん" in norm
            or "氏" in norm
        ):
            out += _find_hon_words(norm)
        if "  " in norm or " " in norm:
            out += _find_ocr_spaced(norm)
        if "(" in norm:
            for m in _LATIN_PAIR_READING.finditer(norm):
                if m.start() and norm[m.start() - 1].isascii() and norm[m.start() - 1].isalpha():
                    continue
                if _latin_ok(m.group(1)):
                    out.append(Finding("person", m.start(1), m.end(1)))
                    out.append(Finding("person", m.start(2), m.end(2)))
    out += _find_intro_names(norm)
    return out


def find_persons(norm: str) -> list[Finding]:
    """Every person-name candidate in the normalised text (Japanese, CSV columns, English, romaji)."""
    out = _find_person_ja(norm)
    if not norm.isascii():
        out += _find_person_ja_dict(norm)
    if "," in norm and "\n" in norm:
        out += _find_person_csv(norm)
    if not norm.isascii() or any(c.isupper() for c in norm):
        out += _find_person_en(norm)
        out += _find_person_en_context(norm)
        out += find_romaji_names(norm)
    out += _find_round2(norm)
    if "(" in norm:
        out += _readings(norm, out)
    return out


# --- coreference --------------------------------------------------------------------------------------------

_LATIN_PART = lazy_compile(r"[A-Za-zĀĪŪĒŌāīūēō][A-Za-zĀĪŪĒŌāīūēō'-]+")


def _name_parts(name: str) -> list[str]:
    """The surname and given name of a found full name (or the name itself when it is one word)."""
    if " " in name or "・" in name:
        return [p for p in re_split_kana(name) if len(p) >= 2 or (p and "\u3400" <= p[0] <= "\u9fff")]
    if name.isascii() or not _KANJI_OR_KANA.search(name):
        return [name]
    k = morph.split_full_name(name)
    if k:
        return [name, name[:k], name[k:]]
    for n in (4, 3, 2):
        if name[:n] in names.ja_surnames() and len(name) > n:
            return [name, name[:n], name[n:]]
    return [name]


_SCRIPT_K = lazy_compile("[" + _KANJI + "]")
_SCRIPT_T = lazy_compile("[" + _KATA + "]")
_SCRIPT_H = lazy_compile("[" + _HIRA + "]")


def _script_class(ch: str) -> str:
    if not ch:
        return ""
    if _SCRIPT_K.match(ch):
        return "K"
    if _SCRIPT_T.match(ch):
        return "T"
    if _SCRIPT_H.match(ch):
        return "H"
    if ch.isalpha():
        return "L"
    return ""


_LATIN_COMPANY_AFTER = lazy_compile(
    r"-[A-Za-z]|,? (?:and|&) [A-Z]|, [A-Z][a-z]+(?:,| and)| (?:Inc|LLC|Ltd|PLC|Group|Corp)\b"
)
_LATIN_COMPANY_BEFORE = lazy_compile(r"(?:[A-Za-z]-|[A-Z][a-z]+, |(?:and|&) )$")


def _latin_mention_ok(norm: str, s: int, e: int, word: str) -> bool:
    """A Latin name part alone: not an English word, not inside a company name ("Butler, Moore and Hanson")."""
    if word.lower() in names.en_not_names() or word.lower() in names.romaji_stop_words():
        return False
    return not (_LATIN_COMPANY_AFTER.match(norm, e) or _LATIN_COMPANY_BEFORE.search(norm, max(0, s - 12), s))


_NEXT_CAP = lazy_compile(r"[ ]([A-Z][A-Za-z]+)")
_KATA_WORD_AT = lazy_compile("[" + _KATA + "]{2,}")


def _business_after(norm: str, e: int) -> bool:
    m = _KATA_WORD_AT.match(norm, e)
    return m is not None and any(w in m.group() for w in names.katakana_business_words())


def _company_word_end(cand: str) -> bool:
    """鬼頭建設: a surname followed by an ordinary two-kanji word is a company, not a full name."""
    if len(cand) < 4:
        return False
    head, tail = cand[:-2], cand[-2:]
    tt = morph.tags(tail)
    return bool(
        tt & morph.COMMON and not tt & morph.NAME and (head in names.ja_surnames() or morph.is_surname(head))
    )


def coreference(norm: str, persons: list[Finding]) -> list[Finding]:
    """Further mentions of the people in ``persons`` (the resolved person findings) elsewhere in ``norm``.

    Whole tokens only: a kanji part not inside a longer kanji run (an honorific may follow), a kana part not
    inside a longer kana word, a Latin part not inside a longer word; never before a company or place suffix.
    A part that is also an ordinary word (朝日) is taken only before an honorific.
    """
    if not persons:
        return []
    parts: set[str] = set()
    for f in persons:
        name = norm[f.start : f.end]
        for p in _name_parts(name):
            if (
                p
                and p not in _NOT_NAMES
                and p not in _JA_NOT_NAME_WORDS
                and (len(p) >= 2 or _SCRIPT_K.match(p))
            ):
                parts.add(p)
    if not parts:
        return []
    taken = [(f.start, f.end) for f in persons]
    out: list[Finding] = []
    hits: list[tuple[int, int]] = []
    for p in parts:
        i = norm.find(p)
        while i >= 0:
            hits.append((i, i + len(p)))
            i = norm.find(p, i + 1)
    hits.sort(key=lambda h: (h[0], h[0] - h[1]))
    last_end = -1
    for s, e in hits:
        if s < last_end or any(a <= s and e <= b for a, b in taken):
            continue
        word = norm[s:e]
        cls = _script_class(word[0])
        before = _script_class(norm[s - 1]) if s else ""
        after_ch = norm[e] if e < len(norm) else ""
        after = _script_class(after_ch)
        hon = _HON_AFTER.match(norm, e) is not None
        if (
            len(word) == 1 and not hon
        ):  # a one-kanji name (蔀) alone is too short to trust without an honorific
            continue
        if cls == "L":
            if before == "L" or after == "L":
                continue
        elif before == cls or (after == cls and not (cls == "K" and hon)):
            continue
        if after == "K" and not hon:
            continue
        if _COMPANY_AFTER.match(norm, e):
            continue
        if cls == "K" and not hon and (before == "T" or _business_after(norm, e)):
            continue  # ソーイング漆原, 綾瀬クリニック: a shop or a company named after the person
        if cls == "L" and (m2 := _NEXT_CAP.match(norm, e)) and m2.group(1) not in parts:
            continue  # Igari Trading: another capitalised word that is not part of the name
        if cls != "L" and morph.tags(word) & (morph.COMMON | morph.PLACE) and not hon:
            if not (morph.tags(word) & morph.NAME) or morph.tags(word) & morph.COMMON:
                continue
        if cls == "L" and not _latin_mention_ok(norm, s, e, word):
            continue
        out.append(Finding("person", s, e))
        last_end = e
    return out
