"""The article and paragraph each rule implements, in words a letter can cite.

Rule ids (R-33-3 …) are mamori's handles, not article numbers: R-33-3 is 第33条第5項, R-27-2 is 第27条第5項. So
customer texts cite the article (「個人情報の保護に関する法律第33条第5項」) and never the id; staff texts show both
(「法第33条第5項（R-33-3）」). The article is read from the rule's ``source`` (``ACT 33(5); 政令11``): ACT is the
Act on the Protection of Personal Information, 政令 its Enforcement Order, 規則 the PPC's Enforcement Rules, GL-T /
GL-R the PPC guidelines (通則編 / 確認記録義務編), GDPR the Regulation (EU) 2016/679.
"""

from __future__ import annotations

import re

from mamori.law.rules import BY_ID, Rule

LAW_JA = "個人情報の保護に関する法律"
LAW_EN = "Act on the Protection of Personal Information"

_ITEM = re.compile(r"^(\d+)((?:\(\d+\)(?:-\(\d+\))?,?)*)\s*(proviso)?$")
_PARA = re.compile(r"\((\d+)\)(?:-\((\d+)\))?")


def _paras_ja(paras: str) -> str:
    out = []
    for first, last in _PARA.findall(paras):
        out.append(f"第{first}項" + (f"〜第{last}項" if last else ""))
    if len(out) > 1 and not any("〜" in x for x in out):
        return "、".join(out[:-1]) + "及び" + out[-1]
    return "・".join(out)


def _item_ja(item: str) -> str:
    """``33(2)-(4)`` → 第33条第2項〜第4項; ``27(2) proviso`` → 第27条第2項ただし書; ``36`` → 第36条."""
    m = _ITEM.match(item.strip())
    if not m:
        return item.strip()
    number, paras, proviso = m.groups()
    return f"第{number}条{_paras_ja(paras or '')}" + ("ただし書" if proviso else "")


def _item_en(item: str) -> str:
    m = _ITEM.match(item.strip())
    if not m:
        return item.strip()
    number, paras, proviso = m.groups()
    return f"Art. {number}{(paras or '').replace(',', '')}" + (" proviso" if proviso else "")


def _items(text: str) -> list[str]:
    """``41(3),(4),(9), 42`` → ["41(3),(4),(9)", "42"]: a bare ``(n)`` belongs to the article before it."""
    out: list[str] = []
    for x in (p.strip() for p in text.split(",")):
        if x.startswith("(") and out:
            out[-1] += x
        elif x:
            out.append(x)
    return out


def _numbered(kind: str, body: str, lang: str) -> str:
    """政令5 / 規則7(1) / 規則15-16 → 施行令第5条 / 施行規則第7条第1項 / 施行規則第15条〜第16条."""
    name_ja = {"政令": "施行令", "規則": "施行規則"}[kind]
    name_en = {"政令": "Enforcement Order", "規則": "Enforcement Rules"}[kind]
    m = re.match(r"^(\d+)(?:-(\d+))?((?:\(\d+\))*)$", body.strip())
    if not m:
        return f"{name_ja}{body}" if lang != "en" else f"{name_en} {body}"
    first, last, paras = m.groups()
    if lang == "en":
        return f"{name_en} Art. {first}{'-' + last if last else ''}{paras}"
    return f"{name_ja}第{first}条" + (f"〜第{last}条" if last else "") + _paras_ja(paras)


def _part(part: str, lang: str) -> str | None:
    part = part.strip()
    if part.startswith("ACT "):
        items = _items(part[4:])
        if lang == "en":
            return ", ".join(_item_en(i) for i in items) + " of the Act"
        return "、".join(_item_ja(i) for i in items)
    if part.startswith("GDPR "):
        items = _items(part[5:])
        if lang == "en":
            return ", ".join(_item_en(i) for i in items) + " GDPR"
        return "GDPR" + "、".join(_item_ja(i) for i in items)
    for kind in ("政令", "規則"):
        if part.startswith(kind):
            return "、".join(_numbered(kind, b, lang) for b in _items(part[len(kind) :]))
    if part.startswith("特電法 "):  # issue 20: the 特定電子メール法 (TE-3, TE-4)
        items = _items(part[4:])
        if lang == "en":
            return ", ".join(_item_en(i) for i in items) + " of the Specified Electronic Mail Act"
        return "特定電子メール法" + "、".join(_item_ja(i) for i in items)
    if part.startswith("GL-T "):
        return f"通則ガイドライン {part[5:]}" if lang != "en" else f"PPC General Guidelines {part[5:]}"
    if part.startswith("GL-R "):
        return (
            f"確認記録義務ガイドライン {part[5:]}"
            if lang != "en"
            else f"PPC Record-keeping Guidelines {part[5:]}"
        )
    if part.startswith("PPC Q&A "):
        return f"個人情報保護委員会Q&A {part[8:]}" if lang != "en" else f"PPC Q&A {part[8:]}"
    if part.startswith("令和"):
        return part.split(" ", 1)[0]
    return None  # notes (FAQ, cross references) are not citations


def _rule(rule: Rule | str) -> Rule:
    return BY_ID[rule] if isinstance(rule, str) else rule


def article(rule: Rule | str, lang: str = "ja") -> str:
    """Every provision the rule implements: 「第33条第5項、施行令第11条」 / "Art. 33(5) of the Act, …"."""
    parts = [p for p in (_part(x, lang) for x in _rule(rule).source.split(";")) if p]
    return ("; " if lang == "en" else "、").join(parts)


def statute(rule: Rule | str, lang: str = "ja") -> str:
    """The citation a customer letter carries: the Act's article with the Act's name (「個人情報の保護に関する
    法律第33条第2項」), the GDPR article, or the guideline when no article of the Act is the source."""
    r = _rule(rule)
    first = next((p for p in (x.strip() for x in r.source.split(";")) if _part(p, lang)), "")
    text = _part(first, lang) or ""
    if first.startswith("ACT "):
        return f"{text.removesuffix(' of the Act')} of the {LAW_EN}" if lang == "en" else f"{LAW_JA}{text}"
    return text


def cite(rule: Rule | str, lang: str = "ja", *, staff: bool = False) -> str:
    """Customer text: the statute only. Staff text: 「法第33条第5項（R-33-3）」 — the article and the id."""
    r = _rule(rule)
    if not staff:
        return statute(r, lang)
    text = article(r, lang)
    if lang == "en":
        return f"{text} ({r.id})"
    return f"法{text}（{r.id}）" if text.startswith("第") else f"{text}（{r.id}）"


def title(rule: Rule | str, lang: str = "ja") -> str:
    r = _rule(rule)
    return r.title_en if lang == "en" else r.title_ja
