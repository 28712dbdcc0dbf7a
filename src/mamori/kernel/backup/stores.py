"""The three stores as files: consistent online copies, digests, integrity checks and placement.

SQLite (SECURITY.md §5): ``VACUUM INTO`` copies a consistent snapshot while the server writes (a read
transaction: writers are not blocked in WAL mode) into a compact rollback-journal file that carries no free
pages, so no forensic trace of deleted content. A file is put back offline: written beside the target, fsynced,
the target's stale ``-wal`` / ``-shm`` removed, then ``os.replace``.

PostgreSQL: ``pg_dump -Fc`` inside an exported snapshot (``pg_export_snapshot``), so the row counts recorded in
the manifest are those of the dump; ``pg_restore --clean --single-transaction`` puts it back. The keystore and
audit tables are dumped by name, so a keystore sharing a database with the audit log never rides along.
"""

from __future__ import annotations

import glob
import hashlib
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, make_url

from mamori.kernel.audit.models import AuditBase
from mamori.kernel.crypto.keystore import KeystoreBase
from mamori.kernel.errors import ConfigurationError, IntegrityFailure, MamoriError

AUDIT_TABLES = tuple(sorted(AuditBase.metadata.tables))
KEYSTORE_TABLES = tuple(sorted(KeystoreBase.metadata.tables))
ROLES = ("data", "audit", "keystore")
BUSY_TIMEOUT_S = 30.0


class BackupToolFailed(MamoriError):
    code = "backup_tool_failed"
    exit_code = 1


@dataclass(frozen=True)
class Store:
    role: str  # data | audit | keystore
    url: str

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite")

    @property
    def path(self) -> Path:
        database = make_url(self.url).database
        if not self.is_sqlite or not database or database == ":memory:":
            raise ConfigurationError(
                "この保存先はファイルではありません。", "this store is not a file.", code="not_a_file"
            )
        return Path(database).expanduser().resolve()

    @property
    def file_name(self) -> str:
        """Its name inside a backup directory (the keystore in a subdirectory of its own)."""
        ext = "db" if self.is_sqlite else "dump"
        return f"keystore/keystore.{ext}" if self.role == "keystore" else f"{self.role}.{ext}"

    @property
    def format(self) -> str:
        return "sqlite" if self.is_sqlite else "pg_dump-custom"


# -- plain files --------------------------------------------------------------------------------------------------


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover - directories on some platforms
        pass
    finally:
        os.close(fd)


def seal_file(path: Path) -> None:
    """Mode 0600 and durable."""
    os.chmod(path, 0o600)
    fsync_path(path)


def open_by_others(paths: Iterable[Path]) -> list[int]:
    """Ids of other processes holding one of ``paths`` open (Linux /proc; empty elsewhere or when unreadable)."""
    wanted = {str(p) for p in paths}
    proc = Path("/proc")
    if not proc.is_dir():  # pragma: no cover - non-Linux
        return []
    me = os.getpid()
    found: list[int] = []
    for entry in proc.iterdir():
        if not entry.name.isdigit() or int(entry.name) == me:
            continue
        try:
            fds = list((entry / "fd").iterdir())
        except OSError:
            continue
        for fd in fds:
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target in wanted:
                found.append(int(entry.name))
                break
    return sorted(found)


# -- SQLite ------------------------------------------------------------------------------------------------------


def _ro(path: Path, *, immutable: bool) -> sqlite3.Connection:
    """A read-only connection; ``immutable`` for files nobody writes (a backup: no lock, no -shm is created)."""
    flag = "&immutable=1" if immutable else ""
    conn = sqlite3.connect(f"file:{path}?mode=ro{flag}", uri=True, timeout=BUSY_TIMEOUT_S)
    conn.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
    return conn


def sqlite_copy(source: Path, target: Path) -> None:
    """A consistent snapshot of a live database (``VACUUM INTO``), then fsync and mode 0600."""
    if not source.exists():
        raise ConfigurationError(
            f"データベースファイル {source} がありません。",
            f"the database file {source} does not exist.",
            code="store_missing",
        )
    conn = sqlite3.connect(source, timeout=BUSY_TIMEOUT_S)
    try:
        conn.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
        conn.execute("VACUUM INTO ?", (str(target),))
    finally:
        conn.close()
    seal_file(target)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def sqlite_table_stats(path: Path, *, immutable: bool = False) -> dict[str, dict[str, object]]:
    """Per table: the row count and a SHA-256 over every row in primary-key order (rowids excluded, so a
    ``VACUUM`` that renumbers them does not change it): ``repr(row) + "\\n"`` per row, UTF-8 (Python's repr of
    the int / float / str / bytes / None that sqlite3 returns is stable). Digests of ciphertext and keyed hashes
    only."""
    conn = _ro(path, immutable=immutable)
    try:
        names = [
            str(r[0])
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
        ]
        out: dict[str, dict[str, object]] = {}
        for name in names:
            info = conn.execute(f"PRAGMA table_info({_quote(name)})").fetchall()
            pk = [str(c[1]) for c in sorted(info, key=lambda c: int(c[5])) if int(c[5]) > 0]
            order = pk or [str(c[1]) for c in info]
            h = hashlib.sha256()
            rows = 0
            cursor = conn.execute(
                f"SELECT * FROM {_quote(name)} ORDER BY {', '.join(_quote(c) for c in order)}"
            )
            while True:
                batch = cursor.fetchmany(5000)
                if not batch:
                    break
                h.update(("\n".join(map(repr, batch)) + "\n").encode("utf-8", "surrogatepass"))
                rows += len(batch)
            out[name] = {"rows": rows, "sha256": h.hexdigest()}
        return out
    finally:
        conn.close()


def sqlite_integrity(path: Path, *, immutable: bool = False) -> str:
    """``PRAGMA integrity_check``: "ok" or the first problem it reports (no row content)."""
    try:
        conn = _ro(path, immutable=immutable)
        try:
            row = conn.execute("PRAGMA integrity_check(1)").fetchone()
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        return f"not a database ({type(exc).__name__})"
    return str(row[0]) if row else "no answer"


def sqlite_audit_head(path: Path, *, immutable: bool = False) -> dict[str, object]:
    conn = _ro(path, immutable=immutable)
    try:
        return _audit_head(lambda sql: conn.execute(sql).fetchall())
    finally:
        conn.close()


def sqlite_kek_versions(path: Path, *, immutable: bool = False) -> list[int]:
    conn = _ro(path, immutable=immutable)
    try:
        return sorted(
            int(r[0])
            for r in conn.execute(
                "SELECT kek_version FROM data_keys UNION SELECT kek_version FROM system_keys"
            )
        )
    finally:
        conn.close()


def _audit_head(query: Any) -> dict[str, object]:
    head = query("SELECT last_seq, chain_hash FROM audit_head WHERE id = 1")
    checkpoints = query("SELECT count(*) FROM audit_checkpoints")
    seq, chain = (int(head[0][0]), bytes(head[0][1]).hex()) if head else (0, "")
    return {"entries": seq, "head_chain_hash": chain, "checkpoints": int(checkpoints[0][0])}


def place_file(source: Path, target: Path, expected_sha256: str) -> None:
    """Put a database file in place offline: copy beside the target, check the copy, fsync, remove the target's
    stale -wal / -shm / -journal (a WAL left next to a replaced file would be replayed into it), then replace."""
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = target.with_name(f".{target.name}.restore-{os.getpid()}.tmp")
    try:
        shutil.copyfile(source, tmp)
        seal_file(tmp)
        if sha256_file(tmp) != expected_sha256:
            raise IntegrityFailure(
                f"{source.name} の複製が一致しません（ディスクの異常）。",
                f"the copy of {source.name} does not match (disk error).",
                code="restore_copy_mismatch",
            )
        for suffix in ("-wal", "-shm", "-journal"):
            Path(f"{target}{suffix}").unlink(missing_ok=True)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    fsync_path(target.parent)


# -- PostgreSQL --------------------------------------------------------------------------------------------------


def pg_tool(name: str) -> str:
    """The newest ``pg_dump`` / ``pg_restore``: /usr/lib/postgresql/<v>/bin, else PATH."""

    def major(path: str) -> float:
        part = Path(path).parent.parent.name
        try:
            return float(part)
        except ValueError:
            return 0.0

    for candidate in sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=major, reverse=True):
        if os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which(name)
    if found is None:
        raise ConfigurationError(
            f"{name} が見つかりません（PostgreSQL のクライアントをインストールしてください）。",
            f"{name} was not found (install the PostgreSQL client tools).",
            code="pg_tools_missing",
        )
    return found


def _libpq_value(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def pg_conninfo(url: str) -> tuple[str, dict[str, str]]:
    """A libpq connection string without the password, and the environment that carries the password."""
    u = make_url(url)
    parts = {
        "dbname": u.database or "",
        "host": u.host or "",
        "port": str(u.port or ""),
        "user": u.username or "",
    }
    for key, value in u.query.items():
        if isinstance(value, str):
            parts[key] = value
    conninfo = " ".join(f"{k}={_libpq_value(v)}" for k, v in parts.items() if v)
    env = dict(os.environ)
    if u.password:
        env["PGPASSWORD"] = str(u.password)
    return conninfo, env


def _run(cmd: list[str], env: dict[str, str], what: str) -> str:
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        # The tool's own message names objects, never row values; keep its first line for the operator.
        first = (done.stderr or "").strip().splitlines()[:1]
        detail = first[0][:300] if first else f"exit {done.returncode}"
        raise BackupToolFailed(f"{what} に失敗しました: {detail}", f"{what} failed: {detail}")
    return done.stdout


def _pg_engine(url: str) -> Any:
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return create_engine(url, isolation_level="REPEATABLE READ")


def pg_tables(conn: Connection, role: str) -> list[str]:
    """The tables a dump of ``role`` holds: the keystore's or the audit log's by name; for the data store,
    everything in the schema except those."""
    present = sorted(
        str(r[0])
        for r in conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"))
    )
    if role == "keystore":
        return [t for t in present if t in KEYSTORE_TABLES]
    if role == "audit":
        return [t for t in present if t in AUDIT_TABLES]
    return [t for t in present if t not in KEYSTORE_TABLES and t not in AUDIT_TABLES]


def pg_counts(conn: Connection, tables: Iterable[str]) -> dict[str, dict[str, object]]:
    return {
        t: {"rows": int(conn.execute(text(f"SELECT count(*) FROM {_quote(t)}")).scalar_one())} for t in tables
    }


def _table_args(role: str) -> list[str]:
    if role == "keystore":
        return [a for t in KEYSTORE_TABLES for a in ("-t", _quote(t))]
    if role == "audit":
        return [a for t in AUDIT_TABLES for a in ("-t", _quote(t))]
    return [a for t in (*KEYSTORE_TABLES, *AUDIT_TABLES) for a in ("-T", _quote(t))]


@contextmanager
def pg_snapshot(url: str) -> Iterator[tuple[Connection, str]]:
    """A REPEATABLE READ transaction and its exported snapshot id (valid while the block runs)."""
    engine = _pg_engine(url)
    try:
        with engine.connect() as conn, conn.begin():
            snapshot = str(conn.execute(text("SELECT pg_export_snapshot()")).scalar_one())
            yield conn, snapshot
    finally:
        engine.dispose()


def pg_dump(store: Store, target: Path) -> dict[str, Any]:
    """``pg_dump -Fc`` of the store's tables in one exported snapshot; returns the row counts (and, for the
    audit log, its head; for the keystore, the KEK versions in use) seen in that same snapshot."""
    conninfo, env = pg_conninfo(store.url)
    with pg_snapshot(store.url) as (conn, snapshot):
        tables = pg_tables(conn, store.role)
        info: dict[str, Any] = {"tables": pg_counts(conn, tables)}
        if store.role == "audit":
            info["audit"] = _audit_head(lambda sql: conn.execute(text(sql)).all())
        if store.role == "keystore":
            info["kek_versions"] = sorted(
                int(r[0])
                for r in conn.execute(
                    text("SELECT kek_version FROM data_keys UNION SELECT kek_version FROM system_keys")
                )
            )
        cmd = [
            pg_tool("pg_dump"),
            "--format=custom",
            "--no-owner",
            "--no-privileges",
            "--enable-row-security",  # FORCEd RLS (0017): a connection that sets no row scope reads every row
            f"--snapshot={snapshot}",
            f"--file={target}",
            *_table_args(store.role),
            f"--dbname={conninfo}",
        ]
        _run(cmd, env, f"pg_dump ({store.role})")
    seal_file(target)
    return info


def pg_list(path: Path) -> str:
    """Read the archive's table of contents ("ok" when pg_restore can parse it)."""
    try:
        _run([pg_tool("pg_restore"), "--list", str(path)], dict(os.environ), "pg_restore --list")
    except BackupToolFailed as exc:
        return exc.message_en
    return "ok"


def pg_restore(store: Store, path: Path) -> dict[str, dict[str, object]]:
    """``pg_restore --clean`` into the configured database in one transaction; returns the row counts after."""
    conninfo, env = pg_conninfo(store.url)
    cmd = [
        pg_tool("pg_restore"),
        "--clean",
        "--if-exists",
        "--single-transaction",
        "--exit-on-error",
        "--no-owner",
        "--no-privileges",
        "--enable-row-security",  # FORCEd RLS (0017): a connection that sets no row scope writes every row
        f"--dbname={conninfo}",
        str(path),
    ]
    _run(cmd, env, f"pg_restore ({store.role})")
    return pg_current_counts(store)


def pg_current_counts(store: Store) -> dict[str, dict[str, object]]:
    with pg_snapshot(store.url) as (conn, _):
        return pg_counts(conn, pg_tables(conn, store.role))
