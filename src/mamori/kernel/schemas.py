"""The base of every input shape: text may not carry NUL or other control characters (PostgreSQL refuses NUL in
text; control characters have no place in names, codes or notes). Tab and newlines are allowed."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, field_validator

from mamori.kernel.validation import Invalid

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _check(value: Any) -> Any:
    if isinstance(value, str):
        if _CONTROL.search(value):
            raise Invalid("制御文字は使えません", "control characters are not allowed")
    elif isinstance(value, list | tuple):
        for item in value:
            _check(item)
    return value


class InputModel(BaseModel):
    @field_validator("*", mode="before")
    @classmethod
    def _no_control_characters(cls, value: Any) -> Any:
        return _check(value)
