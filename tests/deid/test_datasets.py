"""The register of de-identified datasets (`mamori deid datasets`, `GET /api/v1/deid/datasets`): who may read it,
what it shows (never a record value), bad input, and that reading it is audited."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from mamori.deid import service as deid_service
from mamori.deid.models import PSEUDONYMISED, DeidDataset
from mamori.kernel.context import SYSTEM_ACTOR
from mamori.kernel.db import new_id
from tests.api.conftest import Api
from tests.deid.conftest import Run
from tests.deid.test_service_cli import audit, one_line, table

API = "/api/v1"


def _make_datasets(cli: Run, tmp_path: Path) -> tuple[Path, Path]:
    src = table(tmp_path)
    pseudo, anon = tmp_path / "pseudo.csv", tmp_path / "anon.csv"
    r = cli(
        "--as", "hoshino", "deid", "pseudonymise", str(src), "-o", str(pseudo), "-p", "analytics", "--json"
    )
    assert r.exit_code == 0, r.output
    r = cli(
        "--as", "ito", "deid", "anonymise", str(src), "-o", str(anon), "-p", "analytics",
        "--qi", "age,prefecture", "--builtin", "age=age", "--builtin", "prefecture=prefecture",
        "--k", "2", "--json",
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    return src, pseudo


def test_officer_and_analyst_read_the_register_without_any_record_value(cli: Run, tmp_path: Path) -> None:
    src, pseudo = _make_datasets(cli, tmp_path)
    for who in ("hoshino", "ito"):
        r = cli("--as", who, "deid", "datasets", "--json")
        assert r.exit_code == 0, r.output
        items = json.loads(r.stdout)["items"]
        assert [i["kind"] for i in items] == ["anonymised", "pseudonymised"]  # newest first
        assert {i["kind_ja"] for i in items} == {"仮名加工情報", "匿名加工情報"}
        assert items[1]["file_name"] == "pseudo.csv" and items[1]["source_name"] == src.name
        assert items[1]["rows"] == pl.read_csv(pseudo).height and items[1]["purpose"] == "analytics"
        # column NAMES only: no cell of the source file appears anywhere in the answer
        cells = {str(v) for col in pl.read_csv(src).iter_columns() for v in col.to_list() if len(str(v)) > 3}
        assert not [c for c in cells if c in r.stdout]
    only = json.loads(cli("--as", "ito", "deid", "datasets", "--kind", "pseudonymised", "--json").stdout)
    assert [i["kind"] for i in only["items"]] == ["pseudonymised"]
    listed = [e for e in audit(cli) if e["action"] == "deid.datasets.list"]
    assert len(listed) == 3 and listed[-1]["details"]["count"] == 1
    # the table form, in Japanese by default
    r = cli("--as", "hoshino", "deid", "datasets")
    assert r.exit_code == 0 and "仮名加工情報" in r.stdout


@pytest.mark.parametrize("who", ["sato", "takahashi", "admin"])
def test_other_roles_may_not_read_the_register(cli: Run, who: str) -> None:
    r = cli("--as", who, "deid", "datasets", "--json")
    assert r.exit_code != 0
    assert "R-23-2" in one_line(r)
    denied = [e for e in audit(cli) if e["action"] == "deid.datasets" and e["decision"] == "deny"]
    assert denied


@pytest.mark.parametrize(("args", "word"), [(("--kind", "raw"), "種類"), (("--limit", "0"), "件数")])
def test_bad_input_is_one_line_naming_the_field(cli: Run, args: tuple[str, str], word: str) -> None:
    r = cli("--as", "hoshino", "deid", "datasets", *args)
    assert r.exit_code != 0
    line = one_line(r)
    assert "invalid_input" in line and word in line and "raw" not in line


# -- the API ---------------------------------------------------------------------------------------------------


@pytest.fixture
def api_with_a_dataset(runtime) -> Api:  # type: ignore[no-untyped-def]
    api = Api(runtime)
    with runtime.transaction(SYSTEM_ACTOR) as ctx:
        ctx.session.add(
            DeidDataset(
                id=new_id(),
                kind=PSEUDONYMISED,
                sha256="a" * 64,
                file_name="p.csv",
                source_name="export.csv",
                key_name="deid.pseudonym",
                columns="age,prefecture",
                rows=12,
                purpose="analytics",
                created_by="staff:x",
                created_at=runtime.clock.now(),
            )
        )
    return api


def test_api_lists_the_register_for_the_officer_and_the_analyst(api_with_a_dataset: Api) -> None:
    for who in ("po", "analyst"):
        c, _ = api_with_a_dataset.client(who)
        r = c.get(f"{API}/deid/datasets")
        assert r.status_code == 200, r.text
        body = r.json()
        assert len(body) == 1 and body[0]["columns"] == ["age", "prefecture"] and body[0]["rows"] == 12
        assert c.get(f"{API}/deid/datasets", params={"kind": "anonymised"}).json() == []


def test_api_refuses_other_roles_unauthenticated_and_bad_input(api_with_a_dataset: Api) -> None:
    anonymous, _ = api_with_a_dataset.client()
    assert anonymous.get(f"{API}/deid/datasets").status_code == 401
    for who in ("sato", "support", "admin"):
        c, _ = api_with_a_dataset.client(who)
        r = c.get(f"{API}/deid/datasets")
        assert r.status_code == 403 and r.json()["rule_id"] == "R-23-2"
    c, _ = api_with_a_dataset.client("po")
    for params in ({"kind": "raw"}, {"limit": "0"}, {"limit": str(deid_service.MAX_LIST + 1)}):
        r = c.get(f"{API}/deid/datasets", params=params)
        assert r.status_code == 422 and "raw" not in r.text
