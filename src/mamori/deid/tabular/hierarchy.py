"""Generalisation hierarchies: ARX-style CSV files and built-in generators.

A hierarchy maps every original value of one column to a label at each level: level 0 is the value itself
(possibly top/bottom coded, R-43-1 peculiar values), the last level is normally ``*`` (fully suppressed).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from mamori.deid.tabular.errors import HierarchyError
from mamori.deid.tabular.regions import PREFECTURE_REGION, PREFECTURES

STAR = "*"


@dataclass(frozen=True)
class Hierarchy:
    """``table[value] = (label at level 0, label at level 1, …)``; every row has ``height + 1`` labels."""

    table: dict[str, tuple[str, ...]]
    name: str = ""
    depth: int = field(default=0)

    def __post_init__(self) -> None:
        if not self.table:
            raise HierarchyError(
                f"階層 {self.name} が空です。", f"hierarchy {self.name} is empty", code="deid_hierarchy"
            )
        depths = {len(row) for row in self.table.values()}
        if len(depths) != 1:
            raise HierarchyError(
                f"階層 {self.name} の行の列数が揃っていません。",
                f"hierarchy {self.name} has rows of different lengths",
            )
        object.__setattr__(self, "depth", depths.pop())

    @property
    def height(self) -> int:
        """Highest generalisation level (number of levels above the original value)."""
        return self.depth - 1

    def labels(self, value: str, level: int) -> str:
        return self.table[value][level]

    def check_covers(self, values: Iterable[str], column: str) -> None:
        missing = {v for v in values if v not in self.table}
        if missing:
            raise HierarchyError(
                f"列 {column} の値 {len(missing)} 種類が階層にありません。",
                f"{len(missing)} distinct value(s) of column {column} are missing from its hierarchy",
                details={"column": column, "missing_count": len(missing)},
            )

    def with_root(self) -> Hierarchy:
        """The same hierarchy with a single-root top level added if its top level has more than one label."""
        top = {row[-1] for row in self.table.values()}
        if len(top) == 1:
            return self
        return Hierarchy({v: (*row, STAR) for v, row in self.table.items()}, self.name)


def read_csv_hierarchy(source: str | Path | io.TextIOBase, *, name: str = "", sep: str = ";") -> Hierarchy:
    """Read an ARX-style hierarchy: one row per original value, one column per level, ``;``-separated."""
    if isinstance(source, str | Path):
        try:
            text = Path(source).read_text(encoding="utf-8-sig")
        except OSError as exc:
            raise HierarchyError(
                f"階層ファイル {name} を読めません。", f"cannot read hierarchy file for {name}"
            ) from exc
    else:
        text = source.read()
    table: dict[str, tuple[str, ...]] = {}
    for lineno, row in enumerate(csv.reader(io.StringIO(text), delimiter=sep), start=1):
        if not row or all(c == "" for c in row):
            continue
        if any(c == "" for c in row):
            raise HierarchyError(
                f"階層 {name} の {lineno} 行目に空の列があります。",
                f"hierarchy {name}: line {lineno} has an empty level",
            )
        if row[0] in table:
            raise HierarchyError(
                f"階層 {name} の {lineno} 行目の値が重複しています。",
                f"hierarchy {name}: line {lineno} repeats a value",
            )
        table[row[0]] = tuple(row)
    return Hierarchy(table, name)


def _as_int(value: str, name: str) -> int:
    try:
        return int(float(value))
    except ValueError as exc:
        raise HierarchyError(
            f"列 {name} に数値でない値があります。", f"column {name} has a non-numeric value"
        ) from exc


def numeric_hierarchy(
    values: Iterable[str],
    *,
    widths: Sequence[int] = (5, 10, 20),
    top: int | None = None,
    bottom: int | None = None,
    name: str = "",
) -> Hierarchy:
    """Bands of the given widths, then ``*``. Values ≥ ``top`` become ``"{top}+"`` and values < ``bottom`` become
    ``"<{bottom}"`` already at level 0 (top/bottom coding of peculiar values, R-43-1)."""
    table: dict[str, tuple[str, ...]] = {}
    for raw in set(values):
        x = _as_int(raw, name)
        row: list[str] = []
        if top is not None and x >= top:
            row = [f"{top}+"] * (len(widths) + 1)
        elif bottom is not None and x < bottom:
            row = [f"<{bottom}"] * (len(widths) + 1)
        else:
            row.append(str(x))
            for w in widths:
                lo = (x // w) * w
                hi = lo + w - 1
                if top is not None:
                    hi = min(hi, top - 1)
                if bottom is not None:
                    lo = max(lo, bottom)
                row.append(f"{lo}-{hi}")
        row.append(STAR)
        table[raw] = tuple(row)
    return Hierarchy(table, name)


def age_hierarchy(values: Iterable[str], *, top: int = 90, name: str = "age") -> Hierarchy:
    """Ages: value (ages ≥ 90 coded "90+", R-43-1) → 5-year → 10-year → 20-year bands → ``*``."""
    return numeric_hierarchy(values, widths=(5, 10, 20), top=top, name=name)


def prefecture_hierarchy(values: Iterable[str], *, name: str = "prefecture") -> Hierarchy:
    """都道府県 → 地方 (八地方区分) → ``*``."""
    table: dict[str, tuple[str, ...]] = {}
    for v in set(values):
        pref = _prefecture_of(v, name)
        table[v] = (v, PREFECTURE_REGION[pref], STAR)
    return Hierarchy(table, name)


_MUNICIPALITY = (
    re.compile(r"^(.+?郡.+?[町村])"),
    re.compile(r"^(.+?市.+?区)"),
    re.compile(r"^(.+?市)"),
    re.compile(r"^(.+?区)"),
    re.compile(r"^(.+?[町村])"),
)


def _prefecture_of(address: str, name: str) -> str:
    text = address.strip()
    for pref in PREFECTURES:
        if text.startswith(pref):
            return pref
    raise HierarchyError(
        f"列 {name} に都道府県で始まらない住所があります。",
        f"column {name} has an address that does not start with a prefecture",
    )


def municipality_of(address: str, name: str = "address") -> tuple[str, str]:
    """(都道府県, 都道府県+市区町村) of an address string that starts with a prefecture."""
    pref = _prefecture_of(address, name)
    rest = address.strip()[len(pref) :]
    for pattern in _MUNICIPALITY:
        m = pattern.match(rest)
        if m is not None:
            return pref, pref + m.group(1)
    raise HierarchyError(
        f"列 {name} に市区町村が読み取れない住所があります。",
        f"column {name} has an address without a recognisable municipality",
    )


def address_hierarchy(values: Iterable[str], *, name: str = "address") -> Hierarchy:
    """住所 → 市区町村 → 都道府県 → 地方 → ``*``."""
    table: dict[str, tuple[str, ...]] = {}
    for v in set(values):
        pref, muni = municipality_of(v, name)
        table[v] = (v, muni, pref, PREFECTURE_REGION[pref], STAR)
    return Hierarchy(table, name)


_DATE = re.compile(r"^(\d{4})[-/](\d{1,2})[-/](\d{1,2})")


def date_hierarchy(values: Iterable[str], *, name: str = "date") -> Hierarchy:
    """Dates (YYYY-MM-DD or YYYY/MM/DD) → YYYY-MM → YYYY → ``*``."""
    table: dict[str, tuple[str, ...]] = {}
    for v in set(values):
        m = _DATE.match(v.strip())
        if m is None:
            raise HierarchyError(
                f"列 {name} に日付でない値があります。", f"column {name} has a value that is not a date"
            )
        y, mo = m.group(1), int(m.group(2))
        table[v] = (v, f"{y}-{mo:02d}", y, STAR)
    return Hierarchy(table, name)


def postal_hierarchy(values: Iterable[str], *, name: str = "postal_code") -> Hierarchy:
    """郵便番号 (7 digits, hyphen optional) → first 3 digits → first digit → ``*``."""
    table: dict[str, tuple[str, ...]] = {}
    for v in set(values):
        digits = v.replace("-", "").replace("〒", "").strip()
        if not (len(digits) == 7 and digits.isdigit()):
            raise HierarchyError(
                f"列 {name} に7桁の郵便番号でない値があります。",
                f"column {name} has a value that is not a 7-digit postal code",
            )
        table[v] = (v, digits[:3] + "****", digits[:1] + "******", STAR)
    return Hierarchy(table, name)


def flat_hierarchy(values: Iterable[str], *, name: str = "") -> Hierarchy:
    """Value → ``*`` (for a quasi-identifier without a better hierarchy)."""
    return Hierarchy({v: (v, STAR) for v in set(values)}, name)


BUILTINS = {
    "age": age_hierarchy,
    "prefecture": prefecture_hierarchy,
    "address": address_hierarchy,
    "date": date_hierarchy,
    "postal": postal_hierarchy,
    "flat": flat_hierarchy,
}


def builtin_hierarchy(kind: str, values: Iterable[str], name: str) -> Hierarchy:
    try:
        make = BUILTINS[kind]
    except KeyError as exc:
        raise HierarchyError(
            f"組み込み階層 {kind} はありません（{', '.join(BUILTINS)}）。",
            f"no built-in hierarchy {kind} (one of {', '.join(BUILTINS)})",
        ) from exc
    return make(values, name=name)
