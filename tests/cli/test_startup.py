"""CLI start-up (issue 16 item 4): ``mamori --help`` and ``mamori version`` import no slice service, no model and
no heavy library; the commands import them when they run.

The guard is the import test: it runs ``python -X importtime -m mamori …`` in a fresh interpreter and fails on
the first forbidden module, naming the chain of imports that brought it in. The timing test only reports (the
machine is shared; a timing assertion would be flaky).
"""

from __future__ import annotations

import importlib
import os
import re
import statistics
import subprocess
import sys
import time
import types

import pytest

from mamori.slices import SLICES

# Heavy libraries a command may need, never --help: data frames, the ORM, settings, the web stack, crypto.
# (pydantic is not listed: Typer itself imports it to coerce the options of the command it runs.)
HEAVY_LIBRARIES = (
    "polars",
    "numpy",
    "pandas",
    "pyarrow",
    "sqlalchemy",
    "pydantic_settings",
    "fastapi",
    "starlette",
    "uvicorn",
    "jinja2",
    "cryptography",
    "argon2",
)
# A slice's working modules (its public face but the permissions, and its interfaces but the CLI), and the
# kernel's runtime, stores, crypto, audit and policy: what a command body imports, never --help.
_SLICE_MODULES = re.compile(
    r"^mamori\.(?:" + "|".join(SLICES) + r")\.(?:service|models|queries|sources|jobs|schemas|api|web)(?:\.|$)"
)
_KERNEL_MODULES = re.compile(
    r"^mamori\.kernel\.(?:runtime|db|settings|context|policy|auditing|audit|crypto|backup|validation|outbox"
    r"|http)(?:\.|$)"
)
_INTERFACES = re.compile(r"^mamori\.(?:api|web|migrations)(?:\.|$)")


def _forbidden(module: str) -> bool:
    return (
        module.split(".", 1)[0] in HEAVY_LIBRARIES
        or bool(_SLICE_MODULES.match(module))
        or bool(_KERNEL_MODULES.match(module))
        or bool(_INTERFACES.match(module))
    )


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAMORI_")}
    env.update({"COLUMNS": "120", "MAMORI_LANG": "ja", "PYTHONIOENCODING": "utf-8"})
    return env


_LINE = re.compile(r"^import time:\s+\d+ \|\s+(\d+) \| (\s*)(\S+)$")


def _import_tree(*args: str) -> tuple[subprocess.CompletedProcess[str], list[tuple[int, str, int]]]:
    """Run ``python -X importtime -m mamori ARGS``; the imports as (depth, module, cumulative µs) in the
    interpreter's order (a module's own imports are listed before it)."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "mamori", *args],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=120,
    )
    rows = []
    for line in proc.stderr.splitlines():
        m = _LINE.match(line)
        if m:
            rows.append((len(m.group(2)) // 2, m.group(3), int(m.group(1))))
    return proc, rows


def _chains(rows: list[tuple[int, str, int]]) -> dict[str, str]:
    """Each forbidden module → the chain of imports that brought it in (``a > b > c``)."""
    found: dict[str, str] = {}
    ancestors: list[tuple[int, str]] = []
    for depth, module, _ in reversed(rows):  # a parent precedes its children when read backwards
        while ancestors and ancestors[-1][0] >= depth:
            ancestors.pop()
        ancestors.append((depth, module))
        if _forbidden(module) and module not in found:
            found[module] = " > ".join(name for _, name in ancestors)
    return found


def _first_offenders(found: dict[str, str]) -> list[str]:
    """Only the outermost forbidden import of each chain (the one to fix), not everything under it."""
    out = []
    for module, chain in found.items():
        parts = chain.split(" > ")
        if next(p for p in parts if _forbidden(p)) == module:
            out.append(chain)
    return sorted(out)


@pytest.mark.parametrize(
    "args", [("--help",), ("version",), ("customers", "--help"), ("text", "--help")], ids=" ".join
)
def test_start_up_imports_no_service_model_or_heavy_library(args):
    proc, rows = _import_tree(*args)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert rows, "python -X importtime printed nothing"
    modules = {m for _, m, _ in rows}
    assert "mamori.cli.main" in modules  # the measurement is of the real entry point
    offenders = _first_offenders(_chains(rows))
    assert not offenders, "imported at start-up:\n" + "\n".join(offenders)


def test_the_guard_sees_a_service_import():
    """The forbidden list catches what it must (so the test above cannot pass by matching nothing)."""
    for module in (
        "polars",
        "numpy.core",
        "sqlalchemy.orm",
        "mamori.customers.service",
        "mamori.customers.service.core.reads",
        "mamori.deid.service",
        "mamori.consent.models",
        "mamori.provision.queries",
        "mamori.purposes.schemas",
        "mamori.kernel.runtime",
    ):
        assert _forbidden(module), module
    for module in (
        "typer",
        "rich.table",
        "mamori.customers.cli",
        "mamori.kernel.labels",
        "mamori.composition",
    ):
        assert not _forbidden(module), module


def test_help_still_lists_every_command_group():
    proc = subprocess.run(
        [sys.executable, "-m", "mamori", "--help"], capture_output=True, text=True, env=_env(), timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    # the lifecycle slice's commands are three top-level groups named for the work, not the slice (issue 21)
    lifecycle = ("handover", "retention", "quality")
    named = [s for s in SLICES if s not in ("deid", "lifecycle")]
    for group in (*named, "deid", "text", "audit", "keys", *lifecycle, "worker", "jobs"):
        assert re.search(rf"│ {group}\s", proc.stdout), group
    for command in ("version", "init", "demo", "serve", "provide", "backup", "restore"):
        assert re.search(rf"│ {command}\s", proc.stdout), command


def test_help_of_a_deferred_group_is_its_own():
    """`mamori --help` lists the deferred groups from text written in cli/main.py: it must be the real help."""
    from mamori.cli import main

    for name, _, _, help_text in main._DEFERRED:
        assert main.load(name).help == help_text, name


def test_start_up_imports_no_slice_cli_module_for_help():
    """`mamori --help` imports no slice's CLI module and not rich.markdown (issue 23 item 5)."""
    _, rows = _import_tree("--help")
    modules = {m for _, m, _ in rows}
    assert not {m for m in modules if re.match(r"^mamori\.(?:" + "|".join(SLICES) + r")\.cli(?:\.|$)", m)}
    assert "rich.markdown" not in modules and "markdown_it" not in modules


def _cli_modules() -> list[types.ModuleType]:
    from mamori.cli import backup, main

    main.load_all()  # the deferred command groups: imports every slice's CLI module
    assert backup

    return [m for name, m in sorted(sys.modules.items()) if name.startswith("mamori.") and ".cli" in name]


def test_every_lazy_module_of_a_cli_names_a_real_module():
    """A typo in ``lazy("mamori.…")`` would only fail when a command runs: import each one here."""
    from mamori.kernel.cli_support import _LazyModule

    seen = 0
    for module in _cli_modules():
        for value in vars(module).values():
            if isinstance(value, _LazyModule):
                importlib.import_module(value.__name__)
                seen += 1
    assert seen >= 30


def test_help_codes_written_in_the_cli_match_the_schemas():
    """--help lists codes written in the CLI modules (so --help imports no schema); they must not drift."""
    from mamori.customers import schemas as customers_schemas
    from mamori.customers.cli import notices
    from mamori.kernel.context import Role
    from mamori.processors import cli as processors_cli
    from mamori.processors import schemas as processors_schemas
    from mamori.purposes import cli as purposes_cli
    from mamori.purposes import schemas as purposes_schemas
    from mamori.staff import cli as staff_cli

    assert purposes_cli.HELP_LAWFUL_BASES == purposes_schemas.LAWFUL_BASES
    assert purposes_cli.HELP_ART9_CONDITIONS == purposes_schemas.ART9_CONDITIONS
    assert processors_cli.HELP_CLAUSES == processors_schemas.CLAUSES
    assert processors_cli.HELP_EVALUATION_ITEMS == processors_schemas.EVALUATION_ITEMS
    assert notices.HELP_NOTICE_EXCEPTION_GROUNDS == customers_schemas.NOTICE_EXCEPTION_GROUNDS
    assert [r.value for r in staff_cli.RoleOption] == [r.value for r in Role]


def _wall(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, capture_output=True, env=_env(), timeout=120, check=True)
    return time.perf_counter() - start


def test_start_up_time_is_reported_against_import_typer(record_property):
    """Median wall time of ``mamori --help`` and ``mamori version`` against ``python -c 'import typer'``,
    interleaved in the same run. Reported, not asserted (shared machine); the import test above is the guard."""
    runs = {"typer": [], "help": [], "version": []}
    cmds = {
        "typer": [sys.executable, "-c", "import typer"],
        "help": [sys.executable, "-m", "mamori", "--help"],
        "version": [sys.executable, "-m", "mamori", "version"],
    }
    for _ in range(5):
        for key, cmd in cmds.items():
            runs[key].append(_wall(cmd))
    median = {k: statistics.median(v) for k, v in runs.items()}
    for key in ("help", "version"):
        record_property(f"{key}_seconds", round(median[key], 3))
        record_property(f"{key}_ratio_to_import_typer", round(median[key] / median["typer"], 2))
    print(  # shown with pytest -s
        f"import typer {median['typer']:.3f}s; mamori --help {median['help']:.3f}s "
        f"({median['help'] / median['typer']:.2f}x); mamori version {median['version']:.3f}s "
        f"({median['version'] / median['typer']:.2f}x)"
    )
