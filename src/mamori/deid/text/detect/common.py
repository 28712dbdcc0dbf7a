"""Finding types, their labels and priorities, and the Finding record every detector returns."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Final, cast

PII_TYPES: Final = (
    "email",
    "phone",
    "postal_code",
    "my_number",
    "corporate_number",
    "credit_card",
    "bank_account",
    "date_of_birth",
    "address",
    "person",
    "ip_address",
)

TYPE_LABELS_JA: Final = {
    "email": "メールアドレス",
    "phone": "電話番号",
    "postal_code": "郵便番号",
    "my_number": "個人番号",
    "corporate_number": "法人番号",
    "credit_card": "カード番号",
    "bank_account": "口座番号",
    "date_of_birth": "生年月日",
    "address": "住所",
    "person": "人名",
    "ip_address": "IPアドレス",
}
TYPE_LABELS_EN: Final = {
    "email": "EMAIL",
    "phone": "PHONE",
    "postal_code": "POSTAL_CODE",
    "my_number": "MY_NUMBER",
    "corporate_number": "CORPORATE_NUMBER",
    "credit_card": "CREDIT_CARD",
    "bank_account": "BANK_ACCOUNT",
    "date_of_birth": "DATE_OF_BIRTH",
    "address": "ADDRESS",
    "person": "PERSON",
    "ip_address": "IP_ADDRESS",
}

# Higher wins when two findings overlap and neither contains the other by length rule.
_PRIORITY: Final = {
    "my_number": 9,
    "corporate_number": 9,
    "credit_card": 9,
    "email": 8,
    "ip_address": 8,
    "bank_account": 7,
    "phone": 7,
    "postal_code": 6,
    "date_of_birth": 6,
    "address": 5,
    "person": 4,
}


@dataclass(frozen=True, slots=True)
class Finding:
    """One detected span of the original text. ``sensitive`` marks 要配慮 flags (R-2.3-1)."""

    type: str
    start: int
    end: int
    sensitive: bool = False


class _LazyPattern:
    """A regular expression compiled on first use. Compiling the detectors' patterns (large character classes
    of kanji and kana) costs ~0.2 s, most of it for patterns a short text never reaches. The first call of a
    method compiles the pattern and puts the compiled pattern's methods on the instance, where they shadow these
    ones: later calls cost about what a call on the compiled pattern costs."""

    def __init__(self, pattern: str, flags: int) -> None:
        self.pattern = pattern
        self._flags = flags

    def _compile(self) -> re.Pattern[str]:
        compiled = re.compile(self.pattern, self._flags)
        for name in ("match", "search", "finditer", "fullmatch", "sub", "subn", "findall", "split"):
            setattr(self, name, getattr(compiled, name))
        return compiled

    def match(self, *args: Any, **kwargs: Any) -> Any:
        return self._compile().match(*args, **kwargs)

    def search(self, *args: Any, **kwargs: Any) -> Any:
        return self._compile().search(*args, **kwargs)

    def finditer(self, *args: Any, **kwargs: Any) -> Any:
        return self._compile().finditer(*args, **kwargs)

    def fullmatch(self, *args: Any, **kwargs: Any) -> Any:
        return self._compile().fullmatch(*args, **kwargs)

    def sub(self, *args: Any, **kwargs: Any) -> Any:
        return self._compile().sub(*args, **kwargs)

    def subn(self, *args: Any, **kwargs: Any) -> Any:
        return self._compile().subn(*args, **kwargs)

    def findall(self, *args: Any, **kwargs: Any) -> Any:
        return self._compile().findall(*args, **kwargs)

    def split(self, *args: Any, **kwargs: Any) -> Any:
        return self._compile().split(*args, **kwargs)


def lazy_compile(pattern: str, flags: int = 0) -> re.Pattern[str]:
    """``re.compile(pattern, flags)``, deferred until the pattern is first used (only its methods and
    ``pattern`` are offered)."""
    return cast(re.Pattern[str], _LazyPattern(pattern, flags))
