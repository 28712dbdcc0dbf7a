"""Test fixtures shared by every slice.

Every test that touches a database runs on both stores: SQLite (the embedded default) and PostgreSQL (a real
server started for the session). Set ``MAMORI_TEST_BACKENDS=sqlite`` to run only SQLite while iterating;
``make test`` runs both, and a missing PostgreSQL is an error there, not a skip.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator

import pytest

from tests.pg import PgServer, create_database, start_pg

BACKENDS = [b for b in os.environ.get("MAMORI_TEST_BACKENDS", "sqlite,postgresql").split(",") if b]
_counter = itertools.count()


@pytest.fixture(autouse=True)
def _isolated_user_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test gets its own ``$HOME``: per-store key directories (``~/.config/mamori/stores/<id>``) made by
    a test never land in the real home, and no test sees another's."""
    monkeypatch.setenv("HOME", str(tmp_path_factory.mktemp("userhome")))
    # and its own default MAMORI_HOME, so a command run without one never writes into the working tree
    monkeypatch.setenv("MAMORI_HOME", str(tmp_path_factory.mktemp("mamorihome") / "home"))
    from mamori.kernel.settings import reset_settings_cache

    reset_settings_cache()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    server = start_pg()
    if server is None:
        pytest.fail("PostgreSQL binaries not found; install postgresql or set MAMORI_TEST_BACKENDS=sqlite")
    yield server
    server.stop()  # type: ignore[operator]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def empty_db_url(backend: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """A factory: each call returns the URL of a new, empty database on the current backend."""

    def make(label: str = "db") -> str:
        n = next(_counter)
        if backend == "sqlite":
            d = tmp_path_factory.mktemp(f"{label}{n}")
            return f"sqlite:///{d / (label + '.db')}"
        server: PgServer = request.getfixturevalue("pg_server")
        return create_database(server, f"t{os.getpid()}_{label}_{n}")

    return make


# -- a whole mamori runtime on the current backend ---------------------------------------------------------------

import base64  # noqa: E402
import secrets  # noqa: E402
from datetime import UTC, datetime  # noqa: E402


@pytest.fixture
def clock():
    from mamori.kernel.clock import FrozenClock

    return FrozenClock(datetime(2026, 11, 23, 1, 0, tzinfo=UTC))


_TEMPLATE: dict[str, str] = {}


@pytest.fixture
def migrated_db_url(backend: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """A factory of data-store databases already at the Alembic head, copied from a template migrated once per
    session (the schema still comes from the migrations, not from create_all)."""
    import shutil

    from mamori.kernel.db import make_engine
    from mamori.kernel.runtime import migrate

    def make() -> str:
        n = next(_counter)
        if backend == "sqlite":
            if "sqlite" not in _TEMPLATE:
                path = tmp_path_factory.getbasetemp() / "template-data.db"
                engine = make_engine(f"sqlite:///{path}")
                migrate(engine)
                engine.dispose()  # closing the last connection checkpoints the WAL into the file
                _TEMPLATE["sqlite"] = str(path)
            d = tmp_path_factory.mktemp(f"data{n}")
            shutil.copyfile(_TEMPLATE["sqlite"], d / "data.db")
            return f"sqlite:///{d / 'data.db'}"
        server: PgServer = request.getfixturevalue("pg_server")
        if "postgresql" not in _TEMPLATE:
            url = create_database(server, f"tmpl{os.getpid()}")
            engine = make_engine(url)
            migrate(engine)
            engine.dispose()
            _TEMPLATE["postgresql"] = f"tmpl{os.getpid()}"
        return create_database(server, f"t{os.getpid()}_data_{n}", template=_TEMPLATE["postgresql"])

    return make


@pytest.fixture
def settings_factory(empty_db_url, migrated_db_url, tmp_path, backend):
    from mamori.kernel.settings import Settings

    def make(**overrides):
        # On PostgreSQL the keystore and the audit log share one scratch database (their tables never overlap;
        # creating databases is the slow part); the data store is always a database of its own.
        keys = empty_db_url("keys")
        values = dict(
            home=tmp_path / "home",
            database_url=migrated_db_url(),
            keystore_url=keys,
            audit_url=keys if backend == "postgresql" else empty_db_url("audit"),
            kek=base64.b64encode(secrets.token_bytes(32)).decode(),
            key_dir=tmp_path / "keydir",
            audit_checkpoint_every=50,
        )
        values.update(overrides)
        return Settings(**values)

    return make


@pytest.fixture
def runtime(settings_factory, clock):
    from mamori import composition as bootstrap
    from mamori.kernel.runtime import Runtime

    bootstrap.register_all()
    rt = Runtime(settings_factory(), clock=clock)
    rt.init()
    yield rt
    rt.close()
