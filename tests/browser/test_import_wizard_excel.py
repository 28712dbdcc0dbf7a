"""The import wizard in a real browser with an Excel book (issue 19): the sheet chosen, 姓 + 名 mapped to 氏名 by
hand and joined, a dry run that lists the bad line without its value and writes nothing, then the import with the
progress bar to the report; axe-core finds no serious or critical violation on any step."""

from __future__ import annotations

import pytest
from faker import Faker
from openpyxl import Workbook
from sqlalchemy import func, select

from mamori.customers import service
from mamori.customers.models import Customer
from mamori.kernel.context import SYSTEM_ACTOR
from mamori.staff import service as staff_service
from tests.browser.conftest import Live, shot, sign_in
from tests.browser.test_shell import serious_violations

pytestmark = pytest.mark.browser

# headings no suggestion knows: the user maps them
HEADER = ["ファミリーネーム", "ファーストネーム", "Eメール連絡先", "生まれ"]


def customers_count(live: Live) -> int:
    with live.runtime.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(Customer)) or 0)


def test_an_excel_book_mapped_by_hand_dry_run_then_imported(page, live: Live, tmp_path):
    fake = Faker("ja_JP")
    fake.seed_instance(1919)
    people = [(fake.last_name(), fake.first_name()) for _ in range(4)]
    wb = Workbook()
    notes = wb.active
    notes.title = "説明"
    notes.append(["この表は試験用です"])
    ws = wb.create_sheet("名刺")
    ws.append(HEADER)
    for i, (last, first) in enumerate(people):
        ws.append([last, first, f"excel.wizard{i}@example.jp", "1985/1/5"])
    ws.append(["架空", "不正", "excel.wizard.bad@example.jp", "1990-02-31"])  # row 6: no such date
    book = tmp_path / "名刺.xlsx"
    wb.save(book)
    before = customers_count(live)

    sign_in(page, live, "hoshino")
    page.goto(live.url + "/imports")
    page.get_by_label("CSV ファイルまたは Excel ファイル").set_input_files(str(book))
    page.get_by_label("取得元", exact=False).first.fill("2026年秋 展示会の名刺（Excel、ブラウザ試験）")
    page.locator('input[name="purposes"][value="contract"]').check()
    page.locator('form[action="/imports/preview"] button[type="submit"]').click()

    # the book has two sheets: choose one
    page.get_by_role("heading", name="シートを選ぶ").wait_for()
    assert serious_violations(page) == []
    page.get_by_label("シート").select_option("名刺")
    page.get_by_role("button", name="このシートを読む").click()

    # nothing suggested for these headings: map 姓 + 名 to 氏名 by hand, join them
    page.locator("#mapping-table").wait_for()
    assert "氏名に対応する列がありません" in page.inner_text("#import-check")
    page.get_by_label("氏名：列1").select_option("ファミリーネーム")
    page.get_by_label("メールアドレス：列1").select_option("Eメール連絡先")
    page.get_by_label("生年月日：列1").select_option("生まれ")
    page.get_by_role("button", name="この対応で試す（書き込みません）").click()
    page.get_by_label("氏名：列2").wait_for()  # a second box for the name after the first was chosen
    page.get_by_label("氏名：列2").select_option("ファーストネーム")
    page.locator('input[name="join_name"]').check()
    page.get_by_role("button", name="この対応で試す（書き込みません）").click()

    # the dry run: one bad line (row 6, 生年月日) without its value, nothing written
    page.locator("#bad-line-table").wait_for()
    assert page.inner_text("#total-lines").startswith("5")
    table = page.inner_text("#bad-line-table")
    assert "6" in table and "生まれ" in table and "生年月日" in table
    assert "1990-02-31" not in page.content() and "excel.wizard.bad" not in page.content()
    assert page.locator("#errors-csv").count() == 1 and page.locator("#summary-table").count() == 1
    assert customers_count(live) == before
    assert "example.jp" not in page.url
    assert serious_violations(page) == []
    shot(page, "import-excel-check")

    # import the 4 good lines with the progress bar to the report
    page.locator('input[name="skip_bad_rows"]').check()
    page.get_by_role("button", name="4 行を取り込む").click()
    page.locator("#import-progress").wait_for()
    page.locator("#report-created").wait_for(timeout=60_000)
    assert page.inner_text("#report-created").startswith("4")
    assert page.inner_text("#report-skipped").startswith("1")
    assert serious_violations(page) == []
    shot(page, "import-excel-done")
    assert customers_count(live) == before + 4
    with live.runtime.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        officer = staff_service.actor_for(ctx, "hoshino")
    with live.runtime.transaction(officer, "contract") as ctx:
        found = service.find(ctx, email="excel.wizard2@example.jp")
    assert [f.name for f in found] == [f"{people[2][0]} {people[2][1]}"]  # 姓 + 名, joined with a space
