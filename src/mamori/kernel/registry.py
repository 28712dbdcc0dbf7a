"""Registries through which later slices serve earlier ones without a backwards import (DESIGN.md).

- Subject data sources: every slice that stores personal data registers how to list, export, correct and
  erase one person's data; ``rights`` and ``incidents`` iterate them.
- Purpose-state providers: ``consent`` tells the policy whether a purpose is consented / withdrawn / stopped
  for a subject, without ``customers`` importing ``consent``.
- Text scanners: ``deid`` offers free-text PII detection to ``customers`` (notes) the same way.

The composition layer (``mamori.cli`` / ``mamori.api``) imports every slice, which registers itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
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


PurposeStateProvider = Callable[["Context", Sequence[str], str], Mapping[str, PurposeState]]


class SubjectDataSource(Protocol):
    name: str

    def export(self, ctx: Context, subject_id: str) -> Mapping[str, Any]: ...

    def erase(self, ctx: Context, subject_id: str) -> int: ...


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


def register_purpose_state_provider(provider: PurposeStateProvider) -> None:
    if provider not in _purpose_state_providers:
        _purpose_state_providers.append(provider)


def purpose_states(ctx: Context, subject_ids: Sequence[str], purpose: str) -> dict[str, PurposeState]:
    """Combine every provider's view; a stop from any provider wins, consent comes from the ledger."""
    merged: dict[str, PurposeState] = {sid: PurposeState() for sid in subject_ids}
    for provider in _purpose_state_providers:
        for sid, state in provider(ctx, subject_ids, purpose).items():
            prev = merged.get(sid, PurposeState())
            merged[sid] = PurposeState(
                consent=state.consent if state.consent != ConsentState.NONE else prev.consent,
                stopped=prev.stopped or state.stopped,
                sensitive_consent=prev.sensitive_consent or state.sensitive_consent,
            )
    return merged


def register_source(source: SubjectDataSource) -> None:
    _sources[source.name] = source


def sources() -> Iterable[SubjectDataSource]:
    return list(_sources.values())


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
