from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Select, select

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
