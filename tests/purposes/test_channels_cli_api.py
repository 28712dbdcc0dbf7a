"""Issue 20 (1): a contact purpose names its channels — `mamori purposes add|revise --channel … [--marketing]`, `show`
and `list` in words, and the REST API (`channels`, `marketing`). Revising the channels is a new version; the old
version keeps its channels. Bad input: one line (CLI) or 422 problem+json (API), no value echoed; a role without
PURPOSE_MANAGE is refused."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from mamori.cli.main import app
from mamori.kernel import policy
from mamori.kernel.context import SYSTEM_ACTOR
from mamori.purposes import cli as purposes_cli
from mamori.purposes import service
from tests.api.conftest import Api
from tests.factories import point_env_at, seed_basics

API = "/api/v1"
ADD = (
    "--title-ja",
    "お電話・郵便での新商品のご案内",
    "--title-en",
    "Offers by phone and post",
    "--text-ja",
    "新商品のご案内をお電話・郵便・メールでお届けするため、氏名・住所・電話番号・メールアドレスを利用します。",
    "--text-en",
    "We use your name, address, phone numbers and email addresses to tell you about new products.",
    "--categories",
    "identifier,contact",
)


@pytest.fixture
def run(runtime, monkeypatch):
    seed_basics(runtime)
    point_env_at(monkeypatch, runtime.settings)
    runner = CliRunner()
    return lambda *args: runner.invoke(app, list(args), catch_exceptions=False)


def j(result):
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def one_line(result) -> str:
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_the_help_lists_the_engines_channels():
    assert purposes_cli.HELP_CHANNELS == policy.CHANNELS
    assert frozenset(purposes_cli.HELP_OPT_IN_CHANNELS) == policy.OPT_IN_CHANNELS


def test_add_with_channels_and_marketing_shows_them_in_words(run):
    added = j(
        run(
            "--as",
            "po",
            "purposes",
            "add",
            "outbound",
            *ADD,
            "--channel",
            "phone",
            "--channel",
            "post",
            "--channel",
            "email",
            "--marketing",
            "--json",
        )
    )
    assert added["channels"] == ["phone", "email", "post"] and added["marketing"] is True
    r = run("--as", "po", "purposes", "add", "outbound2", *ADD, "--channel", "phone,email", "--marketing")
    assert r.exit_code == 0, r.output
    assert "電話、メール（広告宣伝）" in r.stdout
    assert "特定電子メール法 第3条" in r.stdout  # e-mail advertising: prior opt-in required
    shown = run("purposes", "show", "outbound")
    assert shown.exit_code == 0
    assert "連絡手段：電話、メール、郵便" in shown.stdout
    assert "広告宣伝：はい" in shown.stdout and "オプトイン" in shown.stdout
    listed = run("purposes", "list")  # one more column (cut to the terminal's width by Rich)
    assert listed.exit_code == 0 and listed.stdout.splitlines()[1].count("┃") == 10
    assert "連絡手" in listed.stdout.splitlines()[1]
    english = run("--lang", "en", "purposes", "show", "outbound")
    assert "Phone, E-mail, Post" in english.stdout and "opted in" in english.stdout
    # a purpose without channels says so (a do-not-contact never touches it)
    contract = run("purposes", "show", "contract")
    assert "連絡手段：なし" in contract.stdout and "オプトイン" not in contract.stdout
    assert j(run("purposes", "show", "contract", "--json"))["channels"] == []


def test_phone_only_marketing_needs_no_opt_in_note(run):
    r = run("--as", "po", "purposes", "add", "calls", *ADD, "--channel", "phone", "--marketing")
    assert r.exit_code == 0 and "特定電子メール法" not in r.stdout


def test_revising_the_channels_is_a_new_version_and_the_old_keeps_its_own(run, runtime):
    j(run("--as", "po", "purposes", "add", "outbound", *ADD, "--channel", "phone", "--json"))
    revised = j(
        run(
            "--as",
            "po",
            "purposes",
            "revise",
            "outbound",
            *ADD,
            "--channel",
            "phone",
            "--channel",
            "email",
            "--marketing",
            "--json",
        )
    )
    assert revised["version"] == 2 and revised["channels"] == ["phone", "email"]
    history = j(run("purposes", "show", "outbound", "--history", "--json"))
    by_version = {p["version"]: p for p in history}
    assert by_version[1]["channels"] == ["phone"] and by_version[1]["marketing"] is False
    assert by_version[2]["channels"] == ["phone", "email"] and by_version[2]["marketing"] is True
    with runtime.transaction(SYSTEM_ACTOR, readonly=True) as ctx:  # the engine sees the versions apart
        facts = service.version_facts(ctx, "outbound")
    assert facts[1].channels == frozenset({"phone"}) and facts[2].opt_in_channels == frozenset({"email"})


def test_an_unknown_channel_is_one_line_and_nothing_is_saved(run):
    r = run("--as", "po", "purposes", "add", "outbound", *ADD, "--channel", "fax")
    assert r.exit_code != 0
    line = one_line(r)
    assert "不明な連絡手段" in line and "phone" in line and "fax" not in line
    assert run("purposes", "show", "outbound").exit_code != 0


def test_a_role_without_purpose_manage_is_refused(run):
    r = run("--as", "support", "purposes", "add", "outbound", *ADD, "--channel", "phone")
    assert r.exit_code != 0 and "R-" in one_line(r)
    r = run("--as", "sato", "purposes", "revise", "contract", *ADD, "--channel", "phone")
    assert r.exit_code != 0
    assert j(run("purposes", "show", "contract", "--json"))["version"] == 1


# -- the REST API ---------------------------------------------------------------------------------------------------

BODY = {
    "code": "outbound",
    "title_ja": "お電話での新商品のご案内",
    "title_en": "Offers by phone",
    "text_ja": "新商品のご案内をお電話・メールでお届けするため、氏名・電話番号・メールアドレスを利用します。",
    "text_en": "We use your name, phone numbers and email addresses to tell you about new products.",
    "categories": ["identifier", "contact"],
}


@pytest.fixture
def api(runtime):
    return Api(runtime)


def test_api_accepts_and_returns_channels_and_marketing(api):
    c, csrf = api.client("po")
    h = {"X-CSRF-Token": csrf}
    r = c.post(f"{API}/purposes", json={**BODY, "channels": ["email", "phone"], "marketing": True}, headers=h)
    assert r.status_code == 201, r.text
    assert r.json()["channels"] == ["phone", "email"] and r.json()["marketing"] is True
    assert any(w.startswith("TE-3") and "特定電子メール法 第3条" in w for w in r.json()["warnings"])
    r = c.post(f"{API}/purposes/outbound/versions", json={**BODY, "channels": ["post"]}, headers=h)
    assert r.status_code == 201 and r.json()["version"] == 2 and r.json()["channels"] == ["post"]
    assert not any(w.startswith("TE-3") for w in r.json()["warnings"])  # post only: no opt-in needed
    versions = {p["version"]: p for p in c.get(f"{API}/purposes/outbound/versions").json()}
    assert versions[1]["channels"] == ["phone", "email"] and versions[1]["marketing"] is True
    assert versions[2]["channels"] == ["post"] and versions[2]["marketing"] is False
    assert c.get(f"{API}/purposes/outbound").json()["channels"] == ["post"]
    assert c.get(f"{API}/purposes/contract").json()["channels"] == []


def test_api_refuses_an_unknown_channel_as_problem_json(api):
    c, csrf = api.client("po")
    r = c.post(
        f"{API}/purposes", json={**BODY, "channels": ["phone", "fax-line"]}, headers={"X-CSRF-Token": csrf}
    )
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "fax-line" not in r.text
    assert c.get(f"{API}/purposes/outbound").status_code == 404


def test_api_refuses_a_role_without_purpose_manage(api):
    c, csrf = api.client("support")
    r = c.post(f"{API}/purposes", json={**BODY, "channels": ["phone"]}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 403
    assert r.headers["content-type"].startswith("application/problem+json")
