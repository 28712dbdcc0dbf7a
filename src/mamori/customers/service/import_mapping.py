"""Import mappings (issue 19): which of a file's columns go to which mamori field, how split columns are joined,
and how a file's code values read.

A mapping is written three ways and means the same thing each time:

- on the command line: ``--map 姓+名=name --map 電話1=phone --map 電話2=phone --map 備考=attr:note``
  (:func:`parse_cli`), with ``--sep address=" "`` for the separator of a join;
- in a mapping file, JSON or TOML (:func:`load_file`; the short form ``"name": "姓+名"`` is accepted);
- saved by name in ``import_mappings`` (:func:`save`, :func:`get`, :func:`list_`, :func:`delete`).

Nothing is lost silently: two columns on a single-valued field without a join (``+``) is refused
(``mapping_conflict``), a column mapped twice is refused, and a custom attribute declared 要配慮 is refused
(R-20-2: 要配慮個人情報 is never acquired through a bulk import). Phones and e-mail addresses take several columns
as several contact points.

Joined columns: empty parts are dropped, the rest joined with the field's separator (``name`` / ``kana`` /
``address``: a space; ``phone`` / ``postal_code``: "-"; any other: a space). For ``address`` no separator follows
a part that is exactly a prefecture name, so 「東京都」 + 「千代田区千代田1-1」 gives 「東京都千代田区千代田1-1」 (the
value decides, not the heading: a 都道府県 column that holds 「東京」 gets the separator).

:meth:`CompiledMapping.extract` runs once per line of a file of up to hundreds of thousands of lines: the column
positions, separators and value maps are worked out once in :func:`compile`.

A mapping holds a file's headings and code values, never a customer's data; error messages name key paths,
targets and headings, never a value.
"""

from __future__ import annotations

import json
import re
import tomllib
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from sqlalchemy import select

from mamori.customers.models import ImportMapping as ImportMappingRow
from mamori.customers.schemas import GENDERS
from mamori.kernel import validation
from mamori.kernel.auditing import authorise, record_write
from mamori.kernel.context import Context
from mamori.kernel.db import new_id
from mamori.kernel.errors import NotFound, ValidationFailed
from mamori.kernel.jptext import PREFECTURES
from mamori.kernel.policy import Action, Category, Resource
from mamori.law.rules import R_20_2

# -- targets -------------------------------------------------------------------------------------------------------

FIELDS = (
    "name",
    "kana",
    "birth_date",
    "gender",
    "postal_code",
    "address",
    "phone",
    "email",
    "occupation",
    "employer",
    "external_id",
    "registered_on",
    "owner",
    "notified_purposes",
)
ATTR_PREFIX = "attr:"
TARGETS = (*FIELDS, ATTR_PREFIX + "<key>")
MULTI_VALUED = frozenset({"phone", "email"})  # several columns → several contact points
ATTR_KEY = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
PURPOSE_CODE = re.compile(r"^[a-z][a-z0-9_-]{1,63}$")
NAME_PATTERN = r"^[A-Za-z0-9_\-ぁ-んァ-ヶ一-龠ー々]{1,64}$"
NAME_RE = re.compile(NAME_PATTERN)
CATEGORIES = tuple(c.value for c in Category if c is not Category.SENSITIVE)
SENSITIVE_WORDS = frozenset({Category.SENSITIVE.value, "要配慮", "要配慮個人情報"})

DEFAULT_SEPS: Mapping[str, str] = {"name": " ", "kana": " ", "address": " ", "phone": "-", "postal_code": "-"}
DEFAULT_SEP = " "
PREFECTURE_SET = frozenset(PREFECTURES)

# Limits, so that a hostile mapping file or request cannot exhaust memory.
MAX_FILE_BYTES = 256 * 1024
MAX_FIELDS = 64
MAX_COLUMNS_PER_FIELD = 20
MAX_HEADING_CHARS = 200
MAX_SEP_CHARS = 8
MAX_VALUE_MAPS = 32
MAX_VALUES_PER_TARGET = 2000
MAX_VALUE_CHARS = 500
MAX_CLI_PAIRS = 200

_WS = " \t\r\n\u3000\ufeff"


def heading(text: str) -> str:
    """A heading as compared: whitespace (incl. U+3000 and a BOM) stripped at both ends, as the file reader does."""
    return text.strip(_WS)


def is_target(target: str) -> bool:
    if target in FIELDS:
        return True
    return target.startswith(ATTR_PREFIX) and bool(ATTR_KEY.match(target[len(ATTR_PREFIX) :]))


def _targets_text() -> str:
    return ", ".join(TARGETS)


class MappingProblem(ValueError):
    """A refusal raised inside the model's validation, carried out of pydantic as the ValidationFailed it says."""

    def __init__(self, code: str, ja: str, en: str, rule_id: str | None = None) -> None:
        super().__init__(en)
        self.code = code
        self.ja = ja
        self.en = en
        self.rule_id = rule_id

    def failure(self) -> ValidationFailed:
        return ValidationFailed(self.ja, self.en, code=self.code, rule_id=self.rule_id)


def _bad(ja: str, en: str) -> ValidationFailed:
    return ValidationFailed(ja, en, code="bad_mapping")


# -- the model -----------------------------------------------------------------------------------------------------


class FieldMap(BaseModel):
    """The columns of one target. ``join``: the columns are one value, joined with ``sep`` (None: the field's
    default separator); otherwise a single-valued target takes exactly one column and phone / email take each
    column as a contact point of its own."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    columns: list[str] = Field(min_length=1, max_length=MAX_COLUMNS_PER_FIELD)
    join: bool = False
    sep: str | None = Field(default=None, max_length=MAX_SEP_CHARS)

    @field_validator("columns")
    @classmethod
    def _columns(cls, value: list[str]) -> list[str]:
        out = [heading(c) for c in value]
        if any(not c for c in out):
            raise validation.Invalid("空の列名があります", "a column heading is empty")
        if any(len(c) > MAX_HEADING_CHARS for c in out):
            raise validation.Invalid(
                f"列名は{MAX_HEADING_CHARS}文字以内です",
                f"a column heading is longer than {MAX_HEADING_CHARS} characters",
            )
        if len(set(out)) != len(out):
            raise validation.Invalid("同じ列が2回指定されています", "the same column is listed twice")
        return out


class ImportMapping(BaseModel):
    """A whole mapping: target → columns, custom attributes' categories, value maps, and the file's sheet and the
    system that issued its 顧客番号 (None: the import's source)."""

    model_config = ConfigDict(extra="forbid")

    fields: dict[str, FieldMap] = Field(default_factory=dict, max_length=MAX_FIELDS)
    attributes: dict[str, str] = Field(default_factory=dict, max_length=MAX_FIELDS)
    values: dict[str, dict[str, str]] = Field(default_factory=dict, max_length=MAX_VALUE_MAPS)
    sheet: str | None = Field(default=None, max_length=MAX_HEADING_CHARS)
    id_system: str | None = Field(default=None, max_length=200)
    name: str | None = Field(default=None, pattern=NAME_PATTERN)

    @field_validator("fields", mode="before")
    @classmethod
    def _short_forms(cls, value: Any) -> Any:
        """``"name": "姓+名"`` (joined) and ``"phone": ["電話1", "電話2"]`` (several columns) as short forms."""
        if not isinstance(value, dict):
            return value
        out: dict[Any, Any] = {}
        for target, spec in value.items():
            if isinstance(spec, str):
                cols = spec.split("+")
                out[target] = {"columns": cols, "join": len(cols) > 1}
            elif isinstance(spec, list):
                out[target] = {"columns": spec}
            else:
                out[target] = spec
        return out

    @model_validator(mode="after")
    def _coherent(self) -> ImportMapping:
        _check(self)
        return self


def _check(m: ImportMapping) -> None:
    seen: dict[str, str] = {}
    for target, fm in m.fields.items():
        if not is_target(target):
            raise MappingProblem(
                "bad_mapping",
                f"不明な項目です: {target}（{_targets_text()}）",
                f"Unknown field: {target} ({_targets_text()})",
            )
        if len(fm.columns) > 1 and not fm.join and target not in MULTI_VALUED:
            raise MappingProblem(
                "mapping_conflict",
                f"{target} に複数の列が対応付けられています。結合する場合は 列1+列2={target} と指定してください"
                "（上書きはしません）。",
                f"Several columns map to {target}; join them with col1+col2={target} (nothing is overwritten).",
            )
        for col in fm.columns:
            if col in seen and seen[col] != target:
                raise MappingProblem(
                    "mapping_conflict",
                    f"列「{col}」が {seen[col]} と {target} の両方に対応付けられています。",
                    f"Column '{col}' is mapped to both {seen[col]} and {target}.",
                )
            seen[col] = target
    for key, category in list(m.attributes.items()):
        if not ATTR_KEY.match(key):
            raise MappingProblem(
                "bad_mapping",
                f"属性のキーは英小文字で始まる英数字と _ で指定してください: attributes.{key[:64]}",
                f"An attribute key is a lower-case letter then letters, digits or _: attributes.{key[:64]}",
            )
        if category.strip() in SENSITIVE_WORDS:
            raise _sensitive(key)
        if category not in CATEGORIES:
            raise MappingProblem(
                "bad_mapping",
                f"属性の区分が不正です: attributes.{key}（{', '.join(CATEGORIES)}）",
                f"Unknown attribute category: attributes.{key} ({', '.join(CATEGORIES)})",
            )
        if ATTR_PREFIX + key not in m.fields:
            raise MappingProblem(
                "bad_mapping",
                f"属性 {key} に対応する列がありません（fields に attr:{key} を指定してください）。",
                f"No column maps to attribute {key} (add attr:{key} to fields).",
            )
    for target in m.fields:
        if target.startswith(ATTR_PREFIX):
            m.attributes.setdefault(target[len(ATTR_PREFIX) :], Category.ATTRIBUTE.value)
    for target, table in m.values.items():
        if not is_target(target):
            raise MappingProblem(
                "bad_mapping",
                f"値の対応表の項目が不明です: values.{target[:64]}",
                f"Unknown field in the value maps: values.{target[:64]}",
            )
        if len(table) > MAX_VALUES_PER_TARGET:
            raise MappingProblem(
                "bad_mapping",
                f"値の対応表が大きすぎます: values.{target}（{MAX_VALUES_PER_TARGET}件まで）",
                f"Value map too large: values.{target} (at most {MAX_VALUES_PER_TARGET})",
            )
        for key, value in table.items():
            if len(key) > MAX_VALUE_CHARS or len(value) > MAX_VALUE_CHARS:
                raise MappingProblem(
                    "bad_mapping",
                    f"値の対応表の値が長すぎます: values.{target}（{MAX_VALUE_CHARS}文字まで）",
                    f"A value in values.{target} is too long (at most {MAX_VALUE_CHARS} characters)",
                )
            if target == "gender" and value not in GENDERS:
                raise MappingProblem(
                    "bad_mapping",
                    f"values.gender の変換先は {', '.join(GENDERS)} のいずれかです。",
                    f"values.gender maps to one of {', '.join(GENDERS)}.",
                )
            if target == "notified_purposes" and any(
                p.strip() and not PURPOSE_CODE.match(p.strip()) for p in value.split(",")
            ):
                raise MappingProblem(
                    "bad_mapping",
                    "values.notified_purposes の変換先は利用目的コードのカンマ区切りです。",
                    "values.notified_purposes maps to comma-separated purpose codes.",
                )


def _sensitive(key: str) -> MappingProblem:
    return MappingProblem(
        "mapping_sensitive",
        f"要配慮個人情報の属性（{key}）は一括取込では取得できません。本人の同意を得て個別に記録してください。",
        f"Special care-required data (attribute {key}) is not acquired by a bulk import; record it one by one "
        "with the person's consent.",
        rule_id=R_20_2.id,
    )


def _where(loc: Sequence[int | str]) -> str:
    """A pydantic error location as a key path, without the file's values (a value map's keys are values)."""
    parts = [str(p) for p in loc]
    if parts[:1] == ["values"]:
        parts = parts[:2]
    return ".".join(p[:64] for p in parts) or "(root)"


def from_dict(data: Any) -> ImportMapping:
    """A mapping from parsed JSON / TOML (or an API body); refusals are one line naming the key path."""
    try:
        return ImportMapping.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors(include_input=False, include_url=False)
        for e in errors:
            problem = (e.get("ctx") or {}).get("error")
            if isinstance(problem, MappingProblem):
                raise problem.failure() from None
        first = errors[0]
        where = _where(first.get("loc", ()))
        raise _bad(
            f"マッピングの指定が不正です: {where}（{validation.reason(first, 'ja')}）",
            f"Invalid mapping at {where} ({validation.reason(first, 'en')})",
        ) from None


# -- the command line ------------------------------------------------------------------------------------------------


def parse_target(text: str) -> tuple[str, str | None]:
    """``name`` → ("name", None); ``attr:note:contact`` → ("attr:note", "contact")."""
    t = text.strip()
    category: str | None = None
    if t.startswith(ATTR_PREFIX):
        key, has_category, rest = t[len(ATTR_PREFIX) :].partition(":")
        t = ATTR_PREFIX + key.strip()
        if has_category:
            category = rest.strip()
            if category in SENSITIVE_WORDS:
                raise _sensitive(key.strip()).failure()
            if category not in CATEGORIES:
                raise _bad(
                    f"属性の区分が不正です: {t}（{', '.join(CATEGORIES)}）",
                    f"Unknown attribute category: {t} ({', '.join(CATEGORIES)})",
                )
    if not is_target(t):
        raise _bad(f"不明な項目です: {t}（{_targets_text()}）", f"Unknown field: {t} ({_targets_text()})")
    return t, category


def parse_cli(pairs: Sequence[str], seps: Sequence[str] = ()) -> ImportMapping:
    """``--map`` pairs (``COLS=TARGET``, COLS one heading or headings joined by "+") and ``--sep FIELD=SEP``.

    ``--map 電話1=phone --map 電話2=phone``: phone and email take several columns as several contact points; any
    other field given two columns without "+" is refused (``mapping_conflict``), never overwritten."""
    if len(pairs) > MAX_CLI_PAIRS or len(seps) > MAX_CLI_PAIRS:
        raise _bad("列の対応付け・区切り文字の指定が多すぎます。", "Too many column mappings or separators.")
    groups: dict[str, list[tuple[list[str], bool]]] = {}
    categories: dict[str, str] = {}
    for pair in pairs:
        if pair.count("=") != 1:
            raise _bad(
                "列の対応付けは 列名=項目 または 列1+列2=項目 の形式で指定してください"
                "（「+」「=」を含む列名はマッピングファイルで指定してください）。",
                "A column mapping is column=field or col1+col2=field (a heading containing '+' or '=' is given "
                "in a mapping file).",
            )
        cols_text, target_text = pair.split("=", 1)
        cols = [heading(c) for c in cols_text.split("+")]
        if not all(cols):
            raise _bad(
                "列名が空です（列名=項目 の形式で指定してください）。",
                "An empty column heading (use column=field).",
            )
        target, category = parse_target(target_text)
        if category is not None:
            key = target[len(ATTR_PREFIX) :]
            if categories.get(key, category) != category:
                raise ValidationFailed(
                    f"属性 {key} に異なる区分が指定されています。",
                    f"Attribute {key} is given two different categories.",
                    code="mapping_conflict",
                )
            categories[key] = category
        groups.setdefault(target, []).append((cols, len(cols) > 1))
    fields: dict[str, dict[str, Any]] = {}
    for target, specs in groups.items():
        if len(specs) == 1:
            cols, join = specs[0]
            fields[target] = {"columns": cols, "join": join}
            continue
        if target not in MULTI_VALUED:
            raise ValidationFailed(
                f"{target} に複数の列が別々に対応付けられています。結合する場合は 列1+列2={target} と1つで指定してください"
                "（上書きはしません）。",
                f"Several columns are mapped to {target} one by one; join them in one: col1+col2={target} "
                "(nothing is overwritten).",
                code="mapping_conflict",
            )
        if any(join for _, join in specs):
            raise ValidationFailed(
                f"{target} には結合した列と別の列を同時に指定できません。",
                f"{target} cannot take a joined group and other columns at once.",
                code="mapping_conflict",
            )
        fields[target] = {"columns": [c for cols, _ in specs for c in cols], "join": False}
    for spec in seps:
        if "=" not in spec:
            raise _bad(
                '区切り文字は 項目=区切り の形式で指定してください（例: address=" "）。',
                'A separator is field=separator (e.g. address=" ").',
            )
        target_text, sep = spec.split("=", 1)
        target = target_text.strip()
        if target not in fields:
            raise _bad(
                f"区切り文字を指定した項目 {target[:64]} には列が対応付けられていません。",
                f"A separator is given for {target[:64]}, to which no column is mapped.",
            )
        if not fields[target]["join"]:
            raise _bad(
                f"区切り文字は「+」で結合した列にだけ指定できます（{target}）。",
                f"A separator applies only to columns joined with '+' ({target}).",
            )
        fields[target]["sep"] = sep
    return from_dict({"fields": fields, "attributes": categories})


# -- files -----------------------------------------------------------------------------------------------------------


def _too_large() -> ValidationFailed:
    return _bad(
        f"マッピングファイルが大きすぎます（{MAX_FILE_BYTES // 1024}KB まで）。",
        f"The mapping file is too large (at most {MAX_FILE_BYTES // 1024} KB).",
    )


def loads(data: bytes, file_name: str = "mapping.json") -> ImportMapping:
    """A mapping file's bytes: JSON when the name ends .json or the text starts with "{", else TOML."""
    if len(data) > MAX_FILE_BYTES:
        raise _too_large()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _bad(
            "マッピングファイルは UTF-8 で保存してください。", "Save the mapping file as UTF-8."
        ) from None
    as_json = file_name.lower().endswith(".json") or (
        not file_name.lower().endswith(".toml") and text.lstrip().startswith("{")
    )
    try:
        parsed: Any = json.loads(text) if as_json else tomllib.loads(text)
    except json.JSONDecodeError as exc:
        raise _bad(
            f"マッピングファイル（JSON）を読めません: {exc.lineno}行目",
            f"Cannot read the mapping file (JSON): line {exc.lineno}",
        ) from None
    except tomllib.TOMLDecodeError:
        raise _bad(
            "マッピングファイル（TOML）を読めません。", "Cannot read the mapping file (TOML)."
        ) from None
    if not isinstance(parsed, dict):
        raise _bad(
            "マッピングファイルの最上位はオブジェクト（表）にしてください。",
            "The mapping file's top level must be an object (a table).",
        )
    return from_dict(parsed)


def load_file(path: Path | str) -> ImportMapping:
    """A mapping file (JSON or TOML, chosen by its suffix, else by its content)."""
    p = Path(path)
    try:
        size = p.stat().st_size
        if size > MAX_FILE_BYTES:
            raise _too_large()  # refused without reading the file
        data = p.read_bytes()
    except OSError:
        raise NotFound(
            "マッピングファイルを読み込めません。", "Cannot read the mapping file.", code="file_unreadable"
        ) from None
    return loads(data, p.name)


def dump(mapping: ImportMapping) -> str:
    """The mapping as JSON (what is saved; :func:`from_dict` reads it back)."""
    return mapping.model_dump_json(exclude_defaults=False, indent=None)


# -- suggestion ------------------------------------------------------------------------------------------------------

# Headings as compared for a suggestion: NFKC, lower case, no spaces, brackets as ASCII.
_FULL_NAME = {"氏名", "名前", "お名前", "顧客名", "氏名(漢字)", "名前(漢字)", "name", "fullname", "full_name"}
_SURNAME = {"姓", "氏", "苗字", "名字", "姓(漢字)", "lastname", "last_name", "surname", "familyname"}
_GIVEN = {"名", "名(漢字)", "firstname", "first_name", "givenname", "given_name"}
_FULL_KANA = {
    "フリガナ",
    "ふりがな",
    "カナ",
    "かな",
    "氏名カナ",
    "氏名(カナ)",
    "氏名(フリガナ)",
    "フリガナ(氏名)",
    "よみがな",
    "ヨミガナ",
    "kana",
}
_SURNAME_KANA = {"セイ", "せい", "姓カナ", "姓(カナ)", "姓(フリガナ)", "フリガナ(姓)", "セイ(カナ)"}
_GIVEN_KANA = {"メイ", "めい", "名カナ", "名(カナ)", "名(フリガナ)", "フリガナ(名)", "メイ(カナ)"}
_ADDRESS_PARTS = {
    "都道府県",
    "市区町村",
    "市区郡",
    "町域",
    "町名",
    "住所",
    "番地",
    "丁目番地",
    "建物",
    "建物名",
    "建物名・部屋番号",
    "建物名部屋番号",
    "マンション名",
    "ビル名",
    "所在地",
    "address",
}
_PHONES = {
    "電話",
    "電話番号",
    "tel",
    "携帯",
    "携帯電話",
    "携帯番号",
    "携帯電話番号",
    "自宅電話",
    "会社電話",
    "phone",
}
_EMAILS = {"メール", "メールアドレス", "e-mail", "email", "mail", "eメール", "pcメール", "携帯メール"}
_SIMPLE: dict[str, str] = {
    **dict.fromkeys(
        ("生年月日", "誕生日", "生年月日(西暦)", "birthday", "birth_date", "birthdate"), "birth_date"
    ),
    **dict.fromkeys(("性別", "gender", "sex"), "gender"),
    **dict.fromkeys(("郵便番号", "〒", "郵便", "zip", "zipcode", "postal_code", "postcode"), "postal_code"),
    **dict.fromkeys(("職業", "職種", "occupation"), "occupation"),
    **dict.fromkeys(("勤務先", "勤務先名", "会社名", "会社", "法人名", "所属", "employer"), "employer"),
    **dict.fromkeys(
        (
            "顧客番号",
            "顧客id",
            "顧客コード",
            "顧客no",
            "顧客no.",
            "会員番号",
            "会員id",
            "external_id",
            "customer_id",
        ),
        "external_id",
    ),
    **dict.fromkeys(
        ("登録日", "登録日時", "入会日", "初回登録日", "作成日", "registered_on"), "registered_on"
    ),
    **dict.fromkeys(("担当営業", "担当者", "営業担当", "担当", "担当者名", "owner"), "owner"),
    **dict.fromkeys(
        ("利用目的", "通知済み利用目的", "通知した利用目的", "notified_purposes"), "notified_purposes"
    ),
    **dict.fromkeys(("備考", "備考欄", "メモ", "特記事項", "note", "notes"), "attr:note"),
}
_NUMBERED = re.compile(r"^(.*?)[-_]?\(?\d{1,2}\)?$")


def _key(text: str) -> str:
    k = unicodedata.normalize("NFKC", text).lower()
    return "".join(k.split())


def _kind(col: str) -> str | None:
    """What a heading is: a target, or a part of a split name/kana ("name.surname", …) or address ("address")."""
    k = _key(col)
    for candidate in (k, _NUMBERED.sub(r"\1", k)):
        if not candidate:
            continue
        if candidate in _FULL_NAME:
            return "name.full"
        if candidate in _SURNAME:
            return "name.surname"
        if candidate in _GIVEN:
            return "name.given"
        if candidate in _FULL_KANA:
            return "kana.full"
        if candidate in _SURNAME_KANA:
            return "kana.surname"
        if candidate in _GIVEN_KANA:
            return "kana.given"
        if candidate in _ADDRESS_PARTS or candidate.startswith("住所"):
            return "address"
        if candidate in _PHONES:
            return "phone"
        if candidate in _EMAILS:
            return "email"
        if candidate == k and candidate in _SIMPLE:  # numbered forms only for repeatable parts
            return _SIMPLE[candidate]
    return None


def suggest(header: Sequence[str]) -> ImportMapping:
    """A mapping for the usual Japanese headings (the user confirms it): 姓/名 → name joined (姓 first),
    セイ/メイ → kana, 都道府県/住所/建物 → address joined in file order, 電話1/電話2/携帯 → several phones, 顧客番号 →
    external_id, 登録日 → registered_on, 担当営業 → owner, 備考 → attr:note, …

    Never two columns on a single-valued target without a join: a full 氏名 wins over 姓/名, otherwise the first
    column of a kind is taken and the rest are left unmapped."""
    kinds: dict[str, list[str]] = {}
    for raw in header:
        col = heading(raw)
        if not col or len(col) > MAX_HEADING_CHARS:
            continue
        kind = _kind(col)
        if kind is not None and col not in kinds.get(kind, []):
            kinds.setdefault(kind, []).append(col)
    fields: dict[str, FieldMap] = {}
    for target in ("name", "kana"):
        if kinds.get(f"{target}.full"):
            fields[target] = FieldMap(columns=kinds[f"{target}.full"][:1])
            continue
        parts = kinds.get(f"{target}.surname", [])[:1] + kinds.get(f"{target}.given", [])[:1]
        if parts:
            fields[target] = FieldMap(columns=parts, join=len(parts) > 1)
    if kinds.get("address"):
        cols = kinds["address"][:MAX_COLUMNS_PER_FIELD]
        fields["address"] = FieldMap(columns=cols, join=len(cols) > 1)
    for target in ("phone", "email"):
        if kinds.get(target):
            fields[target] = FieldMap(columns=kinds[target][:MAX_COLUMNS_PER_FIELD])
    for kind, cols in kinds.items():
        if "." not in kind and kind not in fields and kind not in ("address", "phone", "email"):
            fields[kind] = FieldMap(columns=cols[:1])
    return ImportMapping(fields=fields)


# -- compiled for the rows of one file ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Spec:
    target: str
    indexes: tuple[int, ...]
    multi: bool
    join: bool
    sep: str
    prefecture_rule: bool
    values: Mapping[str, str]


def _value_table(table: Mapping[str, str]) -> dict[str, str]:
    """A value map looked up by the cell as is and by its NFKC form (「１」 finds "1")."""
    out: dict[str, str] = {}
    for key, value in table.items():
        out.setdefault(unicodedata.normalize("NFKC", key).strip(), value)
    out.update({key.strip(): value for key, value in table.items()})
    return out


class CompiledMapping:
    """A mapping bound to one file's header: column positions, separators and value maps worked out once.

    The targets are sorted once by how they are read — one cell as it is, one cell through a value map, a list of
    cells (phone / email), joined cells — so that :meth:`extract` does no per-target dispatch."""

    def __init__(self, mapping: ImportMapping, header: list[str], specs: list[_Spec]) -> None:
        self.mapping = mapping
        self.header = header
        self._specs = specs
        self._columns = {s.target: [header[i] for i in s.indexes] for s in specs}
        self._width = max((i + 1 for s in specs for i in s.indexes), default=0)
        self._ones: list[tuple[str, int]] = []
        self._mapped_ones: list[tuple[str, int, Mapping[str, str]]] = []
        self._lists: list[tuple[str, tuple[int, ...], Mapping[str, str]]] = []
        self._joins: list[tuple[str, tuple[int, ...], str, bool, bool, Mapping[str, str]]] = []
        for sp in specs:
            if sp.multi and not sp.join:
                self._lists.append((sp.target, sp.indexes, sp.values))
            elif len(sp.indexes) > 1 or sp.multi:
                self._joins.append((sp.target, sp.indexes, sp.sep, sp.prefecture_rule, sp.multi, sp.values))
            elif sp.values:
                self._mapped_ones.append((sp.target, sp.indexes[0], sp.values))
            else:
                self._ones.append((sp.target, sp.indexes[0]))

    @property
    def targets(self) -> list[str]:
        return [s.target for s in self._specs]

    def columns_of(self, target: str) -> list[str]:
        """The file's headings that feed ``target`` (for error messages naming the column)."""
        return list(self._columns.get(target, ()))

    def extract(self, values: list[str]) -> dict[str, str | list[str]]:
        """One line's cells → {target: text} (phone / email: a list of the non-empty cells). Cells are stripped,
        empty parts dropped, joined parts joined with the field's separator; a cell found in the target's value
        map is replaced, any other passes as it is. A short line's missing cells are empty."""
        if len(values) < self._width:
            values = [*values, *([""] * (self._width - len(values)))]
        out: dict[str, str | list[str]] = {target: values[i].strip() for target, i in self._ones}
        for target, i, vmap in self._mapped_ones:
            cell = values[i].strip()
            out[target] = _mapped(vmap, cell) if cell else cell
        for target, indexes, vmap in self._lists:
            cells = [c for c in (values[i].strip() for i in indexes) if c]
            if vmap:
                cells = [c for c in (_mapped(vmap, c) for c in cells) if c]
            out[target] = cells
        for target, indexes, sep, prefecture_rule, multi, vmap in self._joins:
            parts = [c for c in (values[i].strip() for i in indexes) if c]
            if len(parts) > 1 and prefecture_rule:
                text = parts[0]
                for prev, part in zip(parts, parts[1:], strict=False):
                    text += part if prev in PREFECTURE_SET else sep + part
            else:
                text = sep.join(parts)
            if vmap and text:
                text = _mapped(vmap, text)
            if multi:  # a phone split over columns: one contact point
                out[target] = [text] if text else []
            else:
                out[target] = text
        return out


def _mapped(vmap: Mapping[str, str], cell: str) -> str:
    hit = vmap.get(cell)
    if hit is None and not cell.isascii():
        hit = vmap.get(unicodedata.normalize("NFKC", cell))
    return cell if hit is None else hit


def compile(mapping: ImportMapping, header: Sequence[str]) -> CompiledMapping:  # noqa: A001 - the interface's name
    """Bind ``mapping`` to a file's header. Refused (``bad_mapping``) when a mapped column is not in the file
    (naming it and listing the file's columns), when a heading that appears twice feeds a single-valued field, or
    when no column maps to name."""
    cols = [heading(h) for h in header]
    where: dict[str, list[int]] = {}
    for i, c in enumerate(cols):
        where.setdefault(c, []).append(i)
    folded: dict[str, list[int]] = {}
    for c, positions in where.items():
        folded.setdefault(_key(c), []).extend(positions)
    if "name" not in mapping.fields:
        raise _bad(
            "name（氏名）に対応する列がありません。列と name の対応を指定してください（例: 氏名=name、姓+名=name）。",
            "No column maps to 'name'; map one (e.g. 氏名=name, 姓+名=name).",
        )
    missing: list[str] = []
    specs: list[_Spec] = []
    for target, fm in mapping.fields.items():
        multi = target in MULTI_VALUED
        idx: list[int] = []
        for c in fm.columns:
            found = where.get(c) or folded.get(_key(c))
            if not found:
                missing.append(c)
                continue
            if len(found) > 1 and not (multi and not fm.join):
                raise _bad(
                    f"ファイルに同じ列名「{c}」が複数あります。列名を変えてから対応付けてください。",
                    f"The file has the heading '{c}' more than once; rename the columns first.",
                )
            idx.extend(found)
        sep = fm.sep if fm.sep is not None else DEFAULT_SEPS.get(target, DEFAULT_SEP)
        specs.append(
            _Spec(
                target=target,
                indexes=tuple(idx),
                multi=multi,
                join=fm.join,
                sep=sep,
                prefecture_rule=target == "address",
                values=_value_table(mapping.values.get(target, {})),
            )
        )
    if missing:
        shown = ", ".join(cols[:100]) + (" …" if len(cols) > 100 else "")
        raise _bad(
            f"ファイルにない列が指定されています: {', '.join(missing)}（ファイルの列: {shown}）",
            f"Mapped columns not in the file: {', '.join(missing)} (the file's columns: {shown})",
        )
    return CompiledMapping(mapping, cols, specs)


# -- saved mappings --------------------------------------------------------------------------------------------------

# Audit actions (written as literals at the calls, where the check that every action has words finds them).
A_SAVED = "customer.import_mapping_saved"
A_DELETED = "customer.import_mapping_deleted"


class SavedMapping(BaseModel):
    """A mapping saved by name, with who saved it first and when it last changed."""

    name: str
    mapping: ImportMapping
    created_by: str
    created_at: datetime
    updated_at: datetime


def _check_name(name: str) -> str:
    n = name.strip()
    if not NAME_RE.match(n):
        raise _bad(
            "マッピング名は64文字以内の英数字・かな・漢字・「-」「_」で指定してください。",
            "A mapping name is up to 64 letters, digits, kana, kanji, '-' or '_'.",
        )
    return n


def _not_found() -> NotFound:
    return NotFound(
        "その名前のマッピングはありません。", "No mapping of that name.", code="mapping_not_found"
    )


def _owner_of(row: ImportMappingRow) -> str | None:
    kind, _, ident = row.created_by.partition(":")
    return ident or None


def _row(ctx: Context, name: str) -> ImportMappingRow | None:
    return ctx.session.execute(
        select(ImportMappingRow).where(ImportMappingRow.name == name)
    ).scalar_one_or_none()


def _saved(row: ImportMappingRow) -> SavedMapping:
    mapping = from_dict(json.loads(row.body))
    mapping.name = row.name
    return SavedMapping(
        name=row.name,
        mapping=mapping,
        created_by=row.created_by,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _may(ctx: Context, owner_id: str | None = None) -> None:
    """Who may manage mappings: whoever may import (a replace or delete of another's mapping needs the
    whole-organisation scope; the denial is audited)."""
    authorise(ctx, Action.CUSTOMER_IMPORT, Resource(kind="import_mapping", owner_id=owner_id))


def save(ctx: Context, name: str, mapping: ImportMapping) -> SavedMapping:
    """Create or replace the mapping ``name`` (audited; no commit)."""
    n = _check_name(name)
    _may(ctx)
    if not mapping.fields:
        raise _bad("列の対応付けが1つもありません。", "The mapping maps no column.")
    body = dump(mapping.model_copy(update={"name": n}))
    now = ctx.clock.now()
    row = _row(ctx, n)
    if row is None:
        row = ImportMappingRow(
            id=new_id(), name=n, body=body, created_by=ctx.actor.label, created_at=now, updated_at=now
        )
        ctx.session.add(row)
        replaced = False
    else:
        _may(ctx, _owner_of(row))
        row.body = body
        row.updated_at = now
        replaced = True
    ctx.session.flush()
    record_write(
        ctx,
        "customer.import_mapping_saved",
        (),
        sorted(mapping.fields),
        details={"mapping": n, "replaced": replaced},
    )
    return _saved(row)


def read(ctx: Context, name: str) -> SavedMapping:
    """The saved mapping ``name`` with who saved it and when; NotFound ``mapping_not_found``."""
    _may(ctx)
    row = _row(ctx, name.strip())
    if row is None:
        raise _not_found()
    return _saved(row)


def get(ctx: Context, name: str) -> ImportMapping:
    """The saved mapping ``name`` (for ``import --mapping NAME`` and the web wizard)."""
    return read(ctx, name).mapping


def list_(ctx: Context) -> list[SavedMapping]:
    """Every saved mapping, by name."""
    _may(ctx)
    rows = ctx.session.execute(select(ImportMappingRow).order_by(ImportMappingRow.name)).scalars().all()
    return [_saved(r) for r in rows]


def delete(ctx: Context, name: str) -> None:
    """Delete the mapping ``name`` (audited; no commit)."""
    _may(ctx)
    row = _row(ctx, name.strip())
    if row is None:
        raise _not_found()
    _may(ctx, _owner_of(row))
    ctx.session.delete(row)
    ctx.session.flush()
    record_write(ctx, "customer.import_mapping_deleted", (), (), details={"mapping": row.name})


def describe(mapping: ImportMapping) -> list[tuple[str, str]]:
    """(target, how) lines for showing a mapping: 「name ← 姓 + 名（区切り " "）」 style, in target order."""
    out: list[tuple[str, str]] = []
    for target, fm in mapping.fields.items():
        if fm.join:
            sep = fm.sep if fm.sep is not None else DEFAULT_SEPS.get(target, DEFAULT_SEP)
            out.append((target, " + ".join(fm.columns) + f"  [sep {json.dumps(sep, ensure_ascii=False)}]"))
        else:
            out.append((target, ", ".join(fm.columns)))
    return out
