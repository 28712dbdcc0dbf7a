"""Detectors: positives, hard negatives (check digits, order numbers, non-birth dates) and offsets."""

from __future__ import annotations

import pytest

from mamori.deid.text import detect
from mamori.deid.text.checkdigits import (
    corporate_check_digit,
    corporate_number_valid,
    luhn_valid,
    my_number_check_digit,
    my_number_valid,
)


def found(text: str, kind: str | None = None) -> list[tuple[str, str]]:
    return [(f.type, text[f.start : f.end]) for f in detect(text, sensitive=False) if kind in (None, f.type)]


def test_email_is_found_inside_japanese_text():
    text = "メールはtaro.yamada+crm@example.co.jpまでお願いします"
    assert found(text, "email") == [("email", "taro.yamada+crm@example.co.jp")]


def test_text_without_at_sign_has_no_email():
    assert found("example.co.jp を参照", "email") == []


@pytest.mark.parametrize(
    "number",
    [
        "090-1234-5678",
        "080 1234 5678",
        "03-1234-5678",
        "045-123-4567",
        "(03)1234-5678",
        "050-3123-4567",
        "+81 90-1234-5678",
        "+81-3-1234-5678",
        "(212) 555-0147",
        "+1 415-555-0199",
    ],
)
def test_phone_forms_are_found(number: str):
    text = f"連絡先は{number}まで。"
    assert found(text, "phone") == [("phone", number)]


@pytest.mark.parametrize("number", ["0120-123-456", "0800-123-4567", "0570-064-123"])
def test_free_dial_and_navi_dial_are_recognised_but_kept(number: str):
    # issue 23: free-dial and navi-dial numbers are a company's, never a person's (detect/keep.py)
    from mamori.deid.text.detect.structured import _find_phones  # noqa: PLC0415

    text = f"連絡先は{number}まで。"
    assert [text[f.start : f.end] for f in _find_phones(text)] == [number]
    assert found(text, "phone") == []


@pytest.mark.parametrize(
    "text",
    [
        "注文番号 0312345678 を確認",  # an order number shaped like a phone number
        "090-1234-567 は桁が足りない",  # too short
        "0120-12-3456-7890",  # too long
        "バージョン 1.2.3",
    ],
)
def test_phone_hard_negatives(text: str):
    assert found(text, "phone") == []


def test_full_width_phone_offsets_are_on_the_original_text():
    text = "電話：０９０－１２３４－５６７８です"
    (f,) = [f for f in detect(text) if f.type == "phone"]
    assert text[f.start : f.end] == "０９０－１２３４－５６７８"


def test_postal_code_with_mark_and_bare():
    assert found("〒150-0001 東京都", "postal_code") == [("postal_code", "150-0001")]
    assert found("郵便番号 1500001", "postal_code") == [("postal_code", "1500001")]
    assert found("住所 150-0001 渋谷", "postal_code") == [("postal_code", "150-0001")]


def test_postal_code_negatives():
    assert found("型番 AB-150-0001", "postal_code") == []
    assert found("1500001", "postal_code") == []  # bare 7 digits without 〒 or a label


def test_my_number_check_digit_formula():
    assert my_number_valid("123456789018")
    assert not my_number_valid("123456789011")
    assert my_number_check_digit("12345678901") == 8
    assert not my_number_valid("12345678901")  # 11 digits
    assert not my_number_valid("12345678901a")


@pytest.mark.parametrize(
    "value", ["123456789018", "1234 5678 9018", "1234-5678-9018", "１２３４５６７８９０１８"]
)
def test_my_number_found_with_valid_check_digit(value: str):
    assert found(f"個人番号 {value} です", "my_number") == [("my_number", value)]


def test_twelve_digits_failing_the_check_digit_are_not_my_number():
    assert found("会員番号 123456789011 です", "my_number") == []


def test_twelve_digits_in_an_odd_grouping_are_not_my_number():
    assert found("請求書番号 12345678-9018", "my_number") == []


def test_corporate_number_check_digit():
    assert corporate_number_valid("7000012050002")
    assert not corporate_number_valid("1000012050002")
    assert corporate_check_digit("000012050002") == 7
    assert found("法人番号 7000012050002", "corporate_number") == [("corporate_number", "7000012050002")]
    assert found("法人番号 1000012050002", "corporate_number") == []


def test_credit_card_luhn():
    assert luhn_valid("4111111111111111")
    assert not luhn_valid("4111111111111112")
    assert found("カード 4111-1111-1111-1111", "credit_card") == [("credit_card", "4111-1111-1111-1111")]
    assert found("card 3714 496353 98431", "credit_card") == [("credit_card", "3714 496353 98431")]
    assert found("カード 4111-1111-1111-1112", "credit_card") == []


def test_bank_account_needs_account_context():
    text = "振込先：みずほ銀行 渋谷支店 普通 1234567"
    assert found(text, "bank_account") == [("bank_account", "1234567")]
    assert found("在庫 1234567 個", "bank_account") == []
    assert found("account number 123456789", "bank_account") == [("bank_account", "123456789")]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("生年月日：1985年3月12日", "1985年3月12日"),
        ("生年月日 昭和55年3月12日", "昭和55年3月12日"),
        ("平成元年1月8日生まれ", "平成元年1月8日"),
        ("令和元年5月1日生まれの長女", "令和元年5月1日"),
        ("生年月日: S55.3.12", "S55.3.12"),
        ("DOB: 03/15/1985", "03/15/1985"),
        ("born on March 3, 1985", "March 3, 1985"),
        ("Date of birth: 15 March 1985", "15 March 1985"),
    ],
)
def test_birth_dates_including_wareki(text: str, value: str):
    assert found(text, "date_of_birth") == [("date_of_birth", value)]


@pytest.mark.parametrize(
    "text",
    [
        "納品日 2024年5月12日",
        "予約日：令和6年4月1日",
        "生年月日：平成元年1月7日",  # 平成 starts on 1989-01-08: not a real date
        "生年月日：1985年2月30日",
        "delivery on March 3, 2025",
    ],
)
def test_dates_that_are_not_birth_dates(text: str):
    assert found(text, "date_of_birth") == []


def test_birth_date_answered_on_the_next_line():
    text = "生年月日をお願いします。\nお客様：1977年9月10日です。"
    assert found(text, "date_of_birth") == [("date_of_birth", "1977年9月10日")]


def test_japanese_addresses():
    assert found("住所：東京都渋谷区神宮前1丁目2番3号 メゾン神宮前101", "address") == [
        ("address", "東京都渋谷区神宮前1丁目2番3号 メゾン神宮前101")
    ]
    assert found("大阪府大阪市北区梅田3-1-1に移転", "address") == [("address", "大阪府大阪市北区梅田3-1-1")]
    assert found("横浜市港北区日吉4-5-6", "address") == [("address", "横浜市港北区日吉4-5-6")]


def test_english_address():
    text = "Lives at 123 Main Street, Springfield, IL 62704."
    assert found(text, "address") == [("address", "123 Main Street, Springfield, IL 62704")]


def test_address_negative_without_block_number():
    assert found("東京都に出張しました", "address") == []


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("担当の田中太郎様にご連絡", "田中太郎"),
        ("山田 花子さんから電話", "山田 花子"),
        ("佐藤様へ", "佐藤"),
        ("お名前：鈴木一郎", "鈴木一郎"),
        ("ヤマダ タロウ", "ヤマダ タロウ"),
        ("ご質問をくださった桑原様", "桑原"),  # surname not in the dictionary: honorific context
        ("Dear Nancy Jackson,", "Nancy Jackson"),
        ("Thanks to Ms. Pennington", "Pennington"),
    ],
)
def test_person_names(text: str, name: str):
    assert ("person", name) in found(text, "person")


@pytest.mark.parametrize(
    "text",
    ["田中商事株式会社と契約", "ご担当者様", "お客様各位", "The Main Street project", "会員番号は 1234"],
)
def test_person_hard_negatives(text: str):
    assert found(text, "person") == []


def test_ip_addresses():
    assert found("接続元 192.168.10.20 から", "ip_address") == [("ip_address", "192.168.10.20")]
    assert found("IP: 2001:db8:0:0:1:0:0:1", "ip_address") == [("ip_address", "2001:db8:0:0:1:0:0:1")]
    assert found("version 1.2.3.400", "ip_address") == []
    assert found("時刻 12:30:45", "ip_address") == []


def test_findings_do_not_overlap_and_are_sorted():
    text = "田中太郎様 090-1234-5678 taro@example.jp 〒150-0001 東京都渋谷区神宮前1-2-3"
    fs = detect(text, sensitive=False)
    assert [f.type for f in fs] == ["person", "phone", "email", "postal_code", "address"]
    assert all(a.end <= b.start for a, b in zip(fs, fs[1:], strict=False))


def test_empty_and_non_pii_text():
    assert detect("") == []
    assert detect("本日は晴天なり。会議は午後3時から。") == []


def test_types_filter():
    text = "田中太郎様 090-1234-5678"
    assert [f.type for f in detect(text, types=frozenset({"phone"}))] == ["phone"]


def test_normalisation_keeps_length_and_half_width_katakana():
    from mamori.deid.text.normalize import normalize

    for text in ["ﾔﾏﾀﾞ ﾀﾛｰ", "０３－１２３４－５６７８", "㈱テスト　〒１５０", "abc"]:
        assert len(normalize(text)) == len(text)
    assert normalize("ｽｰﾊﾟｰ") == "スーハ\u309aー"  # the prolonged sound mark stays a kana, not a dash
    assert normalize("０３－１２３４") == "03-1234"


def test_phone_with_katakana_long_mark_as_separator():
    assert found("電話 090ー1234ー5678", "phone") == [("phone", "090ー1234ー5678")]
