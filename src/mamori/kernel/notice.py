"""The published notice (公表事項, R-32-1) as the kernel knows it: which versions exist.

The notice slice keeps the versions; a slice below it (rights: the person's request forms) needs to know only
whether the version a form showed before submission exists (R-21-2). The notice slice registers a
:class:`NoticeVersions` at start-up (``mamori.composition.register_all``); with none registered no version exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from mamori.kernel.context import Context


@dataclass(frozen=True)
class NoticeVersion:
    version: int
    published_at: datetime


class NoticeVersions(Protocol):
    def current(self, ctx: Context) -> NoticeVersion | None:
        """The version in force (the latest published), or None when nothing is published yet."""
        ...

    def get(self, ctx: Context, version: int) -> NoticeVersion | None:
        """A published version, or None."""
        ...


_provider: NoticeVersions | None = None


def register_notice_versions(provider: NoticeVersions | None) -> None:
    global _provider
    _provider = provider


def current_notice(ctx: Context) -> NoticeVersion | None:
    return _provider.current(ctx) if _provider is not None else None


def notice_version(ctx: Context, version: int) -> NoticeVersion | None:
    return _provider.get(ctx, version) if _provider is not None else None
