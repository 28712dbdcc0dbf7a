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

from tests.pg import APP_ROLE, OWNER_ROLE, PgServer, create_database, start_pg

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
        return create_database(server, f"t{os.getpid()}_data_{n}", template=pg_template(server))

    return make


def pg_template(server: PgServer) -> str:
    """The migrated template database (once per session): migrated as the owner role, the app role granted what
    kernel.db.grant_sql lists — every copy carries the tables, the RLS policies of 0017 and the grants."""
    if "postgresql" not in _TEMPLATE:
        from mamori.kernel.db import grant_sql, make_engine, table_names
        from mamori.kernel.runtime import migrate

        name = f"tmpl{os.getpid()}"
        create_database(server, name, owner=OWNER_ROLE)
        engine = make_engine(server.owner_url(name))
        try:
            migrate(engine)
            with engine.begin() as conn:
                for statement in grant_sql(APP_ROLE, table_names(engine)):
                    conn.exec_driver_sql(statement)
        finally:
            engine.dispose()
        _TEMPLATE["postgresql"] = name
    return _TEMPLATE["postgresql"]


@pytest.fixture
def settings_factory(empty_db_url, migrated_db_url, tmp_path, backend, request, monkeypatch):
    from mamori.kernel.settings import Settings

    def make(**overrides):
        # On PostgreSQL the keystore and the audit log share one scratch database (their tables never overlap;
        # creating databases is the slow part); the data store is always a database of its own. The app connects
        # as mamori_app (no superuser, no BYPASSRLS, owns nothing); mamori_owner owns and migrates (issue 17).
        common = dict(
            home=tmp_path / "home",
            kek=base64.b64encode(secrets.token_bytes(32)).decode(),
            key_dir=tmp_path / "keydir",
            audit_checkpoint_every=50,
        )
        if backend == "postgresql":
            server: PgServer = request.getfixturevalue("pg_server")
            n = next(_counter)
            data = f"t{os.getpid()}_data_{n}"
            keys = f"t{os.getpid()}_keys_{n}"
            create_database(server, data, template=pg_template(server), owner=OWNER_ROLE)
            create_database(server, keys, owner=OWNER_ROLE)
            owners = dict(
                migration_database_url=server.owner_url(data),
                migration_keystore_url=server.owner_url(keys),
                migration_audit_url=server.owner_url(keys),
            )
            values: dict[str, object] = dict(
                **common,
                database_url=server.app_url(data),
                keystore_url=server.app_url(keys),
                audit_url=server.app_url(keys),
                **owners,
            )
            values.update(overrides)
            # A CLI run in this test (in-process or a subprocess) reads the owner URLs from the environment.
            for field in owners:
                monkeypatch.setenv(f"MAMORI_{field.upper()}", str(values[field]))
            return Settings(**values)
        keys_url = empty_db_url("keys")
        values = dict(
            **common, database_url=migrated_db_url(), keystore_url=keys_url, audit_url=empty_db_url("audit")
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
