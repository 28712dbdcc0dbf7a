"""A throwaway PostgreSQL server on loopback for the test session.

Started from the Debian binaries (``/usr/lib/postgresql/<v>/bin``) in a temporary directory; as root it runs as
the ``postgres`` system user (PostgreSQL refuses to run as root). fsync is off: these databases are scratch.
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


@dataclass
class PgServer:
    base_url: str  # postgresql+psycopg://mamori@127.0.0.1:PORT/
    admin_url: str  # …/postgres
    stop: object

    def url(self, dbname: str) -> str:
        return f"{self.base_url}{dbname}"


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
    return PgServer(base_url=base, admin_url=base + "postgres", stop=stop)


def create_database(server: PgServer, name: str, template: str | None = None) -> str:
    import psycopg

    port = server.base_url.rsplit(":", 1)[1].strip("/")
    with psycopg.connect(f"host=127.0.0.1 port={port} user=mamori dbname=postgres", autocommit=True) as conn:
        tmpl = f" TEMPLATE {template}" if template else ""
        conn.execute(f'CREATE DATABASE "{name}"{tmpl}')
    return server.url(name)
