"""Personally referable information (個人関連情報: cookie ids, device ids, browsing history) provided to a
recipient expected to link it to personal data: confirmation of the recipient's consent (R-31-1, R-31-2), the
R-28-2 information for a recipient abroad, and the provider-side record (R-31-3)."""

from __future__ import annotations

from mamori.kernel.auditing import record_write
from mamori.kernel.context import Context
from mamori.kernel.db import new_id
from mamori.kernel.errors import NotFound, PolicyDenied, ValidationFailed
from mamori.law.rules import R_28_2, R_31_1, R_31_2, R_31_3
from mamori.provision.models import ReferableConfirmation
from mamori.provision.schemas import ReferableConfirmIn, ReferableProvideIn, ReferableResult
from mamori.provision.service.common import can_manage, join, split
from mamori.provision.service.counterparties import EQUIVALENT_COUNTRIES, current_sheet, get_row, is_foreign
from mamori.provision.service.records import write_record

# Items must be specific (R-31-3: "browsing history", not "any information we hold").
VAGUE_ITEMS = frozenset({"all", "any", "everything", "*", "全て", "すべて", "一切"})


def confirm(ctx: Context, data: ReferableConfirmIn) -> str:
    """Record that the recipient obtained the persons' consent, and how it was confirmed (R-31-2: the
    recipient's declaration or a check of its consent evidence). Abroad (outside the EU/UK) the R-28-2
    information must have been given too, with the current sheet version."""
    can_manage(ctx)
    cp = get_row(ctx, data.counterparty_id)
    items = list(dict.fromkeys(i.strip() for i in data.items))
    if any(not i or i.lower() in VAGUE_ITEMS for i in items):
        raise ValidationFailed(
            "個人関連情報の項目は具体的に記載してください。",
            "Describe the items specifically.",
            rule_id=R_31_3.id,
            code="vague_items",
        )
    foreign = is_foreign(cp) and cp.country not in EQUIVALENT_COUNTRIES
    if foreign:
        sheet = current_sheet(ctx, cp.id)
        if not data.foreign_info_confirmed or sheet is None or data.sheet_version != sheet.version:
            raise PolicyDenied(
                "外国にある提供先では、本人への外国の制度等の情報提供（最新版）の確認が必要です。",
                "For a recipient abroad, confirm the persons were given the current R-28-2 information.",
                rule_id=R_28_2.id,
                code="foreign_info_not_confirmed",
            )
    row = ReferableConfirmation(
        id=new_id(),
        counterparty_id=cp.id,
        items=join(items),
        method=data.method,
        evidence=data.evidence,
        foreign_info_confirmed=data.foreign_info_confirmed,
        sheet_version=data.sheet_version if foreign else None,
        confirmed_at=ctx.clock.now(),
        confirmed_by=ctx.actor.label,
    )
    ctx.session.add(row)
    ctx.session.flush()
    record_write(
        ctx,
        "provision.referable.confirm",
        [],
        ["referable"],
        rule_ids=(R_31_2.id,),
        details={"id": row.id, "counterparty_id": cp.id, "method": data.method},
    )
    return row.id


def provide(ctx: Context, data: ReferableProvideIn) -> ReferableResult:
    """Provide personally referable information. When the recipient is expected to link it to personal data
    (R-31-1) a recorded confirmation covering these items is required, and the R-31-3 record is written."""
    can_manage(ctx)
    cp = get_row(ctx, data.counterparty_id)
    items = list(dict.fromkeys(i.strip() for i in data.items))
    if not data.linkage_expected:
        record_write(
            ctx,
            "provision.referable.provide",
            [],
            ["referable"],
            details={"counterparty_id": cp.id, "count": data.count, "linkage_expected": False},
        )
        return ReferableResult(
            counterparty_id=cp.id, items=items, count=data.count, confirmation_id=None, record_id=None
        )
    if data.confirmation_id is None:
        raise PolicyDenied(
            "提供先が個人データとして取得することが想定されるため、本人同意の確認記録が必要です。",
            "The recipient is expected to link it to personal data: a consent confirmation is required.",
            rule_id=R_31_1.id,
            code="no_confirmation",
        )
    conf = ctx.session.get(ReferableConfirmation, data.confirmation_id)
    if conf is None:
        raise NotFound("確認記録が見つかりません。", "Confirmation not found.", code="not_found")
    if conf.counterparty_id != cp.id:  # R-31-2: the consent confirmed is the one this recipient obtained
        raise PolicyDenied(
            "確認記録は別の提供先についてのものです。本人の同意は提供先ごとに確認してください。",
            "The confirmation is for another recipient: confirm the consent this recipient obtained.",
            rule_id=R_31_2.id,
            code="confirmation_not_covering",
        )
    if not set(items) <= set(split(conf.items)):
        raise PolicyDenied(
            "確認記録はこの項目を対象としていません。",
            "The confirmation does not cover these items.",
            rule_id=R_31_1.id,
            code="confirmation_not_covering",
        )
    foreign = is_foreign(cp) and cp.country not in EQUIVALENT_COUNTRIES
    if foreign:
        sheet = current_sheet(ctx, cp.id)
        if sheet is None or conf.sheet_version != sheet.version:
            raise PolicyDenied(
                "外国の制度等の情報が更新されています。確認をやり直してください。",
                "The foreign information sheet changed since the confirmation; confirm again.",
                rule_id=R_28_2.id,
                code="stale_info_sheet",
            )
    fact = f"confirmed by {conf.method} ({conf.id})" + (
        f"; foreign info v{conf.sheet_version} confirmed" if foreign else ""
    )
    rec = write_record(
        ctx,
        direction="provided",
        kind="referable",
        customer_id=None,
        counterparty=cp,
        purpose=None,
        items=items,
        consent_fact=fact,
        subject={"count": str(data.count)},
        bulk=data.continuous,
    )
    ctx.session.flush()
    record_write(
        ctx,
        "provision.referable.provide",
        [],
        ["referable"],
        rule_ids=(R_31_1.id, R_31_3.id),
        details={"counterparty_id": cp.id, "count": data.count, "record_id": rec.id},
    )
    return ReferableResult(
        counterparty_id=cp.id, items=items, count=data.count, confirmation_id=conf.id, record_id=rec.id
    )
