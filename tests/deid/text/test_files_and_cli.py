"""Files (.txt, .csv, .srt, .vtt) and the ``mamori text`` Typer app."""

from __future__ import annotations

import base64
import csv
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mamori.deid.cli.text import app
from mamori.deid.text.formats import redact_file, scan_file
from mamori.deid.text.operators import Policy

runner = CliRunner()

SRT = (
    "1\n00:00:01,000 --> 00:00:04,000\n本日の講師は山田太郎さんです。\n\n"
    "2\n00:00:05,000 --> 00:00:08,000\n連絡先は090-1234-5678まで。\n"
)
VTT = (
    "WEBVTT\n\nNOTE 講師 田中太郎様の確認済み\n\n"
    "00:00:01.000 --> 00:00:04.000\nご質問の佐藤様は東京都渋谷区神宮前1-2-3にお住まいです。\n"
)
CSV_TEXT = "id,氏名,メモ,数量\n1,山田太郎,電話 090-1234-5678,12\n2,佐藤花子,特記なし,3\n"


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    paths = {
        "srt": tmp_path / "seminar.srt",
        "vtt": tmp_path / "seminar.vtt",
        "csv": tmp_path / "notes.csv",
        "txt": tmp_path / "note.txt",
    }
    paths["srt"].write_text(SRT, encoding="utf-8")
    paths["vtt"].write_text(VTT, encoding="utf-8")
    paths["csv"].write_text(CSV_TEXT, encoding="utf-8")
    paths["txt"].write_text("田中太郎様 090-1234-5678\n持病で通院中とのこと。\n", encoding="utf-8")
    return paths


def test_srt_redaction_keeps_numbers_and_timing_lines(files: dict[str, Path]):
    out, findings = redact_file(files["srt"], Policy())
    lines = out.split("\n")
    assert lines[0:2] == ["1", "00:00:01,000 --> 00:00:04,000"]
    assert lines[4:6] == ["2", "00:00:05,000 --> 00:00:08,000"]
    assert lines[2] == "本日の講師は<人名>さんです。"
    assert lines[6] == "連絡先は<電話番号>まで。"
    assert {f.type for f in findings} == {"person", "phone"}


def test_vtt_header_and_note_blocks_are_not_touched(files: dict[str, Path]):
    out, _ = redact_file(files["vtt"], Policy())
    assert out.startswith("WEBVTT\n\nNOTE 講師 田中太郎様の確認済み\n\n00:00:01.000 --> 00:00:04.000\n")
    assert "ご質問の<人名>様は<住所>にお住まいです。" in out


def test_csv_scans_all_string_columns_by_default_and_reports_row_and_column(files: dict[str, Path]):
    found = scan_file(files["csv"])
    where = {(f.row, f.column, f.type) for f in found}
    assert (1, "氏名", "person") in where
    assert (1, "メモ", "phone") in where
    assert (2, "氏名", "person") in where


def test_csv_selected_columns_only(files: dict[str, Path]):
    found = scan_file(files["csv"], columns=["メモ"])
    assert {(f.column, f.type) for f in found} == {("メモ", "phone")}
    out, _ = redact_file(files["csv"], Policy(), columns=["メモ"])
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[1] == ["1", "山田太郎", "電話 <電話番号>", "12"]


def test_cli_scan_json_reports_masked_previews_only(files: dict[str, Path]):
    res = runner.invoke(app, ["scan", str(files["txt"]), "--json"])
    assert res.exit_code == 0, res.output
    payload = json.loads(res.stdout)
    assert "090-1234-5678" not in res.stdout and "田中" not in res.stdout
    kinds = {f["type"] for f in payload["findings"]}
    assert {"person", "phone", "sensitive:medical"} <= kinds
    phone = next(f for f in payload["findings"] if f["type"] == "phone")
    assert phone["preview"] == "●●●-●●●●-●●●●" and phone["line"] == 1
    assert payload["sensitive_rule_id"] == "R-2.3-1"


def test_cli_scan_text_output_in_english(files: dict[str, Path], monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("MAMORI_LANG", "en")
    res = runner.invoke(app, ["scan", str(files["txt"])])
    assert res.exit_code == 0
    assert "PHONE" in res.stdout and "found:" in res.stdout and "090-1234-5678" not in res.stdout


def test_cli_redact_to_file_with_operators_and_key_file(files: dict[str, Path], tmp_path: Path):
    key = tmp_path / "key"
    key.write_text(base64.b64encode(b"s" * 32).decode(), encoding="ascii")
    out = tmp_path / "out.txt"
    args = ["redact", str(files["txt"]), "-o", str(out), "--operator", "person=pseudonym"]
    args += ["--operator", "phone=mask", "--key-file", str(key)]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    text = out.read_text(encoding="utf-8")
    assert text.startswith("<人名_") and "●" * 13 in text and "090" not in text
    assert "持病で通院中" in text  # 要配慮 terms are flagged, not redacted
    assert "R-2.3-1" in res.stderr
    again = tmp_path / "again.txt"
    runner.invoke(app, [*args[:3], str(again), *args[4:]])
    assert again.read_text(encoding="utf-8") == text  # same key, same pseudonyms


def test_cli_redact_generates_a_one_off_key_and_says_so(
    files: dict[str, Path], monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.delenv("MAMORI_PSEUDONYM_KEY", raising=False)
    res = runner.invoke(app, ["redact", str(files["txt"]), "--operator", "default=pseudonym"])
    assert res.exit_code == 0
    assert "今回限り" in res.stderr
    assert "<人名_" in res.stdout


def test_cli_key_from_environment(files: dict[str, Path], monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("MAMORI_PSEUDONYM_KEY", base64.b64encode(b"e" * 32).decode())
    a = runner.invoke(app, ["redact", str(files["txt"]), "--operator", "person=pseudonym"])
    b = runner.invoke(app, ["redact", str(files["txt"]), "--operator", "person=pseudonym"])
    assert a.exit_code == 0 and a.stdout == b.stdout
    assert "今回限り" not in a.stderr


def test_cli_redact_with_policy_file(files: dict[str, Path], tmp_path: Path):
    policy = tmp_path / "p.json"
    policy.write_text(json.dumps({"default": "remove"}), encoding="utf-8")
    res = runner.invoke(app, ["redact", str(files["txt"]), "--policy", str(policy)])
    assert res.exit_code == 0
    assert res.stdout.startswith("様 \n")


@pytest.mark.parametrize(
    "args",
    [
        ["scan", "/nonexistent/file.txt"],
        ["redact", "/nonexistent/file.txt"],
    ],
)
def test_cli_missing_file_is_a_one_line_error(args: list[str]):
    res = runner.invoke(app, args)
    assert res.exit_code != 0
    assert len(res.stderr.strip().splitlines()) == 1
    assert "deid_input_unreadable" in res.stderr


def test_cli_bad_operator_and_bad_key_and_bad_column(files: dict[str, Path], monkeypatch: pytest.MonkeyPatch):
    res = runner.invoke(app, ["redact", str(files["txt"]), "--operator", "phone=shred"])
    assert res.exit_code != 0 and len(res.stderr.strip().splitlines()) == 1
    monkeypatch.setenv("MAMORI_PSEUDONYM_KEY", "not base64!!")
    res = runner.invoke(app, ["redact", str(files["txt"]), "--operator", "phone=pseudonym"])
    assert res.exit_code != 0 and "deid_key_invalid" in res.stderr
    res = runner.invoke(app, ["scan", str(files["csv"]), "--column", "存在しない列", "--lang", "en"])
    assert res.exit_code != 0 and "column" in res.stderr


def test_cli_undecodable_file(tmp_path: Path):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"abc \x81\x20 \xef\x7f")  # invalid in UTF-8 and in cp932
    res = runner.invoke(app, ["scan", str(bad)])
    assert res.exit_code != 0 and len(res.stderr.strip().splitlines()) == 1


def test_shift_jis_file_is_read(tmp_path: Path):
    f = tmp_path / "sjis.txt"
    f.write_bytes("田中太郎様 090-1234-5678".encode("cp932"))
    assert {x.type for x in scan_file(f)} == {"person", "phone"}


def test_progress_callback_counts_every_byte(tmp_path: Path):
    f = tmp_path / "big.txt"
    f.write_text("田中太郎様 090-1234-5678\n" * 5000, encoding="utf-8")
    seen: list[int] = []
    found = scan_file(f, progress=seen.append)
    assert sum(seen) == f.stat().st_size
    assert len(seen) > 1  # processed in blocks
    assert sum(1 for x in found if x.type == "phone") == 5000
    assert {x.line for x in found if x.type == "phone"} == set(range(1, 5001))


def test_csv_column_name_gives_context(tmp_path: Path):
    f = tmp_path / "people.csv"
    f.write_text("氏名,生年月日,納品日\n宍戸 紗希,1985年3月12日,2024年5月1日\n", encoding="utf-8")
    found = {(x.column, x.type) for x in scan_file(f)}
    assert ("生年月日", "date_of_birth") in found
    assert ("氏名", "person") in found  # a surname not in the dictionary, found through the header
    assert not any(col == "納品日" for col, _t in found)
    out, _ = redact_file(f, Policy())
    assert out.splitlines()[1] == "<人名>,<生年月日>,2024年5月1日"
