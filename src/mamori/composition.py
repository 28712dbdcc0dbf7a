"""Composition helpers: register every slice with the kernel registries, resolve actors, mount optional apps."""

from __future__ import annotations

import importlib

import typer

from mamori.consent import service as consent_service
from mamori.kernel.context import SYSTEM_ACTOR, Actor, Role
from mamori.kernel.runtime import Runtime
from mamori.staff import service as staff_service
from mamori.staff.models import StaffUser
from mamori.staff.schemas import StaffCreate

_registered = False


def register_all() -> None:
    global _registered
    if _registered:
        return
    consent_service.register()
    try:
        text = importlib.import_module("mamori.deid.text")
        text.register()
    except (ImportError, AttributeError):
        pass
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


def mount_optional(app: typer.Typer) -> None:
    """Mount the deid command groups (text PII and tabular de-identification)."""
    for module, name in (("mamori.deid.text.cli", "text"), ("mamori.deid.tabular.cli", "deid")):
        try:
            sub = importlib.import_module(module)
        except ImportError:
            continue
        app.add_typer(sub.app, name=name)


__all__ = ["Actor", "SYSTEM_ACTOR", "ensure_admin", "mount_optional", "register_all", "resolve_actor"]
