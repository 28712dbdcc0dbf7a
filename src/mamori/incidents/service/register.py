"""The incident register (R-26-1, R-26-2, R-26-7): register, show, change, close.

Registering starts the clock: ``known_at`` is when any department of the company knew (R-26-2). Every change is
audited with the incident id and the names of the fields changed — never their text.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime

from pydantic import ValidationError as PydanticValidationError
from sqlalchemy import func, select

from mamori.incidents.board_schemas import (
    CLOSE_REASONS,
    BoardRow,
    ClassificationRead,
    CloseIn,
    DeadlinesRead,
    FilingIn,
    IncidentDetail,
    MineRow,
    TriggerRead,
)
from mamori.incidents.models import Incident
from mamori.incidents.permissions import INCIDENT_MANAGE, INCIDENT_READ, INCIDENT_REGISTER
from mamori.incidents.schemas import IncidentIn, IncidentRead, IncidentUpdate
from mamori.incidents.service.classify import EXEMPT_LABELS, TRIGGER_LABELS, Classification, classification
from mamori.incidents.service.clock import (
    FINAL_DAYS,
    FINAL_DAYS_WRONGFUL,
    Deadlines,
    deadline_instant,
    deadlines,
)
from mamori.inventory import queries as inventory_queries
from mamori.kernel import registry, validation
from mamori.kernel.auditing import authorise, record_write
from mamori.kernel.clock import JST
from mamori.kernel.context import Context
from mamori.kernel.db import new_id
from mamori.kernel.errors import Conflict, NotFound, ValidationFailed
from mamori.kernel.policy import Resource
from mamori.processors import queries as processors_queries

RESOURCE = Resource(kind="incident")


def ref_of(number: int) -> str:
    """The 事案番号 as shown: INC-0003."""
    return f"INC-{number:04d}"


def to_read(row: Incident) -> IncidentRead:
    return IncidentRead(
        id=row.id,
        number=row.number,
        ref=ref_of(row.number),
        title=row.title,
        kind=row.kind,
        suspected=row.suspected,
        occurred_at=row.occurred_at,
        known_at=row.known_at,
        known_by=row.known_by,
        discovered_by=row.discovered_by,
        cause=row.cause,
        cause_detail=row.cause_detail,
        role=row.role,
        entrustor_name=row.entrustor_name,
        counterparty_id=row.counterparty_id,
        contract_id=row.contract_id,
        wrongful_purpose=row.wrongful_purpose,
        encryption_exempt=row.encryption_exempt,
        encryption_reason=row.encryption_reason,
        pseudonymised=row.pseudonymised,
        gdpr_risk=row.gdpr_risk,
        gdpr_reason=row.gdpr_reason,
        secondary_damage=row.secondary_damage,
        actions_to_persons=row.actions_to_persons,
        publication=row.publication,
        prevention=row.prevention,
        other=row.other,
        prelim_filed_at=row.prelim_filed_at,
        final_filed_at=row.final_filed_at,
        gdpr_filed_at=row.gdpr_filed_at,
        entrustor_notified_at=row.entrustor_notified_at,
        status=row.status,
        created_at=row.created_at,
        created_by=row.created_by,
        updated_at=row.updated_at,
        closed_at=row.closed_at,
        closed_by=row.closed_by,
        version=row.version,
    )


def row_of(ctx: Context, incident_id: str) -> Incident:
    """The incident row (no authorisation: callers authorise first). NotFound for an unknown id."""
    row = ctx.session.get(Incident, incident_id) if isinstance(incident_id, str) and incident_id else None
    if row is None:
        raise NotFound("漏えい等事案が見つかりません。", "Incident not found.", code="incident_not_found")
    return row


def find(ctx: Context, key: str) -> Incident:
    """An incident by id or by its 事案番号 (``INC-0003`` or ``3``); NotFound otherwise (no authorisation)."""
    text = key.strip().upper()
    if text.startswith("INC-"):
        text = text[4:]
    if text.isdigit() and len(text) <= 9:
        row = ctx.session.execute(select(Incident).where(Incident.number == int(text))).scalar_one_or_none()
        if row is not None:
            return row
    return row_of(ctx, key.strip())


def register(ctx: Context, data: IncidentIn) -> IncidentRead:
    """Register an incident (any member of staff may; R-26-2: knowing starts the clock)."""
    authorise(ctx, INCIDENT_REGISTER, RESOURCE, [])
    check_narrative({"title": data.title, "cause_detail": data.cause_detail})
    _check_links(ctx, data.counterparty_id, data.contract_id)
    now = ctx.clock.now()
    number = int(ctx.session.execute(select(func.coalesce(func.max(Incident.number), 0))).scalar_one()) + 1
    row = Incident(
        id=new_id(),
        number=number,
        title=data.title,
        kind=data.kind,
        suspected=data.suspected,
        occurred_at=data.occurred_at.astimezone(UTC) if data.occurred_at else None,
        known_at=data.known_at.astimezone(UTC),
        known_by=data.known_by,
        discovered_by=data.discovered_by,
        cause=data.cause,
        cause_detail=data.cause_detail,
        role=data.role,
        entrustor_name=data.entrustor_name,
        counterparty_id=data.counterparty_id,
        contract_id=data.contract_id,
        wrongful_purpose=None,
        encryption_exempt=False,
        pseudonymised=False,
        status="open",
        created_at=now,
        created_by=ctx.actor.label,
        updated_at=now,
        version=1,
    )
    ctx.session.add(row)
    ctx.session.flush()
    record_write(
        ctx,
        "incident.register",
        [],
        [],
        rule_ids=("R-26-2",),
        details={"incident_id": row.id, "kind": data.kind, "cause": data.cause},
    )
    return to_read(row)


def get(ctx: Context, key: str) -> IncidentRead:
    """One incident for the board's readers (privacy officer, administrator)."""
    authorise(ctx, INCIDENT_READ, RESOURCE, [])
    return to_read(find(ctx, key))


def authorise_manage(ctx: Context, key: str) -> Incident:
    """The incident row, after authorising ``incident.manage`` (for the other service modules)."""
    authorise(ctx, INCIDENT_MANAGE, RESOURCE, [])
    return find(ctx, key)


# -- the narrative describes the event, never a person ---------------------------------------------------------

NARRATIVE_FIELDS = (
    "title",
    "cause_detail",
    "secondary_damage",
    "actions_to_persons",
    "publication",
    "prevention",
    "other",
    "encryption_reason",
    "gdpr_reason",
)


def check_narrative(texts: Mapping[str, str | None]) -> None:
    """Refuse narrative text in which the text scanner finds personal data (a name, a phone, an e-mail …): the
    register describes the event, never a person. The error names the fields and the kinds found, never the text.
    要配慮 words alone (e.g. "病歴") describe the data concerned and are allowed."""
    if not registry.text_scanning_available():
        return
    fields: list[str] = []
    kinds: set[str] = set()
    for name, text in texts.items():
        if not text or not text.strip():
            continue
        found = [f.type for f in registry.scan_text(text) if not f.sensitive]
        if found:
            fields.append(name)
            kinds.update(found)
    if fields:
        raise ValidationFailed(
            f"事案の記述に個人データが含まれています（項目: {', '.join(fields)}）。"
            "台帳には事象を記載し、本人を特定する情報は記載しないでください。",
            f"The incident text contains personal data (fields: {', '.join(fields)}). "
            "Describe the event, never a person.",
            code="personal_data_in_text",
            details={"fields": fields, "kinds": sorted(kinds)},
        )


def _check_links(ctx: Context, counterparty_id: str | None, contract_id: str | None) -> None:
    """The outsourcee / entrustor and the contract must exist (ids only)."""
    if (
        counterparty_id
        and ctx.session.execute(inventory_queries.counterparty(counterparty_id)).first() is None
    ):
        raise ValidationFailed(
            "取引先が見つかりません。", "Unknown counterparty.", code="unknown_counterparty"
        )
    if contract_id and ctx.session.execute(processors_queries.contract(contract_id)).first() is None:
        raise ValidationFailed("委託契約が見つかりません。", "Unknown contract.", code="unknown_contract")


# -- change, file, close ---------------------------------------------------------------------------------------

_REQUIRED = frozenset(
    {
        "title",
        "kind",
        "suspected",
        "known_at",
        "known_by",
        "discovered_by",
        "cause",
        "role",
        "encryption_exempt",
        "pseudonymised",
    }
)


def _open_row(ctx: Context, key: str) -> Incident:
    row = authorise_manage(ctx, key)
    if row.status == "closed":
        raise Conflict("この事案は終了しています。", "The incident is closed.", code="incident_closed")
    return row


def update(ctx: Context, key: str, data: IncidentUpdate) -> IncidentRead:
    """Change the register (privacy officer). Only the fields given change; ``None`` clears an optional field
    (e.g. ``wrongful_purpose`` back to "from the cause") and leaves a required one as it is. R-26-1: the
    encryption exemption needs its reason."""
    row = _open_row(ctx, key)
    if data.expect_version is not None and data.expect_version != row.version:
        raise Conflict(
            "他の変更が先に保存されました。最新の内容を確認してください。",
            "The incident was changed meanwhile: reload it.",
            code="version_conflict",
            details={"version": row.version},
        )
    given = {
        name: getattr(data, name)
        for name in sorted(data.model_fields_set - {"expect_version"})
        if not (getattr(data, name) is None and name in _REQUIRED)
    }
    for name in ("occurred_at", "known_at"):
        if given.get(name) is not None:
            given[name] = given[name].astimezone(UTC)
    check_narrative({name: value for name, value in given.items() if name in NARRATIVE_FIELDS})
    if "counterparty_id" in given or "contract_id" in given:
        _check_links(ctx, given.get("counterparty_id"), given.get("contract_id"))
    exempt = given.get("encryption_exempt", row.encryption_exempt)
    reason = given["encryption_reason"] if "encryption_reason" in given else row.encryption_reason
    if exempt and not (reason or "").strip():
        raise ValidationFailed(
            "高度な暗号化等の措置による除外には、その理由が必要です。",
            "The encryption exemption needs its reason.",
            rule_id="R-26-1",
            code="encryption_reason_required",
        )
    changed = [name for name, value in given.items() if getattr(row, name) != value]
    if not changed:
        return to_read(row)
    for name in changed:
        setattr(row, name, given[name])
    row.version += 1
    row.updated_at = ctx.clock.now()
    ctx.session.flush()
    rules = ["R-26-1"] if {"wrongful_purpose", "encryption_exempt", "pseudonymised"} & set(changed) else []
    if "known_at" in changed:
        rules.append("R-26-2")
    record_write(
        ctx,
        "incident.update",
        [],
        [],
        rule_ids=tuple(rules),
        details={"incident_id": row.id, "changed": ",".join(changed), "version": row.version},
    )
    return to_read(row)


_FILING_COLUMN = {
    "prelim": "prelim_filed_at",
    "final": "final_filed_at",
    "gdpr": "gdpr_filed_at",
    "entrustor": "entrustor_notified_at",
}
_FILING_RULE = {"prelim": "R-26-2", "final": "R-26-3", "gdpr": "G-33", "entrustor": "R-26-5"}


def record_filing(ctx: Context, key: str, what: str, at: datetime | None = None) -> IncidentRead:
    """Record that a report was filed outside mamori (the PPC form, the supervisory authority, the entrustor)."""
    try:
        data = FilingIn.model_validate({"what": what, "at": at})
    except PydanticValidationError as exc:
        raise ValidationFailed(
            validation.message(exc, "ja"), validation.message(exc, "en"), code="invalid_input"
        ) from None
    row = _open_row(ctx, key)
    now = ctx.clock.now()
    when = (data.at or now).astimezone(UTC)
    if when > now:
        raise ValidationFailed(
            "届出日時が未来です。", "The filing time is in the future.", code="filed_in_future"
        )
    known_day = row.known_at.astimezone(JST).date() if row.known_at.tzinfo else row.known_at.date()
    if when.astimezone(JST).date() < known_day:
        raise ValidationFailed(
            "届出日時が事態を知った日より前です。",
            "The filing time is before the day the company knew.",
            code="filed_before_known",
        )
    if data.what == "entrustor" and row.role != "outsourcee":
        raise ValidationFailed(
            "委託元への通知は、当社が委託先である事案に限ります。",
            "A notice to the entrustor applies only when we are the outsourcee.",
            rule_id="R-26-5",
            code="not_outsourcee",
        )
    setattr(row, _FILING_COLUMN[data.what], when)
    row.version += 1
    row.updated_at = now
    ctx.session.flush()
    record_write(
        ctx,
        "incident.filing",
        [],
        [],
        rule_ids=(_FILING_RULE[data.what],),
        details={"incident_id": row.id, "what": data.what},
    )
    return to_read(row)


def close(ctx: Context, key: str, data: CloseIn | None = None) -> IncidentRead:
    """Close an incident. A reportable incident whose 確報 is not filed (R-26-3) closes only with ``force`` and a
    reason code; the close records the state (triggers, filings) in the audit entry."""
    data = data or CloseIn()
    row = _open_row(ctx, key)
    cls = classification(ctx, row)
    clock = deadlines(row, cls)
    owed = [kind for kind, _ in clock.open_items()]
    if owed and not data.force:
        raise Conflict(
            "未提出の報告があります（"
            + "、".join(owed)
            + "）。提出を記録するか、理由を選んで強制終了してください。",
            "Reports are still owed (" + ", ".join(owed) + "): record the filing, or force with a reason.",
            rule_id="R-26-3" if "final" in owed or "prelim" in owed else "G-33",
            code="reports_owed",
            details={"owed": owed},
        )
    if data.force and data.reason not in CLOSE_REASONS:
        raise ValidationFailed(
            "強制終了には理由の区分が必要です。",
            "Forcing a close needs a reason code.",
            code="reason_required",
        )
    now = ctx.clock.now()
    row.status = "closed"
    row.closed_at = now
    row.closed_by = ctx.actor.label
    row.version += 1
    row.updated_at = now
    ctx.session.flush()
    record_write(
        ctx,
        "incident.close",
        [],
        [],
        rule_ids=("R-26-3",) if owed else (),
        details={
            "incident_id": row.id,
            "triggers": ",".join(cls.triggers),
            "reportable": cls.reportable,
            "persons": cls.persons,
            "persons_max": cls.persons_max,
            "owed": ",".join(owed),
            "forced": bool(owed),
            "reason": data.reason if owed else None,
        },
    )
    return to_read(row)


# -- what a member of staff registered; the board ----------------------------------------------------------------


def mine(ctx: Context) -> list[MineRow]:
    """The incidents the caller registered: number, title and status only (for staff without incident.read)."""
    authorise(ctx, INCIDENT_REGISTER, RESOURCE, [])
    rows = ctx.session.execute(
        select(Incident).where(Incident.created_by == ctx.actor.label).order_by(Incident.number.desc())
    ).scalars()
    return [
        MineRow(id=r.id, ref=ref_of(r.number), title=r.title, status=r.status, created_at=r.created_at)
        for r in rows
    ]


def _today(ctx: Context) -> date:
    return ctx.clock.now().astimezone(JST).date()


def deadlines_read(ctx: Context, row: Incident, cls: Classification, clock: Deadlines) -> DeadlinesRead:
    now = ctx.clock.now()
    nxt = clock.next_due(now)
    next_at = deadline_instant(nxt[1]) if nxt else None
    next_day: date | None = None
    if nxt is not None:
        due = nxt[1]
        next_day = due.astimezone(JST).date() if isinstance(due, datetime) else due
    return DeadlinesRead(
        known_day=clock.known_day,
        prelim_from=clock.prelim_from,
        prelim_due=clock.prelim_due,
        final_due=clock.final_due,
        final_days=FINAL_DAYS_WRONGFUL if "wrongful" in cls.triggers else FINAL_DAYS,
        gdpr_due=clock.gdpr_due,
        prelim_filed_at=row.prelim_filed_at,
        final_filed_at=row.final_filed_at,
        gdpr_filed_at=row.gdpr_filed_at,
        entrustor_notified_at=row.entrustor_notified_at,
        next_kind=nxt[0] if nxt else None,
        next_due=next_at,
        next_due_day=next_day,
        days_left=(next_day - _today(ctx)).days if next_day else None,
        overdue=list(clock.overdue(now)),
    )


def classification_read(row: Incident, cls: Classification, lang: str = "ja") -> ClassificationRead:
    pick = 1 if lang == "en" else 0
    return ClassificationRead(
        incident_id=row.id,
        ref=ref_of(row.number),
        persons=cls.persons,
        persons_max=cls.persons_max,
        sensitive=cls.sensitive,
        financial=cls.financial,
        eu=cls.eu,
        categories=cls.categories,
        items=cls.items,
        triggers=[
            TriggerRead(code=t, label=TRIGGER_LABELS[t][pick], reason=cls.reasons.get(t, ""))
            for t in cls.triggers
        ],
        exempt=cls.exempt,
        exempt_reason=(row.encryption_reason if cls.exempt == "encryption" else None)
        or (EXEMPT_LABELS[cls.exempt][pick] if cls.exempt else None),
        reportable=cls.reportable,
        gdpr=cls.gdpr,
        gdpr_risk=row.gdpr_risk,
    )


def classify(ctx: Context, key: str, lang: str = "ja") -> ClassificationRead:
    """The R-26-1 classification of one incident (privacy officer, administrator)."""
    authorise(ctx, INCIDENT_READ, RESOURCE, [])
    row = find(ctx, key)
    return classification_read(row, classification(ctx, row), lang)


def detail(ctx: Context, key: str, lang: str = "ja") -> IncidentDetail:
    """The register with its classification and deadlines."""
    authorise(ctx, INCIDENT_READ, RESOURCE, [])
    row = find(ctx, key)
    cls = classification(ctx, row)
    return IncidentDetail(
        incident=to_read(row),
        classification=classification_read(row, cls, lang),
        deadlines=deadlines_read(ctx, row, cls, deadlines(row, cls)),
    )


def board_row(ctx: Context, row: Incident) -> BoardRow:
    cls = classification(ctx, row)
    clock = deadlines(row, cls)
    d = deadlines_read(ctx, row, cls, clock)
    return BoardRow(
        id=row.id,
        ref=ref_of(row.number),
        title=row.title,
        kind=row.kind,
        suspected=row.suspected,
        cause=row.cause,
        status=row.status,
        known_at=row.known_at,
        persons=cls.persons,
        persons_max=cls.persons_max,
        triggers=list(cls.triggers),
        exempt=cls.exempt,
        reportable=cls.reportable,
        gdpr=cls.gdpr,
        prelim_due=clock.prelim_due,
        final_due=clock.final_due,
        gdpr_due=clock.gdpr_due,
        next_kind=d.next_kind if row.status == "open" else None,
        next_due=d.next_due if row.status == "open" else None,
        next_due_day=d.next_due_day if row.status == "open" else None,
        days_left=d.days_left if row.status == "open" else None,
        overdue=d.overdue if row.status == "open" else [],
    )


_FAR = datetime(9999, 1, 1, tzinfo=UTC)


def sort_board(rows: list[BoardRow]) -> list[BoardRow]:
    """Overdue first, then by the nearest deadline; without a deadline last (newest first); closed at the end."""
    return sorted(
        rows,
        key=lambda r: (
            r.status != "open",
            not r.overdue,
            r.next_due or _FAR,
            -int(r.ref.removeprefix("INC-") or 0),
        ),
    )


def board_rows(ctx: Context, status: str | None = None) -> list[BoardRow]:
    """The board without authorisation (the reminder job runs as the system)."""
    stmt = select(Incident)
    if status is not None:
        stmt = stmt.where(Incident.status == status)
    return sort_board([board_row(ctx, row) for row in ctx.session.execute(stmt).scalars()])


def board(ctx: Context, status: str | None = None) -> list[BoardRow]:
    """All incidents, sorted by the nearest deadline, overdue first (privacy officer, administrator)."""
    authorise(ctx, INCIDENT_READ, RESOURCE, [])
    if status is not None and status not in ("open", "closed"):
        raise ValidationFailed("状態は open か closed です。", "status is open or closed.", code="bad_status")
    return board_rows(ctx, status)
