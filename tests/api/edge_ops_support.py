"""Helpers shared by the edge-ops tests: the environment a subprocess needs to open a test's store, and an
engine as the store's owner (on PostgreSQL the app role may not alter what a test deliberately breaks)."""

from __future__ import annotations

import os
from typing import Any

from sqlalchemy.engine import Engine

_OWNER_FIELDS = {
    "data": ("migration_database_url", "resolved_database_url"),
    "keystore": ("migration_keystore_url", "resolved_keystore_url"),
    "audit": ("migration_audit_url", "resolved_audit_url"),
}


def store_env(rt: Any, **extra: str) -> dict[str, str]:
    """The environment of a ``mamori`` subprocess over ``rt``'s store (no other MAMORI_* leaks in, but the owner
    URLs a PostgreSQL test sets for migrations do)."""
    s = rt.settings
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("MAMORI_") or k.startswith("MAMORI_MIGRATION_")
    }
    env.update(
        {
            "MAMORI_HOME": str(s.home_path),
            "MAMORI_DATABASE_URL": s.resolved_database_url(),
            "MAMORI_KEYSTORE_URL": s.resolved_keystore_url(),
            "MAMORI_AUDIT_URL": s.resolved_audit_url(),
            "MAMORI_KEK": s.kek or "",
            "MAMORI_KEY_DIR": str(s.resolved_key_dir()),
            "PYTHONIOENCODING": "utf-8",
            "COLUMNS": "200",
        }
    )
    env.update(extra)
    return env


def owner_url(rt: Any, part: str) -> str:
    owner_field, resolved = _OWNER_FIELDS[part]
    return str(getattr(rt.settings, owner_field, None) or getattr(rt.settings, resolved)())


def owner_engine(rt: Any, part: str) -> Engine:
    from mamori.kernel.db import make_engine

    return make_engine(owner_url(rt, part))
