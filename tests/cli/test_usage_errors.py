"""CLI usage errors (issue 19 §8): one line in Japanese (English with --lang en or MAMORI_LANG=en), exit code 2,
never click/Typer's English box, never the value typed — for every kind of usage error and every command, since
the entry point (cli/main.py main → kernel.cli_support.run_app) translates them centrally. ``--help`` is Typer's."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


def run_main(monkeypatch, capsys, *args: str, lang: str | None = None) -> tuple[int, str, str]:
    from mamori.cli.main import main

    if lang is None:
        monkeypatch.delenv("MAMORI_LANG", raising=False)
    else:
        monkeypatch.setenv("MAMORI_LANG", lang)
    monkeypatch.setattr(sys, "argv", ["mamori", *args])
    with pytest.raises(SystemExit) as exit_info:
        main()
    out = capsys.readouterr()
    code = exit_info.value.code
    return (code if isinstance(code, int) else 1), out.out, out.err


@pytest.fixture(autouse=True)
def _home(tmp_path, monkeypatch):
    monkeypatch.setenv("MAMORI_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("MAMORI_AS", raising=False)


def one_line(err: str) -> str:
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    return lines[0]


def assert_not_click(err: str) -> None:
    for english in ("Usage:", "Error:", "Missing option", "No such option", "No such command", "Try '", "╭"):
        assert english not in err, err


CASES = [
    # (kind, argv, the Japanese line, the English line)
    (
        "missing_option",
        ("processors", "contracts", "add", "--counterparty", "x"),
        "エラー (usage): 必須のオプションが指定されていません: --work"
        "（mamori processors contracts add --help で使い方を確認できます）",
        "error (usage): missing option: --work (see mamori processors contracts add --help)",
    ),
    (
        "unknown_option",
        ("customers", "find", "--customer-number", "A-1"),
        "エラー (usage): 不明なオプションです: --customer-number（候補: --customer-no）"
        "（mamori customers find --help で使い方を確認できます）",
        "error (usage): unknown option: --customer-number (did you mean: --customer-no) "
        "(see mamori customers find --help)",
    ),
    (
        "bad_int",
        ("customers", "list", "--limit", "lots"),
        "エラー (usage): --limit: 整数で入力してください（mamori customers list --help で使い方を確認できます）",
        "error (usage): --limit: must be a whole number (see mamori customers list --help)",
    ),
    (
        "int_out_of_range",
        ("customers", "list", "--limit", "9999"),
        "エラー (usage): --limit: 500以下の値を指定してください（mamori customers list --help で使い方を確認できます）",
        None,
    ),
    (
        "missing_argument",
        ("customers", "show"),
        "エラー (usage): 必須の引数が指定されていません: 顧客ID（mamori customers show --help で使い方を確認できます）",
        "error (usage): missing argument: Customer ID (see mamori customers show --help)",
    ),
    (
        "unknown_command",
        ("customers", "serch"),
        "エラー (usage): 不明なコマンドです: serch（mamori customers --help で使い方を確認できます）",
        "error (usage): unknown command: serch (see mamori customers --help)",
    ),
    (
        "option_needs_value",
        ("customers", "find", "--customer-no"),
        "エラー (usage): オプション --customer-no には値が必要です",
        None,
    ),
]


@pytest.mark.parametrize(("kind", "argv", "ja", "en"), CASES, ids=[c[0] for c in CASES])
def test_each_usage_error_is_one_japanese_line_with_exit_2(monkeypatch, capsys, kind, argv, ja, en):
    code, out, err = run_main(monkeypatch, capsys, *argv)
    assert code == 2 and out == ""
    line = one_line(err)
    assert line == ja
    assert JAPANESE.search(line)
    assert_not_click(err)


@pytest.mark.parametrize(
    ("kind", "argv", "ja", "en"), [c for c in CASES if c[3]], ids=[c[0] for c in CASES if c[3]]
)
def test_english_with_lang_en_and_with_mamori_lang(monkeypatch, capsys, kind, argv, ja, en):
    code, _, err = run_main(monkeypatch, capsys, "--lang", "en", *argv)
    assert code == 2 and one_line(err).lower() == en.lower()
    assert not JAPANESE.search(err)
    code, _, err = run_main(monkeypatch, capsys, *argv, lang="en")
    assert code == 2 and one_line(err).lower() == en.lower()
    assert_not_click(err)


def test_the_value_typed_is_never_repeated(monkeypatch, capsys):
    code, _, err = run_main(monkeypatch, capsys, "customers", "list", "--limit", "090-1234-5678")
    assert code == 2 and "090-1234-5678" not in err and "1234" not in err
    code, _, err = run_main(monkeypatch, capsys, "customers", "show")
    assert code == 2


def test_help_is_typers_own_and_exits_0(monkeypatch, capsys):
    from typer.testing import CliRunner

    from mamori.cli.main import app

    code, out, err = run_main(monkeypatch, capsys, "customers", "find", "--help")
    assert code == 0 and err == ""
    assert "Usage: mamori customers find [OPTIONS]" in out and "--customer-no" in out and "--system" in out
    plain = CliRunner().invoke(app, ["customers", "find", "--help"], prog_name="mamori")
    assert plain.exit_code == 0
    squash = lambda s: " ".join(s.split())  # noqa: E731 - the panels' width may differ, not their words
    assert squash(out) == squash(plain.stdout)
    code, out, _ = run_main(monkeypatch, capsys, "--help")
    assert code == 0 and "Usage: mamori [OPTIONS] COMMAND [ARGS]..." in out


def test_the_installed_entry_point_prints_the_same_line(tmp_path):
    """The console script itself (another process), not only main() in this one."""
    exe = Path(sys.executable).with_name("mamori")
    if not exe.exists():
        pytest.skip("the mamori console script is not installed next to this interpreter")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAMORI_")}
    env["MAMORI_HOME"] = str(tmp_path / "home")
    r = subprocess.run(
        [str(exe), "processors", "contracts", "add"], capture_output=True, text=True, env=env, timeout=120
    )
    assert r.returncode == 2 and r.stdout == ""
    assert one_line(r.stderr) == (
        "エラー (usage): 必須のオプションが指定されていません: --counterparty"
        "（mamori processors contracts add --help で使い方を確認できます）"
    )
    env["MAMORI_LANG"] = "en"
    r = subprocess.run([str(exe), "nosuch"], capture_output=True, text=True, env=env, timeout=120)
    assert (
        r.returncode == 2
        and one_line(r.stderr) == "error (usage): unknown command: nosuch (see mamori --help)"
    )
