"""Tabular de-identification: 仮名加工情報 (R-41-*), 匿名加工情報 (R-43-*) and re-identification risk."""

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
