"""Rule ids from shared/APPI-RULES.md as constants, each with effective dates and its source.

When the law changes (令和8年改正 is promulgated, not yet in force), the data here changes, not the code that
names the rule.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from mamori.kernel.errors import ConfigurationError


@dataclass(frozen=True)
class Rule:
    id: str
    title_ja: str
    title_en: str
    source: str
    effective_from: date
    effective_to: date | None = None
    source_version: str = "APPI-RULES 2026-11-23"

    def in_force(self, on: date) -> bool:
        return self.effective_from <= on and (self.effective_to is None or on < self.effective_to)


_RENUMBERED = date(2022, 4, 1)  # 令和3年改正: articles renumbered, 2020 amendment in force

R_17_1 = Rule("R-17-1", "利用目的の特定", "Purpose of use specified", "ACT 17(1); GL-T 3-1-1", _RENUMBERED)
R_17_2 = Rule(
    "R-17-2", "利用目的の変更の制限", "Limits on changing a purpose", "ACT 17(2), 21(3)", _RENUMBERED
)
R_18_1 = Rule(
    "R-18-1", "目的外利用の禁止", "No use beyond the purpose without consent", "ACT 18(1),(3)", _RENUMBERED
)
R_20_1 = Rule("R-20-1", "適正取得", "No acquisition by wrongful means", "ACT 20(1)", _RENUMBERED)
R_20_2 = Rule(
    "R-20-2",
    "要配慮個人情報の取得制限",
    "Consent to acquire special care-required data",
    "ACT 20(2)",
    _RENUMBERED,
)
R_21_1 = Rule(
    "R-21-1",
    "取得時の利用目的の通知・公表",
    "Notify or publish the purpose on acquisition",
    "ACT 21(1)",
    _RENUMBERED,
)
R_21_2 = Rule(
    "R-21-2",
    "直接書面取得時の利用目的の明示",
    "State the purpose before direct written collection",
    "ACT 21(2)",
    _RENUMBERED,
)
R_22_1 = Rule(
    "R-22-1", "データ内容の正確性の確保", "Accuracy; erase when no longer needed", "ACT 22", _RENUMBERED
)
R_23_2 = Rule(
    "R-23-2",
    "組織的安全管理措置（取扱いの記録）",
    "Organisational measures: handling logs",
    "GL-T 10-3",
    _RENUMBERED,
)
R_23_3 = Rule(
    "R-23-3",
    "人的安全管理措置（従業者の教育・誓約）",
    "Human measures: staff training and confidentiality pledges",
    "GL-T 10-4; ACT 24",
    _RENUMBERED,
)
R_23_5 = Rule(
    "R-23-5", "技術的安全管理措置", "Technical measures: access control, encryption", "GL-T 10-6", _RENUMBERED
)
R_2_3_1 = Rule(
    "R-2.3-1", "要配慮個人情報", "Special care-required personal information", "ACT 2(3); 政令2", _RENUMBERED
)
R_35_1 = Rule("R-35-1", "利用停止等", "Suspension of use or erasure", "ACT 35", _RENUMBERED)
R_CNS_1 = Rule("R-CNS-1", "有効な同意", "Valid consent", "GL-T 2-16", _RENUMBERED)
G_6 = Rule("G-6", "GDPR 適法性の根拠", "GDPR lawful basis", "GDPR 6, 9, 10", date(2018, 5, 25))
G_7 = Rule("G-7", "GDPR 同意の条件", "GDPR conditions for consent", "GDPR 7, 8", date(2018, 5, 25))
# Issue 20: the Act on Regulation of Transmission of Specified Electronic Mail (特定電子メールの送信の適正化等に関する
# 法律, 平成14年法律第26号), opt-in since its 2008 amendment (in force 2008-12-01). Not in APPI-RULES.md: a second
# statute the contact slice applies to advertising e-mail and SMS. TE-3: no advertising mail without the
# recipient's prior consent, and none after they refuse it (Art. 3(1), (3)); TE-4: every message names the sender,
# its address and how to refuse further mail (Art. 4; 施行規則).
_TE_OPT_IN = date(2008, 12, 1)
TE_3 = Rule(
    "TE-3",
    "特定電子メールの送信の制限（オプトイン）",
    "Advertising e-mail only with prior consent (opt-in)",
    "特電法 3(1),(3)",
    _TE_OPT_IN,
    source_version="特定電子メール法 (平成20年改正)",
)
TE_4 = Rule(
    "TE-4",
    "特定電子メールの表示義務",
    "What every advertising e-mail must show",
    "特電法 4",
    _TE_OPT_IN,
    source_version="特定電子メール法 (平成20年改正)",
)
# Provision, outsourcees, cross-border (Art. 25, 27-31) and requests from the person (Art. 16(4), 32-39)
R_16_4 = Rule(
    "R-16-4",
    "保有個人データから除外されるもの（政令5）",
    "Records excluded from retained personal data",
    "ACT 16(4); 政令5",
    _RENUMBERED,
)
R_25_1 = Rule("R-25-1", "委託先の監督", "Supervision of outsourcees", "ACT 25; GL-T 3-4-4", _RENUMBERED)
# Leak incidents (Art. 26; issue 22)
R_26_1 = Rule(
    "R-26-1",
    "漏えい等の報告（報告対象事態）",
    "Report a leak to the PPC (the reportable events)",
    "ACT 26(1); 規則7",
    _RENUMBERED,
)
R_26_2 = Rule("R-26-2", "速報", "Preliminary report (about 3-5 days)", "規則8(1); GL-T 3-5-3-3", _RENUMBERED)
R_26_3 = Rule("R-26-3", "確報", "Final report (30 / 60 days)", "規則8(2); GL-T 3-5-3-4", _RENUMBERED)
R_26_4 = Rule("R-26-4", "報告事項（9項目）", "The nine report items", "規則8(1)", _RENUMBERED)
R_26_5 = Rule(
    "R-26-5",
    "委託元への通知",
    "Notice from the outsourcee to the entrustor",
    "ACT 26(1) proviso; 規則9",
    _RENUMBERED,
)
R_26_6 = Rule("R-26-6", "本人への通知", "Notice to the persons", "ACT 26(2); 規則10", _RENUMBERED)
R_26_7 = Rule("R-26-7", "漏えい等への対応", "Responding to an incident", "GL-T 3-5-2", _RENUMBERED)
R_27_1 = Rule(
    "R-27-1",
    "第三者提供の制限（本人の同意）",
    "Consent before provision to a third party",
    "ACT 27(1)",
    _RENUMBERED,
)
R_27_2 = Rule(
    "R-27-2",
    "第三者に該当しない場合（委託・事業承継・共同利用）",
    "Entrustment, succession and joint use are not third parties",
    "ACT 27(5)",
    _RENUMBERED,
)
R_27_3 = Rule("R-27-3", "共同利用の変更", "Changes to joint use", "ACT 27(6)", _RENUMBERED)
R_27_4 = Rule(
    "R-27-4", "オプトアウトによる第三者提供", "Opt-out provision", "ACT 27(2),(4); 規則11", _RENUMBERED
)
R_27_5 = Rule(
    "R-27-5",
    "オプトアウト提供の禁止対象",
    "Data that may never be provided by opt-out",
    "ACT 27(2) proviso",
    _RENUMBERED,
)
R_27_6 = Rule("R-27-6", "オプトアウト事項の変更", "Changes to opt-out items", "ACT 27(3)", _RENUMBERED)
R_28_1 = Rule(
    "R-28-1",
    "外国にある第三者への提供の制限",
    "Provision to a third party abroad",
    "ACT 28(1); 規則15-16",
    _RENUMBERED,
)
R_28_2 = Rule(
    "R-28-2",
    "外国提供同意取得時の情報提供",
    "Information before consent to foreign provision",
    "ACT 28(2); 規則17",
    _RENUMBERED,
)
R_28_3 = Rule(
    "R-28-3",
    "基準適合体制の確認",
    "Checks of a recipient's equivalent-measures system",
    "ACT 28(3); 規則18",
    _RENUMBERED,
)
R_29_1 = Rule(
    "R-29-1", "提供記録の作成", "Provider-side record of each provision", "ACT 29(1); 規則19", _RENUMBERED
)
R_29_2 = Rule("R-29-2", "提供記録の記録事項", "Provider-side record fields", "規則20", _RENUMBERED)
R_29_3 = Rule(
    "R-29-3",
    "記録義務の適用除外",
    "Provisions that need no record",
    "ACT 29(1) proviso; GL-R 2-1, 2-2",
    _RENUMBERED,
)
R_29_4 = Rule(
    "R-29-4",
    "確認記録の保存期間",
    "Retention of provision and receipt records",
    "ACT 29(2), 30(4); 規則21, 25",
    _RENUMBERED,
)
R_30_1 = Rule(
    "R-30-1", "第三者提供を受ける際の確認", "Confirmation on receipt", "ACT 30(1)-(2); 規則22", _RENUMBERED
)
R_30_2 = Rule("R-30-2", "受領記録の記録事項", "Recipient-side record fields", "規則23-24", _RENUMBERED)
R_31_1 = Rule(
    "R-31-1",
    "個人関連情報の第三者提供の確認",
    "Confirmation before providing personally referable information",
    "ACT 31(1)",
    _RENUMBERED,
)
R_31_2 = Rule(
    "R-31-2",
    "個人関連情報に係る本人同意の取得・確認方法",
    "How the recipient's consent is obtained and confirmed",
    "GL-T 3-7-2, 3-7-3; 規則26",
    _RENUMBERED,
)
R_31_3 = Rule(
    "R-31-3",
    "個人関連情報の提供記録",
    "Records of providing personally referable information",
    "ACT 31(3); 規則28",
    _RENUMBERED,
)
R_32_1 = Rule(
    "R-32-1",
    "保有個人データに関する事項の公表等",
    "Publishing the matters on retained personal data",
    "ACT 32(1); 政令10; GL-T 3-8-1",
    _RENUMBERED,
)
R_32_2 = Rule(
    "R-32-2", "利用目的の通知の求め", "Notifying the purposes on request", "ACT 32(2)-(3)", _RENUMBERED
)
R_33_1 = Rule("R-33-1", "開示", "Disclosure", "ACT 33(1)-(3); 規則30", _RENUMBERED)
R_33_2 = Rule("R-33-2", "開示の拒否事由", "Grounds to refuse disclosure", "ACT 33(2)-(4), 36", _RENUMBERED)
R_33_3 = Rule(
    "R-33-3",
    "第三者提供記録の開示",
    "Disclosure of third-party provision records",
    "ACT 33(5); 政令11",
    _RENUMBERED,
)
R_34_1 = Rule("R-34-1", "訂正等", "Correction, addition or deletion", "ACT 34", _RENUMBERED)
R_37_1 = Rule(
    "R-37-1",
    "開示等の請求に応じる手続",
    "Request procedure, identity and agents",
    "ACT 37; 政令12-13",
    _RENUMBERED,
)
R_38_1 = Rule("R-38-1", "手数料", "Fees", "ACT 38", _RENUMBERED)
R_39_1 = Rule("R-39-1", "請求への対応時期", "Timing of answers", "ACT 39; GL-T 3-8", _RENUMBERED)
G_12 = Rule(
    "G-12",
    "GDPR 請求への対応期限",
    "GDPR answering requests (1 month + 2)",
    "GDPR 12(3)-(6)",
    date(2018, 5, 25),
)
G_15 = Rule("G-15", "GDPR アクセス権", "GDPR right of access", "GDPR 15", date(2018, 5, 25))
G_16 = Rule("G-16", "GDPR 訂正権", "GDPR right to rectification", "GDPR 16", date(2018, 5, 25))
G_17 = Rule("G-17", "GDPR 消去権", "GDPR right to erasure", "GDPR 17", date(2018, 5, 25))
G_18 = Rule("G-18", "GDPR 処理制限権", "GDPR right to restriction", "GDPR 18", date(2018, 5, 25))
G_33 = Rule(
    "G-33",
    "GDPR 監督機関への通知（72時間）",
    "GDPR notification to the authority (72 h)",
    "GDPR 33",
    date(2018, 5, 25),
)
G_34 = Rule(
    "G-34", "GDPR データ主体への通知", "GDPR communication to the data subject", "GDPR 34", date(2018, 5, 25)
)
G_19 = Rule("G-19", "GDPR 受領者への通知", "GDPR notifying recipients", "GDPR 19", date(2018, 5, 25))
G_20 = Rule("G-20", "GDPR データポータビリティ", "GDPR data portability", "GDPR 20", date(2018, 5, 25))
G_21 = Rule("G-21", "GDPR 異議申立権", "GDPR right to object", "GDPR 21", date(2018, 5, 25))
# 仮名加工情報 / 匿名加工情報 (Art. 41-46), enforced by deid
R_41_1 = Rule(
    "R-41-1", "仮名加工情報の作成基準", "Pseudonymisation standards", "ACT 41(1); 規則31", _RENUMBERED
)
R_41_2 = Rule(
    "R-41-2",
    "削除情報等の安全管理",
    "Security of the removed information and keys",
    "ACT 41(2); 規則32",
    _RENUMBERED,
)
R_41_3 = Rule(
    "R-41-3", "仮名加工情報の利用目的", "Purposes of pseudonymised data", "ACT 41(3),(4),(9)", _RENUMBERED
)
R_41_4 = Rule(
    "R-41-4",
    "仮名加工情報の第三者提供の禁止",
    "No third-party provision of pseudonymised data",
    "ACT 41(6), 42",
    _RENUMBERED,
)
R_41_5 = Rule(
    "R-41-5",
    "識別行為・連絡の禁止",
    "No re-identification, no contacting",
    "ACT 41(7)-(8); 規則33",
    _RENUMBERED,
)
R_41_6 = Rule(
    "R-41-6",
    "仮名加工情報等の消去",
    "Erase pseudonymised data and keys when no longer needed",
    "ACT 41(5),(9)",
    _RENUMBERED,
)
R_43_1 = Rule("R-43-1", "匿名加工情報の作成基準", "Anonymisation standards", "ACT 43(1); 規則34", _RENUMBERED)
R_43_2 = Rule(
    "R-43-2",
    "加工方法等情報の安全管理",
    "Security of processing-method information",
    "ACT 43(2); 規則35",
    _RENUMBERED,
)
R_43_3 = Rule(
    "R-43-3",
    "匿名加工情報の項目の公表",
    "Publish the items of anonymised data",
    "ACT 43(3); 規則36",
    _RENUMBERED,
)
R_43_4 = Rule(
    "R-43-4",
    "匿名加工情報である旨の明示",
    "State that provided data is anonymised",
    "ACT 43(4), 44; 規則37-38",
    _RENUMBERED,
)
R_43_5 = Rule(
    "R-43-5",
    "識別行為の禁止（匿名加工情報）",
    "No re-identification of anonymised data",
    "ACT 43(5), 45",
    _RENUMBERED,
)
# 令和8年改正 (R-R8-*): promulgated 2026-07-17; main provisions in force by Cabinet Order, no later than 2028-07-16.
# Effective dates are not set until the Order is known, so no R8 behaviour is enabled (R-R8-3).
R_R8_3 = Rule(
    "R-R8-3",
    "令和8年改正（未施行）",
    "2026 amendment (not yet in force)",
    "令和8年法律第56号",
    date(2028, 7, 16),
)
# R8 main provisions: in force on the date a Cabinet Order (施行期日政令) sets, no later than 2028-07-16 — the
# statutory latest date is used until the Order is known. The Order may set an earlier date: change R8_MAIN here,
# or set it without a code change with MAMORI_RULE_DATES="R-R8-4=<date>" (see effective_rule below; ADR 0009).
R8_MAIN = date(2028, 7, 16)
R8_SOURCE = "令和8年法律第56号 (promulgated 2026-07-17); APPI-RULES 2026-11-23 §12"
R_R8_4 = Rule(
    "R-R8-4",
    "16歳未満の者の個人情報（法定代理人の同意）",
    "Children under 16: consent from a legal guardian (法定代理人)",
    "令和8年法律第56号; APPI-RULES R-R8-2 (children's data)",
    R8_MAIN,
    source_version=R8_SOURCE,
)

# Records of processing and of where data is stored (issue 13: the inventory slice)
R_23_7 = Rule(
    "R-23-7",
    "外的環境の把握",
    "Understanding the foreign environment where data is handled",
    "GL-T 10-7, 3-8-1; FAQ",
    _RENUMBERED,
)
R_28_4 = Rule(
    "R-28-4",
    "クラウドサービスの利用（提供に当たるか）",
    "Cloud services: provision only when the provider handles the data",
    "PPC Q&A 7-53, 12-3; FAQ",
    _RENUMBERED,
)
G_30 = Rule(
    "G-30", "GDPR 処理活動の記録", "GDPR record of processing activities", "GDPR 30", date(2018, 5, 25)
)
# Business succession (事業承継): the predecessor's purposes bound the data (issue 13, receipt path)
R_18_2 = Rule(
    "R-18-2",
    "事業承継に伴う取得（承継前の利用目的の範囲内）",
    "Data acquired by succession: only within the purposes that applied before",
    "ACT 18(2); GL-T 3-1-4",
    _RENUMBERED,
)
# Notice exceptions (ACT 21(4)): the purpose-notice duties do not apply on one of four grounds (issue 13, P4)
R_21_3 = Rule(
    "R-21-3",
    "利用目的の通知等の適用除外",
    "Exceptions to the purpose-notice duties",
    "ACT 21(4); GL-T 3-3-5",
    _RENUMBERED,
)
R_2_3_2 = Rule(
    "R-2.3-2",
    "要配慮個人情報のオプトアウト提供の禁止",
    "Special care-required data never provided by opt-out",
    "ACT 27(2) proviso; 規則7(1)",
    _RENUMBERED,
)

ALL_RULES: tuple[Rule, ...] = (
    R_41_1,
    R_41_2,
    R_41_3,
    R_41_4,
    R_41_5,
    R_41_6,
    R_43_1,
    R_43_2,
    R_43_3,
    R_43_4,
    R_43_5,
    R_17_1,
    R_17_2,
    R_18_1,
    R_20_1,
    R_20_2,
    R_21_1,
    R_21_2,
    R_22_1,
    R_23_2,
    R_23_3,
    R_23_5,
    R_2_3_1,
    R_2_3_2,
    R_35_1,
    R_CNS_1,
    G_6,
    G_7,
    TE_3,
    TE_4,
    R_R8_3,
    R_R8_4,
    R_16_4,
    R_25_1,
    R_26_1,
    R_26_2,
    R_26_3,
    R_26_4,
    R_26_5,
    R_26_6,
    R_26_7,
    R_27_1,
    R_27_2,
    R_27_3,
    R_27_4,
    R_27_5,
    R_27_6,
    R_28_1,
    R_28_2,
    R_28_3,
    R_29_1,
    R_29_2,
    R_29_3,
    R_29_4,
    R_30_1,
    R_30_2,
    R_31_1,
    R_31_2,
    R_31_3,
    R_32_1,
    R_32_2,
    R_33_1,
    R_33_2,
    R_33_3,
    R_34_1,
    R_37_1,
    R_38_1,
    R_39_1,
    G_12,
    G_15,
    G_16,
    G_17,
    G_18,
    G_19,
    G_20,
    G_21,
    R_23_7,
    R_28_4,
    G_30,
    G_33,
    G_34,
    R_18_2,
    R_21_3,
)
BY_ID: dict[str, Rule] = {r.id: r for r in ALL_RULES}


def rule(rule_id: str) -> Rule:
    return BY_ID[rule_id]


# --- the rule book at decision time (ADR 0009) ------------------------------------------------------------------


class UnknownRule(LookupError):
    """A rule id that is not in ALL_RULES: a programming error, never treated as "not in force" (fail closed)."""


def _parse_date(value: str, where: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ConfigurationError(
            f"MAMORI_RULE_DATES の日付が不正です: {where}",
            f"MAMORI_RULE_DATES holds a malformed date: {where}",
            code="bad_rule_dates",
        ) from None


def parse_rule_dates(spec: str | None) -> dict[str, tuple[date, date | None]]:
    """``"R-R8-4=2028-04-01, R-X-1=2022-04-01..2030-01-01"`` → {rule id: (effective_from, effective_to)}.

    Each item is ``<rule id>=<from>`` or ``<rule id>=<from>..<to>`` (ISO dates, JST calendar days; ``to`` is the
    first day the rule no longer applies). Items are separated by commas or semicolons. An unknown rule id or a
    malformed item is a ConfigurationError: a typo must not silently leave a rule at its default date.
    """
    out: dict[str, tuple[date, date | None]] = {}
    for raw in (spec or "").replace(";", ",").split(","):
        item = raw.strip()
        if not item:
            continue
        rule_id, sep, dates = item.partition("=")
        rule_id = rule_id.strip()
        if not sep or rule_id not in BY_ID:
            raise ConfigurationError(
                f"MAMORI_RULE_DATES の項目が不正です（規則IDが不明）: {rule_id or item}",
                f"MAMORI_RULE_DATES: unknown rule id or malformed item: {rule_id or item}",
                code="bad_rule_dates",
            )
        start, dots, end = dates.partition("..")
        begin = _parse_date(start, item)
        until = _parse_date(end, item) if dots and end.strip() else None
        if until is not None and until <= begin:
            raise ConfigurationError(
                f"MAMORI_RULE_DATES の期間が不正です: {item}",
                f"MAMORI_RULE_DATES: the end must come after the start: {item}",
                code="bad_rule_dates",
            )
        out[rule_id] = (begin, until)
    return out


_OVERRIDDEN: dict[str | None, dict[str, Rule]] = {}


def _overrides() -> dict[str, Rule]:
    from mamori.kernel.settings import get_settings

    spec = get_settings().rule_dates
    cached = _OVERRIDDEN.get(spec)
    if cached is None:
        cached = {
            rule_id: replace(BY_ID[rule_id], effective_from=begin, effective_to=until)
            for rule_id, (begin, until) in parse_rule_dates(spec).items()
        }
        _OVERRIDDEN.clear()
        _OVERRIDDEN[spec] = cached
    return cached


def effective_rule(rule_id: str) -> Rule:
    """The rule with the dates that apply in this deployment: the dates in this module, or the operator's
    ``MAMORI_RULE_DATES`` override (e.g. the Cabinet Order's 施行日 for R-R8-4 once it is known)."""
    if rule_id not in BY_ID:
        raise UnknownRule(rule_id)
    return _overrides().get(rule_id) or BY_ID[rule_id]


def in_force(rule_id: str, on: date) -> bool:
    """Whether ``rule_id`` applies on the (JST) calendar day ``on``. An unknown id raises UnknownRule.

    Registered with the kernel's rule book (mamori.kernel.rulebook) by mamori.composition, so the policy engine
    and the services skip a check whose rule is not yet (or no longer) in force.
    """
    return effective_rule(rule_id).in_force(on)
