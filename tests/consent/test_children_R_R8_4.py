"""R-R8-4 (令和8年改正): consent for a person under 16 comes from a legal guardian — only once the rule is in force.

The clock moves: before the 施行日 nothing changes (R-R8-3); from it a grant for a child without guardian details is
refused naming the rule, and accepted with them. The operator can set the Cabinet Order's date with
MAMORI_RULE_DATES, which the CLI test uses (the CLI runs on the system clock).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from typer.testing import CliRunner

from mamori.consent import service
from mamori.consent.schemas import ConsentIn
from mamori.kernel.errors import ValidationFailed
from mamori.kernel.settings import reset_settings_cache
from tests.factories import make_customer, point_env_at, seed_basics

JST_MIDNIGHT_2028_07_16 = datetime(2028, 7, 15, 15, 0, tzinfo=UTC)  # the statutory latest 施行日, 00:00 JST


@pytest.fixture
def actors(runtime):
    return seed_basics(runtime)


@pytest.fixture
def child(runtime, actors):
    """Born 2015-04-01: 11 today, 13 on 2028-07-16."""
    return make_customer(runtime, actors["sato"], birth_date="2015-04-01", email="kodomo@example.jp")


def test_before_the_amendment_a_childs_consent_is_recorded_as_before_R_R8_4(runtime, actors, child):
    runtime.clock.at = datetime(2026, 12, 6, 1, 0, tzinfo=UTC)
    with runtime.transaction(actors["sato"]) as ctx:
        ev = service.grant(ctx, child, "marketing-email", ConsentIn(method="checkbox"))
        service.grant_sensitive(ctx, child, ConsentIn(method="paper"))
    assert ev.guardian is None
    runtime.clock.at = datetime(2028, 7, 15, 14, 59, tzinfo=UTC)  # 23:59 JST, the day before
    with runtime.transaction(actors["sato"]) as ctx:
        service.grant(ctx, child, "contract", ConsentIn(method="checkbox"))


def test_from_the_amendment_a_childs_consent_needs_a_legal_guardian_R_R8_4(runtime, actors, child):
    runtime.clock.at = JST_MIDNIGHT_2028_07_16
    for record in (
        lambda ctx: service.grant(ctx, child, "marketing-email", ConsentIn(method="checkbox")),
        lambda ctx: service.grant_sensitive(ctx, child, ConsentIn(method="paper")),
        lambda ctx: service.bulk_grant(ctx, [(child, "contract", "granted", ConsentIn(method="import"))]),
    ):
        with pytest.raises(ValidationFailed) as exc, runtime.transaction(actors["sato"]) as ctx:
            record(ctx)
        assert exc.value.rule_id == "R-R8-4" and exc.value.code == "guardian_consent_required"
        assert "2015" not in exc.value.message_ja + exc.value.message_en  # no personal value in the error
    with runtime.transaction(actors["sato"]) as ctx:
        assert service.show(ctx, child).events == []
        ev = service.grant(ctx, child, "marketing-email", ConsentIn(method="paper", guardian="parent"))
        service.bulk_grant(
            ctx, [(child, "contract", "granted", ConsentIn(method="import", guardian="guardian"))]
        )
    assert ev.guardian == "parent"
    with runtime.transaction(actors["sato"]) as ctx:
        summary = service.show(ctx, child)
        service.withdraw(
            ctx, child, "marketing-email", ConsentIn(method="email")
        )  # withdrawing stays easy (G-7)
    assert [(e.target, e.guardian) for e in summary.events] == [
        ("marketing-email", "parent"),
        ("contract", "guardian"),
    ]


def test_the_rule_looks_at_the_age_on_the_consent_day_R_R8_4(runtime, actors):
    runtime.clock.at = JST_MIDNIGHT_2028_07_16
    adult = make_customer(runtime, actors["sato"])  # born 1985
    sixteen_today = make_customer(runtime, actors["sato"], birth_date="2012-07-16", email="a@example.jp")
    sixteen_tomorrow = make_customer(runtime, actors["sato"], birth_date="2012-07-17", email="b@example.jp")
    unknown = make_customer(runtime, actors["sato"], birth_date=None, email="c@example.jp")
    with runtime.transaction(actors["sato"]) as ctx:
        for cid in (adult, sixteen_today, unknown):
            service.grant(ctx, cid, "marketing-email", ConsentIn(method="checkbox"))
    with pytest.raises(ValidationFailed) as exc, runtime.transaction(actors["sato"]) as ctx:
        service.grant(ctx, sixteen_tomorrow, "marketing-email", ConsentIn(method="checkbox"))
    assert exc.value.rule_id == "R-R8-4"
    # consent given (and dated) before the 施行日, recorded after it: the rule did not apply when it was given
    with runtime.transaction(actors["sato"]) as ctx:
        given = datetime(2028, 7, 1, 3, 0, tzinfo=UTC)
        service.grant(ctx, sixteen_tomorrow, "contract", ConsentIn(method="paper", occurred_at=given))


def test_an_unknown_guardian_relationship_is_refused(runtime, actors, child):
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        ConsentIn(method="paper", guardian="neighbour")  # type: ignore[arg-type]


@pytest.fixture
def cli_child(runtime, actors, child, monkeypatch):
    """The CLI on the test stores, with the operator's date for R-R8-4 (a Cabinet Order before today)."""
    point_env_at(monkeypatch, runtime.settings, MAMORI_RULE_DATES="R-R8-4=2026-12-01", MAMORI_LANG="en")
    yield child
    reset_settings_cache()


def test_cli_refuses_a_childs_consent_without_guardian_once_the_operator_sets_the_date_R_R8_4(cli_child):
    from mamori.cli.main import app

    runner = CliRunner()
    run = lambda *a: runner.invoke(app, ["--as", "sato", "consent", "grant", cli_child, *a])  # noqa: E731
    refused = run("--purpose", "marketing-email")
    assert refused.exit_code != 0
    lines = [ln for ln in refused.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "R-R8-4" in lines[0] and "guardian_consent_required" in lines[0]
    bad = run("--purpose", "marketing-email", "--guardian", "uncle")
    assert bad.exit_code != 0
    ok = run("--purpose", "marketing-email", "--guardian", "parent", "--json")
    assert ok.exit_code == 0, ok.output
    assert '"guardian": "parent"' in ok.stdout or '"guardian":"parent"' in ok.stdout


def test_cli_before_the_date_records_a_childs_consent_as_before_R_R8_4(runtime, actors, child, monkeypatch):
    from mamori.cli.main import app

    point_env_at(monkeypatch, runtime.settings, MAMORI_RULE_DATES="R-R8-4=2099-01-01")  # a 施行日 to come
    try:
        r = CliRunner().invoke(app, ["--as", "sato", "consent", "grant", child, "--purpose", "contract"])
        assert r.exit_code == 0, r.output
    finally:
        reset_settings_cache()


def test_api_refuses_a_childs_consent_without_guardian_from_the_date_and_records_it_with_R_R8_4(runtime):
    from tests.api.conftest import Api
    from tests.api.test_api import API, NEW, create, problem

    api = Api(runtime)
    runtime.clock.at = JST_MIDNIGHT_2028_07_16
    c, csrf = api.client("sato")
    child = {**NEW, "customer": {**NEW["customer"], "birth_date": "2015-04-01"}}  # type: ignore[dict-item]
    cid = create(c, csrf, child)
    url, headers = f"{API}/customers/{cid}/consents", {"X-CSRF-Token": csrf}
    body = {"action": "grant", "purpose": "marketing-email", "method": "checkbox"}
    problem(c.post(url, headers=headers, json=body), 422, "guardian_consent_required", "R-R8-4")
    problem(c.post(url, headers=headers, json={**body, "guardian": "uncle"}), 422, "invalid_input")
    r = c.post(url, headers=headers, json={**body, "guardian": "parent"})
    assert r.status_code == 201, r.text
    assert r.json()["guardian"] == "parent"
    assert [e["guardian"] for e in c.get(url).json()["events"]] == ["parent"]
