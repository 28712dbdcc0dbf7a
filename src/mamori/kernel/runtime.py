"""The runtime: the three stores, the keystore, the cipher, the blind indexer and the audit writer.

One Runtime per process. The edges (CLI commands, HTTP requests, jobs) open a transaction with
:meth:`Runtime.transaction`, which yields the Context services take first.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from functools import cached_property
from pathlib import Path

from sqlalchemy import delete, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from mamori.kernel.audit import AuditEntry, AuditWriter, signing_key_from_seed
from mamori.kernel.auditing import record_escaped_refusal
from mamori.kernel.clock import Clock, SystemClock
from mamori.kernel.context import SYSTEM_ACTOR, Actor, ActorKind, Context
from mamori.kernel.crypto import BlindIndexer, FieldCipher, Keystore, kek_from_settings
from mamori.kernel.db import (
    MIGRATION_URL_SETTINGS,
    ROW_SCOPE_SQL,
    check_app_role,
    check_url,
    grant_sql,
    is_sqlite,
    make_engine,
    make_sessionmaker,
    migration_urls,
    table_names,
    unit_of_work,
    wal_truncate,
)
from mamori.kernel.errors import ConfigurationError, PolicyDenied
from mamori.kernel.memo import Caches
from mamori.kernel.outbox import OUTBOX_PENDING, AuditOutbox
from mamori.kernel.settings import Settings, get_settings

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
# Context.memo flag set by an erasure: after the commit, Runtime.transaction scrubs the stores' files.
SCRUB_PENDING = "scrub_pending"
MAIL_PENDING = "mamori.mail_pending"  # Session.info: mail enqueued in this transaction (kernel.mail.queue)


class Runtime:
    def __init__(self, settings: Settings, *, clock: Clock | None = None) -> None:
        self.settings = settings
        self.clock: Clock = clock or SystemClock()
        # Every URL is checked before anything is created: a malformed URL, an unknown scheme or a SQLite file in a
        # directory that does not exist is one line naming its setting, and no directory is made (issue 17).
        self.migration_urls = migration_urls(settings)
        _check_urls(settings, self.migration_urls)
        self.data_url = settings.resolved_database_url()
        data_setting = "MAMORI_DATABASE_URL" if settings.database_url else "MAMORI_HOME"
        pool = settings.http_concurrency
        self.data_engine: Engine = make_engine(self.data_url, pool_size=pool, setting=data_setting)
        self.sessions: sessionmaker[Session] = make_sessionmaker(self.data_engine)
        # Read transactions (GET requests, sign-in checks): on SQLite a deferred BEGIN, so readers never queue on
        # the write lock (WAL readers do not block and are not blocked). Same engine on PostgreSQL.
        self.read_engine: Engine = (
            make_engine(self.data_url, immediate=False, pool_size=pool, setting=data_setting)
            if self.data_url.startswith("sqlite")
            else self.data_engine
        )
        self.read_sessions: sessionmaker[Session] = make_sessionmaker(self.read_engine)
        audit_setting = "MAMORI_AUDIT_URL" if settings.audit_url else "MAMORI_HOME"
        self.audit_engine: Engine = make_engine(
            settings.resolved_audit_url(), pool_size=pool, setting=audit_setting
        )
        ks_setting = "MAMORI_KEYSTORE_URL" if settings.keystore_url else "MAMORI_KEY_DIR"
        if settings.keystore_url:
            self._keystore_engines(settings.keystore_url, ks_setting, pool)
        # PostgreSQL: each store's role is checked before anything is created (an unreachable server is one line).
        checked = []
        for engine, setting in (
            (self.data_engine, data_setting),
            (self.audit_engine, audit_setting),
            *(((self.keystore_engine, ks_setting),) if settings.keystore_url else ()),
        ):
            if not is_sqlite(engine) and engine.url not in checked:
                check_app_role(engine, setting, production=settings.production)
                checked.append(engine.url)
        _check_layout(settings)
        if not settings.keystore_url:  # the default keystore lives in the key directory _check_layout makes
            self._keystore_engines(settings.resolved_keystore_url(), ks_setting, pool)
        self.kek = kek_from_settings(settings)
        self.keystore = Keystore(
            self.keystore_engine,
            self.kek,
            self.clock,
            journal_path=settings.resolved_journal_path(),
            read_engine=self.keystore_read_engine,
        )
        self.cipher = FieldCipher(self.keystore)
        # Hot-path facts shared by this process's threads (purpose catalog, API token checks): see kernel.memo.
        self.caches = Caches()

    def _keystore_engines(self, url: str, setting: str, pool: int) -> None:
        self.keystore_engine: Engine = make_engine(url, pool_size=pool, setting=setting)
        self.keystore_read_engine: Engine = (
            make_engine(url, immediate=False, pool_size=pool, setting=setting)
            if url.startswith("sqlite")
            else self.keystore_engine
        )

    # -- lazily created pieces that need the keystore schema -------------------------------------------------
    @cached_property
    def indexer(self) -> BlindIndexer:
        return BlindIndexer(self.keystore.system_key("blind_index"))

    @cached_property
    def audit(self) -> AuditWriter:
        """The audit writer, keyed (MAC) and signed with keystore secrets; anchors outside MAMORI_HOME."""
        key = signing_key_from_seed(self.keystore.system_key("audit_signing"))
        return AuditWriter(
            self.audit_engine,
            key,
            self.clock,
            mac_key=self.keystore.system_key("audit_mac"),
            checkpoint_every=self.settings.audit_checkpoint_every,
            checkpoint_minutes=self.settings.audit_checkpoint_minutes,
            anchor_path=self.anchor_path,
            anchor_syslog=self.settings.audit_anchor_syslog,
            home=self.settings.home_path,
        )

    @property
    def anchor_path(self) -> Path:
        """The audit anchor file (``MAMORI_AUDIT_ANCHOR``, default ``<key dir>/audit-anchors.jsonl``)."""
        return self.settings.resolved_anchor_path()

    # -- lifecycle ---------------------------------------------------------------------------------------------
    def init(self) -> None:
        """Create MAMORI_HOME, migrate the data store, create the keystore and audit schemas. Idempotent."""
        home = self.settings.home_path
        home.mkdir(parents=True, exist_ok=True)
        os.chmod(home, 0o700)
        self.settings.store_id(create=True)
        self.migrate_schemas()
        self.keystore.init_schema()
        self._ensure_kek()
        self.keystore.check_kek()
        self.audit.init_schema()
        self.drain_outbox()

    def migrate_schemas(self) -> None:
        """Migrate the data store and create the keystore and audit schemas through each store's owner URL
        (MAMORI_MIGRATION_*_URL) when one is set, then grant the app's role only what it needs (kernel.db.grant_sql).
        Without an owner URL the app's own connection migrates (SQLite; a PostgreSQL demo)."""
        from mamori.kernel.audit.models import AuditBase
        from mamori.kernel.crypto.keystore.tables import KeystoreBase

        owners = self.migration_urls
        schemas: dict[str, tuple[Engine, list[str]]] = {
            "keystore": (self.keystore_engine, sorted(KeystoreBase.metadata.tables)),
            "audit": (self.audit_engine, sorted(AuditBase.metadata.tables)),
        }
        if owners["data"] is None:
            migrate(self.data_engine)
        else:
            owner = make_engine(owners["data"], setting=MIGRATION_URL_SETTINGS["data"])
            try:
                migrate(owner)
                others = {t for _, names in schemas.values() for t in names}
                tables = [t for t in table_names(owner) if t not in others]
                _grant(owner, self.data_engine, tables)
            finally:
                owner.dispose()
        for store, (app_engine, names) in schemas.items():
            url = owners[store]
            if url is None:
                continue
            owner = make_engine(url, setting=MIGRATION_URL_SETTINGS[store])
            try:
                base = KeystoreBase if store == "keystore" else AuditBase
                with owner.begin() as conn:
                    if not is_sqlite(owner):
                        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _SCHEMA_LOCK})
                    base.metadata.create_all(conn)
                _grant(owner, app_engine, names)
            finally:
                owner.dispose()

    def _ensure_kek(self) -> None:
        """Create the KEK of a NEW store (empty keystore) only; an existing store's missing KEK is an error that
        names the file (never a silent new key, which would make the data unreadable)."""
        if not getattr(self.kek, "missing", False):
            return
        if self.keystore.is_empty():
            create = getattr(self.kek, "create_new", None)
            if callable(create):
                create()
                return
        self.kek.current_version()  # raises the provider's own "missing" error

    def close(self) -> None:
        """Anchor what this process appended to the audit log (a signed checkpoint), then release the engines."""
        if "audit" in self.__dict__ and self.audit.wrote_entries:
            try:
                self.audit.checkpoint_if_due()
            except Exception as exc:  # closing must go on; the next checkpoint covers these entries too
                logging.getLogger("mamori.audit").warning(
                    "audit checkpoint on close failed: %s", getattr(exc, "code", type(exc).__name__)
                )
        for engine in (
            self.data_engine,
            self.read_engine,
            self.keystore_engine,
            self.keystore_read_engine,
            self.audit_engine,
        ):
            engine.dispose()

    # -- transactions ------------------------------------------------------------------------------------------
    @contextmanager
    def transaction(
        self,
        actor: Actor = SYSTEM_ACTOR,
        purpose: str | None = None,
        *,
        lang: str | None = None,
        readonly: bool = False,
    ) -> Iterator[Context]:
        """The edge's unit of work: commit once on success, then move write-audit entries to the chain.

        ``readonly`` opens a deferred transaction on SQLite (for requests that only read personal data; their
        audit entries go to the audit store directly)."""
        with unit_of_work(self.read_sessions if readonly else self.sessions) as session:
            scope = None if self._sqlite else db_row_scope(actor)
            if scope is not None and scope["scope"] != "all":
                # Row-level security (migration 0017): the database shows this transaction only the customers the
                # actor's row scope covers, whatever SQL runs on it (defence in depth behind the policy engine).
                # Transaction-local; a scope of all needs no statement (a transaction without one is unrestricted).
                session.execute(ROW_SCOPE_SQL, scope)
            ctx = Context(
                actor=actor,
                session=session,
                runtime=self,
                purpose=purpose,
                clock=self.clock,
                lang=lang or self.settings.lang,
            )
            try:
                yield ctx
            except PolicyDenied as exc:
                # R-23-2: a refusal no service audited is audited here, on the audit store's own connection (it
                # survives this transaction's rollback); one already audited is not written twice.
                record_escaped_refusal(ctx, exc)
                raise
        if ctx.memo.get(OUTBOX_PENDING):
            self.drain_outbox()
        if ctx.memo.get(SCRUB_PENDING):
            self.scrub()
        if MAIL_PENDING in session.info:
            # E-mail enqueued in this transaction (kernel.mail.enqueue): wake the delivery worker, or deliver now.
            from mamori.kernel.mail.queue import take_committed
            from mamori.kernel.mail.worker import after_commit

            after_commit(self, take_committed(session.info))

    def scrub(self, *, attempts: int = 20) -> bool:
        """After an erasure commits: leave no old page of the person in the SQLite files.

        ``secure_delete=ON`` (set on every connection by :func:`make_engine`) zeroes deleted and overwritten
        content in the database pages, but the WAL still holds the pages as they were before the erasure (blind-
        index tokens, ciphertexts, claimed values) until it is checkpointed and reset. So the data store and the
        keystore are checkpointed with ``PRAGMA wal_checkpoint(TRUNCATE)``, retried while readers block it.
        Returns False if a checkpoint could not complete (it completes at the next one; logged, no personal
        data). PostgreSQL: nothing to do here (dead tuples and WAL are the database's; see ADR 0006)."""
        try:  # the erasure has committed: a failure here is reported, never raised to the caller
            complete = wal_truncate(self.data_engine, attempts=attempts)
            complete = self.keystore.checkpoint(attempts=attempts) and complete
        except Exception as exc:
            logging.getLogger("mamori.erasure").warning(
                "WAL checkpoint after an erasure failed: %s", getattr(exc, "code", type(exc).__name__)
            )
            return False
        if not complete:
            logging.getLogger("mamori.erasure").warning(
                "WAL checkpoint after an erasure incomplete; it completes at the next scrub (Runtime.scrub)"
            )
        return complete

    def drain_outbox(self) -> int:
        moved = 0
        while True:
            with unit_of_work(self.sessions) as session:
                rows = (
                    session.execute(select(AuditOutbox).order_by(AuditOutbox.id).limit(500)).scalars().all()
                )
                if not rows:
                    return moved
                entries = []
                for row in rows:
                    p = json.loads(row.payload)
                    details = dict(p.get("details") or {})
                    details["outbox_id"] = row.id
                    entries.append(
                        AuditEntry(
                            actor=p["actor"],
                            actor_role=p["actor_role"],
                            action=p["action"],
                            purpose=p["purpose"],
                            subject_ids=tuple(p["subject_ids"]),
                            fields=tuple(p["fields"]),
                            decision=p["decision"],
                            rule_ids=tuple(p["rule_ids"]),
                            reason=p["reason"],
                            details=details,
                            at=datetime.fromisoformat(p["at"]) if p.get("at") else None,
                        )
                    )
                self.audit.append(entries)
                session.execute(delete(AuditOutbox).where(AuditOutbox.id.in_([r.id for r in rows])))
                moved += len(rows)

    @property
    def is_sqlite(self) -> bool:
        return is_sqlite(self.data_engine)

    @cached_property
    def _sqlite(self) -> bool:
        return is_sqlite(self.data_engine)


# The customer tables' row scope at the database (migration 0017): the same grant the policy engine reads for a
# customer read. A sales rep's own-scope is enforced by PostgreSQL too; the system, the person (public request
# routes), outsourcee operators (their contract's grant is checked by the app) and roles whose scope is all see
# every row. A role with no customer grant still sees the rows: the app refuses it, and its other work (deid,
# rights) reads customers through services that check their own action.
CUSTOMER_READ = "customer.read"


def db_row_scope(actor: Actor) -> dict[str, str]:
    """The transaction-local settings ``mamori.row_scope`` / ``mamori.staff_id`` / ``mamori.team`` for ``actor``."""
    from mamori.kernel.policy.actions import Action, Scope, scope_for

    scope = "all"
    if actor.kind == ActorKind.STAFF:
        granted = scope_for(actor.role, Action(CUSTOMER_READ))
        if granted == Scope.OWN:
            scope = "own"
        elif granted == Scope.TEAM:
            scope = "team"
    return {"scope": scope, "staff": actor.id if scope != "all" else "", "team": actor.team or ""}


@contextmanager
def all_rows(ctx: Context) -> Iterator[None]:
    """Lift the database's row scope inside this block, for a look-up the app has authorised over every customer
    whatever the actor's own scope — e.g. locating the person behind a verified identifier of a rights request
    (R-37-1; sales may take requests) — then put the actor's scope back. No-op on SQLite and for a scope of all."""
    scope = None if ctx.runtime._sqlite else db_row_scope(ctx.actor)
    if scope is None or scope["scope"] == "all":
        yield
        return
    ctx.session.execute(ROW_SCOPE_SQL, {"scope": "all", "staff": "", "team": ""})
    try:
        yield
    finally:
        ctx.session.execute(ROW_SCOPE_SQL, scope)


_SCHEMA_LOCK = 0x6D616D6F72690017  # one init at a time creates the keystore / audit schemas as their owner


def _grant(owner: Engine, app_engine: Engine, tables: list[str]) -> None:
    """GRANT the app's role (the user of its URL) what it needs on ``tables``, as the owner (PostgreSQL only)."""
    app_role = app_engine.url.username
    if is_sqlite(owner) or not app_role or app_role == owner.url.username:
        return
    with owner.begin() as conn:
        for statement in grant_sql(app_role, tables):
            conn.execute(text(statement))


def _check_urls(settings: Settings, owners: dict[str, str | None]) -> None:
    for url, setting in (
        (settings.database_url, "MAMORI_DATABASE_URL"),
        (settings.keystore_url, "MAMORI_KEYSTORE_URL"),
        (settings.audit_url, "MAMORI_AUDIT_URL"),
        *((owners[store], MIGRATION_URL_SETTINGS[store]) for store in ("data", "keystore", "audit")),
    ):
        if url:
            check_url(url, setting)


def _check_layout(settings: Settings) -> None:
    """A store made before per-store key directories keeps its keystore in MAMORI_HOME: say how to move it
    rather than silently starting an empty keystore (ADR 0007)."""
    legacy = settings.home_path / "keystore.db"
    if settings.keystore_url is None and legacy.exists():
        raise ConfigurationError(
            f"鍵保管庫 {legacy} がデータディレクトリの中にあります（旧い配置）。MAMORI_HOME の外へ移し、"
            "MAMORI_KEYSTORE_URL で指定してください（docs/adr/0007）。",
            f"the keystore {legacy} is inside the data directory (old layout): move it out of MAMORI_HOME and "
            "set MAMORI_KEYSTORE_URL (docs/adr/0007).",
            code="legacy_layout",
        )
    # The key directory always exists: the destruction journal lives there whatever else is moved elsewhere.
    key_dir = settings.resolved_key_dir()
    if key_dir == settings.home_path or key_dir.is_relative_to(settings.home_path):
        raise ConfigurationError(
            "鍵ディレクトリ（MAMORI_KEY_DIR）がデータディレクトリの中にあります。外に置いてください。",
            "the key directory (MAMORI_KEY_DIR) is inside the data directory; it must live outside it.",
            code="kek_inside_home",
        )
    key_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(key_dir, 0o700)


def alembic_config(engine: Engine) -> object:
    import io

    from alembic.config import Config

    cfg = Config(stdout=io.StringIO())
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    cfg.attributes["engine"] = engine
    return cfg


def migrate(engine: Engine) -> None:
    from alembic import command

    command.upgrade(alembic_config(engine), "head")  # type: ignore[arg-type]


def open_runtime(settings: Settings | None = None, *, clock: Clock | None = None) -> Runtime:
    return Runtime(settings or get_settings(), clock=clock)
