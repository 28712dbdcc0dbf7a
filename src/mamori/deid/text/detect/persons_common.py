"""Shared by the person-name detectors: honorifics, stop words, search windows, candidate checks."""

from __future__ import annotations

import re
from functools import lru_cache

from mamori.deid.text import names
from mamori.deid.text.detect import morph
from mamori.deid.text.detect.common import lazy_compile
from mamori.deid.text.detect.structured import _HIRA, _KANJI, _KATA

_HONORIFIC = r"(?:さん|様|さま|氏|殿|くん|君|ちゃん|先生|部長|課長|社長)"

_KANJI_OR_KANA = lazy_compile(r"[" + _KANJI + _KATA + _HIRA + r"]")


_HONORIFIC_HINT = lazy_compile(_HONORIFIC)

_NOT_A_NAME_END = "社店所局課部院会館行校園庁省署組合様方者員長業"

_NOT_NAMES = frozenset(
    "担当 担当者 関係者 利用者 顧客 患者 会員 株主 取引先 御社 貴社 弊社 当社 各位 皆 お客 同僚 上司 部下 家族 "
    "本人 代表 先方 先生 講師 受講者 参加者 申込者 契約者 相手 社員 職員".split()
)


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


_K = "[" + _KANJI + "]"

_COMPANY_AFTER = lazy_compile(
    r"[ ]?(?:製作所|商事|株式会社|有限会社|合同会社|銀行|病院|駅|町|区|市|村|郡|県|都|府|工業|産業|建設)"
)

_COMPOUND_END = "中済付更化的性用式会料費額書票表日時後前内外部面点版品物類件数率度"

_PLACE_END = "町区市村郡県都府駅線港橋"

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


def re_split_kana(s: str) -> list[str]:
    return s.replace("・", " ").split()


_KANA_CHAR = lazy_compile("[" + _KATA + _HIRA + "ー・]")

_LATIN_ROLES = frozenset(
    "agent customer visitor guest host operator system bot support moderator interviewer interviewee caller "
    "speaker staff user admin note internal participant sent to cc bcc subject date tel fax mobile phone email "
    "mail address re fw fwd attachment total branch relations department office team desk center centre".split()
)


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


_LATIN_COMPANY = frozenset(
    "inc corp co ltd llc kk gk japan group systems system tech technologies bank shop store company holdings "
    "labs lab studio works service services solutions ryokan hotel inn clinic support team shop info news "
    "trading partners residence securities online career corporation".split()
)


def _surname_like(cand: str) -> bool:
    t = morph.tags(cand)
    return cand in names.ja_surnames() or bool(t & morph.SURNAME and not t & morph.COMMON)


def _company_word_end(cand: str) -> bool:
    """鬼頭建設: a surname followed by an ordinary two-kanji word is a company, not a full name."""
    if len(cand) < 4:
        return False
    head, tail = cand[:-2], cand[-2:]
    tt = morph.tags(tail)
    return bool(
        tt & morph.COMMON and not tt & morph.NAME and (head in names.ja_surnames() or morph.is_surname(head))
    )
