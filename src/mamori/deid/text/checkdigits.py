"""Check digits for Japanese identifiers and payment cards."""

from __future__ import annotations


def my_number_valid(digits: str) -> bool:
    """個人番号 (My Number): 11 digits + 1 check digit (番号法施行令 / 総務省令 formula).

    With P(n) the n-th digit counted from the right of the first 11 digits and Q(n) = n+1 for n ≤ 6,
    n−5 for n ≥ 7: r = Σ P(n)·Q(n) mod 11; the check digit is 0 when r ≤ 1, else 11 − r.
    """
    if len(digits) != 12 or not digits.isascii() or not digits.isdigit():
        return False
    base = digits[:11]
    total = 0
    for n in range(1, 12):
        p = int(base[11 - n])
        q = n + 1 if n <= 6 else n - 5
        total += p * q
    r = total % 11
    check = 0 if r <= 1 else 11 - r
    return check == int(digits[11])


def my_number_check_digit(base11: str) -> int:
    for d in range(10):
        if my_number_valid(base11 + str(d)):
            return d
    raise ValueError("no check digit")  # pragma: no cover - every base has one


def corporate_number_valid(digits: str) -> bool:
    """法人番号: a leading check digit + 12 base digits.

    With P(n) the n-th base digit counted from the right and Q(n) = 1 for odd n, 2 for even n:
    check = 9 − (Σ P(n)·Q(n) mod 9).
    """
    if len(digits) != 13 or not digits.isascii() or not digits.isdigit():
        return False
    base = digits[1:]
    total = 0
    for n in range(1, 13):
        p = int(base[12 - n])
        total += p * (1 if n % 2 else 2)
    return 9 - (total % 9) == int(digits[0])


def corporate_check_digit(base12: str) -> int:
    total = sum(int(base12[12 - n]) * (1 if n % 2 else 2) for n in range(1, 13))
    return 9 - (total % 9)


def luhn_valid(digits: str) -> bool:
    if not digits.isascii() or not digits.isdigit() or len(digits) < 2:
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def luhn_check_digit(partial: str) -> int:
    for d in range(10):
        if luhn_valid(partial + str(d)):
            return d
    raise ValueError("no check digit")  # pragma: no cover
