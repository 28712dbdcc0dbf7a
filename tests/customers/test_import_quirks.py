"""Issue 19 end to end: exports as offices write them (tests/customers/office_exports.py) imported through
`mamori customers import … --map …`, one test per quirk — every line imported (no rejected line, none held), and
what is stored (read back with `mamori customers find --customer-no` / `show --json`) is the normalised value the
generator computed on its own — plus the whole 2,000-line export of the issue."""

from __future__ import annotations

import json
from datetime import date

import pytest

from tests.customers.office_exports import (
    BIRTH_FORMS,
    POSTAL_FORMS,
    Expected,
    Export,
    Quirks,
    office_export,
)
from tests.factories import demo_cli

PO = ("--as", "hoshino")
MAP = [
    "--map",
    "姓+名=name",
    "--map",
    "セイ+メイ=kana",
    "--map",
    "都道府県+住所+建物=address",
    "--sep",
    "address= ",
    "--map",
    "電話1=phone",
    "--map",
    "電話2=phone",
    "--map",
    "顧客番号=external_id",
    "--map",
    "登録日=registered_on",
    "--map",
    "備考=attr:note",
]
# the mapping, with the birth date and postal code columns too (a 都道府県-less address needs its code)
FULL_MAP = [*MAP, "--map", "生年月日=birth_date", "--map", "郵便番号=postal_code"]


@pytest.fixture
def cli(tmp_path, monkeypatch):
    yield from demo_cli(tmp_path, monkeypatch, customers=1)


def j(result):
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def run_import(cli, tmp_path, export: Export, *extra: str, source: str = "営業部Excel") -> dict:
    path = tmp_path / export.file_name
    path.write_bytes(export.data)
    result = cli(
        *PO,
        "customers",
        "import",
        str(path),
        "--source",
        source,
        "--notified-purpose",
        "contract",
        *extra,
        "--json",
    )
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)


def stored(cli, external_id: str) -> dict:
    found = j(cli(*PO, "customers", "find", "-p", "contract", "--customer-no", external_id, "--json"))
    assert len(found["items"]) == 1, (external_id, found)
    return j(cli(*PO, "customers", "show", found["items"][0]["id"], "-p", "contract", "--json"))


def attribute(view: dict, key: str) -> str | None:
    values = [a["value"] for a in view["attributes"] if a["key"] == key]
    return values[0] if values else None


def check_stored(cli, row: Expected, *, birth: bool = True, postal: bool = True) -> None:
    view = stored(cli, row.external_id)
    assert view["name"] == row.name and view["kana"] == row.kana, row.line
    assert view["address"] == row.address, row.line
    assert sorted(view["phones"]) == sorted(row.phones), row.line
    assert attribute(view, "note") == row.note, row.line
    assert attribute(view, "registered_on") == row.registered_on.isoformat(), row.line
    assert [e["value"] for e in view["external_ids"]] == [row.external_id], row.line
    if birth:
        assert view["birth_date"] == row.birth_date.isoformat(), row.line
    if postal:
        assert view["postal_code"] == row.postal_code, row.line


def imports_cleanly(cli, tmp_path, export: Export, *extra: str, check: int = 4) -> dict:
    """The export imports with no rejected or held line; the first ``check`` lines are stored as expected."""
    report = run_import(cli, tmp_path, export, *FULL_MAP, *extra)
    assert report["errors"] == [] and report["summary"] == [], report["errors"][:5]
    assert report["created"] == len(export.rows) and report["pending"] == 0 and report["written"], report
    for row in export.rows[:check]:
        check_stored(cli, row)
    return report


# -- files --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["cp932", "utf8_bom", "utf16", "xlsx"])
def test_each_file_format_imports_every_line(cli, tmp_path, fmt):
    imports_cleanly(cli, tmp_path, office_export(8, fmt=fmt, quirks=Quirks.none(), seed=1))


def test_xlsx_with_date_cells_and_phones_that_lost_their_zero(cli, tmp_path):
    export = office_export(
        8, fmt="xlsx", quirks=Quirks.none(lost_leading_zero=True, birth_forms=("slash",)), seed=2
    )
    imports_cleanly(cli, tmp_path, export)


def test_an_xlsx_named_csv_imports(cli, tmp_path):
    export = office_export(6, fmt="xlsx", quirks=Quirks.none(), seed=3, file_name="顧客一覧.csv")
    imports_cleanly(cli, tmp_path, export)


def test_header_with_trailing_and_full_width_spaces_maps(cli, tmp_path):
    export = office_export(6, fmt="cp932", quirks=Quirks.none(header_spaces=True), seed=4)
    assert "姓 " in export.header and "名\u3000" in export.header
    imports_cleanly(cli, tmp_path, export)


@pytest.mark.parametrize("fmt", ["cp932", "xlsx"])
def test_trailing_blank_lines_are_not_lines(cli, tmp_path, fmt):
    export = office_export(6, fmt=fmt, quirks=Quirks.none(trailing_blank_lines=True), seed=5)
    report = imports_cleanly(cli, tmp_path, export)
    assert report["total"] == 6


def test_multiline_notes_keep_their_lines(cli, tmp_path):
    export = office_export(12, fmt="cp932", quirks=Quirks.none(multiline_notes=True), seed=8)
    assert any(r.note and "\n" in r.note for r in export.rows[:-1])
    last = export.rows[-1]
    assert last.line > len(export.rows) + 1  # the notes before it span lines
    # a bad phone on the last line is reported on the line the user sees in the file, without its value
    bad = Export(
        export.data.decode("cp932").replace(last.cells[11], "12345", 1).encode("cp932"),
        export.file_name,
        export.fmt,
        export.header,
    )
    report = run_import(cli, tmp_path, bad, *FULL_MAP)
    assert not report["written"] and {(e["line"], e["field"]) for e in report["errors"]} == {
        (last.line, "phone")
    }
    assert "12345" not in json.dumps(report["errors"], ensure_ascii=False)
    imports_cleanly(cli, tmp_path, export, check=12)


# -- values -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("form", BIRTH_FORMS)
def test_birth_dates_in_every_form(cli, tmp_path, form):
    export = office_export(6, fmt="cp932", quirks=Quirks.none(birth_forms=(form,)), seed=7)
    imports_cleanly(cli, tmp_path, export)


def test_gannen_is_year_one():
    # the generator itself: 平成元年 is 1989 (a check on the expectations, not on the importer)
    export = office_export(3, fmt="utf8", quirks=Quirks.none(birth_forms=("gannen",)), seed=7)
    assert all(r.birth_date.year == 1989 and r.birth_date >= date(1989, 1, 8) for r in export.rows)
    assert all("平成元年" in r.cells[6] for r in export.rows)


@pytest.mark.parametrize("form", POSTAL_FORMS)
def test_postal_codes_in_every_form(cli, tmp_path, form):
    export = office_export(6, fmt="utf8_bom", quirks=Quirks.none(postal_forms=(form,)), seed=8)
    imports_cleanly(cli, tmp_path, export)


@pytest.mark.parametrize(
    "quirk",
    ["tel_prefix", "extensions", "fullwidth_digits", "dash_forms", "lost_leading_zero", "second_phone"],
)
def test_phones_as_offices_write_them(cli, tmp_path, quirk):
    export = office_export(8, fmt="cp932", quirks=Quirks.none(**{quirk: True}), seed=9)
    imports_cleanly(cli, tmp_path, export, check=8)


def test_addresses_without_a_prefecture_get_it_from_the_postal_code(cli, tmp_path):
    export = office_export(8, fmt="cp932", quirks=Quirks.none(missing_prefecture=True), seed=10)
    assert all(r.cells[8] == "" for r in export.rows)  # 都道府県 left empty
    imports_cleanly(cli, tmp_path, export, check=8)


def test_gender_codes_owner_and_dm_columns_through_a_mapping_file(cli, tmp_path):
    export = office_export(12, fmt="cp932", quirks=Quirks.none(), seed=11, owners=("佐藤", "鈴木"))
    mapping = {
        "fields": {
            "name": {"columns": ["姓", "名"], "join": True},
            "kana": {"columns": ["セイ", "メイ"], "join": True},
            "address": {"columns": ["都道府県", "住所", "建物"], "join": True, "sep": " "},
            "postal_code": {"columns": ["郵便番号"]},
            "birth_date": {"columns": ["生年月日"]},
            "gender": {"columns": ["性別"]},
            "phone": {"columns": ["電話1", "電話2"]},
            "external_id": {"columns": ["顧客番号"]},
            "owner": {"columns": ["担当営業"]},
            "notified_purposes": {"columns": ["DM可否"]},
        },
        "values": {
            "gender": {"1": "male", "2": "female"},
            "owner": {"佐藤": "sato", "鈴木": "suzuki"},
            "notified_purposes": {"可": "contract,marketing-email", "不可": "contract"},
        },
    }
    mfile = tmp_path / "mapping.json"
    mfile.write_text(json.dumps(mapping, ensure_ascii=False), encoding="utf-8")
    path = tmp_path / export.file_name
    path.write_bytes(export.data)
    base = [*PO, "customers", "import", str(path), "--source", "営業部Excel", "--mapping-file", str(mfile)]
    report = j(cli(*base, "--notified-purpose", "contract", "--json"))
    assert report["errors"] == [] and report["created"] == 12 and report["pending"] == 0, report
    staff = {"佐藤": "sato", "鈴木": "suzuki"}
    for row in export.rows[:6]:
        view = stored(cli, row.external_id)
        assert view["gender"] == row.gender
        mine = j(
            cli(
                "--as",
                staff[row.owner],
                "customers",
                "find",
                "-p",
                "contract",
                "--customer-no",
                row.external_id,
                "--json",
            )
        )
        assert [c["id"] for c in mine["items"]] == [view["id"]]  # the owner (a sales rep) sees their customer


def test_rows_whose_dm_column_does_not_cover_the_purpose_are_held_not_written(cli, tmp_path):
    export = office_export(20, fmt="cp932", quirks=Quirks.none(), seed=12)
    refused_dm = [r for r in export.rows if r.dm == "不可"]
    assert refused_dm and len(refused_dm) < 20
    mapping = {
        "fields": {
            "name": {"columns": ["姓", "名"], "join": True},
            "address": {"columns": ["都道府県", "住所", "建物"], "join": True, "sep": " "},
            "phone": {"columns": ["電話1"]},
            "external_id": {"columns": ["顧客番号"]},
            "notified_purposes": {"columns": ["DM可否"]},
        },
        "values": {"notified_purposes": {"可": "contract,marketing-email", "不可": "contract"}},
    }
    mfile = tmp_path / "mapping.json"
    mfile.write_text(json.dumps(mapping, ensure_ascii=False), encoding="utf-8")
    path = tmp_path / export.file_name
    path.write_bytes(export.data)
    result = cli(
        *PO,
        "customers",
        "import",
        str(path),
        "--source",
        "営業部Excel",
        "--mapping-file",
        str(mfile),
        "--notified-purpose",
        "marketing-email",
        "--json",
    )
    report = json.loads(result.stdout)
    assert report["errors"] == [] and report["pending"] == len(refused_dm), report
    assert report["created"] == 20 - len(refused_dm)
    held = refused_dm[0].external_id
    found = j(cli(*PO, "customers", "find", "-p", "marketing-email", "--customer-no", held, "--json"))
    assert found["items"] == []


# -- the file ---------------------------------------------------------------------------------------------


def test_the_2000_line_sales_export_imports_at_99_percent(cli, tmp_path, capsys):
    export = office_export(2000, fmt="cp932", quirks=Quirks(), seed=19)
    report = run_import(cli, tmp_path, export, *FULL_MAP, "--skip-bad-rows")
    imported = report["created"] / len(export.rows)
    with capsys.disabled():
        print(
            f"\n2,000-line export: {report['created']} created of {report['total']} ({imported:.1%}); "
            f"rejected lines {len({e['line'] for e in report['errors']})}; summary {report['summary']}"
        )
    assert report["total"] == 2000
    assert imported >= 0.99, report["summary"]
    rejected = {e["line"] for e in report["errors"]}
    for row in export.rows[::97]:  # a sample, read back
        if row.line not in rejected:
            check_stored(cli, row)
