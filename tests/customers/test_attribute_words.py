"""Issue 19 (found when re-checking it): an imported 登録日 is stored as the attribute ``registered_on``; the
customer's page and ``customers show`` call it 登録日, not by its key. A custom attribute keeps its own key."""

from __future__ import annotations

import json

from tests.factories import demo_cli


def test_registered_on_is_shown_as_its_word(tmp_path, monkeypatch) -> None:
    for run in demo_cli(tmp_path, monkeypatch):
        made = run(
            "--as", "sato", "customers", "add", "-p", "contract", "--name", "架空 登録", "--phone", "090-3333-4444",
            "--attr", "registered_on=2019-04-01", "--attr", "shoe_size=26", "--json",
        )  # fmt: skip
        assert made.exit_code == 0, made.output
        cid = json.loads(made.stdout)["id"]
        shown = run("--as", "sato", "customers", "show", cid, "-p", "contract")
        assert shown.exit_code == 0, shown.output
        assert "登録日（属性）" in shown.stdout and "registered_on" not in shown.stdout
        assert "shoe_size（属性）" in shown.stdout
