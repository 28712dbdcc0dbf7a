"""R-31-2 through the CLI a privacy officer uses: personally referable information (個人関連情報) goes to a recipient
only on a confirmation of the consent *that recipient* obtained (naming the recipient and the items), confirmed by
its declaration or by checking its consent evidence — a confirmation recorded for another recipient does not count.
"""

from __future__ import annotations

import json

import pytest

from tests.factories import demo_cli


@pytest.fixture
def cli(tmp_path, monkeypatch):
    yield from demo_cli(tmp_path, monkeypatch, customers=1)


def j(result):
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def one_line(result) -> str:
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, result.stderr
    return lines[0]


PO = ("--as", "hoshino")


def _recipient(cli, name: str) -> str:
    return j(
        cli(
            *PO,
            "provision",
            "counterparties",
            "add",
            "--kind",
            "third_party",
            "--name",
            name,
            "--address",
            "東京都港区架空1-1",
            "--representative",
            "代表取締役 架空",
            "--json",
        )
    )["id"]


def _confirm(cli, to: str, *extra: str):
    return cli(*PO, "provision", "referable", "confirm", "--to", to, "--item", "cookie_id", *extra)


def _provide(cli, to: str, confirmation: str, *extra: str):
    return cli(
        *PO,
        "provision",
        "referable",
        "provide",
        "--to",
        to,
        "--item",
        "cookie_id",
        "--count",
        "10",
        "--linkage-expected",
        "--confirmation",
        confirmation,
        *extra,
    )


def test_a_confirmation_covers_only_the_recipient_that_obtained_the_consent_R_31_2(cli):
    dmp_a = _recipient(cli, "架空DMP A株式会社")
    dmp_b = _recipient(cli, "架空DMP B株式会社")
    conf_a = j(_confirm(cli, dmp_a, "--method", "declaration", "--evidence", "誓約書 2026-11-01", "--json"))[
        "confirmation_id"
    ]

    r = _provide(cli, dmp_b, conf_a)  # A's consent confirmation, B's feed
    assert r.exit_code == 3
    line = one_line(r)
    assert "R-31-2" in line and "confirmation_not_covering" in line
    assert j(cli(*PO, "provision", "records", "list", "--json")) == []  # nothing went out, no record written

    got = j(_provide(cli, dmp_a, conf_a, "--json"))  # to the recipient whose consent was confirmed
    assert got["confirmation_id"] == conf_a and got["record_id"]
    records = j(cli(*PO, "provision", "records", "list", "--json"))
    assert [(rec["kind"], rec["counterparty_id"]) for rec in records] == [("referable", dmp_a)]
    assert "declaration" in (records[0]["consent_fact"] or "")  # how it was confirmed is recorded


def test_a_confirmation_needs_a_declaration_or_evidence_check_and_its_reference_R_31_2(cli):
    dmp = _recipient(cli, "架空DMP株式会社")
    r = _confirm(cli, dmp, "--method", "assumed", "--evidence", "なし")  # neither declaration nor evidence
    assert r.exit_code != 0
    r = _confirm(cli, dmp, "--method", "declaration")  # no reference to the declaration
    assert r.exit_code != 0
    assert j(cli(*PO, "provision", "records", "list", "--json")) == []
