"""The acquisition campaign on provenance (issue 24, CAC per campaign): ``--campaign CODE`` on ``customers add`` and
``customers import`` (file level), ``provenance.campaign`` in the API's create and import bodies and a field of the
web import wizard; stored as a plaintext code on the provenance row and shown where provenance is shown (customers
show, the customer page, the person's disclosure). A code that could be personal data (an ``@``, a run of 10 or
more digits, a control character, over 64 characters) is refused ``bad_campaign_code`` — one line in the CLI, a 422
from the API and the wizard — never echoed, nothing written. Synthetic data only."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from mamori.cli.main import app
from mamori.customers.models import Customer, ImportJob, Provenance
from mamori.customers.sources import CustomersSource
from mamori.kernel.context import SYSTEM_ACTOR
from mamori.kernel.errors import PolicyDenied
from mamori.kernel.runtime import Runtime
from tests.api.conftest import Api
from tests.factories import point_env_at, seed_basics
from tests.web.test_import_pages import csv_bytes, row, upload, upload_id, wait_done

# Codes that could carry a person: an e-mail, a phone number (with and without dashes removed by nothing: a run of
# 10+ digits), a full-width phone (NFKC-folded first), a control character, 65 characters.
BAD_CODES = ["taro@example.jp", "tel09012345678", "０９０１２３４５６７８", "fair\x07", "a" * 65]


def campaigns(rt: Runtime) -> list[str | None]:
    with rt.sessions() as s:
        return list(s.scalars(select(Provenance.campaign).order_by(Provenance.acquired_at, Provenance.id)))


def n_customers(rt: Runtime) -> int:
    with rt.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(Customer)) or 0)


# -- CLI ------------------------------------------------------------------------------------------------------------


@pytest.fixture
def cli(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> Any:
    seed_basics(runtime)
    point_env_at(monkeypatch, runtime.settings)
    runner = CliRunner()

    def run(*args: str) -> Any:
        return runner.invoke(app, list(args), catch_exceptions=False)

    return run


ADD = (
    "customers",
    "add",
    "--name",
    "架空 花子",
    "--email",
    "hanako.campaign@example.jp",
    "--notified-purpose",
    "contract",
    "--channel",
    "event",
)


def test_cli_add_stores_the_campaign_and_show_prints_it(runtime: Runtime, cli: Any) -> None:
    r = cli("--as", "sato", *ADD, "--campaign", " 2026秋フェア ", "--json")
    assert r.exit_code == 0, r.output
    cid = json.loads(r.stdout)["id"]
    assert campaigns(runtime) == ["2026秋フェア"]  # trimmed, stored in plaintext (a code, never a person)
    r = cli("--as", "sato", "customers", "show", cid, "-p", "contract")
    assert r.exit_code == 0 and "キャンペーン: 2026秋フェア" in " ".join(r.stdout.split()), r.output
    r = cli("--as", "sato", "--lang", "en", "customers", "show", cid, "-p", "contract")
    assert "Campaign: 2026秋フェア" in " ".join(r.stdout.split())
    r = cli("--as", "sato", "customers", "show", cid, "-p", "contract", "--json")
    assert [p["campaign"] for p in json.loads(r.stdout)["provenance"]] == ["2026秋フェア"]
    r = cli("--as", "sato", *ADD[:3], "既存 一郎", "--email", "x2@example.jp", *ADD[6:])  # no campaign
    assert r.exit_code == 0, r.output
    assert campaigns(runtime) == ["2026秋フェア", None]


@pytest.mark.parametrize("code", BAD_CODES)
def test_cli_add_refuses_a_code_that_could_be_personal_data_in_one_line(
    runtime: Runtime, cli: Any, code: str
) -> None:
    r = cli("--as", "sato", *ADD, "--campaign", code)
    assert r.exit_code == 1 and "bad_campaign_code" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.output
    assert code.strip("\x07") not in r.output
    assert n_customers(runtime) == 0


def test_cli_add_with_a_campaign_is_still_refused_to_a_role_without_the_right(
    runtime: Runtime, cli: Any
) -> None:
    r = cli("--as", "analyst", *ADD, "--campaign", "fair")
    assert r.exit_code == PolicyDenied.exit_code and len(r.stderr.strip().splitlines()) == 1
    assert n_customers(runtime) == 0 and campaigns(runtime) == []


def test_cli_import_sets_the_campaign_of_every_row_and_refuses_a_bad_code(
    runtime: Runtime, cli: Any, tmp_path: Path
) -> None:
    f = tmp_path / "名簿.csv"
    f.write_bytes(csv_bytes([row(i) for i in range(3)]))
    base = ("--as", "po", "customers", "import", str(f), "--notified-purpose", "contract")
    r = cli(*base, "--source", "2026年秋 展示会の名刺", "--campaign", "ｆａｉｒ－2026")
    assert r.exit_code == 0, r.output
    bad = cli(*base, "--source", "展示会", "--campaign", "info@example.jp")
    assert campaigns(runtime) == ["fair-2026"] * 3  # NFKC: full-width letters and dash folded
    assert bad.exit_code == 1 and "bad_campaign_code" in bad.stderr and "info@example.jp" not in bad.output
    assert len(bad.stderr.strip().splitlines()) == 1
    with runtime.sessions() as s:
        assert s.scalar(select(func.count()).select_from(ImportJob)) == 1  # the refused import wrote no job


# -- API ------------------------------------------------------------------------------------------------------------


@pytest.fixture
def api(runtime: Runtime) -> Api:
    return Api(runtime)


def _create_body(campaign: object) -> dict[str, Any]:
    return {
        "customer": {"name": "架空 三郎", "emails": ["saburo.campaign@example.jp"]},
        "provenance": {"method": "direct", "channel": "web_form", "campaign": campaign},
        "purposes": ["contract"],
    }


def test_api_create_stores_the_campaign_and_the_view_shows_it(api: Api) -> None:
    c, csrf = api.client("sato")
    r = c.post("/api/v1/customers", json=_create_body("ad-2026-11"), headers={"X-CSRF-Token": csrf})
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    r = c.get(f"/api/v1/customers/{cid}", headers={"Mamori-Purpose": "contract"})
    assert [p["campaign"] for p in r.json()["provenance"]] == ["ad-2026-11"]
    spec = c.get("/openapi.json").json()["components"]["schemas"]
    assert "campaign" in spec["ProvenanceIn"]["properties"]


@pytest.mark.parametrize("code", BAD_CODES)
def test_api_create_refuses_a_bad_code_with_422_and_no_echo(api: Api, code: str) -> None:
    c, csrf = api.client("sato")
    r = c.post("/api/v1/customers", json=_create_body(code), headers={"X-CSRF-Token": csrf})
    assert r.status_code == 422 and r.json()["code"] == "bad_campaign_code", r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert code.strip("\x07") not in r.text and "saburo.campaign" not in r.text
    assert n_customers(api.rt) == 0


def test_api_create_with_a_campaign_needs_a_role_that_may_create(api: Api) -> None:
    c, csrf = api.client("analyst")
    r = c.post("/api/v1/customers", json=_create_body("fair"), headers={"X-CSRF-Token": csrf})
    assert r.status_code == 403 and n_customers(api.rt) == 0


def test_api_import_sets_the_campaign_and_refuses_a_bad_code(api: Api) -> None:
    c, csrf = api.client("po")
    text = csv_bytes([row(i) for i in range(2)]).decode()
    body = {
        "csv": text,
        "source": "2026年秋 展示会の名刺",
        "purposes": ["contract"],
        "provenance": {"method": "direct", "channel": "event", "campaign": "2026秋フェア"},
    }
    r = c.post("/api/v1/customers/imports", json=body, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 201, r.text
    assert campaigns(api.rt) == ["2026秋フェア"] * 2
    bad = {**body, "provenance": {**body["provenance"], "campaign": "090-1234-5678 tel 09012345678"}}
    r = c.post("/api/v1/customers/imports", json=bad, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 422 and r.json()["code"] == "bad_campaign_code"
    assert "09012345678" not in r.text
    assert campaigns(api.rt) == ["2026秋フェア"] * 2


# -- web: the import wizard and the customer page; the disclosure -----------------------------------------------


def test_web_import_wizard_takes_the_campaign_and_the_customer_page_shows_it(api: Api) -> None:
    c, csrf = api.client("po")
    form = c.get("/imports")
    assert form.status_code == 200 and 'name="campaign"' in form.text and 'for="i-campaign"' in form.text
    r = upload(c, csrf, csv_bytes([row(i) for i in range(2)]), campaign="web-fair-2026")
    assert r.status_code == 200, r.text
    assert '<dd id="campaign">web-fair-2026</dd>' in r.text
    uid = upload_id(r)
    r = c.post(f"/imports/{uid}/run", data={"csrf": csrf}, follow_redirects=False)
    assert r.status_code == 303
    wait_done(c, r.headers["location"])
    assert campaigns(api.rt) == ["web-fair-2026"] * 2
    with api.rt.sessions() as s:
        cid = s.scalars(select(Customer.id)).first()
    page = c.post(f"/customers/{cid}/open", data={"csrf": csrf, "purpose": "contract"}, follow_redirects=True)
    assert page.status_code == 200 and "<td>web-fair-2026</td>" in page.text and "キャンペーン" in page.text


def test_web_import_wizard_refuses_a_bad_code_without_echoing_it(api: Api) -> None:
    c, csrf = api.client("po")
    r = upload(c, csrf, csv_bytes([row(0)]), campaign="owner@example.jp")
    assert r.status_code == 422 and "owner@example.jp" not in r.text
    assert "キャンペーンコード" in r.text
    assert n_customers(api.rt) == 0


def test_the_disclosure_lists_the_campaign_of_the_provenance(runtime: Runtime, cli: Any) -> None:
    r = cli("--as", "sato", *ADD, "--campaign", "2026秋フェア", "--json")
    cid = json.loads(r.stdout)["id"]
    with runtime.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        records = CustomersSource().export(ctx, cid)
    (prov,) = [x for x in records if x.category == "provenance"]
    assert prov.data["campaign"] == "2026秋フェア" and prov.data["channel"] == "event"
