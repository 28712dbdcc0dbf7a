"""What the privacy officer set (issue 25): each signal's switch, threshold and severity; working hours; the
access-review interval and the unused-account limit; the read-volume floor.

Stored as canonical JSON per key in ``monitoring_settings``; a key never set takes the default of
:mod:`mamori.monitoring.signals`. Reading the settings needs ``monitoring.read`` (or the action of the caller:
evaluation and reviews read them as the system); changing them needs ``monitoring.settings`` and is audited
(``monitoring.settings``, the key and the new values — codes and numbers only).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import select

from mamori.kernel.auditing import authorise, record_write
from mamori.kernel.context import Context
from mamori.kernel.errors import NotFound, ValidationFailed
from mamori.kernel.policy import Resource
from mamori.monitoring.models import MonitoringSetting
from mamori.monitoring.permissions import MONITORING_READ, MONITORING_SETTINGS
from mamori.monitoring.schemas import (
    Hours,
    MonitoringSettingsRead,
    ReviewSettings,
    SettingsIn,
    SignalSetting,
    SignalSettingIn,
)
from mamori.monitoring.signals import (
    BY_CODE,
    DEFAULT_HOURS,
    DEFAULT_READ_FLOOR,
    DEFAULT_REVIEW,
    SIGNALS,
)

RESOURCE = Resource(kind="monitoring")
A_SETTINGS = "monitoring.settings"


@dataclass(frozen=True)
class SignalRule:
    code: str
    enabled: bool
    threshold: float
    severity: str


@dataclass(frozen=True)
class Settings:
    """The settings in force, as the evaluation and the reviews use them."""

    signals: dict[str, SignalRule]
    hours_start: int
    hours_end: int
    review_interval_months: int
    unused_days: int
    read_floor: int


def _stored(ctx: Context) -> dict[str, object]:
    return {
        row.key: json.loads(row.value) for row in ctx.session.execute(select(MonitoringSetting)).scalars()
    }


def current(ctx: Context) -> Settings:
    """The settings in force (no authorisation: for the slice's own services)."""
    stored = _stored(ctx)
    rules: dict[str, SignalRule] = {}
    for sig in SIGNALS:
        raw = stored.get(f"signal.{sig.code}")
        got = raw if isinstance(raw, dict) else {}
        rules[sig.code] = SignalRule(
            sig.code,
            bool(got.get("enabled", True)),
            float(got.get("threshold", sig.threshold)),
            str(got.get("severity", sig.severity)),
        )
    hours = stored.get("hours")
    hours = hours if isinstance(hours, dict) else DEFAULT_HOURS
    review = stored.get("review")
    review = review if isinstance(review, dict) else DEFAULT_REVIEW
    floor = stored.get("read_floor")
    return Settings(
        signals=rules,
        hours_start=int(hours.get("start", DEFAULT_HOURS["start"])),
        hours_end=int(hours.get("end", DEFAULT_HOURS["end"])),
        review_interval_months=int(review.get("interval_months", DEFAULT_REVIEW["interval_months"])),
        unused_days=int(review.get("unused_days", DEFAULT_REVIEW["unused_days"])),
        read_floor=int(floor) if isinstance(floor, int | float) else DEFAULT_READ_FLOOR,
    )


def to_read(settings: Settings, lang: str = "ja") -> MonitoringSettingsRead:
    en = lang == "en"
    return MonitoringSettingsRead(
        signals=[
            SignalSetting(
                code=sig.code,
                name=sig.en if en else sig.ja,
                unit=sig.unit_en if en else sig.unit_ja,
                explain=sig.explain_en if en else sig.explain_ja,
                enabled=settings.signals[sig.code].enabled,
                threshold=settings.signals[sig.code].threshold,
                severity=settings.signals[sig.code].severity,
                default_threshold=sig.threshold,
                default_severity=sig.severity,
            )
            for sig in SIGNALS
        ],
        hours=Hours(start=settings.hours_start, end=settings.hours_end),
        review=ReviewSettings(
            interval_months=settings.review_interval_months, unused_days=settings.unused_days
        ),
        read_floor=settings.read_floor,
    )


def get(ctx: Context) -> MonitoringSettingsRead:
    """The settings for the privacy officer's screen (``monitoring.read``)."""
    authorise(ctx, MONITORING_READ, RESOURCE)
    return to_read(current(ctx), ctx.lang)


def _put(ctx: Context, key: str, value: dict[str, object] | int) -> None:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"))
    row = ctx.session.get(MonitoringSetting, key)
    now = ctx.clock.now()
    if row is None:
        ctx.session.add(MonitoringSetting(key=key, value=text, updated_by=ctx.actor.label, updated_at=now))
    else:
        row.value, row.updated_by, row.updated_at = text, ctx.actor.label, now
    ctx.session.flush()


def set_signal(ctx: Context, code: str, data: SignalSettingIn) -> MonitoringSettingsRead:
    """Change one signal's switch, threshold or severity (``monitoring.settings``, audited)."""
    authorise(ctx, MONITORING_SETTINGS, RESOURCE)
    if code not in BY_CODE:
        raise NotFound("そのシグナルはありません。", "No such signal.", code="signal_not_found")
    rule = current(ctx).signals[code]
    new = {
        "enabled": rule.enabled if data.enabled is None else data.enabled,
        "threshold": rule.threshold if data.threshold is None else data.threshold,
        "severity": rule.severity if data.severity is None else data.severity,
    }
    _put(ctx, f"signal.{code}", new)
    record_write(
        ctx,
        A_SETTINGS,
        (),
        ("signal",),
        details={
            "key": f"signal.{code}",
            "enabled": bool(new["enabled"]),
            "threshold": str(new["threshold"]),
            "severity": str(new["severity"]),
        },
    )
    return to_read(current(ctx), ctx.lang)


def update(ctx: Context, data: SettingsIn) -> MonitoringSettingsRead:
    """Change working hours, the review interval, the unused-account limit or the read floor (audited)."""
    authorise(ctx, MONITORING_SETTINGS, RESOURCE)
    now = current(ctx)
    start = now.hours_start if data.hours_start is None else data.hours_start
    end = now.hours_end if data.hours_end is None else data.hours_end
    if start >= end:
        raise ValidationFailed(
            "業務時間の開始は終了より前にしてください。",
            "Working hours must start before they end.",
            code="bad_hours",
            details={"field": "hours"},
        )
    changed: dict[str, str | int | bool | None] = {}
    if data.hours_start is not None or data.hours_end is not None:
        _put(ctx, "hours", {"start": start, "end": end})
        changed |= {"hours_start": start, "hours_end": end}
    if data.review_interval_months is not None or data.unused_days is not None:
        months = (
            now.review_interval_months if data.review_interval_months is None else data.review_interval_months
        )
        days = now.unused_days if data.unused_days is None else data.unused_days
        _put(ctx, "review", {"interval_months": months, "unused_days": days})
        changed |= {"review_interval_months": months, "unused_days": days}
    if data.read_floor is not None:
        _put(ctx, "read_floor", data.read_floor)
        changed["read_floor"] = data.read_floor
    if changed:
        record_write(ctx, A_SETTINGS, (), tuple(sorted(changed)), details=changed)
    return to_read(current(ctx), ctx.lang)
