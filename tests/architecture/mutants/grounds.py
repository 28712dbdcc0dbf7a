"""Mutants of issue 14: grounds by regime, the concrete reason a refusal needs (法第36条) and the alternative
measure of 法第35条 ただし書."""

from __future__ import annotations

from tests.architecture.mutants.base import Mutant

DECISIONS = "rights/service/core/decisions.py"
FULFIL = "rights/service/fulfil.py"
T = "tests/rights/test_grounds_by_regime.py"
S = "tests/rights/test_service.py"

MUTANTS: tuple[Mutant, ...] = (
    Mutant(
        "G-12",
        DECISIONS,
        "    if spec is not None and spec.applies_to(kind, regime):\n",
        "    if spec is not None and kind in spec.kinds:\n",
        (
            f"{T}::test_no_gdpr_ground_can_close_an_appi_request_G_12_R_33_2",
            f"{T}::test_no_appi_ground_can_close_a_gdpr_request_G_12",
        ),
        "a ground of either regime refuses any request of a kind it names",
    ),
    Mutant(
        "R-33-2",
        DECISIONS,
        "    if len(text) < MIN_EXPLANATION or text in (spec.reason_ja, spec.reason_en):\n",
        "    if False:\n",
        (
            f"{T}::test_a_refusal_needs_a_concrete_reason_Art_36",
            f"{S}::test_scope_narrows_the_disclosure_and_partial_refusal_R_33_2",
        ),
        "a refusal (or a partial refusal) goes out without a concrete reason (法第36条)",
    ),
    Mutant(
        "R-35-1",
        DECISIONS,
        "    if spec.needs_alternative and (alt is None or len(alt) < MIN_EXPLANATION):\n",
        "    if False:\n",
        (f"{T}::test_stop_use_refusal_records_and_states_the_alternative_measure_R_35_1",),
        "a 法第35条 ただし書 refusal without the alternative measure recorded",
    ),
    Mutant(
        "R-33-2",
        FULFIL,
        '        fits = spec is not None and ground in PARTIAL_GROUNDS and spec.regime in (req.regime, "both")\n',
        "        fits = spec is not None and ground in PARTIAL_GROUNDS\n",
        (f"{S}::test_scope_narrows_the_disclosure_and_partial_refusal_R_33_2",),
        "a GDPR ground refuses part of an APPI disclosure",
    ),
)
