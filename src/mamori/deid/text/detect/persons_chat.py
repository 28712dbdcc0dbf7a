"""Person names placed by the layout: chat speakers and headers, mail and note headers, CSV name
columns, attendee lists and titles, kana / Latin words before an honorific, OCR-spaced names, kana
self-introductions and account holders."""

from __future__ import annotations

import re

from mamori.deid.text import names
from mamori.deid.text.detect import morph
from mamori.deid.text.detect.common import Finding, lazy_compile
from mamori.deid.text.detect.persons_common import (
    _JA_NOT_NAME_WORDS,
    _K,
    _KANA_CHAR,
    _LATIN_COMPANY,
    _LATIN_ROLES,
    _NOT_A_NAME_END,
    _PLACE_END,
    _finditer_near,
    _hon_windows,
    _kana_ok,
    _latin_ok,
    _near,
    _plausible,
    _surname_like,
)
from mamori.deid.text.detect.persons_en import _find_en_context_names, _find_latin_pair_readings
from mamori.deid.text.detect.structured import _HIRA, _KANJI, _KATA, _ONE_KANJI

_CSV_PERSON_HEADER = lazy_compile(r"^(?:氏名|お名前|名前|顧客名|name|full ?name)$", re.IGNORECASE)

_CSV_CELL_NAME = lazy_compile(
    r"[" + _KANJI + _KATA + _HIRA + r"][" + _KANJI + _KATA + _HIRA + r" ]{0,10}|[A-Z][A-Za-z .'-]{1,40}"
)


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


_KANA = "[" + _KATA + _HIRA + "]"

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

_HANDLE = lazy_compile(r"[a-z][a-z0-9]{1,15}[._][a-z][a-z0-9]{0,15}")

_EMOJI_TAIL = lazy_compile(r"[^\w)）]+$")

_KANA_NAME = lazy_compile(_KANA + r"{2,10}(?:[ ・]" + _KANA + r"{1,10})?")

_LATIN_NAME = lazy_compile(r"[A-Z][A-Za-z'-]+(?:[ ][A-Z][A-Za-z'-]+){0,2}|[A-Z]{2,}(?:[ ][A-Z]{2,}){0,2}")


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
    out += _find_en_context_names(norm)
    return out


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
            out += _find_latin_pair_readings(norm)
    out += _find_intro_names(norm)
    return out
