"""Audit routes (privacy officer): the newest entries and a full verification."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from mamori.kernel import auditing
from mamori.kernel.audit import verify as audit_verify
from mamori.kernel.auditing import authorise
from mamori.kernel.http.deps import PlainContext
from mamori.kernel.http.problems import responses
from mamori.kernel.policy import Action, Resource

router = APIRouter(prefix="/audit", tags=["audit"])


class AuditEntryOut(BaseModel):
    seq: int
    at: datetime
    actor: str
    actor_role: str
    action: str
    purpose: str | None
    subject_ids: list[str]
    fields: list[str]
    decision: str
    rule_ids: list[str]
    reason: str | None


class VerifyOut(BaseModel):
    ok: bool
    entries: int
    checkpoints: int
    first_bad_seq: int | None
    problem: str | None
    message: str | None


def _require_audit_reader(ctx: PlainContext) -> None:
    authorise(ctx, Action.AUDIT_READ, Resource(kind="audit"))


@router.get("", response_model=list[AuditEntryOut], responses=responses(401, 403, 422))
def tail(ctx: PlainContext, limit: Annotated[int, Query(ge=1, le=1000)] = 50) -> list[AuditEntryOut]:
    """最新の監査エントリー（個人情報保護管理者） / the newest audit entries."""
    return [
        AuditEntryOut(
            seq=e.seq,
            at=e.at,
            actor=e.actor,
            actor_role=e.actor_role,
            action=e.action,
            purpose=e.purpose,
            subject_ids=list(e.subject_ids),
            fields=list(e.fields),
            decision=e.decision,
            rule_ids=list(e.rule_ids),
            reason=e.reason,
        )
        for e in auditing.tail(ctx, limit)
    ]


@router.get("/verify", response_model=VerifyOut, responses=responses(401, 403))
def verify(ctx: PlainContext) -> VerifyOut:
    """監査ログ全体の再計算による検証 / recompute every link and checkpoint."""
    _require_audit_reader(ctx)
    rt = ctx.runtime
    report = audit_verify(rt.audit_engine, rt.audit.public_key_bytes(), rt.anchor_path)
    return VerifyOut(
        ok=report.ok,
        entries=report.entries,
        checkpoints=report.checkpoints,
        first_bad_seq=report.first_bad_seq,
        problem=report.problem,
        message=report.message_en if ctx.lang == "en" else report.message_ja,
    )
