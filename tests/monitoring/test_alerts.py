"""Alert handling (issue 25 "Deliver" 2): the queue, an alert and the audit entries behind it; look → dismiss with a
reason → closed for good; nobody handles an alert about themselves (R-23-2); roles without the actions refused and
audited; an incident opened from an alert carries the people the account read in the alert's window as its scope;
one digest mail for the high-severity alerts. No customer's value anywhere: the alerts name entries and counts.

The alert rows are written by the tests (the evaluation has its own tests), naming audit entries written by real
services or ``rt.audit.append``. Synthetic data only."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from mamori.incidents.models import Incident, IncidentSubject
from mamori.kernel.audit import AuditEntry
from mamori.kernel.context import SYSTEM_ACTOR, Actor, Role
from mamori.kernel.errors import Conflict, NotFound, PolicyDenied, ValidationFailed
from mamori.kernel.mail.models import MailMessage
from mamori.kernel.runtime import Runtime
from mamori.monitoring.models import DISMISSED, INCIDENT, LOOKING, NEW
from mamori.monitoring.service import alerts as service
from mamori.staff import service as staff_service
from mamori.staff.schemas import StaffCreate
from tests.factories import make_customer
from tests.monitoring.alert_support import (
    alert_row,
    entries_of,
    events_of,
    insert_alert,
    read_customer,
)

NAME, PHONE, EMAIL = "監視 試験子", "080-4321-9876", "shikenko@example.jp"


def as_(rt: Runtime, who: Actor, fn, *args, **kwargs):  # type: ignore[no-untyped-def]
    with rt.transaction(who) as ctx:
        return fn(ctx, *args, **kwargs)


def audit(rt: Runtime, action: str, decision: str | None = None) -> list:
    return [
        e for e in rt.audit.tail(400) if e.action == action and (decision is None or e.decision == decision)
    ]


@pytest.fixture
def reads(runtime: Runtime, actors: dict[str, Actor]) -> tuple[str, list[int]]:
    """sato creates a customer (a name and a phone to search for later) and opens the record twice: the customer's
    id and the two ``customer.read`` sequence numbers."""
    cid = make_customer(runtime, actors["sato"], name=NAME, phone=PHONE, email=EMAIL)
    read_customer(runtime, actors["sato"], cid)
    read_customer(runtime, actors["sato"], cid)
    seqs = [e.seq for e in entries_of(runtime, actors["sato"], "customer.read")]
    assert len(seqs) == 2
    return cid, seqs


def _no_value(text: str, cid: str) -> None:
    for value in (NAME, PHONE, EMAIL, cid, "試験子"):
        assert value not in text


# -- reading -----------------------------------------------------------------------------------------------------


def test_the_queue_is_newest_first_with_counts_and_filters(runtime, actors, reads):
    cid, seqs = reads
    sato = actors["sato"].label
    first = insert_alert(runtime, sato, signal="denials", severity="medium", observed=14, threshold=10)
    second = insert_alert(runtime, sato, seqs=seqs)
    got = as_(runtime, actors["po"], service.list_alerts)
    assert [a.ref for a in got.alerts] == ["ALT-0002", "ALT-0001"]
    assert [a.id for a in got.alerts] == [second, first]
    assert got.counts == {"new": 2, "looking": 0, "dismissed": 0, "incident": 0, "open": 2}
    assert got.next_before is None
    assert got.alerts[0].actor_username == "sato" and got.alerts[0].signal_name == "閲覧件数の急増"
    assert got.alerts[0].entries_total == 2 and got.alerts[0].entries_named == 2
    only = as_(runtime, actors["po"], service.list_alerts, signal="denials")
    assert [a.ref for a in only.alerts] == ["ALT-0001"] and only.counts["new"] == 1
    assert as_(runtime, actors["po"], service.list_alerts, severity="high").counts["open"] == 1
    assert as_(runtime, actors["po"], service.list_alerts, status="dismissed").alerts == []
    page = as_(runtime, actors["po"], service.list_alerts, limit=1)
    assert [a.ref for a in page.alerts] == ["ALT-0002"] and page.next_before == 2
    older = as_(runtime, actors["po"], service.list_alerts, limit=1, before=2)
    assert [a.ref for a in older.alerts] == ["ALT-0001"] and older.next_before is None
    listed = audit(runtime, "monitoring.read", "allow")
    assert listed and listed[-1].subject_ids == () and listed[-1].details["count"] == 1
    _no_value(got.model_dump_json(), cid)


@pytest.mark.parametrize(
    "kw", [{"status": "closed"}, {"signal": "gossip"}, {"severity": "urgent"}, {"limit": 0}, {"before": 0}]
)
def test_a_bad_filter_is_refused_without_the_value(runtime, actors, kw):
    with pytest.raises(ValidationFailed) as err:
        as_(runtime, actors["po"], service.list_alerts, **kw)
    assert err.value.code == "bad_filter"
    assert str(next(iter(kw.values()))) not in err.value.message_ja + err.value.message_en


def test_an_alert_by_id_or_number_and_the_entries_behind_it(runtime, actors, reads):
    cid, seqs = reads
    alert_id = insert_alert(runtime, actors["sato"].label, seqs=seqs)
    for key in (alert_id, "ALT-0001", "alt-0001", "1"):
        assert as_(runtime, actors["po"], service.get, key).alert.id == alert_id
    detail = as_(runtime, actors["po"], service.get, "ALT-0001")
    assert [e.action for e in detail.events] == ["raised"]
    got = as_(runtime, actors["po"], service.entries, "ALT-0001")
    assert [e.seq for e in got.entries] == seqs
    assert {e.action for e in got.entries} == {"customer.read"}
    assert {e.subjects for e in got.entries} == {1}
    assert all(e.purpose == "contract" and e.decision == "allow" for e in got.entries)
    assert "name" in got.entries[0].fields and got.entries[0].action_label == "顧客情報の閲覧"
    _no_value(detail.model_dump_json() + got.model_dump_json(), cid)
    read = audit(runtime, "monitoring.read", "allow")[-1]
    assert read.details["what"] == "entries" and read.details["alert_id"] == alert_id
    assert read.details["count"] == 2 and read.subject_ids == ()
    with pytest.raises(NotFound) as err:
        as_(runtime, actors["po"], service.get, "ALT-0099")
    assert err.value.code == "alert_not_found"


# -- handling ----------------------------------------------------------------------------------------------------


def test_look_then_dismiss_and_a_dismissed_alert_stays_dismissed(runtime, actors, reads):
    _, seqs = reads
    alert_id = insert_alert(runtime, actors["sato"].label, seqs=seqs)
    looked = as_(runtime, actors["po"], service.look, "ALT-0001")
    assert looked.status == LOOKING and looked.handled_by == actors["po"].label
    with pytest.raises(Conflict) as err:
        as_(runtime, actors["po"], service.look, "ALT-0001")
    assert err.value.code == "alert_already_looking"
    done = as_(runtime, actors["po"], service.dismiss, "ALT-0001", "false_positive")
    assert done.status == DISMISSED and done.dismiss_reason == "false_positive" and done.dismiss_note is None
    for call, args in (
        (service.dismiss, ("business_need",)),
        (service.look, ()),
        (service.open_incident, ()),
    ):
        with pytest.raises(Conflict) as err:
            as_(runtime, actors["po"], call, "ALT-0001", *args)
        assert err.value.code == "alert_closed"
    row = alert_row(runtime, alert_id)
    assert row.status == DISMISSED and row.dismiss_reason == "false_positive" and row.incident_id is None
    assert events_of(runtime, alert_id) == [("raised", None), ("look", None), ("dismiss", "false_positive")]
    look_entry = audit(runtime, "monitoring.alert_look")[-1]
    assert look_entry.details["alert_id"] == alert_id and look_entry.details["signal"] == "read_volume"
    assert look_entry.rule_ids == ("R-23-2",)
    dismissed = audit(runtime, "monitoring.alert_dismiss")
    assert len(dismissed) == 1 and dismissed[0].details["reason"] == "false_positive"


def test_a_dismissal_needs_a_known_reason_and_a_note_without_personal_data(runtime, actors):
    insert_alert(runtime, actors["sato"].label)
    po = actors["po"]
    with pytest.raises(ValidationFailed) as err:
        as_(runtime, po, service.dismiss, "1", "boredom")
    assert "boredom" not in err.value.message_ja + err.value.message_en
    with pytest.raises(ValidationFailed) as err:
        as_(runtime, po, service.dismiss, "1", "other", "  ")
    assert err.value.code == "note_required"
    with pytest.raises(ValidationFailed) as err:
        as_(runtime, po, service.dismiss, "1", "other", f"{NAME}さん（{PHONE}）に確認した")
    assert err.value.code == "personal_data_in_text" and err.value.details["fields"] == ["note"]
    assert NAME not in err.value.message_ja and PHONE not in err.value.message_ja
    with pytest.raises(ValidationFailed):
        as_(runtime, po, service.dismiss, "1", "other", "x" * 1001)
    assert as_(runtime, po, service.get, "1").alert.status == NEW  # nothing changed by the refusals
    done = as_(runtime, po, service.dismiss, "1", "other", "月末の締め作業で一覧を確認したため")
    assert done.dismiss_note == "月末の締め作業で一覧を確認したため"
    entry = audit(runtime, "monitoring.alert_dismiss")[-1]
    assert entry.details["reason"] == "other" and entry.details["note"] is True
    assert "月末" not in json.dumps(entry.details, ensure_ascii=False)


def test_nobody_handles_an_alert_about_themselves_R_23_2(runtime, actors):
    po = actors["po"]
    alert_id = insert_alert(runtime, po.label, role="privacy_officer")
    for call, args in (
        (service.look, ()),
        (service.dismiss, ("business_need",)),
        (service.open_incident, ()),
    ):
        with pytest.raises(PolicyDenied) as err:
            as_(runtime, po, call, alert_id, *args)
        assert err.value.rule_id == "R-23-2" and err.value.code == "own_alert"
    denied = audit(runtime, "monitoring.handle", "deny")
    assert denied and denied[-1].reason == "own_alert" and denied[-1].details["alert_id"] == alert_id
    assert alert_row(runtime, alert_id).status == NEW
    assert as_(runtime, po, service.get, alert_id).alert.status == NEW  # reading one's own alert is allowed
    with runtime.transaction(SYSTEM_ACTOR) as ctx:  # a second privacy officer handles it
        staff_service.add(ctx, StaffCreate(username="po2", display_name="po2", role=Role.PRIVACY_OFFICER))
    with runtime.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        po2 = staff_service.actor_for(ctx, "po2")
    assert as_(runtime, po2, service.look, alert_id).status == LOOKING


@pytest.mark.parametrize("who", ["sato", "analyst", "support", "admin"])
def test_other_roles_can_neither_read_nor_handle_alerts_R_23_2(runtime, actors, who):
    alert_id = insert_alert(runtime, actors["suzuki"].label)
    for call, args, action in (
        (service.list_alerts, (), "monitoring.read"),
        (service.get, (alert_id,), "monitoring.read"),
        (service.entries, (alert_id,), "monitoring.read"),
        (service.look, (alert_id,), "monitoring.handle"),
        (service.dismiss, (alert_id, "false_positive"), "monitoring.handle"),
        (service.open_incident, (alert_id,), "monitoring.handle"),
    ):
        with pytest.raises(PolicyDenied) as err:
            as_(runtime, actors[who], call, *args)
        assert err.value.rule_id == "R-23-2", call
        last = audit(runtime, action, "deny")[-1]
        assert last.actor == actors[who].label
    row = alert_row(runtime, alert_id)
    assert row.status == NEW and row.handled_by is None and events_of(runtime, alert_id) == [("raised", None)]


# -- an incident from an alert -----------------------------------------------------------------------------------


def test_an_incident_from_an_alert_carries_the_people_read_in_its_window(runtime, actors, clock):
    sato, po = actors["sato"], actors["po"]
    inside = [
        make_customer(runtime, sato, name=f"範囲 内{i}", email=f"in{i}@example.jp", phone=None)
        for i in (1, 2)
    ]
    before = make_customer(runtime, sato, name="範囲 前", email="before@example.jp", phone=None)
    after = make_customer(runtime, sato, name="範囲 後", email="after@example.jp", phone=None)
    clock.at = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)  # 19:00 JST
    read_customer(runtime, sato, before)
    clock.at = datetime(2026, 11, 20, 11, 0, tzinfo=UTC)
    read_customer(runtime, sato, inside[0])
    clock.advance(timedelta(minutes=30))
    read_customer(runtime, sato, inside[1])
    read_customer(runtime, sato, inside[0])
    clock.advance(timedelta(minutes=30))
    read_customer(runtime, sato, after)
    window = entries_of(runtime, sato, "customer.read")[1:4]
    assert [e.at for e in window] == [
        datetime(2026, 11, 20, 11, 0, tzinfo=UTC),
        datetime(2026, 11, 20, 11, 30, tzinfo=UTC),
        datetime(2026, 11, 20, 11, 30, tzinfo=UTC),
    ]
    alert_id = insert_alert(
        runtime, sato.label, seqs=[e.seq for e in window], first_at=window[0].at, last_at=window[-1].at
    )
    clock.at = datetime(2026, 11, 21, 0, 30, tzinfo=UTC)  # the next morning, 09:30 JST
    got = as_(runtime, po, service.open_incident, "ALT-0001")
    assert got.incident_ref == "INC-0001" and got.scope_persons == 2 and got.scope_id is not None
    assert got.alert.status == INCIDENT and got.alert.incident_id == got.incident_id
    with runtime.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        incident = ctx.session.get(Incident, got.incident_id)
        assert incident is not None
        assert (incident.kind, incident.suspected, incident.cause) == ("leak", True, "insider")
        assert incident.known_by == "monitoring ALT-0001" and incident.discovered_by == "monitoring ALT-0001"
        assert incident.known_at == datetime(2026, 11, 21, 0, 30, tzinfo=UTC)
        assert incident.occurred_at == datetime(2026, 11, 20, 11, 0, tzinfo=UTC)
        assert incident.title == "監視アラート ALT-0001: 閲覧件数の急増"
        people = set(
            ctx.session.execute(
                select(IncidentSubject.customer_id).where(IncidentSubject.incident_id == got.incident_id)
            ).scalars()
        )
    assert people == set(inside)
    assert events_of(runtime, alert_id)[-1] == ("incident", got.incident_id)
    entry = audit(runtime, "monitoring.alert_incident")[-1]
    assert entry.details["incident_id"] == got.incident_id and entry.details["persons"] == 2
    assert entry.subject_ids == ()
    with pytest.raises(Conflict):
        as_(runtime, po, service.open_incident, "ALT-0001")


def test_an_incident_title_is_checked_for_personal_data(runtime, actors):
    insert_alert(runtime, actors["sato"].label)
    with pytest.raises(ValidationFailed) as err:
        as_(runtime, actors["po"], service.open_incident, "1", f"{NAME}さんの情報を持ち出し")
    assert err.value.code == "personal_data_in_text"
    with pytest.raises(ValidationFailed):
        as_(runtime, actors["po"], service.open_incident, "1", "")
    assert as_(runtime, actors["po"], service.get, "1").alert.status == NEW
    with runtime.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        assert ctx.session.execute(select(Incident)).first() is None
    got = as_(runtime, actors["po"], service.open_incident, "1", "営業担当者による大量閲覧の疑い")
    assert got.scope_persons == 0  # sato read nobody in the alert's window


# -- the digest mail ---------------------------------------------------------------------------------------------


def _mails(rt: Runtime) -> int:
    with rt.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        return len(
            list(
                ctx.session.execute(
                    select(MailMessage).where(MailMessage.topic == "monitoring.alert")
                ).scalars()
            )
        )


def test_one_digest_mail_for_the_high_alerts_and_nothing_without_an_address(
    runtime, actors, reads, monkeypatch
):
    cid, seqs = reads
    sato, suzuki = actors["sato"].label, actors["suzuki"].label
    high1 = insert_alert(runtime, sato, seqs=seqs, observed=412)
    high2 = insert_alert(runtime, suzuki, signal="bulk_export", observed=650, threshold=100, baseline=None)
    medium = insert_alert(runtime, sato, signal="off_hours", severity="medium", observed=30, threshold=20)
    closed = insert_alert(runtime, suzuki, signal="denials", status=DISMISSED)
    ids = [high1, high2, medium, closed]
    assert (
        as_(runtime, SYSTEM_ACTOR, service.notify_new, ids) == 0
    )  # MAMORI_REMINDER_TO unset: quietly nothing
    assert _mails(runtime) == 0 and alert_row(runtime, high1).mailed_at is None
    assert as_(runtime, SYSTEM_ACTOR, service.notify_new, [medium]) == 0
    monkeypatch.setattr(runtime.settings, "reminder_to", "privacy@example.jp")
    assert as_(runtime, SYSTEM_ACTOR, service.notify_new, [medium]) == 0  # medium: not mailed
    assert _mails(runtime) == 0
    assert as_(runtime, SYSTEM_ACTOR, service.notify_new, ids) == 2
    assert _mails(runtime) == 1
    assert alert_row(runtime, high1).mailed_at == runtime.clock.now()
    assert alert_row(runtime, medium).mailed_at is None and alert_row(runtime, closed).mailed_at is None
    assert events_of(runtime, high2)[-1] == ("mailed", None)
    assert as_(runtime, SYSTEM_ACTOR, service.notify_new, ids) == 0  # already mailed
    assert _mails(runtime) == 1
    entry = audit(runtime, "monitoring.alert_mailed")[-1]
    assert entry.details["alerts"] == 2 and entry.details["queued"] == 1
    sent = [json.loads(p.read_text()) for p in (runtime.settings.home_path / "outbox").glob("*.json")]
    assert len(sent) == 1 and sent[0]["to"] == "privacy@example.jp"
    body = sent[0]["body"]
    assert "ALT-0001" in body and "ALT-0002" in body and "ALT-0003" not in body and "ALT-0004" not in body
    assert "sato" in body and "suzuki" in body and "大量の持出し" in body and "412" in body
    assert "2026-11-20 20:00" in body  # JST
    _no_value(body + sent[0]["subject"], cid)


def test_denial_entries_behind_an_alert_show_codes_and_counts(runtime, actors):
    """A probe of another rep's customers: the entries (written as the policy engine writes them) show the code."""
    seqs = runtime.audit.append(
        [
            AuditEntry(
                actor=actors["sato"].label,
                actor_role="sales",
                action="customer.read",
                purpose="contract",
                subject_ids=(f"{i:032x}",),
                fields=(),
                decision="deny",
                rule_ids=("R-23-5",),
                reason="out_of_scope",
                details={},
                at=datetime(2026, 11, 20, 2, i, tzinfo=UTC),
            )
            for i in range(3)
        ]
    )
    insert_alert(runtime, actors["sato"].label, signal="denials", seqs=seqs, observed=3, threshold=2)
    got = as_(runtime, actors["po"], service.entries, "1")
    assert [(e.decision, e.reason, e.subjects, e.rule_ids) for e in got.entries] == [
        ("deny", "out_of_scope", 1, ["R-23-5"])
    ] * 3
    assert f"{0:032x}" not in got.model_dump_json()
