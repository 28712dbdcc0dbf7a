"""Mutants for rules as data (ADR 0009): the rule book's dates and the 令和8年 children's rule (R-R8-3, R-R8-4)."""

from __future__ import annotations

from tests.architecture.mutants.base import Mutant

CHILDREN = "tests/consent/test_children_R_R8_4.py"
RULE_BOOK = "tests/law/test_rule_book.py"
POLICY_TESTS = "tests/kernel/test_policy.py"

MUTANTS: tuple[Mutant, ...] = (
    Mutant(
        "R-R8-3",
        "law/rules.py",
        "        return self.effective_from <= on and (self.effective_to is None or on < self.effective_to)\n",
        "        return True\n",
        (
            f"{CHILDREN}::test_before_the_amendment_a_childs_consent_is_recorded_as_before_R_R8_4",
            f"{RULE_BOOK}::test_lookup_by_id_follows_the_effective_dates_R_R8_4",
        ),
        "a rule applies whatever its effective dates (the 令和8年 amendment is enabled before its 施行日)",
    ),
    Mutant(
        "R-R8-3",
        "kernel/rulebook.py",
        "    return True if book is None else book(rule_id, on)\n",
        "    return True\n",
        (f"{POLICY_TESTS}::test_a_rule_whose_effective_to_has_passed_is_not_enforced_R_R8_3",),
        "the policy engine ignores the rule book: a rule whose effective_to has passed is still enforced",
    ),
    Mutant(
        "R-R8-4",
        "consent/service.py",
        "    if data.guardian is not None or not in_force(R_R8_4.id, day):\n        return\n",
        "    return\n",
        (f"{CHILDREN}::test_from_the_amendment_a_childs_consent_needs_a_legal_guardian_R_R8_4",),
        "a consent for a person under 16 is recorded without a legal guardian once R-R8-4 is in force",
    ),
    Mutant(
        "R-R8-4",
        "consent/service.py",
        "    days = {cid: day for cid, day in days.items() if in_force(R_R8_4.id, day)}\n",
        "    days = {}\n",
        (f"{CHILDREN}::test_from_the_amendment_a_childs_consent_needs_a_legal_guardian_R_R8_4",),
        "bulk consent lines for persons under 16 are recorded without a legal guardian",
    ),
)
