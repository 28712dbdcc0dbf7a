"""What ``mamori text`` keeps however personal it looks (issue 23): the company's own numbers and name (company
settings: MAMORI_OPERATOR_PHONES, MAMORI_OPERATOR_NAME) and every registered counterparty's name and phone
(the provision slice's registry, read through ``mamori.provision.queries``)."""

from __future__ import annotations

from mamori.deid.text.detect.keep import KeepList
from mamori.kernel.context import Context
from mamori.kernel.settings import Settings
from mamori.provision import queries as provision_queries


def keep_from_settings(settings: Settings) -> KeepList:
    """The company's own numbers and name from the settings alone (no database: the stand-alone CLI)."""
    phones = [p for p in (settings.operator_phones or "").split(",") if p.strip()]
    names = [settings.operator_name] if settings.operator_name else []
    return KeepList.of(phones, names)


def keep_list(ctx: Context) -> KeepList:
    """The settings' numbers and name plus every counterparty's name and phone (needs PROVISION_READ)."""
    rows = provision_queries.counterparty_names_and_phones(ctx)
    registry = KeepList.of([p for _n, p in rows if p], [n for n, _p in rows])
    return keep_from_settings(ctx.runtime.settings) | registry
