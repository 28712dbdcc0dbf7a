"""Issue 23 items 2 and 3: addresses as people write them, ゆうちょ / English bank accounts, birthdays without a
year, places of residence said about a person, and what stays (a company's own numbers, the keep list)."""

from __future__ import annotations

import pytest

from mamori.deid.service.text_keep import keep_from_settings
from mamori.deid.text.detect import detect
from mamori.deid.text.detect.keep import KeepList, using_keep
from mamori.kernel.settings import Settings


def found(text: str, typ: str) -> list[str]:
    return [text[f.start : f.end] for f in detect(text, sensitive=False) if f.type == typ]


# --- addresses -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "address"),
    [
        # English order: room, chome-ban-go, ward, Tokyo (the postal code is a postal_code of its own)
        (
            "送付先：Room 305, 2-14-7 Kamiuma, Setagaya-ku, Tokyo 154-0011",
            "Room 305, 2-14-7 Kamiuma, Setagaya-ku, Tokyo",
        ),
        ("He moved to 2-14-7 Kamiuma Setagaya Tokyo last year.", "2-14-7 Kamiuma Setagaya Tokyo"),
        ("#502, 3-5-1 Umeda, Kita-ku, Osaka", "#502, 3-5-1 Umeda, Kita-ku, Osaka"),
        ("Sakura Heights 201, 4-1-9 Hon-cho, Aoba-ku, Yokohama, Kanagawa", None),
        # building and room names after a Japanese address
        (
            "住所 東京都世田谷区上馬2-14-7 グリーンハイツ305号室",
            "東京都世田谷区上馬2-14-7 グリーンハイツ305号室",
        ),
        ("東京都世田谷区上馬2-14-7 #502 までお送りください", "東京都世田谷区上馬2-14-7 #502"),
        (
            "神奈川県川崎市中原区小杉町3-1-2 コーポ小杉 201号",
            "神奈川県川崎市中原区小杉町3-1-2 コーポ小杉 201号",
        ),
        (
            "大阪府大阪市北区梅田1-2-3 梅田レジデンス Room 1203",
            "大阪府大阪市北区梅田1-2-3 梅田レジデンス Room 1203",
        ),
        ("東京都杉並区高円寺南4-5-6 ひまわり荘", "東京都杉並区高円寺南4-5-6 ひまわり荘"),
        ("東京都新宿区西新宿2-8-1 Apt 3B", "東京都新宿区西新宿2-8-1 Apt 3B"),
        # 北海道: 条・丁目
        ("北海道札幌市北区北二十条東5丁目3-11", "北海道札幌市北区北二十条東5丁目3-11"),
        ("札幌市中央区南3条西4丁目にあります", "札幌市中央区南3条西4丁目"),
        # 京都の通り名
        ("京都府京都市中京区烏丸通御池上ル二条殿町552", "京都府京都市中京区烏丸通御池上ル二条殿町552"),
        # 様方 stays inside the address
        ("東京都世田谷区上馬2-14-7 山田様方", "東京都世田谷区上馬2-14-7 山田様方"),
    ],
)
def test_addresses_as_people_write_them(text: str, address: str | None) -> None:
    got = found(text, "address")
    if address is None:  # a city between the ward and the prefecture is still one address
        assert len(got) == 1 and got[0].startswith("Sakura Heights 201") and got[0].endswith("Kanagawa")
    else:
        assert got == [address]


@pytest.mark.parametrize(
    ("text", "place"),
    [
        ("田中さんは世田谷区在住です。", "世田谷区"),
        ("はじめまして、佐藤と申します。函館に住んでいます。", "函館"),
        ("山田様は横浜市青葉区にお住まいです。", "横浜市青葉区"),
        ("鈴木さんの出身は函館です。", "函館"),
        ("司会の高橋さん、北海道から参加です。", "北海道"),
        ("Ms. Tanaka lives in Setagaya-ku, Tokyo.", "Setagaya-ku, Tokyo"),
    ],
)
def test_residence_of_a_person(text: str, place: str) -> None:
    assert found(text, "address") == [place]


@pytest.mark.parametrize(
    "text",
    [
        "来週は大阪に出張します。",  # a place alone
        "大阪市在住の方を対象としたキャンペーンです。",  # no person before it
        "会場：東京国際フォーラム（東京都千代田区丸の内3-5-1）",  # a venue: the address is found, not a residence
        "I flew from Osaka yesterday.",
    ],
)
def test_places_that_are_not_a_residence(text: str) -> None:
    # a venue's address (会場：…) is kept like a company's since round 2 of issue 23; no residence either
    assert found(text, "address") == []


# --- numbers ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("ゆうちょ銀行 記号12345 番号12345678", "12345 番号12345678"),
        ("記号：１２３４５　番号：１２３４５６７８", "１２３４５\u3000番号：１２３４５６７８"),
        ("ゆうちょ 12345-12345678 へお振込みください", "12345-12345678"),
        ("Account No. 1234567", "1234567"),
        ("A/C 1234567", "1234567"),
        ("account number: 98765432", "98765432"),
        ("Savings 1234567", "1234567"),
        ("Bank account: 7654321", "7654321"),
    ],
)
def test_bank_accounts(text: str, value: str) -> None:
    assert found(text, "bank_account") == [value]


@pytest.mark.parametrize(
    "text",
    ["注文番号 12345-12345678", "account manager 1234567", "savings of 1234567 yen", "Account: 1234567"],
)
def test_numbers_that_are_not_accounts(text: str) -> None:
    assert found(text, "bank_account") == []


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("誕生日は１２月３日です。", "１２月３日"),
        ("12/3生まれです", "12/3"),
        ("Birthday: Dec 3", "Dec 3"),
        ("お誕生日：3月14日", "3月14日"),
        ("DOB: 03/12/1988", "03/12/1988"),
        ("DOB: 23/12/1988", "23/12/1988"),
        ("She was born on 3 December 1988.", "3 December 1988"),
    ],
)
def test_birthdays(text: str, value: str) -> None:
    assert found(text, "date_of_birth") == [value]


@pytest.mark.parametrize(
    "text",
    [
        "納品日は12月3日です。",
        "12/3に納品予定",
        "Delivery: Dec 3",
        "誕生日プレゼントは12/3に発送します",
        "Birthday party on May 5",
        "生まれは東京、5月3日に上京",
    ],
)
def test_dates_that_are_not_birthdays(text: str) -> None:
    assert found(text, "date_of_birth") == []


# --- keep ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "フリーダイヤル 0120-123-456（平日9時〜18時）",
        "お問い合わせは０１２０－９８７－６５４まで",
        "ナビダイヤル 0570-012-345",
        "Toll free: 0800-123-4567",
    ],
)
def test_free_dial_and_navi_dial_are_kept(text: str) -> None:
    assert found(text, "phone") == []


SIGNATURE = (
    "山田様\n\nお見積りを送付します。\n\n――――――――――\n株式会社架空商事 東京本社 営業部\n鈴木 一郎\n"
    "TEL 03-1234-5678（代表）\nFAX 03-1234-5679\n直通 03-1234-9999\n携帯 090-1234-5678\n"
)


def test_signature_block_keeps_company_numbers_not_personal_lines() -> None:
    assert found(SIGNATURE, "phone") == ["03-1234-9999", "090-1234-5678"]


def test_company_tel_line_outside_a_signature_stays_personal() -> None:
    assert found("お客様の連絡先 TEL 03-1234-5678", "phone") == ["03-1234-5678"]
    # a sentence naming a company is not a signature block
    text = "Meeting notes: met Ann Lee of Dunn Inc.\nPhone: (213) 383-9793"
    assert found(text, "phone") == ["(213) 383-9793"]


def test_mobile_in_a_signature_block_stays_personal() -> None:
    text = "ABC Trading Co., Ltd.\nTEL: 090-2222-3333"
    assert found(text, "phone") == ["090-2222-3333"]


def test_order_numbers_stay() -> None:
    assert found("注文番号 0312345678 の件", "phone") == []


def test_keep_list_numbers_and_names() -> None:
    text = "架空物産様より 03-5555-1234 に連絡あり。担当 佐藤花子さん 090-1111-2222"
    keep = KeepList.of(["+81 3-5555-1234"], ["架空物産"])
    got = detect(text, sensitive=False, keep=keep)
    values = {(f.type, text[f.start : f.end]) for f in got}
    assert ("phone", "03-5555-1234") not in values and ("phone", "090-1111-2222") in values
    assert ("person", "架空物産") not in values
    with using_keep(keep):
        assert ("phone", "03-5555-1234") not in {(f.type, text[f.start : f.end]) for f in detect(text)}
    assert ("phone", "03-5555-1234") in {(f.type, text[f.start : f.end]) for f in detect(text)}


def test_keep_from_settings() -> None:
    s = Settings(operator_phones="03-1234-5678, +81 6-1111-2222", operator_name="株式会社まもり")
    keep = keep_from_settings(s)
    assert keep.numbers == {"0312345678", "0611112222"} and keep.names == {"株式会社まもり"}
    assert keep_from_settings(Settings()) == KeepList()


# --- round 3: a company's numbers and addresses said in more ways -----------------------------------------


def test_business_card_with_blank_lines_keeps_the_company_address_and_number() -> None:
    card = (
        "株式会社 鶴来テクノ\n技術部 主任\n\n砥 部   湊\nTOBE MINATO\n\n"
        "〒920-0853\n石川県金沢市本町2－15－1\nポルテ金沢 9F\nTEL 076-200-1180（代表）\n携帯 090-1111-2233\n"
    )
    assert found(card, "address") == []
    assert found(card, "phone") == ["090-1111-2233"]


def test_a_home_field_after_a_blank_line_is_not_part_of_a_card() -> None:
    text = "振込先\n　銀行名　北陸第一銀行　駅前支店\n\n連絡先住所　〒930-0001\n　　富山市新富町 3丁目\n　　4－5　ﾊｲﾂ新富 2O1\n"
    assert found(text, "address") != []


def test_the_label_before_each_number_on_a_line() -> None:
    sig = "Sayo Kuribara\nPlanning, Kuribara Holdings\nTel (direct): 03-4400-1201 | Main: 03-4400-1200\n"
    assert found(sig, "phone") == ["03-4400-1201"]
    sig = "Kuribara Industries\nTEL 045-600-7001 / Mobile 080-6000-7002\n"
    assert found(sig, "phone") == ["080-6000-7002"]


def test_a_shop_line_and_its_tel() -> None:
    text = "ご来店ありがとうございました。\n\nカフェ砂丘 湖山店\nTEL 0857-20-3344\n"
    assert found(text, "phone") == []
    # a labelled field ending in 店 is no shop signature
    text = "購入店舗：ホシミ電機 湖山店\n電話番号：0857-20-3345\n"
    assert found(text, "phone") == ["0857-20-3345"]


def test_a_company_number_said_in_a_sentence() -> None:
    text = "白根さん、ありがとうございます。ちなみに市の相談窓口は 0263-30-1100 です。"
    assert found(text, "phone") == []
    assert found("Tanabe Trading Co.  06-6300-1200\n", "phone") == []
    assert found("申請先　松本市役所 市民課 0263-30-1101\n", "phone") == []
    assert found("お店TEL 0263-30-1102\n", "phone") == []
    # a person's number in the same sentence stays
    assert found("窓口の方ではなく、白根さんの番号は 0263-30-1103 です。", "phone") == ["0263-30-1103"]


def test_an_event_venue_stays() -> None:
    assert found("イベント：地酒の試飲会 in 松江市 殿町 3号館 2F\n", "address") == []
