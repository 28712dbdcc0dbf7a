"""What an audit entry is: the validated input (:class:`AuditEntry`), a stored entry read back, a signed
checkpoint, and the Ed25519 signing key derived from its keystore seed. Used by the writer and by readers."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy.engine import Row

from mamori.kernel.audit.chain import CHECKPOINT_ORIGIN, DetailValue, format_at, parse_at
from mamori.kernel.errors import ConfigurationError, ValidationFailed

DECISIONS = frozenset({"allow", "deny", "info"})
# `reason` is a machine code such as "purpose_not_notified" — never free text, never a personal value.
REASON_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:\-]{0,63}")
MAX_TEXT = 256
MAX_ITEMS = 100_000  # subject ids per entry: an import batch (CLI allows 20 000 rows) is one entry
_SEED_INFO = b"mamori/audit/ed25519-signing/v1"


def _invalid(name: str, ja: str, en: str) -> ValidationFailed:
    return ValidationFailed(
        f"監査エントリーの項目 {name} が不正です: {ja}",
        f"audit entry field {name} is invalid: {en}",
        code="audit_entry_invalid",
        details={"field": name},
    )


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _check_text(name: str, value: object, *, required: bool = True) -> None:
    if value is None and not required:
        return
    if not isinstance(value, str):
        raise _invalid(name, "文字列ではありません", "not a string")
    if required and not value:
        raise _invalid(name, "空です", "empty")
    if len(value) > MAX_TEXT:
        raise _invalid(name, "長すぎます", "too long")
    if _CONTROL.search(value) is not None:
        raise _invalid(name, "制御文字を含みます", "contains a control character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise _invalid(name, "UTF-8 にできません", "not encodable as UTF-8") from None


@dataclass(frozen=True)
class AuditEntry:
    """What one audited event says. Every field is a label, a code or an opaque id — never a personal value.

    - ``actor``: the actor label (``kind:id``), ``actor_role``: the role name;
    - ``action``: e.g. ``customer.read``; ``purpose``: the declared purpose code (or None);
    - ``subject_ids``: random opaque subject ids; ``fields``: field NAMES (never their values);
    - ``decision``: ``allow`` / ``deny`` / ``info``; ``rule_ids``: rule ids such as ``R-18-1``;
    - ``reason``: a short machine CODE (``[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}``, e.g. the policy's denial code),
      the only field a caller could misuse for text — it must never carry data, and the pattern refuses spaces;
    - ``details``: a flat mapping of small str/int/bool/None values (counts, ids, codes);
    - ``at``: when it happened (aware); None means the writer's clock at append time.
    """

    actor: str
    actor_role: str
    action: str
    purpose: str | None
    subject_ids: tuple[str, ...]
    fields: tuple[str, ...]
    decision: str
    rule_ids: tuple[str, ...] = ()
    reason: str | None = None
    details: Mapping[str, DetailValue] = field(default_factory=dict)
    at: datetime | None = None

    def __post_init__(self) -> None:
        _check_text("actor", self.actor)
        _check_text("actor_role", self.actor_role)
        _check_text("action", self.action)
        _check_text("purpose", self.purpose, required=False)
        if self.decision not in DECISIONS:
            raise _invalid("decision", "allow / deny / info のいずれかです", "must be allow, deny or info")
        if self.reason is not None and (
            not isinstance(self.reason, str) or REASON_PATTERN.fullmatch(self.reason) is None
        ):
            raise _invalid("reason", "コード（英数字と _ . : -）のみ", "must be a short code, not text")
        for name in ("subject_ids", "fields", "rule_ids"):
            value: Any = getattr(self, name)
            if isinstance(value, str | bytes) or not isinstance(value, Sequence | frozenset | set):
                raise _invalid(name, "文字列の列ではありません", "not a sequence of strings")
            items = tuple(value)
            if len(items) > MAX_ITEMS:
                raise _invalid(name, "多すぎます", "too many items")
            for item in items:
                _check_text(name, item)
            object.__setattr__(self, name, items)
        if not isinstance(self.details, Mapping):
            raise _invalid("details", "マッピングではありません", "not a mapping")
        clean: dict[str, DetailValue] = {}
        for key, val in self.details.items():
            _check_text("details", key)
            if val is not None and not isinstance(val, str | int | bool):
                raise _invalid(
                    "details", "値は文字列・整数・真偽値・null のみ", "values must be str/int/bool/null"
                )
            if isinstance(val, str):
                _check_text("details", val, required=False)
            clean[key] = val
        object.__setattr__(self, "details", MappingProxyType(clean))
        if self.at is not None and (
            not isinstance(self.at, datetime) or self.at.tzinfo is None or self.at.utcoffset() is None
        ):
            raise _invalid("at", "タイムゾーン付きの日時が必要です", "must be an aware datetime")


@dataclass(frozen=True)
class StoredEntry:
    """An entry as read back from the log, with its position and hashes."""

    seq: int
    at: datetime
    actor: str
    actor_role: str
    action: str
    purpose: str | None
    subject_ids: tuple[str, ...]
    fields: tuple[str, ...]
    decision: str
    rule_ids: tuple[str, ...]
    reason: str | None
    details: dict[str, DetailValue]
    leaf_hash: bytes
    chain_hash: bytes


@dataclass(frozen=True)
class Checkpoint:
    """A signed tree head over the first ``tree_size`` entries."""

    tree_size: int
    at: datetime
    root_hash: bytes
    chain_hash: bytes
    signature: bytes
    key_id: str

    def anchor_line(self) -> str:
        """The JSON line appended to the anchor file (outside the database)."""
        return json.dumps(
            {
                "origin": CHECKPOINT_ORIGIN,
                "tree_size": self.tree_size,
                "at": format_at(self.at),
                "root_hash": base64.b64encode(self.root_hash).decode(),
                "chain_hash": base64.b64encode(self.chain_hash).decode(),
                "signature": base64.b64encode(self.signature).decode(),
                "key_id": self.key_id,
            },
            sort_keys=True,
            separators=(",", ":"),
        )


def signing_key_from_seed(seed: bytes) -> Ed25519PrivateKey:
    """The audit signing key derived from a secret of at least 32 bytes (HKDF-SHA256, audit-specific info)."""
    if not isinstance(seed, bytes) or len(seed) < 32:
        raise ConfigurationError(
            "監査署名鍵の種は 32 バイト以上必要です",
            "the audit signing seed must be at least 32 bytes",
            code="configuration",
        )
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_SEED_INFO).derive(seed)
    return Ed25519PrivateKey.from_private_bytes(derived)


def public_key_raw(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def _stored(row: Row[Any]) -> StoredEntry:
    m = row._mapping
    return StoredEntry(
        seq=int(m["seq"]),
        at=parse_at(m["at"]),
        actor=m["actor"],
        actor_role=m["actor_role"],
        action=m["action"],
        purpose=m["purpose"],
        subject_ids=tuple(json.loads(m["subject_ids"])),
        fields=tuple(json.loads(m["fields"])),
        decision=m["decision"],
        rule_ids=tuple(json.loads(m["rule_ids"])),
        reason=m["reason"],
        details=dict(json.loads(m["details"])),
        leaf_hash=bytes(m["leaf_hash"]),
        chain_hash=bytes(m["chain_hash"]),
    )


def _checkpoint(row: Row[Any]) -> Checkpoint:
    m = row._mapping
    return Checkpoint(
        tree_size=int(m["tree_size"]),
        at=parse_at(m["at"]),
        root_hash=bytes(m["root_hash"]),
        chain_hash=bytes(m["chain_hash"]),
        signature=bytes(m["signature"]),
        key_id=m["key_id"],
    )
