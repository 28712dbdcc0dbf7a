"""Validation messages in Japanese (issue 14, deliverable 5): pydantic's errors on the API and the CLI, Typer's
usage errors through the real entry point, and the import file's bad lines — English only where chosen."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Literal
from uuid import UUID

import pytest
from pydantic import BaseModel, ConfigDict, EmailStr, Field, HttpUrl, ValidationError, field_validator

from mamori.kernel import validation
from mamori.kernel.labels import table
from tests.api.conftest import Api
from tests.factories import demo_cli

API = "/api/v1"
ENGLISH_WORD = re.compile(r"[A-Za-z]{4,}")
EMAIL = "hanako.sato@example.jp"


def english_words(text: str, allowed: set[str] | frozenset[str] = frozenset()) -> list[str]:
    """English words (4+ letters) left in ``text`` once the codes and names deliberately shown are taken out."""
    for word in sorted(allowed, key=len, reverse=True):
        text = re.sub(rf"(?<![A-Za-z_]){re.escape(word)}(?![A-Za-z_])", " ", text)
    return ENGLISH_WORD.findall(text)


def problem(r, status: int = 422) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    return r.json()


# -- the API --------------------------------------------------------------------------------------------------


@pytest.fixture
def api(runtime):
    return Api(runtime)


def test_public_request_with_a_bad_kind_is_answered_in_japanese(api):
    public, _ = api.client()
    r = public.post(f"{API}/privacy-requests", json={"kind": "gossip", "email": EMAIL})
    body = problem(r)
    assert body["code"] == "invalid_input"
    assert body["title"] == "入力内容に誤りがあります"
    assert body["detail"].startswith("入力内容に誤りがあります")
    assert "Input should be" not in r.text and "gossip" not in r.text
    (err,) = body["errors"]
    assert err["field"] == "kind" and err["code"] == "literal_error" and err["type"] == "literal_error"
    assert err["label"] == "種別"
    assert err["message"].startswith("種別: 次のいずれかを指定してください: ")
    # each allowed code with its Japanese word, never a code alone
    assert "disclosure（開示）" in err["message"] and "erasure（消去）" in err["message"]
    codes = {"purpose_notice", "disclosure", "provision_records", "correction", "stop_use", "erasure"}
    codes |= {"stop_provision", "restriction", "portability", "objection"}
    assert english_words(err["message"], codes) == []


def test_public_request_errors_in_english_when_asked(api):
    public, _ = api.client()
    r = public.post(
        f"{API}/privacy-requests",
        json={"kind": "gossip", "email": EMAIL},
        headers={"Accept-Language": "en-GB,en;q=0.8"},
    )
    body = problem(r)
    assert body["title"] == "Invalid input"
    (err,) = body["errors"]
    assert err["message"].startswith("Kind: must be one of: purpose_notice, disclosure")
    assert "Input should be" not in r.text and "gossip" not in r.text


def test_public_request_missing_and_malformed_fields_never_echo_the_value(api):
    public, _ = api.client()
    r = public.post(f"{API}/privacy-requests", json={"kind": "disclosure"})
    (err,) = problem(r)["errors"]
    assert err == {
        "field": "email",
        "code": "missing",
        "type": "missing",
        "label": "メールアドレス",
        "message": "メールアドレス: 必須です",
    }
    r = public.post(
        f"{API}/privacy-requests",
        json={"kind": "disclosure", "email": "secret-name@", "categories": ["ok:ok", "SECRET"]},
    )
    body = problem(r)
    messages = {e["field"]: e["message"] for e in body["errors"]}
    assert messages["email"] == "メールアドレス: メールアドレスの形式が正しくありません"
    assert messages["categories.1"] == "2件目の項目の区分: 形式が正しくありません"
    assert "secret" not in r.text.lower() and "@-sign" not in r.text
    for e in body["errors"]:
        assert english_words(e["message"]) == []


def test_sign_in_errors_and_header_errors_in_japanese(api):
    c, _ = api.client()
    r = c.post(f"{API}/auth/sign-in", json={"password": "correct horse battery"})
    body = problem(r)
    assert "correct horse" not in r.text
    assert {e["field"] for e in body["errors"]} >= {"username"}
    assert all(english_words(e["message"]) == [] for e in body["errors"]), body


def test_query_and_header_errors_are_named_in_japanese(api):
    c, _ = api.client("sato")
    r = c.get(f"{API}/customers?limit=0", headers={"Mamori-Purpose": "contract"})
    (err,) = problem(r)["errors"]
    assert err["field"] == "limit" and err["message"] == "件数の上限: 1以上の値を指定してください"
    r = c.get(f"{API}/customers/{'0' * 32}")
    (err,) = problem(r)["errors"]
    assert err["field"] == "Mamori-Purpose" and err["code"] == "missing"
    assert err["message"] == "利用目的（Mamori-Purpose ヘッダー）: 必須です"
    r = c.get(f"{API}/customers?limit=0", headers={"Mamori-Purpose": "contract", "Accept-Language": "en"})
    assert problem(r)["errors"][0]["message"] == "Limit: must be at least 1"


class _Postal(BaseModel):
    postal_code: str

    @field_validator("postal_code")
    @classmethod
    def _check(cls, value: str) -> str:
        raise validation.Invalid("郵便番号は7桁で入力してください", "postal codes have 7 digits")


def test_bilingual_validator_messages_and_models_validated_inside_an_endpoint():
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from mamori.kernel.http import problems

    app = FastAPI()
    problems.install(app)

    @app.post("/body")
    def body(data: _Postal) -> dict[str, str]:  # pragma: no cover - never valid
        return {}

    @app.post("/inside")
    def inside() -> dict[str, str]:
        _Postal.model_validate({"postal_code": "secret-1234"})
        return {}  # pragma: no cover

    client = TestClient(app, raise_server_exceptions=False)
    for path in ("/body", "/inside"):
        r = client.post(path, json={"postal_code": "secret-1234"})
        (err,) = problem(r)["errors"]
        assert err["message"] == "郵便番号: 郵便番号は7桁で入力してください", path
        assert "secret" not in r.text
        r = client.post(path, json={"postal_code": "secret-1234"}, headers={"Accept-Language": "en"})
        assert problem(r)["errors"][0]["message"] == "Postal code: postal codes have 7 digits"
    r = client.post("/body", content=b"{not json", headers={"Content-Type": "application/json"})
    (err,) = problem(r)["errors"]
    assert err["code"] == "json_invalid" and err["message"].startswith("入力: 送信された内容を読み取れません")


# -- the CLI: pydantic errors (cli_command) --------------------------------------------------------------------


@pytest.fixture
def cli(tmp_path, monkeypatch):
    yield from demo_cli(tmp_path, monkeypatch, customers=2)


def one_line(result) -> str:
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_cli_bad_birth_date_is_one_japanese_line(cli, monkeypatch):
    add = (
        "--as",
        "sato",
        "customers",
        "add",
        "--name",
        "架空 花子",
        "--birth-date",
        "1985-13-45",
        "-p",
        "contract",
    )
    r = cli(*add)
    assert r.exit_code == 1
    assert one_line(r) == (
        "エラー (invalid_input): 生年月日: 日付の形式が正しくありません（例: 1985-01-05 または 昭和60年1月5日）"
    )
    r = cli("--lang", "en", *add)
    assert r.exit_code == 1
    assert (
        one_line(r)
        == "error (invalid_input): Date of birth: is not a valid date (e.g. 1985-01-05 or 昭和60年1月5日)"
    )
    assert "1985-13-45" not in r.stderr
    monkeypatch.setenv("MAMORI_LANG", "en")
    r = cli(*add)
    assert one_line(r).startswith("error (invalid_input): Date of birth: is not a valid date")


def test_cli_several_bad_fields_on_one_line_with_labels(cli):
    r = cli(
        "--as",
        "sato",
        "customers",
        "add",
        "--name",
        "架空 花子",
        "--email",
        "secret-not-an-email",
        "--postal-code",
        "12-34",
        "-p",
        "contract",
    )
    line = one_line(r)
    assert line.startswith("エラー (invalid_input): ")
    assert "メールアドレスの形式が正しくありません" in line and "郵便番号の形式が正しくありません" in line
    assert "secret" not in line and "12-34" not in line
    assert english_words(line, {"invalid_input"}) == []


# -- the CLI: usage errors through the real entry point (main) ------------------------------------------------


def run_main(monkeypatch, capsys, *args: str, lang: str | None = None) -> tuple[int, str, str]:
    from mamori.cli.main import main

    if lang is None:
        monkeypatch.delenv("MAMORI_LANG", raising=False)
    else:
        monkeypatch.setenv("MAMORI_LANG", lang)
    monkeypatch.setattr(sys, "argv", ["mamori", *args])
    with pytest.raises(SystemExit) as exit_info:
        main()
    out = capsys.readouterr()
    code = exit_info.value.code
    return (code if isinstance(code, int) else 1), out.out, out.err


def test_unknown_option_is_one_japanese_line_with_exit_2(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("MAMORI_HOME", str(tmp_path / "home"))
    code, out, err = run_main(monkeypatch, capsys, "customers", "list", "--bogus")
    assert code == 2 and out == ""
    assert err.strip() == (
        "エラー (usage): 不明なオプションです: --bogus（mamori customers list --help で使い方を確認できます）"
    )
    assert "No such option" not in err and "Usage:" not in err and "╭" not in err


def test_usage_errors_in_english_when_chosen(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("MAMORI_HOME", str(tmp_path / "home"))
    code, _, err = run_main(monkeypatch, capsys, "customers", "list", "--bogus", lang="en")
    assert (
        code == 2
        and err.strip() == "error (usage): unknown option: --bogus (see mamori customers list --help)"
    )
    code, _, err = run_main(monkeypatch, capsys, "--lang", "en", "nosuch")
    assert code == 2 and err.strip() == "error (usage): unknown command: nosuch (see mamori --help)"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("nosuch",), "エラー (usage): 不明なコマンドです: nosuch（mamori --help で使い方を確認できます）"),
        (
            ("customers", "list", "--purpos", "x"),
            "エラー (usage): 不明なオプションです: --purpos（候補: --purpose）"
            "（mamori customers list --help で使い方を確認できます）",
        ),
        (
            ("demo", "--customers", "0"),
            "エラー (usage): --customers: 1以上の値を指定してください（mamori demo --help で使い方を確認できます）",
        ),
        (
            ("demo", "--customers", "many"),
            "エラー (usage): --customers: 整数で入力してください（mamori demo --help で使い方を確認できます）",
        ),
        (
            ("customers", "show"),
            "エラー (usage): 必須の引数が指定されていません: 顧客ID（mamori customers show --help で使い方を確認できます）",
        ),
        (("customers", "list", "--limit"), "エラー (usage): オプション --limit には値が必要です"),
        (
            ("version", "extra"),
            "エラー (usage): 余分な引数があります（mamori version --help で使い方を確認できます）",
        ),
        # a command's own BadParameter: 「日本語 / English」 gives the chosen half; a list of codes is named as such
        (
            ("consent", "grant", "0" * 32),
            "エラー (usage): --purpose または --sensitive を指定してください"
            "（mamori consent grant --help で使い方を確認できます）",
        ),
        (
            (
                "--as",
                "admin",
                "customers",
                "import",
                "x.csv",
                "--source",
                "s",
                "-p",
                "contract",
                "--on-duplicate",
                "many",
            ),
            "エラー (usage): 次のいずれかを指定してください: report、merge、create"
            "（mamori customers import --help で使い方を確認できます）",
        ),
    ],
    ids=[
        "no_such_command",
        "option_typo",
        "out_of_range",
        "not_a_number",
        "missing_argument",
        "option_needs_value",
        "extra_argument",
        "own_bilingual_message",
        "own_code_list",
    ],
)
def test_usage_errors_in_japanese(monkeypatch, capsys, tmp_path, args, expected):
    monkeypatch.setenv("MAMORI_HOME", str(tmp_path / "home"))
    code, _, err = run_main(monkeypatch, capsys, *args)
    assert code == 2
    assert err.strip() == expected
    assert "many" not in err


def test_help_and_success_still_work_through_main(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("MAMORI_HOME", str(tmp_path / "home"))
    code, out, _ = run_main(monkeypatch, capsys, "version")
    assert code == 0 and out.startswith("mamori ")
    code, out, _ = run_main(monkeypatch, capsys, "customers", "list", "--help")
    assert code == 0 and "--purpose" in out


def test_the_installed_entry_point_prints_japanese_usage_errors(tmp_path):
    exe = Path(sys.executable).with_name("mamori")
    if not exe.exists():
        pytest.skip("the mamori console script is not installed beside this interpreter")
    env = {k: v for k, v in os.environ.items() if k != "MAMORI_LANG"}
    env["MAMORI_HOME"] = str(tmp_path / "home")
    r = subprocess.run(
        [str(exe), "customers", "list", "--bogus"], capture_output=True, text=True, env=env, timeout=120
    )
    assert r.returncode == 2
    assert r.stderr.strip().startswith("エラー (usage): 不明なオプションです: --bogus")


# -- the import file's bad lines ------------------------------------------------------------------------------


def test_import_reports_every_bad_line_in_japanese_and_writes_nothing(cli, tmp_path):
    f = tmp_path / "bad.csv"
    f.write_text(
        "name,email,birth_date,gender\n"
        ",hanako@example.jp,1985-01-05,女\n"
        "架空 六郎,secret-mail,1985-01-05,女\n"
        "架空 七郎,shichiro@example.jp,1985-13-45,xyz\n"
        "架空 八郎,hachiro@example.jp,昭和60年1月5日,男\n",
        encoding="utf-8",
    )
    r = cli("--as", "hoshino", "customers", "import", str(f), "--source", "s", "-p", "contract")
    assert r.exit_code == 1
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert "2行目: 氏名: 必須です" in lines
    assert "3行目: メールアドレス: メールアドレスの形式が正しくありません" in lines
    assert "4行目: 生年月日: 日付の形式が正しくありません（例: 1985-01-05 または 昭和60年1月5日）" in lines
    assert (
        "4行目: 性別: 次のいずれかを指定してください: female（女性）、male（男性）、other（その他）、unknown（不明）"
        in lines
    )
    assert "secret-mail" not in r.stderr and "xyz" not in r.stderr and "1985-13-45" not in r.stderr
    for ln in lines:
        if "行目" in ln:
            assert english_words(ln, {"female", "male", "other", "unknown"}) == [], ln
    assert "何も書き込んでいません" in r.stderr
    found = cli(
        "--as", "hoshino", "customers", "find", "-p", "contract", "--email", "hachiro@example.jp", "--json"
    )
    assert found.exit_code == 0 and '"items": []' in found.stdout


def test_import_bad_lines_in_english_when_chosen(cli, tmp_path):
    f = tmp_path / "bad.csv"
    f.write_text("name,email\n,a@example.jp\n架空 六郎,secret-mail\n", encoding="utf-8")
    r = cli(
        "--lang", "en", "--as", "hoshino", "customers", "import", str(f), "--source", "s", "-p", "contract"
    )
    assert r.exit_code == 1
    assert "line 2: Name: required" in r.stderr
    assert "line 3: E-mail address: not a valid address" in r.stderr
    assert "secret-mail" not in r.stderr


# -- every mapped pydantic error type: Japanese without English words -----------------------------------------


class _Inner(BaseModel):
    key: str


class _Everything(BaseModel):
    """Every field named like a labelled field, so the Japanese lines may show no English at all."""

    model_config = ConfigDict(extra="forbid")

    name: str
    kana: Annotated[str, Field(min_length=2)] = "カナ"
    notes: Annotated[str, Field(max_length=3)] = ""
    postal_code: Annotated[str, Field(pattern=r"^\d{3}-\d{4}$")] = "100-0001"
    kind: Literal["disclosure", "erasure"] = "disclosure"
    gender: Literal["female", "male"] | None = None
    amount: int = 0
    yen: float = 0.0
    fee_yen: Annotated[int, Field(gt=0)] = 1
    months: Annotated[int, Field(ge=1)] = 1
    limit: Annotated[int, Field(lt=10)] = 1
    offset: Annotated[int, Field(le=10)] = 1
    emails: Annotated[list[EmailStr], Field(min_length=1)] = ["a@example.jp"]
    phones: Annotated[list[str], Field(max_length=1)] = []
    value: dict[str, str] = {}
    categories: list[str] = []
    birth_date: date | None = None
    received_at: datetime | None = None
    status: bool = False
    label: str = ""
    email: EmailStr | None = None
    source: HttpUrl | None = None
    id: UUID | None = None
    attributes: list[_Inner] = []
    purpose: str | None = None
    address: str | None = None

    @field_validator("purpose")
    @classmethod
    def _purpose(cls, value: str | None) -> str | None:
        if value is not None:
            raise ValueError("code: lower-case letters, digits, _ - (2–64 chars)")
        return value

    @field_validator("address")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        if value is not None:
            raise validation.Invalid("都道府県から始めてください", "must start with a prefecture")
        return value


BAD = {
    "kana": "カ",
    "notes": "長すぎる備考",
    "postal_code": "1000001",
    "kind": "gossip",
    "gender": "x",
    "amount": "many",
    "yen": "lots",
    "fee_yen": 0,
    "months": 0,
    "limit": 10,
    "offset": 11,
    "emails": [],
    "phones": ["1", "2"],
    "value": "not a dict",
    "categories": "not a list",
    "birth_date": "not a date",
    "received_at": "not a time",
    "status": "perhaps",
    "label": 12,
    "email": "secret@",
    "source": "not a url",
    "id": "not-a-uuid",
    "attributes": [{"key": "ok"}, {}],
    "purpose": "x",
    "address": "somewhere",
    "bogus": 1,
}


def test_every_mapped_error_type_reads_in_japanese_without_english():
    with pytest.raises(ValidationError) as info:
        _Everything.model_validate(BAD)
    errors = info.value.errors(include_input=False, include_url=False)
    types = {e["type"] for e in errors}
    # the walk really covers the types the brief names
    assert {
        "missing",
        "string_too_short",
        "string_too_long",
        "string_pattern_mismatch",
        "literal_error",
        "int_parsing",
        "float_parsing",
        "greater_than",
        "greater_than_equal",
        "less_than",
        "less_than_equal",
        "too_short",
        "too_long",
        "dict_type",
        "list_type",
        "date_from_datetime_parsing",
        "datetime_from_date_parsing",
        "bool_parsing",
        "string_type",
        "value_error",
        "url_parsing",
        "uuid_parsing",
        "extra_forbidden",
    } <= types, types
    allowed = {"disclosure", "erasure", "female", "male", "bogus"}  # the codes and the unknown field's name
    for err in errors:
        line = validation.describe(err, "ja")
        assert english_words(line, allowed) == [], (err["type"], line)
        assert "Input should" not in line
        english = validation.describe(err, "en")
        assert not re.search(r"[\u3040-\u30ff]", english.replace("昭和60年1月5日", "")), english
    ja = {tuple(e["loc"]): validation.describe(e, "ja") for e in errors}
    assert ja[("name",)] == "氏名: 必須です"
    assert ja[("kind",)] == "種別: 次のいずれかを指定してください: disclosure（開示）、erasure（消去）"
    assert ja[("gender",)] == "性別: 次のいずれかを指定してください: female（女性）、male（男性）"
    assert ja[("attributes", 1, "key")] == "2件目の属性の項目: 必須です"
    assert ja[("email",)] == "メールアドレス: メールアドレスの形式が正しくありません"
    assert ja[("bogus",)] == "bogus: 不明な項目です"
    assert ja[("purpose",)] == "利用目的: コードは英小文字・数字・_ - の2〜64文字で指定してください"
    assert ja[("address",)] == "住所: 都道府県から始めてください"
    assert ja[("fee_yen",)] == "手数料: 0より大きい値を指定してください"
    en = {tuple(e["loc"]): validation.describe(e, "en") for e in errors}
    assert en[("address",)] == "Address: must start with a prefecture"
    assert en[("attributes", 1, "key")] == "Attributes #2 › Item: required"


def test_other_error_types_and_unknown_messages_never_fall_back_to_english():
    synthetic = [
        {
            "type": "json_invalid",
            "loc": ("body", 12),
            "msg": "JSON decode error",
            "ctx": {"error": "Expecting value"},
        },
        {
            "type": "enum",
            "loc": ("body", "regime"),
            "msg": "Input should be 'appi' or 'gdpr'",
            "ctx": {"expected": "'appi' or 'gdpr'"},
        },
        {"type": "int_type", "loc": ("query", "limit"), "msg": "Input should be a valid integer"},
        {"type": "date_parsing", "loc": ("birth_date",), "msg": "Input should be a valid date"},
        {"type": "datetime_parsing", "loc": ("received_at",), "msg": "Input should be a valid datetime"},
        {"type": "list_type", "loc": ("emails",), "msg": "Input should be a valid list"},
        {
            "type": "value_error",
            "loc": ("fields",),
            "msg": "Value error, unknown field (name, email or attr:<key>)",
            "ctx": {"error": ValueError("x")},
        },
        {"type": "some_future_type", "loc": ("header", "mamori-purpose"), "msg": "Something new happened"},
    ]
    for err in synthetic:
        line = validation.describe(err, "ja")
        assert english_words(line, {"appi", "gdpr", "GDPR", "fields", "Mamori", "Purpose"}) == [], line
    assert (
        validation.describe(synthetic[0], "ja")
        == "入力: 送信された内容を読み取れません（形式が正しくありません）"
    )
    assert validation.describe(synthetic[1], "ja") == (
        "適用法令: 次のいずれかを指定してください: appi（個人情報保護法）、gdpr（GDPR）"
    )
    assert validation.describe(synthetic[6], "ja") == "fields: 値が正しくありません"
    assert validation.describe(synthetic[6], "en") == "fields: unknown field (name, email or attr:<key>)"


def test_every_validation_word_has_both_languages():
    mine = ("validation.", "pydantic.", "value_error.", "cli_error.", "input_field.", "import_error.")
    keys = [k for k in table() if k.startswith(mine)]
    assert len(keys) > 100
    for key in keys:
        words = table()[key]
        assert words["ja"] and words["en"], key
        assert not re.search(
            r"[\u3040-\u30ff]",
            words["en"].replace("昭和60年1月5日", "").replace("都道府県", "").replace("要配慮", ""),
        ), key
