"""Kernel crypto: AES-256-GCM sealing, KEK providers, the keystore (own database), field encryption and
blind indexes. See DESIGN.md "Crypto" and SECURITY.md §1."""

from mamori.kernel.crypto.aead import (
    FORMAT_VERSION,
    KEY_LEN,
    OVERHEAD,
    make_aead,
    new_key,
    open_sealed,
    open_with,
    seal,
    seal_with,
)
from mamori.kernel.crypto.blind_index import (
    DIGEST_LEN,
    KINDS,
    BlindIndexer,
    normalise,
    normalise_email,
    normalise_kana,
    normalise_name,
    normalise_phone,
)
from mamori.kernel.crypto.errors import KekUnavailable, KeyDestroyed
from mamori.kernel.crypto.fields import FieldCipher, field_aad
from mamori.kernel.crypto.kek import EnvKekProvider, FileKekProvider, KekProvider, kek_from_settings
from mamori.kernel.crypto.keystore import Keystore, KeystoreBase, RotationReport

__all__ = [
    "DIGEST_LEN",
    "FORMAT_VERSION",
    "KEY_LEN",
    "KINDS",
    "OVERHEAD",
    "BlindIndexer",
    "EnvKekProvider",
    "FieldCipher",
    "FileKekProvider",
    "KekProvider",
    "KekUnavailable",
    "KeyDestroyed",
    "Keystore",
    "KeystoreBase",
    "RotationReport",
    "field_aad",
    "kek_from_settings",
    "make_aead",
    "new_key",
    "normalise",
    "normalise_email",
    "normalise_kana",
    "normalise_name",
    "normalise_phone",
    "open_sealed",
    "open_with",
    "seal",
    "seal_with",
]
