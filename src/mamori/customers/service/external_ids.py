"""A customer's number in another system (顧客番号, issue 19): kept per issuing system, unique there, searchable.

- The value is sealed under the person's data key (``customer_external_ids.value_enc``, associated data
  ``customer_external_ids|value|<row id>``), so erasing the person (crypto-shredding) makes it unreadable.
- ``digest`` is the blind indexer's HMAC (kind ``external_id``) over ``system || 0x00 || normal form`` with the
  keystore's "blind_index" key: the same number in the same system gives the same digest (unique per system,
  found by :func:`lookup`), the same number in another system a different one. No new key is needed.
- The normal form is :func:`mamori.kernel.jptext.fold` (NFKC, every dash form → ``-``, stripped), case-folded:
  ``Ａ－００１２`` = ``a-0012``.

Nothing here commits (the caller's transaction); nothing here names a value in an error, a log or an audit
entry. The callers audit: the import and create paths as writes, reads through ``reads.get`` / ``reads.find``.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from typing import TYPE_CHECKING

from sqlalchemy import delete, insert, select

from mamori.customers.models import CustomerExternalId
from mamori.kernel import jptext
from mamori.kernel.context import Context
from mamori.kernel.db import chunks, new_id
from mamori.kernel.errors import ValidationFailed

if TYPE_CHECKING:
    from mamori.kernel.runtime import Runtime

KIND = "external_id"
TABLE = "customer_external_ids"
MAX_VALUE = 200  # characters of a customer number
MAX_SYSTEM = 200  # as the column


def _has_control(text: str) -> bool:
    return any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in text)


def clean_system(system: str) -> str:
    """The issuing system's name as stored (NFKC, stripped); ValidationFailed if empty, too long or with control
    characters. It is a name of a list or a system, not personal data."""
    text = unicodedata.normalize("NFKC", system).strip() if isinstance(system, str) else ""
    if not text or len(text) > MAX_SYSTEM or _has_control(text):
        raise ValidationFailed(
            "顧客番号の発行元（システム名）が正しくありません（1〜200 文字、制御文字なし）。",
            "The issuing system of the customer number is invalid (1 to 200 characters, no control characters).",
            code="bad_external_id_system",
        )
    return text


def display_value(value: str) -> str:
    """The number as stored and shown: width and dashes folded, stripped (its case is kept)."""
    text = jptext.fold(value) if isinstance(value, str) else ""
    if not text or len(text) > MAX_VALUE or _has_control(text):
        raise ValidationFailed(
            "顧客番号が正しくありません（1〜200 文字、制御文字なし）。",
            "The customer number is invalid (1 to 200 characters, no control characters).",
            code="bad_external_id",
        )
    return text


def normal_value(value: str) -> str:
    """The form the digest is taken over: :func:`display_value`, case-folded."""
    return display_value(value).casefold()


def digest(runtime: Runtime, system: str, value: str) -> bytes:
    """The blind-index digest of ``value`` as a number issued by ``system``."""
    return runtime.indexer.digest_of_normal(KIND, clean_system(system) + "\x00" + normal_value(value))


def find_existing(ctx: Context, system: str, digests: Sequence[bytes]) -> dict[bytes, str]:
    """Which of ``digests`` (numbers of ``system``) are already held, and by which customer."""
    name = clean_system(system)
    out: dict[bytes, str] = {}
    wanted = list(dict.fromkeys(bytes(d) for d in digests))
    for chunk in chunks(wanted):
        stmt = select(CustomerExternalId.digest, CustomerExternalId.customer_id).where(
            CustomerExternalId.system == name, CustomerExternalId.digest.in_(chunk)
        )
        for d, cid in ctx.session.execute(stmt).all():
            out[bytes(d)] = str(cid)
    return out


def _taken() -> ValidationFailed:
    return ValidationFailed(
        "この顧客番号は、同じ発行元の別の顧客にすでに使われています。",
        "This customer number is already used for another customer of the same issuing system.",
        code="external_id_taken",
    )


def write(ctx: Context, rows: Sequence[tuple[str, str, str]]) -> int:
    """Store (customer id, system, value) rows, each value sealed under that person's data key, in the caller's
    transaction. A number the same customer already holds in that system is skipped (a re-run adds nothing);
    one held by ANOTHER customer of that system — in the store or earlier in ``rows`` — raises ValidationFailed
    ``external_id_taken`` (the value is never named) and nothing of ``rows`` is written. Returns rows written."""
    rt = ctx.runtime
    planned: dict[tuple[str, bytes], tuple[str, str]] = {}  # (system, digest) -> (customer id, shown value)
    for cid, system, value in rows:
        name = clean_system(system)
        shown = display_value(value)
        d = rt.indexer.digest_of_normal(KIND, name + "\x00" + shown.casefold())
        prior = planned.get((name, d))
        if prior is not None and prior[0] != cid:
            raise _taken()
        planned.setdefault((name, d), (cid, shown))
    by_system: dict[str, list[bytes]] = {}
    for name, d in planned:
        by_system.setdefault(name, []).append(d)
    held: set[tuple[str, bytes]] = set()
    for name, ds in by_system.items():
        for d, owner in find_existing(ctx, name, ds).items():
            if owner != planned[(name, d)][0]:
                raise _taken()
            held.add((name, d))
    todo = [(key, v) for key, v in planned.items() if key not in held]
    if not todo:
        return 0
    rt.cipher.preload(sorted({cid for _, (cid, _) in todo}))
    now = ctx.clock.now()
    values = []
    for (name, d), (cid, shown) in todo:
        rid = new_id()
        values.append(
            {
                "id": rid,
                "customer_id": cid,
                "system": name,
                "digest": d,
                "value_enc": rt.cipher.encrypt(cid, TABLE, "value", rid, shown),
                "created_at": now,
            }
        )
    ctx.session.execute(insert(CustomerExternalId), values)
    return len(values)


def systems(ctx: Context) -> list[str]:
    """The issuing systems numbers are held for (names only)."""
    stmt = select(CustomerExternalId.system).distinct().order_by(CustomerExternalId.system)
    return [str(s) for s in ctx.session.execute(stmt).scalars()]


def lookup(ctx: Context, system: str | None, value: str) -> list[str]:
    """The customers holding ``value`` as a number of ``system`` — of any system when ``system`` is None. Ids
    only, no row scope and no audit: the caller decides what the actor may see (``reads.find``) and audits."""
    normal = normal_value(value)
    names = [clean_system(system)] if system is not None else systems(ctx)
    if not names:
        return []
    digests = [ctx.runtime.indexer.digest_of_normal(KIND, n + "\x00" + normal) for n in names]
    keys = set(zip(names, digests, strict=True))
    out: set[str] = set()
    for chunk in chunks(digests):
        stmt = select(
            CustomerExternalId.customer_id, CustomerExternalId.system, CustomerExternalId.digest
        ).where(CustomerExternalId.digest.in_(chunk))
        for cid, name, d in ctx.session.execute(stmt).all():
            if (str(name), bytes(d)) in keys:
                out.add(str(cid))
    return sorted(out)


def of_customer(ctx: Context, customer_id: str) -> list[tuple[str, str]]:
    """The person's (system, value) pairs, decrypted (for the disclosure and the customer view; the caller has
    decided and audits)."""
    stmt = (
        select(CustomerExternalId)
        .where(CustomerExternalId.customer_id == customer_id)
        .order_by(CustomerExternalId.system, CustomerExternalId.created_at, CustomerExternalId.id)
    )
    out: list[tuple[str, str]] = []
    for row in ctx.session.execute(stmt).scalars():
        if row.value_enc is None:
            continue
        value = ctx.runtime.cipher.decrypt(customer_id, TABLE, "value", row.id, row.value_enc)
        out.append((row.system, str(value)))
    return out


def rows_of(ctx: Context, customer_id: str) -> list[CustomerExternalId]:
    """The person's rows, still sealed (disclosure lists each as an item with its own id)."""
    stmt = (
        select(CustomerExternalId)
        .where(CustomerExternalId.customer_id == customer_id)
        .order_by(CustomerExternalId.system, CustomerExternalId.created_at, CustomerExternalId.id)
    )
    return list(ctx.session.execute(stmt).scalars())


def erase(ctx: Context, customer_id: str) -> int:
    """Delete the person's numbers, digests included (R-35-1 / G-17): the number can no longer be found or
    linked to them. Returns the rows deleted."""
    result = ctx.session.execute(
        delete(CustomerExternalId).where(CustomerExternalId.customer_id == customer_id)
    )
    return int(getattr(result, "rowcount", 0) or 0)
