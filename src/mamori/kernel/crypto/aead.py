"""AES-256-GCM sealing: the one authenticated cipher mamori uses (fields, wrapped keys).

A sealed blob is ``version (1 byte) || nonce (12 random bytes) || ciphertext || tag (16 bytes)``.
The version byte names the format so that a future algorithm can be introduced beside this one.

Nonces are random (96 bits). AES-GCM with random nonces stays safe up to about 2^32 messages per key
(SECURITY.md §1); mamori keeps far below that by giving every person their own data key, and a KEK only
ever wraps 32-byte keys (one per person or named system key, rewrapped once per rotation).

Any failure to open (wrong key, wrong associated data, a changed or truncated blob, an unknown version)
raises :class:`~mamori.kernel.errors.IntegrityFailure`; the cause is never more specific than that.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from mamori.kernel.errors import ConfigurationError, IntegrityFailure

FORMAT_VERSION = 1
KEY_LEN = 32
NONCE_LEN = 12
TAG_LEN = 16
HEADER_LEN = 1 + NONCE_LEN
OVERHEAD = HEADER_LEN + TAG_LEN
_VERSION_BYTE = bytes([FORMAT_VERSION])


def new_key() -> bytes:
    """A fresh random 256-bit key."""
    return os.urandom(KEY_LEN)


def make_aead(key: bytes) -> AESGCM:
    """An AES-256-GCM object for ``key``; build it once per key and reuse it (construction is the slow part)."""
    if not isinstance(key, bytes | bytearray) or len(key) != KEY_LEN:
        raise ConfigurationError(
            "暗号鍵の長さが不正です（32 バイトが必要）。",
            "An encryption key must be exactly 32 bytes.",
            code="bad_key",
        )
    return AESGCM(bytes(key))


def seal_with(aead: AESGCM, plaintext: bytes, aad: bytes) -> bytes:
    """Encrypt ``plaintext`` bound to ``aad`` with an AESGCM object from :func:`make_aead`."""
    nonce = os.urandom(NONCE_LEN)
    return _VERSION_BYTE + nonce + aead.encrypt(nonce, plaintext, aad)


def seal_many_with(aead: AESGCM, plaintexts: Sequence[bytes], aads: Sequence[bytes]) -> list[bytes]:
    """:func:`seal_with` for many messages under one key (one call for all the random nonces)."""
    if len(plaintexts) != len(aads):
        raise ValueError("plaintexts and aads differ in length")
    nonces = os.urandom(NONCE_LEN * len(plaintexts))
    encrypt = aead.encrypt
    out: list[bytes] = []
    for i, (plaintext, aad) in enumerate(zip(plaintexts, aads, strict=True)):
        nonce = nonces[i * NONCE_LEN : (i + 1) * NONCE_LEN]
        out.append(_VERSION_BYTE + nonce + encrypt(nonce, plaintext, aad))
    return out


def open_with(aead: AESGCM, blob: bytes, aad: bytes) -> bytes:
    """Decrypt a blob made by :func:`seal_with`; :class:`IntegrityFailure` on any failure."""
    if len(blob) < OVERHEAD or blob[0] != FORMAT_VERSION:
        raise _integrity()
    try:
        return aead.decrypt(blob[1:HEADER_LEN], blob[HEADER_LEN:], aad)
    except (InvalidTag, ValueError, TypeError, OverflowError):
        raise _integrity() from None


def seal(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    """Encrypt ``plaintext`` under the 32-byte ``key``, bound to the associated data ``aad``."""
    return seal_with(make_aead(key), plaintext, aad)


def open_sealed(key: bytes, blob: bytes, aad: bytes) -> bytes:
    """Decrypt a blob made by :func:`seal`; :class:`IntegrityFailure` on any failure, including a bad key."""
    try:
        aead = make_aead(key)
    except ConfigurationError:
        raise _integrity() from None
    return open_with(aead, blob, aad)


def _integrity() -> IntegrityFailure:
    return IntegrityFailure(
        "暗号文を復号できません（鍵・関連データの不一致、または改ざん）。",
        "Cannot decrypt: wrong key or associated data, or the ciphertext was changed.",
    )
