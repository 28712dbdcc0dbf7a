"""Mutants that switch off one rule check each, and the tests that must notice (used by test_rule_mutants.py).

The architecture test that "every rule id is tested" only looks for the id in a test file. A mutant here is the
stronger claim: with the check in ``path`` replaced by something that no longer enforces the rule, the listed
tests fail. ``snippet`` must occur exactly once in its file (checked by a fast test, so the list follows the code
when it moves); ``replacement`` is what the check becomes.

Add a mutant when you add a check: copy the lines of the check, write the disabled version, name the tests.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src"


@dataclass(frozen=True)
class Mutant:
    rule_id: str
    path: str  # relative to src/mamori
    snippet: str
    replacement: str
    tests: tuple[str, ...]  # pytest node ids relative to the repository root
    what: str  # one line: the check that is switched off

    def file(self, src: Path = SRC) -> Path:
        return src / "mamori" / self.path


POLICY = "kernel/policy/engine.py"
TEST_POLICY = "tests/kernel/test_policy.py"
RIGHTS_TESTS = "tests/rights/test_service.py"
DISCLOSURE = f"{RIGHTS_TESTS}::test_disclosure_end_to_end_only_the_verified_persons_data_R_33_1_R_16_4"

MUTANTS: tuple[Mutant, ...] = (
    Mutant(
        "R-18-1",
        POLICY,
        "    purpose = ctx.purpose\n    if not purpose:\n",
        "    purpose = ctx.purpose\n    if False:\n",
        (f"{TEST_POLICY}::test_purpose_must_be_declared",),
        "policy.decide lets personal data be used without a declared purpose",
    ),
    Mutant(
        "R-21-1",
        POLICY,
        "    if purpose not in resource.notified_purposes:\n",
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
    Mutant(
        "R-35-1",
        POLICY,
        "    if resource.state.stopped:\n",
        "    if False:\n",
        (f"{TEST_POLICY}::test_stop_use_denies_R_35_1",),
        "policy.decide ignores a stop-use request",
    ),
    Mutant(
        "R-CNS-1",
        POLICY,
        "    if needs_consent and resource.state.consent != ConsentState.GRANTED:\n",
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
        "    _sensitive_guard(data.attributes, sensitive_basis)\n",
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
        "    if req.closed_at is None or ctx.clock.now() > req.closed_at + timedelta(days=DOWNLOAD_DAYS):\n",
        "    if req.closed_at is None:\n",
        ("tests/rights/test_api.py::test_public_request_verify_scope_and_staff_fulfil_R_37_1_R_33_1",),
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
)


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
