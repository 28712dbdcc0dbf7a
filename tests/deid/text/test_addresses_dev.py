"""Issue 23 round 2: addresses to the room, residences said in passing, and venues / company numbers kept
(sentences written for these tests, not taken from any corpus)."""

from __future__ import annotations

import pytest

from mamori.deid.text.detect import detect


def found(text: str, typ: str) -> list[str]:
    return [text[f.start : f.end] for f in detect(text, sensitive=False) if f.type == typ]


@pytest.mark.parametrize(
    ("text", "address"),
    [
        # a building name that goes on after ハイツ / コーポ, and the room after it
        (
            "住所：岡山県倉敷市玉島3-4-15 グランハイツ玉島 708 です",
            "岡山県倉敷市玉島3-4-15 グランハイツ玉島 708",
        ),
        (
            "送付先 新潟市中央区古町通7-9-2 古町コーポ東 3F 302号",
            "新潟市中央区古町通7-9-2 古町コーポ東 3F 302号",
        ),
        # any name with a room after it, a floor with a wing
        ("お届け先：長崎市桜町6-1 ルシエル桜町 D-4", "長崎市桜町6-1 ルシエル桜町 D-4"),
        ("旧住所：仙台市若林区荒町2-8 荒町ハイム 3F 西\n", "仙台市若林区荒町2-8 荒町ハイム 3F 西"),
        # 丁目 + 北/南, 5丁 + number, の-separated numbers, a bare lot number after a 町
        ("札幌市豊平区月寒東3丁目南2-7 ノルテ月寒 2階", "札幌市豊平区月寒東3丁目南2-7 ノルテ月寒 2階"),
        ("堺市中区深井沢町4丁281 メゾン深井 1101", "堺市中区深井沢町4丁281 メゾン深井 1101"),
        ("練馬区桜台2の9の14、桜台ハイツ 201。", "練馬区桜台2の9の14、桜台ハイツ 201"),
        (
            "京都市下京区綾小路通堺町西入ル綾材木町215になっています",
            "京都市下京区綾小路通堺町西入ル綾材木町215",
        ),
        # a household after the number
        ("水戸市見川5-12-3 柳生方", "水戸市見川5-12-3 柳生方"),
    ],
)
def test_address_to_the_room(text: str, address: str) -> None:
    assert found(text, "address") == [address]


def test_a_phone_after_the_address_is_not_its_room() -> None:
    text = "住所：盛岡市本町通1-2-3 019-623-4871"
    assert found(text, "address") == ["盛岡市本町通1-2-3"]


def test_the_address_does_not_start_at_the_name_before_it() -> None:
    text = "村雨様は横浜市磯子区森が丘2-3-4にお住まいです"
    assert found(text, "address") == ["横浜市磯子区森が丘2-3-4"]
    text = "今はさいたま市見沼区東大宮4-1-9です"
    assert found(text, "address") == ["さいたま市見沼区東大宮4-1-9"]


@pytest.mark.parametrize(
    ("text", "place"),
    [
        ("はい、よろしくお願いします。松江市から参加しています。", "松江市"),
        ("出身は鳥取の倉吉です。", "鳥取の倉吉"),
        ("いまは豊橋市牛川に住んでます。", "豊橋市牛川"),
        ("生まれも育ちも函館です。", "函館"),
        ("I live in Nagoya, and I work downtown.", "Nagoya"),
        ("Originally from Kagoshima, now in Meguro-ku.", "Kagoshima"),
        ("We live in Toyonaka, Osaka.", "Toyonaka, Osaka"),
    ],
)
def test_residence_said_in_passing(text: str, place: str) -> None:
    assert place in found(text, "address")


def test_no_residence_in_a_date_or_department() -> None:
    assert found("I'm from Sales; see you on Monday.", "address") == []
    assert found("I am from Monday to Friday in the office.", "address") == []


def test_a_venue_address_and_a_company_number_stay() -> None:
    text = "次回の会場は仙台市青葉区一番町2-5-1 一番町ホールです。"
    assert found(text, "address") == []
    text = "お問い合わせは店舗代表 022-261-4410 まで。担当携帯 090-4812-7730。"
    assert found(text, "phone") == ["090-4812-7730"]
    text = "Please call our branch at 092-761-2280 or me on 080-3391-5520."
    assert found(text, "phone") == ["080-3391-5520"]
    # a home address stays personal even with a company on the line
    text = "ご住所：京都市左京区岡崎西天王町3-1（株式会社宛ではなく自宅）"
    assert found(text, "address") == ["京都市左京区岡崎西天王町3-1"]


# --- round 3: addresses over line breaks and OCR noise, English order with the building first ---------------


@pytest.mark.parametrize(
    ("text", "address"),
    [
        # cut before the number, the rest on an indented line; spaced digits and 番 / 号 apart
        (
            "住所　青森県弘前市大字富田町\n　　　2丁目 1 7 番 3 号\n氏名　岩館 そら",
            "青森県弘前市大字富田町\n　　　2丁目 1 7 番 3 号",
        ),
        # the next line not indented, the building on a line of its own
        (
            "現住所\n石川県七尾市大手町\n小島 4 1 2－6\nメゾン大手 1 0 5\n電話 0767-11-2233",
            "石川県七尾市大手町\n小島 4 1 2－6\nメゾン大手 1 0 5",
        ),
        # O / l for 0 / 1, spaces between the parts, half-width kana with voiced marks
        ("連絡先　長野県 松本市 蟻ケ崎\n　　　　3－l2－2O　ｸﾞﾘｰﾝﾊｲﾂ蟻ケ崎 2O4\n", None),
        # an address that ends on its line is not joined to the next label
        ("住所：富山市西町5-9\n電話 076-400-1234", "富山市西町5-9"),
    ],
)
def test_address_over_lines_and_ocr_noise(text: str, address: str | None) -> None:
    if address is None:  # the whole first address through its room
        address = text[text.index("長野県") : text.rindex("4") + 1]
    assert found(text, "address") == [address]


def test_a_place_then_a_phone_label_on_the_next_line_is_no_address() -> None:
    assert found("〒105-0011 東京都港区芝公園\n電話 03-1234-5678", "address") == []


@pytest.mark.parametrize(
    "address",
    [
        "Unit 3C, Villa Hamadayama, 2-11-5 Hamadayama, Suginami-ku, Tokyo",  # room, building first, prefecture
        "c/o Oribe, 3-8-1-702 Shimouma, Setagaya-ku, Tokyo",  # c/o and a four-part number
        "Apt 12, Ginkgo House Kitahama, 4-2-6 Kitahama, Chuo-ku, Osaka",  # the building word inside the name
        "5-3-9 Kotobuki, Taito-ku",  # no prefecture after the ward
        "2-6-14 Daikanyama, Shibuya-ku, Tokyo, room 305",  # the room after the prefecture
        "1-4-2 Sakae, Naka-ku, Nagoya, Aichi, Hillside Court Sakae #1203",  # the building after it
    ],
)
def test_english_order_addresses(address: str) -> None:
    assert found(f"My new address is {address}, thanks.\n", "address") == [address]


def test_english_order_without_a_ward_or_prefecture_is_no_address() -> None:
    assert found("Order 2-4-6 Blue Widget arrives Friday.", "address") == []
