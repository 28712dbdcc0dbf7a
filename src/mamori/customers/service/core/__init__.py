"""Create, read, find, list and update customers — every read purpose-checked, masked and audited."""

from __future__ import annotations

from mamori.customers.service.core.bulk import bulk_create as bulk_create
from mamori.customers.service.core.changes import _NEVER_IN_NOTES as _NEVER_IN_NOTES
from mamori.customers.service.core.changes import _NOTE_TYPE_CATEGORIES as _NOTE_TYPE_CATEGORIES
from mamori.customers.service.core.changes import add_activity as add_activity
from mamori.customers.service.core.changes import add_attribute as add_attribute
from mamori.customers.service.core.changes import update as update
from mamori.customers.service.core.common import GDPR_ORIGINS as GDPR_ORIGINS
from mamori.customers.service.core.common import SENSITIVE_BASES as SENSITIVE_BASES
from mamori.customers.service.core.common import _check as _check
from mamori.customers.service.core.common import _dec as _dec
from mamori.customers.service.core.common import _enc as _enc
from mamori.customers.service.core.common import _grant as _grant
from mamori.customers.service.core.common import _load as _load
from mamori.customers.service.core.common import _not_found as _not_found
from mamori.customers.service.core.common import _sensitive_guard as _sensitive_guard
from mamori.customers.service.core.common import _validate_purposes as _validate_purposes
from mamori.customers.service.core.common import reindex_name as reindex_name
from mamori.customers.service.core.common import resources as resources
from mamori.customers.service.core.create import INSERT_ORDER as INSERT_ORDER
from mamori.customers.service.core.create import TABLES as TABLES
from mamori.customers.service.core.create import create as create
from mamori.customers.service.core.create import customer_rows as customer_rows
from mamori.customers.service.core.create import insert_rows as insert_rows
from mamori.customers.service.core.reads import _fields_for as _fields_for
from mamori.customers.service.core.reads import _summaries as _summaries
from mamori.customers.service.core.reads import _view as _view
from mamori.customers.service.core.reads import find as find
from mamori.customers.service.core.reads import get as get
from mamori.customers.service.core.reads import list_page as list_page
