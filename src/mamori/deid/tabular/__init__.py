"""Tabular de-identification: 仮名加工情報 (R-41-*), 匿名加工情報 (R-43-*) and re-identification risk.

The public names are loaded on first use (PEP 562), so importing a submodule such as ``cli`` or ``options`` does
not import polars, numpy or the engine.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mamori.deid.tabular.anonymise import AnonymisationResult, anonymise
    from mamori.deid.tabular.engine import PrivacyModel, brute_force, encode, search
    from mamori.deid.tabular.hierarchy import (
        Hierarchy,
        address_hierarchy,
        age_hierarchy,
        builtin_hierarchy,
        date_hierarchy,
        numeric_hierarchy,
        postal_hierarchy,
        prefecture_hierarchy,
        read_csv_hierarchy,
    )
    from mamori.deid.tabular.policy import (
        check_anonymised_collation,
        check_pseudonymised_contact,
        check_pseudonymised_join,
        check_pseudonymised_provision,
    )
    from mamori.deid.tabular.pseudonymise import (
        InMemoryKeySource,
        KeySource,
        PseudonymisationResult,
        pseudonymise,
    )
    from mamori.deid.tabular.risk import RiskReport, assess

_WHERE = {
    "AnonymisationResult": "anonymise",
    "anonymise": "anonymise",
    "PrivacyModel": "engine",
    "brute_force": "engine",
    "encode": "engine",
    "search": "engine",
    "Hierarchy": "hierarchy",
    "address_hierarchy": "hierarchy",
    "age_hierarchy": "hierarchy",
    "builtin_hierarchy": "hierarchy",
    "date_hierarchy": "hierarchy",
    "numeric_hierarchy": "hierarchy",
    "postal_hierarchy": "hierarchy",
    "prefecture_hierarchy": "hierarchy",
    "read_csv_hierarchy": "hierarchy",
    "check_anonymised_collation": "policy",
    "check_pseudonymised_contact": "policy",
    "check_pseudonymised_join": "policy",
    "check_pseudonymised_provision": "policy",
    "InMemoryKeySource": "pseudonymise",
    "KeySource": "pseudonymise",
    "PseudonymisationResult": "pseudonymise",
    "pseudonymise": "pseudonymise",
    "RiskReport": "risk",
    "assess": "risk",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


class _Package(types.ModuleType):
    """``anonymise`` and ``pseudonymise`` are both a submodule and the function it defines; importing the submodule
    binds the package attribute to the module, so the function is put back (as the eager imports used to)."""

    def __getattribute__(self, name: str) -> Any:
        value = super().__getattribute__(name)
        if name in _SHADOWED and isinstance(value, types.ModuleType):
            value = getattr(value, name)
            setattr(self, name, value)
        return value


_SHADOWED = frozenset({"anonymise", "pseudonymise"})
sys.modules[__name__].__class__ = _Package


__all__ = [
    "AnonymisationResult",
    "Hierarchy",
    "InMemoryKeySource",
    "KeySource",
    "PrivacyModel",
    "PseudonymisationResult",
    "RiskReport",
    "address_hierarchy",
    "age_hierarchy",
    "anonymise",
    "assess",
    "brute_force",
    "builtin_hierarchy",
    "check_anonymised_collation",
    "check_pseudonymised_contact",
    "check_pseudonymised_join",
    "check_pseudonymised_provision",
    "date_hierarchy",
    "encode",
    "numeric_hierarchy",
    "postal_hierarchy",
    "prefecture_hierarchy",
    "pseudonymise",
    "read_csv_hierarchy",
    "search",
]
