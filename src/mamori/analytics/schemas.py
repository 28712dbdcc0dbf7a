"""What the analytics slice's runs and segments look like to the CLI, the API and the web pages.

Aggregates and pseudonyms only: a run's ``summary`` holds thresholds, counts, model parameters and metrics; its
``rows`` (when asked for) hold one line per pseudonym (``P-…`` or the 仮名加工情報's keyed id), never a customer id,
a name or a contact point.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from mamori.kernel.schemas import InputModel

RunKind = Literal["rfm", "lifestage", "behaviour", "clv", "churn"]
PathKind = Literal["personal", "pseudonymised"]

KIND_LABELS: dict[str, tuple[str, str]] = {
    "rfm": ("RFM 分析", "RFM analysis"),
    "lifestage": ("ライフステージ（年代）", "Life stage (age bands)"),
    "behaviour": ("行動セグメント", "Behaviour segments"),
    "clv": ("顧客生涯価値（BG/NBD + Gamma-Gamma）", "Customer lifetime value (BG/NBD + Gamma-Gamma)"),
    "churn": ("離反予測", "Churn prediction"),
}
PATH_LABELS: dict[str, tuple[str, str]] = {
    "personal": ("個人データ（分析を含む利用目的）", "Personal data (a purpose that states analysis)"),
    "pseudonymised": ("仮名加工情報", "Pseudonymised data"),
}
MAX_ROWS = 5000  # per-subject lines returned by the API / shown on a page at most


class RunRead(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    kind: RunKind
    kind_ja: str
    path: PathKind
    path_ja: str
    purpose: str
    purpose_version: int | None
    dataset_id: str | None
    params: dict[str, Any]
    summary: dict[str, Any]
    rows_in: int
    subjects: int
    left_out: dict[str, int]
    seconds: float | None
    created_by: str
    created_at: datetime


class RunResult(BaseModel):
    """A run and (optionally) its per-pseudonym lines, at most ``MAX_ROWS``; ``rows_total`` says how many exist."""

    run: RunRead
    columns: list[str]
    rows: list[list[Any]]
    rows_total: int
    segment: SegmentRead | None = None


class RunRequest(InputModel):
    """What to run (API body). ``dataset``: the file name of a registered 仮名加工情報 in the server's data
    directory for the pseudonymised path; absent for the personal path."""

    purpose: str = Field(min_length=1, max_length=64)
    kind: RunKind
    as_of: date | None = None
    bins: int = Field(default=5, ge=2, le=10)
    horizon_days: int | None = Field(default=None, ge=30, le=1825)  # clv 365, churn 180 when absent
    rows: int = Field(default=100, ge=0, le=MAX_ROWS)
    save_as: str | None = Field(default=None, min_length=1, max_length=64)
    take: list[str] = Field(default_factory=list, max_length=20)
    note: str | None = Field(default=None, max_length=400)


class SegmentRead(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    name: str
    version: int
    kind: str
    path: PathKind
    purpose: str
    run_id: str
    definition: dict[str, Any]
    members: int  # at cut time
    # still members now: a person erased or disposed of since leaves the segment (personal path; None: not counted)
    members_now: int | None = None
    note: str | None
    contactable: bool  # may feed a contact list (personal path only; R-41-5)
    created_by: str
    created_at: datetime


RunResult.model_rebuild()
