"""Blind indexes: exact-match search tokens over normalised personal values.

``digest(kind, value) = HMAC-SHA256(key, kind || 0x00 || normalise_kind(value))[:16]``. The key is the
keystore's system key "blind_index", which is never used for anything else (encryption keys are separate).

Why 16 bytes (128 bits)? SECURITY.md §7 test 7 quotes CipherSweet's planner bound ``2 <= R / 2**L <= sqrt(R)``
(R rows, L index bits): an index that short makes every token match several rows on purpose, so a token
alone does not single out a person, and the application filters the candidates after decrypting them. We
chose the opposite trade-off: a 128-bit token has no practical false positives, a search returns exactly the
matching rows, and a unique constraint may sit on the token. The cost is leakage: equal normalised values
get equal tokens, so whoever reads the index can see which rows share an email/phone/name and count
frequencies (the leakage of deterministic encryption), and tokens of a shredded person that survive in a
backup stay linkable until the "blind_index" key is rotated. 128 bits does NOT meet that planner bound for any
realistic R; callers who need the bound can pass a shorter ``length`` (in bytes) and filter candidates.
Delete a person's index rows on erasure and rotate the key periodically.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable

import jaconv
import phonenumbers

from mamori.kernel.errors import ValidationFailed
from mamori.kernel.jptext import fold, split_phone

DIGEST_LEN = 16
MIN_KEY_LEN = 32
KINDS = ("email", "phone", "name", "kana")


def normalise_email(value: str) -> str:
    """Folded (:func:`~mamori.kernel.jptext.fold`: NFKC, dashes, strip), lower-case: ``ＡＢＣ@example.jp`` →
    ``abc@example.jp``."""
    return fold(value).lower()


_PHONE_CHARS = re.compile(r"[0-9+()\-.\s]+")


# E.164 strings this process has produced from valid numbers (bounded): an import validates a phone and then
# indexes the normalised value; the second call returns at once instead of parsing again.
_KNOWN_E164: set[str] = set()
_KNOWN_E164_MAX = 200_000


def phone_e164(number: str, region: str = "JP") -> str:
    """E.164 of the number part :func:`~mamori.kernel.jptext.split_phone` gives (folded, no prefix, no
    extension). ValidationFailed if it is not a valid number (the message never contains the value)."""
    if (
        number in _KNOWN_E164
    ):  # already produced by this function (validation, then indexing): no second parse
        return number
    parsed = None
    if number and _PHONE_CHARS.fullmatch(number):  # no letters (vanity numbers)
        try:
            parsed = phonenumbers.parse(number, region)
        except phonenumbers.NumberParseException:
            parsed = None
    if parsed is None or parsed.extension or not phonenumbers.is_valid_number(parsed):
        raise ValidationFailed(
            "電話番号として認識できません。", "Not a valid phone number.", code="bad_phone"
        )
    e164 = str(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))
    if len(_KNOWN_E164) >= _KNOWN_E164_MAX:
        _KNOWN_E164.clear()
    _KNOWN_E164.add(e164)
    return e164


def normalise_phone(value: str, region: str = "JP") -> str:
    """E.164 (``+819012345678``) of the NUMBER only, from national or international forms, full-width digits,
    every dash form, spaces and parentheses, a ``TEL:`` prefix; an extension (``内線12``, ``ext.12``, the stored
    ``;ext=12``) is dropped, so a search by the number finds it. Letters (vanity numbers) are refused.
    ValidationFailed if it is not a valid number (the message never contains the value)."""
    number, _extension = split_phone(value) if isinstance(value, str) else ("", None)
    return phone_e164(number, region)


def normalise_name(value: str) -> str:
    """Folded (NFKC, dashes), all whitespace removed (including U+3000), casefolded."""
    return "".join(fold(value).split()).casefold()


def normalise_kana(value: str) -> str:
    """Folded (half-width → full-width), hiragana → katakana, whitespace and ・ removed: ﾔﾏﾀﾞ = ヤマダ = やまだ."""
    katakana = str(jaconv.hira2kata(fold(value)))
    return "".join(katakana.split()).replace("・", "")


NORMALISERS: dict[str, Callable[[str], str]] = {
    "email": normalise_email,
    "phone": normalise_phone,
    "name": normalise_name,
    "kana": normalise_kana,
}


def normalise(kind: str, value: str) -> str:
    """The normal form used for ``kind``; ValidationFailed for an unknown kind or an empty result."""
    normaliser = NORMALISERS.get(kind)
    if normaliser is None:
        raise ValidationFailed(
            f"未知の索引種別です: {kind}", f"Unknown blind-index kind: {kind}", code="bad_index_kind"
        )
    if not isinstance(value, str):
        raise ValidationFailed(
            f"{kind} の値が文字列ではありません。",
            f"The {kind} value is not a string.",
            code="bad_index_value",
        )
    result = normaliser(value)
    if not result:
        raise ValidationFailed(
            f"{kind} の値が空です。",
            f"The {kind} value is empty after normalisation.",
            code="bad_index_value",
        )
    return result


class BlindIndexer:
    """Keyed exact-match tokens; see the module docstring for the length trade-off."""

    def __init__(self, key: bytes, *, length: int = DIGEST_LEN) -> None:
        if not isinstance(key, bytes | bytearray) or len(key) < MIN_KEY_LEN:
            raise ValidationFailed(
                "索引鍵が短すぎます（32 バイト以上）。",
                "The blind-index key must be at least 32 bytes.",
                code="bad_key",
            )
        if not 1 <= length <= hashlib.sha256().digest_size:
            raise ValidationFailed(
                "索引長が不正です（1〜32 バイト）。",
                "Index length must be 1 to 32 bytes.",
                code="bad_index_length",
            )
        self._key = bytes(key)
        self.length = length

    def digest(self, kind: str, value: str) -> bytes:
        message = kind.encode("utf-8") + b"\x00" + normalise(kind, value).encode("utf-8", "surrogatepass")
        return hmac.digest(self._key, message, "sha256")[: self.length]

    def digest_of_normal(self, kind: str, normal: str) -> bytes:
        """The digest of a value already in ``kind``'s normal form (a bulk path that normalised it while
        validating, e.g. a phone's E.164 form); equal to :meth:`digest` of any value with that normal form."""
        message = kind.encode("utf-8") + b"\x00" + normal.encode("utf-8", "surrogatepass")
        return hmac.digest(self._key, message, "sha256")[: self.length]

    def digests(self, kind: str, values: list[str]) -> list[bytes]:
        return [self.digest(kind, v) for v in values]
