"""Access reviews through the service (issue 25 "Deliver" 3 and its test: "An access review finds the unused account
and the untrained one; the review record is immutable").

The store (tests/monitoring/review_fixtures.py) has seven accounts; a review started on 23 November 2026 flags
exactly the unused ones (kudo: last sign-in 145 days ago; endo: disabled, still owning customers) and the untrained
one (ito, while the training policy is enforced for sales). Every line is decided — a change really takes effect
(a disabled account's token fails) — nobody decides their own line, and the review closes with a seal that an
attacker holding the database (and hashlib) cannot make verify again."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from mamori.kernel.clock import FrozenClock
from mamori.kernel.context import SYSTEM_ACTOR
from mamori.kernel.errors import Conflict, NotFound, PolicyDenied, ValidationFailed
from mamori.monitoring.schemas import SettingsIn
from mamori.monitoring.service import reviews
from mamori.monitoring.service import settings as settings_service
from mamori.staff import service as staff_service
from tests.monitoring.review_fixtures import EXPECTED_FLAGS, NOW, START, Attacker, World, build_world


@pytest.fixture
def clock():
    return FrozenClock(START)


@pytest.fixture
def world(runtime) -> World:
    return build_world(runtime)


def _start(world: World, by: str = "po", period: str | None = None):
    with world.rt.transaction(world.actor(by)) as ctx:
        return reviews.start(ctx, period)


def _decide(
    world: World, by: str, key: str, username: str, decision: str = "confirm", change=None, note=None
):
    with world.rt.transaction(world.actor(by)) as ctx:
        return reviews.decide(ctx, key, username, decision, change, note)


def _verify(world: World, key: str, by: str = "po"):
    with world.rt.transaction(world.actor(by)) as ctx:
        return reviews.verify(ctx, key)


def _decide_all(world: World, ref: str) -> None:
    """admin decides po's line; po decides every other line with confirm."""
    _decide(world, "admin", ref, "po")
    for username in ("admin", "sato", "ito", "kudo", "endo", "sync-bot"):
        _decide(world, "po", ref, username)


def _entries(world: World, action: str, decision: str = "allow"):
    return [e for e in world.rt.audit.tail(200) if e.action == action and e.decision == decision]


# -- start: the lines and their flags ----------------------------------------------------------------------------------


def test_start_flags_exactly_the_unused_and_the_untrained_accounts(world):
    review = _start(world)
    assert review.ref == "AR-2026-Q4" and review.status == "open"
    assert (review.period.label, review.period.start, review.period.end) == (
        "2026-Q4",
        date(2026, 10, 1),
        date(2026, 12, 31),
    )
    lines = {line.username: line for line in review.items}
    assert set(lines) == set(EXPECTED_FLAGS)  # endo is disabled but still owns customers: listed
    assert {u: set(line.flags) for u, line in lines.items()} == EXPECTED_FLAGS
    assert review.lines == 7 and review.flagged == 3 and review.decided == 0

    assert (lines["ito"].trained, lines["ito"].pledged) == (False, True)
    assert (lines["sato"].trained, lines["sato"].pledged) == (True, True)
    assert lines["sato"].token_purposes == ["contract", "marketing-email"] and lines["sato"].tokens == 1
    assert lines["sato"].owned_customers == 1 and lines["endo"].owned_customers == 2
    assert lines["endo"].active is False and lines["endo"].tokens == 0
    assert lines["kudo"].last_sign_in is not None and lines["kudo"].last_sign_in < NOW - timedelta(days=140)
    assert lines["kudo"].token_purposes == ["contract"] and lines["kudo"].tokens == 1
    assert lines["sync-bot"].kind == "service" and lines["sync-bot"].last_sign_in is None
    assert lines["sync-bot"].token_purposes == ["contract"]  # not unused: its token was used today
    assert lines["po"].role == "privacy_officer" and lines["admin"].role == "admin"
    started = _entries(world, "monitoring.review_start")[-1]
    assert started.details["review_id"] == review.id and started.details["lines"] == 7
    assert (started.details["unused"], started.details["untrained"], started.details["flagged"]) == (2, 1, 3)


def test_the_unused_limit_is_the_setting_in_force(world):
    with world.rt.transaction(world.actor("po")) as ctx:
        settings_service.update(ctx, SettingsIn(unused_days=200))
    review = _start(world)
    flags = {line.username: set(line.flags) for line in review.items}
    assert flags["kudo"] == set() and flags["endo"] == {"disabled_owning"}  # 145 days < 200
    assert review.unused_days == 200


def test_a_disabled_account_still_holding_a_live_token_is_flagged(world):
    """An account switched off outside mamori's own disable (which revokes every token), e.g. by a migration."""
    attacker = Attacker(world.rt.settings)
    try:
        attacker.sql("UPDATE staff_users SET active = ? WHERE username = ?", False, "sato")
    finally:
        attacker.close()
    lines = {line.username: line for line in _start(world).items}
    assert set(lines["sato"].flags) == {"disabled_with_tokens", "disabled_owning"}
    assert lines["sato"].active is False and lines["sato"].tokens == 1


def test_an_account_never_used_is_unused(world):
    from tests.staff.helpers import make_staff

    make_staff(world.rt, "nomura", world.actor("sato").role)  # added today, never signed in
    lines = {line.username: set(line.flags) for line in _start(world).items}
    assert lines["nomura"] == {"unused", "untrained", "no_pledge"}


def test_one_open_review_at_a_time_and_a_period_reviewed_again_gets_a_suffix(world):
    first = _start(world)
    with pytest.raises(Conflict) as exc:
        _start(world, "admin")
    assert exc.value.code == "review_open"
    _decide_all(world, first.ref)
    with world.rt.transaction(world.actor("po")) as ctx:
        reviews.close(ctx, first.ref)
    again = _start(world, "admin", "2026-q4")
    assert again.ref == "AR-2026-Q4-2" and again.period.label == "2026-Q4"


# -- decide: changes carried out, own line refused ---------------------------------------------------------------------


def test_decide_every_line_changes_take_effect_and_own_line_is_refused(world):
    review = _start(world)
    assert world.token_works("kudo") and world.token_works("sync-bot")

    with pytest.raises(PolicyDenied) as exc:
        _decide(world, "po", review.ref, "po")
    assert exc.value.rule_id == "R-23-2" and exc.value.code == "own_line"
    denied = _entries(world, "monitoring.review_decide", "deny")[-1]
    assert denied.reason == "own_line" and denied.rule_ids == ("R-23-2",)
    assert denied.actor == world.actor("po").label

    line = _decide(world, "po", review.ref, "kudo", "change", "disable", "退職予定のため")
    assert (line.decision, line.change, line.note) == ("change", "disable", "退職予定のため")
    assert not world.token_works("kudo")  # the privacy officer's change, through staff.contain
    with world.rt.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        assert not next(u for u in staff_service.list_staff(ctx) if u.username == "kudo").active

    _decide(world, "admin", review.id, "sync-bot", "change", "revoke_tokens")
    assert not world.token_works("sync-bot")  # the administrator's change, through staff.manage
    with world.rt.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        assert next(u for u in staff_service.list_staff(ctx) if u.username == "sync-bot").active

    sato_line = next(x for x in review.items if x.username == "sato")
    _decide(world, "po", review.ref, sato_line.id)  # by line id
    _decide(world, "admin", review.ref, "po")
    for username in ("admin", "ito", "endo"):
        _decide(world, "po", review.ref, username)
    decided = _entries(world, "monitoring.review_decide")
    assert len(decided) == 7
    kudo = next(e for e in decided if e.details["staff_id"] == world.ids["kudo"])
    assert kudo.details["decision"] == "change" and kudo.details["change"] == "disable"
    assert kudo.details["note"] is True  # that there is a note, never its text
    with pytest.raises(Conflict) as again:
        _decide(world, "admin", review.ref, "kudo")
    assert again.value.code == "line_changed"
    assert _decide(world, "admin", review.ref, "sato").decided_by == world.actor("admin").label  # re-decided

    with world.rt.transaction(world.actor("po")) as ctx:
        shown = reviews.get(ctx, review.ref)
    assert shown.decided == 7 and shown.changes == 2 and shown.status == "open"


def test_bad_decisions_are_refused_and_change_nothing(world):
    review = _start(world)
    cases = [
        ("kudo", "maybe", None, "bad_decision"),
        ("kudo", "change", None, "change_required"),
        ("kudo", "confirm", "disable", "change_not_allowed"),
        ("kudo", "change", "role:outsourcee", "bad_change"),
        ("kudo", "change", "delete", "bad_change"),
    ]
    for username, decision, change, code in cases:
        with pytest.raises(ValidationFailed) as exc:
            _decide(world, "po", review.ref, username, decision, change)
        assert exc.value.code == code
    with pytest.raises(ValidationFailed) as long_note:
        _decide(world, "po", review.ref, "kudo", "confirm", None, "x" * 1001)
    assert long_note.value.code == "note_too_long"
    with pytest.raises(NotFound) as unknown_line:
        _decide(world, "po", review.ref, "nobody")
    assert unknown_line.value.code == "line_not_found"
    with pytest.raises(NotFound) as unknown_review:
        _decide(world, "po", "AR-2026-Q1", "kudo")
    assert unknown_review.value.code == "review_not_found"
    assert world.token_works("kudo")
    with world.rt.transaction(world.actor("po")) as ctx:
        assert reviews.get(ctx, review.id).decided == 0


# -- close and the seal ------------------------------------------------------------------------------------------------


def test_close_is_refused_while_a_line_is_undecided(world):
    review = _start(world)
    _decide(world, "po", review.ref, "sato")
    with pytest.raises(Conflict) as exc, world.rt.transaction(world.actor("po")) as ctx:
        reviews.close(ctx, review.ref)
    assert exc.value.code == "lines_undecided" and exc.value.details == {"count": 6}


def test_a_closed_review_is_sealed_and_refuses_every_change(world):
    review = _start(world)
    _decide_all(world, review.ref)
    with world.rt.transaction(world.actor("po")) as ctx:
        closed = reviews.close(ctx, review.ref)
    assert closed.status == "closed" and closed.closed_by == world.actor("po").label
    assert closed.digest is not None and len(closed.digest) == 64
    sealed = _entries(world, "monitoring.review_close")[-1]
    assert {k: v for k, v in sealed.details.items() if k != "outbox_id"} == {
        "review_id": review.id,
        "ref": "AR-2026-Q4",
        "digest": closed.digest,
        "lines": 7,
        "changes": 0,
    }
    for attempt in (
        lambda ctx: reviews.decide(ctx, review.ref, "sato", "change", "disable"),
        lambda ctx: reviews.close(ctx, review.ref),
    ):
        with pytest.raises(Conflict) as exc, world.rt.transaction(world.actor("admin")) as ctx:
            attempt(ctx)
        assert exc.value.code == "review_closed"
    assert world.token_works("sato")  # the refused change did nothing
    check = _verify(world, review.ref)
    assert check.ok and check.stored_matches and check.audit_matches
    assert check.computed == closed.digest == check.stored == check.audited and check.lines == 7
    verified = _entries(world, "monitoring.review_verify", "info")[-1]
    assert verified.details["ok"] is True and verified.details["review_id"] == review.id


def test_verify_an_open_review_is_refused(world):
    review = _start(world)
    with pytest.raises(Conflict) as exc:
        _verify(world, review.ref)
    assert exc.value.code == "review_not_closed"


def _closed_review(world: World):
    review = _start(world)
    _decide(world, "po", review.ref, "kudo", "change", "disable")
    _decide(world, "admin", review.ref, "po")
    for username in ("admin", "sato", "ito", "endo", "sync-bot"):
        _decide(world, "po", review.ref, username)
    with world.rt.transaction(world.actor("po")) as ctx:
        return reviews.close(ctx, review.ref)


def test_an_edit_of_the_data_store_outside_mamori_is_found_even_when_the_seal_is_recomputed(world):
    closed = _closed_review(world)
    attacker = Attacker(world.rt.settings)
    try:
        # 1. someone with the database turns kudo's "disable" into a plain confirmation
        kudo = attacker.sql(
            "SELECT id, decision FROM access_review_lines WHERE review_id = ? AND username = ?",
            closed.id,
            "kudo",
        )[0]
        assert kudo["decision"] == "change"
        attacker.sql(
            "UPDATE access_review_lines SET decision = ?, change = NULL WHERE id = ?", "confirm", kudo["id"]
        )
        check = _verify(world, closed.ref)
        assert (check.ok, check.stored_matches, check.audit_matches) == (False, False, False)
        assert check.stored == closed.digest == check.audited and check.computed != closed.digest
        assert _entries(world, "monitoring.review_verify", "info")[-1].details["ok"] is False

        # 2. …and recomputes the seal with hashlib and writes it into access_reviews.digest
        forged = attacker.reseal(closed.id)
        assert forged != closed.digest
        check = _verify(world, closed.ref)
        assert check.stored_matches is True and check.stored == forged == check.computed
        assert check.audit_matches is False and check.audited == closed.digest and check.ok is False
    finally:
        attacker.close()


def test_a_deleted_line_is_found(world):
    closed = _closed_review(world)
    attacker = Attacker(world.rt.settings)
    try:
        attacker.sql(
            "DELETE FROM access_review_lines WHERE review_id = ? AND username = ?", closed.id, "endo"
        )
        check = _verify(world, closed.ref)
        assert check.lines == 6 and not check.ok and not check.stored_matches and not check.audit_matches
        attacker.sql("UPDATE access_reviews SET status = ?, digest = NULL WHERE id = ?", "open", closed.id)
        check = _verify(world, closed.ref)  # "reopened" in the store: the audit log still holds the seal
        assert check.stored is None and not check.ok and check.audited == closed.digest
    finally:
        attacker.close()


# -- due ---------------------------------------------------------------------------------------------------------------


def test_due_says_which_period_and_whether_the_previous_went_unreviewed(world):
    with world.rt.transaction(world.actor("admin")) as ctx:
        before = reviews.due(ctx)
    assert before.period.label == "2026-Q4" and before.previous.label == "2026-Q3"
    assert before.today == date(2026, 11, 23) and before.interval_months == 3 and before.unused_days == 90
    assert (before.done, before.overdue, before.open_review, before.last_closed) == (False, True, None, None)

    q3 = _start(world, "po", "2026-Q3")
    assert q3.ref == "AR-2026-Q3" and q3.period.end == date(2026, 9, 30)
    with world.rt.transaction(world.actor("admin")) as ctx:
        assert reviews.due(ctx).open_review.ref == "AR-2026-Q3"
    _decide_all(world, q3.ref)
    with world.rt.transaction(world.actor("po")) as ctx:
        reviews.close(ctx, q3.ref)
        after = reviews.due(ctx)
    assert (after.done, after.overdue) == (False, False)
    assert after.last_closed is not None and after.last_closed.ref == "AR-2026-Q3"

    with world.rt.transaction(world.actor("po")) as ctx:
        settings_service.update(ctx, SettingsIn(review_interval_months=6))
        halves = reviews.due(ctx)
    assert (halves.period.label, halves.period.start, halves.previous.label) == (
        "2026-H2",
        date(2026, 7, 1),
        "2026-H1",
    )
    assert halves.done is True  # the closed Q3 review lies in H2


def test_periods_of_every_interval_are_aligned_to_the_calendar_year():
    day = date(2026, 11, 23)
    assert reviews.period_of(day, 1).label == "2026-11"
    assert reviews.period_of(day, 12).label == "2026-Y"
    five = reviews.period_of(day, 5)  # Jan-May, Jun-Oct, Nov-Dec
    assert (five.label, five.start, five.end) == ("2026-P3", date(2026, 11, 1), date(2026, 12, 31))
    first = reviews.period_of(date(2027, 1, 5), 3)
    assert reviews.previous_period(first, 3).label == "2026-Q4"
    assert reviews.parse_period("2026-02", 3).end == date(2026, 2, 28)


def test_bad_or_future_periods_are_refused(world):
    for label in ("2026-Q5", "2026-H3", "26-Q1", "2026-13", "2026-P9", "Q4-2026"):
        with pytest.raises(ValidationFailed) as exc:
            _start(world, "po", label)
        assert exc.value.code == "bad_period"
    with pytest.raises(ValidationFailed) as future:
        _start(world, "po", "2027-Q1")
    assert future.value.code == "period_in_future"
    with world.rt.transaction(world.actor("po")) as ctx:
        assert reviews.list_reviews(ctx) == []


# -- who may ------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["sato", "ito"])
def test_sales_are_refused_everything_and_the_refusals_are_audited(world, who):
    review = _start(world)
    calls = {
        "due": lambda ctx: reviews.due(ctx),
        "list": lambda ctx: reviews.list_reviews(ctx),
        "start": lambda ctx: reviews.start(ctx, None),
        "get": lambda ctx: reviews.get(ctx, review.ref),
        "decide": lambda ctx: reviews.decide(ctx, review.ref, "kudo", "change", "disable"),
        "close": lambda ctx: reviews.close(ctx, review.ref),
        "verify": lambda ctx: reviews.verify(ctx, review.ref),
    }
    for name, call in calls.items():
        with pytest.raises(PolicyDenied) as exc, world.rt.transaction(world.actor(who)) as ctx:
            call(ctx)
        assert exc.value.rule_id == "R-23-2", name
    denials = [
        e for e in _entries(world, "monitoring.access_review", "deny") if e.actor == world.actor(who).label
    ]
    assert len(denials) == len(calls) and {e.reason for e in denials} == {"role_not_permitted"}
    assert world.token_works("kudo")  # the refused change did nothing


def test_an_analyst_is_refused(runtime):
    from tests.factories import seed_basics

    analyst = seed_basics(runtime)["analyst"]
    with pytest.raises(PolicyDenied), runtime.transaction(analyst) as ctx:
        reviews.start(ctx, None)
    with runtime.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        assert reviews.list_reviews(ctx) == []


def test_times_in_the_seal_survive_the_round_trip(world):
    """The seal is computed from the rows as stored (microseconds kept on both backends)."""
    world.rt.clock.at = datetime(2026, 11, 23, 1, 0, 0, 123456, tzinfo=UTC)  # type: ignore[attr-defined]
    closed = _closed_review(world)
    assert _verify(world, closed.id).ok


def test_a_role_change_is_the_administrators_and_takes_effect(world):
    review = _start(world)
    assert world.token_works("sato")
    with pytest.raises(PolicyDenied) as refused:  # the privacy officer may not move accounts between roles
        _decide(world, "po", review.ref, "sato", "change", "role:support")
    assert refused.value.rule_id == "R-23-2"
    with world.rt.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        assert next(u for u in staff_service.list_staff(ctx) if u.username == "sato").role == "sales"
    line = _decide(world, "admin", review.ref, "sato", "change", "role:support", "担当業務の変更のため")
    assert (line.decision, line.change) == ("change", "role:support")
    with world.rt.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        assert next(u for u in staff_service.list_staff(ctx) if u.username == "sato").role == "support"
    assert not world.token_works("sato")  # the token carried the old role: it ended with the change
    moved = [e for e in world.rt.audit.tail(50) if e.action == "staff.role_change"]
    assert [(e.details["from"], e.details["to"]) for e in moved] == [("sales", "support")]
