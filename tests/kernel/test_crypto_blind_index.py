"""Blind indexes: NFKC / width / case / kana variants give the same token, different values do not
(SECURITY.md §7 test 7, equality part; the length trade-off is documented in blind_index.py)."""

from __future__ import annotations

import secrets

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mamori.kernel.crypto import (
    DIGEST_LEN,
    BlindIndexer,
    normalise_email,
    normalise_kana,
    normalise_name,
    normalise_phone,
)
from mamori.kernel.errors import ValidationFailed


@pytest.fixture
def indexer() -> BlindIndexer:
    return BlindIndexer(secrets.token_bytes(32))


@pytest.mark.parametrize(
    ("kind", "variants"),
    [
        ("kana", ["ﾔﾏﾀﾞ", "ヤマダ", "やまだ", " ヤ マ ダ ", "ﾔﾏﾀﾞ\u3000", "やまだ"]),
        ("kana", ["ヤマダ・タロウ", "ﾔﾏﾀﾞ ﾀﾛｳ", "やまだ　たろう", "ﾔﾏﾀﾞ･ﾀﾛｳ"]),
        ("email", ["ＡＢＣ@example.jp", "abc@example.jp", " ABC@EXAMPLE.JP ", "Abc@Example.jp"]),
        (
            "phone",
            [
                "090-1234-5678",
                "+81 90 1234 5678",
                "０９０１２３４５６７８",
                "090ー1234ー5678",
                "09012345678",
                "＋８１−９０−１２３４−５６７８",
            ],
        ),
        ("phone", ["03-1234-5678", "(03) 1234 5678", "+81-3-1234-5678"]),
        ("name", ["山田 太郎", "山田　太郎", "山田太郎", " 山田\t太郎 "]),
        ("name", ["John SMITH", "john smith", "ＪＯＨＮ　ｓｍｉｔｈ", "JohnSmith"]),
    ],
)
def test_variants_give_the_same_token(indexer: BlindIndexer, kind: str, variants: list[str]):
    digests = {indexer.digest(kind, v) for v in variants}
    assert len(digests) == 1
    assert len(digests.pop()) == DIGEST_LEN == 16


@pytest.mark.parametrize(
    ("kind", "a", "b"),
    [
        ("kana", "ヤマダ", "ヤマタ"),
        ("kana", "やまだ", "やまざき"),
        ("email", "abc@example.jp", "abd@example.jp"),
        ("email", "abc@example.jp", "abc@example.com"),
        ("phone", "090-1234-5678", "090-1234-5679"),
        ("phone", "03-1234-5678", "06-1234-5678"),
        ("name", "山田太郎", "山田次郎"),
        ("name", "山田太郎", "ヤマダタロウ"),
    ],
)
def test_different_values_give_different_tokens(indexer: BlindIndexer, kind: str, a: str, b: str):
    assert indexer.digest(kind, a) != indexer.digest(kind, b)


def test_kind_is_part_of_the_token(indexer: BlindIndexer):
    assert indexer.digest("name", "ヤマダ") != indexer.digest("kana", "ヤマダ")


def test_token_depends_on_the_key():
    assert BlindIndexer(b"k" * 32).digest("email", "a@example.jp") != BlindIndexer(b"K" * 32).digest(
        "email", "a@example.jp"
    )
    assert BlindIndexer(b"k" * 32).digest("email", "a@example.jp") == BlindIndexer(b"k" * 32).digest(
        "email", "A@example.jp"
    )


@settings(max_examples=100, deadline=None)
@given(a=st.text(min_size=1, max_size=30), b=st.text(min_size=1, max_size=30))
def test_tokens_are_equal_exactly_when_the_normal_forms_are(a: str, b: str):
    indexer = BlindIndexer(b"k" * 32)
    if not normalise_name(a) or not normalise_name(b):
        return
    assert (indexer.digest("name", a) == indexer.digest("name", b)) == (
        normalise_name(a) == normalise_name(b)
    )


def test_normalisers_give_the_documented_forms():
    assert normalise_email("  ＡＢＣ@Example.JP ") == "abc@example.jp"
    assert normalise_phone("０９０-１２３４-５６７８") == "+819012345678"
    # the digest covers the number only: with or without its extension, the same normal form (issue 19)
    assert normalise_phone("+81312345678;ext=12") == normalise_phone("03-1234-5678 ext. 12") == "+81312345678"
    assert normalise_phone("+1 650-253-0000", region="US") == "+16502530000"
    assert normalise_phone("650-253-0000", region="US") == "+16502530000"
    assert normalise_name("Ｙａｍａｄａ\u3000Taro") == "yamadataro"
    assert normalise_kana("ﾔﾏﾀﾞ･ﾀﾛｳ") == "ヤマダタロウ"
    assert normalise_kana("やまだ たろう") == "ヤマダタロウ"


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "   ",
        "12",
        "abc",
        "090-1234",
        "+81 00 0000 0000",
        "0120-ABC-DEF",
        "03-1234-5678 ext. twelve",  # an extension is dropped (issue 19), letters are not
        "1" * 40,
    ],
)
def test_invalid_phone_numbers_are_refused_without_echoing_them(bad: str):
    with pytest.raises(ValidationFailed) as info:
        normalise_phone(bad)
    if bad.strip():
        assert bad.strip() not in info.value.message_en and bad.strip() not in info.value.message_ja


def test_unknown_kind_or_empty_value_is_refused(indexer: BlindIndexer):
    with pytest.raises(ValidationFailed):
        indexer.digest("address", "東京都")
    with pytest.raises(ValidationFailed):
        indexer.digest("name", " \u3000 ")
    with pytest.raises(ValidationFailed):
        indexer.digest("kana", "・")
    with pytest.raises(ValidationFailed):
        indexer.digest("phone", "not a phone")


def test_short_key_or_bad_length_is_refused():
    with pytest.raises(ValidationFailed):
        BlindIndexer(b"short")
    with pytest.raises(ValidationFailed):
        BlindIndexer(b"k" * 32, length=0)
    with pytest.raises(ValidationFailed):
        BlindIndexer(b"k" * 32, length=33)
    assert len(BlindIndexer(b"k" * 32, length=2).digest("email", "a@example.jp")) == 2
