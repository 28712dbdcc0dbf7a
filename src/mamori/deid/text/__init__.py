"""Personal information in free text: detect and redact, Japanese and English (issue 6).

Public API::

    detect(text, *, types=None, sensitive=True, ner=None) -> list[Finding]   # ner: see .ner (GiNZA, optional)
    redact(text, policy=None, *, key=None, lang="ja") -> str
    Policy(default="label", by_type={...}); OPERATORS
    pseudonym(value, type, key, *, lang="ja") -> str
    register() -> None          # registers scan() with mamori.kernel.registry
    scan(text) -> list[TextFinding]

要配慮 flags (R-2.3-1) are findings of type ``sensitive:<category>`` with ``sensitive=True``.
"""

from __future__ import annotations

from mamori.deid.text.detect import PII_TYPES, Finding, detect
from mamori.deid.text.operators import OPERATORS, Policy, apply, pseudonym
from mamori.deid.text.sensitive import RULE_ID as SENSITIVE_RULE_ID
from mamori.kernel.registry import TextFinding, register_text_scanner

__all__ = [
    "OPERATORS",
    "PII_TYPES",
    "SENSITIVE_RULE_ID",
    "Finding",
    "Policy",
    "apply",
    "detect",
    "pseudonym",
    "redact",
    "register",
    "scan",
]


def redact(text: str, policy: Policy | None = None, *, key: bytes | None = None, lang: str = "ja") -> str:
    """Redact ``text`` with ``policy`` (default: type labels; 要配慮 flags kept for review)."""
    return apply(text, detect(text), policy or Policy(), key=key, lang=lang)


def scan(text: str) -> list[TextFinding]:
    """The registry scanner: PII findings and 要配慮 flags (sensitive=True, R-2.3-1)."""
    return [TextFinding(f.type, f.start, f.end, f.sensitive) for f in detect(text)]


def register() -> None:
    register_text_scanner(scan)
