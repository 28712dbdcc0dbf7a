"""Audit routes (privacy officer): the newest entries and a full verification; the server's lifespan: the periodic
checkpointer and the e-mail delivery worker."""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, FastAPI, Query
from pydantic import BaseModel

from mamori.kernel import auditing
from mamori.kernel.audit import verify as audit_verify
from mamori.kernel.auditing import authorise
from mamori.kernel.http.deps import PlainContext
from mamori.kernel.http.problems import responses
from mamori.kernel.mail import backend as mail_backend
from mamori.kernel.mail import worker as mail_worker
from mamori.kernel.policy import Action, Resource
from mamori.kernel.runtime import Runtime

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
    report = audit_verify(
        rt.audit_engine,
        rt.audit.public_key_bytes(),
        rt.anchor_path,
        mac_key=rt.keystore.system_key("audit_mac"),
    )
    return VerifyOut(
        ok=report.ok,
        entries=report.entries,
        checkpoints=report.checkpoints,
        first_bad_seq=report.first_bad_seq,
        problem=report.problem,
        message=report.message_en if ctx.lang == "en" else report.message_ja,
    )


# -- periodic checkpoints -----------------------------------------------------------------------------------------

_log = logging.getLogger("mamori.audit")


def _checkpoint_now(rt: Runtime) -> None:
    try:
        rt.audit.checkpoint_if_due()
    except Exception as exc:  # the next tick tries again; a failure is logged, never silent
        _log.warning("periodic audit checkpoint failed: %s", getattr(exc, "code", type(exc).__name__))


def _checkpoint_loop(rt: Runtime, stop: threading.Event, interval: float) -> None:
    while not stop.wait(interval):
        _checkpoint_now(rt)


@asynccontextmanager
async def checkpoint_lifespan(app: FastAPI) -> AsyncIterator[None]:
    """While the server runs, sign and anchor a checkpoint every ``audit_checkpoint_minutes`` if entries arrived
    since the last one (appends also checkpoint by count and by age, but an idle server would otherwise leave
    its last entries unanchored); and once more at shutdown."""
    rt: Runtime = app.state.runtime
    # E-mail: a misconfigured SMTP backend stops the start-up with one line naming the setting; the delivery
    # worker (kernel/mail/worker.py) sends what transactions enqueue and runs the periodic jobs (docs/mail.md).
    mail_backend.check(rt.settings)
    stop = threading.Event()
    interval = max(1.0, float(rt.settings.audit_checkpoint_minutes) * 60.0)
    worker = threading.Thread(
        target=_checkpoint_loop, args=(rt, stop, interval), name="mamori-audit-checkpoint", daemon=True
    )
    worker.start()
    mail_worker.start_worker(rt)
    try:
        yield
    finally:
        mail_worker.stop_worker(rt)
        stop.set()
        worker.join(timeout=30)
        if "audit" in rt.__dict__:
            _checkpoint_now(rt)
