"""Fixtures of the rights tests: a published notice (the public intake needs the version its form showed,
R-21-2)."""

from __future__ import annotations

from tests.rights.notice_support import published_notice

__all__ = ["published_notice"]
