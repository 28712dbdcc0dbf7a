"""Issue 20, the engine's part: contact channels on purposes, do-not-contact and opt-in (pure, no database).

A purpose that names channels masks, for a person, the contact points whose every channel of that purpose is
blocked (do-not-contact R-35-1, or a missing / withdrawn opt-in for advertising e-mail or SMS, TE-3), and a contact
action on a channel is refused with the rule that blocks it. Purposes without channels are untouched."""

from __future__ import annotations

import pytest

from mamori.customers.schemas import FIELD_CHANNELS
from mamori.kernel.context import Actor, ActorKind, Context, Role
from mamori.kernel.policy import Action, Category, PurposeFacts, Resource, blocked_channels, decide
from mamori.kernel.registry import PurposeState


@pytest.fixture(autouse=True, scope="module")
def _slices_registered():
    from mamori import composition

    composition.register_all()


CATS = frozenset({Category.IDENTIFIER, Category.CONTACT})
FIELDS = {
    "name": Category.IDENTIFIER,
    "phones": Category.CONTACT,
    "emails": Category.CONTACT,
    "postal_code": Category.CONTACT,
    "address": Category.CONTACT,
}
OUTBOUND = PurposeFacts(code="outbound", categories=CATS, channels=frozenset({"phone", "post"}))
MAIL = PurposeFacts(code="newsletter", categories=CATS, channels=frozenset({"email"}), marketing=True)
BILLING = PurposeFacts(code="billing", categories=CATS)


def ctx(purpose: str, role: Role = Role.SUPPORT) -> Context:
    actor = Actor(kind=ActorKind.STAFF, id="u1", name="u1", role=role, team=None)
    return Context(actor=actor, session=None, runtime=None, purpose=purpose)  # type: ignore[arg-type]


def res(facts: PurposeFacts, state: PurposeState = PurposeState(), channel: str | None = None) -> Resource:
    return Resource(
        kind="customer",
        subject_id="c1",
        owner_id="u1",
        purpose=facts,
        notified_purposes=frozenset({facts.code}),
        fields=FIELDS,
        field_channels=FIELD_CHANNELS,
        state=state,
        channel=channel,
    )


NO_PHONE = PurposeState(channels_out=frozenset({"phone"}))


def test_a_phone_do_not_contact_masks_the_phone_for_outbound_only_R_35_1():
    outbound = decide(ctx("outbound"), Action.CUSTOMER_READ, res(OUTBOUND, NO_PHONE))
    assert outbound.allowed and outbound.masked_fields == {"phones"}
    billing = decide(ctx("billing"), Action.CUSTOMER_READ, res(BILLING, NO_PHONE))
    assert billing.allowed and billing.masked_fields == frozenset()
    other = decide(ctx("outbound"), Action.CUSTOMER_READ, res(OUTBOUND))
    assert other.masked_fields == frozenset()


def test_a_call_on_a_refused_channel_is_denied_with_R_35_1_and_another_channel_is_not():
    call = decide(ctx("outbound"), Action.CONTACT_REACH, res(OUTBOUND, NO_PHONE, channel="phone"))
    assert not call.allowed and call.code == "do_not_contact" and call.rule_ids == ("R-35-1",)
    letter = decide(ctx("outbound"), Action.CONTACT_REACH, res(OUTBOUND, NO_PHONE, channel="post"))
    assert letter.allowed


def test_a_channel_the_purpose_does_not_name_is_refused_R_18_1():
    d = decide(ctx("outbound"), Action.CONTACT_REACH, res(OUTBOUND, channel="email"))
    assert not d.allowed and d.code == "channel_not_in_purpose" and d.rule_ids == ("R-18-1",)
    billing = decide(ctx("billing"), Action.CONTACT_REACH, res(BILLING, channel="phone"))
    assert not billing.allowed and billing.code == "channel_not_in_purpose"


def test_advertising_mail_needs_a_prior_opt_in_and_stops_when_withdrawn_TE_3():
    missing = decide(ctx("newsletter"), Action.CONTACT_LIST, res(MAIL, channel="email"))
    assert not missing.allowed and missing.code == "optin_missing" and missing.rule_ids == ("TE-3", "R-CNS-1")
    opted = PurposeState(channels_in=frozenset({"email"}))
    assert decide(ctx("newsletter"), Action.CONTACT_LIST, res(MAIL, opted, channel="email")).allowed
    withdrawn = PurposeState(channels_out=frozenset({"email"}))
    d = decide(ctx("newsletter"), Action.CONTACT_LIST, res(MAIL, withdrawn, channel="email"))
    assert not d.allowed and d.code == "optin_withdrawn" and "TE-3" in d.rule_ids
    # the address is masked in a read under the marketing purpose without the opt-in, shown with it
    assert decide(ctx("newsletter"), Action.CUSTOMER_READ, res(MAIL)).masked_fields == {"emails"}
    assert decide(ctx("newsletter"), Action.CUSTOMER_READ, res(MAIL, opted)).masked_fields == frozenset()


def test_non_marketing_email_needs_no_opt_in_but_honours_do_not_contact():
    notices = PurposeFacts(code="notices", categories=CATS, channels=frozenset({"email"}))
    assert decide(ctx("notices"), Action.CONTACT_REACH, res(notices, channel="email")).allowed
    out = PurposeState(channels_out=frozenset({"email"}))
    d = decide(ctx("notices"), Action.CONTACT_REACH, res(notices, out, channel="email"))
    assert not d.allowed and d.code == "do_not_contact"


def test_a_read_masks_a_number_a_refused_channel_serves_and_a_contact_sees_its_own_channel():
    both = PurposeFacts(code="outbound", categories=CATS, channels=frozenset({"phone", "sms"}))
    read = decide(ctx("outbound"), Action.CUSTOMER_READ, res(both, NO_PHONE))
    assert read.masked_fields == {"phones"}  # the operator must not see a number they may not call
    assert not decide(ctx("outbound"), Action.CONTACT_REACH, res(both, NO_PHONE, channel="phone")).allowed
    sms = decide(ctx("outbound"), Action.CONTACT_LIST, res(both, NO_PHONE, channel="sms"))
    assert sms.allowed and "phones" not in sms.masked_fields  # an SMS list still reaches the mobile
    assert blocked_channels(both, NO_PHONE) == {"phone"}


def test_a_stop_use_comes_before_the_channel_R_35_1():
    stopped = PurposeState(stopped=True, channels_in=frozenset({"email"}))
    d = decide(ctx("newsletter"), Action.CONTACT_LIST, res(MAIL, stopped, channel="email"))
    assert not d.allowed and d.code == "use_stopped"


def test_correcting_a_refused_number_is_a_write_not_a_contact():
    d = decide(ctx("outbound"), Action.CUSTOMER_UPDATE, res(OUTBOUND, NO_PHONE))
    assert d.allowed and "phones" not in d.masked_fields


def test_roles_outside_the_grants_may_not_build_lists_or_send():
    assert not decide(ctx("newsletter", Role.ADMIN), Action.CONTACT_LIST, res(MAIL, channel="email")).allowed
    assert not decide(
        ctx("newsletter", Role.SUPPORT), Action.CAMPAIGN_SEND, res(MAIL, channel="email")
    ).allowed
    assert not decide(
        ctx("outbound", Role.ANALYST), Action.CONTACT_REACH, res(OUTBOUND, channel="phone")
    ).allowed


def test_consent_to_the_advertising_purpose_is_its_opt_in_until_an_unsubscribe_TE_3():
    from mamori.kernel.registry import ConsentState

    granted = PurposeState(consent=ConsentState.GRANTED)
    assert decide(ctx("newsletter"), Action.CONTACT_LIST, res(MAIL, granted, channel="email")).allowed
    unsubscribed = PurposeState(consent=ConsentState.GRANTED, channels_out=frozenset({"email"}))
    d = decide(ctx("newsletter"), Action.CONTACT_LIST, res(MAIL, unsubscribed, channel="email"))
    assert not d.allowed and d.code == "optin_withdrawn"
    assert decide(ctx("newsletter"), Action.CUSTOMER_READ, res(MAIL, unsubscribed)).masked_fields == {
        "emails"
    }
