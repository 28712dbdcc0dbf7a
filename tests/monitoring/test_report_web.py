"""The governance report's web pages (issue 25 "Deliver" 4): ``/monitoring/report`` with its sections, the checklist
table, the month picker (the twelve months before this one) and the download links; the HTML and PDF downloads;
a malformed or future month as a 422 page without the value; other roles refused with R-23-2 (audited); no customer
value anywhere. Synthetic data only."""

from __future__ import annotations

import re

import pytest

from tests.api.conftest import Api
from tests.monitoring.test_report_support import (
    CUSTOMER,
    INCIDENT_TITLES,
    december_clock,
    no_external_url,
    november,
)

PAGE = "/monitoring/report"


@pytest.fixture
def clock():
    return december_clock()


@pytest.fixture
def story(api: Api) -> Api:
    november(api.rt)
    return api


def test_the_page(story: Api) -> None:
    po, _ = story.client("po")
    r = po.get(PAGE)
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    page = r.text
    assert '<h1 id="report-title">個人情報保護 月次ガバナンス報告（令和8年11月）</h1>' in page
    options = re.findall(r'<option value="(\d{4}-\d{2})"( selected)?>([^<]+)</option>', page)
    assert [v for v, _, _ in options] == [f"2026-{m:02d}" for m in range(11, 0, -1)] + ["2025-12"]
    assert [v for v, s, _ in options if s] == ["2026-11"]
    assert options[0][2] == "2026年11月（令和8年11月）"
    assert 'href="/monitoring/report.pdf?month=2026-11"' in page
    assert 'href="/monitoring/report.html?month=2026-11"' in page
    for section in ("overview", "activity", "alerts", "requests", "incidents", "access-review", "checklist"):
        assert f'id="section-{section}"' in page, section
    assert (
        '<th scope="row">営業担当者</th><td class="num">2</td><td class="num">2</td><td class="num">70</td>'
        in page
    )
    assert 'id="checklist-items"' in page and "利用目的の一覧を作成・公表しているか。" in page
    assert "40.0%" in page and "INC-0003" in page
    for value in (CUSTOMER["name"], CUSTOMER["phone"], CUSTOMER["email"], *INCIDENT_TITLES):
        assert value not in page
    # another month from the picker
    october = po.get(PAGE, params={"month": "2026-10"})
    assert october.status_code == 200 and "（令和8年10月）</h1>" in october.text
    assert '<option value="2026-10" selected>' in october.text
    made = [e for e in story.rt.audit.tail(100) if e.action == "monitoring.report" and e.decision == "info"]
    assert [(e.details["month"], e.details["format"]) for e in made] == [
        ("2026-11", "page"),
        ("2026-10", "page"),
    ]


def test_the_downloads(story: Api) -> None:
    po, _ = story.client("po")
    r = po.get(f"{PAGE}.pdf", params={"month": "2026-11"})
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert r.headers["content-disposition"] == 'attachment; filename="governance-report-2026-11.pdf"'
    assert r.content.startswith(b"%PDF")
    r = po.get(f"{PAGE}.html", params={"month": "2026-11"})
    assert r.status_code == 200 and r.headers["content-type"] == "text/html; charset=utf-8"
    assert r.headers["content-disposition"] == 'attachment; filename="governance-report-2026-11.html"'
    csp = r.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "'sha256-" in csp and "unsafe-inline" not in csp
    assert no_external_url(r.text) and "<style>" in r.text and CUSTOMER["name"] not in r.text
    admin, _ = story.client("admin")
    assert admin.get(PAGE, params={"month": "2026-11"}).status_code == 200


@pytest.mark.parametrize(
    ("path", "month"), [(PAGE, "2026-13"), (PAGE, "2030-01"), (f"{PAGE}.pdf", "next-year")]
)
def test_bad_months_are_a_422_page(story: Api, path: str, month: str) -> None:
    po, _ = story.client("po")
    r = po.get(path, params={"month": month})
    assert r.status_code == 422 and month not in r.text
    assert "対象月" in r.text or "まだ来ていない月" in r.text


@pytest.mark.parametrize("who", ["sato", "analyst", "support"])
def test_other_roles_get_the_refusal_page(story: Api, who: str) -> None:
    c, _ = story.client(who)
    for path in (PAGE, f"{PAGE}.pdf"):
        r = c.get(path, params={"month": "2026-11"})
        assert r.status_code == 403 and "R-23-2" in r.text and "INC-0003" not in r.text
    denied = [e for e in story.rt.audit.tail(20) if e.action == "monitoring.report"]
    assert [e.decision for e in denied] == ["deny", "deny"]


def test_signed_out_goes_to_sign_in(story: Api) -> None:
    anonymous, _ = story.client()
    r = anonymous.get(PAGE, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/sign-in"
