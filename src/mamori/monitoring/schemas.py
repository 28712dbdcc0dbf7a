"""Shapes of the monitoring slice's settings (issue 25). Alerts, reviews and the report have their own modules
(``alert_schemas``, ``review_schemas``, ``report_schemas``)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, model_validator

from mamori.kernel.schemas import InputModel

Severity = Literal["low", "medium", "high"]


class SignalSetting(BaseModel):
    code: str
    name: str  # in the reader's language
    unit: str
    explain: str
    enabled: bool
    threshold: float
    severity: Severity
    default_threshold: float
    default_severity: Severity


class Hours(BaseModel):
    start: int = Field(ge=0, le=23)
    end: int = Field(ge=1, le=24)

    @model_validator(mode="after")
    def _ordered(self) -> Hours:
        if self.start >= self.end:
            raise ValueError("業務時間の開始は終了より前です / start must be before end")
        return self


class ReviewSettings(BaseModel):
    interval_months: int = Field(ge=1, le=12)
    unused_days: int = Field(ge=1, le=730)


class MonitoringSettingsRead(BaseModel):
    signals: list[SignalSetting]
    hours: Hours
    review: ReviewSettings
    read_floor: int


class SignalSettingIn(InputModel):
    """Changing one signal: only the fields given change."""

    enabled: bool | None = None
    threshold: float | None = Field(default=None, gt=0, le=1_000_000)
    severity: Severity | None = None


class SettingsIn(InputModel):
    """Working hours, the review interval and unused-account limit, the read-volume floor: only those given."""

    hours_start: int | None = Field(default=None, ge=0, le=23)
    hours_end: int | None = Field(default=None, ge=1, le=24)
    review_interval_months: int | None = Field(default=None, ge=1, le=12)
    unused_days: int | None = Field(default=None, ge=1, le=730)
    read_floor: int | None = Field(default=None, ge=1, le=1_000_000)


class EvaluationRead(BaseModel):
    """What one evaluation of the audit log did (counts only)."""

    mode: Literal["incremental", "rebuild"]
    from_seq: int  # entries after this sequence number …
    to_seq: int  # … up to this one were read
    entries: int
    groups: int  # aggregate groups the one pass returned
    days: int  # (person, day) cells evaluated
    raised: int
    updated: int
    kept_dismissed: int  # alerts seen again on a day already dismissed (left dismissed)
    mailed: int
    seconds: float
    alert_ids: list[str] = Field(default_factory=list)
