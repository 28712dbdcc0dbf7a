"""The rotation report and the small checks and errors the keystore shares."""

from __future__ import annotations

from dataclasses import dataclass, field

from mamori.kernel.crypto.keystore.tables import SUBJECT_ID_MAX, SYSTEM_KEY_NAME_MAX
from mamori.kernel.errors import ConfigurationError, ValidationFailed


@dataclass
class RotationReport:
    rewrapped: int
    to_version: int
    remaining_on_old: int
    destroyed_versions: list[int] = field(default_factory=list)
    # Keys no available KEK version opens (lost or written under a wrong key): skipped, never fatal.
    unreadable: int = 0
    # Of those, data keys recorded as destroyed because ``drop_unreadable`` was given.
    dropped: int = 0


def _kek_mismatch(version: int) -> ConfigurationError:
    return ConfigurationError(
        f"この KEK（版 {version}）はこの鍵保管庫の鍵ではありません（鍵確認値が一致しません）。"
        "鍵ファイル・MAMORI_KEK を確認してください。何も書き込んでいません。",
        f"this KEK (version {version}) is not this keystore's key (the key-check value does not open): "
        "check the key file / MAMORI_KEK. Nothing was written.",
        code="kek_mismatch",
    )


def _check_subject_id(subject_id: object) -> str:
    if not isinstance(subject_id, str) or not 0 < len(subject_id) <= SUBJECT_ID_MAX:
        raise ValidationFailed(
            f"主体 ID が不正です（1〜{SUBJECT_ID_MAX} 文字の文字列が必要）。",
            f"A subject id must be a string of 1 to {SUBJECT_ID_MAX} characters.",
            code="bad_subject_id",
        )
    return subject_id


def _check_name(name: object) -> str:
    if not isinstance(name, str) or not 0 < len(name) <= SYSTEM_KEY_NAME_MAX:
        raise ValidationFailed(
            f"システム鍵の名前が不正です（1〜{SYSTEM_KEY_NAME_MAX} 文字）。",
            f"A system key name must be 1 to {SYSTEM_KEY_NAME_MAX} characters.",
            code="bad_key_name",
        )
    return name
