"""Human measures (R-23-3, issue 21): courses, completions, pledges, the training policy and its gate.

Service level: happy paths, bad input, roles that may not, expiry by moving the clock, the gate on actors built
for sessions / tokens / ``--as`` both ways, re-signing after a new pledge version, ``require_current`` for other
slices, the expiry job's counts and digest.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from pydantic import ValidationError

from mamori.customers import service as customers_service
from mamori.kernel.context import SYSTEM_ACTOR, Role
from mamori.kernel.errors import Conflict, NotFound, PolicyDenied, ValidationFailed
from mamori.staff import service as staff_service
from mamori.staff.schemas import (
    CompletionCreate,
    CourseCreate,
    PledgePublish,
    PledgeSign,
    TrainingPolicyUpdate,
)
from mamori.staff.service import training
from tests.factories import make_customer, seed_basics

BASIC = CourseCreate(code="basic", title="個人情報保護基礎研修", validity_days=365)
PHISH = CourseCreate(code="phishing", title="標的型メール訓練", validity_days=180, required=False)


@pytest.fixture
def world(runtime):
    actors = seed_basics(runtime)
    with runtime.transaction(actors["po"]) as ctx:
        staff_service.add_course(ctx, BASIC)
        staff_service.add_course(ctx, PHISH)
        staff_service.publish_pledge(
            ctx, PledgePublish(title="秘密保持誓約書", body="業務上知り得た個人情報を…")
        )
    return actors


def actor(rt, username):
    with rt.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        return staff_service.actor_for(ctx, username)


def train(rt, username, *, on=None, course="basic"):
    with rt.transaction(actor(rt, "po")) as ctx:
        return staff_service.record_completion(
            ctx, CompletionCreate(username=username, course=course, completed_on=on, reference="C-001")
        )


def sign(rt, username):
    with rt.transaction(actor(rt, username)) as ctx:
        return staff_service.sign_pledge(ctx)


def enforce(rt, on=True, roles=(Role.SALES, Role.SUPPORT, Role.ANALYST, Role.PRIVACY_OFFICER)):
    with rt.transaction(actor(rt, "admin")) as ctx:
        return staff_service.set_policy(ctx, on, list(roles))


def status(rt, username):
    with rt.transaction(actor(rt, "po")) as ctx:
        return staff_service.status_of(ctx, username)


def audit(rt, action):
    rt.drain_outbox()
    return [e for e in rt.audit.tail(500) if e.action == action]


# -- courses, completions, status ---------------------------------------------------------------------------------


def test_a_completion_is_valid_for_the_course_validity_and_expires_with_the_clock(runtime, world):
    done = train(runtime, "sato")
    assert done.expires_at - done.completed_at == timedelta(days=365)
    sign(runtime, "sato")
    s = status(runtime, "sato")
    assert s.current and s.pledge_signed and s.pledge_version == 1
    states = {c.code: c.state for c in s.courses}
    assert states == {"basic": "current", "phishing": "missing"}  # phishing is not required
    runtime.clock.advance(timedelta(days=340))
    s = status(runtime, "sato")
    assert s.current and {c.code: c.state for c in s.courses}["basic"] == "expiring"
    runtime.clock.advance(timedelta(days=26))
    s = status(runtime, "sato")
    assert not s.current and s.missing == ["basic"]
    assert {c.code: c.state for c in s.courses}["basic"] == "expired"
    entries = audit(runtime, "staff.training_recorded")
    assert entries and entries[-1].details["course"] == "basic" and "C-001" not in str(entries[-1].details)


def test_completion_on_a_past_date_counts_from_that_day_in_jst(runtime, world):
    done = train(runtime, "sato", on=date(2025, 11, 1))
    assert done.completed_at.isoformat().startswith("2025-10-31T15:00")  # 00:00 JST
    assert status(runtime, "sato").courses[0].state == "expired"


def test_bad_input_and_conflicts(runtime, world):
    with pytest.raises(ValidationError):
        CourseCreate(code="Bad Code", title="x", validity_days=10)
    with pytest.raises(ValidationError):
        CourseCreate(code="ok", title="x", validity_days=0)
    with pytest.raises(ValidationError):
        CompletionCreate(username="sato", course="basic", reference="山田 太郎")
    with pytest.raises(ValidationError):
        TrainingPolicyUpdate(enforced=True, roles=[Role.ADMIN])
    with pytest.raises(ValidationError):
        PledgePublish(title="t", body="   ")
    po = actor(runtime, "po")
    with pytest.raises(Conflict), runtime.transaction(po) as ctx:
        staff_service.add_course(ctx, BASIC)
    with pytest.raises(NotFound), runtime.transaction(po) as ctx:
        staff_service.record_completion(ctx, CompletionCreate(username="sato", course="nope"))
    with pytest.raises(NotFound), runtime.transaction(po) as ctx:
        staff_service.record_completion(ctx, CompletionCreate(username="nobody", course="basic"))
    with pytest.raises(ValidationFailed), runtime.transaction(po) as ctx:
        staff_service.record_completion(
            ctx, CompletionCreate(username="sato", course="basic", completed_on=date(2030, 1, 1))
        )
    with runtime.transaction(po) as ctx:
        staff_service.retire_course(ctx, "phishing")
        assert [c.code for c in staff_service.list_courses(ctx)] == ["basic"]
    with pytest.raises(Conflict), runtime.transaction(po) as ctx:
        staff_service.record_completion(ctx, CompletionCreate(username="sato", course="phishing"))


@pytest.mark.parametrize("who", ["sato", "support", "analyst"])
def test_roles_that_may_not_manage_training_are_refused_and_audited(runtime, world, who):
    a = actor(runtime, who)
    calls = [
        lambda ctx: staff_service.add_course(ctx, CourseCreate(code="x", title="x", validity_days=1)),
        lambda ctx: staff_service.list_courses(ctx),
        lambda ctx: staff_service.record_completion(ctx, CompletionCreate(username=who, course="basic")),
        lambda ctx: staff_service.publish_pledge(ctx, PledgePublish(title="t", body="b")),
        lambda ctx: staff_service.set_policy(ctx, False),
        lambda ctx: staff_service.overdue(ctx),
        lambda ctx: staff_service.status_of(ctx, "suzuki"),
        lambda ctx: staff_service.sign_pledge(ctx, PledgeSign(username="suzuki")),
    ]
    for call in calls:
        with pytest.raises(PolicyDenied) as err, runtime.transaction(a) as ctx:
            call(ctx)
        assert err.value.rule_id == "R-23-2"
    assert status(runtime, "suzuki").signed_version is None
    # their own status and their own signature need no grant
    with runtime.transaction(a) as ctx:
        assert staff_service.status_of(ctx).username == who
        assert staff_service.sign_pledge(ctx).self_signed


# -- pledges ---------------------------------------------------------------------------------------------------------


def test_a_new_pledge_version_means_everyone_signs_again(runtime, world):
    train(runtime, "sato")
    first = sign(runtime, "sato")
    assert first.version == 1 and first.self_signed
    assert sign(runtime, "sato").id == first.id  # signing twice keeps the first signature
    with runtime.transaction(actor(runtime, "po")) as ctx:
        v2 = staff_service.publish_pledge(ctx, PledgePublish(title="秘密保持誓約書 第2版", body="改訂版"))
    assert v2.version == 2 and len(v2.sha256) == 64
    s = status(runtime, "sato")
    assert not s.current and not s.pledge_signed and s.signed_version == 1
    with pytest.raises(Conflict) as err, runtime.transaction(actor(runtime, "sato")) as ctx:
        staff_service.sign_pledge(ctx, PledgeSign(version=1))  # read the old text: refused
    assert err.value.code == "pledge_outdated"
    with runtime.transaction(actor(runtime, "sato")) as ctx:
        staff_service.sign_pledge(ctx, PledgeSign(version=2))
    assert status(runtime, "sato").current
    with runtime.transaction(actor(runtime, "po")) as ctx:
        paper = staff_service.sign_pledge(ctx, PledgeSign(username="suzuki"))  # recorded from paper
        listed = staff_service.list_pledges(ctx)
    assert not paper.self_signed and paper.username == "suzuki"
    assert [(p.version, p.signed) for p in listed] == [(2, 2), (1, 1)]


# -- the policy and the gate ---------------------------------------------------------------------------------------


def test_the_gate_refuses_an_untrained_rep_personal_data_and_lets_them_once_current(runtime, world):
    sato = actor(runtime, "sato")
    cid = make_customer(runtime, sato)
    assert sato.cleared  # the policy is off
    enforce(runtime)
    gated = actor(runtime, "sato")
    assert not gated.cleared
    with pytest.raises(PolicyDenied) as err, runtime.transaction(gated, "contract") as ctx:
        customers_service.get(ctx, cid)
    assert err.value.code == "training_required" and err.value.rule_id == "R-23-3"
    denied = [e for e in runtime.audit.tail(100) if e.decision == "deny" and "R-23-3" in e.rule_ids]
    assert denied
    # their own status page works while gated (no personal data)
    with runtime.transaction(gated) as ctx:
        assert not staff_service.status_of(ctx).current
    train(runtime, "sato")
    assert not actor(runtime, "sato").cleared  # the pledge is still missing
    sign(runtime, "sato")
    cleared = actor(runtime, "sato")
    assert cleared.cleared
    with runtime.transaction(cleared, "contract") as ctx:
        assert customers_service.get(ctx, cid).id == cid
    runtime.clock.advance(timedelta(days=366))  # the training expires: gated again
    assert not actor(runtime, "sato").cleared


def test_roles_outside_the_policy_and_admin_are_never_gated(runtime, world):
    enforce(runtime, roles=[Role.SALES])
    assert actor(runtime, "support").cleared and actor(runtime, "analyst").cleared
    assert actor(runtime, "admin").cleared
    assert not actor(runtime, "suzuki").cleared
    enforce(runtime, on=False, roles=[Role.SALES])
    assert actor(runtime, "suzuki").cleared


def test_the_gate_applies_to_sessions_and_api_tokens(runtime, world):
    from mamori.staff.schemas import ApiTokenCreate
    from tests.staff.helpers import PASSWORD, code_now, system_ctx

    with runtime.transaction(SYSTEM_ACTOR) as ctx:
        staff_service.set_password(ctx, "sato", PASSWORD)
        uri = staff_service.enroll_totp(ctx, "sato")
    import pyotp

    secret = pyotp.parse_uri(uri).secret
    runtime.clock.advance(timedelta(seconds=30))
    signed = staff_service.sign_in(runtime, "sato", PASSWORD, code_now(runtime, secret))
    with runtime.transaction(actor(runtime, "sato")) as ctx:
        token = staff_service.create_token(
            ctx,
            "sato",
            ApiTokenCreate(name="mine", purposes=["contract"]),
            session_digest=staff_service.token_digest(signed.token),
        ).token
    enforce(runtime)

    def by_session():
        with runtime.sessions() as s, s.begin():
            return staff_service.validate_session(system_ctx(runtime, s), signed.token)

    def by_token():
        with runtime.sessions() as s, s.begin():
            return staff_service.validate_api_token(system_ctx(runtime, s), token)[0]

    assert not by_session().cleared and not by_token().cleared
    train(runtime, "sato")
    sign(runtime, "sato")  # clears the token check cache in this process
    assert by_session().cleared and by_token().cleared


def test_require_current_refuses_whether_or_not_the_policy_is_on(runtime, world):
    ids = {u.username: u.id for u in _staff(runtime)}
    with pytest.raises(PolicyDenied) as err, runtime.transaction(SYSTEM_ACTOR) as ctx:
        staff_service.require_current(ctx, ids["suzuki"])
    assert err.value.code == "training_required" and err.value.rule_id == "R-23-3"
    assert err.value.details["staff_id"] == ids["suzuki"] and "suzuki" not in str(err.value)
    train(runtime, "suzuki")
    sign(runtime, "suzuki")
    with runtime.transaction(SYSTEM_ACTOR) as ctx:
        staff_service.require_current(ctx, ids["suzuki"])
    with pytest.raises(NotFound), runtime.transaction(SYSTEM_ACTOR) as ctx:
        staff_service.require_current(ctx, "0" * 32)


def _staff(rt):
    with rt.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        return staff_service.list_staff(ctx)


def test_overdue_lists_covered_staff_with_what_is_missing(runtime, world):
    for name in ("po", "sato", "support", "analyst"):
        train(runtime, name)
        sign(runtime, name)
    with runtime.transaction(actor(runtime, "po")) as ctx:
        items = staff_service.overdue(ctx)
    assert [(i.username, i.courses, i.pledge_missing) for i in items] == [
        ("suzuki", {"basic": "missing"}, True)
    ]
    assert audit(runtime, "staff.training_overdue")[-1].details["count"] == 1


def test_expiry_job_counts_and_mails_the_privacy_team_digest(runtime, world, monkeypatch):
    for name in ("po", "sato", "support", "analyst"):
        train(runtime, name)
        sign(runtime, name)
    runtime.clock.advance(timedelta(days=350))  # everyone's basic course expires within 30 days
    from mamori.staff.jobs import expiry_job

    result = expiry_job(runtime, job_run_id="r" * 32)
    assert result == {"covered": 5, "expiring": 4, "not_current": 1, "mails": 0}
    monkeypatch.setattr(runtime.settings, "reminder_to", "privacy@example.jp")
    result = expiry_job(runtime, job_run_id="s" * 32)
    assert result["mails"] == 1
    entry = audit(runtime, "staff.training_expiry")[-1]
    assert entry.details["job_run_id"] == "s" * 32 and entry.details["not_current"] == 1
    assert "suzuki" not in str(entry.details)


def test_is_cleared_needs_no_grant_and_skips_admin(runtime, world):
    from mamori.staff.models import StaffUser

    enforce(runtime)
    with runtime.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        user = ctx.session.query(StaffUser).filter_by(username="sato").one()
        assert training.is_cleared(ctx, user) is False
        assert training.is_cleared(ctx, user, role=Role.ADMIN) is True
        admin = ctx.session.query(StaffUser).filter_by(username="admin").one()
        assert training.is_cleared(ctx, admin) is True


def test_expiry_check_is_refused_to_other_roles(runtime, world):
    with pytest.raises(PolicyDenied), runtime.transaction(actor(runtime, "sato")) as ctx:
        staff_service.expiry_check(ctx)


def test_the_demo_seed_leaves_one_sales_rep_untrained(runtime):
    from mamori.cli import demo_training

    seed_basics(runtime)
    made = demo_training.seed(runtime)
    assert made["untrained"] == "suzuki" and made["trained"] == 5 and made["seeded"]
    assert not actor(runtime, "suzuki").cleared
    assert all(actor(runtime, n).cleared for n in ("po", "sato", "support", "analyst", "admin"))
    with runtime.transaction(actor(runtime, "po")) as ctx:
        assert [o.username for o in staff_service.overdue(ctx)] == ["suzuki"]
        assert staff_service.policy(ctx).enforced
    assert demo_training.seed(runtime)["seeded"] is False  # twice: nothing more
