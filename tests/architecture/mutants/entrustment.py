"""Mutants of issue 13 P1: entrustment and succession through the processors and provision rules (one path per
legal act), and provision records for a handover to a foreign outsourcee (R-28-1, R-29-1)."""

from __future__ import annotations

from tests.architecture.mutants.base import Mutant

PROVIDE = "provision/service/providing.py"
ACCESS = "processors/service/access.py"
T = "tests/provision/test_entrustment_path.py"
NO_CONTRACT = f"{T}::test_entrustment_without_any_contract_is_refused_R_25_1"
NOT_RUNNING = f"{T}::test_entrustment_under_a_contract_not_running_is_refused_R_25_1"
RE_EVALUATED = f"{T}::test_entrustment_after_a_failed_re_evaluation_is_refused_R_25_1"
FIELD = f"{T}::test_entrustment_of_a_field_outside_the_contract_is_refused_R_25_1"
PURPOSE = f"{T}::test_entrustment_for_a_purpose_outside_the_contract_is_refused_R_27_2"
PERSONS = f"{T}::test_entrustment_refuses_uncovered_not_notified_and_stopped_persons_R_25_1_R_21_1_R_35_1"
HAPPY = f"{T}::test_entrustment_happy_path_writes_handover_log_and_provision_record_R_25_1_R_29_3"
NO_GATE = f"{T}::test_entrustment_without_the_processors_gate_is_refused_R_25_1"
SUCCESSION = f"{T}::test_succession_refuses_not_notified_and_stopped_persons_R_21_1_R_35_1"
US = f"{T}::test_handover_to_a_us_outsourcee_writes_provision_records_R_28_1_R_29_1"
SERVICE_ABROAD = f"{T}::test_foreign_handover_through_the_service_records_each_person_R_29_1"
API = f"{T}::test_entrustment_through_the_api_runs_the_processors_checks_R_25_1_R_27_2"
P = "tests/processors/test_service.py"
HANDOVER_RE_EVALUATED = f"{P}::test_handover_stops_after_a_failed_re_evaluation_R_25_1"
HANDOVER_ABROAD = f"{P}::test_foreign_outsourcee_needs_the_foreign_transfer_basis_R_28_1"

MUTANTS: tuple[Mutant, ...] = (
    Mutant(
        "R-25-1",
        PROVIDE,
        '    entrusted = _entrustment(ctx, data, cp, ids) if data.basis == "entrustment" else None\n',
        "    entrusted = None\n",
        (NO_CONTRACT, NOT_RUNNING, FIELD, PURPOSE, PERSONS, HAPPY, API),
        "provide --basis entrustment skips every processors check (the P1 probe)",
    ),
    Mutant(
        "R-25-1",
        PROVIDE,
        "    if gate is None:\n",
        "    if False:\n",
        (NO_GATE,),
        "entrustment goes ahead (or crashes) when no processors gate is registered instead of failing closed",
    ),
    Mutant(
        "R-25-1",
        ACCESS,
        "        if not rows:\n",
        "        if False:\n",
        (NO_CONTRACT,),
        "entrustment to an outsourcee with no 委託契約 at all is not refused as such",
    ),
    Mutant(
        "R-25-1",
        ACCESS,
        "            try:\n                ensure_running(ctx, row)\n",
        "            try:\n                pass\n",
        (NOT_RUNNING, RE_EVALUATED),
        "entrustment under a draft, suspended, ended or out-of-window contract",
    ),
    Mutant(
        "R-25-1",
        ACCESS,
        '    if not evaluations or evaluations[-1].result != "passed":\n        raise PolicyDenied(\n'
        '            "委託先の選定評価（合格）がないため引き渡せません。",\n',
        '    if False:\n        raise PolicyDenied(\n            "委託先の選定評価（合格）がないため引き渡せません。",\n',
        (RE_EVALUATED, HANDOVER_RE_EVALUATED),
        "entrustment or a handover although the latest selection evaluation of the outsourcee failed",
    ),
    Mutant(
        "R-25-1",
        ACCESS,
        "        check_fields(row, fields)\n",
        "        pass\n",
        (FIELD, API),
        "entrustment of fields the contract (the entrusted work) does not cover",
    ),
    Mutant(
        "R-27-2",
        ACCESS,
        "        within = [r for r in running if purpose in r.purposes]\n",
        "        within = running\n",
        (PURPOSE, API),
        "entrustment for a purpose outside the contract's purposes",
    ),
    Mutant(
        "R-25-1",
        ACCESS,
        '        cid: (R_25_1.id, "not_covered") for cid in ids if cid not in covered\n',
        '        cid: (R_25_1.id, "not_covered") for cid in ids if False\n',
        (PERSONS,),
        "entrustment of a person the contract does not cover",
    ),
    Mutant(
        "R-21-1",
        PROVIDE,
        "                rule, reason = entrusted.withheld[cid]\n                refuse(cid, rule, reason)\n",
        "                pass\n",
        (PERSONS, HAPPY, API),
        "entrustment of persons not notified of the purpose, stopped or not covered (per-person checks off)",
    ),
    Mutant(
        "R-35-1",
        PROVIDE,
        "            if decision.code in SUCCESSION_REFUSED:\n",
        "            if False:\n",
        (SUCCESSION,),
        "succession of persons not notified of the purpose or who stopped its use",
    ),
    Mutant(
        "R-25-1",
        PROVIDE,
        '        handover_id = gate.log(ctx, entrusted.contract_id, fields, allowed, len(ordered), "provide")\n',
        "        handover_id = None\n",
        (HAPPY, API),
        "an entrustment through provide leaves no processors handover log",
    ),
    Mutant(
        "R-29-1",
        ACCESS,
        "    if foreign and included:\n",
        "    if False:\n",
        (US, SERVICE_ABROAD, HANDOVER_ABROAD),
        "a handover to an outsourcee abroad (outside the EU/UK) writes no provision record",
    ),
    Mutant(
        "R-29-2",
        PROVIDE,
        "                subject={f: values.get(cid, {}).get(f) for f in IDENTIFYING_FIELDS},  # R-29-2\n",
        "                subject=None,  # R-29-2\n",
        (SERVICE_ABROAD,),
        "the provision record of a foreign handover leaves out who the data was about",
    ),
)
