"""Classification of an incident (R-26-1; G-33 for EU/UK people): the four report triggers, the exemptions.

Computed from the scope (``incident_subjects`` — one row per person — and ``incident_scopes`` for estimates) and
from the register (the cause, the officer's wrongful-purpose setting, the exemptions). No authorisation here: the
callers (register, board, report, notices) authorise first. Nothing personal is read: ids, flags, field names,
categories and counts only.

The triggers (R-26-1, 規則7):

1. ``sensitive`` — 要配慮個人情報 of even one person;
2. ``financial`` — data whose misuse may cause financial loss (a card number, a bank account, a payment login) of
   even one person;
3. ``wrongful`` — an act with a wrongful purpose against the operator: the officer's setting when made, else the
   cause (external attack, insider);
4. ``over_1000`` — more than 1,000 people, counted from the moment the count passes 1,000, using the maximum when
   the count is uncertain (an estimate's maximum).

High-level encryption (with its reason) and 仮名加工情報 only make an incident exempt: not reportable.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import select

from mamori.incidents.models import Incident, IncidentScope, IncidentSubject
from mamori.incidents.schemas import CAUSE_LABELS, WRONGFUL_CAUSES
from mamori.inventory import queries as inventory_queries
from mamori.kernel.context import Context

TRIGGERS = ("sensitive", "financial", "wrongful", "over_1000")
TRIGGER_LABELS = {
    "sensitive": ("(1) 要配慮個人情報が含まれる", "(1) sensitive (要配慮) data"),
    "financial": ("(2) 財産的被害が生じるおそれがある", "(2) data whose misuse may cause financial loss"),
    "wrongful": ("(3) 不正の目的によるおそれがある", "(3) possibly an act with a wrongful purpose"),
    "over_1000": ("(4) 1,000人を超える", "(4) more than 1,000 people"),
}
EXEMPT_LABELS = {
    "encryption": ("高度な暗号化等の措置", "high-level encryption"),
    "pseudonymised": ("仮名加工情報のみ", "pseudonymised data only (仮名加工情報)"),
}
EU_ORIGINS = frozenset({"EU", "UK"})
R_26_1 = "R-26-1"
G_33 = "G-33"


@dataclass(frozen=True)
class Classification:
    """What the scope and the register say under R-26-1 (and G-33). Counts are of people, never values."""

    persons: int  # distinct people in scope (counted, by id)
    persons_max: int  # the larger of persons and the estimates' maxima (R-26-1: the maximum when uncertain)
    sensitive: int  # people with a 要配慮 item in scope
    financial: int  # people with an item whose misuse may cause financial loss
    eu: int  # people of EU / UK origin (the GDPR applies)
    categories: dict[str, int] = field(default_factory=dict)  # category -> people
    items: dict[str, int] = field(default_factory=dict)  # field name -> people
    triggers: tuple[str, ...] = ()  # subset of TRIGGERS, in that order
    exempt: str | None = None  # "encryption" / "pseudonymised" / None
    reportable: bool = False  # a trigger and not exempt (R-26-1)
    gdpr: bool = False  # EU/UK people in scope and gdpr_risk != "none" (G-33)
    reasons: dict[str, str] = field(default_factory=dict)  # trigger -> why (Japanese, counts only)


def _json_list(text: str | None) -> list[str]:
    try:
        value = json.loads(text or "[]")
    except ValueError:
        return []
    return [str(v) for v in value] if isinstance(value, list) else []


def _json_counts(text: str | None) -> dict[str, int]:
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    if not isinstance(value, dict):
        return {}
    return {str(k): int(v) for k, v in value.items() if isinstance(v, int | float)}


def over_1000_R_26_1(persons_max: int) -> bool:
    """R-26-1 trigger (4): more than 1,000 people, from the maximum possible count when uncertain."""
    rule = R_26_1  # the one statutory count (tests/architecture/test_no_count_thresholds_R_16_2.py)
    return bool(rule) and persons_max > 1000


def wrongful_R_26_1(row: Incident) -> bool:
    """R-26-1 trigger (3): the officer's setting when made, else the cause (external attack, insider)."""
    if row.wrongful_purpose is not None:
        return bool(row.wrongful_purpose)
    return row.cause in WRONGFUL_CAUSES


def exemption_R_26_1(row: Incident) -> str | None:
    """High-level encryption (with a reason) or 仮名加工情報 only: not reportable (R-26-1, 規則7 proviso)."""
    if row.encryption_exempt:
        return "encryption"
    if row.pseudonymised:
        return "pseudonymised"
    return None


def triggers_R_26_1(*, sensitive: int, financial: int, wrongful: bool, persons_max: int) -> tuple[str, ...]:
    """The R-26-1 triggers, in order: (1) 要配慮 of even one person, (2) financial loss of even one person,
    (3) wrongful purpose, (4) more than 1,000 people."""
    found: list[str] = []
    if sensitive >= 1:
        found.append("sensitive")
    if financial >= 1:
        found.append("financial")
    if wrongful:
        found.append("wrongful")
    if over_1000_R_26_1(persons_max):
        found.append("over_1000")
    return tuple(found)


def _flagged_items(ctx: Context, keys: Iterable[str]) -> tuple[set[str], set[str]]:
    """Of these field names, the inventory's 要配慮 items and its financial items."""
    sensitive: set[str] = set()
    financial: set[str] = set()
    wanted = set(keys)
    if not wanted:
        return sensitive, financial
    for item in ctx.session.execute(inventory_queries.items()).scalars():
        if item.key not in wanted:
            continue
        if item.sensitive_kind or item.appi_category == "sensitive":
            sensitive.add(item.key)
        if item.financial:
            financial.add(item.key)
    return sensitive, financial


def classification(ctx: Context, row: Incident) -> Classification:
    """Classify ``row`` from its scope and register (R-26-1; G-33). No authorisation: callers authorise."""
    subjects = ctx.session.execute(
        select(
            IncidentSubject.fields,
            IncidentSubject.categories,
            IncidentSubject.sensitive,
            IncidentSubject.financial,
            IncidentSubject.origin,
        ).where(IncidentSubject.incident_id == row.id)
    ).all()
    persons = 0
    sensitive = 0
    financial = 0
    eu = 0
    categories: dict[str, int] = {}
    items: dict[str, int] = {}
    for fields_text, categories_text, is_sensitive, is_financial, origin in subjects:
        persons += 1
        cats = set(_json_list(categories_text))
        for name in set(_json_list(fields_text)):
            items[name] = items.get(name, 0) + 1
        for cat in cats:
            categories[cat] = categories.get(cat, 0) + 1
        if is_sensitive or "sensitive" in cats:
            sensitive += 1
        if is_financial or "financial" in cats:
            financial += 1
        if (origin or "").upper() in EU_ORIGINS:
            eu += 1

    # Estimates (an unknown count entered as a maximum): R-26-1 counts the maximum when uncertain.
    estimates = ctx.session.execute(
        select(IncidentScope.maximum, IncidentScope.items).where(
            IncidentScope.incident_id == row.id,
            IncidentScope.method == "estimate",
            IncidentScope.removed_at.is_(None),
        )
    ).all()
    estimated = 0
    estimate_items: dict[str, int] = {}
    for maximum, items_text in estimates:
        estimated += int(maximum or 0)
        for name, people in _json_counts(items_text).items():
            estimate_items[name] = max(estimate_items.get(name, 0), people or int(maximum or 0))
    persons_max = max(persons, estimated)
    if estimate_items:
        flagged_sensitive, flagged_financial = _flagged_items(ctx, estimate_items)
        sensitive = max(sensitive, max((estimate_items[k] for k in flagged_sensitive), default=0))
        financial = max(financial, max((estimate_items[k] for k in flagged_financial), default=0))
        for name, people in estimate_items.items():
            items[name] = max(items.get(name, 0), people)

    wrongful = wrongful_R_26_1(row)
    triggers = triggers_R_26_1(
        sensitive=sensitive, financial=financial, wrongful=wrongful, persons_max=persons_max
    )
    exempt = exemption_R_26_1(row)
    reasons: dict[str, str] = {}
    if "sensitive" in triggers:
        reasons["sensitive"] = f"要配慮個人情報を含む本人 {sensitive} 人"
    if "financial" in triggers:
        reasons["financial"] = f"財産的被害のおそれがある項目を含む本人 {financial} 人"
    if "wrongful" in triggers:
        reasons["wrongful"] = (
            "個人情報保護管理者の判断による"
            if row.wrongful_purpose is not None
            else f"原因の区分（{CAUSE_LABELS.get(row.cause, (row.cause,))[0]}）による"
        )
    if "over_1000" in triggers:
        reasons["over_1000"] = f"本人の数 {persons} 人（最大 {persons_max} 人）"
    gdpr = eu > 0 and row.gdpr_risk != "none"
    return Classification(
        persons=persons,
        persons_max=persons_max,
        sensitive=sensitive,
        financial=financial,
        eu=eu,
        categories=dict(sorted(categories.items())),
        items=dict(sorted(items.items())),
        triggers=triggers,
        exempt=exempt,
        reportable=bool(triggers) and exempt is None,
        gdpr=gdpr,
        reasons=reasons,
    )
