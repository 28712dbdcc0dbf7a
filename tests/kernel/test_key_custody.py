"""Key custody (issue 11 §4, ADR 0007): one KEK per store, never created silently, a key-check value that
refuses a wrong key before any write, a rotation that always finishes, and a KEK in a PKCS#11 token.

The store-level tests run the real ``mamori`` command in subprocesses with only environment variables and
files, as an administrator would: what they check holds outside the test process.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import shutil
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from mamori.kernel.clock import FrozenClock
from mamori.kernel.crypto import EnvKekProvider, FileKekProvider, Keystore
from mamori.kernel.crypto.aead import make_aead, seal_with
from mamori.kernel.db import make_engine
from mamori.kernel.errors import ConfigurationError, IntegrityFailure

MAMORI = str(Path(sys.executable).with_name("mamori"))


def b64key() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


def _env(home: Path, user_home: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("MAMORI_") and k not in {"HOME", "PYTEST_CURRENT_TEST"}
    }
    env.update({"HOME": str(user_home), "MAMORI_HOME": str(home), "MAMORI_LANG": "en"})
    env.update(extra)
    return env


def mamori(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own console script
        [MAMORI, *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def ok(result: subprocess.CompletedProcess[str]) -> dict[str, object]:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _one_store(tmp_path: Path, name: str, user_home: Path) -> tuple[dict[str, str], Path]:
    env = _env(tmp_path / name, user_home)
    info = ok(mamori(env, "init", "--json"))
    return env, Path(str(info["kek"]))


# -- one KEK per store, outside the data directory ----------------------------------------------------------------
def test_each_store_gets_its_own_key_directory_outside_its_home(tmp_path: Path):
    user_home = tmp_path / "user"
    env_a, kek_a = _one_store(tmp_path, "a", user_home)
    env_b, kek_b = _one_store(tmp_path, "b", user_home)
    assert kek_a != kek_b
    for home, kek in ((tmp_path / "a", kek_a), (tmp_path / "b", kek_b)):
        store_id = json.loads((home / "store.json").read_text())["store_id"]
        assert kek == user_home / ".config" / "mamori" / "stores" / store_id / "kek.json"
        assert stat.S_IMODE(kek.stat().st_mode) == 0o600
        assert stat.S_IMODE(kek.parent.stat().st_mode) == 0o700
        assert (kek.parent / "keystore.db").exists()
        # every database file is owner-only (SQLite gives -wal/-shm the database file's mode)
        for db_file in (kek.parent / "keystore.db", home / "mamori.db", home / "audit.db"):
            assert stat.S_IMODE(db_file.stat().st_mode) == 0o600, db_file.name
        # nothing key-like in the data directory: a copy of it carries no key
        names = {p.name for p in home.rglob("*")}
        assert not any(n.startswith(("kek", "keystore")) for n in names), names
    # rotating store A leaves store B readable (the issue: one shared key file made B unreadable)
    assert ok(mamori(env_a, "demo", "--customers", "3", "--json"))["customers"] == 3
    assert ok(mamori(env_b, "demo", "--customers", "3", "--json"))["customers"] == 3
    report = ok(mamori(env_a, "--as", "admin", "keys", "rotate", "--json"))
    assert report["remaining_on_old"] == 0 and report["destroyed_versions"] == [1]
    listed = ok(mamori(env_b, "--as", "hoshino", "customers", "list", "-p", "contract", "--json"))
    assert listed["items"]
    assert ok(mamori(env_a, "--as", "hoshino", "customers", "list", "-p", "contract", "--json"))["items"]


def test_a_missing_key_file_of_an_existing_store_is_an_error_naming_it_and_no_key_is_made(tmp_path: Path):
    env, kek = _one_store(tmp_path, "s", tmp_path / "user")
    assert ok(mamori(env, "demo", "--customers", "2", "--json"))["customers"] == 2
    kept = tmp_path / "kek-backup.json"
    shutil.move(kek, kept)
    for args in (("init",), ("--as", "hoshino", "customers", "list", "-p", "contract"), ("keys", "status")):
        result = mamori(env, *args)
        assert result.returncode != 0
        assert str(kek) in result.stderr and "missing" in result.stderr
        assert len([ln for ln in result.stderr.splitlines() if ln.strip()]) == 1
        assert not kek.exists()  # never created silently
    # putting the file back is the fix
    shutil.move(kept, kek)
    assert ok(mamori(env, "--as", "hoshino", "customers", "list", "-p", "contract", "--json"))["items"]


def test_a_wrong_key_is_refused_before_any_write(tmp_path: Path):
    user_home = tmp_path / "user"
    env_a, kek_a = _one_store(tmp_path, "a", user_home)
    _env_b, kek_b = _one_store(tmp_path, "b", user_home)
    keystore_a = kek_a.parent / "keystore.db"

    def key_rows() -> int:
        with sqlite3.connect(keystore_a) as db:
            return int(
                db.execute(
                    "SELECT (SELECT count(*) FROM data_keys) + (SELECT count(*) FROM system_keys)"
                ).fetchone()[0]
            )

    before = key_rows()
    # the administrator points store A at store B's key file by mistake
    env_wrong = dict(env_a, MAMORI_KEY_FILE=str(kek_b))
    result = mamori(env_wrong, "demo", "--customers", "2")
    assert result.returncode != 0
    assert "kek_mismatch" in result.stderr or "not this keystore's key" in result.stderr
    assert key_rows() == before  # nothing written under the wrong key
    # an environment KEK that is not the store's is refused the same way
    result = mamori(dict(env_a, MAMORI_KEK=b64key()), "demo", "--customers", "2")
    assert result.returncode != 0 and "not this keystore's key" in result.stderr
    assert key_rows() == before
    # the right key still works
    assert ok(mamori(env_a, "demo", "--customers", "2", "--json"))["customers"] == 2


# -- key-check values and rotation in the keystore ----------------------------------------------------------------
@pytest.fixture
def keystore_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'ks' / 'keystore.db'}"


def _keystore(url: str, kek: object) -> Keystore:
    from datetime import UTC, datetime

    ks = Keystore(make_engine(url), kek, FrozenClock(datetime(2026, 12, 1, tzinfo=UTC)))  # type: ignore[arg-type]
    ks.init_schema()
    return ks


def test_check_value_is_registered_per_version_and_a_new_version_needs_lineage(tmp_path: Path, keystore_url):
    kek = FileKekProvider(tmp_path / "k" / "kek.json", home=None, create=True)
    ks = _keystore(keystore_url, kek)
    ks.create_data_keys(["s1"])
    assert ks.stats()["kek_check_versions"] == [1]
    kek.add_version()
    ks.create_data_keys(["s2"])  # version 2 proven by version 1's check value opening
    assert ks.stats()["kek_check_versions"] == [1, 2]
    # a foreign key with a version number the store never saw is refused
    stranger = EnvKekProvider(f"7:{b64key()}")
    with pytest.raises(ConfigurationError) as info:
        _keystore(keystore_url, stranger).create_data_keys(["s3"])
    assert info.value.code == "kek_mismatch"
    # and a foreign key reusing version 1 too
    with pytest.raises(ConfigurationError):
        _keystore(keystore_url, EnvKekProvider(b64key())).system_key("x")


def test_a_keystore_from_before_check_values_accepts_its_own_key_and_refuses_another(keystore_url):
    key = b64key()
    ks = _keystore(keystore_url, EnvKekProvider(key))
    ks.create_data_keys(["s1"])
    with ks.engine.begin() as conn:  # as made by an older mamori: no check values
        conn.exec_driver_sql("DELETE FROM kek_checks")
    with pytest.raises(ConfigurationError):
        _keystore(keystore_url, EnvKekProvider(b64key())).create_data_keys(["s2"])
    _keystore(keystore_url, EnvKekProvider(key)).create_data_keys(["s2"])


def _plant_unreadable_key(ks: Keystore, subject: str) -> None:
    """A data key wrapped under a key nobody has any more (what a write under a wrong key left behind)."""
    lost = make_aead(secrets.token_bytes(32))
    blob = seal_with(lost, secrets.token_bytes(32), b"mamori-kek-wrap\x00dek|" + subject.encode())
    with ks.engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO data_keys (subject_id, kek_version, wrapped, created_at) VALUES (?, 1, ?, ?)",
            (subject, blob, "2026-12-01 00:00:00.000000"),
        )


def test_rotation_always_finishes_past_an_unreadable_key(tmp_path: Path, keystore_url):
    kek = FileKekProvider(tmp_path / "k" / "kek.json", home=None, create=True)
    ks = _keystore(keystore_url, kek)
    ks.create_data_keys([f"s{i}" for i in range(25)])
    _plant_unreadable_key(ks, "s-lost")
    kek.add_version()
    first = ks.rotate(batch_size=7)
    # every readable key was rewrapped; the lost one is reported, and version 1 is kept for it
    assert first.rewrapped == 25 and first.unreadable == 1 and first.remaining_on_old == 1
    assert first.destroyed_versions == []
    assert 1 in kek.versions()
    second = ks.rotate(drop_unreadable=True)
    assert second.unreadable == 1 and second.dropped == 1
    assert second.remaining_on_old == 0 and second.destroyed_versions == [1]
    assert ks.is_destroyed("s-lost")
    fresh = _keystore(keystore_url, FileKekProvider(tmp_path / "k" / "kek.json", home=None))
    assert len(fresh.data_keys([f"s{i}" for i in range(25)])) == 25


# -- PKCS#11 (SoftHSM2) ---------------------------------------------------------------------------------------------
SOFTHSM_MODULES = ("/usr/lib/softhsm/libsofthsm2.so", "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so")


@pytest.fixture
def softhsm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    module = next((m for m in SOFTHSM_MODULES if Path(m).exists()), None)
    util = shutil.which("softhsm2-util")
    if module is None or util is None:
        if os.environ.get("CI"):
            pytest.fail("softhsm2 is not installed (.ci/run installs it)")
        pytest.skip("softhsm2 is not installed (apt-get install softhsm2)")
    tokens = tmp_path / "tokens"
    tokens.mkdir()
    conf = tmp_path / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {tokens}\nobjectstore.backend = file\nlog.level = ERROR\n")
    monkeypatch.setenv("SOFTHSM2_CONF", str(conf))
    pin = "1234"
    subprocess.run(  # noqa: S603
        [util, "--init-token", "--free", "--label", "mamori-test", "--pin", pin, "--so-pin", "5678"],
        check=True,
        capture_output=True,
        env=dict(os.environ, SOFTHSM2_CONF=str(conf)),
    )
    return {"module": module, "token": "mamori-test", "pin": pin, "conf": str(conf)}


def test_pkcs11_provider_wraps_inside_the_token(softhsm):
    from mamori.kernel.crypto.pkcs11 import Pkcs11KekProvider

    kek = Pkcs11KekProvider(softhsm["module"], token_label=softhsm["token"], pin=softhsm["pin"])
    assert kek.missing
    kek.create_new()
    assert kek.versions() == [1] and kek.current_version() == 1
    assert not kek.extractable(1)
    version, blob = kek.wrap(b"d" * 32, context=b"dek|s1")
    assert kek.unwrap(version, blob, context=b"dek|s1") == b"d" * 32
    with pytest.raises(IntegrityFailure):
        kek.unwrap(version, blob, context=b"dek|s2")  # bound to its subject
    with pytest.raises(IntegrityFailure):
        kek.unwrap(version, blob[:-1] + bytes([blob[-1] ^ 1]), context=b"dek|s1")
    assert kek.add_version() == 2
    kek.destroy_version(1)
    assert kek.versions() == [2]
    with pytest.raises(ConfigurationError):
        kek.unwrap(1, blob, context=b"dek|s1")
    with pytest.raises(ConfigurationError):
        Pkcs11KekProvider(softhsm["module"], token_label=softhsm["token"], pin="0000").versions()


def test_a_store_runs_with_its_kek_in_the_hsm(tmp_path: Path, softhsm):
    env = _env(
        tmp_path / "home",
        tmp_path / "user",
        MAMORI_KEK_PROVIDER="pkcs11",
        MAMORI_PKCS11_MODULE=softhsm["module"],
        MAMORI_PKCS11_TOKEN_LABEL=softhsm["token"],
        MAMORI_PKCS11_PIN=softhsm["pin"],
        SOFTHSM2_CONF=softhsm["conf"],
    )
    ok(mamori(env, "init", "--json"))
    assert ok(mamori(env, "demo", "--customers", "3", "--json"))["customers"] == 3
    report = ok(mamori(env, "--as", "admin", "keys", "rotate", "--json"))
    assert report["remaining_on_old"] == 0 and report["destroyed_versions"] == [1]
    assert ok(mamori(env, "--as", "hoshino", "customers", "list", "-p", "contract", "--json"))["items"]
    # no key file was made: the KEK lives only in the token
    assert not list((tmp_path / "user").rglob("kek.json"))
    # a wrong PIN is a one-line configuration error
    bad = mamori(
        dict(env, MAMORI_PKCS11_PIN="0000"), "--as", "hoshino", "customers", "list", "-p", "contract"
    )
    assert bad.returncode != 0 and "PIN" in bad.stderr
