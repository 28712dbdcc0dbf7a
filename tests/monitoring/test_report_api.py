"""``GET /api/v1/monitoring/report`` (issue 25 "Deliver" 4): JSON, the HTML document and the PDF with the right
content types and headers; bad input as problem+json without the value; other roles refused (403, R-23-2,
audited), anonymous 401. Synthetic data only."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from tests.api.conftest import Api
from tests.monitoring.test_report_support import CUSTOMER, december_clock, no_external_url, november

URL = "/api/v1/monitoring/report"


@pytest.fixture
def clock():
    return december_clock()


@pytest.fixture
def story(api: Api) -> Api:
    november(api.rt)
    return api


def test_json_html_and_pdf(story: Api) -> None:
    po, _ = story.client("po")
    r = po.get(URL)  # the previous month by default
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/json" and r.headers["cache-control"] == "no-store"
    got = r.json()
    assert got["month"] == "2026-11" and got["generated_by_role"] == "privacy_officer"
    assert got["activity"]["total"]["entries"] == 120
    assert (got["requests"]["received"], got["requests"]["on_time"], got["requests"]["late"]) == (6, 2, 3)
    assert got["incidents"]["prelim"] == {"on_time": 1, "late": 0, "overdue": 1, "pending": 0}
    assert got["access_review"]["last_closed"]["ref"] == "AR-2026-Q3"
    assert CUSTOMER["name"] not in r.text and CUSTOMER["phone"] not in r.text

    r = po.get(URL, params={"month": "2026-11", "format": "html"})
    assert r.status_code == 200 and r.headers["content-type"] == "text/html; charset=utf-8"
    assert r.text.startswith("<!DOCTYPE html>") and no_external_url(r.text)
    assert "個人情報保護 月次ガバナンス報告（令和8年11月）" in r.text
    csp = r.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "'sha256-" in csp and "unsafe-inline" not in csp

    r = po.get(URL, params={"month": "2026-11", "format": "pdf"})
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert r.headers["content-disposition"] == 'attachment; filename="governance-report-2026-11.pdf"'
    assert r.content.startswith(b"%PDF")
    text = "".join("".join(p.extract_text() for p in PdfReader(io.BytesIO(r.content)).pages).split())
    assert "令和8年11月" in text and CUSTOMER["name"] not in text

    made = [e for e in story.rt.audit.tail(100) if e.action == "monitoring.report" and e.decision == "info"]
    assert [(e.details["month"], e.details["format"]) for e in made] == [
        ("2026-11", "json"),
        ("2026-11", "html"),
        ("2026-11", "pdf"),
    ]


def test_english_and_the_administrator(story: Api) -> None:
    admin, _ = story.client("admin")
    r = admin.get(URL, params={"format": "html"}, headers={"Accept-Language": "en"})
    assert r.status_code == 200 and '<html lang="en">' in r.text
    assert "Monthly privacy governance report (November 2026)" in r.text


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"month": "2026-13"}, "bad_month"),
        ({"month": "last-month"}, "bad_month"),
        ({"month": "2027-01"}, "future_month"),
        ({"format": "docx"}, "bad_format"),
    ],
)
def test_bad_input(story: Api, params: dict[str, str], code: str) -> None:
    po, _ = story.client("po")
    r = po.get(URL, params=params)
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == code and "last-month" not in r.text and "docx" not in r.text


def test_a_month_too_long_is_refused_before_the_service(story: Api) -> None:
    po, _ = story.client("po")
    r = po.get(URL, params={"month": "2026-11" * 4})
    assert r.status_code == 422 and "2026-11" * 4 not in r.text


@pytest.mark.parametrize("who", ["sato", "support", "analyst"])
def test_other_roles_are_refused(story: Api, who: str) -> None:
    c, _ = story.client(who)
    r = c.get(URL, params={"month": "2026-11", "format": "pdf"})
    assert r.status_code == 403 and r.json()["rule_id"] == "R-23-2"
    denied = [e for e in story.rt.audit.tail(20) if e.action == "monitoring.report"]
    assert [(e.decision, e.actor) for e in denied] == [("deny", f"staff:{story.ids[who]}")]
    anonymous, _ = story.client()
    assert anonymous.get(URL).status_code == 401
