"""KEK providers: key file outside MAMORI_HOME, MAMORI_KEK parsing (SECURITY.md §7 tests 3 and 24)."""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import stat
from pathlib import Path

import pytest

from mamori.kernel.crypto import (
    EnvKekProvider,
    FileKekProvider,
    KekProvider,
    KekUnavailable,
    kek_from_settings,
)
from mamori.kernel.errors import ConfigurationError, Conflict, IntegrityFailure
from mamori.kernel.settings import Settings


def b64key() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


# -- file provider -----------------------------------------------------------------------------------------------
def test_missing_key_file_is_created_0600_in_a_0700_directory(tmp_path: Path):
    # given a key file path in a directory that does not exist yet
    path = tmp_path / "secrets" / "kek.json"
    # when
    kek = FileKekProvider(path, home=tmp_path / "home", create=True)
    # then
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    doc = json.loads(path.read_text())
    assert doc["current"] == 1 and list(doc["keys"]) == ["1"] and doc["destroyed"] == []
    assert len(base64.b64decode(doc["keys"]["1"])) == 32
    assert kek.current_version() == 1 and kek.versions() == [1]
    assert isinstance(kek, KekProvider)


def test_key_file_inside_home_is_refused(tmp_path: Path):
    home = tmp_path / "home"
    for path in (home / "kek.json", home / "backups" / "kek.json"):
        with pytest.raises(ConfigurationError) as info:
            FileKekProvider(path, home=home, create=True)
        assert info.value.code == "kek_inside_home"
        assert not path.exists()


def test_key_file_inside_home_via_symlinked_home_is_refused(tmp_path: Path):
    real_home = tmp_path / "real_home"
    real_home.mkdir()
    link = tmp_path / "link_home"
    link.symlink_to(real_home)
    with pytest.raises(ConfigurationError):
        FileKekProvider(real_home / "kek.json", home=link, create=True)


def test_key_file_beside_home_is_accepted(tmp_path: Path):
    kek = FileKekProvider(tmp_path / "keys" / "kek.json", home=tmp_path / "home", create=True)
    assert kek.current_version() == 1


def test_wrapped_key_opens_after_reloading_the_file(tmp_path: Path):
    path = tmp_path / "k" / "kek.json"
    version, blob = FileKekProvider(path, home=None, create=True).wrap(b"k" * 32, context=b"dek|s1")
    again = FileKekProvider(path, home=None)
    assert again.unwrap(version, blob, context=b"dek|s1") == b"k" * 32
    with pytest.raises(IntegrityFailure):
        again.unwrap(version, blob, context=b"dek|s2")


def test_add_version_makes_a_new_current_and_keeps_the_old(tmp_path: Path):
    path = tmp_path / "k" / "kek.json"
    kek = FileKekProvider(path, home=None, create=True)
    old = kek.wrap(b"a" * 32, context=b"c")
    assert kek.add_version() == 2
    assert kek.current_version() == 2 and kek.versions() == [1, 2]
    assert kek.wrap(b"a" * 32, context=b"c")[0] == 2
    assert kek.unwrap(*old, context=b"c") == b"a" * 32
    assert json.loads(path.read_text())["current"] == 2
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    leftovers = sorted(p.name for p in path.parent.iterdir())
    assert leftovers == [".kek.json.lock", "kek.json"]  # no temporary file left behind


def test_destroy_version_removes_the_key_material(tmp_path: Path):
    path = tmp_path / "k" / "kek.json"
    kek = FileKekProvider(path, home=None, create=True)
    old = kek.wrap(b"a" * 32, context=b"c")
    old_b64 = json.loads(path.read_text())["keys"]["1"]
    kek.add_version()
    # when
    kek.destroy_version(1)
    # then
    doc = json.loads(path.read_text())
    assert doc["destroyed"] == [1] and list(doc["keys"]) == ["2"]
    assert old_b64 not in path.read_text()
    assert kek.versions() == [2] and kek.destroyed_versions() == [1]
    with pytest.raises(KekUnavailable):
        kek.unwrap(*old, context=b"c")
    # a destroyed version number is never reused
    assert kek.add_version() == 3


def test_another_process_sees_a_new_version_before_wrapping(tmp_path: Path):
    # given two providers on one key file (two processes: a server and the admin command)
    path = tmp_path / "k" / "kek.json"
    server = FileKekProvider(path, home=None, create=True)
    admin = FileKekProvider(path, home=None, create=True)
    # when the admin adds version 2 and destroys version 1
    admin.add_version()
    admin.destroy_version(1)
    # then the server wraps with version 2, never with the destroyed one
    version, blob = server.wrap(b"k" * 32, context=b"c")
    assert version == 2 and server.current_version() == 2 and server.versions() == [2]
    assert admin.unwrap(version, blob, context=b"c") == b"k" * 32
    assert server.wrap_many([b"k" * 32], [b"c"])[0] == 2


def test_destroying_the_current_version_is_refused(tmp_path: Path):
    kek = FileKekProvider(tmp_path / "k" / "kek.json", home=None, create=True)
    with pytest.raises(Conflict):
        kek.destroy_version(1)
    assert kek.versions() == [1]


def test_destroying_an_unknown_version_is_refused(tmp_path: Path):
    kek = FileKekProvider(tmp_path / "k" / "kek.json", home=None, create=True)
    with pytest.raises(KekUnavailable):
        kek.destroy_version(7)


def test_key_file_readable_by_others_is_refused(tmp_path: Path):
    path = tmp_path / "k" / "kek.json"
    FileKekProvider(path, home=None, create=True)
    os.chmod(path, 0o644)
    with pytest.raises(ConfigurationError) as info:
        FileKekProvider(path, home=None, create=True)
    assert info.value.code == "kek_permissions"


@pytest.mark.parametrize(
    "content",
    [
        "not json",
        "{}",
        json.dumps({"current": 2, "keys": {"1": base64.b64encode(bytes(32)).decode()}}),
        json.dumps({"current": 1, "keys": {"1": "c2hvcnQ="}}),
        json.dumps({"current": 1, "keys": ["x"]}),
    ],
)
def test_malformed_key_file_is_refused(tmp_path: Path, content: str):
    path = tmp_path / "kek.json"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, content.encode())
    os.close(fd)
    with pytest.raises(ConfigurationError):
        FileKekProvider(path, home=None, create=True)


# -- environment provider ----------------------------------------------------------------------------------------
def test_bare_env_value_is_version_1():
    kek = EnvKekProvider(b64key())
    assert kek.current_version() == 1 and kek.versions() == [1]
    assert kek.unwrap(*kek.wrap(b"z" * 32, context=b"x"), context=b"x") == b"z" * 32


def test_versioned_env_value_first_entry_is_current():
    old, new = b64key(), b64key()
    before = EnvKekProvider(f"1:{old}")
    wrapped = before.wrap(b"z" * 32, context=b"x")
    # when the new version is put first
    kek = EnvKekProvider(f"3:{new}, 1:{old}")
    # then
    assert kek.current_version() == 3 and kek.versions() == [1, 3]
    assert kek.unwrap(*wrapped, context=b"x") == b"z" * 32
    assert kek.wrap(b"z" * 32, context=b"x")[0] == 3


def test_env_provider_has_no_destroy_version():
    assert not hasattr(EnvKekProvider(b64key()), "destroy_version")


def test_other_key_under_same_version_fails_to_unwrap():
    wrapped = EnvKekProvider(b64key()).wrap(b"z" * 32, context=b"x")
    with pytest.raises(IntegrityFailure):
        EnvKekProvider(b64key()).unwrap(*wrapped, context=b"x")


def test_unwrap_with_unknown_version_is_unavailable():
    kek = EnvKekProvider(b64key())
    with pytest.raises(KekUnavailable):
        kek.unwrap(2, b"\x01" + bytes(40), context=b"x")


SECRET_LOOKING = "c2VjcmV0LXZhbHVlLXRoYXQtaXMtbm90LTMyLWJ5dGVz"  # base64, wrong length


@pytest.mark.parametrize(
    "value",
    [
        "",
        " ",
        "not*base64!",
        SECRET_LOOKING,
        f"1:{SECRET_LOOKING}",
        f"x:{b64key()}",
        f"0:{b64key()}",
        f"-1:{b64key()}",
        f"1:{b64key()},1:{b64key()}",
        f"1:{b64key()},{b64key()}",
        f"1:{b64key()},",
        base64.b64encode(bytes(16)).decode(),
    ],
    # the random keys must not appear in test ids (xdist workers must collect the same names)
    ids=lambda v: re.sub(r"[A-Za-z0-9+/]{20,}={0,2}", "KEY", v) or "empty",
)
def test_bad_env_values_are_refused_without_echoing_them(value: str):
    with pytest.raises(ConfigurationError) as info:
        EnvKekProvider(value)
    err = info.value
    for part in [p for p in value.replace(",", ":").split(":") if len(p.strip()) > 3]:
        assert part.strip() not in err.message_en
        assert part.strip() not in err.message_ja
        assert part.strip() not in str(err.details)


# -- settings ----------------------------------------------------------------------------------------------------
def test_settings_with_kek_use_the_environment_provider(tmp_path: Path):
    settings = Settings(home=tmp_path / "home", kek=b64key(), key_file=tmp_path / "unused.json")
    assert isinstance(kek_from_settings(settings), EnvKekProvider)
    assert not (tmp_path / "unused.json").exists()


def test_settings_without_kek_use_the_key_file(tmp_path: Path):
    settings = Settings(home=tmp_path / "home", kek=None, key_file=tmp_path / "cfg" / "kek.json")
    kek = kek_from_settings(settings)
    assert isinstance(kek, FileKekProvider)
    # never created by merely reading the settings (only `mamori init` of a new store creates it)
    assert not (tmp_path / "cfg" / "kek.json").exists()
    assert kek.missing


def test_settings_with_key_file_inside_home_are_refused(tmp_path: Path):
    settings = Settings(home=tmp_path / "home", kek=None, key_file=tmp_path / "home" / "kek.json")
    with pytest.raises(ConfigurationError):
        kek_from_settings(settings)
