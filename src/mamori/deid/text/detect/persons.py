"""Person names: ``find_persons`` (every candidate) and ``coreference`` (further mentions of the people found).

The detectors live in ``persons_ja`` (Japanese dictionaries and context), ``persons_en`` (English and Latin
contexts), ``persons_chat`` (names placed by the layout: speakers, headers, CSV columns, attendee lists, OCR
spacing, introductions) and ``persons_common`` (what they share). Their names are re-exported here, so every
name importable from this module before the split still is.
"""

from __future__ import annotations

from mamori.deid.text import names
from mamori.deid.text.detect import morph
from mamori.deid.text.detect.common import Finding, lazy_compile
from mamori.deid.text.detect.persons_chat import _ATTEND as _ATTEND
from mamori.deid.text.detect.persons_chat import _ATTEND_ITEM as _ATTEND_ITEM
from mamori.deid.text.detect.persons_chat import _BRACKET_ROLE as _BRACKET_ROLE
from mamori.deid.text.detect.persons_chat import _COLON as _COLON
from mamori.deid.text.detect.persons_chat import _CSV_CELL_NAME as _CSV_CELL_NAME
from mamori.deid.text.detect.persons_chat import _CSV_PERSON_HEADER as _CSV_PERSON_HEADER
from mamori.deid.text.detect.persons_chat import _EMOJI_TAIL as _EMOJI_TAIL
from mamori.deid.text.detect.persons_chat import _HANDLE as _HANDLE
from mamori.deid.text.detect.persons_chat import _HEADER as _HEADER
from mamori.deid.text.detect.persons_chat import _HEADER_TIME as _HEADER_TIME
from mamori.deid.text.detect.persons_chat import _HOLDER as _HOLDER
from mamori.deid.text.detect.persons_chat import _INTRO_WORD as _INTRO_WORD
from mamori.deid.text.detect.persons_chat import _KANA as _KANA
from mamori.deid.text.detect.persons_chat import _KANA_HON as _KANA_HON
from mamori.deid.text.detect.persons_chat import _KANA_INTRO as _KANA_INTRO
from mamori.deid.text.detect.persons_chat import _KANA_NAME as _KANA_NAME
from mamori.deid.text.detect.persons_chat import _KANA_ONE_INTRO as _KANA_ONE_INTRO
from mamori.deid.text.detect.persons_chat import _LATIN_HON as _LATIN_HON
from mamori.deid.text.detect.persons_chat import _LATIN_NAME as _LATIN_NAME
from mamori.deid.text.detect.persons_chat import _MAIL_FROM as _MAIL_FROM
from mamori.deid.text.detect.persons_chat import _NAME_THEN_ROLE as _NAME_THEN_ROLE
from mamori.deid.text.detect.persons_chat import _OCR_LABEL as _OCR_LABEL
from mamori.deid.text.detect.persons_chat import _OCR_NAME as _OCR_NAME
from mamori.deid.text.detect.persons_chat import _PARTICLE_START as _PARTICLE_START
from mamori.deid.text.detect.persons_chat import _ROLE_THEN_NAME as _ROLE_THEN_NAME
from mamori.deid.text.detect.persons_chat import _ROLE_WORDS as _ROLE_WORDS
from mamori.deid.text.detect.persons_chat import _SIGN_LINE as _SIGN_LINE
from mamori.deid.text.detect.persons_chat import _SPEAKER as _SPEAKER
from mamori.deid.text.detect.persons_chat import _TITLE_AFTER as _TITLE_AFTER
from mamori.deid.text.detect.persons_chat import _TITLE_THEN as _TITLE_THEN
from mamori.deid.text.detect.persons_chat import _TITLES_AFTER as _TITLES_AFTER
from mamori.deid.text.detect.persons_chat import _TS as _TS
from mamori.deid.text.detect.persons_chat import _find_hon_words as _find_hon_words
from mamori.deid.text.detect.persons_chat import _find_intro_names as _find_intro_names
from mamori.deid.text.detect.persons_chat import _find_mail_names as _find_mail_names
from mamori.deid.text.detect.persons_chat import _find_ocr_spaced as _find_ocr_spaced
from mamori.deid.text.detect.persons_chat import _find_person_csv as _find_person_csv
from mamori.deid.text.detect.persons_chat import _find_round2 as _find_round2
from mamori.deid.text.detect.persons_chat import _find_speakers as _find_speakers
from mamori.deid.text.detect.persons_chat import _find_surnames_alone as _find_surnames_alone
from mamori.deid.text.detect.persons_chat import _spaced_label as _spaced_label
from mamori.deid.text.detect.persons_chat import _speaker_name as _speaker_name
from mamori.deid.text.detect.persons_common import _COMPANY_AFTER as _COMPANY_AFTER
from mamori.deid.text.detect.persons_common import _COMPOUND_END as _COMPOUND_END
from mamori.deid.text.detect.persons_common import _HON_AFTER as _HON_AFTER
from mamori.deid.text.detect.persons_common import _HONORIFIC as _HONORIFIC
from mamori.deid.text.detect.persons_common import _HONORIFIC_HINT as _HONORIFIC_HINT
from mamori.deid.text.detect.persons_common import _JA_NOT_NAME_WORDS as _JA_NOT_NAME_WORDS
from mamori.deid.text.detect.persons_common import _K as _K
from mamori.deid.text.detect.persons_common import _KANA_CHAR as _KANA_CHAR
from mamori.deid.text.detect.persons_common import _KANJI_OR_KANA as _KANJI_OR_KANA
from mamori.deid.text.detect.persons_common import _LATIN_COMPANY as _LATIN_COMPANY
from mamori.deid.text.detect.persons_common import _LATIN_ROLES as _LATIN_ROLES
from mamori.deid.text.detect.persons_common import _NOT_A_NAME_END as _NOT_A_NAME_END
from mamori.deid.text.detect.persons_common import _NOT_NAMES as _NOT_NAMES
from mamori.deid.text.detect.persons_common import _PLACE_END as _PLACE_END
from mamori.deid.text.detect.persons_common import _SUR_GIV as _SUR_GIV
from mamori.deid.text.detect.persons_common import _company_word_end as _company_word_end
from mamori.deid.text.detect.persons_common import _finditer_near as _finditer_near
from mamori.deid.text.detect.persons_common import _hon_windows as _hon_windows
from mamori.deid.text.detect.persons_common import _kana_ok as _kana_ok
from mamori.deid.text.detect.persons_common import _latin_ok as _latin_ok
from mamori.deid.text.detect.persons_common import _near as _near
from mamori.deid.text.detect.persons_common import _plausible as _plausible
from mamori.deid.text.detect.persons_common import _surname_like as _surname_like
from mamori.deid.text.detect.persons_common import re_split_kana as re_split_kana
from mamori.deid.text.detect.persons_en import _ASCII_CAPITAL as _ASCII_CAPITAL
from mamori.deid.text.detect.persons_en import _EN_CAND as _EN_CAND
from mamori.deid.text.detect.persons_en import _EN_CAP as _EN_CAP
from mamori.deid.text.detect.persons_en import _EN_CONTEXT as _EN_CONTEXT
from mamori.deid.text.detect.persons_en import _EN_CONTEXT_WORDS as _EN_CONTEXT_WORDS
from mamori.deid.text.detect.persons_en import _EN_LABEL as _EN_LABEL
from mamori.deid.text.detect.persons_en import _EN_LABELS as _EN_LABELS
from mamori.deid.text.detect.persons_en import _EN_TITLE as _EN_TITLE
from mamori.deid.text.detect.persons_en import _EN_WORD as _EN_WORD
from mamori.deid.text.detect.persons_en import _GREETING as _GREETING
from mamori.deid.text.detect.persons_en import _LATIN_PAIR_READING as _LATIN_PAIR_READING
from mamori.deid.text.detect.persons_en import _LATIN_READING as _LATIN_READING
from mamori.deid.text.detect.persons_en import _NAME_TAIL as _NAME_TAIL
from mamori.deid.text.detect.persons_en import _SIGN_OFF as _SIGN_OFF
from mamori.deid.text.detect.persons_en import _both as _both
from mamori.deid.text.detect.persons_en import _find_person_en as _find_person_en
from mamori.deid.text.detect.persons_en import _find_person_en_context as _find_person_en_context
from mamori.deid.text.detect.persons_en import _not_name_or_role as _not_name_or_role
from mamori.deid.text.detect.persons_ja import _C_O as _C_O
from mamori.deid.text.detect.persons_ja import _DESU as _DESU
from mamori.deid.text.detect.persons_ja import _DESU_WORD as _DESU_WORD
from mamori.deid.text.detect.persons_ja import _END_K as _END_K
from mamori.deid.text.detect.persons_ja import _FREE_JA_NAME as _FREE_JA_NAME
from mamori.deid.text.detect.persons_ja import _FROM_LINE as _FROM_LINE
from mamori.deid.text.detect.persons_ja import _HIRA_WORD as _HIRA_WORD
from mamori.deid.text.detect.persons_ja import _JA_FULL_SPACED as _JA_FULL_SPACED
from mamori.deid.text.detect.persons_ja import _JA_FULL_SPACED_ANY as _JA_FULL_SPACED_ANY
from mamori.deid.text.detect.persons_ja import _KANA_CONTEXT_BEFORE as _KANA_CONTEXT_BEFORE
from mamori.deid.text.detect.persons_ja import _KANA_FIELD as _KANA_FIELD
from mamori.deid.text.detect.persons_ja import _KANA_FULL as _KANA_FULL
from mamori.deid.text.detect.persons_ja import _KANA_LABEL_HINT as _KANA_LABEL_HINT
from mamori.deid.text.detect.persons_ja import _KANA_OR_HIRA as _KANA_OR_HIRA
from mamori.deid.text.detect.persons_ja import _KANA_SEP as _KANA_SEP
from mamori.deid.text.detect.persons_ja import _KANA_WORD as _KANA_WORD
from mamori.deid.text.detect.persons_ja import _KANJI_RUN3 as _KANJI_RUN3
from mamori.deid.text.detect.persons_ja import _LABELLED_JA_NAME as _LABELLED_JA_NAME
from mamori.deid.text.detect.persons_ja import _NAME_LABEL as _NAME_LABEL
from mamori.deid.text.detect.persons_ja import _NAME_TERMINATOR as _NAME_TERMINATOR
from mamori.deid.text.detect.persons_ja import _NK as _NK
from mamori.deid.text.detect.persons_ja import _NOT_AFTER_K as _NOT_AFTER_K
from mamori.deid.text.detect.persons_ja import _ONE_KANJI_HON as _ONE_KANJI_HON
from mamori.deid.text.detect.persons_ja import _ONE_KANJI_NOT_GIVEN as _ONE_KANJI_NOT_GIVEN
from mamori.deid.text.detect.persons_ja import _READING as _READING
from mamori.deid.text.detect.persons_ja import _SELF_INTRO as _SELF_INTRO
from mamori.deid.text.detect.persons_ja import _SIGNATURE_NAME as _SIGNATURE_NAME
from mamori.deid.text.detect.persons_ja import _STAFF as _STAFF
from mamori.deid.text.detect.persons_ja import _SURNAME_HON as _SURNAME_HON
from mamori.deid.text.detect.persons_ja import _TITLE_BEFORE as _TITLE_BEFORE
from mamori.deid.text.detect.persons_ja import _find_person_ja as _find_person_ja
from mamori.deid.text.detect.persons_ja import _find_person_ja_dict as _find_person_ja_dict
from mamori.deid.text.detect.persons_ja import _ja_name_patterns as _ja_name_patterns
from mamori.deid.text.detect.persons_ja import _readings as _readings
from mamori.deid.text.detect.persons_ja import _strong as _strong
from mamori.deid.text.detect.persons_ja import _surname_first_pattern as _surname_first_pattern
from mamori.deid.text.detect.persons_ja import _surname_prefix as _surname_prefix
from mamori.deid.text.detect.romaji import find_romaji_names
from mamori.deid.text.detect.structured import _HIRA, _KANJI, _KATA


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
