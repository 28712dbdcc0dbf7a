"""Pure policy checks on 仮名加工情報 that later slices (provision, analytics) call before acting.

Each raises ``PolicyDenied`` with the rule id; none touches personal data.
"""

from __future__ import annotations

from collections.abc import Iterable

from mamori.deid.tabular.pseudonymise import identity_columns
from mamori.kernel.errors import PolicyDenied

# R-41-4: third-party provision of 仮名加工情報 is allowed only on these grounds.
ALLOWED_RECIPIENT_KINDS: dict[str, str] = {
    "entrustment": "委託",
    "委託": "委託",
    "succession": "事業承継",
    "事業承継": "事業承継",
    "承継": "事業承継",
    "joint_use": "共同利用",
    "共同利用": "共同利用",
    "law": "法令に基づく場合",
    "法令": "法令に基づく場合",
}


def check_pseudonymised_provision(recipient_kind: str, *, joint_use_items_published: bool = True) -> str:
    """Allow providing 仮名加工情報 only to an entrusted processor, a successor, joint users (with the joint-use
    items published) or where a law requires it (R-41-4); returns the ground. Anything else is refused."""
    ground = ALLOWED_RECIPIENT_KINDS.get(
        recipient_kind.strip().lower() if recipient_kind.isascii() else recipient_kind
    )
    if ground is None:
        raise PolicyDenied(
            "仮名加工情報は第三者に提供できません（委託・事業承継・共同利用・法令に基づく場合を除く）。",
            "pseudonymised data may not be provided to third parties "
            "(except entrustment, business succession, joint use or where a law requires it)",
            rule_id="R-41-4",
            details={"recipient_kind": recipient_kind},
        )
    if ground == "共同利用" and not joint_use_items_published:
        raise PolicyDenied(
            "共同利用の項目を公表してから提供してください。",
            "publish the joint-use items before providing the data for joint use",
            rule_id="R-41-4",
        )
    return ground


def check_pseudonymised_join(columns: Iterable[str]) -> None:
    """Refuse collating 仮名加工情報 with identity or contact data (R-41-5): ``columns`` are the other side's."""
    bad = identity_columns(columns)
    if bad:
        raise PolicyDenied(
            "仮名加工情報を本人の識別・連絡先の情報と照合できません。",
            "pseudonymised data may not be joined with identity or contact data",
            rule_id="R-41-5",
            details={"columns": bad},
        )


def check_pseudonymised_contact() -> None:
    """Using 仮名加工情報 to call, mail, email, message or visit anyone is always refused (R-41-5, 規則33)."""
    raise PolicyDenied(
        "仮名加工情報に含まれる連絡先を用いて本人に連絡することはできません。",
        "pseudonymised data may not be used to contact anyone",
        rule_id="R-41-5",
    )


def check_anonymised_collation() -> None:
    """Collating 匿名加工情報 to re-identify people, or acquiring 加工方法等情報, is always refused (R-43-5)."""
    raise PolicyDenied(
        "匿名加工情報を本人の識別のために照合すること、加工方法等情報を取得することはできません。",
        "anonymised data may not be collated to re-identify people, nor its processing information acquired",
        rule_id="R-43-5",
    )
