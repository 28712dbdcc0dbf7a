"""AES-256-GCM sealing (SECURITY.md §7 test 1, the primitive under every field and wrapped key)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mamori.kernel.crypto import OVERHEAD, new_key, open_sealed, seal
from mamori.kernel.errors import IntegrityFailure

# McGrew & Viega, "The Galois/Counter Mode of Operation", test cases 13 and 14 (256-bit zero key, zero IV).
KAT_KEY = bytes(32)
KAT_NONCE = bytes(12)
KAT_13_TAG = bytes.fromhex("530f8afbc74536b9a963b4f1c4cb738b")
KAT_14_CT_TAG = bytes.fromhex("cea7403d4d606b6e074ec5d3baf39d18d0d1c8a799996bf0265b98b5d48ab919")


def test_known_answer_vectors_open_in_the_sealed_format():
    # given blobs in mamori's format built from published GCM vectors
    blob13 = b"\x01" + KAT_NONCE + KAT_13_TAG
    blob14 = b"\x01" + KAT_NONCE + KAT_14_CT_TAG
    # when / then
    assert open_sealed(KAT_KEY, blob13, b"") == b""
    assert open_sealed(KAT_KEY, blob14, b"") == bytes(16)


def test_seal_layout_is_version_nonce_ciphertext_tag():
    key = new_key()
    blob = seal(key, b"abc", b"aad")
    assert blob[0] == 1
    assert len(blob) == OVERHEAD + 3 == 1 + 12 + 3 + 16


def test_two_seals_of_the_same_value_differ():
    key = new_key()
    assert seal(key, b"same", b"a") != seal(key, b"same", b"a")


@settings(max_examples=50, deadline=None)
@given(plaintext=st.binary(max_size=2048), aad=st.binary(max_size=64))
def test_round_trip_any_bytes(plaintext: bytes, aad: bytes):
    key = new_key()
    assert open_sealed(key, seal(key, plaintext, aad), aad) == plaintext


def test_wrong_key_fails():
    blob = seal(new_key(), b"secret", b"t|c|1")
    with pytest.raises(IntegrityFailure):
        open_sealed(new_key(), blob, b"t|c|1")


def test_wrong_aad_fails():
    key = new_key()
    blob = seal(key, b"secret", b"t|c|1")
    with pytest.raises(IntegrityFailure):
        open_sealed(key, blob, b"t|c|2")


def test_flipping_any_single_bit_fails():
    key = new_key()
    blob = seal(key, b"tamper me", b"aad")
    for index in range(len(blob)):
        for bit in (0x01, 0x80):
            changed = bytearray(blob)
            changed[index] ^= bit
            with pytest.raises(IntegrityFailure):
                open_sealed(key, bytes(changed), b"aad")


def test_every_truncation_and_extension_fails():
    key = new_key()
    blob = seal(key, b"truncate me", b"aad")
    for length in range(len(blob)):
        with pytest.raises(IntegrityFailure):
            open_sealed(key, blob[:length], b"aad")
    with pytest.raises(IntegrityFailure):
        open_sealed(key, blob + b"\x00", b"aad")


def test_unknown_format_version_fails():
    key = new_key()
    blob = seal(key, b"x", b"")
    with pytest.raises(IntegrityFailure):
        open_sealed(key, b"\x02" + blob[1:], b"")


@pytest.mark.parametrize("bad_key", [b"", bytes(16), bytes(31), bytes(33)])
def test_bad_key_length_on_open_is_an_integrity_failure(bad_key: bytes):
    with pytest.raises(IntegrityFailure):
        open_sealed(bad_key, seal(new_key(), b"x", b""), b"")


def test_bad_key_length_on_seal_is_refused():
    from mamori.kernel.errors import ConfigurationError

    with pytest.raises(ConfigurationError):
        seal(bytes(16), b"x", b"")
