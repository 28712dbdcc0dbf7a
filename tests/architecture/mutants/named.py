"""Mutants for rules that were named in code but had no mutant (issue 13, item 6): GDPR consent conditions (G-7),
rectification (G-16), portability (G-20) and the recipient's consent confirmation for 個人関連情報 (R-31-2)."""

from __future__ import annotations

from tests.architecture.mutants.base import Mutant

CONSENT = "consent/service.py"
WITHDRAWAL = "tests/consent/test_withdrawal_G_7.py"
CHILDREN = "tests/consent/test_children_R_R8_4.py"
GDPR_RIGHTS = "tests/rights/test_gdpr_rights_cli_G_16_G_20.py"
REFERABLE = "tests/provision/test_referable_R_31_2.py"

MUTANTS: tuple[Mutant, ...] = (
    Mutant(
        "G-7",
        CONSENT,
        '    """Withdraw consent: effective at once for every later read (G-7(3))."""\n'
        "    _authorise(ctx, Action.CONSENT_RECORD, customer_id)\n",
        '    """Withdraw consent: effective at once for every later read (G-7(3))."""\n'
        "    _authorise(ctx, Action.RIGHTS_MANAGE, customer_id)\n",
        (f"{WITHDRAWAL}::test_withdrawal_is_as_easy_as_giving_and_effective_at_once_G_7",),
        "withdrawing a consent needs a stronger permission than giving it",
    ),
    Mutant(
        "G-7",
        CONSENT,
        '    return _append(ctx, customer_id, "purpose", purpose, "withdrawn", data)\n',
        "    _require_guardian_for_a_child(ctx, customer_id, data)\n"
        '    return _append(ctx, customer_id, "purpose", purpose, "withdrawn", data)\n',
        (
            f"{WITHDRAWAL}::test_a_childs_consent_given_by_the_guardian_is_withdrawn_without_more_details_G_7",
            f"{CHILDREN}::test_from_the_amendment_a_childs_consent_needs_a_legal_guardian_R_R8_4",
        ),
        "withdrawing a child's consent asks for details (the legal guardian) that giving it by the guardian did not",
    ),
    Mutant(
        "G-16",
        "rights/service/fulfil.py",
        "        outcome.corrections = _correct(ctx, ids, corrections)\n",
        '        outcome.corrections = [] if req.regime == "gdpr" else _correct(ctx, ids, corrections)\n',
        (
            f"{GDPR_RIGHTS}::test_gdpr_rectification_corrects_the_stored_data_G_16",
            "tests/rights/test_service.py::test_gdpr_rectification_lists_recipients_to_notify_G_16_G_19",
        ),
        "a GDPR rectification request is closed without rectifying the stored data",
    ),
    Mutant(
        "G-20",
        "rights/service/render.py",
        '    if kind == "portability" and fmt not in MACHINE_READABLE:\n',
        "    if False:\n",
        (
            f"{GDPR_RIGHTS}::test_gdpr_portability_is_answered_in_a_machine_readable_format_G_20",
            "tests/rights/test_api_portability_G_20.py::test_api_portability_is_machine_readable_G_20",
        ),
        "a portability request is answered with a letter (html / pdf) instead of machine-readable data",
    ),
    Mutant(
        "R-31-2",
        "provision/service/referable.py",
        "    if conf.counterparty_id != cp.id:  # R-31-2: the consent confirmed is the one this recipient obtained\n",
        "    if False:\n",
        (f"{REFERABLE}::test_a_confirmation_covers_only_the_recipient_that_obtained_the_consent_R_31_2",),
        "personally referable information goes to a recipient on the consent confirmation recorded for another",
    ),
    Mutant(
        "R-2.3-2",
        "provision/service/providing.py",
        "        for cid in sorted(subjects.sensitive_subjects(ctx, ids)):\n",
        "        for cid in ():\n",
        ("tests/provision/test_flows.py::test_opt_out_never_for_sensitive_received_or_improper_data_R_27_5",),
        "要配慮 data is provided by opt-out (R-2.3-2, enforced by the R-27-5 refusal)",
    ),
)
