"""``/api/v1/analytics/runs`` and ``/api/v1/analytics/segments`` (issue 24): run an analysis on the personal path
under the purpose named in the body (bound to the API token's purposes, R-23-2; the purpose must state profiling,
R-17-1), read past runs, list saved segments. Aggregates and pseudonyms only; the 仮名加工情報 path is the CLI's and
the web app's (a file on the analyst's machine, not an upload)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from mamori.analytics.schemas import RunRead, RunRequest, RunResult, SegmentRead
from mamori.analytics.service import runs, segments
from mamori.kernel.http.deps import PlainContext, PrincipalDep, require_body_purposes
from mamori.kernel.http.problems import responses

router = APIRouter(prefix="/analytics", tags=["analytics"])


@router.post("/runs", response_model=RunResult, status_code=201, responses=responses(401, 403, 422))
def run(ctx: PlainContext, who: PrincipalDep, body: RunRequest) -> RunResult:
    """分析を実行する（RFM・年代・行動・CLV・離反） / run an analysis (personal path, a profiling purpose).

    ``save_as`` + ``take`` keep the people of those groups as a segment (a new version under an existing name)."""
    require_body_purposes(who, body)
    pctx = ctx.with_purpose(body.purpose)
    kwargs: dict[str, object] = {"as_of": body.as_of}
    if body.kind == "rfm":
        kwargs["bins"] = body.bins
    if body.kind in ("clv", "churn"):
        kwargs["horizon_days"] = body.horizon_days or (365 if body.kind == "clv" else 180)
    outcome = runs.RUNNERS[body.kind](pctx, runs.Source(), **kwargs)
    saved = segments.save(pctx, outcome, body.save_as, body.take, note=body.note) if body.save_as else None
    columns, rows = runs.table_rows(outcome.table, body.rows)
    return RunResult(
        run=outcome.run, columns=columns, rows=rows, rows_total=outcome.table.height, segment=saved
    )


@router.get("/runs", response_model=list[RunRead], responses=responses(401, 403, 422))
def list_runs(
    ctx: PlainContext,
    kind: Annotated[
        str | None, Query(max_length=16, description="rfm / lifestage / behaviour / clv / churn")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[RunRead]:
    """分析の実行記録（新しい順、集計のみ） / past runs, newest first."""
    return runs.list_runs(ctx, kind=kind, limit=limit)


@router.get("/runs/{run_id}", response_model=RunRead, responses=responses(401, 403, 404))
def get_run(ctx: PlainContext, run_id: Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")]) -> RunRead:
    """一回の分析の要約 / one run's summary."""
    return runs.get_run(ctx, run_id)


@router.get("/segments", response_model=list[SegmentRead], responses=responses(401, 403, 422))
def list_segments(ctx: PlainContext, limit: Annotated[int, Query(ge=1, le=500)] = 100) -> list[SegmentRead]:
    """保存したセグメント（各最新版） / saved segments, newest version of each."""
    return segments.list_segments(ctx, limit=limit)


@router.get("/segments/{name}", response_model=list[SegmentRead], responses=responses(401, 403, 404, 422))
def segment_versions(ctx: PlainContext, name: Annotated[str, Path(max_length=64)]) -> list[SegmentRead]:
    """セグメントの全版 / every version of a segment."""
    return segments.versions(ctx, name)
