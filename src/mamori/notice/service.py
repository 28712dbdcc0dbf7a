"""The published notice (公表事項, R-32-1): built from the registries and the company settings, never written by
hand, and kept version by version.

- :func:`draft` builds what would be published now: the operator's name, address and representative; every
  purpose in force with its wording and whether it involves provision to third parties; joint use with its five
  items (R-27-2 (c)); the request procedures and the fee (R-37-1, R-38-1); the security measures (政令10) with the
  foreign countries where data is handled (R-23-7); the contact point and the accredited body. Unset settings are
  shown as a clear placeholder and listed, so the staff page can warn.
- :func:`publish` stores the draft as a new version only when it differs from the version in force (else the
  answer says "unchanged"). Approving the wording stays human: the privacy officer sees the draft, with what
  changed against the published version section by section, before publishing.
- :func:`current`, :func:`get`, :func:`history` read the published versions (public: no authorisation; the
  content holds no customer's data). :class:`Versions` answers the kernel's ``NoticeVersions`` (R-21-2).
"""

from __future__ import annotations

import difflib
import hashlib
import itertools
import json
from pathlib import Path

from mamori.inventory import service as inventory_service
from mamori.kernel import labels
from mamori.kernel.auditing import authorise, record_write
from mamori.kernel.context import Context
from mamori.kernel.errors import ConfigurationError, Conflict, NotFound
from mamori.kernel.notice import NoticeVersion
from mamori.kernel.policy import Action, Resource
from mamori.law import requests as deadlines
from mamori.law.rules import R_32_1
from mamori.notice import queries
from mamori.notice.models import PublishedNotice
from mamori.notice.schemas import (
    Draft,
    Entry,
    Fact,
    Link,
    NoticeContent,
    NoticeVersionRead,
    Placeholder,
    PublishedNoticeRead,
    PublishResult,
    Section,
    SectionChange,
    Words,
)
from mamori.purposes import service as purposes_service
from mamori.rights.schemas import FEE_ALLOWED, GDPR_ONLY, KINDS

RULE = R_32_1.id  # keep the notice knowable to the person (ACT 32(1); 政令10)
MAX_SECURITY_FILE_CHARS = 20_000
MAX_VERSION = 2**31 - 1  # an INTEGER column: a larger number names no version

# What an unset setting shows in the notice (the same words as the rights slice's letters).
PLACEHOLDER = {
    "operator_name": Words(ja="（事業者名未設定）", en="(operator name not set)"),
    "operator_address": Words(ja="（所在地未設定）", en="(address not set)"),
    "operator_representative": Words(ja="（代表者未設定）", en="(representative not set)"),
    "privacy_contact": Words(ja="（お問い合わせ窓口未設定）", en="(privacy contact not set)"),
    "fee_payment": Words(ja="（手数料の支払方法未設定）", en="(how to pay the fee not set)"),
}
ENV = {
    "operator_name": "MAMORI_OPERATOR_NAME",
    "operator_address": "MAMORI_OPERATOR_ADDRESS",
    "operator_representative": "MAMORI_OPERATOR_REPRESENTATIVE",
    "privacy_contact": "MAMORI_PRIVACY_CONTACT",
    "fee_payment": "MAMORI_FEE_PAYMENT",
}


def _w(ja: str, en: str) -> Words:
    return Words(ja=ja, en=en)


def _same(text: str) -> Words:
    return Words(ja=text, en=text)


def _label(domain: str, code: str) -> Words:
    return Words(ja=labels.value(domain, code, "ja"), en=labels.value(domain, code, "en"))


def _joined(words: list[Words]) -> Words:
    if not words:
        return _w("—", "—")
    return Words(ja="、".join(w.ja for w in words), en=", ".join(w.en for w in words))


class _Settings:
    """The settings the notice reads; an unset one gives its placeholder and is listed."""

    def __init__(self, ctx: Context) -> None:
        self.values = ctx.runtime.settings
        self.placeholders: list[Placeholder] = []

    def get(self, name: str, section: str) -> Words:
        value = getattr(self.values, name)
        if value:
            return _same(str(value))
        self.placeholders.append(
            Placeholder(
                setting=ENV[name],
                section=section,
                message=_w(
                    f"{ENV[name]} が設定されていません。公表事項には「{PLACEHOLDER[name].ja}」と表示されます。",
                    f"{ENV[name]} is not set: the notice shows “{PLACEHOLDER[name].en}”.",
                ),
            )
        )
        return PLACEHOLDER[name]


# -- the sections -------------------------------------------------------------------------------------------------


def _operator(s: _Settings) -> Section:
    facts = [
        Fact(label=_w("名称", "Name"), value=s.get("operator_name", "operator")),
        Fact(label=_w("住所", "Address"), value=s.get("operator_address", "operator")),
        Fact(label=_w("代表者", "Representative"), value=s.get("operator_representative", "operator")),
    ]
    if s.values.eu_representative:  # GDPR Art. 27: only an operator without an EU establishment has one
        facts.append(
            Fact(
                label=_w("EU域内の代理人", "Representative in the EU"),
                value=_same(s.values.eu_representative),
            )
        )
    return Section(
        id="operator",
        title=_w("事業者の名称・住所・代表者", "Who we are"),
        intro=[
            _w(
                "個人情報を取り扱う事業者は次のとおりです。",
                "The business that handles your personal information:",
            )
        ],
        entries=[Entry(facts=facts)],
        basis=_w(
            "個人情報の保護に関する法律第32条第1項第1号",
            "Act on the Protection of Personal Information, Art. 32(1)(i)",
        ),
    )


def _purposes(ctx: Context) -> tuple[Section, dict[str, Words]]:
    """Every purpose in force (retired ones are left out) with its wording, and whether it involves provision to
    third parties (R-32-1 (2))."""
    entries = []
    titles: dict[str, Words] = {}
    for p in purposes_service.list_purposes(ctx, include_retired=False):
        titles[p.code] = _w(p.title_ja, p.title_en)
        provision = (
            _w(
                "この目的には第三者への提供が含まれます（ご本人の同意など法令が認める場合に限ります）。",
                "This purpose involves providing data to third parties (only where the law allows, such as with "
                "your consent).",
            )
            if p.third_party
            else _w(
                "この目的で第三者に提供することはありません。",
                "No provision to third parties for this purpose.",
            )
        )
        facts = [
            Fact(
                label=_w("取り扱う情報", "Information used"),
                value=_joined([_label("data_category", c.value) for c in p.categories]),
            ),
            Fact(label=_w("第三者への提供", "Provision to third parties"), value=provision),
        ]
        if p.consent_appi:
            facts.append(
                Fact(
                    label=_w("同意", "Consent"),
                    value=_w(
                        "ご本人の同意をいただいた場合に限ります。同意はいつでも撤回できます。",
                        "Only with your consent, which you can withdraw at any time.",
                    ),
                )
            )
        if p.profiling:  # issue 24 / R-17-1: a purpose that includes analysis or profiling says so
            facts.append(
                Fact(
                    label=_w("分析・プロファイリング", "Analysis and profiling"),
                    value=_w(
                        "この目的には、ご購入・ご利用の履歴や属性の分析（プロファイリング）が含まれます。",
                        "This purpose includes analysing your purchase and usage history and attributes "
                        "(profiling).",
                    ),
                )
            )
        facts.extend(_contact_facts(p.channels, p.marketing))
        entries.append(
            Entry(heading=_w(p.title_ja, p.title_en), paragraphs=[_w(p.text_ja, p.text_en)], facts=facts)
        )
    if not entries:
        entries.append(
            Entry(paragraphs=[_w("登録されている利用目的はありません。", "No purpose is registered.")])
        )
    section = Section(
        id="purposes",
        title=_w("個人情報の利用目的", "Why we use your personal information"),
        intro=[
            _w(
                "お預かりした個人情報は、次の目的の範囲内でのみ利用します。",
                "We use the personal information we hold only for the following purposes.",
            )
        ],
        entries=entries,
        basis=_w(
            "個人情報の保護に関する法律第21条第1項、第32条第1項第2号",
            "Act on the Protection of Personal Information, Arts. 21(1) and 32(1)(ii)",
        ),
    )
    return section, titles


# Issue 20: the channels in the order of kernel.policy.CHANNELS, and those whose advertising needs prior consent.
_CHANNEL_ORDER = ("phone", "email", "post", "sms", "visit")
_OPT_IN = ("email", "sms")


def _contact_facts(channels: list[str], marketing: bool) -> list[Fact]:
    """How a purpose contacts the person (its channels), and for advertising by e-mail or SMS that it is sent
    only with prior consent and can be stopped at any time (特定電子メール法 第3条; TE-3). None for a purpose
    that contacts nobody, so such a purpose's entry reads as before."""
    if not channels:
        return []
    ordered = [c for c in _CHANNEL_ORDER if c in channels]
    facts = [
        Fact(
            label=_w("ご連絡の方法", "How we contact you"),
            value=_joined([_label("dnc_channel", c) for c in ordered]),
        )
    ]
    optin = [c for c in ordered if marketing and c in _OPT_IN]
    if optin:
        words = _joined([_label("dnc_channel", c) for c in optin])
        facts.append(
            Fact(
                label=_w("広告・宣伝のメール等", "Advertising e-mail and messages"),
                value=_w(
                    f"広告・宣伝の{words.ja}は、あらかじめ受信に同意いただいた方にだけお送りします。配信はいつでも"
                    "停止でき、停止のお申し出の後はお送りしません。",
                    f"We send advertising by {words.en} only to those who agreed beforehand to receive it. "
                    "You can stop it at any time; after you ask, we send no more.",
                ),
            )
        )
    if marketing:
        facts.append(
            Fact(
                label=_w("ご連絡の停止", "Stopping contact"),
                value=_w(
                    "ご案内の連絡は、方法ごとに（例えばお電話だけ）いつでも停止をお申し出いただけます。",
                    "You can ask us at any time to stop contacting you with offers, one way at a time (for example "
                    "by phone only).",
                ),
            )
        )
    return facts


def _item(code: str) -> Words:
    if code.startswith("attr:"):
        name = code.removeprefix("attr:")
        return _w(f"{name}（追加項目）", f"{name} (additional item)")
    for domain in ("field", "customer_field"):
        if labels.has(f"{domain}.{code}"):
            return _label(domain, code)
    return _same(code)


def _joint_use(ctx: Context, titles: dict[str, Words]) -> Section:
    """R-27-2 (c): the five items of each joint use — that it happens, the items, the joint users, their
    purposes, and the name, address and representative of the party responsible."""
    rows = ctx.session.execute(queries.joint_uses()).scalars().all()
    ids = {m for r in rows for m in r.member_ids.split(",") if m}
    names = {i: n for i, n in ctx.session.execute(queries.counterparty_names(ids))} if ids else {}
    entries = []
    for r in rows:
        members = [_same(names[m]) for m in r.member_ids.split(",") if m in names]
        purposes = [titles.get(c, _same(c)) for c in r.purposes.split(",") if c]
        responsible = (
            f"{r.responsible_name}（住所: {r.responsible_address}、代表者: {r.responsible_representative}）"
        )
        responsible_en = (
            f"{r.responsible_name} (address: {r.responsible_address}; representative: "
            f"{r.responsible_representative})"
        )
        entries.append(
            Entry(
                heading=_w(f"共同利用（{r.code}）", f"Joint use ({r.code})"),
                paragraphs=[
                    _w(
                        "次のとおり、個人データを共同して利用します。",
                        "We use personal data jointly with others as follows.",
                    )
                ],
                facts=[
                    Fact(
                        label=_w("共同して利用する個人データの項目", "Data used jointly"),
                        value=_joined([_item(i) for i in r.items.split(",") if i]),
                    ),
                    Fact(
                        label=_w("共同して利用する者の範囲", "Who uses it jointly"),
                        value=_w(
                            r.users_scope + (f"（{'、'.join(m.ja for m in members)}）" if members else ""),
                            r.users_scope + (f" ({', '.join(m.en for m in members)})" if members else ""),
                        ),
                    ),
                    Fact(label=_w("利用する者の利用目的", "Their purposes"), value=_joined(purposes)),
                    Fact(
                        label=_w("管理について責任を有する者", "Party responsible for the data"),
                        value=_w(responsible, responsible_en),
                    ),
                    Fact(
                        label=_w("開始日", "From"),
                        value=_w(
                            labels.fmt_date(r.effective_from, "ja"), labels.fmt_date(r.effective_from, "en")
                        ),
                    ),
                ],
            )
        )
    if not entries:
        entries.append(
            Entry(
                paragraphs=[
                    _w(
                        "個人データの共同利用は行っていません。",
                        "We do not use personal data jointly with others.",
                    )
                ]
            )
        )
    return Section(
        id="joint_use",
        title=_w("共同利用", "Joint use"),
        entries=entries,
        basis=_w(
            "個人情報の保護に関する法律第27条第5項第3号",
            "Act on the Protection of Personal Information, Art. 27(5)(iii)",
        ),
    )


def _requests(ctx: Context) -> Section:
    """R-37-1 / R-32-1 (3): what the person may ask for, how, how identity is checked, and when we answer."""
    base = (ctx.runtime.settings.public_base_url or "").rstrip("/")
    appi = [k for k in KINDS if k not in GDPR_ONLY]
    gdpr = [k for k in KINDS if k in GDPR_ONLY]
    days = deadlines.appi_sla_days()
    return Section(
        id="requests",
        title=_w("開示等の請求の手続", "How to make a request"),
        intro=[
            _w(
                "ご本人（または代理人）は、当社が保有するご自身の個人データについて、次の請求ができます。",
                "You (or your agent) can ask us about the personal data we hold about you:",
            )
        ],
        entries=[
            Entry(
                heading=_w("請求できること", "What you can ask for"),
                facts=[
                    Fact(
                        label=_w("日本の個人情報保護法による請求", "Under the Japanese Act"),
                        value=_joined([_label("kind", k) for k in appi]),
                    ),
                    Fact(
                        label=_w("EU一般データ保護規則（GDPR）の対象となる方", "If the GDPR applies to you"),
                        value=_joined([_label("kind", k) for k in gdpr]),
                    ),
                ],
            ),
            Entry(
                heading=_w("請求の方法", "How to ask"),
                paragraphs=[
                    _w(
                        "プライバシーセンターの請求フォームからお申し込みください。下記のお問い合わせ窓口でも受け付けます。",
                        "Use the request form of our privacy center, or contact the point below.",
                    ),
                    _w(
                        "ご本人確認のため、ご登録のメールアドレスに確認コードをお送りします。コードを入力すると請求が確定します。",
                        "To check that you are you, we send a one-time code to the e-mail address registered with us; "
                        "entering it confirms the request.",
                    ),
                    _w(
                        "代理人（未成年者の法定代理人、成年後見人、ご本人が委任した代理人）による請求では、代理権を確認する書類をお願いします。",
                        "An agent (the legal representative of a minor, an adult guardian, or an agent you appointed) "
                        "needs a document showing the authority to act for you.",
                    ),
                ],
                links=[Link(href=f"{base}/privacy/requests/new", text=_w("請求フォーム", "Request form"))],
            ),
            Entry(
                heading=_w("回答の時期", "When we answer"),
                paragraphs=[
                    _w(
                        f"遅滞なく回答します。遅くとも受付から{days}日以内を目安としています。",
                        f"Without delay: at the latest within {days} days of receiving the request.",
                    ),
                    _w(
                        "GDPRによる請求には、受付から1か月以内に回答します（複雑な場合は、理由をお知らせしたうえで最大2か月延長することがあります）。",
                        "Requests under the GDPR are answered within one month of receipt (extended by up to two "
                        "months for complex requests, in which case we tell you why).",
                    ),
                ],
            ),
        ],
        basis=_w(
            "個人情報の保護に関する法律第32条第1項第3号、第37条",
            "Act on the Protection of Personal Information, Arts. 32(1)(iii) and 37",
        ),
    )


def _fees(s: _Settings) -> Section:
    """R-38-1: a fee only for purpose notification and disclosure (including provision records), and published."""
    fee = s.values.request_fee_yen
    charged = _joined([_label("kind", k) for k in KINDS if k in FEE_ALLOWED])
    if fee:
        entries = [
            Entry(
                facts=[
                    Fact(
                        label=_w("手数料", "Fee"),
                        value=_w(
                            f"1件につき{labels.fmt_yen(fee, 'ja')}（{charged.ja}の請求）",
                            f"{labels.fmt_yen(fee, 'en')} per request ({charged.en})",
                        ),
                    ),
                    Fact(label=_w("お支払い方法", "How to pay"), value=s.get("fee_payment", "fees")),
                    Fact(
                        label=_w("そのほかの請求", "Other requests"),
                        value=_w(
                            "訂正・利用停止・消去・第三者提供の停止などの請求は無料です。",
                            "Correction, stop of use, erasure, stop of provision and the other requests are free.",
                        ),
                    ),
                ]
            )
        ]
    else:
        entries = [
            Entry(
                paragraphs=[
                    _w(
                        "手数料はいただきません。すべての請求は無料です。",
                        "There is no fee: every request is free.",
                    )
                ]
            )
        ]
    return Section(
        id="fees",
        title=_w("手数料", "Fees"),
        entries=entries,
        basis=_w(
            "個人情報の保護に関する法律第38条", "Act on the Protection of Personal Information, Art. 38"
        ),
    )


# mamori's own summary: what the system itself does, in words that weaken nothing (no product, key size, host or
# procedure detail an attacker could use; R-32-1 leaves those out).
DEFAULT_SECURITY = (
    _w(
        "個人データの取扱いについて責任者を定め、担当者ごとに役割と扱える範囲を決めています。",
        "A person responsible for personal data is appointed; each staff member has a role and a defined scope.",
    ),
    _w(
        "個人データは利用目的を示したうえでのみ閲覧でき、目的に必要のない項目は表示されません。",
        "Personal data is shown only for a stated purpose, and items the purpose does not need are hidden.",
    ),
    _w(
        "保管している個人データは暗号化し、鍵はデータとは別に管理しています。",
        "Stored personal data is encrypted, with the keys kept apart from the data.",
    ),
    _w(
        "担当者のサインインにはパスワードと二要素認証を用います。",
        "Staff sign in with a password and a second factor.",
    ),
    _w(
        "個人データの閲覧・更新・拒否された操作を記録し、記録が改ざんされていないことを確かめられるようにしています。",
        "Every read, change and refused attempt is logged, in a log whose integrity can be checked.",
    ),
    _w(
        "業務を委託する場合は、委託先を選び、契約で定めた範囲の個人データだけを扱わせ、監督しています。",
        "Outsourcees are selected, see only the data their contract covers, and are supervised.",
    ),
)


def _security_file(path: Path) -> list[Words]:
    """The operator's own summary (MAMORI_SECURITY_MEASURES_FILE, UTF-8): paragraphs split on blank lines; an
    English version may sit beside it as ``<name>.en<suffix>``."""

    def read(p: Path) -> list[str]:
        try:
            text = p.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigurationError(
                f"MAMORI_SECURITY_MEASURES_FILE を読めません（UTF-8 のテキストファイルを指定してください）: {exc.__class__.__name__}",
                f"MAMORI_SECURITY_MEASURES_FILE cannot be read (give a UTF-8 text file): {exc.__class__.__name__}",
                rule_id=RULE,
                code="security_measures_file",
            ) from None
        if len(text) > MAX_SECURITY_FILE_CHARS:
            raise ConfigurationError(
                f"MAMORI_SECURITY_MEASURES_FILE が長すぎます（{MAX_SECURITY_FILE_CHARS}文字まで）。",
                f"MAMORI_SECURITY_MEASURES_FILE is too long (at most {MAX_SECURITY_FILE_CHARS} characters).",
                rule_id=RULE,
                code="security_measures_file",
            )
        return [
            " ".join(b.split("\n")).strip() for b in text.replace("\r\n", "\n").split("\n\n") if b.strip()
        ]

    path = path.expanduser()
    ja = read(path)
    english = path.with_name(f"{path.stem}.en{path.suffix}")
    en = read(english) if english.exists() else ja
    return [Words(ja=j, en=e) for j, e in itertools.zip_longest(ja, en, fillvalue="")]


def _security(ctx: Context, s: _Settings) -> Section:
    path = s.values.security_measures_file
    if path is not None:
        paragraphs = _security_file(Path(path))
    else:
        paragraphs = list(DEFAULT_SECURITY)
        s.placeholders.append(
            Placeholder(
                setting="MAMORI_SECURITY_MEASURES_FILE",
                section="security",
                message=_w(
                    "安全管理措置は mamori が自ら講じている措置の要約です。基本方針・人的・物理的安全管理措置（研修、入退室管理など）は MAMORI_SECURITY_MEASURES_FILE に記載してください。",
                    "The security summary covers only what mamori itself does; describe your policy and your human "
                    "and physical measures (training, access to premises …) in MAMORI_SECURITY_MEASURES_FILE.",
                ),
            )
        )
    return Section(
        id="security",
        title=_w("安全管理のために講じた措置", "How we keep your information safe"),
        intro=[
            _w(
                "個人データの漏えいなどを防ぐため、次の措置を講じています（安全を損なうおそれのある詳細は記載していません）。",
                "We take the following measures against leaks and misuse (details that could weaken security are "
                "left out).",
            )
        ],
        entries=[Entry(paragraphs=paragraphs)],
        basis=_w(
            "個人情報の保護に関する法律第32条第1項第4号、施行令第10条第1号",
            "Act on the Protection of Personal Information, Art. 32(1)(iv); Cabinet Order, Art. 10(i)",
        ),
    )


def _foreign(ctx: Context, s: _Settings) -> Section:
    """R-23-7: every foreign country where personal data is stored or handled, named, with what we understood of
    its system (外的環境の把握), from the inventory slice's registry."""
    entries = []
    for country in inventory_service.countries(ctx):
        name = _label("country", country.country)
        kinds = list(dict.fromkeys(e.kind for e in country.entries))
        facts = [
            Fact(
                label=_w("取扱いの内容", "What happens there"),
                value=_joined([_label("recipient_kind", k) for k in kinds]),
            )
        ]
        notes = list(dict.fromkeys(e.understanding for e in country.entries if e.understanding))
        if country.equivalent_country:
            facts.append(
                Fact(
                    label=_w("制度", "Its system"),
                    value=_w(
                        "個人情報保護委員会が日本と同等の水準にあると認めた国・地域です。",
                        "Recognised by Japan's Personal Information Protection Commission as having an equivalent "
                        "level of protection.",
                    ),
                )
            )
        for note in notes:
            facts.append(
                Fact(label=_w("個人情報の保護に関する制度", "Its data protection system"), value=_same(note))
            )
        if not notes and not country.equivalent_country:
            s.placeholders.append(
                Placeholder(
                    setting=f"inventory:{country.country}",
                    section="foreign",
                    message=_w(
                        f"{name.ja}の個人情報保護制度の把握（外的環境の把握）が記録されていません（mamori inventory locations / provision counterparties）。",
                        f"Nothing is recorded about {name.en}'s data protection system (mamori inventory locations / "
                        "provision counterparties).",
                    ),
                )
            )
        entries.append(Entry(heading=name, facts=facts))
    if not entries:
        entries.append(
            Entry(
                paragraphs=[
                    _w(
                        "外国で個人データを取り扱うことはありません。",
                        "We do not handle personal data in any foreign country.",
                    )
                ]
            )
        )
    return Section(
        id="foreign",
        title=_w("外国における個人データの取扱い", "Handling in foreign countries"),
        intro=[
            _w(
                "個人データを外国で保管・取り扱う場合は、その国の個人情報の保護に関する制度を把握したうえで安全管理措置を講じています。",
                "Where personal data is stored or handled abroad, we learn that country's data protection system "
                "and take our measures accordingly.",
            )
        ],
        entries=entries,
        basis=_w(
            "個人情報の保護に関する法律第23条、第32条第1項第4号、施行令第10条第1号",
            "Act on the Protection of Personal Information, Arts. 23 and 32(1)(iv); Cabinet Order, Art. 10(i)",
        ),
    )


def _contact(s: _Settings) -> Section:
    body = s.values.accredited_body
    accredited = (
        _same(body)
        if body
        else _w(
            "当社は認定個人情報保護団体の対象事業者ではありません。",
            "We are not a member of an accredited personal information protection organisation.",
        )
    )
    return Section(
        id="contact",
        title=_w("お問い合わせ・苦情の窓口", "Contact and complaints"),
        intro=[
            _w(
                "個人情報の取扱いに関するお問い合わせ・苦情、開示等の請求は、次の窓口で受け付けます。",
                "For questions, complaints and requests about how we handle personal information:",
            )
        ],
        entries=[
            Entry(
                facts=[
                    Fact(label=_w("窓口", "Contact point"), value=s.get("privacy_contact", "contact")),
                    Fact(label=_w("認定個人情報保護団体", "Accredited organisation"), value=accredited),
                ]
            )
        ],
        basis=_w(
            "個人情報の保護に関する法律第32条第1項第4号、施行令第10条第2号・第3号",
            "Act on the Protection of Personal Information, Art. 32(1)(iv); Cabinet Order, Art. 10(ii)-(iii)",
        ),
    )


def build(ctx: Context) -> tuple[NoticeContent, list[Placeholder]]:
    """The notice as it would be published now, and the settings shown as placeholders (no authorisation: the
    callers authorise)."""
    s = _Settings(ctx)
    purposes, titles = _purposes(ctx)
    sections = [
        _operator(s),
        purposes,
        _joint_use(ctx, titles),
        _requests(ctx),
        _fees(s),
        _security(ctx, s),
        _foreign(ctx, s),
        _contact(s),
    ]
    return NoticeContent(sections=sections), s.placeholders


# -- versions -----------------------------------------------------------------------------------------------------


def canonical(content: NoticeContent) -> str:
    return json.dumps(
        content.model_dump(mode="json"), ensure_ascii=False, sort_keys=True, separators=(",", ":")
    )


def digest(content: NoticeContent) -> str:
    return hashlib.sha256(canonical(content).encode("utf-8")).hexdigest()


def _latest(ctx: Context) -> PublishedNotice | None:
    return ctx.session.execute(queries.latest()).scalar_one_or_none()


def _version(row: PublishedNotice) -> NoticeVersionRead:
    return NoticeVersionRead(
        version=row.version, published_at=row.published_at, published_by=row.published_by, sha256=row.sha256
    )


def _published(row: PublishedNotice) -> PublishedNoticeRead:
    return PublishedNoticeRead(
        **_version(row).model_dump(), content=NoticeContent.model_validate_json(row.content)
    )


def current(ctx: Context) -> PublishedNoticeRead | None:
    """The version in force (the latest published), or None when nothing is published yet. Public."""
    row = _latest(ctx)
    return _published(row) if row is not None else None


def get(ctx: Context, version: int) -> PublishedNoticeRead | None:
    """A published version as it was published, or None. Public."""
    if not 1 <= version <= MAX_VERSION:
        return None
    row = ctx.session.get(PublishedNotice, version)
    return _published(row) if row is not None else None


def shown(ctx: Context, version: int | None = None) -> PublishedNoticeRead:
    """The version in force (``version`` None) or a published version; NotFound (R-32-1) when there is none. Public:
    the CLI's ``show`` and the API's reads."""
    found = current(ctx) if version is None else get(ctx, version)
    if found is None:
        raise NotFound(
            "公表した版がありません。" if version is None else "その版は公表されていません。",
            "nothing published yet." if version is None else "that version was not published.",
            rule_id=RULE,
            code="notice_not_found",
        )
    return found


def history(ctx: Context) -> list[NoticeVersionRead]:
    """Every published version with its date, newest first. Public."""
    rows = ctx.session.execute(queries.versions()).scalars()
    return [_version(r) for r in rows]


def section_text(section: Section, lang: str) -> list[str]:
    """A section as plain lines (for the diff and for the CLI)."""
    lines = [f"# {section.title(lang)}"]
    lines += [w(lang) for w in section.intro]
    for e in section.entries:
        if e.heading is not None:
            lines.append(f"## {e.heading(lang)}")
        lines += [w(lang) for w in e.paragraphs]
        lines += [f"- {f.label(lang)}: {f.value(lang)}" for f in e.facts]
        lines += [f"- {link.text(lang)}: {link.href}" for link in e.links]
    lines.append(f"({section.basis(lang)})")
    return lines


def text(content: NoticeContent, lang: str) -> list[str]:
    """The whole notice as plain lines in one language (section after section, a blank line between)."""
    lines: list[str] = []
    for section in content.sections:
        if lines:
            lines.append("")
        lines += section_text(section, lang)
    return lines


def changes(old: NoticeContent | None, new: NoticeContent, lang: str = "ja") -> list[SectionChange]:
    """What changed, section by section (the new order; removed sections last)."""
    before = {s.id: s for s in old.sections} if old is not None else {}
    out = []
    for s in new.sections:
        prev = before.pop(s.id, None)
        if prev is None:
            out.append(SectionChange(id=s.id, title=s.title, status="added", diff=section_text(s, lang)))
        elif prev == s:
            out.append(SectionChange(id=s.id, title=s.title, status="same"))
        else:
            diff = difflib.unified_diff(section_text(prev, lang), section_text(s, lang), lineterm="", n=1)
            out.append(SectionChange(id=s.id, title=s.title, status="changed", diff=list(diff)[2:]))
    for s in before.values():
        out.append(SectionChange(id=s.id, title=s.title, status="removed", diff=section_text(s, lang)))
    return out


def _can_publish(ctx: Context) -> None:
    authorise(ctx, Action.NOTICE_PUBLISH, Resource(kind="notice"))


def draft(ctx: Context, lang: str = "ja") -> Draft:
    """The draft against the version in force (privacy officer: it is the step before publishing)."""
    _can_publish(ctx)
    content, placeholders = build(ctx)
    sha = digest(content)
    latest = current(ctx)
    return Draft(
        content=content,
        sha256=sha,
        placeholders=placeholders,
        published=NoticeVersionRead(**latest.model_dump(exclude={"content"})) if latest else None,
        unchanged=latest is not None and latest.sha256 == sha,
        changes=changes(latest.content if latest else None, content, lang),
    )


def publish(ctx: Context, *, expected_sha256: str | None = None) -> PublishResult:
    """Publish the draft as a new version (R-32-1), only when it differs from the version in force. With
    ``expected_sha256`` (the draft the privacy officer reviewed) a draft that changed meanwhile is refused: the
    wording published is the wording approved."""
    _can_publish(ctx)
    content, placeholders = build(ctx)
    sha = digest(content)
    if expected_sha256 is not None and expected_sha256 != sha:
        raise Conflict(
            "確認した下書きの後に内容が変わりました。下書きをもう一度確認してから公表してください。",
            "The draft changed after you reviewed it; review the draft again before publishing.",
            rule_id=RULE,
            code="notice_draft_changed",
        )
    latest = _latest(ctx)
    if latest is not None and latest.sha256 == sha:
        return PublishResult(
            published=False,
            status="unchanged",
            version=latest.version,
            published_at=latest.published_at,
            sha256=sha,
            placeholders=placeholders,
        )
    number = (ctx.session.execute(queries.max_version()).scalar_one() or 0) + 1
    row = PublishedNotice(
        version=number,
        published_at=ctx.clock.now(),
        published_by=ctx.actor.label,
        content=canonical(content),
        sha256=sha,
    )
    ctx.session.add(row)
    ctx.session.flush()
    record_write(
        ctx,
        "notice.publish",
        (),
        ("notice",),
        rule_ids=(RULE,),
        details={"version": number, "sha256": sha, "placeholders": len(placeholders)},
    )
    return PublishResult(
        published=True,
        status="published",
        version=number,
        published_at=row.published_at,
        sha256=sha,
        placeholders=placeholders,
    )


class Versions:
    """The kernel's ``NoticeVersions`` (mamori.kernel.notice): which versions exist, for the rights slice's check
    that the version a form showed was published (R-21-2). Registered by ``composition.register_all``."""

    def current(self, ctx: Context) -> NoticeVersion | None:
        row = ctx.session.execute(queries.latest_stamp()).one_or_none()
        return NoticeVersion(version=row[0], published_at=row[1]) if row is not None else None

    def get(self, ctx: Context, version: int) -> NoticeVersion | None:
        if not 1 <= version <= MAX_VERSION:
            return None
        row = ctx.session.execute(queries.version_stamp(version)).one_or_none()
        return NoticeVersion(version=row[0], published_at=row[1]) if row is not None else None
