"""Errors of the crypto package (all MamoriError subclasses, messages without personal values)."""

from __future__ import annotations

from mamori.kernel.errors import ConfigurationError, MamoriError


class KeyDestroyed(MamoriError):
    """The subject's data key was destroyed (crypto-shredded) or never existed: their data is unreadable."""

    code = "key_destroyed"
    http_status = 410

    def __init__(self, count: int = 1, *, details: dict[str, object] | None = None) -> None:
        super().__init__(
            f"データ鍵が破棄済みまたは存在しません（{count} 件）。",
            f"Data key destroyed or unknown ({count} subject(s)).",
            rule_id=None,
            details=details,
        )


class KekUnavailable(ConfigurationError):
    """A key-encryption-key version is needed but its key material is absent or was destroyed."""

    code = "kek_unavailable"
