"""Opt-out provision (オプトアウト): the PPC filing, publication, notice and objection period (R-27-4), and
changes to the filed items (R-27-6)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlalchemy import select

from mamori.kernel.auditing import record_write
from mamori.kernel.context import Context
from mamori.kernel.db import new_id
from mamori.kernel.errors import NotFound, PolicyDenied, ValidationFailed
from mamori.law.rules import R_27_4, R_27_6
from mamori.provision.models import OptOutChange, OptOutFiling
from mamori.provision.schemas import OPT_OUT_ADVANCE_ITEMS, OptOutChangeIn, OptOutIn, OptOutRead
from mamori.provision.service.common import aware, can_manage, can_read, join, require_aware, split
from mamori.provision.service.counterparties import get_row
from mamori.purposes import service as purposes_service


def _get(ctx: Context, filing_id: str) -> OptOutFiling:
    row = ctx.session.get(OptOutFiling, filing_id)
    if row is None:
        raise NotFound("オプトアウトの届出が見つかりません。", "Opt-out filing not found.", code="not_found")
    return row


def problems(row: OptOutFiling, now: datetime) -> list[str]:
    """Why provision under this filing is not (yet) allowed (R-27-4); empty when it is."""
    out: list[str] = []
    if row.stopped_at is not None and aware(row.stopped_at) <= now:
        out.append("提供停止済み / provision stopped")
    if aware(row.filed_at) > now:
        out.append("届出前 / not yet filed with the PPC")
    if row.ppc_published_at is None or aware(row.ppc_published_at) > now:
        out.append("個人情報保護委員会による公表が未確認 / PPC publication not confirmed")
    earliest = aware(row.notified_at) + timedelta(days=row.objection_days)
    if aware(row.start_at) < earliest:
        out.append("通知から開始日までの期間が不足 / start date before notice + objection period")
    if aware(row.start_at) > now:
        out.append("提供開始日前 / before the start date")
    if aware(row.start_at) < aware(row.filed_at):
        out.append("届出前の開始日 / start date before the filing")
    return out


def _read(row: OptOutFiling, now: datetime) -> OptOutRead:
    p = problems(row, now)
    return OptOutRead(
        id=row.id,
        counterparty_id=row.counterparty_id,
        purpose=row.purpose,
        items=split(row.items),
        filed_at=aware(row.filed_at),
        ppc_reference=row.ppc_reference,
        ppc_published_at=aware(row.ppc_published_at) if row.ppc_published_at else None,
        notified_at=aware(row.notified_at),
        objection_days=row.objection_days,
        start_at=aware(row.start_at),
        stopped_at=aware(row.stopped_at) if row.stopped_at else None,
        version=row.version,
        usable=not p,
        problems=p,
    )


def file(ctx: Context, data: OptOutIn) -> OptOutRead:
    """Record an opt-out filing. The start date must leave the objection period after the notice (R-27-4)."""
    can_manage(ctx)
    for name in ("filed_at", "notified_at", "start_at"):
        require_aware(getattr(data, name), name)
    if data.ppc_published_at is not None:
        require_aware(data.ppc_published_at, "ppc_published_at")
    if data.counterparty_id is not None:
        get_row(ctx, data.counterparty_id)
    if purposes_service.facts(ctx, data.purpose) is None:
        raise NotFound(
            f"利用目的「{data.purpose}」は登録されていません。",
            f"Purpose '{data.purpose}' is not registered.",
            rule_id="R-17-1",
            code="purpose_unknown",
        )
    if data.start_at < data.notified_at + timedelta(days=data.objection_days):
        raise PolicyDenied(
            f"提供開始日は本人への通知等から{data.objection_days}日以上後にしてください。",
            f"The start date must be at least {data.objection_days} days after the notice.",
            rule_id=R_27_4.id,
            code="objection_period_too_short",
        )
    if data.start_at < data.filed_at:
        raise PolicyDenied(
            "提供開始日は届出日以後にしてください。",
            "The start date cannot precede the filing.",
            rule_id=R_27_4.id,
            code="start_before_filing",
        )
    if not purposes_service.show(ctx, data.purpose).third_party:
        # R-27-4: opt-out provision needs third-party provision to be one of the published purposes.
        raise PolicyDenied(
            f"利用目的「{data.purpose}」に第三者提供が含まれていません。",
            f"Purpose '{data.purpose}' does not include provision to third parties.",
            rule_id=R_27_4.id,
            code="purpose_not_third_party",
        )
    now = ctx.clock.now()
    row = OptOutFiling(
        id=new_id(),
        counterparty_id=data.counterparty_id,
        purpose=data.purpose,
        items=join(list(dict.fromkeys(data.items))),
        acquisition=data.acquisition,
        provision_method=data.provision_method,
        request_method=data.request_method,
        filed_at=data.filed_at,
        ppc_reference=data.ppc_reference,
        ppc_published_at=data.ppc_published_at,
        notified_at=data.notified_at,
        objection_days=data.objection_days,
        start_at=data.start_at,
        version=1,
        created_at=now,
        created_by=ctx.actor.label,
    )
    ctx.session.add(row)
    ctx.session.flush()
    record_write(
        ctx, "provision.opt_out.file", [], ["opt_out"], rule_ids=(R_27_4.id,), details={"id": row.id}
    )
    return _read(row, now)


def change(ctx: Context, filing_id: str, data: OptOutChangeIn) -> OptOutRead:
    """R-27-6: items (3)-(5), (7), (8) — notified and filed in advance (effective after both); the operator's
    name/address/representative or stopping provision — notified and filed without delay (not before the
    change)."""
    can_manage(ctx)
    row = _get(ctx, filing_id)
    notified = require_aware(data.notified_at, "notified_at")
    filed = require_aware(data.filed_at, "filed_at")
    effective = require_aware(data.effective_at, "effective_at")
    if data.item in OPT_OUT_ADVANCE_ITEMS:
        if not (effective > notified and effective > filed):
            raise PolicyDenied(
                "この事項の変更は、あらかじめ本人に通知し、又は本人が容易に知り得る状態に置くとともに、"
                "個人情報保護委員会に届け出なければなりません（法第27条第3項）。",
                "Before this change takes effect, the person must be notified of it (or it must be made readily "
                "accessible to them) and it must be filed with the PPC (Art. 27(3)).",
                rule_id=R_27_6.id,
                code="change_not_in_advance",
            )
    now = ctx.clock.now()
    value = data.new_value.strip()
    if data.item == "items" and any(
        re.fullmatch(r"^(attr:)?[a-z][a-z0-9_]{0,63}$", v.strip()) is None for v in value.split(",")
    ):
        raise ValidationFailed("項目名が不正です。", "Invalid item names.", code="bad_change_value")
    if data.item == "items":
        row.items = join([v for v in dict.fromkeys(x.strip() for x in value.split(",")) if v])
    elif data.item == "acquisition":
        row.acquisition = value
    elif data.item == "provision_method":
        row.provision_method = value
    elif data.item == "request_method":
        row.request_method = value
    elif data.item == "start_at":
        try:
            start = datetime.fromisoformat(value)
        except ValueError:
            raise ValidationFailed(
                "開始日は ISO 8601 で指定してください。", "Give the start date in ISO 8601.", code="bad_date"
            ) from None
        row.start_at = require_aware(start, "start_at")
        if not 1990 <= start.year <= 2200:
            raise ValidationFailed("開始日が不正です。", "Invalid start date.", code="bad_date")
    elif data.item == "stop":
        row.stopped_at = effective
    # "operator": the operator's own name/address/representative are configuration; the change is logged.
    row.version += 1
    ctx.session.add(
        OptOutChange(
            filing_id=row.id,
            item=data.item,
            new_value=value,
            notified_at=notified,
            filed_at=filed,
            effective_at=effective,
            recorded_at=now,
            recorded_by=ctx.actor.label,
        )
    )
    ctx.session.flush()
    record_write(
        ctx,
        "provision.opt_out.change",
        [],
        [f"opt_out:{data.item}"],
        rule_ids=(R_27_6.id,),
        details={"id": row.id, "version": row.version},
    )
    return _read(row, now)


def show(ctx: Context, filing_id: str) -> OptOutRead:
    can_read(ctx)
    return _read(_get(ctx, filing_id), ctx.clock.now())


def list_filings(ctx: Context) -> list[OptOutRead]:
    can_read(ctx)
    now = ctx.clock.now()
    return [
        _read(r, now)
        for r in ctx.session.execute(select(OptOutFiling).order_by(OptOutFiling.created_at)).scalars()
    ]


def pending_advance_change(ctx: Context, row: OptOutFiling, now: datetime) -> bool:
    return (
        ctx.session.execute(
            select(OptOutChange.seq).where(
                OptOutChange.filing_id == row.id,
                OptOutChange.item.in_(OPT_OUT_ADVANCE_ITEMS),
                OptOutChange.effective_at > now,
            )
        ).first()
        is not None
    )


def get(ctx: Context, filing_id: str) -> OptOutFiling:
    return _get(ctx, filing_id)
