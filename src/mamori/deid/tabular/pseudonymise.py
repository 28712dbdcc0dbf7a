"""仮名加工情報 (pseudonymised personal information), R-41-1 … R-41-6.

* R-41-1 (規則31): identifying descriptions are dropped or replaced (addresses are cut to 市区町村), every
  個人識別符号 column (My Number, passport, licence, insurance … numbers) and all payment data are removed, and the
  customer id is replaced by a keyed HMAC-SHA256 pseudonym.
* R-41-2 (規則32): the HMAC key is 削除情報等; it lives in the keystore under its own name and access control
  (``KeySource``), never in the output or the manifest.
* R-41-4 / R-41-5: ``policy.py`` refuses third-party provision, joins with identity/contact data and contacting.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

import polars as pl

from mamori.deid.tabular.errors import DatasetError, HierarchyError
from mamori.deid.tabular.hierarchy import municipality_of
from mamori.deid.tabular.options import DEFAULT_KEY_NAME as DEFAULT_KEY_NAME
from mamori.deid.text.checkdigits import luhn_valid, my_number_valid

KIND_JA = "仮名加工情報"
KIND_EN = "pseudonymised personal information"
RULES = ("R-41-1", "R-41-2", "R-41-3", "R-41-4", "R-41-5", "R-41-6")


class KeySource(Protocol):
    """The keystore's system keys (削除情報等 / 加工方法等情報): get-or-create and destroy."""

    def system_key(self, name: str) -> bytes: ...

    def destroy_system_key(self, name: str) -> None: ...


class InMemoryKeySource:
    """A KeySource for tests and one-off CLI runs; the real one wraps keys with the KEK in the keystore DB."""

    def __init__(self) -> None:
        self._keys: dict[str, bytes] = {}
        self.destroyed: list[str] = []

    def system_key(self, name: str) -> bytes:
        if name not in self._keys:
            self._keys[name] = secrets.token_bytes(32)
        return self._keys[name]

    def destroy_system_key(self, name: str) -> None:
        self._keys.pop(name, None)
        self.destroyed.append(name)

    def has(self, name: str) -> bool:
        return name in self._keys


def _norm(column: str) -> str:
    return re.sub(r"[\s_\-.]", "", column).lower()


# Column-name patterns (normalised: lower case, no separators).
_ID_CODE = re.compile(
    r"mynumber|kojinbango|個人番号|マイナンバー|passport|旅券|パスポート|licen[cs]e|免許|insur|保険者?番号|被保険者|"
    r"pension|基礎年金|年金番号|residencecard|在留カード|zairyu|specialpermanent|特別永住|"
    r"individualnumber|socialsecurity|ssn"
)
_PAYMENT = re.compile(
    r"card|カード|cvv|cvc|securitycode|expiry|有効期限|iban|bank|口座|account(number|no)|accountholder|payment|支払"
)
_ADDRESS = re.compile(r"address|住所|所在地")
_IDENTIFYING = re.compile(
    r"^(full)?name$|firstname|lastname|familyname|givenname|surname|^kana$|namekana|kananame|氏名|名前|^姓$|^名$|"
    r"フリガナ|ふりがな|カナ|phone|tel$|mobile|fax|電話|携帯|email|mail|メール|street|番地|building|建物|"
    r"^ip$|ipaddress|face|photo|顔|signature|署名|loginid|username|ユーザー名"
)
_ID = re.compile(r"^(customer)?id$|customerid|顧客id|顧客番号|会員番号|memberid")

_MYNUMBER_VALUE = re.compile(r"^\d{4}[- ]?\d{4}[- ]?\d{4}$")
_CARD_VALUE = re.compile(r"^(?:\d[- ]?){13,19}$")


@dataclass(frozen=True)
class ColumnPlan:
    identifying: tuple[str, ...]
    identification_codes: tuple[str, ...]
    payment: tuple[str, ...]
    addresses: tuple[str, ...]
    ids: tuple[str, ...]
    kept: tuple[str, ...]


def _looks_like_codes(series: pl.Series) -> str | None:
    """'id_code' / 'payment' if most sampled non-empty values are valid My Numbers / card numbers."""
    if series.dtype not in (pl.String, pl.Int64, pl.Int32, pl.UInt64):
        return None
    sample = [str(v).strip() for v in series.drop_nulls().head(200).to_list() if str(v).strip()]
    if not sample:
        return None
    digits = [re.sub(r"[- ]", "", v) for v in sample]
    mynum = sum(
        1 for v, d in zip(sample, digits, strict=True) if _MYNUMBER_VALUE.match(v) and my_number_valid(d)
    )
    if mynum * 2 > len(sample):
        return "id_code"
    card = sum(1 for v, d in zip(sample, digits, strict=True) if _CARD_VALUE.match(v) and luhn_valid(d))
    if card * 2 > len(sample):
        return "payment"
    return None


def classify_columns(
    df: pl.DataFrame, *, id_columns: Sequence[str] = (), drop: Sequence[str] = (), keep: Sequence[str] = ()
) -> ColumnPlan:
    """Sort the columns into what R-41-1 removes, replaces and keeps (by name, and by value for code numbers)."""
    for col in [*id_columns, *drop, *keep]:
        if col not in df.columns:
            raise DatasetError(
                f"列 {col} がありません。", f"column {col} does not exist", details={"column": col}
            )
    ident: list[str] = []
    codes: list[str] = []
    pay: list[str] = []
    addr: list[str] = []
    ids: list[str] = list(id_columns)
    kept: list[str] = []
    for col in df.columns:
        if col in ids:
            continue
        n = _norm(col)
        if _ID_CODE.search(n):
            codes.append(col)
        elif _PAYMENT.search(n):
            pay.append(col)
        elif col in drop:
            ident.append(col)
        elif _ADDRESS.search(n):
            addr.append(col)
        elif _IDENTIFYING.search(n):
            ident.append(col)
        elif not id_columns and _ID.search(n):
            ids.append(col)
        else:
            by_value = _looks_like_codes(df[col])
            if by_value == "id_code":
                codes.append(col)
            elif by_value == "payment":
                pay.append(col)
            else:
                kept.append(col)
    forced = [c for c in keep if c in codes or c in pay]
    if forced:
        from mamori.kernel.errors import PolicyDenied

        raise PolicyDenied(
            "個人識別符号・決済情報の列は残せません。",
            "identification-code and payment columns cannot be kept",
            rule_id="R-41-1",
            details={"columns": forced},
        )
    for c in keep:
        for group in (ident, addr):
            if c in group:
                group.remove(c)
                kept.append(c)
    order = {c: i for i, c in enumerate(df.columns)}
    return ColumnPlan(
        tuple(ident),
        tuple(codes),
        tuple(pay),
        tuple(addr),
        tuple(ids),
        tuple(sorted(kept, key=order.__getitem__)),
    )


def pseudonym(key: bytes, value: str) -> str:
    """HMAC-SHA256 of the id under the 削除情報等 key, 128 bits as hex."""
    return hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()[:32]


@dataclass
class PseudonymisationResult:
    data: pl.DataFrame
    manifest: dict[str, object]


def _municipality_or_none(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return municipality_of(value)[1]
    except HierarchyError:
        return None


def pseudonymise(
    df: pl.DataFrame,
    *,
    keys: KeySource,
    key_name: str = DEFAULT_KEY_NAME,
    id_columns: Sequence[str] = (),
    drop: Sequence[str] = (),
    keep: Sequence[str] = (),
    now: datetime | None = None,
) -> PseudonymisationResult:
    """Create 仮名加工情報 from a customer table (R-41-1) with the id pseudonymised under ``key_name`` (R-41-2)."""
    plan = classify_columns(df, id_columns=id_columns, drop=drop, keep=keep)
    key = keys.system_key(key_name)
    exprs: list[pl.Expr] = []
    for col in df.columns:
        if col in plan.ids:
            exprs.append(
                pl.col(col)
                .cast(pl.String)
                .map_elements(lambda v: pseudonym(key, v), return_dtype=pl.String)
                .alias(col)
            )
        elif col in plan.addresses:
            exprs.append(
                pl.col(col)
                .cast(pl.String)
                .map_elements(_municipality_or_none, return_dtype=pl.String)
                .alias(col)
            )
        elif col in plan.kept:
            exprs.append(pl.col(col))
    out = df.select(exprs) if exprs else pl.DataFrame()
    created = (now or datetime.now(UTC)).astimezone(UTC)
    manifest: dict[str, object] = {
        "kind": KIND_JA,
        "kind_en": KIND_EN,
        "rule_ids": list(RULES),
        "created_at": created.isoformat(),
        "rows": out.height,
        "columns": out.columns,
        "removed": {
            "identifying_descriptions": list(plan.identifying),
            "identification_codes": list(plan.identification_codes),
            "payment": list(plan.payment),
        },
        "replaced": {
            **{c: "HMAC-SHA256 pseudonym (R-41-1)" for c in plan.ids},
            **{c: "市区町村 only (R-41-1)" for c in plan.addresses},
        },
        "key_name": key_name,
        "restrictions": {
            "R-41-3": "特定した利用目的の範囲内でのみ利用（変更時は公表）",
            "R-41-4": "第三者提供禁止（法令に基づく場合・委託・事業承継・共同利用を除く）",
            "R-41-5": "本人の識別のための照合、連絡先を用いた連絡は禁止",
            "R-41-6": "不要となった時は本データと削除情報等を遅滞なく消去（努力義務）",
        },
    }
    return PseudonymisationResult(out, manifest)


def identity_columns(columns: Iterable[str]) -> list[str]:
    """Columns whose names mark identity or contact data (used by the R-41-5 join check)."""
    out = []
    for col in columns:
        n = _norm(col)
        if _IDENTIFYING.search(n) or _ID_CODE.search(n) or _ADDRESS.search(n) or _PAYMENT.search(n):
            out.append(col)
    return out
