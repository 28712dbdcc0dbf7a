"""Issue 17, inputs: the provided data (the web's one-time download and `mamori provide --out`) never carries a
live spreadsheet formula, and --out never follows a link nor replaces a file without --force."""

from __future__ import annotations

import csv
import io

import pytest
from typer.testing import CliRunner

from mamori.cli.main import app
from mamori.kernel.context import SYSTEM_ACTOR
from mamori.provision import service
from mamori.provision.schemas import CounterpartyIn, ProvisionConsentIn
from mamori.staff import service as staff_service
from tests.api.conftest import Api
from tests.factories import make_customer, point_env_at

FORMULA = "=cmd|' /C calc'!A0"
EMAIL = "+attack@example.jp"  # a valid address that a spreadsheet reads as a formula


@pytest.fixture
def api(runtime):
    return Api(runtime)


def _setup(api) -> tuple[str, str]:
    with api.rt.transaction(SYSTEM_ACTOR, readonly=True) as s:
        po = staff_service.actor_for(s, "po")
    cid = make_customer(api.rt, po, name=FORMULA, email=EMAIL, phone=None, kana=None)
    with api.rt.transaction(po) as ctx:
        cp = service.add_counterparty(
            ctx,
            CounterpartyIn.model_validate(
                {
                    "kind": "third_party",
                    "name": "架空データ販売株式会社",
                    "address": "東京都港区架空1-2-3",
                    "representative": "代表取締役 架空一郎",
                    "country": "JP",
                }
            ),
        ).id
        service.grant_consent(
            ctx,
            ProvisionConsentIn(
                customer_id=cid, counterparty_id=cp, purpose="contract", method="checkbox", evidence="form-7"
            ),
        )
    return cid, cp


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def test_the_one_time_download_carries_no_formula(api):
    cid, cp = _setup(api)
    po, csrf = api.client("po")
    body = {
        "csrf": csrf,
        "counterparty_id": cp,
        "purpose": "contract",
        "fields": ["name", "email"],
        "basis": "consent",
        "selection": "ids",
        "customer_ids": cid,
        "step": "confirm",
    }
    r = po.post("/provision/provide", data=body)
    assert r.status_code == 200 and r.history
    pid = str(r.url).rsplit("/", 1)[1]
    got = po.post(f"/provision/provisions/{pid}/export", data={"csrf": csrf})
    assert got.status_code == 200 and got.headers["content-type"].startswith("text/csv")
    assert _rows(got.content.decode("utf-8-sig")) == [
        ["customer_id", "name", "email"],
        [cid, "'" + FORMULA, "'" + EMAIL],
    ]


def test_provide_out_writes_no_formula_and_never_through_a_link(api, monkeypatch, tmp_path):
    cid, cp = _setup(api)
    point_env_at(monkeypatch, api.rt.settings)
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(app, list(args), catch_exceptions=False)

    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    link = tmp_path / "export.csv"
    link.symlink_to(victim)
    args = ("--as", "po", "provide", "--to", cp, "-p", "contract", "-f", "name,email", "-c", cid, "--out")
    r = run(*args, str(link))
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert r.exit_code != 0 and len(lines) == 1 and "file_exists" in lines[0]
    assert victim.read_text() == "precious\n" and link.is_symlink()
    with api.rt.transaction(SYSTEM_ACTOR, readonly=True) as s:
        po = staff_service.actor_for(s, "po")
    with api.rt.transaction(po, readonly=True) as ctx:
        assert service.list_records(ctx) == []  # refused before anything was provided
    # a sales rep may not provide (R-23-2) and no file appears
    r = run("--as", "sato", *args[2:], str(tmp_path / "rep.csv"))
    assert r.exit_code == 3 and "R-23-2" in r.stderr and not (tmp_path / "rep.csv").exists()
    r = run(*args, str(link), "--force")
    assert r.exit_code == 0, r.output
    assert victim.read_text() == "precious\n" and not link.is_symlink()
    assert (link.stat().st_mode & 0o777) == 0o600
    assert _rows(link.read_text(encoding="utf-8")) == [
        ["customer_id", "name", "email"],
        [cid, "'" + FORMULA, "'" + EMAIL],
    ]


def test_a_receipt_with_an_over_long_line_is_refused_naming_the_line_and_nothing_is_received(api):
    from mamori.customers.service.import_checks import MAX_LINE_BYTES

    po, csrf = api.client("po")
    h = {"X-CSRF-Token": csrf}
    provider = po.post(
        "/api/v1/counterparties",
        headers=h,
        json={
            "kind": "third_party",
            "name": "架空名簿株式会社",
            "address": "東京都港区架空1-2-3",
            "representative": "代表取締役 架空一郎",
            "country": "JP",
        },
    ).json()["id"]
    huge = "z" * (MAX_LINE_BYTES + 10)
    receipt = {
        "counterparty_id": provider,
        "variant": "consent",
        "identity_confirmed_by": "申告書",
        "acquisition": "会員登録時の同意",
        "acquisition_lawful": True,
        "consent_confirmed": True,
        "purposes": ["contract"],
        "csv": f"name,email\n受領 一郎,ichiro@example.jp\n受領 二郎,{huge}\n",
    }
    r = po.post("/api/v1/receipts", headers=h, json=receipt)
    assert r.status_code == 422 and r.json()["code"] == "line_too_long", r.text
    assert "3行目" in r.text and "zzzz" not in r.text
    assert po.get("/api/v1/provision-records", params={"direction": "received"}).json() == []
    # another role may not receive at all (R-23-2)
    rep, rcsrf = api.client("sato")
    r = rep.post("/api/v1/receipts", headers={"X-CSRF-Token": rcsrf}, json=receipt)
    assert r.status_code == 403


def test_the_import_page_refuses_an_over_long_line_in_words(api):
    from mamori.customers.service.import_checks import MAX_LINE_BYTES

    po, csrf = api.client("po")
    data = ("氏名,メール\n架空 太郎,a@example.jp\n架空 次郎," + "q" * (MAX_LINE_BYTES + 1) + "\n").encode()
    form = {
        "csrf": csrf,
        "source": "展示会",
        "purposes": ["contract"],
        "method": "direct",
        "channel": "event",
    }
    r = po.post("/imports/preview", data=form, files={"file": ("名簿.csv", data, "text/csv")})
    assert r.status_code == 422, r.text[:500]
    assert "3行目" in r.text and "qqqq" not in r.text
