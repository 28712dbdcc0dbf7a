"""DESIGN.md: a slice reads only its own tables. The customers slice's tables (people, activities, provenance,
notified purposes …) are read by statements the customers slice builds (``mamori.customers.queries``), which later
slices execute — never by a statement another slice writes over them.

Checked here from the source: outside the customers slice (and the migrations, which build every table), no module
imports ``mamori.customers.models`` and none declares one of its tables under another name (a lightweight
``table("provenance", column(…))``, as analytics once did). The probe below proves the check catches both."""

from __future__ import annotations

import ast
from pathlib import Path

from mamori.customers import models as customers_models
from mamori.kernel.db import Base
from tests.architecture.test_architecture import SRC

CUSTOMERS_TABLES = frozenset(
    mapper.class_.__tablename__
    for mapper in Base.registry.mappers
    if mapper.class_.__module__ == customers_models.__name__
)
ALLOWED = ("customers", "migrations")


def offences(path: Path, source: str) -> list[str]:
    """Where ``source`` imports the customers models or names a customers table in a ``table(…)`` call."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module == customers_models.__name__:
            found.append(f"{path}:{node.lineno} imports {node.module}")
        elif isinstance(node, ast.ImportFrom) and node.module == "mamori.customers":
            if any(a.name == "models" for a in node.names):
                found.append(f"{path}:{node.lineno} imports mamori.customers.models")
        elif isinstance(node, ast.Import) and any(a.name == customers_models.__name__ for a in node.names):
            found.append(f"{path}:{node.lineno} imports {customers_models.__name__}")
        elif isinstance(node, ast.Call):
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            first = node.args[0] if node.args else None
            if (
                name in ("table", "Table")
                and isinstance(first, ast.Constant)
                and first.value in CUSTOMERS_TABLES
            ):
                found.append(f"{path}:{node.lineno} declares the customers table {first.value!r}")
    return found


def test_the_customers_tables_are_known() -> None:
    assert {"customers", "activities", "provenance", "customer_purposes"} <= CUSTOMERS_TABLES


def test_no_other_slice_reads_the_customers_tables_itself() -> None:
    found: list[str] = []
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC)
        if rel.parts[0] in ALLOWED:
            continue
        found += offences(rel, path.read_text())
    assert found == []


def test_the_check_catches_a_lightweight_table_and_a_models_import() -> None:
    probe = (
        "from sqlalchemy import column, table\n"
        "from mamori.customers.models import CustomerPurpose\n"
        "from mamori.customers import models\n"
        "PROVENANCE = table('provenance', column('channel'))\n"
        "OTHER = table('analytics_runs', column('id'))\n"
    )
    got = offences(Path("analytics/probe.py"), probe)
    assert len(got) == 3 and "'provenance'" in got[2] and not any("analytics_runs" in g for g in got)
