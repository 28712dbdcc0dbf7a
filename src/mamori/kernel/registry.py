"""Registries through which later slices serve earlier ones without a backwards import (DESIGN.md).

- Subject data sources: every slice that stores personal data registers how to list, export, correct and
  erase one person's data; ``rights`` and ``incidents`` iterate them.
- Purpose-state providers: ``consent`` tells the policy whether a purpose is consented / withdrawn / stopped
  for a subject, without ``customers`` importing ``consent``.
- Text scanners: ``deid`` offers free-text PII detection to ``customers`` (notes) the same way.
- Access grants: ``processors`` tells the policy which customers, fields and purposes an outsourcee operator's
  running contract covers (R-25-1), without ``customers`` importing ``processors``.

The composition layer (``mamori.cli`` / ``mamori.api``) imports every slice, which registers itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from sqlalchemy import Select

    from mamori.kernel.context import Context


class ConsentState(StrEnum):
    GRANTED = "granted"
    WITHDRAWN = "withdrawn"
    NONE = "none"


@dataclass(frozen=True)
class PurposeState:
    consent: ConsentState = ConsentState.NONE
    stopped: bool = False  # a stop-use (利用停止) applies to this purpose (R-35-1)
    sensitive_consent: bool = False  # consent to acquire 要配慮 data (R-20-2)
    provision_stopped: bool = False  # 第三者提供の停止 requested (R-35-1): no provision to third parties
    # Contact channels (issue 20): the channels whose last consent-ledger line is a do-not-contact (opt_out) and
    # those whose last line is an opt-in (特定電子メール法 Art. 3: prior consent to advertising e-mail / SMS).
    channels_out: frozenset[str] = frozenset()
    channels_in: frozenset[str] = frozenset()


# --- subject data sources (rights, incidents) -------------------------------------------------------------


@dataclass(frozen=True)
class SubjectRecord:
    """One record a slice holds about one person, in plaintext, for disclosure (R-33-1 / G-15) only.

    ``excluded`` names the 政令5 / 政令11 ground when the record is not 保有個人データ (R-16-4, R-33-3); the
    rights slice leaves such records out of a disclosure package and records that it did.
    """

    source: str  # the registering slice, e.g. "customers"
    category: str  # e.g. "profile", "contact", "attribute", "activity", "consent", "provision_record"
    record_id: str
    data: Mapping[str, Any]  # JSON-serialisable values
    acquired_from: str | None = None  # where the record came from (provenance), never a personal value
    purposes: tuple[str, ...] = ()
    occurred_at: datetime | None = None
    excluded: str | None = None
    correctable: tuple[str, ...] = ()  # field names correct() accepts for this record


@dataclass(frozen=True)
class Correction:
    """A before/after pair for the correction notice (R-34-1)."""

    source: str
    category: str
    record_id: str
    field: str
    before: Any
    after: Any


@dataclass(frozen=True)
class Recipient:
    """Someone the person's data was provided or entrusted to, to notify after correction/erasure (G-19)."""

    counterparty_id: str
    name: str  # the organisation's name (not personal data)
    kind: str  # third_party / outsourcee / joint_user / succession
    country: str | None = None
    last_provided_at: datetime | None = None


class SubjectDataSource(Protocol):
    """How one slice lists, exports, corrects and erases one person's data (DESIGN.md: rights iterate these).

    Callers (the rights and incidents slices) authorise the request first; a source does not check purposes,
    because answering the person is a legal duty, not a use of the data. Every method must only ever touch
    ``subject_id``'s own records.
    """

    name: str

    def summary(self, ctx: Context, subject_id: str) -> Mapping[str, int]:
        """Category → number of records held (excluded records not counted) — helps the person narrow a request."""
        ...

    def export(self, ctx: Context, subject_id: str) -> Sequence[SubjectRecord]: ...

    def correct(
        self, ctx: Context, subject_id: str, record_id: str, changes: Mapping[str, str | None]
    ) -> Sequence[Correction]:
        """Apply changes to one of the person's records; NotFound if ``record_id`` is not theirs."""
        ...

    def erase(self, ctx: Context, subject_id: str) -> int:
        """Erase (or make unreadable) the person's records here; return how many. Kept records say why."""
        ...

    def recipients(self, ctx: Context, subject_id: str) -> Sequence[Recipient]: ...


# --- access grants (processors → customers) -----------------------------------------------------------------


@dataclass(frozen=True)
class AccessGrant:
    """What an outsourcee operator's running contract lets them see (R-25-1, R-27-2(a))."""

    contract_id: str
    purposes: frozenset[str]
    fields: frozenset[str]  # customer field names (e.g. "name", "phone", "address")
    customer_ids: frozenset[str]
    valid_from: datetime
    valid_until: datetime
    activity_write: bool = False  # may log calls / notes for covered customers (e.g. a call-center contract)

    def active_at(self, now: datetime) -> bool:
        return self.valid_from <= now < self.valid_until


GrantProvider = Callable[["Context"], "AccessGrant | None"]


# One ledger line a purpose-state provider reads: (subject id, kind, target, action, sequence number).
StateRow = tuple[str, str, str, str, int]


class PurposeStateProvider(Protocol):
    """Tells the policy the consent / stop-use state of a purpose for some subjects.

    Its facts are fetched by ONE prebuilt SELECT (``statement``: exactly the five columns of :data:`StateRow`,
    with two bound parameters — ``subject_ids``, an expanding IN list, and ``purpose``) and read by ``fold``;
    so a slice that loads other facts for the same subjects fetches these in the same statement (a UNION ALL:
    one round trip for every fact of a purpose-checked read), and the statement is compiled once per process.
    """

    def statement(self) -> Select[str, str, str, str, int]: ...

    def fold(
        self, rows: Iterable[StateRow], subject_ids: Sequence[str], purpose: str
    ) -> Mapping[str, PurposeState]: ...


@dataclass(frozen=True)
class TextFinding:
    type: str  # e.g. "email", "phone", "person", or a 要配慮 flag such as "sensitive:medical"
    start: int
    end: int
    sensitive: bool = False  # 要配慮 (R-2.3-1)


TextScanner = Callable[[str], Sequence[TextFinding]]

_purpose_state_providers: list[PurposeStateProvider] = []
_sources: dict[str, SubjectDataSource] = {}
_text_scanners: list[TextScanner] = []
_grant_providers: list[GrantProvider] = []


def register_purpose_state_provider(provider: PurposeStateProvider) -> None:
    if provider not in _purpose_state_providers:
        _purpose_state_providers.append(provider)


def purpose_states(ctx: Context, subject_ids: Sequence[str], purpose: str) -> dict[str, PurposeState]:
    """Combine every provider's view; a stop from any provider wins, consent comes from the ledger."""
    found: list[Mapping[str, PurposeState]] = []
    for provider in _purpose_state_providers:
        rows: list[StateRow] = []
        stmt = provider.statement()
        for start in range(0, len(subject_ids), 500):
            params = {"subject_ids": list(subject_ids[start : start + 500]), "purpose": purpose}
            rows.extend((a, b, c, d, e) for a, b, c, d, e in ctx.session.execute(stmt, params).all())
        found.append(provider.fold(rows, subject_ids, purpose))
    return merge_purpose_states(subject_ids, found)


def purpose_state_statements() -> list[Select[str, str, str, str, int]]:
    """Each provider's SELECT (in registration order; parameters ``subject_ids`` and ``purpose``), for a caller
    that fetches them with its own facts and hands the rows back to :func:`purpose_states_from_rows`."""
    return [p.statement() for p in _purpose_state_providers]


def purpose_states_from_rows(
    rows_per_provider: Sequence[Iterable[StateRow]], subject_ids: Sequence[str], purpose: str
) -> dict[str, PurposeState]:
    return merge_purpose_states(
        subject_ids,
        [
            provider.fold(rows, subject_ids, purpose)
            for provider, rows in zip(_purpose_state_providers, rows_per_provider, strict=True)
        ],
    )


def merge_purpose_states(
    subject_ids: Sequence[str], per_provider: Iterable[Mapping[str, PurposeState]]
) -> dict[str, PurposeState]:
    merged: dict[str, PurposeState] = {sid: PurposeState() for sid in subject_ids}
    for states in per_provider:
        for sid, state in states.items():
            prev = merged.get(sid, PurposeState())
            merged[sid] = PurposeState(
                consent=state.consent if state.consent != ConsentState.NONE else prev.consent,
                stopped=prev.stopped or state.stopped,
                sensitive_consent=prev.sensitive_consent or state.sensitive_consent,
                provision_stopped=prev.provision_stopped or state.provision_stopped,
                channels_out=prev.channels_out | state.channels_out,
                channels_in=prev.channels_in | state.channels_in,
            )
    return merged


def register_source(source: SubjectDataSource) -> None:
    _sources[source.name] = source


def sources() -> Iterable[SubjectDataSource]:
    return list(_sources.values())


def register_grant_provider(provider: GrantProvider) -> None:
    if provider not in _grant_providers:
        _grant_providers.append(provider)


def access_grant(ctx: Context) -> AccessGrant | None:
    """The running contract's grant for an outsourcee actor, or None (then the outsourcee sees nothing)."""
    for provider in _grant_providers:
        grant = provider(ctx)
        if grant is not None:
            return grant
    return None


def register_text_scanner(scanner: TextScanner) -> None:
    if scanner not in _text_scanners:
        _text_scanners.append(scanner)


def scan_text(text: str) -> list[TextFinding]:
    found: list[TextFinding] = []
    for scanner in _text_scanners:
        found.extend(scanner(text))
    return found


def text_scanning_available() -> bool:
    return bool(_text_scanners)


# --- dataset guards (deid → customers import and other file intake) ------------------------------------------


@dataclass(frozen=True)
class DatasetUse:
    """A file an earlier slice is about to take in (e.g. ``customer.import``), described without its values.

    ``path`` lets a guard look for a marker written beside the file (e.g. a manifest); ``sha256`` is the hash of
    the file's bytes, so a registered dataset is recognised even when renamed or moved.
    """

    use: str  # what the caller is about to do, e.g. "customer.import"
    file_name: str
    sha256: str
    path: Any = None  # a pathlib.Path when the caller has one


DatasetGuard = Callable[["Context", DatasetUse], None]

_dataset_guards: list[DatasetGuard] = []


def register_dataset_guard(guard: DatasetGuard) -> None:
    """A guard raises (``PolicyDenied`` naming the rule, denial already audited) when the use is not allowed."""
    if guard not in _dataset_guards:
        _dataset_guards.append(guard)


def check_dataset_use(ctx: Context, use: DatasetUse) -> None:
    """Ask every registered guard; the first that refuses raises. Without guards every use passes."""
    for guard in _dataset_guards:
        guard(ctx, use)


# --- entrustment gate (processors → provision; issue 13 P1, "one path per legal act") -----------------------


@dataclass(frozen=True)
class EntrustmentCheck:
    """What the processors slice decided for an entrustment (委託) that ``provide --basis entrustment`` starts.

    ``withheld`` maps each customer who may not go to the outsourcee to ``(rule id, reason code)`` (no values):
    not covered by the contract (R-25-1), not notified of the purpose (R-21-1), stop-use (R-35-1) …
    """

    contract_id: str
    withheld: Mapping[str, tuple[str, str]]


class EntrustmentGate(Protocol):
    """The processors rules for handing data to an outsourcee (R-25-1, R-27-2), offered to provision.

    ``check`` authorises the actor, finds the running contract with that counterparty covering the purpose
    (active, inside its window, latest selection evaluation passed), refuses fields outside the contract and
    returns the per-person refusals; it raises (PolicyDenied / ValidationFailed naming the rule) when the
    entrustment may not happen at all. ``log`` writes the processors handover log and returns its id.
    """

    def check(
        self,
        ctx: Context,
        counterparty_id: str,
        purpose: str,
        fields: Sequence[str],
        customer_ids: Sequence[str],
    ) -> EntrustmentCheck: ...

    def log(
        self,
        ctx: Context,
        contract_id: str,
        fields: Sequence[str],
        customer_ids: Sequence[str],
        withheld: int,
        method: str,
    ) -> str: ...


_entrustment_gates: list[EntrustmentGate] = []


def register_entrustment_gate(gate: EntrustmentGate) -> None:
    if gate not in _entrustment_gates:
        _entrustment_gates.append(gate)


def entrustment_gate() -> EntrustmentGate | None:
    """The registered gate, or None: then provision refuses entrustment (fail closed)."""
    return _entrustment_gates[0] if _entrustment_gates else None


# --- receipt intake (provision → customers; issue 13 P2 / R-18-2, "third-party data only through receipt") -----
# Customers comes before provision, so ``customers add`` / ``customers import`` reach provision's one receipt
# implementation (R-30-1 confirmation, R-30-2 records, R-27-5 lineage, R-18-2 succession mark) through this hook,
# registered by ``mamori.provision.sources.register``. With no intake registered, customers refuses every
# provider-sourced intake (fail closed).


@dataclass(frozen=True)
class ReceiptFacts:
    """The confirmation made on receiving personal data from a provider (R-30-1), without personal values.

    ``variant``: opt_out / consent / referable / non_operator (a third party) or succession (事業承継, R-18-2);
    ``prior_purposes``: for succession, our purpose codes that applied before the succession.
    """

    counterparty_id: str
    variant: str
    identity_confirmed_by: str
    acquisition: str
    acquisition_lawful: bool
    ppc_publication_confirmed: bool = False
    consent_confirmed: bool = False
    prior_purposes: tuple[str, ...] = ()


class ReceiptIntake(Protocol):
    """provision's receipt path offered to customers.

    ``confirm`` authorises the actor and checks the facts (R-30-1, R-20-1, R-18-2); it writes nothing and
    returns the provider's name (the provenance source). ``record`` writes the receipt (with the id the caller
    chose, so the caller's provenance rows can name it), one recipient record per person (R-30-2) and the opt-out
    lineage mark (R-27-5) in the caller's transaction. The R-18-2 purpose limit of succession data is kept by
    customers in its provenance rows.
    """

    def confirm(self, ctx: Context, facts: ReceiptFacts) -> str: ...

    def record(
        self,
        ctx: Context,
        facts: ReceiptFacts,
        *,
        items: Sequence[str],
        customer_ids: Sequence[str],
        import_job_id: str | None,
        receipt_id: str,
    ) -> None: ...


_receipt_intakes: list[ReceiptIntake] = []


def register_receipt_intake(intake: ReceiptIntake) -> None:
    if intake not in _receipt_intakes:
        _receipt_intakes.append(intake)


def receipt_intake() -> ReceiptIntake | None:
    """The registered intake, or None: then third-party and succession intake are refused (fail closed)."""
    return _receipt_intakes[0] if _receipt_intakes else None


# Consent to acquire 要配慮 data given at the moment of collection (R-20-2): customers asks the consent slice to
# write the ledger line (same transaction, before the value is stored) — registered by mamori.composition.
# Arguments: (ctx, customer_id, method, evidence).
SensitiveConsentRecorder = Callable[["Context", str, str, "str | None"], None]

_sensitive_consent_recorders: list[SensitiveConsentRecorder] = []


def register_sensitive_consent_recorder(recorder: SensitiveConsentRecorder) -> None:
    if recorder not in _sensitive_consent_recorders:
        _sensitive_consent_recorders.append(recorder)


def sensitive_consent_recorder() -> SensitiveConsentRecorder | None:
    return _sensitive_consent_recorders[0] if _sensitive_consent_recorders else None


# --- retention (lifecycle ← every slice that may hold a person's data back from disposal) ----------------------


@dataclass(frozen=True)
class Hold:
    """Why a person's data may not be disposed of yet: a code ("open_request", "legal_hold", "open_incident" …)
    and the rule that requires keeping it."""

    code: str
    rule_id: str


class RetentionHoldProvider(Protocol):
    """A slice that can stop a retention disposal (R-22-1): an open request from the person, an open incident…"""

    name: str

    def held(self, ctx: Context, subject_ids: Sequence[str]) -> Mapping[str, Hold]:
        """The subjects among ``subject_ids`` this slice holds, each with why. Ids only; no personal value read."""
        ...


_retention_holds: dict[str, RetentionHoldProvider] = {}


def register_retention_hold(provider: RetentionHoldProvider) -> None:
    _retention_holds[provider.name] = provider


def retention_holds() -> list[RetentionHoldProvider]:
    return list(_retention_holds.values())


def erase_subjects(ctx: Context, subject_ids: Sequence[str]) -> dict[str, int]:
    """Erase many people through every registered subject source, in one call per source where the source has a
    batch ``erase_many(ctx, subject_ids) -> int`` (else ``erase`` per person). Returns source name → rows."""
    ids = list(dict.fromkeys(subject_ids))
    out: dict[str, int] = {}
    if not ids:
        return out
    for source in sources():
        many = getattr(source, "erase_many", None)
        if callable(many):
            out[source.name] = int(many(ctx, ids))
        else:
            out[source.name] = sum(int(source.erase(ctx, sid)) for sid in ids)
    return out


# -- what a departing staff member still holds (issue 21): shown where an account is disabled -----------------------


@dataclass(frozen=True)
class StaffHolding:
    """Something a staff member still holds that must be handed over when they leave (e.g. customers they own):
    a count, words for it and where to hand it over. Counts and a URL with opaque ids only."""

    count: int
    label_ja: str  # e.g. "件の顧客を担当しています"
    label_en: str  # e.g. "customer(s) owned"
    url: str  # e.g. /handovers/new?from=<staff id>


StaffHoldingProvider = Callable[["Context", str], "StaffHolding | None"]
_staff_holdings: list[StaffHoldingProvider] = []


def register_staff_holdings(provider: StaffHoldingProvider) -> None:
    if provider not in _staff_holdings:
        _staff_holdings.append(provider)


def staff_holdings(ctx: Context, staff_id: str) -> list[StaffHolding]:
    """What ``staff_id`` still holds, from every registered provider (those the actor may not act on say nothing)."""
    return [h for p in _staff_holdings if (h := p(ctx, staff_id)) is not None and h.count > 0]
