"""Redaction operators and per-type policies.

Operators: ``mask`` (●●●), ``label`` (<電話番号>), ``pseudonym`` (keyed HMAC-SHA256: the same value and key
always give the same label, e.g. <人名_3f2a9c>), ``remove`` and ``keep``. 要配慮 flags (R-2.3-1) are kept by
default: they are for human review, not for silent redaction.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from mamori.deid.text.detect import TYPE_LABELS_EN, TYPE_LABELS_JA, Finding
from mamori.deid.text.errors import PolicyInvalid

OPERATORS: Final = ("mask", "label", "pseudonym", "remove", "keep")
MASK_CHAR: Final = "●"
SENSITIVE_RULE_ID: Final = "R-2.3-1"


def _label(ftype: str, lang: str) -> str:
    if ftype.startswith("sensitive:"):
        return "要配慮" if lang != "en" else "SENSITIVE"
    if ftype.startswith("flag:"):
        return "要確認" if lang != "en" else "REVIEW"
    labels = TYPE_LABELS_EN if lang == "en" else TYPE_LABELS_JA
    return labels.get(ftype, ftype)


def pseudonym(value: str, ftype: str, key: bytes, *, lang: str = "ja") -> str:
    """<label_xxxxxx>: HMAC-SHA256(key, type NUL NFKC(value)) truncated to 6 hex digits."""
    canon = unicodedata.normalize("NFKC", value).strip()
    mac = hmac.new(key, f"{ftype}\0{canon}".encode(), hashlib.sha256).hexdigest()[:6]
    return f"<{_label(ftype, lang)}_{mac}>"


@dataclass(frozen=True)
class Policy:
    """Operator per type; ``default`` for PII types not listed. 要配慮 flags (``sensitive:*``) are kept unless
    ``sensitive`` or the exact flag type is listed; other review flags (``flag:*``) are always kept."""

    default: str = "label"
    by_type: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for op in [self.default, *self.by_type.values()]:
            if op not in OPERATORS:
                raise PolicyInvalid(
                    f"不明な演算子です: {op}（mask, label, pseudonym, remove, keep のいずれか）",
                    f"unknown operator: {op} (one of mask, label, pseudonym, remove, keep)",
                )

    def operator_for(self, ftype: str) -> str:
        if ftype in self.by_type:
            return self.by_type[ftype]
        if ftype.startswith("sensitive:"):
            return self.by_type.get("sensitive", "keep")
        if ftype.startswith("flag:"):
            return "keep"
        return self.default

    @classmethod
    def from_json(cls, path: Path) -> Policy:
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise PolicyInvalid(
                "ポリシーファイルを読めません（JSON を確認してください）",
                "cannot read the policy file (check the JSON)",
            ) from exc
        if not isinstance(raw, dict):
            raise PolicyInvalid(
                "ポリシーは JSON オブジェクトである必要があります", "policy must be a JSON object"
            )
        default = raw.get("default", "label")
        types = raw.get("types", {k: v for k, v in raw.items() if k != "default"})
        if not isinstance(default, str) or not isinstance(types, dict):
            raise PolicyInvalid("ポリシーの形式が不正です", "malformed policy")
        return cls(default=default, by_type={str(k): str(v) for k, v in types.items()})

    @classmethod
    def from_pairs(cls, pairs: Sequence[str], base: Policy | None = None) -> Policy:
        """Parse ``TYPE=operator`` pairs (``default=mask`` sets the default)."""
        base = base or cls()
        default = base.default
        by_type = dict(base.by_type)
        for pair in pairs:
            ftype, sep, op = pair.partition("=")
            if not sep or not ftype.strip():
                raise PolicyInvalid(
                    "--operator は TYPE=演算子 の形式で指定してください", "--operator must be TYPE=operator"
                )
            if ftype.strip() == "default":
                default = op.strip()
            else:
                by_type[ftype.strip()] = op.strip()
        return cls(default=default, by_type=by_type)


def apply(
    text: str,
    findings: Sequence[Finding],
    policy: Policy,
    *,
    key: bytes | None = None,
    lang: str = "ja",
) -> str:
    """Return ``text`` with every finding replaced by its operator's output. Overlapping findings: the first
    by start offset wins (detect() already resolves overlaps between PII types)."""
    parts: list[str] = []
    pos = 0
    for f in sorted(findings, key=lambda x: (x.start, -(x.end - x.start))):
        if f.start < pos:
            continue
        op = policy.operator_for(f.type)
        if op == "keep":
            continue
        value = text[f.start : f.end]
        parts.append(text[pos : f.start])
        if op == "mask":
            parts.append(MASK_CHAR * len(value))
        elif op == "label":
            parts.append(f"<{_label(f.type, lang)}>")
        elif op == "pseudonym":
            if key is None:
                raise PolicyInvalid(
                    "仮名化には鍵が必要です", "the pseudonym operator needs a key", rule_id=None
                )
            parts.append(pseudonym(value, f.type, key, lang=lang))
        # remove: nothing
        pos = f.end
    parts.append(text[pos:])
    return "".join(parts)


def masked_preview(value: str) -> str:
    """A preview that shows the shape, never the value: letters, digits and kana/kanji become ●."""
    return "".join(MASK_CHAR if ch.isalnum() else ch for ch in value)
