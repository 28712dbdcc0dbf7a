"""Issue 19: Japanese values as files write them — one folding of width and dashes (kernel.jptext.fold) and the
parsers on it: dates (西暦, 和暦 in kanji or letters, 元年, Excel serials incl. the 1900 bug), postal codes, phones
(TEL: prefixes, 内線 extensions, Excel's dropped 0) and Japan Post's postal areas."""

from __future__ import annotations

from datetime import date

import pytest

from mamori.kernel import jptext
from mamori.kernel.crypto import normalise_kana, normalise_name, normalise_phone
from mamori.kernel.jptext import (
    PostalArea,
    clean_postal,
    complete_address,
    fold,
    parse_date,
    postal_area,
    postal_exists,
    prefecture_of,
    split_phone,
)
from mamori.kernel.labels import fmt_phone
from mamori.kernel.validation import Invalid
from mamori.kernel.wareki import parse_wareki, to_wareki

# -- fold ---------------------------------------------------------------------------------------------------------

DASHES = [
    "\u2010",
    "\u2011",
    "\u2012",
    "\u2013",
    "\u2014",
    "\u2015",
    "\u2212",
    "ー",
    "ｰ",
    "─",
    "━",
    "﹣",
    "－",
    "-",
]


@pytest.mark.parametrize("dash", DASHES)
def test_every_dash_form_between_digits_folds_to_a_hyphen(dash):
    assert fold(f"03{dash}1234{dash}5678") == "03-1234-5678"


def test_fold_widths_and_strips_ideographic_spaces():
    assert fold("\u3000１２３ＡＢＣ\u3000 ") == "123ABC"
    assert fold("ﾔﾏﾀﾞ ﾀﾛｳ") == "ヤマダ タロウ"  # half-width kana → full-width
    assert fold("  plain ascii  ") == "plain ascii"


def test_the_long_vowel_mark_stays_in_words_and_folds_between_digits():
    assert fold("コーポ２ー３") == "コーポ2-3"
    assert fold("ｺｰﾎﾟ") == "コーポ"
    assert fold("東京都千代田区千代田１ー１") == "東京都千代田区千代田1-1"
    assert fold("メゾン―３") == "メゾン-3"  # the other dash forms fold everywhere


def test_fold_is_idempotent_on_a_mixed_sample():
    for text in [
        "１００ー０００１",
        "ＴＥＬ：０３−１２３４",
        "〒100－0001",
        "昭和６０年１月５日",
        "ｶﾌﾞｼｷｶﾞｲｼｬ",
    ]:
        assert fold(fold(text)) == fold(text)


# -- dates --------------------------------------------------------------------------------------------------------

JAN5 = date(1985, 1, 5)


@pytest.mark.parametrize(
    "text",
    [
        "1985/1/5",
        "1985/01/05",
        "1985-01-05",
        "1985-1-5",
        "1985.1.5",
        "1985年1月5日",
        "1985年01月05日",
        "1985年 1月 5日",
        "１９８５/１/５",
        "１９８５年１月５日",
        "1985－01－05",  # full-width hyphen-minus
        "1985ー01ー05",  # the long-vowel mark typed as a dash
        "19850105",
        " 1985/1/5 ",
        "1985-01-05 00:00:00",  # what an xlsx reader gives for a date cell
        "1985-01-05T00:00:00",
        "1985-01-05 13:45:10.5",
        "昭和60年1月5日",
        "昭和６０年１月５日",
        "昭和 60年 1月 5日",
        "㍼60年1月5日",  # the one-character era sign
        "昭60.1.5",
        "S60.1.5",
        "s60.1.5",
        "S60/1/5",
        "S60-1-5",
        "S60年1月5日",
        "Ｓ６０．１．５",
        "31052",  # Excel serial
        "31052.0",
    ],
)
def test_every_written_form_of_5_january_1985(text):
    assert parse_date(text) == JAN5


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("H1-1-8", date(1989, 1, 8)),
        ("h1.1.8", date(1989, 1, 8)),
        ("平成元年1月8日", date(1989, 1, 8)),
        ("H元.1.8", date(1989, 1, 8)),
        ("R1.5.1", date(2019, 5, 1)),
        ("r元/5/1", date(2019, 5, 1)),
        ("令和元年5月1日", date(2019, 5, 1)),
        ("㋿元年5月1日", date(2019, 5, 1)),
        ("T15.12.24", date(1926, 12, 24)),
        ("大正元年7月30日", date(1912, 7, 30)),
        ("M45.7.29", date(1912, 7, 29)),
        ("明治元年1月25日", date(1868, 1, 25)),
        ("S64.1.7", date(1989, 1, 7)),
        ("昭和元年12月25日", date(1926, 12, 25)),
    ],
)
def test_letter_eras_and_the_first_year(text, day):
    assert parse_date(text) == day
    assert parse_wareki(text) == day  # the same reading through kernel.wareki


@pytest.mark.parametrize(
    "text",
    [
        "平成31年5月1日",  # 平成 ended on 30 April 2019: that day is 令和元年5月1日
        "H31.5.1",
        "昭和64年1月8日",  # 昭和 ended on 7 January 1989
        "平成元年1月7日",  # before 平成 began
        "令和元年4月30日",
        "昭和元年12月24日",
        "明治元年1月24日",
        "S0.1.1",
        "S60.2.30",
        "昭和60年2月30日",
        "X60.1.5",
        "S60.1/5",  # two different separators
        "S60",
    ],
)
def test_wareki_outside_its_era_or_on_no_real_day_is_refused(text):
    with pytest.raises(Invalid):
        parse_date(text)
    assert parse_wareki(text) is None


@pytest.mark.parametrize(
    "text",
    [
        "1985-02-30",
        "1985/2/29",  # not a leap year
        "1985-13-01",
        "1985-13-45",
        "1985年2月30日",
        "1985/1-5",  # mixed separators
        "1867-12-31",  # before 明治
        "2201-01-01",
        "18670101",
        "1985-01-05 25:00",  # not a time
        "",
        "   ",
        "not a date",
        "100-0001",  # a postal code is not a date
        "1000001",  # nor is it a serial in range? it is over 2200-12-31: refused
        "03-1234-5678",  # a phone number is not a date
        "090-1234-5678",
        "0",  # serial 0 (Excel's 1900-01-00)
        "60",  # Excel's fictitious 1900-02-29
        "60.0",
        "2958466",  # past Excel's last day
        "2958465",  # 9999-12-31: past the year bound
        "31052.5",  # a time of day, not a date
        "31052.",
        "-31052",
        "3.1e4",
        "３１０５２．５",
    ],
)
def test_impossible_or_unreadable_dates_are_refused_without_the_value(text):
    with pytest.raises(Invalid) as info:
        parse_date(text)
    # one fixed message (its example is the only date in it): never the value
    assert info.value.message_ja == "日付の形式が正しくありません（例: 1985-01-05 または 昭和60年1月5日）"
    assert info.value.message_en == "is not a valid date (e.g. 1985-01-05 or 昭和60年1月5日)"


def test_excel_serials_follow_the_1900_date_system_with_its_leap_year_bug():
    assert parse_date("1") == date(1900, 1, 1)
    assert parse_date("59") == date(1900, 2, 28)
    assert parse_date("61") == date(1900, 3, 1)  # 60 is the 1900-02-29 that never was
    assert parse_date("25569") == date(1970, 1, 1)
    assert parse_date("43586") == date(2019, 5, 1)
    assert parse_date("45658.0") == date(2025, 1, 1)
    assert parse_date("109574") == date(2199, 12, 31)
    # a bare integer is a serial, whatever it looks like: a year alone is day 1985 of 1900 (callers that read a
    # column of years must not pass them here)
    assert parse_date("1985") == date(1905, 6, 7)


def test_wareki_round_trips_with_to_wareki():
    for day in [date(1868, 1, 25), date(1912, 7, 30), date(1926, 12, 25), date(1989, 1, 8), date(2019, 5, 1)]:
        text = to_wareki(day)
        assert "元年" in text
        assert parse_date(text) == day


def test_the_era_table_is_kernel_wareki():
    """One era table: a date jptext reads for an era starts on the day kernel.wareki says."""
    from mamori.kernel.wareki import ERA_LETTERS, ERAS

    for name, start in ERAS:
        letter = next(k for k, v in ERA_LETTERS.items() if v == name)
        assert parse_date(f"{letter}1.{start.month}.{start.day}") == start
        assert parse_date(f"{name}元年{start.month}月{start.day}日") == start


# -- postal codes -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "100-0001",
        "1000001",
        "〒1000001",
        "〒100-0001",
        "〒 100-0001",
        "１００ー０００１",
        "100ー0001",
        "100−0001",
        "100－0001",
        "100‐0001",
        "100–0001",
        "100—0001",
        "100―0001",
        "100ｰ0001",
        "100 0001",
        "100\u30000001",
        "１０００００１",
        "\u3000100-0001 ",
    ],
)
def test_every_width_and_dash_form_of_a_postal_code(text):
    assert clean_postal(text) == "100-0001"


@pytest.mark.parametrize(
    "text", ["", "100-001", "1000-001", "100-00010", "100--0001", "10000012", "abc-defg", "100-000a", "〒"]
)
def test_bad_postal_codes_are_refused_without_the_value(text):
    with pytest.raises(Invalid) as info:
        clean_postal(text)
    assert info.value.message_en == "expected a postal code like 123-4567"


def test_postal_area_from_japan_post_data():
    assert postal_area("100-0001") == PostalArea("東京都", "千代田区", "千代田")
    assert postal_area("〒１００ー０００１") == PostalArea("東京都", "千代田区", "千代田")
    assert postal_area("530-0001").prefecture == "大阪府"  # type: ignore[union-attr]
    assert postal_area("060-0001").prefecture == "北海道"  # type: ignore[union-attr]
    assert postal_exists("150-0001") is True


def test_a_postal_code_that_does_not_exist_has_no_area():
    assert postal_area("999-9999") is None
    assert postal_area("000-0000") is None
    assert postal_area("not a code") is None
    assert postal_exists("999-9999") is False


def test_postal_area_is_cached():
    jptext._area.cache_clear()
    postal_area("100-0001")
    postal_area("1000001")
    info = jptext._area.cache_info()
    assert info.hits == 1 and info.misses == 1


# -- addresses ----------------------------------------------------------------------------------------------------


def test_complete_address_prepends_the_prefecture_of_the_postal_code():
    assert complete_address("千代田区千代田1-1", "100-0001") == "東京都千代田区千代田1-1"
    assert complete_address("千代田区千代田１ー１", "〒1000001") == "東京都千代田区千代田1-1"
    assert complete_address("北区梅田1丁目", "530-0001") == "大阪府北区梅田1丁目"


def test_complete_address_leaves_an_address_with_a_prefecture_as_it_is():
    # even when the postal code disagrees: the person's address is not rewritten
    assert complete_address("大阪府大阪市北区梅田1丁目", "100-0001") == "大阪府大阪市北区梅田1丁目"
    assert complete_address("東京都渋谷区", None) == "東京都渋谷区"


@pytest.mark.parametrize("postal", [None, "", "999-9999", "bad"])
def test_complete_address_refuses_without_a_prefecture_or_a_known_postal_code(postal):
    with pytest.raises(Invalid) as info:
        complete_address("千代田区千代田1-1", postal)
    assert info.value.message_ja == "都道府県から始めてください"
    assert "千代田" not in info.value.message_ja + info.value.message_en


def test_prefecture_of_folds_first():
    assert prefecture_of(" 東京都千代田区") == "東京都"
    assert prefecture_of("\u3000北海道札幌市") == "北海道"
    assert prefecture_of("和歌山県和歌山市") == "和歌山県"
    assert prefecture_of("京都府") == "京都府"
    assert prefecture_of("千代田区") is None


# -- phones -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "number", "extension"),
    [
        ("TEL:03-1234-5678", "03-1234-5678", None),
        ("TEL：03-1234-5678", "03-1234-5678", None),
        ("TEL 03-1234-5678", "03-1234-5678", None),
        ("Tel. 03-1234-5678", "03-1234-5678", None),
        ("tel:03-1234-5678", "03-1234-5678", None),
        ("ＴＥＬ：０３－１２３４－５６７８", "03-1234-5678", None),
        ("電話:03-1234-5678", "03-1234-5678", None),
        ("電話番号：03-1234-5678", "03-1234-5678", None),
        ("☎03-1234-5678", "03-1234-5678", None),
        ("☎ 03-1234-5678", "03-1234-5678", None),
        ("℡03-1234-5678", "03-1234-5678", None),
        ("03-1234-5678（内線123）", "03-1234-5678", "123"),
        ("03-1234-5678(内線123)", "03-1234-5678", "123"),
        ("03-1234-5678 内線 123", "03-1234-5678", "123"),
        ("03-1234-5678内線１２３", "03-1234-5678", "123"),
        ("03-1234-5678 (内)123", "03-1234-5678", "123"),
        ("0312345678 ext.12", "0312345678", "12"),
        ("0312345678 EXT 12", "0312345678", "12"),
        ("03-1234-5678 x123", "03-1234-5678", "123"),
        ("03-1234-5678#123", "03-1234-5678", "123"),
        ("+81312345678;ext=12", "+81312345678", "12"),  # the stored form
        ("TEL:03ー1234ー5678 内線12", "03-1234-5678", "12"),
        ("03−1234−5678", "03-1234-5678", None),
        ("(03)ー1234ー5678", "(03)-1234-5678", None),  # any ー in a phone is a dash
    ],
)
def test_split_phone_takes_prefixes_and_extensions_apart(text, number, extension):
    assert split_phone(text) == (number, extension)


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("312345678", "0312345678"),  # 03-1234-5678 read by Excel as a number
        ("9012345678", "09012345678"),  # 090-1234-5678
        ("120123456", "0120123456"),
        ("３１２３４５６７８", "0312345678"),
        ("0312345678", "0312345678"),  # it had its 0
        ("12345678", "12345678"),  # 8 digits: not a number Excel cut, left to the validator
        ("12345678901", "12345678901"),
    ],
)
def test_a_number_excel_stripped_of_its_leading_zero_gets_it_back(text, number):
    assert split_phone(text) == (number, None)


def test_the_blind_index_digests_the_number_without_its_extension():
    plain = normalise_phone("03-1234-5678")
    assert plain == "+81312345678"
    for text in [
        "+81312345678;ext=12",
        "TEL:03-1234-5678",
        "03ー1234ー5678（内線123）",
        "312345678",
        "０３−１２３４−５６７８",
    ]:
        assert normalise_phone(text) == plain, text


def test_name_and_kana_fold_through_jptext():
    assert normalise_name("山田\u3000太郎") == normalise_name("山田 太郎")
    assert normalise_name("ＹＡＭＡＤＡ") == "yamada"
    assert normalise_kana("ｺｰﾎﾟ ﾔﾏﾀﾞ") == "コーポヤマダ"  # the long-vowel mark is kept in words


def test_fmt_phone_shows_the_extension_in_the_language():
    assert fmt_phone("+81312345678;ext=12") == "03-1234-5678 内線12"
    assert fmt_phone("+81312345678;ext=12", "ja") == "03-1234-5678 内線12"
    assert fmt_phone("+81312345678;ext=12", "en") == "03-1234-5678 ext. 12"
    assert fmt_phone("+819012345678") == "090-1234-5678"
    assert fmt_phone("+819012345678", "en") == "090-1234-5678"


def test_the_bulk_table_of_an_import_agrees_with_the_lookup_one_by_one(monkeypatch):
    """After many distinct codes, existence and prefecture come from one sorted table: the same answers."""
    import random
    import sqlite3

    db = jptext._postal_db()
    real = [c for (c,) in db.execute("SELECT code FROM postal_data ORDER BY random() LIMIT 300")]
    office = [c for (c,) in db.execute("SELECT code FROM office_data ORDER BY random() LIMIT 100")]
    rng = random.Random(19)
    made_up = [f"{rng.randint(0, 9999999):07d}" for _ in range(300)]
    codes = [f"{c[:3]}-{c[3:]}" for c in real + office + made_up] + ["999-9999", "000-0000", "bad", ""]
    one_by_one = {c: (postal_exists(c), getattr(postal_area(c), "prefecture", None)) for c in codes}
    monkeypatch.setattr(jptext, "_BULK_AFTER", 0)
    bulk = {c: (postal_exists(c), jptext._postal_prefecture(c)) for c in codes}
    assert bulk == one_by_one
    assert sum(e for e, _ in bulk.values()) >= 400  # the real and office codes exist
    assert complete_address("千代田区千代田1-1", "100-0001") == "東京都千代田区千代田1-1"
    assert isinstance(db, sqlite3.Connection)


def test_hostile_long_phone_text_is_not_searched_for_an_extension():
    import time

    start = time.monotonic()
    assert split_phone("0" + " " * 200_000 + "内線x") == ("0" + " " * 200_000 + "内線x", None)
    assert time.monotonic() - start < 5  # linear: the extension search is bounded to short texts
    assert split_phone("03-1234-5678" + " " * 80 + "内線1")[1] is None
