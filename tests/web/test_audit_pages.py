"""The audit log viewer of the staff web app (issue 15): filter by customer, staff member (by name), action and a
JST date window; verify the chain; export the filtered entries as CSV (itself audited).

Only roles with AUDIT_READ (the privacy officer) see it; every other role gets the 403 page with R-23-2 in plain
Japanese. Bad filters are a Japanese 422 page; verify without its CSRF token is refused; pages carry the CSP and
no-store; nothing but opaque ids, codes and dates goes in a URL.
"""

from __future__ import annotations

import ast
import csv
import io
import re
from datetime import timedelta
from pathlib import Path
from urllib.parse import unquote

import pytest
from sqlalchemy import text

import mamori
from mamori.customers import service as customers_service
from mamori.kernel import labels
from mamori.kernel.context import SYSTEM_ACTOR, Role
from mamori.kernel.db import make_engine
from mamori.kernel.errors import PolicyDenied
from mamori.kernel.policy.actions import registered_actions
from mamori.staff import service as staff_service
from mamori.staff.schemas import StaffCreate
from mamori.web.audit import action_words
from tests.api.conftest import Api
from tests.factories import make_customer

HREF = re.compile(r'(?:href|action|hx-post|hx-get|src)="([^"]*)"')
PERSONAL = ("山田", "ヤマダ", "taro.yamada", "090-1234-5678", "田中 一郎", "鈴木 次郎")


@pytest.fixture
def api(runtime):
    return Api(runtime)


def _staff(api, username, display_name, role=Role.SALES, team="east"):
    with api.rt.transaction(SYSTEM_ACTOR) as ctx:
        user = staff_service.add(
            ctx, StaffCreate(username=username, display_name=display_name, role=role, team=team)
        )
    with api.rt.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        return user.id, staff_service.actor_for(ctx, username)


def _read(api, actor, cid, purpose="contract"):
    with api.rt.transaction(actor, purpose) as ctx:
        return customers_service.get(ctx, cid)


@pytest.fixture
def world(api):
    """Two named sales reps, a customer each; tanaka reads his, suzuki is refused it (another rep's customer)."""
    tanaka_id, tanaka = _staff(api, "tanaka", "田中 一郎")
    suzuki_id, suzuki = _staff(api, "suzuki2", "鈴木 次郎", team="west")
    mine = make_customer(api.rt, tanaka)
    api.rt.clock.advance(timedelta(days=2))
    theirs = make_customer(
        api.rt, suzuki, name="佐藤 三郎", kana="サトウ サブロウ", email="s@example.jp", phone=None
    )
    _read(api, tanaka, mine)
    with pytest.raises(PolicyDenied):
        _read(api, suzuki, mine)
    api.rt.drain_outbox()
    return {"tanaka": tanaka_id, "suzuki": suzuki_id, "mine": mine, "theirs": theirs}


def _rows(html):
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0] if "<tbody>" in html else ""
    return [r for r in body.split("<tr")[1:]]


def page_headers(r):
    assert r.headers["cache-control"] == "no-store"
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "<script>" not in r.text and 'style="' not in r.text


def no_personal_url(r):
    urls = HREF.findall(r.text)
    if "location" in r.headers:
        urls.append(r.headers["location"])
    for url in urls:
        for value in PERSONAL:
            assert value not in unquote(url), url


# -- who may ------------------------------------------------------------------------------------------------------


def test_signed_out_every_audit_url_goes_to_sign_in(api):
    c, _ = api.client()
    for r in (
        c.get("/audit", follow_redirects=False),
        c.get("/audit/export.csv", follow_redirects=False),
        c.post("/audit/verify", data={"csrf": "x"}, follow_redirects=False),
    ):
        assert r.status_code == 303 and r.headers["location"] == "/sign-in"


@pytest.mark.parametrize("username", ["sato", "support", "analyst", "admin"])
def test_other_roles_get_the_403_page_with_R_23_2_in_japanese_and_the_refusal_is_audited(api, username):
    c, csrf = api.client(username)
    for r in (c.get("/audit"), c.get("/audit/export.csv"), c.post("/audit/verify", data={"csrf": csrf})):
        assert r.status_code == 403, r.text
        page_headers(r)
        assert "R-23-2" in r.text
        assert "監査ログは個人情報保護管理者だけが閲覧できます" in r.text
        assert "role_not_permitted" not in r.text and "<td>" not in r.text
    denied = [e for e in api.rt.audit.tail(10) if e.action == "audit.read" and e.decision == "deny"]
    assert denied and denied[-1].actor == f"staff:{api.ids[username]}"


# -- the list -----------------------------------------------------------------------------------------------------


def test_the_newest_entries_in_words_with_names_not_ids(api, world):
    po, _ = api.client("po")
    r = po.get("/audit")
    assert r.status_code == 200, r.text
    page_headers(r)
    no_personal_url(r)
    assert "監査ログ" in r.text
    rows = _rows(r.text)
    assert rows
    read = next(row for row in rows if "顧客情報の閲覧" in row and "許可" in row)
    assert "田中 一郎" in read and "営業担当者" in read and "（日本時間）" in read
    assert world["tanaka"] not in read.replace(f'value="{world["tanaka"]}"', "")
    assert world["mine"][:8] in read and "1人" in read
    assert "<td>契約の履行</td>" in read  # the purpose by its title
    denied = next(row for row in rows if "鈴木 次郎" in row and "拒否" in row)
    assert "R-23-2" in denied and "顧客情報の閲覧" in denied
    for raw in (">customer.read<", ">allow<", ">deny<", "staff:", ">contract<"):
        assert raw not in r.text
    # newest first
    seqs = [int(re.search(r'id="entry-(\d+)"', "<tr" + row).group(1)) for row in rows]
    assert seqs == sorted(seqs, reverse=True)
    # the staff select shows names, its values are ids
    assert f'<option value="{world["tanaka"]}">田中 一郎</option>' in r.text


def test_filter_by_staff_member(api, world):
    po, _ = api.client("po")
    r = po.get(f"/audit?staff={world['tanaka']}")
    assert r.status_code == 200, r.text
    rows = _rows(r.text)
    assert rows and all("田中 一郎" in row for row in rows)
    assert not any("鈴木 次郎" in row for row in rows)
    assert f'<option value="{world["tanaka"]}" selected>' in r.text


def test_filter_by_action_and_by_decision(api, world):
    po, _ = api.client("po")
    rows = _rows(po.get("/audit?action=customer.read").text)
    assert len(rows) == 2 and all("顧客情報の閲覧" in row for row in rows)
    denied = _rows(po.get("/audit?action=customer.read&decision=deny").text)
    assert len(denied) == 1 and "鈴木 次郎" in denied[0] and "拒否" in denied[0]
    group = _rows(po.get("/audit?action=customer").text)  # a group: customer.*
    assert {"顧客の登録", "顧客情報の閲覧"} <= {
        w for row in group for w in ("顧客の登録", "顧客情報の閲覧") if w in row
    }


def test_filter_by_customer(api, world):
    po, _ = api.client("po")
    r = po.get(f"/audit?customer={world['theirs']}")
    rows = _rows(r.text)
    assert rows and all(world["theirs"][:8] in row for row in rows)
    assert not any(world["mine"][:8] in row for row in rows)
    # searching for a customer's entries is itself recorded against that customer
    last = [e for e in api.rt.audit.tail(5) if e.action == "audit.search"][-1]
    assert last.subject_ids == (world["theirs"],) and last.details["customer"] == world["theirs"]


def test_filter_by_a_jst_date_window(api, world):
    # the clock started 2026-11-23 10:00 JST: tanaka's customer then, suzuki's two days later (11-25)
    po, _ = api.client("po")
    first = _rows(po.get("/audit?action=customer.create&from=2026-11-23&to=2026-11-23").text)
    assert len(first) == 1 and "田中 一郎" in first[0] and "2026年11月23日" in first[0]
    later = _rows(po.get("/audit?action=customer.create&from=2026-11-24").text)
    assert len(later) == 1 and "鈴木 次郎" in later[0]
    none = po.get("/audit?action=customer.create&to=2026-11-22")
    assert not _rows(none.text) and "条件に合う記録はありません" in none.text


def test_paging_with_an_older_link(api, world, monkeypatch):
    from mamori.web import audit as audit_web

    monkeypatch.setattr(audit_web, "PAGE_SIZE", 2)
    po, _ = api.client("po")
    r = po.get("/audit?action=customer")  # 2 created, 1 read, 1 refused
    rows = _rows(r.text)
    assert len(rows) == 2
    older = re.search(r'href="(/audit\?[^"]*before=\d+[^"]*)" rel="next"', r.text)
    assert older, r.text
    url = older.group(1).replace("&amp;", "&")
    assert "action=customer" in url
    r2 = po.get(url)
    more = _rows(r2.text)
    assert len(more) == 2 and all("顧客" in row for row in more)
    first_seqs = {re.search(r'id="entry-(\d+)"', "<tr" + x).group(1) for x in rows}
    assert not first_seqs & {re.search(r'id="entry-(\d+)"', "<tr" + x).group(1) for x in more}
    assert "最新の記録へ" in r2.text


def test_htmx_gets_the_table_alone(api, world):
    po, _ = api.client("po")
    r = po.get("/audit?action=customer.read", headers={"HX-Request": "true"})
    assert r.status_code == 200 and "<html" not in r.text and "顧客情報の閲覧" in r.text


@pytest.mark.parametrize(
    "query, words",
    [
        ("from=2026-13-40", "開始日は実在する日付"),
        ("to=2026-02-30", "終了日は実在する日付"),
        ("action=" + "a" * 65, "操作は一覧から選んでください"),
        ("action=顧客", "操作は一覧から選んでください"),
        ("customer=山田", "顧客IDは32桁"),
        ("staff=" + "0" * 32, "担当者は一覧から選んでください"),
        ("decision=maybe", "判定は「許可」「拒否」「記録」から"),
        ("from=2026-12-02&to=2026-12-01", "開始日が終了日より後"),
        ("before=abc", "ページの位置が正しくありません"),
    ],
    ids=[
        "impossible-from-date",
        "impossible-to-date",
        "overlong-action",
        "action-not-a-code",
        "customer-not-an-id",
        "unknown-staff",
        "unknown-decision",
        "window-reversed",
        "bad-cursor",
    ],
)
def test_bad_filter_input_is_a_japanese_422_page_without_the_value(api, query, words):
    po, _ = api.client("po")
    urls = [f"/audit?{query}"] + ([f"/audit/export.csv?{query}"] if "before" not in query else [])
    for url in urls:
        r = po.get(url)
        assert r.status_code == 422, (url, r.text)
        page_headers(r)
        assert "絞り込みの条件が正しくありません" in r.text and words in r.text
        main = r.text.split('<main id="main">', 1)[1]
        for item in query.split("&"):
            assert item.split("=", 1)[1] not in main  # the value typed is never echoed


# -- verify -------------------------------------------------------------------------------------------------------


def test_verify_shows_ok_then_the_break_after_tampering(api, world):
    po, csrf = api.client("po")
    r = po.post("/audit/verify", data={"csrf": csrf})
    assert r.status_code == 200, r.text
    page_headers(r)
    assert "改ざんは見つかりませんでした" in r.text
    checked = int(re.search(r"確認した記録</dt><dd>([\d,]+)件", r.text).group(1).replace(",", ""))
    assert checked >= 5
    seq = next(e.seq for e in api.rt.audit.tail(50) if e.action == "customer.read")
    owner_url = (
        api.rt.settings.migration_audit_url
    )  # PostgreSQL: the app role may only append; the owner edits
    attacker = make_engine(owner_url) if owner_url else api.rt.audit_engine
    with attacker.begin() as conn:
        conn.execute(text("UPDATE audit_entries SET action = 'customer.update' WHERE seq = :s"), {"s": seq})
    if owner_url:
        attacker.dispose()
    r = po.post("/audit/verify", data={"csrf": csrf})
    assert r.status_code == 200, r.text
    assert "監査ログに問題があります" in r.text and "改ざんは見つかりませんでした" not in r.text
    assert "記録の内容の書き換え" in r.text and f"エントリー {seq} の内容がハッシュと一致しません" in r.text
    assert f"<dd>{seq}（" in r.text
    assert "leaf_mismatch" not in r.text


def test_verify_is_a_fragment_for_htmx_and_is_recorded(api, world):
    po, csrf = api.client("po")
    r = po.post("/audit/verify", data={"csrf": csrf}, headers={"HX-Request": "true"})
    assert r.status_code == 200 and "<html" not in r.text and "改ざんは見つかりませんでした" in r.text
    entry = [e for e in api.rt.audit.tail(5) if e.action == "audit.verify"][-1]
    assert entry.actor == f"staff:{api.ids['po']}" and entry.details["ok"] is True


def test_verify_without_csrf_is_refused_and_runs_nothing(api, world):
    po, _ = api.client("po")
    before = api.rt.audit.tail(1)[0].seq
    for r in (
        po.post("/audit/verify", data={}),
        po.post("/audit/verify", data={"csrf": "forged"}),
        po.post("/audit/verify", data={"csrf": "x"}, headers={"Sec-Fetch-Site": "cross-site"}),
    ):
        assert r.status_code == 403, r.text
        assert "CSRF" in r.text and "改ざんは見つかりませんでした" not in r.text
    assert not [e for e in api.rt.audit.tail(20) if e.action == "audit.verify" and e.seq > before]


# -- export -------------------------------------------------------------------------------------------------------


def test_export_has_the_filtered_rows_a_bom_and_is_audited(api, world):
    po, _ = api.client("po")
    page = po.get(f"/audit?staff={world['tanaka']}&action=customer")
    link = re.search(r'href="(/audit/export\.csv\?[^"]+)"', page.text)
    assert link, page.text
    url = link.group(1).replace("&amp;", "&")
    r = po.get(url)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    assert r.headers["content-disposition"].startswith("attachment;")
    assert r.headers["cache-control"] == "no-store"
    assert r.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    head, body = rows[0], rows[1:]
    assert head[:5] == ["番号", "日時", "操作者", "役割", "操作"]
    assert body and all(row[2] == "田中 一郎" for row in body)
    assert {row[5] for row in body} == {"customer.create", "customer.read"}
    assert {row[4] for row in body} == {"顧客の登録", "顧客情報の閲覧"}
    assert all(row[6] == "許可" and row[1].endswith("（日本時間）") for row in body)
    for value in ("山田", "taro.yamada", "090-1234-5678"):
        assert value not in r.content.decode("utf-8-sig")
    entry = [e for e in api.rt.audit.tail(5) if e.action == "audit.export"][-1]
    assert entry.actor == f"staff:{api.ids['po']}" and entry.decision == "info"
    assert entry.details["rows"] == len(body) and entry.details["staff"] == world["tanaka"]
    assert entry.details["action"] == "customer"


def test_export_by_customer_names_the_customer_in_its_audit_entry(api, world):
    po, _ = api.client("po")
    r = po.get(f"/audit/export.csv?customer={world['mine']}")
    assert r.status_code == 200
    body = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))[1:]
    assert body and all(world["mine"] in row[9] for row in body)
    entry = [e for e in api.rt.audit.tail(5) if e.action == "audit.export"][-1]
    assert entry.subject_ids == (world["mine"],)


def test_a_cross_site_export_is_refused(api, world):
    po, _ = api.client("po")
    r = po.get("/audit/export.csv", headers={"Sec-Fetch-Site": "cross-site"})
    assert r.status_code == 403 and not r.content.startswith(b"\xef\xbb\xbf")


def test_english(api, world):
    po, _ = api.client("po")
    po.cookies.set("mamori_lang", "en")
    r = po.get("/audit?action=customer.read")
    assert "Customer data read" in r.text and "Denied" in r.text and "JST" in r.text


# -- words for every action ---------------------------------------------------------------------------------------


def _literal_actions() -> set[str]:
    """Every literal action code the services hand to the audit functions."""
    found: set[str] = set()
    for path in Path(mamori.__file__).resolve().parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", "")
            if name in ("record_info", "record_read", "record_write") and len(node.args) > 1:
                arg = node.args[1]
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    found.add(arg.value)
    return found


def test_every_action_has_words():
    from mamori import composition

    composition.register_all()
    codes = {str(s.action) for s in registered_actions()} | _literal_actions()
    codes |= {"audit.genesis", "audit.search", "audit.verify", "audit.export"}
    codes |= {f"rights.{e}" for e in ("received", "verified", "fulfilled", "refused", "extended")}
    codes |= {f"consent.{a}" for a in ("granted", "withdrawn", "opt_out", "opt_in")}
    codes |= {"consent.suppression.stopped", "consent.suppression.resumed"}
    missing = sorted(c for c in codes if action_words(c, "ja") == c)
    assert not missing, missing
    assert labels.value("web_audit_action", "customer.read") == "顧客情報の閲覧"
