"""Age in whole years on a day, as Japanese law counts it (年齢計算ニ関スル法律; 民法143).

A person attains a new age at the end of the day before each birthday, so on the birthday itself (and for
someone born on 29 February, on 1 March in a common year) they are that age — and on any earlier day of that
year they are not yet.
"""

from __future__ import annotations

from datetime import date


def age_on(birth: date, on: date) -> int:
    """Whole years of age on the calendar day ``on`` (0 before the first birthday)."""
    if on < birth:
        return 0
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def under(years: int, birth: date, on: date) -> bool:
    """Whether a person born on ``birth`` is younger than ``years`` on ``on`` (e.g. under 16 for R-R8-4)."""
    return age_on(birth, on) < years
