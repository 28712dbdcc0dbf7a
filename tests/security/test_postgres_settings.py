"""Issue 17 item 5 without a server: the grants the app role gets, the owner URLs' settings, the row scope each actor
sets at the database, and URL checking in-process (the CLI's view is tests/security/test_postgres_bad_urls.py)."""

from __future__ import annotations

import pytest

from mamori.kernel.context import SYSTEM_ACTOR, Actor, ActorKind, Role
from mamori.kernel.db import check_url, grant_sql, migration_urls, provisioning_sql, quote_ident
from mamori.kernel.errors import ConfigurationError


def test_the_app_role_may_only_read_and_append_to_the_audit_log():
    sql = grant_sql(
        "mamori_app", ["customers", "audit_entries", "audit_checkpoints", "audit_head", "alembic_version"]
    )
    assert 'GRANT SELECT, INSERT ON TABLE "audit_entries" TO "mamori_app"' in sql
    assert 'GRANT SELECT, INSERT ON TABLE "audit_checkpoints" TO "mamori_app"' in sql
    assert 'GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE "customers" TO "mamori_app"' in sql
    assert 'GRANT SELECT ON TABLE "alembic_version" TO "mamori_app"' in sql
    for line in sql:
        if '"audit_entries"' in line or '"audit_checkpoints"' in line:
            assert "UPDATE" not in line and "DELETE" not in line and "TRUNCATE" not in line, line
        assert "ALL PRIVILEGES" not in line and "CREATE" not in line, line


def test_role_and_table_names_are_plain_identifiers_only():
    for bad in ('app"; DROP TABLE customers; --', "app role", "", "1app"):
        with pytest.raises(ConfigurationError):
            quote_ident(bad)
    with pytest.raises(ConfigurationError):
        grant_sql("mamori_app; DROP ROLE x", ["customers"])
    sql = provisioning_sql()
    assert "NOSUPERUSER NOBYPASSRLS" in sql and "PASSWORD :'app_password'" in sql


def test_owner_urls_come_from_the_settings(monkeypatch):
    from mamori.kernel.settings import Settings

    monkeypatch.setenv("MAMORI_MIGRATION_DATABASE_URL", "postgresql+psycopg://owner@db/mamori")
    monkeypatch.delenv("MAMORI_MIGRATION_KEYSTORE_URL", raising=False)
    monkeypatch.setenv("MAMORI_MIGRATION_AUDIT_URL", "postgresql+psycopg://owner@db/audit")
    assert migration_urls(Settings()) == {
        "data": "postgresql+psycopg://owner@db/mamori",
        "keystore": None,
        "audit": "postgresql+psycopg://owner@db/audit",
    }


def test_a_bad_owner_url_is_one_line_naming_its_setting(settings_factory, monkeypatch, tmp_path):
    from mamori.kernel.runtime import Runtime

    bad_url = (
        "postgresql://owner:pw@[::1"  # pragma: allowlist secret - a malformed URL with a made-up password
    )
    settings = settings_factory(migration_database_url=bad_url)
    with pytest.raises(ConfigurationError) as bad:
        Runtime(settings)
    assert "MAMORI_MIGRATION_DATABASE_URL" in bad.value.one_line("en") and "pw" not in bad.value.one_line(
        "en"
    )


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("foo://x/y", "database_url_unsupported"),
        ("postgresql+asyncpg://u@h/db", "database_url_unsupported"),
        ("not a url", "database_url_malformed"),
        ("postgresql+psycopg://u@h/", "database_url_malformed"),
        ("sqlite:////nonexistent-mamori-dir/x.db", "database_dir_missing"),
    ],
)
def test_check_url_names_the_problem(url, code):
    with pytest.raises(ConfigurationError) as bad:
        check_url(url, "MAMORI_AUDIT_URL")
    assert bad.value.code == code and bad.value.message_en.startswith("MAMORI_AUDIT_URL: ")


def test_each_actor_sets_the_row_scope_its_customer_grant_has():
    from mamori import composition
    from mamori.kernel.runtime import db_row_scope

    composition.register_all()
    rep = Actor(ActorKind.STAFF, "a" * 32, "sato", Role.SALES, "east")
    assert db_row_scope(rep) == {"scope": "own", "staff": "a" * 32, "team": "east"}
    for actor in (
        Actor(ActorKind.STAFF, "b" * 32, "po", Role.PRIVACY_OFFICER),
        Actor(ActorKind.STAFF, "c" * 32, "support", Role.SUPPORT),
        Actor(ActorKind.PERSON, "r1", "person", Role.PERSON),
        SYSTEM_ACTOR,
    ):
        assert db_row_scope(actor)["scope"] == "all", actor
