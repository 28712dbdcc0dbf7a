"""`mamori customers mappings list | show | save | delete | suggest` over a real store: --json, Japanese by
default and English with --lang en, bad input as one line with a non-zero exit, and roles that may not import
refused."""

from __future__ import annotations

import base64
import json
import secrets

import pytest
from typer.testing import CliRunner

from mamori.cli.main import app
from mamori.kernel.settings import reset_settings_cache

HEADER = "顧客番号,姓,名,セイ,メイ,郵便番号,都道府県,住所,建物,電話1,電話2,登録日,担当営業,備考\n"
LINE = "A-1,架空,一郎,カクウ,イチロウ,100-0001,東京都,千代田区千代田1-1,,03-1234-5678,,2020/4/1,田中,メモ\n"


@pytest.fixture
def cli(tmp_path, monkeypatch):
    monkeypatch.setenv("MAMORI_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("MAMORI_KEK", base64.b64encode(secrets.token_bytes(32)).decode())
    for k in ("MAMORI_DATABASE_URL", "MAMORI_KEYSTORE_URL", "MAMORI_AUDIT_URL", "MAMORI_AS", "MAMORI_LANG"):
        monkeypatch.delenv(k, raising=False)
    reset_settings_cache()
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(app, list(args), catch_exceptions=False)

    assert run("init").exit_code == 0
    for user, role in (("hoshino", "privacy_officer"), ("kondo", "analyst")):
        r = run("--as", "admin", "staff", "add", user, "--name", user, "--role", role, "--json")
        assert r.exit_code == 0, r.output
    yield run
    reset_settings_cache()


def j(result):
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def one_line(result) -> str:
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, result.stderr
    return lines[0]


PO = ("--as", "hoshino", "customers", "mappings")


def test_save_list_show_delete(cli):
    saved = j(
        cli(
            *PO,
            "save",
            "営業部",
            "--map",
            "姓+名=name",
            "--map",
            "電話1=phone",
            "--map",
            "電話2=phone",
            "--map",
            "都道府県+住所+建物=address",
            "--sep",
            "address=/",
            "--json",
        )
    )
    assert saved["name"] == "営業部"
    assert saved["mapping"]["fields"]["name"] == {"columns": ["姓", "名"], "join": True, "sep": None}
    assert saved["mapping"]["fields"]["address"]["sep"] == "/"
    assert saved["mapping"]["fields"]["phone"]["columns"] == ["電話1", "電話2"]
    assert [m["name"] for m in j(cli(*PO, "list", "--json"))] == ["営業部"]
    shown = j(cli(*PO, "show", "営業部", "--json"))
    assert shown["mapping"] == saved["mapping"]
    text = cli(*PO, "show", "営業部")
    assert text.exit_code == 0 and "姓 + 名" in text.stdout and "電話1, 電話2" in text.stdout
    assert "項目" in text.stdout
    en = cli("--lang", "en", *PO, "list")
    assert en.exit_code == 0 and "1 mapping(s)" in en.stdout and "営業部" in en.stdout
    assert "1件" in cli(*PO, "list").stdout
    assert j(cli(*PO, "delete", "営業部", "--json")) == {"deleted": "営業部"}
    assert j(cli(*PO, "list", "--json")) == []
    r = cli(*PO, "show", "営業部")
    assert r.exit_code == 1 and "mapping_not_found" in one_line(r)


def test_save_from_a_file_replaces(cli, tmp_path):
    f = tmp_path / "m.toml"
    f.write_text(
        '[fields]\nname = "氏名"\nphone = ["TEL", "携帯"]\n[values.gender]\n"1" = "male"\n', encoding="utf-8"
    )
    assert cli(*PO, "save", "tsv", "--map", "氏名=name").exit_code == 0
    r = cli(*PO, "save", "tsv", "--from-file", str(f))
    assert r.exit_code == 0 and "保存しました: tsv" in r.stdout
    shown = j(cli(*PO, "show", "tsv", "--json"))
    assert shown["mapping"]["fields"]["phone"]["columns"] == ["TEL", "携帯"]
    assert shown["mapping"]["values"] == {"gender": {"1": "male"}}
    assert len(j(cli(*PO, "list", "--json"))) == 1


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (("save", "x", "--map", "姓=name", "--map", "名=name"), "mapping_conflict"),
        (("save", "x", "--map", "病歴=attr:history:sensitive"), "mapping_sensitive"),
        (("save", "x", "--map", "氏名=namae"), "bad_mapping"),
        (("save", "x", "--map", "氏名"), "bad_mapping"),
        (("save", "bad name", "--map", "氏名=name"), "bad_mapping"),
        (("delete", "nothing"), "mapping_not_found"),
    ],
)
def test_bad_input_is_one_line_and_saves_nothing(cli, args, code):
    r = cli(*PO, *args)
    line = one_line(r)
    assert r.exit_code != 0 and f"({code})" in line
    if code == "mapping_sensitive":
        assert "R-20-2" in line
    assert j(cli(*PO, "list", "--json")) == []


def test_english_refusal(cli):
    r = cli("--lang", "en", *PO, "save", "x", "--map", "姓=name", "--map", "名=name")
    assert r.exit_code != 0 and "Several columns are mapped to name" in one_line(r)


def test_save_needs_exactly_one_source(cli, tmp_path):
    r = cli(*PO, "save", "x")
    assert r.exit_code == 2 and "Traceback" not in r.output
    f = tmp_path / "m.json"
    f.write_text('{"fields": {"name": "氏名"}}', encoding="utf-8")
    r = cli(*PO, "save", "x", "--from-file", str(f), "--map", "氏名=name")
    assert r.exit_code == 2
    bad = tmp_path / "bad.json"
    bad.write_text("{oops", encoding="utf-8")
    r = cli(*PO, "save", "x", "--from-file", str(bad))
    assert r.exit_code == 1 and "(bad_mapping)" in one_line(r)
    assert j(cli(*PO, "list", "--json")) == []


def test_a_role_that_may_not_import_is_refused(cli):
    assert cli(*PO, "save", "shared", "--map", "氏名=name").exit_code == 0
    for args in (("list",), ("show", "shared"), ("save", "mine", "--map", "氏名=name"), ("delete", "shared")):
        r = cli("--as", "kondo", "customers", "mappings", *args)
        assert r.exit_code == 3 and "R-23-2" in one_line(r), args
    assert [m["name"] for m in j(cli(*PO, "list", "--json"))] == ["shared"]


def test_suggest_from_a_cp932_csv(cli, tmp_path):
    f = tmp_path / "顧客.csv"
    f.write_bytes((HEADER + LINE).encode("cp932"))
    out = j(cli(*PO, "suggest", str(f), "--json"))
    fields = out["mapping"]["fields"]
    assert fields["name"]["columns"] == ["姓", "名"] and fields["name"]["join"]
    assert fields["kana"]["columns"] == ["セイ", "メイ"]
    assert fields["address"]["columns"] == ["都道府県", "住所", "建物"]
    assert fields["phone"]["columns"] == ["電話1", "電話2"]
    assert fields["external_id"]["columns"] == ["顧客番号"] and fields["owner"]["columns"] == ["担当営業"]
    assert out["unmapped"] == []
    text = cli(*PO, "suggest", str(f))
    assert text.exit_code == 0 and "姓 + 名" in text.stdout
    # no value of the file is shown, only headings
    assert "架空" not in text.stdout and "03-1234-5678" not in text.stdout


def test_suggest_from_an_xlsx_sheet(cli, tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    wb.active.title = "表紙"
    ws = wb.create_sheet("顧客一覧")
    ws.append(["氏名", "フリガナ", "TEL", "備考", "好きな色"])
    ws.append(["架空 二郎", "カクウ ジロウ", "03-1111-2222", "", "青"])
    f = tmp_path / "顧客.xlsx"
    wb.save(f)
    out = j(cli(*PO, "suggest", str(f), "--sheet", "顧客一覧", "--json"))
    assert out["mapping"]["fields"]["name"]["columns"] == ["氏名"]
    assert out["mapping"]["fields"]["attr:note"]["columns"] == ["備考"]
    assert out["mapping"]["sheet"] == "顧客一覧" and out["unmapped"] == ["好きな色"]
    r = cli(*PO, "suggest", str(f), "--sheet", "ない")
    assert r.exit_code != 0 and "(bad_sheet)" in one_line(r)


def test_suggest_of_a_missing_file_is_one_line(cli, tmp_path):
    r = cli(*PO, "suggest", str(tmp_path / "none.csv"))
    assert r.exit_code != 0 and "file_unreadable" in one_line(r)
