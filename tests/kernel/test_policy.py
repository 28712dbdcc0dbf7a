"""The policy engine, decision by decision (pure: no database needed)."""

from __future__ import annotations

import pytest

from mamori.kernel.context import Actor, ActorKind, Context, Role
from mamori.kernel.policy import Action, Category, PurposeFacts, Resource, decide
from mamori.kernel.registry import ConsentState, PurposeState


@pytest.fixture(autouse=True, scope="module")
def _slices_registered():
    """The actions and grants come from the slices' permissions.py, registered by composition (ADR 0008)."""
    from mamori import composition

    composition.register_all()


ALL_CATS = frozenset(Category) - {Category.SENSITIVE}
FIELDS = {
    "name": Category.IDENTIFIER,
    "emails": Category.CONTACT,
    "birth_date": Category.ATTRIBUTE,
    "activities": Category.BEHAVIOUR,
    "attr:medical": Category.SENSITIVE,
}


def ctx(
    role: Role = Role.SUPPORT, purpose: str | None = "contract", actor_id: str = "u1", team: str | None = None
):
    actor = Actor(kind=ActorKind.STAFF, id=actor_id, name=actor_id, role=role, team=team)
    return Context(actor=actor, session=None, runtime=None, purpose=purpose)  # type: ignore[arg-type]


def res(**kw) -> Resource:
    base = dict(
        kind="customer",
        subject_id="c1",
        owner_id="u1",
        purpose=PurposeFacts(code="contract", categories=ALL_CATS),
        notified_purposes=frozenset({"contract"}),
        fields=FIELDS,
    )
    base.update(kw)
    return Resource(**base)  # type: ignore[arg-type]


def test_allowed_read_masks_only_what_the_purpose_does_not_cover():
    d = decide(ctx(), Action.CUSTOMER_READ, res())
    assert d.allowed
    assert d.masked_fields == {"attr:medical"}


def test_masking_follows_the_purpose_categories():
    facts = PurposeFacts(
        code="marketing-email", categories=frozenset({Category.IDENTIFIER, Category.CONTACT})
    )
    d = decide(
        ctx(purpose="marketing-email"),
        Action.CUSTOMER_READ,
        res(purpose=facts, notified_purposes=frozenset({"marketing-email"})),
    )
    assert d.allowed
    assert d.masked_fields == {"birth_date", "activities", "attr:medical"}


def test_deny_by_default_for_unknown_role_action():
    d = decide(ctx(role=Role.ANALYST), Action.CUSTOMER_READ, res())
    assert not d.allowed and d.rule_ids == ("R-23-2",) and d.code == "role_not_permitted"


def test_sales_rep_sees_only_own_customers():
    assert decide(ctx(role=Role.SALES, actor_id="u1"), Action.CUSTOMER_READ, res(owner_id="u1")).allowed
    d = decide(ctx(role=Role.SALES, actor_id="u2"), Action.CUSTOMER_READ, res(owner_id="u1"))
    assert not d.allowed and d.code == "out_of_scope" and d.rule_ids == ("R-23-2",)


def test_purpose_must_be_declared():
    d = decide(ctx(purpose=None), Action.CUSTOMER_READ, res())
    assert not d.allowed and d.rule_ids == ("R-18-1",)


def test_unknown_or_retired_purpose():
    d = decide(ctx(purpose="nope"), Action.CUSTOMER_READ, res(purpose=None))
    assert not d.allowed and d.rule_ids == ("R-17-1",)
    retired = PurposeFacts(code="contract", categories=ALL_CATS, retired=True)
    d = decide(ctx(), Action.CUSTOMER_READ, res(purpose=retired))
    assert not d.allowed and d.code == "purpose_retired"


def test_purpose_not_notified_to_this_person_is_denied_R_21_1():
    d = decide(ctx(), Action.CUSTOMER_READ, res(notified_purposes=frozenset({"support"})))
    assert not d.allowed and d.rule_ids[0] == "R-21-1" and "R-18-1" in d.rule_ids
    assert "通知" in d.reason_ja and "notified" in d.reason_en


def test_stop_use_denies_R_35_1():
    d = decide(ctx(), Action.CUSTOMER_READ, res(state=PurposeState(stopped=True)))
    assert not d.allowed and d.rule_ids == ("R-35-1",)


@pytest.mark.parametrize(
    ("state", "code"), [(ConsentState.NONE, "consent_missing"), (ConsentState.WITHDRAWN, "consent_withdrawn")]
)
def test_consent_required_purpose_needs_granted_consent(state, code):
    facts = PurposeFacts(code="contract", categories=ALL_CATS, consent_required_appi=True)
    d = decide(ctx(), Action.CUSTOMER_READ, res(purpose=facts, state=PurposeState(consent=state)))
    assert not d.allowed and d.code == code and d.rule_ids[0] == "R-18-1"
    ok = decide(
        ctx(), Action.CUSTOMER_READ, res(purpose=facts, state=PurposeState(consent=ConsentState.GRANTED))
    )
    assert ok.allowed


def test_gdpr_consent_applies_only_to_gdpr_subjects():
    facts = PurposeFacts(code="contract", categories=ALL_CATS, consent_required_gdpr=True)
    assert decide(ctx(), Action.CUSTOMER_READ, res(purpose=facts, gdpr=False)).allowed
    d = decide(ctx(), Action.CUSTOMER_READ, res(purpose=facts, gdpr=True))
    assert not d.allowed and d.rule_ids[0] == "G-6"


def test_sensitive_fields_need_consent_even_when_the_purpose_covers_them():
    facts = PurposeFacts(code="contract", categories=frozenset(Category))
    d = decide(ctx(), Action.CUSTOMER_READ, res(purpose=facts))
    assert "attr:medical" in d.masked_fields
    d = decide(ctx(), Action.CUSTOMER_READ, res(purpose=facts, state=PurposeState(sensitive_consent=True)))
    assert "attr:medical" not in d.masked_fields


def test_sensitive_write_needs_consent_or_exception_R_20_2():
    d = decide(ctx(), Action.SENSITIVE_WRITE, res(fields={}))
    assert not d.allowed and d.rule_ids == ("R-20-2",)
    assert decide(ctx(), Action.SENSITIVE_WRITE, res(fields={}, sensitive_exception="law")).allowed
    assert decide(
        ctx(), Action.SENSITIVE_WRITE, res(fields={}, state=PurposeState(sensitive_consent=True))
    ).allowed


def test_writing_a_field_outside_the_purpose_is_denied():
    facts = PurposeFacts(code="contract", categories=frozenset({Category.CONTACT}))
    d = decide(ctx(), Action.CUSTOMER_UPDATE, res(purpose=facts, fields={"birth_date": Category.ATTRIBUTE}))
    assert not d.allowed and d.code == "field_outside_purpose"


def test_denial_raises_with_rule_id():
    from mamori.kernel.errors import PolicyDenied

    d = decide(ctx(), Action.CUSTOMER_READ, res(notified_purposes=frozenset()))
    with pytest.raises(PolicyDenied) as exc:
        d.raise_if_denied()
    assert exc.value.rule_id == "R-21-1"
    assert "[R-21-1]" in exc.value.one_line()


def test_an_action_no_slice_registered_is_denied_even_to_the_system():
    from mamori.kernel.context import SYSTEM_ACTOR

    system = Context(actor=SYSTEM_ACTOR, session=None, runtime=None, purpose="contract")  # type: ignore[arg-type]
    for c in (system, ctx(role=Role.PRIVACY_OFFICER)):
        d = decide(c, Action("nobody.registered"), res())
        assert not d.allowed and d.code == "role_not_permitted" and d.rule_ids == ("R-23-2",)
    assert decide(system, Action.CUSTOMER_READ, res()).allowed


def test_an_outsourcee_writes_only_under_a_contract_that_allows_writing_R_25_1():
    from datetime import UTC, datetime, timedelta

    from mamori.kernel.registry import AccessGrant

    now = datetime.now(UTC)
    grant = AccessGrant(
        contract_id="k1",
        purposes=frozenset({"contract"}),
        fields=frozenset(FIELDS),
        customer_ids=frozenset({"c1"}),
        valid_from=now - timedelta(days=1),
        valid_until=now + timedelta(days=1),
    )
    outsourcee = ctx(role=Role.OUTSOURCEE, actor_id="op")
    assert decide(outsourcee, Action.CUSTOMER_READ, res(grant=grant)).allowed
    d = decide(outsourcee, Action.ACTIVITY_WRITE, res(grant=grant, fields={}))
    assert not d.allowed and d.code == "outside_contract" and d.rule_ids == ("R-25-1",)
    writing = AccessGrant(**{**grant.__dict__, "activity_write": True})
    assert decide(outsourcee, Action.ACTIVITY_WRITE, res(grant=writing, fields={})).allowed


# -- rules as data: each check runs only while its rule is in force on ctx.clock's date (ADR 0009) ----------------


def _dated_ctx(day: str, **kw):
    from datetime import UTC, datetime

    from mamori.kernel.clock import FrozenClock

    c = ctx(**kw)
    c.clock = FrozenClock(datetime.fromisoformat(f"{day}T03:00:00").replace(tzinfo=UTC))
    return c


def _book_ending(rule_id: str, last_day: str):
    """A small rule book: ``rule_id`` stops applying after ``last_day``; every other rule is in force."""
    from datetime import date

    def book(asked: str, on: date) -> bool:
        return not (asked == rule_id and on > date.fromisoformat(last_day))

    return book


def test_a_rule_whose_effective_to_has_passed_is_not_enforced_R_R8_3():
    from mamori.kernel import rulebook

    stopped = res(state=PurposeState(stopped=True))
    with rulebook.using(_book_ending("R-35-1", "2026-12-31")):
        d = decide(_dated_ctx("2026-12-06"), Action.CUSTOMER_READ, stopped)
        assert not d.allowed and d.rule_ids == ("R-35-1",)
        assert decide(_dated_ctx("2027-01-01"), Action.CUSTOMER_READ, stopped).allowed
    with rulebook.using(_book_ending("R-21-1", "2026-12-31")):
        unnotified = res(notified_purposes=frozenset())
        # the notice check also enforces R-18-1, still in force: it stands
        assert not decide(_dated_ctx("2027-01-01"), Action.CUSTOMER_READ, unnotified).allowed
    with rulebook.using(lambda rid, on: rid not in ("R-21-1", "R-18-1") or on.year < 2027):
        assert decide(_dated_ctx("2027-01-01"), Action.CUSTOMER_READ, unnotified).allowed


def test_the_rule_book_is_asked_on_the_jst_date_of_the_clock_R_R8_3():
    from datetime import UTC, datetime

    from mamori.kernel import rulebook
    from mamori.kernel.clock import FrozenClock

    stopped = res(state=PurposeState(stopped=True))
    c = ctx()
    c.clock = FrozenClock(datetime(2026, 12, 31, 15, 0, tzinfo=UTC))  # 2027-01-01 00:00 in Japan
    with rulebook.using(_book_ending("R-35-1", "2026-12-31")):
        assert decide(c, Action.CUSTOMER_READ, stopped).allowed


def test_without_a_rule_book_every_rule_applies_and_unknown_ids_fail_closed_R_R8_3():
    from mamori.kernel import rulebook

    stopped = res(state=PurposeState(stopped=True))
    with rulebook.using(None):
        assert not decide(_dated_ctx("2099-01-01"), Action.CUSTOMER_READ, stopped).allowed

    def strict(rule_id, on):
        raise LookupError(rule_id)

    with rulebook.using(strict), pytest.raises(LookupError):
        decide(ctx(), Action.CUSTOMER_READ, stopped)


def test_composition_registers_the_laws_lookup_R_R8_3():
    from datetime import date

    from mamori.kernel import rulebook
    from mamori.law import rules

    assert rulebook.rule_book() is rules.in_force
    assert rulebook.in_force("R-17-1", date(2026, 12, 6))
    assert not rulebook.in_force("R-R8-4", date(2026, 12, 6))
    with pytest.raises(rules.UnknownRule):
        rulebook.in_force("R-00-0", date(2026, 12, 6))


def test_gdpr_subject_needs_a_lawful_basis_for_the_purpose_G_6():
    none = PurposeFacts(code="contract", categories=ALL_CATS)
    assert decide(
        ctx(), Action.CUSTOMER_READ, res(purpose=none, gdpr=False)
    ).allowed  # the APPI has no such rule
    d = decide(ctx(), Action.CUSTOMER_READ, res(purpose=none, gdpr=True))
    assert not d.allowed and d.code == "lawful_basis_missing" and d.rule_ids == ("G-6",)
    assert "GDPR" in d.reason_ja and "lawful basis" in d.reason_en
    d = decide(
        ctx(), Action.CUSTOMER_UPDATE, res(purpose=none, gdpr=True, fields={"name": Category.IDENTIFIER})
    )
    assert not d.allowed and d.code == "lawful_basis_missing"
    based = PurposeFacts(code="contract", categories=ALL_CATS, lawful_basis="contract")
    assert decide(ctx(), Action.CUSTOMER_READ, res(purpose=based, gdpr=True)).allowed


def test_special_categories_masked_for_gdpr_subjects_without_an_art9_condition_G_6():
    facts = PurposeFacts(code="contract", categories=frozenset(Category), lawful_basis="contract")
    consented = PurposeState(sensitive_consent=True)
    jp = decide(ctx(), Action.CUSTOMER_READ, res(purpose=facts, state=consented))
    assert "attr:medical" not in jp.masked_fields
    eu = decide(ctx(), Action.CUSTOMER_READ, res(purpose=facts, state=consented, gdpr=True))
    assert eu.allowed and "attr:medical" in eu.masked_fields
    art9 = PurposeFacts(
        code="contract", categories=frozenset(Category), lawful_basis="contract", art9_condition="health_care"
    )
    eu = decide(ctx(), Action.CUSTOMER_READ, res(purpose=art9, state=consented, gdpr=True))
    assert "attr:medical" not in eu.masked_fields


def test_a_category_only_a_version_not_notified_covers_is_masked_and_not_writable_R_17_2_R_21_1():
    told = PurposeFacts(
        code="contract",
        categories=frozenset({Category.IDENTIFIER}),
        version=1,
        unnotified=frozenset({Category.ATTRIBUTE}),
    )
    d = decide(ctx(), Action.CUSTOMER_READ, res(purpose=told))
    assert d.allowed and "birth_date" in d.masked_fields and "name" not in d.masked_fields
    d = decide(ctx(), Action.CUSTOMER_UPDATE, res(purpose=told, fields={"birth_date": Category.ATTRIBUTE}))
    assert not d.allowed and d.code == "purpose_version_not_notified" and d.rule_ids == ("R-17-2", "R-21-1")
    d = decide(ctx(), Action.CUSTOMER_UPDATE, res(purpose=told, fields={"emails": Category.CONTACT}))
    assert not d.allowed and d.code == "field_outside_purpose"  # never in any version: use beyond the purpose
