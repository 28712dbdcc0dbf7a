"""Rule coverage you can read, checked in CI (fast): every rule APPI-RULES.md §13 marks E is named in code (outside
comments and docstrings) and has a mutant whose tests fail without the check — or it is on the pending list of
tests/architecture/data/enforceable_rules.json with the open issue that will build it. A pending rule that has
become covered must leave the list, so the list only shrinks.

A rule enforced by *absence* (R-16-2: no record-count thresholds in the code) has no check to switch off: it is on
the data file's ``by_absence`` list with the architecture test that fails when the thing appears, and counts as
covered only while that test exists, is named with the rule id, and tests its own detector.
"""

from __future__ import annotations

import ast
import importlib.util
from types import ModuleType

import pytest

from tests.architecture.rule_mutants import ROOT


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("mamori_rules_doc_cov", ROOT / "scripts" / "rules_doc.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SCRIPT = _script()
DATA = SCRIPT.load_enforceable()
COVERAGE = SCRIPT.coverage()
PENDING: dict[str, dict[str, object]] = DATA["pending"]
BY_ABSENCE: dict[str, dict[str, object]] = DATA["by_absence"]
E_RULES = sorted(i for i, cls in DATA["classes"].items() if cls == "E")


def test_the_enforceable_data_lists_the_rules_of_section_13():
    assert len(DATA["classes"]) >= 90, "regenerate: python scripts/rules_doc.py --enforceable"
    assert set(DATA["classes"].values()) <= {"E", "R", "H"}
    assert {"R-27-1", "R-23-5", "G-22"} <= set(
        E_RULES
    )  # ranges like R-27-1/2/3, R-23-1..6, G-6..G-22 expanded


@pytest.mark.skipif(not SCRIPT.APPI_RULES.is_file(), reason="APPI-RULES.md is not beside the working tree")
def test_the_enforceable_data_is_current_with_appi_rules():
    parsed = SCRIPT.parse_enforceability(SCRIPT.APPI_RULES.read_text(encoding="utf-8"))
    assert DATA["classes"] == parsed, "§13 changed: run python scripts/rules_doc.py --enforceable"


def test_every_E_rule_is_enforced_in_code_and_has_a_mutant_or_is_pending():
    missing = {
        i: ("no enforcing code" if not COVERAGE[i].enforced_in else "no mutant")
        for i in E_RULES
        if not COVERAGE[i].covered and i not in PENDING
    }
    assert missing == {}, (
        "E rules (APPI-RULES §13) without enforcing code or a mutant: name the rule in the check and add a "
        "mutant (tests/architecture/mutants/), or list it as pending with its issue in "
        f"tests/architecture/data/enforceable_rules.json: {missing}"
    )


def test_a_pending_rule_that_became_covered_leaves_the_pending_list():
    covered = sorted(i for i in PENDING if i in COVERAGE and COVERAGE[i].covered)
    assert covered == [], f"now enforced and with a mutant, remove from the pending list: {covered}"


def test_every_pending_rule_is_an_E_rule_with_its_issue():
    for rule_id, entry in PENDING.items():
        assert DATA["classes"].get(rule_id) == "E", f"{rule_id}: pending but not an E rule in §13"
        assert isinstance(entry.get("issue"), int) and entry["issue"] > 0, f"{rule_id}: no issue number"
        assert str(entry.get("why", "")).strip(), f"{rule_id}: say what is missing"


def test_every_rule_enforced_by_absence_has_its_architecture_test():
    assert {"R-16-2"} <= set(BY_ABSENCE)
    for rule_id, entry in BY_ABSENCE.items():
        assert DATA["classes"].get(rule_id) == "E", f"{rule_id}: by absence but not an E rule in §13"
        assert rule_id not in PENDING, f"{rule_id}: both pending and enforced by absence"
        assert str(entry.get("why", "")).strip(), f"{rule_id}: say what must be absent"
        path = ROOT / str(entry.get("test", ""))
        assert path.is_file() and path.parent == ROOT / "tests" / "architecture", f"{rule_id}: {path}"
        tests = [
            n.name
            for n in ast.parse(path.read_text(encoding="utf-8")).body
            if isinstance(n, ast.FunctionDef) and n.name.startswith("test_")
        ]
        named = rule_id.replace("-", "_").replace(".", "_")
        assert any(t.endswith(named) or f"{named}_" in t for t in tests), f"{rule_id}: no test named with it"
        assert len(tests) >= 2, f"{rule_id}: the absence test also tests that its detector finds the thing"
        assert COVERAGE[rule_id].covered and COVERAGE[rule_id].absence == entry["test"]


def test_only_code_counts_as_enforcing_not_comments_or_docstrings():
    names = SCRIPT.code_names(
        '"""Module docstring naming R-99-1 and R_99_2."""\n'
        "# a comment naming R-99-3 and R_99_4\n"
        "def check(x):\n"
        '    """Docstring: R-99-5."""\n'
        '    return refuse("R-99-6") if x else R_99_7\n'
    )
    assert "R-99-6" in names.strings and "R_99_7" in names.identifiers
    assert not {"R-99-1", "R-99-3", "R-99-5", "Module docstring naming R-99-1 and R_99_2."} & names.strings
    assert not {"R_99_2", "R_99_4"} & names.identifiers
    sources = {"m.py": names}
    assert SCRIPT.enforced_in("R-99-6", None, sources) == ["m.py"]
    assert SCRIPT.enforced_in("R-99-7", "R_99_7", sources) == ["m.py"]
    assert SCRIPT.enforced_in("R-99-1", "R_99_2", sources) == []


@pytest.mark.parametrize(
    ("token", "ids"),
    [
        ("R-27-1/2/3", ["R-27-1", "R-27-2", "R-27-3"]),
        ("R-2.3-1/2", ["R-2.3-1", "R-2.3-2"]),
        ("R-23-1..6", ["R-23-1", "R-23-2", "R-23-3", "R-23-4", "R-23-5", "R-23-6"]),
        ("G-33/34", ["G-33", "G-34"]),
        ("R-CNS-1", ["R-CNS-1"]),
    ],
)
def test_section_13_ranges_expand(token, ids):
    assert SCRIPT._expand(token) == ids


def test_a_gdpr_range_keeps_the_articles_the_rules_define():
    known = {"G-6", "G-7", "G-12", "G-15", "G-16", "G-17", "G-18", "G-22", "G-30"}
    assert SCRIPT._expand("G-6..G-22", known) == [
        "G-6",
        "G-7",
        "G-12",
        "G-15",
        "G-16",
        "G-17",
        "G-18",
        "G-22",
    ]
    assert SCRIPT._expand("R-R8", {"R-R8-1", "R-R8-3"}) == ["R-R8-1", "R-R8-3"]
