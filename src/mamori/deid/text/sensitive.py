"""要配慮個人情報 term lists (R-2.3-1): flagged for human review, never silently redacted.

Each category is reported as a finding of type ``sensitive:<category>`` with ``sensitive=True``. A term only
suggests a category; whether the text really records 要配慮 information about a person is a human judgement
(APPI-RULES R-2.3-1: "information that merely suggests a category is not 要配慮"), hence a flag, not a block.
"""

from __future__ import annotations

import re
from typing import Final

RULE_ID: Final = "R-2.3-1"

SENSITIVE_TERMS: Final[dict[str, tuple[str, ...]]] = {
    "medical": (
        "病歴",
        "既往歴",
        "持病",
        "通院",
        "入院",
        "退院",
        "手術",
        "診断",
        "治療",
        "投薬",
        "処方",
        "服薬",
        "調剤",
        "健康診断",
        "健診",
        "人間ドック",
        "ストレスチェック",
        "遺伝子検査",
        "検査結果",
        "がん",
        "癌",
        "糖尿病",
        "うつ病",
        "鬱病",
        "精神疾患",
        "適応障害",
        "HIV",
        "感染症",
        "難病",
        "カルテ",
        "medical history",
        "diagnosed",
        "diagnosis",
        "hospitalized",
        "hospitalised",
        "surgery",
        "treatment",
        "prescription",
        "medication",
        "health check",
        "cancer",
        "diabetes",
        "depression",
        "HIV",
    ),
    "criminal": (
        "前科",
        "前歴",
        "犯罪歴",
        "逮捕",
        "起訴",
        "勾留",
        "拘留",
        "家宅捜索",
        "有罪判決",
        "服役",
        "刑務所",
        "執行猶予",
        "少年院",
        "保護観察",
        "少年審判",
        "criminal record",
        "arrested",
        "convicted",
        "prosecuted",
        "indicted",
        "prison sentence",
        "probation",
    ),
    "crime_victim": ("犯罪被害", "被害者", "被害届", "ストーカー被害", "DV被害", "crime victim", "victim of"),
    "creed": (
        "信仰",
        "宗教",
        "信者",
        "入信",
        "創価学会",
        "キリスト教徒",
        "イスラム教徒",
        "仏教徒",
        "支持政党",
        "政治信条",
        "religion",
        "religious",
        "church member",
        "Muslim",
        "Christian",
        "Buddhist",
        "political belief",
    ),
    "race": ("人種", "民族", "部落", "被差別", "アイヌ", "race", "ethnicity", "ethnic origin"),
    "disability": (
        "障害者手帳",
        "障がい者",
        "障害者",
        "身体障害",
        "知的障害",
        "精神障害",
        "発達障害",
        "療育手帳",
        "車椅子",
        "車いす",
        "disability",
        "disabled",
        "wheelchair",
        "autism",
        "ADHD",
    ),
    "social_status": ("本籍", "門地", "出自", "social status"),
}


def _terms() -> tuple[tuple[str, ...], tuple[str, ...], dict[str, str]]:
    category_of: dict[str, str] = {}
    for category, terms in SENSITIVE_TERMS.items():
        for t in terms:
            category_of.setdefault(t.lower(), category)
    ja = tuple(sorted({t for t in category_of if not t.isascii()}, key=len, reverse=True))
    en = tuple(sorted({t for t in category_of if t.isascii()}, key=len, reverse=True))
    return ja, en, category_of


_JA_TERMS, _EN_TERMS, _CATEGORY = _terms()


def _by_first(terms: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    out: dict[str, list[str]] = {}
    for t in terms:
        out.setdefault(t[0], []).append(t)
    return {k: tuple(v) for k, v in out.items()}


_JA_BY_FIRST = _by_first(_JA_TERMS)
_EN_BY_FIRST = _by_first(_EN_TERMS)
_ASCII_LETTER = re.compile(r"[A-Za-z]{2}")


def _find_all(hay: str, by_first: dict[str, tuple[str, ...]], word: bool) -> list[tuple[int, int, str]]:
    hits: list[tuple[int, int, str]] = []
    terms = [t for c in by_first.keys() & set(hay) for t in by_first[c]]
    for term in terms:  # str.find per term is faster than one regex alternation in CPython
        i = hay.find(term)
        while i >= 0:
            j = i + len(term)
            if not word or (
                (i == 0 or not (hay[i - 1].isascii() and hay[i - 1].isalnum()))
                and (j == len(hay) or not (hay[j].isascii() and hay[j].isalnum()))
            ):
                hits.append((i, j, term))
            i = hay.find(term, i + 1)
    return hits


def find_sensitive(norm: str) -> list[tuple[str, int, int]]:
    """(type, start, end) for every 要配慮 term, longest first when terms overlap; ASCII terms as whole words."""
    hits = _find_all(norm, _JA_BY_FIRST, False)
    if _ASCII_LETTER.search(norm):
        low = norm.lower()
        if len(low) != len(norm):  # a few characters lower-case to two; keep offsets aligned
            low = "".join(c.lower() if len(c.lower()) == 1 else c for c in norm)
        hits += _find_all(low, _EN_BY_FIRST, True)
    hits.sort(key=lambda h: (h[0], -(h[1] - h[0])))
    out: list[tuple[str, int, int]] = []
    last_end = -1
    for i, j, term in hits:
        if i < last_end:
            continue
        out.append((f"sensitive:{_CATEGORY[term]}", i, j))
        last_end = j
    return out
