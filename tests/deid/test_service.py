"""The deid service on both stores: the dataset register and guard, the key rules (R-41-2, R-41-5, R-43-5)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from mamori.deid import service
from mamori.kernel.errors import PolicyDenied
from mamori.kernel.registry import DatasetUse, check_dataset_use
from tests.factories import seed_basics


def frame() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "customer_id": [f"C{i}" for i in range(12)],
            "name": [f"名前{i}" for i in range(12)],
            "age": [str(20 + i % 4 * 10) for i in range(12)],
        }
    )


def test_registered_datasets_are_refused_at_intake_by_their_bytes(runtime, tmp_path: Path) -> None:
    actors = seed_basics(runtime)
    pseudo, anon = tmp_path / "p.csv", tmp_path / "a.csv"
    with runtime.transaction(actors["po"], "contract") as ctx:
        out = service.pseudonymise(ctx, frame(), source_name="c.csv", output=pseudo)
        assert out.dataset_id
    with runtime.transaction(actors["analyst"], "contract") as ctx:
        from mamori.deid.tabular.engine import PrivacyModel
        from mamori.deid.tabular.hierarchy import builtin_hierarchy

        hs = {"age": builtin_hierarchy("age", frame()["age"].unique().to_list(), "age")}
        service.anonymise(ctx, frame(), ["age"], hs, PrivacyModel(k=3), source_name="c.csv", output=anon)
    for path, rule in ((pseudo, "R-41-5"), (anon, "R-43-5")):
        moved = tmp_path / f"moved-{path.name}"
        moved.write_bytes(path.read_bytes())  # no manifest beside it: recognised by the register
        use = DatasetUse(
            use="customer.import", file_name=moved.name, sha256=service._sha256(moved), path=moved
        )
        with runtime.transaction(actors["po"], readonly=True) as ctx, pytest.raises(PolicyDenied) as exc:
            check_dataset_use(ctx, use)
        assert exc.value.rule_id == rule
    other = tmp_path / "other.csv"
    other.write_text("name\n山田\n", encoding="utf-8")
    with runtime.transaction(actors["po"], readonly=True) as ctx:
        check_dataset_use(ctx, DatasetUse("customer.import", other.name, service._sha256(other), other))


def test_only_the_privacy_officer_reaches_the_keys(runtime) -> None:
    actors = seed_basics(runtime)
    for who in ("analyst", "sato", "admin"):
        with runtime.transaction(actors[who]) as ctx, pytest.raises(PolicyDenied) as exc:
            service.create_key(ctx)
        assert exc.value.rule_id == "R-41-2"
    with runtime.transaction(actors["po"]) as ctx:
        assert service.create_key(ctx) is True
        assert service.destroy_key(ctx, "deid.pseudonym.hmac") is True
        with pytest.raises(PolicyDenied):
            service.destroy_key(ctx, "blind_index")
