"""The handling log and the step messages in words (codes as words, no ids, no personal values)."""

from __future__ import annotations

from datetime import date
from typing import Any

from mamori.kernel import labels


def who_acted(label: str, names: dict[str, str], lang: str) -> str:
    """Staff by name (display name, else user name); the person and the system in words; an account no longer
    on the staff list as 「担当者 #1a2b3c」 (never the full id)."""
    if label in names:
        return names[label]
    kind, _, ident = label.partition(":")
    if kind in ("person", "system"):
        return labels.value("role", kind, lang)
    return f"{'Staff' if lang == 'en' else '担当者'} #{ident[-6:]}"


def event_words(details: dict[str, Any], lang: str) -> list[tuple[str, str]]:
    """The handling log in words: the few details that say what happened (codes as words, no ids)."""
    out: list[tuple[str, str]] = []
    en = lang == "en"
    if details.get("outcome"):
        out.append(("Outcome" if en else "結果", labels.value("outcome", details["outcome"], lang)))
    if details.get("ground"):
        out.append(("Ground" if en else "事由", labels.value("refusal_ground", details["ground"], lang)))
    if details.get("kind") in ("email", "phone"):
        out.append(("Identifier" if en else "識別情報", labels.value("identifier", details["kind"], lang)))
    if details.get("method"):
        out.append(("Method" if en else "方法", labels.value("verify_method", details["method"], lang)))
    if details.get("document"):
        out.append(("Document" if en else "書類", labels.value("id_document", details["document"], lang)))
    if "attempts_left" in details:
        n = details["attempts_left"]
        out.append(("Attempts left" if en else "残り回数", f"{n}" if en else f"{n}回"))
    if details.get("fee_yen") is not None:
        out.append(("Fee" if en else "手数料", labels.fmt_yen(int(details["fee_yen"]), lang)))
    if details.get("reason") in ("complexity", "volume"):
        out.append(("Reason" if en else "理由", labels.value("extension_reason", details["reason"], lang)))
    if details.get("new_due"):
        out.append(
            (
                "New due date" if en else "新しい回答期限",
                labels.fmt_date(date.fromisoformat(details["new_due"]), lang),
            )
        )
    if details.get("categories"):
        cats = [
            labels.value("record_category", c.split(":", 1)[-1], lang)
            for c in str(details["categories"]).split(",")
        ]
        out.append(("Scope" if en else "範囲", ("、" if not en else ", ").join(cats)))
    if details.get("delivery") in ("email", "post"):  # how the answer reached the person (issue 18)
        by_post = details["delivery"] == "post"
        out.append(
            (
                "Delivered by" if en else "送付",
                ("post" if by_post else "e-mail") if en else ("郵送" if by_post else "メール"),
            )
        )
    if details.get("posted_on"):
        out.append(
            (
                "Posted on" if en else "郵送した日",
                labels.fmt_date(date.fromisoformat(details["posted_on"]), lang),
            )
        )
    if "days_left" in details and details.get("due"):  # a reminder to staff
        out.append(("Due" if en else "回答期限", labels.fmt_date(date.fromisoformat(details["due"]), lang)))
    if "notified" in details:
        out.append(
            (
                "Notice to the person" if en else "本人への通知",
                labels.value("yesno", "yes" if details["notified"] else "no", lang),
            )
        )
    return out


MASKING_JA = (
    "健康保険証は、記号・番号・保険者番号・QRコードを隠した状態で提示してもらい、写しを取る場合もそれらを復元できない"
    "よう塗りつぶしてください（健康保険法の告知要求制限）。"
)
MASKING_EN = (
    " A health insurance card is shown with its symbol, number, insurer number and QR code masked; any copy must "
    "have them blacked out (Health Insurance Act)."
)


def reached(n: int | None) -> tuple[str, str]:
    """The words after a verification; without the figure for staff who may not see it (None)."""
    if n is None:
        return ("本人確認が済みました。", "Verified.")
    return (f"本人確認が済みました（対象の顧客 {n}人）。", f"Verified ({n} customers reached).")
