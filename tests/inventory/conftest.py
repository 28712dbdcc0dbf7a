"""Fixtures of the inventory tests: a demo store driven through `mamori` (CliRunner), counterparties added the way
the privacy officer adds them."""

from __future__ import annotations

import base64
import json
import secrets

import pytest
from typer.testing import CliRunner

from mamori.cli.main import app
from mamori.kernel.settings import reset_settings_cache

PO = ("--as", "hoshino")
ADMIN = ("--as", "admin")
FOREIGN_NOTE = "連邦レベルの包括的な個人情報保護法はなく州法と分野別の法律がある（架空の説明）。"


@pytest.fixture
def cli(tmp_path, monkeypatch):
    monkeypatch.setenv("MAMORI_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("MAMORI_KEK", base64.b64encode(secrets.token_bytes(32)).decode())
    for k in (
        "MAMORI_DATABASE_URL",
        "MAMORI_KEYSTORE_URL",
        "MAMORI_AUDIT_URL",
        "MAMORI_AS",
        "MAMORI_LANG",
        "MAMORI_OPERATOR_NAME",
        "MAMORI_OPERATOR_ADDRESS",
        "MAMORI_OPERATOR_REPRESENTATIVE",
        "MAMORI_PRIVACY_CONTACT",
        "MAMORI_EU_REPRESENTATIVE",
    ):
        monkeypatch.delenv(k, raising=False)
    reset_settings_cache()
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(app, list(args), catch_exceptions=False)

    assert run("init").exit_code == 0
    assert run("demo", "--customers", "4").exit_code == 0
    yield run
    reset_settings_cache()


def j(result):
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def counterparty(cli, kind: str, country: str = "JP", name: str = "架空クラウド株式会社") -> str:
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
            "架空市架空町1-1",
            "--representative",
            "代表 架空",
            "--country",
            country,
            "--json",
        )
    )["id"]
