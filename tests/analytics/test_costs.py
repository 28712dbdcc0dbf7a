"""Acquisition costs (issue 24, item 4: the numerator of the CAC): recorded per provenance channel in use or per
campaign, corrected by a new line for the same channel and period (never changed or deleted), refused for a channel
nobody came through, a reversed period, a negative amount or a note that names a person (422
``personal_data_in_text``: the note is scanned like the incident register's narrative). Only the analyst and the
privacy officer may; sales, support and the administrator are refused (R-23-2). Synthetic data only."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from mamori.analytics.kpi_schemas import CostIn
from mamori.analytics.service import costs
from mamori.customers.schemas import CustomerCreate, ProvenanceIn
from mamori.customers.service import core as customers_service
from mamori.kernel.context import Actor
from mamori.kernel.errors import PolicyDenied, ValidationFailed
from mamori.kernel.runtime import Runtime
from mamori.kernel.settings import reset_settings_cache
from tests.analytics.test_kpi import add_campaign, cli_app, mounted_api
from tests.factories import make_customer, point_env_at, seed_basics

NAME = "山田太郎"


def cost(**kw: Any) -> CostIn:
    values: dict[str, Any] = {
        "channel": "web_form",
        "period_start": date(2026, 1, 1),
        "period_end": date(2026, 3, 31),
        "amount_yen": 120_000,
        "note": "検索広告（1〜3月）",
    }
    values.update(kw)
    return CostIn(**values)


def add(rt: Runtime, actor: Actor, data: CostIn) -> Any:
    with rt.transaction(actor) as ctx:
        return costs.add_cost(ctx, data)


def listed(rt: Runtime, actor: Actor) -> Any:
    with rt.transaction(actor, readonly=True) as ctx:
        return costs.list_costs(ctx)


@pytest.fixture
def actors(runtime: Runtime) -> dict[str, Actor]:
    a = seed_basics(runtime)
    make_customer(runtime, a["sato"])  # provenance channel web_form: a channel in use
    return a


def test_a_cost_is_recorded_listed_and_audited_without_personal_data(runtime: Runtime, actors: Any) -> None:
    row = add(runtime, actors["analyst"], cost())
    assert (row.channel, row.amount_yen, row.period_end, row.superseded) == (
        "web_form",
        120_000,
        date(2026, 3, 31),
        False,
    )
    assert row.created_by == actors["analyst"].label
    assert [r.id for r in listed(runtime, actors["po"])] == [row.id]
    entry = runtime.audit.search(action="analytics.cost_add", limit=1)[0]
    assert entry.details["cost_id"] == row.id and entry.details["amount_yen"] == 120_000
    assert entry.details["period_start"] == "2026-01-01" and "note" not in entry.details


def test_a_correction_is_a_new_line_that_supersedes_the_old(runtime: Runtime, actors: Any) -> None:
    first = add(runtime, actors["analyst"], cost())
    runtime.clock.advance(timedelta(minutes=5))
    second = add(runtime, actors["analyst"], cost(amount_yen=100_000, note="訂正: 請求書の金額"))
    runtime.clock.advance(timedelta(minutes=5))
    other = add(runtime, actors["analyst"], cost(period_start=date(2026, 4, 1), period_end=date(2026, 6, 30)))
    rows = {r.id: r for r in listed(runtime, actors["analyst"])}
    assert rows[first.id].superseded and not rows[second.id].superseded and not rows[other.id].superseded
    assert [r.id for r in listed(runtime, actors["analyst"])][0] == other.id  # newest first


def _acquired_through(rt: Runtime, actor: Actor, campaign: str) -> str:
    """A person whose provenance names the acquisition campaign ``campaign`` (a code in use)."""
    with rt.transaction(actor) as ctx:
        view = customers_service.create(
            ctx,
            CustomerCreate(name="佐藤 花子", emails=["hanako.fair@example.jp"]),
            provenance=ProvenanceIn(method="direct", channel="event", campaign=campaign),
            purposes=["contract"],
        )
    return view.id


def test_a_campaign_cost_names_an_acquisition_campaign_in_use(runtime: Runtime, actors: Any) -> None:
    _acquired_through(runtime, actors["sato"], "2026秋フェア")
    row = add(runtime, actors["analyst"], cost(channel="campaign", campaign_id="2026秋フェア"))
    assert (row.channel, row.campaign_id) == ("campaign", "2026秋フェア")
    entry = runtime.audit.search(action="analytics.cost_add", limit=1)[0]
    assert entry.details["campaign_id"] == "2026秋フェア"
    email_campaign = add_campaign(runtime)  # an e-mail campaign mails existing customers: acquires nobody
    for data, code in (
        (cost(channel="campaign"), "campaign_required"),
        (cost(channel="campaign", campaign_id="2026春フェア"), "unknown_campaign"),
        (cost(channel="campaign", campaign_id=email_campaign), "unknown_campaign"),
        (cost(campaign_id="2026秋フェア"), "campaign_not_expected"),
        (cost(channel="tv_ads"), "unknown_channel"),  # no person was acquired through it
    ):
        with pytest.raises(ValidationFailed) as bad:
            add(runtime, actors["analyst"], data)
        assert bad.value.code == code and bad.value.http_status == 422
        if code == "unknown_campaign":
            assert bad.value.details["campaigns"] == ["2026秋フェア"]  # the codes in use, listed
            assert "2026秋フェア" in bad.value.message_ja
    assert len(listed(runtime, actors["analyst"])) == 1


@pytest.mark.parametrize("code", ["fair@example.jp", "tel09012345678", "a" * 65, "ad\x01x"])
def test_a_campaign_code_that_could_be_personal_data_is_refused(
    runtime: Runtime, actors: Any, code: str
) -> None:
    with pytest.raises(ValidationFailed) as bad:
        cost(channel="campaign", campaign_id=code)
    assert bad.value.code == "bad_campaign_code" and code not in bad.value.message_ja


def test_reversed_periods_and_negative_amounts_are_refused(runtime: Runtime, actors: Any) -> None:
    with pytest.raises(ValidationError):
        cost(period_start=date(2026, 4, 1), period_end=date(2026, 3, 31))
    with pytest.raises(ValidationError):
        cost(amount_yen=-1)
    with pytest.raises(ValidationError):
        cost(period_start=date(1800, 1, 1))
    # a model built in code skips its validation: the service checks again
    for data, code in (
        (cost().model_copy(update={"period_start": date(2026, 4, 1)}), "period_reversed"),
        (cost().model_copy(update={"amount_yen": -5}), "bad_amount"),
    ):
        with pytest.raises(ValidationFailed) as bad:
            add(runtime, actors["analyst"], data)
        assert bad.value.code == code
    assert listed(runtime, actors["analyst"]) == []


@pytest.mark.parametrize(
    ("note", "kind"),
    [
        (f"紹介者 {NAME}さんの分", "person"),
        ("担当 090-1234-5678", "phone"),
        ("taro@example.jp に請求", "email"),
    ],
)
def test_a_note_naming_a_person_is_refused_and_nothing_is_written(
    runtime: Runtime, actors: Any, note: str, kind: str
) -> None:
    with pytest.raises(ValidationFailed) as bad:
        add(runtime, actors["analyst"], cost(note=note))
    assert bad.value.code == "personal_data_in_text" and bad.value.http_status == 422
    assert bad.value.details["fields"] == ["note"] and kind in bad.value.details["kinds"]
    assert note not in bad.value.message_ja and NAME not in bad.value.message_ja
    assert listed(runtime, actors["analyst"]) == []


def test_a_sensitive_word_alone_describes_no_one(runtime: Runtime, actors: Any) -> None:
    row = add(runtime, actors["analyst"], cost(note="病歴のある方向けの広告枠"))
    assert row.note == "病歴のある方向けの広告枠"


@pytest.mark.parametrize("who", ["sato", "support", "admin"])
def test_other_roles_are_refused(runtime: Runtime, actors: Any, who: str) -> None:
    with pytest.raises(PolicyDenied) as refused:
        add(runtime, actors[who], cost())
    assert refused.value.rule_id == "R-23-2"
    with pytest.raises(PolicyDenied):
        listed(runtime, actors[who])
    assert listed(runtime, actors["po"]) == []  # nothing written
    denied = runtime.audit.search(action="analytics.costs", decision="deny", limit=1)[0]
    assert denied.actor == actors[who].label


# -- CLI and API ------------------------------------------------------------------------------------------------------


@pytest.fixture
def cli(runtime: Runtime, actors: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    point_env_at(monkeypatch, runtime.settings)
    runner = CliRunner()
    app = cli_app()

    def run(user: str, *args: str) -> Any:
        return runner.invoke(app, ["--as", user, "analytics", "costs", *args])

    yield run
    reset_settings_cache()


ADD = ("add", "--channel", "web_form", "--from", "2026-01-01", "--to", "2026-03-31", "--amount", "120000")


def test_cli_costs(cli: Any) -> None:
    r = cli("analyst", *ADD, "--note", "検索広告", "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["amount_yen"] == 120_000
    r = cli("analyst", *ADD)
    assert r.exit_code == 0 and "取得コストを記録しました" in r.stdout and "120,000円" in r.stdout
    r = cli("po", "list", "--json")
    assert r.exit_code == 0 and [x["superseded"] for x in json.loads(r.stdout)] == [False, True]
    r = cli("po", "list")
    assert r.exit_code == 0 and "訂正済み" in r.stdout and "web_form" in r.stdout


def test_cli_costs_refusals_and_bad_input(cli: Any) -> None:
    for who in ("sato", "support"):
        r = cli(who, *ADD)
        assert r.exit_code == PolicyDenied.exit_code and "R-23-2" in r.stderr
        assert len(r.stderr.strip().splitlines()) == 1
    r = cli(
        "analyst",
        "add",
        "--channel",
        "web_form",
        "--from",
        "2026-04-01",
        "--to",
        "2026-03-31",
        "--amount",
        "1",
    )
    assert r.exit_code != 0 and len(r.stderr.strip().splitlines()) == 1
    r = cli("analyst", *ADD[:-1], "-5")
    assert r.exit_code != 0
    r = cli("analyst", *ADD, "--note", f"紹介者 {NAME}さん")
    assert r.exit_code != 0 and "personal_data_in_text" in r.stderr and NAME not in r.stderr
    r = cli("analyst", "list", "--json")
    assert json.loads(r.stdout) == []


def test_api_costs(runtime: Runtime) -> None:
    api = mounted_api(runtime)
    make_customer(runtime, _actor(runtime, "sato"))  # a channel in use: web_form
    analyst, csrf = api.client("analyst")
    body = {
        "channel": "web_form",
        "period_start": "2026-01-01",
        "period_end": "2026-03-31",
        "amount_yen": 120000,
        "note": "検索広告",
    }
    h = {"X-CSRF-Token": csrf}
    r = analyst.post("/api/v1/analytics/costs", json=body, headers=h)
    assert r.status_code == 201, r.text
    assert r.json()["amount_yen"] == 120000
    r = analyst.get("/api/v1/analytics/costs")
    assert r.status_code == 200 and len(r.json()) == 1
    for bad in (
        {**body, "amount_yen": -1},
        {**body, "period_start": "2026-04-01"},
        {**body, "note": f"紹介者 {NAME}さん"},
        {**body, "channel": "tv_ads"},
    ):
        r = analyst.post("/api/v1/analytics/costs", json=bad, headers=h)
        assert r.status_code == 422, (bad, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert NAME not in r.text
    assert len(analyst.get("/api/v1/analytics/costs").json()) == 1
    for who in ("sato", "support"):
        c, token = api.client(who)
        assert (
            c.post("/api/v1/analytics/costs", json=body, headers={"X-CSRF-Token": token}).status_code == 403
        )
        r = c.get("/api/v1/analytics/costs")
        assert r.status_code == 403 and r.json()["rule_id"] == "R-23-2"
    assert len(analyst.get("/api/v1/analytics/costs").json()) == 1


def _actor(rt: Runtime, username: str) -> Actor:
    from mamori.kernel.context import SYSTEM_ACTOR
    from mamori.staff import service as staff_service

    with rt.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        return staff_service.actor_for(ctx, username)


def test_cli_campaign_costs(runtime: Runtime, actors: Any, cli: Any) -> None:
    _acquired_through(runtime, actors["sato"], "ad-2026-11")
    camp = ("add", "--channel", "campaign", "--from", "2026-11-01", "--to", "2026-11-30", "--amount", "90000")
    r = cli("analyst", *camp, "--campaign", "ad-2026-11", "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["campaign_id"] == "ad-2026-11"
    for code, error in (("ad-2026-12", "unknown_campaign"), ("x@example.jp", "bad_campaign_code")):
        r = cli("analyst", *camp, "--campaign", code)
        assert r.exit_code != 0 and error in r.stderr and len(r.stderr.strip().splitlines()) == 1
        assert "x@example.jp" not in r.stderr


def test_api_campaign_costs(runtime: Runtime) -> None:
    api = mounted_api(runtime)
    _acquired_through(runtime, _actor(runtime, "sato"), "ad-2026-11")
    analyst, csrf = api.client("analyst")
    body = {
        "channel": "campaign",
        "campaign_id": "ad-2026-11",
        "period_start": "2026-12-01",
        "period_end": "2026-12-31",
        "amount_yen": 10000,
    }
    h = {"X-CSRF-Token": csrf}
    r = analyst.post("/api/v1/analytics/costs", json=body, headers=h)
    assert r.status_code == 201, r.text
    assert r.json()["campaign_id"] == "ad-2026-11"
    for code, error in (("ad-2027", "unknown_campaign"), ("tel 0312345678", "bad_campaign_code")):
        r = analyst.post("/api/v1/analytics/costs", json={**body, "campaign_id": code}, headers=h)
        assert r.status_code == 422 and r.json()["code"] == error, r.text
        assert "0312345678" not in r.text
    assert len(analyst.get("/api/v1/analytics/costs").json()) == 1
