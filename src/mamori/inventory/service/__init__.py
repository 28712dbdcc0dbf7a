"""Use cases of the inventory slice (Context first; flush, never commit).

Modules: locations (R-23-7, R-28-4), items (the data dictionary, R-2.3-1, G-6), ropa (G-30, and the foreign
countries for the published notice, R-23-7 / R-32-1).
"""

from __future__ import annotations

from mamori.inventory.service.items import dictionary, list_items, mismatch_notes, tag_item
from mamori.inventory.service.locations import (
    add_location,
    ensure_location,
    list_locations,
    retire_location,
    show_location,
    update_location,
)
from mamori.inventory.service.ropa import (
    countries,
    countries_csv,
    countries_markdown,
    ropa,
    ropa_csv,
    ropa_markdown,
)

__all__ = [
    "add_location",
    "countries",
    "countries_csv",
    "countries_markdown",
    "dictionary",
    "ensure_location",
    "list_items",
    "list_locations",
    "mismatch_notes",
    "retire_location",
    "ropa",
    "ropa_csv",
    "ropa_markdown",
    "show_location",
    "tag_item",
    "update_location",
]
