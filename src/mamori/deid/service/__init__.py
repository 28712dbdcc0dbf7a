"""The deid slice's use cases, each with a Context first: authorisation (R-23-2, R-41-2), a declared purpose,
one audit entry per run without values (``core``); the register of datasets, the dataset guard (R-41-5, R-43-5)
and provision (R-41-4, R-43-4) (``datasets``)."""

from __future__ import annotations

from mamori.deid.service.core import (
    ANONYMISED_JA,
    CUSTOMER_IDENTITY_COLUMNS,
    KEY_PREFIX,
    MANIFEST_SUFFIX,
    AnonymiseOutcome,
    PseudonymiseOutcome,
    _sha256,
    anonymise,
    create_key,
    destroy_key,
    key_exists,
    pseudonymise,
    risk,
    write_table,
)
from mamori.deid.service.datasets import (
    DATASET_KIND_JA,
    MAX_LIST,
    ProvideOutcome,
    dataset_guard,
    dataset_kind,
    list_datasets,
    provide,
    register,
)
from mamori.deid.tabular.policy import (
    check_anonymised_collation,
    check_pseudonymised_contact,
    check_pseudonymised_join,
)

__all__ = [
    "ANONYMISED_JA",
    "CUSTOMER_IDENTITY_COLUMNS",
    "DATASET_KIND_JA",
    "KEY_PREFIX",
    "MANIFEST_SUFFIX",
    "MAX_LIST",
    "AnonymiseOutcome",
    "ProvideOutcome",
    "PseudonymiseOutcome",
    "_sha256",
    "anonymise",
    "check_anonymised_collation",
    "check_pseudonymised_contact",
    "check_pseudonymised_join",
    "create_key",
    "dataset_guard",
    "dataset_kind",
    "destroy_key",
    "key_exists",
    "list_datasets",
    "provide",
    "pseudonymise",
    "register",
    "risk",
    "write_table",
]
