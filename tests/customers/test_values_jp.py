"""Issue 19: the customer schema takes values as Japanese files and people write them — dates in 西暦 / 和暦 /
letter eras / Excel serials, postal codes and phones in every width and dash, TEL: prefixes and 内線 extensions,
addresses without a 都道府県 — and stores one normal form, so search finds the same person however it is typed."""

from __future__ import annotations

import json
from datetime import date

import pytest
from pydantic import ValidationError

from mamori.customers import service
from mamori.customers.schemas import (
    CustomerCreate,
    CustomerUpdate,
    ProvenanceIn,
    clean_kana,
    clean_phone,
    clean_postal,
    parse_birth_date,
    prefecture_of,
)
from mamori.kernel.validation import Invalid
from tests.api.conftest import Api
from tests.factories import demo_cli, seed_basics

# -- the cleaners -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "stored"),
    [
        ("03-1234-5678", "+81312345678"),
        ("TEL:03-1234-5678", "+81312345678"),
        ("ＴＥＬ：０３－１２３４－５６７８", "+81312345678"),
        ("☎03−1234−5678", "+81312345678"),
        ("03ー1234ー5678", "+81312345678"),
        ("03‐1234‐5678", "+81312345678"),
        ("03─1234─5678", "+81312345678"),
        ("312345678", "+81312345678"),  # Excel dropped the 0
        ("9012345678", "+819012345678"),
        ("03-1234-5678 内線12", "+81312345678;ext=12"),
        ("03-1234-5678（内線123）", "+81312345678;ext=123"),
        ("03-1234-5678 内線 123", "+81312345678;ext=123"),
        ("03-1234-5678 (内)5", "+81312345678;ext=5"),
        ("0312345678 ext.12", "+81312345678;ext=12"),
        ("03-1234-5678 x12", "+81312345678;ext=12"),
        ("03-1234-5678#0012", "+81312345678;ext=0012"),
        ("TEL:03-1234-5678 内線１２", "+81312345678;ext=12"),
        ("+81312345678;ext=12", "+81312345678;ext=12"),  # the stored form is its own normal form
        ("+1-212-555-1234 ext. 7", "+12125551234;ext=7"),
    ],
)
def test_clean_phone_stores_e164_and_the_extension_apart(text, stored):
    assert clean_phone(text) == stored


@pytest.mark.parametrize(
    "text",
    [
        "内線12",
        "TEL:",
        "TEL:12345",
        "03-1234-5678 内線",
        "03-1234-5678 内線abc",
        "03-1234-5678 ext. twelve",
        "12",
    ],
)
def test_clean_phone_refuses_without_the_value(text):
    with pytest.raises(Invalid) as info:
        clean_phone(text)
    assert info.value.message_en == "not a valid Japanese or international number"


def test_clean_postal_kana_date_and_prefecture_fold_through_jptext():
    assert (
        clean_postal("１００ー０００１")
        == clean_postal("〒100−0001")
        == clean_postal("100 0001")
        == "100-0001"
    )
    assert clean_kana("\u3000ﾔﾏﾀﾞ ﾀﾛｳ ") == "ヤマダ タロウ"
    assert parse_birth_date("S60.1.5") == parse_birth_date("31052") == date(1985, 1, 5)
    assert parse_birth_date(date(1985, 1, 5)) == date(1985, 1, 5)
    assert prefecture_of("\u3000東京都千代田区") == "東京都"


# -- the schema ---------------------------------------------------------------------------------------------------


def test_customer_create_accepts_the_forms_of_japanese_files_and_normalises_them():
    c = CustomerCreate(
        name="架空 太郎",
        kana="ｶｸｳ ﾀﾛｳ",
        birth_date="S60.1.5",
        postal_code="〒１００ー０００１",
        address="千代田区千代田１ー１ コーポ３０１",  # no 都道府県: it comes from the postal code
        phones=["TEL:03-1234-5678（内線123）", "０９０−１２３４−５６７８", "  "],
    )
    assert c.kana == "カクウ タロウ"
    assert c.birth_date == date(1985, 1, 5)
    assert c.postal_code == "100-0001"
    assert c.address == "東京都千代田区千代田1-1 コーポ301"
    assert c.phones == ["+81312345678;ext=123", "+819012345678"]


@pytest.mark.parametrize(
    ("birth", "day"),
    [
        ("1985/1/5", date(1985, 1, 5)),
        ("1985.1.5", date(1985, 1, 5)),
        ("1985年1月5日", date(1985, 1, 5)),
        ("１９８５－０１－０５", date(1985, 1, 5)),
        ("昭和60年1月5日", date(1985, 1, 5)),
        ("h1-1-8", date(1989, 1, 8)),
        ("令和元年5月1日", date(2019, 5, 1)),
        ("R元.5.1", date(2019, 5, 1)),
        ("31052.0", date(1985, 1, 5)),
        ("1985-01-05 00:00:00", date(1985, 1, 5)),
    ],
)
def test_customer_create_reads_every_date_form(birth, day):
    assert CustomerCreate(name="架空 太郎", birth_date=birth).birth_date == day


def test_customer_create_keeps_an_address_with_a_prefecture_and_refuses_one_it_cannot_complete():
    kept = CustomerCreate(name="架空 太郎", postal_code="100-0001", address="大阪府大阪市北区梅田1丁目")
    assert kept.address == "大阪府大阪市北区梅田1丁目"
    for postal in (None, "999-9999"):
        with pytest.raises(ValidationError) as info:
            CustomerCreate(name="架空 太郎", postal_code=postal, address="千代田区千代田1-1")
        assert [(e["loc"], e["ctx"]["error"].message_ja) for e in info.value.errors()] == [
            (("address",), "都道府県から始めてください")
        ]


def test_customer_update_completes_the_address_from_the_postal_code_given_with_it():
    u = CustomerUpdate(postal_code="530-0001", address="大阪市北区梅田１ー１")
    assert u.address == "大阪府大阪市北区梅田1-1"
    assert CustomerUpdate(add_phones=["TEL:03-1234-5678 内線9"]).add_phones == ["+81312345678;ext=9"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("birth_date", "昭和60年2月30日"),
        ("birth_date", "1985/2/30"),
        ("birth_date", "60"),  # Excel's 1900-02-29
        ("birth_date", "1867/12/31"),
        ("postal_code", "100-00010"),
        ("postal_code", "100ー00０"),
        ("phones", ["内線12"]),
    ],
)
def test_customer_create_refuses_bad_values_without_echoing_them(field, value):
    with pytest.raises(ValidationError) as info:
        CustomerCreate(name="架空 太郎", **{field: value})
    [error] = info.value.errors()
    invalid = error["ctx"]["error"]  # our Invalid: fixed texts in both languages (the value is not in them)
    assert isinstance(invalid, Invalid)
    assert invalid.message_ja in {
        "日付の形式が正しくありません（例: 1985-01-05 または 昭和60年1月5日）",
        "郵便番号の形式が正しくありません（例: 123-4567）",
        "電話番号の形式が正しくありません（例: 090-1234-5678 または +81-90-1234-5678）",
    }


# -- stored once, found however typed ---------------------------------------------------------------------------


@pytest.fixture
def actors(runtime):
    return seed_basics(runtime)


def _create(runtime, actor, **fields):
    data = CustomerCreate(name="架空 電話", **fields)
    with runtime.transaction(actor) as ctx:
        view = service.create(
            ctx,
            data,
            provenance=ProvenanceIn(method="direct", channel="counter", notice_version="n-2026"),
            purposes=["contract"],
        )
    return view.id


def test_a_phone_stored_with_an_extension_is_found_by_the_number_however_typed(runtime, actors):
    cid = _create(runtime, actors["sato"], phones=["03-1234-5678 内線12"])
    with runtime.transaction(actors["sato"], "contract") as ctx:
        assert service.get(ctx, cid).phones == ["+81312345678;ext=12"]
        for typed in [
            "TEL:03-1234-5678",
            "03ー1234ー5678",
            "０３－１２３４－５６７８",
            "03−1234−5678",
            "+81312345678",
            "03-1234-5678（内線99）",  # another extension of the same number: the same line
            "312345678",
        ]:
            assert [s.id for s in service.find(ctx, phone=typed)] == [cid], typed
        assert service.find(ctx, phone="03-1234-5679") == []


def test_two_extensions_of_one_number_are_two_contact_points_and_one_search_hit(runtime, actors):
    cid = _create(runtime, actors["sato"], phones=["03-1234-5678 内線1", "03-1234-5678 内線2"])
    with runtime.transaction(actors["sato"], "contract") as ctx:
        assert service.get(ctx, cid).phones == ["+81312345678;ext=1", "+81312345678;ext=2"]
        assert [s.id for s in service.find(ctx, phone="03-1234-5678")] == [cid]


def test_the_api_stores_the_normal_forms(runtime):
    api = Api(runtime)
    c, csrf = api.client("sato")
    body = {
        "customer": {
            "name": "架空 花子",
            "birth_date": "S60.1.5",
            "postal_code": "１００ー０００１",
            "address": "千代田区千代田1ー1",
            "phones": ["TEL:03-1234-5678（内線123）"],
        },
        "provenance": {"method": "direct", "channel": "web_form", "notice_version": "n-2026"},
        "purposes": ["contract"],
    }
    r = c.post("/api/v1/customers", json=body, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    got = c.get(f"/api/v1/customers/{cid}", headers={"Mamori-Purpose": "contract"}).json()
    assert got["birth_date"] == "1985-01-05"
    assert got["postal_code"] == "100-0001"
    assert got["address"] == "東京都千代田区千代田1-1"
    assert got["phones"] == ["+81312345678;ext=123"]
    bad = dict(body, customer=dict(body["customer"], birth_date="昭和60年2月30日"))
    r = c.post("/api/v1/customers", json=bad, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 422 and "昭和60年2月30日" not in r.text


# -- the CLI ------------------------------------------------------------------------------------------------------


@pytest.fixture
def cli(tmp_path, monkeypatch):
    yield from demo_cli(tmp_path, monkeypatch, customers=1)


def test_customers_find_phone_matches_every_dash_form(cli):
    r = cli(
        "--as",
        "hoshino",
        "customers",
        "add",
        "--name",
        "架空 電話",
        "--phone",
        "TEL:03ー9876ー5432 内線12",
        "-p",
        "contract",
        "--json",
    )
    assert r.exit_code == 0, r.output
    cid = json.loads(r.stdout)["id"]
    for typed in [
        "03-9876-5432",
        "03−9876−5432",
        "０３－９８７６－５４３２",
        "03ー9876ー5432",
        "TEL:03-9876-5432",
    ]:
        r = cli("--as", "hoshino", "customers", "find", "--phone", typed, "-p", "contract", "--json")
        assert r.exit_code == 0, r.output
        assert [i["id"] for i in json.loads(r.stdout)["items"]] == [cid], typed
    r = cli("--as", "hoshino", "customers", "show", cid, "-p", "contract")
    assert r.exit_code == 0, r.output
    assert "03-9876-5432 内線12" in r.stdout
