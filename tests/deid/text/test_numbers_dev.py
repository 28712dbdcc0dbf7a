"""Numbers and dates as people (and OCR) write them (issue 23, round 2): one test per rule, own sentences."""

from __future__ import annotations

import pytest

from mamori.deid.text import detect
from mamori.deid.text.normalize import digits_view, normalize, view_span


def _found(text: str, type_: str) -> list[str]:
    return [text[f.start : f.end] for f in detect(text, sensitive=False) if f.type == type_]


def test_digits_view_keeps_offsets() -> None:
    text = "携帯  O8O ー 2 7 1 4 ー 9935 です"
    view, positions = digits_view(normalize(text))
    assert "080-2714-9935" in view
    s = view.index("080")
    a, b = view_span(positions, s, s + len("080-2714-9935"))
    assert text[a:b] == "O8O ー 2 7 1 4 ー 9935"


def test_digits_view_leaves_words_and_ranges() -> None:
    assert digits_view("OSAKA Lily 2 cats")[0] == "OSAKA Lily 2 cats"
    assert digits_view("2026 - 4410 5521")[0] == "2026 - 4410 5521"


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("携帯 O9O-3318-l2O4", "O9O-3318-l2O4"),  # O/0 and l/1 read by an OCR
        ("ご自宅 O466 - 28 - 7l35", "O466 - 28 - 7l35"),  # spaces around dashes
        ("連絡先 0 9 0 － 4 4 1 7 － 6 6 2 3", "0 9 0 － 4 4 1 7 － 6 6 2 3"),  # one space between each digit
        ("電話 O3（3921）5 5 0 7", "O3（3921）5 5 0 7"),  # area code with the exchange in brackets
        ("Mobile: +43 660 417 2281", "+43 660 417 2281"),  # another country
    ],
)
def test_phone_forms(text: str, value: str) -> None:
    assert _found(text, "phone") == [value]


def test_international_possible_number_needs_a_label() -> None:
    assert _found("Tel: +44 7700 9OO 512", "phone") == ["+44 7700 9OO 512"]
    assert _found("ref +44 7700 900 512", "phone") == []


def test_postal_code_with_ocr_noise() -> None:
    assert _found("〒 l5O－OO21 東京都", "postal_code") == ["l5O－OO21"]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("ひまわり信用金庫の本町支店、普通の4410287です。", "4410287"),
        ("普通預金、5582013、名義はタカミネ", "5582013"),
        ("口座番号：　３ ０ ２ ８ ８ l ５", "３ ０ ２ ８ ８ l ５"),
        ("Savings: Kita branch, ordinary, 3318207", "3318207"),
        ("ゆうちょ 記号－番号 1O４２０－３３１８２０５１", "1O４２０－３３１８２０５１"),
    ],
)
def test_bank_account_forms(text: str, value: str) -> None:
    assert _found(text, "bank_account") == [value]


def test_labelled_card_and_my_number_without_check_digit() -> None:
    assert _found("カード番号 4111 2222 3333 4445", "credit_card") == ["4111 2222 3333 4445"]
    assert _found("個人番号　5O21 3390 1184", "my_number") == ["5O21 3390 1184"]
    assert _found("My Number: copy received — 7720 1135 9084", "my_number") == ["7720 1135 9084"]
    assert _found("注文番号 4111 2222 3333 4445", "credit_card") == []


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("生年月日　平成 O7 年 l1 月 O4 日", "平成 O7 年 l1 月 O4 日"),
        ("生年月日  l 9 7 4 年 O 5 月 2 2 日", "l 9 7 4 年 O 5 月 2 2 日"),
        ("母 92歳（大正十三年五月二十日生まれ）", "大正十三年五月二十日"),  # a digit: detect() gates on one
        ("契約者の生年月日 1981年（昭和56年）4月2日 一致", "1981年（昭和56年）4月2日"),
        ("お客様：2000年の2月29日です。", None),
        ("長男（2021年11月生まれ）", "2021年11月"),
        ("DOB / 生年月日 : O4 / 1l / 1990", "O4 / 1l / 1990"),
        ("her birthday is 9th of March 1987", "9th of March 1987"),
        ("Date of birth for the form: 2nd June 1979.", "2nd June 1979"),
        ("my birthday, it's June 14th right?", "June 14th"),
    ],
)
def test_birth_date_forms(text: str, value: str | None) -> None:
    if value is None:  # a year-の form answering a question on the line before
        text = "オペレーター：生年月日をお願いします。\n" + text
        value = "2000年の2月29日"
    assert _found(text, "date_of_birth") == [value]


def test_answer_after_speaker_label() -> None:
    text = "[09:12] Agent: Can you confirm your date of birth?\n[09:13] Customer: Mar 4, 1991\n"
    assert _found(text, "date_of_birth") == ["Mar 4, 1991"]
    form = "生年月日 / DOB：1990/01/02\n日時 / Date：2026年3月4日 10:00\n"
    assert _found(form, "date_of_birth") == ["1990/01/02"]


def test_list_of_birth_dates() -> None:
    text = "同姓同名だが生年月日が違う：1970年3月1日 ／ 1995年8月12日。"
    assert _found(text, "date_of_birth") == ["1970年3月1日", "1995年8月12日"]
