"""Input and output shapes of the processors slice."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from mamori.customers.schemas import FIELD_CATEGORIES
from mamori.kernel.schemas import InputModel
from mamori.kernel.validation import Invalid

# R-25-1 (contract): what a 委託契約 must state before the contract may run (GL-T 3-4-4, Q&A 7-8).
CLAUSES: tuple[str, ...] = (
    "confidentiality",  # 秘密保持
    "purpose_limitation",  # 目的外利用の禁止
    "security_measures",  # 安全管理措置の内容
    "subcontract_approval",  # 再委託の事前承認
    "breach_notice",  # 漏えい等の報告義務
    "return_or_deletion",  # 契約終了時の返却・削除
    "audit_right",  # 委託元による監査・報告徴収の権利
)
# R-25-1 (selection): the outsourcee's measures must be at least equal to ours under each GL-T 10 item.
EVALUATION_ITEMS: tuple[str, ...] = (
    "basic_policy",  # 10-1 基本方針の策定
    "handling_rules",  # 10-2 個人データの取扱いに係る規律の整備
    "organisational",  # 10-3 組織的安全管理措置
    "human",  # 10-4 人的安全管理措置
    "physical",  # 10-5 物理的安全管理措置
    "technical",  # 10-6 技術的安全管理措置
    "external_environment",  # 10-7 外的環境の把握
)
ITEM_VERDICTS = ("meets", "falls_short")
# Customer field names a contract may cover (the customers slice's FIELD_CATEGORIES, plus attr:<key>).
CONTRACT_FIELDS: tuple[str, ...] = tuple(FIELD_CATEGORIES)
# Fields a handover file can carry (activities are reached only through the operator's scoped reads).
HANDOVER_FIELDS = tuple(f for f in CONTRACT_FIELDS if f != "activities")
AUDIT_METHODS = ("on_site", "document", "questionnaire", "remote")
CONTRACT_STATUSES = ("draft", "active", "suspended", "ended")
PURPOSE_CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
ATTR_FIELD = re.compile(r"^attr:[a-z0-9][a-z0-9_.-]{0,63}$")
ID = re.compile(r"^[0-9a-f]{32}$")
EARLIEST = date(2000, 1, 1)  # contract dates outside this range are typing mistakes
LATEST = date(2999, 12, 31)


def check_field_name(name: str) -> str:
    if name not in CONTRACT_FIELDS and not ATTR_FIELD.match(name):
        raise Invalid(
            f"不明な項目です（{'、'.join(CONTRACT_FIELDS)} 又は attr:<キー>）",
            f"unknown field ({', '.join(CONTRACT_FIELDS)} or attr:<key>)",
        )
    return name


class ContractCreate(InputModel):
    counterparty_id: str = Field(pattern=r"^[0-9a-f]{32}$")
    work: str = Field(min_length=1, max_length=500)
    purposes: list[str] = Field(min_length=1, max_length=20)
    fields: list[str] = Field(min_length=1, max_length=60)
    clauses: list[str] = Field(default_factory=list, max_length=len(CLAUSES))
    starts_on: date
    ends_on: date
    activity_write: bool = False
    reference: str | None = Field(default=None, max_length=200)

    @field_validator("purposes")
    @classmethod
    def _purposes(cls, v: list[str]) -> list[str]:
        for code in v:
            if not PURPOSE_CODE.match(code):
                raise Invalid(
                    "利用目的のコードは英小文字・数字・_ - で指定してください",
                    "purposes: lower-case purpose codes (letters, digits, _ -)",
                )
        return sorted(set(v))

    @field_validator("fields")
    @classmethod
    def _fields(cls, v: list[str]) -> list[str]:
        for name in v:
            check_field_name(name)
        return sorted(set(v))

    @field_validator("clauses")
    @classmethod
    def _clauses(cls, v: list[str]) -> list[str]:
        for c in v:
            if c not in CLAUSES:
                raise Invalid(
                    f"不明な契約条項です（{'、'.join(CLAUSES)}）", f"unknown clause ({', '.join(CLAUSES)})"
                )
        return sorted(set(v))

    @model_validator(mode="after")
    def _dates(self) -> ContractCreate:
        if self.ends_on < self.starts_on:
            raise Invalid("終了日は開始日より前にできません", "ends_on must not be before starts_on")
        if self.starts_on < EARLIEST or self.ends_on > LATEST:
            raise Invalid(
                f"日付は {EARLIEST} から {LATEST} までです", f"dates must lie between {EARLIEST} and {LATEST}"
            )
        return self


class EvaluationIn(InputModel):
    items: dict[str, Literal["meets", "falls_short"]]
    note: str | None = Field(default=None, max_length=1000)

    @field_validator("items")
    @classmethod
    def _items(cls, v: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(v) - set(EVALUATION_ITEMS))
        if unknown:
            raise Invalid(
                f"不明な評価項目です（{'、'.join(EVALUATION_ITEMS)}）",
                f"unknown evaluation item ({', '.join(EVALUATION_ITEMS)})",
            )
        missing = [i for i in EVALUATION_ITEMS if i not in v]
        if missing:
            raise Invalid(
                "安全管理措置（通則ガイドライン10）の全項目を評価してください: " + "、".join(missing),
                "every GL-T 10 item must be evaluated: " + ", ".join(missing),
            )
        return v


class EndIn(InputModel):
    disposal: Literal["returned", "deleted"]
    evidence: str = Field(min_length=1, max_length=200)  # certificate / report reference


class CustomersIn(InputModel):
    customer_ids: list[str] = Field(default_factory=list, max_length=100_000)
    purpose: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")

    @field_validator("customer_ids")
    @classmethod
    def _ids(cls, v: list[str]) -> list[str]:
        for cid in v:
            if not ID.match(cid):
                raise Invalid("顧客IDは32桁の16進数です", "customer ids are 32 hex characters")
        return list(dict.fromkeys(v))

    @model_validator(mode="after")
    def _one(self) -> CustomersIn:
        if bool(self.customer_ids) == bool(self.purpose):
            raise Invalid(
                "顧客IDか利用目的のどちらかを指定してください", "give either customer_ids or purpose"
            )
        return self


class AuditScheduleIn(InputModel):
    due_on: date
    method: Literal["on_site", "document", "questionnaire", "remote"] = "document"


class AuditResultIn(InputModel):
    result: Literal["passed", "failed"]
    performed_on: date
    findings: str | None = Field(default=None, max_length=1000)


class RemedyIn(InputModel):
    remedy: str = Field(min_length=1, max_length=1000)


class SubcontractIn(InputModel):
    subcontractor: str = Field(min_length=1, max_length=200)
    country: str = Field(default="JP", pattern=r"^[A-Z]{2}$")
    work: str = Field(min_length=1, max_length=500)
    methods: str = Field(min_length=1, max_length=1000)


class DecisionIn(InputModel):
    note: str | None = Field(default=None, max_length=500)


class OperatorCreate(InputModel):
    username: str = Field(pattern=r"^[a-z][a-z0-9_.-]{1,63}$")
    display_name: str = Field(min_length=1, max_length=128)


class HandoverIn(InputModel):
    fields: list[str] | None = Field(default=None, max_length=60)  # None: every field the contract covers

    @field_validator("fields")
    @classmethod
    def _fields(cls, v: list[str] | None) -> list[str] | None:
        if v is None:
            return None
        for name in v:
            check_field_name(name)
        return sorted(set(v))


# -- outputs -------------------------------------------------------------------------------------------------


class EvaluationRead(BaseModel):
    id: str
    items: dict[str, str]
    result: str
    note: str | None
    evaluated_at: datetime
    evaluated_by: str


class AuditRead(BaseModel):
    id: str
    contract_id: str
    method: str
    due_on: date
    performed_on: date | None
    result: str | None
    findings: str | None
    remedied_at: datetime | None
    remedy: str | None
    overdue: bool


class SubcontractRead(BaseModel):
    id: str
    contract_id: str
    subcontractor: str
    country: str
    work: str
    methods: str
    status: str
    requested_at: datetime
    requested_by: str
    decided_at: datetime | None
    decided_by: str | None
    decision_note: str | None


class ContractRead(BaseModel):
    id: str
    counterparty_id: str
    outsourcee: str
    country: str | None
    work: str
    purposes: list[str]
    fields: list[str]
    clauses: list[str]
    missing_clauses: list[str]
    activity_write: bool
    starts_on: date
    ends_on: date
    reference: str | None
    status: str
    evaluation: str | None  # passed / failed / None (not evaluated)
    customers: int
    operators: int
    overdue_audits: int
    next_audit_due: date | None
    created_at: datetime
    activated_at: datetime | None
    ended_at: datetime | None
    end_disposal: str | None
    end_evidence: str | None


class ContractDetail(ContractRead):
    evaluations: list[EvaluationRead]
    audits: list[AuditRead]
    subcontracts: list[SubcontractRead]


class CoverageRead(BaseModel):
    contract_id: str
    added: int
    unknown: int  # ids given that do not exist or were erased (not added)
    total: int


class OperatorRead(BaseModel):
    staff_id: str
    username: str
    display_name: str
    contract_id: str
    active: bool
    mfa_enrolled: bool
    linked_at: datetime


class HandoverRecord(BaseModel):
    id: str
    contract_id: str
    fields: list[str]
    customer_count: int
    withheld_count: int
    withheld_rules: dict[str, int]  # rule id → number of customers left out for it
    method: str
    handed_at: datetime
    handed_by: str


class Handover(BaseModel):
    record: HandoverRecord
    rows: list[dict[str, str | None]] = Field(repr=False)  # customer_id + the contract's fields


# -- request and response bodies of the REST API (api.py) ------------------------------------------------------


class CustomerIds(BaseModel):
    contract_id: str
    customer_ids: list[str]
