"""import_files.read_table over the files offices have (issue 19): every encoding, delimiter and workbook quirk,
line numbers as the user sees them, and every refusal one line that never names a value from the file."""

from __future__ import annotations

import base64
import io
import zipfile
import zlib
from datetime import date, datetime, time, timedelta

import openpyxl
import pytest

from mamori.customers.service.import_checks import MAX_FIELD_CHARS, MAX_LINE_BYTES
from mamori.customers.service.import_files import (
    SAMPLE_BYTES,
    cell_text,
    detect_encoding,
    read_table,
    sheet_names,
    sniff_delimiter,
)
from mamori.kernel.errors import ValidationFailed
from tests.customers.office_exports import Quirks, office_export, render_date, render_postal

# A small .xls (Excel 97-2003, BIFF8) written with xlwt: sheets 顧客 and Sheet2; 姓 名 登録日 電話 / 山田 太郎
# 2020-01-05 (a date cell, yyyy/m/d) 312345678 (a number). zlib + base64.
XLS_B64 = (
    "eNrtWF9Ik1EU/51vm9tkm9uagQYyhKyWYVkPEegsKCFI7A+UJZS2UWHNHBZaD1m2lyAIhKjoxbCHIKxe+kMF+dZDZORDEARb0VMQ"  # pragma: allowlist secret
    "RAVBuq9zz77JtAUOarD4fh/33HPPvffcs3vO/bP7atKXHL1XncI8NMOCtO5EWY6MODmzBS+4XtcVm80dnHQTJQWngx1ZZsNj9wu7"  # pragma: allowlist secret
    "8qHydwoa7lonmALvOXXiONp6Y9FgEbFJbOgiZUMTWTn2NFzn5EGV2OUXelDoIqF3pO0ToS0iuSi0idsmaS8mw22h9UYc79Fqpc7D"  # pragma: allowlist secret
    "lPBA+rwVyRpU4rmK4zOXKNPWho3xI11HS6yixurCGNilrdFYNK7KbtxUK3SQ0XCsIZJEgJ09hu96EPiWXdXPgqa8uHICy3/Mldv/"  # pragma: allowlist secret
    "IHewC+fLRzQrMAT9AKlQTsCFVVZVo9GhKzf2JTjEv9oyC3vn4Wi0v3Ea61RYSCLQVAcT9y4L6PTJxpGPUVby83LfBc76Olef4CzU"  # pragma: allowlist secret
    "8VKF1kC52vxls/DO2SzcsoRcTCOoEN4nC8nL1k7f+vJ6W3d7eL9IhuSAyBwjS5XV0HFW9eDOHqnRhKqakPArhZ4TrUuErxYa4Cjn"  # pragma: allowlist secret
    "vK690mC2DEub81Jbx+OsFUyFl+Xwy5lPfNr+sCbxIbyC+fHW1KnA+JvwKGr5WIuo2eBvGPVUT9euKjwKZ3MyNpx3Qqt+23wcmtew"  # pragma: allowlist secret
    "XTfOygrMoFxYn9BMSc0OzZY0Y64yJQuXLIYuyqOLRJfVaE+iS7n2Kdumtkc/Pt9WGjf4BrZa0Kz5cV8mtCXnCC+GF2mWlqoXKa8X"  # pragma: allowlist secret
    "1TzJrCLfrJowYcKECRMmTJQIyLh2W4yLt824ENqNd50ZTmnzmeS/xQ708tfPfyo3I8Z5HIMFxc9i2CirixbYJ/teqLCbR4+jB91i"  # pragma: allowlist secret
    "R0/B8csXesr9PQvu6P17S6jQ8dOF2PmPx/8F5koHyg=="  # pragma: allowlist secret
)

SECRET = "秘密の値 090-9999-0000"  # a value that must never appear in an error


def rows(table) -> list[tuple[int, list[str]]]:
    return list(table.rows)


def refused(data: bytes, file_name: str, code: str, **kw) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as info:
        t = read_table(data, file_name, **kw)
        list(t.rows)
    err = info.value
    assert err.code == code, (err.code, err.message_en)
    text = err.message_ja + err.message_en + repr(err.details)
    assert "秘密" not in text and "9999" not in text, text
    assert "\n" not in err.message_ja and "\n" not in err.message_en
    return err


def xlsx(build) -> bytes:
    wb = openpyxl.Workbook()
    build(wb)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# -- encodings ----------------------------------------------------------------------------------------------------

TEXT = "顧客番号,姓,名,住所,備考\r\n1,髙橋,一郎,東京都千代田区千代田1-1,①㈱紹介 﨑\r\n2,山田,花子,大阪府大阪市北区梅田1-1,\r\n"
EXPECTED_ROWS = [
    (2, ["1", "髙橋", "一郎", "東京都千代田区千代田1-1", "①㈱紹介 﨑"]),
    (3, ["2", "山田", "花子", "大阪府大阪市北区梅田1-1", ""]),
]


@pytest.mark.parametrize(
    ("raw", "encoding"),
    [
        (TEXT.encode("utf-8"), "utf-8"),
        (TEXT.encode("utf-8-sig"), "utf-8"),
        # ①, ㈱ (NEC extensions) and 髙, 﨑 (IBM extensions) exist in CP932, not in Shift_JIS
        (TEXT.encode("cp932"), "cp932"),
        (b"\xff\xfe" + TEXT.replace(",", "\t").encode("utf-16-le"), "utf-16-le"),
        (b"\xfe\xff" + TEXT.replace(",", "\t").encode("utf-16-be"), "utf-16-be"),
        (TEXT.replace(",", "\t").encode("utf-16-le"), "utf-16-le"),  # saved without a BOM
        (TEXT.replace(",", "\t").encode("utf-16-be"), "utf-16-be"),
    ],
    ids=[
        "utf8",
        "utf8-bom",
        "cp932",
        "utf16le-bom-tab",
        "utf16be-bom-tab",
        "utf16le-no-bom",
        "utf16be-no-bom",
    ],
)
def test_each_encoding_reads_the_same_table(raw, encoding):
    table = read_table(raw, "customers.csv")
    assert table.kind == "csv" and table.encoding == encoding
    assert table.header == ["顧客番号", "姓", "名", "住所", "備考"]
    assert rows(table) == EXPECTED_ROWS


@pytest.mark.parametrize("encoding", ["euc_jp", "iso2022_jp"])
def test_euc_jp_and_jis_are_detected(encoding):
    text = "姓,名,住所\n山田,太郎,東京都千代田区千代田1-1\n鈴木,花子,神奈川県横浜市西区みなとみらい2-2\n"
    table = read_table(text.encode(encoding), "c.csv")
    assert table.encoding == encoding
    assert rows(table)[1] == (3, ["鈴木", "花子", "神奈川県横浜市西区みなとみらい2-2"])


def test_cp932_is_detected_with_many_extension_characters():
    # charset-normalizer counts ① ㈱ as "chaos"; a list full of them is still CP932, not refused
    text = "住所,備考\n" + "".join(f"東京都港区芝{i}-1,①㈱②③\n" for i in range(400))
    table = read_table(text.encode("cp932"), "c.csv")
    assert table.encoding == "cp932" and rows(table)[-1] == (401, ["東京都港区芝399-1", "①㈱②③"])


def test_the_encoding_is_judged_where_the_japanese_starts():
    # more than the sample of ASCII first (an English header, ids), then the names in CP932
    head = "id,note\n" + "".join(f"{i},ok\n" for i in range(SAMPLE_BYTES // 6))
    data = head.encode("ascii") + "99999,①山田様\n".encode("cp932")
    assert len(head) > SAMPLE_BYTES
    assert detect_encoding(data) == "cp932"
    assert rows(read_table(data, "c.csv"))[-1][1] == ["99999", "①山田様"]


def test_a_byte_that_does_not_decode_is_one_line_naming_the_encoding_and_line_not_the_value():
    good = "".join(f"山田 太郎{i},東京都\n" for i in range(4000)).encode("utf-8")  # > the sample
    assert len(good) > SAMPLE_BYTES
    data = "姓名,住所\n".encode() + good + SECRET.encode("cp932") + b",x\n"
    err = refused(data, "c.csv", "bad_encoding")
    assert "UTF-8" in err.message_ja and "4002行目" in err.message_ja
    assert err.details["encoding"] == "utf-8" and err.details["line"] == 4002


def test_bytes_of_no_japanese_encoding_are_refused_as_bad_encoding():
    data = bytes(range(0x80, 0x100)) * 40
    err = refused(data, "c.csv", "bad_encoding")
    assert "UTF-8" in err.message_ja and "Shift_JIS" in err.message_en


def test_binary_garbage_is_not_a_table():
    data = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8
    refused(data, "customers.csv", "not_a_table")


# -- delimiters and quoting ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("delimiter", [",", "\t", ";", "|"])
def test_the_delimiter_is_sniffed(delimiter):
    text = (
        delimiter.join(["姓", "名", "電話"])
        + "\r\n"
        + delimiter.join(["山田", "太郎", "03-1234-5678"])
        + "\r\n"
    )
    table = read_table(text.encode("utf-8"), "c.txt")
    assert table.delimiter == delimiter and table.header == ["姓", "名", "電話"]
    assert rows(table) == [(2, ["山田", "太郎", "03-1234-5678"])]


def test_a_tsv_is_tab_separated_even_when_values_hold_commas():
    text = "姓\t備考\n山田\t甲,乙,丙\n"
    table = read_table(text.encode(), "c.tsv")
    assert table.delimiter == "\t" and rows(table) == [(2, ["山田", "甲,乙,丙"])]


def test_sniff_falls_back_to_the_header_when_the_sniffer_cannot_tell():
    assert sniff_delimiter("氏名\n山田 太郎\n") == ","  # one column
    assert sniff_delimiter("a;b;c\n1;2\n\n") == ";"


def test_excel_quoting_doubled_quotes_and_newlines_keep_line_numbers():
    text = '姓,備考,電話\r\n山田,"1行目\r\n2行目 ""引用""",03-1111-2222\r\n鈴木,"a,b",03-3333-4444\r\n'
    table = read_table(text.encode("cp932"), "c.csv")
    assert rows(table) == [
        (2, ["山田", '1行目\r\n2行目 "引用"', "03-1111-2222"]),
        (4, ["鈴木", "a,b", "03-3333-4444"]),  # the record starts on physical line 4
    ]


# -- header, blank lines, long records ----------------------------------------------------------------------------


def test_header_cells_lose_spaces_full_width_spaces_and_a_bom():
    text = "\ufeff顧客番号 ,姓\u3000, 名 ,\u3000備考\u3000\r\n1,山田,太郎,x\r\n"
    # a UTF-8 file whose BOM was written twice (a BOM left inside the text)
    table = read_table(b"\xef\xbb\xbf" + text.encode("utf-8"), "c.csv")
    assert table.header == ["顧客番号", "姓", "名", "備考"]


def test_all_empty_records_are_skipped_wherever_they_are():
    text = "\r\n,,,\r\n姓,名,電話,備考\r\n山田,太郎,,\r\n,,,\r\n\r\n \u3000,,\t,\r\n鈴木,花子,,\r\n,,,\r\n\r\n\r\n"
    table = read_table(text.encode("utf-8"), "c.csv")
    assert table.header == ["姓", "名", "電話", "備考"] and table.header_line == 3
    assert rows(table) == [(4, ["山田", "太郎", "", ""]), (8, ["鈴木", "花子", "", ""])]


def test_a_record_longer_than_the_header_keeps_its_values_trailing_empties_dropped():
    text = "姓,名\r\n山田,太郎,余分\r\n鈴木,花子,,\r\n"
    assert rows(read_table(text.encode(), "c.csv")) == [(2, ["山田", "太郎", "余分"]), (3, ["鈴木", "花子"])]


def test_an_empty_file_is_not_a_table_and_a_header_alone_has_no_rows():
    refused(b"", "c.csv", "not_a_table")
    refused(b"\r\n,,,\r\n", "c.csv", "not_a_table")
    table = read_table("姓,名\r\n".encode(), "c.csv")
    assert table.header == ["姓", "名"] and rows(table) == []


# -- the protections of import_checks -----------------------------------------------------------------------------


def test_a_line_too_long_is_refused_naming_it_before_anything_is_read():
    data = ("姓,備考\n山田,短い\n鈴木," + "秘" * (MAX_LINE_BYTES // 2 + 10) + "\n").encode("cp932")
    err = refused(data, "c.csv", "line_too_long")
    assert err.details["line"] == 3


def test_a_utf16_line_too_long_is_measured_as_a_line():
    text = "姓\t備考\r\n山田\t短い\r\n鈴木\t" + "秘" * (MAX_LINE_BYTES // 3 + 10) + "\r\n"
    err = refused(b"\xff\xfe" + text.encode("utf-16-le"), "c.txt", "line_too_long")
    assert err.details["line"] == 3


def test_a_field_over_the_limit_is_one_line_naming_where_the_record_starts():
    chunk = "秘" * 1000
    big = "\n".join([chunk] * (MAX_FIELD_CHARS // 1000 + 2))  # every physical line short, the field too long
    data = ('姓,備考\n山田,ok\n鈴木,"' + big + '"\n').encode("utf-8")
    err = refused(data, "c.csv", "line_unreadable")
    assert err.details["line"] == 3


# -- workbooks ----------------------------------------------------------------------------------------------------


def customer_sheet(wb):
    ws = wb.active
    ws.title = "顧客"
    ws.append(["顧客番号", "姓 ", "名\u3000", "生年月日", "電話", "登録", "時刻", "数", "可否"])
    ws.append(
        [
            1001,
            "山田",
            "太郎",
            date(1985, 1, 5),
            9012345678,
            datetime(2020, 4, 1, 9, 30),
            time(9, 5),
            1.5,
            True,
        ]
    )
    ws.cell(2, 4).number_format = "yyyy/m/d"
    ws.append([])  # an empty row in the middle
    ws.append(["A-2", "鈴木", "花子", 31052, "03-1234-5678", datetime(2020, 4, 2), None, 1e-07, False])
    for r in range(5, 9):  # formatted, empty rows and columns past the list
        for c in range(1, 14):
            ws.cell(r, c).number_format = "yyyy/m/d"


def test_xlsx_cells_become_text_as_excel_shows_them_and_lines_are_sheet_rows():
    table = read_table(xlsx(customer_sheet), "customers.xlsx")
    assert table.kind == "xlsx" and table.sheet == "顧客" and table.encoding is None
    assert table.header == ["顧客番号", "姓", "名", "生年月日", "電話", "登録", "時刻", "数", "可否"]
    assert rows(table) == [
        (
            2,
            [
                "1001",
                "山田",
                "太郎",
                "1985-01-05",
                "9012345678",
                "2020-04-01 09:30:00",
                "09:05:00",
                "1.5",
                "TRUE",
            ],
        ),
        (4, ["A-2", "鈴木", "花子", "31052", "03-1234-5678", "2020-04-02", "", "0.0000001", "FALSE"]),
    ]


def test_a_list_that_starts_below_and_right_of_a1_keeps_its_sheet_row_numbers():
    def build(wb):
        ws = wb.active
        ws["B3"], ws["C3"] = "姓", "名"  # two empty rows above, column A empty
        ws["B4"], ws["C4"] = "山田", "太郎"
        ws["B6"], ws["C6"] = "鈴木", "花子"

    table = read_table(xlsx(build), "c.xlsx")
    assert table.header_line == 3 and table.header == ["姓", "名"]
    assert rows(table) == [(4, ["山田", "太郎"]), (6, ["鈴木", "花子"])]


def test_cell_text_numbers_never_get_an_exponent_or_a_point_zero():
    assert cell_text(123.0) == "123" and cell_text(312345678.0) == "312345678"
    assert cell_text(1e20) == "100000000000000000000" and cell_text(2.5e-05) == "0.000025"
    assert cell_text(0.1) == "0.1" and cell_text(7) == "7" and cell_text(float("nan")) == ""
    assert cell_text(None) == "" and cell_text("") == "" and cell_text(" x ") == " x "
    assert cell_text(date(1989, 1, 8)) == "1989-01-08" and cell_text(datetime(1989, 1, 8)) == "1989-01-08"
    assert cell_text(timedelta(hours=26, minutes=3, seconds=4)) == "26:03:04"


def two_sheets(wb):
    first = wb.active
    first.title = "顧客"
    first.append(["姓", "名"])
    first.append(["山田", "太郎"])
    second = wb.create_sheet("退会者")
    second.append(["姓", "名", "備考"])
    second.append(["鈴木", "花子", "退会"])


def test_the_first_sheet_by_default_another_by_name():
    data = xlsx(two_sheets)
    assert sheet_names(data, "c.xlsx") == ["顧客", "退会者"]
    first = read_table(data, "c.xlsx")
    assert (
        first.sheet == "顧客"
        and first.sheets == ["顧客", "退会者"]
        and rows(first) == [(2, ["山田", "太郎"])]
    )
    other = read_table(data, "c.xlsx", sheet="退会者")
    assert other.sheet == "退会者" and other.header == ["姓", "名", "備考"]
    assert rows(other) == [(2, ["鈴木", "花子", "退会"])]


def test_an_unknown_sheet_is_refused_listing_the_sheets():
    err = refused(xlsx(two_sheets), "c.xlsx", "bad_sheet", sheet="Sheet9")
    assert "「顧客」" in err.message_ja and "「退会者」" in err.message_ja and "退会者" in err.message_en
    assert err.details["sheets"] == ["顧客", "退会者"]


def test_a_hidden_first_sheet_is_not_the_default():
    def build(wb):
        two_sheets(wb)
        wb["顧客"].sheet_state = "hidden"

    assert read_table(xlsx(build), "c.xlsx").sheet == "退会者"


def test_a_sheet_name_for_a_text_file_is_ignored():
    table = read_table("姓,名\n山田,太郎\n".encode(), "c.csv", sheet="顧客")
    assert table.sheet is None and table.sheets == [] and sheet_names(b"a,b\n", "c.csv") == []


def test_an_xlsx_named_csv_is_read_as_the_workbook_it_is():
    # the issue: an .xlsx refused with a misleading "column not in file"
    table = read_table(xlsx(two_sheets), "customers.csv")
    assert table.kind == "xlsx" and table.header == ["姓", "名"]


def test_a_file_named_xlsx_that_is_not_a_workbook_is_not_a_table():
    err = refused("姓,名\n山田,太郎\n".encode(), "customers.xlsx", "not_a_table")
    assert ".xlsx" in err.message_ja


def test_a_zip_that_is_not_a_workbook_and_a_damaged_workbook_are_not_tables():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("customers.csv", SECRET)
    refused(buf.getvalue(), "c.xlsx", "not_a_table")
    data = xlsx(two_sheets)
    refused(data[: len(data) // 2], "c.xlsx", "not_a_table")


def test_a_password_protected_workbook_is_named_as_such():
    # an encrypted .xlsx is an OLE2 compound file holding an "EncryptedPackage" stream
    data = (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
        + bytes(504)
        + "EncryptedPackage".encode("utf-16-le")
        + bytes(2000)
    )
    err = refused(data, "c.xlsx", "not_a_table")
    assert "パスワード" in err.message_ja and err.details["reason"] == "password_protected"


def test_an_old_xls_is_read():
    data = zlib.decompress(base64.b64decode("".join(XLS_B64)))
    assert data.startswith(b"\xd0\xcf\x11\xe0")
    table = read_table(data, "old.xls")
    assert table.kind == "xlsx" and table.sheets == ["顧客", "Sheet2"]
    assert table.header == ["姓", "名", "登録日", "電話"]
    assert rows(table) == [(2, ["山田", "太郎", "2020-01-05", "312345678"])]


def test_a_damaged_xls_is_not_a_table():
    data = zlib.decompress(base64.b64decode("".join(XLS_B64)))
    err = refused(data[:1024], "old.xls", "not_a_table")
    assert ".xls" in err.message_ja


ODS_CONTENT = (
    '<?xml version="1.0" encoding="UTF-8"?><office:document-content'
    ' xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
    ' xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"'
    ' xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
    '<office:body><office:spreadsheet><table:table table:name="顧客">'
    '<table:table-row><table:table-cell office:value-type="string"><text:p>姓</text:p></table:table-cell>'
    '<table:table-cell office:value-type="string"><text:p>登録日</text:p></table:table-cell></table:table-row>'
    '<table:table-row><table:table-cell office:value-type="string"><text:p>山田</text:p></table:table-cell>'
    '<table:table-cell office:value-type="date" office:date-value="2020-01-05"><text:p>2020/1/5</text:p>'
    "</table:table-cell></table:table-row></table:table></office:spreadsheet></office:body>"
    "</office:document-content>"
)


def test_an_ods_is_read():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        z.writestr(
            "META-INF/manifest.xml",
            '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest'
            ' xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
            '<manifest:file-entry manifest:full-path="/"'
            ' manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/></manifest:manifest>',
        )
        z.writestr("content.xml", ODS_CONTENT)
    table = read_table(buf.getvalue(), "c.ods")
    assert table.header == ["姓", "登録日"] and rows(table) == [(2, ["山田", "2020-01-05"])]


def test_an_empty_sheet_is_not_a_table():
    refused(xlsx(lambda wb: None), "c.xlsx", "not_a_table")


# -- the generated exports, quirk by quirk ------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["cp932", "utf8_bom", "utf8", "utf16", "xlsx"])
def test_every_generated_export_reads_back_cell_for_cell(fmt):
    export = office_export(150, fmt=fmt, quirks=Quirks(rate=0.5))
    table = read_table(export.data, export.file_name)
    assert table.header == export.clean_header and export.header != export.clean_header  # header_spaces
    got = [(line, values + [""] * (len(table.header) - len(values))) for line, values in table.rows]
    assert got == [(r.line, r.cells) for r in export.rows]  # trailing blank lines / rows are not rows


def test_generated_multiline_notes_shift_the_csv_line_numbers():
    export = office_export(60, fmt="cp932", quirks=Quirks.none(multiline_notes=True))
    lines = [r.line for r in export.rows]
    assert lines != list(range(2, 62))  # some notes span two lines
    assert [line for line, _ in read_table(export.data, export.file_name).rows] == lines


def test_generated_xlsx_named_csv_and_phone_numbers_that_lost_their_zero():
    export = office_export(30, fmt="xlsx", quirks=Quirks.none(lost_leading_zero=True), file_name="list.csv")
    table = read_table(export.data, export.file_name)
    assert table.kind == "xlsx" and table.sheets == ["顧客一覧", "メモ"]
    phones = [values[table.header.index("電話1")] for _, values in table.rows]
    assert phones and all(p.isdigit() and not p.startswith("0") for p in phones)


def test_the_generator_renders_dates_as_offices_write_them():
    # anchors from outside mamori: Excel shows 31052 as 1985/1/5; 昭和60年 is 1985, 平成元年 began on 1989-01-08
    d = date(1985, 1, 5)
    assert [render_date(d, f) for f in ("slash", "wareki_letter", "kanji", "wareki_kanji", "serial")] == [
        "1985/1/5",
        "S60.1.5",
        "1985年1月5日",
        "昭和60年1月5日",
        "31052",
    ]
    assert render_date(date(1989, 1, 8), "gannen") == "平成元年1月8日"
    assert render_date(date(1989, 1, 7), "wareki_letter") == "S64.1.7"
    assert render_date(date(2019, 5, 1), "wareki_kanji") == "令和元年5月1日"
    assert (
        render_postal("1000001", "mark") == "〒1000001"
        and render_postal("1000001", "katakana_dash") == "100ー0001"
    )
