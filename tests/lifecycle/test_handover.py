"""The handover wizard's service, CLI, API and web pages (issue 21, seed 001 case 1).

Happy paths, bad input (422 / one-line errors, no value echoed), unauthorised roles (refused with the rule id,
nothing changed), the successor's training (R-23-3) and the greeting (sent by the successor or the officer, once,
only to the customers handed over that the policy lets be e-mailed)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from mamori.customers.models import Customer
from mamori.kernel.context import SYSTEM_ACTOR, Actor
from mamori.kernel.errors import Conflict, MamoriError, NotFound, PolicyDenied, ValidationFailed
from mamori.kernel.runtime import Runtime
from mamori.kernel.settings import reset_settings_cache
from mamori.lifecycle.models import Handover
from mamori.lifecycle.schemas import GreetingIn, HandoverCreate
from mamori.lifecycle.service import handover
from mamori.purposes import service as purposes_service
from mamori.staff import service as staff_service
from mamori.staff.schemas import StaffCreate
from tests.factories import make_customer, point_env_at, seed_basics
from tests.lifecycle.handover_support import ACCOUNT_CARE, require_training, train
from tests.lifecycle.handover_support import mail_runtime as mail_runtime  # noqa: F401  (fixture)

GREETING = GreetingIn(
    purpose=ACCOUNT_CARE.code, subject="担当交代のご挨拶", body="{name} 様\n担当が代わりました。\n"
)


def _actor(rt: Runtime, username: str) -> Actor:
    with rt.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        return staff_service.actor_for(ctx, username)


def _owners(rt: Runtime, ids: list[str]) -> set[str | None]:
    with rt.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        return set(ctx.session.execute(select(Customer.owner_id).where(Customer.id.in_(ids))).scalars())


def _handovers(rt: Runtime) -> int:
    with rt.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        return len(list(ctx.session.execute(select(Handover)).scalars()))


def _book(rt: Runtime, actors: dict[str, Actor]) -> dict[str, Any]:
    """sato (departing) owns four customers, three notified of account-care; suzuki is trained, tanaka is not."""
    with rt.transaction(SYSTEM_ACTOR) as ctx:
        purposes_service.add(ctx, ACCOUNT_CARE)
        staff_service.add(ctx, StaffCreate(username="tanaka", display_name="田中", role="sales", team="east"))
    require_training(rt, actors["po"])
    train(rt, actors["po"], "suzuki")
    ids = [
        make_customer(
            rt,
            actors["sato"],
            name=f"試験 {n}",
            email=f"t{n}@example.jp",
            phone=None,
            purposes=("contract", ACCOUNT_CARE.code) if n < 3 else ("contract",),
        )
        for n in range(4)
    ]
    return {"ids": ids}


@pytest.fixture
def story(mail_runtime: Runtime) -> dict[str, Any]:  # noqa: F811
    actors = seed_basics(mail_runtime)
    return {"rt": mail_runtime, "actors": actors, **_book(mail_runtime, actors)}


# -- service ---------------------------------------------------------------------------------------------------------


def test_plan_run_list_and_greet(story: dict[str, Any]) -> None:
    rt, a, ids = story["rt"], story["actors"], story["ids"]
    with rt.transaction(a["po"]) as ctx:
        plan = handover.plan(ctx, "sato")
    assert plan.customers == 4 and sorted(plan.customer_ids) == sorted(ids)
    assert [s.username for s in plan.candidates] == ["suzuki"]
    assert {s.username for s in plan.not_ready} == {
        "support",
        "tanaka",
    }  # admin, analyst, po: roles that own none
    with rt.transaction(a["po"]) as ctx:
        done = handover.run(
            ctx, HandoverCreate.model_validate({"from": "sato", "to": "suzuki", "reason": "reassignment"})
        )
    assert done.customers == 4 and done.reason == "reassignment" and _owners(rt, ids) == {a["suzuki"].id}
    # a rep sees the handovers they gave or received; another rep none
    with rt.transaction(a["suzuki"], readonly=True) as ctx:
        assert [h.id for h in handover.list_handovers(ctx)] == [done.id]
        assert handover.get(ctx, done.id).to_username == "suzuki"
    with rt.transaction(_actor(rt, "tanaka"), readonly=True) as ctx:
        assert handover.list_handovers(ctx) == []
        with pytest.raises(NotFound):
            handover.get(ctx, done.id)
    # the greeting: not by another rep; by the successor, once, to the three notified
    with pytest.raises(NotFound), rt.transaction(_actor(rt, "tanaka")) as ctx:
        handover.greet(ctx, done.id, GREETING)
    with rt.transaction(a["suzuki"]) as ctx:
        greeted = handover.greet(ctx, done.id, GREETING)
    assert greeted.queued == 3 and greeted.excluded == {"purpose_not_notified": 1}
    with pytest.raises(Conflict) as again, rt.transaction(a["suzuki"]) as ctx:
        handover.greet(ctx, done.id, GREETING)
    assert again.value.code == "already_greeted"


def test_greeting_in_the_same_run_by_the_officer(story: dict[str, Any]) -> None:
    rt, a = story["rt"], story["actors"]
    data = HandoverCreate.model_validate({"from": "sato", "to": "suzuki", "greeting": GREETING.model_dump()})
    with rt.transaction(a["po"]) as ctx:
        done = handover.run(ctx, data)
    assert done.greeting is not None and done.greeting.queued == 3
    assert done.campaign_id == done.greeting.campaign_id
    with rt.transaction(a["po"], readonly=True) as ctx:
        assert handover.get(ctx, done.id).campaign_id == done.greeting.campaign_id


def test_refusals_change_nothing(story: dict[str, Any]) -> None:
    rt, a, ids = story["rt"], story["actors"], story["ids"]
    cases: list[tuple[str, dict[str, str], type[MamoriError], str, str | None]] = [
        ("po", {"from": "sato", "to": "tanaka"}, PolicyDenied, "training_required", "R-23-3"),
        ("po", {"from": "sato", "to": "sato"}, ValidationFailed, "same_staff", None),
        ("po", {"from": "sato", "to": "analyst"}, ValidationFailed, "successor_role", None),
        ("po", {"from": "nobody", "to": "suzuki"}, NotFound, "unknown_staff", None),
        ("po", {"from": "tanaka", "to": "suzuki"}, Conflict, "nothing_to_hand_over", None),
        ("suzuki", {"from": "sato", "to": "suzuki"}, PolicyDenied, "out_of_scope", "R-23-2"),
        ("analyst", {"from": "sato", "to": "suzuki"}, PolicyDenied, "role_not_permitted", "R-23-2"),
        ("support", {"from": "sato", "to": "suzuki"}, PolicyDenied, "role_not_permitted", "R-23-2"),
    ]
    for user, body, error, code, rule in cases:
        actor = a[user] if user in a else _actor(rt, user)
        with pytest.raises(error) as raised, rt.transaction(actor) as ctx:
            handover.run(ctx, HandoverCreate.model_validate(body))
        assert (raised.value.code, raised.value.rule_id) == (code, rule), (user, body)
    assert _owners(rt, ids) == {a["sato"].id} and _handovers(rt) == 0
    # admin runs handovers too, but cannot send the greeting (no campaign permission): nothing moves then either
    data = HandoverCreate.model_validate({"from": "sato", "to": "suzuki", "greeting": GREETING.model_dump()})
    with pytest.raises(PolicyDenied) as admin, rt.transaction(a["admin"]) as ctx:
        handover.run(ctx, data)
    assert admin.value.code == "not_the_successor" and _owners(rt, ids) == {a["sato"].id}
    with pytest.raises(PolicyDenied), rt.transaction(a["analyst"]) as ctx:
        handover.plan(ctx, "sato")


# -- CLI -------------------------------------------------------------------------------------------------------------


@pytest.fixture
def cli(story: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    from mamori.cli.main import app

    point_env_at(monkeypatch, story["rt"].settings, **{k: str(v) for k, v in _operator_env().items()})
    runner = CliRunner()

    def run(user: str, *args: str) -> Any:
        return runner.invoke(app, ["--as", user, "handover", *args])

    yield run
    reset_settings_cache()


def _operator_env() -> dict[str, str]:
    from tests.lifecycle.handover_support import OPERATOR

    return {f"MAMORI_{k.upper()}": v for k, v in OPERATOR.items()}


def test_cli_plan_run_greet_list(cli: Any, story: dict[str, Any], tmp_path: Path) -> None:
    rt, a, ids = story["rt"], story["actors"], story["ids"]
    p = cli("po", "plan", "sato", "--json")
    assert p.exit_code == 0, p.output
    body = json.loads(p.stdout)
    assert body["customers"] == 4 and [s["username"] for s in body["candidates"]] == ["suzuki"]
    shown = cli("po", "plan", "sato")
    assert shown.exit_code == 0 and "4" in shown.stdout and "tanaka" in shown.stdout
    refused = cli("po", "run", "sato", "--to", "tanaka")
    assert refused.exit_code != 0 and "training_required" in refused.stderr and "R-23-3" in refused.stderr
    assert _owners(rt, ids) == {a["sato"].id}
    body_file = tmp_path / "greeting.txt"
    body_file.write_text("{name} 様\n担当が代わりました。\n", encoding="utf-8")
    half = cli("po", "run", "sato", "--to", "suzuki", "--greet-purpose", ACCOUNT_CARE.code)
    assert half.exit_code != 0 and _owners(rt, ids) == {a["sato"].id}
    ran = cli("po", "run", "sato", "--to", "suzuki", "--json")
    assert ran.exit_code == 0, ran.output
    done = json.loads(ran.stdout)
    assert done["customers"] == 4 and _owners(rt, ids) == {a["suzuki"].id}
    greet = cli(
        "suzuki",
        "greet",
        done["id"],
        "--greet-purpose",
        ACCOUNT_CARE.code,
        "--subject",
        "ご挨拶",
        "--body-file",
        str(body_file),
        "--json",
    )
    assert greet.exit_code == 0, greet.output
    assert json.loads(greet.stdout)["queued"] == 3
    listed = cli("suzuki", "list", "--json")
    assert listed.exit_code == 0 and [h["id"] for h in json.loads(listed.stdout)] == [done["id"]]
    missing = cli(
        "suzuki",
        "greet",
        "0" * 32,
        "--greet-purpose",
        ACCOUNT_CARE.code,
        "--subject",
        "x",
        "--body-file",
        str(body_file),
    )
    assert missing.exit_code != 0 and "handover_not_found" in missing.stderr
    role = cli("analyst", "plan", "suzuki")
    assert role.exit_code != 0 and "role_not_permitted" in role.stderr


def test_cli_run_with_greeting(cli: Any, story: dict[str, Any], tmp_path: Path) -> None:
    body_file = tmp_path / "greeting.txt"
    body_file.write_text("{name} 様\nご挨拶\n", encoding="utf-8")
    ran = cli(
        "po", "run", "sato", "--to", "suzuki", "--greet-purpose", ACCOUNT_CARE.code,
        "--subject", "ご挨拶", "--body-file", str(body_file), "--json",
    )  # fmt: skip
    assert ran.exit_code == 0, ran.output
    done = json.loads(ran.stdout)
    assert done["greeting"]["queued"] == 3 and done["greeting"]["excluded"] == {"purpose_not_notified": 1}


# -- API -------------------------------------------------------------------------------------------------------------


@pytest.fixture
def api_story(mail_runtime: Runtime) -> dict[str, Any]:  # noqa: F811
    from tests.api.conftest import Api

    api = Api(mail_runtime)
    actors = {u: _actor(mail_runtime, u) for u in api.ids}
    return {"api": api, "rt": mail_runtime, "actors": actors, **_book(mail_runtime, actors)}


def test_api_plan_run_greet(api_story: dict[str, Any]) -> None:
    api, rt, a, ids = api_story["api"], api_story["rt"], api_story["actors"], api_story["ids"]
    c, csrf = api.client("po")
    h = {"X-CSRF-Token": csrf}
    r = c.get("/api/v1/handovers/plan", params={"from": "sato"})
    assert r.status_code == 200, r.text
    assert r.json()["customers"] == 4 and [s["username"] for s in r.json()["candidates"]] == ["suzuki"]
    r = c.post("/api/v1/handovers", json={"from": "sato", "to": "tanaka"}, headers=h)
    assert (
        r.status_code == 403 and r.json()["code"] == "training_required" and r.json()["rule_id"] == "R-23-3"
    )
    assert r.headers["content-type"].startswith("application/problem+json")
    for bad in (
        {"from": "sato"},
        {"from": "sato", "to": "山田 太郎"},
        {"from": "sato", "to": "suzuki", "reason": "x"},
    ):
        r = c.post("/api/v1/handovers", json=bad, headers=h)
        assert r.status_code == 422 and "山田" not in r.text
    assert _owners(rt, ids) == {a["sato"].id}
    r = c.post("/api/v1/handovers", json={"from": "sato", "to": "suzuki"}, headers=h)
    assert r.status_code == 201, r.text
    hid = r.json()["id"]
    assert _owners(rt, ids) == {api.ids["suzuki"]}
    assert c.get(f"/api/v1/handovers/{hid}").json()["customers"] == 4
    assert [x["id"] for x in c.get("/api/v1/handovers").json()] == [hid]
    assert c.get("/api/v1/handovers/not-an-id").status_code == 422
    # the greeting, by the successor
    s, scsrf = api.client("suzuki")
    r = s.post(
        f"/api/v1/handovers/{hid}/greeting",
        json={"purpose": ACCOUNT_CARE.code, "subject": "ご挨拶"},
        headers={"X-CSRF-Token": scsrf},
    )
    assert r.status_code == 422
    r = s.post(
        f"/api/v1/handovers/{hid}/greeting", json=GREETING.model_dump(), headers={"X-CSRF-Token": scsrf}
    )
    assert r.status_code == 200, r.text
    assert r.json()["queued"] == 3 and r.json()["excluded"] == {"purpose_not_notified": 1}
    r = s.post(
        f"/api/v1/handovers/{hid}/greeting", json=GREETING.model_dump(), headers={"X-CSRF-Token": scsrf}
    )
    assert r.status_code == 409 and r.json()["code"] == "already_greeted"
    n, ncsrf = api.client("analyst")
    assert n.get("/api/v1/handovers/plan", params={"from": "suzuki"}).status_code == 403
    r = n.post("/api/v1/handovers", json={"from": "suzuki", "to": "sato"}, headers={"X-CSRF-Token": ncsrf})
    assert r.status_code == 403 and r.json()["rule_id"] == "R-23-2"


# -- web -------------------------------------------------------------------------------------------------------------


def test_web_wizard(api_story: dict[str, Any]) -> None:
    api, rt, a, ids = api_story["api"], api_story["rt"], api_story["actors"], api_story["ids"]
    sato, suzuki, tanaka = a["sato"].id, api.ids["suzuki"], _actor(rt, "tanaka").id
    c, csrf = api.client("po")
    r = c.get(f"/handovers/new?from={sato}")
    assert r.status_code == 200 and 'id="customer-count"' in r.text and "4 件" in r.text
    assert all(f"/customers/{cid}" in r.text for cid in ids) and "試験" not in r.text  # ids, no names
    r = c.get(f"/handovers/new?from={sato}&step=2")
    assert r.status_code == 200 and f'value="{suzuki}"' in r.text
    assert f'value="{tanaka}"' not in r.text and "tanaka" in r.text and "R-23-3" in r.text
    forced = c.get(f"/handovers/new?from={sato}&step=3&to={tanaka}")
    assert forced.status_code == 403 and "R-23-3" in forced.text
    r = c.get(f"/handovers/new?from={sato}&step=3&to={suzuki}&reason=departure")
    assert r.status_code == 200 and 'id="confirm-count">4<' in r.text
    assert c.get("/handovers/new?from=not-an-id").status_code == 404
    # forcing an untrained successor through the POST: refused with R-23-3, nothing moves
    r = c.post("/handovers", data={"csrf": csrf, "from": sato, "to": tanaka, "reason": "departure"})
    assert r.status_code == 403 and "R-23-3" in r.text and _owners(rt, ids) == {sato}
    r = c.post("/handovers", data={"from": sato, "to": suzuki, "reason": "departure"})
    assert r.status_code == 403 and _owners(rt, ids) == {sato}  # no CSRF token
    r = c.post(
        "/handovers",
        data={"csrf": csrf, "from": sato, "to": suzuki, "reason": "departure"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    location = r.headers["location"]
    assert re.fullmatch(r"/handovers/[0-9a-f]{32}", location) and _owners(rt, ids) == {suzuki}
    done = c.get(location)
    assert done.status_code == 200 and 'id="done-summary"' in done.text and 'id="greeting"' in done.text
    assert "4" in done.text
    listing = c.get("/handovers")
    assert listing.status_code == 200 and location in listing.text
    # step 4: the successor sends the greeting
    s, scsrf = api.client("suzuki")
    bad = s.post(
        f"{location}/greeting", data={"csrf": scsrf, "purpose": ACCOUNT_CARE.code, "subject": "", "body": "x"}
    )
    assert bad.status_code == 422
    sent = s.post(
        f"{location}/greeting",
        data={
            "csrf": scsrf,
            "purpose": ACCOUNT_CARE.code,
            "subject": "ご挨拶",
            "body": "{name} 様\nよろしくお願いします。",
        },
    )
    assert sent.status_code == 200 and 'id="greeted"' in sent.text and "purpose_not_notified" in sent.text
    # a rep outside the handover, and a role without the permission
    n, _ = api.client("analyst")
    assert n.get(f"/handovers/new?from={sato}").status_code == 403
    assert n.get("/handovers").status_code == 403


def test_departure_holding_for_the_disable_screens(story: dict[str, Any]) -> None:
    rt, a = story["rt"], story["actors"]
    sato = a["sato"].id
    with rt.transaction(a["admin"], readonly=True) as ctx:
        assert handover.departure_holding(ctx, sato) == (4, f"/handovers/new?from={sato}")
        assert handover.departure_holding(ctx, a["suzuki"].id) is None  # owns none
    with rt.transaction(a["analyst"], readonly=True) as ctx:
        assert handover.departure_holding(ctx, sato) is None  # may not move them: nothing offered


# -- the entry from staff disable (the staff slice's screens; needs kernel.registry.staff_holdings) -------------------


def test_disable_screens_point_to_the_wizard(
    api_story: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from mamori.kernel import registry

    if not hasattr(registry, "staff_holdings"):
        pytest.skip("the staff-disable entry (kernel.registry.staff_holdings) is not applied yet")
    from mamori.cli.main import app

    api, rt, a = api_story["api"], api_story["rt"], api_story["actors"]
    sato = a["sato"].id
    c, csrf = api.client("admin")
    r = c.post(f"/staff/{sato}/disable", data={"csrf": csrf})
    assert (
        r.status_code == 200
        and "4 件の顧客を担当しています" in r.text
        and f"/handovers/new?from={sato}" in r.text
    )
    r = c.post(f"/staff/{sato}/disable", data={"csrf": csrf, "confirm": "1"})
    assert r.status_code == 200 and f"/handovers/new?from={sato}" in r.text
    assert f"/handovers/new?from={sato}" in c.get(f"/staff/{sato}").text
    with rt.transaction(SYSTEM_ACTOR) as ctx:
        staff_service.enable(ctx, "sato")
    point_env_at(monkeypatch, rt.settings)
    out = CliRunner().invoke(app, ["--as", "admin", "staff", "disable", "sato"])
    reset_settings_cache()
    assert out.exit_code == 0, out.output
    assert "4 件の顧客を担当しています" in out.stdout and "mamori handover plan sato" in out.stdout


# -- the contact slice's narrow grant (contact.campaign_send Scope.OWN for sales) ----------------------------------------


def test_a_rep_sends_only_their_own_message_to_their_own_customers(story: dict[str, Any]) -> None:
    from mamori.contact.service import campaigns

    rt, a, ids = story["rt"], story["actors"], story["ids"]
    other = make_customer(
        rt,
        a["suzuki"],
        name="試験 他",
        email="o@example.jp",
        phone=None,
        purposes=("contract", ACCOUNT_CARE.code),
    )
    with rt.transaction(a["sato"]) as ctx:
        sent = campaigns.send_to(
            ctx,
            name="ご連絡",
            purpose=ACCOUNT_CARE.code,
            subject="ご連絡",
            body="{name} 様",
            customer_ids=[*ids, other],
        )
    # suzuki's customer is left out by the policy (out of sato's scope), like the one not notified
    # (PostgreSQL: the row-level security hides it from the rep altogether — "not_found")
    assert sent.queued == 3 and sent.excluded["purpose_not_notified"] == 1
    assert sent.excluded.get("out_of_scope", 0) + sent.excluded.get("not_found", 0) == 1
    # a draft written by marketing cannot be sent by a rep, and a rep never sends to a whole purpose list
    from mamori.contact.campaign_schemas import CampaignCreate

    with rt.transaction(a["analyst"]) as ctx:
        draft = campaigns.create(
            ctx, CampaignCreate(name="x", purpose=ACCOUNT_CARE.code, subject="x", body="x")
        ).id
    for kwargs in ({"ids": ids}, {}):
        with pytest.raises(PolicyDenied) as refused, rt.transaction(a["sato"]) as ctx:
            campaigns.send(ctx, draft, **kwargs)  # type: ignore[arg-type]
        assert refused.value.rule_id == "R-23-2"
    with pytest.raises(PolicyDenied), rt.transaction(a["support"]) as ctx:
        campaigns.send_to(ctx, name="x", purpose=ACCOUNT_CARE.code, subject="x", body="x", customer_ids=ids)


def test_cli_greeting_refused_after_the_handover(cli: Any, story: dict[str, Any], tmp_path: Path) -> None:
    rt, a, ids = story["rt"], story["actors"], story["ids"]
    body_file = tmp_path / "greeting.txt"
    body_file.write_text("{name} 様\n", encoding="utf-8")
    ran = cli(
        "po", "run", "sato", "--to", "suzuki", "--greet-purpose", "contract",
        "--subject", "ご挨拶", "--body-file", str(body_file),
    )  # fmt: skip
    # the purpose names no e-mail channel (R-18-1): the greeting is refused, the handover stands and says so
    assert (
        ran.exit_code != 0
        and "channel_not_in_purpose" in ran.stderr
        and "mamori handover greet" in ran.stderr
    )
    assert _owners(rt, ids) == {a["suzuki"].id} and _handovers(rt) == 1
