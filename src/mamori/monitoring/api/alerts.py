"""REST routes of the alert queue and the thresholds, under /api/v1/monitoring (issue 25 "Deliver" 1 and 2).

- ``GET /monitoring/alerts[?status=&signal=&severity=&limit=&before=]`` — the queue, newest first, with counts;
- ``GET /monitoring/alerts/{key}`` — an alert with its history; ``…/entries`` — the audit entries behind it;
- ``POST /monitoring/alerts/{key}/look`` · ``/dismiss`` ``{reason, note?}`` · ``/incident`` ``{title?}``;
- ``GET /monitoring/settings`` · ``PUT /monitoring/settings/signals/{code}`` · ``PUT /monitoring/settings``.

``key`` is the alert's id or its number (``ALT-0007`` or ``7``). The services authorise and audit; errors are
problem+json without values (own alert: 403 with R-23-2; a closed alert: 409).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from mamori.kernel.http.deps import PlainContext
from mamori.kernel.http.problems import responses
from mamori.monitoring.alert_schemas import (
    AlertDetail,
    AlertEntries,
    AlertIncident,
    AlertIncidentIn,
    AlertList,
    AlertRead,
    DismissIn,
)
from mamori.monitoring.schemas import MonitoringSettingsRead, SettingsIn, SignalSettingIn
from mamori.monitoring.service import alerts as service
from mamori.monitoring.service import settings as settings_service

router = APIRouter(prefix="/monitoring")
Key = Annotated[str, Path(pattern=r"^(?:[0-9a-f]{32}|(?:ALT-|alt-)?[0-9]{1,9})$")]
SignalCode = Annotated[str, Path(pattern=r"^[a-z_]{1,32}$")]


@router.get("/alerts", response_model=AlertList, responses=responses(401, 403, 422))
def alerts(
    ctx: PlainContext,
    status: Annotated[str | None, Query(pattern=r"^(new|looking|dismissed|incident|open)$")] = None,
    signal: Annotated[str | None, Query(pattern=r"^[a-z_]{1,32}$")] = None,
    severity: Annotated[str | None, Query(pattern=r"^(high|medium|low)$")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    before: Annotated[int | None, Query(ge=1)] = None,
) -> AlertList:
    """監視アラートの一覧（新しい順）と状態ごとの件数 / the alert queue, newest first, with counts."""
    return service.list_alerts(
        ctx, status=status, signal=signal, severity=severity, limit=limit, before=before
    )


@router.get("/alerts/{key}", response_model=AlertDetail, responses=responses(401, 403, 404))
def alert(ctx: PlainContext, key: Key) -> AlertDetail:
    """アラートの詳細と履歴 / one alert with its history."""
    return service.get(ctx, key)


@router.get("/alerts/{key}/entries", response_model=AlertEntries, responses=responses(401, 403, 404))
def entries(ctx: PlainContext, key: Key) -> AlertEntries:
    """アラートの根拠となった監査ログの記録（人数のみ、誰かは示さない） / the audit entries behind an alert."""
    return service.entries(ctx, key)


@router.post("/alerts/{key}/look", response_model=AlertRead, responses=responses(401, 403, 404, 409))
def look(ctx: PlainContext, key: Key) -> AlertRead:
    """確認中にする / mark the alert as being looked at."""
    return service.look(ctx, key)


@router.post("/alerts/{key}/dismiss", response_model=AlertRead, responses=responses(401, 403, 404, 409, 422))
def dismiss(ctx: PlainContext, key: Key, body: DismissIn) -> AlertRead:
    """対応不要にする（理由の区分、その他はメモ必須） / dismiss with a reason code."""
    return service.dismiss(ctx, key, body.reason, body.note)


@router.post(
    "/alerts/{key}/incident", response_model=AlertIncident, responses=responses(401, 403, 404, 409, 422)
)
def incident(ctx: PlainContext, key: Key, body: AlertIncidentIn | None = None) -> AlertIncident:
    """事案として登録（影響範囲は監査ログから） / open an incident from the alert, its scope from the log."""
    return service.open_incident(ctx, key, body.title if body else None)


@router.get("/settings", response_model=MonitoringSettingsRead, responses=responses(401, 403))
def settings(ctx: PlainContext) -> MonitoringSettingsRead:
    """閾値・業務時間・見直しの設定 / thresholds, working hours, review settings."""
    return settings_service.get(ctx)


@router.put(
    "/settings/signals/{code}",
    response_model=MonitoringSettingsRead,
    responses=responses(401, 403, 404, 422),
)
def set_signal(ctx: PlainContext, code: SignalCode, body: SignalSettingIn) -> MonitoringSettingsRead:
    """シグナルの有効・閾値・重要度を変更 / change one signal's switch, threshold or severity."""
    return settings_service.set_signal(ctx, code, body)


@router.put("/settings", response_model=MonitoringSettingsRead, responses=responses(401, 403, 422))
def update_settings(ctx: PlainContext, body: SettingsIn) -> MonitoringSettingsRead:
    """業務時間・見直しの間隔・未使用日数・閲覧の下限を変更 / change hours, review settings, read floor."""
    return settings_service.update(ctx, body)
