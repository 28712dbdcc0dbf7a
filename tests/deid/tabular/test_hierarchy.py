"""Hierarchies: ARX CSV parsing, bad input, built-in generators (age/top coding, address, date, postal)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from mamori.deid.tabular.errors import HierarchyError
from mamori.deid.tabular.hierarchy import (
    address_hierarchy,
    age_hierarchy,
    builtin_hierarchy,
    date_hierarchy,
    postal_hierarchy,
    prefecture_hierarchy,
    read_csv_hierarchy,
)
from mamori.deid.tabular.regions import PREFECTURE_REGION, REGIONS

ADULT = Path(__file__).resolve().parents[3] / "data" / "adult"


def test_given_arx_csv_when_read_then_levels_per_value() -> None:
    h = read_csv_hierarchy(ADULT / "adult_hierarchy_age.csv", name="age")
    assert h.height == 4
    assert h.table["39"] == ("39", "35-39", "30-39", "20-39", "*")
    assert len(h.table) == 100


def test_given_csv_with_empty_level_when_read_then_error_names_line() -> None:
    with pytest.raises(HierarchyError, match="line 2"):
        read_csv_hierarchy(io.StringIO("a;x;*\nb;;*\n"), name="col")


def test_given_csv_with_ragged_rows_or_duplicates_when_read_then_error() -> None:
    with pytest.raises(HierarchyError):
        read_csv_hierarchy(io.StringIO("a;x;*\nb;*\n"), name="col")
    with pytest.raises(HierarchyError):
        read_csv_hierarchy(io.StringIO("a;x;*\na;y;*\n"), name="col")
    with pytest.raises(HierarchyError):
        read_csv_hierarchy(io.StringIO(""), name="col")
    with pytest.raises(HierarchyError):
        read_csv_hierarchy(Path("/nonexistent/h.csv"), name="col")


def test_given_value_missing_from_hierarchy_when_checked_then_error_without_value() -> None:
    h = read_csv_hierarchy(io.StringIO("a;*\nb;*\n"), name="col")
    with pytest.raises(HierarchyError) as info:
        h.check_covers(["a", "secret-value"], "col")
    assert "secret-value" not in info.value.message_en
    assert "secret-value" not in info.value.message_ja


def test_given_peculiar_age_when_top_coded_then_90_plus_at_every_level() -> None:
    h = age_hierarchy(["116", "42", "7"])
    assert h.table["116"] == ("90+", "90+", "90+", "90+", "*")
    assert h.table["42"] == ("42", "40-44", "40-49", "40-59", "*")
    assert h.table["7"][1:] == ("5-9", "0-9", "0-19", "*")
    with pytest.raises(HierarchyError):
        age_hierarchy(["forty"])


def test_given_addresses_when_generalised_then_municipality_prefecture_region() -> None:
    h = address_hierarchy(
        ["広島県広島市南区比治山本町1-2", "北海道余市郡余市町黒川町", "東京都千代田区丸の内1"]
    )
    assert h.table["広島県広島市南区比治山本町1-2"][1:] == ("広島県広島市南区", "広島県", "中国", "*")
    assert h.table["北海道余市郡余市町黒川町"][1:] == ("北海道余市郡余市町", "北海道", "北海道", "*")
    assert h.table["東京都千代田区丸の内1"][2:] == ("東京都", "関東", "*")
    with pytest.raises(HierarchyError):
        address_hierarchy(["Springfield"])


def test_given_region_table_then_47_prefectures_in_8_regions() -> None:
    assert len(PREFECTURE_REGION) == 47
    assert set(PREFECTURE_REGION.values()) == set(REGIONS) and len(REGIONS) == 8
    assert PREFECTURE_REGION["沖縄県"] == "九州" and PREFECTURE_REGION["新潟県"] == "中部"
    assert prefecture_hierarchy(["大阪府"]).table["大阪府"] == ("大阪府", "近畿", "*")


def test_given_dates_and_postal_codes_when_generalised_then_prefixes() -> None:
    assert date_hierarchy(["2024-03-15"]).table["2024-03-15"] == ("2024-03-15", "2024-03", "2024", "*")
    assert postal_hierarchy(["730-0001"]).table["730-0001"] == ("730-0001", "730****", "7******", "*")
    with pytest.raises(HierarchyError):
        date_hierarchy(["15/03/2024"])
    with pytest.raises(HierarchyError):
        postal_hierarchy(["7300"])
    with pytest.raises(HierarchyError):
        builtin_hierarchy("nope", ["x"], "col")
