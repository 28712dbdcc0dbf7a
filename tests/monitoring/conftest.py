"""Fixtures shared by the monitoring tests (issue 25). shared: H1 owns this file — ask H1 to add a fixture here.

Kept small and general: a store with one staff user per role (``actors``: tests.factories.seed_basics), the same
store through the ``mamori`` command (``cli``), and through the web app and the API with signed-in users (``api``:
tests.api.conftest.Api — it makes its own staff users, so use it instead of ``actors``, not with it).
Synthetic data only.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from typer.testing import CliRunner, Result

from mamori.kernel.context import Actor
from mamori.kernel.runtime import Runtime
from tests.api.conftest import Api
from tests.factories import point_env_at, seed_basics


@pytest.fixture
def actors(runtime: Runtime) -> dict[str, Actor]:
    """Purposes and one staff user per role: admin, po (privacy officer), sato and suzuki (sales), support,
    analyst — and ``system``."""
    return seed_basics(runtime)


@pytest.fixture
def cli(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    """``run("--as", "po", "monitoring", …)``: the ``mamori`` command on the test's store (exceptions not caught)."""
    from mamori.cli.main import app

    point_env_at(monkeypatch, runtime.settings)
    runner = CliRunner()

    def run(*args: str) -> Result:
        return runner.invoke(app, list(args), catch_exceptions=False)

    return run


@pytest.fixture
def api(runtime: Runtime) -> Api:
    """The app on the test's store with signed-in users per role (``api.client("po")`` → client, CSRF token)."""
    return Api(runtime)
