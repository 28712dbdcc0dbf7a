"""The two lawful ways data reaches an analysis (issue 24, item 1).

**Personal data under a profiling purpose** (:func:`personal`). ``ctx.purpose`` must exist, be in force and state
analysis / profiling in its notice (``PurposeFacts.profiling``; R-17-1 — a purpose that analyses behaviour must say
so). Then the customers slice decides every person (:func:`mamori.customers.service.analysable.analysable`):
notified of the purpose, not stopped, consenting where needed; only the allowed are read, and only birth date,
gender and their activities' kind, time and amount. The people are handed to the analysis under a pseudonym (a keyed
hash of the customer id under the store's system key ``analytics.pseudonym``): no name, no contact point, no
customer id leaves this module; the map back to customer ids stays in memory for saving a segment.

**仮名加工情報 produced by the deid slice** (:func:`dataset`). The file must be registered in the deid slice's
register as pseudonymised (by its bytes' SHA-256); its registered purpose must be ``ctx.purpose`` (R-41-3: used only
within the purpose it was made for); it may be joined only with another registered 仮名加工情報 of the same purpose,
never with identity or contact data (R-41-5) nor with 匿名加工情報 (R-43-5: collating anonymised data is refused).
Results stay internal: segments cut from it hold pseudonyms and can never feed a contact list (R-41-5).

:func:`extract` makes such a file from the personal path: the purpose's analysis fields, pseudonymised by the deid
slice (``deid.service.pseudonymise``: keyed ids, R-41-1/R-41-2) and registered — the internal analysis path of
issue 24 end to end.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

import polars as pl

from mamori.analytics.compute.lifestage import with_age_band
from mamori.analytics.models import PERSONAL, PSEUDONYMISED
from mamori.analytics.permissions import ANALYTICS_PSEUDONYMISED, ANALYTICS_RUN
from mamori.customers.service.analysable import analysable
from mamori.deid import queries as deid_queries
from mamori.deid import service as deid_service
from mamori.deid.models import DeidDataset
from mamori.kernel.auditing import record_denial
from mamori.kernel.clock import JST
from mamori.kernel.context import Context
from mamori.kernel.errors import PolicyDenied, ValidationFailed
from mamori.kernel.policy import Decision, PurposeFacts, Resource, decide
from mamori.kernel.registry import DatasetUse
from mamori.purposes import service as purposes_service

PSEUDONYM_KEY = "analytics.pseudonym"
PSEUDONYM_PREFIX = "P-"
KINDS = ("purchase", "inquiry", "call", "note")


@dataclass(frozen=True)
class AnalysisData:
    """What an analysis works on. ``transactions``: subject, occurred_at, amount (purchases); ``activities``:
    subject, kind, occurred_at; ``people``: subject, gender, age_band (None where masked or absent)."""

    path: str
    purpose: str
    purpose_version: int | None
    transactions: pl.DataFrame
    activities: pl.DataFrame
    people: pl.DataFrame
    as_of: date
    considered: int = 0
    excluded: Mapping[str, int] = field(default_factory=dict)
    masked: frozenset[str] = frozenset()
    dataset_id: str | None = None
    dataset_file: str | None = None
    # personal path only, never shown: pseudonym -> customer id (to save a segment usable by a contact list)
    customer_of: Mapping[str, str] = field(default_factory=dict, repr=False)

    @property
    def rows_in(self) -> int:
        return self.activities.height if self.activities.height else self.transactions.height

    @property
    def subjects(self) -> int:
        return self.people.height


def _deny(ctx: Context, action: str, code: str, rule: str, ja: str, en: str) -> None:
    decision = Decision(False, (rule,), frozenset(), ja, en, code)
    record_denial(ctx, action, (), decision)
    decision.raise_if_denied()


def profiling_facts(ctx: Context) -> PurposeFacts:
    """The declared purpose's facts if analysis of personal data may run under it; refused (audited) otherwise:
    the role (R-23-2), no purpose (R-18-1), an unknown or retired purpose (R-17-1), a purpose whose notice does
    not state analysis / profiling (R-17-1)."""
    facts = purposes_service.facts(ctx, ctx.purpose)
    # the engine's answer for a person as favourable as can be: the role, the training, the purpose itself
    probe = decide(
        ctx,
        ANALYTICS_RUN,
        Resource(
            kind="customer",
            owner_id=ctx.actor.id,
            purpose=facts,
            notified_purposes=frozenset({ctx.purpose}) if ctx.purpose else frozenset(),
        ),
    )
    if not probe.allowed:
        record_denial(ctx, ANALYTICS_RUN, (), probe)
        probe.raise_if_denied()
    assert facts is not None
    if facts.retired:
        _deny(
            ctx,
            ANALYTICS_RUN,
            "purpose_retired",
            "R-17-1",
            f"利用目的「{facts.code}」は廃止されています。",
            f"Purpose '{facts.code}' has been retired.",
        )
    if not facts.profiling:
        _deny(
            ctx,
            ANALYTICS_RUN,
            "purpose_without_profiling",
            "R-17-1",
            f"利用目的「{facts.code}」の通知・公表は分析（プロファイリング）を含むと述べていません。"
            "分析を含む利用目的（例: analytics）を指定するか、仮名加工情報で分析してください。",
            f"Purpose '{facts.code}' does not state analysis or profiling in its notice. Use a purpose that does "
            "(e.g. analytics), or analyse pseudonymised data.",
        )
    return facts


def pseudonymiser(ctx: Context) -> PseudonymFn:
    key = ctx.runtime.keystore.system_key(PSEUDONYM_KEY)
    return PseudonymFn(key)


@dataclass(frozen=True)
class PseudonymFn:
    key: bytes = field(repr=False)

    def __call__(self, customer_id: str) -> str:
        digest = hmac.digest(self.key, customer_id.encode("ascii"), "sha256")
        return PSEUDONYM_PREFIX + digest[:8].hex()


def personal(ctx: Context, *, as_of: date | None = None) -> AnalysisData:
    """The personal path (see the module docstring). Not audited here: the run that uses it is."""
    facts = profiling_facts(ctx)
    result = analysable(ctx, ANALYTICS_RUN, facts)
    today = as_of or ctx.clock.now().astimezone(JST).date()
    name = pseudonymiser(ctx)
    customer_of: dict[str, str] = {}
    subjects: list[str] = []
    genders: list[str | None] = []
    births: list[date | None] = []
    for p in result.people:
        pid = name(p.customer_id)
        customer_of[pid] = p.customer_id
        subjects.append(pid)
        genders.append(p.gender)
        births.append(_date_or_none(p.birth_date))
    people = pl.DataFrame(
        {"subject": subjects, "gender": genders, "birth_date": births},
        schema={"subject": pl.String, "gender": pl.String, "birth_date": pl.Date},
    )
    people = with_age_band(people, "birth_date", today).drop("birth_date")
    pid_of = {cid: pid for pid, cid in customer_of.items()}
    acts = result.activities
    activities = pl.DataFrame(
        {
            "subject": [pid_of[a.customer_id] for a in acts],
            "kind": [a.kind for a in acts],
            "occurred_at": [a.occurred_at for a in acts],
            "amount": [a.amount for a in acts],
        },
        schema={
            "subject": pl.String,
            "kind": pl.String,
            "occurred_at": pl.Datetime("us", "UTC"),
            "amount": pl.Int64,
        },
    )
    return AnalysisData(
        path=PERSONAL,
        purpose=facts.code,
        purpose_version=result.purpose_version,
        transactions=_purchases(activities),
        activities=activities.drop("amount"),
        people=people,
        as_of=today,
        considered=result.considered,
        excluded=result.excluded,
        masked=result.masked,
        customer_of=customer_of,
    )


def _date_or_none(text: str | None) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _purchases(activities: pl.DataFrame) -> pl.DataFrame:
    return activities.filter(pl.col("kind") == "purchase").select(
        "subject", "occurred_at", pl.col("amount").fill_null(0)
    )


# -- the 仮名加工情報 path ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DatasetColumns:
    """Which columns of a pseudonymised file hold what (the names the deid slice kept)."""

    subject: str = "customer_id"
    occurred_at: str = "occurred_at"
    amount: str = "amount"
    kind: str | None = "kind"  # None: every row is a purchase
    gender: str | None = None  # optional: left out quietly when the file has no such column
    age_band: str | None = None  # likewise


def _registered(ctx: Context, path: Path) -> tuple[str, object]:
    """The deid register's entry for this file (by its bytes), or a refusal naming what to do."""
    if not path.is_file():
        raise ValidationFailed(
            f"ファイル {path.name} がありません。", f"File {path.name} does not exist.", code="no_file"
        )
    sha = deid_service._sha256(path)
    use = DatasetUse(use=str(ANALYTICS_PSEUDONYMISED), file_name=path.name, sha256=sha, path=path)
    kind = deid_service.dataset_kind(ctx, use)
    return sha, kind


def _dataset_row(ctx: Context, sha: str) -> DeidDataset | None:
    """The newest pseudonymised entry of the register with these bytes (a file may be registered twice)."""
    rows = ctx.session.execute(deid_queries.datasets_by_sha(sha)).scalars().all()
    found = [r for r in rows if r.kind == "pseudonymised"]
    return max(found, key=lambda r: r.created_at) if found else None


def dataset(
    ctx: Context,
    path: Path,
    *,
    columns: DatasetColumns | None = None,
    join: Sequence[Path] = (),
    as_of: date | None = None,
) -> AnalysisData:
    """The 仮名加工情報 path (see the module docstring); refusals audited under ``analytics.pseudonymised``."""
    action = str(ANALYTICS_PSEUDONYMISED)
    decision = decide(ctx, ANALYTICS_PSEUDONYMISED, Resource(kind="analytics_dataset"))
    if not decision.allowed:
        record_denial(ctx, ANALYTICS_PSEUDONYMISED, (), decision)
        decision.raise_if_denied()
    if not ctx.purpose:
        _deny(
            ctx,
            action,
            "purpose_required",
            "R-18-1",
            "分析には利用目的の指定が必要です（-p analytics など）。",
            "An analysis needs a declared purpose (-p analytics …).",
        )
    cols = columns or DatasetColumns()
    sha, kind = _registered(ctx, path)
    if kind is None:
        raise ValidationFailed(
            f"{path.name} は登録された仮名加工情報ではありません。`mamori analytics extract` または "
            "`mamori deid pseudonymise` で作成したファイルを指定してください。",
            f"{path.name} is not a registered pseudonymised dataset. Use a file made by `mamori analytics extract`"
            " or `mamori deid pseudonymise`.",
            code="not_pseudonymised",
        )
    if kind != "pseudonymised":
        raise ValidationFailed(
            f"{path.name} は匿名加工情報です。個人ごとの分析には仮名加工情報を使います。",
            f"{path.name} is anonymised data; per-person analysis uses pseudonymised data.",
            code="anonymised_dataset",
        )
    row = _dataset_row(ctx, sha)
    if row is not None and row.purpose != ctx.purpose:
        _deny(
            ctx,
            action,
            "outside_dataset_purpose",
            "R-41-3",
            f"この仮名加工情報は利用目的「{row.purpose}」のために作成されました。その目的の範囲でのみ利用できます。",
            f"This pseudonymised dataset was made for the purpose '{row.purpose}' and may be used only within it.",
        )
    frame = _read(path)
    for other in join:
        frame = _join(ctx, action, frame, other, cols.subject)
    bad = check_identity(frame.columns)
    if bad:
        _deny(
            ctx,
            action,
            "identity_columns",
            "R-41-5",
            "仮名加工情報に本人を識別する列・連絡先の列があります: " + ", ".join(bad),
            "The pseudonymised data holds identity or contact columns: " + ", ".join(bad),
        )
    data = _frames(frame, cols, as_of or ctx.clock.now().astimezone(JST).date())
    return AnalysisData(
        path=PSEUDONYMISED,
        purpose=ctx.purpose or "",
        purpose_version=None,
        dataset_id=row.id if row else None,
        dataset_file=path.name,
        considered=data[2].height,
        transactions=data[0],
        activities=data[1],
        people=data[2],
        as_of=data[3],
    )


def check_identity(columns: Sequence[str]) -> list[str]:
    """Identity / contact columns among ``columns`` (the deid slice's R-41-5 test)."""
    try:
        deid_service.check_pseudonymised_join(columns)
    except PolicyDenied as exc:
        found = exc.details.get("columns")
        return [str(c) for c in found] if isinstance(found, list) else ["?"]
    return []


def _read(path: Path) -> pl.DataFrame:
    try:
        if path.suffix.lower() == ".parquet":
            return pl.read_parquet(path)
        return pl.read_csv(path, infer_schema=False)
    except (pl.exceptions.PolarsError, OSError, ValueError) as exc:
        raise ValidationFailed(
            f"{path.name} を読めません（CSV または Parquet）。",
            f"Cannot read {path.name} (CSV or Parquet).",
            code="bad_file",
        ) from exc


def _join(ctx: Context, action: str, frame: pl.DataFrame, other: Path, subject: str) -> pl.DataFrame:
    """Join another registered 仮名加工情報 of the same purpose by the pseudonym column; anything else is refused:
    identity or contact data (R-41-5), 匿名加工情報 (R-43-5), a dataset of another purpose (R-41-3)."""
    sha, kind = _registered(ctx, other)
    extra = _read(other)
    if kind == "anonymised":
        try:
            deid_service.check_anonymised_collation()
        except PolicyDenied as exc:
            _deny(ctx, action, "anonymised_collation", "R-43-5", exc.message_ja, exc.message_en)
    bad = check_identity(extra.columns)
    if kind is None or bad:
        try:
            deid_service.check_pseudonymised_join(bad or ["customer_id", *extra.columns])
        except PolicyDenied as exc:
            _deny(
                ctx,
                action,
                "reidentification",
                "R-41-5",
                exc.message_ja + f"（{other.name}）",
                exc.message_en + f" ({other.name})",
            )
    row = _dataset_row(ctx, sha)
    if row is not None and row.purpose != ctx.purpose:
        _deny(
            ctx,
            action,
            "outside_dataset_purpose",
            "R-41-3",
            f"{other.name} は利用目的「{row.purpose}」のための仮名加工情報です。",
            f"{other.name} is pseudonymised data for the purpose '{row.purpose}'.",
        )
    if subject not in extra.columns:
        raise ValidationFailed(
            f"{other.name} に列「{subject}」がありません。",
            f"{other.name} has no column '{subject}'.",
            code="bad_column",
        )
    extra = extra.unique(subset=[subject], keep="first")
    return frame.join(extra, on=subject, how="left", suffix="_joined")


def _frames(
    frame: pl.DataFrame, cols: DatasetColumns, as_of: date
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, date]:
    cols = replace(  # gender and age band are optional: a file without them is analysed without them
        cols,
        gender=cols.gender if cols.gender in frame.columns else None,
        age_band=cols.age_band if cols.age_band in frame.columns else None,
    )
    needed = [cols.subject, cols.occurred_at, cols.amount] + [
        c for c in (cols.kind, cols.gender, cols.age_band) if c
    ]
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise ValidationFailed(
            "ファイルに必要な列がありません: " + ", ".join(missing),
            "The file lacks the columns: " + ", ".join(missing),
            code="bad_column",
            details={"missing": missing},
        )
    when = pl.col(cols.occurred_at).cast(pl.String).str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False)
    base = frame.select(
        pl.col(cols.subject).cast(pl.String).alias("subject"),
        (pl.col(cols.kind).cast(pl.String) if cols.kind else pl.lit("purchase")).alias("kind"),
        when.cast(pl.Datetime("us")).dt.replace_time_zone("UTC").alias("occurred_at"),
        pl.col(cols.amount)
        .cast(pl.String)
        .str.replace_all(",", "")
        .cast(pl.Int64, strict=False)
        .alias("amount"),
        (pl.col(cols.gender).cast(pl.String) if cols.gender else pl.lit(None, pl.String)).alias("gender"),
        (pl.col(cols.age_band).cast(pl.String) if cols.age_band else pl.lit(None, pl.String)).alias(
            "age_band"
        ),
    )
    bad_dates = base.filter(pl.col("occurred_at").is_null()).height
    if bad_dates:
        raise ValidationFailed(
            f"日付として読めない行が {bad_dates} 行あります（列「{cols.occurred_at}」、YYYY-MM-DD）。",
            f"{bad_dates} rows have a date that cannot be read (column '{cols.occurred_at}', YYYY-MM-DD).",
            code="bad_date",
        )
    unknown = sorted(set(base.get_column("kind").unique().to_list()) - set(KINDS))
    if unknown:
        raise ValidationFailed(
            "活動の種類が不明です（purchase / inquiry / call / note）: " + ", ".join(map(str, unknown[:5])),
            "Unknown activity kinds (purchase / inquiry / call / note): " + ", ".join(map(str, unknown[:5])),
            code="bad_kind",
        )
    activities = base.select("subject", "kind", "occurred_at", "amount")
    people = (
        base.group_by("subject", maintain_order=True)
        .agg(pl.col("gender").first(), pl.col("age_band").first())
        .sort("subject")
    )
    return _purchases(activities), activities.drop("amount"), people, as_of


@dataclass(frozen=True)
class ExtractOutcome:
    dataset_id: str
    path: Path
    manifest_path: Path
    rows: int
    subjects: int
    columns: list[str]
    excluded: Mapping[str, int]


def extract(ctx: Context, output: Path, *, as_of: date | None = None, force: bool = False) -> ExtractOutcome:
    """仮名加工情報 for internal analysis, made from the personal path: one line per activity (customer id, kind,
    date, amount) with the person's gender and age band, the customer id replaced by the deid slice's keyed
    pseudonym (R-41-1, R-41-2), registered under ``ctx.purpose`` (R-41-3). The read of the people is audited as an
    analysis read; the deid slice audits the pseudonymisation."""
    from mamori.kernel.auditing import record_read

    data = personal(ctx, as_of=as_of)
    if data.activities.height == 0:
        raise ValidationFailed(
            "仮名加工する行動履歴がありません。",
            "There is no activity to pseudonymise.",
            code="no_data",
            details={"considered": data.considered, **data.excluded},
        )
    frame = (
        data.activities.join(
            data.transactions.select("subject", "occurred_at", "amount"),
            on=["subject", "occurred_at"],
            how="left",
        )
        .unique(subset=["subject", "kind", "occurred_at"], keep="first", maintain_order=True)
        .join(data.people, on="subject", how="left")
        .with_columns(
            pl.col("subject")
            .replace_strict(dict(data.customer_of), return_dtype=pl.String)
            .alias("customer_id"),
            pl.col("occurred_at").dt.convert_time_zone("Asia/Tokyo").dt.date().cast(pl.String),
        )
        .select("customer_id", "kind", "occurred_at", "amount", "gender", "age_band")
    )
    outcome = deid_service.pseudonymise(
        ctx,
        frame,
        source_name="mamori: analytics extract",
        output=output,
        id_columns=["customer_id"],
        keep=["gender", "age_band"],
        force=force,
    )
    record_read(
        ctx,
        ANALYTICS_RUN,
        sorted(data.customer_of.values()),
        ("birth_date", "gender", "activities"),
        masked=data.masked,
        details={
            "extract_dataset_id": outcome.dataset_id,
            "rows": frame.height,
            "considered": data.considered,
            **{f"excluded_{k}": v for k, v in data.excluded.items()},
        },
    )
    return ExtractOutcome(
        dataset_id=outcome.dataset_id,
        path=output,
        manifest_path=outcome.manifest_path,
        rows=frame.height,
        subjects=data.people.height,
        columns=list(outcome.result.data.columns),
        excluded=data.excluded,
    )
