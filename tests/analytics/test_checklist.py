"""Seed 002's practical checklist evaluated from the system's state (issue 24, item 5): each answer moves when the
state behind it changes — an unpublished notice, an overdue outsourcee audit, an overdue request, a missing backup,
a tampered audit log, accounts without their second factor, no retention rule, no storage location — and says
where its figures come from; incident drills are ``manual`` (not recorded anywhere). Only the privacy officer and
the administrator may run it; sales, support and the analyst are refused (R-23-2). Synthetic data only."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import update
from typer.testing import CliRunner

from mamori import composition
from mamori.analytics.kpi_schemas import ChecklistReport
from mamori.analytics.service import checklist as checklist_service
from mamori.inventory import service as inventory_service
from mamori.inventory.schemas import LocationIn
from mamori.kernel.audit.models import AuditEntryRow
from mamori.kernel.auditing import record_info
from mamori.kernel.context import SYSTEM_ACTOR, Actor
from mamori.kernel.db import make_engine, new_id
from mamori.kernel.errors import PolicyDenied
from mamori.kernel.policy import Category
from mamori.kernel.runtime import Runtime
from mamori.kernel.settings import reset_settings_cache
from mamori.lifecycle.retention_schemas import RuleCreate
from mamori.lifecycle.service import retention
from mamori.notice import service as notice_service
from mamori.processors.models import ProcessorAudit, ProcessorContract
from mamori.provision.models import Counterparty
from mamori.purposes import service as purposes_service
from mamori.rights.models import RightsRequest
from mamori.staff.models import StaffUser
from mamori.staff.service import training
from tests.analytics.test_kpi import cli_app, mounted_api
from tests.factories import PURPOSES, point_env_at, seed_basics

NOTICE_SETTINGS = {
    "operator_name": "架空商事株式会社",
    "operator_address": "東京都千代田区丸の内1-1-1",
    "operator_representative": "代表取締役 架空一郎",
    "privacy_contact": "個人情報お問い合わせ窓口 03-0000-0000",
    "fee_payment": "郵便為替",
}


@pytest.fixture
def rt(settings_factory: Any, clock: Any, tmp_path: Any) -> Iterator[Runtime]:
    """A store whose operator settings are filled in (the published notice has no placeholder)."""
    composition.register_all()
    measures = tmp_path / "security-measures.txt"
    measures.write_text("基本方針の策定\n従業者の教育\n", encoding="utf-8")
    runtime = Runtime(settings_factory(**NOTICE_SETTINGS, security_measures_file=measures), clock=clock)
    runtime.init()
    yield runtime
    runtime.close()


@pytest.fixture
def actors(rt: Runtime) -> dict[str, Actor]:
    return seed_basics(rt)


def run(rt: Runtime, actor: Actor) -> ChecklistReport:
    with rt.transaction(actor) as ctx:
        return checklist_service.checklist(ctx)


def item(report: ChecklistReport, item_id: str) -> Any:
    return next(i for i in report.items if i.id == item_id)


def said(found: Any) -> str:
    return "\n".join(f.ja for f in found.evidence)


def test_the_questions_of_seed_002_each_with_evidence_and_rules(rt: Runtime, actors: Any) -> None:
    report = run(rt, actors["po"])
    assert [i.id for i in report.items] == [
        "purposes_published",
        "data_map",
        "least_privilege",
        "encryption",
        "backups",
        "audit_logs",
        "outsourcee_oversight",
        "requests_and_consent",
        "incident_response",
        "retention",
    ]
    for i in report.items:
        assert i.question_ja and i.question_en and i.evidence and i.rule_ids, i.id
        assert all(f.ja and f.en for f in i.evidence), i.id
    assert sum(report.counts.values()) == len(report.items)
    assert item(report, "incident_response").status == "manual"  # drills are not recorded anywhere
    assert "演習" in said(item(report, "incident_response"))
    assert item(report, "encryption").status == "ok" and "環境変数" in said(item(report, "encryption"))
    entry = rt.audit.search(action="analytics.checklist", limit=1)[0]
    assert entry.details["items"] == 10 and entry.details["manual"] == report.counts["manual"]


def test_purposes_published_flips_from_ng_to_ok_and_to_attention_when_a_purpose_changes(
    rt: Runtime, actors: Any
) -> None:
    po = actors["po"]
    found = item(run(rt, po), "purposes_published")
    assert found.status == "ng" and "公表されていません" in said(found)
    assert f"登録簿の利用目的 {len(PURPOSES)} 件" in said(found)
    with rt.transaction(po) as ctx:
        published = notice_service.publish(ctx)
    found = item(run(rt, po), "purposes_published")
    assert found.status == "ok", said(found)
    assert f"v{published.version}" in said(found) and "一致" in said(found)
    changed = PURPOSES["contract"].model_copy(update={"text_ja": "商品の発送と代金の請求に利用します。"})
    with rt.transaction(po) as ctx:
        purposes_service.revise(ctx, changed)
    found = item(run(rt, po), "purposes_published")
    assert found.status == "attention" and "異なります" in said(found)


def _contract(rt: Runtime, due: date, performed: date | None) -> str:
    with rt.transaction(SYSTEM_ACTOR) as ctx:
        now = ctx.clock.now()
        cp = Counterparty(
            id=new_id(),
            kind="outsourcee",
            name="架空配送株式会社",
            address="東京都港区1-1",
            representative="代表取締役",
            country="JP",
            created_at=now,
            created_by="test",
            updated_at=now,
        )
        ctx.session.add(cp)
        ctx.session.flush()
        contract = ProcessorContract(
            id=new_id(),
            counterparty_id=cp.id,
            work="商品の配送",
            purposes=["contract"],
            fields=["name", "address"],
            clauses=[],
            starts_on=date(2025, 1, 1),
            ends_on=date(2027, 12, 31),
            status="active",
            created_at=now,
            created_by="test",
        )
        ctx.session.add(contract)
        ctx.session.flush()
        audit = ProcessorAudit(
            id=new_id(),
            contract_id=contract.id,
            method="on_site",
            due_on=due,
            scheduled_at=now,
            scheduled_by="test",
            performed_on=performed,
            result="passed" if performed else None,
        )
        ctx.session.add(audit)
        return audit.id


def test_an_overdue_outsourcee_audit_is_ng_until_it_is_performed(rt: Runtime, actors: Any) -> None:
    found = item(run(rt, actors["po"]), "outsourcee_oversight")
    assert found.status == "ok" and "委託先はありません" in said(found)
    audit_id = _contract(rt, date(2026, 10, 1), None)  # the clock: 2026-11-23
    found = item(run(rt, actors["po"]), "outsourcee_oversight")
    assert found.status == "ng" and "期限を過ぎた未実施の監査 1 件" in said(found)
    with rt.transaction(SYSTEM_ACTOR) as ctx:
        ctx.session.execute(
            update(ProcessorAudit)
            .where(ProcessorAudit.id == audit_id)
            .values(performed_on=date(2026, 11, 20), result="passed")
        )
    found = item(run(rt, actors["admin"]), "outsourcee_oversight")
    assert found.status == "ok" and "期限を過ぎた未実施の監査 0 件" in said(found)


def test_a_contract_with_no_audit_done_or_planned_needs_attention(rt: Runtime, actors: Any) -> None:
    _contract(rt, date(2024, 1, 10), date(2024, 1, 5))  # the last audit was long ago; none planned
    found = item(run(rt, actors["po"]), "outsourcee_oversight")
    assert found.status == "attention" and "予定もない有効な契約 1 件" in said(found)


def test_an_overdue_request_is_ng_until_answered(rt: Runtime, actors: Any) -> None:
    rid = new_id()
    with rt.transaction(SYSTEM_ACTOR) as ctx:
        ctx.session.add(
            RightsRequest(
                id=rid,
                receipt_no="R-2026-000001",
                kind="disclosure",
                regime="appi",
                regime_source="default",
                channel="web",
                status="verified",
                received_at=datetime(2026, 11, 1, tzinfo=UTC),
                due_on=date(2026, 11, 15),
                created_by="test",
            )
        )
    found = item(run(rt, actors["po"]), "requests_and_consent")
    assert found.status == "ng" and "回答期限を過ぎた未回答 1 件" in said(found)
    with rt.transaction(SYSTEM_ACTOR) as ctx:
        ctx.session.execute(
            update(RightsRequest)
            .where(RightsRequest.id == rid)
            .values(answered_at=datetime(2026, 11, 22, tzinfo=UTC))
        )
    found = item(run(rt, actors["po"]), "requests_and_consent")
    assert found.status == "ok" and "未完了の請求 1 件" in said(found)


def test_backups_need_attention_until_one_is_recorded(rt: Runtime, actors: Any) -> None:
    found = item(run(rt, actors["admin"]), "backups")
    assert found.status == "attention" and "記録が監査ログにありません" in said(found)
    with rt.transaction(actors["admin"]) as ctx:
        record_info(ctx, "store.backup", details={"with_keystore": False})
    found = item(run(rt, actors["admin"]), "backups")
    assert found.status == "ok" and "0.0 日前" in said(found)
    rt.clock.advance(timedelta(days=8))
    found = item(run(rt, actors["admin"]), "backups")
    assert found.status == "attention" and "7 日より古く" in said(found)


def test_the_audit_log_verifies_then_fails_after_tampering(
    rt: Runtime, actors: Any, monkeypatch: Any
) -> None:
    found = item(run(rt, actors["admin"]), "audit_logs")
    assert found.status == "ok" and "検証しました" in said(found)
    monkeypatch.setattr(checklist_service, "FULL_VERIFY_MAX_ENTRIES", 0)  # a log too large to recompute here
    found = item(run(rt, actors["admin"]), "audit_logs")
    assert found.status == "manual" and "mamori audit verify" in said(found)
    monkeypatch.undo()
    owner_url = rt.settings.migration_audit_url  # PostgreSQL: the app role may only append; the owner edits
    attacker = make_engine(owner_url) if owner_url else rt.audit_engine
    with attacker.begin() as conn:
        conn.execute(update(AuditEntryRow).where(AuditEntryRow.seq == 2).values(action="tampered"))
    if owner_url:
        attacker.dispose()
    found = item(run(rt, actors["admin"]), "audit_logs")
    assert found.status == "ng" and "検証に失敗" in said(found)


def test_least_privilege_needs_second_factors_and_the_training_requirement(rt: Runtime, actors: Any) -> None:
    found = item(run(rt, actors["admin"]), "least_privilege")
    assert found.status == "attention"
    text = said(found)
    assert "admin 1" in text and "sales 2" in text and "analyst 1" in text  # accounts per role
    assert "二要素認証が必要な役割で未登録のアカウント" in text and "未適用" in text
    assert "職務の分離" in text  # the admin role holds no personal-data action
    with rt.transaction(SYSTEM_ACTOR) as ctx:
        ctx.session.execute(update(StaffUser).values(totp_secret_enc=b"enrolled"))  # every account enrolled
    with rt.transaction(actors["po"]) as ctx:
        training.set_policy(ctx, True)  # no required course, no pledge published: everyone is current
    found = item(run(rt, actors["admin"]), "least_privilege")
    assert found.status == "ok", said(found)
    assert "適用中" in said(found) and "切れている担当者 0 人" in said(found)


def test_retention_is_ng_without_rules_and_checked_against_the_plan(rt: Runtime, actors: Any) -> None:
    found = item(run(rt, actors["po"]), "retention")
    assert found.status == "ng" and "ルール 0 件" in said(found)
    with rt.transaction(actors["po"]) as ctx:
        retention.add_rule(ctx, RuleCreate(purpose="*", days=365 * 5, basis="last_activity"))
    found = item(run(rt, actors["po"]), "retention")
    assert found.status == "ok" and "今廃棄の対象 0 人" in said(found)
    found = item(run(rt, actors["admin"]), "retention")  # the plan is the privacy officer's
    assert found.status == "manual" and "権限がない" in said(found)


def test_the_data_map_item_needs_storage_locations(rt: Runtime, actors: Any) -> None:
    found = item(run(rt, actors["po"]), "data_map")
    assert found.status == "ng" and "登録された保管場所 0 件" in said(found)
    with rt.transaction(actors["po"]) as ctx:
        inventory_service.add_location(
            ctx,
            LocationIn(
                code="main-db",
                name="顧客データベース",
                kind="database",
                operator="自社",
                categories=[c for c in Category],
            ),
        )
    found = item(run(rt, actors["po"]), "data_map")
    assert found.status in ("ok", "attention") and "登録された保管場所 1 件" in said(found)
    assert "保管場所が未登録の利用目的" not in said(found)


@pytest.mark.parametrize("who", ["sato", "support", "analyst"])
def test_other_roles_are_refused(rt: Runtime, actors: Any, who: str) -> None:
    with pytest.raises(PolicyDenied) as refused:
        run(rt, actors[who])
    assert refused.value.rule_id == "R-23-2"
    denied = rt.audit.search(action="analytics.governance", decision="deny", limit=1)[0]
    assert denied.actor == actors[who].label
    assert rt.audit.search(action="analytics.checklist", limit=1) == []


# -- CLI and API ------------------------------------------------------------------------------------------------------


@pytest.fixture
def cli(rt: Runtime, actors: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    point_env_at(monkeypatch, rt.settings, **{f"MAMORI_{k.upper()}": v for k, v in NOTICE_SETTINGS.items()})
    runner = CliRunner()
    app = cli_app()

    def invoke(user: str, *args: str) -> Any:
        return runner.invoke(app, ["--as", user, "analytics", "checklist", *args])

    yield invoke
    reset_settings_cache()


def test_cli_checklist(cli: Any) -> None:
    r = cli("po", "--json")
    assert r.exit_code == 0, r.output
    got = json.loads(r.stdout)
    assert len(got["items"]) == 10 and got["items"][0]["status"] == "ng"
    r = cli("admin")
    assert r.exit_code == 0 and "実務チェックリスト" in r.stdout and "人が確認" in r.stdout
    for who in ("sato", "support", "analyst"):
        r = cli(who)
        assert r.exit_code == PolicyDenied.exit_code and "R-23-2" in r.stderr
        assert len(r.stderr.strip().splitlines()) == 1


def test_api_checklist(runtime: Runtime) -> None:
    api = mounted_api(runtime)
    po, _ = api.client("po")
    r = po.get("/api/v1/analytics/checklist")
    assert r.status_code == 200, r.text
    assert {i["id"] for i in r.json()["items"]} >= {"purposes_published", "incident_response"}
    for who in ("sato", "support", "analyst"):
        c, _ = api.client(who)
        r = c.get("/api/v1/analytics/checklist")
        assert r.status_code == 403 and r.json()["rule_id"] == "R-23-2"
