"""``manifest.json``: what a backup holds, how to check it, and a MAC that says mamori wrote it.

The manifest names the store, when the copy began and ended, the mamori version, every file with its SHA-256
and size, per-table row counts (and, for SQLite, a content digest per table), the audit log's size and head,
the audit sequence number before the data copy began (to drop outbox entries the log already holds) and the
length of the key-destruction journal when the backup began. It holds ids, counts and hashes only.

It is authenticated with HMAC-SHA256 under the keystore's system key ``backup_manifest``; a copy of that key,
wrapped by the KEK, travels in the manifest so that a restore into a store whose keystore was lost can still
check it (only a KEK holder can unwrap it, so only a KEK holder could have forged it).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Any

from mamori.kernel.backup.stores import seal_file, sha256_file
from mamori.kernel.crypto import Keystore
from mamori.kernel.crypto.kek import KekProvider
from mamori.kernel.errors import IntegrityFailure

MANIFEST = "manifest.json"
KIND = "mamori-backup"
FORMAT = 1
MAC_KEY_NAME = "backup_manifest"
_WRAP_CONTEXT = b"backup-manifest|"


def canonical(doc: Mapping[str, Any]) -> bytes:
    body = {k: v for k, v in doc.items() if k != "mac"}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def sign(doc: dict[str, Any], keystore: Keystore, store_id: str) -> None:
    key = keystore.system_key(MAC_KEY_NAME)
    version, wrapped = keystore.kek.wrap(key, context=_WRAP_CONTEXT + store_id.encode())
    doc["mac"] = {
        "alg": "HMAC-SHA256",
        "key": f"system:{MAC_KEY_NAME}",
        "kek_version": version,
        "wrapped_key": base64.b64encode(wrapped).decode(),
    }
    doc["mac"]["value"] = hmac.new(key, canonical(doc), hashlib.sha256).hexdigest()


def _tampered(name: str, ja_why: str, en_why: str) -> IntegrityFailure:
    return IntegrityFailure(
        f"バックアップが改ざんされているため復元できません: {name}（{ja_why}）",
        f"the backup was tampered with, restore refused: {name} ({en_why})",
        code="backup_tampered",
        details={"file": name},
    )


def read(backup_dir: Path) -> dict[str, Any]:
    """Parse and shape-check the manifest (its MAC is checked by :func:`check_mac`)."""
    path = backup_dir / MANIFEST
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise IntegrityFailure(
            f"{backup_dir} に {MANIFEST} がありません（mamori のバックアップではありません）。",
            f"{backup_dir} holds no {MANIFEST} (not a mamori backup).",
            code="backup_malformed",
        ) from None
    except (OSError, ValueError):
        raise _tampered(MANIFEST, "JSON として読めません", "not readable JSON") from None
    ok = (
        isinstance(doc, dict)
        and doc.get("kind") == KIND
        and doc.get("format") == FORMAT
        and isinstance(doc.get("store_id"), str)
        and isinstance(doc.get("files"), dict)
        and isinstance(doc.get("mac"), dict)
        and isinstance(doc.get("audit"), dict)
        and isinstance(doc.get("journal"), dict)
    )
    if ok:
        for name, entry in doc["files"].items():
            ok = ok and _safe_name(name) and isinstance(entry, dict)
            ok = ok and isinstance(entry.get("sha256"), str) and isinstance(entry.get("size"), int)
            ok = ok and entry.get("store") in ("data", "audit", "keystore", "journal")
    if not ok:
        raise _tampered(MANIFEST, "形式が不正です", "malformed")
    return doc  # type: ignore[no-any-return]


def _safe_name(name: object) -> bool:
    if not isinstance(name, str) or not name or name == MANIFEST:
        return False
    p = PurePosixPath(name)
    return not p.is_absolute() and ".." not in p.parts and "\\" not in name


def check_files(backup_dir: Path, doc: Mapping[str, Any]) -> None:
    """Every file's size and SHA-256 against the manifest; the first mismatch is named."""
    for name, entry in sorted(doc["files"].items()):
        path = backup_dir / name
        if not path.is_file():
            raise _tampered(name, "ファイルがありません", "the file is missing")
        if path.stat().st_size != entry["size"] or sha256_file(path) != entry["sha256"]:
            raise _tampered(name, "SHA-256 が一致しません", "its SHA-256 does not match")


def check_mac(doc: Mapping[str, Any], keystore: Keystore | None, kek: KekProvider) -> None:
    """Recompute the manifest's MAC with ``backup_manifest`` from the current keystore or, when that keystore
    does not hold it, unwrapped from the manifest with the KEK. Refuses on any mismatch."""
    mac = doc["mac"]
    key: bytes | None = None
    try:
        if keystore is not None and keystore.has_system_key(MAC_KEY_NAME):
            key = keystore.system_key(MAC_KEY_NAME)
    except Exception:  # a missing / unreadable keystore: fall back to the wrapped copy
        key = None
    if key is None:
        try:
            key = kek.unwrap(
                int(mac["kek_version"]),
                base64.b64decode(str(mac["wrapped_key"]), validate=True),
                context=_WRAP_CONTEXT + str(doc["store_id"]).encode(),
            )
        except Exception:  # wrong KEK, destroyed version or a forged blob: all refused alike
            raise _tampered(
                MANIFEST, "この KEK では署名を確認できません", "its MAC cannot be checked with this KEK"
            ) from None
    expected = hmac.new(key, canonical(doc), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, str(mac.get("value", ""))):
        raise _tampered(MANIFEST, "署名が一致しません", "its MAC does not match")


def write(backup_dir: Path, doc: Mapping[str, Any]) -> Path:
    path = backup_dir / MANIFEST
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    seal_file(path)
    return path
