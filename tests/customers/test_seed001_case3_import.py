"""Seed 001 case 3, end to end through the CLI: a sales department loads the customer list its reps kept in Excel.

The list is what such a department really has (CP932, 姓/名 and セイ/メイ apart, 都道府県 / 住所 / 建物 apart, two phone
columns with TEL: and 内線, 顧客番号, 登録日, 担当営業, a DM column saying what each person was told, 備考). The seed's
three points: rules first (the mapping, saved), permission checked (a line whose person was not told of the import's
purposes waits for the privacy officer, R-21-1), security (nothing in plaintext, the source recorded, R-20-1).
"""

from __future__ import annotations

import csv
import io
import json
import sqlite3

import pytest
from sqlalchemy import func, select

from mamori.customers.models import Customer, CustomerAttribute, CustomerExternalId, ImportJob, ImportPending
from mamori.kernel.runtime import Runtime
from mamori.kernel.settings import get_settings
from tests.factories import demo_cli

PO = ("--as", "hoshino")
SALES = ("--as", "sato")

HEADER = [
    "顧客番号",
    "姓",
    "名",
    "セイ",
    "メイ",
    "生年月日",
    "郵便番号",
    "都道府県",
    "住所",
    "建物",
    "電話1",
    "電話2",
    "メール",
    "担当営業",
    "DM案内",
    "登録日",
    "備考 ",  # Excel's trailing space in a heading
]
ROWS = [
    # told of contract and marketing e-mail: imported
    [
        "C-0001",
        "架空",
        "一郎",
        "カクウ",
        "イチロウ",
        "S60.1.5",
        "100ー0001",
        "東京都",
        "千代田区千代田1-1",
        "架空ビル3F",
        "TEL:03-3210-0001",
        "090-1111-0001（内線12）",
        "ichiro@example.jp",
        "佐藤 健一",
        "可",
        "2019/4/1",
        "展示会で名刺交換",
    ],
    # told of contract only: held for the privacy officer (R-21-1)
    [
        "C-0002",
        "試験",
        "花子",
        "シケン",
        "ハナコ",
        "1990年2月3日",
        "530−0001",
        "",
        "大阪市北区梅田2-2",
        "",
        "０６－６３４５－０００２",
        "",
        "",
        "sato",
        "不可",
        "2020/5/6",
        "",
    ],
    # no e-mail, no phone: found again on a re-run by the customer number
    [
        "C-0003",
        "見本",
        "次郎",
        "ミホン",
        "ジロウ",
        "31048",
        "〒0600001",
        "北海道",
        "札幌市中央区北一条西3-3",
        "",
        "",
        "",
        "",
        "佐藤 健一",
        "可",
        "43831",
        "",
    ],
    ["", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", ""],  # Excel's trailing blank lines
    ["", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", ""],
]
MAPPING = {
    "name": "sales-2026",
    "fields": {
        "name": {"columns": ["姓", "名"], "join": True, "sep": " "},
        "kana": {"columns": ["セイ", "メイ"], "join": True, "sep": " "},
        "address": {"columns": ["都道府県", "住所", "建物"], "join": True, "sep": " "},
        "phone": {"columns": ["電話1", "電話2"]},
        "birth_date": {"columns": ["生年月日"]},
        "postal_code": {"columns": ["郵便番号"]},
        "email": {"columns": ["メール"]},
        "external_id": {"columns": ["顧客番号"]},
        "registered_on": {"columns": ["登録日"]},
        "owner": {"columns": ["担当営業"]},
        "notified_purposes": {"columns": ["DM案内"]},
        "attr:note": {"columns": ["備考"]},
    },
    "values": {"notified_purposes": {"可": "contract,marketing-email", "不可": "contract"}},
    "id_system": "営業部顧客台帳",
}
IMPORT = (
    "--notified-purpose",
    "contract",
    "--notified-purpose",
    "marketing-email",
    "--source",
    "営業部の顧客台帳（Excel）",
)


@pytest.fixture
def run(tmp_path, monkeypatch):
    yield from demo_cli(tmp_path, monkeypatch, customers=1)


def export(path, rows=ROWS):
    """The list as Excel writes 'CSV (comma separated)' on a Japanese Windows: CP932, CRLF."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows([HEADER, *rows])
    path.write_bytes(out.getvalue().encode("cp932"))
    return path


def count(model) -> int:
    rt = Runtime(get_settings())
    try:
        with rt.sessions() as s:
            return int(s.scalar(select(func.count()).select_from(model)) or 0)
    finally:
        rt.close()


def as_json(r):
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


def test_the_sales_departments_excel_list_goes_in_with_the_seeds_three_checks(run, tmp_path):
    f = export(tmp_path / "顧客台帳.csv")
    n0 = count(Customer)  # the demo's own customer
    rules = tmp_path / "mapping.json"
    rules.write_text(json.dumps(MAPPING, ensure_ascii=False), encoding="utf-8")
    # the source is real (R-20-1): blank is refused before anything is read
    r = run(
        *PO,
        "customers",
        "import",
        str(f),
        "--notified-purpose",
        "contract",
        "--source",
        " ",
        "--mapping-file",
        str(rules),
    )
    assert r.exit_code != 0 and "R-20-1" in r.output and count(Customer) == n0
    # a dry run: the same report, nothing written
    dry = as_json(
        run(*PO, "customers", "import", str(f), *IMPORT, "--mapping-file", str(rules), "--dry-run", "--json")
    )
    assert dry["dry_run"] and dry["errors"] == [] and dry["total"] == 3
    assert dry["created"] == 2 and dry["pending"] == 1 and dry["pending_lines"] == [3]
    assert count(Customer) == n0 and count(ImportJob) == 0 and count(ImportPending) == 0
    # the import, its mapping saved by name for the next list
    done = as_json(
        run(
            *PO,
            "customers",
            "import",
            str(f),
            *IMPORT,
            "--mapping-file",
            str(rules),
            "--save-mapping",
            "sales-2026",
            "--acquisition",
            "営業担当者が名刺交換・商談で取得",
            "--json",
        )
    )
    assert done["written"] and done["created"] == 2 and done["pending"] == 1 and done["errors"] == []
    assert count(Customer) == n0 + 2 and count(ImportPending) == 1 and count(CustomerExternalId) == 2
    # the values as the file wrote them, normalised
    found = as_json(run(*PO, "customers", "find", "-p", "contract", "--customer-no", "C-0001", "--json"))
    (cid,) = [c["id"] for c in found["items"]] if isinstance(found, dict) else [c["id"] for c in found]
    shown = as_json(run(*PO, "customers", "show", cid, "-p", "contract", "--json"))
    assert shown["name"] == "架空 一郎" and shown["kana"] == "カクウ イチロウ"
    assert shown["birth_date"] == "1985-01-05" and shown["postal_code"] == "100-0001"
    assert shown["address"] == "東京都千代田区千代田1-1 架空ビル3F"  # no space after a 都道府県 column
    assert sorted(shown["phones"]) == ["+81332100001", "+819011110001;ext=12"]
    assert {a["key"]: a["value"] for a in shown["attributes"]} == {
        "registered_on": "2019-04-01",
        "note": "展示会で名刺交換",
    }
    rt = Runtime(get_settings())
    try:
        with rt.sessions() as s:
            job = s.scalar(select(ImportJob.id))
            owners = set(s.scalars(select(Customer.owner_id).where(Customer.import_job_id == job)).all())
            sato = s.scalar(select(Customer.owner_id).where(Customer.id == cid))
            assert owners == {sato} and sato is not None  # 佐藤 健一 (display name) and sato (username) alike
            attrs = (
                select(func.count())
                .select_from(CustomerAttribute)
                .where(CustomerAttribute.key.in_(["note", "registered_on"]))
            )
            assert s.scalar(attrs) == 3
    finally:
        rt.close()
    # the source and 取得の経緯 given at import are what the person's disclosure says (R-20-1)
    from mamori.customers.sources import CustomersSource
    from mamori.kernel.context import SYSTEM_ACTOR

    rt = Runtime(get_settings())
    try:
        with rt.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
            records = CustomersSource().export(ctx, cid)
    finally:
        rt.close()
    prov = [dict(r.data) for r in records if r.category == "provenance"]
    assert prov == [
        {
            "method": "direct",
            "channel": "import",
            "source": "営業部の顧客台帳（Excel）",
            "acquisition": "営業担当者が名刺交換・商談で取得",
            "notice_version": None,
            "campaign": None,  # no acquisition campaign was named for the file
        }
    ]
    assert [dict(r.data) for r in records if r.category == "external_id"] == [
        {"system": "営業部顧客台帳", "value": "C-0001"}
    ]
    # the person not told of marketing e-mail waits; the officer sees the line, never its values, in the list
    listed = as_json(run(*PO, "customers", "pending", "list", "--json"))
    items = listed["items"] if isinstance(listed, dict) else listed
    assert [(i["line"], i["reason"]) for i in items] == [(3, "purpose_not_notified")]
    assert "試験" not in json.dumps(listed, ensure_ascii=False)
    # a re-run of the same list creates nothing twice (the third person has no e-mail and no phone)
    again = as_json(run(*PO, "customers", "import", str(f), *IMPORT, "--mapping", "sales-2026", "--json"))
    assert again["created"] == 0 and again["pending"] == 0 and len(again["duplicates"]) == 3
    assert count(Customer) == n0 + 2 and count(ImportPending) == 1
    # security: nothing of the list in the data store in plaintext
    db = get_settings().home / "mamori.db"
    raw = b"".join(bytes(str(row), "utf-8") for row in _dump(db))
    for value in (
        "架空 一郎",
        "カクウ",
        "C-0001",
        "千代田1-1",
        "3210-0001",
        "3210",
        "ichiro@example.jp",
        "展示会で名刺",
    ):
        assert value.encode() not in raw, value


def _dump(db):
    con = sqlite3.connect(db)
    try:
        for (table,) in con.execute("SELECT name FROM sqlite_master WHERE type='table'"):
            yield from con.execute(f'SELECT * FROM "{table}"')
    finally:
        con.close()


def test_a_sales_rep_imports_their_own_business_cards_into_their_own_book(run, tmp_path):
    cards = tmp_path / "名刺.csv"
    cards.write_text(
        "氏名,フリガナ,会社名,電話,メール\n"
        "名刺 三郎,メイシ サブロウ,架空商事株式会社,TEL:03-3210-0009,saburo@example.jp\n",
        encoding="utf-8-sig",
    )
    done = as_json(
        run(
            *SALES,
            "customers",
            "import",
            str(cards),
            "--notified-purpose",
            "contract",
            "--source",
            "名刺交換",
            "--json",
        )
    )
    assert done["created"] == 1
    listed = as_json(run(*SALES, "customers", "list", "-p", "contract", "--json"))
    assert "名刺 三郎" in json.dumps(listed, ensure_ascii=False)  # in the rep's own book, so the rep sees it
    # naming another owner is refused with the rule
    r = run(
        *SALES,
        "customers",
        "import",
        str(cards),
        "--notified-purpose",
        "contract",
        "--source",
        "名刺",
        "--owner",
        "suzuki",
    )
    assert r.exit_code != 0 and "R-23-2" in r.output


def test_every_bad_line_is_reported_with_its_column_and_never_its_value(run, tmp_path):
    rows = [list(r) for r in ROWS[:3]]
    rows[0][5] = "昭和65年1月1日"  # 昭和 ended in its 64th year
    rows[1][6] = "999-9999"  # no such postal code
    rows[2][10] = "TEL:abc-defg"
    n0 = count(Customer)
    f = export(tmp_path / "bad.csv", rows)
    rules = tmp_path / "mapping.json"
    rules.write_text(json.dumps(MAPPING, ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "rejected.csv"
    r = run(
        *PO, "customers", "import", str(f), *IMPORT, "--mapping-file", str(rules), "--errors-out", str(out)
    )
    assert r.exit_code == 1 and count(Customer) == n0
    assert "2行目: 生年月日: " in r.output and "3行目: 郵便番号: " in r.output
    assert "4行目: 電話番号［電話1+電話2列］" in r.output
    assert "不正な行の内訳" in r.output
    text = out.read_text(encoding="utf-8-sig")
    assert text.splitlines()[0] == "行,列,項目,理由" and len(text.splitlines()) == 4
    for value in ("昭和65", "999-9999", "abc-defg", "一郎", "花子"):
        assert value not in r.output and value not in text
    en = run(*PO, "--lang", "en", "customers", "import", str(f), *IMPORT, "--mapping-file", str(rules))
    assert "line 4: Phone number [column 電話1+電話2]" in en.output
