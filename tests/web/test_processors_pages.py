"""The outsourcee (委託先) screens of the staff web app (issue 15) without a browser: the contracts list (overdue
audits in red with R-25-1) and the add form; the contract page with its checklist, selection evaluation, start
(refused with R-25-1 without a passed evaluation — the service decides), end, covered customers (ids pasted in a
POST body), audits, sub-outsourcing, operators, handovers and the handover file as a download.

Each write: the happy path as the privacy officer; sales / support / analyst get the 403 page and nothing is
written; bad input (an unknown id → 404 page, missing fields → 422 page, bad dates); no CSRF token → refused and
nothing changed; no personal value in any URL. Pages carry the CSP and no-store.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from urllib.parse import unquote

import pytest

from mamori.kernel.context import SYSTEM_ACTOR, Actor
from mamori.processors import service
from mamori.processors.schemas import (
    CLAUSES,
    EVALUATION_ITEMS,
    AuditScheduleIn,
    CustomersIn,
    SubcontractIn,
)
from mamori.staff import service as staff_service
from tests.api.conftest import Api
from tests.factories import make_customer
from tests.processors.conftest import add_counterparty, all_meet, contract_data

HREF = re.compile(r'(?:href|action|hx-post|hx-get|src)="([^"]*)"')
NAME, KANA, EMAIL, PHONE = "架空 花子", "カクウ ハナコ", "hanako.kakuu@example.jp", "090-1111-2222"
OTHER_ROLES = ("sato", "support", "analyst")


@pytest.fixture
def api(runtime):
    return Api(runtime)


def actor(api: Api, username: str) -> Actor:
    with api.rt.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        return staff_service.actor_for(ctx, username)


class World:
    def __init__(self, api: Api) -> None:
        self.api = api
        self.po = actor(api, "po")
        self.party = add_counterparty(api.rt, self.po)
        self.customer = make_customer(
            api.rt, actor(api, "sato"), name=NAME, kana=KANA, email=EMAIL, phone=PHONE
        )
        with api.rt.transaction(self.po) as ctx:
            self.draft = service.add_contract(ctx, contract_data(self.party, reference="C-DRAFT")).id
            running = service.add_contract(ctx, contract_data(self.party, reference="C-RUN"))
            service.evaluate(ctx, running.id, all_meet())
            service.activate(ctx, running.id)
            service.assign_customers(ctx, running.id, CustomersIn(customer_ids=[self.customer]))
            self.audit = service.schedule_audit(
                ctx, running.id, AuditScheduleIn(due_on=date(2026, 11, 1), method="on_site")
            ).id
            self.sub = service.request_subcontract(
                ctx,
                running.id,
                SubcontractIn(subcontractor="架空データ入力株式会社", work="入力作業", methods="ISMS"),
            ).id
        self.running = running.id

    def show(self, cid: str):
        with self.api.rt.transaction(self.po, readonly=True) as ctx:
            return service.show_contract(ctx, cid)

    def snapshot(self) -> object:
        """Everything the pages can change (contracts, evaluations, audits, subcontracts, coverage, operators,
        handovers), to compare before and after a refused write."""
        with self.api.rt.transaction(self.po, readonly=True) as ctx:
            out = []
            for c in service.list_contracts(ctx):
                out.append(
                    (
                        service.show_contract(ctx, c.id).model_dump(),
                        service.covered_customers(ctx, c.id),
                        [o.model_dump() for o in service.list_operators(ctx, c.id)],
                        [h.model_dump() for h in service.list_handovers(ctx, c.id)],
                    )
                )
            return out


@pytest.fixture
def world(api) -> World:
    return World(api)


def page_headers(r) -> None:
    assert r.headers["cache-control"] == "no-store"
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "<script>" not in r.text and 'style="' not in r.text


def no_personal_url(r, world: World) -> None:
    urls = HREF.findall(r.text)
    if "location" in r.headers:
        urls.append(r.headers["location"])
    for url in urls:
        for personal in (NAME, KANA, EMAIL, PHONE, world.customer):
            assert personal not in unquote(url), url


def new_contract_form(world: World, **over: object) -> dict[str, object]:
    body: dict[str, object] = {
        "counterparty_id": world.party,
        "work": "お客様へのアフターサービスの電話対応",
        "purposes": ["contract"],
        "fields": ["name", "kana", "phones"],
        "clauses": list(CLAUSES),
        "starts_on": "2026-12-01",
        "ends_on": "2027-03-31",
        "reference": "C-WEB-1",
    }
    body.update(over)
    return {k: v for k, v in body.items() if v is not None}


def evaluation_form(**over: str) -> dict[str, str]:
    body = {f"item.{i}": "meets" for i in EVALUATION_ITEMS}
    body["note"] = "ISMS 認証を確認"
    body.update(over)
    return body


def writes(world: World) -> list[tuple[str, dict[str, object]]]:
    """Every write of the section with a valid body (run as another role or without CSRF: nothing may change)."""
    d, r = world.draft, world.running
    return [
        ("/outsourcees", new_contract_form(world)),
        (f"/outsourcees/{d}/evaluate", evaluation_form()),
        (f"/outsourcees/{d}/activate", {}),
        (f"/outsourcees/{r}/end", {"disposal": "deleted", "evidence": "削除証明書 D-1"}),
        (f"/outsourcees/{d}/customers", {"customer_ids": world.customer}),
        (f"/outsourcees/{r}/customers/remove", {"customer_ids": world.customer}),
        (f"/outsourcees/{r}/audits", {"due_on": "2027-01-31", "method": "document"}),
        (
            f"/outsourcees/{r}/audits/{world.audit}/result",
            {"result": "failed", "performed_on": "2026-11-20", "findings": "入退室記録の不備"},
        ),
        (
            f"/outsourcees/{r}/subcontracts",
            {"subcontractor": "架空印刷株式会社", "country": "JP", "work": "発送", "methods": "施錠保管"},
        ),
        (f"/outsourcees/{r}/subcontracts/{world.sub}/approve", {"note": "条件付き"}),
        (f"/outsourcees/{r}/subcontracts/{world.sub}/refuse", {"note": "不可"}),
        (f"/outsourcees/{r}/operators", {"username": "cc-web1", "display_name": "オペレーター"}),
        (f"/outsourcees/{r}/handover", {"fields": ["name"]}),
    ]


# -- who may -------------------------------------------------------------------------------------------------------


def test_signed_out_every_outsourcee_url_goes_to_sign_in(api, world):
    c, _ = api.client()
    for r in (
        c.get("/outsourcees", follow_redirects=False),
        c.get(f"/outsourcees/{world.running}", follow_redirects=False),
        *(c.post(url, data={**body, "csrf": "x"}, follow_redirects=False) for url, body in writes(world)),
    ):
        assert r.status_code == 303 and r.headers["location"] == "/sign-in"


@pytest.mark.parametrize("username", OTHER_ROLES)
def test_other_roles_get_the_403_page_in_words_and_nothing_is_written(api, world, username):
    c, csrf = api.client(username)
    before = world.snapshot()
    for r in (c.get("/outsourcees"), c.get(f"/outsourcees/{world.running}")):
        assert r.status_code == 403, r.text
        page_headers(r)
        assert "の権限では、この操作はできません" in r.text
        assert "role_not_permitted" not in r.text and "<td>" not in r.text
    for url, body in writes(world):
        r = c.post(url, data={**body, "csrf": csrf}, follow_redirects=False)
        assert r.status_code == 403, (url, r.text)
        assert "の権限では、この操作はできません" in r.text, url
        assert "content-disposition" not in r.headers
    assert world.snapshot() == before
    denied = [e for e in api.rt.audit.tail(40) if e.decision == "deny" and e.action == "processor.manage"]
    assert denied and denied[-1].actor == f"staff:{api.ids[username]}"


@pytest.mark.parametrize("username", OTHER_ROLES)
def test_other_roles_get_the_refusal_not_the_input_errors_for_bad_input(api, world, username):
    c, csrf = api.client(username)
    r = c.post("/outsourcees", data={"csrf": csrf, "work": ""})
    assert r.status_code == 403 and "入力内容" not in r.text


def test_a_write_without_its_csrf_token_is_refused_and_changes_nothing(api, world):
    c, csrf = api.client("po")
    before = world.snapshot()
    for url, body in writes(world):
        for sent in ({}, {"csrf": "0" * 64}):
            r = c.post(url, data={**body, **sent}, follow_redirects=False)
            assert r.status_code == 403, (url, r.text)
            assert "CSRF トークンがないか一致しません" in r.text
            assert "content-disposition" not in r.headers
        r = c.post(url, data={**body, "csrf": csrf}, headers={"Sec-Fetch-Site": "cross-site"})
        assert r.status_code == 403 and "CSRF" in r.text
    assert world.snapshot() == before


# -- the contracts list and the add form ---------------------------------------------------------------------------


def test_the_contracts_list_in_words_with_overdue_audits_in_red_and_the_rule(api, world):
    po, _ = api.client("po")
    r = po.get("/outsourcees")
    assert r.status_code == 200, r.text
    page_headers(r)
    no_personal_url(r, world)
    assert "架空コールセンター株式会社" in r.text
    assert "下書き" in r.text and "有効" in r.text  # statuses in words
    assert "契約の履行" in r.text  # the purpose by its title
    assert ">draft<" not in r.text and ">active<" not in r.text
    row = next(row for row in r.text.split("<tr")[1:] if f"/outsourcees/{world.running}" in row)
    assert 'class="overdue"' in row and "期限超過" in row and "R-25-1" in row and "1件" in row
    assert "2026年11月1日" in row  # the next audit due
    assert "期限超過の監査があります: 1件" in r.text
    assert 'action="/outsourcees"' in r.text and 'name="csrf"' in r.text  # the add form
    assert f'value="{world.party}"' in r.text


def test_the_list_filters_by_status(api, world):
    po, _ = api.client("po")
    r = po.get("/outsourcees?status=draft")
    assert r.status_code == 200
    assert f"/outsourcees/{world.draft}" in r.text and f"/outsourcees/{world.running}" not in r.text
    assert po.get("/outsourcees?status=bogus").status_code == 200  # an unknown filter shows everything


def test_record_a_contract_from_the_form(api, world):
    po, csrf = api.client("po")
    r = po.post("/outsourcees", data={**new_contract_form(world), "csrf": csrf}, follow_redirects=False)
    assert r.status_code == 303, r.text
    cid = r.headers["location"].split("/")[2].split("?")[0]
    assert re.fullmatch(r"[0-9a-f]{32}", cid)
    no_personal_url(r, world)
    page = po.get(r.headers["location"])
    assert page.status_code == 200
    page_headers(page)
    assert "委託契約を登録しました（下書き）" in page.text and "C-WEB-1" in page.text
    d = world.show(cid)
    assert d.status == "draft" and d.fields == ["kana", "name", "phones"] and d.starts_on == date(2026, 12, 1)


def test_full_width_and_slashed_dates_are_accepted(api, world):
    po, csrf = api.client("po")
    body = new_contract_form(world, starts_on="２０２６/１２/０１", ends_on="2027/03/31")
    r = po.post("/outsourcees", data={**body, "csrf": csrf}, follow_redirects=False)
    assert r.status_code == 303, r.text
    d = world.show(r.headers["location"].split("/")[2].split("?")[0])
    assert (d.starts_on, d.ends_on) == (date(2026, 12, 1), date(2027, 3, 31))


@pytest.mark.parametrize(
    ("over", "words"),
    [
        ({"work": None, "purposes": None}, ["業務", "利用目的", "必須です", "1件以上"]),
        ({"starts_on": "2026-13-45"}, ["開始日", "日付の形式が正しくありません"]),
        ({"ends_on": "来年"}, ["終了日", "日付の形式が正しくありません"]),
        ({"starts_on": "2027-04-01"}, ["終了日は開始日より前にできません"]),
        ({"fields": ["mynumber"]}, ["項目", "不明な項目です"]),
        ({"counterparty_id": "zz"}, ["委託先", "形式が正しくありません"]),
    ],
)
def test_bad_contract_input_is_a_422_page_in_words_and_nothing_is_written(api, world, over, words):
    po, csrf = api.client("po")
    before = world.snapshot()
    r = po.post("/outsourcees", data={**new_contract_form(world, **over), "csrf": csrf})
    assert r.status_code == 422, r.text
    page_headers(r)
    assert "入力内容を確認してください" in r.text
    for w in words:
        assert w in r.text
    for raw in ("2026-13-45", "来年", "mynumber"):
        assert raw not in r.text  # never the value
    assert world.snapshot() == before


def test_a_counterparty_that_is_not_an_outsourcee_is_refused_with_its_rule(api, world):
    third = add_counterparty(api.rt, world.po, kind="third_party")
    po, csrf = api.client("po")
    before = world.snapshot()
    r = po.post("/outsourcees", data={**new_contract_form(world, counterparty_id=third), "csrf": csrf})
    assert r.status_code == 422 and "R-27-2" in r.text
    assert world.snapshot() == before


# -- one contract ---------------------------------------------------------------------------------------------------


def test_the_contract_page_shows_its_parts_in_words(api, world):
    po, _ = api.client("po")
    r = po.get(f"/outsourcees/{world.running}")
    assert r.status_code == 200, r.text
    page_headers(r)
    no_personal_url(r, world)
    for words in (
        "架空コールセンター株式会社",
        "有効",
        "お客様へのアフターサービスの電話対応",
        "契約の履行",
        "氏名、フリガナ、電話番号",
        "2026年11月1日〜2027年3月31日",
        "秘密保持",
        "基準を満たす",
        "po",  # who evaluated, by name
        "この契約の対象顧客: 1人",
        "実地監査",
        "架空データ入力株式会社",
        "申請中",
        "引渡しファイルをダウンロードする",
    ):
        assert words in r.text, words
    assert "staff:" not in r.text
    # the customer is counted, never shown (no name, no id on the page)
    for personal in (NAME, KANA, EMAIL, PHONE, world.customer):
        assert personal not in r.text


@pytest.mark.parametrize("cid", ["abc", "0" * 32, "1234", "A" * 32])
def test_an_unknown_or_malformed_contract_id_is_the_404_page(api, world, cid):
    po, csrf = api.client("po")
    r = po.get(f"/outsourcees/{cid}")
    assert r.status_code == 404, r.text
    page_headers(r)
    assert "見つかりません" in r.text
    r = po.post(f"/outsourcees/{cid}/activate", data={"csrf": csrf})
    assert r.status_code == 404


def test_an_audit_or_subcontract_of_another_contract_is_the_404_page(api, world):
    po, csrf = api.client("po")
    before = world.snapshot()
    r = po.post(
        f"/outsourcees/{world.draft}/audits/{world.audit}/result",
        data={"csrf": csrf, "result": "passed", "performed_on": "2026-11-20"},
    )
    assert r.status_code == 404
    r = po.post(f"/outsourcees/{world.draft}/subcontracts/{world.sub}/approve", data={"csrf": csrf})
    assert r.status_code == 404
    r = po.post(f"/outsourcees/{world.running}/audits/{'f' * 32}/remedy", data={"csrf": csrf, "remedy": "x"})
    assert r.status_code == 404
    assert world.snapshot() == before


def test_activation_without_an_evaluation_is_refused_with_its_rule_id_on_the_page(api, world):
    po, csrf = api.client("po")
    r = po.post(f"/outsourcees/{world.draft}/activate", data={"csrf": csrf})
    assert r.status_code == 403, r.text
    page_headers(r)
    assert "委託先の選定評価（合格）がないため開始できません" in r.text
    assert '<small class="rule">R-25-1</small>' in r.text
    assert f'href="/outsourcees/{world.draft}"' in r.text  # back to the contract
    assert world.show(world.draft).status == "draft"


def test_activation_with_missing_clauses_is_refused_with_R_25_1(api, world):
    with api.rt.transaction(world.po) as ctx:
        cid = service.add_contract(ctx, contract_data(world.party, clauses=["confidentiality"])).id
        service.evaluate(ctx, cid, all_meet())
    po, csrf = api.client("po")
    page = po.get(f"/outsourcees/{cid}")
    assert "なし（不足）" in page.text
    r = po.post(f"/outsourcees/{cid}/activate", data={"csrf": csrf})
    assert r.status_code == 403 and "R-25-1" in r.text and "条項が欠けています" in r.text
    assert world.show(cid).status == "draft"


def test_evaluate_then_activate(api, world):
    po, csrf = api.client("po")
    r = po.post(f"/outsourcees/{world.draft}/evaluate", data={**evaluation_form(), "csrf": csrf})
    assert r.status_code == 200, r.text  # followed to the contract page
    assert "選定評価を記録しました" in r.text and "基準を満たす" in r.text
    r = po.post(f"/outsourcees/{world.draft}/activate", data={"csrf": csrf})
    assert r.status_code == 200, r.text
    assert "委託契約を開始しました" in r.text
    assert world.show(world.draft).status == "active"


def test_an_item_that_falls_short_fails_the_evaluation_and_activation_stays_refused(api, world):
    po, csrf = api.client("po")
    body = evaluation_form(**{"item.technical": "falls_short"})
    r = po.post(f"/outsourcees/{world.draft}/evaluate", data={**body, "csrf": csrf})
    assert r.status_code == 200 and "基準を満たさない" in r.text and "技術的安全管理措置" in r.text
    r = po.post(f"/outsourcees/{world.draft}/activate", data={"csrf": csrf})
    assert r.status_code == 403 and "R-25-1" in r.text
    assert world.show(world.draft).evaluation == "failed"


@pytest.mark.parametrize(
    "body",
    [
        {k: v for k, v in evaluation_form().items() if k != "item.human"},  # an item left out
        evaluation_form(**{"item.human": "maybe"}),
        evaluation_form(**{"item.bogus": "meets"}),
    ],
)
def test_a_bad_evaluation_is_a_422_page_and_nothing_is_written(api, world, body):
    po, csrf = api.client("po")
    before = world.snapshot()
    r = po.post(f"/outsourcees/{world.draft}/evaluate", data={**body, "csrf": csrf})
    assert r.status_code == 422, r.text
    assert "評価項目" in r.text and "maybe" not in r.text
    assert world.snapshot() == before


def test_end_a_contract(api, world):
    po, csrf = api.client("po")
    r = po.post(f"/outsourcees/{world.running}/end", data={"csrf": csrf, "evidence": "削除証明書"})
    assert r.status_code == 422 and "個人データの扱い" in r.text and "必須です" in r.text
    assert world.show(world.running).status == "active"
    r = po.post(
        f"/outsourcees/{world.running}/end",
        data={"csrf": csrf, "disposal": "deleted", "evidence": "削除証明書 D-1"},
    )
    assert r.status_code == 200, r.text
    assert "委託契約を終了しました" in r.text and "削除証明書 D-1" in r.text
    assert "この契約は終了しています" in r.text
    d = world.show(world.running)
    assert d.status == "ended" and d.end_disposal == "deleted"
    r = po.post(f"/outsourcees/{world.running}/audits", data={"csrf": csrf, "due_on": "2027-01-31"})
    assert r.status_code == 409 and "終了した委託契約は変更できません" in r.text


# -- covered customers ----------------------------------------------------------------------------------------------


def test_cover_customers_by_pasted_ids_then_remove_them(api, world):
    other = make_customer(api.rt, actor(api, "sato"), name="架空 次郎", email="jiro@example.jp", phone=None)
    po, csrf = api.client("po")
    pasted = f"{world.customer}\r\n  {other.upper()}\n{'e' * 32}\n"
    r = po.post(
        f"/outsourcees/{world.draft}/customers",
        data={"csrf": csrf, "customer_ids": pasted},
        follow_redirects=False,
    )
    assert r.status_code == 303
    no_personal_url(r, world)
    assert other not in r.headers["location"]
    page = po.get(r.headers["location"])
    assert "対象顧客に加えました: 2人（見つからないID: 1件）" in page.text
    assert "この契約の対象顧客: 2人" in page.text
    assert other not in page.text and world.customer not in page.text
    with api.rt.transaction(world.po, readonly=True) as ctx:
        assert sorted(service.covered_customers(ctx, world.draft)) == sorted([world.customer, other])
    r = po.post(f"/outsourcees/{world.draft}/customers/remove", data={"csrf": csrf, "customer_ids": other})
    assert (
        r.status_code == 200
        and "対象顧客から外しました: 1人" in r.text
        and "この契約の対象顧客: 1人" in r.text
    )


def test_cover_every_customer_notified_of_a_contract_purpose(api, world):
    po, csrf = api.client("po")
    r = po.post(f"/outsourcees/{world.draft}/customers", data={"csrf": csrf, "purpose": "contract"})
    assert r.status_code == 200 and "この契約の対象顧客: 1人" in r.text
    r = po.post(f"/outsourcees/{world.draft}/customers", data={"csrf": csrf, "purpose": "marketing-email"})
    assert r.status_code == 422 and "R-25-1" in r.text


@pytest.mark.parametrize(
    "body",
    [
        {"customer_ids": "山田 太郎"},  # a name is not an id
        {"customer_ids": ""},  # neither ids nor a purpose
        {"customer_ids": "a" * 32, "purpose": "contract"},  # both
    ],
)
def test_bad_customer_ids_are_a_422_page_without_the_value(api, world, body):
    po, csrf = api.client("po")
    before = world.snapshot()
    r = po.post(f"/outsourcees/{world.draft}/customers", data={**body, "csrf": csrf})
    assert r.status_code == 422, r.text
    assert "山田" not in r.text
    assert world.snapshot() == before


# -- audits ---------------------------------------------------------------------------------------------------------


def test_schedule_record_a_failure_then_remedy_it(api, world):
    po, csrf = api.client("po")
    r = po.post(
        f"/outsourcees/{world.running}/audits",
        data={"csrf": csrf, "due_on": "2027-01-31", "method": "remote"},
    )
    assert r.status_code == 200 and "監査を予定しました" in r.text and "リモート監査" in r.text
    r = po.post(
        f"/outsourcees/{world.running}/audits/{world.audit}/result",
        data={"csrf": csrf, "result": "failed", "performed_on": "2026-11-20", "findings": "入退室記録の不備"},
    )
    assert r.status_code == 200, r.text
    assert "監査の結果を記録しました" in r.text and "不合格" in r.text and "停止中" in r.text
    assert world.show(world.running).status == "suspended"
    r = po.post(
        f"/outsourcees/{world.running}/audits/{world.audit}/remedy",
        data={"csrf": csrf, "remedy": "入退室記録を電子化"},
    )
    assert r.status_code == 200 and "是正を記録しました" in r.text and "入退室記録を電子化" in r.text
    assert world.show(world.running).status == "active"


@pytest.mark.parametrize(
    ("path", "body", "status", "words"),
    [
        ("audits", {"due_on": "2027-02-30"}, 422, "日付の形式が正しくありません"),
        ("audits", {}, 422, "必須です"),
        ("audits", {"due_on": "2027-01-31", "method": "telepathy"}, 422, "次のいずれかを指定してください"),
        ("result", {"result": "passed", "performed_on": "2026-11-31"}, 422, "実施日"),
        ("result", {"result": "passed", "performed_on": "2027-01-01"}, 422, "未来の日付は指定できません"),
        ("result", {"performed_on": "2026-11-20"}, 422, "結果"),
        ("remedy", {"remedy": ""}, 422, "是正の内容"),
    ],
)
def test_bad_audit_input(api, world, path, body, status, words):
    po, csrf = api.client("po")
    before = world.snapshot()
    url = {
        "audits": f"/outsourcees/{world.running}/audits",
        "result": f"/outsourcees/{world.running}/audits/{world.audit}/result",
        "remedy": f"/outsourcees/{world.running}/audits/{world.audit}/remedy",
    }[path]
    r = po.post(url, data={**body, "csrf": csrf})
    assert r.status_code == status, r.text
    assert words in r.text
    assert "telepathy" not in r.text
    assert world.snapshot() == before


def test_a_remedy_without_a_failure_is_refused_in_words(api, world):
    po, csrf = api.client("po")
    r = po.post(
        f"/outsourcees/{world.running}/audits/{world.audit}/remedy", data={"csrf": csrf, "remedy": "不要"}
    )
    assert r.status_code == 409 and "是正を記録できるのは未是正の不合格監査だけです" in r.text


# -- sub-outsourcing and operators --------------------------------------------------------------------------------


def test_request_then_approve_and_refuse_sub_outsourcing(api, world):
    po, csrf = api.client("po")
    r = po.post(
        f"/outsourcees/{world.running}/subcontracts",
        data={
            "csrf": csrf,
            "subcontractor": "架空印刷株式会社",
            "country": "ｕｓ",
            "work": "発送",
            "methods": "施錠",
        },
    )
    assert r.status_code == 200 and "再委託の申請を記録しました" in r.text and "アメリカ合衆国" in r.text
    r = po.post(
        f"/outsourcees/{world.running}/subcontracts/{world.sub}/approve",
        data={"csrf": csrf, "note": "条件付き"},
    )
    assert r.status_code == 200 and "再委託を承認しました" in r.text and "条件付き" in r.text
    r = po.post(f"/outsourcees/{world.running}/subcontracts/{world.sub}/refuse", data={"csrf": csrf})
    assert r.status_code == 409 and "決定済み" in r.text
    other = world.show(world.running).subcontracts[-1].id
    r = po.post(f"/outsourcees/{world.running}/subcontracts/{other}/refuse", data={"csrf": csrf})
    assert r.status_code == 200 and "再委託を拒否しました" in r.text
    assert [s.status for s in world.show(world.running).subcontracts] == ["approved", "refused"]


def test_bad_sub_outsourcing_input(api, world):
    po, csrf = api.client("po")
    before = world.snapshot()
    r = po.post(
        f"/outsourcees/{world.running}/subcontracts",
        data={"csrf": csrf, "subcontractor": "", "country": "Japan", "work": "発送", "methods": "施錠"},
    )
    assert r.status_code == 422 and "再委託先の名称" in r.text and "国・地域" in r.text
    assert world.snapshot() == before


def test_open_an_operator_account(api, world):
    po, csrf = api.client("po")
    r = po.post(
        f"/outsourcees/{world.running}/operators",
        data={"csrf": csrf, "username": "cc-web1", "display_name": "架空オペレーター"},
    )
    assert r.status_code == 200, r.text
    assert "オペレーターのアカウントを作りました" in r.text and "cc-web1" in r.text
    r = po.post(
        f"/outsourcees/{world.running}/operators",
        data={"csrf": csrf, "username": "cc-web1", "display_name": "二人目"},
    )
    assert r.status_code == 409 and "既に存在します" in r.text
    r = po.post(
        f"/outsourcees/{world.running}/operators",
        data={"csrf": csrf, "username": "Bad Name", "display_name": ""},
    )
    assert r.status_code == 422 and "ユーザー名" in r.text and "表示名" in r.text and "Bad Name" not in r.text


# -- handovers ------------------------------------------------------------------------------------------------------


def test_the_handover_file_is_the_response_and_the_handover_is_logged(api, world, tmp_path):
    po, csrf = api.client("po")
    home = api.rt.settings.home
    files_before = {p for p in home.rglob("*") if p.is_file()}
    r = po.post(f"/outsourcees/{world.running}/handover", data={"csrf": csrf, "fields": ["name", "phones"]})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    assert r.headers["cache-control"] == "no-store"
    disposition = r.headers["content-disposition"]
    assert disposition.startswith("attachment;") and re.search(
        r'filename="handover-[0-9a-f]{32}\.csv"', disposition
    )
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows == [{"customer_id": world.customer, "name": NAME, "phones": rows[0]["phones"]}]
    assert "1111" in rows[0]["phones"]
    # nothing was written to the server but the database (no file kept)
    new_files = {p for p in home.rglob("*") if p.is_file()} - files_before
    assert not [p for p in new_files if p.suffix == ".csv"]
    page = po.get(f"/outsourcees/{world.running}")
    assert "画面からのダウンロード" in page.text and "氏名、電話番号" in page.text and "1人" in page.text
    with api.rt.transaction(world.po, readonly=True) as ctx:
        (h,) = service.list_handovers(ctx, world.running)
    assert h.method == "web" and h.customer_count == 1 and h.fields == ["name", "phones"]
    assert NAME not in str(api.rt.audit.tail(5))


def test_a_handover_of_a_draft_contract_or_an_unneeded_item_is_refused_with_R_25_1(api, world):
    po, csrf = api.client("po")
    before = world.snapshot()
    r = po.post(f"/outsourcees/{world.draft}/handover", data={"csrf": csrf})
    assert r.status_code == 403 and "R-25-1" in r.text and "content-disposition" not in r.headers
    r = po.post(f"/outsourcees/{world.running}/handover", data={"csrf": csrf, "fields": ["address"]})
    assert r.status_code == 403 and "R-25-1" in r.text and "必要のない項目" in r.text
    r = po.post(f"/outsourcees/{world.running}/handover", data={"csrf": csrf, "fields": ["mynumber"]})
    assert r.status_code == 422 and "mynumber" not in r.text
    assert world.snapshot() == before


def test_english_pages(api, world):
    po, _ = api.client("po")
    po.cookies.set("mamori_lang", "en")
    r = po.get("/outsourcees")
    assert r.status_code == 200 and "Outsourcing contracts" in r.text and "Draft" in r.text
    r = po.get(f"/outsourcees/{world.running}")
    assert r.status_code == 200 and "Covered customers" in r.text and "On site" in r.text


def test_every_url_on_the_pages_is_free_of_personal_values(api, world):
    po, csrf = api.client("po")
    po.post(f"/outsourcees/{world.running}/handover", data={"csrf": csrf})
    for url in ("/outsourcees", f"/outsourcees/{world.running}", f"/outsourcees/{world.draft}"):
        r = po.get(url)
        assert r.status_code == 200
        no_personal_url(r, world)
