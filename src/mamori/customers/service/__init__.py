"""Use cases of the customers slice (Context first; flush, never commit)."""

from mamori.customers.service import notices
from mamori.customers.service.core import (
    add_activity,
    add_attribute,
    create,
    find,
    get,
    list_page,
    update,
)
from mamori.customers.service.importing import ImportReport

__all__ = [
    "ImportReport",
    "add_activity",
    "add_attribute",
    "create",
    "find",
    "get",
    "list_page",
    "notices",
    "update",
]
