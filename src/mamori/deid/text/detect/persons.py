"""Person names: dictionaries plus context (honorifics, labels, signatures, CSV name columns)."""

from __future__ import annotations

import re
from functools import lru_cache

from mamori.deid.text import names
from mamori.deid.text.detect.common import Finding
from mamori.deid.text.detect.structured import _HIRA, _KANJI, _KATA, _ONE_KANJI

# --- person names ----------------------------------------------------------------------------------------

_HONORIFIC = r"(?:さん|様|さま|氏|殿|くん|君|ちゃん|先生|部長|課長|社長)"
_NAME_LABEL = re.compile(
    r"(?:氏名|お名前|名前|担当者?|差出人|送信者|講師|登壇者|受講者|申込者|契約者|フリガナ|ふりがな|"
    r"name|from|contact|attendee|speaker)[\s:：]*$",
    re.IGNORECASE,
)
_KANJI_OR_KANA = re.compile(r"[" + _KANJI + _KATA + _HIRA + r"]")


@lru_cache(maxsize=1)
def _ja_name_patterns() -> tuple[re.Pattern[str], re.Pattern[str]]:
    surnames = names.ja_surnames()
    given = names.ja_given_names()
    giv_alt = "|".join(sorted(given, key=len, reverse=True))
    kana_sur = "|".join(sorted({v for v in surnames.values() if v}, key=len, reverse=True))
    kana_giv = "|".join(sorted({v for v in given.values() if v}, key=len, reverse=True))
    kana_first = "".join(sorted({v[0] for v in surnames.values() if v}))
    # What may follow a surname: a given name (dictionary, or free when an honorific follows), an honorific.
    rest = re.compile(
        r"(?:(?P<sp>[ 　]?)(?:(?P<giv>" + giv_alt + r")(?![" + _KANJI + r"])"
        r"|(?P<free>[" + _KANJI + r"]{1,3}|[" + _HIRA + r"]{2,4})(?=[ 　]?" + _HONORIFIC + r")))?"
        r"(?P<hon>[ 　]?" + _HONORIFIC + r")?"
    )
    kana = re.compile(
        r"(?<!["
        + _KATA
        + r"])(?=["
        + kana_first
        + r"])(?:"
        + kana_sur
        + r")[ 　・]?(?:"
        + kana_giv
        + r")(?!["
        + _KATA
        + r"])"
    )
    return rest, kana


_HONORIFIC_HINT = re.compile(_HONORIFIC)
_NOT_A_NAME_END = "社店所局課部院会館行校園庁省署組合様方者員長業"
_NOT_NAMES = frozenset(
    "担当 担当者 関係者 利用者 顧客 患者 会員 株主 取引先 御社 貴社 弊社 当社 各位 皆 お客 同僚 上司 部下 家族 "
    "本人 代表 先方 先生 講師 受講者 参加者 申込者 契約者 相手 社員 職員".split()
)
# A surname not in the dictionary: 2-4 kanji right before an honorific, not inside a longer kanji run.
_SURNAME_HON = re.compile(r"(?<![" + _KANJI + r"])([" + _KANJI + r"]{2,4})(?=" + _HONORIFIC + r")")
# After a name label (お名前：, 氏名:, お客様：): kanji surname + optional space + kanji/hiragana given name.
_LABELLED_JA_NAME = re.compile(
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
_SIGNATURE_NAME = re.compile(
    r"(?:部|課|室|店|社|センター|事務所)\n([" + _KANJI + r"]{1,4} ?[" + _KANJI + _HIRA + r"]{1,3})(?=\n)"
)
_CSV_PERSON_HEADER = re.compile(r"^(?:氏名|お名前|名前|顧客名|name|full ?name)$", re.IGNORECASE)
_CSV_CELL_NAME = re.compile(
    r"[" + _KANJI + _KATA + _HIRA + r"][" + _KANJI + _KATA + _HIRA + r" ]{0,10}|[A-Z][A-Za-z .'-]{1,40}"
)
_FREE_JA_NAME = re.compile(
    r"(?<![" + _KANJI + r"])([" + _KANJI + r"]{1,3}[ 　][" + _KANJI + r"]{1,3})(?=[ 　]?" + _HONORIFIC + r")"
)
_EN_TITLE = re.compile(
    r"(?<![A-Za-z])(?:Mr|Mrs|Ms|Miss|Dr|Prof)\.?\s((?:[A-Z][a-z]+(?:-[A-Z][a-z]+)?\s)?[A-Z][a-z]+(?:-[A-Z][a-z]+)?)"
)
_EN_CAND = re.compile(
    r"(?<![A-Za-z])(?!(?:Dear|Hi|Hello|Name|From|Contact|Regards|Sincerely|Thanks|Mr|Mrs|Ms|Miss|Dr|Prof)\b)"
    r"([A-Z][a-z]+)(?:\s([A-Z])\.)?\s([A-Z][a-z]+(?:-[A-Z][a-z]+)?)(?![A-Za-z])"
)
_EN_LABEL = re.compile(r"(?:Dear|Name|Contact|From|Attendee|Speaker|Regards,?|Sincerely,?)[\s:,]*$")


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
    if _HONORIFIC_HINT.search(norm):
        for m in _FREE_JA_NAME.finditer(norm):
            out.append(Finding("person", m.start(1), m.end(1)))
        for m in _SURNAME_HON.finditer(norm):
            cand = m.group(1)
            if cand[-1] not in _NOT_A_NAME_END and cand not in _NOT_NAMES:
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
