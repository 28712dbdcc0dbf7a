"""The in-process cache entry of an unwrapped data key, trusted for CACHE_TTL_SECONDS."""

from __future__ import annotations

import time

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from mamori.kernel.crypto.aead import make_aead

# An unwrapped key is trusted from memory for this long; after that the keystore is asked again, so a key
# destroyed by another process (an erasure run from the CLI while the server runs) stops working everywhere.
CACHE_TTL_SECONDS = 30.0


class _CachedKey:
    """An unwrapped DEK and, built on first use, its AESGCM object."""

    __slots__ = ("_aead", "key", "loaded")

    def __init__(self, key: bytes) -> None:
        self.key = key
        self._aead: AESGCM | None = None
        self.loaded = time.monotonic()

    def fresh(self) -> bool:
        return time.monotonic() - self.loaded < CACHE_TTL_SECONDS

    @property
    def aead(self) -> AESGCM:
        if self._aead is None:
            self._aead = make_aead(self.key)
        return self._aead
