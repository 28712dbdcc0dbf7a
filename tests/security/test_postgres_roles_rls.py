"""SECURITY.md §7 test 22 and issue 17 item 5 — PostgreSQL as production runs it.

The app connects as ``mamori_app`` (tests/pg.py): not a superuser, no BYPASSRLS, owning nothing; migrations run as
``mamori_owner``. Row-level security (migration 0017) shows a sales rep's transaction only the rep's customers and
their child rows, whatever SQL runs on it. PostgreSQL only: skipped on a SQLite-only run.
"""

from __future__ import annotations

import logging
import os

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from mamori.kernel.db import check_app_role, make_engine, role_facts
from mamori.kernel.errors import ConfigurationError
from tests.factories import make_customer, seed_basics

BACKENDS = os.environ.get("MAMORI_TEST_BACKENDS", "sqlite,postgresql").split(",")
pytestmark = pytest.mark.skipif("postgresql" not in BACKENDS, reason="PostgreSQL only (MAMORI_TEST_BACKENDS)")

CUSTOMER_TABLES = (
    "customers",
    "contact_points",
    "customer_attributes",
    "activities",
    "provenance",
    "customer_purposes",
)


@pytest.fixture
def backend() -> str:
    return "postgresql"


@pytest.fixture
def actors(runtime):
    return seed_basics(runtime)


@pytest.fixture
def two_reps(runtime, actors):
    mine = make_customer(
        runtime, actors["sato"], name="佐藤 一郎", email="ichiro@example.jp", phone="090-1111-2222"
    )
    theirs = make_customer(
        runtime, actors["suzuki"], name="鈴木 次郎", email="jiro@example.jp", phone="090-3333-4444"
    )
    return mine, theirs


def _ids(ctx, table: str) -> set[str]:
    column = "id" if table == "customers" else "customer_id"
    return {str(r[0]) for r in ctx.session.execute(text(f"SELECT {column} FROM {table}"))}


def test_the_app_role_is_no_superuser_cannot_bypass_rls_and_owns_no_table(runtime):
    for engine in (runtime.data_engine, runtime.keystore_engine, runtime.audit_engine):
        facts = role_facts(engine)
        assert facts is not None
        assert (facts.name, facts.superuser, facts.bypass_rls, facts.owned_tables) == (
            "mamori_app",
            False,
            False,
            0,
        )
    # …while the tables exist and belong to the owner role `init` ran as (MAMORI_MIGRATION_*_URL): the data store's
    # migrations, the keystore's and the audit log's schemas
    for engine, table in (
        (runtime.data_engine, "customers"),
        (runtime.keystore_engine, "data_keys"),
        (runtime.audit_engine, "audit_entries"),
    ):
        with engine.connect() as conn:
            owners = set(
                conn.execute(
                    text("SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'")
                ).scalars()
            )
            assert conn.execute(text("SELECT to_regclass(:t) IS NOT NULL"), {"t": table}).scalar()
        assert owners == {"mamori_owner"}


def test_every_customer_table_forces_row_level_security(runtime):
    with runtime.data_engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class "
                "WHERE relkind = 'r' AND relname = ANY(:t)"
            ),
            {"t": list(CUSTOMER_TABLES)},
        ).all()
    assert {r[0]: (r[1], r[2]) for r in rows} == {t: (True, True) for t in CUSTOMER_TABLES}


def test_every_table_holding_a_customers_rows_is_covered():
    """A new child table of customers (a customer_id foreign key) in the customers slice gets a policy too. Two
    exceptions, both read by duplicate checks that must find a person among all customers: the blind index (HMAC
    tokens, no value in clear, also read by the rights intake) and the customer numbers of issue 19
    (``customer_external_ids``: the blind indexer's digest per issuing system — unique per system, so an import by a
    sales rep must see another rep's number to report it rather than fail — and the number sealed under the person's
    own data key, decrypted only by the read path after its policy decision)."""
    from mamori.customers import models

    tables = [
        v.__table__
        for v in vars(models).values()
        if getattr(v, "__module__", "") == models.__name__ and hasattr(v, "__table__")
    ]
    children = {t.name for t in tables if any(fk.column.table.name == "customers" for fk in t.foreign_keys)}
    assert children - {"blind_index", "customer_external_ids"} == set(CUSTOMER_TABLES) - {"customers"}


def test_a_reps_transaction_sees_no_row_of_another_reps_customers_even_by_raw_sql(runtime, actors, two_reps):
    mine, theirs = two_reps
    with runtime.transaction(actors["sato"], readonly=True) as ctx:
        assert _ids(ctx, "customers") == {mine}
        for table in CUSTOMER_TABLES[1:]:
            assert theirs not in _ids(ctx, table), table
        assert (
            ctx.session.execute(text("SELECT count(*) FROM customers WHERE id = :i"), {"i": theirs}).scalar()
            == 0
        )
    with runtime.transaction(actors["sato"]) as ctx:  # and cannot change them either
        hit = ctx.session.execute(text("UPDATE customers SET team = 'x' WHERE id = :i"), {"i": theirs})
        assert hit.rowcount == 0
        hit = ctx.session.execute(text("DELETE FROM contact_points WHERE customer_id = :i"), {"i": theirs})
        assert hit.rowcount == 0
    for who in ("support", "po", "system"):  # scope all: every customer
        with runtime.transaction(actors[who], readonly=True) as ctx:
            assert {mine, theirs} <= _ids(ctx, "customers")
            assert {mine, theirs} <= _ids(ctx, "contact_points")
    with runtime.transaction(actors["suzuki"], readonly=True) as ctx:
        assert _ids(ctx, "customers") == {theirs}


def test_the_scope_facts_of_a_hidden_customer_name_its_owner_and_nothing_else(runtime, actors, two_reps):
    """What the policy engine needs to audit an out-of-scope attempt as R-23-2 (not "not found") on PostgreSQL."""
    from mamori.kernel.db import hidden_customer_scope

    mine, theirs = two_reps
    with runtime.transaction(actors["sato"], readonly=True) as ctx:
        assert hidden_customer_scope(ctx.session, theirs) == (actors["suzuki"].id, "west", False)
        assert hidden_customer_scope(ctx.session, "0" * 32) is None
        assert _ids(ctx, "customers") == {mine}  # the function lifted the scope inside itself only


def test_a_lookup_authorised_over_all_customers_lifts_the_scope_for_its_block_only(runtime, actors, two_reps):
    from mamori.kernel.runtime import all_rows

    mine, theirs = two_reps
    with runtime.transaction(actors["sato"], readonly=True) as ctx:
        with all_rows(ctx):
            assert {mine, theirs} <= _ids(ctx, "customers")
        assert _ids(ctx, "customers") == {mine}


def test_a_rep_cannot_hand_a_customer_row_to_another_rep(runtime, actors, two_reps):
    mine, _ = two_reps
    with pytest.raises(DBAPIError, match="row-level security"):
        with runtime.transaction(actors["sato"]) as ctx:
            ctx.session.execute(
                text("UPDATE customers SET owner_id = :o WHERE id = :i"),
                {"o": actors["suzuki"].id, "i": mine},
            )


def test_the_audit_log_is_append_only_and_the_schema_closed_to_the_app(runtime, two_reps):
    for statement in (
        "UPDATE audit_entries SET action = action",
        "DELETE FROM audit_entries",
        "DELETE FROM audit_checkpoints",
        "TRUNCATE audit_entries",
    ):
        with pytest.raises(DBAPIError, match="permission denied"):
            with runtime.audit_engine.begin() as conn:
                conn.execute(text(statement))
    with runtime.audit_engine.connect() as conn:  # reading and appending stay possible
        assert conn.execute(text("SELECT count(*) FROM audit_entries")).scalar() > 0
    for statement in (
        "CREATE TABLE t22 (id int)",
        "DROP TABLE customers",
        "ALTER TABLE customers DISABLE ROW LEVEL SECURITY",
    ):
        with pytest.raises(DBAPIError, match="permission denied|must be owner"):
            with runtime.data_engine.begin() as conn:
                conn.execute(text(statement))


def test_production_refuses_to_start_as_an_unsafe_role_with_one_line(
    runtime, settings_factory, pg_server, caplog
):
    from mamori.kernel.runtime import Runtime

    superuser = runtime.data_engine.url.set(username="mamori").render_as_string(hide_password=False)
    with pytest.raises(ConfigurationError) as refused:
        Runtime(settings_factory(database_url=superuser, production=True))
    line = refused.value.one_line("en")
    assert refused.value.code == "database_role_unsafe"
    assert "\n" not in line and "MAMORI_DATABASE_URL" in line and "superuser" in line and "BYPASSRLS" in line
    # a demo starts, warned
    with caplog.at_level(logging.WARNING, logger="mamori.db"):
        rt = Runtime(settings_factory(database_url=superuser))
        rt.close()
    assert any("production mode would refuse" in r.getMessage() for r in caplog.records)
    # the table owner is refused too (owns tables), the app role starts in production
    owner = runtime.data_engine.url.set(username="mamori_owner")
    engine = make_engine(owner.render_as_string(hide_password=False))
    try:
        with pytest.raises(ConfigurationError, match="owns"):
            check_app_role(engine, "MAMORI_DATABASE_URL", production=True)
    finally:
        engine.dispose()
    Runtime(settings_factory(production=True)).close()
