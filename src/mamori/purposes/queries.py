from __future__ import annotations

import functools
from collections.abc import Sequence

from sqlalchemy import ScalarSelect, Select, String, cast, func, select

from mamori.purposes.models import Purpose, PurposeVersion


def current(codes: Sequence[str] | None = None) -> Select[Purpose, PurposeVersion]:
    stmt = (
        select(Purpose, PurposeVersion)
        .join(
            PurposeVersion,
            (PurposeVersion.purpose_id == Purpose.id) & (PurposeVersion.version == Purpose.current_version),
        )
        .order_by(Purpose.code)
    )
    if codes is not None:
        stmt = stmt.where(Purpose.code.in_(list(codes)))
    return stmt


def by_code(code: str) -> Select[Purpose]:
    return select(Purpose).where(Purpose.code == code)


def versions(purpose_id: int) -> Select[PurposeVersion]:
    return (
        select(PurposeVersion).where(PurposeVersion.purpose_id == purpose_id).order_by(PurposeVersion.version)
    )


@functools.cache
def catalog_stamp() -> ScalarSelect[str]:
    """A value that changes whenever the catalog changes: purposes are only added, revised (a new version raises
    ``current_version``) or retired — never edited in place or deleted — so each change raises one of the three
    counts. Selected as a column of another statement so that checking it costs no round trip. One object per
    process (statements that include it are built and compiled once)."""
    return select(
        cast(func.count(Purpose.id), String)
        + ":"
        + cast(func.coalesce(func.sum(Purpose.current_version), 0), String)
        + ":"
        + cast(func.count(Purpose.retired_at), String)
    ).scalar_subquery()
