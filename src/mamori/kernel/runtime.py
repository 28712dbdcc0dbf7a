"""The runtime: the three stores, the keystore, the cipher, the blind indexer and the audit writer.

One Runtime per process. The edges (CLI commands, HTTP requests, jobs) open a transaction with
:meth:`Runtime.transaction`, which yields the Context services take first.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from functools import cached_property
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from mamori.kernel.audit import AuditEntry, AuditWriter, signing_key_from_seed
from mamori.kernel.clock import Clock, SystemClock
from mamori.kernel.context import SYSTEM_ACTOR, Actor, Context
from mamori.kernel.crypto import BlindIndexer, FieldCipher, Keystore, kek_from_settings
from mamori.kernel.db import is_sqlite, make_engine, make_sessionmaker, unit_of_work
from mamori.kernel.outbox import OUTBOX_PENDING, AuditOutbox
from mamori.kernel.settings import Settings, get_settings

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


class Runtime:
    def __init__(self, settings: Settings, *, clock: Clock | None = None) -> None:
        self.settings = settings
        self.clock: Clock = clock or SystemClock()
        self.data_url = settings.resolved_database_url()
        self.data_engine: Engine = make_engine(self.data_url)
        self.sessions: sessionmaker[Session] = make_sessionmaker(self.data_engine)
        # Read transactions (GET requests, sign-in checks): on SQLite a deferred BEGIN, so readers never queue on
        # the write lock (WAL readers do not block and are not blocked). Same engine on PostgreSQL.
        self.read_engine: Engine = (
            make_engine(self.data_url, immediate=False)
            if self.data_url.startswith("sqlite")
            else self.data_engine
        )
        self.read_sessions: sessionmaker[Session] = make_sessionmaker(self.read_engine)
        self.keystore_engine: Engine = make_engine(settings.resolved_keystore_url())
        self.audit_engine: Engine = make_engine(settings.resolved_audit_url())
        self.kek = kek_from_settings(settings)
        self.keystore = Keystore(self.keystore_engine, self.kek, self.clock)
        self.cipher = FieldCipher(self.keystore)

    # -- lazily created pieces that need the keystore schema -------------------------------------------------
    @cached_property
    def indexer(self) -> BlindIndexer:
        return BlindIndexer(self.keystore.system_key("blind_index"))

    @cached_property
    def audit(self) -> AuditWriter:
        key = signing_key_from_seed(self.keystore.system_key("audit_signing"))
        return AuditWriter(
            self.audit_engine,
            key,
            self.clock,
            checkpoint_every=self.settings.audit_checkpoint_every,
            anchor_path=self.anchor_path,
        )

    @property
    def anchor_path(self) -> Path:
        return self.settings.home_path / "audit-anchors.jsonl"

    # -- lifecycle ---------------------------------------------------------------------------------------------
    def init(self) -> None:
        """Create MAMORI_HOME, migrate the data store, create the keystore and audit schemas. Idempotent."""
        home = self.settings.home_path
        home.mkdir(parents=True, exist_ok=True)
        os.chmod(home, 0o700)
        migrate(self.data_engine)
        self.keystore.init_schema()
        self.audit.init_schema()
        self.drain_outbox()

    def close(self) -> None:
        for engine in (self.data_engine, self.read_engine, self.keystore_engine, self.audit_engine):
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
            ctx = Context(
                actor=actor,
                session=session,
                runtime=self,
                purpose=purpose,
                clock=self.clock,
                lang=lang or self.settings.lang,
            )
            yield ctx
        if ctx.memo.get(OUTBOX_PENDING):
            self.drain_outbox()

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
