"""The mutant record, shared by rule_mutants.py and the area modules in this package."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
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
