"""Password hashing parameters and policy (pure: no database)."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher, Type, extract_parameters

from mamori.staff import passwords
from mamori.staff.passwords import WeakPassword


def test_hash_is_argon2id_with_owasp_minimum_parameters():
    stored = passwords.hash_password("a fine long passphrase")
    params = extract_parameters(stored)
    assert stored.startswith("$argon2id$")
    assert params.type is Type.ID
    assert params.memory_cost >= 19456
    assert params.time_cost >= 2
    assert params.salt_len >= 16


def test_verify_accepts_right_and_refuses_wrong_or_garbage():
    stored = passwords.hash_password("a fine long passphrase")
    assert passwords.verify_password(stored, "a fine long passphrase")
    assert not passwords.verify_password(stored, "a fine long passphrasf")
    assert not passwords.verify_password("not-a-hash", "a fine long passphrase")


def test_full_width_and_half_width_are_the_same_password():
    stored = passwords.hash_password("ＰａｓｓＷｏｒｄ２０２６ｘｙ")
    assert passwords.verify_password(stored, "PassWord2026xy")


def test_old_parameters_need_rehash_current_do_not():
    old = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1, type=Type.ID).hash("x" * 10)
    assert passwords.needs_rehash(old)
    assert not passwords.needs_rehash(passwords.hash_password("x" * 10))


@pytest.mark.parametrize(
    ("candidate", "code"),
    [
        ("short7!", "password_too_short"),
        ("x" * 129, "password_too_long"),
        ("password", "password_common"),
        ("PASSWORD1", "password_common"),
        ("１２３４５６７８", "password_common"),  # full-width digits normalise to 12345678
        ("qwertyui", "password_common"),
        ("suzuki.ichiro", "password_common"),  # equals the user name
    ],
)
def test_policy_refuses_short_long_common_and_username(candidate, code):
    with pytest.raises(WeakPassword) as err:
        passwords.check_policy(candidate, username="suzuki.ichiro")
    assert err.value.code == code
    assert err.value.http_status == 422


@pytest.mark.parametrize("candidate", ["ab丸秘3", "Q" * 200 + "秘密", "Kobayashi.Secret"])
def test_policy_errors_never_echo_the_password(candidate):
    with pytest.raises(WeakPassword) as err:
        passwords.check_policy(candidate, username="kobayashi.secret")
    for text in (
        err.value.message_ja,
        err.value.message_en,
        err.value.one_line("ja"),
        str(err.value.to_dict()),
    ):
        assert candidate not in text and candidate.casefold() not in text.casefold()


@pytest.mark.parametrize(
    "candidate",
    ["8chars!!", "no composition rules needed", "ひらがなだけのながいぱすわーど", "x" * 64, "y" * 128],
)
def test_policy_accepts_any_characters_without_composition_rules(candidate):
    passwords.check_policy(candidate, username="someone")
