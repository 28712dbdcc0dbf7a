"""The data dictionary: every data item held (the customer fields and the attribute keys in use) with its APPI
category and 要配慮 kind (R-2.3-1) and its GDPR Art. 9 special category or Art. 10 (criminal) tag (G-6).

The APPI and GDPR sets differ ("tag both", G-6): 犯罪の経歴 is 要配慮 and GDPR Art. 10, not Art. 9; 社会的身分 and
犯罪被害 are 要配慮 with no GDPR special category; biometric data, trade-union membership and sex life are Art. 9
without being 要配慮 as such. A 要配慮 kind with a GDPR counterpart must carry it (``EXPECTED_GDPR``).
"""

from __future__ import annotations

import re

from mamori.customers.schemas import FIELD_CATEGORIES
from mamori.customers.service import subjects
from mamori.inventory import queries
from mamori.inventory.models import DataItem
from mamori.inventory.schemas import (
    ARTICLE10,
    EXPECTED_GDPR,
    ITEM_KEY_PATTERN,
    ItemIn,
    ItemRead,
)
from mamori.inventory.service.common import can_read, can_tag
from mamori.kernel.auditing import record_write
from mamori.kernel.context import Context
from mamori.kernel.errors import ValidationFailed
from mamori.kernel.policy import Category
from mamori.law.rules import G_6, R_2_3_1

NO_GDPR_COUNTERPART = {
    "social_status": "社会的身分",
    "crime_victim": "犯罪被害",
}
ARTICLE9_NOT_SENSITIVE = ("biometric", "trade_union", "sex_life", "genetic", "political")


def mismatch_notes(sensitive_kind: str | None, article9: str | None, article10: bool) -> list[str]:
    """Where the APPI and the GDPR tags of one item differ, in words (both languages)."""
    notes: list[str] = []
    if sensitive_kind in NO_GDPR_COUNTERPART:
        notes.append(
            f"{R_2_3_1.id}/{G_6.id}: 要配慮（{NO_GDPR_COUNTERPART[sensitive_kind]}）だが GDPR 第9条の特別な種類ではない"
            f" / 要配慮 ({sensitive_kind}) but no GDPR Art. 9 category"
        )
    if ARTICLE10 in EXPECTED_GDPR.get(sensitive_kind or "", frozenset()):
        notes.append(
            f"{G_6.id}: 要配慮だが GDPR では第9条ではなく第10条（犯罪経歴・犯罪行為）"
            f" / 要配慮 but GDPR Art. 10 (criminal), not Art. 9"
        )
    if sensitive_kind is None and article9 is not None:
        notes.append(
            f"{G_6.id}: GDPR 第9条（{article9}）だが要配慮個人情報ではない / GDPR Art. 9 ({article9}) but not 要配慮"
        )
    if sensitive_kind is None and article10:
        notes.append(f"{G_6.id}: GDPR 第10条だが要配慮個人情報ではない / GDPR Art. 10 but not 要配慮")
    return notes


def _check(key: str, data: ItemIn) -> None:
    if (data.appi_category == Category.SENSITIVE) != (data.sensitive_kind is not None):
        raise ValidationFailed(
            "要配慮個人情報の区分（sensitive）には要配慮の種類（11種のいずれか）を、種類を指定するなら区分 sensitive を指定してください。",
            "The 'sensitive' category needs one of the 11 要配慮 kinds, and a 要配慮 kind needs the 'sensitive' "
            "category.",
            rule_id=R_2_3_1.id,
            code="sensitive_kind_mismatch",
        )
    expected = EXPECTED_GDPR.get(data.sensitive_kind or "")
    tags = {t for t in (data.gdpr_article9, ARTICLE10 if data.gdpr_article10 else None) if t}
    if expected and not (tags & expected):
        want = " / ".join(sorted("Art. 10" if e == ARTICLE10 else f"Art. 9 {e}" for e in expected))
        raise ValidationFailed(
            f"要配慮（{data.sensitive_kind}）の項目には GDPR のタグ（{want}）も付けてください（両方の規制で区分が異なります）。",
            f"A 要配慮 item ({data.sensitive_kind}) needs its GDPR tag too ({want}): the two sets differ.",
            rule_id=G_6.id,
            code="gdpr_tag_missing",
        )
    fixed = FIELD_CATEGORIES.get(key)
    if fixed is not None and data.appi_category != fixed:
        raise ValidationFailed(
            f"顧客の項目「{key}」の区分は {fixed.value} です（利用目的によるマスクはこの区分で決まります）。",
            f"Customer field '{key}' has the category {fixed.value} (purpose masking uses it).",
            code="field_category_fixed",
        )


def _read(
    key: str,
    source: str,
    in_use: bool,
    row: DataItem | None,
    default: Category,
    used_as: set[str],
) -> ItemRead:
    category = Category(row.appi_category) if row else default
    kind = row.sensitive_kind if row else None
    art9 = row.gdpr_article9 if row else None
    art10 = bool(row.gdpr_article10) if row else False
    notes = mismatch_notes(kind, art9, art10)
    if row is None:
        notes.append("未確認: 個人情報保護管理者がタグ付けしていない / not reviewed: not tagged yet")
    if used_as - {category.value}:
        notes.append(
            f"顧客データでは区分 {', '.join(sorted(used_as))} で保存されている / stored as {', '.join(sorted(used_as))}"
        )
    return ItemRead(
        key=key,
        source=source,
        in_use=in_use,
        reviewed=row is not None,
        appi_category=category,
        sensitive=category == Category.SENSITIVE,
        sensitive_kind=kind,
        gdpr_article9=art9,
        gdpr_article10=art10,
        financial=bool(row.financial) if row else False,
        description=row.description if row else None,
        notes=notes,
    )


def dictionary(ctx: Context) -> list[ItemRead]:
    """Every item: the customer fields, the attribute keys in use and any item tagged before (no authorisation:
    callers check; the ROPA uses it)."""
    rows = {r.key: r for r in ctx.session.execute(queries.items()).scalars()}
    in_use: dict[str, set[str]] = {}
    for key, category in subjects.attribute_keys_in_use(ctx):
        in_use.setdefault(f"attr:{key}", set()).add(str(category))
    out: list[ItemRead] = []
    for key, category in FIELD_CATEGORIES.items():
        out.append(_read(key, "field", True, rows.get(key), category, set()))
    for key in sorted(in_use):
        used = in_use[key]
        default = Category.SENSITIVE if Category.SENSITIVE.value in used else Category(sorted(used)[0])
        out.append(_read(key, "attribute", True, rows.get(key), default, used))
    for key in sorted(set(rows) - set(FIELD_CATEGORIES) - set(in_use)):
        row = rows[key]
        out.append(_read(key, "registered", False, row, Category(row.appi_category), set()))
    return out


def list_items(ctx: Context) -> list[ItemRead]:
    can_read(ctx)
    return dictionary(ctx)


def tag_item(ctx: Context, key: str, data: ItemIn) -> ItemRead:
    """Record the privacy officer's tags for one item (a customer field or ``attr:<key>``)."""
    can_tag(ctx)
    if not re.fullmatch(ITEM_KEY_PATTERN, key) or (
        not key.startswith("attr:") and key not in FIELD_CATEGORIES
    ):
        raise ValidationFailed(
            "項目は顧客の項目名か attr:<属性キー> で指定してください。",
            "An item is a customer field name or attr:<attribute key>.",
            code="unknown_item",
        )
    _check(key, data)
    row = ctx.session.execute(queries.item(key)).scalar_one_or_none()
    if row is None:
        row = DataItem(key=key)
        ctx.session.add(row)
    row.appi_category = data.appi_category.value
    row.sensitive_kind = data.sensitive_kind
    row.gdpr_article9 = data.gdpr_article9
    row.gdpr_article10 = data.gdpr_article10
    row.financial = data.financial
    row.description = data.description
    row.updated_at = ctx.clock.now()
    row.updated_by = ctx.actor.label
    ctx.session.flush()
    record_write(
        ctx,
        "inventory.item.tag",
        (),
        (),
        rule_ids=(R_2_3_1.id, G_6.id),
        details={
            "item": key,
            "appi_category": row.appi_category,
            "sensitive_kind": row.sensitive_kind,
            "gdpr_article9": row.gdpr_article9,
            "gdpr_article10": row.gdpr_article10,
            "financial": row.financial,
        },
    )
    return next(i for i in dictionary(ctx) if i.key == key)
