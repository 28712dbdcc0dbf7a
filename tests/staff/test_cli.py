"""`mamori staff …` end to end: admin-only changes, passwords never on argv, tokens shown once."""

from __future__ import annotations

import base64
import json
import secrets

import pytest
from typer.testing import CliRunner

from mamori.cli.main import app
from mamori.kernel.settings import reset_settings_cache

NEW_PASSWORD = "a long and fine passphrase"


@pytest.fixture
def cli(tmp_path, monkeypatch):
    monkeypatch.setenv("MAMORI_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("MAMORI_KEK", base64.b64encode(secrets.token_bytes(32)).decode())
    for k in ("MAMORI_DATABASE_URL", "MAMORI_KEYSTORE_URL", "MAMORI_AUDIT_URL", "MAMORI_AS", "MAMORI_LANG"):
        monkeypatch.delenv(k, raising=False)
    reset_settings_cache()
    runner = CliRunner()

    def run(*args: str, input: str | None = None):
        return runner.invoke(app, list(args), input=input, catch_exceptions=False)

    assert run("init").exit_code == 0
    for name, role in (("sato", "sales"), ("suzuki", "sales"), ("po", "privacy_officer")):
        assert run("--as", "admin", "staff", "add", name, "--name", name, "--role", role).exit_code == 0
    # issue 17: a machine client has a service account of its own, whose tokens an administrator issues
    assert (
        run("--as", "admin", "staff", "add-service", "crm", "--name", "crm", "--role", "support").exit_code
        == 0
    )
    yield run
    reset_settings_cache()


def j(result):
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def one_line(result) -> str:
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, result.stderr
    return lines[0]


def users(cli) -> dict[str, dict]:
    return {u["username"]: u for u in j(cli("--as", "admin", "staff", "list", "--json"))}


def test_admin_sets_password_from_stdin_and_prompt(cli):
    assert users(cli)["sato"]["password_set"] is False
    j(cli("--as", "admin", "staff", "passwd", "sato", "--stdin", "--json", input=NEW_PASSWORD + "\n"))
    assert users(cli)["sato"]["password_set"] is True
    r = cli("--as", "admin", "staff", "passwd", "suzuki", input=f"{NEW_PASSWORD}\n{NEW_PASSWORD}\n")
    assert r.exit_code == 0 and NEW_PASSWORD not in r.output


def test_weak_password_one_line_without_echo(cli):
    r = cli("--as", "admin", "staff", "passwd", "sato", "--stdin", input="qwertyui\n")
    line = one_line(r)
    assert r.exit_code == 1 and "password_common" in line and "qwertyui" not in r.output


def test_self_service_password_needs_current_one(cli):
    j(cli("--as", "admin", "staff", "passwd", "sato", "--stdin", "--json", input=NEW_PASSWORD + "\n"))
    r = cli(
        "--as",
        "sato",
        "staff",
        "passwd",
        "sato",
        "--stdin",
        input="not the current one\nanother fine passphrase\n",
    )
    assert r.exit_code == 5 and "unauthenticated" in one_line(r)
    r = cli(
        "--as",
        "sato",
        "staff",
        "passwd",
        "sato",
        "--stdin",
        input=f"{NEW_PASSWORD}\nanother fine passphrase\n",
    )
    assert r.exit_code == 0, r.output


NON_ADMIN_CHANGES = [
    ("staff", "disable", "suzuki"),
    ("staff", "enable", "suzuki"),
    ("staff", "reset-2fa", "suzuki"),
    ("staff", "enroll-2fa", "suzuki"),
    ("staff", "tokens", "create", "crm", "--name", "x"),
    ("staff", "tokens", "list", "--user", "suzuki"),
    ("staff", "tokens", "revoke", "0" * 32),
    ("staff", "add", "x1", "--name", "x", "--role", "admin"),
]


def test_non_admin_cannot_change_others(cli):
    before = users(cli)
    for args in NON_ADMIN_CHANGES:
        r = cli("--as", "sato", *args)
        assert r.exit_code == 3 and "[R-23-2]" in one_line(r), args
    assert users(cli) == before


def test_non_admin_cannot_set_another_password(cli):
    r = cli("--as", "sato", "staff", "passwd", "suzuki", "--stdin", input="x\n" + NEW_PASSWORD + "\n")
    assert r.exit_code == 3 and "[R-23-2]" in one_line(r)
    assert users(cli)["suzuki"]["password_set"] is False


def test_reset_2fa_prints_uri_once_and_self_enrolment_only_first_time(cli):
    out = j(cli("--as", "admin", "staff", "reset-2fa", "suzuki", "--json"))
    assert (
        out["provisioning_uri"].startswith("otpauth://totp/") and "issuer=mamori" in out["provisioning_uri"]
    )
    assert users(cli)["suzuki"]["mfa_enrolled"] is True
    first = j(cli("--as", "sato", "staff", "enroll-2fa", "sato", "--json"))
    assert first["provisioning_uri"].startswith("otpauth://")
    r = cli("--as", "sato", "staff", "enroll-2fa", "sato")
    assert r.exit_code == 3 and "R-23-2" in one_line(r)


def test_disable_and_enable(cli):
    assert j(cli("--as", "admin", "staff", "disable", "suzuki", "--json"))["active"] is False
    r = cli("--as", "suzuki", "staff", "list")
    assert r.exit_code != 0 and "unknown_staff" in one_line(r)  # a disabled account can no longer act
    r2 = cli("--as", "suzuki", "staff", "enroll-2fa", "suzuki")
    assert r2.exit_code != 0 and "unknown_staff" in one_line(r2)
    r = cli("--as", "admin", "staff", "disable", "admin")
    assert r.exit_code != 0 and "cannot_disable_self" in one_line(r)
    assert j(cli("--as", "admin", "staff", "enable", "suzuki", "--json"))["active"] is True


def test_tokens_create_list_revoke(cli):
    issued = j(
        cli(
            "--as", "admin", "staff", "tokens", "create", "crm", "--name", "crm sync",
            "-p", "contract", "-p", "support", "--days", "30", "--json",
        )
    )  # fmt: skip
    token = issued["token"]
    assert token.startswith("mamori_") and issued["purposes"] == ["contract", "support"]
    listed = cli("--as", "admin", "staff", "tokens", "list", "--json")
    assert token not in listed.stdout and [t["id"] for t in j(listed)] == [issued["id"]]
    assert j(cli("--as", "admin", "staff", "tokens", "revoke", issued["id"], "--json"))["revoked_at"]
    r = cli("--as", "admin", "staff", "tokens", "revoke", "f" * 32)
    assert r.exit_code != 0 and "unknown_token" in one_line(r)
    r = cli("--as", "admin", "staff", "tokens", "create", "crm", "--name", "x", "--role", "system")
    assert r.exit_code != 0 and "役割" in one_line(r)
    r = cli("--as", "admin", "staff", "tokens", "create", "crm", "--name", "x", "--days", "400")
    assert r.exit_code != 0
    audit = cli("--as", "po", "audit", "tail", "-n", "50", "--json")
    assert "staff.token_created" in audit.stdout and token not in audit.stdout
