"""One error family: every expected failure is a MamoriError with a stable code, an optional rule id and a
message in Japanese and English. The CLI prints one line and exits non-zero; the API renders problem+json.

Messages never contain personal data: callers pass ids, field names and counts, never values.
"""

from __future__ import annotations

from collections.abc import Callable

# How a rule is cited to staff — its article (「法第33条第5項、施行令第11条」): registered by mamori.composition from
# mamori.law.articles (the kernel does not know the law); None → the bare rule id only.
_citer: Callable[[str, str], str] | None = None


def register_citer(citer: Callable[[str, str], str] | None) -> None:
    global _citer
    _citer = citer


def cite(rule_id: str | None, lang: str = "ja") -> str | None:
    """The article(s) ``rule_id`` implements, for staff texts; None without a rule or a registered citer."""
    if rule_id is None or _citer is None:
        return None
    try:
        return _citer(rule_id, lang)
    except LookupError:
        return None


class MamoriError(Exception):
    code: str = "error"
    http_status: int = 400
    exit_code: int = 1

    def __init__(
        self,
        message_ja: str,
        message_en: str,
        *,
        rule_id: str | None = None,
        code: str | None = None,
        details: dict[str, object] | None = None,
    ) -> None:
        super().__init__(message_en)
        self.message_ja = message_ja
        self.message_en = message_en
        self.rule_id = rule_id
        if code is not None:
            self.code = code
        self.details = details or {}

    def message(self, lang: str = "ja") -> str:
        return self.message_en if lang == "en" else self.message_ja

    def one_line(self, lang: str = "ja") -> str:
        """Staff text: the code, the rule id and its article (「[R-35-1]（法第35条）」), the message."""
        article = cite(self.rule_id, lang)
        rule = f" [{self.rule_id}]" if self.rule_id else ""
        if article:
            rule += f" ({article})" if lang == "en" else f"（{article}）"
        prefix = "エラー" if lang != "en" else "error"
        return f"{prefix} ({self.code}){rule}: {self.message(lang)}"

    def to_dict(self, lang: str = "ja") -> dict[str, object]:
        return {
            "code": self.code,
            "rule_id": self.rule_id,
            "article": cite(self.rule_id, lang),
            "message": self.message(lang),
            "message_ja": self.message_ja,
            "message_en": self.message_en,
            "details": self.details,
        }


class NotFound(MamoriError):
    code = "not_found"
    http_status = 404


class ValidationFailed(MamoriError):
    code = "invalid_input"
    http_status = 422


class PolicyDenied(MamoriError):
    """A legal rule or a permission refused the action; `rule_id` names the rule."""

    code = "denied"
    http_status = 403
    exit_code = 3


class Conflict(MamoriError):
    code = "conflict"
    http_status = 409


class ConfigurationError(MamoriError):
    code = "configuration"
    http_status = 500
    exit_code = 2


class IntegrityFailure(MamoriError):
    """Tamper evidence or a failed decryption: something was changed that must not change."""

    code = "integrity"
    http_status = 500
    exit_code = 4


class PreconditionFailed(MamoriError):
    """The resource changed since the caller read it (optimistic concurrency, If-Match)."""

    code = "version_conflict"
    http_status = 412


class Unauthenticated(MamoriError):
    code = "unauthenticated"
    http_status = 401
    exit_code = 5
