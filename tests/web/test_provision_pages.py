"""The third-party provision screens of the staff web app (issue 15) without a browser: counterparties with their
alerts in words and rule ids, information sheets and the yearly 基準適合体制 review, the provide wizard
(入力 → 確認 → 完了: the preview writes nothing and shows each refused person with the rule id), provision and
receipt records, receiving from a provider (R-30-1 confirmation, then the file).

Each page: the happy path as the privacy officer, other roles refused (403 page, nothing written), bad input (404
for an unknown id, 422 for missing fields or bad dates), a write without its CSRF token refused and changing
nothing, no personal value in any URL, CSP and no-store.
"""

from __future__ import annotations

import csv
import io
import os
import re
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import pytest

from mamori.kernel.context import SYSTEM_ACTOR, Role
from mamori.provision import service
from mamori.provision.schemas import CounterpartyIn, ProvisionConsentIn
from mamori.provision.service import receiving
from mamori.staff import service as staff_service
from tests.api.conftest import Api
from tests.factories import make_customer
from tests.staff.helpers import make_staff

NAMES = ("山田 太郎", "佐藤 花子", "鈴木 一郎")
EMAILS = ("taro.yamada@example.jp", "hanako.sato@example.jp", "ichiro.suzuki@example.jp")
OTHERS = ("sato", "support", "analyst")


@pytest.fixture
def api(runtime):
    return Api(runtime)


def _actor(api, username="po"):
    with api.rt.transaction(SYSTEM_ACTOR, readonly=True) as s:
        return staff_service.actor_for(s, username)


def _cp(api, **over):
    data = {
        "kind": "third_party",
        "name": "架空データ販売株式会社",
        "address": "東京都港区架空1-2-3",
        "representative": "代表取締役 架空一郎",
        "country": "JP",
        **over,
    }
    with api.rt.transaction(_actor(api)) as ctx:
        return service.add_counterparty(ctx, CounterpartyIn.model_validate(data)).id


@pytest.fixture
def people(api):
    po = _actor(api)
    return [
        make_customer(api.rt, po, name=n, email=e, phone=None, kana=None)
        for n, e in zip(NAMES, EMAILS, strict=True)
    ]


def _consent(api, cid, cp, purpose="contract"):
    with api.rt.transaction(_actor(api)) as ctx:
        service.grant_consent(
            ctx,
            ProvisionConsentIn(
                customer_id=cid, counterparty_id=cp, purpose=purpose, method="checkbox", evidence="form-7"
            ),
        )


def _records(api):
    with api.rt.transaction(_actor(api), readonly=True) as ctx:
        return service.list_records(ctx)


def _counterparties(api):
    with api.rt.transaction(_actor(api), readonly=True) as ctx:
        return service.list_counterparties(ctx)


def _page_headers(r):
    assert r.headers["cache-control"] == "no-store"
    csp = r.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "unsafe-inline" not in csp
    assert "<script>" not in r.text and 'style="' not in r.text


def _no_personal_value_in(r):
    """Neither the response's URL nor any link or form action holds a name or an e-mail address."""
    urls = [str(r.url), *(str(h.url) for h in r.history), *(h.headers.get("location", "") for h in r.history)]
    urls += re.findall(r'(?:href|action)="([^"]*)"', r.text)
    for url in urls:
        for v in (*NAMES, *EMAILS, "yamada", "hanako", "example.jp"):
            assert v not in url, (v, url)


def _provide_form(cp, ids, csrf, **over):
    body = {
        "csrf": csrf,
        "counterparty_id": cp,
        "purpose": "contract",
        "fields": ["name", "email"],
        "basis": "consent",
        "selection": "ids",
        "customer_ids": "\n".join(ids),
    }
    body.update(over)
    return body


# -- sign-in ---------------------------------------------------------------------------------------------------------


def test_every_provision_page_needs_a_session(api):
    anon, _ = api.client()
    some = "0" * 32
    for method, path in [
        ("GET", "/provision"),
        ("GET", "/provision/counterparties/new"),
        ("POST", "/provision/counterparties/new"),
        ("GET", f"/provision/counterparties/{some}"),
        ("POST", f"/provision/counterparties/{some}/sheets"),
        ("POST", f"/provision/counterparties/{some}/reviews"),
        ("GET", "/provision/provide"),
        ("POST", "/provision/provide"),
        ("GET", "/provision/records"),
        ("GET", f"/provision/records/{some}"),
        ("GET", "/provision/receipts"),
        ("GET", "/provision/receipts/new"),
        ("POST", "/provision/receipts/new"),
        ("GET", f"/provision/receipts/{some}"),
    ]:
        r = anon.request(method, path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/sign-in", (method, path)


# -- counterparties --------------------------------------------------------------------------------------------------


def test_counterparties_list_in_words_with_alerts_and_rule_ids_R_28_2_R_28_3(api):
    _cp(api)
    _cp(api, name="Fictional Analytics Inc.", country="US")  # abroad, no sheet, no system → R-28-2
    sys_cp = _cp(
        api,
        name="Fictional Cloud Ltd.",
        country="US",
        system_kind="contract",
        system_reference="DPA-1",
        system_reviewed_at="2025-11-01T00:00:00+09:00",
    )
    api.rt.clock.advance(timedelta(days=30))  # the review of sys_cp falls due (R-28-3)
    po, _ = api.client("po")
    r = po.get("/provision")
    assert r.status_code == 200, r.text
    _page_headers(r)
    assert "提供先・提供元" in r.text and "架空データ販売株式会社" in r.text
    assert "第三者" in r.text and "国内: 日本" in r.text and "外国: アメリカ合衆国（US）" in r.text
    assert "外国の制度等の情報が未登録" in r.text and "R-28-2" in r.text
    assert "基準適合体制の年次確認の期限切れ" in r.text and "R-28-3" in r.text
    assert f'href="/provision/counterparties/{sys_cp}"' in r.text
    assert 'href="/provision"' in r.text  # the layout's nav links to the section
    only = po.get("/provision", params={"kind": "outsourcee"})
    assert only.status_code == 200 and "架空データ販売株式会社" not in only.text


def test_counterparties_in_english(api):
    _cp(api)
    po, _ = api.client("po")
    po.cookies.set("mamori_lang", "en")
    r = po.get("/provision")
    assert r.status_code == 200 and "Counterparties" in r.text and "Third party" in r.text


@pytest.mark.parametrize("username", OTHERS)
def test_other_roles_are_refused_every_provision_page(api, username):
    cp = _cp(api)
    c, csrf = api.client(username)
    for path in (
        "/provision",
        "/provision/counterparties/new",
        f"/provision/counterparties/{cp}",
        "/provision/provide",
        "/provision/records",
        "/provision/receipts",
        "/provision/receipts/new",
    ):
        r = c.get(path)
        assert r.status_code == 403, (username, path, r.status_code)
        assert "権限では、この操作はできません" in r.text
        assert "R-23-2" in r.text
    before = len(_counterparties(api))
    r = c.post(
        "/provision/counterparties/new",
        data={
            "csrf": csrf,
            "kind": "third_party",
            "name": "x",
            "address": "y",
            "representative": "z",
            "country": "JP",
        },
    )
    assert r.status_code == 403 and len(_counterparties(api)) == before


def test_add_counterparty_then_its_page(api):
    po, csrf = api.client("po")
    form = po.get("/provision/counterparties/new")
    assert form.status_code == 200 and 'name="csrf"' in form.text and "必須" in form.text
    r = po.post(
        "/provision/counterparties/new",
        data={
            "csrf": csrf,
            "kind": "third_party",
            "name": "架空商会",
            "address": "大阪府大阪市架空1-1",
            "representative": "代表 架空",
            "country": "de",
        },
    )
    assert r.status_code == 200, r.text
    assert re.search(r"/provision/counterparties/[0-9a-f]{32}\?done=added$", str(r.url))
    assert "提供先を登録しました" in r.text and "架空商会" in r.text and "ドイツ" in r.text
    assert "EU・英国" in r.text  # an adequate country: no sheet needed (R-28-1)
    assert [c.name for c in _counterparties(api)] == ["架空商会"]


def test_add_counterparty_bad_input_is_a_422_page_and_nothing_written(api):
    po, csrf = api.client("po")
    r = po.post("/provision/counterparties/new", data={"csrf": csrf, "kind": "friend", "name": ""})
    assert r.status_code == 422
    assert "入力内容を確認してください" in r.text and "名称" in r.text
    r = po.post(
        "/provision/counterparties/new",
        data={
            "csrf": csrf,
            "kind": "third_party",
            "name": "a",
            "address": "b",
            "representative": "c",
            "country": "US",
            "system_kind": "contract",
            "system_reviewed_at": "2026-13-45",
        },
    )
    assert r.status_code == 422 and "2026-12-06 の形" in r.text
    r = po.post(  # a system for a domestic counterparty: the service's refusal with its rule id, on the form
        "/provision/counterparties/new",
        data={
            "csrf": csrf,
            "kind": "third_party",
            "name": "a",
            "address": "b",
            "representative": "c",
            "country": "JP",
            "system_kind": "contract",
        },
    )
    assert r.status_code == 422 and "R-28-1" in r.text
    assert _counterparties(api) == []


def test_add_counterparty_without_csrf_is_refused_and_nothing_written(api):
    po, _ = api.client("po")
    body = {"kind": "third_party", "name": "a", "address": "b", "representative": "c", "country": "JP"}
    r = po.post("/provision/counterparties/new", data=body)
    assert r.status_code == 403 and "CSRF" in r.text
    r = po.post("/provision/counterparties/new", data={**body, "csrf": "forged"})
    assert r.status_code == 403 and _counterparties(api) == []


def test_unknown_or_malformed_counterparty_is_a_404_page(api):
    po, csrf = api.client("po")
    for path in (f"/provision/counterparties/{'0' * 32}", "/provision/counterparties/not-an-id"):
        r = po.get(path)
        assert r.status_code == 404 and "見つかりません" in r.text
    r = po.post(
        f"/provision/counterparties/{'0' * 32}/sheets",
        data={"csrf": csrf, "protection_system": "a", "recipient_measures": "b"},
    )
    assert r.status_code == 404


def test_sheet_versions_and_review_R_28_2_R_28_3(api):
    cp = _cp(
        api,
        name="Fictional Cloud Ltd.",
        country="US",
        system_kind="contract",
        system_reviewed_at="2026-01-10T00:00:00+09:00",
    )
    po, csrf = api.client("po")
    r = po.get(f"/provision/counterparties/{cp}")
    assert (
        r.status_code == 200 and "外国の制度等の情報（R-28-2）" in r.text and "年次確認（R-28-3）" in r.text
    )
    r = po.post(
        f"/provision/counterparties/{cp}/sheets",
        data={"csrf": csrf, "protection_system": "架空の保護制度", "recipient_measures": "OECD8原則"},
    )
    assert r.status_code == 200 and "新しい版" in r.text and "架空の保護制度" in r.text
    assert _counterparties(api)[0].sheet_version == 1
    bad = po.post(f"/provision/counterparties/{cp}/sheets", data={"csrf": csrf, "protection_system": ""})
    assert bad.status_code == 422 and "外国の個人情報の保護に関する制度" in bad.text
    assert _counterparties(api)[0].sheet_version == 1
    nocsrf = po.post(
        f"/provision/counterparties/{cp}/sheets", data={"protection_system": "x", "recipient_measures": "y"}
    )
    assert nocsrf.status_code == 403 and _counterparties(api)[0].sheet_version == 1

    due_before = _counterparties(api)[0].system_review_due
    r = po.post(
        f"/provision/counterparties/{cp}/reviews", data={"csrf": csrf, "reviewed_at": "2026-11-20", "ok": "1"}
    )
    assert r.status_code == 200 and "確認を記録しました" in r.text
    after = _counterparties(api)[0]
    assert after.system_review_due != due_before and not after.system_stopped
    for bad_body in ({"reviewed_at": "2026/99/99", "ok": "1"}, {"ok": "maybe"}):
        r = po.post(f"/provision/counterparties/{cp}/reviews", data={"csrf": csrf, **bad_body})
        assert r.status_code == 422
    future = po.post(
        f"/provision/counterparties/{cp}/reviews", data={"csrf": csrf, "reviewed_at": "2027-06-01", "ok": "1"}
    )
    assert future.status_code == 422 and "R-28-3" in future.text
    stop = po.post(f"/provision/counterparties/{cp}/reviews", data={"ok": "0"})  # no CSRF
    assert stop.status_code == 403 and not _counterparties(api)[0].system_stopped
    stop = po.post(f"/provision/counterparties/{cp}/reviews", data={"csrf": csrf, "ok": "0"})
    assert stop.status_code == 200 and _counterparties(api)[0].system_stopped
    assert "基準適合体制による提供を停止中" in stop.text


def test_sales_cannot_add_a_sheet_or_review(api):
    cp = _cp(api, name="Fictional Cloud Ltd.", country="US", system_kind="contract")
    c, csrf = api.client("sato")
    r = c.post(
        f"/provision/counterparties/{cp}/sheets",
        data={"csrf": csrf, "protection_system": "a", "recipient_measures": "b"},
    )
    assert r.status_code == 403 and _counterparties(api)[0].sheet_version is None
    r = c.post(f"/provision/counterparties/{cp}/reviews", data={"csrf": csrf, "ok": "0"})
    assert r.status_code == 403 and not _counterparties(api)[0].system_stopped


# -- the provide wizard ----------------------------------------------------------------------------------------------


def test_wizard_form_lists_counterparties_purposes_items_and_bases(api):
    _cp(api)
    po, _ = api.client("po")
    r = po.get("/provision/provide")
    assert r.status_code == 200, r.text
    _page_headers(r)
    assert "架空データ販売株式会社" in r.text and "本人の同意" in r.text and "メールアドレス" in r.text
    assert 'method="post" action="/provision/provide"' in r.text and "入力" in r.text


def test_preview_writes_nothing_and_shows_the_refused_person_with_the_rule_id_R_27_1(api, people):
    cp = _cp(api)
    _consent(api, people[0], cp)
    _consent(api, people[1], cp)
    po, csrf = api.client("po")
    r = po.post("/provision/provide", data=_provide_form(cp, people, csrf))
    assert r.status_code == 200, r.text
    _page_headers(r)
    _no_personal_value_in(r)
    assert "まだ何も提供していません" in r.text
    assert people[2] in r.text and "R-27-1" in r.text
    assert "この提供先への提供について本人の同意がありません" in r.text
    assert "2人" in r.text and "1人" in r.text
    assert "提供できない顧客を除いて提供する" in r.text
    assert _records(api) == []  # nothing provided at step 2
    assert str(r.url).endswith("/provision/provide")


def test_confirm_all_or_nothing_refuses_then_skip_refused_writes_the_records(api, people):
    cp = _cp(api)
    _consent(api, people[0], cp)
    _consent(api, people[1], cp)
    po, csrf = api.client("po")
    r = po.post("/provision/provide", data=_provide_form(cp, people, csrf, step="confirm", skip_refused="0"))
    assert r.status_code == 403 and "何も提供していません" in r.text and people[2] in r.text
    assert _records(api) == []
    r = po.post("/provision/provide", data=_provide_form(cp, people, csrf, step="confirm", skip_refused="1"))
    assert r.status_code == 200, r.text
    assert r.history[0].status_code == 303  # Post/Redirect/Get: the result page is a GET
    assert re.search(r"/provision/provisions/[0-9a-f]{32}$", str(r.url))
    _page_headers(r)
    _no_personal_value_in(r)
    records = _records(api)
    assert len(records) == 2 and {x.customer_id for x in records} == set(people[:2])
    for rec in records:
        assert f'href="/provision/records/{rec.id}"' in r.text
    assert "2人分を提供し、第三者提供記録を2件作成しました" in r.text
    assert "除外した顧客" in r.text and "1人" in r.text and "完了" in r.text
    again = po.get(str(r.url))  # a reload shows the result again and provides nothing more
    assert again.status_code == 200 and "2人分を提供し" in again.text and len(_records(api)) == 2


def test_provision_result_page_unknown_id_and_other_roles(api, people):
    cp = _cp(api)
    _consent(api, people[0], cp)
    po, csrf = api.client("po")
    r = po.post("/provision/provide", data=_provide_form(cp, people[:1], csrf, step="confirm"))
    assert r.status_code == 200 and r.history
    assert po.get(f"/provision/provisions/{'0' * 32}").status_code == 404
    assert po.get("/provision/provisions/x").status_code == 404
    for username in OTHERS:
        c, _ = api.client(username)
        got = c.get(str(r.url))
        assert got.status_code == 403 and "R-23-2" in got.text, username


def test_confirm_everyone_consented(api, people):
    cp = _cp(api)
    for p in people:
        _consent(api, p, cp)
    po, csrf = api.client("po")
    preview = po.post("/provision/provide", data=_provide_form(cp, people, csrf))
    assert "提供できない顧客はいません" in preview.text and "提供を確定する" in preview.text
    r = po.post("/provision/provide", data=_provide_form(cp, people, csrf, step="confirm"))
    assert r.status_code == 200 and r.history and len(_records(api)) == 3


# -- handing over the provided data once ------------------------------------------------------------------------------

EXPORT_BUTTON = "提供データをダウンロード（1回限り）"


def _export_url(r):
    found = re.search(r'action="(/provision/provisions/[0-9a-f]{32}/export)"', r.text)
    return found.group(1) if found else None


def test_the_provided_data_is_handed_over_once_then_dropped(api, people):
    cp = _cp(api)
    _consent(api, people[0], cp)
    _consent(api, people[1], cp)
    po, csrf = api.client("po")
    r = po.post("/provision/provide", data=_provide_form(cp, people, csrf, step="confirm", skip_refused="1"))
    assert r.status_code == 200 and r.history[0].status_code == 303
    result = str(r.url)
    pid = result.rsplit("/", 1)[1]
    url = _export_url(r)
    assert url == f"/provision/provisions/{pid}/export" and EXPORT_BUTTON in r.text
    assert f'name="csrf" value="{csrf}"' in r.text
    _no_personal_value_in(r)

    # without the CSRF token: refused, and the export is still held
    r = po.post(url, data={})
    assert r.status_code == 403 and "CSRF" in r.text
    r = po.post(url, data={"csrf": "wrong"})
    assert r.status_code == 403
    assert EXPORT_BUTTON in po.get(result).text

    # another privacy officer (another user, another session) neither sees the form nor can download it
    api.ids["po2"], api.secrets["po2"] = make_staff(api.rt, "po2", Role.PRIVACY_OFFICER)
    other, other_csrf = api.client("po2")
    page = other.get(result)
    assert page.status_code == 200 and EXPORT_BUTTON not in page.text and _export_url(page) is None
    r = other.post(url, data={"csrf": other_csrf})
    assert r.status_code == 404 and "1回限り" in r.text and NAMES[0] not in r.text
    assert EXPORT_BUTTON in po.get(result).text  # still there for the one who provided

    # the download: the CSV with the provided customers and fields, not the refused person
    r = po.post(url, data={"csrf": csrf})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    assert (
        r.headers["content-disposition"].startswith("attachment;")
        and pid[:8] in r.headers["content-disposition"]
    )
    assert r.headers["cache-control"] == "no-store"
    assert "default-src 'self'" in r.headers["content-security-policy"]
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0] == ["customer_id", "name", "email"]
    assert sorted(rows[1:]) == sorted([[people[0], NAMES[0], EMAILS[0]], [people[1], NAMES[1], EMAILS[1]]])
    assert people[2] not in r.text and NAMES[2] not in r.text and EMAILS[2] not in r.text

    # one time: a second download is the 404 page; the result page says it was handed over
    r = po.post(url, data={"csrf": csrf})
    assert r.status_code == 404 and "1回限り" in r.text and "保持していません" in r.text
    assert NAMES[0] not in r.text and EMAILS[0] not in r.text
    page = po.get(result)
    assert page.status_code == 200 and EXPORT_BUTTON not in page.text and "引き渡し済み" in page.text

    # audited: who downloaded which customers' data, the provision id and the count — never a value
    [entry] = [e for e in api.rt.audit.tail(200) if e.action == "provision.export.download"]
    assert set(entry.subject_ids) == set(people[:2])
    details = dict(entry.details)
    assert str(details.pop("via")).startswith("session:")  # the browser session it came through (issue 22)
    assert details == {"provision_id": pid, "rows": 2}
    assert entry.decision == "info" and entry.actor_role == Role.PRIVACY_OFFICER.value
    assert NAMES[0] not in repr(entry) and EMAILS[0] not in repr(entry)


def test_an_unknown_expired_or_malformed_export_is_the_404_page(api, people, monkeypatch):
    from mamori.provision.web import exports

    cp = _cp(api)
    _consent(api, people[0], cp)
    po, csrf = api.client("po")
    r = po.post("/provision/provide", data=_provide_form(cp, people[:1], csrf, step="confirm"))
    url = _export_url(r)
    assert url is not None
    for bad in (f"/provision/provisions/{'0' * 32}/export", "/provision/provisions/x/export"):
        got = po.post(bad, data={"csrf": csrf})
        assert got.status_code == 404 and "1回限り" in got.text
    now = time.monotonic()
    monkeypatch.setattr(exports, "_now", lambda: now + exports.EXPORT_TTL_SECONDS + 1)
    got = po.post(url, data={"csrf": csrf})
    assert got.status_code == 404 and "1回限り" in got.text
    page = po.get(str(r.url))
    assert EXPORT_BUTTON not in page.text and "保持していません" in page.text
    assert not [e for e in api.rt.audit.tail(200) if e.action == "provision.export.download"]
    anon, _ = api.client()
    got = anon.post(url, data={"csrf": csrf}, follow_redirects=False)
    assert got.status_code in (303, 307) or got.status_code == 401


def test_other_roles_cannot_download_the_export(api, people):
    cp = _cp(api)
    _consent(api, people[0], cp)
    po, csrf = api.client("po")
    r = po.post("/provision/provide", data=_provide_form(cp, people[:1], csrf, step="confirm"))
    url = _export_url(r)
    for username in OTHERS:
        c, c_csrf = api.client(username)
        got = c.post(url, data={"csrf": c_csrf})
        assert got.status_code == 404 and NAMES[0] not in got.text, username
    assert EXPORT_BUTTON in po.get(str(r.url)).text


def test_wizard_bad_input(api, people):
    cp = _cp(api)
    po, csrf = api.client("po")
    r = po.post("/provision/provide", data=_provide_form(cp, people, csrf, fields=[]))
    assert r.status_code == 422 and "提供する項目" in r.text
    r = po.post("/provision/provide", data=_provide_form(cp, ["山田 太郎"], csrf))
    assert r.status_code == 422 and "1行目が顧客IDの形式ではありません" in r.text
    assert "山田 太郎" in r.text  # only in the textarea the user typed into, never in a URL
    _no_personal_value_in(r)
    r = po.post("/provision/provide", data=_provide_form(cp, [], csrf))
    assert r.status_code == 422 and "顧客IDを1つ以上" in r.text
    r = po.post("/provision/provide", data=_provide_form("0" * 32, people, csrf))
    assert r.status_code == 404 and "提供先が登録されていません" in r.text
    r = po.post("/provision/provide", data=_provide_form(cp, people, csrf, basis="joint_use"))
    assert r.status_code == 403 and "R-27-2" in r.text  # a basis that does not apply to a third party
    r = po.post("/provision/provide", data=_provide_form(cp, people, csrf, step="edit"))
    assert r.status_code == 200 and people[0] in r.text  # back to the form with the values kept
    assert _records(api) == []


def test_wizard_without_csrf_or_as_another_role_writes_nothing(api, people):
    cp = _cp(api)
    for p in people:
        _consent(api, p, cp)
    po, csrf = api.client("po")
    body = _provide_form(cp, people, csrf, step="confirm")
    del body["csrf"]
    r = po.post("/provision/provide", data=body)
    assert r.status_code == 403 and "CSRF" in r.text and _records(api) == []
    for username in OTHERS:
        c, token = api.client(username)
        for step in ("preview", "confirm"):
            r = c.post("/provision/provide", data=_provide_form(cp, people, token, step=step))
            assert r.status_code == 403, (username, step)
            assert people[0] not in r.text
    assert _records(api) == []


# -- records ---------------------------------------------------------------------------------------------------------


def _provided(api, people):
    cp = _cp(api)
    for p in people:
        _consent(api, p, cp)
    po, csrf = api.client("po")
    r = po.post("/provision/provide", data=_provide_form(cp, people, csrf, step="confirm"))
    assert r.status_code == 200 and r.history
    return cp, po


def test_records_list_filters_and_record_page_R_29_1_R_29_2(api, people):
    cp, po = _provided(api, people)
    other = _cp(api, name="別の架空会社")
    r = po.get("/provision/records")
    assert r.status_code == 200, r.text
    _page_headers(r)
    _no_personal_value_in(r)
    main = r.text[r.text.index("<main") :]
    assert "3件" in main and "本人の同意" in main and "メールアドレス、氏名" in main
    assert "契約の履行" in main  # the purpose by its title
    assert (
        po.get("/provision/records", params={"counterparty": other}).text.count('href="/provision/records/')
        == 0
    )
    assert (
        po.get("/provision/records", params={"counterparty": cp}).text.count('href="/provision/records/') == 3
    )
    assert (
        po.get("/provision/records", params={"direction": "received"}).text.count('href="/provision/records/')
        == 0
    )
    today = api.rt.clock.now().date()
    r = po.get("/provision/records", params={"since": today.isoformat(), "until": today.isoformat()})
    assert r.text.count('href="/provision/records/') == 3
    r = po.get("/provision/records", params={"since": (today + timedelta(days=1)).isoformat()})
    assert r.text.count('href="/provision/records/') == 0
    rec = _records(api)[0]
    one = po.get(f"/provision/records/{rec.id}")
    assert one.status_code == 200 and "第三者提供記録" in one.text
    assert "本人を特定する情報" in one.text and "氏名: " in one.text  # R-29-2, decrypted for the officer
    assert "保存期限" in one.text
    _no_personal_value_in(one)


def test_records_bad_filters_and_unknown_record(api):
    po, _ = api.client("po")
    for params in (
        {"since": "2026-02-30"},
        {"until": "yesterday"},
        {"counterparty": "x"},
        {"direction": "sideways"},
    ):
        r = po.get("/provision/records", params=params)
        assert r.status_code == 422, params
        assert "入力内容を確認してください" in r.text
    r = po.get("/provision/records", params={"since": "2026-12-01", "until": "2026-11-01"})
    assert r.status_code == 422 and "期間の開始は終了より前" in r.text
    assert po.get(f"/provision/records/{'0' * 32}").status_code == 404
    assert po.get("/provision/records/nope").status_code == 404


@pytest.mark.parametrize("username", OTHERS)
def test_other_roles_cannot_read_a_record(api, people, username):
    _provided(api, people)
    rec = _records(api)[0]
    c, _ = api.client(username)
    r = c.get(f"/provision/records/{rec.id}")
    assert r.status_code == 403 and NAMES[0] not in r.text


# -- receipts --------------------------------------------------------------------------------------------------------

FACTS = {
    "variant": "consent",
    "identity_confirmed_by": "登記事項証明書",
    "acquisition": "会員登録時の同意",
    "acquisition_lawful": "1",
    "consent_confirmed": "1",
    "purposes": ["contract"],
}
CSV = "name,email\n受領 一郎,ichiro.juryo@example.jp\n".encode()


def _receipts(api):
    with api.rt.transaction(_actor(api), readonly=True) as ctx:
        return receiving.list_receipts(ctx)


def test_receive_confirms_the_provider_then_records_the_receipt_R_30_1_R_30_2(api):
    provider = _cp(api, name="架空名簿株式会社")
    po, csrf = api.client("po")
    form = po.get("/provision/receipts/new")
    assert form.status_code == 200 and "架空名簿株式会社" in form.text
    r = po.post("/provision/receipts/new", data={"csrf": csrf, "counterparty_id": provider, **FACTS})
    assert r.status_code == 200, r.text
    assert "提供元の確認ができました" in r.text and "R-30-1" in r.text and 'type="file"' in r.text
    assert _receipts(api) == []  # the confirmation writes nothing
    r = po.post(
        "/provision/receipts/new",
        data={"csrf": csrf, "counterparty_id": provider, "step": "record", **FACTS},
        files={"file": ("list.csv", CSV, "text/csv")},
    )
    assert r.status_code == 201, r.text
    _no_personal_value_in(r)
    receipts = _receipts(api)
    assert len(receipts) == 1 and receipts[0].person_count == 1
    assert "1人を取り込み" in r.text and f'href="/provision/receipts/{receipts[0].id}"' in r.text
    page = po.get(f"/provision/receipts/{receipts[0].id}")
    assert (
        page.status_code == 200
        and "登記事項証明書" in page.text
        and "本人の同意による提供を受ける" in page.text
    )
    rec_ids = re.findall(r'href="/provision/records/([0-9a-f]{32})"', page.text)
    assert len(rec_ids) == 1
    one = po.get(f"/provision/records/{rec_ids[0]}")
    assert one.status_code == 200 and "受領の記録" in one.text
    listing = po.get("/provision/receipts")
    assert listing.status_code == 200 and "架空名簿株式会社" in listing.text
    assert len([x for x in _records(api) if x.direction == "received"]) == 1


def test_receive_refusals_and_bad_input(api):
    provider = _cp(api, name="架空名簿株式会社")
    po, csrf = api.client("po")
    r = po.post(
        "/provision/receipts/new",
        data={"csrf": csrf, "counterparty_id": provider, **{**FACTS, "acquisition_lawful": ""}},
    )
    assert r.status_code == 403 and "R-20-1" in r.text
    r = po.post(
        "/provision/receipts/new", data={"csrf": csrf, "counterparty_id": provider, "variant": "consent"}
    )
    assert r.status_code == 422 and "入力内容を確認してください" in r.text
    r = po.post("/provision/receipts/new", data={"csrf": csrf, "counterparty_id": "0" * 32, **FACTS})
    assert r.status_code == 404 and "R-30-1" in r.text
    r = po.post(
        "/provision/receipts/new", data={"csrf": csrf, "counterparty_id": provider, "step": "record", **FACTS}
    )
    assert r.status_code == 422 and "ファイルを選んでください" in r.text
    assert _receipts(api) == []
    assert po.get(f"/provision/receipts/{'0' * 32}").status_code == 404
    assert po.get("/provision/receipts/bad").status_code == 404


def test_receive_without_csrf_or_as_another_role_writes_nothing(api):
    provider = _cp(api, name="架空名簿株式会社")
    po, _ = api.client("po")
    r = po.post(
        "/provision/receipts/new",
        data={"counterparty_id": provider, "step": "record", **FACTS},
        files={"file": ("list.csv", CSV, "text/csv")},
    )
    assert r.status_code == 403 and "CSRF" in r.text
    for username in OTHERS:
        c, csrf = api.client(username)
        r = c.post(
            "/provision/receipts/new",
            data={"csrf": csrf, "counterparty_id": provider, "step": "record", **FACTS},
            files={"file": ("list.csv", CSV, "text/csv")},
        )
        assert r.status_code == 403, username
    assert _receipts(api) == [] and _records(api) == []


def test_a_receipt_with_a_bad_line_writes_nothing_and_names_the_line_not_its_value(api):
    provider = _cp(api, name="架空名簿株式会社")
    po, csrf = api.client("po")
    bad = "name,email\n受領 一郎,ichiro.juryo@example.jp\n受領 二郎,not-an-email\n".encode()
    r = po.post(
        "/provision/receipts/new",
        data={"csrf": csrf, "counterparty_id": provider, "step": "record", **FACTS},
        files={"file": ("list.csv", bad, "text/csv")},
    )
    assert r.status_code == 422, r.text
    assert "取り込みませんでした" in r.text and "3行目" in r.text
    assert "not-an-email" not in r.text and "受領 二郎" not in r.text
    assert _receipts(api) == [] and _records(api) == []


def test_wizard_selects_every_customer_notified_of_a_purpose(api, people):
    cp = _cp(api)
    for p in people:
        _consent(api, p, cp)
    po, csrf = api.client("po")
    body = _provide_form(cp, [], csrf, selection="notified", notified_purpose="contract")
    r = po.post("/provision/provide", data=body)
    assert r.status_code == 200, r.text
    assert "3人" in r.text and "提供できない顧客はいません" in r.text
    r = po.post("/provision/provide", data={**body, "step": "confirm"})
    assert r.status_code == 200 and r.history and len(_records(api)) == 3


def test_wizard_exception_basis_needs_who_decided_and_why_R_27_1(api, people):
    cp = _cp(api)
    po, csrf = api.client("po")
    r = po.post(
        "/provision/provide", data=_provide_form(cp, people, csrf, basis="exception", exception_code="law")
    )
    assert r.status_code == 422 and "判断者" in r.text
    r = po.post(
        "/provision/provide",
        data=_provide_form(
            cp,
            people,
            csrf,
            basis="exception",
            exception_code="law",
            decided_by="法務部",
            exception_reason="令状",
        ),
    )
    assert r.status_code == 200 and "法令に基づく場合" in r.text and "提供できない顧客はいません" in r.text
    assert _records(api) == []


def test_wizard_in_english(api, people):
    cp = _cp(api)
    po, csrf = api.client("po")
    po.cookies.set("mamori_lang", "en")
    r = po.post("/provision/provide", data=_provide_form(cp, people, csrf))
    assert r.status_code == 200 and "Nothing has been provided yet" in r.text
    assert "The person has not consented to provision to this counterparty" in r.text and "R-27-1" in r.text


def _files_with(marker: bytes, roots: list[Path], since: float) -> list[Path]:
    found = []
    for root in roots:
        for dirpath, _dirs, names in os.walk(root):
            for name in names:
                p = Path(dirpath) / name
                try:
                    if p.stat().st_mtime < since or p.stat().st_size > 200_000_000:
                        continue
                    if marker in p.read_bytes():
                        found.append(p)
                except OSError:
                    continue
    return found


def test_the_received_file_is_never_written_to_disk(api, tmp_path_factory, monkeypatch):
    import starlette.formparsers

    mark = "zq8recv"  # in every e-mail of the file: found on disk, it would mean the upload was written there
    lines = ["name,email,memo"] + [f"受領 太郎{i},{mark}{i}@example.jp,{'x' * 10_000}" for i in range(110)]
    data = ("\n".join(lines) + "\n").encode()
    assert 1024 * 1024 < len(data) < 5_000_000  # over Starlette's 1 MB spool, under the page's limit
    since = time.time() - 1
    made: list[
        str
    ] = []  # an anonymous temporary file leaves no name to find afterwards: watch them being made
    names = ("TemporaryFile", "NamedTemporaryFile", "SpooledTemporaryFile", "mkstemp", "mkdtemp")
    for name in (*names, "TemporaryDirectory"):
        real = getattr(tempfile, name)

        def watched(*args, _real=real, _name=name, **kwargs):
            made.append(_name)
            return _real(*args, **kwargs)

        monkeypatch.setattr(tempfile, name, watched)
        if name == "SpooledTemporaryFile":
            monkeypatch.setattr(starlette.formparsers, name, watched)
    provider = _cp(api, name="架空名簿株式会社")
    po, csrf = api.client("po")
    r = po.post(
        "/provision/receipts/new",
        data={"csrf": csrf, "counterparty_id": provider, "step": "record", **FACTS},
        files={"file": ("list.csv", data, "text/csv")},
    )
    assert r.status_code == 201, r.text
    assert "110人を取り込み" in r.text
    _no_personal_value_in(r)
    roots = [tmp_path_factory.getbasetemp(), Path(tempfile.gettempdir())]
    if os.environ.get("MAMORI_HOME"):
        roots.append(Path(os.environ["MAMORI_HOME"]))
    assert _files_with(mark.encode(), roots, since) == []  # the data store holds it encrypted only
    assert made == []
    assert len(_receipts(api)) == 1


def test_a_received_file_over_the_limit_is_refused_and_nothing_written(api):
    provider = _cp(api, name="架空名簿株式会社")
    po, csrf = api.client("po")
    big = b"name,email\n" + b"x" * 5_000_001
    r = po.post(
        "/provision/receipts/new",
        data={"csrf": csrf, "counterparty_id": provider, "step": "record", **FACTS},
        files={"file": ("list.csv", big, "text/csv")},
    )
    assert r.status_code == 413 and "5MB" in r.text
    _page_headers(r)
    assert _receipts(api) == [] and _records(api) == []
