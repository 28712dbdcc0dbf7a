"""Issue 17 on the command line: `mamori login` / `logout`, the session file (0600, no links), production mode
(`--as` and MAMORI_AS refused; every command acts as the signed-in user), tokens only for oneself or a service
account. The file guarantees are checked from outside the process (stat, lstat), as an attacker would look."""

from __future__ import annotations

import base64
import json
import os
import secrets
import stat

import pyotp
import pytest
from typer.testing import CliRunner

from mamori.cli import session as session_cli
from mamori.cli.main import app
from mamori.kernel.settings import reset_settings_cache

PASSWORD = "a long and fine passphrase"


@pytest.fixture
def cli(tmp_path, monkeypatch):
    monkeypatch.setenv("MAMORI_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("MAMORI_KEK", base64.b64encode(secrets.token_bytes(32)).decode())
    monkeypatch.setenv("MAMORI_CLI_SESSION_FILE", str(tmp_path / "cli" / "session"))
    for k in ("MAMORI_DATABASE_URL", "MAMORI_KEYSTORE_URL", "MAMORI_AUDIT_URL", "MAMORI_AS", "MAMORI_LANG"):
        monkeypatch.delenv(k, raising=False)
    monkeypatch.delenv("MAMORI_PRODUCTION", raising=False)
    reset_settings_cache()
    session_cli.register(app)  # what cli/main.py does (idempotent)
    runner = CliRunner()

    def run(*args: str, input: str | None = None):
        reset_settings_cache()
        return runner.invoke(app, list(args), input=input, catch_exceptions=False)

    assert run("init").exit_code == 0
    assert run("--as", "admin", "staff", "add", "sato", "--name", "佐藤", "--role", "sales").exit_code == 0
    assert run("--as", "admin", "staff", "passwd", "sato", "--stdin", input=PASSWORD + "\n").exit_code == 0
    uri = json.loads(run("--as", "admin", "staff", "enroll-2fa", "sato", "--json").stdout)["provisioning_uri"]
    run.secret = pyotp.parse_uri(uri).secret  # type: ignore[attr-defined]
    run.file = tmp_path / "cli" / "session"  # type: ignore[attr-defined]
    yield run
    reset_settings_cache()


def one_line(result) -> str:
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, result.stderr
    return lines[0]


def login(cli, password=PASSWORD):
    code = pyotp.TOTP(cli.secret).now()
    return cli("login", "sato", "--password-stdin", "--totp", code, input=password + "\n")


def production(monkeypatch):
    monkeypatch.setenv("MAMORI_PRODUCTION", "1")


def test_login_writes_a_0600_file_and_logout_ends_the_session(cli, monkeypatch):
    r = login(cli)
    assert r.exit_code == 0, r.output
    info = os.lstat(cli.file)
    assert stat.S_ISREG(info.st_mode) and stat.S_IMODE(info.st_mode) == 0o600
    token = cli.file.read_text().strip()
    assert token and token not in r.output
    production(monkeypatch)
    listed = cli("customers", "list", "-p", "contract", "--json")
    assert listed.exit_code == 0, listed.output  # acts as sato (a sales rep may list their customers)
    refused = cli("staff", "list")  # … and only as sato: staff administration is an admin's
    assert refused.exit_code == 3 and "R-23-2" in one_line(refused)
    assert cli("logout").exit_code == 0
    assert not cli.file.exists()
    r = cli("customers", "list", "-p", "contract")
    assert r.exit_code != 0 and "login_required" in one_line(r)
    # the session ended server-side: the old token put back by hand does not work
    fd = os.open(cli.file, os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, token.encode())
    os.close(fd)
    r = cli("customers", "list", "-p", "contract")
    assert r.exit_code != 0 and "unauthenticated" in one_line(r)


def test_login_refuses_a_symlinked_or_readable_session_file(cli, tmp_path):
    cli.file.parent.mkdir(parents=True, exist_ok=True)
    target = tmp_path / "elsewhere"
    target.write_text("do not touch\n")
    cli.file.symlink_to(target)
    r = login(cli)
    assert r.exit_code != 0 and "cli_session_file_unsafe" in one_line(r)
    assert target.read_text() == "do not touch\n" and cli.file.is_symlink()
    cli.file.unlink()
    cli.file.write_text("x\n")
    os.chmod(cli.file, 0o644)
    r = login(cli)
    assert r.exit_code != 0 and "cli_session_file_unsafe" in one_line(r)
    assert cli.file.read_text() == "x\n"  # not overwritten


def test_login_with_a_wrong_password_writes_nothing(cli):
    r = login(cli, password="not the password at all")
    assert r.exit_code != 0 and "unauthenticated" in one_line(r) and "not the password" not in r.output
    assert not cli.file.exists()


def test_production_mode_refuses_as_and_mamori_as(cli, monkeypatch):
    production(monkeypatch)
    r = cli("--as", "admin", "staff", "list")
    assert r.exit_code != 0 and "as_refused_in_production" in one_line(r)
    monkeypatch.setenv("MAMORI_AS", "admin")
    r = cli("staff", "list")
    assert r.exit_code != 0 and "as_refused_in_production" in one_line(r)
    r = cli("login", "sato", "--password-stdin", input=PASSWORD + "\n")
    assert r.exit_code != 0 and "as_refused_in_production" in one_line(r)
    monkeypatch.delenv("MAMORI_AS")
    r = cli("staff", "list")
    assert r.exit_code != 0 and "login_required" in one_line(r)


def test_demo_mode_keeps_as(cli):
    r = cli("--as", "admin", "staff", "list", "--json")
    assert r.exit_code == 0 and "sato" in r.stdout


def test_cli_tokens_only_for_oneself_with_the_login_session(cli, monkeypatch):
    r = cli("--as", "admin", "staff", "tokens", "create", "sato", "--name", "x")
    assert r.exit_code == 3 and "token_for_other_user" in one_line(r) and "R-23-5" in one_line(r)
    r = cli("--as", "sato", "staff", "tokens", "create", "--name", "x")  # self-declared, no MFA session
    assert r.exit_code == 3 and "token_needs_mfa_session" in one_line(r)
    assert login(cli).exit_code == 0
    production(monkeypatch)
    issued = cli("staff", "tokens", "create", "--name", "mine", "-p", "contract", "--json")
    assert issued.exit_code == 0, issued.output
    body = json.loads(issued.stdout)
    assert body["username"] == "sato" and body["role"] == "sales" and body["purposes"] == ["contract"]
    r = cli("staff", "tokens", "create", "--name", "x", "--role", "admin")
    assert r.exit_code == 3 and "token_role_above_owner" in one_line(r)
    listed = json.loads(cli("staff", "tokens", "list", "--json").stdout)
    assert [t["id"] for t in listed] == [body["id"]]


def test_service_account_from_the_cli(cli):
    r = cli("--as", "admin", "staff", "add-service", "crm", "--name", "CRM", "--role", "admin")
    assert r.exit_code != 0  # never an admin
    assert (
        cli("--as", "admin", "staff", "add-service", "crm", "--name", "CRM", "--role", "support").exit_code
        == 0
    )
    r = cli("--as", "sato", "staff", "add-service", "crm2", "--name", "CRM", "--role", "support")
    assert r.exit_code == 3 and "R-23-2" in one_line(r)
    issued = cli("--as", "admin", "staff", "tokens", "create", "crm", "--name", "crm-sync", "--json")
    assert issued.exit_code == 0 and json.loads(issued.stdout)["username"] == "crm"
    r = cli("--as", "crm", "customers", "list", "-p", "contract")  # no self-declared service account
    assert r.exit_code == 3 and "service_account_no_sign_in" in one_line(r)
