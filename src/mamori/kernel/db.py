"""Engines, sessions and the unit of work.

Three stores, each its own database: the data store (customers, purposes, consents …), the keystore
(wrapped data keys) and the audit log. With SQLite they are three files in ``MAMORI_HOME``; with
PostgreSQL, three URLs (the keystore and audit may share a server but never a table with the data).

Services ``flush()``, never ``commit()``: the single commit happens here, at the edge (CLI command,
HTTP request, job), in :func:`unit_of_work`.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import stat
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import DateTime, MetaData, TypeDecorator, create_engine, event, text
from sqlalchemy.engine import URL, Dialect, Engine, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import NullPool

from mamori.kernel.errors import ConfigurationError

if TYPE_CHECKING:
    from mamori.kernel.settings import Settings

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base of the data store (not the keystore, not the audit log)."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


SQLITE_BUSY_TIMEOUT_MS = 5000


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # SECURITY.md §5: WAL + synchronous=FULL survives power loss; foreign keys are off per connection by
    # default; secure_delete's default is a compile-time option, so it is set explicitly.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.close()


def _sqlite_begin_immediate(conn: Any) -> None:
    # A deferred read that later upgrades to a write can fail with SQLITE_BUSY_SNAPSHOT, which waiting does
    # not fix; every transaction therefore takes the write lock up front (BEGIN IMMEDIATE).
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def _bad_url(setting: str, why_ja: str, why_en: str, code: str) -> ConfigurationError:
    # The URL itself is never repeated: it may carry a password.
    return ConfigurationError(f"{setting}: {why_ja}", f"{setting}: {why_en}", code=code)


def check_url(url: str, setting: str = "MAMORI_DATABASE_URL", *, parent_must_exist: bool = True) -> URL:
    """Parse a store URL, or raise one clear :class:`ConfigurationError` naming ``setting`` (never the URL, which
    may hold a password). Only SQLite and PostgreSQL are stores; a SQLite file's directory must already exist
    (``parent_must_exist``): nothing is created for a mistyped path (issue 17)."""
    try:
        parsed = make_url(url)
        parsed.port  # noqa: B018 - a malformed port raises here
    except (ArgumentError, ValueError, TypeError):
        raise _bad_url(
            setting,
            "データベース URL の形式が正しくありません（例: postgresql+psycopg://user@host/db、sqlite:////path/mamori.db）。",
            "the database URL is malformed (e.g. postgresql+psycopg://user@host/db or sqlite:////path/mamori.db).",
            "database_url_malformed",
        ) from None
    backend, _, driver = parsed.drivername.partition("+")
    if backend not in ("sqlite", "postgresql") or (
        driver and (backend, driver) not in {("sqlite", "pysqlite"), ("postgresql", "psycopg")}
    ):
        raise _bad_url(
            setting,
            "対応していないデータベースです（sqlite:/// または postgresql+psycopg:// を指定してください）。",
            "unsupported database (use sqlite:/// or postgresql+psycopg://).",
            "database_url_unsupported",
        )
    if backend == "sqlite":
        path = parsed.database or ""
        if path in ("", ":memory:") or path.startswith("file:"):
            return parsed
        parent = Path(path).expanduser().parent
        if parent_must_exist and not parent.is_dir():
            raise _bad_url(
                setting,
                f"SQLite ファイルのディレクトリ {parent} がありません（作成はしません）。",
                f"the directory {parent} of the SQLite file does not exist (it is not created).",
                "database_dir_missing",
            )
    elif not parsed.database:
        raise _bad_url(
            setting,
            "PostgreSQL のデータベース名がありません（postgresql+psycopg://user@host/db）。",
            "the PostgreSQL database name is missing (postgresql+psycopg://user@host/db).",
            "database_url_malformed",
        )
    return parsed


def _connect_failed(setting: str, parsed: URL) -> Any:
    """``handle_error`` hook: a failure to CONNECT (server down, wrong port, unreadable file, refused login) is one
    ConfigurationError naming the setting and where it points — host and port, or the file — never the password."""

    where = (
        parsed.database
        if parsed.get_backend_name() == "sqlite"
        else f"{parsed.host or 'localhost'}:{parsed.port or 5432}"
    )

    def hook(context: Any) -> None:
        if context.connection is not None or context.is_pre_ping:
            return  # a statement's error, or the pool's liveness probe (which reconnects by itself)
        raise ConfigurationError(
            f"{setting}: データベースに接続できません（{where}）。サーバー・ポート・ユーザー・ファイルを確認してください。",
            f"{setting}: cannot connect to the database ({where}); check the server, port, user or file.",
            code="database_unreachable",
        )

    return hook


def make_engine(
    url: str,
    *,
    immediate: bool = True,
    pool_size: int | None = None,
    setting: str = "MAMORI_DATABASE_URL",
) -> Engine:
    """An engine with mamori's connection settings for SQLite or PostgreSQL.

    ``pool_size``: connections kept open (the HTTP server passes its admitted concurrency, so an admitted
    request never waits for one); a small overflow absorbs the server's own background work. ``setting``: the
    name an error about this URL gives (a bad URL or a failed connection is one line naming it, issue 17). Nothing
    is created when the engine is made; a SQLite file's directory at its first connection (see ``_parent_dir``)."""
    parsed = check_url(url, setting, parent_must_exist=False)
    pool: dict[str, int] = {} if pool_size is None else {"pool_size": pool_size, "max_overflow": 4}
    if url.startswith("sqlite"):
        path = url.split("///", 1)[1] if "///" in url else ""
        engine = create_engine(
            url,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
            poolclass=NullPool if path == ":memory:" else None,
            **({} if path == ":memory:" else pool),
        )
        if path and path != ":memory:":

            @event.listens_for(engine, "do_connect")
            def _parent_dir(*_args: Any) -> None:
                # At the first connection, not when the engine is made: a Runtime checks every URL it was given
                # first (check_url: a missing directory there is an error, never created); what is made here is
                # the store's own default directory (MAMORI_HOME) of a command that goes on to use it.
                Path(path).parent.mkdir(parents=True, exist_ok=True)

            @event.listens_for(engine, "connect")
            def _owner_only(_dbapi_connection: Any, _record: Any) -> None:
                # Before the pragmas create -wal/-shm (SQLite gives them the database file's mode). Opening
                # creates the file; it is not created before (a missing file must stay visible as missing).
                if os.path.exists(path) and stat.S_IMODE(os.stat(path).st_mode) != 0o600:
                    os.chmod(path, 0o600)

        event.listen(engine, "connect", _sqlite_pragmas)

        @event.listens_for(engine, "connect")
        def _no_pysqlite_begin(dbapi_connection: Any, _record: Any) -> None:
            # Let SQLAlchemy emit BEGIN itself (pysqlite's implicit transactions are unreliable).
            dbapi_connection.isolation_level = None

        if immediate:
            event.listen(engine, "begin", _sqlite_begin_immediate)
        else:

            @event.listens_for(engine, "begin")
            def _begin(conn: Any) -> None:
                conn.exec_driver_sql("BEGIN")

        event.listen(engine, "handle_error", _connect_failed(setting, parsed))
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    engine = create_engine(url, pool_pre_ping=True, **pool)
    event.listen(engine, "handle_error", _connect_failed(setting, parsed))
    return engine


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def wal_truncate(engine: Engine, *, attempts: int = 20) -> bool:
    """SQLite: ``PRAGMA wal_checkpoint(TRUNCATE)`` so no old page image survives in the -wal file (after an
    erasure or a key destruction). Retries while readers block it; returns False if it could not complete.
    Always True on PostgreSQL (its WAL and dead tuples are the server's)."""
    if not is_sqlite(engine):
        return True
    raw = engine.raw_connection()
    try:
        for attempt in range(max(1, attempts)):
            cursor = raw.cursor()
            try:
                cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                row = cursor.fetchone()
            finally:
                cursor.close()
            if row is not None and int(row[0]) == 0:
                return True
            if attempt + 1 < attempts:
                time.sleep(0.05)
        return False
    finally:
        raw.close()


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=True)


@contextmanager
def unit_of_work(factory: sessionmaker[Session]) -> Iterator[Session]:
    """The edge's transaction: commit once when the block succeeds, roll back on any exception."""
    session = factory()
    try:
        yield session
    except BaseException:
        session.rollback()
        raise
    else:
        session.commit()
    finally:
        session.close()


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite stores them naive; this puts the UTC tzinfo back)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def new_id() -> str:
    """A random, non-enumerable row id (128 bits, hex) — the id of every entity that may be named in a URL."""
    return secrets.token_hex(16)


_T = TypeVar("_T")


def chunks(items: Sequence[_T], size: int = 500) -> Iterator[Sequence[_T]]:
    """Slices of ``items`` small enough for one ``IN (...)`` list on every backend."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


# -- PostgreSQL as production runs it (issue 17): an app role that owns nothing, an owner role for migrations ----

# The owner's URL of each store: `mamori init` migrates and creates the schemas through it and grants the app role
# (the user of MAMORI_DATABASE_URL / _KEYSTORE_URL / _AUDIT_URL) only what it needs. Unset: the app's own URL (the
# embedded SQLite default, or a demo on PostgreSQL, where the startup check then warns).


MIGRATION_URL_SETTINGS = {  # the setting each owner URL comes from (named in errors, never the URL itself)
    "data": "MAMORI_MIGRATION_DATABASE_URL",
    "keystore": "MAMORI_MIGRATION_KEYSTORE_URL",
    "audit": "MAMORI_MIGRATION_AUDIT_URL",
}


def migration_urls(settings: Settings) -> dict[str, str | None]:
    """The owner URL of each store (``data``, ``keystore``, ``audit``), or None (MAMORI_MIGRATION_*_URL)."""
    return {
        "data": settings.migration_database_url,
        "keystore": settings.migration_keystore_url,
        "audit": settings.migration_audit_url,
    }


@dataclass(frozen=True)
class RoleFacts:
    """What PostgreSQL says of the role a store connection logs in as."""

    name: str
    superuser: bool
    bypass_rls: bool
    owned_tables: int

    def problems(self) -> list[tuple[str, str]]:
        """(ja, en) for each way this role is unfit to run the app (SECURITY.md §5)."""
        out: list[tuple[str, str]] = []
        if self.superuser:
            out.append(("スーパーユーザーです", "is a superuser"))
        if self.bypass_rls:
            out.append(("BYPASSRLS 属性があります", "has BYPASSRLS"))
        if self.owned_tables:
            out.append(
                (f"テーブルを {self.owned_tables} 個所有しています", f"owns {self.owned_tables} table(s)")
            )
        return out


_ROLE_FACTS = text(
    "SELECT r.rolname, r.rolsuper, r.rolbypassrls, "
    "(SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
    " WHERE c.relowner = r.oid AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S') "
    " AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%') "
    "FROM pg_roles r WHERE r.rolname = current_user"
)


def role_facts(engine: Engine) -> RoleFacts | None:
    """The connection's role on PostgreSQL (None on SQLite, which has no roles)."""
    if is_sqlite(engine):
        return None
    with engine.connect() as conn:
        row = conn.execute(_ROLE_FACTS).one()
    return RoleFacts(str(row[0]), bool(row[1]), bool(row[2]), int(row[3]))


def check_app_role(engine: Engine, setting: str, *, production: bool) -> RoleFacts | None:
    """At startup on PostgreSQL: the app's role must not be a superuser, must not bypass RLS and must own no table
    (SECURITY.md §5, test 22). Production refuses to start otherwise (one line); a demo is warned."""
    facts = role_facts(engine)
    if facts is None:
        return None
    problems = facts.problems()
    if not problems:
        return facts
    ja = "、".join(p[0] for p in problems)
    en = ", ".join(p[1] for p in problems)
    if production:
        raise ConfigurationError(
            f"{setting}: 接続ロール {facts.name} は本番では使えません（{ja}）。所有者でない専用ロールで接続し、"
            "移行は MAMORI_MIGRATION_DATABASE_URL の所有者ロールで行ってください（docs/postgres.md）。",
            f"{setting}: the role {facts.name} cannot run the app in production ({en}); connect as a role that owns "
            "nothing and migrate through MAMORI_MIGRATION_DATABASE_URL's owner role (docs/postgres.md).",
            code="database_role_unsafe",
        )
    logging.getLogger("mamori.db").warning(
        "%s: the role %s %s; production mode would refuse to start (docs/postgres.md)",
        setting,
        facts.name,
        en,
    )
    return facts


_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")


def quote_ident(name: str) -> str:
    """A role or table name for DDL, refused unless it is a plain identifier (no quoting games)."""
    if not _IDENTIFIER.fullmatch(name):
        raise ConfigurationError(
            f"ロール名・テーブル名 {name!r} は使えません（英数字と _ のみ）。",
            f"the role or table name {name!r} is not allowed (letters, digits and _ only).",
            code="bad_identifier",
        )
    return f'"{name}"'


# Tables the app may only read and append to (the tamper-evident audit log): no UPDATE, DELETE or TRUNCATE.
APPEND_ONLY = ("audit_entries", "audit_checkpoints")
READ_ONLY = ("alembic_version",)


def grant_sql(app_role: str, tables: Iterable[str]) -> list[str]:
    """The GRANTs the app role needs on ``tables`` of one store, and nothing more: read and write the business and
    key tables, read + append the audit log (append-only), read the migration stamp; use the sequences."""
    role = quote_ident(app_role)
    out = [f"GRANT USAGE ON SCHEMA public TO {role}"]
    for name in sorted(set(tables)):
        t = quote_ident(name)
        out.append(f"REVOKE ALL ON TABLE {t} FROM {role}")
        if name in APPEND_ONLY:
            out.append(f"GRANT SELECT, INSERT ON TABLE {t} TO {role}")
        elif name in READ_ONLY:
            out.append(f"GRANT SELECT ON TABLE {t} TO {role}")
        else:
            out.append(f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE {t} TO {role}")
    out.append(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {role}")
    return out


def provisioning_sql(
    app_role: str = "mamori_app", owner_role: str = "mamori_owner", database: str = "mamori"
) -> str:
    """The SQL a DBA runs once (as a superuser) before ``mamori init``: the owner role that migrations run as, and
    the app role — LOGIN, NOSUPERUSER, NOBYPASSRLS, owning nothing. ``mamori init`` (with the owner URLs set) then
    grants the app role exactly what :func:`grant_sql` lists on every table."""
    app, owner, db = quote_ident(app_role), quote_ident(owner_role), quote_ident(database)
    return "\n".join(
        (
            f"CREATE ROLE {owner} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEROLE NOCREATEDB PASSWORD :'owner_password';",
            f"CREATE ROLE {app} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEROLE NOCREATEDB PASSWORD :'app_password';",
            f"CREATE DATABASE {db} OWNER {owner};",
            f"\\connect {db}",
            "REVOKE CREATE ON SCHEMA public FROM PUBLIC;",
            f"ALTER SCHEMA public OWNER TO {owner};",
            f"GRANT USAGE ON SCHEMA public TO {app};",
        )
    )


def table_names(engine: Engine) -> list[str]:
    """The tables of the connection's current schema (PostgreSQL)."""
    with engine.connect() as conn:
        return [
            str(r[0])
            for r in conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"))
        ]


# The sales row scope as the database enforces it (migration 0017's policies read these, transaction-local).
ROW_SCOPE_SQL = text(
    "SELECT set_config('mamori.row_scope', :scope, true), set_config('mamori.staff_id', :staff, true), "
    "set_config('mamori.team', :team, true)"
)

_SCOPE_FACTS = text("SELECT owner_id, team, erased FROM mamori_customer_scope(:customer_id)")


def hidden_customer_scope(session: Session, customer_id: str) -> tuple[str | None, str | None, bool] | None:
    """PostgreSQL: (owner id, team, erased) of a customer whatever this transaction's row scope — for telling "out of
    your scope" (a denial audited under R-23-2) from "no such customer" when RLS hides the row. Never a personal
    value. None on SQLite (no RLS: the row itself is read) or when there is no such customer."""
    if session.get_bind().dialect.name == "sqlite":
        return None
    row = session.execute(_SCOPE_FACTS, {"customer_id": customer_id}).first()
    return None if row is None else (row[0], row[1], bool(row[2]))
