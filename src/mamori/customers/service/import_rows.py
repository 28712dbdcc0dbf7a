"""The rows of many new customers as plain tuples, inserted with one ``executemany`` per table (issue 16).

The same rows as :func:`~mamori.customers.service.core.create.customer_rows` + ``insert_rows`` — the same tables,
columns, values, order and associated data — built without a dict per row and without SQLAlchemy's per-value
bind processing:

- row ids are random (as ``new_id``), handed out in ascending order along a batch so each index takes the batch's
  rows in key order;
- every personal value is sealed under the person's own data key (AES-256-GCM, associated data
  ``table|column|row id`` as :func:`~mamori.kernel.crypto.field_aad`, so reads decrypt it), the keys of a batch
  fetched once (``Keystore.aeads``) and each person's values sealed in one call (``seal_many_with``);
- blind-index digests are the indexer's (HMAC-SHA256 over ``kind || 0x00 || normal form`` with the keystore's
  "blind_index" key, truncated to the indexer's length); a phone is normalised from its E.164 form without
  parsing it again (``import_checks.normal_phone``);
- the statement of each table is compiled once per dialect; the time, the same for the whole batch, goes through
  its column type's bind processor once (``UtcDateTime``); the other values are ``str``,
  ``int``, ``bytes`` or ``None``, which need none (SQLite's ``LargeBinary`` wrapper is skipped: ``sqlite3`` stores
  ``bytes`` as the same BLOB). Any other per-row bind processor is still applied.

Everything runs on the session's connection, in the caller's transaction (services never commit).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import LargeBinary, Table, insert
from sqlalchemy.engine import Connection, Dialect

from mamori.customers.models import (
    BlindIndex,
    ContactPoint,
    Customer,
    CustomerAttribute,
    CustomerPurpose,
    Provenance,
)
from mamori.customers.schemas import SCALAR_FIELDS, CustomerCreate, ProvenanceIn
from mamori.customers.service.identity import KIND as IDENTITY
from mamori.customers.service.identity import identity_digest
from mamori.customers.service.import_checks import normal_phone
from mamori.kernel.context import Context
from mamori.kernel.crypto import field_aad, normalise_email, normalise_kana, normalise_name
from mamori.kernel.crypto.aead import seal_many_with
from mamori.kernel.db import new_id
from mamori.kernel.policy import Category

if TYPE_CHECKING:
    from mamori.kernel.runtime import Runtime

# The columns customer_rows gives (the same keys, so the same defaults for the columns left out), in the tables'
# order (the order SQLAlchemy binds them in; another order still works, permuted per row).
_COLUMNS: dict[str, tuple[str, ...]] = {
    "customers": (
        "id",
        "owner_id",
        "team",
        "origin",
        *(f"{f}_enc" for f in SCALAR_FIELDS),
        "version",
        "created_at",
        "updated_at",
        "confirmed_at",
        "import_job_id",
        "import_line",
    ),
    "contact_points": ("id", "customer_id", "kind", "label", "value_enc", "created_at"),
    "customer_attributes": ("id", "customer_id", "key", "category", "value_enc", "basis", "created_at"),
    "provenance": (
        "id",
        "customer_id",
        "method",
        "channel",
        "notice_version",
        "source",
        "acquired_at",
        "recorded_by",
        "import_job_id",
        "receipt_id",
        "purpose_limit",
        "acquisition",
        "campaign",
    ),
    "customer_purposes": ("customer_id", "purpose_code", "purpose_version", "method", "notified_at"),
    "blind_index": ("customer_id", "kind", "digest"),
}
_TABLES: dict[str, Table] = {
    "customers": Customer.__table__,  # type: ignore[dict-item]
    "contact_points": ContactPoint.__table__,  # type: ignore[dict-item]
    "customer_attributes": CustomerAttribute.__table__,  # type: ignore[dict-item]
    "provenance": Provenance.__table__,  # type: ignore[dict-item]
    "customer_purposes": CustomerPurpose.__table__,  # type: ignore[dict-item]
    "blind_index": BlindIndex.__table__,  # type: ignore[dict-item]
}
# Columns whose value is the same for a whole batch: bound once through the type's processor (see _Insert.bind).
_CONSTANT: dict[str, frozenset[str]] = {
    "customers": frozenset({"created_at", "updated_at", "confirmed_at"}),
    "contact_points": frozenset({"created_at"}),
    "customer_attributes": frozenset({"created_at"}),
    "provenance": frozenset({"acquired_at"}),
    "customer_purposes": frozenset({"notified_at"}),
    "blind_index": frozenset(),
}
INSERT_ORDER = tuple(_COLUMNS)  # parents first: customers, then the rows that refer to them


class _Insert:
    """One table's INSERT compiled for one dialect, with the bind processor of each column."""

    def __init__(self, name: str, dialect: Dialect) -> None:
        table = _TABLES[name]
        columns = _COLUMNS[name]
        compiled = insert(table).compile(dialect=dialect, column_keys=list(columns))
        self.sql = str(compiled)
        self.positional = bool(compiled.positional)
        order = tuple(compiled.positiontup or ()) if self.positional else columns
        if sorted(order) != sorted(columns):  # pragma: no cover - one bind per column given
            raise RuntimeError(f"unexpected binds for {name}: {order}")
        # positions of the bound columns in our tuples; None: the same order (the usual case)
        self.permutation = None if order == columns else tuple(columns.index(c) for c in order)
        self.columns = columns
        self.processors: dict[str, Any] = {}
        per_row: list[tuple[int, Any]] = []
        for i, col in enumerate(columns):
            column = table.c[col]
            proc = column.type.dialect_impl(dialect).bind_processor(dialect)  # as SQLAlchemy binds it
            self.processors[col] = proc
            if proc is None or col in _CONSTANT[name]:
                continue
            if isinstance(column.type, LargeBinary) and dialect.name == "sqlite":
                continue  # sqlite3 stores bytes and its Binary wrapper as the same BLOB
            per_row.append((i, proc))
        self.per_row = tuple(per_row)

    def bind(self, column: str, value: object) -> object:
        """``value`` as the driver takes it (a batch-wide value, bound once)."""
        proc = self.processors[column]
        return value if proc is None or value is None else proc(value)

    def execute(self, conn: Connection, rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        if self.per_row:
            procs = self.per_row
            fixed = []
            for row in rows:
                values = list(row)
                for i, proc in procs:
                    if values[i] is not None:
                        values[i] = proc(values[i])
                fixed.append(tuple(values))
            rows = fixed
        params: Sequence[Any]
        if not self.positional:
            params = [dict(zip(self.columns, r, strict=True)) for r in rows]
        elif self.permutation is not None:  # pragma: no cover - our tuples follow the tables' own order
            perm = self.permutation
            params = [tuple(row[i] for i in perm) for row in rows]
        else:
            params = rows
        conn.exec_driver_sql(self.sql, params)


@functools.lru_cache(maxsize=32)
def _inserts(dialect: Dialect) -> dict[str, _Insert]:
    return {name: _Insert(name, dialect) for name in INSERT_ORDER}


class Digests:
    """The blind indexer's digests (its own key and length, the same normal forms), computed without re-parsing
    phones. ``tests/customers/test_import_fast.py`` checks them against ``runtime.indexer.digest``."""

    def __init__(self, runtime: Runtime) -> None:
        self._indexer = runtime.indexer
        self._normal = {
            "email": normalise_email,
            "phone": normal_phone,
            "name": normalise_name,
            "kana": normalise_kana,
        }

    def digest(self, kind: str, value: str) -> bytes:
        normaliser = self._normal.get(kind)
        normal = normaliser(value) if normaliser is not None and isinstance(value, str) else ""
        if not normal:  # the indexer refuses it (unknown kind, not a string, nothing left): its own error
            return self._indexer.digest(kind, value)
        return self._indexer.digest_of_normal(kind, normal)


@dataclass(frozen=True, slots=True)
class NewCustomer:
    """One person to create: their data, id, how it was acquired and the purposes notified to them."""

    customer_id: str
    data: CustomerCreate
    provenance: ProvenanceIn
    purpose_versions: Mapping[str, int]
    purpose_method: str
    owner_id: str | None = None
    team: str | None = None
    import_line: int | None = None
    sensitive_basis: str | None = None
    # (kind, digest) of each email then each phone, when the caller has them already (duplicate detection)
    contact_digests: Sequence[tuple[str, bytes]] | None = None
    # the identity token when the caller has it (b"": none for this person; None: computed here)
    identity: bytes | None = None


def write_customers(
    ctx: Context,
    people: Sequence[NewCustomer],
    *,
    import_job_id: str | None = None,
    receipt_id: str | None = None,
    purpose_limit: Sequence[str] = (),
    digests: Digests | None = None,
    attributes: bool = True,
) -> None:
    """Insert the rows of ``people`` (whose data keys exist) in the current transaction: customers, contact
    points, attributes (unless ``attributes=False``: the caller inserts them later with :func:`write_attributes`),
    provenance, notified purposes and blind index — the rows ``customer_rows`` gives, in the same order."""
    if not people:
        return
    conn = ctx.session.connection()
    stmts = _inserts(conn.dialect)
    now = ctx.clock.now()
    digests = digests or Digests(ctx.runtime)
    digest = digests.digest
    indexer = ctx.runtime.indexer
    aeads = ctx.runtime.keystore.aeads([p.customer_id for p in people])
    actor = ctx.actor.label
    limit = ",".join(purpose_limit) if purpose_limit else None
    c_now = stmts["customers"].bind("created_at", now)
    cp_now = stmts["contact_points"].bind("created_at", now)
    pv_now = stmts["provenance"].bind("acquired_at", now)
    np_now = stmts["customer_purposes"].bind("notified_at", now)
    customers: list[tuple[Any, ...]] = []
    contacts: list[tuple[Any, ...]] = []
    provenance: list[tuple[Any, ...]] = []
    notified: list[tuple[Any, ...]] = []
    blind: list[tuple[Any, ...]] = []
    # Row ids as kernel.db.new_id makes them (128 random bits, hex), drawn for the whole batch at once.
    n_contacts = sum(len(p.data.emails) + len(p.data.phones) for p in people)
    contact_hex = os.urandom(16 * n_contacts).hex()
    prov_hex = os.urandom(16 * len(people)).hex()
    # ascending along the batch, like the customer ids the caller gives (index pages touched in key order)
    contact_ids = iter(sorted(contact_hex[i : i + 32] for i in range(0, len(contact_hex), 32)))
    prov_ids = iter(sorted(prov_hex[i : i + 32] for i in range(0, len(prov_hex), 32)))
    for p in people:
        cid = p.customer_id
        data = p.data
        born = data.birth_date
        values = (
            data.name,
            data.kana,
            born.isoformat() if born else None,
            data.gender,
            data.postal_code,
            data.address,
            data.occupation,
            data.employer,
        )
        plain: list[bytes] = []
        aads: list[bytes] = []
        for field, value in zip(SCALAR_FIELDS, values, strict=True):
            if value is not None:
                plain.append(value.encode("utf-8", "surrogatepass"))
                aads.append(field_aad("customers", field, cid))
        contacts_of: list[tuple[str, str, str]] = []
        for kind, items in (("email", data.emails), ("phone", data.phones)):
            for value in items:
                cp_id = next(contact_ids)
                contacts_of.append((cp_id, kind, value))
                plain.append(value.encode("utf-8", "surrogatepass"))
                aads.append(field_aad("contact_points", "value", cp_id))
        sealed = iter(seal_many_with(aeads[cid], plain, aads))
        enc = [None if v is None else next(sealed) for v in values]
        customers.append(
            (cid, p.owner_id, p.team, data.origin, *enc, 1, c_now, c_now, c_now, import_job_id, p.import_line)
        )
        blind.append((cid, "name", digest("name", data.name)))
        if data.kana:
            blind.append((cid, "kana", digest("kana", data.kana)))
        known = p.contact_digests
        for i, (cp_id, kind, value) in enumerate(contacts_of):
            contacts.append((cp_id, cid, kind, None, next(sealed), cp_now))
            dg = known[i][1] if known is not None else digest(kind, value)
            blind.append((cid, kind, dg))
        ident = (
            p.identity
            if p.identity is not None
            else identity_digest(indexer, data.name, data.kana, data.birth_date, data.postal_code)
        )
        if ident:
            blind.append((cid, IDENTITY, ident))
        prov = p.provenance
        provenance.append(
            (
                next(prov_ids),
                cid,
                prov.method,
                prov.channel,
                prov.notice_version,
                prov.source,
                pv_now,
                actor,
                import_job_id,
                receipt_id,
                limit,
                prov.acquisition,
                prov.campaign,
            )
        )
        for code, version in p.purpose_versions.items():
            notified.append((cid, code, version, p.purpose_method, np_now))
    stmts["customers"].execute(conn, customers)
    stmts["contact_points"].execute(conn, contacts)
    if attributes:
        write_attributes(ctx, people)
    stmts["provenance"].execute(conn, provenance)
    stmts["customer_purposes"].execute(conn, notified)
    stmts["blind_index"].execute(conn, blind)


def write_attributes(ctx: Context, people: Iterable[NewCustomer]) -> None:
    """The ``customer_attributes`` rows of ``people`` (sealed like every value), in the current transaction."""
    rows: list[tuple[Any, ...]] = []
    conn = ctx.session.connection()
    stmt = _inserts(conn.dialect)["customer_attributes"]
    now = stmt.bind("created_at", ctx.clock.now())
    cipher = ctx.runtime.cipher
    for p in people:
        for a in p.data.attributes:
            aid = new_id()
            blob = cipher.encrypt(p.customer_id, "customer_attributes", "value", aid, a.value)
            basis = p.sensitive_basis if a.category == Category.SENSITIVE else None
            rows.append((aid, p.customer_id, a.key, a.category.value, bytes(blob), basis, now))
    stmt.execute(conn, rows)
