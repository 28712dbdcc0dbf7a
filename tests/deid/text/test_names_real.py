"""Person names as people write them (issue 23 item 1): names outside the closed lists, found by the
SudachiDict name dictionary, context, kana readings, romaji, English greetings, and coreference.

The names here are chosen to be outside Faker's ja_JP/en_US lists, so they exercise the dictionary and
context paths rather than the lists.
"""

from __future__ import annotations

import pytest

from mamori.deid.text import names
from mamori.deid.text.detect import detect
from mamori.deid.text.detect.romaji import is_romaji_name


def persons(text: str) -> list[str]:
    return [text[f.start : f.end] for f in detect(text, sensitive=False) if f.type == "person"]


def test_test_names_are_outside_the_lists() -> None:
    sur, giv = names.ja_surnames(), names.ja_given_names()
    for s in ("桐生", "霧島", "藤堂", "小早川", "朝比奈", "鳳"):
        assert s not in sur
    for g in ("朝日", "紬", "琴音", "凪"):
        assert g not in giv
    en = names.en_first_names()
    for g in ("Aurelia", "Caspian", "Linnea", "Kiryu", "Asahi"):
        assert g not in en


@pytest.mark.parametrize(
    ("text", "name"),
    [
        # a full name with a space and no honorific
        ("桐生 朝日から電話がありました。", "桐生 朝日"),
        ("打合せ参加者：小早川 紬、ほか2名", "小早川 紬"),
        # a full name without a space: dictionary surname + dictionary given name
        ("昨日、朝比奈琴音が来店した。", "朝比奈琴音"),
        # honorifics
        ("藤堂くんに渡してください", "藤堂"),
        ("霧島先生の講義", "霧島"),
        ("鳳様にお届けします", "鳳"),
        # staff after 担当 / 営業の, and a sign-off line
        ("本件の担当は霧島が務めます。", "霧島"),
        ("担当：藤堂", "藤堂"),
        ("営業の霧島です。", "霧島"),
        ("お世話になっております。株式会社ミライ・テックの藤堂です。", "藤堂"),
        ("ご確認ください。\n霧島より\n", "霧島"),
        # self-introductions
        ("はじめまして。朝比奈と申します。", "朝比奈"),
        ("私、藤堂と申します。", "藤堂"),
        ("桐生です。先日の件でご連絡しました。", "桐生"),
        ("講師の鳳と言います。", "鳳"),
        ("霧島 凪と申します", "霧島 凪"),
        # 様方 (c/o)
        ("送付先：小早川様方 田村", "小早川"),
        # kana full names
        ("キリュウ アサヒ様よりお電話", "キリュウ アサヒ"),
        ("フリガナ：キリシマ・ナギ", "キリシマ・ナギ"),
        ("ふりがな：きりゅう あさひ", "きりゅう あさひ"),
        ("株式会社ミライ 営業部\nトウドウ ナギサ\nTEL 03-0000-0000", "トウドウ ナギサ"),
        ("とうどう なぎさんが来社", "とうどう なぎ"),
        # unknown surname before an honorific (the existing fallback)
        ("鳳凰堂さんから連絡", "鳳凰堂"),
    ],
)
def test_japanese_names_beyond_the_lists(text: str, name: str) -> None:
    assert name in persons(text)


def test_reading_in_brackets_is_its_own_span() -> None:
    found = persons("桐生 朝日（キリュウ アサヒ）様のご依頼")
    assert found == ["桐生 朝日", "キリュウ アサヒ"]
    found = persons("担当：霧島(きりしま)")
    assert found == ["霧島", "きりしま"]


@pytest.mark.parametrize(
    "text",
    [
        "株式会社桐生製作所に発注した。",
        "霧島銀行の口座から振り込みます。",
        "桐生市の工場を見学。",
        "新宿駅前で待ち合わせ。",
        "朝日新聞に掲載されました。",
        "東京です。",
        "小早川商事と契約",
        "中さんかく形の部品",
        "今日の予定です。東京の本社です。",
        "大島町氏家新田4丁目",
        "アサヒ・テック様からの請求書",
        "ご担当者様各位",
        "営業の部署に回します。",
        "以上、よろしくお願いいたします。",
    ],
)
def test_japanese_look_alikes_are_not_names(text: str) -> None:
    assert persons(text) == []


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Please forward this to KIRYU Asahi.", "KIRYU Asahi"),
        ("Our contact is Asahi Kiryu in Osaka.", "Asahi Kiryu"),
        ("Thank you, Ms. Kiryu, for the quick reply.", "Kiryu"),
        ("Spoke with Mr. TOUDOU today.", "TOUDOU"),
        ("Kirishima-san will join the call.", "Kirishima"),
        ("Name: Kohyama Nagisa", "Kohyama Nagisa"),
        ("The report from Saitoh Ryouhei arrived.", "Saitoh Ryouhei"),
    ],
)
def test_romaji_names(text: str, name: str) -> None:
    assert name in persons(text)


@pytest.mark.parametrize(
    "text",
    [
        "Our office is in Minato-ku, Tokyo, near Kobe and Osaka.",
        "Name Home Date Sale Mode",
        "Take Care",
        "Visit Setagaya Ward or Shibuya today.",
        "KOBE OSAKA NAGOYA",
        "Parts from Honda Giken and Kubota Kogyo.",
    ],
)
def test_romaji_look_alikes(text: str) -> None:
    assert persons(text) == []


def test_romaji_grammar() -> None:
    for w in ("Kiryu", "KIRYU", "Saitoh", "Homma", "Ohno", "Ryouhei", "Tsubasa", "Shunsuke", "Ōno"):
        assert is_romaji_name(w), w
    for w in ("Tokyo", "Name", "Home", "Mode", "Aurelia", "Street", "Kobe"):
        assert not is_romaji_name(w), w


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Hi Aurelia,\nThe files are attached.", "Aurelia"),
        ("Dear Caspian\nThank you for your order.", "Caspian"),
        ("See you on Monday.\nThanks, Linnea", "Linnea"),
        ("Let me know.\n\nBest regards,\nOrsolya Brandt\n", "Orsolya Brandt"),
        ("See you.\nTake care,\nOrla\n", "Orla"),
    ],
)
def test_english_names_in_greetings_and_sign_offs(text: str, name: str) -> None:
    assert name in persons(text)


@pytest.mark.parametrize(
    "text",
    ["Dear Customer,\nThanks.", "Hi Team,\nUpdate below.", "Hello World!", "Best regards,\nSupport Team\n"],
)
def test_greeting_look_alikes(text: str) -> None:
    assert persons(text) == []


def test_coreference_of_a_surname_seen_in_a_full_name() -> None:
    text = "桐生 朝日さんと面談。その後、桐生から再度連絡。桐生市の工場と桐生製作所には寄らず。"
    found = persons(text)
    assert found == ["桐生 朝日", "桐生"]


def test_coreference_of_a_romaji_given_name() -> None:
    text = "Meeting with KIRYU Asahi on Monday. Asahi asked for the slides; Asahikawa was mentioned."
    assert persons(text) == ["KIRYU Asahi", "Asahi"]


def test_coreference_of_an_ordinary_word_needs_an_honorific() -> None:
    text = "霧島 朝日様からの依頼。朝日が昇る頃に出発し、朝日様に報告。"
    found = persons(text)
    assert found == ["霧島 朝日", "朝日"]
    assert text.rindex("朝日様") == [f.start for f in detect(text) if f.type == "person"][-1]
