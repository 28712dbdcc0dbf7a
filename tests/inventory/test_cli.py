"""`mamori inventory …` end to end: storage locations and their rules (R-23-7, R-28-4), the data dictionary's tags
(R-2.3-1, G-6), the generated ROPA (G-30) and the foreign countries list, roles and bad input."""

from __future__ import annotations

import csv
import io
import json

from tests.inventory.conftest import ADMIN, FOREIGN_NOTE, PO, counterparty, j


def add_location(cli, code: str, *extra: str, who=PO):
    return cli(
        *who,
        "inventory",
        "locations",
        "add",
        code,
        "--name",
        f"{code} の保管場所",
        "--kind",
        "cloud",
        "--operator",
        "Example Cloud Inc.",
        *extra,
        "--json",
    )


def codes(cli) -> list[str]:
    return [r["code"] for r in j(cli(*PO, "inventory", "locations", "list", "--json"))]


def test_demo_seeds_the_embedded_store_and_its_backups_in_japan(cli):
    rows = {r["code"]: r for r in j(cli(*PO, "inventory", "locations", "list", "--json"))}
    assert rows["primary-store"]["kind"] == "database" and rows["primary-store"]["country"] == "JP"
    assert rows["backups"]["kind"] == "backup" and not rows["backups"]["foreign"]


def test_location_abroad_needs_the_understanding_of_the_foreign_system_R_23_7(cli):
    refused = add_location(cli, "us-files", "--country", "US", "--region", "us-east-1")
    assert refused.exit_code == 1
    assert "[R-23-7]" in refused.stderr and "foreign_understanding_missing" in refused.stderr
    assert "us-files" not in codes(cli)
    blank = add_location(cli, "us-files", "--country", "US", "--foreign-note", "   ")
    assert blank.exit_code == 1 and "[R-23-7]" in blank.stderr

    saved = j(add_location(cli, "us-files", "--country", "us", "--foreign-note", FOREIGN_NOTE))
    assert saved["country"] == "US" and saved["foreign"] and saved["foreign_note"] == FOREIGN_NOTE
    # an update may not take the note away, nor move a domestic location abroad without one
    cleared = cli(*PO, "inventory", "locations", "update", "us-files", "--foreign-note", "")
    assert cleared.exit_code == 1 and "[R-23-7]" in cleared.stderr
    moved = cli(*PO, "inventory", "locations", "update", "backups", "--country", "SG")
    assert moved.exit_code == 1 and "[R-23-7]" in moved.stderr
    rows = {r["code"]: r for r in j(cli(*PO, "inventory", "locations", "list", "--json"))}
    assert rows["us-files"]["foreign_note"] == FOREIGN_NOTE and rows["backups"]["country"] == "JP"
    ok = j(
        cli(
            *PO,
            "inventory",
            "locations",
            "update",
            "backups",
            "--country",
            "SG",
            "--foreign-note",
            "PDPA（架空）",
            "--json",
        )
    )
    assert ok["country"] == "SG" and ok["foreign"]


def test_handling_cloud_provider_is_linked_to_its_counterparty_R_28_4(cli):
    refused = add_location(cli, "crm-saas", "--handles-data")
    assert refused.exit_code == 1
    assert "[R-28-4]" in refused.stderr and "handling_provider_needs_counterparty" in refused.stderr
    system = cli(
        *PO,
        "inventory",
        "locations",
        "add",
        "callcenter",
        "--name",
        "委託先のシステム",
        "--kind",
        "outsourcee_system",
        "--operator",
        "架空コールセンター",
    )
    assert system.exit_code == 1 and "[R-28-4]" in system.stderr
    joint = counterparty(cli, "joint_user", name="架空グループ株式会社")
    wrong = add_location(cli, "crm-saas", "--handles-data", "--counterparty", joint)
    assert wrong.exit_code == 1 and "bad_counterparty_kind" in wrong.stderr
    unknown = add_location(cli, "crm-saas", "--handles-data", "--counterparty", "0" * 32)
    assert unknown.exit_code == 1 and "counterparty_not_found" in unknown.stderr
    assert "crm-saas" not in codes(cli)

    outsourcee = counterparty(cli, "outsourcee")
    saved = j(add_location(cli, "crm-saas", "--handles-data", "--counterparty", outsourcee))
    assert saved["handles_data"] and saved["counterparty_id"] == outsourcee
    assert saved["counterparty_kind"] == "outsourcee"
    # a provider that does not handle the data is a place, not a provision: no counterparty needed
    assert (
        j(add_location(cli, "object-store", "--categories", "identifier,contact"))["counterparty_id"] is None
    )
    # switching a location to "handles the data" needs the link too
    switched = cli(*PO, "inventory", "locations", "update", "object-store", "--handles-data")
    assert switched.exit_code == 1 and "[R-28-4]" in switched.stderr


def test_ropa_is_generated_from_purposes_outsourcees_and_storage_G_30(cli, monkeypatch, tmp_path):
    outsourcee = counterparty(cli, "outsourcee", country="SG", name="Example Support Pte. Ltd.")
    contract = j(
        cli(
            *PO,
            "processors",
            "contracts",
            "add",
            "--counterparty",
            outsourcee,
            "--work",
            "問い合わせ窓口の運営",
            "--purposes",
            "support",
            "--fields",
            "name,emails",
            "--starts",
            "2026-12-01",
            "--ends",
            "2027-11-30",
            "--json",
        )
    )
    j(
        add_location(
            cli, "us-files", "--country", "US", "--purposes", "support", "--foreign-note", FOREIGN_NOTE
        )
    )
    monkeypatch.setenv("MAMORI_OPERATOR_NAME", "架空商事株式会社")
    from mamori.kernel.settings import reset_settings_cache

    reset_settings_cache()
    record = j(cli(*PO, "inventory", "ropa", "--json"))
    assert record["controller"]["name"] == "架空商事株式会社"
    assert "MAMORI_OPERATOR_ADDRESS" in record["controller"]["not_set"]
    assert record["controller"]["address"] == "未設定 / not set"
    acts = {a["purpose"]: a for a in record["activities"]}
    support = acts["support"]
    assert support["retention"].startswith("1825")
    outs = [r for r in support["recipients"] if r["kind"] == "outsourcee"]
    assert [(r["counterparty_id"], r["country"], r["foreign"]) for r in outs] == [(outsourcee, "SG", True)]
    assert contract["id"] in outs[0]["detail"]
    assert [t["counterparty_id"] for t in support["transfers"]] == [outsourcee]
    assert "R-28-1" in outs[0]["safeguard"]
    storage = {(s["code"], s["country"]) for s in support["storage"]}
    assert {("us-files", "US"), ("primary-store", "JP"), ("backups", "JP")} <= storage
    # the US location holds support data only
    assert ("us-files", "US") not in {(s["code"], s["country"]) for s in acts["contract"]["storage"]}
    assert "name" in support["data_items"] and support["lawful_basis"]
    assert record["security_measures"] and any("AES-256-GCM" in m for m in record["security_measures"])

    table = list(csv.DictReader(io.StringIO(cli(*PO, "inventory", "ropa", "--format", "csv").stdout)))
    row = next(r for r in table if r["purpose"] == "support")
    assert "SG" in row["recipients"] and "[cloud, US]" in row["storage"]
    md = cli(*PO, "inventory", "ropa", "--format", "md").stdout
    assert "Record of processing activities" in md and "### support v1" in md
    path = tmp_path / "ropa.md"
    out = cli(*PO, "inventory", "ropa", "--format", "md", "--out", str(path))
    assert out.exit_code == 0 and "### support" in path.read_text(encoding="utf-8")
    # generating the record is audited
    actions = [e["action"] for e in j(cli(*PO, "audit", "tail", "-n", "20", "--json"))]
    assert "inventory.ropa" in actions and "inventory.location.add" in actions


def test_countries_list_foreign_counterparties_and_storage_R_23_7(cli):
    us = counterparty(cli, "third_party", country="US", name="Example Analytics Inc.")
    counterparty(cli, "third_party", country="JP", name="国内提携株式会社")
    j(
        add_location(
            cli,
            "eu-backup",
            "--country",
            "DE",
            "--region",
            "eu-central-1",
            "--foreign-note",
            "GDPR（十分性認定）",
        )
    )
    rows = {c["country"]: c for c in j(cli(*PO, "inventory", "countries", "--json"))}
    assert set(rows) == {"US", "DE"}
    assert [(e["kind"], e["ref"]) for e in rows["US"]["entries"]] == [("third_party", us)]
    assert not rows["US"]["equivalent_country"]
    de = rows["DE"]
    assert de["equivalent_country"] and de["entries"][0]["kind"] == "storage"
    assert de["entries"][0]["understanding"] == "GDPR（十分性認定）"
    exported = list(csv.DictReader(io.StringIO(cli(*PO, "inventory", "countries", "--format", "csv").stdout)))
    assert {(r["country"], r["kind"]) for r in exported} == {("US", "third_party"), ("DE", "storage")}
    # a retired location no longer counts
    j(cli(*PO, "inventory", "locations", "retire", "eu-backup", "--json"))
    assert [c["country"] for c in j(cli(*PO, "inventory", "countries", "--json"))] == ["US"]
    assert "eu-backup" not in [
        r["code"] for r in j(cli(*PO, "inventory", "locations", "list", "--active", "--json"))
    ]


def test_data_dictionary_tags_both_regimes_R_2_3_1_G_6(cli):
    items = {i["key"]: i for i in j(cli(*PO, "inventory", "items", "list", "--json"))}
    assert items["name"]["source"] == "field" and not items["name"]["reviewed"]
    assert items["activities"]["appi_category"] == "behaviour"

    def tag(key, *extra):
        return cli(*PO, "inventory", "items", "tag", key, *extra, "--json")

    # 犯罪の経歴 is 要配慮 and GDPR Art. 10, not Art. 9
    no_gdpr = tag("attr:criminal_history", "--category", "sensitive", "--sensitive-kind", "criminal_record")
    assert no_gdpr.exit_code == 1 and "[G-6]" in no_gdpr.stderr and "gdpr_tag_missing" in no_gdpr.stderr
    as_art9 = tag(
        "attr:criminal_history",
        "--category",
        "sensitive",
        "--sensitive-kind",
        "criminal_record",
        "--article9",
        "health",
    )
    assert as_art9.exit_code == 1 and "[G-6]" in as_art9.stderr
    crime = j(
        tag(
            "attr:criminal_history",
            "--category",
            "sensitive",
            "--sensitive-kind",
            "criminal_record",
            "--article10",
        )
    )
    assert crime["sensitive"] and crime["gdpr_article10"] and crime["reviewed"]
    assert any("Art. 10" in n for n in crime["notes"])
    # 病歴 needs the Art. 9 health tag
    assert (
        tag("attr:illness", "--category", "sensitive", "--sensitive-kind", "medical_history").exit_code == 1
    )
    assert (
        j(
            tag(
                "attr:illness",
                "--category",
                "sensitive",
                "--sensitive-kind",
                "medical_history",
                "--article9",
                "health",
            )
        )["gdpr_article9"]
        == "health"
    )
    # 社会的身分 is 要配慮 with no GDPR special category
    status = j(tag("attr:caste", "--category", "sensitive", "--sensitive-kind", "social_status"))
    assert any("no GDPR Art. 9" in n for n in status["notes"])
    # biometric data is Art. 9 but not 要配慮
    bio = j(tag("attr:face_template", "--category", "attribute", "--article9", "biometric"))
    assert any("not 要配慮" in n for n in bio["notes"])
    # the 要配慮 category and kind go together
    half = tag(
        "attr:illness",
        "--category",
        "attribute",
        "--sensitive-kind",
        "medical_history",
        "--article9",
        "health",
    )
    assert half.exit_code == 1 and "[R-2.3-1]" in half.stderr and "sensitive_kind_mismatch" in half.stderr
    kindless = tag("attr:illness", "--category", "sensitive", "--article9", "health")
    assert kindless.exit_code == 1 and "[R-2.3-1]" in kindless.stderr
    # a customer field keeps the category purpose masking uses; unknown items and kinds are refused
    assert "field_category_fixed" in tag("name", "--category", "contact").stderr
    assert "unknown_item" in tag("nickname", "--category", "identifier").stderr
    assert (
        "invalid_input" in tag("attr:x1", "--category", "sensitive", "--sensitive-kind", "blood_type").stderr
    )
    items = {i["key"]: i for i in j(cli(*PO, "inventory", "items", "list", "--json"))}
    assert (
        items["attr:illness"]["gdpr_article9"] == "health" and items["attr:illness"]["source"] == "registered"
    )
    assert not items["attr:illness"]["in_use"]
    # the ROPA lists the special categories a purpose's categories reach
    record = j(cli(*PO, "inventory", "ropa", "--json"))
    assert all(
        "attr:illness" not in a["data_items"] for a in record["activities"]
    )  # no demo purpose covers 要配慮


def test_an_item_tagged_financial_makes_its_leak_reportable_R_26_1(cli):
    """Issue 22: the officer marks an item whose misuse may cause financial loss (R-26-1 trigger (2))."""
    tagged = j(
        cli(
            *PO,
            "inventory",
            "items",
            "tag",
            "attr:card_number",
            "--category",
            "attribute",
            "--financial",
            "--json",
        )
    )
    assert tagged["financial"] and tagged["reviewed"]
    items = {i["key"]: i for i in j(cli(*PO, "inventory", "items", "list", "--json"))}
    assert items["attr:card_number"]["financial"] and not items["name"]["financial"]
    untagged = j(
        cli(*PO, "inventory", "items", "tag", "attr:card_number", "--category", "attribute", "--json")
    )
    assert not untagged["financial"]


def test_only_the_privacy_officer_and_the_administrator_reach_the_inventory_R_23_2(cli):
    for who in ("sato", "takahashi", "ito"):
        for cmd in (
            ("inventory", "locations", "list", "--json"),
            ("inventory", "ropa", "--json"),
            ("inventory", "countries", "--json"),
            ("inventory", "items", "list", "--json"),
        ):
            r = cli("--as", who, *cmd)
            assert r.exit_code == 3 and "[R-23-2]" in r.stderr, (who, cmd)
        r = add_location(cli, "x-" + who, who=("--as", who))
        assert r.exit_code == 3 and "[R-23-2]" in r.stderr
    # the administrator keeps the storage locations and reads the record, but does not tag data items
    assert j(add_location(cli, "admin-nas", "--kind", "file_share", who=ADMIN))["code"] == "admin-nas"
    assert j(cli(*ADMIN, "inventory", "ropa", "--json"))["activities"]
    refused = cli(*ADMIN, "inventory", "items", "tag", "attr:hobby", "--category", "attribute")
    assert refused.exit_code == 3 and "[R-23-2]" in refused.stderr
    assert "x-sato" not in codes(cli)
    assert cli("inventory", "locations", "list").exit_code != 0  # no --as: refused, not the system


def test_inventory_bad_input_is_refused_without_writing(cli):
    before = codes(cli)
    bad_country = add_location(cli, "bad1", "--country", "USA", "--foreign-note", "x")
    assert bad_country.exit_code == 1 and "invalid_input" in bad_country.stderr
    assert "USA" not in bad_country.stderr.split(":", 1)[0]
    bad_kind = cli(
        *PO, "inventory", "locations", "add", "bad2", "--name", "n", "--kind", "tape", "--operator", "o"
    )
    assert bad_kind.exit_code == 1 and "invalid_input" in bad_kind.stderr
    bad_code = add_location(cli, "Bad Code")
    assert bad_code.exit_code == 1 and "invalid_input" in bad_code.stderr
    bad_category = add_location(cli, "bad3", "--categories", "secret")
    assert bad_category.exit_code == 1 and "bad_category" in bad_category.stderr
    unknown_purpose = add_location(cli, "bad4", "--purposes", "no-such-purpose")
    assert unknown_purpose.exit_code == 1 and "purpose_unknown" in unknown_purpose.stderr
    assert codes(cli) == before
    dup = add_location(cli, "primary-store")
    assert dup.exit_code == 1 and "location_exists" in dup.stderr
    missing = cli(*PO, "inventory", "locations", "update", "nowhere", "--name", "x")
    assert missing.exit_code == 1 and "location_not_found" in missing.stderr
    fmt = cli(*PO, "inventory", "ropa", "--format", "xml")
    assert fmt.exit_code == 1 and "bad_format" in fmt.stderr
    assert (
        json.loads(cli(*PO, "inventory", "locations", "show", "primary-store", "--json").stdout)["code"]
        == "primary-store"
    )
