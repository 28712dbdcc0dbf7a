"""Third-party and succession data enter only through the receipt path (issue 13 P2, R-18-2), whichever command
starts it — `customers add`, `customers import` or `provision receive`, through the CLI (CliRunner) and the REST
API: a registered provider and the R-30-1 confirmation, the receipt and per-person records (R-30-2), opt-out
lineage (R-27-5), all in one transaction; succession data only for the purposes that applied before (R-18-2)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import func, select

from mamori.customers.models import Customer, ImportJob, Provenance
from mamori.kernel.runtime import Runtime
from mamori.kernel.settings import get_settings
from mamori.provision.models import DataLineage, ProvisionRecord, Receipt
from tests.api.conftest import Api
from tests.factories import demo_cli

PO = ("--as", "hoshino")
CONFIRM = (
    "--identity-confirmed-by",
    "提供元の申告書（登記事項証明書で確認）",
    "--acquisition",
    "提供元の会員登録時に第三者提供の同意を取得",
    "--lawful",
)
API = "/api/v1"


@pytest.fixture
def cli(tmp_path, monkeypatch):
    yield from demo_cli(tmp_path, monkeypatch, customers=2)


@contextmanager
def db() -> Iterator[Runtime]:
    rt = Runtime(get_settings())
    try:
        yield rt
    finally:
        rt.close()


def count(model: type) -> int:
    with db() as rt, rt.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def counts() -> tuple[int, ...]:
    return tuple(count(m) for m in (Customer, ImportJob, Receipt, ProvisionRecord, DataLineage))


def j(result):
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def refused(result, rule_id: str, code: str | None = None) -> None:
    assert result.exit_code != 0, result.output
    assert rule_id in result.output, result.output
    if code:
        assert code in result.output, result.output


def add_cp(cli, kind: str = "third_party", name: str = "架空名簿株式会社") -> str:
    return j(
        cli(
            *PO,
            "provision",
            "counterparties",
            "add",
            "--kind",
            kind,
            "--name",
            name,
            "--address",
            "東京都港区架空1-2-3",
            "--representative",
            "代表取締役 架空一郎",
            "--json",
        )
    )["id"]


def csv_file(tmp_path, name: str, rows: list[str]):
    f = tmp_path / name
    f.write_text("name,email\n" + "".join(r + "\n" for r in rows), encoding="utf-8")
    return f


# -- customers add ------------------------------------------------------------------------------------------


def test_customers_add_third_party_without_a_registered_provider_is_refused_R_30_1(cli):
    before = counts()
    # the probe: a free-text source only
    r = cli(*PO, "customers", "add", "--name", "受領 一郎", "-p", "contract", "--method", "third_party",
            "--source", "架空名簿株式会社")  # fmt: skip
    refused(r, "R-30-1", "provider_required")
    r = cli(*PO, "customers", "add", "--name", "受領 一郎", "-p", "contract", "--method", "third_party")
    refused(r, "R-30-1", "provider_required")
    r = cli(*PO, "customers", "add", "--name", "受領 一郎", "-p", "contract", "--method", "third_party",
            "--from", "0" * 32, "--variant", "consent", "--consent-confirmed", *CONFIRM)  # fmt: skip
    refused(r, "R-30-1", "counterparty_not_found")
    assert counts() == before


def test_customers_add_third_party_blank_confirmation_is_refused_R_30_1(cli):
    cp = add_cp(cli)
    before = counts()
    r = cli(*PO, "customers", "add", "--name", "受領 一郎", "-p", "contract", "--method", "third_party",
            "--from", cp, "--variant", "consent", "--consent-confirmed", "--identity-confirmed-by", "  ",
            "--acquisition", " ", "--lawful")  # fmt: skip
    refused(r, "R-30-1", "confirmation_missing")
    r = cli(*PO, "customers", "add", "--name", "受領 一郎", "-p", "contract", "--method", "third_party",
            "--from", cp, "--consent-confirmed", *CONFIRM)  # fmt: skip
    refused(r, "R-30-1", "variant_required")
    r = cli(*PO, "customers", "add", "--name", "受領 一郎", "-p", "contract", "--method", "third_party",
            "--from", cp, "--variant", "opt_out", *CONFIRM)  # fmt: skip
    refused(r, "R-30-2", "publication_not_confirmed")
    r = cli(*PO, "customers", "add", "--name", "受領 一郎", "-p", "contract", "--method", "third_party",
            "--from", cp, "--variant", "consent", "--consent-confirmed", *CONFIRM[:-1])  # fmt: skip
    refused(r, "R-20-1", "acquisition_not_lawful")
    assert counts() == before


def test_customers_add_third_party_with_confirmation_writes_receipt_records_and_lineage_R_30_1_R_30_2_R_27_5(
    cli,
):
    cp = add_cp(cli)
    created = j(
        cli(
            *PO,
            "customers",
            "add",
            "--name",
            "受領 一郎",
            "--email",
            "ichiro@example.jp",
            "-p",
            "contract",
            "--method",
            "third_party",
            "--from",
            cp,
            "--variant",
            "opt_out",
            "--ppc-published",
            *CONFIRM,
            "--json",
        )  # fmt: skip
    )
    cid = created["id"]
    recs = j(cli(*PO, "provision", "records", "list", "--customer", cid, "--direction", "received", "--json"))
    assert [(r["kind"], r["counterparty_id"], r["items"]) for r in recs] == [
        ("opt_out", cp, ["email", "name"])
    ]
    shown = j(cli(*PO, "provision", "records", "show", recs[0]["id"], "--json"))
    assert shown["subject"] == {"name": "受領 一郎"}
    with db() as rt, rt.sessions() as s:
        receipt = s.execute(select(Receipt)).scalar_one()
        assert receipt.variant == "opt_out" and receipt.person_count == 1 and receipt.counterparty_id == cp
        assert s.execute(select(DataLineage.customer_id, DataLineage.flag)).all() == [
            (cid, "opt_out_received")
        ]
        prov = s.execute(select(Provenance).where(Provenance.customer_id == cid)).scalar_one()
        assert (prov.method, prov.source, prov.receipt_id) == ("third_party", "架空名簿株式会社", receipt.id)


def test_customers_add_third_party_by_an_unauthorised_actor_is_refused(cli):
    cp = add_cp(cli)
    before = counts()
    r = cli("--as", "sato", "customers", "add", "--name", "受領 一郎", "-p", "contract", "--method",
            "third_party", "--from", cp, "--variant", "consent", "--consent-confirmed", *CONFIRM)  # fmt: skip
    assert r.exit_code != 0 and "provision.manage" in r.output, r.output
    assert counts() == before


# -- customers import ---------------------------------------------------------------------------------------


def test_customers_import_third_party_with_a_blank_or_free_text_source_is_refused_R_30_1(cli, tmp_path):
    f = csv_file(tmp_path, "in.csv", ["受領 一郎,ichiro@example.jp"])
    before = counts()
    for source in ("", "  ", "架空名簿株式会社"):
        r = cli(
            *PO,
            "customers",
            "import",
            str(f),
            "--source",
            source,
            "-p",
            "contract",
            "--method",
            "third_party",
        )
        refused(r, "R-30-1", "provider_required")
    r = cli(*PO, "customers", "import", str(f), "--source", "  ", "-p", "contract")  # a direct import too
    refused(r, "R-20-1", "source_required")
    assert counts() == before


def test_customers_import_third_party_writes_rows_receipt_and_records_in_one_transaction_R_30_1_R_30_2(
    cli, tmp_path
):
    cp = add_cp(cli)
    f = csv_file(tmp_path, "in.csv", ["受領 一郎,ichiro@example.jp", "受領 二郎,jiro@example.jp"])
    report = j(
        cli(
            *PO,
            "customers",
            "import",
            str(f),
            "-p",
            "contract",
            "--method",
            "third_party",
            "--from",
            cp,
            "--variant",
            "consent",
            "--consent-confirmed",
            *CONFIRM,
            "--json",
        )  # fmt: skip
    )
    assert report["created"] == 2 and report["receipt_id"]
    recs = j(cli(*PO, "provision", "records", "list", "--direction", "received", "--json"))
    assert len(recs) == 2 and {r["kind"] for r in recs} == {"consent"}
    with db() as rt, rt.sessions() as s:
        receipt = s.get(Receipt, report["receipt_id"])
        assert receipt is not None and receipt.person_count == 2 and receipt.import_job_id == report["job_id"]
        assert s.execute(select(ImportJob.status, ImportJob.source)).all() == [("done", "架空名簿株式会社")]


def test_a_failed_third_party_import_leaves_no_half_written_rows_R_30_1(cli, tmp_path, monkeypatch):
    cp = add_cp(cli)
    f = csv_file(tmp_path, "in.csv", ["受領 一郎,ichiro@example.jp", "受領 二郎,jiro@example.jp"])
    before = counts()
    from mamori.provision.service import receiving

    def broken(*args, **kwargs):
        raise RuntimeError("disk full while writing the recipient record")

    monkeypatch.setattr(receiving, "write_record_for", broken)
    with pytest.raises(RuntimeError):
        cli(*PO, "customers", "import", str(f), "-p", "contract", "--method", "third_party", "--from", cp,
            "--variant", "consent", "--consent-confirmed", *CONFIRM)  # fmt: skip
    assert counts() == before  # no customer, no job, no receipt, no record: all or nothing
    monkeypatch.undo()
    bad = csv_file(tmp_path, "bad.csv", ["受領 一郎,ichiro@example.jp", ",not-an-email"])
    r = cli(*PO, "customers", "import", str(bad), "-p", "contract", "--method", "third_party", "--from", cp,
            "--variant", "consent", "--consent-confirmed", *CONFIRM)  # fmt: skip
    assert r.exit_code == 1 and "import_rejected" in r.output
    assert counts() == before


# -- provision receive --------------------------------------------------------------------------------------


def test_provision_receive_takes_the_same_path_and_refuses_a_blank_confirmation_R_30_1(cli, tmp_path):
    cp = add_cp(cli)
    f = csv_file(tmp_path, "in.csv", ["受領 一郎,ichiro@example.jp"])
    before = counts()
    r = cli(*PO, "provision", "receive", str(f), "--from", cp, "--variant", "consent", "--consent-confirmed",
            "--identity-confirmed-by", " ", "--acquisition", "会員登録時", "--lawful", "-p", "contract")  # fmt: skip
    refused(r, "R-30-1", "confirmation_missing")
    assert counts() == before
    got = j(cli(*PO, "provision", "receive", str(f), "--from", cp, "--variant", "consent", "--consent-confirmed",
                *CONFIRM, "-p", "contract", "--json"))  # fmt: skip
    assert got["receipt"]["person_count"] == 1 and len(got["receipt"]["record_ids"]) == 1
    assert got["import"]["receipt_id"] == got["receipt"]["id"]


# -- succession (R-18-2) ------------------------------------------------------------------------------------


def test_succession_data_only_for_the_purposes_before_the_succession_R_18_2(cli, tmp_path):
    heir = add_cp(cli, kind="succession", name="架空承継株式会社")
    other = add_cp(cli)
    f = csv_file(tmp_path, "in.csv", ["承継 一郎,ichiro@example.jp"])
    before = counts()
    base = ("customers", "import", str(f), "--method", "succession", *CONFIRM)
    refused(cli(*PO, *base, "--from", heir, "-p", "contract"), "R-18-2", "prior_purposes_required")
    refused(
        cli(
            *PO,
            *base,
            "--from",
            heir,
            "--prior-purpose",
            "contract",
            "-p",
            "contract",
            "-p",
            "marketing-email",
        ),
        "R-18-2",
        "purpose_outside_succession",
    )
    refused(
        cli(*PO, *base, "--from", other, "--prior-purpose", "contract", "-p", "contract"),
        "R-18-2",
        "provider_kind_mismatch",
    )
    assert counts() == before
    report = j(cli(*PO, *base, "--from", heir, "--prior-purpose", "contract", "-p", "contract", "--json"))
    assert report["created"] == 1
    with db() as rt, rt.sessions() as s:
        cid, limit = s.execute(
            select(Provenance.customer_id, Provenance.purpose_limit).where(Provenance.method == "succession")
        ).one()
        assert limit == "contract"
        assert s.get(Receipt, report["receipt_id"]).prior_purposes == "contract"
    # later: a merge notifying a purpose outside the predecessor's needs the person's consent
    again = csv_file(tmp_path, "again.csv", ["承継 一郎,ichiro@example.jp"])
    merge = ("customers", "import", str(again), "--source", "2026 展示会", "--on-duplicate", "merge")
    refused(cli(*PO, *merge, "-p", "marketing-email"), "R-18-2", "purpose_outside_succession")
    r = cli(*PO, "consent", "grant", cid, "--purpose", "marketing-email", "--method", "paper")
    assert r.exit_code == 0, r.output
    assert j(cli(*PO, *merge, "-p", "marketing-email", "--json"))["merged"] == 1


# -- the REST API ---------------------------------------------------------------------------------------------


@pytest.fixture
def api(runtime):
    return Api(runtime)


def post(c, csrf, path, body):
    return c.post(f"{API}{path}", json=body, headers={"X-CSRF-Token": csrf})


RECEIPT = {
    "variant": "consent",
    "identity_confirmed_by": "提供元の申告書",
    "acquisition": "提供元の会員登録時に第三者提供の同意を取得",
    "acquisition_lawful": True,
    "consent_confirmed": True,
}
CP = {
    "kind": "third_party",
    "name": "架空名簿株式会社",
    "address": "東京都港区架空1-1",
    "representative": "代表 架空",
}


def test_api_customers_add_and_import_take_the_receipt_path_R_30_1_R_30_2(api):
    po, csrf = api.client("po")
    cp = post(po, csrf, "/counterparties", CP).json()["id"]
    person = {"name": "受領 一郎", "emails": ["ichiro@example.jp"]}
    body = {
        "customer": person,
        "purposes": ["contract"],
        "provenance": {"method": "third_party", "source": "x"},
    }
    r = post(po, csrf, "/customers", body)
    assert (
        r.status_code == 403 and r.json()["rule_id"] == "R-30-1" and r.json()["code"] == "provider_required"
    )
    blank = {**RECEIPT, "counterparty_id": cp, "acquisition": "   "}
    r = post(po, csrf, "/customers", {**body, "provenance": {"method": "third_party", "receipt": blank}})
    assert r.status_code == 403 and r.json()["rule_id"] == "R-30-1"
    good = {"method": "third_party", "receipt": {**RECEIPT, "counterparty_id": cp}}
    r = post(po, csrf, "/customers", {**body, "provenance": good})
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    recs = po.get(f"{API}/provision-records", params={"customer_id": cid, "direction": "received"}).json()
    assert [(x["kind"], x["items"]) for x in recs] == [("consent", ["email", "name"])]
    imp = {"csv": "name,email\n受領 二郎,jiro@example.jp\n", "purposes": ["contract"]}
    r = post(po, csrf, "/customers/imports", {**imp, "source": " ", "provenance": {"method": "third_party"}})
    assert r.status_code == 403 and r.json()["rule_id"] == "R-30-1"
    r = post(po, csrf, "/customers/imports", {**imp, "provenance": good})
    assert r.status_code == 201, r.text
    assert r.json()["created"] == 1 and r.json()["receipt_id"]
    assert len(po.get(f"{API}/provision-records", params={"direction": "received"}).json()) == 2
    sato, sato_csrf = api.client("sato")  # no provision rights: may not receive third-party data
    r = post(sato, sato_csrf, "/customers", {**body, "provenance": good})
    assert r.status_code == 403
    r = post(sato, sato_csrf, "/customers/imports", {**imp, "provenance": good})
    assert r.status_code == 403


def test_api_receive_by_succession_keeps_the_prior_purposes_R_18_2(api):
    po, csrf = api.client("po")
    heir = post(po, csrf, "/counterparties", {**CP, "kind": "succession", "name": "架空承継株式会社"}).json()[
        "id"
    ]
    body = {
        "counterparty_id": heir,
        "variant": "succession",
        "identity_confirmed_by": "事業譲渡契約書",
        "acquisition": "承継元が会員登録時に取得",
        "acquisition_lawful": True,
        "csv": "name,email\n承継 一郎,ichiro@example.jp\n",
    }
    r = post(po, csrf, "/receipts", {**body, "purposes": ["contract"]})
    assert r.status_code == 403 and r.json()["rule_id"] == "R-18-2"
    r = post(po, csrf, "/receipts", {**body, "prior_purposes": ["contract"], "purposes": ["marketing-email"]})
    assert r.status_code == 403 and r.json()["code"] == "purpose_outside_succession"
    r = post(po, csrf, "/receipts", {**body, "prior_purposes": ["contract"], "purposes": ["contract"]})
    assert r.status_code == 201, r.text
    assert r.json()["receipt"]["variant"] == "succession" and r.json()["receipt"]["person_count"] == 1


def test_a_newer_purpose_version_reaches_succession_data_only_with_consent_R_18_2(cli, tmp_path):
    """R-18-2 after intake: data received by succession is used without consent only within the purposes as they
    applied before the succession, so `customers notify` does not move such a person to a newer version of the
    purpose by notice alone (held back from --all-pending; refused when named) until they consent."""
    heir = add_cp(cli, kind="succession", name="架空承継株式会社")
    f = csv_file(tmp_path, "in.csv", ["承継 二郎,jiro@example.jp"])
    base = ("customers", "import", str(f), "--method", "succession", *CONFIRM, "--from", heir)
    assert j(cli(*PO, *base, "--prior-purpose", "contract", "-p", "contract", "--json"))["created"] == 1
    with db() as rt, rt.sessions() as s:
        cid = s.execute(select(Provenance.customer_id).where(Provenance.method == "succession")).scalar_one()
    shown = j(cli("purposes", "show", "contract", "--json"))
    revised = j(
        cli(
            *PO,
            "purposes",
            "revise",
            "contract",
            "--title-ja",
            shown["title_ja"],
            "--title-en",
            shown["title_en"],
            "--text-ja",
            shown["text_ja"] + "あわせて、新商品のご案内にも利用します。",
            "--text-en",
            shown["text_en"] + " We also use them to tell you about new products.",
            "--categories",
            ",".join(shown["categories"]),
            "--lawful-basis",
            "contract",
            "--json",
        )
    )
    assert revised["version"] == 2
    notify = ("customers", "notify", "-p", "contract", "--method", "notified")
    refused(cli(*PO, *notify, "-c", cid), "R-18-2", "purpose_outside_succession")
    everyone = j(cli(*PO, *notify, "--all-pending", "--json"))
    assert everyone["held_back"] == [cid] and cid not in everyone["recorded"]
    assert len(everyone["recorded"]) >= 1  # the demo's own customers move on
    r = cli(*PO, "consent", "grant", cid, "--purpose", "contract", "--method", "paper")
    assert r.exit_code == 0, r.output
    assert j(cli(*PO, *notify, "-c", cid, "--json"))["recorded"] == [cid]
