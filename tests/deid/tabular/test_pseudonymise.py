"""仮名加工情報: removal of identifiers, keyed pseudonyms, manifest, and the R-41-4/5 policy checks."""

from __future__ import annotations

import random

import polars as pl
import pytest
from faker import Faker

from mamori.deid.tabular import (
    InMemoryKeySource,
    check_pseudonymised_join,
    check_pseudonymised_provision,
    pseudonymise,
)
from mamori.deid.tabular.pseudonymise import pseudonym
from mamori.deid.text.checkdigits import luhn_check_digit, my_number_check_digit
from mamori.kernel.errors import PolicyDenied


def customers(n: int = 20, seed: int = 7) -> pl.DataFrame:
    fake = Faker("ja_JP")
    Faker.seed(seed)
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        base = "".join(rng.choice("0123456789") for _ in range(11))
        card = "4" + "".join(rng.choice("0123456789") for _ in range(14))
        rows.append(
            {
                "customer_id": f"C{i:05d}",
                "name": fake.name(),
                "kana": fake.kana_name(),
                "email": fake.email(),
                "phone": fake.phone_number(),
                "address": fake.prefecture() + "広島市南区比治山本町1-2",
                "my_number": base + str(my_number_check_digit(base)),
                "passport_no": f"TK{rng.randint(1000000, 9999999)}",
                "card_number": card + str(luhn_check_digit(card)),
                "notes_code": None,
                "gender": rng.choice(["F", "M"]),
                "age": str(rng.randint(18, 90)),
                "purchases": str(rng.randint(0, 30)),
            }
        )
    df = pl.DataFrame(rows)
    # an innocently named column holding My Numbers must be caught by value
    return df.with_columns(pl.col("my_number").alias("ref"))


def test_given_customers_when_pseudonymised_then_identifiers_codes_and_payment_removed() -> None:
    # given
    df = customers()
    keys = InMemoryKeySource()
    # when
    result = pseudonymise(df, keys=keys)
    # then
    out = result.data
    assert set(out.columns) == {"customer_id", "address", "notes_code", "gender", "age", "purchases"}
    removed = result.manifest["removed"]
    assert isinstance(removed, dict)
    assert set(removed["identification_codes"]) == {"my_number", "passport_no", "ref"}
    assert removed["payment"] == ["card_number"]
    assert set(removed["identifying_descriptions"]) == {"name", "kana", "email", "phone"}
    # addresses are cut to 市区町村
    assert all(a.endswith("広島市南区") for a in out["address"].to_list())
    # and no original value of a removed column survives anywhere in the output
    text = out.write_csv()
    for col in ("name", "email", "my_number", "card_number"):
        assert not any(v in text for v in df[col].to_list())


def test_given_key_when_pseudonymised_then_ids_are_keyed_hmacs_and_key_stays_in_keystore() -> None:
    df = customers(5)
    keys = InMemoryKeySource()
    result = pseudonymise(df, keys=keys, key_name="deid.test")
    key = keys.system_key("deid.test")
    assert result.data["customer_id"].to_list() == [pseudonym(key, v) for v in df["customer_id"].to_list()]
    assert "C00000" not in result.data["customer_id"].to_list()
    # another key gives other pseudonyms (the key, not the id, is the secret)
    other = pseudonymise(df, keys=InMemoryKeySource(), key_name="deid.test")
    assert other.data["customer_id"].to_list() != result.data["customer_id"].to_list()
    # the manifest names the key but never holds it
    m = result.manifest
    assert m["kind"] == "仮名加工情報" and m["key_name"] == "deid.test"
    assert key.hex() not in str(m)
    assert "R-41-2" in m["rule_ids"]  # type: ignore[operator]
    # the use restrictions travel with the data: purpose (R-41-3), provision (R-41-4), no collation or contact
    # (R-41-5), erasure when no longer needed (R-41-6)
    assert set(m["restrictions"]) == {"R-41-3", "R-41-4", "R-41-5", "R-41-6"}  # type: ignore[arg-type]


def test_given_keep_of_identification_code_when_pseudonymised_then_refused() -> None:
    with pytest.raises(PolicyDenied) as info:
        pseudonymise(customers(3), keys=InMemoryKeySource(), keep=["my_number"])
    assert info.value.rule_id == "R-41-1"


def test_given_unknown_column_when_pseudonymised_then_error() -> None:
    with pytest.raises(Exception, match="does not exist"):
        pseudonymise(customers(3), keys=InMemoryKeySource(), id_columns=["nope"])


@pytest.mark.parametrize(
    "kind", ["委託", "entrustment", "事業承継", "succession", "共同利用", "joint_use", "law"]
)
def test_given_allowed_recipient_when_providing_then_allowed(kind: str) -> None:
    assert check_pseudonymised_provision(kind)


@pytest.mark.parametrize("kind", ["third_party", "第三者", "consent", "opt_out", ""])
def test_given_third_party_when_providing_then_refused_with_rule(kind: str) -> None:
    with pytest.raises(PolicyDenied) as info:
        check_pseudonymised_provision(kind)
    assert info.value.rule_id == "R-41-4"


def test_given_joint_use_without_published_items_when_providing_then_refused() -> None:
    with pytest.raises(PolicyDenied) as info:
        check_pseudonymised_provision("共同利用", joint_use_items_published=False)
    assert info.value.rule_id == "R-41-4"


def test_given_identity_columns_when_joining_then_refused_and_others_allowed() -> None:
    with pytest.raises(PolicyDenied) as info:
        check_pseudonymised_join(["customer_id", "email", "氏名"])
    assert info.value.rule_id == "R-41-5"
    assert set(info.value.details["columns"]) == {"email", "氏名"}  # type: ignore[arg-type]
    check_pseudonymised_join(["customer_id", "segment", "purchases"])


# Contacting people with 仮名加工情報 (R-41-5) and collating 匿名加工情報 (R-43-5) are refused through the dataset
# guard; tests/deid/test_service_cli.py imports both kinds of output into customers and expects the refusal.
@pytest.mark.parametrize(
    "column",
    [
        "email",
        "メールアドレス",
        "phone",
        "電話番号",
        "携帯",
        "fax",
        "住所",
        "address",
        "氏名",
        "フリガナ",
        "login_id",
    ],
)
def test_given_any_contact_column_when_joining_then_refused(column: str) -> None:
    with pytest.raises(PolicyDenied) as info:
        check_pseudonymised_join(["customer_id", "segment", column])
    assert info.value.rule_id == "R-41-5"
    assert info.value.details["columns"] == [column]
