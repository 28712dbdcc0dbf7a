"""Issue 16 item 5: the anonymiser's fast paths keep every figure.

* the risk report is computed on the search's integer codes, and its figures equal a plain polars group-by on
  the raw string values (before and after, on Adult and on a random table with missing and empty values);
* the risk report is only computed when asked for (``--no-risk``);
* a suppression limit of 100 % is allowed;
* ARX's loss (``--metric arx-loss``) on hand-computed examples and on Adult k=5;
* ``mamori.deid.tabular.cli`` imports neither polars, numpy, the engine nor the service.
"""

from __future__ import annotations

import importlib
import json
import math
import subprocess
import sys
from collections import Counter
from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest

from mamori.deid.tabular import (
    InMemoryKeySource,
    PrivacyModel,
    anonymise,
    brute_force,
    encode,
    read_csv_hierarchy,
    search,
)
from mamori.deid.tabular.errors import DatasetError
from mamori.deid.tabular.hierarchy import Hierarchy
from mamori.deid.tabular.risk import HISTOGRAM_EDGES, assess
from tests.deid.conftest import Run
from tests.deid.tabular import checker

# the module (the package's name ``anonymise`` is the function)
anonymise_module = importlib.import_module("mamori.deid.tabular.anonymise")

ADULT = Path(__file__).resolve().parents[2] / "data" / "adult"
ADULT_QIS = ["sex", "age", "race", "marital-status", "education", "native-country", "workclass", "occupation"]


def adult() -> tuple[pl.DataFrame, dict[str, Hierarchy]]:
    df = pl.read_csv(ADULT / "adult.csv", separator=";", infer_schema=False)
    hs = {c: read_csv_hierarchy(ADULT / f"adult_hierarchy_{c}.csv", name=c) for c in df.columns}
    return df, hs


def reference_risk(
    df: pl.DataFrame, qis: list[str], *, threshold: float = 0.2, top: int = 20, max_combination: int = 3
) -> dict[str, Any]:
    """The risk figures straight from the string values with polars group-bys (a missing value is a value of its
    own, as in the report)."""
    s = df.select([pl.col(c).cast(pl.String).fill_null("\x00") for c in qis])
    n = s.height
    f = s.select(pl.len().over(qis).alias("f"))["f"].to_numpy().astype(np.int64)
    rec = 1.0 / f
    classes = s.unique().height
    hist, _ = np.histogram(rec, bins=np.array(HISTOGRAM_EDGES))
    subsets = [list(c) for r in range(1, min(max_combination, len(qis)) + 1) for c in combinations(qis, r)]
    if len(qis) > max_combination:
        subsets.append(list(qis))
    uniques = int(np.sum(f == 1))
    return {
        "records": n,
        "classes": classes,
        "prosecutor_max": float(rec.max()),
        "prosecutor_avg": float(rec.mean()),
        "journalist_max": float(rec.max()),
        "journalist_avg": float(rec.mean()),
        "journalist_basis": "prosecutor_upper_bound",
        "marketer": classes / n,
        "sample_uniques": uniques,
        "sample_uniques_share": uniques / n,
        "threshold": threshold,
        "records_at_risk_share": float(np.mean(rec > threshold)),
        "histogram_edges": list(HISTOGRAM_EDGES),
        "histogram_counts": [int(c) for c in hist],
        "highest_risk_rows": [int(i) for i in np.argsort(-rec, kind="stable")[:top]],
        "unique_combinations": [
            {"qis": sub, "unique_records": s.group_by(sub).len().filter(pl.col("len") == 1).height}
            for sub in subsets
        ],
    }


def random_table(seed: int, n: int = 4000) -> tuple[pl.DataFrame, list[str], dict[str, Hierarchy]]:
    rng = np.random.default_rng(seed)
    df = pl.DataFrame(
        {
            "num": rng.integers(0, 40, n),
            "col": rng.choice(np.array(["red", "blue", "green", "", "x"]), n),
            "grade": rng.integers(0, 4, n).astype(np.float64),
            "zip": rng.integers(0, 300, n),
            "s": rng.choice(np.array(["a", "b", "c"]), n),
        }
    ).with_columns(
        # missing values beside empty strings: the report keeps them apart
        pl.when(pl.Series(rng.random(n) < 0.05)).then(None).otherwise(pl.col("col")).alias("col")
    )
    strs = df.select(pl.all().cast(pl.String).fill_null(""))
    hs = {
        "num": Hierarchy({v: (v, str(int(v) // 10), "*") for v in strs["num"].unique()}, "num"),
        "col": Hierarchy({v: (v, "*") for v in strs["col"].unique()}, "col"),
        "grade": Hierarchy({v: (v, "*") for v in strs["grade"].unique()}, "grade"),
        "zip": Hierarchy({v: (v, v[:1], "*") for v in strs["zip"].unique()}, "zip"),
    }
    return df, ["num", "col", "grade", "zip"], hs


# --- risk on codes equals the group-by on the values -------------------------------------------------------


@pytest.mark.parametrize("qis", [ADULT_QIS, ADULT_QIS[:3]])
def test_given_adult_when_assessed_then_figures_equal_a_group_by_on_the_values(qis: list[str]) -> None:
    df, _ = adult()
    assert assess(df, qis).to_dict() == reference_risk(df, qis)
    assert assess(df, qis, top=5000, threshold=0.05).to_dict() == reference_risk(
        df, qis, top=5000, threshold=0.05
    )


@pytest.mark.parametrize("seed", [1, 2])
def test_given_random_table_when_assessed_then_figures_equal_a_group_by_on_the_values(seed: int) -> None:
    df, qis, _ = random_table(seed)
    assert assess(df, qis).to_dict() == reference_risk(df, qis)
    assert assess(df, qis[1:3], max_combination=1).to_dict() == reference_risk(
        df, qis[1:3], max_combination=1
    )


@pytest.mark.parametrize(("suppression", "keep_suppressed"), [(0.0, False), (0.05, False), (0.05, True)])
def test_given_adult_when_anonymised_then_risk_before_and_after_equal_a_group_by(
    suppression: float, keep_suppressed: bool
) -> None:
    df, hs = adult()
    result = anonymise(
        df,
        ADULT_QIS,
        hs,
        PrivacyModel(k=5, suppression=suppression),
        keys=InMemoryKeySource(),
        sensitive="salary-class",
        keep_suppressed=keep_suppressed,
    )
    released = result.data
    if keep_suppressed:
        released = released.filter(~pl.all_horizontal([pl.col(q) == "*" for q in ADULT_QIS]))
        assert released.height == df.height - result.suppressed
    assert result.risk_before.to_dict() == reference_risk(df, ADULT_QIS)
    assert result.risk_after.to_dict() == reference_risk(released, ADULT_QIS)
    sizes = released.select(pl.len().over(ADULT_QIS))["len"].to_numpy()
    assert result.metrics["avg_class_size"] == sizes.size / float(np.sum(1.0 / sizes))
    assert result.metrics["discernibility"] == float(np.sum(sizes.astype(np.float64))) + float(
        result.search.best.suppressed
    ) * float(df.height)


@pytest.mark.parametrize("seed", [3, 4])
def test_given_random_table_with_missing_and_empty_values_when_anonymised_then_risk_equals_a_group_by(
    seed: int,
) -> None:
    df, qis, hs = random_table(seed)
    result = anonymise(
        df, qis, hs, PrivacyModel(k=3, suppression=0.1), keys=InMemoryKeySource(), sensitive="s"
    )
    assert result.risk_before.to_dict() == reference_risk(df, qis)
    assert result.risk_after.to_dict() == reference_risk(result.data, qis)


def test_given_no_missing_values_when_anonymised_then_risk_uses_the_codes_not_the_values(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    df, hs = adult()

    def from_values(*_: object) -> None:
        raise AssertionError("the risk report re-read the values")

    monkeypatch.setattr(anonymise_module, "groups_of", from_values)
    result = anonymise(df, ADULT_QIS, hs, PrivacyModel(k=5), keys=InMemoryKeySource())
    assert result.risk_before.records == df.height and result.risk_after.records == result.data.height


def test_given_risk_not_asked_when_anonymised_then_it_is_not_computed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    df, hs = adult()
    calls: list[int] = []
    real = anonymise_module.assess_groups

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(anonymise_module, "assess_groups", counted)
    result = anonymise(df, ADULT_QIS, hs, PrivacyModel(k=5), keys=InMemoryKeySource())
    assert result.data.height == df.height and not result.risk_computed and calls == []
    assert "risk" not in result.seconds
    before, after = result.risk_before, result.risk_after
    assert result.risk_after is after and result.risk_before is before  # computed once, both together
    assert len(calls) == 2 and result.seconds["risk"] > 0.0


# --- suppression 100 % -----------------------------------------------------------------------------------


def test_given_suppression_limit_one_when_searching_then_allowed_and_brute_force_optimal() -> None:
    df, qis, hs = random_table(5, n=300)
    for metric in ("loss", "arx-loss"):
        enc = encode(df, qis, hs, metric=metric)
        model = PrivacyModel(k=4, suppression=1.0)
        best = search(enc, model).best
        optimum = min(e.loss for e in brute_force(enc, model) if e.anonymous)
        assert best.anonymous and best.loss == pytest.approx(optimum, abs=1e-12)
    with pytest.raises(DatasetError):
        search(enc, PrivacyModel(k=2, suppression=1.01))


# --- ARX's loss ------------------------------------------------------------------------------------------

# age's hierarchy lists 40 too, which the data lacks (ARX counts the hierarchy's values, not the present ones)
AGE: dict[str, tuple[str, ...]] = {
    "20": ("20", "20-29", "*"),
    "21": ("21", "20-29", "*"),
    "30": ("30", "30-39", "*"),
    "31": ("31", "30-39", "*"),
    "40": ("40", "40-49", "*"),
}
SEX: dict[str, tuple[str, ...]] = {"M": ("M", "*"), "F": ("F", "*")}


def test_given_hand_table_when_arx_loss_then_geometric_mean_over_hierarchy_domains() -> None:
    # Records (20,M) (21,M) (30,F) (31,F), k = 2, no suppression. Age at level 0 keeps every record unique, so the
    # candidates are (1,0), (1,1), (2,0), (2,1). At (1,0): "20-29" covers 2 of the hierarchy's 5 ages, cost
    # (2-1)/(5-1) = 0.25 for every record, sex costs 0 → ARX loss = ((1 + 0.25)(1 + 0))^(1/2) - 1 = √1.25 - 1
    # = 0.118033988… ; (2,0): √2 - 1 = 0.414…; (1,1): √(1.25 × 2) - 1 = 0.581…; so (1,0) is optimal.
    # mamori's arithmetic "loss" counts the 4 ages present: 20-29 covers 2 of 4 → 1/3, mean over QIs = 1/6.
    df = pl.DataFrame({"age": ["20", "21", "30", "31"], "sex": ["M", "M", "F", "F"]})
    hs = {"age": Hierarchy(AGE, "age"), "sex": Hierarchy(SEX, "sex")}
    arx = search(encode(df, ["age", "sex"], hs, metric="arx-loss"), PrivacyModel(k=2)).best
    assert arx.node == (1, 0)
    assert arx.loss == pytest.approx(math.sqrt(1.25) - 1.0, abs=1e-10)
    ours = search(encode(df, ["age", "sex"], hs, metric="loss"), PrivacyModel(k=2)).best
    assert ours.node == (1, 0) and ours.loss == pytest.approx(1 / 6)


def test_given_hand_table_with_suppression_when_arx_loss_then_a_suppressed_record_costs_one_per_qi() -> None:
    # Add (40,M); suppression limit 20 % = 1 record. At (1,0) the class (40-49,M) has 1 record and is suppressed:
    # age = (4 × 0.25 + 1 × 1) / 5 = 0.4, sex = (4 × 0 + 1 × 1) / 5 = 0.2 → √(1.4 × 1.2) - 1 = √1.68 - 1
    # = 0.296152… ; (2,0) needs no suppression: √(2 × 1) - 1 = 0.414…; (1,1): √(1.4 × 2) - 1 = 0.673…
    df = pl.DataFrame({"age": ["20", "21", "30", "31", "40"], "sex": ["M", "M", "F", "F", "M"]})
    hs = {"age": Hierarchy(AGE, "age"), "sex": Hierarchy(SEX, "sex")}
    best = search(encode(df, ["age", "sex"], hs, metric="arx-loss"), PrivacyModel(k=2, suppression=0.2)).best
    assert best.node == (1, 0) and best.suppressed == 1
    assert best.loss == pytest.approx(math.sqrt(1.68) - 1.0, abs=1e-10)


def arx_loss_of_output(
    out: pl.DataFrame, qis: list[str], hs: dict[str, Hierarchy], node: dict[str, int], n: int
) -> float:
    """ARX's loss recomputed from the released labels (suppressed records, absent from ``out``, cost 1)."""
    product = 1.0
    for q in qis:
        h = hs[q]
        covered = Counter(row[node[q]] for row in h.table.values())
        d = len(h.table)
        costs = [(covered[label] - 1) / (d - 1) for label in out[q].to_list()]
        v = (sum(costs) + (n - out.height)) / n
        product *= (math.floor(v * 1e10) / 1e10 + 1.0) ** (1.0 / len(qis))
    return product - 1.0


def test_given_adult_k5_when_arx_loss_then_the_optimum_is_reported_with_arx_loss() -> None:
    df, hs = adult()
    result = anonymise(
        df,
        ADULT_QIS,
        hs,
        PrivacyModel(k=5),
        keys=InMemoryKeySource(),
        sensitive="salary-class",
        metric="arx-loss",
    )
    assert checker.is_k_anonymous(result.data.to_dicts(), ADULT_QIS, 5)
    assert result.metrics["objective"] == "arx-loss"
    assert result.metrics["objective_value"] == result.metrics["arx_loss"] == result.search.best.loss
    loss = arx_loss_of_output(result.data, ADULT_QIS, hs, result.node, df.height)
    assert result.metrics["arx_loss"] == pytest.approx(loss, abs=1e-12)
    plain = anonymise(
        df, ADULT_QIS, hs, PrivacyModel(k=5), keys=InMemoryKeySource(), sensitive="salary-class"
    )
    assert plain.metrics["objective_value"] != pytest.approx(result.metrics["objective_value"])


def test_given_adult_subset_when_arx_loss_then_search_finds_the_brute_force_optimum() -> None:
    df, hs = adult()
    qis = ["age", "education", "marital-status", "sex"]
    enc = encode(df, qis, hs, metric="arx-loss")
    for suppression in (0.0, 0.01):
        model = PrivacyModel(k=10, suppression=suppression)
        best = search(enc, model).best
        assert best.loss == min(e.loss for e in brute_force(enc, model) if e.anonymous)


# --- the CLI ---------------------------------------------------------------------------------------------


def write_adult(tmp_path: Path) -> tuple[Path, list[str]]:
    src = tmp_path / "adult.csv"
    src.write_bytes((ADULT / "adult.csv").read_bytes())
    hier = [f"--hierarchy={c}={ADULT / f'adult_hierarchy_{c}.csv'}" for c in ADULT_QIS]
    return src, hier


def test_given_no_risk_when_anonymising_then_output_without_risk_figures(cli: Run, tmp_path: Path) -> None:
    src, hier = write_adult(tmp_path)
    out, rep = tmp_path / "out.csv", tmp_path / "report.json"
    args = ["anonymise", str(src), "--sep", ";", "-o", str(out), "--qi", ",".join(ADULT_QIS), *hier]
    r = cli("--as", "hoshino", "deid", *args, "--no-risk", "--report", str(rep), "--json", "-p", "analytics")
    assert r.exit_code == 0, r.output
    summary = json.loads(r.stdout[r.stdout.index("{") :])
    assert "prosecutor_max_before" not in summary and summary["rows"] == 30162
    report = json.loads(rep.read_text(encoding="utf-8"))
    assert report["risk_before"] is None and report["risk_after"] is None and "risk" not in report["seconds"]
    assert "<svg" in rep.with_suffix(".html").read_text(encoding="utf-8")
    r = cli("--as", "hoshino", "deid", *args, "--force", "--json", "-p", "analytics")  # replaces out.csv
    summary = json.loads(r.stdout[r.stdout.index("{") :])
    assert summary["prosecutor_max_before"] == 1.0 and summary["prosecutor_max_after"] <= 0.2


def test_given_full_suppression_and_arx_loss_when_anonymising_then_accepted(cli: Run, tmp_path: Path) -> None:
    src, hier = write_adult(tmp_path)
    out = tmp_path / "out.csv"
    args = ["anonymise", str(src), "--sep", ";", "-o", str(out), "--qi", ",".join(ADULT_QIS), *hier]
    r = cli(
        "--as", "hoshino", "deid", *args, "--suppression", "1.0", "--metric", "arx-loss", "--json",
        "-p", "analytics",
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    summary = json.loads(r.stdout[r.stdout.index("{") :])
    assert summary["suppressed"] > 0 and 0.0 < summary["loss"] < 1.0
    bad = cli("--as", "hoshino", "deid", *args, "--force", "--metric", "nope", "-p", "analytics")
    assert bad.exit_code != 0 and "arx-loss" in bad.output


def test_the_tabular_cli_module_imports_no_heavy_module() -> None:
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import mamori.deid.tabular.cli"],
        capture_output=True,
        text=True,
        check=True,
    )
    loaded = {line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines() if "|" in line}
    heavy = {
        m
        for m in loaded
        if m.split(".")[0] in {"polars", "numpy", "sqlalchemy"}
        or m.startswith(
            ("mamori.deid.service", "mamori.deid.tabular.engine", "mamori.deid.tabular.anonymise")
        )
    }
    assert heavy == set()
    assert "mamori.deid.tabular.cli" in loaded
