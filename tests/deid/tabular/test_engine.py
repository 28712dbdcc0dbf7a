"""Anonymisation engine: outputs verified by the independent checker, optimality against brute force."""

from __future__ import annotations

import math
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mamori.deid.tabular import InMemoryKeySource, PrivacyModel, anonymise, encode, read_csv_hierarchy, search
from mamori.deid.tabular.engine import apply
from mamori.deid.tabular.errors import DatasetError, NoSolution
from mamori.deid.tabular.hierarchy import Hierarchy
from tests.deid.tabular import checker

ADULT = Path(__file__).resolve().parents[3] / "data" / "adult"

# Small hierarchies: numbers 0..7 → pairs → quads → *, colours → warm/cold → *, sensitive a,b → x; c → y; *
NUM = {
    str(v): (str(v), f"{v // 2 * 2}-{v // 2 * 2 + 1}", f"{v // 4 * 4}-{v // 4 * 4 + 3}", "*")
    for v in range(8)
}
COL = {"red": ("red", "warm", "*"), "orange": ("orange", "warm", "*"), "blue": ("blue", "cold", "*")}
SEX = {"F": ("F", "*"), "M": ("M", "*")}
SENS = {"a": ("a", "x", "*"), "b": ("b", "x", "*"), "c": ("c", "y", "*")}
HS = {"num": NUM, "col": COL, "sex": SEX}
QIS = ["num", "col", "sex"]


def hier(name: str) -> Hierarchy:
    return Hierarchy({**HS, "s": SENS}[name], name)


rows_strategy = st.lists(
    st.fixed_dictionaries(
        {
            "num": st.sampled_from(sorted(NUM)),
            "col": st.sampled_from(sorted(COL)),
            "sex": st.sampled_from(sorted(SEX)),
            "s": st.sampled_from(sorted(SENS)),
        }
    ),
    min_size=1,
    max_size=40,
)
model_strategy = st.builds(
    PrivacyModel,
    k=st.integers(1, 4),
    l=st.one_of(st.none(), st.integers(1, 3)),
    l_kind=st.sampled_from(["distinct", "entropy"]),
    t=st.one_of(st.none(), st.sampled_from([0.2, 0.4, 0.7])),
    t_distance=st.sampled_from(["equal", "hierarchical"]),
    suppression=st.sampled_from([0.0, 0.1, 0.3]),
)


def brute(rows: list[dict[str, str]], model: PrivacyModel) -> tuple[float, list[tuple[int, ...]]] | None:
    """Independent brute force: min loss over all lattice nodes that meet the model within the limit."""
    gd = checker.global_distribution(rows, "s")
    limit = math.floor(model.suppression * len(rows) + 1e-9)
    best: float | None = None
    for node in checker.all_nodes([3, 2, 1]):
        g = checker.generalise(rows, QIS, HS, node)
        bad = checker.failing_rows(
            g,
            QIS,
            k=model.k,
            sensitive="s",
            l=model.l,
            l_kind=model.l_kind,
            t=model.t,
            t_distance=model.t_distance,
            global_dist=gd,
            sensitive_tree=SENS,
        )
        if len(bad) <= limit:
            loss = checker.loss(rows, QIS, HS, node, bad)
            best = loss if best is None else min(best, loss)
    return None if best is None else (best, [])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=rows_strategy, model=model_strategy)
def test_given_random_tables_when_searching_then_output_meets_model_and_loss_is_brute_force_optimal(
    rows: list[dict[str, str]], model: PrivacyModel
) -> None:
    # given
    df = pl.DataFrame(rows, schema={"num": pl.String, "col": pl.String, "sex": pl.String, "s": pl.String})
    hs = {q: hier(q) for q in QIS}
    enc = encode(df, QIS, hs, sensitive="s", sensitive_hierarchy=hier("s"))
    expected = brute(rows, model)
    # when
    try:
        result = search(enc, model)
    except NoSolution:
        # then: the brute force finds no node either
        assert expected is None
        return
    # then: same optimum as the brute force
    assert expected is not None
    assert result.best.loss == pytest.approx(expected[0], abs=1e-9)
    # and the released table meets every model, checked independently
    out, suppressed = apply(df, enc, model, result.best.node)
    released = out.to_dicts()
    assert int(suppressed.sum()) <= math.floor(model.suppression * len(rows) + 1e-9)
    assert len(released) + int(suppressed.sum()) == len(rows)
    if released:
        assert checker.is_k_anonymous(released, QIS, model.k)
        gd = checker.global_distribution(rows, "s")
        if model.l is not None and model.l_kind == "distinct":
            assert checker.distinct_l(released, QIS, "s") >= model.l
        if model.l is not None and model.l_kind == "entropy":
            assert checker.entropy_l_ok(released, QIS, "s", model.l)
        if model.t is not None:
            for ix in checker.groups(released, QIS).values():
                vals = [released[i]["s"] for i in ix]
                d = (
                    checker.hierarchical_emd(vals, gd, SENS)
                    if model.t_distance == "hierarchical"
                    else checker.equal_emd(vals, gd)
                )
                assert d <= model.t + 1e-9
    # and the values are the hierarchy's labels at the chosen levels
    expected_rows = checker.generalise(rows, QIS, HS, result.best.node)
    kept = [r for i, r in enumerate(expected_rows) if not suppressed[i]]
    assert sorted(tuple(r[q] for q in QIS) for r in kept) == sorted(
        tuple(r[q] for q in QIS) for r in released
    )


def test_given_hand_table_when_k2_then_known_optimum() -> None:
    # given: ages 20,21 (same pair) and 22,23 (same pair): k=2 needs the pair level for num, nothing else
    rows = [
        {"num": "0", "col": "red", "sex": "F", "s": "a"},
        {"num": "1", "col": "red", "sex": "F", "s": "b"},
        {"num": "2", "col": "blue", "sex": "M", "s": "a"},
        {"num": "3", "col": "blue", "sex": "M", "s": "c"},
    ]
    df = pl.DataFrame(rows)
    enc = encode(df, QIS, {q: hier(q) for q in QIS})
    # when
    result = search(enc, PrivacyModel(k=2))
    # then: num at level 1; loss = (1/3 per record for num) / 3 QIs = 1/9
    assert result.best.node == (1, 0, 0)
    assert result.best.loss == pytest.approx(1 / 9)


def test_given_adult_when_k5_then_output_is_5_anonymous_and_risk_drops() -> None:
    # given
    df = pl.read_csv(ADULT / "adult.csv", separator=";", infer_schema=False)
    qis = [c for c in df.columns if c != "salary-class"]
    hs = {c: read_csv_hierarchy(ADULT / f"adult_hierarchy_{c}.csv", name=c) for c in df.columns}
    # when
    result = anonymise(
        df, qis, hs, PrivacyModel(k=5, suppression=0.02), keys=InMemoryKeySource(), sensitive="salary-class"
    )
    # then
    released = result.data.to_dicts()
    assert checker.is_k_anonymous(released, qis, 5)
    assert result.suppressed <= math.floor(0.02 * df.height)
    assert result.risk_after.prosecutor_max <= 0.2
    assert result.search.nodes_checked < result.search.lattice_size


def test_given_missing_hierarchy_when_encoding_then_clear_error() -> None:
    df = pl.DataFrame({"num": ["1", "9"], "s": ["a", "b"]})
    with pytest.raises(DatasetError):
        encode(df, ["num"], {})
    with pytest.raises(Exception, match="missing from its hierarchy"):
        encode(df, ["num"], {"num": hier("num")})


def test_given_bad_model_when_searching_then_refused() -> None:
    df = pl.DataFrame({"num": ["1", "2"]})
    enc = encode(df, ["num"], {"num": hier("num")})
    with pytest.raises(DatasetError):
        search(enc, PrivacyModel(k=0))
    with pytest.raises(DatasetError):
        search(enc, PrivacyModel(k=2, l=2))  # l without a sensitive attribute
    with pytest.raises(DatasetError):
        search(enc, PrivacyModel(k=2, suppression=1.5))


def test_given_too_few_records_when_k_exceeds_them_then_no_solution() -> None:
    df = pl.DataFrame({"num": ["1", "2"]})
    enc = encode(df, ["num"], {"num": hier("num")})
    with pytest.raises(NoSolution):
        search(enc, PrivacyModel(k=3))
