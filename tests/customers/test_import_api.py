"""POST /api/v1/customers/imports takes what the CLI takes (issue 19): an .xlsx or a CP932 file as base64, a mapping
with joins, a saved mapping by name, a dry run — and refuses bad input and the wrong role as problem+json."""

from __future__ import annotations

import base64
import functools
import io

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from mamori.customers.models import Customer, ImportJob
from tests.api.conftest import Api

API = "/api/v1"


@pytest.fixture
def api(runtime):
    return Api(runtime)


def _count(rt, model) -> int:
    with rt.sessions() as s:
        return int(s.execute(select(func.count()).select_from(model)).scalar_one())


@functools.cache
def _xlsx() -> bytes:
    """One file's bytes for the whole module: openpyxl stamps the time of saving into the workbook, so two saves a
    second apart are two different files (and a re-run is recognised by the file's digest)."""
    wb = Workbook()
    ws = wb.active
    ws.title = "顧客"
    ws.append(["姓", "名", "郵便番号", "住所", "電話 "])
    ws.append(["架空", "五郎", "100-0001", "千代田区千代田5-5", "TEL:03-3210-0005"])
    ws.append(["架空", "六子", "530-0001", "大阪府大阪市北区梅田6-6", "06-6345-0006 内線6"])
    ws.append([None, None, None, None, None])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def body(**extra):
    return {
        "file_base64": base64.b64encode(_xlsx()).decode(),
        "file_name": "顧客一覧.xlsx",
        "source": "営業部の顧客一覧",
        "purposes": ["contract"],
        "map": ["姓+名=name", "郵便番号=postal_code", "住所=address", "電話=phone"],
        **extra,
    }


def test_an_excel_file_imports_through_the_api_after_a_dry_run(api):
    c, csrf = api.client("po")
    before = _count(api.rt, Customer)
    dry = c.post(f"{API}/customers/imports", json=body(dry_run=True), headers={"X-CSRF-Token": csrf})
    assert dry.status_code == 201, dry.text
    assert dry.json()["dry_run"] and dry.json()["created"] == 2 and dry.json()["errors"] == []
    assert _count(api.rt, Customer) == before and _count(api.rt, ImportJob) == 0
    done = c.post(f"{API}/customers/imports", json=body(), headers={"X-CSRF-Token": csrf})
    assert done.status_code == 201 and done.json()["created"] == 2
    assert _count(api.rt, Customer) == before + 2
    again = c.post(f"{API}/customers/imports", json=body(), headers={"X-CSRF-Token": csrf})
    assert again.json()["created"] == 0 and len(again.json()["duplicates"]) == 2  # a re-run creates nothing


def test_bad_import_requests_are_problems_without_values(api):
    c, csrf = api.client("po")
    h = {"X-CSRF-Token": csrf}
    both = c.post(f"{API}/customers/imports", json=body(csv="name\n架空 七郎\n"), headers=h)
    assert both.status_code == 422
    bad64 = c.post(f"{API}/customers/imports", json=body(file_base64="%%%"), headers=h)
    assert bad64.status_code == 422 and bad64.json()["code"] == "bad_base64"
    conflict = c.post(f"{API}/customers/imports", json=body(map=["姓=name", "名=name"]), headers=h)
    assert conflict.status_code == 422 and conflict.json()["code"] == "mapping_conflict"
    missing = c.post(f"{API}/customers/imports", json=body(mapping_name="ない対応付け"), headers=h)
    assert missing.status_code == 404
    lines = c.post(f"{API}/customers/imports", json=body(map=["姓+名=name", "住所=address"]), headers=h)
    assert (
        lines.status_code == 201 and not lines.json()["written"]
    )  # no 都道府県 and no postal code on line 2
    assert [(e["line"], e["field"]) for e in lines.json()["errors"]] == [(2, "address")]
    assert lines.json()["unmapped_columns"] == {"郵便番号": "postal_code", "電話": "phone"}
    blank = c.post(f"{API}/customers/imports", json=body(source="  "), headers=h)
    assert blank.status_code == 403 and "R-20-1" in blank.text
    for r in (both, bad64, conflict, missing, blank, lines):
        assert "五郎" not in r.text and "3210" not in r.text
    assert _count(api.rt, ImportJob) == 0


def test_who_may_import_through_the_api(api):
    anon = api.client()[0].post(f"{API}/customers/imports", json=body())
    assert anon.status_code == 401
    c, csrf = api.client("analyst")
    r = c.post(f"{API}/customers/imports", json=body(), headers={"X-CSRF-Token": csrf})
    assert r.status_code == 403 and "R-23-2" in r.text
    c, csrf = api.client("sato")
    r = c.post(f"{API}/customers/imports", json=body(), headers={"X-CSRF-Token": csrf})
    assert r.status_code == 201 and r.json()["created"] == 2  # into the rep's own book
