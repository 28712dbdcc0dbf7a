"""Notices to the people in scope (R-26-6, G-34): the plan, e-mails through the mail queue (file outbox) with the
person's OWN items only, letters for people with a postal address only, idempotent re-sends, no contact →
substitute measure, the send log, the audit (ids and counts, never an address), refusals."""

from __future__ import annotations

import json

import pytest

from mamori.incidents.models import IncidentMeasure, IncidentNotice
from mamori.incidents.service import notices
from mamori.kernel.errors import Conflict, PolicyDenied, ValidationFailed
from tests.incidents.notice_support import (
    A_EMAIL,
    B_EMAIL,
    EU_EMAIL,
    outbox,
    people,
    put_in_scope,
    to,
)
from tests.incidents.support import new_incident, seed_basics


@pytest.fixture
def actors(runtime):
    return seed_basics(runtime)


@pytest.fixture
def case(runtime, actors):
    who = people(runtime, actors["po"])
    inc = new_incident(
        runtime,
        actors["sato"],
        cause_detail="自宅で画面を家族以外の来客に見られた可能性がある。",
    )
    put_in_scope(
        runtime,
        inc.id,
        {
            who["a"]: {"fields": ["name", "emails"], "categories": ["identifier", "contact"]},
            who["b"]: {
                "fields": ["birth_date", "occupation"],
                "categories": ["attribute"],
                "sensitive": True,
            },
            who["post"]: {"fields": ["name", "address"], "categories": ["identifier", "contact"]},
            who["none"]: {"fields": ["name"], "categories": ["identifier"]},
            who["eu"]: {
                "fields": ["name", "emails"],
                "categories": ["identifier", "contact"],
                "origin": "DE",
            },
        },
    )
    return inc, who


def _notices(runtime, incident_id):
    with runtime.transaction(readonly=True) as ctx:
        return {
            n.customer_id: n
            for n in ctx.session.query(IncidentNotice).filter(IncidentNotice.incident_id == incident_id).all()
        }


def test_plan_splits_people_by_contact_without_reading_a_value(runtime, actors, case):
    inc, who = case
    with runtime.transaction(actors["po"]) as ctx:
        p = notices.plan(ctx, inc.ref)
    assert (p.persons, p.email, p.letter, p.no_contact, p.already, p.eu) == (5, 3, 1, 1, 0, 1)
    assert set(p.email_ids) == {who["a"], who["b"], who["eu"]}
    assert p.letter_ids == [who["post"]] and p.no_contact_ids == [who["none"]]
    with runtime.transaction(actors["admin"]) as ctx:  # incident.read: the administrator too
        assert notices.plan(ctx, inc.id).persons == 5
    reads = [e for e in runtime.audit.tail(200) if e.action == "customer.read"]
    assert reads == []  # nothing decrypted for the plan


def test_send_queues_one_email_per_person_with_only_their_items_R_26_6_G_34(runtime, actors, case):
    inc, who = case
    with runtime.transaction(actors["po"]) as ctx:
        result = notices.send(ctx, inc.ref)
    assert (result.email, result.letter, result.no_contact, result.skipped) == (3, 1, 1, 0)
    assert result.no_contact_ids == [who["none"]] and result.rule_ids == ["R-26-6", "G-34"]

    a = to(runtime, A_EMAIL)
    assert len(a) == 1
    body = a[0]["body"]
    assert inc.ref in a[0]["subject"] and "漏えいのおそれ" in a[0]["subject"]
    # items (1) overview, (2) the person's own items, (4) cause, (5) secondary damage, (9) other / contact point
    for words in ("事案の概要", inc.ref, "在宅勤務中に画面を第三者に見られたおそれ", "2026年12月4日"):
        assert words in body
    assert "項目：氏名、メールアドレス" in body and "区分：本人を識別する情報、連絡先" in body
    assert "在宅勤務中の露出" in body and "来客に見られた可能性" in body
    assert "二次被害" in body and "お問い合わせ窓口" in body
    assert "生年月日" not in body and "職業" not in body and "要配慮" not in body  # b's items, not a's
    assert "通知 一郎" not in body and "通知 二郎" not in body and B_EMAIL not in body
    assert a[0]["subject_ids"] == [who["a"]]

    b = to(runtime, B_EMAIL)[0]["body"]
    assert "生年月日" in b and "職業" in b and "要配慮個人情報を含みます" in b
    assert "メールアドレス" not in b  # a's item, not b's

    eu = to(runtime, EU_EMAIL)[0]
    assert "考えられる影響" in eu["body"] and "Likely consequences for you" in eu["body"]  # G-34, ja + en
    assert "What happened" in eu["body"] and "Data protection officer" in eu["body"]
    assert len(outbox(runtime)) == 3  # no e-mail for the letter and the no-contact person

    rows = _notices(runtime, inc.id)
    assert {cid: (n.channel, n.status) for cid, n in rows.items()} == {
        who["a"]: ("email", "sent"),  # delivered after the commit: the hook marked it
        who["b"]: ("email", "sent"),
        who["eu"]: ("email", "sent"),
        who["post"]: ("letter", "queued"),
        who["none"]: ("letter", "no_contact"),
    }
    # no address anywhere in the rows or the audit log
    dumped = json.dumps(
        [{k: str(v) for k, v in vars(n).items() if not k.startswith("_")} for n in rows.values()]
    )
    entries = runtime.audit.tail(300)
    logged = json.dumps([e.__dict__ for e in entries], default=str)
    for secret in (A_EMAIL, B_EMAIL, EU_EMAIL, "東京都渋谷区", "通知 一郎"):
        assert secret not in dumped and secret not in logged
    notify = [e for e in entries if e.action == "incident.notify" and e.decision == "allow"]
    assert len(notify) == 1
    assert set(notify[0].subject_ids) == set(who.values())
    assert notify[0].details["incident_id"] == inc.id and notify[0].details["email"] == 3
    assert set(notify[0].rule_ids) == {"R-26-6", "G-34"}


def test_a_second_send_skips_those_notified_and_says_so(runtime, actors, case):
    inc, who = case
    with runtime.transaction(actors["po"]) as ctx:
        notices.send(ctx, inc.ref)
    with runtime.transaction(actors["po"]) as ctx:
        again = notices.send(ctx, inc.ref)
    assert (again.email, again.letter, again.skipped, again.no_contact) == (0, 0, 4, 1)
    assert len(to(runtime, A_EMAIL)) == 1  # not sent twice
    assert len(_notices(runtime, inc.id)) == 5  # one row per person
    with runtime.transaction(actors["po"]) as ctx:
        assert notices.plan(ctx, inc.ref).already == 4


def test_no_contact_gets_a_substitute_measure(runtime, actors, case):
    inc, who = case
    with runtime.transaction(actors["po"]) as ctx:
        notices.send(ctx, inc.ref)
    with runtime.transaction(actors["po"]) as ctx:
        res = notices.substitute(ctx, inc.ref, "inquiry_line", "専用窓口 0120-000-000（平日9時〜17時）")
    assert res.persons == 1 and res.kind == "inquiry_line"
    rows = _notices(runtime, inc.id)
    n = rows[who["none"]]
    assert (n.channel, n.status, n.measure_id) == ("substitute", "substitute", res.measure_id)
    with runtime.transaction(readonly=True) as ctx:
        m = ctx.session.get(IncidentMeasure, res.measure_id)
        assert m is not None and m.kind == "inquiry_line" and json.loads(m.result) == {"persons": 1}
    with runtime.transaction(actors["po"]) as ctx:
        log = notices.log(ctx, inc.ref)
    assert {(x.customer_id, x.status) for x in log} >= {(who["none"], "substitute"), (who["a"], "sent")}
    assert "0120" not in json.dumps([e.__dict__ for e in runtime.audit.tail(50)], default=str)


def test_letters_are_rendered_for_printing_and_marked_sent(runtime, actors, case):
    inc, who = case
    with runtime.transaction(actors["po"]) as ctx:
        notices.send(ctx, inc.ref)
    with runtime.transaction(actors["po"]) as ctx:
        out = notices.letters(ctx, inc.ref)
    assert [x.customer_id for x in out] == [who["post"]]
    html = out[0].html
    assert "郵送 三郎 様" in html and "東京都渋谷区神宮前1-2-3" in html and inc.ref in html
    assert "通知 一郎" not in html
    with runtime.transaction(actors["po"]) as ctx:
        assert notices.mark_letters_sent(ctx, inc.ref) == 1
    assert _notices(runtime, inc.id)[who["post"]].status == "sent"


def test_hold_back_sends_nothing_and_records_why(runtime, actors, case):
    inc, _ = case
    with runtime.transaction(actors["po"]) as ctx:
        res = notices.send(ctx, inc.ref, hold_back=True)
    assert res.held_back and res.email == 0
    assert outbox(runtime) == [] and _notices(runtime, inc.id) == {}
    entry = [e for e in runtime.audit.tail(50) if e.action == "incident.notify"][-1]
    assert entry.details["held_back"] is True


def test_email_only_preference_leaves_the_postal_person_without_contact(runtime, actors, case):
    inc, who = case
    with runtime.transaction(actors["po"]) as ctx:
        res = notices.send(ctx, inc.ref, channel_preference=("email",))
    assert res.letter == 0 and set(res.no_contact_ids) == {who["post"], who["none"]}
    # a later send with letters reaches the postal person (no_contact is tried again)
    with runtime.transaction(actors["po"]) as ctx:
        res = notices.send(ctx, inc.ref)
    assert res.letter == 1 and res.skipped == 3


@pytest.mark.parametrize("role", ["admin", "sato", "support", "analyst"])
def test_only_the_privacy_officer_notifies_and_refusals_are_audited(runtime, actors, case, role):
    inc, _ = case
    with pytest.raises(PolicyDenied), runtime.transaction(actors[role]) as ctx:
        notices.send(ctx, inc.ref)
    with pytest.raises(PolicyDenied), runtime.transaction(actors[role]) as ctx:
        notices.substitute(ctx, inc.ref, "publication", "https://example.co.jp/news/1")
    denied = [e for e in runtime.audit.tail(50) if e.action == "incident.notify" and e.decision == "deny"]
    assert len(denied) == 2
    assert outbox(runtime) == [] and _notices(runtime, inc.id) == {}


@pytest.mark.parametrize("role", ["sato", "support", "analyst"])
def test_plan_and_log_are_for_the_readers_only(runtime, actors, case, role):
    inc, _ = case
    with pytest.raises(PolicyDenied), runtime.transaction(actors[role]) as ctx:
        notices.plan(ctx, inc.ref)
    with pytest.raises(PolicyDenied), runtime.transaction(actors[role]) as ctx:
        notices.log(ctx, inc.ref)


def test_bad_input_is_refused_without_echo(runtime, actors, case):
    inc, _ = case
    from pydantic import ValidationError

    with pytest.raises(ValidationError) as exc, runtime.transaction(actors["po"]) as ctx:
        notices.substitute(ctx, inc.ref, "billboard", "secret-value-xyz")
    assert "secret-value-xyz" not in str(exc.value.errors(include_input=False))
    with pytest.raises(ValidationError), runtime.transaction(actors["po"]) as ctx:
        notices.send(ctx, inc.ref, channel_preference=("fax",))
    with pytest.raises(ValidationError), runtime.transaction(actors["po"]) as ctx:
        notices.substitute(ctx, inc.ref, "publication", "")
    from mamori.kernel.errors import NotFound

    with pytest.raises(NotFound), runtime.transaction(actors["po"]) as ctx:
        notices.send(ctx, "INC-9999")


def test_a_closed_incident_sends_nothing(runtime, actors, case):
    inc, _ = case
    from mamori.incidents.models import Incident

    with runtime.transaction() as ctx:
        row = ctx.session.get(Incident, inc.id)
        assert row is not None
        row.status = "closed"
    with pytest.raises(Conflict), runtime.transaction(actors["po"]) as ctx:
        notices.send(ctx, inc.ref)


class _Refusing:
    """A mail backend that refuses every message permanently (a 5xx-like invalid address)."""

    def send(self, message, *, at):  # noqa: ANN001, ANN201
        raise ValidationFailed("宛先が不正です。", "Bad recipient.", code="bad_mail")


def test_a_mail_that_finally_fails_is_marked_and_tried_again(runtime, actors, case):
    from mamori.kernel import notify

    inc, who = case
    notify.set_notifier(_Refusing())
    try:
        with runtime.transaction(actors["po"]) as ctx:
            notices.send(ctx, inc.ref)
    finally:
        notify.set_notifier(None)
    rows = _notices(runtime, inc.id)
    assert rows[who["a"]].status == "failed" and rows[who["b"]].status == "failed"
    failed = [e for e in runtime.audit.tail(100) if e.action == "incident.notify" and e.details.get("failed")]
    assert {e.subject_ids[0] for e in failed} == {who["a"], who["b"], who["eu"]}
    with runtime.transaction(actors["po"]) as ctx:
        again = notices.send(ctx, inc.ref)
    assert again.email == 3 and again.skipped == 1  # the letter stays; the failed mails are sent again
    assert _notices(runtime, inc.id)[who["a"]].status == "sent" and len(to(runtime, A_EMAIL)) == 1


def test_a_large_send_is_audited_in_parts_naming_every_person(runtime, actors, case, monkeypatch):
    """One audit entry holds at most 100,000 ids: a large incident's notices are audited in parts (here 2 a part)."""
    inc, who = case
    monkeypatch.setattr(notices, "AUDIT_CHUNK", 2)
    with runtime.transaction(actors["po"]) as ctx:
        notices.send(ctx, inc.ref)
    sent = [e for e in runtime.audit.tail(50) if e.action == "incident.notify" and e.details.get("parts")]
    assert [(e.details["part"], e.details["parts"]) for e in sent] == [(1, 3), (2, 3), (3, 3)]
    assert sorted(i for e in sent for i in e.subject_ids) == sorted(who.values())
    assert all(len(e.subject_ids) <= 2 for e in sent)
