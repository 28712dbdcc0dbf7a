"""The import wizard of the staff web app (issues 15 and 19) without a browser: upload a CSV, map its columns, see
every bad line with its reason (never its value) in a dry run, run it in the background and follow its progress.
The issue 19 additions (Excel, joins, saved mappings, the rejected lines' CSV, sales reps) are in
``test_import_wizard.py``.

Each step: the happy path, an unauthorized role (403 page), bad input (422 in Japanese, R-20-1 for a blank
source), a write without its CSRF token refused and changing nothing, another session's upload id answered 404,
nothing personal in any URL, and the uploaded file never written to disk.
"""

from __future__ import annotations

import csv
import io
import os
import re
import tempfile
import time
from pathlib import Path
from urllib.parse import quote, unquote

import pytest
from sqlalchemy import func, select

from mamori.customers import service
from mamori.customers.models import Customer, ImportJob
from mamori.customers.web import imports as imports_web
from mamori.kernel.context import SYSTEM_ACTOR
from tests.api.conftest import Api

HEADER = ["氏名", "フリガナ", "生年月日", "性別", "郵便番号", "住所", "電話番号", "メールアドレス"]
MARK = "zq7mark"  # in every e-mail of the file: found on disk, it would mean the upload was written there
HREF = re.compile(r'(?:href|action|hx-post|hx-get|src)="([^"]*)"')
SETTINGS = {
    "source": "2026年秋 展示会の名刺",
    "purposes": ["contract"],
    "method": "direct",
    "channel": "event",
}


@pytest.fixture
def api(runtime):
    return Api(runtime)


def row(i: int) -> list[str]:
    return [
        f"架空 太郎{i}",
        "カクウ タロウ",
        "1985-01-05",
        "男",
        "100-0001",
        f"東京都千代田区千代田{i}-1",
        f"090-{3000 + i:04d}-{4000 + i:04d}",
        f"{MARK}{i}@example.jp",
    ]


def csv_bytes(rows: list[list[str]], header: list[str] = HEADER) -> bytes:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(header)
    w.writerows(rows)
    return out.getvalue().encode("utf-8")


def personal(rows: list[list[str]]) -> list[str]:
    return [v for r in rows for v in r if v not in ("男", "1985-01-05", "100-0001", "カクウ タロウ")]


def upload(client, csrf, data: bytes, **over):
    form = {**SETTINGS, **over}
    if csrf is not None:
        form["csrf"] = csrf
    files = {"file": ("名簿.csv", data, "text/csv")} if data is not None else None
    return client.post("/imports/preview", data=form, files=files)


def upload_id(r) -> str:
    m = re.search(r'action="/imports/([A-Za-z0-9_-]{43})/run"', r.text) or re.search(
        r'action="/imports/([A-Za-z0-9_-]{43})/mapping"', r.text
    )
    assert m, r.text
    return m.group(1)


def selected(html: str, target: str) -> list[str]:
    """The columns chosen for ``target`` on the mapping step (each of its selects, in order)."""
    out = []
    for block in re.findall(rf'<select name="col_{target}"[^>]*>(.*?)</select>', html, re.S):
        out += re.findall(r'<option value="([^"]+)" selected>', block)
    return out


def count(api, model=Customer) -> int:
    with api.rt.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def wait_done(client, job_path: str) -> str:
    """Poll the progress fragment as htmx does (every second in the browser) until the report replaces it."""
    for _ in range(200):
        r = client.get(f"{job_path}/progress", headers={"HX-Request": "true"})
        assert r.status_code == 200, r.text
        assert 'hx-trigger="every 1s"' in r.text or "import-report" in r.text or 'role="alert"' in r.text
        if 'hx-trigger="every 1s"' not in r.text:
            return r.text
        time.sleep(0.05)
    raise AssertionError("the import did not finish")


def no_personal_url(r, values: list[str]) -> None:
    urls = HREF.findall(r.text)
    if "location" in r.headers:
        urls.append(r.headers["location"])
    urls.append(str(r.url))
    for url in urls:
        for value in values:
            assert value not in unquote(url) and quote(value) not in url, url


def page_headers(r) -> None:
    assert r.headers["cache-control"] == "no-store"
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "<script>" not in r.text and 'style="' not in r.text


# -- sign-in, roles -------------------------------------------------------------------------------------------------


def test_every_import_page_needs_a_session(api):
    anon, _ = api.client()
    fake = "A" * 43
    for method, path in [
        ("GET", "/imports"),
        ("POST", "/imports/preview"),
        ("POST", f"/imports/{fake}/mapping"),
        ("POST", f"/imports/{fake}/run"),
        ("POST", f"/imports/{fake}/sheet"),
        ("POST", f"/imports/{fake}/mapping/load"),
        ("GET", f"/imports/{fake}/errors.csv"),
        ("GET", f"/imports/jobs/{fake}"),
        ("GET", f"/imports/jobs/{fake}/progress"),
        ("GET", f"/imports/jobs/{fake}/errors.csv"),
    ]:
        r = anon.request(method, path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/sign-in", (method, path)


def test_the_form_for_the_privacy_officer(api):
    c, _ = api.client("po")
    r = c.get("/imports")
    assert r.status_code == 200, r.text
    page_headers(r)
    assert "顧客データの取り込み" in r.text and 'enctype="multipart/form-data"' in r.text
    assert 'name="source"' in r.text and "取得元" in r.text and "必須" in r.text
    assert (
        'name="purposes" value="contract"' in r.text and "契約の履行" in r.text
    )  # purposes from the registry
    assert "本人から直接取得" in r.text and "報告のみ" in r.text  # methods and duplicate choices in words


@pytest.mark.parametrize("user", ["support", "analyst", "admin"])
def test_roles_that_may_not_import_are_refused(api, user):
    c, csrf = api.client(user)
    r = c.get("/imports")
    assert r.status_code == 403 and "この操作はできません" in r.text and "R-23-2" in r.text
    r = upload(c, csrf, csv_bytes([row(0)]))
    assert r.status_code == 403 and "R-23-2" in r.text
    assert not imports_web.STORE.uploads or all(
        u.staff_id != api.ids[user] for u in imports_web.STORE.uploads.values()
    )
    assert count(api) == 0


# -- the happy path -------------------------------------------------------------------------------------------------


def test_upload_check_run_and_follow_the_progress(api):
    rows = [row(i) for i in range(5)]
    c, csrf = api.client("po")
    r = upload(c, csrf, csv_bytes(rows))
    assert r.status_code == 200, r.text
    page_headers(r)
    no_personal_url(r, personal(rows))
    # the Japanese headings are mapped already
    assert selected(r.text, "name") == ["氏名"] and selected(r.text, "email") == ["メールアドレス"]
    assert "何も書き込んでいません" in r.text  # the check is a dry run
    assert '<dd id="total-lines">5行</dd>' in r.text and '<dd id="bad-lines">0行</dd>' in r.text
    assert "不正な行はありません" in r.text and 'name="skip_bad_rows"' not in r.text
    for value in personal(rows):
        assert value not in r.text  # the check shows counts and headings, no value of the file
    uid = upload_id(r)

    r = c.post(f"/imports/{uid}/run", data={"csrf": csrf}, follow_redirects=False)
    assert r.status_code == 303
    job_path = r.headers["location"]
    assert re.fullmatch(r"/imports/jobs/[A-Za-z0-9_-]{43}", job_path)
    no_personal_url(r, personal(rows))
    page = c.get(job_path)
    assert page.status_code == 200
    # the bar while it runs; a small file on a fast machine may already be done (then the report is shown)
    assert "<progress" in page.text or 'id="report-created"' in page.text
    assert f'hx-get="{job_path}/progress"' in page.text or "import-report" in page.text
    page_headers(page)
    final = wait_done(c, job_path)
    assert '<dd id="report-created">5人</dd>' in final and '<dd id="report-skipped">0行</dd>' in final
    assert "取り込みが完了しました" in final
    assert count(api) == 5 and uid not in imports_web.STORE.uploads  # the bytes are dropped
    with api.rt.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        job = ctx.session.execute(select(ImportJob)).scalars().one()
    assert job.status == "done" and job.source == SETTINGS["source"]
    again = c.get(job_path)  # a reload shows the report again
    assert "report-created" in again.text
    with api.rt.transaction(_actor(api, "po"), "contract") as ctx:
        found = service.find(ctx, email=f"{MARK}3@example.jp")
    assert len(found) == 1 and found[0].name == "架空 太郎3"
    # the upload id is spent
    assert c.post(f"/imports/{uid}/run", data={"csrf": csrf}).status_code == 404


def _actor(api, username):
    from mamori.staff import service as staff_service

    with api.rt.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        return staff_service.actor_for(ctx, username)


# -- bad lines ------------------------------------------------------------------------------------------------------


def _with_one_bad_line():
    rows = [row(i) for i in range(4)]
    rows[2][7] = "broken-address-zq7"  # line 4 (heading = line 1): not an e-mail address
    return rows


def test_a_bad_line_is_listed_with_its_reason_never_its_value(api):
    rows = _with_one_bad_line()
    c, csrf = api.client("po")
    r = upload(c, csrf, csv_bytes(rows))
    assert r.status_code == 200, r.text
    assert '<dd id="bad-lines" class="error">1行</dd>' in r.text and '<dd id="total-lines">4行</dd>' in r.text
    table = r.text.split('id="bad-line-table"', 1)[1].split("</table>", 1)[0]
    assert re.search(r"<td>4</td><td>メールアドレス</td><td>メールアドレス</td><td>[^<]+</td>", table), table
    summary = r.text.split('id="summary-table"', 1)[1].split("</table>", 1)[0]
    assert re.search(r"<td>[^<]+</td><td>1</td>", summary)  # the summary by reason
    assert "broken-address-zq7" not in r.text and "broken" not in table
    assert 'name="skip_bad_rows" value="1" required' in r.text


def test_running_a_file_with_bad_lines_needs_skip_and_then_writes_the_good_ones(api):
    rows = _with_one_bad_line()
    c, csrf = api.client("po")
    uid = upload_id(upload(c, csrf, csv_bytes(rows)))
    r = c.post(f"/imports/{uid}/run", data={"csrf": csrf}, follow_redirects=False)
    assert (
        r.status_code == 422 and "不正な行を除いて取り込む" in r.text and "何も書き込んでいません" in r.text
    )
    time.sleep(0.1)
    assert count(api) == 0 and count(api, ImportJob) == 0
    r = c.post(f"/imports/{uid}/run", data={"csrf": csrf, "skip_bad_rows": "1"}, follow_redirects=False)
    assert r.status_code == 303
    final = wait_done(c, r.headers["location"])
    assert '<dd id="report-created">3人</dd>' in final and '<dd id="report-skipped">1行</dd>' in final
    assert count(api) == 3


def test_changing_the_mapping_checks_again(api):
    rows = [["架空 花子", "hanako-zq7@example.jp", "自由記述"]]
    c, csrf = api.client("po")
    r = upload(c, csrf, csv_bytes(rows, header=["お客様", "連絡先", "メモ"]))
    assert r.status_code == 200
    assert "氏名に対応する列がありません" in r.text and "/run" not in r.text  # nothing to run yet
    uid = upload_id(r)
    r = c.post(
        f"/imports/{uid}/mapping",
        data={"csrf": csrf, "col_name": "お客様", "col_email": "連絡先"},
        headers={"HX-Request": "true"},
    )
    assert r.status_code == 200 and r.text.startswith('<div id="import-check">')  # the fragment alone
    assert '<dd id="bad-lines">0行</dd>' in r.text and f"/imports/{uid}/run" in r.text
    assert selected(r.text, "name") == ["お客様"] and selected(r.text, "email") == ["連絡先"]
    # one column on two fields: refused by the mapping (never a silent overwrite), nothing to run
    r = c.post(f"/imports/{uid}/mapping", data={"csrf": csrf, "col_name": "お客様", "col_kana": "お客様"})
    assert r.status_code == 200 and 'id="err-name"' in r.text and f"/imports/{uid}/run" not in r.text
    r = c.post(f"/imports/{uid}/mapping", data={"csrf": csrf, "col_name": "no-such-column"})
    assert r.status_code == 422
    r = c.post(f"/imports/{uid}/mapping", data={"csrf": csrf, "col_nickname": "お客様"})  # not a target
    assert r.status_code == 200 and "/run" not in r.text and "氏名に対応する列がありません" in r.text
    r = c.post(f"/imports/{uid}/mapping", data={"col_name": "お客様", "col_email": "連絡先"})  # no CSRF
    assert r.status_code == 403


# -- bad input ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("source", ["", "   "])
def test_a_missing_source_is_refused_R_20_1(api, source):
    c, csrf = api.client("po")
    r = upload(c, csrf, csv_bytes([row(0)]), source=source)
    assert r.status_code == 422 and "R-20-1" in r.text and "取得元: 必須です" in r.text
    page_headers(r)
    assert not any(u.staff_id == api.ids["po"] for u in imports_web.STORE.uploads.values())


def test_other_bad_input(api):
    c, csrf = api.client("po")
    r = upload(c, csrf, csv_bytes([row(0)]), purposes=[])
    assert r.status_code == 422 and "利用目的" in r.text
    r = upload(c, csrf, csv_bytes([row(0)]), purposes=["no-such-purpose"])
    assert r.status_code == 422
    r = upload(c, csrf, csv_bytes([row(0)]), on_duplicate="explode")
    assert r.status_code == 422
    r = c.post("/imports/preview", data={"csrf": csrf, **SETTINGS}, files={"file": ("", b"", "text/csv")})
    assert r.status_code == 422 and "CSV ファイルを選んでください" in r.text  # no file chosen
    r = upload(c, csrf, b"")
    assert r.status_code == 422
    r = upload(c, csrf, b"PK\x03\x04 not really a workbook")  # a broken .xlsx: one line, no stack trace
    assert r.status_code == 422 and "Traceback" not in r.text
    r = upload(c, csrf, csv_bytes([row(0)]), owner="not-a-staff-id")
    assert r.status_code == 422
    r = upload(c, csrf, None)  # not multipart
    assert r.status_code == 422 and "アップロードを読み取れません" in r.text


def test_a_file_over_the_limit_is_refused_with_a_clear_message(api, monkeypatch):
    monkeypatch.setattr(imports_web, "MAX_UPLOAD_BYTES", 2 * 1024 * 1024)
    c, csrf = api.client("po")
    big = csv_bytes([row(i) for i in range(30000)])
    assert len(big) > 2 * 1024 * 1024
    r = upload(c, csrf, big)
    assert r.status_code == 413 and "ファイルが大きすぎます（2 MB まで）" in r.text
    assert count(api) == 0


def test_a_shift_jis_file_is_read(api):
    c, csrf = api.client("po")
    data = "氏名,メール\r\n架空 三郎,saburo-zq7@example.jp\r\n".encode("cp932")
    r = upload(c, csrf, data)
    assert r.status_code == 200 and '<dd id="total-lines">1行</dd>' in r.text


# -- CSRF, sessions, URLs, disk -------------------------------------------------------------------------------------


def test_no_csrf_token_is_refused_and_nothing_is_written(api):
    c, csrf = api.client("po")
    r = upload(c, None, csv_bytes([row(0)]))
    assert r.status_code == 403 and "CSRF" in r.text
    assert not any(u.staff_id == api.ids["po"] for u in imports_web.STORE.uploads.values())
    uid = upload_id(upload(c, csrf, csv_bytes([row(0)])))
    r = c.post(f"/imports/{uid}/run", data={}, follow_redirects=False)
    assert r.status_code == 403
    r = c.post(f"/imports/{uid}/run", data={"csrf": "0" * 64}, follow_redirects=False)
    assert r.status_code == 403
    r = c.post(
        f"/imports/{uid}/run",
        data={"csrf": csrf},
        headers={"Sec-Fetch-Site": "cross-site"},
        follow_redirects=False,
    )
    assert r.status_code == 403
    time.sleep(0.1)
    assert count(api) == 0 and count(api, ImportJob) == 0


def test_another_session_cannot_use_an_upload_or_a_job(api):
    c, csrf = api.client("po")
    uid = upload_id(upload(c, csrf, csv_bytes([row(0)])))
    other, other_csrf = api.client("po")  # the same officer, another session
    r = other.post(f"/imports/{uid}/run", data={"csrf": other_csrf}, follow_redirects=False)
    assert r.status_code == 404 and "見つかりません" in r.text
    r = other.post(f"/imports/{uid}/mapping", data={"csrf": other_csrf, "map_0": "name"})
    assert r.status_code == 404
    admin, admin_csrf = api.client("admin")
    assert admin.post(f"/imports/{uid}/run", data={"csrf": admin_csrf}).status_code in (403, 404)
    r = c.post(f"/imports/{uid}/run", data={"csrf": csrf}, follow_redirects=False)
    job_path = r.headers["location"]
    assert other.get(job_path).status_code == 404
    assert other.get(f"{job_path}/progress").status_code == 404
    wait_done(c, job_path)
    assert count(api) == 1
    assert c.get("/imports/jobs/not-an-id").status_code == 404


def test_an_upload_expires(api, monkeypatch):
    c, csrf = api.client("po")
    uid = upload_id(upload(c, csrf, csv_bytes([row(0)])))
    later = time.monotonic() + imports_web.UPLOAD_TTL_SECONDS + 1
    monkeypatch.setattr(imports_web, "_now", lambda: later)
    assert c.post(f"/imports/{uid}/run", data={"csrf": csrf}).status_code == 404
    assert uid not in imports_web.STORE.uploads
    assert count(api) == 0


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


def test_the_upload_is_never_written_to_disk(api, tmp_path_factory, monkeypatch):
    # bigger than Starlette's 1 MB spool, so a stock multipart parser would have written it to a temp file
    rows = [[*row(i), "x" * 1000] for i in range(1100)]  # a long column nobody maps: ignored
    rows[5][7] = "zq7broken"  # a bad line too, so the bytes stay in memory between the check and the run
    data = csv_bytes(rows, header=[*HEADER, "メモ"])
    assert len(data) > 1024 * 1024
    since = time.time() - 1
    made: list[
        str
    ] = []  # an anonymous temporary file leaves no name to find afterwards: watch them being made
    for name in ("TemporaryFile", "NamedTemporaryFile", "SpooledTemporaryFile", "mkstemp"):
        real = getattr(tempfile, name)

        def watched(*args, _real=real, _name=name, **kwargs):
            made.append(_name)
            return _real(*args, **kwargs)

        monkeypatch.setattr(tempfile, name, watched)
    c, csrf = api.client("po")
    r = upload(c, csrf, data)
    assert r.status_code == 200 and '<dd id="bad-lines" class="error">1行</dd>' in r.text
    roots = [tmp_path_factory.getbasetemp(), Path(tempfile.gettempdir())]
    if os.environ.get("MAMORI_HOME"):
        roots.append(Path(os.environ["MAMORI_HOME"]))
    assert _files_with(MARK.encode(), roots, since) == []
    r = c.post(
        f"/imports/{upload_id(r)}/run", data={"csrf": csrf, "skip_bad_rows": "1"}, follow_redirects=False
    )
    wait_done(c, r.headers["location"])
    assert count(api) == 1099
    assert _files_with(MARK.encode(), roots, since) == []  # the data store holds it encrypted only
    assert made == []


# -- the runner's own refusals, duplicates, English ------------------------------------------------------------------


def test_provider_data_without_the_receipt_confirmation_is_refused_R_30_1(api):
    c, csrf = api.client("po")
    r = upload(c, csrf, csv_bytes([row(0)]), method="third_party", source="", channel="receipt")
    # the source is the registered provider's: the dry run's check refuses it, naming the rule; nothing to run
    assert r.status_code == 200, r.text
    failure = r.text.split('id="failure"', 1)[1].split("</div>", 1)[0]
    assert 'role="alert"' in failure and "R-30-1" in failure and "/run" not in r.text
    r = c.post(f"/imports/{upload_id(r)}/run", data={"csrf": csrf}, follow_redirects=False)
    assert r.status_code == 422  # a forged run is refused as well
    time.sleep(0.1)
    assert count(api) == 0 and count(api, ImportJob) == 0


def test_duplicates_are_reported_or_merged(api):
    c, csrf = api.client("po")
    uid = upload_id(upload(c, csrf, csv_bytes([row(0), row(1)])))
    wait_done(
        c, c.post(f"/imports/{uid}/run", data={"csrf": csrf}, follow_redirects=False).headers["location"]
    )
    uid = upload_id(upload(c, csrf, csv_bytes([row(1), row(2)]), on_duplicate="merge"))
    r = c.post(f"/imports/{uid}/run", data={"csrf": csrf}, follow_redirects=False)
    final = wait_done(c, r.headers["location"])
    assert '<dd id="report-created">1人</dd>' in final and '<dd id="report-merged">1人</dd>' in final
    assert "統合" in final and re.search(r'href="/customers/[0-9a-f]{32}"', final)
    assert count(api) == 3


def test_the_wizard_in_english(api):
    c, csrf = api.client("po")
    c.cookies.set("mamori_lang", "en")
    assert "Import customers" in c.get("/imports").text
    rows = _with_one_bad_line()
    r = upload(c, csrf, csv_bytes(rows))
    assert "Bad lines and why" in r.text and "Import without the 1 bad lines" in r.text
    r = upload(c, csrf, csv_bytes(rows), source="")
    assert r.status_code == 422 and "R-20-1" in r.text and "Source" in r.text


def test_suggested_mapping_and_a_column_left_out(api):
    header = ["お名前", "メール", "TEL", "メモ"]
    c, csrf = api.client("po")
    data = csv_bytes([["架空 四郎", "shiro-zq7@example.jp", "03-1234-5678", "not imported"]], header=header)
    r = upload(c, csrf, data)
    assert selected(r.text, "name") == ["お名前"] and selected(r.text, "email") == ["メール"]
    assert selected(r.text, "phone") == ["TEL"]
    uid = upload_id(r)
    r = c.post(f"/imports/{uid}/mapping", data={"csrf": csrf, "col_name": "お名前", "col_email": "メール"})
    assert '<dd id="bad-lines">0行</dd>' in r.text and selected(r.text, "phone") == []
    final = wait_done(
        c, c.post(f"/imports/{uid}/run", data={"csrf": csrf}, follow_redirects=False).headers["location"]
    )
    assert '<dd id="report-created">1人</dd>' in final
    with api.rt.transaction(_actor(api, "po"), "contract") as ctx:
        found = service.find(ctx, email="shiro-zq7@example.jp")
        assert (
            len(found) == 1 and service.find(ctx, phone="03-1234-5678") == []
        )  # the phone column was left out
