"""Mutants of issue 13 P2, P3 and R-18-2: third-party and succession data only through the receipt path
(R-30-1, R-30-2, R-27-5, R-18-2) from customers add / import and provision receive, and 要配慮 recognised in
attributes and free text, stored only with a consent line in the ledger (R-20-2)."""

from __future__ import annotations

from tests.architecture.mutants.base import Mutant

CREATE = "customers/service/core/create.py"
COMMON = "customers/service/core/common.py"
IMPORTING = "customers/service/importing.py"
JOBS = "customers/jobs.py"
RECEIVING = "provision/service/receiving.py"
R = "tests/provision/test_receipt_path.py"
ADD_NO_PROVIDER = f"{R}::test_customers_add_third_party_without_a_registered_provider_is_refused_R_30_1"
ADD_BLANK = f"{R}::test_customers_add_third_party_blank_confirmation_is_refused_R_30_1"
ADD_RECORDS = f"{R}::test_customers_add_third_party_with_confirmation_writes_receipt_records_and_lineage_R_30_1_R_30_2_R_27_5"
IMPORT_BLANK = f"{R}::test_customers_import_third_party_with_a_blank_or_free_text_source_is_refused_R_30_1"
IMPORT_ONE_TX = (
    f"{R}::test_customers_import_third_party_writes_rows_receipt_and_records_in_one_transaction_R_30_1_R_30_2"
)
RECEIVE_BLANK = f"{R}::test_provision_receive_takes_the_same_path_and_refuses_a_blank_confirmation_R_30_1"
SUCCESSION = f"{R}::test_succession_data_only_for_the_purposes_before_the_succession_R_18_2"
API = f"{R}::test_api_customers_add_and_import_take_the_receipt_path_R_30_1_R_30_2"
API_SUCCESSION = f"{R}::test_api_receive_by_succession_keeps_the_prior_purposes_R_18_2"
IMP = "tests/customers/test_import.py"
FREE_TEXT_ONLY = f"{IMP}::test_third_party_import_with_only_a_free_text_source_is_refused_R_30_1"
NO_HOOK = f"{IMP}::test_third_party_intake_without_the_receipt_path_is_refused_fail_closed_R_30_1"
BATCH = f"{IMP}::test_a_third_party_batch_without_its_receipt_is_refused_R_30_1"
IMPORT_SENSITIVE = f"{IMP}::test_sensitive_information_in_a_free_text_column_is_not_imported_R_20_2"
S = "tests/customers/test_sensitive_everywhere.py"
UNTAGGED = f"{S}::test_cli_sensitive_value_as_an_ordinary_attribute_is_refused_R_20_2"
NO_LEDGER = f"{S}::test_cli_sensitive_basis_consent_without_a_ledger_line_is_refused_R_20_2"
UPDATE = f"{S}::test_cli_update_with_sensitive_free_text_is_refused_R_20_2"
ADD_ATTRIBUTE = f"{S}::test_service_add_attribute_refuses_an_untagged_sensitive_value_R_20_2"
ATTR_CLI = f"{S}::test_cli_attr_on_an_existing_person_needs_the_tag_and_the_consent_first_R_20_2"
API_SENSITIVE = f"{S}::test_api_sensitive_value_needs_the_tag_and_a_consent_line_and_is_masked_R_20_2"
AT_CREATION = "tests/customers/test_sensitive_at_creation.py"
NO_LINE = f"{AT_CREATION}::test_sensitive_basis_consent_with_no_line_in_the_ledger_is_refused_R_20_2"

MUTANTS: tuple[Mutant, ...] = (
    # -- R-30-1: a registered provider and the confirmation, whatever command starts the intake ----------------
    Mutant(
        "R-30-1",
        CREATE,
        "    if receipt is None or not receipt.counterparty_id.strip():\n",
        "    if False:\n",
        (ADD_NO_PROVIDER, IMPORT_BLANK, FREE_TEXT_ONLY, API),
        "customers add / import take third-party data with a free-text source and no registered provider",
    ),
    Mutant(
        "R-30-1",
        CREATE,
        "    if intake is None:\n",
        "    if False:\n",
        (NO_HOOK,),
        "third-party intake goes on when provision's receipt path is not registered (fail open)",
    ),
    Mutant(
        "R-30-1",
        RECEIVING,
        "    if not data.identity_confirmed_by.strip() or not data.acquisition.strip():\n",
        "    if False:\n",
        (ADD_BLANK, RECEIVE_BLANK, API),
        "a blank identity confirmation or acquisition history is accepted on receipt",
    ),
    Mutant(
        "R-30-1",
        IMPORTING,
        "    if provenance.method in PROVIDER_METHODS and (intake is None or intake.facts is None):\n",
        "    if False:\n",
        (BATCH,),
        "an import batch writes third-party rows without their receipt",
    ),
    Mutant(
        "R-30-2",
        CREATE,
        "    record_intake(ctx, intake, items=received_items(data), customer_ids=[cid], import_job_id=None)\n",
        "    pass\n",
        (ADD_RECORDS, API),
        "customers add stores third-party data without the receipt and the recipient records",
    ),
    Mutant(
        "R-30-2",
        JOBS,
        "    if provider:\n        return _import_received(\n",
        "    if False:\n        return _import_received(\n",
        (IMPORT_ONE_TX, API),
        "customers import writes third-party rows in committed batches, apart from their receipt",
    ),
    Mutant(
        "R-27-5",
        RECEIVING,
        '        if data.variant == "opt_out":\n            ctx.session.add(\n',
        "        if False:\n            ctx.session.add(\n",
        (ADD_RECORDS,),
        "data received by opt-out is not marked, so it could go out by opt-out again",
    ),
    # -- R-18-2: succession data only for the purposes that applied before ------------------------------------
    Mutant(
        "R-18-2",
        RECEIVING,
        '    if succession != (cp.kind == "succession") or (not succession and cp.kind != "third_party"):\n',
        "    if False:\n",
        (SUCCESSION,),
        "succession data is taken from a counterparty that is not a successor (or third-party data from one)",
    ),
    Mutant(
        "R-18-2",
        RECEIVING,
        "    if not codes:\n",
        "    if False:\n",
        (SUCCESSION,),
        "succession data is received without the purposes that applied before the succession",
    ),
    Mutant(
        "R-18-2",
        CREATE,
        "        if outside:\n",
        "        if False:\n",
        (SUCCESSION, API_SUCCESSION),
        "succession data is notified of purposes outside the predecessor's at intake",
    ),
    Mutant(
        "R-18-2",
        CREATE,
        "            if state is None or state.consent != ConsentState.GRANTED:\n",
        "            if False:\n",
        (SUCCESSION,),
        "a purpose outside the predecessor's is added to a person received by succession without consent",
    ),
    Mutant(
        "R-18-2",
        IMPORTING,
        "        check_succession_purposes(ctx, [m[1] for m in merges], list(versions))\n",
        "        pass\n",
        (SUCCESSION,),
        "an import merge adds purposes to a person received by succession without checking the limit",
    ),
    # -- R-20-2: 要配慮 wherever it is written ----------------------------------------------------------------
    Mutant(
        "R-20-2",
        COMMON,
        "            if a.category != Category.SENSITIVE and _has_sensitive(a.value):\n",
        "            if False:\n",
        (UNTAGGED, ADD_ATTRIBUTE, ATTR_CLI, API_SENSITIVE),
        "a 要配慮 value is stored as an ordinary attribute",
    ),
    Mutant(
        "R-20-2",
        COMMON,
        "        if any(_has_sensitive(t) for t in free_text if t):\n",
        "        if False:\n",
        (UNTAGGED, UPDATE, ADD_ATTRIBUTE),
        "a 要配慮 value is stored in a free-text field (occupation, employer)",
    ),
    Mutant(
        "R-20-2",
        CREATE,
        '    if sensitive and basis == "consent" and sensitive_consent is None:\n',
        "    if False:\n",
        (NO_LINE, NO_LEDGER, API_SENSITIVE),
        'sensitive_basis="consent" is accepted with no consent line in the ledger',
    ),
    Mutant(
        "R-20-2",
        IMPORTING,
        '                if check("free_text", _has_sensitive, value)[0]:\n',
        "                if False:\n",
        (IMPORT_SENSITIVE,),
        "a CSV import stores 要配慮 information from a free-text column",
    ),
    Mutant(
        "R-18-2",
        "customers/service/notices.py",
        "    held = _beyond_succession(ctx, [r.customer_id for r in rows], data.purpose)\n",
        "    held: list[str] = []\n",
        (
            "tests/provision/test_receipt_path.py::"
            "test_a_newer_purpose_version_reaches_succession_data_only_with_consent_R_18_2",
        ),
        "a newer purpose version reaches data received by succession by notice alone, without consent",
    ),
)
