"""The 匿名加工情報 pipeline around the search: R-43-1 refusals, R-43-2 key destruction, R-43-3/4 report items."""

from __future__ import annotations

import polars as pl
import pytest

from mamori.deid.tabular import InMemoryKeySource, PrivacyModel, address_hierarchy, age_hierarchy, anonymise
from mamori.deid.tabular.report import anonymisation_report, render_html
from mamori.kernel.errors import PolicyDenied
from tests.deid.tabular import checker

ADDRESSES = [
    "広島県広島市南区比治山本町1",
    "広島県広島市中区大手町2",
    "東京都千代田区丸の内3",
    "大阪府大阪市北区梅田4",
]


def table(n: int = 80) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "customer_id": [f"C{i:04d}" for i in range(n)],
            "age": [str(116 if i == 3 else 20 + (i * 13) % 60) for i in range(n)],
            "address": [ADDRESSES[i % 4] + f"-{i}" for i in range(n)],
            "purchase": [["毎月", "年数回", "なし"][i % 3] for i in range(n)],
        }
    )


def test_given_customers_when_anonymised_then_model_holds_secrets_destroyed_and_items_listed() -> None:
    # given
    df = table()
    keys = InMemoryKeySource()
    hs = {"age": age_hierarchy(df["age"].to_list()), "address": address_hierarchy(df["address"].to_list())}
    # when
    result = anonymise(
        df,
        ["age", "address"],
        hs,
        PrivacyModel(k=4, l=2, l_kind="entropy", suppression=0.05),
        keys=keys,
        sensitive="purchase",
    )
    # then: the released table meets the model (independent checker) and carries no id or exact address
    rows = result.data.to_dicts()
    assert set(result.data.columns) == {"age", "address", "purchase"}
    assert checker.is_k_anonymous(rows, ["age", "address"], 4)
    assert checker.entropy_l_ok(rows, ["age", "address"], "purchase", 2)
    assert not any(r["address"].endswith(f"-{i}") for i, r in enumerate(rows))
    assert "116" not in {r["age"] for r in rows}
    # R-43-2: the processing key is destroyed
    assert result.destroyed_keys and all(not keys.has(k) for k in result.destroyed_keys)
    assert keys.destroyed == result.destroyed_keys
    # R-43-3 / R-43-4: items to publish and the explicit statement
    assert [i["item"] for i in result.published_items] == ["age", "address", "purchase"]
    assert "匿名加工情報" in result.provision_statement_ja
    assert set(result.standards) == {"1", "2", "3", "4", "5"}
    # risk goes down
    assert result.risk_after.prosecutor_max <= 1 / 4 < result.risk_before.prosecutor_max
    report = anonymisation_report(result, model={"k": 4})
    assert report["destroyed_processing_keys_R-43-2"] == result.destroyed_keys
    assert report["published_items_R-43-3"] == result.published_items
    assert report["provision_statement_R-43-4"]["ja"].startswith(
        "本データは、個人情報の保護に関する法律第43条"
    )
    html = render_html(report)
    assert html.count("<svg") == 3 and "C0001" not in html


@pytest.mark.parametrize("keep", [["customer_id"], ["address"]])
def test_given_identifying_column_kept_when_anonymising_then_refused(keep: list[str]) -> None:
    df = table(12)
    with pytest.raises(PolicyDenied) as info:
        anonymise(
            df,
            ["age"],
            {"age": age_hierarchy(df["age"].to_list())},
            PrivacyModel(k=2),
            keys=InMemoryKeySource(),
            keep=keep,
        )
    assert info.value.rule_id == "R-43-1"
