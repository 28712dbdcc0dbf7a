"""Rewrapping every key under the current KEK version (Keystore.rotate; see its docstring)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    bindparam,
    select,
    update,
)

from mamori.kernel.crypto.keystore.helpers import (
    RotationReport,
)
from mamori.kernel.crypto.keystore.tables import (
    _DEK_CONTEXT,
    _SYS_CONTEXT,
    DATA_KEYS,
    SYSTEM_KEYS,
)
from mamori.kernel.errors import ConfigurationError, Conflict, IntegrityFailure

if TYPE_CHECKING:
    from mamori.kernel.crypto.keystore.store import Keystore


def rotate(
    keystore: Keystore,
    progress: Callable[[int, int], None] | None = None,
    *,
    batch_size: int = 1000,
    destroy_old: bool = True,
    drop_unreadable: bool = False,
) -> RotationReport:
    """Rewrap every key not on the current KEK version; the body of :meth:`Keystore.rotate`."""
    to_version = keystore.check_kek()
    total = keystore.count_on_old_versions(to_version)
    done = 0
    unreadable: list[str] = []
    unreadable_system = 0
    if progress is not None:
        progress(done, total)
    for table, ident, prefix in (
        (DATA_KEYS, DATA_KEYS.c.subject_id, _DEK_CONTEXT),
        (SYSTEM_KEYS, SYSTEM_KEYS.c.name, _SYS_CONTEXT),
    ):
        stmt = (
            update(table)
            .where(ident == bindparam("b_ident"), table.c.kek_version == bindparam("b_old"))
            .values(kek_version=bindparam("b_version"), wrapped=bindparam("b_wrapped"))
        )
        after = ""
        while True:
            with keystore.engine.begin() as conn:
                rows = conn.execute(
                    select(ident, table.c.kek_version, table.c.wrapped)
                    .where(table.c.kek_version != to_version, ident > after)
                    .order_by(ident)
                    .limit(max(1, batch_size))
                ).all()
                if not rows:
                    break
                after = str(rows[-1][0])
                opened: list[tuple[str, int, bytes, bytes]] = []
                for name, old, blob in rows:
                    context = prefix + str(name).encode("utf-8")
                    try:
                        key = keystore.kek.unwrap(int(old), bytes(blob), context=context)
                    except (IntegrityFailure, ConfigurationError):
                        if table is DATA_KEYS:
                            unreadable.append(str(name))
                        else:
                            unreadable_system += 1
                        continue
                    opened.append((str(name), int(old), context, key))
                if opened:
                    versions, blobs = keystore._wrap_all([o[3] for o in opened], [o[2] for o in opened])
                    if any(v != to_version for v in versions):
                        raise Conflict(
                            "再ラップ中に KEK の現行版が変わりました。もう一度実行してください。",
                            "The current KEK version changed during rotation; run it again.",
                            code="kek_changed",
                        )
                    params: list[dict[str, Any]] = [
                        {"b_ident": name, "b_old": old, "b_version": version, "b_wrapped": wrapped}
                        for (name, old, _, _), version, wrapped in zip(opened, versions, blobs, strict=True)
                    ]
                    conn.execute(stmt, params)
            done += len(rows)
            if progress is not None:
                progress(done, max(total, done))
    dropped = 0
    if unreadable and drop_unreadable:
        dropped = keystore.destroy_data_keys(unreadable)
    remaining = keystore.count_on_old_versions(to_version)
    destroyed: list[int] = []
    destroy = getattr(keystore.kek, "destroy_version", None)
    if remaining == 0 and destroy_old and callable(destroy):
        for version in keystore.kek.versions():
            if version != to_version:
                destroy(version)
                destroyed.append(version)
        # A key wrapped by another process between the count and the destruction would be lost: recount,
        # so that the report shows it (non-zero) instead of hiding it.
        remaining = keystore.count_on_old_versions(to_version)
    keystore.checkpoint()
    return RotationReport(
        rewrapped=done - len(unreadable) - unreadable_system,
        to_version=to_version,
        remaining_on_old=remaining,
        destroyed_versions=destroyed,
        unreadable=len(unreadable) + unreadable_system,
        dropped=dropped,
    )
