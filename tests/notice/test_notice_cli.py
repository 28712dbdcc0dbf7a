"""`mamori notice draft | publish | show | history` against a test store (R-32-1)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from mamori.cli.main import app
from mamori.kernel.context import SYSTEM_ACTOR
from mamori.purposes import service as purposes_service
from tests.factories import PURPOSES, point_env_at, seed_basics
from tests.kernel.test_sensitive_refusal_sweep import denials_since, last_seq
from tests.notice.conftest import OPERATOR, seed_registries


@pytest.fixture
def store(make_runtime, monkeypatch):
    rt = make_runtime(**OPERATOR)
    seed_basics(rt)
    seed_registries(rt)
    env = {f"MAMORI_{k.upper()}": v for k, v in OPERATOR.items()}
    point_env_at(monkeypatch, rt.settings, **env)
    runner = CliRunner()
    return rt, lambda *args: runner.invoke(app, list(args), catch_exceptions=False)


def j(result):
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_R_32_1_draft_publish_show_history(store):
    rt, run = store
    draft = j(run("--as", "po", "notice", "draft", "--json"))
    assert draft["published"] is None and not draft["unchanged"]
    assert [s["id"] for s in draft["content"]["sections"]] == [
        "operator",
        "purposes",
        "joint_use",
        "requests",
        "fees",
        "security",
        "foreign",
        "contact",
    ]
    text = run("--as", "po", "notice", "draft").stdout
    assert OPERATOR["operator_name"] in text and PURPOSES["contract"].text_ja.replace(
        "\n", ""
    ) in text.replace("\n", "")
    english = run("--as", "po", "notice", "draft", "--lang", "en").stdout
    assert "Who we are" in english and "United States" in english
    # --json publishes only what was reviewed (--expect) or with --yes
    assert run("--as", "po", "notice", "publish", "--json").exit_code != 0
    first = j(run("--as", "po", "notice", "publish", "--expect", draft["sha256"], "--json"))
    assert first["published"] and first["version"] == 1 and first["sha256"] == draft["sha256"]
    again = j(run("--as", "po", "notice", "publish", "--yes", "--json"))
    assert not again["published"] and again["version"] == 1
    assert "変更はありません" in run("--as", "po", "notice", "publish", "--yes").stdout
    # a change makes version 2; version 1 stays as it was
    with rt.transaction(SYSTEM_ACTOR) as ctx:
        purposes_service.retire(ctx, "gdpr-newsletter")
    diff = run("--as", "po", "notice", "draft").stdout
    assert "[変更] 個人情報の利用目的" in diff and f"-## {PURPOSES['gdpr-newsletter'].title_ja}" in diff
    assert "第2版を公表しました" in run("--as", "po", "notice", "publish", "--yes").stdout
    history = j(run("notice", "history", "--json"))
    assert [h["version"] for h in history] == [2, 1]
    v1 = j(run("notice", "show", "--version", "1", "--json"))
    titles = [e["heading"]["ja"] for e in v1["content"]["sections"][1]["entries"]]
    assert PURPOSES["gdpr-newsletter"].title_ja in titles
    current = j(run("notice", "show", "--json"))
    assert current["version"] == 2
    assert PURPOSES["gdpr-newsletter"].title_ja not in [
        e["heading"]["ja"] for e in current["content"]["sections"][1]["entries"]
    ]
    shown = run("notice", "show", "--version", "1").stdout
    assert "第1版" in shown and "施行" in shown
    assert "第2版" in run("notice", "history").stdout


def test_show_an_unknown_version_is_one_line_with_the_rule(store):
    _, run = store
    r = run("notice", "show", "--version", "7")
    assert r.exit_code != 0 and "notice_not_found" in r.stderr and "R-32-1" in r.stderr
    assert len([ln for ln in r.stderr.splitlines() if ln.strip()]) == 1
    assert run("notice", "show", "--version", "0").exit_code != 0  # not a version number


@pytest.mark.parametrize("who", ["sato", "support", "analyst"])
def test_R_32_1_sales_support_and_analysts_are_refused_publish_and_the_refusal_is_audited(store, who):
    rt, run = store
    before = last_seq(rt)
    r = run("--as", who, "notice", "publish", "--yes")
    assert r.exit_code == 3 and "role_not_permitted" in r.stderr, r.stderr
    assert [e.action for e in denials_since(rt, before)] == ["notice.publish"]
    assert run("--as", who, "notice", "draft").exit_code == 3
    assert j(run("notice", "history", "--json")) == []
