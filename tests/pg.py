"""A throwaway PostgreSQL server on loopback for the test session.

Started from the Debian binaries (``/usr/lib/postgresql/<v>/bin``) in a temporary directory; as root it runs as
the ``postgres`` system user (PostgreSQL refuses to run as root). fsync is off: these databases are scratch.

Roles, as production runs them (issue 17): ``mamori`` is the bootstrap superuser that creates databases; the
stores a test's runtime uses are owned by ``mamori_owner`` (migrations, schemas) and the app connects as
``mamori_app`` — not a superuser, no BYPASSRLS, owning nothing — so the whole PostgreSQL suite runs under the
row-level security and the grants of migration 0017 / kernel.db.grant_sql.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path


def _bin_dir() -> Path | None:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for c in candidates:
        if Path(c, "initdb").exists():
            return Path(c)
    found = shutil.which("initdb")
    return Path(found).resolve().parent if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


OWNER_ROLE = "mamori_owner"
APP_ROLE = "mamori_app"


@dataclass
class PgServer:
    base_url: str  # postgresql+psycopg://mamori@127.0.0.1:PORT/
    admin_url: str  # …/postgres
    stop: object

    def url(self, dbname: str) -> str:
        return f"{self.base_url}{dbname}"

    @property
    def port(self) -> int:
        return int(self.base_url.rsplit(":", 1)[1].strip("/"))

    def role_url(self, role: str, dbname: str) -> str:
        return f"postgresql+psycopg://{role}@127.0.0.1:{self.port}/{dbname}"

    def owner_url(self, dbname: str) -> str:
        return self.role_url(OWNER_ROLE, dbname)

    def app_url(self, dbname: str) -> str:
        return self.role_url(APP_ROLE, dbname)


def start_pg() -> PgServer | None:
    bindir = _bin_dir()
    if bindir is None:
        return None
    root = Path(tempfile.mkdtemp(prefix="mamori-pg-"))
    data = root / "data"
    sock = root / "sock"
    sock.mkdir()
    as_root = os.geteuid() == 0
    prefix: list[str] = []
    if as_root:
        shutil.chown(root, "postgres", "postgres")
        shutil.chown(sock, "postgres", "postgres")
        prefix = ["runuser", "-u", "postgres", "--"]
    port = _free_port()
    subprocess.run(
        [
            *prefix,
            str(bindir / "initdb"),
            "-D",
            str(data),
            "-A",
            "trust",
            "-U",
            "mamori",
            "--no-sync",
            "-E",
            "UTF8",
            "--locale",
            "C",
        ],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    log = root / "pg.log"
    if as_root:
        log.touch()
        shutil.chown(log, "postgres", "postgres")
    opts = f"-p {port} -k {sock} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
    subprocess.run(
        [*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", opts, "-w", "start"],
        check=True,
        stdout=subprocess.DEVNULL,
    )

    def stop() -> None:
        subprocess.run(
            [*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
        )
        shutil.rmtree(root, ignore_errors=True)

    base = f"postgresql+psycopg://mamori@127.0.0.1:{port}/"
    deadline = time.time() + 20
    import psycopg

    while True:
        try:
            with psycopg.connect(f"host=127.0.0.1 port={port} user=mamori dbname=postgres"):
                break
        except psycopg.OperationalError:
            if time.time() > deadline:
                stop()
                raise
            time.sleep(0.2)
    with psycopg.connect(f"host=127.0.0.1 port={port} user=mamori dbname=postgres", autocommit=True) as conn:
        for role in (OWNER_ROLE, APP_ROLE):
            conn.execute(f"CREATE ROLE {role} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE")
    return PgServer(base_url=base, admin_url=base + "postgres", stop=stop)


def create_database(
    server: PgServer, name: str, template: str | None = None, *, owner: str | None = None
) -> str:
    """A new database (a copy of ``template``); with ``owner``, owned by that role (its schema ``public`` too, so the
    owner creates the tables and nobody else can). Returns the bootstrap superuser's URL."""
    import psycopg

    with psycopg.connect(
        f"host=127.0.0.1 port={server.port} user=mamori dbname=postgres", autocommit=True
    ) as conn:
        tmpl = f" TEMPLATE {template}" if template else ""
        own = f" OWNER {owner}" if owner else ""
        conn.execute(f'CREATE DATABASE "{name}"{tmpl}{own}')
    if owner and template is None:
        with psycopg.connect(
            f"host=127.0.0.1 port={server.port} user=mamori dbname={name}", autocommit=True
        ) as conn:
            conn.execute(f"ALTER SCHEMA public OWNER TO {owner}")
            conn.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
    return server.url(name)
