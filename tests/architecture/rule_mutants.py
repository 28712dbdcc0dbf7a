"""Mutants that switch off one rule check each, and the tests that must notice (used by test_rule_mutants.py).

The architecture test that "every rule id is tested" only looks for the id in a test file. A mutant here is the
stronger claim: with the check in ``path`` replaced by something that no longer enforces the rule, the listed
tests fail. ``snippet`` must occur exactly once in its file (checked by a fast test, so the list follows the code
when it moves); ``replacement`` is what the check becomes.

Add a mutant when you add a check: copy the lines of the check, write the disabled version, name the tests.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import shutil
import subprocess
import sys
from pathlib import Path

from tests.architecture.mutants.base import ROOT, SRC, Mutant

__all__ = ["MUTANTS", "ROOT", "SRC", "Mutant", "apply", "copy_src", "run_tests", "selected"]


POLICY = "kernel/policy/engine.py"
TEST_POLICY_CHANNELS = "tests/kernel/test_policy_channels.py"
TEST_POLICY = "tests/kernel/test_policy.py"
RIGHTS_TESTS = "tests/rights/test_service.py"
DISCLOSURE = f"{RIGHTS_TESTS}::test_disclosure_end_to_end_only_the_verified_persons_data_R_33_1_R_16_4"
PROVIDE = "provision/service/providing.py"
PROVIDE_TESTS = "tests/provision/test_provide.py"
FLOWS = "tests/provision/test_flows.py"
FULFIL = "rights/service/fulfil.py"
HANDOVER = "processors/service/access.py"
CONTRACTS = "processors/service/contracts.py"
PROCESSORS_TESTS = "tests/processors/test_service.py"
ERASURE = f"{RIGHTS_TESTS}::test_erasure_crypto_shreds_keeps_evidence_and_lists_recipients_R_35_1_G_17_G_19"
RECEIVING = f"{FLOWS}::test_receiving_requires_the_confirmation_and_writes_records_R_30_1_R_30_2"

_OWN: tuple[Mutant, ...] = (
    Mutant(
        "R-18-1",
        POLICY,
        '    purpose = ctx.purpose\n    if not purpose and applies(ctx, "R-18-1"):\n',
        "    purpose = ctx.purpose\n    if False:\n",
        (f"{TEST_POLICY}::test_purpose_must_be_declared",),
        "policy.decide lets personal data be used without a declared purpose",
    ),
    Mutant(
        "R-21-1",
        POLICY,
        '    if purpose not in resource.notified_purposes and applies(ctx, "R-21-1", "R-18-1"):\n',
        "    if False:\n",
        (f"{TEST_POLICY}::test_purpose_not_notified_to_this_person_is_denied_R_21_1",),
        "policy.decide ignores whether the purpose was notified to this person",
    ),
    Mutant(
        "R-23-2",
        POLICY,
        "    elif not _in_scope(ctx, scope, resource):\n",
        "    elif False:\n",
        (f"{TEST_POLICY}::test_sales_rep_sees_only_own_customers",),
        "policy.decide ignores the actor's data scope",
    ),
    # -- issue 21: retention and disposal (R-22-1) -----------------------------------------------------------------
    Mutant(
        "R-22-1",
        "lifecycle/service/retention.py",
        "            elif isinstance(kept, tuple) and kept[0] <= at:\n                out.due[cid] = kept[1]\n",
        "            elif False:\n                out.due[cid] = kept[1]\n",
        (
            "tests/lifecycle/test_retention.py::test_past_period_disposed_held_by_request_and_legal_hold_R_22_1",
        ),
        "retention never finds a person past the period: data no longer needed is kept for ever",
    ),
    Mutant(
        "R-22-1",
        "lifecycle/service/retention.py",
        "        for cid in found:\n            out.due.pop(cid, None)\n",
        "        for cid in ():\n            out.due.pop(cid, None)\n",
        (
            "tests/lifecycle/test_retention.py::test_past_period_disposed_held_by_request_and_legal_hold_R_22_1",
        ),
        "retention disposes of a person held by an open request or a legal hold",
    ),
    Mutant(
        "R-23-3",
        POLICY,
        "    if not ctx.actor.cleared:  # human measures (R-23-3): training and pledge before personal data\n",
        "    if False:\n",
        (
            "tests/kernel/test_policy_training.py::test_an_actor_without_current_training_may_not_read_personal_data_R_23_3",
        ),
        "policy.decide lets staff without a current training and pledge handle personal data",
    ),
    Mutant(
        "R-35-1",
        POLICY,
        '    if resource.state.stopped and applies(ctx, "R-35-1"):\n',
        "    if False:\n",
        (f"{TEST_POLICY}::test_stop_use_denies_R_35_1",),
        "policy.decide ignores a stop-use request",
    ),
    # -- issue 20: contact channels (the 特定電子メール法 TE-3, do-not-contact R-35-1, channels of a purpose) ----------
    Mutant(
        "TE-3",
        POLICY,
        '    if channel in facts.opt_in_channels and not _opted_in(state, channel) and applies(ctx, "TE-3", "R-CNS-1"):\n',
        "    if False:\n",
        (
            f"{TEST_POLICY_CHANNELS}::test_advertising_mail_needs_a_prior_opt_in_and_stops_when_withdrawn_TE_3",
        ),
        "advertising e-mail is allowed without the person's prior opt-in",
    ),
    Mutant(
        "R-35-1",
        POLICY,
        '    if channel in state.channels_out and applies(ctx, "R-35-1"):\n',
        "    if False:\n",
        (
            f"{TEST_POLICY_CHANNELS}::test_a_call_on_a_refused_channel_is_denied_with_R_35_1_and_another_channel_is_not",
        ),
        "a call on a channel the person refused is allowed",
    ),
    Mutant(
        "R-35-1",
        POLICY,
        "    if blocked and not registered.writes and resource.channel is None:\n",
        "    if False:\n",
        (f"{TEST_POLICY_CHANNELS}::test_a_phone_do_not_contact_masks_the_phone_for_outbound_only_R_35_1",),
        "a refused channel's contact point is shown for a contact purpose",
    ),
    Mutant(
        "R-18-1",
        POLICY,
        '    if channel not in facts.channels and applies(ctx, "R-18-1"):\n',
        "    if False:\n",
        (f"{TEST_POLICY_CHANNELS}::test_a_channel_the_purpose_does_not_name_is_refused_R_18_1",),
        "a contact on a channel the purpose does not name is allowed",
    ),
    Mutant(
        "R-CNS-1",
        POLICY,
        "    if needs_consent and resource.state.consent != ConsentState.GRANTED and applies(ctx, *CONSENT_RULES):\n",
        "    if False:\n",
        (f"{TEST_POLICY}::test_consent_required_purpose_needs_granted_consent",),
        "policy.decide ignores missing or withdrawn consent",
    ),
    Mutant(
        "R-25-1",
        POLICY,
        "        or (scope == Scope.GRANT and resource.grant is not None and name not in resource.grant.fields)\n",
        "",
        ("tests/processors/test_service.py",),
        "an outsourcee sees fields its contract does not list",
    ),
    Mutant(
        "R-20-2",
        "customers/service/core/create.py",
        "    _sensitive_guard(data.attributes, basis, free_text=(data.occupation, data.employer))\n",
        "    pass\n",
        ("tests/customers/test_sensitive_at_creation.py",),
        "customers.create stores 要配慮 attributes without consent or a recorded exception",
    ),
    Mutant(
        "R-17-1",
        "customers/service/core/common.py",
        "def _validate_purposes(ctx: Context, purposes: Sequence[str]) -> dict[str, int]:\n    if not purposes:\n",
        "def _validate_purposes(ctx: Context, purposes: Sequence[str]) -> dict[str, int]:\n    if False:\n",
        ("tests/customers/test_service.py::test_create_requires_registered_active_purpose",),
        "customers.create stores a person without any purpose",
    ),
    Mutant(
        "R-37-1",
        "rights/service/core/verify.py",
        "    if not any(i.verified_at is not None for i in _identifiers(ctx, req.id)):\n",
        "    if False:\n",
        (DISCLOSURE,),
        "a request is answered before the person is verified",
    ),
    Mutant(
        "R-16-4",
        "rights/service/fulfil.py",
        "                if rec.excluded is not None:\n",
        "                if False:\n",
        (DISCLOSURE,),
        "records that are not 保有個人データ (政令5) are disclosed",
    ),
    Mutant(
        "R-33-1",
        "rights/service/fulfil.py",
        "    if until is None or today_jst(ctx.clock) > until:\n",
        "    if until is None:\n",
        (
            "tests/rights/test_api.py::test_public_request_verify_scope_and_staff_fulfil_R_37_1_R_33_1",
            "tests/rights/test_delivery_answers.py::test_a_web_disclosure_is_downloadable_from_the_answer_not_the_delivery",
        ),
        "the disclosure package can still be downloaded after its download period",
    ),
    Mutant(
        "R-38-1",
        "rights/service/core/opening.py",
        "    if data.fee_yen and data.kind not in FEE_ALLOWED:\n",
        "    if False:\n",
        (f"{RIGHTS_TESTS}::test_fees_refused_on_correction_and_stop_R_38_1",),
        "a fee is taken for a correction or stop-use request when it is opened",
    ),
    Mutant(
        "G-12",
        "rights/service/core/decisions.py",
        '    if reason not in ("complexity", "volume"):\n',
        "    if False:\n",
        (f"{RIGHTS_TESTS}::test_gdpr_regime_from_origin_month_deadline_and_extension_G_12_G_15",),
        "a GDPR deadline is extended for a reason the regulation does not allow",
    ),
    Mutant(
        "R-39-1",
        "rights/service/core/decisions.py",
        '    if req.regime != "gdpr":\n',
        "    if False:\n",
        (f"{RIGHTS_TESTS}::test_appi_has_no_extension_and_board_is_sorted_with_overdue_flag_R_39_1",),
        "an APPI request gets a deadline extension",
    ),
    Mutant(
        "R-43-1",
        "deid/tabular/anonymise.py",
        "    bad = [*plan.identifying, *plan.addresses, *plan.identification_codes, *plan.payment, *plan.ids]\n"
        "    if bad:\n",
        "    bad = [*plan.identifying, *plan.addresses, *plan.identification_codes, *plan.payment, *plan.ids]\n"
        "    if False:\n",
        (
            "tests/deid/tabular/test_anonymise.py::test_given_identifying_column_kept_when_anonymising_then_refused",
        ),
        "匿名加工情報 keeps identifying, identification-code or payment columns",
    ),
    Mutant(
        "R-41-4",
        "deid/tabular/policy.py",
        "    if ground is None:\n",
        "    if False:\n",
        (
            "tests/deid/tabular/test_pseudonymise.py::test_given_third_party_when_providing_then_refused_with_rule",
        ),
        "仮名加工情報 is provided to a third party",
    ),
    Mutant(
        "R-41-5",
        "deid/tabular/policy.py",
        "    bad = identity_columns(columns)\n    if bad:\n",
        "    bad = identity_columns(columns)\n    if False:\n",
        ("tests/deid/tabular/test_pseudonymise.py::test_given_any_contact_column_when_joining_then_refused",),
        "仮名加工情報 is joined with identity or contact columns",
    ),
    Mutant(
        "R-27-1",
        "provision/service/providing.py",
        '            if cid not in consented:\n                refuse(cid, R_27_1.id, "no_consent")\n',
        '            if False:\n                refuse(cid, R_27_1.id, "no_consent")\n',
        ("tests/provision/test_provide.py::test_consent_is_required_per_person_all_or_nothing_R_27_1",),
        "personal data is provided to a third party without the person's consent",
    ),
    # -- provision (Art. 27-31) -------------------------------------------------------------------------------
    Mutant(
        "R-27-2",
        PROVIDE,
        "    if cp.kind not in BASIS_KINDS[data.basis]:\n",
        "    if False:\n",
        (f"{PROVIDE_TESTS}::test_bad_input_and_roles",),
        "provision under a basis that does not fit the counterparty (joint use to a plain third party, ...)",
    ),
    Mutant(
        "R-27-2",
        "provision/service/joint_use.py",
        "    if effective < notified:\n",
        "    if False:\n",
        (f"{FLOWS}::test_joint_use_needs_no_consent_within_the_declaration_R_27_2",),
        "joint use starts before the persons were notified of it",
    ),
    Mutant(
        "R-27-2",
        CONTRACTS,
        "    if party.kind != OUTSOURCEE_KIND:\n",
        "    if False:\n",
        (f"{PROCESSORS_TESTS}::test_contract_counterparty_must_be_an_outsourcee_R_27_2",),
        "an outsourcing contract with a counterparty that is not registered as an outsourcee",
    ),
    Mutant(
        "R-27-3",
        "provision/service/joint_use.py",
        "    if item in NOTIFY_BEFORE and not effective > notified:\n",
        "    if False:\n",
        (f"{FLOWS}::test_joint_use_changes_respect_their_timing_R_27_3",),
        "a joint-use purpose or responsible party changes without notice in advance",
    ),
    Mutant(
        "R-27-3",
        "provision/service/joint_use.py",
        "    if item in NEEDS_CONSENT and not data.consent_reference:\n",
        "    if False:\n",
        (f"{FLOWS}::test_joint_use_changes_respect_their_timing_R_27_3",),
        "joint-use items or the scope of joint users change without the persons' consent",
    ),
    Mutant(
        "R-27-4",
        PROVIDE,
        "        if issues:\n",
        "        if False:\n",
        (f"{FLOWS}::test_opt_out_needs_a_filing_and_the_objection_period_R_27_4",),
        "opt-out provision outside its filing (not yet effective, other purpose, recipient or items)",
    ),
    Mutant(
        "R-27-4",
        "provision/service/opt_out.py",
        "    if data.start_at < data.notified_at + timedelta(days=data.objection_days):\n",
        "    if False:\n",
        (f"{FLOWS}::test_opt_out_needs_a_filing_and_the_objection_period_R_27_4",),
        "an opt-out filing starts before the persons' objection period has run",
    ),
    Mutant(
        "R-27-5",
        PROVIDE,
        '            refuse(cid, R_27_5.id, "sensitive")\n',
        "            pass\n",
        (f"{FLOWS}::test_opt_out_never_for_sensitive_received_or_improper_data_R_27_5",),
        "要配慮 data is provided by opt-out",
    ),
    Mutant(
        "R-27-5",
        PROVIDE,
        "                refuse(cid, R_27_5.id, flag)\n",
        "                pass\n",
        (f"{FLOWS}::test_opt_out_never_for_sensitive_received_or_improper_data_R_27_5",),
        "data received by opt-out or improperly acquired is provided by opt-out",
    ),
    Mutant(
        "R-27-6",
        "provision/service/opt_out.py",
        "        if not (effective > notified and effective > filed):\n",
        "        if False:\n",
        (f"{FLOWS}::test_opt_out_changes_in_advance_or_without_delay_R_27_6",),
        "an opt-out item changes without notice and filing in advance",
    ),
    Mutant(
        "R-28-1",
        "provision/service/counterparties.py",
        "    if not is_foreign(row) or row.country in EQUIVALENT_COUNTRIES:\n        return {}\n",
        "    if True:\n        return {}\n",
        (f"{PROVIDE_TESTS}::test_foreign_recipient_needs_foreign_consent_R_28_1",),
        "personal data goes to a recipient abroad without foreign consent or a 基準適合体制",
    ),
    Mutant(
        "R-28-1",
        HANDOVER,
        "    if foreign:\n        refused = provision_service",
        "    if False:\n        refused = provision_service",
        (f"{PROCESSORS_TESTS}::test_foreign_outsourcee_needs_the_foreign_transfer_basis_R_28_1",),
        "data is handed to an outsourcee abroad without the foreign-transfer basis",
    ),
    Mutant(
        "R-28-2",
        "provision/service/consents.py",
        "        if sheet_version is None or sheet_version != sheet.version:\n",
        "        if False:\n",
        (
            "tests/provision/test_counterparties.py::test_sheets_are_versioned_and_consent_needs_the_current_one_R_28_2",
        ),
        "foreign-provision consent is recorded on an outdated information sheet",
    ),
    Mutant(
        "R-28-3",
        "provision/service/counterparties.py",
        "    return aware(row.system_review_due) > ctx.clock.now()\n",
        "    return True\n",
        (f"{PROVIDE_TESTS}::test_overdue_system_review_refuses_provision_R_28_3",),
        "provision under a 基準適合体制 whose yearly review is overdue",
    ),
    Mutant(
        "R-29-2",
        PROVIDE,
        "                subject={f: person.get(f) for f in IDENTIFYING_FIELDS},\n",
        "                subject={},\n",
        (f"{PROVIDE_TESTS}::test_record_fields_and_erasure_survival_R_29_2_R_29_4",),
        "the provision record leaves out who the data was about",
    ),
    Mutant(
        "R-29-3",
        PROVIDE,
        "        elif exempt and is_foreign(cp) and cp.country not in EQUIVALENT_COUNTRIES:\n",
        "        elif False:\n",
        (f"{PROVIDE_TESTS}::test_overdue_system_review_refuses_provision_R_28_3",),
        "joint use, entrustment or succession abroad is left unrecorded as if exempt",
    ),
    Mutant(
        "R-29-4",
        "provision/queries.py",
        "    return select(ProvisionRecord.id).where(ProvisionRecord.retention_until <= now)\n",
        "    return select(ProvisionRecord.id)\n",
        (f"{PROVIDE_TESTS}::test_record_fields_and_erasure_survival_R_29_2_R_29_4",),
        "provision records are purged before their retention period ends",
    ),
    Mutant(
        "R-20-1",
        "provision/service/receiving.py",
        "    if not data.acquisition_lawful:\n",
        "    if False:\n",
        (RECEIVING,),
        "data is received although the provider's lawful acquisition cannot be stated",
    ),
    Mutant(
        "R-20-1",
        "customers/service/importing.py",
        "    if not source.strip() or (\n",
        "    if False and (\n",
        ("tests/customers/test_import.py::test_import_needs_its_source_a_blank_one_is_refused_R_20_1",),
        "an import without its source recorded (a blank source accepted)",
    ),
    Mutant(
        "R-30-2",
        "provision/service/receiving.py",
        '    if data.variant == "opt_out" and not data.ppc_publication_confirmed:\n',
        "    if False:\n",
        (RECEIVING,),
        "opt-out data is received without confirming the PPC's publication of the filing",
    ),
    Mutant(
        "R-31-1",
        "provision/service/referable.py",
        "    if not set(items) <= set(split(conf.items)):\n",
        "    if False:\n",
        (f"{FLOWS}::test_referable_information_needs_a_consent_confirmation_R_31_1_R_31_2_R_31_3",),
        "personally referable information goes out on a confirmation for other items",
    ),
    Mutant(
        "R-31-3",
        "provision/service/referable.py",
        "    if any(not i or i.lower() in VAGUE_ITEMS for i in items):\n",
        "    if False:\n",
        (f"{FLOWS}::test_referable_information_needs_a_consent_confirmation_R_31_1_R_31_2_R_31_3",),
        "a referable-information confirmation records vague items",
    ),
    Mutant(
        "R-35-1",
        PROVIDE,
        "            if st.provision_stopped:\n",
        "            if False:\n",
        (f"{PROVIDE_TESTS}::test_stop_request_refuses_provision_R_35_1",),
        "data of a person who asked to stop third-party provision is provided",
    ),
    # -- outsourcees (Art. 25) ----------------------------------------------------------------------------------
    Mutant(
        "R-25-1",
        HANDOVER,
        "    if unneeded:\n        # R-25-1: never hand over data the entrusted work does not need.\n",
        "    if False:\n        # R-25-1: never hand over data the entrusted work does not need.\n",
        (f"{PROCESSORS_TESTS}::test_handover_refuses_a_field_the_work_does_not_need_R_25_1",),
        "a handover includes fields the entrusted work does not need",
    ),
    Mutant(
        "R-25-1",
        CONTRACTS,
        "    if missing:\n        # R-25-1 (contract)",
        "    if False:\n        # R-25-1 (contract)",
        (f"{PROCESSORS_TESTS}::test_contract_without_every_clause_cannot_be_activated_R_25_1",),
        "an outsourcing contract is activated without every required clause",
    ),
    Mutant(
        "R-25-1",
        CONTRACTS,
        '    if not evaluations or evaluations[-1].result != "passed":\n',
        "    if False:\n",
        (f"{PROCESSORS_TESTS}::test_activation_needs_a_passed_selection_evaluation_R_25_1",),
        "an outsourcing contract is activated without a passed selection evaluation",
    ),
    Mutant(
        "R-25-1",
        POLICY,
        "        if resource.subject_id not in grant.customer_ids:\n",
        "        if False:\n",
        (f"{PROCESSORS_TESTS}::test_operator_is_refused_an_uncovered_customer_R_25_1",),
        "an outsourcee operator reads a customer its contract does not cover",
    ),
    Mutant(
        "R-25-1",
        POLICY,
        "    if ctx.purpose is not None and ctx.purpose not in grant.purposes:\n",
        "    if False:\n",
        (f"{PROCESSORS_TESTS}::test_operator_is_refused_for_a_purpose_outside_the_contract_R_25_1",),
        "an outsourcee operator acts for a purpose outside its contract",
    ),
    Mutant(
        "R-25-1",
        POLICY,
        "    if grant is None or not grant.active_at(ctx.clock.now()):\n",
        "    if grant is None:\n",
        (f"{PROCESSORS_TESTS}::test_operator_is_refused_after_the_end_date_R_25_1",),
        "an outsourcee operator keeps access after the contract ended",
    ),
    Mutant(
        "R-35-1",
        HANDOVER,
        "        passing = [p for p in purposes if cid not in refusals[p] and cid not in outside[p]]\n",
        "        passing = [p for p in purposes if cid not in outside[p]]\n",
        (f"{PROCESSORS_TESTS}::test_handover_withholds_a_customer_who_stopped_the_use_R_35_1",),
        "a handover includes a person who stopped the use (or was never notified)",
    ),
    # -- de-identification (Art. 41, 43) -------------------------------------------------------------------------
    Mutant(
        "R-41-1",
        "deid/tabular/pseudonymise.py",
        "    forced = [c for c in keep if c in codes or c in pay]\n    if forced:\n",
        "    forced = [c for c in keep if c in codes or c in pay]\n    if False:\n",
        (
            "tests/deid/tabular/test_pseudonymise.py::test_given_keep_of_identification_code_when_pseudonymised_then_refused",
        ),
        "仮名加工情報 keeps identification-code or payment columns when asked to",
    ),
    Mutant(
        "R-41-4",
        "deid/tabular/policy.py",
        '    if ground == "共同利用" and not joint_use_items_published:\n',
        "    if False:\n",
        (
            "tests/deid/tabular/test_pseudonymise.py::test_given_joint_use_without_published_items_when_providing_then_refused",
        ),
        "仮名加工情報 goes to joint users whose items were not published",
    ),
    Mutant(
        "R-43-2",
        "deid/tabular/anonymise.py",
        "    keys.destroy_system_key(key_name)\n",
        "    pass\n",
        (
            "tests/deid/tabular/test_anonymise.py::test_given_customers_when_anonymised_then_model_holds_secrets_destroyed_and_items_listed",
        ),
        "the one-off processing key of 匿名加工情報 is kept",
    ),
    Mutant(
        "R-43-5",
        "deid/tabular/policy.py",
        "def check_anonymised_collation() -> None:\n",
        "def check_anonymised_collation() -> None:\n    return\n",
        ("tests/deid/test_service.py::test_registered_datasets_are_refused_at_intake_by_their_bytes",),
        "匿名加工情報 is taken into customers (collated with identity data)",
    ),
    # -- consent, purposes, policy ------------------------------------------------------------------------------
    Mutant(
        "R-CNS-1",
        "consent/service.py",
        '                        ConsentState.GRANTED if action == "granted" else ConsentState.WITHDRAWN\n',
        "                        ConsentState.GRANTED\n",
        (
            "tests/consent/test_service.py::test_grant_withdraw_regrant_is_append_only_and_last_line_wins_R_CNS_1_G_7",
        ),
        "a withdrawn consent still counts as given",
    ),
    Mutant(
        "R-20-2",
        "consent/service.py",
        '                sensitive[customer_id] = action == "granted"\n',
        "                sensitive[customer_id] = True\n",
        (
            "tests/customers/test_service.py::test_withdrawn_sensitive_consent_withholds_the_value_again_R_20_2",
        ),
        "a withdrawn 要配慮 consent still counts as given",
    ),
    Mutant(
        "R-20-2",
        POLICY,
        "        and not (resource.state.sensitive_consent or resource.sensitive_exception)\n",
        "        and False\n",
        (f"{TEST_POLICY}::test_sensitive_write_needs_consent_or_exception_R_20_2",),
        "policy.decide lets 要配慮 data be written without consent or a recorded exception",
    ),
    Mutant(
        "R-20-2",
        "customers/service/core/changes.py",
        "        if any(f.sensitive for f in findings) and not (state and state.sensitive_consent):\n",
        "        if False:\n",
        (
            "tests/customers/test_notes.py::test_sensitive_information_in_a_note_is_refused_without_consent_R_20_2",
        ),
        "a note with 要配慮 information is stored without consent",
    ),
    Mutant(
        "G-6",
        POLICY,
        "    needs_consent = facts.consent_required_appi or (resource.gdpr and facts.consent_required_gdpr)\n",
        "    needs_consent = facts.consent_required_appi\n",
        (f"{TEST_POLICY}::test_gdpr_consent_applies_only_to_gdpr_subjects",),
        "a GDPR subject's data is used for a purpose whose lawful basis there is consent, without it",
    ),
    Mutant(
        "R-17-2",
        "purposes/service.py",
        "    purpose.current_version += 1\n",
        "    pass\n",
        ("tests/purposes/test_service.py::test_editing_makes_a_new_version_and_keeps_the_old_R_17_2",),
        "revising a purpose does not keep the old version",
    ),
    # -- requests from the person (Art. 32-35, GDPR 15-21) ------------------------------------------------------
    Mutant(
        "R-32-2",
        FULFIL,
        "            purposes=_purposes(ctx, ids),\n",
        "            purposes=[],\n",
        (f"{RIGHTS_TESTS}::test_purpose_notice_with_fee_R_32_2_R_38_1",),
        "the answer to a purpose-notice request names no purposes",
    ),
    Mutant(
        "R-33-2",
        FULFIL,
        '                if f"{rec.source}:{rec.category}" in partial:\n',
        "                if False:\n",
        (f"{RIGHTS_TESTS}::test_scope_narrows_the_disclosure_and_partial_refusal_R_33_2",),
        "records refused in part (with a ground) are disclosed anyway",
    ),
    Mutant(
        "R-33-2",
        FULFIL,
        "        if not fits or not _CATEGORY.fullmatch(category) or too_long:\n",
        "        if False:\n",
        (f"{RIGHTS_TESTS}::test_scope_narrows_the_disclosure_and_partial_refusal_R_33_2",),
        "a partial refusal is accepted without one of the statutory grounds",
    ),
    Mutant(
        "R-33-3",
        FULFIL,
        '        return record.category == "provision_record"  # R-33-3\n',
        "        return True\n",
        (f"{RIGHTS_TESTS}::test_provision_records_only_R_33_3",),
        "a request for the provision records discloses every record instead",
    ),
    Mutant(
        "R-34-1",
        FULFIL,
        "                applied = source.correct(ctx, sid, record_id, changes)\n",
        "                applied = []\n",
        (f"{RIGHTS_TESTS}::test_correction_before_after_notice_R_34_1_G_16",),
        "a correction request is closed without correcting the data",
    ),
    Mutant(
        "R-35-1",
        FULFIL,
        "    for sid in ids:\n        consent_service.suppress(\n",
        "    for sid in ():\n        consent_service.suppress(\n",
        (f"{RIGHTS_TESTS}::test_stop_use_blocks_marketing_read_at_once_R_35_1",),
        "a stop-use request is closed without stopping the use",
    ),
    Mutant(
        "G-15",
        FULFIL,
        '        recipients=_recipients(ctx, ids) if req.regime == "gdpr" or req.kind != "portability" else [],\n',
        "        recipients=[],\n",
        ("tests/rights/test_cross_slice.py::test_gdpr_access_names_the_recipients_of_the_persons_data_G_15",),
        "the answer to an access request does not name the recipients",
    ),
    Mutant(
        "G-17",
        FULFIL,
        "            erased[source.name] = erased.get(source.name, 0) + int(source.erase(ctx, sid))\n",
        "            erased[source.name] = erased.get(source.name, 0)\n",
        (ERASURE,),
        "an erasure request is closed without erasing the data",
    ),
    Mutant(
        "G-17",
        "customers/service/subjects.py",
        "    ctx.runtime.keystore.destroy_data_keys([customer_id])\n",
        "    pass\n",
        (ERASURE,),
        "erasing a customer keeps the data key (old values stay decryptable in backups)",
    ),
    Mutant(
        "G-18",
        "rights/service/core/opening.py",
        '        return "all"  # G-18: restriction = stop every use but storage\n',
        '        return "provision"\n',
        (f"{RIGHTS_TESTS}::test_gdpr_restriction_and_objection_G_18_G_21",),
        "a GDPR restriction stops only third-party provision, not every use",
    ),
    Mutant(
        "G-19",
        FULFIL,
        "    recipients = _recipients(ctx, ids)  # before erasing: who received the data must be told (G-19)\n",
        "    recipients = []\n",
        (ERASURE,),
        "after an erasure, the recipients to notify are not listed",
    ),
    Mutant(
        "G-19",
        FULFIL,
        "        outcome.recipients_to_notify = _recipients(ctx, ids)\n",
        "        outcome.recipients_to_notify = []\n",
        (f"{RIGHTS_TESTS}::test_gdpr_rectification_lists_recipients_to_notify_G_16_G_19",),
        "after a rectification, the recipients to notify are not listed",
    ),
    Mutant(
        "G-21",
        "rights/service/core/opening.py",
        '        return "purpose" if data.purpose else "all"  # G-21(3): objection to direct marketing is absolute\n',
        '        return "provision"\n',
        (f"{RIGHTS_TESTS}::test_gdpr_restriction_and_objection_G_18_G_21",),
        "an objection to direct marketing does not stop the marketing use",
    ),
    Mutant(
        "R-41-2",
        "deid/service/core.py",
        '    _check_key_name(name)\n    _authorise(ctx, DEID_KEYS, rule="R-41-2", purpose=False)\n    keystore = ',
        "    _check_key_name(name)\n    keystore = ",
        ("tests/deid/test_service_cli.py::test_pseudonym_keys_are_the_privacy_officers_alone",),
        "anyone may create 削除情報等 (a pseudonym key), not only the privacy officer",
    ),
    Mutant(
        "R-41-2",
        "deid/service/core.py",
        '    if not (name == KEY_PREFIX or name.startswith(KEY_PREFIX + ".")) or len(name) > 100:\n',
        "    if False:\n",
        ("tests/deid/test_service_cli.py::test_pseudonym_keys_are_the_privacy_officers_alone",),
        "the deid key commands reach any keystore secret (audit_mac, blind_index), not only pseudonym keys",
    ),
)


def _collect() -> tuple[Mutant, ...]:
    """This file's mutants, then each area module's under tests/architecture/mutants/ (sorted by name)."""
    from tests.architecture import mutants as package

    found: list[Mutant] = list(_OWN)
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        if info.name == "base":
            continue
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        found.extend(module.MUTANTS)
    return tuple(found)


MUTANTS: tuple[Mutant, ...] = _collect()


def selected() -> tuple[Mutant, ...]:
    """MUTANTS, or only those whose rule id or path contains one of the comma-separated words in
    ``MAMORI_MUTANTS`` (to run a few while working: ``MAMORI_MUTANTS=R-25-1,providing pytest -m slow …``)."""
    words = [w.strip() for w in os.environ.get("MAMORI_MUTANTS", "").split(",") if w.strip()]
    if not words:
        return MUTANTS
    return tuple(m for m in MUTANTS if any(w in m.rule_id or w in m.path for w in words))


def apply(mutant: Mutant, src: Path) -> str:
    """Write the mutant into the copy under ``src``; returns the original text (to put back)."""
    path = mutant.file(src)
    original = path.read_text(encoding="utf-8")
    if original.count(mutant.snippet) != 1:
        raise AssertionError(f"{mutant.rule_id}: snippet not found exactly once in {mutant.path}")
    path.write_text(original.replace(mutant.snippet, mutant.replacement), encoding="utf-8")
    return original


def copy_src(dest: Path) -> Path:
    """A copy of src/ (without caches) to mutate; the working tree is never touched."""
    target = dest / "src"
    shutil.copytree(SRC, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info"))
    return target


# Imports mamori from the copy (PYTHONPATH first), proves it, then runs pytest in the same interpreter.
_RUNNER = """
import sys, mamori, pytest
copy = sys.argv[1]
if not mamori.__file__.startswith(copy):
    print("mamori imported from", mamori.__file__, "not from", copy)
    sys.exit(99)
sys.exit(pytest.main(sys.argv[2:]))
"""
NOT_FROM_COPY = 99


def run_tests(src: Path, tests: tuple[str, ...]) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}  # not the xdist worker's
    env.update(
        PYTHONPATH=str(src) + os.pathsep + env.get("PYTHONPATH", ""),
        MAMORI_TEST_BACKENDS="sqlite",
        PYTHONDONTWRITEBYTECODE="1",
    )
    args = [sys.executable, "-c", _RUNNER, str(src), "-x", "-q", "-p", "no:cacheprovider", "-p", "no:xdist"]
    return subprocess.run(  # noqa: S603 - our own interpreter and arguments
        [*args, *tests], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False
    )
