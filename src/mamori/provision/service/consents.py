"""Provision consents: the person's consent to provision to one counterparty for one purpose (R-27-1); for a
recipient abroad, consent that covers foreign provision, given with the current R-28-2 information sheet."""

from __future__ import annotations

from mamori.customers.service import subjects
from mamori.kernel.auditing import record_read, record_write
from mamori.kernel.context import Context
from mamori.kernel.db import new_id
from mamori.kernel.errors import Conflict, NotFound, ValidationFailed
from mamori.law.rules import G_7, R_27_1, R_28_1, R_28_2
from mamori.provision import queries
from mamori.provision.models import ProvisionConsent
from mamori.provision.schemas import ID_PATTERN, ProvisionConsentIn, ProvisionConsentRead
from mamori.provision.service.common import aware, can_manage, can_read
from mamori.provision.service.counterparties import EQUIVALENT_COUNTRIES, current_sheet, get_row, is_foreign
from mamori.purposes import service as purposes_service


def _read(c: ProvisionConsent) -> ProvisionConsentRead:
    return ProvisionConsentRead(
        id=c.id,
        customer_id=c.customer_id,
        counterparty_id=c.counterparty_id,
        purpose=c.purpose,
        method=c.method,
        evidence=c.evidence,
        foreign=c.foreign,
        sheet_version=c.sheet_version,
        granted_at=aware(c.granted_at),
        withdrawn_at=aware(c.withdrawn_at) if c.withdrawn_at else None,
        recorded_by=c.recorded_by,
    )


def grant(ctx: Context, data: ProvisionConsentIn) -> ProvisionConsentRead:
    """Record consent to provision. Abroad (outside the EU/UK) the info sheet shown must be the current one
    (R-28-2); the consent is then marked as covering foreign provision (R-28-1)."""
    can_manage(ctx, [data.customer_id])
    if data.customer_id not in subjects.existing(ctx, [data.customer_id]):
        raise NotFound("顧客が見つかりません。", "Customer not found.", code="customer_not_found")
    row = get_row(ctx, data.counterparty_id)
    if purposes_service.facts(ctx, data.purpose) is None:
        raise NotFound(
            f"利用目的「{data.purpose}」は登録されていません。",
            f"Purpose '{data.purpose}' is not registered.",
            rule_id="R-17-1",
            code="purpose_unknown",
        )
    foreign = is_foreign(row) and row.country not in EQUIVALENT_COUNTRIES
    sheet_version = data.sheet_version
    if foreign:
        sheet = current_sheet(ctx, row.id)
        if sheet is None:
            raise ValidationFailed(
                "外国にある第三者への提供の同意の前に、外国の制度等の情報を登録し本人に提供してください。",
                "Register the foreign information sheet and give it to the person before asking consent.",
                rule_id=R_28_2.id,
                code="no_info_sheet",
            )
        if sheet_version is None or sheet_version != sheet.version:
            raise ValidationFailed(
                f"本人に提供した情報の版が最新（第{sheet.version}版）ではありません。",
                f"The information sheet shown must be the current version ({sheet.version}).",
                rule_id=R_28_2.id,
                code="stale_info_sheet",
            )
    elif sheet_version is not None:
        raise ValidationFailed(
            "外国の制度等の情報の版は、外国にある第三者への提供にだけ指定できます（国内の提供先や、"
            "我が国と同等の水準にあると認められる国（EU・英国）にある提供先には指定できません）。",
            "A version of the information on the foreign country applies only to provision to a third party in a "
            "foreign country (not to a recipient in Japan or in a country recognised as having a level of "
            "protection equivalent to Japan's: the EU and the UK).",
            rule_id=R_28_1.id,
            code="sheet_not_applicable",
        )
    now = ctx.clock.now()
    consent = ProvisionConsent(
        id=new_id(),
        customer_id=data.customer_id,
        counterparty_id=row.id,
        purpose=data.purpose,
        method=data.method,
        evidence=data.evidence,
        foreign=foreign,
        sheet_version=sheet_version,
        granted_at=now,
        recorded_by=ctx.actor.label,
    )
    ctx.session.add(consent)
    ctx.session.flush()
    record_write(
        ctx,
        "provision.consent.grant",
        [data.customer_id],
        [f"provision:{row.id}:{data.purpose}"],
        rule_ids=(R_28_1.id, R_28_2.id) if foreign else (R_27_1.id,),
    )
    return _read(consent)


def withdraw(ctx: Context, consent_id: str) -> ProvisionConsentRead:
    """Withdraw a provision consent; effective at once for every later provision (G-7)."""
    if not _is_id(consent_id):
        raise ValidationFailed("同意IDの形式が不正です。", "Malformed consent id.", code="bad_id")
    consent = ctx.session.get(ProvisionConsent, consent_id)
    if consent is None:
        can_manage(ctx)
        raise NotFound("同意が見つかりません。", "Consent not found.", code="consent_not_found")
    can_manage(ctx, [consent.customer_id])
    if consent.withdrawn_at is not None:
        raise Conflict("既に撤回されています。", "Already withdrawn.", code="already_withdrawn")
    consent.withdrawn_at = ctx.clock.now()
    consent.withdrawn_by = ctx.actor.label
    ctx.session.flush()
    record_write(
        ctx,
        "provision.consent.withdraw",
        [consent.customer_id],
        [f"provision:{consent.counterparty_id}:{consent.purpose}"],
        rule_ids=(G_7.id, R_27_1.id),
    )
    return _read(consent)


def list_consents(
    ctx: Context, customer_id: str | None = None, counterparty_id: str | None = None
) -> list[ProvisionConsentRead]:
    can_read(ctx, [customer_id] if customer_id else [])
    for value in (customer_id, counterparty_id):
        if value is not None and not _is_id(value):
            raise ValidationFailed("IDの形式が不正です。", "Malformed id.", code="bad_id")
    rows = list(ctx.session.execute(queries.consents_of(customer_id, counterparty_id)).scalars())
    record_read(ctx, "provision.consent.list", sorted({r.customer_id for r in rows}), ["provision_consent"])
    return [_read(r) for r in rows]


def _is_id(value: str) -> bool:
    import re

    return re.fullmatch(ID_PATTERN, value) is not None


def has_any(ctx: Context, customer_id: str, counterparty_id: str) -> bool:
    return ctx.session.execute(queries.has_active_consent(customer_id, counterparty_id)).first() is not None
