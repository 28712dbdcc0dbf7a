"""Helpers shared by the inventory use cases: authorisation and list columns."""

from __future__ import annotations

from mamori.kernel.auditing import authorise
from mamori.kernel.context import Context
from mamori.kernel.policy import Action, Resource


def can_read(ctx: Context) -> None:
    authorise(ctx, Action.INVENTORY_READ, Resource(kind="inventory"))


def can_keep_locations(ctx: Context) -> None:
    authorise(ctx, Action.INVENTORY_LOCATIONS, Resource(kind="inventory"))


def can_tag(ctx: Context) -> None:
    authorise(ctx, Action.INVENTORY_TAG, Resource(kind="inventory"))


def split(value: str | None) -> list[str]:
    return [v for v in (value or "").split(",") if v]


def join(values: list[str]) -> str:
    return ",".join(dict.fromkeys(values))
