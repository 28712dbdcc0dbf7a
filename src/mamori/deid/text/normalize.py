"""Width normalisation that keeps offsets.

Full-width ASCII (０-９, Ａ-Ｚ, ＠, －…), the ideographic space, half-width katakana and the many dash
characters are mapped one character to one character, so an offset in the normalised text is the same offset
in the original text. Characters whose NFKC form is longer than one character (㈱, ㍻) are left unchanged, so
the position map is the identity and never needs to be stored.
"""

from __future__ import annotations

import re
import unicodedata

_DASHES = "‐‑‒–—―−－﹣"  # hyphen, non-breaking hyphen, figure/en/em dash, bar, minus, full-width minus, small


def _build_table() -> dict[int, str]:
    table: dict[int, str] = {}
    for cp in list(range(0xFF01, 0xFF5F)) + list(range(0xFF61, 0xFFA0)) + [0x3000]:
        ch = chr(cp)
        norm = unicodedata.normalize("NFKC", ch)
        if len(norm) == 1 and norm != ch:
            table[cp] = norm
    for ch in _DASHES:
        table[ord(ch)] = "-"
    table[0x3000] = " "
    table[0x00A0] = " "
    return table


_TABLE = _build_table()
_NEEDS = re.compile("[" + "".join(re.escape(chr(c)) for c in sorted(_TABLE)) + "]+")


def _fold(m: re.Match[str]) -> str:
    return m.group().translate(_TABLE)


def normalize(text: str) -> str:
    """Return ``text`` with widths folded; ``len(normalize(t)) == len(t)`` always holds."""
    return _NEEDS.sub(_fold, text)  # only the runs that need folding go through translate()
