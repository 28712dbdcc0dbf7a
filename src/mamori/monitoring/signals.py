"""The catalog of signals (issue 25 "Deliver" 1): each one's code, words, default threshold and severity, and the
audit actions it reads. Pure data: the evaluation is :mod:`mamori.monitoring.service.evaluate`, the thresholds in
force come from :mod:`mamori.monitoring.service.settings` (a key absent from ``monitoring_settings`` takes the
default here).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

READ_VOLUME: Final = "read_volume"
OFF_HOURS: Final = "off_hours"
NEW_NETWORK: Final = "new_network"
DENIALS: Final = "denials"
BULK_EXPORT: Final = "bulk_export"
SENSITIVE_READ: Final = "sensitive_read"
OUT_OF_BOOK: Final = "out_of_book"
DISABLED_ACCOUNT: Final = "disabled_account"


@dataclass(frozen=True)
class Signal:
    code: str
    ja: str  # the name shown (UI.md: 日本語 first)
    en: str
    threshold: float  # the default threshold
    unit_ja: str  # what the threshold counts
    unit_en: str
    severity: str  # the default severity: low / medium / high
    explain_ja: str
    explain_en: str
    seen_ja: str = "件"  # what the observed value counts
    seen_en: str = "entries"


SIGNALS: Final[tuple[Signal, ...]] = (
    Signal(
        READ_VOLUME,
        "閲覧件数の急増",
        "Read volume far above usual",
        3.0,
        "倍（本人の過去30日の中央値に対して）",
        "× the person's own 30-day median",
        "high",
        "1日に閲覧した顧客の人数が、本人の過去30日の中央値（履歴が少ないときは同じ役割の中央値）の何倍か。"
        "最低人数（既定 50人）に満たない日は数えません。",
        "People read in one day against the person's own 30-day median (their role's when they have little"
        " history); days under the minimum (50 people by default) are not counted.",
        "人（その日に閲覧した顧客）",
        "people read that day",
    ),
    Signal(
        OFF_HOURS,
        "業務時間外の閲覧",
        "Reads outside working hours",
        20,
        "人（1日に業務時間外に閲覧した顧客）",
        "people read outside working hours in a day",
        "medium",
        "業務時間（既定 平日 8時〜20時、日本の祝日を除く）の外に閲覧した顧客の人数。",
        "People read outside working hours (weekdays 8:00-20:00 JST by default, Japanese holidays excluded).",
        "人（業務時間外に閲覧した顧客）",
        "people read outside working hours",
    ),
    Signal(
        NEW_NETWORK,
        "新しいネットワークからの利用",
        "Use from a new network",
        1,
        "件（過去30日に使っていないネットワークからの閲覧）",
        "reads from a network unused in the last 30 days",
        "medium",
        "本人が過去30日に使っていないネットワーク（IPv4 /24・IPv6 /48 の鍵付きタグ）からの閲覧。"
        "履歴が少ない人は学習中として数えません。",
        "Reads from a network (a keyed tag of the /24 or /48) the person did not use in the last 30 days;"
        " people with little history are still being learnt.",
        "件（新しいネットワークからの閲覧）",
        "reads from a new network",
    ),
    Signal(
        DENIALS,
        "拒否の連続",
        "Many denials in a row",
        10,
        "回（1時間以内の拒否）",
        "denials within one hour",
        "high",
        "1時間以内に拒否された操作の回数（他の担当者の顧客を探る動きなど）。",
        "Refused actions within one hour (probing other reps' customers, for instance).",
        "回（1時間以内の拒否）",
        "denials within one hour",
    ),
    Signal(
        BULK_EXPORT,
        "大量の持出し",
        "Bulk export",
        100,
        "人（1回の出力・引渡し・提供ファイル）",
        "people in one export, handover or provision file",
        "high",
        "1回の出力（連絡リスト・第三者提供・委託先への引渡し・担当替え・加工データの提供）に含まれる人数。",
        "People in one export: a contact list, a third-party provision, a handover to an outsourcee or another"
        " rep, a de-identified dataset.",
        "人（1回の出力の最大）",
        "people in the largest export",
    ),
    Signal(
        SENSITIVE_READ,
        "要配慮個人情報の閲覧",
        "Reads of 要配慮 data",
        10,
        "件（1日に要配慮個人情報を含む閲覧）",
        "reads that include 要配慮 data in a day",
        "medium",
        "要配慮個人情報（病歴など）を含む閲覧の件数。",
        "Reads that include 要配慮 (special-care) data, such as a medical history.",
        "件（要配慮個人情報を含む閲覧）",
        "reads with 要配慮 data",
    ),
    Signal(
        OUT_OF_BOOK,
        "担当外の顧客の検索",
        "Search outside one's book",
        3,
        "件（1日に担当外の顧客に当たった検索）",
        "searches that hit a customer outside the rep's book in a day",
        "medium",
        "営業担当者の検索が、担当外の顧客に当たった回数（結果は表示されず、拒否として記録されます）。",
        "Searches by a sales rep that hit a customer outside their book (not shown to them, audited as refused).",
        "件（担当外の顧客に当たった検索）",
        "hits outside the book",
    ),
    Signal(
        DISABLED_ACCOUNT,
        "無効化したアカウントの利用",
        "A disabled account's credential in use",
        1,
        "回",
        "uses",
        "high",
        "無効化（退職など）したアカウントのセッションや API トークンが使われた回数。",
        "Uses of a session or API token of an account that was disabled (a leaver, for instance).",
        "回（無効化後の利用）",
        "uses after disabling",
    ),
)
BY_CODE: Final[dict[str, Signal]] = {s.code: s for s in SIGNALS}

# Audit actions read as a read of people (allowed entries; their subject ids are the people read).
READ_ACTIONS: Final[tuple[str, ...]] = (
    "customer.read",
    "contact.reach",
    "contact.inbound.find",
    "consent.read",
    "provision.records.list",
    "provision.records.show",
    "provision.consent.list",
)
# Audit actions that take people out of the system (the ``bulk_export`` signal; also counted as reads).
EXPORT_ACTIONS: Final[tuple[str, ...]] = (
    "contact.list",
    "provision.provide",
    "provision.referable.provide",
    "provision.export.download",
    "processors.handover",
    "lifecycle.handover",
    "deid.provide",
    "subject.export",
)
# A field naming 要配慮 data in a read entry (the customers slice's notes flagged 要配慮).
SENSITIVE_FIELDS: Final[tuple[str, ...]] = ("activities:sensitive",)
# The staff slice's entry for a credential of a disabled account (staff.service.common.DEAD_CREDENTIAL_ACTION).
DEAD_CREDENTIAL: Final = "staff.credential_refused"
# Denial codes of a read outside the actor's row scope (a sales rep's search hitting another rep's customer).
OUT_OF_SCOPE_CODES: Final[tuple[str, ...]] = ("out_of_scope",)

# Defaults of the other settings.
DEFAULT_HOURS: Final = {"start": 8, "end": 20}  # JST, weekdays; weekends and Japanese holidays are off hours
DEFAULT_READ_FLOOR: Final = 50  # read_volume: a day under this many people is never "far above usual"
HISTORY_DAYS: Final = 30  # the baseline window
MIN_HISTORY_DAYS: Final = (
    5  # fewer active days than this: the role's baseline (read_volume), learning (network)
)
DEFAULT_REVIEW: Final = {"interval_months": 3, "unused_days": 90}
MAX_ENTRY_SEQS: Final = 500  # the entries an alert names (the count is always complete)
# The words of the codes in an alert's ``detail`` (the evaluation writes them).
DETAIL_LABELS: Final[dict[str, tuple[str, str]]] = {
    "ratio": ("通常に対する倍率", "times the usual"),
    "networks": ("新しいネットワークの数", "new networks"),
    "hour": ("最も多かった時間帯（時）", "busiest hour (JST)"),
    "day_total": ("その日の拒否の合計", "denials that day"),
    "exported_people": ("その日に持ち出した人数の合計", "people exported that day"),
}


def label(code: str, lang: str = "ja") -> str:
    sig = BY_CODE.get(code)
    if sig is None:
        return code
    return sig.en if lang == "en" else sig.ja
