"""The domain slices, in DESIGN order: a slice may import the slices before it, never after (DESIGN.md).

This tuple is the one list the architecture is generated from: ``scripts/contracts.py`` writes the
import-linter contracts in ``pyproject.toml`` from it. Adding a slice = add its name here, run
``python scripts/contracts.py``, register its permissions and sources in ``mamori.composition.register_all``
(docs/architecture.md, "Adding a slice"). This module imports nothing.
"""

SLICES: tuple[str, ...] = (
    "staff",
    "purposes",
    "customers",
    "consent",
    "provision",
    "processors",
    "rights",
    "deid",
    "inventory",
    "notice",
    "contact",
    "incidents",
    "lifecycle",
    "analytics",
    "monitoring",
)

# What another (later) slice may import from a slice; every other module of a slice (api, web, cli, jobs, and
# anything else, e.g. staff.passwords) is private to it.
PUBLIC_FACE: tuple[str, ...] = ("models", "schemas", "service", "queries", "sources", "permissions")
