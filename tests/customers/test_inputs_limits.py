"""Issue 17, inputs at their limits: one customer with 20,000 e-mails was accepted, and a 50 MB CSV line ended in a
traceback. Now a record holds at most 20 e-mail addresses and 20 numbers (422 / one CLI line), and an import
with an over-long line or field is refused in one line naming the line, with nothing written."""

from __future__ import annotations

import copy

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from mamori.cli.main import app
from mamori.customers.models import Customer, ImportJob
from mamori.customers.schemas import MAX_EMAILS, MAX_PHONES
from mamori.customers.service.import_checks import MAX_FIELD_CHARS, MAX_LINE_BYTES
from tests.api.conftest import Api
from tests.factories import point_env_at

API = "/api/v1"
NEW = {
    "customer": {"name": "山田 花子", "kana": "ヤマダ ハナコ", "emails": ["hanako@example.jp"]},
    "provenance": {"method": "direct", "channel": "web_form", "notice_version": "n-2026"},
    "purposes": ["contract"],
}


@pytest.fixture
def api(runtime):
    return Api(runtime)


@pytest.fixture
def run(api, monkeypatch):
    point_env_at(monkeypatch, api.rt.settings)
    runner = CliRunner()
    return lambda *args: runner.invoke(app, list(args), catch_exceptions=False)


def _count(rt, model) -> int:
    with rt.sessions() as s:
        return int(s.execute(select(func.count()).select_from(model)).scalar_one())


def _one_line(r) -> str:
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, r.output
    return lines[0]


def _emails(n: int) -> list[str]:
    return [f"person{i:05d}@example.jp" for i in range(n)]


def test_the_api_refuses_more_than_20_emails_or_phones_on_create_and_update(api):
    c, csrf = api.client("sato")
    h = {"X-CSRF-Token": csrf}
    for field, values in (
        ("emails", _emails(MAX_EMAILS + 1)),
        ("emails", _emails(20_000)),
        ("phones", [f"090-{1000 + i:04d}-{5678:04d}" for i in range(MAX_PHONES + 1)]),
    ):
        body = copy.deepcopy(NEW)
        body["customer"][field] = values
        r = c.post(f"{API}/customers", json=body, headers=h)
        assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json"), (
            r.text
        )
        assert f"{MAX_EMAILS}件以内" in r.text and "person00000" not in r.text and "090-1000" not in r.text
    assert _count(api.rt, Customer) == 0
    body = copy.deepcopy(NEW)
    body["customer"]["emails"] = _emails(MAX_EMAILS)  # the limit itself is accepted
    r = c.post(f"{API}/customers", json=body, headers=h)
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    r = c.patch(
        f"{API}/customers/{cid}",
        json={"add_emails": _emails(MAX_EMAILS + 1)},
        headers={**h, "Mamori-Purpose": "contract"},
    )
    assert r.status_code == 422, r.text
    # without a session: 401, whatever the body
    anon, _ = api.client()
    assert anon.post(f"{API}/customers", json=body).status_code == 401


def test_the_cli_refuses_more_than_20_emails_in_one_line(api, run):
    args = ["--as", "sato", "customers", "add", "--name", "山田 花子", "-p", "contract"]
    for e in _emails(MAX_EMAILS + 1):
        args += ["--email", e]
    r = run(*args)
    assert r.exit_code != 0 and "20件以内" in _one_line(r) and "person00000" not in r.output
    assert _count(api.rt, Customer) == 0


def _csv(tmp_path, body: str):
    path = tmp_path / "import.csv"
    path.write_text("name,email\n" + body, encoding="utf-8")
    return path


def test_an_import_with_an_over_long_line_is_refused_naming_the_line(api, run, tmp_path):
    huge = "x" * (MAX_LINE_BYTES + 1)
    path = _csv(tmp_path, f"山田 太郎,taro@example.jp\n佐藤 花子,{huge}@example.jp\n")
    r = run("--as", "po", "customers", "import", str(path), "-p", "contract", "--source", "展示会")
    line = _one_line(r)
    assert r.exit_code != 0 and "3行目" in line and "line_too_long" in line and "xxxx" not in r.output
    assert "Traceback" not in r.output
    # a field that grows over many short lines (inside quotes) is refused the same way
    lines = "\n".join("y" * 1000 for _ in range(MAX_FIELD_CHARS // 1000 + 2))
    path = _csv(tmp_path, f'山田 太郎,taro@example.jp\n"{lines}",a@example.jp\n')
    r = run("--as", "po", "customers", "import", str(path), "-p", "contract", "--source", "展示会")
    line = _one_line(r)
    assert r.exit_code != 0 and "line_unreadable" in line and "yyyy" not in r.output
    assert _count(api.rt, Customer) == 0 and _count(api.rt, ImportJob) == 0  # nothing half-written
    # bad input and no right: an analyst may not import (R-23-2); the same file through the API is a 422
    r = run(
        "--as",
        "analyst",
        "customers",
        "import",
        str(_csv(tmp_path, "山田 太郎,t@example.jp\n")),
        "-p",
        "contract",
    )
    assert r.exit_code == 3 and "R-23-2" in r.stderr
    c, csrf = api.client("po")
    body = {"csv": "name,email\n山田 太郎," + huge + "\n", "purposes": ["contract"], "source": "展示会"}
    r = c.post(f"{API}/customers/imports", json=body, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 422 and r.json()["code"] == "line_too_long" and "xxxx" not in r.text
    assert "2行目" in r.json()["detail"] or "2行目" in r.text
    assert _count(api.rt, Customer) == 0


def test_an_import_line_with_more_than_20_emails_is_a_bad_line(api, run, tmp_path):
    many = ";".join(_emails(MAX_EMAILS + 1))
    path = _csv(tmp_path, f"山田 太郎,taro@example.jp\n佐藤 花子,{many}\n")
    r = run("--as", "po", "customers", "import", str(path), "-p", "contract", "--source", "展示会", "--json")
    assert "person00000" not in r.output and "20件以内" in r.output and "email" in r.output
    assert _count(api.rt, Customer) == 0  # a bad line stops the import unless --skip-bad-rows
    r = run(
        "--as",
        "po",
        "customers",
        "import",
        str(path),
        "-p",
        "contract",
        "--source",
        "展示会",
        "--skip-bad-rows",
        "--json",
    )
    assert r.exit_code == 0, r.output
    assert _count(api.rt, Customer) == 1


def test_the_limits_count_what_the_customer_already_holds(api):
    """Twenty-one e-mails cannot be reached one update at a time either (nor 101 attributes)."""
    c, csrf = api.client("sato")
    h = {"X-CSRF-Token": csrf}
    body = copy.deepcopy(NEW)
    body["customer"]["emails"] = _emails(MAX_EMAILS - 1)
    r = c.post(f"{API}/customers", json=body, headers=h)
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    url = f"{API}/customers/{cid}"
    h = {**h, "Mamori-Purpose": "contract"}
    etag = c.get(url, headers=h).headers["etag"]
    ok = c.patch(url, json={"add_emails": ["last@example.jp"]}, headers={**h, "If-Match": etag})
    assert ok.status_code == 200, ok.text
    etag = ok.headers["etag"]
    r = c.patch(url, json={"add_emails": ["one-more@example.jp"]}, headers={**h, "If-Match": etag})
    assert r.status_code == 422 and r.json()["code"] == "too_many_contacts", r.text
    assert "one-more" not in r.text
    shown = c.get(url, headers={"Mamori-Purpose": "contract"}).json()
    assert len(shown["emails"]) == MAX_EMAILS  # nothing of the refused update was written
