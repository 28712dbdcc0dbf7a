"""docs/rules.md is what scripts/rules_doc.py writes from law/rules.py and the rule mutants (fast)."""

from __future__ import annotations

import importlib.util
from types import ModuleType

from tests.architecture.rule_mutants import MUTANTS, ROOT


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "mamori_rules_doc_script", ROOT / "scripts" / "rules_doc.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_docs_rules_md_is_current():
    committed = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    assert committed == _script().render(), "run: python scripts/rules_doc.py"


def test_every_rule_with_a_mutant_is_named_in_the_code():
    script = _script()
    sources = script._sources()
    constants = script._constants()
    for m in MUTANTS:
        assert m.rule_id in constants, m.rule_id
        where = script.enforced_in(m.rule_id, constants[m.rule_id], sources)
        assert where, f"{m.rule_id}: a mutant but the rule is named nowhere in src/mamori"
