"""One shape for every slice (issue 12), checked by machine.

- request / response models live in ``schemas.py``, never in ``api.py`` / ``cli.py``;
- SELECTs over personal-data tables are built only in ``queries.py`` (kernel and migrations aside);
- a slice registers its subject data source from ``<slice>/sources.py``, and every slice has one (a slice that
  holds no personal data about customers says so there);
- service messages name no interface (no CLI flag), so API clients never see ``--skip-refused``;
- the purposes and staff services take the Context first.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import re
from pathlib import Path

import pytest
from pydantic import BaseModel

from mamori.slices import SLICES as ALL_SLICES
from tests.architecture.test_architecture import PERSONAL_MODELS, SRC

SLICES = ("staff", "purposes", "customers", "consent", "provision", "processors", "rights", "notice")
# Tables of the later slices that hold data about one person (their rows name a customer or are sealed under a
# person's key), on top of the customers and consent tables of test_architecture.
PERSONAL_MODELS_ALL = PERSONAL_MODELS | {
    "CustomerPurpose",
    "ProvisionConsent",
    "ProvisionRecord",
    "DataLineage",
    "ProcessorCustomer",
    "ProcessorHandoverSubject",
    "RightsRequest",
    "RightsIdentifier",
    "RightsSubject",
}
CLI_FLAG = re.compile(r"(?<![\w-])--[a-z]")
# The one staff function that takes the Runtime: it runs its own transactions (a failed sign-in's counter must be
# committed although the sign-in raises), so there is no Context to give it.
RUNTIME_FIRST = {"mamori.staff.service.sessions.sign_in"}


def _rel(path: Path) -> str:
    return str(path.relative_to(SRC))


def _slice_files(pattern: str) -> list[Path]:
    return sorted(p for s in SLICES for p in (SRC / s).glob(pattern))


def _module(path: Path) -> str:
    return "mamori." + ".".join(path.relative_to(SRC).with_suffix("").parts).removesuffix(".__init__")


def _service_files() -> list[Path]:
    """service.py or every module of service/, in every slice (and deid)."""
    out: list[Path] = []
    for top in sorted(p for p in SRC.iterdir() if p.is_dir()):
        if (top / "service.py").exists():
            out.append(top / "service.py")
        if (top / "service").is_dir():
            out.extend(sorted((top / "service").rglob("*.py")))
    return out


def _interface_modules() -> list[Path]:
    return [
        p
        for s in (*SLICES, "deid")
        for p in (SRC / s).rglob("*.py")
        if p.name in ("api.py", "web.py", "cli.py") or "cli" in p.relative_to(SRC / s).parts[:-1]
    ]


def test_no_pydantic_model_declared_in_api_or_cli_modules():
    offenders = []
    for path in _interface_modules():
        module = importlib.import_module(_module(path))
        for name, obj in vars(module).items():
            if inspect.isclass(obj) and issubclass(obj, BaseModel) and obj.__module__ == module.__name__:
                offenders.append(f"{_rel(path)}: {name} (move it to the slice's schemas.py)")
    assert offenders == []


def _names_in(nodes: list[ast.expr]) -> set[str]:
    found: set[str] = set()
    for node in nodes:
        for sub in ast.walk(node):
            if isinstance(sub, ast.Name):
                found.add(sub.id)
    return found


def test_personal_data_selects_only_in_queries_modules_of_every_slice():
    """``select(Model…)`` and ``….select_from(Model)`` over personal tables, anywhere but queries.py."""
    offenders = []
    for path in SRC.rglob("*.py"):
        rel = path.relative_to(SRC)
        if path.name == "queries.py" or rel.parts[0] in ("kernel", "migrations"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call):
                continue
            is_select = getattr(node.func, "id", None) == "select"
            is_select_from = isinstance(node.func, ast.Attribute) and node.func.attr == "select_from"
            if (is_select or is_select_from) and _names_in(node.args) & PERSONAL_MODELS_ALL:
                offenders.append(f"{rel}:{node.lineno}")
    assert offenders == []


def _calls_register_source(path: Path) -> bool:
    return any(
        isinstance(node, ast.Call)
        and (getattr(node.func, "attr", None) or getattr(node.func, "id", None)) == "register_source"
        for node in ast.walk(ast.parse(path.read_text()))
    )


def test_subject_data_sources_are_registered_only_from_sources_modules():
    offenders = [
        _rel(p)
        for p in SRC.rglob("*.py")
        if p.name != "sources.py" and p.relative_to(SRC).parts[0] != "kernel" and _calls_register_source(p)
    ]
    assert offenders == []


@pytest.mark.parametrize("slice_name", SLICES)
def test_every_slice_has_a_sources_module(slice_name):
    """A slice with a source registers it from sources.py with register(); one without says why in its docstring."""
    path = SRC / slice_name / "sources.py"
    assert path.exists(), f"{slice_name}/sources.py is missing"
    tree = ast.parse(path.read_text())
    doc = ast.get_docstring(tree) or ""
    functions = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    if _calls_register_source(path):
        assert "register" in functions
    else:
        assert "registers no subject data source" in doc, doc


def test_composition_registers_every_source_through_sources_register():
    """composition.register_all calls ``<slice>_sources.register()``, never a service's register()."""
    tree = ast.parse((SRC / "composition.py").read_text())
    register_all = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "register_all")
    called = {
        node.func.value.id
        for node in ast.walk(register_all)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "register"
        and isinstance(node.func.value, ast.Name)
    }
    registering = {s for s in SLICES if _calls_register_source(SRC / s / "sources.py")}
    assert {f"{s}_sources" for s in registering} <= called
    assert not {name for name in called if name.endswith("_service") and name[: -len("_service")] in SLICES}


def _string_constants(tree: ast.AST) -> list[tuple[int, str]]:
    out: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            out.append((node.lineno, node.value))
    return out


def test_service_messages_name_no_cli_flag():
    """Services are shared by the CLI, the API and the web UI: a message says what to do, not which flag to type."""
    offenders = []
    for path in _service_files():
        tree = ast.parse(path.read_text())
        docstrings = {
            id(n.body[0].value)
            for n in ast.walk(tree)
            if isinstance(n, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
            and n.body
            and isinstance(n.body[0], ast.Expr)
            and isinstance(n.body[0].value, ast.Constant)
        }
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and id(node) not in docstrings
                and CLI_FLAG.search(node.value)
            ):
                offenders.append(f"{_rel(path)}:{node.lineno}: {node.value[:60]!r}")
    assert offenders == []


def _public_functions(package: str) -> list[tuple[str, ast.FunctionDef]]:
    root = SRC / package
    paths = (
        [root / "service.py"] if (root / "service.py").exists() else sorted((root / "service").glob("*.py"))
    )
    out = []
    for path in paths:
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
                out.append((f"{_module(path)}.{node.name}", node))
    return out


@pytest.mark.parametrize("package", ["purposes", "staff"])
def test_purposes_and_staff_services_take_the_context_first(package):
    """STYLE §9.2 rule 4: a use case takes ``ctx: Context`` first; no Session, Runtime or Clock parameters.

    Pure helpers that touch no store (e.g. ``token_digest``, ``wording_warnings``) take neither.
    """
    offenders = []
    for qualname, fn in _public_functions(package):
        if qualname in RUNTIME_FIRST:
            continue
        params = [*fn.args.posonlyargs, *fn.args.args, *fn.args.kwonlyargs]
        annotations = [ast.unparse(a.annotation) if a.annotation else "" for a in params]
        touches_store = any(re.search(r"\b(Session|Runtime|Clock|Context)\b", a) for a in annotations)
        first_is_ctx = bool(params) and params[0].arg == "ctx" and annotations[0] == "Context"
        if touches_store and not first_is_ctx:
            offenders.append(qualname)
        elif first_is_ctx and any(re.search(r"\b(Session|Runtime|Clock)\b", a) for a in annotations[1:]):
            offenders.append(f"{qualname} (takes a Session/Runtime/Clock besides the Context)")
    assert offenders == []


FACES = ("models", "schemas", "queries", "service", "sources", "permissions", "api", "cli")


@pytest.mark.parametrize("slice_name", ALL_SLICES)
def test_every_slice_has_the_same_faces(slice_name: str) -> None:
    """docs/architecture.md "Adding a slice": each face is a module or a same-named package."""
    root = SRC / slice_name
    missing = [
        f for f in FACES if not (root / f"{f}.py").is_file() and not (root / f / "__init__.py").is_file()
    ]
    assert not missing, f"{slice_name} lacks {missing}"
