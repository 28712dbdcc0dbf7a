"""Acquisition costs (issue 24, item 4: CAC): what acquiring customers cost per channel or campaign and period.

A cost line names a provenance channel in use (``web_form``, ``event`` …: a channel recorded on at least one
person's provenance) or ``campaign`` with an acquisition campaign's code (``campaign_id``: a code recorded on at
least one provenance row, ``provenance.campaign``, e.g. ``2026秋フェア``; an e-mail campaign's id is no longer
accepted — e-mail campaigns mail existing customers and acquire nobody), a period (JST dates, both included), an
amount in yen (0 or more) and an optional note. The note describes the spending, never a person: it is scanned with
the registered text scanner and refused (422 ``personal_data_in_text``) when it finds personal data in it — the
same check as the incident register's narrative.

Lines are never changed or deleted. A correction is a new line for the same channel, campaign and period: the
newest line of that key replaces the earlier ones in the CAC (``superseded`` in the list), so a wrong line is
corrected by entering the right amount (0 to cancel it). Nothing here is personal data; each line added is audited
``analytics.cost_add`` (record_write, with the channel, the period and the amount), each listing
``analytics.costs`` with the count.

Authorisation: ``analytics.costs`` (the analyst and the privacy officer).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from mamori.analytics import queries
from mamori.analytics.kpi_schemas import CAMPAIGN, EARLIEST, LATEST, MAX_AMOUNT_YEN, CostIn, CostRead
from mamori.analytics.models import AcquisitionCost
from mamori.analytics.permissions import ANALYTICS_COSTS
from mamori.customers import queries as customers_queries
from mamori.kernel import registry
from mamori.kernel.auditing import authorise, record_read, record_write
from mamori.kernel.context import Context
from mamori.kernel.db import new_id
from mamori.kernel.errors import ValidationFailed
from mamori.kernel.policy import Resource

A_ADD = "analytics.cost_add"
RESOURCE = Resource(kind="analytics_cost")

Key = tuple[str, str | None, object, object]


def _key(row: AcquisitionCost) -> Key:
    return (row.channel, row.campaign_id, row.period_start, row.period_end)


def effective(rows: Iterable[AcquisitionCost]) -> list[AcquisitionCost]:
    """The lines that count: for each channel, campaign and period the newest line (``rows`` oldest first)."""
    newest: dict[Key, AcquisitionCost] = {}
    for row in rows:
        newest[_key(row)] = row
    return list(newest.values())


def _read(row: AcquisitionCost, superseded: bool = False) -> CostRead:
    return CostRead(
        id=row.id,
        channel=row.channel,
        campaign_id=row.campaign_id,
        period_start=row.period_start,
        period_end=row.period_end,
        amount_yen=int(row.amount_yen),
        note=row.note,
        created_by=row.created_by,
        created_at=row.created_at,
        superseded=superseded,
    )


def check_note(note: str | None) -> None:
    """Refuse a note in which the text scanner finds personal data (a name, a phone, an e-mail …); the error names
    the field and the kinds found, never the text. 要配慮 words alone describe no one and are allowed."""
    if not note or not note.strip() or not registry.text_scanning_available():
        return
    kinds = sorted({f.type for f in registry.scan_text(note) if not f.sensitive})
    if kinds:
        raise ValidationFailed(
            "メモに個人データが含まれています。費用の内容を記載し、個人を特定する情報は記載しないでください。",
            "The note contains personal data. Describe the spending, never a person.",
            code="personal_data_in_text",
            details={"fields": ["note"], "kinds": kinds},
        )


def _check_amounts(data: CostIn) -> None:
    """The schema refuses these when it parses input; checked again for a model built in code."""
    if not (EARLIEST <= data.period_start <= LATEST and EARLIEST <= data.period_end <= LATEST):
        raise ValidationFailed(
            f"期間は{EARLIEST.isoformat()}〜{LATEST.isoformat()}の範囲で指定してください。",
            f"The period must be within {EARLIEST.isoformat()} - {LATEST.isoformat()}.",
            code="bad_date",
        )
    if data.period_start > data.period_end:
        raise ValidationFailed(
            "期間の開始日が終了日より後です。", "The period starts after it ends.", code="period_reversed"
        )
    if data.amount_yen < 0 or data.amount_yen > MAX_AMOUNT_YEN:
        raise ValidationFailed(
            f"金額は0〜{MAX_AMOUNT_YEN}円で指定してください。",
            f"The amount must be 0-{MAX_AMOUNT_YEN} yen.",
            code="bad_amount",
        )


def _check_channel(ctx: Context, data: CostIn) -> None:
    if data.channel == CAMPAIGN:
        if data.campaign_id is None:
            raise ValidationFailed(
                "キャンペーンの費用にはキャンペーンコード（campaign_id）が必要です。",
                "A campaign cost needs the acquisition campaign's code (campaign_id).",
                code="campaign_required",
            )
        campaigns = [str(c) for c in ctx.session.execute(customers_queries.campaigns_in_use()).scalars()]
        if data.campaign_id not in campaigns:
            listed = ", ".join(campaigns) or "—"
            raise ValidationFailed(
                f"取得の記録にないキャンペーンです（記録のあるキャンペーン: {listed}）。",
                f"No person was acquired through this campaign (campaigns in use: {listed}).",
                code="unknown_campaign",
                details={"campaigns": campaigns},
            )
        return
    if data.campaign_id is not None:
        raise ValidationFailed(
            "キャンペーンのコードは経路 campaign の費用にだけ指定できます。",
            "A campaign code is given only with the channel campaign.",
            code="campaign_not_expected",
        )
    in_use = [str(c) for c in ctx.session.execute(customers_queries.channels_in_use()).scalars()]
    if data.channel not in in_use:
        listed = ", ".join(in_use) or "—"
        raise ValidationFailed(
            f"取得経路が記録されていない経路です（記録のある経路: {listed}、またはキャンペーンは campaign）。",
            f"No person was acquired through this channel (channels in use: {listed}; or campaign).",
            code="unknown_channel",
            details={"channels": in_use},
        )


def add_cost(ctx: Context, data: CostIn) -> CostRead:
    """Record an acquisition cost (``analytics.costs``); audited with its channel, period and amount."""
    authorise(ctx, ANALYTICS_COSTS, RESOURCE)
    _check_amounts(data)
    _check_channel(ctx, data)
    check_note(data.note)
    row = AcquisitionCost(
        id=new_id(),
        channel=data.channel,
        campaign_id=data.campaign_id,
        period_start=data.period_start,
        period_end=data.period_end,
        amount_yen=data.amount_yen,
        note=data.note.strip() if data.note and data.note.strip() else None,
        created_by=ctx.actor.label,
        created_at=ctx.clock.now(),
    )
    ctx.session.add(row)
    ctx.session.flush()
    record_write(
        ctx,
        A_ADD,
        (),
        (),
        details={
            "cost_id": row.id,
            "channel": row.channel,
            "campaign_id": row.campaign_id,
            "period_start": row.period_start.isoformat(),
            "period_end": row.period_end.isoformat(),
            "amount_yen": row.amount_yen,
        },
    )
    return _read(row)


def list_costs(ctx: Context) -> list[CostRead]:
    """Every cost line, newest first, with whether a later line superseded it (``analytics.costs``)."""
    authorise(ctx, ANALYTICS_COSTS, RESOURCE)
    rows: Sequence[AcquisitionCost] = list(ctx.session.execute(queries.costs()).scalars())
    counted = {r.id for r in effective(rows)}
    out = [_read(r, superseded=r.id not in counted) for r in reversed(rows)]
    record_read(ctx, ANALYTICS_COSTS, (), (), details={"count": len(out)})
    return out
