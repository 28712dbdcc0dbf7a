"""Field encryption: each personal value is sealed with its subject's DEK (AES-256-GCM).

Associated data is ``f"{table}|{column}|{row_id}"`` (UTF-8): a ciphertext copied to another row or column
does not decrypt (IntegrityFailure). Any ``str`` round-trips exactly (UTF-8 with ``surrogatepass``).

Speed: the keystore caches one AESGCM object per DEK, so a call costs one dict lookup plus one AES-GCM
operation. For bulk work, call :meth:`FieldCipher.preload` (or ``encrypt_many``) so that missing keys are
fetched in a few queries instead of one per subject.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from mamori.kernel.crypto.aead import open_with, seal_many_with, seal_with
from mamori.kernel.crypto.keystore import CACHE_TTL_SECONDS, Keystore

# (table, column, row_id, value) and (table, column, row_id, blob)
FieldValue = tuple[str, str, str | int, str]
FieldBlob = tuple[str, str, str | int, bytes]


def field_aad(table: str, column: str, row_id: str | int) -> bytes:
    """The associated data binding a ciphertext to one cell."""
    return f"{table}|{column}|{row_id}".encode()


def _encode(value: str) -> bytes:
    return value.encode("utf-8", "surrogatepass")


def _decode(data: bytes) -> str:
    return data.decode("utf-8", "surrogatepass")


class FieldCipher:
    def __init__(self, keystore: Keystore) -> None:
        self.keystore = keystore
        # The last subject's AESGCM object: a customer's fields are usually handled one after another.
        self._last: tuple[str, int, float, AESGCM] | None = None

    def _aead(self, subject_id: str) -> AESGCM:
        last = self._last
        generation = self.keystore.generation
        now = time.monotonic()
        if (
            last is not None
            and last[0] == subject_id
            and last[1] == generation
            and now - last[2] < CACHE_TTL_SECONDS
        ):
            return last[3]
        aead = self.keystore.aead(subject_id)
        self._last = (subject_id, generation, now, aead)
        return aead

    def preload(self, subject_ids: Iterable[str]) -> None:
        """Unwrap the keys of many subjects at once (KeyDestroyed if any is missing)."""
        self.keystore.aeads(subject_ids)

    def encrypt(self, subject_id: str, table: str, column: str, row_id: str | int, value: str) -> bytes:
        return seal_with(self._aead(subject_id), _encode(value), field_aad(table, column, row_id))

    def decrypt(self, subject_id: str, table: str, column: str, row_id: str | int, blob: bytes) -> str:
        return _decode(open_with(self._aead(subject_id), bytes(blob), field_aad(table, column, row_id)))

    def encrypt_many(self, subject_id: str, items: Sequence[FieldValue]) -> list[bytes]:
        """Encrypt several cells of one subject with a single key lookup."""
        aead = self._aead(subject_id)
        return seal_many_with(
            aead, [_encode(v) for *_, v in items], [field_aad(t, c, r) for t, c, r, _ in items]
        )

    def decrypt_many(self, subject_id: str, items: Sequence[FieldBlob]) -> list[str]:
        aead = self._aead(subject_id)
        return [_decode(open_with(aead, bytes(b), field_aad(t, c, r))) for t, c, r, b in items]
