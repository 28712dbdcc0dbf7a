"""R-16-2 (and R-23-6), enforced by absence: every entity is a 個人情報取扱事業者 however few persons it holds, and
a 中小規模事業者 owes the same duties — so no code under src/mamori may make a legal duty depend on how many persons or
records there are (APPI-RULES §10, §13: "E: no record-count thresholds in the code").

Read with ``ast`` (comments and strings do not count), the check fails on:

1. any comparison with the old applicability threshold, 5,000 persons (4,999 … 5,001, as a literal or a module
   constant) — it survives only in the R-23-6 SME definition, which chooses methods, never applicability;
2. a comparison of a count of persons or records (``len(customers)``, ``person_count``, ``func.count(...)`` …)
   with a number in a function that decides under a rule (names a rule id or constant such as ``R_27_1`` /
   ``"R-27-1"``).

The one statutory count is allowed by name: the leak-report trigger of R-26-1 (more than 1,000 persons affected),
in a function that names R-26-1 and compares with 1,000 (``> 1000`` / ``<= 1000``) or 1,001 (``>= 1001`` /
``< 1001``). tests/architecture/data/enforceable_rules.json lists R-16-2 and R-23-6 under ``by_absence`` with this
file; tests/architecture/test_rule_coverage.py accepts them as covered through it.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import NamedTuple

SRC = Path(__file__).resolve().parents[2] / "src" / "mamori"

OLD_THRESHOLD = range(
    4_999, 5_002
)  # 旧政令2: ≤5,000 persons on every day of the last 6 months (gone 2017-05-30)
LEAK_TRIGGER = ("R-26-1", "R_26_1")  # ACT 26, 規則7(4): more than 1,000 persons — the one statutory count
LEAK_COMPARISONS = {(ast.Gt, 1_000), (ast.LtE, 1_000), (ast.GtE, 1_001), (ast.Lt, 1_001)}

# What counts persons or records: identifiers such as person_count, affected, customers; len() of such a thing;
# SQL counts (func.count, query.count()).
_COUNTED = (
    r"(person|people|subject|customer|record|row|holder|employee|headcount|affected|individual|member|id)"
)
COUNT_NAME = re.compile(rf"(count|total|^n_|^num_|^{_COUNTED}s$|_{_COUNTED}s$|^affected)", re.IGNORECASE)
COUNTED_THING = re.compile(rf"{_COUNTED}s?$|affected|ids$", re.IGNORECASE)
RULE_NAME = re.compile(r"^(?:R|G)[-_](?:[0-9]|CNS|R8)")


class Finding(NamedTuple):
    path: str
    line: int
    code: str
    why: str


def _identifier(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Call):
        return _identifier(node.func)
    if isinstance(node, ast.Subscript):
        return _identifier(node.value)
    return ""


def _is_count(node: ast.AST) -> bool:
    """A count of persons or records."""
    if isinstance(node, ast.Call):
        name = _identifier(node.func)
        if name == "len":
            return bool(node.args) and bool(COUNTED_THING.search(_identifier(node.args[0])))
        return "count" in name.lower()
    if isinstance(node, ast.Name | ast.Attribute):
        return bool(COUNT_NAME.search(_identifier(node)))
    return False


def _module_ints(tree: ast.Module) -> dict[str, int]:
    out: dict[str, int] = {}
    for node in tree.body:
        value = node.value if isinstance(node, ast.Assign | ast.AnnAssign) else None
        if isinstance(value, ast.Constant) and type(value.value) is int:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]  # type: ignore[union-attr]
            out.update({t.id: value.value for t in targets if isinstance(t, ast.Name)})
    return out


def _number(node: ast.AST, constants: dict[str, int]) -> int | None:
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return node.value
    if isinstance(node, ast.Name | ast.Attribute):
        return constants.get(_identifier(node))
    return None


def _named_rules(fn: ast.AST) -> set[str]:
    docstrings = {
        id(n.value)
        for n in ast.walk(fn)
        if isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant) and isinstance(n.value.value, str)
    }
    names: set[str] = set()
    for n in ast.walk(fn):
        if isinstance(n, ast.Name | ast.Attribute):
            names.add(_identifier(n))
        elif isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in docstrings:
            names.add(n.value)
    return {n for n in names if RULE_NAME.match(n)}


_FLIP = {ast.Gt: ast.Lt, ast.Lt: ast.Gt, ast.GtE: ast.LtE, ast.LtE: ast.GtE}


def findings(text: str, path: str = "<module>") -> list[Finding]:
    """Comparisons that make a duty depend on a count of persons or records (see the module docstring)."""
    tree = ast.parse(text)
    constants = _module_ints(tree)
    out: list[Finding] = []
    functions = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
    rules_of: dict[int, set[str]] = {}
    for fn in functions:  # inner functions are walked again: the innermost one decides (last write wins)
        for node in ast.walk(fn):
            if isinstance(node, ast.Compare):
                rules_of[id(node)] = _named_rules(fn)
    seen: set[tuple[int, int]] = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Compare):
            continue
        rules = rules_of.get(id(node), set())
        sides = [node.left, *node.comparators]
        for op, left, right in zip(node.ops, sides[:-1], sides[1:], strict=True):
            for count, bound, cmp in ((left, right, type(op)), (right, left, _FLIP.get(type(op), type(op)))):
                value = _number(bound, constants)
                if value is None or (node.lineno, value) in seen:
                    continue
                code = ast.unparse(node)
                if value in OLD_THRESHOLD:
                    seen.add((node.lineno, value))
                    out.append(
                        Finding(path, node.lineno, code, "compares with the old 5,000-person threshold")
                    )
                elif value > 1 and _is_count(count) and rules:
                    if (cmp, value) in LEAK_COMPARISONS and rules & set(LEAK_TRIGGER):
                        continue  # R-26-1: the statutory >1,000-person leak-report trigger
                    seen.add((node.lineno, value))
                    out.append(
                        Finding(path, node.lineno, code, f"a count decides a duty under {sorted(rules)}")
                    )
    return sorted(out, key=lambda f: f.line)


def _scan() -> list[Finding]:
    found: list[Finding] = []
    for file in sorted(SRC.rglob("*.py")):
        rel = file.relative_to(SRC).as_posix()
        found.extend(findings(file.read_text(encoding="utf-8"), rel))
    return found


def test_no_legal_duty_depends_on_a_record_count_R_16_2_R_23_6():
    assert _scan() == [], (
        "R-16-2: the duties apply however few persons are held (and the same to a 中小規模事業者, R-23-6): "
        "no duty may depend on a count of persons or records; the only statutory count is R-26-1's "
        ">1,000-person leak trigger, named in the function that compares."
    )


# -- the check itself finds what it must (so an empty result above means something) ---------------------------


def test_the_old_5000_threshold_is_found_wherever_it_is_compared_R_16_2():
    src = (
        "HOLDERS_LIMIT = 5_000\n"
        "def applies(n):\n"
        "    return n > HOLDERS_LIMIT\n"
        "def small(customers):\n"
        "    if len(customers) <= 5000:\n"
        "        return True\n"
    )
    assert [(f.line, f.why) for f in findings(src)] == [
        (3, "compares with the old 5,000-person threshold"),
        (5, "compares with the old 5,000-person threshold"),
    ]


def test_a_count_that_decides_a_duty_is_found_R_16_2():
    src = (
        "from mamori.law.rules import R_29_1, R_27_1\n"
        "def needs_record(ctx, customer_ids):\n"
        "    if len(customer_ids) < 50:\n"
        "        return None\n"
        "    return R_29_1\n"
        "def needs_consent(person_count):\n"
        '    return person_count >= 100 and "R-27-1"\n'
        "def leak(ctx, affected):\n"
        "    if affected > 1000:\n"
        '        return "R-29-1"\n'
    )
    assert [f.line for f in findings(src)] == [3, 7, 9]


def test_the_r_26_1_leak_trigger_is_allowed_by_name_and_nothing_else_R_16_2():
    allowed = (
        "from mamori.law.rules import R_26_1\n"
        "def reportable(affected_persons):\n"
        "    return affected_persons > 1000 and R_26_1\n"
        "def reportable_too(person_count):\n"
        '    return 1001 <= person_count and "R-26-1"\n'
    )
    assert findings(allowed) == []
    other_number = (
        "from mamori.law.rules import R_26_1\ndef f(affected):\n    return affected > 500 and R_26_1\n"
    )
    assert [f.line for f in findings(other_number)] == [3]


def test_counts_outside_legal_decisions_and_string_lengths_are_not_findings_R_16_2():
    src = (
        "from mamori.law.rules import R_41_2\n"
        "def chunks(subject_ids):\n"
        "    return [subject_ids[i : i + 500] for i in range(0, len(subject_ids), 500)] if len(subject_ids) > 1 else []\n"
        "def key_name(name):\n"
        "    if len(name) > 100:\n"
        "        raise ValueError(R_41_2)\n"
        "def page(items):\n"
        "    return len(items) > 50\n"
    )
    assert findings(src) == []
