"""The scope of an incident, drawn from evidence (issue 22 "Deliver" 2; R-26-1, R-26-7 "determine the scope").

Each method writes one ``incident_scopes`` row with its parameters (canonical JSON: ids, times, codes, counts —
never a value) and what it found, and merges the people it found into ``incident_subjects`` — one row per
incident and person: a second method finding the same person unions the field names and categories and ORs the
要配慮 / financial flags. Methods:

- ``from_audit``: the people whose data a staff account, a session (``details.via == "session:<id>"``) or an API
  token (``"token:<id>"``) read or exported between two times — the allowed entries of the read and export
  actions in the audit log (:data:`READ_ACTIONS`), read through the (actor, at) index. Fields are those the
  entries name (a masked field was not shown and is not named); an entry naming no field still names the person.
- ``from_provision`` / ``from_processor_handover``: the people of a provision (an export to a third party) or of a
  handover to an outsourcee, with the fields recorded there.
- ``from_ids``: a list of customer ids (unknown ids refuse the whole list, nothing written); ``from_filter``: a
  filter needing no decryption (purpose, import job, origin, owner, team, creation dates); ``estimate``: an
  unknown count entered as a maximum (R-26-1: the maximum counts when the number is uncertain).
- ``remove``: a scope withdrawn; the people are rebuilt from the remaining scopes (refused when one of them cannot
  be re-derived exactly: a list of ids or a filter — their per-person membership is not stored).

Categories: the customer fields' (``FIELD_CATEGORIES``), an attribute's own category (``attr:<key>``), 要配慮 notes
(``activities:sensitive``) and the data inventory's tags (a 要配慮 kind → ``sensitive``; ``financial``). Every
method is authorised by ``incident.scope`` and audited (``incident.scope`` / ``incident.scope_remove``, R-26-1 /
R-26-7) with the incident id, the scope id, the method and the count — never the people's ids.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import cast

from sqlalchemy import Table, delete, insert, select

from mamori.customers import queries as customers_queries
from mamori.customers.schemas import FIELD_CATEGORIES
from mamori.customers.service import subjects as customer_subjects
from mamori.incidents.models import Incident, IncidentScope, IncidentScopeMember, IncidentSubject
from mamori.incidents.permissions import INCIDENT_READ, INCIDENT_SCOPE
from mamori.incidents.scope_schemas import (
    AuditScopeIn,
    EstimateScopeIn,
    FilterScopeIn,
    HandoverScopeIn,
    IdsScopeIn,
    ProvisionScopeIn,
    ScopeFilter,
    ScopeRead,
    ScopeSummary,
)
from mamori.incidents.service.register import find
from mamori.inventory import queries as inventory_queries
from mamori.kernel.auditing import authorise, record_write
from mamori.kernel.context import Context
from mamori.kernel.db import chunks, new_id
from mamori.kernel.errors import Conflict, NotFound, ValidationFailed
from mamori.kernel.policy import Resource, decide
from mamori.processors import queries as processors_queries
from mamori.processors.models import ProcessorHandover
from mamori.provision import queries as provision_queries
from mamori.provision.models import Provision
from mamori.staff import queries as staff_queries
from mamori.staff.models import StaffSession

RESOURCE = Resource(kind="incident")
SUBJECTS = cast(Table, IncidentSubject.__table__)  # a Core insert: thousands of people per audit scope
RULES = ("R-26-1", "R-26-7")
AUDIT_ACTION = "incident.scope"
REMOVE_ACTION = "incident.scope_remove"
# What a member of staff can have seen or taken away: the allowed reads that show a person's data, and exports.
READ_ACTIONS: tuple[str, ...] = (
    "customer.read",  # a record, a search, a list
    "subject.export",  # a disclosure package
    "contact.list",  # a contact list (names and addresses of a segment)
    "contact.reach",  # a person's contact points for one channel
    "contact.inbound.find",  # who is calling (a phone lookup)
    "consent.read",
    "provision.records.list",
    "provision.records.show",  # with the person's identifying information
    "provision.consent.list",
    "provision.provide",  # an export to a third party (the rows come back to the caller)
)
EXPORT_INFO_ACTIONS: tuple[str, ...] = ("provision.export.download",)  # audited as "info"
SENSITIVE_NOTES = "activities:sensitive"
EXTERNAL_IDS = "external_ids"
_CONTACT_SINGLE = {"email": "emails", "phone": "phones"}
GDPR_ORIGINS = ("EU", "UK")
MEMBERS_KEPT = frozenset({"ids", "filter"})  # who they found is stored (incident_scope_members)
MEMBERS = cast(Table, IncidentScopeMember.__table__)
CHUNK = 2000  # ids per IN (...) list
PAGE = 4000  # customers' dates per page (a filter by creation date)
PROVIDE_ACTION = "provision.provide"  # the provision slice's write entry (names every person provided)
HANDOVER_ACTION = "processors.handover"  # the processors slice's write entry (names every person handed over)
LOGGED_WITHIN = timedelta(days=1)  # the write entry is made at the end of the act it records

Progress = Callable[[int], None]


@dataclass(frozen=True)
class _Found:
    """What one method found: person -> field names, and its parameters as recorded."""

    people: dict[str, set[str]]
    params: dict[str, str | int | None]
    maximum: int | None = None
    items: dict[str, int] | None = None  # an estimate's: each field -> the maximum
    origins: dict[str, str] | None = None  # person -> origin, when the method already read them


# -- shapes ------------------------------------------------------------------------------------------------------


def _canonical(params: dict[str, str | int | None]) -> str:
    return json.dumps(params, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def to_read(row: IncidentScope) -> ScopeRead:
    return ScopeRead(
        id=row.id,
        incident_id=row.incident_id,
        method=row.method,
        params=json.loads(row.params),
        persons=row.persons,
        maximum=row.maximum,
        items=json.loads(row.items),
        created_at=row.created_at,
        created_by=row.created_by,
        removed_at=row.removed_at,
        removed_by=row.removed_by,
    )


def _incident(ctx: Context, key: str) -> Incident:
    authorise(ctx, INCIDENT_SCOPE, RESOURCE, [])
    row = find(ctx, key)
    if row.status == "closed":
        raise Conflict(
            "終了した事案の範囲は変更できません。",
            "The incident is closed; its scope cannot change.",
            code="incident_closed",
        )
    return row


# -- categories ----------------------------------------------------------------------------------------------------


def _inventory_tags(ctx: Context) -> dict[str, tuple[str, bool, bool]]:
    """Data item key -> (APPI category, 要配慮, financial), from the data inventory."""
    return {
        item.key: (item.appi_category, item.sensitive_kind is not None, bool(item.financial))
        for item in ctx.session.execute(inventory_queries.items()).scalars()
    }


def _categories(ctx: Context, people: dict[str, set[str]]) -> dict[str, set[str]]:
    """Person -> the categories of the fields concerned (``sensitive`` / ``financial`` among them)."""
    tags = _inventory_tags(ctx)
    static: dict[str, set[str]] = {}
    attr_keys: set[str] = set()
    for field in {f for fields in people.values() for f in fields}:
        cats: set[str] = set()
        base = FIELD_CATEGORIES.get(_CONTACT_SINGLE.get(field, field))
        if base is not None:
            cats.add(base.value)
        elif field == EXTERNAL_IDS:
            cats.add("identifier")
        elif field == SENSITIVE_NOTES:
            cats.add("sensitive")
        elif field.startswith("attr:"):
            attr_keys.add(field.removeprefix("attr:"))
        tag = tags.get(field)
        if tag is not None:
            appi, sensitive, financial = tag
            if appi and not field.startswith("attr:"):
                cats.add(appi)
            if sensitive:
                cats.add("sensitive")
            if financial:
                cats.add("financial")
        static[field] = cats
    by_set: dict[frozenset[str], frozenset[str]] = {}  # people share sets of fields: one union per set
    out: dict[str, set[str]] = {}
    for cid, fields in people.items():
        field_set = frozenset(fields)
        cats_of = by_set.get(field_set)
        if cats_of is None:
            cats_of = by_set[field_set] = frozenset().union(*(static[f] for f in fields))
        out[cid] = set(cats_of)
    if attr_keys:
        ids = [cid for cid, fields in people.items() if any(f.startswith("attr:") for f in fields)]
        seen: set[tuple[str, str]] = set()
        for chunk in chunks(ids):
            rows = ctx.session.execute(customers_queries.attribute_categories(chunk, sorted(attr_keys))).all()
            for cid, key, category in rows:
                if f"attr:{key}" in people[cid]:
                    out[cid].add(str(category))
                    seen.add((cid, key))
        for cid in ids:  # an attribute since deleted: the inventory's category for the key
            for field in people[cid]:
                key = field.removeprefix("attr:")
                if field.startswith("attr:") and (cid, key) not in seen and field in tags:
                    out[cid].add(tags[field][0])
    return out


def _origins(ctx: Context, ids: Sequence[str]) -> dict[str, str]:
    """Customer id -> origin (JP / EU / UK …) of the ids that exist (an erased person's tombstone included: their
    data was read before the erasure)."""
    found: dict[str, str] = {}
    for chunk in chunks(list(ids), CHUNK):
        for cid, origin in ctx.session.execute(customers_queries.origins(chunk)).all():
            found[str(cid)] = str(origin or "JP")
    return found


# -- writing -------------------------------------------------------------------------------------------------------


def _merge(
    ctx: Context, row: Incident, scope: IncidentScope, people: dict[str, set[str]], origins: dict[str, str]
) -> None:
    """Upsert ``incident_subjects``: one row per person — union the fields and categories, OR the flags."""
    cats = _categories(ctx, people)
    ids = sorted(people)
    texts: dict[frozenset[str], str] = {}  # many people share a set of fields: encode each set once

    def encoded(values: set[str]) -> str:
        key = frozenset(values)
        got = texts.get(key)
        if got is None:
            got = texts[key] = json.dumps(sorted(values))
        return got

    # the people already in scope (ids only); their rows are loaded only where this method found them again
    known = set(
        ctx.session.execute(
            select(IncidentSubject.customer_id).where(IncidentSubject.incident_id == row.id)
        ).scalars()
    )
    for chunk in chunks(ids, CHUNK):
        again = [cid for cid in chunk if cid in known]
        existing = (
            {
                s.customer_id: s
                for s in ctx.session.execute(
                    select(IncidentSubject).where(
                        IncidentSubject.incident_id == row.id, IncidentSubject.customer_id.in_(again)
                    )
                ).scalars()
            }
            if again
            else {}
        )
        new_rows: list[dict[str, object]] = []
        for cid in chunk:
            got = existing.get(cid)
            fields = people[cid]
            categories = cats.get(cid, set())
            if got is None:
                new_rows.append(
                    {
                        "incident_id": row.id,
                        "customer_id": cid,
                        "scope_id": scope.id,
                        "fields": encoded(fields),
                        "categories": encoded(categories),
                        "sensitive": "sensitive" in categories,
                        "financial": "financial" in categories,
                        "origin": origins.get(cid, "JP"),
                    }
                )
                continue
            union_fields = set(json.loads(got.fields)) | fields
            union_cats = set(json.loads(got.categories)) | categories
            got.fields = json.dumps(sorted(union_fields))
            got.categories = json.dumps(sorted(union_cats))
            got.sensitive = bool(got.sensitive) or "sensitive" in categories
            got.financial = bool(got.financial) or "financial" in categories
        if new_rows:  # one multi-row INSERT per chunk (thousands of people from one audit scope)
            ctx.session.execute(insert(SUBJECTS), new_rows)
        ctx.session.flush()


def _items(people: dict[str, set[str]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for fields in people.values():
        for f in fields:
            counts[f] = counts.get(f, 0) + 1
    return dict(sorted(counts.items()))


def _record(ctx: Context, row: Incident, method: str, found: _Found) -> ScopeRead:
    now = ctx.clock.now()
    scope = IncidentScope(
        id=new_id(),
        incident_id=row.id,
        method=method,
        params=_canonical(found.params),
        persons=len(found.people),
        maximum=found.maximum,
        items=json.dumps(found.items if found.items is not None else _items(found.people), sort_keys=True),
        created_at=now,
        created_by=ctx.actor.label,
    )
    ctx.session.add(scope)
    ctx.session.flush()
    if found.people:
        _merge(ctx, row, scope, found.people, found.origins or _origins(ctx, list(found.people)))
        if method in MEMBERS_KEPT:  # a list or a filter cannot be drawn again later: keep who it found
            for chunk in chunks(sorted(found.people), CHUNK):
                ctx.session.execute(
                    insert(MEMBERS), [{"scope_id": scope.id, "customer_id": c} for c in chunk]
                )
    record_write(
        ctx,
        AUDIT_ACTION,
        [],
        [],
        rule_ids=RULES,
        details={
            "incident_id": row.id,
            "scope_id": scope.id,
            "method": method,
            "persons": len(found.people),
            **({"maximum": found.maximum} if found.maximum is not None else {}),
        },
    )
    return to_read(scope)


# -- the methods ---------------------------------------------------------------------------------------------------


def _actor_labels(staff_id: str) -> tuple[str, ...]:
    # A staff member acts as ``staff:<id>``; one with the outsourcee role as ``outsourcee:<id>``.
    return (f"staff:{staff_id}", f"outsourcee:{staff_id}")


def _audit_target(
    ctx: Context, username: str | None, session_id: str | None, token_id: str | None
) -> tuple[str, str | None, dict[str, str | int | None]]:
    """(staff id, via filter, params) for the account, session or token."""
    given = [v for v in (username, session_id, token_id) if v]
    if len(given) != 1:
        raise ValidationFailed(
            "ユーザー名・セッションID・トークンIDのいずれか1つを指定してください。",
            "Give exactly one of a user name, a session id or a token id.",
            code="scope_actor",
        )
    if username:
        user = ctx.session.execute(staff_queries.by_username(username)).scalar_one_or_none()
        if user is None:
            raise NotFound("担当者が見つかりません。", "Staff member not found.", code="staff_not_found")
        return user.id, None, {"username": username}
    if session_id:
        staff_id = ctx.session.execute(
            select(StaffSession.staff_id).where(StaffSession.id == session_id)
        ).scalar_one_or_none()
        if staff_id is None:
            raise NotFound("セッションが見つかりません。", "Session not found.", code="session_not_found")
        return str(staff_id), f"session:{session_id}", {"session_id": session_id}
    assert token_id is not None
    found = ctx.session.execute(staff_queries.token_by_id(token_id)).first()
    if found is None:
        raise NotFound("API トークンが見つかりません。", "API token not found.", code="token_not_found")
    return str(found[1].id), f"token:{token_id}", {"token_id": token_id}


def _read_audit(
    ctx: Context,
    staff_id: str,
    via: str | None,
    since: datetime,
    until: datetime,
    progress: Progress | None = None,
) -> tuple[dict[str, set[str]], dict[str, str]]:
    """Person -> field names, from the allowed read/export entries of the staff member (through ``via``), and
    the people's origins."""
    people: dict[str, set[str]] = {}
    seen = 0
    exports = frozenset(EXPORT_INFO_ACTIONS)
    entries = ctx.runtime.audit.reads(
        _actor_labels(staff_id),
        since,
        until,
        via=via,
        decision=("allow", "info"),
        actions=(*READ_ACTIONS, *EXPORT_INFO_ACTIONS),
    )
    for entry in entries:
        # reads count when allowed; the export download is audited as "info"
        if (entry.decision == "info") != (entry.action in exports):
            continue
        fields = entry.fields
        for cid in entry.subject_ids:
            if cid:
                got = people.get(cid)
                if got is None:
                    people[cid] = set(fields)
                else:
                    got.update(fields)
        seen += 1
        if progress is not None and seen % 500 == 0:
            progress(seen)
    if progress is not None:
        progress(seen)
    origins = _origins(ctx, list(people)) if people else {}  # ids that are no customer (any more) drop out
    return {cid: fields for cid, fields in people.items() if cid in origins}, origins


def from_audit(
    ctx: Context,
    key: str,
    *,
    username: str | None = None,
    session_id: str | None = None,
    token_id: str | None = None,
    since: datetime,
    until: datetime,
    progress: Progress | None = None,
) -> ScopeRead:
    """The people whose data the account, session or token read or exported in ``[since, until)`` (R-26-1)."""
    row = _incident(ctx, key)
    if since.tzinfo is None or until.tzinfo is None or since >= until:
        raise ValidationFailed(
            "期間が正しくありません（タイムゾーン付きで、開始は終了より前）。",
            "The period is invalid (aware times, since before until).",
            code="scope_period",
        )
    staff_id, via, params = _audit_target(ctx, username, session_id, token_id)
    people, origins = _read_audit(ctx, staff_id, via, since, until, progress)
    params = {**params, "since": since.isoformat(), "until": until.isoformat()}
    return _record(ctx, row, "audit", _Found(people, params, origins=origins))


def _logged(ctx: Context, actor: str, at: datetime, action: str, key: str, value: str) -> set[str] | None:
    """The people of the audit entry ``action`` that ``actor`` wrote for the act ``key == value`` at ``at`` (the
    write entry of a provision or a handover names every person it included); None when there is none."""
    for entry in ctx.runtime.audit.reads(actor, at, at + LOGGED_WITHIN, actions=(action,)):
        if entry.details.get(key) == value:
            return {cid for cid in entry.subject_ids if cid}
    return None


def _unlogged(ja: str, en: str) -> Conflict:
    return Conflict(ja, en, code="scope_evidence_missing")


def _provision_people(ctx: Context, provision_id: str) -> dict[str, set[str]]:
    """The people of one provision and the fields provided: the provision row (fields) and its records (R-29-1,
    one per person and recipient, kept even after the person's erasure); for a provision whose records name no
    person (a foreign outsourcee's handover), its ``provision.provide`` audit entry."""
    prov = ctx.session.get(Provision, provision_id) if provision_id else None
    if prov is None:
        raise NotFound("提供記録が見つかりません。", "Provision not found.", code="provision_not_found")
    fields = {f for f in prov.fields.split(",") if f}
    recorded = {
        str(c) for c in ctx.session.execute(provision_queries.customers_of_provision(prov.id)).scalars()
    }
    if recorded:
        return {cid: set(fields) for cid in recorded}
    at = prov.provided_at if prov.provided_at.tzinfo else prov.provided_at.replace(tzinfo=UTC)
    ids = _logged(ctx, prov.provided_by, at, PROVIDE_ACTION, "provision_id", provision_id)
    if ids is None:
        raise _unlogged(
            "この提供の監査記録が見つかりません（委託先への引渡しによる提供は、引渡しから範囲を登録してください）。",
            "No audit entry for this provision (a provision made by a handover to an outsourcee: add the "
            "handover instead).",
        )
    return {cid: set(fields) for cid in ids}


def from_provision(ctx: Context, key: str, provision_id: str) -> ScopeRead:
    """The people of one provision (its records, R-29-1) and the fields provided."""
    row = _incident(ctx, key)
    people = _provision_people(ctx, provision_id)
    return _record(ctx, row, "provision", _Found(people, {"provision_id": provision_id}))


def _handover_people(ctx: Context, handover_id: str) -> dict[str, set[str]]:
    """The people of one handover to an outsourcee and the fields handed over: the handover row (fields, who,
    when) and its ``processors.handover`` audit entry, which names every person included."""
    handover = ctx.session.get(ProcessorHandover, handover_id) if handover_id else None
    if handover is None:
        raise NotFound("委託先への引渡しが見つかりません。", "Handover not found.", code="handover_not_found")
    fields = {str(f) for f in (handover.fields or [])}
    recorded = {
        str(c) for c in ctx.session.execute(processors_queries.handover_customers(handover.id)).scalars()
    }
    if recorded:
        return {cid: set(fields) for cid in recorded}
    at = handover.handed_at if handover.handed_at.tzinfo else handover.handed_at.replace(tzinfo=UTC)
    ids = _logged(ctx, handover.handed_by, at, HANDOVER_ACTION, "handover_id", handover_id)
    if ids is None:
        raise _unlogged("この引渡しの監査記録が見つかりません。", "No audit entry for this handover.")
    return {cid: set(fields) for cid in ids}


def from_processor_handover(ctx: Context, key: str, handover_id: str) -> ScopeRead:
    """The people of one handover to an outsourcee and the fields handed over."""
    row = _incident(ctx, key)
    people = _handover_people(ctx, handover_id)
    return _record(ctx, row, "processor_handover", _Found(people, {"handover_id": handover_id}))


def from_ids(ctx: Context, key: str, ids: Sequence[str], fields: Sequence[str]) -> ScopeRead:
    """A list of customer ids and the fields concerned; unknown ids refuse the list (nothing written)."""
    row = _incident(ctx, key)
    wanted = list(dict.fromkeys(i for i in ids if i))
    if not wanted or not fields:
        raise ValidationFailed(
            "顧客IDと項目を指定してください。", "Give customer ids and fields.", code="scope_empty"
        )
    origins = _origins(ctx, wanted)
    unknown = len([i for i in wanted if i not in origins])
    if unknown:
        raise ValidationFailed(
            f"見つからない顧客IDが {unknown} 件あります（何も登録していません）。",
            f"{unknown} customer id(s) not found (nothing was recorded).",
            code="unknown_customers",
            details={"count": unknown},
        )
    names = set(fields)
    people = {cid: set(names) for cid in wanted}
    params: dict[str, str | int | None] = {"count": len(wanted), "fields": ",".join(sorted(names))}
    return _record(ctx, row, "ids", _Found(people, params, origins=origins))


def _filter_ids(ctx: Context, flt: ScopeFilter) -> list[str]:
    """Ids of live customers matching every condition, through the customers slice's id-only reads (no personal
    value is read): the purpose, the import job and the owner narrow the set; the creation dates come from the
    customers' dates; origin and team are checked on the candidates."""
    sets: list[set[str]] = []
    if flt.purpose is not None:
        sets.append(set(customer_subjects.ids_with_purpose(ctx, flt.purpose)))
    if flt.import_job_id is not None:
        sets.append(set(customer_subjects.imported_by(ctx, flt.import_job_id)))
    if flt.owner is not None:
        user = ctx.session.execute(staff_queries.by_username(flt.owner)).scalar_one_or_none()
        if user is None:
            raise NotFound("担当者が見つかりません。", "Staff member not found.", code="staff_not_found")
        sets.append({str(c) for c in ctx.session.execute(customers_queries.ids_owned_by(user.id)).scalars()})
    if flt.created_since is not None or flt.created_until is not None:
        created: set[str] = set()
        after = ""
        while True:
            page = ctx.session.execute(customers_queries.retention_page(after, PAGE)).all()
            for cid, _ended, created_at, _updated, _confirmed in page:
                at = created_at if created_at.tzinfo else created_at.replace(tzinfo=UTC)
                if (flt.created_since is None or at >= flt.created_since) and (
                    flt.created_until is None or at < flt.created_until
                ):
                    created.add(str(cid))
            if len(page) < PAGE:
                break
            after = str(page[-1][0])
        sets.append(created)
    if sets:
        candidates = set.intersection(*sets)
    else:
        candidates = {str(c) for c in ctx.session.execute(customers_queries.live_customer_ids()).scalars()}
    found: list[str] = []
    for chunk in chunks(sorted(candidates), CHUNK):
        origin_of = _origins(ctx, chunk) if flt.origin is not None else {}
        for cid, _owner, team, erased_at in ctx.session.execute(customers_queries.owner_facts(chunk)).all():
            if erased_at is not None:
                continue
            if flt.team is not None and team != flt.team:
                continue
            if flt.origin is not None and origin_of.get(str(cid)) != flt.origin:
                continue
            found.append(str(cid))
    return found


def from_filter(ctx: Context, key: str, flt: ScopeFilter, fields: Sequence[str]) -> ScopeRead:
    """The customers matching a filter that needs no decryption, with the fields concerned."""
    row = _incident(ctx, key)
    if not fields:
        raise ValidationFailed("項目を指定してください。", "Give the fields concerned.", code="scope_empty")
    names = set(fields)
    people = {cid: set(names) for cid in _filter_ids(ctx, flt)}
    params: dict[str, str | int | None] = {**flt.params(), "fields": ",".join(sorted(names))}
    return _record(ctx, row, "filter", _Found(people, params))


def estimate(ctx: Context, key: str, maximum: int, fields: Sequence[str]) -> ScopeRead:
    """An unknown count entered as a maximum, with the fields concerned (R-26-1: the maximum counts)."""
    row = _incident(ctx, key)
    if maximum < 1 or not fields:
        raise ValidationFailed(
            "最大人数（1以上）と項目を指定してください。",
            "Give a maximum (at least 1) and the fields.",
            code="scope_estimate",
        )
    names = sorted(set(fields))
    params: dict[str, str | int | None] = {"maximum": maximum, "fields": ",".join(names)}
    return _record(
        ctx, row, "estimate", _Found({}, params, maximum=maximum, items=dict.fromkeys(names, maximum))
    )


def add(
    ctx: Context,
    key: str,
    body: AuditScopeIn | ProvisionScopeIn | HandoverScopeIn | IdsScopeIn | FilterScopeIn | EstimateScopeIn,
    *,
    progress: Progress | None = None,
) -> ScopeRead:
    """One method from its input shape (the API's, the CLI's and the web form's body)."""
    if isinstance(body, AuditScopeIn):
        return from_audit(
            ctx,
            key,
            username=body.username,
            session_id=body.session_id,
            token_id=body.token_id,
            since=body.since,
            until=body.until,
            progress=progress,
        )
    if isinstance(body, ProvisionScopeIn):
        return from_provision(ctx, key, body.provision_id)
    if isinstance(body, HandoverScopeIn):
        return from_processor_handover(ctx, key, body.handover_id)
    if isinstance(body, IdsScopeIn):
        return from_ids(ctx, key, body.ids, body.fields)
    if isinstance(body, FilterScopeIn):
        return from_filter(ctx, key, body, body.fields)
    return estimate(ctx, key, body.maximum, body.fields)


# -- removing, listing, summary ------------------------------------------------------------------------------------


def _rederive(ctx: Context, scope: IncidentScope) -> dict[str, set[str]]:
    params = json.loads(scope.params)
    if scope.method == "audit":
        staff_id, via, _ = _audit_target(
            ctx, params.get("username"), params.get("session_id"), params.get("token_id")
        )
        return _read_audit(
            ctx,
            staff_id,
            via,
            datetime.fromisoformat(params["since"]),
            datetime.fromisoformat(params["until"]),
        )[0]
    if scope.method == "provision":
        return _provision_people(ctx, str(params["provision_id"]))
    if scope.method == "processor_handover":
        return _handover_people(ctx, str(params["handover_id"]))
    if scope.method in MEMBERS_KEPT:
        fields = {f for f in str(params.get("fields") or "").split(",") if f}
        members = ctx.session.execute(
            select(IncidentScopeMember.customer_id).where(IncidentScopeMember.scope_id == scope.id)
        ).scalars()
        return {str(cid): set(fields) for cid in members}
    return {}  # estimate: nobody by id


def remove(ctx: Context, key: str, scope_id: str) -> ScopeRead:
    """Withdraw a scope: its people are dropped unless another scope found them (rebuilt from the remaining
    scopes: the audit log, provision records and handovers read again; a list of ids or a filter from who it found
    then, ``incident_scope_members``)."""
    row = _incident(ctx, key)
    scope = ctx.session.get(IncidentScope, scope_id) if scope_id else None
    if scope is None or scope.incident_id != row.id or scope.removed_at is not None:
        raise NotFound("範囲の記録が見つかりません。", "Scope not found.", code="scope_not_found")
    others = list(
        ctx.session.execute(
            select(IncidentScope)
            .where(
                IncidentScope.incident_id == row.id,
                IncidentScope.removed_at.is_(None),
                IncidentScope.id != scope.id,
            )
            .order_by(IncidentScope.created_at, IncidentScope.id)
        ).scalars()
    )
    now = ctx.clock.now()
    scope.removed_at = now
    scope.removed_by = ctx.actor.label
    if scope.persons:
        ctx.session.execute(delete(IncidentSubject).where(IncidentSubject.incident_id == row.id))
        ctx.session.flush()
        for other in others:
            people = _rederive(ctx, other)
            if people:
                _merge(ctx, row, other, people, _origins(ctx, list(people)))
    ctx.session.flush()
    record_write(
        ctx,
        REMOVE_ACTION,
        [],
        [],
        rule_ids=RULES,
        details={
            "incident_id": row.id,
            "scope_id": scope.id,
            "method": scope.method,
            "persons": scope.persons,
        },
    )
    return to_read(scope)


def can_scope(ctx: Context) -> bool:
    """Whether the actor may add or remove scopes (to offer the forms; the methods authorise and audit)."""
    return decide(ctx, INCIDENT_SCOPE, RESOURCE).allowed


def _scopes(ctx: Context, row: Incident, *, include_removed: bool = False) -> list[IncidentScope]:
    stmt = select(IncidentScope).where(IncidentScope.incident_id == row.id)
    if not include_removed:
        stmt = stmt.where(IncidentScope.removed_at.is_(None))
    return list(ctx.session.execute(stmt.order_by(IncidentScope.created_at, IncidentScope.id)).scalars())


def scopes(ctx: Context, key: str, *, include_removed: bool = False) -> list[ScopeRead]:
    """The methods used to draw the scope (for the board's readers)."""
    authorise(ctx, INCIDENT_READ, RESOURCE, [])
    return [to_read(s) for s in _scopes(ctx, find(ctx, key), include_removed=include_removed)]


def subject_ids(ctx: Context, row: Incident) -> list[str]:
    """The people in scope (no authorisation: for notices and retention holds)."""
    return list(
        ctx.session.execute(
            select(IncidentSubject.customer_id)
            .where(IncidentSubject.incident_id == row.id)
            .order_by(IncidentSubject.customer_id)
        ).scalars()
    )


def _count(values: Iterable[str], into: dict[str, int]) -> None:
    for v in values:
        into[v] = into.get(v, 0) + 1


def summary(ctx: Context, key: str) -> ScopeSummary:
    """The scope as the page shows it: people, the maximum, items and categories by people, flags, EU/UK."""
    authorise(ctx, INCIDENT_READ, RESOURCE, [])
    row = find(ctx, key)
    items: dict[str, int] = {}
    categories: dict[str, int] = {}
    persons = sensitive = financial = eu = uk = 0
    stmt = select(
        IncidentSubject.fields,
        IncidentSubject.categories,
        IncidentSubject.sensitive,
        IncidentSubject.financial,
        IncidentSubject.origin,
    ).where(IncidentSubject.incident_id == row.id)
    for fields, cats, is_sensitive, is_financial, origin in ctx.session.execute(stmt).all():
        persons += 1
        _count(json.loads(fields), items)
        _count(json.loads(cats), categories)
        sensitive += bool(is_sensitive)
        financial += bool(is_financial)
        eu += origin == "EU"
        uk += origin == "UK"
    listed = _scopes(ctx, row)
    maxima = [s.maximum for s in listed if s.maximum is not None]
    return ScopeSummary(
        incident_id=row.id,
        persons=persons,
        maximum=max([persons, *maxima]),
        items=dict(sorted(items.items())),
        categories=dict(sorted(categories.items())),
        sensitive=sensitive,
        financial=financial,
        eu=eu,
        uk=uk,
        scopes=[to_read(s) for s in listed],
    )
