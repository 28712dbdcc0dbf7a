"""Grounds for refusing a request from the person, by regime, each with the article it rests on.

A ground belongs to one regime: an APPI request is refused only on the Act's grounds, a GDPR request only on the
Regulation's (a GDPR exception such as 12(5) "manifestly unfounded" cannot close an APPI request). Each ground says
which request kinds it can refuse, the rule id it enforces (staff texts), the article a letter cites (customer
texts: never the rule id), and the plain reason a person reads. Under the Act a business that refuses must say so
and should explain why (法第36条); mamori requires a concrete explanation from the person who refuses.

- Purpose notice (法第32条第2項): 1号 the purpose is already clear; 2号 = 法第21条第4項第1号〜第3号.
- Disclosure (法第33条第2項第1号〜第3号); provision records: the same grounds through 同条第5項.
- Correction (法第34条第2項): the content was not found to be untrue.
- Stop of use / erasure (法第35条第2項), stop of provision (同条第4項), the 2022 grounds (同条第6項): the request
  was not found to be justified, or — the ただし書 — stopping is too costly or difficult and an alternative measure
  that protects the person's rights is taken instead (代替措置, recorded and told to the person).
"""

from __future__ import annotations

from dataclasses import dataclass

from mamori.law.rules import (
    G_12,
    G_15,
    G_16,
    G_17,
    G_18,
    G_20,
    G_21,
    R_32_2,
    R_33_2,
    R_33_3,
    R_34_1,
    R_35_1,
    R_37_1,
)
from mamori.rights.schemas import KINDS

APPI_STOPPING = frozenset({"stop_use", "erasure", "stop_provision"})
_LAW = "個人情報の保護に関する法律"
_ACT = "the Act on the Protection of Personal Information"


@dataclass(frozen=True)
class Ground:
    code: str
    regime: str  # "appi" / "gdpr" / "both"
    kinds: frozenset[str]
    rule_id: str
    reason_ja: str  # what the person reads: the reason in plain Japanese
    reason_en: str
    article_ja: str  # what the letter cites
    article_en: str
    partial: bool = False  # may refuse part of a disclosure (categories), the rest being answered
    needs_alternative: bool = False  # 法第35条 ただし書: the alternative measure must be recorded and stated

    def applies_to(self, kind: str, regime: str) -> bool:
        return kind in self.kinds and self.regime in (regime, "both")

    def reason(self, lang: str = "ja") -> str:
        return self.reason_en if lang == "en" else self.reason_ja

    def article(self, lang: str = "ja", kind: str | None = None) -> str:
        """The citation; provision records are refused on 法第33条第2項 as applied by 同条第5項."""
        if kind == "provision_records" and self.rule_id == R_33_2.id:
            if lang == "en":
                return self.article_en.replace("Art. 33(2)", "Art. 33(2) as applied by Art. 33(5)")
            return self.article_ja.replace("第33条第2項", "第33条第5項において準用する同条第2項")
        return self.article_en if lang == "en" else self.article_ja

    def rule_ids(self, kind: str) -> tuple[str, ...]:
        if kind == "provision_records" and self.rule_id == R_33_2.id:
            return (R_33_2.id, R_33_3.id)
        return (self.rule_id,)


def _appi(art: str, en: str) -> tuple[str, str]:
    return f"{_LAW}{art}", f"{en} of {_ACT}"


def _stop_article(kind: str, proviso: bool) -> tuple[str, str]:
    para = 4 if kind == "stop_provision" else 2
    tail = "ただし書" if proviso else ""
    return _appi(f"第35条第{para}項{tail}", f"Art. 35({para}){' proviso' if proviso else ''}")


_G: list[Ground] = [
    # -- 法第32条第2項: the notice of the purposes of use
    Ground(
        "purpose_obvious",
        "appi",
        frozenset({"purpose_notice"}),
        R_32_2.id,
        "ご本人を識別する保有個人データの利用目的が、既に明らかであるため。",
        "The purposes of use of your retained personal data are already clear to you.",
        *_appi("第32条第2項第1号", "Art. 32(2)(i)"),
    ),
    Ground(
        "purpose_harm_person",
        "appi",
        frozenset({"purpose_notice"}),
        R_32_2.id,
        "利用目的を通知することにより、ご本人又は第三者の生命、身体、財産その他の権利利益を害するおそれがあるため。",
        "Notifying the purposes could harm the life, body, property or other rights of you or a third party.",
        *_appi("第32条第2項第2号（第21条第4項第1号）", "Art. 32(2)(ii) with Art. 21(4)(i)"),
    ),
    Ground(
        "purpose_harm_business",
        "appi",
        frozenset({"purpose_notice"}),
        R_32_2.id,
        "利用目的を通知することにより、当社の権利又は正当な利益を害するおそれがあるため。",
        "Notifying the purposes could harm our rights or legitimate interests.",
        *_appi("第32条第2項第2号（第21条第4項第2号）", "Art. 32(2)(ii) with Art. 21(4)(ii)"),
    ),
    Ground(
        "purpose_state_affairs",
        "appi",
        frozenset({"purpose_notice"}),
        R_32_2.id,
        "国の機関又は地方公共団体が法令の定める事務を遂行することに協力する必要があり、"
        "利用目的を通知することによりその事務の遂行に支障を及ぼすおそれがあるため。",
        "We must cooperate with a public body performing duties under law, and notifying the purposes could "
        "impede those duties.",
        *_appi("第32条第2項第2号（第21条第4項第3号）", "Art. 32(2)(ii) with Art. 21(4)(iii)"),
    ),
    # -- 法第33条第2項: disclosure (and, through 同条第5項, provision records)
    Ground(
        "harm_to_person",
        "appi",
        frozenset({"disclosure", "provision_records"}),
        R_33_2.id,
        "開示することにより、ご本人又は第三者の生命、身体、財産その他の権利利益を害するおそれがあるため。",
        "Disclosure could harm the life, body, property or other rights of you or a third party.",
        *_appi("第33条第2項第1号", "Art. 33(2)(i)"),
        partial=True,
    ),
    Ground(
        "business_hindrance",
        "appi",
        frozenset({"disclosure", "provision_records"}),
        R_33_2.id,
        "開示することにより、当社の業務の適正な実施に著しい支障を及ぼすおそれがあるため。",
        "Disclosure could seriously hinder the proper conduct of our business.",
        *_appi("第33条第2項第2号", "Art. 33(2)(ii)"),
        partial=True,
    ),
    Ground(
        "other_law",
        "appi",
        frozenset({"disclosure", "provision_records"}),
        R_33_2.id,
        "開示することが他の法令に違反することとなるため。",
        "Disclosure would breach another law.",
        *_appi("第33条第2項第3号", "Art. 33(2)(iii)"),
        partial=True,
    ),
    # -- 法第34条第2項: correction
    Ground(
        "not_untrue",
        "appi",
        frozenset({"correction"}),
        R_34_1.id,
        "調査の結果、当社が保有する内容が事実でないとは認められなかったため。",
        "Our investigation did not find the data we hold to be untrue.",
        *_appi("第34条第2項", "Art. 34(2)"),
    ),
    # -- 法第35条: stop of use, erasure, stop of provision
    Ground(
        "not_justified",
        "appi",
        APPI_STOPPING,
        R_35_1.id,
        "調査の結果、ご請求に理由があることが判明しなかったため（法令に違反する取扱い等は認められませんでした）。",
        "Our investigation did not find the request to be justified (no unlawful handling was found).",
        *_stop_article("stop_use", False),
    ),
    Ground(
        "alternative_measure",
        "appi",
        APPI_STOPPING,
        R_35_1.id,
        "ご請求どおりに対応することには多額の費用を要する等、困難であるため、"
        "ご本人の権利利益を保護するために必要な代わりの措置をとります。",
        "Doing what you asked would be very costly or otherwise difficult, so we take another measure that "
        "protects your rights instead.",
        *_stop_article("stop_use", True),
        needs_alternative=True,
    ),
    # -- GDPR
    Ground(
        "gdpr_rights_of_others",
        "gdpr",
        frozenset({"disclosure", "provision_records", "purpose_notice", "portability"}),
        G_15.id,
        "写しをお渡しすることが、他の方の権利及び自由を害するため。",
        "A copy would adversely affect the rights and freedoms of others.",
        "GDPR第15条第4項、第20条第4項",
        "Art. 15(4) and 20(4) GDPR",
        partial=True,
    ),
    Ground(
        "gdpr_not_inaccurate",
        "gdpr",
        frozenset({"correction"}),
        G_16.id,
        "確認の結果、当社が保有するデータは正確であり、不完全でもなかったため。",
        "We checked the data and found it accurate and complete.",
        "GDPR第16条",
        "Art. 16 GDPR",
    ),
    Ground(
        "gdpr_no_erasure_ground",
        "gdpr",
        frozenset({"erasure"}),
        G_17.id,
        "GDPR第17条第1項に定める消去の事由のいずれにも当たらないため。",
        "None of the grounds for erasure in Art. 17(1) GDPR applies.",
        "GDPR第17条第1項",
        "Art. 17(1) GDPR",
    ),
    Ground(
        "gdpr_expression",
        "gdpr",
        frozenset({"erasure"}),
        G_17.id,
        "表現及び情報の自由の権利を行使するために処理が必要であるため。",
        "The processing is necessary for exercising the right of freedom of expression and information.",
        "GDPR第17条第3項(a)",
        "Art. 17(3)(a) GDPR",
    ),
    Ground(
        "gdpr_legal_obligation",
        "gdpr",
        frozenset({"erasure"}),
        G_17.id,
        "法令上の義務を履行するために処理が必要であるため。",
        "The processing is necessary for compliance with a legal obligation.",
        "GDPR第17条第3項(b)",
        "Art. 17(3)(b) GDPR",
    ),
    Ground(
        "gdpr_public_health",
        "gdpr",
        frozenset({"erasure"}),
        G_17.id,
        "公衆衛生の分野における公共の利益のために処理が必要であるため。",
        "The processing is necessary for reasons of public interest in the area of public health.",
        "GDPR第17条第3項(c)",
        "Art. 17(3)(c) GDPR",
    ),
    Ground(
        "gdpr_archiving",
        "gdpr",
        frozenset({"erasure"}),
        G_17.id,
        "公共の利益のための保管、科学的・歴史的研究又は統計の目的のために処理が必要であるため。",
        "The processing is necessary for archiving in the public interest, research or statistics.",
        "GDPR第17条第3項(d)",
        "Art. 17(3)(d) GDPR",
    ),
    Ground(
        "gdpr_legal_claims",
        "gdpr",
        frozenset({"erasure"}),
        G_17.id,
        "法的請求の立証、行使又は防御のために処理が必要であるため。",
        "The processing is necessary for the establishment, exercise or defence of legal claims.",
        "GDPR第17条第3項(e)",
        "Art. 17(3)(e) GDPR",
    ),
    Ground(
        "gdpr_no_restriction_ground",
        "gdpr",
        frozenset({"restriction", "stop_use"}),
        G_18.id,
        "GDPR第18条第1項に定める処理の制限の事由のいずれにも当たらないため。",
        "None of the grounds for restriction in Art. 18(1) GDPR applies.",
        "GDPR第18条第1項",
        "Art. 18(1) GDPR",
    ),
    Ground(
        "gdpr_compelling_grounds",
        "gdpr",
        frozenset({"objection", "stop_provision"}),
        G_21.id,
        "ご本人の利益、権利及び自由に優先するやむを得ない正当な根拠があるため、又は法的請求の立証、行使若しくは"
        "防御のために処理が必要であるため（ダイレクトマーケティングへの異議には適用されません）。",
        "We have compelling legitimate grounds that override your interests, rights and freedoms, or the "
        "processing is needed for legal claims (never for an objection to direct marketing).",
        "GDPR第21条第1項",
        "Art. 21(1) GDPR",
    ),
    Ground(
        "gdpr_not_portable",
        "gdpr",
        frozenset({"portability"}),
        G_20.id,
        "同意又は契約に基づき自動化された手段で処理しているデータではないため。",
        "The data is not processed by automated means on the basis of consent or a contract.",
        "GDPR第20条第1項",
        "Art. 20(1) GDPR",
    ),
    Ground(
        "gdpr_manifestly_unfounded",
        "gdpr",
        frozenset(KINDS),
        G_12.id,
        "ご請求が明らかに根拠を欠くもの又は過剰なもの（特に反復的なもの）であるため。",
        "The request is manifestly unfounded or excessive, in particular because of its repetitive character.",
        "GDPR第12条第5項",
        "Art. 12(5) GDPR",
    ),
    # -- both regimes: the person could not be identified (法第37条; GDPR 12(2), 12(6))
    Ground(
        "identity_not_verified",
        "both",
        frozenset(KINDS),
        R_37_1.id,
        "ご請求がご本人（又はその代理人）からのものであることを確認できなかったため。",
        "We could not confirm that the request comes from you (or your representative).",
        *_appi("第37条第1項、施行令第12条", "Art. 37(1)"),
    ),
]

GROUNDS: dict[str, Ground] = {g.code: g for g in _G}
PARTIAL_GROUNDS = frozenset(g.code for g in _G if g.partial)
MIN_EXPLANATION = 10  # characters: 「業務上の理由」 alone is not a concrete reason (法第36条)


def for_request(kind: str, regime: str) -> list[Ground]:
    return [g for g in _G if g.applies_to(kind, regime)]


def citation(ground: Ground, kind: str, regime: str, lang: str = "ja", *, staff: bool = False) -> str:
    """The article a letter cites for ``ground`` on a ``kind`` request under ``regime``; for staff, the Act's
    name shortened to 「法」 and the rule id after it (「法第35条第2項（R-35-1）」)."""
    text = _citation(ground, kind, regime, lang)
    if not staff:
        return text
    short = text.replace(_LAW, "法").replace(f" of {_ACT}", "")
    return f"{short} ({ground.rule_id})" if lang == "en" else f"{short}（{ground.rule_id}）"


def _citation(ground: Ground, kind: str, regime: str, lang: str) -> str:
    if ground.code == "identity_not_verified" and regime == "gdpr":
        return "Art. 12(2) and 12(6) GDPR" if lang == "en" else "GDPR第12条第2項及び第6項"
    if ground.rule_id == R_35_1.id:
        en, ja = _stop_article(kind, ground.needs_alternative)[::-1]
        return en if lang == "en" else ja
    return ground.article(lang, kind)
