"""A counterparty's own telephone number (issue 23): stored, shown, and kept by ``mamori text``."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from mamori.deid.service.text_keep import keep_list
from mamori.provision import service
from mamori.provision.schemas import CounterpartyIn
from tests.provision.conftest import add_cp
from tests.provision.test_cli import PO, cli, j  # noqa: F401  # the cli fixture


def test_phone_is_stored_and_kept_by_mamori_text(runtime, actors):
    cp = add_cp(runtime, actors["po"], name="架空提携株式会社", phone="03-9999-0000")
    add_cp(runtime, actors["po"], name="架空配送株式会社")  # no phone
    with runtime.transaction(actors["po"]) as ctx:
        assert service.get_counterparty(ctx, cp).phone == "03-9999-0000"
        keep = keep_list(ctx)
    assert keep.numbers == {"0399990000"}
    assert {"架空提携株式会社", "架空配送株式会社"} <= keep.names


def test_phone_must_look_like_a_number():
    base = {"kind": "third_party", "name": "x", "address": "y", "representative": "z"}
    with pytest.raises(ValidationError):
        CounterpartyIn.model_validate({**base, "phone": "call me"})
    assert CounterpartyIn.model_validate({**base, "phone": "+81 3-1234-5678"}).phone == "+81 3-1234-5678"


def test_cli_add_with_phone(cli):  # noqa: F811
    cp = j(
        cli(
            *PO,
            "provision",
            "counterparties",
            "add",
            "--kind",
            "third_party",
            "--name",
            "架空提携株式会社",
            "--address",
            "東京都港区架空1-1",
            "--representative",
            "代表取締役 架空",
            "--phone",
            "0120-000-111",
            "--json",
        )
    )
    assert cp["phone"] == "0120-000-111"


def test_mamori_text_keep_registry_end_to_end(cli, tmp_path):  # noqa: F811
    """A partner's number registered in the counterparty registry stays in a redacted note with --keep-registry;
    a person's mobile in the same note does not. Without the flag both go (the default is to redact)."""
    j(
        cli(
            *PO,
            "provision",
            "counterparties",
            "add",
            "--kind",
            "outsourcee",
            "--name",
            "架空物流株式会社",
            "--address",
            "東京都港区架空2-2",
            "--representative",
            "代表取締役 架空",
            "--phone",
            "03-5550-1234",
            "--json",
        )
    )
    note = tmp_path / "note.txt"
    note.write_text(
        "配送は架空物流（03-5550-1234）に依頼。お客様の携帯 090-3141-5926 に連絡済み。\n", encoding="utf-8"
    )
    plain = cli(*PO, "text", "redact", str(note))
    assert plain.exit_code == 0 and "03-5550-1234" not in plain.stdout and "090-3141-5926" not in plain.stdout
    kept = cli(*PO, "text", "redact", str(note), "--keep-registry")
    assert kept.exit_code == 0, kept.output
    assert "03-5550-1234" in kept.stdout and "090-3141-5926" not in kept.stdout


def test_mamori_text_keep_registry_needs_the_registry_permission(cli, tmp_path):  # noqa: F811
    note = tmp_path / "note.txt"
    note.write_text("連絡先 03-5550-1234\n", encoding="utf-8")
    res = cli("--as", "admin", "text", "scan", str(note), "--keep-registry")
    assert res.exit_code != 0
    assert "03-5550-1234" not in res.output and len(res.output.strip().splitlines()) == 1
    assert "role_not_permitted" in res.output or "権限" in res.output, res.output
