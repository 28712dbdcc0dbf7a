"""The import wizard with what companies really have (issue 19), without a browser: an Excel book and its sheet,
split columns joined (姓 + 名 → 氏名), the refusal of two columns on one field without a join, saved mappings (the
ones the CLI's ``--mapping NAME`` uses), a dry run that writes nothing, the rejected lines as a CSV without a
value, the rows held for the privacy officer, a sales rep importing into their own book, and the refusals
(roles, CSRF).
"""

from __future__ import annotations

import csv
import io
import re
import time

import pytest
from faker import Faker
from openpyxl import Workbook
from sqlalchemy import func, select

from mamori.customers import service
from mamori.customers.models import Customer, ImportJob, ImportMapping, ImportPending
from mamori.customers.service import import_mapping
from mamori.customers.web import imports as imports_web
from tests.web.test_import_pages import (
    SETTINGS,
    _actor,
    count,
    csv_bytes,
    selected,
    upload,
    upload_id,
    wait_done,
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SPLIT = ["姓", "名", "セイ", "メイ", "メールアドレス", "電話番号"]


@pytest.fixture
def api(runtime):
    from tests.api.conftest import Api

    return Api(runtime)


@pytest.fixture
def fake():
    f = Faker("ja_JP")
    f.seed_instance(19)
    return f


def split_rows(fake, n: int) -> list[list[str]]:
    return [
        [
            fake.last_name(),
            fake.first_name(),
            fake.last_kana_name(),
            fake.first_kana_name(),
            f"zq7split{i}@example.jp",
            f"090-{5000 + i:04d}-{6000 + i:04d}",
        ]
        for i in range(n)
    ]


def xlsx_bytes(sheets: dict[str, list[list[object]]]) -> bytes:
    wb = Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for r in rows:
            ws.append(r)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def upload_file(client, csrf, data: bytes, name: str, ctype: str = XLSX, **over):
    form = {**SETTINGS, **over}
    if csrf is not None:
        form["csrf"] = csrf
    return client.post("/imports/preview", data=form, files={"file": (name, data, ctype)})


def sheet_upload_id(r) -> str:
    m = re.search(r'action="/imports/([A-Za-z0-9_-]{43})/sheet"', r.text)
    assert m, r.text
    return m.group(1)


def row_of(html: str, target: str) -> str:
    """The mapping table's row of one target."""
    return html.split(f'<tr id="map-{target}">', 1)[1].split("</tr>", 1)[0]


def n_of(model, api) -> int:
    with api.rt.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def owners(api) -> set[str | None]:
    with api.rt.sessions() as s:
        return set(s.scalars(select(Customer.owner_id)).all())


def run_to_end(c, csrf, uid: str, **form) -> str:
    r = c.post(f"/imports/{uid}/run", data={"csrf": csrf, **form}, follow_redirects=False)
    assert r.status_code == 303, r.text
    return wait_done(c, r.headers["location"])


# -- Excel ----------------------------------------------------------------------------------------------------------


def test_an_excel_book_with_several_sheets_asks_for_the_sheet_then_imports_it(api, fake):
    people = split_rows(fake, 3)
    book = xlsx_bytes(
        {
            "説明": [["このブックは顧客一覧です"]],
            "顧客一覧": [SPLIT, *people],
        }
    )
    c, csrf = api.client("po")
    r = upload_file(c, csrf, book, "顧客.xlsx")
    assert r.status_code == 200, r.text
    assert "シートを選ぶ" in r.text and "/mapping" not in r.text  # the header depends on the sheet
    assert '<option value="説明">' in r.text and '<option value="顧客一覧">' in r.text
    uid = sheet_upload_id(r)
    assert c.post(f"/imports/{uid}/sheet", data={"csrf": csrf, "sheet": "ない"}).status_code == 422
    r = c.post(f"/imports/{uid}/sheet", data={"csrf": csrf, "sheet": "顧客一覧"})
    assert r.status_code == 200, r.text
    assert '<dd id="sheet">顧客一覧</dd>' in r.text
    assert selected(r.text, "name") == ["姓", "名"] and 'name="join_name" value="1" checked' in r.text
    assert selected(r.text, "phone") == ["電話番号"]
    assert '<dd id="total-lines">3行</dd>' in r.text and '<dd id="bad-lines">0行</dd>' in r.text
    assert count(api) == 0  # the check wrote nothing
    final = run_to_end(c, csrf, uid)
    assert '<dd id="report-created">3人</dd>' in final
    with api.rt.transaction(_actor(api, "po"), "contract") as ctx:
        found = service.find(ctx, email="zq7split1@example.jp")
    assert [f.name for f in found] == [f"{people[1][0]} {people[1][1]}"]


def test_an_excel_upload_makes_no_temporary_file(api, fake, monkeypatch):
    import tempfile

    made: list[str] = []
    for name in ("TemporaryFile", "NamedTemporaryFile", "SpooledTemporaryFile", "mkstemp", "mkdtemp"):
        real = getattr(tempfile, name)

        def watched(*args, _real=real, _name=name, **kwargs):
            made.append(_name)
            return _real(*args, **kwargs)

        monkeypatch.setattr(tempfile, name, watched)
    book = xlsx_bytes({"顧客": [SPLIT, *split_rows(fake, 3)], "メモ": [["x"]]})
    c, csrf = api.client("po")
    uid = sheet_upload_id(upload_file(c, csrf, book, "顧客.xlsx"))
    c.post(f"/imports/{uid}/sheet", data={"csrf": csrf, "sheet": "顧客"})
    final = run_to_end(c, csrf, uid)
    assert '<dd id="report-created">3人</dd>' in final and made == []


def test_a_book_with_one_sheet_goes_straight_to_the_mapping(api, fake):
    book = xlsx_bytes({"Sheet1": [SPLIT, *split_rows(fake, 2)]})
    c, csrf = api.client("po")
    r = upload_file(c, csrf, book, "顧客.xlsx")
    assert r.status_code == 200 and "シートを選ぶ" not in r.text
    assert '<dd id="total-lines">2行</dd>' in r.text and selected(r.text, "name") == ["姓", "名"]


# -- joins and conflicts --------------------------------------------------------------------------------------------


def test_a_join_mapping_imports_one_customer_with_the_joined_name(api, fake):
    people = split_rows(fake, 1)
    c, csrf = api.client("po")
    r = upload(c, csrf, csv_bytes(people, header=SPLIT))
    uid = upload_id(r)
    form = {
        "csrf": csrf,
        "col_name": ["姓", "名"],
        "join_name": "1",
        "sep_name": "　",  # a full-width space, chosen on the page
        "col_email": "メールアドレス",
    }
    r = c.post(f"/imports/{uid}/mapping", data=form)
    assert r.status_code == 200 and '<dd id="bad-lines">0行</dd>' in r.text
    assert 'id="sep-name" name="sep_name" value="　"' in r.text
    final = run_to_end(c, csrf, uid)
    assert '<dd id="report-created">1人</dd>' in final and count(api) == 1
    with api.rt.transaction(_actor(api, "po"), "contract") as ctx:
        found = service.find(ctx, email="zq7split0@example.jp")
    assert len(found) == 1 and found[0].name == f"{people[0][0]}　{people[0][1]}"


def test_two_columns_on_one_field_without_a_join_are_refused_next_to_the_field(api, fake):
    c, csrf = api.client("po")
    uid = upload_id(upload(c, csrf, csv_bytes(split_rows(fake, 2), header=SPLIT)))
    r = c.post(
        f"/imports/{uid}/mapping",
        data={"csrf": csrf, "col_name": ["姓", "名"], "col_email": "メールアドレス"},  # no join ticked
    )
    assert r.status_code == 200
    name_row = row_of(r.text, "name")
    assert 'id="err-name"' in name_row and "複数の列" in name_row and 'aria-invalid="true"' in name_row
    assert 'id="err-email"' not in r.text
    assert f"/imports/{uid}/run" not in r.text and 'id="total-lines"' not in r.text
    r = c.post(f"/imports/{uid}/run", data={"csrf": csrf, "skip_bad_rows": "1"}, follow_redirects=False)
    assert r.status_code == 422
    # several phone columns are several contact points: no conflict there
    r = c.post(
        f"/imports/{uid}/mapping",
        data={"csrf": csrf, "col_name": "姓", "col_phone": ["電話番号", "メイ"]},
    )
    assert 'id="err-phone"' not in r.text and 'id="total-lines"' in r.text
    time.sleep(0.1)
    assert count(api) == 0 and n_of(ImportJob, api) == 0


# -- saved mappings (the CLI's --mapping NAME) ---------------------------------------------------------------------


OWN_HEADER = ["お客様名", "連絡先メール", "メモ欄"]


def test_a_mapping_is_saved_by_name_and_chosen_for_the_next_file(api, fake):
    c, csrf = api.client("po")
    rows = [[fake.name(), "zq7saved@example.jp", "展示会で名刺交換"]]
    uid = upload_id(upload(c, csrf, csv_bytes(rows, header=OWN_HEADER)))
    form = {
        "csrf": csrf,
        "col_name": "お客様名",
        "col_email": "連絡先メール",
        "attr_key_0": "note",
        "attr_col_0": "メモ欄",
        "attr_cat_0": "attribute",
        "action": "save",
        "save_name": "展示会名刺",
    }
    r = c.post(f"/imports/{uid}/mapping", data=form)
    assert r.status_code == 200 and 'id="saved-message" class="notice"' in r.text, r.text
    assert "--mapping 展示会名刺" in r.text
    with api.rt.transaction(_actor(api, "po")) as ctx:
        saved = import_mapping.get(
            ctx, "展示会名刺"
        )  # what `mamori customers import --mapping 展示会名刺` reads
    assert saved.fields["name"].columns == ["お客様名"] and saved.fields["attr:note"].columns == ["メモ欄"]
    assert saved.attributes == {"note": "attribute"}

    # the next file with the same headings: nothing suggested, the saved mapping chosen
    c2, csrf2 = api.client("po")
    r = upload(c2, csrf2, csv_bytes(rows, header=OWN_HEADER))
    assert "氏名に対応する列がありません" in r.text and '<option value="展示会名刺">' in r.text
    uid2 = upload_id(r)
    assert c2.post(f"/imports/{uid2}/mapping/load", data={"csrf": csrf2, "saved": "ない"}).status_code == 422
    r = c2.post(f"/imports/{uid2}/mapping/load", data={"csrf": csrf2, "saved": "展示会名刺"})
    assert r.status_code == 200
    assert selected(r.text, "name") == ["お客様名"] and selected(r.text, "email") == ["連絡先メール"]
    assert 'name="attr_key_0" value="note"' in r.text and '<dd id="bad-lines">0行</dd>' in r.text
    final = run_to_end(c2, csrf2, uid2)
    assert '<dd id="report-created">1人</dd>' in final


def test_a_mapping_saved_from_the_cli_is_offered_and_a_bad_name_is_refused(api):
    with api.rt.transaction(_actor(api, "po")) as ctx:
        import_mapping.save(
            ctx, "基幹システム", import_mapping.parse_cli(["お客様名=name", "連絡先メール=email"])
        )
    c, csrf = api.client("po")
    r = upload(c, csrf, csv_bytes([["架空 一郎", "zq7cli@example.jp", ""]], header=OWN_HEADER))
    assert '<option value="基幹システム">' in r.text
    uid = upload_id(r)
    r = c.post(
        f"/imports/{uid}/mapping",
        data={"csrf": csrf, "col_name": "お客様名", "action": "save", "save_name": "bad name!"},
    )
    assert 'id="saved-message" class="error"' in r.text
    before = n_of(ImportMapping, api)
    r = c.post(  # a mapping that cannot be used is not saved
        f"/imports/{uid}/mapping",
        data={"csrf": csrf, "col_name": ["お客様名", "メモ欄"], "action": "save", "save_name": "壊れた対応"},
    )
    assert 'id="saved-message" class="error"' in r.text and n_of(ImportMapping, api) == before


def test_a_saved_mapping_naming_a_column_the_file_lacks_is_refused_next_to_the_field(api):
    with api.rt.transaction(_actor(api, "po")) as ctx:
        import_mapping.save(ctx, "旧形式", import_mapping.parse_cli(["お客様名=name", "旧メール=email"]))
    c, csrf = api.client("po")
    uid = upload_id(upload(c, csrf, csv_bytes([["架空 七郎", "zq7old@example.jp", ""]], header=OWN_HEADER)))
    r = c.post(f"/imports/{uid}/mapping/load", data={"csrf": csrf, "saved": "旧形式"})
    email_row = row_of(r.text, "email")
    assert "旧メール（ファイルにない列）" in email_row and 'id="err-email"' in email_row
    assert f"/imports/{uid}/run" not in r.text
    r = c.post(
        f"/imports/{uid}/mapping", data={"csrf": csrf, "col_name": "お客様名", "col_email": "旧メール"}
    )
    assert r.status_code == 200 and 'id="err-email"' in r.text  # sent back as shown: still refused, in words
    r = c.post(
        f"/imports/{uid}/mapping", data={"csrf": csrf, "col_name": "お客様名", "col_email": "連絡先メール"}
    )
    assert 'id="err-email"' not in r.text and '<dd id="bad-lines">0行</dd>' in r.text


# -- the dry run and its report --------------------------------------------------------------------------------------


def test_the_dry_run_writes_nothing(api, fake):
    c, csrf = api.client("po")
    people = split_rows(fake, 4)
    people[2][5] = "TEL:abc"
    before = (count(api), n_of(ImportJob, api), n_of(ImportPending, api))
    r = upload(c, csrf, csv_bytes(people, header=SPLIT))
    uid = upload_id(r)
    assert '<dd id="total-lines">4行</dd>' in r.text and '<dd id="bad-lines" class="error">1行</dd>' in r.text
    for _ in range(2):
        r = c.post(
            f"/imports/{uid}/mapping",
            data={"csrf": csrf, "col_name": ["姓", "名"], "join_name": "1", "col_phone": "電話番号"},
        )
        assert '<dd id="good-lines">3行</dd>' in r.text
    assert c.get(f"/imports/{uid}/errors.csv").status_code == 200
    time.sleep(0.1)
    assert (count(api), n_of(ImportJob, api), n_of(ImportPending, api)) == before == (0, 0, 0)


def test_the_rejected_lines_download_holds_no_value_from_the_file(api, fake):
    name = fake.name()
    rows = [
        [fake.name(), "zq7ok@example.jp", "03-1234-5678"],
        [name, "zq7bad@example.jp", "TEL:abc"],  # line 3: not a phone number
    ]
    c, csrf = api.client("po")
    r = upload(c, csrf, csv_bytes(rows, header=["氏名", "メールアドレス", "電話番号"]))
    uid = upload_id(r)
    assert f'href="/imports/{uid}/errors.csv"' in r.text
    d = c.get(f"/imports/{uid}/errors.csv")
    assert d.status_code == 200
    assert d.headers["content-type"].startswith("text/csv") and "charset=utf-8" in d.headers["content-type"]
    assert (
        d.headers["content-disposition"].startswith("attachment;")
        and ".csv" in d.headers["content-disposition"]
    )
    assert d.headers["cache-control"] == "no-store"
    assert d.content.startswith(b"\xef\xbb\xbf")  # a BOM: Excel reads it as UTF-8
    text = d.content.decode("utf-8-sig")
    lines = list(csv.reader(io.StringIO(text)))
    assert len(lines) == 2 and lines[1][0] == "3" and "電話番号" in lines[1]  # the line and its column
    for value in ("TEL:abc", "abc", name, "zq7bad", "zq7ok", "03-1234-5678", rows[0][0]):
        assert value not in text
    # after the import (the bad line left out) the job page offers the same download
    final = run_to_end(c, csrf, uid, skip_bad_rows="1")
    job_csv = re.search(r'href="(/imports/jobs/[A-Za-z0-9_-]{43}/errors\.csv)"', final)
    assert job_csv and '<dd id="report-skipped">1行</dd>' in final
    d = c.get(job_csv.group(1))
    assert d.status_code == 200 and d.content.startswith(b"\xef\xbb\xbf")
    assert "abc" not in d.content.decode("utf-8-sig") and name not in d.content.decode("utf-8-sig")
    # another session cannot download it
    other, _ = api.client("po")
    assert other.get(job_csv.group(1)).status_code == 404


def test_lines_whose_notified_purposes_do_not_cover_the_import_wait_for_the_officer(api, fake):
    rows = [
        [fake.name(), "zq7pend0@example.jp", "contract"],
        [fake.name(), "zq7pend1@example.jp", "marketing-email"],  # not told of contract: held (R-21-1)
    ]
    c, csrf = api.client("po")
    uid = upload_id(upload(c, csrf, csv_bytes(rows, header=["氏名", "メールアドレス", "通知済み"])))
    r = c.post(
        f"/imports/{uid}/mapping",
        data={
            "csrf": csrf,
            "col_name": "氏名",
            "col_email": "メールアドレス",
            "col_notified_purposes": "通知済み",
        },
    )
    assert '<dd id="pending-lines">1行</dd>' in r.text and n_of(ImportPending, api) == 0
    final = run_to_end(c, csrf, uid)
    assert '<dd id="report-pending">1行</dd>' in final and '<dd id="report-created">1人</dd>' in final
    assert 'href="/imports/pending"' in final  # the officer's list of held lines
    assert count(api) == 1 and n_of(ImportPending, api) == 1


# -- who may import ------------------------------------------------------------------------------------------------


def test_a_sales_rep_imports_into_their_own_book_without_an_owner_choice(api, fake):
    c, csrf = api.client("sato")
    r = c.get("/imports")
    assert r.status_code == 200 and 'id="own-book"' in r.text and 'name="owner"' not in r.text
    header = ["氏名", "メールアドレス", "担当営業"]
    rows = [[fake.name(), f"zq7own{i}@example.jp", "suzuki"] for i in range(2)]
    # a forged owner in the form changes nothing: a sales rep's import is their own book
    r = upload(c, csrf, csv_bytes(rows, header=header), owner=api.ids["suzuki"])
    assert r.status_code == 200, r.text
    assert 'name="col_owner"' not in r.text and "自分（自分の顧客として取り込みます）" in r.text
    final = run_to_end(c, csrf, upload_id(r))
    assert '<dd id="report-created">2人</dd>' in final
    assert owners(api) == {api.ids["sato"]}


def test_the_privacy_officer_chooses_the_owner(api):
    c, csrf = api.client("po")
    r = c.get("/imports")
    assert (
        f'<option value="{api.ids["suzuki"]}">' in r.text and f'<option value="{api.ids["sato"]}">' in r.text
    )
    assert f'<option value="{api.ids["support"]}">' not in r.text  # only staff who own customers
    r = upload(
        c,
        csrf,
        csv_bytes([["架空 五郎", "zq7po@example.jp"]], header=["氏名", "メール"]),
        owner=api.ids["suzuki"],
    )
    assert 'name="col_owner"' in r.text
    final = run_to_end(c, csrf, upload_id(r))
    assert '<dd id="report-created">1人</dd>' in final and owners(api) == {api.ids["suzuki"]}


@pytest.mark.parametrize("user", ["support", "analyst", "admin"])
def test_other_roles_cannot_reach_a_step_of_the_wizard(api, user):
    po, po_csrf = api.client("po")
    uid = upload_id(
        upload(po, po_csrf, csv_bytes([["架空 六郎", "zq7role@example.jp"]], header=["氏名", "メール"]))
    )
    c, csrf = api.client(user)
    assert c.get("/imports").status_code == 403
    for path, form in (
        (f"/imports/{uid}/mapping", {"csrf": csrf, "col_name": "氏名", "action": "save", "save_name": "x"}),
        (f"/imports/{uid}/mapping/load", {"csrf": csrf, "saved": "x"}),
        (f"/imports/{uid}/sheet", {"csrf": csrf, "sheet": "x"}),
        (f"/imports/{uid}/run", {"csrf": csrf}),
    ):
        assert c.post(path, data=form, follow_redirects=False).status_code in (403, 404), path
    assert c.get(f"/imports/{uid}/errors.csv").status_code in (403, 404)
    time.sleep(0.1)
    assert count(api) == 0 and n_of(ImportMapping, api) == 0 and n_of(ImportJob, api) == 0


def test_no_csrf_token_is_refused_at_every_step(api, fake):
    c, csrf = api.client("po")
    book = xlsx_bytes({"A": [SPLIT, *split_rows(fake, 1)], "B": [["x"]]})
    assert upload_file(c, None, book, "顧客.xlsx").status_code == 403
    uid = sheet_upload_id(upload_file(c, csrf, book, "顧客.xlsx"))
    assert c.post(f"/imports/{uid}/sheet", data={"sheet": "A"}).status_code == 403
    assert c.post(f"/imports/{uid}/sheet", data={"csrf": csrf, "sheet": "A"}).status_code == 200
    save = {"col_name": "姓", "action": "save", "save_name": "無断保存"}
    assert c.post(f"/imports/{uid}/mapping", data=save).status_code == 403
    assert c.post(f"/imports/{uid}/mapping", data={**save, "csrf": "0" * 64}).status_code == 403
    r = c.post(
        f"/imports/{uid}/mapping", data={**save, "csrf": csrf}, headers={"Sec-Fetch-Site": "cross-site"}
    )
    assert r.status_code == 403
    assert n_of(ImportMapping, api) == 0
    assert c.post(f"/imports/{uid}/mapping/load", data={"saved": "x"}).status_code == 403
    assert c.post(f"/imports/{uid}/run", data={}, follow_redirects=False).status_code == 403
    time.sleep(0.1)
    assert count(api) == 0 and n_of(ImportJob, api) == 0
    assert uid in imports_web.STORE.uploads  # the upload is still there, unchanged


def test_the_mapping_step_in_english(api, fake):
    c, csrf = api.client("po")
    r = c.get("/imports?lang=en")
    assert "CSV file or Excel book" in r.text and "Sales owner" in r.text
    c.cookies.set("mamori_lang", "en")
    people = split_rows(fake, 2)
    people[1][5] = "TEL:abc"
    r = upload(c, csrf, csv_bytes(people, header=SPLIT))
    assert "Trial run (nothing was written)" in r.text and "Lines by reason" in r.text
    assert "Download the bad lines (CSV for Excel)" in r.text and "Join" in r.text
    uid = upload_id(r)
    d = c.get(f"/imports/{uid}/errors.csv")
    assert d.status_code == 200 and "abc" not in d.content.decode("utf-8-sig")
