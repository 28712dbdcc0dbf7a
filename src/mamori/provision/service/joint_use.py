"""Joint use (共同利用): the declaration's five items (R-27-2 (c)) and their changes with the timing R-27-3
requires."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import select

from mamori.kernel.auditing import record_write
from mamori.kernel.context import Context
from mamori.kernel.db import new_id
from mamori.kernel.errors import Conflict, NotFound, PolicyDenied, ValidationFailed
from mamori.law.rules import R_27_2, R_27_3
from mamori.provision.models import Counterparty, JointUseChange, JointUseDeclaration
from mamori.provision.schemas import JointUseChangeIn, JointUseChangeRead, JointUseIn, JointUseRead
from mamori.provision.service.common import aware, can_manage, can_read, join, require_aware, split
from mamori.purposes import service as purposes_service

# R-27-3: which changes are notified after (遅滞なく), in advance (あらかじめ), or need consent.
NOTIFY_AFTER = frozenset({"responsible_name", "responsible_address", "responsible_representative"})
NOTIFY_BEFORE = frozenset({"purposes", "responsible_party"})
NEEDS_CONSENT = frozenset({"items", "members"})


def _get(ctx: Context, declaration_id: str) -> JointUseDeclaration:
    row = ctx.session.get(JointUseDeclaration, declaration_id)
    if row is None:
        raise NotFound(
            "共同利用に関する事項の通知等の記録が見つかりません。",
            "Joint-use notice record not found.",
            code="not_found",
        )
    return row


def _check_members(ctx: Context, member_ids: list[str]) -> None:
    kinds = dict(
        ctx.session.execute(
            select(Counterparty.id, Counterparty.kind).where(Counterparty.id.in_(member_ids))
        ).all()
    )
    bad = [m for m in member_ids if kinds.get(m) != "joint_user"]
    if bad:
        raise ValidationFailed(
            f"共同利用者として登録されていない提供先です: {', '.join(bad)}",
            f"Not registered as joint users: {', '.join(bad)}",
            rule_id=R_27_2.id,
            code="not_joint_user",
        )


def _check_purposes(ctx: Context, purposes: list[str]) -> None:
    unknown = [p for p in purposes if purposes_service.facts(ctx, p) is None]
    if unknown:
        raise NotFound(
            f"利用目的が登録されていません: {', '.join(unknown)}",
            f"Purposes not registered: {', '.join(unknown)}",
            rule_id="R-17-1",
            code="purpose_unknown",
        )


_LIMITS = {"responsible_name": 200, "responsible_address": 300, "responsible_representative": 200}
_LIST_PATTERNS = {
    "purposes": r"^[a-z][a-z0-9_-]{1,63}$",
    "items": r"^(attr:)?[a-z][a-z0-9_]{0,63}$",
    "members": r"^[0-9a-f]{32}$",
}


def _check_value(item: str, value: str) -> None:
    """The new value must fit the item (lengths of the organisation facts, codes of lists)."""
    bad = False
    if item in _LIMITS:
        bad = not value or len(value) > _LIMITS[item]
    elif item == "responsible_party":
        parts = [p.strip() for p in value.split("|")]
        bad = len(parts) != 3 or any(not p or len(p) > 200 for p in parts) or len(parts[1]) > 300
    elif item in _LIST_PATTERNS:
        values = [v.strip() for v in value.split(",") if v.strip()]
        bad = not values or any(re.fullmatch(_LIST_PATTERNS[item], v) is None for v in values)
    if bad:
        raise ValidationFailed(
            f"{item} の値が不正です。", f"The new value of {item} is invalid.", code="bad_change_value"
        )


def read(ctx: Context, row: JointUseDeclaration) -> JointUseRead:
    changes = ctx.session.execute(
        select(JointUseChange).where(JointUseChange.declaration_id == row.id).order_by(JointUseChange.seq)
    ).scalars()
    return JointUseRead(
        id=row.id,
        code=row.code,
        items=split(row.items),
        member_ids=split(row.member_ids),
        users_scope=row.users_scope,
        purposes=split(row.purposes),
        responsible_name=row.responsible_name,
        responsible_address=row.responsible_address,
        responsible_representative=row.responsible_representative,
        version=row.version,
        notified_at=aware(row.notified_at),
        effective_from=aware(row.effective_from),
        changes=[
            JointUseChangeRead(
                seq=c.seq,
                item=c.item,
                old_value=c.old_value,
                new_value=c.new_value,
                notified_at=aware(c.notified_at),
                effective_at=aware(c.effective_at),
                consent_reference=c.consent_reference,
                version=c.version,
            )
            for c in changes
        ],
    )


def declare(ctx: Context, data: JointUseIn) -> JointUseRead:
    """Record a joint-use declaration: the five items were notified (or made easily knowable) before joint use
    starts (R-27-2 (c)): the effective date may not precede the notice."""
    can_manage(ctx)
    notified = require_aware(data.notified_at, "notified_at")
    effective = require_aware(data.effective_from, "effective_from")
    if effective < notified:
        raise PolicyDenied(
            "共同利用は本人への通知等の後でなければ開始できません。",
            "Joint use cannot start before the principal was notified.",
            rule_id=R_27_2.id,
            code="joint_use_before_notice",
        )
    if ctx.session.execute(
        select(JointUseDeclaration.id).where(JointUseDeclaration.code == data.code)
    ).first():
        raise Conflict("同じコードの共同利用が既にあります。", "Code already used.", code="duplicate_code")
    members = list(dict.fromkeys(data.member_ids))
    _check_members(ctx, members)
    purposes = list(dict.fromkeys(data.purposes))
    _check_purposes(ctx, purposes)
    now = ctx.clock.now()
    row = JointUseDeclaration(
        id=new_id(),
        code=data.code,
        items=join(list(dict.fromkeys(data.items))),
        member_ids=join(members),
        users_scope=data.users_scope,
        purposes=join(purposes),
        responsible_name=data.responsible_name,
        responsible_address=data.responsible_address,
        responsible_representative=data.responsible_representative,
        version=1,
        notified_at=notified,
        effective_from=effective,
        created_at=now,
        created_by=ctx.actor.label,
    )
    ctx.session.add(row)
    ctx.session.flush()
    record_write(
        ctx, "provision.joint_use.declare", [], ["joint_use"], rule_ids=(R_27_2.id,), details={"id": row.id}
    )
    return read(ctx, row)


def change(ctx: Context, declaration_id: str, data: JointUseChangeIn) -> JointUseRead:
    """Change one item of a declaration with the timing R-27-3 requires:
    - responsible party's name / address / representative: notified without delay after the change (recorded
      with both dates);
    - purposes or the responsible party itself: notified in advance — refused unless effective > notified;
    - data items and scope of joint users: refused without a consent reference (the persons' consent)."""
    can_manage(ctx)
    row = _get(ctx, declaration_id)
    notified = require_aware(data.notified_at, "notified_at")
    effective = require_aware(data.effective_at, "effective_at")
    item = data.item
    if item in NOTIFY_BEFORE and not effective > notified:
        raise PolicyDenied(
            "利用目的・責任者の変更は、変更前に本人へ通知等をしなければなりません。",
            "A change of purposes or of the responsible party must be notified before it takes effect.",
            rule_id=R_27_3.id,
            code="change_not_in_advance",
        )
    if item in NEEDS_CONSENT and not data.consent_reference:
        raise PolicyDenied(
            "共同利用する項目・共同利用者の範囲は、本人の同意なく変更できません。",
            "The data items and the scope of joint users cannot change without the persons' consent.",
            rule_id=R_27_3.id,
            code="change_needs_consent",
        )
    new = data.new_value.strip()
    _check_value(item, new)
    if item == "responsible_name":
        old, row.responsible_name = row.responsible_name, new
    elif item == "responsible_address":
        old, row.responsible_address = row.responsible_address, new
    elif item == "responsible_representative":
        old, row.responsible_representative = row.responsible_representative, new
    elif item == "responsible_party":
        parts = [p.strip() for p in new.split("|")]
        old = f"{row.responsible_name}|{row.responsible_address}|{row.responsible_representative}"
        row.responsible_name, row.responsible_address, row.responsible_representative = parts
    elif item == "purposes":
        purposes = [p for p in dict.fromkeys(v.strip() for v in new.split(",")) if p]
        _check_purposes(ctx, purposes)
        old, row.purposes = row.purposes, join(purposes)
    elif item == "items":
        old, row.items = row.items, join([p for p in dict.fromkeys(v.strip() for v in new.split(",")) if p])
    else:  # members
        members = [p for p in dict.fromkeys(v.strip() for v in new.split(",")) if p]
        _check_members(ctx, members)
        old, row.member_ids = row.member_ids, join(members)
    row.version += 1
    ctx.session.add(
        JointUseChange(
            declaration_id=row.id,
            item=item,
            old_value=old,
            new_value=new,
            notified_at=notified,
            effective_at=effective,
            consent_reference=data.consent_reference,
            version=row.version,
            recorded_at=ctx.clock.now(),
            recorded_by=ctx.actor.label,
        )
    )
    ctx.session.flush()
    record_write(
        ctx,
        "provision.joint_use.change",
        [],
        [f"joint_use:{item}"],
        rule_ids=(R_27_3.id,),
        details={"id": row.id, "version": row.version},
    )
    return read(ctx, row)


def show(ctx: Context, declaration_id: str) -> JointUseRead:
    can_read(ctx)
    return read(ctx, _get(ctx, declaration_id))


def list_declarations(ctx: Context) -> list[JointUseRead]:
    can_read(ctx)
    rows = ctx.session.execute(select(JointUseDeclaration).order_by(JointUseDeclaration.code)).scalars()
    return [read(ctx, r) for r in rows]


def refusal_for(
    ctx: Context,
    declaration_id: str | None,
    counterparty_id: str,
    purpose: str,
    fields: list[str],
    now: datetime,
) -> str | None:
    """Why provision to a joint user under this declaration is not covered (None when it is)."""
    if declaration_id is None:
        return "共同利用に関する事項の通知等の記録を指定してください / give the joint-use notice record"
    row = _get(ctx, declaration_id)
    if counterparty_id not in split(row.member_ids):
        return "提供先は共同利用者の範囲外 / recipient outside the scope of joint users"
    if purpose not in split(row.purposes):
        return "利用目的が共同利用の目的に含まれない / purpose not among the joint-use purposes"
    if not set(fields) <= set(split(row.items)):
        return "項目が共同利用する項目に含まれない / fields outside the joint-use items"
    if aware(row.effective_from) > now or aware(row.notified_at) > now:
        return "共同利用の開始前（通知前） / joint use not yet started (not yet notified)"
    pending = ctx.session.execute(
        select(JointUseChange.seq).where(
            JointUseChange.declaration_id == row.id, JointUseChange.effective_at > now
        )
    ).first()
    if pending is not None:
        return "変更の効力発生前 / a change is not yet effective"
    return None
