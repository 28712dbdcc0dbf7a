"""The rights slice fulfils through the registry only: adding a slice must never edit rights (DESIGN.md)."""

from __future__ import annotations

import ast
from pathlib import Path

RIGHTS = Path(__file__).resolve().parents[2] / "src" / "mamori" / "rights"


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return found


def test_rights_never_imports_a_slice_to_fulfil():
    for path in RIGHTS.rglob("*.py"):
        slices = {m.split(".")[1] for m in _imports(path) if m.startswith("mamori.") and m.count(".") >= 1}
        # customers (locating people, origin), consent (suppression), purposes (titles), staff (colleagues by name
        # in the handling log) are allowed; no other
        assert slices <= {"kernel", "law", "rights", "customers", "consent", "purposes", "staff"}, (
            path.name,
            slices,
        )
    fulfil = _imports(RIGHTS / "service" / "fulfil.py")
    assert not any(m.startswith("mamori.customers") for m in fulfil)  # fulfilment iterates registry.sources()


def test_no_plaintext_personal_columns_in_rights_tables():
    from mamori.rights import models

    for table in (models.RightsRequest, models.RightsIdentifier, models.RightsSubject, models.RightsEvent):
        names = set(table.__table__.columns.keys())
        assert not names & {"email", "phone", "name", "address", "value", "code", "token", "explanation"}
