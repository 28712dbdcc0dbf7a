"""``mamori incidents add / list / show / edit / classify / filed / close / mine`` (issue 22): the happy path, bad
input in one line without the value, other roles refused with the rule id."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from mamori.cli.main import app
from tests.factories import point_env_at, seed_basics


def _cli(runtime, monkeypatch):  # noqa: ANN202
    point_env_at(monkeypatch, runtime.settings)
    runner = CliRunner()
    return lambda *args: runner.invoke(app, list(args), catch_exceptions=False)


ADD = (
    "incidents", "add", "--title", "設定誤りによるメールアドレスの公開", "--kind", "leak", "--suspected",
    "--known-at", "2026-12-04 10:00", "--known-by", "情報システム部", "--discovered-by", "外部からの指摘",
    "--cause", "external_attack",
)  # fmt: skip


def test_add_list_show_classify_edit_filed_close(runtime, monkeypatch):
    seed_basics(runtime)
    run = _cli(runtime, monkeypatch)
    r = run("--as", "sato", *ADD, "--json")
    assert r.exit_code == 0, r.output
    made = json.loads(r.stdout)
    assert made["known_at"].startswith("2026-12-04T01:00:00") and made["ref"] == "INC-0001"
    mine = json.loads(run("--as", "sato", "incidents", "mine", "--json").stdout)
    assert [m["ref"] for m in mine] == ["INC-0001"]
    board = json.loads(run("--as", "po", "incidents", "list", "--json").stdout)
    assert [b["ref"] for b in board] == ["INC-0001"] and board[0]["triggers"] == ["wrongful"]
    assert board[0]["final_due"] == "2027-02-01"  # day 60 = Mon 1 Feb 2027
    table = run("--as", "po", "incidents", "list")
    assert table.exit_code == 0 and "INC-0001" in table.stdout and "事案番号" in table.stdout
    shown = run("--as", "po", "incidents", "show", "INC-0001")
    assert shown.exit_code == 0 and "確報" in shown.stdout and "2027年2月1日" in shown.stdout
    detail = json.loads(run("--as", "po", "incidents", "show", "1", "--json").stdout)
    assert detail["deadlines"]["prelim_due"] == "2026-12-08" and detail["classification"]["reportable"]
    cls = json.loads(run("--as", "po", "incidents", "classify", "INC-0001", "--json").stdout)
    assert [t["code"] for t in cls["triggers"]] == ["wrongful"]
    r = run("--as", "po", "incidents", "edit", "INC-0001", "--wrongful", "no", "--cause", "misconfiguration",
            "--prevention", "公開設定の二重確認", "--expect-version", "1", "--json")  # fmt: skip
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["wrongful_purpose"] is False and json.loads(r.stdout)["version"] == 2
    assert json.loads(run("--as", "po", "incidents", "classify", "1", "--json").stdout)["reportable"] is False
    r = run(
        "--as", "po", "incidents", "edit", "INC-0001", "--clear", "prevention", "--wrongful", "auto", "--json"
    )
    assert r.exit_code == 0 and json.loads(r.stdout)["prevention"] is None
    r = run(
        "--as",
        "po",
        "incidents",
        "filed",
        "INC-0001",
        "--what",
        "prelim",
        "--on",
        "2026-12-05 09:00",
        "--json",
    )
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["prelim_filed_at"].startswith("2026-12-05T00:00:00")
    r = run("--as", "po", "incidents", "close", "INC-0001")
    assert r.exit_code == 0, r.output  # misconfiguration with nobody in scope: not reportable
    assert json.loads(run("--as", "sato", "incidents", "mine", "--json").stdout)[0]["status"] == "closed"


def test_bad_input_is_one_line_without_the_value(runtime, monkeypatch):
    seed_basics(runtime)
    run = _cli(runtime, monkeypatch)
    r = run("--as", "po", *ADD[:-1], "sabotage")
    assert r.exit_code != 0 and "sabotage" not in r.output
    r = run("--as", "po", *[a if a != "2026-12-04 10:00" else "昨日の朝" for a in ADD])
    assert r.exit_code != 0 and "昨日の朝" not in r.output
    assert run("--as", "po", *ADD).exit_code == 0
    r = run("--as", "po", "incidents", "edit", "1", "--cause-detail", "山田太郎さんの書類を誤送付")
    assert r.exit_code == 1 and "personal_data_in_text" in r.output and "山田" not in r.output
    assert len(r.output.strip().splitlines()) == 1
    r = run("--as", "po", "incidents", "filed", "1", "--what", "everything")
    assert r.exit_code == 1 and "everything" not in r.output


def test_other_roles_are_refused_with_the_rule_id(runtime, monkeypatch):
    seed_basics(runtime)
    run = _cli(runtime, monkeypatch)
    assert run("--as", "sato", *ADD).exit_code == 0
    for args in (("list",), ("show", "1"), ("classify", "1"), ("edit", "1", "--title", "x"), ("close", "1")):
        r = run("--as", "sato", "incidents", *args)
        assert r.exit_code == 3 and "R-23-2" in r.output, (args, r.output)
