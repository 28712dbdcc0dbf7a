"""The privacy center's request pages (issue 18): the form (入力 → 確認 → 完了) that states what the address is
used for and the published notice's version before submission (R-21-2), the receipt, the status with the code
form, the categories held and the scope after verification (R-37-1), the answer downloaded (R-33-1)."""

from __future__ import annotations

import re

import pytest

from mamori.kernel.context import SYSTEM_ACTOR
from mamori.rights.schemas import KINDS
from mamori.staff import service as staff_service
from tests.api.conftest import Api
from tests.factories import make_customer
from tests.rights.center import (
    A_EMAIL,
    COOKIE,
    ORIGIN,
    code_for,
    count_requests,
    fields,
    form_token,
    verify,
)
from tests.rights.helpers import last_code


@pytest.fixture
def api(runtime):
    return Api(runtime)


@pytest.fixture
def hanako(api):
    with api.rt.transaction(SYSTEM_ACTOR, readonly=True) as s:
        po = staff_service.actor_for(s, "po")
    return make_customer(api.rt, po, name="佐藤 花子", email=A_EMAIL, phone="090-1111-2222")


def test_the_form_states_the_address_use_and_the_notice_version_before_submission_R_21_2(
    api, published_notice
):
    c, _ = api.client()
    r = c.get("/privacy/requests/new")
    assert r.status_code == 200
    html = r.text
    assert "set-cookie" not in r.headers and not c.cookies  # nothing started, nothing set
    # every kind the rights slice supports, in words
    for k in KINDS:
        assert f'value="{k}"' in html
    for word in (
        "開示",
        "訂正等",
        "利用停止等",
        "消去",
        "第三者提供の停止",
        "第三者提供記録の開示",
        "利用目的の通知",
    ):
        assert word in html
    # R-21-2: the purpose of the address and the notice's version, inside the form, before its button
    form = html[html.index('<form method="post" action="/privacy/requests/new"') :]
    form = form[: form.index("</form>")]
    assert f'name="notice_version" value="{published_notice}"' in form
    assert form.index('id="email-use"') < form.index('type="submit"')
    assert "ご本人であることの確認" in form and "この請求へのご回答" in form
    assert f"第{published_notice}版" in html and f'href="/privacy/notice/{published_notice}"' in html
    assert 'name="email" type="email" required' in html and "必須" in html
    en = c.get("/privacy/requests/new?lang=en")
    assert en.status_code == 200 and '<html lang="en">' in en.text
    assert (
        "We use this address only to verify" in en.text
        and 'action="/privacy/requests/new?lang=en"' in en.text
    )


def test_without_a_published_notice_the_form_points_to_the_contact_point_and_nothing_is_filed_R_21_2(api):
    c, _ = api.client()
    html = c.get("/privacy/requests/new").text
    assert 'action="/privacy/requests/new' not in html  # no form to submit
    assert "お問い合わせ窓口" in html
    r = c.post("/privacy/requests/send", data=fields(1, A_EMAIL), headers=ORIGIN, follow_redirects=False)
    assert r.status_code == 422 and "R-21-2" in r.text
    assert count_requests(api.rt) == 0 and not c.cookies


@pytest.mark.parametrize("version", [None, 99])
def test_a_request_without_the_shown_notice_version_is_refused_R_21_2(api, published_notice, version):
    c, _ = api.client()
    for path in ("/privacy/requests/new", "/privacy/requests/send"):
        r = c.post(path, data=fields(version, A_EMAIL), headers=ORIGIN, follow_redirects=False)
        assert r.status_code == 422, (path, r.status_code)
        assert "R-21-2" in r.text and "公表事項" in r.text
        assert A_EMAIL not in r.text  # the refused input is not echoed
    assert count_requests(api.rt) == 0 and not c.cookies


def test_confirm_shows_what_will_be_sent_and_back_keeps_the_input(api, published_notice):
    c, _ = api.client()
    data = fields(published_notice, A_EMAIL, "stop_use", stop_scope="all", regime="appi")
    r = c.post("/privacy/requests/new", data=data, headers=ORIGIN)
    assert r.status_code == 200, r.text
    assert (
        "入力内容の確認" in r.text
        and A_EMAIL in r.text
        and "利用停止等" in r.text
        and "すべての利用" in r.text
    )
    assert 'action="/privacy/requests/send"' in r.text and 'aria-current="step"' in r.text
    assert "set-cookie" not in r.headers and not c.cookies
    back = c.post("/privacy/requests/new", data={**data, "back": "1"}, headers=ORIGIN)
    assert back.status_code == 200
    assert f'value="{A_EMAIL}"' in back.text
    assert re.search(r'value="stop_use" required checked', back.text)
    assert re.search(r'<option value="all" selected>', back.text)
    assert re.search(r'<option value="appi" selected>', back.text)
    # what a kind needs: a stop of one purpose names the purpose (refused on the confirm step, in words)
    bad = c.post(
        "/privacy/requests/new",
        data=fields(published_notice, A_EMAIL, "stop_use", stop_scope="purpose"),
        headers=ORIGIN,
    )
    assert bad.status_code == 422 and "利用目的" in bad.text and A_EMAIL not in bad.text
    # a GDPR-only kind under the APPI is refused with the rule id
    gdpr = c.post(
        "/privacy/requests/new",
        data=fields(published_notice, A_EMAIL, "portability", regime="appi"),
        headers=ORIGIN,
    )
    assert gdpr.status_code == 422 and "G-12" in gdpr.text


def test_the_person_files_verifies_narrows_and_downloads_the_answer(api, published_notice, hanako):
    c, _ = api.client()
    r = c.post(
        "/privacy/requests/send",
        data=fields(published_notice, A_EMAIL),
        headers=ORIGIN,
        follow_redirects=False,
    )
    assert r.status_code == 303
    rid = r.headers["location"].split("/")[3]
    # the token: a cookie set only now, bound to this request's path, never in a URL
    cookie = r.headers["set-cookie"]
    token = c.cookies.get(COOKIE)
    assert token and token not in r.headers["location"]
    assert cookie.startswith(f"{COOKIE}=")
    low = cookie.lower()
    assert "httponly" in low and "samesite=strict" in low and "secure" in low
    assert f"path=/privacy/requests/{rid}" in low and "max-age=5184000" in low
    # the request stores the version of the notice the form showed (R-21-2)
    from sqlalchemy import text

    with api.rt.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        stored = ctx.session.execute(
            text("SELECT notice_version FROM rights_requests WHERE id = :i"), {"i": rid}
        ).scalar_one()
    assert stored == published_notice
    done = c.get(r.headers["location"])
    assert done.status_code == 200
    assert re.search(r"R-\d{4}-\d{6}", done.text) and "回答期限" in done.text and "年" in done.text
    assert "当社に登録されている場合は" in done.text
    assert f'href="/privacy/requests/{rid}"' in done.text and 'aria-current="step"' in done.text
    status = c.get(f"/privacy/requests/{rid}")
    assert status.status_code == 200 and "受付済み" in status.text and 'name="code"' in status.text
    assert "佐藤" not in status.text and "連絡先" not in status.text  # nothing shown before verification
    code = last_code(api.rt, A_EMAIL)
    wrong = "000000" if code != "000000" else "111111"
    bad = verify(c, rid, wrong)
    assert (
        bad.status_code == 422
        and "確認コードが違うか、有効期限が切れています。あと4回入力できます。" in bad.text
    )
    assert wrong not in bad.text
    ok = verify(c, rid, code)
    assert ok.status_code == 303 and ok.headers["location"] == f"/privacy/requests/{rid}"
    page = c.get(f"/privacy/requests/{rid}").text
    assert "本人確認済み" in page and 'name="code"' not in page
    assert "連絡先" in page and "基本情報" in page and 'value="customers:contact"' in page
    assert code not in page
    # narrow the request to the contact details
    scoped = c.post(
        f"/privacy/requests/{rid}/scope",
        data={"categories": ["customers:contact"], "form": form_token(page)},
        headers=ORIGIN,
        follow_redirects=False,
    )
    assert scoped.status_code == 303
    empty = c.post(
        f"/privacy/requests/{rid}/scope",
        data={"form": form_token(page)},
        headers=ORIGIN,
        follow_redirects=False,
    )
    assert empty.status_code == 422 and "1つ以上" in empty.text
    # no download before the answer
    early = c.get(f"/privacy/requests/{rid}/package?format=pdf")
    assert early.status_code == 403 and "R-33-1" in early.text
    # the privacy officer answers it (staff API)
    po, csrf = api.client("po")
    answered = po.post(f"/api/v1/rights/{rid}/fulfil", headers={"X-CSRF-Token": csrf}, json={})
    assert answered.status_code == 200, answered.text
    page = c.get(f"/privacy/requests/{rid}").text
    assert "回答済み" in page
    for f in ("pdf", "html", "csv", "json"):
        assert f'href="/privacy/requests/{rid}/package?format={f}"' in page
    pdf = c.get(f"/privacy/requests/{rid}/package?format=pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert pdf.headers["cache-control"] == "no-store"
    assert pdf.headers["content-disposition"].startswith("attachment;")
    assert pdf.headers["content-type"] == "application/pdf"
    data = c.get(f"/privacy/requests/{rid}/package?format=json")
    assert data.status_code == 200 and A_EMAIL in data.text
    records = data.json()["records"]
    assert {r["category"] for r in records} == {"contact"}  # the scope the person chose
    for f in ("csv", "html"):
        got = c.get(f"/privacy/requests/{rid}/package?format={f}")
        assert got.status_code == 200 and got.headers["content-disposition"].startswith("attachment;")
    bad_format = c.get(f"/privacy/requests/{rid}/package?format=docx")
    assert bad_format.status_code == 422 and "docx" not in bad_format.text
    # another browser (no cookie) gets nothing
    other, _ = api.client()
    assert other.get(f"/privacy/requests/{rid}/package?format=pdf").status_code == 404


def test_pages_in_english(api, published_notice, hanako):
    c, _ = api.client()
    r = c.post(
        "/privacy/requests/send?lang=en",
        data=fields(published_notice, A_EMAIL),
        headers=ORIGIN,
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"].endswith("/received?lang=en")
    done = c.get(r.headers["location"])
    assert "We have received your request" in done.text and "Receipt number" in done.text
    rid = r.headers["location"].split("/")[3]
    status = c.get(f"/privacy/requests/{rid}?lang=en").text
    assert "Received (waiting for you to verify)" in status and 'action="/privacy/requests/' in status
    bad = verify(
        c,
        rid,
        "000000" if code_for(api.rt, A_EMAIL) != "000000" else "111111",
        form_token(status),
        "?lang=en",
    )
    assert "Wrong or expired code. 4 tries left." in bad.text
