"""Composition helpers: register every slice with the kernel registries, resolve actors, mount optional apps."""

from __future__ import annotations

import typer

from mamori import deid
from mamori.consent import service as consent_service
from mamori.customers import sources as customers_sources
from mamori.deid import text as deid_text
from mamori.deid.tabular import KeySource
from mamori.deid.tabular import cli as tabular_cli
from mamori.deid.text import cli as text_cli
from mamori.kernel.context import SYSTEM_ACTOR, Actor, Role
from mamori.kernel.runtime import Runtime, open_runtime
from mamori.processors import service as processors_service
from mamori.provision import service as provision_service
from mamori.rights import service as rights_service
from mamori.staff import service as staff_service
from mamori.staff.models import StaffUser
from mamori.staff.schemas import StaffCreate

_registered = False


def register_all() -> None:
    global _registered
    if _registered:
        return
    customers_sources.register()
    consent_service.register()
    provision_service.register()
    processors_service.register()
    rights_service.register()
    deid_text.register()
    _registered = True


def resolve_actor(runtime: Runtime, username: str) -> Actor:
    with runtime.sessions() as session:
        return staff_service.actor_for(session, username)


def ensure_admin(runtime: Runtime) -> bool:
    """The first administrator, created by `mamori init` when there is no staff user yet."""
    with runtime.transaction(SYSTEM_ACTOR) as ctx:
        if ctx.session.query(StaffUser.id).first() is not None:
            return False
        staff_service.add(ctx, StaffCreate(username="admin", display_name="管理者", role=Role.ADMIN))
        return True


def _keystore_key_source() -> KeySource:
    """削除情報等 (pseudonymisation keys) live in the keystore, wrapped by the KEK (R-41-2)."""
    runtime = open_runtime()
    runtime.init()  # a new store gets its key directory and KEK; an existing one must have its KEK (ADR 0007)
    return runtime.keystore  # type: ignore[return-value]


def mount_deid(app: typer.Typer) -> None:
    """Mount the deid command groups (text PII and tabular de-identification) with the real keystore."""
    tabular_cli.key_source_factory = _keystore_key_source
    app.add_typer(text_cli.app, name="text")
    app.add_typer(tabular_cli.app, name="deid")


__all__ = ["SYSTEM_ACTOR", "Actor", "deid", "ensure_admin", "mount_deid", "register_all", "resolve_actor"]
