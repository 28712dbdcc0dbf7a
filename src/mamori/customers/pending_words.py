"""Words for the rows an import held for the privacy officer (issue 19): statuses, why a row was held, why it was
rejected, how the notice was given. Pure data (no import), shared by the CLI (``customers pending``) and the web
queue (``/imports/pending``); the codes are those of ``customers.service.import_pending``.

(These belong in a label file of ``kernel/labels/data`` once it has a domain for them: see the report of issue 19.)
"""

from __future__ import annotations

STATUSES = ("pending", "approved", "rejected")
REJECT_REASONS = ("not_notified", "no_consent", "duplicate", "wrong_data", "not_needed", "other")
APPROVE_METHODS = ("notified", "stated", "published")

_WORDS: dict[str, dict[str, tuple[str, str]]] = {
    "status": {
        "pending": ("承認待ち", "Pending"),
        "approved": ("承認済み", "Approved"),
        "rejected": ("却下", "Rejected"),
    },
    "hold_reason": {
        "purpose_not_notified": ("通知済みの利用目的が不足", "Purposes not notified"),
    },
    "reject_reason": {
        "not_notified": ("利用目的を本人に通知していない", "The purposes were not notified to the person"),
        "no_consent": ("本人の同意が得られていない", "The person did not consent"),
        "duplicate": ("登録済みの顧客と重複", "Duplicate of an existing customer"),
        "wrong_data": ("内容に誤りがある", "The data is wrong"),
        "not_needed": ("取り込む必要がない", "Not needed"),
        "other": ("その他", "Other"),
    },
    "method": {
        "notified": ("本人に通知した", "Notified to the person"),
        "stated": ("書面で明示した", "Stated in writing"),
        "published": ("公表している", "Published"),
    },
}


def word(kind: str, code: str | None, lang: str = "ja") -> str:
    """The words of ``code`` (the code itself when it has none)."""
    if code is None:
        return "—"
    pair = _WORDS.get(kind, {}).get(code)
    if pair is None:
        return code
    return pair[1] if lang == "en" else pair[0]


def choices(kind: str, codes: tuple[str, ...], lang: str = "ja") -> str:
    """「not_notified（利用目的を本人に通知していない） / …」 for --help and error messages."""
    return " / ".join(
        f"{c}（{word(kind, c, lang)}）" if lang != "en" else f"{c} ({word(kind, c, lang)})" for c in codes
    )
