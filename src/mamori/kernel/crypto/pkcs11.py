"""A KEK held in a PKCS#11 token: an HSM, a cloud KMS with a PKCS#11 interface, or SoftHSM (tests).

The key material never leaves the token. Each KEK version is an AES-256 secret key object on the token,
labelled ``<key_label>-v<N>``, created ``SENSITIVE`` and not ``EXTRACTABLE``; the current version is the
highest N. Wrapping a data key is ``CKM_AES_GCM`` inside the token with a random 96-bit IV and the wrap
context as associated data (so a wrapped key cannot be moved to another subject), and the blob is
``format byte || IV || ciphertext || tag`` like every other mamori ciphertext.

Uses ``python-pkcs11`` (the ``hsm`` extra). Sessions are opened per operation: PKCS#11 sessions are not
shared across threads, and a token keeps the key objects, so opening is cheap.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from mamori.kernel.crypto.errors import KekUnavailable
from mamori.kernel.errors import ConfigurationError, Conflict, IntegrityFailure

_WRAP_PREFIX = b"mamori-kek-wrap\x00"
_FORMAT = 1
_IV_LEN = 12


def _integrity() -> IntegrityFailure:
    return IntegrityFailure(
        "鍵を復号できません（HSM の鍵が違うか、データが改変されています）。",
        "cannot unwrap the key (wrong HSM key or tampered data).",
        code="integrity",
    )


class Pkcs11KekProvider:
    """KEK versions as AES-256 keys on a PKCS#11 token (see the module docstring)."""

    def __init__(self, module: str, *, token_label: str, pin: str, key_label: str = "mamori-kek") -> None:
        try:
            import pkcs11
        except ImportError:  # pragma: no cover - depends on the install
            raise ConfigurationError(
                "PKCS#11 を使うには python-pkcs11 が必要です（pip install 'mamori[hsm]'）。",
                "the PKCS#11 provider needs python-pkcs11 (pip install 'mamori[hsm]').",
                code="bad_kek",
            ) from None
        if not re.fullmatch(r"[A-Za-z0-9_.-]{1,48}", key_label):
            raise ConfigurationError(
                "PKCS#11 の鍵ラベルが不正です。", "invalid PKCS#11 key label.", code="bad_kek"
            )
        self._p11: Any = pkcs11
        try:
            self._lib = pkcs11.lib(module)
            self._token = self._lib.get_token(token_label=token_label)
        except Exception:
            raise ConfigurationError(
                "PKCS#11 モジュールまたはトークンを開けません（MAMORI_PKCS11_MODULE / MAMORI_PKCS11_TOKEN_LABEL）。",
                "cannot open the PKCS#11 module or token (MAMORI_PKCS11_MODULE / MAMORI_PKCS11_TOKEN_LABEL).",
                code="bad_kek",
            ) from None
        self._pin = pin
        self._label = key_label
        self._lock = threading.Lock()

    # -- sessions and key objects --------------------------------------------------------------------------
    @contextmanager
    def _session(self, *, rw: bool = False) -> Iterator[Any]:
        try:
            session = self._token.open(user_pin=self._pin, rw=rw)
        except Exception:
            raise ConfigurationError(
                "PKCS#11 トークンにログインできません（PIN を確認してください）。",
                "cannot log in to the PKCS#11 token (check the PIN).",
                code="bad_kek",
            ) from None
        try:
            yield session
        finally:
            session.close()

    def _versions(self, session: Any) -> dict[int, Any]:
        p11 = self._p11
        found: dict[int, Any] = {}
        pattern = re.compile(re.escape(self._label) + r"-v([1-9][0-9]{0,8})")
        for obj in session.get_objects({p11.Attribute.CLASS: p11.ObjectClass.SECRET_KEY}):
            match = pattern.fullmatch(str(obj.label))
            if match:
                found[int(match.group(1))] = obj
        return found

    def _key(self, session: Any, version: int) -> Any:
        key = self._versions(session).get(version)
        if key is None:
            raise KekUnavailable(
                f"KEK 版 {version} の鍵が HSM にありません（破棄済みまたは未作成）。",
                f"KEK version {version} is not on the HSM (destroyed or never created).",
                details={"kek_version": version},
            )
        return key

    # -- the KekProvider protocol --------------------------------------------------------------------------
    def versions(self) -> list[int]:
        with self._session() as session:
            return sorted(self._versions(session))

    def current_version(self) -> int:
        versions = self.versions()
        if not versions:
            raise KekUnavailable(
                "HSM に KEK がありません（mamori init で作成します）。",
                "there is no KEK on the HSM yet (mamori init creates one).",
                details={"kek_version": 0},
            )
        return versions[-1]

    def wrap(self, key: bytes, *, context: bytes) -> tuple[int, bytes]:
        p11 = self._p11
        with self._session() as session:
            versions = self._versions(session)
            if not versions:
                raise KekUnavailable(
                    "HSM に KEK がありません。", "there is no KEK on the HSM.", details={"kek_version": 0}
                )
            version = max(versions)
            iv = os.urandom(_IV_LEN)
            sealed = versions[version].encrypt(
                key,
                mechanism=p11.Mechanism.AES_GCM,
                mechanism_param=p11.GCMParams(iv, _WRAP_PREFIX + context, 128),
            )
        return version, bytes([_FORMAT]) + iv + bytes(sealed)

    def unwrap(self, version: int, blob: bytes, *, context: bytes) -> bytes:
        p11 = self._p11
        if len(blob) < 1 + _IV_LEN + 16 or blob[0] != _FORMAT:
            raise _integrity()
        with self._session() as session:
            key = self._key(session, version)
            try:
                return bytes(
                    key.decrypt(
                        blob[1 + _IV_LEN :],
                        mechanism=p11.Mechanism.AES_GCM,
                        mechanism_param=p11.GCMParams(blob[1 : 1 + _IV_LEN], _WRAP_PREFIX + context, 128),
                    )
                )
            except p11.PKCS11Error:
                raise _integrity() from None

    # -- administration ------------------------------------------------------------------------------------
    def create_new(self) -> None:
        """For ``mamori init`` of a new store: make version 1 if the token holds none."""
        with self._lock, self._session(rw=True) as session:
            if not self._versions(session):
                self._generate(session, 1)

    @property
    def missing(self) -> bool:
        return not self.versions()

    def add_version(self) -> int:
        with self._lock, self._session(rw=True) as session:
            version = max(self._versions(session), default=0) + 1
            self._generate(session, version)
        return version

    def _generate(self, session: Any, version: int) -> None:
        p11 = self._p11
        session.generate_key(
            p11.KeyType.AES,
            256,
            label=f"{self._label}-v{version}",
            store=True,
            template={
                p11.Attribute.SENSITIVE: True,
                p11.Attribute.EXTRACTABLE: False,
                p11.Attribute.ENCRYPT: True,
                p11.Attribute.DECRYPT: True,
            },
        )

    def destroy_version(self, version: int) -> None:
        with self._lock, self._session(rw=True) as session:
            versions = self._versions(session)
            if versions and version == max(versions):
                raise Conflict(
                    f"現在の KEK 版 {version} は破棄できません。",
                    f"Cannot destroy the current KEK version {version}.",
                    code="kek_current",
                )
            self._key(session, version).destroy()

    def extractable(self, version: int) -> bool:
        """Whether the token would let the key of ``version`` out (it never should: tests check)."""
        with self._session() as session:
            key = self._key(session, version)
            return bool(key[self._p11.Attribute.EXTRACTABLE]) or not bool(key[self._p11.Attribute.SENSITIVE])
