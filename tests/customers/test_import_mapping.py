"""Import mappings (issue 19): the --map syntax and every refusal, joins and separators (the prefecture rule),
several phone columns, value maps, mapping files (JSON / TOML) and bad files, the suggestion for the headings of
a Japanese office export, compile against a header, and saved mappings (policy, audit, not found)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from mamori.customers.models import ImportMapping as ImportMappingRow
from mamori.customers.permissions import CUSTOMER_IMPORT, GRANTS
from mamori.customers.service import import_mapping as im
from mamori.kernel.context import Role
from mamori.kernel.errors import NotFound, PolicyDenied, ValidationFailed
from mamori.kernel.policy import Scope
from tests.factories import seed_basics

# The headings of the issue's export (CP932, 姓/名 and セイ/メイ split, 都道府県/住所/建物, two phones, 顧客番号 …).
ISSUE_HEADER = [
    "顧客番号",
    "姓",
    "名",
    "セイ",
    "メイ",
    "生年月日",
    "性別",
    "郵便番号",
    "都道府県",
    "住所",
    "建物",
    "電話1",
    "電話2",
    "メールアドレス",
    "登録日",
    "担当営業",
    "備考",
]


def refused(fn, *args, code: str = "bad_mapping") -> ValidationFailed:
    with pytest.raises(ValidationFailed) as info:
        fn(*args)
    assert info.value.code == code, (info.value.code, info.value.message_en)
    assert "\n" not in info.value.message_ja and "\n" not in info.value.message_en
    return info.value


# -- parse_cli: every form ----------------------------------------------------------------------------------------


def test_one_column_per_field():
    m = im.parse_cli(["氏名=name", " メール = email", "生年月日=birth_date"])
    assert m.fields["name"].columns == ["氏名"] and not m.fields["name"].join
    assert m.fields["email"].columns == ["メール"]
    assert m.fields["birth_date"].columns == ["生年月日"]


def test_plus_joins_columns_into_one_field():
    m = im.parse_cli(["姓+名=name", "都道府県+住所+建物=address"])
    assert m.fields["name"].columns == ["姓", "名"] and m.fields["name"].join
    assert m.fields["address"].columns == ["都道府県", "住所", "建物"] and m.fields["address"].join


def test_headings_are_stripped_including_ideographic_space():
    m = im.parse_cli(["\u3000姓 + 名\u3000=name"])
    assert m.fields["name"].columns == ["姓", "名"]


def test_several_phone_and_email_columns_are_several_contact_points():
    m = im.parse_cli(["電話1=phone", "電話2=phone", "携帯=phone", "メール1=email", "メール2=email"])
    assert m.fields["phone"].columns == ["電話1", "電話2", "携帯"] and not m.fields["phone"].join
    assert m.fields["email"].columns == ["メール1", "メール2"]


def test_business_targets_and_attributes():
    m = im.parse_cli(
        [
            "顧客番号=external_id",
            "登録日=registered_on",
            "担当営業=owner",
            "DM=notified_purposes",
            "備考=attr:note",
            "趣味=attr:hobby:behaviour",
        ]
    )
    assert set(m.fields) == {
        "external_id",
        "registered_on",
        "owner",
        "notified_purposes",
        "attr:note",
        "attr:hobby",
    }
    assert m.attributes == {"note": "attribute", "hobby": "behaviour"}


@pytest.mark.parametrize("sep", ["", " ", "\u3000", "/", "・"])
def test_sep_sets_the_separator_of_a_join_verbatim(sep):
    m = im.parse_cli(["姓+名=name"], [f"name={sep}"])
    assert m.fields["name"].sep == sep
    c = im.compile(m, ["姓", "名"])
    assert c.extract(["山田", "太郎"])["name"] == f"山田{sep}太郎"


# -- parse_cli: every refusal -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "pairs",
    [
        ["氏名"],  # no "="
        ["a=b=name"],  # a heading with "=": mapping files only
        ["=name"],  # no heading
        ["姓+=name"],  # an empty part
        ["氏名=namae"],  # unknown target
        ["氏名="],  # no target
        ["備考=attr:Note"],  # attribute key not lower-case
        ["備考=attr:"],  # no attribute key
        ["備考=attr:note:secret"],  # unknown category
        ["備考=attr:note:"],  # empty category
    ],
)
def test_bad_syntax_and_unknown_targets_are_refused(pairs):
    refused(im.parse_cli, pairs)


def test_unknown_target_lists_the_targets():
    e = refused(im.parse_cli, ["氏名=namae"])
    assert "namae" in e.message_en and "external_id" in e.message_en and "attr:<key>" in e.message_ja


@pytest.mark.parametrize(
    "pairs",
    [
        ["姓=name", "名=name"],  # the issue's silent overwrite: now refused
        ["住所1=address", "住所2=address"],
        ["姓+名=name", "氏名=name"],
        ["電話1+電話2=phone", "携帯=phone"],  # a joined group and another column on phone
        ["氏名=name", "氏名=kana"],  # one column to two targets
        ["備考=attr:note:contact", "メモ=attr:note:attribute"],
    ],
)
def test_two_columns_on_one_field_without_a_join_are_a_conflict(pairs):
    refused(im.parse_cli, pairs, code="mapping_conflict")


@pytest.mark.parametrize("target", ["attr:diagnosis:sensitive", "attr:diagnosis:要配慮"])
def test_a_sensitive_attribute_is_refused_with_r_20_2(target):
    e = refused(im.parse_cli, [f"病歴={target}"], code="mapping_sensitive")
    assert e.rule_id == "R-20-2"


@pytest.mark.parametrize(
    "seps",
    [
        ["name"],  # no "="
        ["address= "],  # not mapped
        ["email=/"],  # mapped, but not joined
    ],
)
def test_bad_separators_are_refused(seps):
    refused(im.parse_cli, ["姓+名=name", "メール=email"], seps)


def test_too_many_options_are_refused():
    refused(im.parse_cli, [f"c{i}=attr:a{i}" for i in range(im.MAX_CLI_PAIRS + 1)])


# -- joins, lists and value maps at extract ----------------------------------------------------------------------


def test_default_separators_and_the_prefecture_rule():
    m = im.parse_cli(
        ["姓+名=name", "セイ+メイ=kana", "都道府県+住所+建物=address", "郵便1+郵便2=postal_code"]
    )
    c = im.compile(m, ["姓", "名", "セイ", "メイ", "都道府県", "住所", "建物", "郵便1", "郵便2"])
    out = c.extract(
        ["山田", "太郎", "ヤマダ", "タロウ", "東京都", "千代田区千代田1-1", "千代田ビル3F", "100", "0001"]
    )
    assert out["name"] == "山田 太郎"
    assert out["kana"] == "ヤマダ タロウ"
    # no separator after a part that is exactly a prefecture; the default one between the others
    assert out["address"] == "東京都千代田区千代田1-1 千代田ビル3F"
    assert out["postal_code"] == "100-0001"


def test_the_prefecture_rule_goes_by_the_value_not_the_heading():
    c = im.compile(im.parse_cli(["氏名=name", "都道府県+住所=address"]), ["氏名", "都道府県", "住所"])
    assert (
        c.extract(["a", "北海道", "札幌市中央区北1条西2丁目"])["address"] == "北海道札幌市中央区北1条西2丁目"
    )
    assert c.extract(["a", "東京", "千代田区1-1"])["address"] == "東京 千代田区1-1"  # not a prefecture name
    assert (
        c.extract(["a", "", "大阪府大阪市北区1-1"])["address"] == "大阪府大阪市北区1-1"
    )  # empty part dropped
    with_sep = im.compile(
        im.parse_cli(["氏名=name", "都道府県+住所+建物=address"], ["address=/"]),
        ["氏名", "都道府県", "住所", "建物"],
    )
    assert with_sep.extract(["a", "京都府", "京都市1-1", "A棟"])["address"] == "京都府京都市1-1/A棟"


def test_empty_parts_are_dropped_and_cells_stripped():
    c = im.compile(im.parse_cli(["姓+名=name", "備考=attr:note"]), ["姓", "名", "備考"])
    assert c.extract(["山田\u3000", " ", "  "]) == {"name": "山田", "attr:note": ""}
    assert c.extract(["山田"]) == {"name": "山田", "attr:note": ""}  # a short line: the rest are empty


def test_several_phone_columns_give_a_list_without_empty_cells():
    c = im.compile(
        im.parse_cli(["氏名=name", "電話1=phone", "電話2=phone", "携帯=phone"]),
        ["氏名", "電話1", "電話2", "携帯"],
    )
    assert c.extract(["a", "03-1234-5678", "", "090-1111-2222"])["phone"] == ["03-1234-5678", "090-1111-2222"]
    assert c.extract(["a", "", "", ""])["phone"] == []


def test_a_joined_phone_is_one_contact_point():
    c = im.compile(im.parse_cli(["氏名=name", "市外局番+番号=phone"]), ["氏名", "市外局番", "番号"])
    assert c.extract(["a", "03", "1234-5678"])["phone"] == ["03-1234-5678"]


def test_value_maps_apply_to_their_target_only_and_unknown_values_pass():
    m = im.from_dict(
        {
            "fields": {"name": "氏名", "gender": "性別", "owner": "担当", "notified_purposes": "DM"},
            "values": {
                "gender": {"1": "male", "2": "female", "男": "male"},
                "owner": {"田中": "tanaka"},
                "notified_purposes": {"可": "marketing-email,contract", "不可": ""},
            },
        }
    )
    c = im.compile(m, ["氏名", "性別", "担当", "DM"])
    out = c.extract(["1", "１", "田中", "可"])  # a full-width code finds its half-width key
    assert out == {
        "name": "1",
        "gender": "male",
        "owner": "tanaka",
        "notified_purposes": "marketing-email,contract",
    }
    assert c.extract(["x", "男", "佐藤", "不可"])["gender"] == "male"
    assert c.extract(["x", "9", "佐藤", "不可"]) == {
        "name": "x",
        "gender": "9",
        "owner": "佐藤",
        "notified_purposes": "",
    }


def test_value_maps_apply_to_each_phone():
    m = im.from_dict(
        {"fields": {"name": "氏名", "phone": ["電話1", "電話2"]}, "values": {"phone": {"なし": ""}}}
    )
    c = im.compile(m, ["氏名", "電話1", "電話2"])
    assert c.extract(["a", "なし", "03-1234-5678"])["phone"] == ["03-1234-5678"]


# -- compile ------------------------------------------------------------------------------------------------------


def test_a_missing_column_is_named_with_the_files_columns():
    m = im.parse_cli(["姓+名=name", "電話=phone"])
    e = refused(im.compile, m, ["姓", "名前", "TEL"])
    assert "名" in e.message_ja and "電話" in e.message_en
    assert "姓, 名前, TEL" in e.message_ja and "姓, 名前, TEL" in e.message_en


def test_no_name_is_refused():
    e = refused(im.compile, im.parse_cli(["メール=email"]), ["メール"])
    assert "name" in e.message_en


def test_header_whitespace_and_width_do_not_hide_a_column():
    c = im.compile(im.parse_cli(["氏名=name", "電話1=phone"]), ["氏名 ", "電話１\u3000"])
    assert c.columns_of("phone") == ["電話１"] and c.columns_of("name") == ["氏名"]
    assert c.extract(["山田 太郎", "03-1234-5678"]) == {"name": "山田 太郎", "phone": ["03-1234-5678"]}


def test_a_repeated_heading_feeds_a_list_but_is_refused_for_a_single_field():
    c = im.compile(im.parse_cli(["氏名=name", "電話=phone"]), ["氏名", "電話", "電話"])
    assert c.extract(["a", "03-1111-2222", "090-3333-4444"])["phone"] == ["03-1111-2222", "090-3333-4444"]
    refused(im.compile, im.parse_cli(["氏名=name"]), ["氏名", "氏名"])


def test_columns_of_names_every_column_of_a_target():
    c = im.compile(im.parse_cli(["姓+名=name"]), ["名", "姓"])
    assert c.columns_of("name") == ["姓", "名"] and c.columns_of("email") == []
    assert c.extract(["太郎", "山田"])["name"] == "山田 太郎"  # mapping order, not file order


# -- mapping files ------------------------------------------------------------------------------------------------

FILE = {
    "name": "営業部台帳",
    "fields": {
        "name": {"columns": ["姓", "名"], "join": True, "sep": " "},
        "phone": {"columns": ["電話1", "電話2"]},
        "address": "都道府県+住所+建物",
        "attr:note": {"columns": ["備考"]},
    },
    "attributes": {"note": "attribute"},
    "values": {"gender": {"1": "male", "2": "female", "男": "male"}},
    "sheet": "顧客一覧",
    "id_system": "営業部台帳",
}

TOML = """
name = "営業部台帳"
sheet = "顧客一覧"
id_system = "営業部台帳"

[fields]
address = "都道府県+住所+建物"
phone = ["電話1", "電話2"]
"attr:note" = { columns = ["備考"] }

[fields.name]
columns = ["姓", "名"]
join = true
sep = " "

[attributes]
note = "attribute"

[values.gender]
"1" = "male"
"2" = "female"
"男" = "male"
"""


def test_json_and_toml_files_mean_the_same(tmp_path):
    j = tmp_path / "m.json"
    j.write_text(json.dumps(FILE, ensure_ascii=False), encoding="utf-8")
    t = tmp_path / "m.toml"
    t.write_text(TOML, encoding="utf-8")
    a, b = im.load_file(j), im.load_file(t)
    assert a == b
    assert a.fields["address"].columns == ["都道府県", "住所", "建物"] and a.fields["address"].join
    assert a.fields["phone"].columns == ["電話1", "電話2"] and not a.fields["phone"].join
    assert a.sheet == "顧客一覧" and a.id_system == "営業部台帳" and a.values["gender"]["2"] == "female"


def test_content_decides_without_a_suffix_and_dump_round_trips(tmp_path):
    f = tmp_path / "mapping"
    f.write_text(json.dumps(FILE, ensure_ascii=False), encoding="utf-8")
    m = im.load_file(f)
    assert im.from_dict(json.loads(im.dump(m))) == m
    assert "営業部台帳" in im.dump(m)  # UTF-8, not \\u escapes
    f.write_text(TOML, encoding="utf-8")
    assert im.load_file(f) == m


@pytest.mark.parametrize(
    ("content", "code", "where"),
    [
        (b"{not json", "bad_mapping", "JSON"),
        (b"fields = [", "bad_mapping", "TOML"),
        (b"[1, 2]", "bad_mapping", None),
        ('{"fields": {"name": "氏名"}}'.encode("cp932"), "bad_mapping", "UTF-8"),
        (b'{"fields": {"name": "x"}, "colour": 1}', "bad_mapping", "colour"),
        (b'{"fields": {"nom": "x"}}', "bad_mapping", "nom"),
        (b'{"fields": {"name": {"columns": []}}}', "bad_mapping", "fields.name.columns"),
        (b'{"fields": {"name": {"columns": ["a", "b"]}}}', "mapping_conflict", "name"),
        (b'{"fields": {"name": "a", "kana": "a"}}', "mapping_conflict", "kana"),
        (
            b'{"fields": {"name": "a", "attr:x": "b"}, "attributes": {"x": "sensitive"}}',
            "mapping_sensitive",
            "x",
        ),
        (b'{"fields": {"name": "a"}, "attributes": {"x": "attribute"}}', "bad_mapping", "attr:x"),
        (
            b'{"fields": {"name": "a", "gender": "g"}, "values": {"gender": {"9": "alien"}}}',
            "bad_mapping",
            "gender",
        ),
        (
            b'{"fields": {"name": "a"}, "values": {"notified_purposes": {"y": "Bad Code"}}}',
            "bad_mapping",
            "notified",
        ),
        (b'{"fields": {"name": "a"}, "name": "has space"}', "bad_mapping", "name"),
    ],
)
def test_bad_files_are_one_line_naming_the_key(tmp_path, content, code, where):
    f = tmp_path / ("m.toml" if content.startswith(b"fields =") else "m.json")
    f.write_bytes(content)
    e = refused(im.load_file, f, code=code)
    if where:
        assert where in e.message_en


def test_errors_never_repeat_a_value_from_the_value_maps(tmp_path):
    secretish = "山田花子さんの番号"
    f = tmp_path / "m.json"
    f.write_text(
        json.dumps({"fields": {"name": "a"}, "values": {"owner": {secretish: 12}}}, ensure_ascii=False)
    )
    e = refused(im.load_file, f)
    assert "values.owner" in e.message_en
    assert secretish not in e.message_en and secretish not in e.message_ja


def test_limits_refuse_a_hostile_file(tmp_path):
    big = tmp_path / "big.json"
    big.write_bytes(b"{" + b" " * (im.MAX_FILE_BYTES + 1) + b"}")
    assert "KB" in refused(im.load_file, big).message_en
    many = {
        "fields": {"name": "a"},
        "values": {"owner": {str(i): "x" for i in range(im.MAX_VALUES_PER_TARGET + 1)}},
    }
    refused(im.from_dict, many)
    cols = {
        "fields": {
            "address": {"columns": [f"c{i}" for i in range(im.MAX_COLUMNS_PER_FIELD + 1)], "join": True}
        }
    }
    refused(im.from_dict, cols)
    long = {"fields": {"name": "x" * (im.MAX_HEADING_CHARS + 1)}}
    refused(im.from_dict, long)


def test_a_missing_file_is_not_found(tmp_path):
    with pytest.raises(NotFound):
        im.load_file(tmp_path / "nope.json")


# -- suggest ------------------------------------------------------------------------------------------------------


def test_suggest_on_the_issues_headings():
    m = im.suggest(ISSUE_HEADER)
    f = m.fields
    assert f["name"].columns == ["姓", "名"] and f["name"].join
    assert f["kana"].columns == ["セイ", "メイ"] and f["kana"].join
    assert f["address"].columns == ["都道府県", "住所", "建物"] and f["address"].join
    assert f["phone"].columns == ["電話1", "電話2"] and not f["phone"].join
    assert f["email"].columns == ["メールアドレス"]
    assert f["external_id"].columns == ["顧客番号"]
    assert f["registered_on"].columns == ["登録日"]
    assert f["owner"].columns == ["担当営業"]
    assert f["attr:note"].columns == ["備考"] and m.attributes == {"note": "attribute"}
    assert f["birth_date"].columns == ["生年月日"] and f["gender"].columns == ["性別"]
    assert f["postal_code"].columns == ["郵便番号"]
    # and it compiles against the same header and reads a line
    c = im.compile(m, ISSUE_HEADER)
    line = [
        "A-001",
        "山田",
        "太郎",
        "ヤマダ",
        "タロウ",
        "1985/1/5",
        "男",
        "100-0001",
        "東京都",
        "千代田区千代田1-1",
        "",
        "03-1234-5678",
        "090-1234-5678",
        "t@example.jp",
        "2020/4/1",
        "田中",
        "メモ",
    ]
    out = c.extract(line)
    assert out["name"] == "山田 太郎" and out["address"] == "東京都千代田区千代田1-1"
    assert out["phone"] == ["03-1234-5678", "090-1234-5678"] and out["external_id"] == "A-001"


def test_suggest_surname_first_whatever_the_file_order():
    m = im.suggest(["名", "姓", "メイ", "セイ"])
    assert m.fields["name"].columns == ["姓", "名"] and m.fields["kana"].columns == ["セイ", "メイ"]


def test_suggest_never_puts_two_columns_on_a_single_field_without_a_join():
    m = im.suggest(
        ["氏名", "姓", "名", "性別", "性別", "生年月日", "誕生日", "TEL", "携帯電話", "Eメール", "メール"]
    )
    for target, fm in m.fields.items():
        assert len(fm.columns) == 1 or fm.join or target in im.MULTI_VALUED, target
    assert m.fields["name"].columns == ["氏名"]  # a full name wins over the parts
    assert m.fields["birth_date"].columns == ["生年月日"]
    assert m.fields["phone"].columns == ["TEL", "携帯電話"]
    assert m.fields["email"].columns == ["Eメール", "メール"]


def test_suggest_reads_full_width_and_spaced_headings():
    m = im.suggest(["ＴＥＬ", "E-Mail ", "住所 1", "住所 2", "お名前"])
    assert m.fields["phone"].columns == ["ＴＥＬ"] and m.fields["email"].columns == ["E-Mail"]
    assert m.fields["address"].columns == ["住所 1", "住所 2"] and m.fields["name"].columns == ["お名前"]


def test_suggest_leaves_unknown_headings_out():
    m = im.suggest(["氏名", "好きな色", "No."])
    assert set(m.fields) == {"name"}


# -- saved mappings -----------------------------------------------------------------------------------------------


@pytest.fixture
def actors(runtime):
    return seed_basics(runtime)


def _count(rt) -> int:
    with rt.sessions() as s:
        return s.scalar(select(func.count()).select_from(ImportMappingRow))


def test_save_get_list_replace_delete_with_audit(runtime, actors):
    m = im.parse_cli(["姓+名=name", "電話1=phone", "電話2=phone"])
    with runtime.transaction(actors["po"]) as ctx:
        saved = im.save(ctx, "営業部_2026", m)
    assert saved.name == "営業部_2026" and saved.created_by == actors["po"].label
    entry = runtime.audit.tail(1)[-1]
    assert entry.action == im.A_SAVED and entry.details["mapping"] == "営業部_2026"
    assert entry.details["replaced"] is False
    assert "山田" not in json.dumps(entry.details, ensure_ascii=False)
    with runtime.transaction(actors["po"], readonly=True) as ctx:
        got = im.get(ctx, "営業部_2026")
        assert got.fields == m.fields and got.name == "営業部_2026"
        assert [s.name for s in im.list_(ctx)] == ["営業部_2026"]
    with runtime.transaction(actors["po"]) as ctx:
        im.save(ctx, "営業部_2026", im.parse_cli(["氏名=name"]))
    assert _count(runtime) == 1
    assert runtime.audit.tail(1)[-1].details["replaced"] is True
    with runtime.transaction(actors["po"], readonly=True) as ctx:
        assert list(im.get(ctx, "営業部_2026").fields) == ["name"]
    with runtime.transaction(actors["po"]) as ctx:
        im.delete(ctx, "営業部_2026")
    assert _count(runtime) == 0
    assert runtime.audit.tail(1)[-1].action == im.A_DELETED


def test_missing_mappings_are_not_found(runtime, actors):
    with runtime.transaction(actors["po"]) as ctx:
        for fn in (im.get, im.read, im.delete):
            with pytest.raises(NotFound) as info:
                fn(ctx, "nothing")
            assert info.value.code == "mapping_not_found"


@pytest.mark.parametrize("name", ["", "has space", "a/b", "x" * 65, "名前;drop"])
def test_bad_names_are_refused(runtime, actors, name):
    with runtime.transaction(actors["po"]) as ctx:
        refused(im.save, ctx, name, im.parse_cli(["氏名=name"]))
    assert _count(runtime) == 0


def test_an_empty_mapping_is_not_saved(runtime, actors):
    with runtime.transaction(actors["po"]) as ctx:
        refused(im.save, ctx, "empty", im.ImportMapping())


# Which staff may not import (customers/permissions.py GRANTS): they may not manage mappings either.
USERS = {Role.ADMIN: "admin", Role.SALES: "sato", Role.SUPPORT: "support", Role.ANALYST: "analyst"}
NOT_IMPORTING = [user for role, user in USERS.items() if CUSTOMER_IMPORT not in GRANTS.get(role, {})]


def test_some_role_may_not_import():
    assert "analyst" in NOT_IMPORTING and "admin" in NOT_IMPORTING


@pytest.mark.parametrize("who", NOT_IMPORTING)
def test_roles_that_may_not_import_may_not_manage_mappings(runtime, actors, who):
    with runtime.transaction(actors["po"]) as ctx:
        im.save(ctx, "shared", im.parse_cli(["氏名=name"]))
    calls = (
        lambda c: im.save(c, "mine", im.parse_cli(["氏名=name"])),
        im.list_,
        lambda c: im.get(c, "shared"),
        lambda c: im.delete(c, "shared"),
    )
    for fn in calls:
        with pytest.raises(PolicyDenied), runtime.transaction(actors[who]) as ctx:
            fn(ctx)
    assert _count(runtime) == 1
    entry = runtime.audit.tail(1)[-1]
    assert entry.decision == "deny" and entry.action == "customer.import"


OWN_SCOPE = [user for role, user in USERS.items() if GRANTS.get(role, {}).get(CUSTOMER_IMPORT) == Scope.OWN]


@pytest.mark.parametrize("who", OWN_SCOPE)
def test_an_own_scope_importer_manages_only_their_own_mappings(runtime, actors, who):
    with runtime.transaction(actors["po"]) as ctx:
        im.save(ctx, "shared", im.parse_cli(["氏名=name"]))
    with runtime.transaction(actors[who]) as ctx:
        im.save(ctx, "mine", im.parse_cli(["氏名=name"]))
        im.save(ctx, "mine", im.parse_cli(["お名前=name"]))  # their own: replaced
        assert [s.name for s in im.list_(ctx)] == ["mine", "shared"]
        assert im.get(ctx, "shared").fields["name"].columns == ["氏名"]
    for fn in (lambda c: im.save(c, "shared", im.parse_cli(["x=name"])), lambda c: im.delete(c, "shared")):
        with pytest.raises(PolicyDenied), runtime.transaction(actors[who]) as ctx:
            fn(ctx)
    with runtime.transaction(actors["po"], readonly=True) as ctx:
        assert im.get(ctx, "shared").fields["name"].columns == ["氏名"]
    with runtime.transaction(actors[who]) as ctx:
        im.delete(ctx, "mine")
    with runtime.transaction(actors["po"]) as ctx:  # the privacy officer (whole organisation) may replace any
        im.save(ctx, "shared", im.parse_cli(["名前=name"]))
    assert _count(runtime) == 1
