"""``mamori monitoring alerts | alert | look | dismiss | incident`` (issue 25 "Deliver" 2): the happy path in a
table and in JSON, bad input in one line without the value, other roles and one's own alert refused with R-23-2.
Synthetic data only."""

from __future__ import annotations

import json

from tests.factories import make_customer
from tests.monitoring.alert_support import entries_of, insert_alert, read_customer

NAME, PHONE = "監視 試験太", "080-5555-0199"


def test_list_show_look_dismiss_and_open_an_incident(runtime, actors, cli):
    cid = make_customer(runtime, actors["sato"], name=NAME, phone=PHONE, email="cli@example.jp")
    read_customer(runtime, actors["sato"], cid)
    seqs = [e.seq for e in entries_of(runtime, actors["sato"], "customer.read")]
    insert_alert(runtime, actors["sato"].label, seqs=seqs)
    insert_alert(runtime, actors["suzuki"].label, signal="off_hours", severity="medium", observed=25)
    listed = json.loads(cli("--as", "po", "monitoring", "alerts", "--json").stdout)
    assert [a["ref"] for a in listed["alerts"]] == ["ALT-0002", "ALT-0001"]
    assert listed["counts"]["new"] == 2
    table = cli("--as", "po", "monitoring", "alerts")
    assert table.exit_code == 0 and "ALT-0001" in table.stdout and "番号" in table.stdout
    assert "新規 2" in table.stdout
    only = json.loads(cli("--as", "po", "monitoring", "alerts", "--signal", "off_hours", "--json").stdout)
    assert [a["ref"] for a in only["alerts"]] == ["ALT-0002"]
    shown = cli("--as", "po", "monitoring", "alert", "ALT-0001")
    assert shown.exit_code == 0, shown.output
    assert any(line.startswith(f"│ {seqs[0]} ") for line in shown.stdout.splitlines())
    assert "閲覧件数の急増（read_volume）" in shown.stdout and "contract" in shown.stdout
    detail = json.loads(cli("--as", "po", "monitoring", "alert", "1", "--json").stdout)
    assert [e["seq"] for e in detail["entries"]] == seqs and detail["entries"][0]["subjects"] == 1
    assert [e["action"] for e in detail["events"]] == ["raised"]
    for text in (shown.stdout, json.dumps(detail, ensure_ascii=False), table.stdout):
        assert NAME not in text and PHONE not in text and cid not in text
    r = cli("--as", "po", "monitoring", "look", "ALT-0001", "--json")
    assert r.exit_code == 0 and json.loads(r.stdout)["status"] == "looking"
    r = cli("--as", "po", "monitoring", "dismiss", "ALT-0001", "--reason", "business_need")
    assert r.exit_code == 0 and "ALT-0001: 対応不要" in r.stdout
    r = cli("--as", "po", "monitoring", "incident", "ALT-0002", "--json")
    assert r.exit_code == 0, r.output
    made = json.loads(r.stdout)
    assert made["incident_ref"] == "INC-0001" and made["alert"]["status"] == "incident"
    done = json.loads(cli("--as", "po", "monitoring", "alerts", "--status", "open", "--json").stdout)
    assert done["alerts"] == [] and done["counts"]["dismissed"] == 1 and done["counts"]["incident"] == 1


def test_bad_input_is_one_line_without_the_value(runtime, actors, cli):
    insert_alert(runtime, actors["sato"].label)
    r = cli("--as", "po", "monitoring", "alerts", "--status", "sleeping")
    assert r.exit_code == 1 and "bad_filter" in r.output and "sleeping" not in r.output
    assert len(r.output.strip().splitlines()) == 1
    r = cli("--as", "po", "monitoring", "dismiss", "1", "--reason", "boredom")
    assert r.exit_code == 1 and "boredom" not in r.output and len(r.output.strip().splitlines()) == 1
    r = cli("--as", "po", "monitoring", "dismiss", "1", "--reason", "other")
    assert r.exit_code == 1 and "note_required" in r.output
    r = cli("--as", "po", "monitoring", "dismiss", "1", "--reason", "other", "--note", f"{PHONE} の方に確認")
    assert r.exit_code == 1 and "personal_data_in_text" in r.output and PHONE not in r.output
    r = cli("--as", "po", "monitoring", "alert", "ALT-0404")
    assert r.exit_code == 1 and "alert_not_found" in r.output
    r = cli("--as", "po", "monitoring", "look", "1")
    r = cli("--as", "po", "monitoring", "look", "1")
    assert r.exit_code == 1 and "alert_already_looking" in r.output


def test_other_roles_and_ones_own_alert_are_refused_with_the_rule_id(runtime, actors, cli):
    insert_alert(runtime, actors["sato"].label)
    insert_alert(runtime, actors["po"].label, role="privacy_officer")
    for who, args in (
        ("sato", ("alerts",)),
        ("analyst", ("alert", "1")),
        ("admin", ("alerts",)),
        ("admin", ("look", "1")),
        ("support", ("dismiss", "1", "--reason", "false_positive")),
    ):
        r = cli("--as", who, "monitoring", *args)
        assert r.exit_code == 3 and "R-23-2" in r.output, (who, args, r.output)
    r = cli("--as", "po", "monitoring", "dismiss", "2", "--reason", "business_need")
    assert r.exit_code == 3 and "own_alert" in r.output and "R-23-2" in r.output
    after = json.loads(cli("--as", "po", "monitoring", "alerts", "--json").stdout)
    assert {a["ref"]: a["status"] for a in after["alerts"]} == {"ALT-0001": "new", "ALT-0002": "new"}
