"""Field encryption with per-subject keys and cell-bound associated data (SECURITY.md §7 test 1)."""

from __future__ import annotations

import base64
import secrets
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mamori.kernel.clock import FrozenClock
from mamori.kernel.crypto import EnvKekProvider, FieldCipher, KeyDestroyed, Keystore, field_aad
from mamori.kernel.db import make_engine
from mamori.kernel.errors import IntegrityFailure

KANA = st.characters(min_codepoint=0x3040, max_codepoint=0x30FF)
EMOJI = st.characters(min_codepoint=0x1F300, max_codepoint=0x1FAFF)
ANY_TEXT = st.one_of(
    st.text(),
    st.text(alphabet=st.one_of(KANA, EMOJI, st.characters()), max_size=200),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=50),
)


@pytest.fixture
def cipher(empty_db_url):
    keystore = Keystore(
        make_engine(empty_db_url("keystore")),
        EnvKekProvider(base64.b64encode(secrets.token_bytes(32)).decode()),
        FrozenClock(datetime(2026, 11, 23, 1, 0, tzinfo=UTC)),
    )
    keystore.init_schema()
    keystore.create_data_keys(["alice", "bob"])
    yield FieldCipher(keystore)
    keystore.engine.dispose()


def test_any_unicode_text_round_trips(cipher: FieldCipher):
    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(value=ANY_TEXT, row_id=st.one_of(st.integers(min_value=0), st.text(max_size=20)))
    def check(value: str, row_id: int | str) -> None:
        blob = cipher.encrypt("alice", "customers", "name", row_id, value)
        assert cipher.decrypt("alice", "customers", "name", row_id, blob) == value

    check()


@pytest.mark.parametrize(
    "value",
    [
        "",
        "山田太郎",
        "ﾔﾏﾀﾞ ﾀﾛｳ",
        "やまだ　たろう",
        "👩‍👩‍👧‍👦🍣🗾",
        "\x00\ud800 lone surrogate and NUL",
        "あ" * 3414 + "a" * 10,  # over 10 KB of UTF-8
        "x" * 10_240,
    ],
)
def test_examples_round_trip_exactly(cipher: FieldCipher, value: str):
    blob = cipher.encrypt("alice", "customers", "note", "r1", value)
    assert value.encode("utf-8", "surrogatepass") not in blob or value == ""
    assert cipher.decrypt("alice", "customers", "note", "r1", blob) == value


def test_ciphertext_moved_to_another_row_column_table_or_subject_fails(cipher: FieldCipher):
    blob = cipher.encrypt("alice", "customers", "email", "row-1", "alice@example.jp")
    for subject, table, column, row in [
        ("alice", "customers", "email", "row-2"),
        ("alice", "customers", "phone", "row-1"),
        ("alice", "contact_points", "email", "row-1"),
        ("bob", "customers", "email", "row-1"),
    ]:
        with pytest.raises(IntegrityFailure):
            cipher.decrypt(subject, table, column, row, blob)


def test_row_id_int_and_str_bind_the_same_cell(cipher: FieldCipher):
    assert field_aad("t", "c", 7) == field_aad("t", "c", "7") == b"t|c|7"
    blob = cipher.encrypt("alice", "t", "c", 7, "v")
    assert cipher.decrypt("alice", "t", "c", "7", blob) == "v"


def test_tampering_any_byte_fails(cipher: FieldCipher):
    blob = cipher.encrypt("alice", "customers", "name", "r1", "山田")
    for index in range(len(blob)):
        changed = bytearray(blob)
        changed[index] ^= 0x01
        with pytest.raises(IntegrityFailure):
            cipher.decrypt("alice", "customers", "name", "r1", bytes(changed))
    with pytest.raises(IntegrityFailure):
        cipher.decrypt("alice", "customers", "name", "r1", blob[:-1])
    with pytest.raises(IntegrityFailure):
        cipher.decrypt("alice", "customers", "name", "r1", b"")


def test_encrypt_many_and_decrypt_many_match_single_calls(cipher: FieldCipher):
    items = [
        ("customers", "name", "r1", "山田"),
        ("customers", "kana", "r1", "ヤマダ"),
        ("cp", "value", 3, ""),
    ]
    blobs = cipher.encrypt_many("bob", items)
    assert cipher.decrypt_many(
        "bob", [(t, c, r, b) for (t, c, r, _), b in zip(items, blobs, strict=True)]
    ) == [v for *_, v in items]
    assert cipher.decrypt("bob", "customers", "kana", "r1", blobs[1]) == "ヤマダ"
    with pytest.raises(IntegrityFailure):
        cipher.decrypt_many("bob", [("customers", "name", "r1", blobs[1])])


def test_after_crypto_shredding_the_value_is_unreadable(cipher: FieldCipher):
    blob = cipher.encrypt("alice", "customers", "name", "r1", "山田")
    cipher.keystore.destroy_data_key("alice")
    with pytest.raises(KeyDestroyed):
        cipher.decrypt("alice", "customers", "name", "r1", blob)
    with pytest.raises(KeyDestroyed):
        cipher.encrypt("alice", "customers", "name", "r1", "new")
    assert (
        cipher.decrypt(
            "bob", "customers", "name", "r1", cipher.encrypt("bob", "customers", "name", "r1", "b")
        )
        == "b"
    )


def test_unknown_subject_cannot_encrypt(cipher: FieldCipher):
    with pytest.raises(KeyDestroyed):
        cipher.encrypt("carol", "customers", "name", "r1", "x")
    with pytest.raises(KeyDestroyed):
        cipher.preload(["alice", "carol"])
