"""How the runtime, the CLI and the API server drive the audit log: the MAC key and anchor file come from the key
directory (outside MAMORI_HOME), each process anchors what it wrote when it closes, the API server checkpoints on
a timer, and `mamori audit checkpoint` prints the line to hand to a witness."""

from __future__ import annotations

import json
import logging
import os
import socket
import tempfile
import time
from datetime import timedelta

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from mamori.kernel.audit import AuditEntry, verify
from mamori.kernel.errors import ConfigurationError
from mamori.kernel.settings import reset_settings_cache
from tests.factories import point_env_at


def read_entry(n: int) -> AuditEntry:
    return AuditEntry(
        actor=f"staff:u{n}",
        actor_role="sales",
        action="customer.read",
        purpose="contract",
        subject_ids=(f"sub_{n:04d}",),
        fields=("name",),
        decision="allow",
    )


@pytest.fixture
def make_runtime(settings_factory, clock):
    from mamori import composition as bootstrap
    from mamori.kernel.runtime import Runtime

    bootstrap.register_all()
    made = []

    def make(settings=None, **overrides):
        rt = Runtime(settings or settings_factory(**overrides), clock=clock)
        made.append(rt)
        return rt

    yield make
    for rt in made:
        rt.close()


def sizes(path) -> list[int]:
    return [json.loads(line)["tree_size"] for line in path.read_text().splitlines()]


def test_anchor_file_is_in_the_key_directory_and_never_inside_the_home(
    make_runtime, settings_factory, tmp_path
):
    rt = make_runtime()
    rt.init()
    assert rt.anchor_path == rt.settings.resolved_anchor_path()
    assert rt.anchor_path.parent == rt.settings.resolved_key_dir()
    assert not rt.anchor_path.is_relative_to(rt.settings.home_path)
    assert sizes(rt.anchor_path) == [1]  # the genesis checkpoint
    # MAMORI_AUDIT_ANCHOR pointing into MAMORI_HOME is refused
    inside = make_runtime(rt.settings.model_copy(update={"audit_anchor": rt.settings.home_path / "a.jsonl"}))
    with pytest.raises(ConfigurationError) as caught:
        inside.audit  # noqa: B018 - building the writer is the check
    assert caught.value.code == "anchor_inside_home"


def test_keyed_with_the_keystores_audit_mac_key(make_runtime):
    rt = make_runtime()
    rt.init()
    rt.audit.append([read_entry(1)])
    mac_key = rt.keystore.system_key("audit_mac")
    assert verify(rt.audit_engine, rt.audit.public_key_bytes(), rt.anchor_path, mac_key=mac_key).ok
    other = verify(rt.audit_engine, rt.audit.public_key_bytes(), rt.anchor_path, mac_key=b"\x00" * 32)
    assert (other.problem, other.first_bad_seq) == ("bad_mac", 1)


def test_close_anchors_what_this_runtime_wrote(make_runtime, settings_factory):
    settings = settings_factory(audit_checkpoint_every=100)
    writer = make_runtime(settings)
    writer.init()
    writer.audit.append([read_entry(1), read_entry(2)])
    assert sizes(writer.anchor_path) == [1]
    # when the process ends
    writer.close()
    # then its entries are anchored
    assert sizes(writer.anchor_path) == [1, 3]
    # and a runtime that only verified (wrote nothing) adds no checkpoint and does not touch the audit database
    reader = make_runtime(settings)
    reader.audit.public_key_bytes()
    reader.close()
    assert sizes(writer.anchor_path) == [1, 3]


def test_close_logs_a_failed_checkpoint_and_still_closes(make_runtime, caplog):
    rt = make_runtime()
    rt.init()
    rt.audit.append([read_entry(1)])
    with rt.audit_engine.begin() as conn:
        conn.execute(text("UPDATE audit_head SET mac = NULL"))
    with caplog.at_level(logging.WARNING, logger="mamori.audit"):
        rt.close()
    assert "audit_head_mac" in caplog.text
    assert sizes(rt.anchor_path) == [1]


def test_anchor_lines_also_go_to_syslog(make_runtime):
    directory = tempfile.mkdtemp(prefix="mamori-syslog-", dir="/tmp")
    path = os.path.join(directory, "log")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    try:
        server.bind(path)
        server.settimeout(5)
        rt = make_runtime(audit_anchor_syslog=path)
        rt.init()
        message = server.recv(65536).decode()
    finally:
        server.close()
        os.unlink(path)
        os.rmdir(directory)
    line = rt.anchor_path.read_text().splitlines()[0]
    assert message.startswith("<38>mamori-audit: ") and line in message


@pytest.fixture
def cli_env(settings_factory, monkeypatch):
    settings = settings_factory()
    point_env_at(monkeypatch, settings)
    yield settings
    reset_settings_cache()


def test_cli_audit_checkpoint_prints_the_anchor_line(cli_env):
    from mamori.cli.main import app

    runner = CliRunner()
    assert runner.invoke(app, ["init"], catch_exceptions=False).exit_code == 0
    anchor = cli_env.resolved_anchor_path()
    result = runner.invoke(app, ["audit", "checkpoint", "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    last = json.loads(anchor.read_text().splitlines()[-1])
    assert printed == last
    assert set(printed) == {"origin", "tree_size", "at", "root_hash", "chain_hash", "signature", "key_id"}
    plain = runner.invoke(app, ["--lang", "en", "audit", "checkpoint"], catch_exceptions=False)
    assert plain.exit_code == 0
    assert f"checkpoint at {printed['tree_size']} entries" in plain.stdout
    assert json.loads(plain.stdout.strip().splitlines()[-1]) == last
    assert runner.invoke(app, ["audit", "verify"], catch_exceptions=False).exit_code == 0


def test_api_server_checkpoints_on_a_timer_and_at_shutdown(make_runtime, clock):
    from fastapi.testclient import TestClient

    from mamori.api.app import create_app

    rt = make_runtime(audit_checkpoint_every=1000, audit_checkpoint_minutes=0.02)  # a tick every 1.2 s
    rt.init()
    with TestClient(create_app(rt)):
        rt.audit.append([read_entry(1)])
        deadline = time.monotonic() + 20
        while sizes(rt.anchor_path) == [1] and time.monotonic() < deadline:
            time.sleep(0.1)
        # the timer anchored the entry without any further append
        assert sizes(rt.anchor_path) == [1, 2]
        clock.advance(timedelta(seconds=1))
        rt.audit.append([read_entry(2)])
    # at shutdown whatever is left is anchored (by the last tick or the shutdown itself)
    assert sizes(rt.anchor_path)[-1] == 3
