"""The register (R-26-1, R-26-2, R-26-3): change with a version guard, narrative without personal data, filings,
closing, what a member of staff registered, the board sorted by the nearest deadline."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from mamori.incidents.board_schemas import CloseIn
from mamori.incidents.schemas import IncidentIn, IncidentUpdate
from mamori.incidents.service import register as service
from mamori.kernel.errors import Conflict, PolicyDenied, ValidationFailed
from tests.incidents.support import KNOWN_AT, new_incident, seed_basics


@pytest.fixture
def actors(runtime):
    return seed_basics(runtime)


def _update(runtime, actor, key, **fields):
    with runtime.transaction(actor) as ctx:
        return service.update(ctx, key, IncidentUpdate.model_validate(fields))


def _audit(runtime, action):
    return [e for e in runtime.audit.tail(200) if e.action == action]


def test_update_changes_the_fields_given_bumps_the_version_and_audits_field_names_only(runtime, actors):
    inc = new_incident(runtime, actors["sato"])
    read = _update(
        runtime,
        actors["po"],
        inc.ref,
        expect_version=1,
        cause="misconfiguration",
        prevention="設定の二重確認",
    )
    assert (read.cause, read.prevention, read.version) == ("misconfiguration", "設定の二重確認", 2)
    entry = _audit(runtime, "incident.update")[-1]
    assert entry.details["incident_id"] == inc.id and entry.details["changed"] == "cause,prevention"
    assert "設定" not in str(entry.details)


def test_a_stale_version_is_a_conflict(runtime, actors):
    inc = new_incident(runtime, actors["po"])
    _update(runtime, actors["po"], inc.id, title="別の表題")
    with pytest.raises(Conflict):
        _update(runtime, actors["po"], inc.id, expect_version=1, title="古い版からの変更")


@pytest.mark.parametrize(
    ("field", "text"),
    [
        ("cause_detail", "山田太郎さんのメールアドレスを誤送信"),
        ("prevention", "連絡先 090-1234-5678 に確認"),
        ("other", "taro.yamada@example.jp へ送付した"),
        ("title", "鈴木一郎の書類を紛失"),
    ],
)
def test_personal_data_in_a_narrative_field_is_refused_without_echoing_it(runtime, actors, field, text):
    inc = new_incident(runtime, actors["po"])
    with pytest.raises(ValidationFailed) as err:
        _update(runtime, actors["po"], inc.id, **{field: text})
    assert err.value.code == "personal_data_in_text" and err.value.details["fields"] == [field]
    assert (
        text not in err.value.message_ja
        and text not in err.value.message_en
        and text not in str(err.value.details)
    )


def test_registering_with_personal_data_in_the_title_is_refused(runtime, actors):
    data = IncidentIn.model_validate(
        {
            "title": "taro.yamada@example.jp への誤送信",
            "kind": "leak",
            "known_at": KNOWN_AT,
            "known_by": "営業部",
            "discovered_by": "営業部",
            "cause": "misdelivery",
        }
    )
    with runtime.transaction(actors["sato"]) as ctx, pytest.raises(ValidationFailed):
        service.register(ctx, data)


def test_sensitive_words_describing_the_data_are_allowed(runtime, actors):
    inc = new_incident(runtime, actors["po"])
    read = _update(runtime, actors["po"], inc.id, secondary_damage="病歴を含む書類のため二次被害のおそれあり")
    assert read.secondary_damage


def test_the_encryption_exemption_needs_a_reason_R_26_1(runtime, actors):
    inc = new_incident(runtime, actors["po"])
    with pytest.raises(ValidationFailed) as err:
        _update(runtime, actors["po"], inc.id, encryption_exempt=True)
    assert err.value.rule_id == "R-26-1"
    read = _update(
        runtime,
        actors["po"],
        inc.id,
        encryption_exempt=True,
        encryption_reason="AES-256 で暗号化、鍵は別保管",
    )
    assert read.encryption_exempt


def test_wrongful_purpose_can_be_cleared_back_to_the_cause(runtime, actors):
    inc = new_incident(runtime, actors["po"])
    assert _update(runtime, actors["po"], inc.id, wrongful_purpose=True).wrongful_purpose is True
    assert _update(runtime, actors["po"], inc.id, wrongful_purpose=None).wrongful_purpose is None


def test_sales_cannot_edit_and_the_refusal_is_audited_R_23_2(runtime, actors):
    inc = new_incident(runtime, actors["sato"])
    with pytest.raises(PolicyDenied) as err:
        _update(runtime, actors["sato"], inc.id, title="変更")
    assert err.value.rule_id == "R-23-2"
    assert any(e.decision == "deny" and e.action == "incident.manage" for e in runtime.audit.tail(20))


def test_record_filing_and_the_deadlines_follow(runtime, actors, clock):
    inc = new_incident(runtime, actors["po"], cause="external_attack")  # wrongful: reportable
    clock.at = KNOWN_AT + timedelta(days=2)
    with runtime.transaction(actors["po"]) as ctx:
        assert service.detail(ctx, inc.id).deadlines.next_kind == "prelim"
        service.record_filing(ctx, inc.id, "prelim", KNOWN_AT + timedelta(days=1))
    with runtime.transaction(actors["po"]) as ctx:
        d = service.detail(ctx, inc.id).deadlines
        assert d.next_kind == "final" and d.final_days == 60 and d.final_due == date(2027, 2, 1)
        with pytest.raises(ValidationFailed):
            service.record_filing(ctx, inc.id, "final", clock.now() + timedelta(hours=1))
        with pytest.raises(ValidationFailed):
            service.record_filing(ctx, inc.id, "final", datetime(2026, 12, 4, 0, 0))  # naive
        with pytest.raises(ValidationFailed) as err:
            service.record_filing(ctx, inc.id, "entrustor")
        assert err.value.rule_id == "R-26-5"
    assert _audit(runtime, "incident.filing")[-1].details == {
        **_audit(runtime, "incident.filing")[-1].details,
        "incident_id": inc.id,
        "what": "prelim",
    }


def test_closing_a_reportable_incident_needs_the_final_report_or_force_with_a_reason_R_26_3(
    runtime, actors, clock
):
    inc = new_incident(runtime, actors["po"], cause="insider")
    with runtime.transaction(actors["po"]) as ctx, pytest.raises(Conflict) as err:
        service.close(ctx, inc.id)
    assert err.value.rule_id == "R-26-3"
    with runtime.transaction(actors["po"]) as ctx, pytest.raises(ValidationFailed):
        service.close(ctx, inc.id, CloseIn(force=True))
    with runtime.transaction(actors["po"]) as ctx:
        read = service.close(ctx, inc.id, CloseIn(force=True, reason="reported_outside"))
    assert read.status == "closed" and read.closed_by == actors["po"].label
    entry = _audit(runtime, "incident.close")[-1]
    assert entry.details["forced"] is True and entry.details["triggers"] == "wrongful"
    with runtime.transaction(actors["po"]) as ctx, pytest.raises(Conflict):
        service.update(ctx, inc.id, IncidentUpdate(title="終了後の変更"))


def test_a_non_reportable_incident_closes_without_force(runtime, actors):
    inc = new_incident(runtime, actors["po"], cause="loss_theft")
    with runtime.transaction(actors["po"]) as ctx:
        assert service.close(ctx, inc.id).status == "closed"


def test_mine_lists_what_the_caller_registered_only(runtime, actors):
    a = new_incident(runtime, actors["sato"])
    new_incident(runtime, actors["suzuki"])
    with runtime.transaction(actors["sato"]) as ctx:
        rows = service.mine(ctx)
    assert [r.id for r in rows] == [a.id] and rows[0].ref == a.ref and rows[0].status == "open"


def test_the_board_is_sorted_overdue_first_then_by_the_nearest_deadline(runtime, actors, clock):
    clock.at = datetime(2026, 12, 20, 1, 0, tzinfo=UTC)
    old = new_incident(
        runtime, actors["po"], cause="insider", known_at=datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
    )
    soon = new_incident(
        runtime, actors["po"], cause="insider", known_at=datetime(2026, 12, 18, 1, 0, tzinfo=UTC)
    )
    later = new_incident(
        runtime, actors["po"], cause="insider", known_at=datetime(2026, 12, 19, 1, 0, tzinfo=UTC)
    )
    quiet = new_incident(runtime, actors["po"], cause="loss_theft")  # not reportable: no deadline
    with runtime.transaction(actors["po"]) as ctx:
        rows = service.board(ctx)
    assert [r.id for r in rows] == [old.id, soon.id, later.id, quiet.id]
    assert rows[0].overdue == ["prelim"] and rows[0].days_left is not None and rows[0].days_left < 0
    assert rows[1].next_kind == "prelim" and rows[1].next_due_day == date(2026, 12, 22)
    assert rows[3].next_kind is None
    with runtime.transaction(actors["po"]) as ctx, pytest.raises(ValidationFailed):
        service.board(ctx, status="bogus")


def test_sales_cannot_read_the_board_and_it_is_audited_R_23_2(runtime, actors):
    with runtime.transaction(actors["sato"]) as ctx, pytest.raises(PolicyDenied) as err:
        service.board(ctx)
    assert err.value.rule_id == "R-23-2"
    assert any(e.decision == "deny" and e.action == "incident.read" for e in runtime.audit.tail(20))


def test_the_daily_reminder_lists_due_and_overdue_deadlines_without_personal_values(
    runtime, actors, clock, monkeypatch
):
    from mamori.incidents import jobs
    from mamori.kernel.mail.models import MailMessage

    clock.at = datetime(2026, 12, 8, 23, 0, tzinfo=UTC)  # 9 Dec 08:00 JST
    overdue = new_incident(
        runtime, actors["po"], cause="insider", known_at=datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
    )
    soon = new_incident(
        runtime, actors["po"], cause="insider", known_at=datetime(2026, 12, 7, 1, 0, tzinfo=UTC)
    )
    new_incident(
        runtime, actors["po"], cause="insider", known_at=datetime(2026, 12, 8, 1, 0, tzinfo=UTC)
    )  # day 5 = 12 Dec
    new_incident(runtime, actors["po"], cause="loss_theft")  # not reportable
    with runtime.transaction(actors["po"]) as ctx:
        rows = jobs.due_rows(ctx)
    assert [r.id for r in rows] == [overdue.id, soon.id]  # prelim 5 Dec overdue; 11 Dec within 2 days
    text = jobs.digest(date(2026, 12, 9), rows)
    assert overdue.ref in text and soon.ref in text and "期限超過" in text
    assert "在宅勤務中" not in text  # no narrative
    result = jobs.remind_job(runtime, job_run_id="r" * 32)
    assert result == {"due": 2, "overdue": 1, "queued": 0, "configured": False}
    monkeypatch.setattr(runtime.settings, "reminder_to", "privacy@example.jp, dpo@example.jp")
    result = jobs.remind_job(runtime, job_run_id="s" * 32)
    assert result["queued"] == 2
    with runtime.transaction(actors["po"], readonly=True) as ctx:
        session = getattr(ctx, "session", ctx)
        assert session.query(MailMessage).filter_by(topic="incidents.remind").count() == 2
    entry = _audit(runtime, "incident.reminded")[-1]
    assert entry.details["due"] == 2 and entry.details["job_run_id"] == "s" * 32
