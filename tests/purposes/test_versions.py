"""Facts per purpose version (R-17-2 / R-21-1) and the GDPR lawful basis of each version (G-6)."""

from __future__ import annotations

import pytest

from mamori.kernel.context import SYSTEM_ACTOR
from mamori.kernel.errors import PolicyDenied, ValidationFailed
from mamori.kernel.policy import Category, PurposeFacts
from mamori.purposes import service
from tests.factories import PURPOSES, seed_basics


def test_facts_follow_the_version_the_person_was_told_and_the_stricter_consent_R_17_2(runtime):
    seed_basics(runtime)
    wider = PURPOSES["contract"].model_copy(
        update={
            "categories": [*PURPOSES["contract"].categories, Category.SENSITIVE],
            "consent_appi": True,
            "lawful_basis": "consent",
            "art9_condition": "explicit_consent",
        }
    )
    with runtime.transaction(SYSTEM_ACTOR) as ctx:
        service.revise(ctx, wider)
    with runtime.transaction(SYSTEM_ACTOR) as ctx:
        v1 = service.facts_for_version(ctx, "contract", 1)
        v2 = service.facts_for_version(ctx, "contract", 2)
        never = service.facts_for_version(ctx, "contract", None)
        assert service.facts_for_version(ctx, "nope", 1) is None
        assert sorted(service.version_facts(ctx, "contract")) == [1, 2]
    assert v1 is not None and v2 is not None
    assert Category.SENSITIVE not in v1.categories and Category.SENSITIVE in v2.categories
    assert v1.unnotified == frozenset({Category.SENSITIVE}) and v2.unnotified == frozenset()
    # the later version needs consent where the old did not: the stricter applies to the v1 person too
    assert v1.consent_required_appi and v1.consent_required_gdpr
    assert v1.lawful_basis is None and v1.art9_condition is None  # v1 named another basis (none)
    assert never == v2


def test_a_narrowed_version_narrows_what_old_notices_reach_R_17_2():
    v1 = PurposeFacts(code="p", categories=frozenset({Category.IDENTIFIER, Category.CONTACT}), version=1)
    v2 = PurposeFacts(
        code="p", categories=frozenset({Category.IDENTIFIER}), version=2, lawful_basis="contract"
    )
    applied = service.as_notified(v1, v2)
    assert applied.categories == frozenset({Category.IDENTIFIER}) and applied.version == 1
    same = PurposeFacts(
        code="p", categories=frozenset({Category.IDENTIFIER}), version=1, lawful_basis="contract"
    )
    assert service.as_notified(same, v2).lawful_basis == "contract"


def test_lawful_basis_stored_per_version_and_consent_follows_it_G_6(runtime):
    seed_basics(runtime)
    with runtime.transaction(SYSTEM_ACTOR) as ctx:
        assert service.show(ctx, "gdpr-newsletter").lawful_basis == "consent"  # consent_gdpr → consent
        assert service.show(ctx, "contract").lawful_basis is None  # none given: none recorded
        v2 = service.revise(
            ctx,
            PURPOSES["contract"].model_copy(
                update={"lawful_basis": "legitimate_interests", "balancing_ref": "LIA-7"}
            ),
        )
        assert v2.lawful_basis == "legitimate_interests" and not v2.consent_gdpr
        v3 = service.revise(ctx, PURPOSES["contract"].model_copy(update={"lawful_basis": "consent"}))
        assert v3.consent_gdpr and v3.balancing_ref is None
        history = service.history(ctx, "contract")
    assert [v.lawful_basis for v in history] == [None, "legitimate_interests", "consent"]
    assert v2.pending_notice == 0  # counted by the customers slice: nobody was notified of contract yet


@pytest.mark.parametrize(
    ("update", "code"),
    [
        ({"lawful_basis": "legitimate_interests"}, "balancing_record_missing"),
        ({"lawful_basis": "contract", "balancing_ref": "LIA-1"}, "balancing_record_unexpected"),
        ({"lawful_basis": "contract", "consent_gdpr": True}, "lawful_basis_conflict"),
        ({"art9_condition": "health_care"}, "art9_without_sensitive"),
    ],
)
def test_bad_lawful_basis_combinations_are_refused_G_6(runtime, update, code):
    seed_basics(runtime)
    with pytest.raises(ValidationFailed) as exc, runtime.transaction(SYSTEM_ACTOR) as ctx:
        service.revise(ctx, PURPOSES["contract"].model_copy(update=update))
    assert exc.value.rule_id == "G-6" and exc.value.code == code
    with runtime.transaction(SYSTEM_ACTOR) as ctx:
        assert service.show(ctx, "contract").version == 1  # nothing written


def test_only_the_privacy_officer_revises_R_23_2(runtime):
    actors = seed_basics(runtime)
    with pytest.raises(PolicyDenied) as exc, runtime.transaction(actors["sato"]) as ctx:
        service.revise(ctx, PURPOSES["contract"].model_copy(update={"lawful_basis": "contract"}))
    assert exc.value.rule_id == "R-23-2"


def test_channels_are_kept_per_version_and_an_old_notice_reaches_only_the_channels_both_name(runtime):
    """Issue 20: revising a purpose's channels is a new version; a person told of v1 is contacted only on the
    channels v1 and the current version both name, and the stricter opt-in need (advertising) applies."""
    seed_basics(runtime)
    v1_in = PURPOSES["contract"].model_copy(update={"channels": ["phone", "post"]})
    v2_in = PURPOSES["contract"].model_copy(update={"channels": ["email", "phone"], "marketing": True})
    with runtime.transaction(SYSTEM_ACTOR) as ctx:
        first = service.revise(ctx, v1_in)
        second = service.revise(ctx, v2_in)
        assert first.channels == ["phone", "post"] and not first.marketing
        assert second.channels == ["phone", "email"] and second.marketing  # CHANNELS order
        history = {r.version: r for r in service.history(ctx, "contract")}
        assert history[first.version].channels == ["phone", "post"]
        told_first = service.facts_for_version(ctx, "contract", first.version)
        told_second = service.facts_for_version(ctx, "contract", second.version)
    assert told_first is not None and told_second is not None
    assert told_first.channels == {"phone"} and told_first.marketing
    assert told_second.channels == {"phone", "email"} and told_second.opt_in_channels == {"email"}


def test_an_unknown_channel_is_refused_with_a_clear_message():
    with pytest.raises(ValueError, match="phone, email, post, sms, visit"):
        PURPOSES["contract"].model_copy(update={}).model_validate(
            {**PURPOSES["contract"].model_dump(), "channels": ["fax"]}
        )
