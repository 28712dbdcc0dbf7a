"""REST routes of an incident's scope (issue 22 "Deliver" 2; R-26-1, R-26-7), under /api/v1/incidents.

- ``POST   /incidents/{key}/scopes`` — add one method; the body is discriminated by ``method``: ``audit``
  (``username`` | ``session_id`` | ``token_id``, ``since``, ``until``), ``provision`` (``provision_id``),
  ``processor_handover`` (``handover_id``), ``ids`` (``ids``, ``fields``), ``filter`` (conditions, ``fields``),
  ``estimate`` (``maximum``, ``fields``);
- ``GET    /incidents/{key}/scopes`` — the methods used (``?removed=true``: with the withdrawn ones);
- ``GET    /incidents/{key}/scope-summary`` — people, maximum, items and categories by people, flags, EU/UK;
- ``DELETE /incidents/{key}/scopes/{scope_id}`` — withdraw one (409 when it cannot be done exactly).

Thin: the service (``mamori.incidents.service.scope``) authorises (``incident.scope`` / ``incident.read``), checks
and audits. Responses carry ids, field names, categories and counts — never a value."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, status

from mamori.incidents.scope_schemas import ScopeIn, ScopeRead, ScopeSummary
from mamori.incidents.service import scope as service
from mamori.kernel.http.deps import PlainContext, PrincipalDep, require_body_purposes
from mamori.kernel.http.problems import responses

router = APIRouter(prefix="/incidents", tags=["incidents"])
IncidentKey = Annotated[
    str,
    Path(
        min_length=1,
        max_length=32,
        pattern=r"^[0-9A-Za-z-]{1,32}$",
        description="事案番号（INC-0003）または事案ID / incident number or id",
    ),
]
ScopeId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$", description="範囲ID / scope id")]


@router.post(
    "/{key}/scopes",
    status_code=status.HTTP_201_CREATED,
    response_model=ScopeRead,
    responses=responses(401, 403, 404, 409, 422),
)
def add_scope(ctx: PlainContext, who: PrincipalDep, key: IncidentKey, body: ScopeIn) -> ScopeRead:
    """事案の範囲を証拠から登録する（1つの方法） / add one method to an incident's scope."""
    require_body_purposes(who, body)  # a filter by purpose is bound to an API token's purposes (R-23-2)
    return service.add(ctx, key, body)


@router.get("/{key}/scopes", response_model=list[ScopeRead], responses=responses(401, 403, 404, 422))
def list_scopes(
    ctx: PlainContext, key: IncidentKey, removed: Annotated[bool, Query()] = False
) -> list[ScopeRead]:
    """登録した範囲の方法 / the methods used to draw the scope."""
    return service.scopes(ctx, key, include_removed=removed)


@router.get("/{key}/scope-summary", response_model=ScopeSummary, responses=responses(401, 403, 404, 422))
def scope_summary(ctx: PlainContext, key: IncidentKey) -> ScopeSummary:
    """範囲の集計（人数・項目・区分・要配慮・財産的被害・EU/英国） / the scope in counts."""
    return service.summary(ctx, key)


@router.delete(
    "/{key}/scopes/{scope_id}", response_model=ScopeRead, responses=responses(401, 403, 404, 409, 422)
)
def remove_scope(ctx: PlainContext, key: IncidentKey, scope_id: ScopeId) -> ScopeRead:
    """登録した範囲を取り除く / withdraw one method from the scope."""
    return service.remove(ctx, key, scope_id)
