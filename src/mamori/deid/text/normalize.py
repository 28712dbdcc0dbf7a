"""Width normalisation that keeps offsets.

Full-width ASCII (０-９, Ａ-Ｚ, ＠, －…), the ideographic space, half-width katakana and the many dash
characters are mapped one character to one character, so an offset in the normalised text is the same offset
in the original text. Characters whose NFKC form is longer than one character (㈱, ㍻) are left unchanged, so
the position map is the identity and never needs to be stored.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

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


# --- a view of the text for number detectors: OCR noise in numbers undone -----------------------------------
#
# Scanned forms and hand-typed notes write numbers as "O9O-l736-22O8", "０ ８ ７ ３ ３ ６ l" or "O823 - 33 - 4l86".
# ``digits_view`` gives the number detectors a copy with (1) the letters O/o (zero) and l/I (one) read as digits
# inside runs of digit-like tokens that hold at least two real digits, (2) the spaces between single spaced digits
# and around a dash between digits removed, (3) a ー between digits read as "-". Only (2) changes the length, so
# the view comes with the original offset of each of its characters.

_CONFUSABLE = str.maketrans({"O": "0", "o": "0", "l": "1", "I": "1", "ー": "-"})
# A run of tokens made of digits and O/o/l/I only, separated by spaces, dashes or brackets, not touching a letter.
_NUMBERISH_RUN = re.compile(r"(?<![A-Za-z0-9])[0-9OolI]+(?:[ \-ー()]{1,3}[0-9OolI]+)*(?![A-Za-z0-9])")
# \d[ -ー()]{0,3}[OolI] | [OolI][ -ー()]{0,3}\d | \dー | \d \d | \d +- | - +\d, written with the first character
# as a class ahead of the alternatives (the engine then skips other characters fast).
_OCR_HINT = re.compile(
    r"[\dOolI\-](?:(?<=\d)(?:[ \-ー()]{0,3}[OolI]|ー| \d| +-)|(?<=[OolI])[ \-ー()]{0,3}\d|(?<=-) +\d)"
)
_REAL_DIGITS = re.compile(r"\d")
# Single spaces between single digits ("2 4 4"), then spaces around the dashes of a three-group number
# ("0823 - 33 - 4186"; not "2026 - 4821": a range, a pause).
_SPACED_DIGITS = re.compile(r"(?<=\d) (?=\d)")
_SPACED_DASHES = re.compile(r"(?<=\d)( *)-( *)\d{1,5}( *)-( *)(?=\d)")


def _fold_run(m: re.Match[str]) -> str:
    run = m.group()
    digits = len(_REAL_DIGITS.findall(run))
    if digits == 0 or (digits == 1 and len(run.replace(" ", "")) < 2):
        return run
    return run.translate(_CONFUSABLE)


@lru_cache(maxsize=4)
def digits_view(norm: str) -> tuple[str, tuple[int, ...] | None]:
    """``(view, positions)``: the view of ``norm`` for number detectors and, when it is shorter than ``norm``,
    the offset in ``norm`` of each character of the view (``None``: the view has the same offsets)."""
    if not _OCR_HINT.search(norm):
        return norm, None
    folded = _NUMBERISH_RUN.sub(_fold_run, norm)
    positions: tuple[int, ...] | None = None
    drop = [
        m.start()
        for m in _SPACED_DIGITS.finditer(folded)
        if (m.start() < 2 or not folded[m.start() - 2].isdigit())
        and (m.end() + 1 >= len(folded) or not folded[m.end() + 1].isdigit())
    ]
    if drop:
        folded, positions = _without(folded, positions, drop)
    drop = [i for m in _SPACED_DASHES.finditer(folded) for g in (1, 2, 3, 4) for i in range(*m.span(g))]
    if drop:
        folded, positions = _without(folded, positions, drop)
    return folded, positions


def _without(text: str, positions: tuple[int, ...] | None, drop: list[int]) -> tuple[str, tuple[int, ...]]:
    dropped = set(drop)
    keep = [i for i in range(len(text)) if i not in dropped]
    new_positions = tuple(keep if positions is None else (positions[i] for i in keep))
    return "".join(text[i] for i in keep), new_positions


def view_span(positions: tuple[int, ...] | None, start: int, end: int) -> tuple[int, int]:
    """The span in the original text of ``view[start:end]``."""
    if positions is None:
        return start, end
    return positions[start], positions[end - 1] + 1
