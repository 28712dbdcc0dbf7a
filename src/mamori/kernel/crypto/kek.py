"""Key-encryption keys (KEKs): versioned keys that wrap the per-person data keys and the system keys.

A provider implements :class:`KekProvider`. Three are built in (ADR 0007, key custody):

- :class:`FileKekProvider`: a JSON key file (mode 0600) that must live *outside* ``MAMORI_HOME``, so the
  KEK is never in the data directory or its backups (SECURITY.md §7 test 24). One file per store (default
  ``<key dir>/kek.json``); it is created only by ``mamori init`` for a new store, never silently: a missing file
  of an existing store is an error that names the file.
- :class:`EnvKekProvider`: the ``MAMORI_KEK`` environment variable.
- :class:`mamori.kernel.crypto.pkcs11.Pkcs11KekProvider`: AES-256 keys that never leave a PKCS#11 token (an
  HSM, a cloud KMS with a PKCS#11 interface, or SoftHSM in the tests).

An external KMS fits behind the same Protocol. For HashiCorp Vault transit, for example:
``current_version`` is the transit key's ``latest_version``; ``wrap`` calls ``transit/encrypt/<key>`` with
``context`` as the derivation context (or as associated data) and returns the version parsed from the
``vault:vN:`` prefix; ``unwrap`` calls ``transit/decrypt/<key>``; ``versions`` lists the versions from
``min_decryption_version`` to ``latest_version``; and an optional ``destroy_version`` raises
``min_decryption_version`` and trims old versions. No Vault client ships with mamori.

Built-in wrapping is AES-256-GCM (:mod:`.aead`) with ``context`` as associated data, so a wrapped key
cannot be moved to another subject or name. (ASVS 5 App. C names AES-KW/KWP for key wrapping; KW has no
associated data and was ~2.5x slower in our measurement, so the AEAD is used; the blob's version byte leaves
room for a KWP format later.)
"""

from __future__ import annotations

import base64
import binascii
import fcntl
import json
import os
import stat
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from mamori.kernel.crypto.aead import KEY_LEN, make_aead, new_key, open_with, seal_many_with, seal_with
from mamori.kernel.crypto.errors import KekUnavailable
from mamori.kernel.errors import ConfigurationError, Conflict

if TYPE_CHECKING:
    from mamori.kernel.settings import Settings

# Domain separation: a KEK-wrapped blob can never be confused with a field ciphertext.
_WRAP_PREFIX = b"mamori-kek-wrap\x00"


@runtime_checkable
class KekProvider(Protocol):
    """Versioned key-encryption key. Implementations may also offer ``destroy_version(v)``."""

    def current_version(self) -> int: ...

    def wrap(self, key: bytes, *, context: bytes) -> tuple[int, bytes]:
        """Wrap ``key`` with the current version; returns ``(version, blob)``."""
        ...

    def unwrap(self, version: int, blob: bytes, *, context: bytes) -> bytes:
        """Unwrap a blob made by ``wrap`` with the same ``context``; IntegrityFailure if it does not open."""
        ...

    def versions(self) -> list[int]:
        """The versions whose key material is available (ascending)."""
        ...


# Optional provider methods, looked up with getattr by the keystore:
#   wrap_many(keys, contexts) -> (version, blobs)   bulk wrap (speed)
#   destroy_version(version) -> None                 used by Keystore.rotate after a complete rewrap


class _LocalKeys:
    """Shared wrap/unwrap over an in-memory ``{version: key}`` map."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._current = 0
        self._keys: dict[int, bytes] = {}
        self._aeads: dict[int, AESGCM] = {}

    def _set(self, current: int, keys: dict[int, bytes]) -> None:
        with self._lock:
            self._current = current
            self._keys = dict(keys)
            self._aeads = {v: make_aead(k) for v, k in keys.items()}

    def current_version(self) -> int:
        return self._current

    def versions(self) -> list[int]:
        return sorted(self._keys)

    def _aead(self, version: int) -> AESGCM:
        aead = self._aeads.get(version)
        if aead is None:
            raise KekUnavailable(
                f"KEK 版 {version} の鍵がありません（破棄済みまたは未設定）。",
                f"KEK version {version} is not available (destroyed or not configured).",
                details={"kek_version": version},
            )
        return aead

    def wrap(self, key: bytes, *, context: bytes) -> tuple[int, bytes]:
        version = self._current
        return version, seal_with(self._aead(version), key, _WRAP_PREFIX + context)

    def wrap_many(self, keys: Sequence[bytes], contexts: Sequence[bytes]) -> tuple[int, list[bytes]]:
        """Optional bulk form of ``wrap`` (the keystore uses it when a provider has it)."""
        version = self._current
        return version, seal_many_with(self._aead(version), keys, [_WRAP_PREFIX + c for c in contexts])

    def unwrap(self, version: int, blob: bytes, *, context: bytes) -> bytes:
        return open_with(self._aead(version), blob, _WRAP_PREFIX + context)


def _bad_config(ja: str, en: str) -> ConfigurationError:
    return ConfigurationError(ja, en, code="bad_kek")


def _decode_key(text: str, where: str) -> bytes:
    """Decode one base64 32-byte key; errors name ``where`` (a position), never the value."""
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise _bad_config(
            f"KEK（{where}）が base64 として不正です。", f"KEK ({where}) is not valid base64."
        ) from None
    if len(raw) != KEY_LEN:
        raise _bad_config(
            f"KEK（{where}）の長さが不正です（32 バイトが必要）。",
            f"KEK ({where}) must decode to exactly 32 bytes.",
        )
    return raw


class EnvKekProvider(_LocalKeys):
    """KEK from ``MAMORI_KEK``: ``"<version>:<base64>[,<version>:<base64>...]"`` (the first entry is the
    current version) or one bare base64 value meaning version 1. Errors never echo the value."""

    def __init__(self, value: str) -> None:
        super().__init__()
        entries = [e.strip() for e in value.split(",")]
        if not value.strip() or any(not e for e in entries):
            raise _bad_config(
                "MAMORI_KEK が空、または空の項目があります。", "MAMORI_KEK is empty or has an empty entry."
            )
        keys: dict[int, bytes] = {}
        order: list[int] = []
        for position, entry in enumerate(entries, start=1):
            where = f"entry {position}"
            if ":" in entry:
                head, _, body = entry.partition(":")
                if not head.strip().isdigit() or int(head) < 1:
                    raise _bad_config(
                        f"MAMORI_KEK の項目 {position} の版番号が不正です（正の整数が必要）。",
                        f"MAMORI_KEK entry {position}: the version must be a positive integer.",
                    )
                version = int(head)
            elif len(entries) == 1:
                version, body = 1, entry
            else:
                raise _bad_config(
                    f"MAMORI_KEK の項目 {position} に版番号がありません（<版>:<base64>）。",
                    f"MAMORI_KEK entry {position} has no version (use <version>:<base64>).",
                )
            if version in keys:
                raise _bad_config(
                    f"MAMORI_KEK に版 {version} が重複しています。", f"MAMORI_KEK repeats version {version}."
                )
            keys[version] = _decode_key(body, where)
            order.append(version)
        self._set(order[0], keys)


class FileKekProvider(_LocalKeys):
    """KEK versions in a JSON key file outside ``MAMORI_HOME``.

    File format: ``{"current": N, "keys": {"1": "<base64 32 bytes>", ...}, "destroyed": [...]}``. A missing
    file is created with one random version (file 0600; a created parent directory 0700). The file is
    refused if it lies inside ``home`` or if group/other can access it. Every write is atomic (temporary file,
    fsync, ``os.replace``) under an exclusive ``flock`` on a sibling ``.<name>.lock`` file, so two admin
    commands cannot lose each other's version. A long-running process notices a changed file (by inode,
    size and mtime) and reloads it before each wrap, so it stops using a version once another process has
    replaced or destroyed it. (A wrap racing that very change can still use the old version; Keystore.rotate
    recounts after destroying, so such a key shows up in ``remaining_on_old``.)
    """

    def __init__(self, path: Path, *, home: Path | None, create: bool = False) -> None:
        super().__init__()
        self.path = Path(path).expanduser().resolve()
        if home is not None:
            home_resolved = Path(home).expanduser().resolve()
            if self.path == home_resolved or self.path.is_relative_to(home_resolved):
                raise ConfigurationError(
                    "KEK ファイルがデータディレクトリ（MAMORI_HOME）の中にあります。外に置いてください。",
                    "The KEK file is inside the data directory (MAMORI_HOME); it must live outside it and its backups.",
                    code="kek_inside_home",
                )
        self._destroyed: list[int] = []
        self._stamp: tuple[int, int, int] | None = None
        self._missing = False
        if not self.path.exists():
            if not create:
                # Not an error yet: `mamori init` of a new store creates it (create_new); anything that needs
                # a key raises KekMissing naming the file.
                self._missing = True
                return
            self.create_new()
            return
        self._load()

    @property
    def missing(self) -> bool:
        return self._missing and not self.path.exists()

    def create_new(self) -> None:
        """Create the key file with one random version (only for a new store; a no-op if it exists)."""
        with self._locked():
            if not self.path.exists():
                self._create()
        self._missing = False
        self._load()

    def _require(self) -> None:
        if self._missing:
            if self.path.exists():
                self._missing = False
                self._load()
                return
            raise ConfigurationError(
                f"KEK ファイル {self.path} がありません。このストアの鍵ファイルをバックアップから戻すか、"
                "MAMORI_KEY_FILE / MAMORI_KEK で指定してください（新しい鍵は自動では作りません）。",
                f"the KEK file {self.path} is missing: restore this store's key file from its backup, or point "
                "MAMORI_KEY_FILE / MAMORI_KEK at it (a new key is never created silently).",
                code="kek_missing",
            )

    # -- file handling -------------------------------------------------------------------------------------------
    def _create(self) -> None:
        parent = self.path.parent
        if not parent.exists():
            parent.mkdir(parents=True, mode=0o700)
            os.chmod(parent, 0o700)
        self._write(1, {1: new_key()}, [])

    @contextmanager
    def _locked(self) -> Iterator[None]:
        parent = self.path.parent
        if not parent.exists():
            parent.mkdir(parents=True, mode=0o700)
            os.chmod(parent, 0o700)
        fd = os.open(parent / f".{self.path.name}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the lock

    def _refresh(self) -> None:
        """Reload the file if another process changed it since it was read."""
        self._require()
        try:
            st = self.path.stat()
        except OSError:
            return
        if (st.st_ino, st.st_size, st.st_mtime_ns) != self._stamp:
            self._load()

    def current_version(self) -> int:
        self._refresh()
        return super().current_version()

    def versions(self) -> list[int]:
        self._refresh()
        return super().versions()

    def wrap(self, key: bytes, *, context: bytes) -> tuple[int, bytes]:
        self._refresh()
        return super().wrap(key, context=context)

    def wrap_many(self, keys: Sequence[bytes], contexts: Sequence[bytes]) -> tuple[int, list[bytes]]:
        self._refresh()
        return super().wrap_many(keys, contexts)

    def unwrap(self, version: int, blob: bytes, *, context: bytes) -> bytes:
        if version not in self._keys:
            self._refresh()
        return super().unwrap(version, blob, context=context)

    def _load(self) -> None:
        st = self.path.stat()
        mode = st.st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise ConfigurationError(
                "KEK ファイルの権限が広すぎます（0600 にしてください）。",
                "The KEK file is accessible by group or others; set its mode to 0600.",
                code="kek_permissions",
            )
        try:
            doc = json.loads(self.path.read_text(encoding="utf-8"))
            current = int(doc["current"])
            raw_keys = doc["keys"]
            destroyed = [int(v) for v in doc.get("destroyed", [])]
            if not isinstance(raw_keys, dict):
                raise TypeError
        except (OSError, ValueError, KeyError, TypeError):
            raise _bad_config("KEK ファイルの形式が不正です。", "The KEK file is malformed.") from None
        keys = {int(v): _decode_key(str(k), f"file version {int(v)}") for v, k in raw_keys.items()}
        if current not in keys:
            raise _bad_config(
                "KEK ファイルの current 版の鍵がありません。",
                "The KEK file has no key for its current version.",
            )
        self._destroyed = sorted(set(destroyed))
        self._set(current, keys)
        self._stamp = (st.st_ino, st.st_size, st.st_mtime_ns)

    def _write(self, current: int, keys: dict[int, bytes], destroyed: list[int]) -> None:
        doc = {
            "current": current,
            "keys": {str(v): base64.b64encode(k).decode("ascii") for v, k in sorted(keys.items())},
            "destroyed": sorted(destroyed),
        }
        data = json.dumps(doc, indent=2).encode("utf-8")
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        dir_fd = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    # -- administration ----------------------------------------------------------------------------------------
    def destroyed_versions(self) -> list[int]:
        return list(self._destroyed)

    def add_version(self) -> int:
        """Add a new random version and make it current; returns its number."""
        self._require()
        with self._locked():
            self._load()
            keys = dict(self._keys)
            version = max([*keys, *self._destroyed, 0]) + 1
            keys[version] = new_key()
            self._write(version, keys, self._destroyed)
            self._load()
        return version

    def destroy_version(self, version: int) -> None:
        """Remove the key material of ``version`` and record it as destroyed (never the current version)."""
        self._require()
        with self._locked():
            self._destroy_locked(version)

    def _destroy_locked(self, version: int) -> None:
        self._load()
        if version == self._current:
            raise Conflict(
                f"現在の KEK 版 {version} は破棄できません。",
                f"Cannot destroy the current KEK version {version}.",
                code="kek_current",
            )
        if version not in self._keys and version not in self._destroyed:
            raise KekUnavailable(
                f"KEK 版 {version} は存在しません。",
                f"KEK version {version} does not exist.",
                details={"kek_version": version},
            )
        keys = {v: k for v, k in self._keys.items() if v != version}
        destroyed = sorted({*self._destroyed, version})
        self._write(self._current, keys, destroyed)
        self._load()


def kek_from_settings(settings: Settings) -> KekProvider:
    """``MAMORI_KEK`` when set; a PKCS#11 token when ``MAMORI_KEK_PROVIDER=pkcs11``; else the store's key file
    (default ``<key dir>/kek.json``, outside the home; never created here)."""
    provider = (settings.kek_provider or "file").lower()
    if settings.kek or provider == "env":
        if not settings.kek:
            raise _bad_config("MAMORI_KEK が設定されていません。", "MAMORI_KEK is not set.")
        return EnvKekProvider(settings.kek)
    if provider == "pkcs11":
        from mamori.kernel.crypto.pkcs11 import Pkcs11KekProvider

        if not settings.pkcs11_module or not settings.pkcs11_pin:
            raise _bad_config(
                "PKCS#11 には MAMORI_PKCS11_MODULE と MAMORI_PKCS11_PIN が必要です。",
                "the PKCS#11 provider needs MAMORI_PKCS11_MODULE and MAMORI_PKCS11_PIN.",
            )
        return Pkcs11KekProvider(
            settings.pkcs11_module,
            token_label=settings.pkcs11_token_label,
            pin=settings.pkcs11_pin,
            key_label=settings.pkcs11_key_label,
        )
    if provider != "file":
        raise _bad_config(
            "MAMORI_KEK_PROVIDER は file / env / pkcs11 のいずれかです。",
            "MAMORI_KEK_PROVIDER must be file, env or pkcs11.",
        )
    return FileKekProvider(settings.resolved_key_file(), home=settings.home_path)
