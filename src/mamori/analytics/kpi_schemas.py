"""What the KPI dashboard, the acquisition costs, the seed 002 checklist and the data map look like to the CLI, the
API and the web pages (issue 24, items 4 and 5). Documented in ``docs/analytics-kpi.md``.

Counts, rates, dates, codes and organisation names only: no customer id, no personal value. ``ChartData`` is the
shape the web app hands to Chart.js (``kernel/http/static/charts.js``): keep it as it is.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from mamori.customers.schemas import campaign_code
from mamori.kernel.schemas import InputModel
from mamori.kernel.validation import Invalid

# -- charts (the web app draws these with Chart.js) ----------------------------------------------------------------

ChartKind = Literal["bar", "line", "doughnut"]


class ChartSeries(BaseModel):
    """One dataset of a chart: its label in both languages and one value per label of the chart (None: no data)."""

    label_ja: str
    label_en: str
    data: list[float | None]


class ChartData(BaseModel):
    """One chart. ``labels`` are the x-axis categories (months ``2026-01``, purpose titles, causes) in the language
    of the request; every dataset has one value per label."""

    id: str
    kind: ChartKind
    title_ja: str
    title_en: str
    labels: list[str]
    datasets: list[ChartSeries]


# -- KPIs ----------------------------------------------------------------------------------------------------------

KpiGroup = Literal["business", "privacy"]
# percent: 0–100; yen: 円 per person; days: calendar days; count: people or cases; score: 0–1
KpiUnit = Literal["percent", "yen", "days", "count", "score"]


class KpiEvidence(BaseModel):
    """What was counted: the numerator and the denominator with their meaning, the tables or services read, and
    further figures (counts by status, the run a value comes from …)."""

    numerator: float | None = None
    numerator_ja: str = ""
    numerator_en: str = ""
    denominator: float | None = None
    denominator_ja: str = ""
    denominator_en: str = ""
    sources: list[str] = Field(default_factory=list)
    figures: dict[str, float | int | str | None] = Field(default_factory=dict)


class Kpi(BaseModel):
    """One indicator. ``key`` names the breakdown when the indicator is given per channel, purpose, trigger …
    (None: the whole). ``value`` is None when it cannot be computed; ``note_ja`` / ``note_en`` then say why and what
    to do."""

    code: str
    key: str | None = None
    group: KpiGroup
    label_ja: str
    label_en: str
    value: float | None
    unit: KpiUnit
    definition_ja: str
    definition_en: str
    evidence: KpiEvidence
    note_ja: str | None = None
    note_en: str | None = None


class KpiReport(BaseModel):
    """The KPIs of the period ``start``–``end`` (JST dates, both included) and the dashboard's charts."""

    generated_at: datetime
    start: date
    end: date
    kpis: list[Kpi]
    charts: list[ChartData]


# -- acquisition costs ---------------------------------------------------------------------------------------------

CAMPAIGN = "campaign"  # the channel of a cost entered for an acquisition campaign (``campaign_id``: its code)
MAX_AMOUNT_YEN = 10**13  # ten trillion yen: anything larger is a typing mistake
EARLIEST = date(1900, 1, 1)  # dates of a period or a cost outside these are typing mistakes
LATEST = date(2999, 12, 31)


class CostIn(InputModel):
    """An acquisition cost: what acquiring customers through a channel (a provenance channel in use, e.g.
    ``web_form``) or an acquisition campaign (``channel="campaign"`` and ``campaign_id`` = the campaign's code as
    recorded on provenance, e.g. ``2026秋フェア``) cost over a period. The note describes the spending, never a
    person."""

    model_config = ConfigDict(extra="forbid")

    channel: str = Field(min_length=1, max_length=32, pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$")
    campaign_id: str | None = None  # the acquisition campaign's code (bad_campaign_code as on provenance)
    period_start: date = Field(ge=EARLIEST, le=LATEST)
    period_end: date = Field(ge=EARLIEST, le=LATEST)
    amount_yen: int = Field(ge=0, le=MAX_AMOUNT_YEN)
    note: str | None = Field(default=None, max_length=1000)

    @field_validator("campaign_id", mode="before")
    @classmethod
    def _campaign(cls, v: object) -> object:
        return campaign_code(v) if isinstance(v, str) else v  # normalised as provenance.campaign is

    @model_validator(mode="after")
    def _period_in_order(self) -> CostIn:
        if self.period_start > self.period_end:
            raise Invalid("期間の開始日が終了日より後です", "the period starts after it ends")
        return self


class CostRead(BaseModel):
    """One cost line. ``superseded``: a later line for the same channel, campaign and period replaces it (a
    correction is a new line; lines are never changed or deleted)."""

    id: str
    channel: str
    campaign_id: str | None
    period_start: date
    period_end: date
    amount_yen: int
    note: str | None
    created_by: str
    created_at: datetime
    superseded: bool = False


# -- the seed 002 checklist ----------------------------------------------------------------------------------------

CheckStatus = Literal["ok", "attention", "ng", "manual"]


class Finding(BaseModel):
    """One piece of evidence: the figure and where it comes from, in both languages."""

    ja: str
    en: str


class ChecklistItem(BaseModel):
    """One question of seed 002's practical checklist, answered from the system's own state. ``manual``: the
    software cannot know; the evidence says what it does know and what a person must check."""

    id: str
    question_ja: str
    question_en: str
    status: CheckStatus
    evidence: list[Finding]
    rule_ids: list[str]


class ChecklistReport(BaseModel):
    generated_at: datetime
    items: list[ChecklistItem]
    counts: dict[str, int]  # status -> items


# -- the data map --------------------------------------------------------------------------------------------------

NodeKind = Literal[
    "self", "person", "store", "third_party", "outsourcee", "sub_outsourcee", "joint_user", "succession"
]
FlowBasis = Literal[
    "collection",  # from the person (or a provider) into our stores
    "consent",  # third-party provision with the person's consent (R-27-1)
    "exception",  # a statutory exception (R-27-1 ①-④)
    "opt_out",  # opt-out provision filed with the PPC (R-27-4)
    "joint_use",  # joint use notified in advance (R-27-2 (c))
    "entrustment",  # an outsourcee under a contract (R-27-2 (a), R-25-1)
    "sub_entrustment",  # an approved sub-outsourcee of a contract
    "succession",  # business succession (R-27-2 (b))
    "receipt",  # received from a provider (R-30-1)
    "storage",  # a storage location whose provider handles the data (R-28-4)
]


class DataStore(BaseModel):
    """Where personal data is stored: a registered subject data source (``kind="source"``: the slice and its
    tables) or a storage location of the inventory (``kind="location"``: a database, backup, cloud … with its
    country)."""

    id: str  # "source:<name>" / "location:<code>"
    kind: Literal["source", "location"]
    name: str  # the source's registered name, or the location's name
    label_ja: str
    label_en: str
    tables: list[str] = Field(default_factory=list)
    categories: list[str] = Field(default_factory=list)  # data categories (identifier, contact …)
    purposes: list[str] = Field(default_factory=list)  # purpose codes ([] = every purpose)
    country: str | None = None
    region: str | None = None
    handles_data: bool | None = None  # location: the provider handles the data (R-28-4)


class MapNode(BaseModel):
    """A party data moves between: ourselves, the person, a counterparty (by its organisation name)."""

    id: str  # "self", "person", "counterparty:<id>", "subcontract:<id>", "store:<store id>"
    kind: NodeKind
    name: str
    country: str | None = None


class Flow(BaseModel):
    """Data moving from one node to another: which categories and items, for which purposes, on which basis, and
    the country when it leaves Japan (``cross_border``). ``count``: people or provisions behind it when known."""

    model_config = ConfigDict(validate_by_name=True, validate_by_alias=True, serialize_by_alias=True)

    id: str
    from_: str = Field(alias="from")
    to: str
    categories: list[str]
    items: list[str] = Field(default_factory=list)
    purposes: list[str] = Field(default_factory=list)
    basis: FlowBasis
    basis_ja: str
    basis_en: str
    cross_border: str | None = None  # ISO country code of the recipient abroad, else None
    safeguard_ja: str | None = None  # R-28-1 basis for a cross-border flow
    safeguard_en: str | None = None
    rule_ids: list[str] = Field(default_factory=list)
    count: int | None = None
    last_at: datetime | None = None


class PurposeNode(BaseModel):
    code: str
    title_ja: str
    title_en: str
    categories: list[str]
    third_party: bool
    profiling: bool = False


class DataMap(BaseModel):
    """Where each category is stored, who it goes to and under which basis (seed 002: データフローと保管場所)."""

    generated_at: datetime
    nodes: list[MapNode]
    stores: list[DataStore]
    flows: list[Flow]
    purposes: list[PurposeNode]
    notes: list[Finding]
