"""`mamori text scan|redact` over many inputs in one process (issue 23 item 5), keep lists, and `text evaluate`."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mamori.deid.cli.text import app

runner = CliRunner()

PERSON_PHONE = "田中太郎の電話は090-1234-5678です。\n"
EMAIL = "担当: 佐藤花子 sato@example.com\n"


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """in/a.txt (name + phone), in/sub/b.md (name + e-mail), in/skip.bin (unsupported suffix)."""
    root = tmp_path / "in"
    (root / "sub").mkdir(parents=True)
    (root / "a.txt").write_text(PERSON_PHONE, encoding="utf-8")
    (root / "sub" / "b.md").write_text(EMAIL, encoding="utf-8")
    (root / "skip.bin").write_text(PERSON_PHONE, encoding="utf-8")
    return root


def _lines(output: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in output.splitlines() if line.strip()]


# -- scan ----------------------------------------------------------------------------------------------------------


def test_scan_a_directory_recursively_with_a_json_summary(tree):
    res = runner.invoke(app, ["scan", str(tree), "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert [f["file"] for f in doc["files"]] == ["a.txt", "sub/b.md"]  # .bin is not a supported suffix
    assert doc["counts"] == {"email": 1, "person": 2, "phone": 1}
    assert doc["scanned"] == 2 and doc["failed"] == 0
    assert "090-1234-5678" not in res.stdout and "sato@example.com" not in res.stdout  # masked previews only


def test_scan_glob_filters_a_directory(tree):
    res = runner.invoke(app, ["scan", str(tree), "--json", "--glob", "*.md"])
    assert res.exit_code == 0, res.output
    assert [f["file"] for f in json.loads(res.stdout)["files"]] == ["sub/b.md"]


def test_scan_several_files_prefixes_each_finding_with_its_file(tree):
    res = runner.invoke(app, ["scan", str(tree / "a.txt"), str(tree / "sub" / "b.md")])
    assert res.exit_code == 0, res.output
    lines = res.stdout.splitlines()
    assert any(line.startswith("a.txt:1\t") for line in lines)
    assert any(line.startswith("b.md:1\t") for line in lines)
    assert "検出: 4 件" in lines[-1]


def test_scan_a_missing_file_and_a_binary_file_are_reported_and_the_rest_go_on(tree):
    (tree / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00binary")
    res = runner.invoke(app, ["scan", str(tree), str(tree / "missing.txt"), "--json", "--lang", "en"])
    assert res.exit_code == 1
    doc = json.loads(res.stdout)
    errors = {f["file"]: f["error"] for f in doc["files"] if "error" in f}
    assert errors == {"image.txt": "deid_input_unreadable"}
    assert doc["counts"] == {"email": 1, "person": 2, "phone": 1}  # the other files were scanned
    assert "image.txt: " in res.stderr and "binary" in res.stderr
    assert "missing.txt: " in res.stderr and "file not found" in res.stderr


def test_scan_a_file_over_max_size_is_reported(tree):
    (tree / "big.txt").write_text("あ" * (1024 * 1024), encoding="utf-8")  # 3 MB
    res = runner.invoke(app, ["scan", str(tree), "--json", "--max-size", "1"])
    assert res.exit_code == 1
    failed = [f for f in json.loads(res.stdout)["files"] if "error" in f]
    assert [f["file"] for f in failed] == ["big.txt"]


def test_single_file_output_is_unchanged(tree):
    res = runner.invoke(app, ["scan", str(tree / "a.txt"), "--json"])
    assert res.exit_code == 0
    doc = json.loads(res.stdout)
    assert doc["file"] == "a.txt" and set(doc) == {"file", "findings", "counts", "sensitive_rule_id"}


# -- JSON Lines ----------------------------------------------------------------------------------------------------


def test_scan_jsonl_one_line_per_input_and_a_malformed_line_reported(tree):
    stdin = (
        json.dumps({"id": "a", "text": PERSON_PHONE}, ensure_ascii=False)
        + "\nnot json\n"
        + json.dumps({"id": 7, "text": "特になし"}, ensure_ascii=False)
        + "\n"
        + json.dumps({"id": "no-text"})
        + "\n"
    )
    res = runner.invoke(app, ["scan", "-", "--jsonl"], input=stdin)
    assert res.exit_code == 1
    out = _lines(res.stdout)
    assert [o.get("id") for o in out] == ["a", None, 7, "no-text"]
    assert {f["type"] for f in out[0]["findings"]} == {"person", "phone"}
    assert all("preview" in f for f in out[0]["findings"]) and "090-1234-5678" not in res.stdout
    assert out[1] == {
        "line": 2,
        "id": None,
        "error": "deid_input_unreadable",
        "message": out[1]["message"],
    }
    assert out[2]["findings"] == []
    assert out[3]["error"] == "deid_input_unreadable" and out[3]["line"] == 4
    assert "2 行目" in res.stderr


def test_redact_jsonl_round_trip():
    docs = [{"id": i, "text": t} for i, t in enumerate([PERSON_PHONE, EMAIL, "何もありません"])]
    stdin = "".join(json.dumps(d, ensure_ascii=False) + "\n" for d in docs)
    res = runner.invoke(app, ["redact", "-", "--jsonl"], input=stdin)
    assert res.exit_code == 0, res.output
    out = _lines(res.stdout)
    assert [o["id"] for o in out] == [0, 1, 2]
    assert out[0]["text"] == "<人名>の電話は<電話番号>です。\n"
    assert out[0]["counts"] == {"person": 1, "phone": 1}
    assert "sato@example.com" not in out[1]["text"] and out[1]["counts"]["email"] == 1
    assert out[2] == {"id": 2, "text": "何もありません", "counts": {}}
    # the output is JSON Lines of the same shape: it can be read back in
    again = runner.invoke(app, ["scan", "-", "--jsonl"], input=res.stdout)
    assert again.exit_code == 0
    assert all(o["findings"] == [] for o in _lines(again.stdout))


def test_jsonl_needs_the_dash(tree):
    res = runner.invoke(app, ["scan", str(tree), "--jsonl"])
    assert res.exit_code != 0 and "stdin" in res.stderr + res.stdout or "標準入力" in res.stderr


# -- redact --out-dir ----------------------------------------------------------------------------------------------


def test_redact_a_directory_into_out_dir_with_the_same_relative_paths(tree, tmp_path):
    out = tmp_path / "out"
    res = runner.invoke(app, ["redact", str(tree), "--out-dir", str(out)])
    assert res.exit_code == 0, res.output
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == [
        "a.txt",
        "sub/b.md",
    ]
    assert (out / "a.txt").read_text(encoding="utf-8") == "<人名>の電話は<電話番号>です。\n"
    assert "墨消し: 4 件" in res.stderr


def test_redact_out_dir_refuses_existing_files_without_force(tree, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "a.txt").write_text("earlier", encoding="utf-8")
    res = runner.invoke(app, ["redact", str(tree), "--out-dir", str(out)])
    assert res.exit_code != 0
    assert "file_exists" in res.stderr
    assert (out / "a.txt").read_text(encoding="utf-8") == "earlier"
    assert not (out / "sub").exists()  # refused before any work
    res = runner.invoke(app, ["redact", str(tree), "--out-dir", str(out), "--force"])
    assert res.exit_code == 0, res.output
    assert (out / "a.txt").read_text(encoding="utf-8") == "<人名>の電話は<電話番号>です。\n"


def test_redact_never_writes_through_a_symlinked_folder(tree, tmp_path):
    out = tmp_path / "out"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    out.mkdir()
    os.symlink(elsewhere, out / "sub")
    res = runner.invoke(app, ["redact", str(tree), "--out-dir", str(out), "--lang", "en"])
    assert res.exit_code == 1
    assert "sub/b.md: " in res.stderr and "symbolic link" in res.stderr
    assert list(elsewhere.iterdir()) == []
    assert (out / "a.txt").exists()  # the other file went on


def test_redact_out_dir_that_is_a_symlink_is_refused(tree, tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    os.symlink(real, tmp_path / "link")
    res = runner.invoke(app, ["redact", str(tree), "--out-dir", str(tmp_path / "link")])
    assert res.exit_code != 0
    assert list(real.iterdir()) == []


def test_redact_many_files_needs_out_dir(tree):
    res = runner.invoke(app, ["redact", str(tree), "--lang", "en"])
    assert res.exit_code != 0 and "--out-dir" in res.stderr
    res = runner.invoke(app, ["redact", str(tree), "-o", str(tree / "x.txt"), "--lang", "en"])
    assert res.exit_code != 0 and "--out-dir" in res.stderr


def test_redact_out_dir_inside_the_input_is_not_read_back(tree):
    out = tree / "redacted"
    assert runner.invoke(app, ["redact", str(tree), "--out-dir", str(out)]).exit_code == 0
    res = runner.invoke(app, ["redact", str(tree), "--out-dir", str(out), "--force"])
    assert res.exit_code == 0
    assert not (out / "redacted").exists()


# -- keep lists ----------------------------------------------------------------------------------------------------

OFFICE = "代表 03-1234-5678 までお電話ください。担当 田中太郎\n"


def _types(res) -> set[str]:
    return {f["type"] for f in json.loads(res.stdout)["findings"]}


def test_keep_file_keeps_a_number_and_a_name(tmp_path):
    doc = tmp_path / "doc.txt"
    doc.write_text("お問い合わせ 03-1234-5678（田中太郎）\n", encoding="utf-8")
    assert _types(runner.invoke(app, ["scan", str(doc), "--json"])) >= {"phone", "person"}
    keep = tmp_path / "keep.txt"
    keep.write_text("# our numbers\n03-1234-5678\n\n田中太郎\n", encoding="utf-8")
    res = runner.invoke(app, ["scan", str(doc), "--json", "--keep-file", str(keep)])
    assert res.exit_code == 0, res.output
    assert _types(res) == set()


def test_keep_file_unreadable_is_one_line(tmp_path):
    doc = tmp_path / "doc.txt"
    doc.write_text(OFFICE, encoding="utf-8")
    res = runner.invoke(app, ["scan", str(doc), "--keep-file", str(tmp_path / "none.txt")])
    assert res.exit_code != 0 and "--keep-file" in res.stderr


def test_operator_phones_are_kept(tmp_path, monkeypatch):
    doc = tmp_path / "doc.txt"
    doc.write_text("お問い合わせ 03-9876-5432 まで\n", encoding="utf-8")
    assert "phone" in _types(runner.invoke(app, ["scan", str(doc), "--json"]))
    monkeypatch.setenv("MAMORI_OPERATOR_PHONES", "03-9876-5432")
    from mamori.kernel.settings import reset_settings_cache

    reset_settings_cache()
    try:
        assert "phone" not in _types(runner.invoke(app, ["scan", str(doc), "--json"]))
    finally:
        monkeypatch.delenv("MAMORI_OPERATOR_PHONES")
        reset_settings_cache()


# --keep-registry against a real store: tests/provision/test_counterparty_phone.py


# -- evaluate ------------------------------------------------------------------------------------------------------


@pytest.fixture
def marked(tmp_path: Path) -> Path:
    root = tmp_path / "marked"
    root.mkdir()
    (root / "a.txt").write_text(
        "担当の⟦person:桐生 朝陽⟧です。お問い合わせは⟦keep:phone:0120-000-000⟧まで。"
        "携帯 ⟦phone:090-1234-5678⟧\n",
        encoding="utf-8",
    )
    (root / "b.txt").write_text("⟦email:kiryu@example.com⟧ へ送付\n", encoding="utf-8")
    return root


def test_evaluate_json(marked):
    res = runner.invoke(app, ["evaluate", str(marked), "--json"])
    assert res.exit_code == 0, res.output
    report = json.loads(res.stdout)
    assert report["documents"] == 2
    assert report["overall"]["total"] == 3
    assert set(report["by_type"]) == {"person", "phone", "email"}
    assert report["by_type"]["phone"]["span_recall"] == 1.0
    assert report["keep"]["total"] == 1 and report["keep"]["by_kind"]["phone"]["total"] == 1


def test_evaluate_table_in_japanese_and_english(marked):
    ja = runner.invoke(app, ["evaluate", str(marked)])
    assert ja.exit_code == 0, ja.output
    assert "検出率" in ja.stdout and "保持率" in ja.stdout and "全体" in ja.stdout
    en = runner.invoke(app, ["evaluate", str(marked), "--lang", "en"])
    assert "span recall" in en.stdout and "keep rate" in en.stdout


def test_evaluate_bad_markup_and_missing_directory(tmp_path):
    res = runner.invoke(app, ["evaluate", str(tmp_path / "none")])
    assert res.exit_code != 0
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "x.txt").write_text("⟦nosuchtype:value⟧\n", encoding="utf-8")
    res = runner.invoke(app, ["evaluate", str(bad), "--lang", "en"])
    assert res.exit_code != 0 and "markup" in res.stderr
