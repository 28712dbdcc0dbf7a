"""The identity key: duplicates of people without an e-mail or phone (issue 19).

A list exported from a sales department often has neither; re-importing it must still not create everyone twice.
The key is name + kana + birth date + postal code in their normal forms (blank parts empty), kept as a blind-index
token of kind ``identity`` (HMAC under the blind-index key, like every other token — never the values). It is made
only when the name and the birth date are known and the kana or the postal code is: a name alone, or a name with
a postal code, is far too common to call two people the same.
"""

from __future__ import annotations

from datetime import date

from mamori.kernel.crypto import BlindIndexer, normalise_kana, normalise_name

KIND = "identity"


def identity_normal(
    name: str | None, kana: str | None, birth_date: date | str | None, postal_code: str | None
) -> str | None:
    """The key's normal form, or None when the parts known are too few to tell people apart."""
    if not name or not birth_date or not (kana or postal_code):
        return None
    born = birth_date.isoformat() if isinstance(birth_date, date) else str(birth_date)
    parts = (normalise_name(name), normalise_kana(kana) if kana else "", born, postal_code or "")
    return "\x1f".join(parts)


def identity_digest(
    indexer: BlindIndexer,
    name: str | None,
    kana: str | None,
    birth_date: date | str | None,
    postal_code: str | None,
) -> bytes | None:
    normal = identity_normal(name, kana, birth_date, postal_code)
    return None if normal is None else indexer.digest_of_normal(KIND, normal)
