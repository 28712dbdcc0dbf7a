"""Alembic environment for the data store (the keystore and the audit log have their own fixed schemas)."""

from __future__ import annotations

from alembic import context

import mamori.analytics.models
import mamori.consent.models
import mamori.contact.models
import mamori.customers.models
import mamori.deid.models
import mamori.incidents.models
import mamori.inventory.models
import mamori.kernel.idempotency
import mamori.kernel.mail.models
import mamori.kernel.outbox
import mamori.kernel.scheduler.models
import mamori.lifecycle.models
import mamori.monitoring.models
import mamori.notice.models
import mamori.processors.models
import mamori.provision.models
import mamori.purposes.models
import mamori.rights.models
import mamori.staff.models  # noqa: F401  (each import registers its tables)
from mamori.kernel.db import Base, make_engine
from mamori.kernel.settings import get_settings

config = context.config
engine = config.attributes.get("engine")
if engine is None:  # pragma: no branch
    url = config.get_main_option("sqlalchemy.url") or get_settings().resolved_database_url()
    engine = make_engine(url, setting="MAMORI_MIGRATION_DATABASE_URL")


def run_migrations_online() -> None:
    assert engine is not None
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            if connection.dialect.name == "postgresql":
                # The customer tables FORCE row-level security (0017), which binds their owner too: a migration
                # that rewrites rows must see them all (transaction-local, never left on a pooled connection).
                connection.exec_driver_sql("SELECT set_config('mamori.row_scope', 'all', true)")
            context.run_migrations()


run_migrations_online()
