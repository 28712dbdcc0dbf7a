"""One shape for every slice (issue 12, ADR 0008): permissions per slice, contracts generated from SLICES."""

from __future__ import annotations

import ast
import importlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from types import ModuleType

import pytest

from mamori import composition
from mamori.kernel.policy import Action, grant_table, registered_actions
from mamori.slices import PUBLIC_FACE, SLICES

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "mamori"
DATA = Path(__file__).parent / "data"
NOT_SLICES = {"kernel", "law", "cli", "api", "web", "migrations"}


def _contracts() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "mamori_contracts_script", ROOT / "scripts" / "contracts.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(autouse=True, scope="module")
def _registered() -> None:
    composition.register_all()


# --- permissions.py per slice -------------------------------------------------------------------------------


def test_the_role_action_matrix_is_the_snapshot():
    """The full grant table (every role, every action, its scope and flags) equals data/grants.json."""
    want = json.loads((DATA / "grants.json").read_text())
    got_grants = {
        role.value: {str(a): scope.value for a, scope in sorted(by_action.items())}
        for role, by_action in grant_table().items()
    }
    specs = registered_actions()
    assert got_grants == want["grants"]
    assert {s.constant: str(s.action) for s in specs} == want["constants"]
    assert sorted(str(s.action) for s in specs if s.personal_data) == want["personal_data"]
    assert sorted(str(s.action) for s in specs if s.writes) == want["writes"]
    assert sorted(str(s.action) for s in specs if s.sensitive) == want["sensitive"]


def test_every_slice_package_is_in_slices():
    packages = {p.name for p in SRC.iterdir() if (p / "__init__.py").exists()} - NOT_SLICES
    assert packages == set(SLICES), "add the slice to mamori.slices.SLICES and run scripts/contracts.py"


@pytest.mark.parametrize("owner", ["kernel", *SLICES])
def test_each_permissions_module_is_registered_by_composition(owner: str):
    """Every permissions.py is registered (register_all) and its constants are the names its specs declare."""
    if not (SRC / owner / "permissions.py").exists():
        pytest.skip(f"{owner} declares no action")
    module = importlib.import_module(f"mamori.{owner}.permissions")
    registered = {s.action: s for s in registered_actions()}
    table = grant_table()
    for spec in module.ACTIONS:
        assert registered.get(spec.action) == spec
        assert getattr(module, spec.constant) == spec.action  # CUSTOMER_READ = Action("customer.read")
        assert getattr(Action, spec.constant) == spec.action  # and Action.CUSTOMER_READ resolves to it
    for role, by_action in module.GRANTS.items():
        for action, scope in by_action.items():
            assert table[role][action] == scope


def test_every_action_named_in_the_code_is_registered():
    """``Action.X`` resolves at run time, so check every spelling in src/ and tests/ names a registered action."""
    declared = {s.constant for s in registered_actions()}
    unknown = []
    for path in [*SRC.rglob("*.py"), *(ROOT / "tests").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id == "Action"
                and node.attr.isupper()
                and node.attr not in declared
                and node.attr != "COMPLAINT_READ"  # the fake slice of test_adding_a_slice.py
            ):
                unknown.append(f"{path.relative_to(ROOT)}:{node.lineno} Action.{node.attr}")
    assert unknown == []


def test_the_policy_mechanism_names_no_slices_action():
    code = "\n".join(p.read_text() for p in (SRC / "kernel" / "policy").glob("*.py"))
    named = [str(s.action) for s in registered_actions() if f'"{s.action}"' in code]
    constants = [s.constant for s in registered_actions() if f"Action.{s.constant}" in code]
    assert named == [] and constants == []


# --- import-linter contracts generated from SLICES ----------------------------------------------------------


def test_committed_contracts_are_what_the_generator_writes():
    contracts = _contracts()
    committed = contracts.committed((ROOT / "pyproject.toml").read_text())
    assert committed == contracts.render(SLICES), "run: python scripts/contracts.py"


def test_adding_a_name_to_slices_is_all_it_takes(tmp_path: Path):
    out = tmp_path / "contracts.toml"
    names = ",".join([*SLICES[:-1], "complaints", SLICES[-1]])
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "contracts.py"), "--slices", names, "--output", str(out)],
        check=True,
    )
    config = tomllib.loads(out.read_text())["tool"]["importlinter"]
    contracts = {c["id"]: c for c in config["contracts"]}
    layers = contracts["layers"]["layers"]
    assert layers.index("mamori.complaints") == layers.index(f"mamori.{SLICES[-1]}") + 1  # DESIGN order kept
    assert "mamori.complaints" in contracts["inside-a-slice"]["containers"]
    own = contracts.pop("public-face-complaints")
    assert own["forbidden_modules"] == ["mamori.complaints"]
    assert "mamori.** -> mamori.complaints.service" in own["ignore_imports"]
    assert "mamori.complaints" not in own["source_modules"]
    for name in SLICES:
        assert "mamori.complaints" in contracts.pop(f"public-face-{name}")["source_modules"]
    assert set(contracts) == {"layers", "inside-a-slice"}  # no contract left without the new slice


@pytest.mark.parametrize(
    ("slice_", "imported", "owner"),
    [
        ("provision", "mamori.customers.api", "mamori.customers"),
        ("deid", "mamori.rights.cli", "mamori.rights"),
    ],
)
def test_a_slice_importing_another_slices_private_module_breaks_the_contract(
    tmp_path: Path, slice_: str, imported: str, owner: str
):
    """A probe in a copy of the source tree: the generated contracts refuse it and name the contract."""
    copy = tmp_path / "src"
    shutil.copytree(ROOT / "src", copy, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    config = tmp_path / "contracts.toml"
    config.write_text(_contracts().render(SLICES))
    env = {**os.environ, "PYTHONPATH": str(copy)}
    lint = [str(Path(sys.executable).parent / "lint-imports"), "--config", str(config), "--no-cache"]

    probe = copy / "mamori" / slice_ / "probe_private_import.py"
    probe.write_text(f"import {imported}  # a private module of another slice\n")
    broken = subprocess.run(lint, cwd=tmp_path, env=env, capture_output=True, text=True)
    assert broken.returncode != 0, broken.stdout
    assert f"Other slices import only the public face of {owner} BROKEN" in broken.stdout
    assert f"mamori.{slice_}.probe_private_import -> {imported}" in broken.stdout

    probe.unlink()
    kept = subprocess.run(lint, cwd=tmp_path, env=env, capture_output=True, text=True)
    assert kept.returncode == 0, kept.stdout


def test_the_public_face_is_documented():
    text = (ROOT / "docs" / "adr" / "0008-slice-permissions-and-contracts.md").read_text()
    assert all(f"`{room}`" in text for room in PUBLIC_FACE)
