"""Every SELECT of the notice slice, named (issue 12: one shape for every slice).

The published versions (``published_notices``) and what the notice reads from the provision registry (the joint
uses and their joint users' names, R-27-2 (c)). None of these tables holds a customer's data.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import Select, func, select

from mamori.notice.models import PublishedNotice
from mamori.provision.models import Counterparty, JointUseDeclaration


def latest() -> Select[PublishedNotice]:
    """The version in force: the latest published (one row at most)."""
    return select(PublishedNotice).order_by(PublishedNotice.version.desc()).limit(1)


def versions() -> Select[PublishedNotice]:
    """Every published version, newest first."""
    return select(PublishedNotice).order_by(PublishedNotice.version.desc())


def max_version() -> Select[int | None]:
    """The highest version number published (None when nothing is)."""
    return select(func.max(PublishedNotice.version))


def latest_stamp() -> Select[int, datetime]:
    """The version in force's number and date only (the kernel's NoticeVersions, R-21-2)."""
    return (
        select(PublishedNotice.version, PublishedNotice.published_at)
        .order_by(PublishedNotice.version.desc())
        .limit(1)
    )


def version_stamp(version: int) -> Select[int, datetime]:
    """One version's number and date only (the kernel's NoticeVersions, R-21-2)."""
    return select(PublishedNotice.version, PublishedNotice.published_at).where(
        PublishedNotice.version == version
    )


def joint_uses() -> Select[JointUseDeclaration]:
    """Every declared joint use, by code (R-27-2 (c))."""
    return select(JointUseDeclaration).order_by(JointUseDeclaration.code)


def counterparty_names(ids: Collection[str]) -> Select[str, str]:
    """The names of these joint users (businesses, never a customer)."""
    return select(Counterparty.id, Counterparty.name).where(Counterparty.id.in_(list(ids)))
