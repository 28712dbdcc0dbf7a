"""Finding types, their labels and priorities, and the Finding record every detector returns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

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
