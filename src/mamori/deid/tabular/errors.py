"""Errors of the tabular de-identification slice (all MamoriError subclasses; messages carry no record values)."""

from __future__ import annotations

from mamori.kernel.errors import ValidationFailed


class HierarchyError(ValidationFailed):
    code = "deid_hierarchy"


class DatasetError(ValidationFailed):
    code = "deid_dataset"


class NoSolution(ValidationFailed):
    """No transformation of the lattice satisfies the privacy models within the suppression limit."""

    code = "deid_no_solution"
