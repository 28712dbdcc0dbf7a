"""Issue 20 (2): the consent ledger's channel lines in every interface — an opt-in to a channel (marketing
e-mail needs one, 特定電子メール法 第3条 / TE-3) recorded with its method and evidence; a do-not-contact (R-35-1);
and `consent show` giving each channel's state (opted in / do-not-contact / nothing recorded) in Japanese.
CLI (`consent optin`, `consent dnc`, `consent show`), API (`POST …/contact-preferences`, `GET …/consents`), the web
page (`/consent/customers/{id}`). Bad input and unauthorised roles are refused and change nothing."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from mamori.cli.main import app
from mamori.consent import cli as consent_cli
from mamori.consent import service as consent_service
from mamori.kernel import policy
from mamori.kernel.context import SYSTEM_ACTOR, Actor, ActorKind
from tests.api.conftest import USERS, Api
from tests.factories import make_customer, point_env_at, seed_basics

API = "/api/v1"
PERSONAL = ["山田 太郎", "taro.yamada@example.jp", "090-1234-5678"]


def ledger(rt, cid):
    with rt.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        return consent_service.show(ctx, cid)


def channel_lines(rt, cid):
    return [e for e in ledger(rt, cid).events if e.kind == "channel"]


# -- CLI --------------------------------------------------------------------------------------------------------------


@pytest.fixture
def cli(runtime, monkeypatch):
    actors = seed_basics(runtime)
    cid = make_customer(runtime, actors["sato"])
    point_env_at(monkeypatch, runtime.settings)
    runner = CliRunner()
    return runtime, cid, lambda *args: runner.invoke(app, list(args), catch_exceptions=False)


def j(result):
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def one_line(result) -> str:
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_the_cli_channels_are_the_engines():
    assert consent_cli.CHANNELS == policy.CHANNELS


def test_cli_optin_with_method_and_evidence_and_show_in_japanese(cli):
    rt, cid, run = cli
    ev = j(
        run(
            "--as",
            "sato",
            "consent",
            "optin",
            cid,
            "--channel",
            "email",
            "--method",
            "checkbox",
            "--evidence",
            "web-form-2026-11",
            "--json",
        )
    )
    assert ev["kind"] == "channel" and ev["target"] == "email" and ev["action"] == "opt_in"
    assert ev["method"] == "checkbox" and ev["evidence"] == "web-form-2026-11"
    r = run("--as", "sato", "consent", "optin", cid, "--channel", "sms", "--method", "paper")
    assert (
        r.exit_code == 0 and "ショートメッセージ（SMS）: 受信に同意（オプトイン）を記録しました" in r.stdout
    )
    j(run("--as", "sato", "consent", "dnc", cid, "--channel", "phone", "--evidence", "call-881", "--json"))
    shown = run("--as", "sato", "consent", "show", cid)
    assert shown.exit_code == 0, shown.output
    out = shown.stdout
    assert "連絡手段ごとの状態:" in out
    assert (
        "メール: 受信に同意（オプトイン）" in out and "web-form-2026-11" in out and "チェックボックス" in out
    )
    assert "電話: 連絡停止" in out and "call-881" in out
    assert "郵便: 記録なし" in out and "訪問: 記録なし" in out
    as_json = j(run("--as", "sato", "consent", "show", cid, "--json"))
    assert as_json["channels"] == {
        "phone": "opt_out",
        "email": "opt_in",
        "post": "none",
        "sms": "opt_in",
        "visit": "none",
    }
    english = run("--lang", "en", "--as", "sato", "consent", "show", cid)
    assert "E-mail: opted in" in english.stdout and "Phone: do not contact" in english.stdout
    # the policy engine reads the same lines
    assert {e.target: e.action for e in channel_lines(rt, cid)} == {
        "email": "opt_in",
        "sms": "opt_in",
        "phone": "opt_out",
    }


def test_cli_a_stop_after_an_opt_in_is_shown_as_do_not_contact(cli):
    _, cid, run = cli
    j(run("--as", "sato", "consent", "optin", cid, "--channel", "email", "--method", "checkbox", "--json"))
    j(run("--as", "sato", "consent", "dnc", cid, "--channel", "email", "--method", "email", "--json"))
    assert "メール: 連絡停止" in run("--as", "sato", "consent", "show", cid).stdout
    j(run("--as", "sato", "consent", "dnc", cid, "--channel", "email", "--allow", "--json"))
    assert "メール: 受信に同意（オプトイン）" in run("--as", "sato", "consent", "show", cid).stdout


def test_cli_bad_channel_or_method_is_one_line_and_records_nothing(cli):
    rt, cid, run = cli
    r = run("--as", "sato", "consent", "optin", cid, "--channel", "carrier-pigeon")
    assert r.exit_code != 0 and "carrier-pigeon" not in one_line(r)
    r = run("--as", "sato", "consent", "optin", cid, "--channel", "email", "--method", "telepathy")
    assert r.exit_code != 0 and "telepathy" not in one_line(r)
    assert channel_lines(rt, cid) == []


def test_cli_unauthorised_roles_are_refused_with_the_rule(cli):
    rt, cid, run = cli
    r = run("--as", "analyst", "consent", "optin", cid, "--channel", "email", "--method", "checkbox")
    assert r.exit_code != 0 and "R-" in one_line(r)
    r = run("--as", "suzuki", "consent", "optin", cid, "--channel", "email")  # another team's customer
    assert r.exit_code != 0
    r = run("--as", "analyst", "consent", "show", cid)
    assert r.exit_code != 0
    assert channel_lines(rt, cid) == []


# -- API --------------------------------------------------------------------------------------------------------------


@pytest.fixture
def api(runtime):
    return Api(runtime)


def _actor(api, username):
    role, team = USERS[username]
    return Actor(kind=ActorKind.STAFF, id=api.ids[username], name=username, role=role, team=team)


@pytest.fixture
def cid(api):
    return make_customer(api.rt, _actor(api, "sato"))


def test_api_opt_in_with_method_and_evidence_then_every_channels_state(api, cid):
    c, csrf = api.client("sato")
    h = {"X-CSRF-Token": csrf}
    url = f"{API}/customers/{cid}/contact-preferences"
    r = c.post(
        url,
        json={"channel": "email", "allow": True, "method": "checkbox", "evidence": "web-form-7"},
        headers=h,
    )
    assert r.status_code == 201, r.text
    assert r.json()["action"] == "opt_in" and r.json()["evidence"] == "web-form-7"
    assert c.post(url, json={"channel": "phone", "method": "oral"}, headers=h).status_code == 201
    s = c.get(f"{API}/customers/{cid}/consents")
    assert s.status_code == 200, s.text
    body = s.json()
    assert body["channels"] == {
        "phone": "opt_out",
        "email": "opt_in",
        "post": "none",
        "sms": "none",
        "visit": "none",
    }
    assert body["do_not_contact"] == ["phone"]
    for v in PERSONAL:
        assert v not in s.text


def test_api_bad_channel_is_422_problem_json_without_the_value(api, cid):
    c, csrf = api.client("sato")
    r = c.post(
        f"{API}/customers/{cid}/contact-preferences",
        json={"channel": "fax-line", "allow": True, "method": "checkbox"},
        headers={"X-CSRF-Token": csrf},
    )
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
    assert "fax-line" not in r.text
    assert channel_lines(api.rt, cid) == []


def test_api_unauthorised_role_is_403(api, cid):
    c, csrf = api.client("analyst")
    r = c.post(
        f"{API}/customers/{cid}/contact-preferences",
        json={"channel": "email", "allow": True, "method": "checkbox"},
        headers={"X-CSRF-Token": csrf},
    )
    assert r.status_code == 403 and r.headers["content-type"].startswith("application/problem+json")
    assert c.get(f"{API}/customers/{cid}/consents").status_code == 403
    assert channel_lines(api.rt, cid) == []


# -- the web page -----------------------------------------------------------------------------------------------------


def post(c, url, csrf, **data):
    return c.post(url, data={"csrf": csrf, **data}, follow_redirects=False)


def test_web_opt_in_form_records_method_and_evidence_and_the_table_shows_each_state(api, cid):
    c, csrf = api.client("support")
    page = c.get(f"/consent/customers/{cid}")
    assert (
        page.status_code == 200 and 'id="optin-form"' in page.text and "特定電子メール法 第3条" in page.text
    )
    assert 'data-channel="email" data-state="none"' in page.text
    assert (
        "記録なし（広告宣伝は、その目的への同意がある場合だけ）" in page.text
        and "記録なし（連絡可）" in page.text
    )
    url = f"/consent/customers/{cid}/contact"
    r = post(c, url, csrf, channel="email", allow="1", method="checkbox", evidence="web-form-9")
    assert r.status_code == 200, r.text
    assert 'data-channel="email" data-state="opt_in"' in r.text and "受信に同意（オプトイン）" in r.text
    assert "web-form-9" in r.text and "チェックボックス" in r.text
    r = post(c, url, csrf, channel="phone")
    assert 'data-channel="phone" data-state="opt_out"' in r.text and "連絡を再開する（電話）" in r.text
    [email] = [e for e in channel_lines(api.rt, cid) if e.target == "email"]
    assert email.action == "opt_in" and email.method == "checkbox" and email.evidence == "web-form-9"
    summary = c.get(f"/consent/customers/{cid}/summary")
    assert summary.status_code == 200
    assert '<td id="consent-summary-optin">メール</td>' in summary.text
    for v in PERSONAL:
        assert v not in r.text and v not in summary.text


def test_web_bad_channel_or_method_is_a_422_page_and_records_nothing(api, cid):
    c, csrf = api.client("support")
    url = f"/consent/customers/{cid}/contact"
    r = post(c, url, csrf, channel="fax-line", allow="1", method="checkbox")
    assert r.status_code == 422 and "fax-line" not in r.text
    r = post(c, url, csrf, channel="email", allow="1", method="telepathy")
    assert r.status_code == 422 and "telepathy" not in r.text
    assert channel_lines(api.rt, cid) == []


def test_web_unauthorised_role_is_refused_and_records_nothing(api, cid):
    c, csrf = api.client("analyst")
    r = post(c, f"/consent/customers/{cid}/contact", csrf, channel="email", allow="1", method="checkbox")
    assert r.status_code in (403, 404)
    assert channel_lines(api.rt, cid) == []
