"""Who may be contacted on a channel for a purpose (issue 20): the customers slice decides per person, because it
owns the data and the policy facts; the contact slice (lists, the check before a call) asks it.

Every person's answer comes from the policy engine — ``decide(ctx, action, resource)`` with ``Resource.channel``
set — on that person's facts: the row scope (owner, team), the version of the purpose notified to them, the
consent / stop-use / do-not-contact / opt-in lines of the consent ledger, the GDPR origin. Fast for many people:

1. one statement gives every candidate's row-scope facts and the version of the purpose notified to them (an
   outer join: no personal value read, nothing decrypted);
2. the purpose-state providers' ledger lines (consent, stop-use, channels) are fetched for the notified live
   people only, STATE_CHUNK ids per statement;
3. ``decide`` is pure: people with the same facts get the same decision, so it is asked once per distinct set of
   facts (owner, team, notified version, ledger state, GDPR; the person's id too for an outsourcee, whose
   contract names its customers) and that decision applies to each of them
   (steps 2 and 3 are :mod:`~mamori.customers.service.decide_many`, which analyses share);
4. only the people allowed are decrypted — their keys unwrapped VALUE_CHUNK at a time, each person's values
   opened with one key lookup — and only the fields the channel needs (plus the ones a segment reads).

This module does not audit: its callers (``mamori.contact.service``) record the read of the people included and
the counts of the others. A refusal of the whole request (no purpose, a role without the action, an unknown or
retired purpose, a channel the purpose does not name) is audited here and raised.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from mamori.customers import queries
from mamori.customers.schemas import FIELD_CATEGORIES, FIELD_CHANNELS
from mamori.customers.service.core.common import _grant
from mamori.customers.service.decide_many import STATE_CHUNK, decide_rows
from mamori.kernel.auditing import record_denial
from mamori.kernel.context import Context
from mamori.kernel.crypto.aead import open_with
from mamori.kernel.crypto.fields import field_aad
from mamori.kernel.errors import ValidationFailed
from mamori.kernel.policy import (
    CHANNELS,
    Action,
    Decision,
    PurposeFacts,
    Resource,
    Scope,
    decide,
    row_scope,
)
from mamori.kernel.registry import ConsentState, PurposeState
from mamori.law.rules import R_18_1
from mamori.purposes import service as purposes_service

# The customer fields each channel reaches a person by (FIELD_CHANNELS read the other way round).
CHANNEL_FIELDS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "phone": ("phones",),
        "sms": ("phones",),
        "email": ("emails",),
        "post": ("postal_code", "address"),
        "visit": ("address",),
    }
)
# The columns a contact list shows for each channel, after the customer id, name and kana.
CHANNEL_COLUMNS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "phone": ("phone",),
        "sms": ("phone",),
        "email": ("email",),
        "post": ("postal_code", "address"),
        "visit": ("address",),
    }
)
# Scalar fields a caller may ask for besides the channel's (a segment filter reads them; never output as such).
EXTRA_FIELDS = frozenset({"address", "postal_code", "birth_date"})
# Japanese mobile numbers (070 / 080 / 090 / 060) in E.164, the form phones are stored in: the numbers an SMS reaches.
MOBILE_PREFIXES = ("+8170", "+8180", "+8190", "+8160")

VALUE_CHUNK = 2000  # people decrypted per round (their keys unwrapped in a few statements)

# Reasons a person is left out besides the policy's decision codes.
ERASED = "erased"
NO_CONTACT_POINT = "no_contact_point"
NOT_FOUND = "not_found"
MASKED = "masked"
POINT_KIND = {"phone": "phone", "sms": "phone", "email": "email"}  # the contact point kind each channel uses


@dataclass(frozen=True, slots=True)
class Contactable:
    """One person's answer: ``code`` is "allowed", the policy's decision code (do_not_contact, optin_missing,
    use_stopped, purpose_not_notified, out_of_scope …) or erased / no_contact_point / masked / not_found.
    ``values`` (allowed only) holds name, kana, the channel's columns (``phone`` / ``email`` / ``postal_code`` /
    ``address``: the first contact point, in registration order), and any extra field asked for; ``points`` all
    of the channel's contact points (phones / e-mails) in registration order."""

    customer_id: str
    code: str
    rule_ids: tuple[str, ...] = ()
    values: Mapping[str, str | None] = field(default_factory=dict)
    points: tuple[str, ...] = ()
    owner_id: str | None = None
    masked: frozenset[str] = frozenset()
    decision: Decision | None = None  # the policy's decision (None: erased / not found, not asked)

    @property
    def allowed(self) -> bool:
        return self.code == "allowed"


@dataclass(frozen=True)
class ContactableResult:
    people: list[Contactable]
    purpose_version: int  # the purpose's current version
    facts: PurposeFacts


def is_mobile(number: str) -> bool:
    return number.startswith(MOBILE_PREFIXES)


def check_channel(channel: str) -> str:
    if channel not in CHANNELS:
        raise ValidationFailed(
            f"不明な連絡手段です（{' / '.join(CHANNELS)} のいずれか）。",
            f"Unknown channel (one of {', '.join(CHANNELS)}).",
            code="bad_channel",
        )
    return channel


def _refuse(ctx: Context, action: Action, decision: Decision) -> None:
    record_denial(ctx, action, [], decision)
    decision.raise_if_denied()


def probe(ctx: Context, action: Action, channel: str, extra_fields: Sequence[str] = ()) -> PurposeFacts:
    """Refuse what no person could change: a role without the action, no purpose, an unknown or retired purpose,
    a channel the purpose does not name (R-18-1), the channel's fields (or a segment's) outside the purpose. Asked
    of the engine for a person as favourable as can be (in scope, notified, consenting, opted in), audited when
    refused. Returns the current version's facts."""
    check_channel(channel)
    facts = purposes_service.facts(ctx, ctx.purpose)
    scope = row_scope(ctx, action)
    fields = {f: FIELD_CATEGORIES[f] for f in (*CHANNEL_FIELDS[channel], *extra_fields)}
    best = Resource(
        kind="customer",
        owner_id=ctx.actor.id,
        team=ctx.actor.team,
        purpose=facts,
        notified_purposes=frozenset({ctx.purpose}) if ctx.purpose else frozenset(),
        state=PurposeState(
            consent=ConsentState.GRANTED, sensitive_consent=True, channels_in=frozenset({channel})
        ),
        fields=fields,
        field_channels=FIELD_CHANNELS,
        grant=_grant(ctx) if scope == Scope.GRANT else None,
        channel=channel,
    )
    decision = decide(ctx, action, best)
    if not decision.allowed:
        _refuse(ctx, action, decision)
    assert facts is not None  # decide refused an unknown purpose
    outside = sorted(f for f in fields if f in decision.masked_fields)
    if outside:
        refused = Decision(
            False,
            (R_18_1.id,),
            frozenset(),
            f"利用目的「{facts.code}」はこの連絡・条件に必要な項目を含みません: " + ", ".join(outside),
            f"Purpose '{facts.code}' does not cover the fields this contact or filter needs: "
            + ", ".join(outside),
            "field_outside_purpose",
        )
        _refuse(ctx, action, refused)
    return facts


def contactable(
    ctx: Context,
    action: Action,
    channel: str,
    *,
    ids: Sequence[str] | None = None,
    extra_fields: Sequence[str] = (),
    owner_id: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ContactableResult:
    """Decide, for each live customer of the actor's row scope (or each of ``ids``), whether they may be contacted
    on ``channel`` for ``ctx.purpose``, and give the allowed people's values for that channel (see the module
    docstring for how). ``owner_id`` narrows the candidates to one owner's customers (a segment). ``progress``
    is called with (people done, people in all) as the work advances."""
    unknown = sorted(set(extra_fields) - EXTRA_FIELDS)
    if unknown:
        raise ValidationFailed(
            "指定できない項目です: " + ", ".join(unknown),
            "These fields cannot be asked for: " + ", ".join(unknown),
            code="bad_field",
        )
    facts = probe(ctx, action, channel, extra_fields)
    purpose = facts.code
    scope = row_scope(ctx, action)
    grant = _grant(ctx) if scope == Scope.GRANT else None
    only = grant.customer_ids if grant else None
    conn = ctx.session.connection()  # Core rows: no ORM loading for what are only ids, codes and sealed bytes
    # 1. candidates: row-scope facts and the notified version, one statement (ids: STATE_CHUNK at a time)
    rows: list[Any] = []
    if ids is None:
        stmt = queries.contact_candidates(ctx, scope, purpose=purpose, only=only, owner_id=owner_id)
        rows.extend(conn.execute(stmt).all())
    else:
        wanted = list(dict.fromkeys(ids))
        for start in range(0, len(wanted), STATE_CHUNK):
            chunk = wanted[start : start + STATE_CHUNK]
            stmt = queries.contact_candidates(ctx, scope, purpose=purpose, ids=chunk, owner_id=owner_id)
            rows.extend(conn.execute(stmt).all())
    total = len(rows) if ids is None else len(set(ids))
    # 2–3. the ledger state of the notified live people; the engine asked once per distinct set of facts
    fields = {f: FIELD_CATEGORIES[f] for f in ("name", "kana", *CHANNEL_FIELDS[channel], *extra_fields)}
    answers: dict[str, Contactable] = {}
    allowed: list[tuple[str, str | None, Decision]] = []
    decided = decide_rows(
        ctx, action, purpose, rows, fields=fields, grant=grant, channel=channel, field_channels=FIELD_CHANNELS
    )
    for cid, owner, decision in decided:
        if decision is None:
            answers[cid] = Contactable(cid, ERASED, owner_id=owner)
        elif decision.allowed:
            allowed.append((cid, owner, decision))
        else:
            answers[cid] = Contactable(
                cid, decision.code, decision.rule_ids, owner_id=owner, decision=decision
            )
    done = total - len(allowed)
    if progress is not None:
        progress(done, total)
    # 4. decrypt the allowed people only. Their sealed values come in two statements for the whole row scope (no
    # id list to render), or STATE_CHUNK ids at a time for given ids; their keys VALUE_CHUNK at a time.
    scalars = ["name", "kana", *(f for f in ("postal_code", "address") if f in CHANNEL_FIELDS[channel])]
    scalars += [f for f in extra_fields if f not in scalars]
    kind = POINT_KIND.get(channel)
    blobs: dict[str, Sequence[bytes | None]] = {}
    points: dict[str, list[tuple[str, bytes]]] = {}
    if allowed:
        pending = [cid for cid, _, _ in allowed]
        batches = (
            [None]
            if ids is None
            else [pending[i : i + STATE_CHUNK] for i in range(0, len(pending), STATE_CHUNK)]
        )
        for batch_ids in batches:
            for row in conn.execute(
                queries.contact_values(ctx, scope, scalars, ids=batch_ids, only=only, owner_id=owner_id)
            ).all():
                blobs[row[0]] = row[1:]
            if kind is not None:
                stmt_points = queries.contact_points_of_kind(
                    ctx, scope, kind, ids=batch_ids, only=only, owner_id=owner_id
                )
                for cid, cp_id, blob in conn.execute(stmt_points).all():
                    points.setdefault(cid, []).append((cp_id, blob))
    for start in range(0, len(allowed), VALUE_CHUNK):
        batch = allowed[start : start + VALUE_CHUNK]
        for answer in _values(ctx, channel, batch, scalars, blobs, points):
            answers[answer.customer_id] = answer
        done += len(batch)
        if progress is not None:
            progress(done, total)
    if ids is not None:
        for cid in dict.fromkeys(ids):
            answers.setdefault(cid, Contactable(cid, NOT_FOUND))
    people = [answers[cid] for cid in sorted(answers)]
    version_now = purposes_service.current_versions(ctx, [purpose]).get(purpose, (facts.version, False))[0]
    return ContactableResult(people, version_now, facts)


def _open(aead: AESGCM, table: str, column: str, row_id: str, blob: bytes) -> str:
    """One sealed cell opened with the person's key (FieldCipher.decrypt's format, without its key lookup)."""
    return open_with(aead, bytes(blob), field_aad(table, column, row_id)).decode("utf-8", "surrogatepass")


def _values(
    ctx: Context,
    channel: str,
    people: Sequence[tuple[str, str | None, Decision]],
    scalars: Sequence[str],
    blobs: Mapping[str, Sequence[bytes | None]],
    points: Mapping[str, list[tuple[str, bytes]]],
) -> list[Contactable]:
    """Decrypt the channel's values (and ``scalars``) of people the policy allowed, honouring each decision's masks:
    the people's keys are unwrapped in a few statements, then each cell is opened with its person's key."""
    keys = ctx.runtime.cipher.keystore.aeads([cid for cid, _, _ in people], skip_missing=True)
    kind = POINT_KIND.get(channel)
    columns = CHANNEL_COLUMNS[channel]
    out: list[Contactable] = []
    for cid, owner, decision in people:
        masked = decision.masked_fields
        row = blobs.get(cid)
        aead = keys.get(cid)
        if row is None or aead is None:  # erased since step 1 (its key destroyed)
            out.append(Contactable(cid, ERASED, owner_id=owner))
            continue
        values: dict[str, str | None] = dict.fromkeys(scalars)
        for f, b in zip(scalars, row, strict=True):
            if b is not None and f not in masked:
                values[f] = _open(aead, "customers", f, cid, b)
        mine = () if "phones" in masked or "emails" in masked else points.get(cid, ())
        found = tuple(_open(aead, "contact_points", "value", p, b) for p, b in mine)
        if channel == "sms":
            found = tuple(p for p in found if is_mobile(p))
        if kind is not None:
            values[columns[0]] = found[0] if found else None
        channel_values = [values.get(c) for c in columns]
        if any(f in masked for f in CHANNEL_FIELDS[channel]):
            out.append(Contactable(cid, MASKED, (), values, (), owner, masked, decision))
        elif not channel_values[
            -1
        ]:  # no number / address to reach them by (a post list without a postal code is kept)
            out.append(Contactable(cid, NO_CONTACT_POINT, (), values, (), owner, masked, decision))
        else:
            out.append(Contactable(cid, "allowed", (), values, found, owner, masked, decision))
    return out
