"""Mutants for purpose versions compared per person (R-17-2, R-21-1), notices and notice exceptions (R-21-3), and
the GDPR lawful basis and Art. 9(2) condition of a purpose (G-6)."""

from __future__ import annotations

from tests.architecture.mutants.base import Mutant

POLICY = "kernel/policy/engine.py"
POLICY_TESTS = "tests/kernel/test_policy.py"
NOTICES = "customers/service/notices.py"
NOTICE_TESTS = "tests/customers/test_purpose_notices.py"
VERSIONS = "tests/purposes/test_versions.py"
WIDENED = f"{NOTICE_TESTS}::test_widened_revision_masks_new_fields_until_the_person_is_notified_R_17_2_R_21_1"
PENDING = f"{NOTICE_TESTS}::test_pending_notice_lists_exactly_the_persons_still_on_the_old_version_R_17_2"
EXCEPTION = f"{NOTICE_TESTS}::test_notice_exception_stands_in_for_the_notice_only_with_a_ground_R_21_3"
ART9_API = (
    f"{NOTICE_TESTS}::test_api_special_categories_masked_for_gdpr_subjects_without_an_art9_condition_G_6"
)

MUTANTS: tuple[Mutant, ...] = (
    Mutant(
        "R-17-2",
        "customers/service/core/common.py",
        "            purpose=purposes_service.facts_for_version(ctx, purpose, version_of.get(r.id)),\n",
        "            purpose=purposes_service.facts(ctx, purpose),\n",
        (WIDENED, ART9_API),
        "a read or write uses the purpose's current version, not the one notified to the person",
    ),
    Mutant(
        "R-17-2",
        "purposes/service.py",
        "        categories=notified.categories & current.categories,\n",
        "        categories=current.categories,\n",
        (
            WIDENED,
            f"{VERSIONS}::test_facts_follow_the_version_the_person_was_told_and_the_stricter_consent_R_17_2",
        ),
        "a widened revision's categories reach persons told only the old version",
    ),
    Mutant(
        "R-17-2",
        "purposes/service.py",
        "        consent_required_appi=notified.consent_required_appi or current.consent_required_appi,\n",
        "        consent_required_appi=notified.consent_required_appi,\n",
        (f"{VERSIONS}::test_facts_follow_the_version_the_person_was_told_and_the_stricter_consent_R_17_2",),
        "a later version that needs consent does not apply to persons told the old version",
    ),
    Mutant(
        "R-17-2",
        "customers/service/subjects.py",
        "        hidden = _outside_purpose(ctx, list(rows.values()), wanted, purpose) if purpose else {}\n",
        "        hidden: dict[str, set[str]] = {}\n",
        (
            f"{NOTICE_TESTS}::test_read_fields_for_a_purpose_follow_the_version_notified_to_each_person_R_17_2",
        ),
        "data handed on for a purpose includes fields only a version not notified to the person covers",
    ),
    Mutant(
        "R-21-1",
        POLICY,
        '    if registered.writes and unnotified and applies(ctx, "R-17-2", "R-21-1"):\n',
        "    if False:\n",
        (
            WIDENED,
            f"{POLICY_TESTS}::test_a_category_only_a_version_not_notified_covers_is_masked_and_not_writable_R_17_2_R_21_1",
        ),
        "a write of a field only a version not yet notified covers is not refused under R-17-2 / R-21-1",
    ),
    Mutant(
        "R-17-2",
        NOTICES,
        "        row.purpose_version = version\n        row.method = data.method\n",
        "        row.method = data.method\n",
        (WIDENED, PENDING),
        "`customers notify` does not move the person to the current version",
    ),
    Mutant(
        "R-17-2",
        "customers/queries.py",
        "            CustomerPurpose.purpose_version < version,\n",
        "            CustomerPurpose.purpose_version <= version,\n",
        (PENDING,),
        "the pending-notice list names persons already notified of the current version",
    ),
    Mutant(
        "R-18-1",
        NOTICES,
        "        if never:\n",
        "        wanted = [c for c in wanted if c in found]\n        if False:\n",
        (f"{NOTICE_TESTS}::test_notify_refuses_bad_targets_and_a_purpose_never_notified_R_18_1",),
        "a purpose never notified to the person is 'notified' into use without consent",
    ),
    Mutant(
        "R-23-2",
        NOTICES,
        '    authorise(ctx, Action.PURPOSE_NOTICE, Resource(kind="purpose_notice"), subject_ids)\n',
        "    return\n",
        (
            f"{NOTICE_TESTS}::test_notice_commands_refuse_roles_without_the_notice_right_R_23_2",
            f"{NOTICE_TESTS}::test_api_notice_exception_and_refusals_R_21_3",
        ),
        "any role records notices and exceptions and reads the pending-notice list",
    ),
    Mutant(
        "R-21-3",
        NOTICES,
        "    if data.ground is None or data.ground not in NOTICE_EXCEPTION_GROUNDS:\n",
        "    if False:\n",
        (EXCEPTION, f"{NOTICE_TESTS}::test_api_notice_exception_and_refusals_R_21_3"),
        "a notice exception is recorded without its ACT 21(4) ground",
    ),
    Mutant(
        "R-21-3",
        NOTICES,
        '    row.purpose_version = version\n    row.method = "exception"\n',
        '    row.purpose_version = row.purpose_version or version\n    row.method = "exception"\n',
        (EXCEPTION,),
        "a recorded notice exception does not stand in for the notice of the current version",
    ),
    Mutant(
        "G-6",
        POLICY,
        "    if (\n        resource.gdpr\n        and facts.lawful_basis is None\n",
        "    if (\n        False\n        and facts.lawful_basis is None\n",
        (
            f"{POLICY_TESTS}::test_gdpr_subject_needs_a_lawful_basis_for_the_purpose_G_6",
            f"{NOTICE_TESTS}::test_gdpr_subject_is_refused_for_a_purpose_without_a_lawful_basis_G_6",
        ),
        "a GDPR subject's data is used for a purpose with no lawful basis",
    ),
    Mutant(
        "G-6",
        POLICY,
        "            and not facts.art9_condition\n",
        "            and False\n",
        (
            f"{POLICY_TESTS}::test_special_categories_masked_for_gdpr_subjects_without_an_art9_condition_G_6",
            ART9_API,
        ),
        "a GDPR subject's special-category data is shown for a purpose without an Art. 9(2) condition",
    ),
    Mutant(
        "G-6",
        "purposes/service.py",
        '    if basis == "legitimate_interests" and not data.balancing_ref:\n',
        "    if False:\n",
        (
            f"{VERSIONS}::test_bad_lawful_basis_combinations_are_refused_G_6",
            f"{NOTICE_TESTS}::test_lawful_basis_input_is_checked_G_6",
        ),
        "legitimate interests is accepted as a lawful basis without a balancing record",
    ),
    Mutant(
        "R-17-2",
        "provision/service/providing.py",
        "        for cid, (rule, _fields) in outside.items():\n",
        "        for cid, (rule, _fields) in {}.items():\n",
        (
            "tests/provision/test_provide.py::test_a_widened_purpose_provides_new_fields_only_after_the_new_notice_R_17_2_R_18_1",
        ),
        "provide hands on a category only a purpose version newer than the person's notice covers",
    ),
    Mutant(
        "R-18-1",
        "customers/service/subjects.py",
        "            outside = sorted(f for f, c in cats.items() if c not in facts.categories)\n",
        "            outside = sorted(f for f, c in cats.items() if c in facts.unnotified)\n",
        (
            "tests/provision/test_provide.py::test_a_widened_purpose_provides_new_fields_only_after_the_new_notice_R_17_2_R_18_1",
        ),
        "provide hands on data of a category the purpose does not cover at all",
    ),
    Mutant(
        "R-17-2",
        "processors/service/access.py",
        "        passing = [p for p in purposes if cid not in refusals[p] and cid not in outside[p]]\n",
        "        passing = [p for p in purposes if cid not in refusals[p]]\n",
        (
            "tests/processors/test_service.py::"
            "test_handover_holds_back_a_category_the_person_was_not_yet_notified_of_R_17_2",
        ),
        "a handover sends a category only a purpose version newer than the person's notice covers",
    ),
)
