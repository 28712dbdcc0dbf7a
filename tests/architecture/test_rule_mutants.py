"""Each rule check in rule_mutants.MUTANTS, switched off in a copy of src/, makes its tests fail (mutant killed)."""

from __future__ import annotations

import os
import queue
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from mamori.law import rules
from tests.architecture.rule_mutants import (
    MUTANTS,
    NOT_FROM_COPY,
    ROOT,
    Mutant,
    apply,
    copy_src,
    run_tests,
    selected,
)

# The rule ids whose enforcement is proven by a mutant (keep in step with rule_mutants.MUTANTS).
RULE_IDS_WITH_MUTANTS = [
    "G-12",
    "G-15",
    "G-16",
    "G-17",
    "G-18",
    "G-19",
    "G-20",
    "G-21",
    "G-30",
    "G-6",
    "G-7",
    "R-16-4",
    "R-17-1",
    "R-17-2",
    "R-18-1",
    "R-18-2",
    "R-2.3-1",
    "R-2.3-2",
    "R-20-1",
    "R-20-2",
    "R-21-1",
    "R-21-2",
    "R-21-3",
    "R-22-1",
    "R-23-2",
    "R-23-3",
    "R-23-7",
    "R-25-1",
    "R-26-1",
    "R-26-3",
    "R-27-1",
    "R-27-2",
    "R-27-3",
    "R-27-4",
    "R-27-5",
    "R-27-6",
    "R-28-1",
    "R-28-2",
    "R-28-3",
    "R-28-4",
    "R-29-1",
    "R-29-2",
    "R-29-3",
    "R-29-4",
    "R-30-1",
    "R-30-2",
    "R-31-1",
    "R-31-2",
    "R-31-3",
    "R-32-2",
    "R-33-1",
    "R-33-2",
    "R-33-3",
    "R-34-1",
    "R-35-1",
    "R-37-1",
    "R-38-1",
    "R-39-1",
    "R-41-1",
    "R-41-2",
    "R-41-4",
    "R-41-5",
    "R-43-1",
    "R-43-2",
    "R-43-5",
    "R-CNS-1",
    "R-R8-3",
    "R-R8-4",
    "TE-3",
]


def test_the_list_of_rule_ids_with_a_mutant_is_current():
    assert sorted({m.rule_id for m in MUTANTS}) == RULE_IDS_WITH_MUTANTS
    assert set(RULE_IDS_WITH_MUTANTS) <= {r.id for r in rules.ALL_RULES}


@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda m: f"{m.rule_id}:{m.path}")
def test_every_mutant_snippet_occurs_exactly_once_in_its_file(mutant):
    """When a check moves, this fails: move the snippet (or the path) here with it."""
    text = mutant.file().read_text(encoding="utf-8")
    assert text.count(mutant.snippet) == 1, (
        f"{mutant.rule_id}: snippet not found once in src/mamori/{mutant.path}"
    )
    assert mutant.replacement != mutant.snippet
    for node in mutant.tests:
        assert (ROOT / node.split("::")[0]).is_file(), node


WORKERS = max(1, min(2, os.cpu_count() or 1))  # one copy of src/ per worker; a mutant run is one process


def _run_mutant(mutant: Mutant, copies: queue.Queue[Path]) -> subprocess.CompletedProcess[str]:
    src = copies.get()
    try:
        original = apply(mutant, src)
        try:
            return run_tests(src, mutant.tests)
        finally:
            mutant.file(src).write_text(original, encoding="utf-8")
    finally:
        copies.put(src)


@pytest.mark.slow
@pytest.mark.timeout(2400)  # ~140 mutants, each a pytest run in a copy of src/, on two workers
def test_every_rule_mutant_is_killed_by_its_tests(tmp_path: Path):
    copies: queue.Queue[Path] = queue.Queue()
    for n in range(WORKERS):
        copies.put(copy_src(tmp_path / str(n)))
    chosen = selected()
    src = copies.get()
    every_test = tuple(dict.fromkeys(t for m in chosen for t in m.tests))
    baseline = run_tests(src, every_test)
    copies.put(src)
    assert baseline.returncode != NOT_FROM_COPY, baseline.stdout
    assert baseline.returncode == 0, "the unmutated copy must pass:\n" + baseline.stdout[-3000:]

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        results = list(pool.map(lambda m: _run_mutant(m, copies), chosen))

    rows: list[tuple[str, str, str, str]] = []
    survivors: list[str] = []
    for mutant, result in zip(chosen, results, strict=True):
        assert result.returncode != NOT_FROM_COPY, result.stdout
        killed = result.returncode == 1  # tests failed (not an error of the run itself)
        failed = [ln.split(" ")[1] for ln in result.stdout.splitlines() if ln.startswith("FAILED ")]
        rows.append((mutant.rule_id, mutant.what, "killed" if killed else "SURVIVED", ", ".join(failed)))
        if not killed:
            survivors.append(
                f"{mutant.rule_id} ({mutant.path}): rc={result.returncode}\n{result.stdout[-1500:]}"
            )

    width = max(len(r[1]) for r in rows)
    print("\nrule id  | mutant" + " " * (width - 6) + " | result   | killed by")
    for rule_id, what, verdict, by in rows:
        print(f"{rule_id:<8} | {what:<{width}} | {verdict:<8} | {by}")
    assert survivors == [], "\n\n".join(survivors)
