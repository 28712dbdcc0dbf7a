"""The check before a contact (``contact.service.reach.check``, issue 20): refused with the rule, or the person's
contact points for the channel — audited either way, without values."""

from __future__ import annotations

import json

import pytest

from mamori.contact.schemas import ReachRead
from mamori.contact.service import reach
from mamori.kernel.context import Actor
from mamori.kernel.errors import NotFound, PolicyDenied, ValidationFailed
from tests.contact.conftest import BILLING, NEWSLETTER, OUTBOUND, World, opt_in


def _check(w: World, actor: Actor, purpose: str | None, cid: str, channel: str) -> ReachRead:
    with w.rt.transaction(actor, purpose) as ctx:
        return reach.check(ctx, cid, channel)


def _last(w: World) -> object:
    return list(w.rt.audit.tail(1))[-1]


def test_allowed_gives_the_channels_contact_points_and_is_audited(world: World) -> None:
    w = world
    found = _check(w, w.actors["support"], OUTBOUND.code, w.ids["ok"], "phone")
    assert found.contact_points == ["+819012345601"] and found.name == "試験 太郎1"
    assert found.address is None  # a phone check shows no address
    entry = _last(w)
    assert entry.action == "contact.reach" and entry.decision == "allow"  # type: ignore[attr-defined]
    assert entry.subject_ids == (w.ids["ok"],)  # type: ignore[attr-defined]
    assert "+8190" not in json.dumps(entry.details) and "試験" not in repr(entry)  # type: ignore[attr-defined]
    post = _check(w, w.actors["support"], OUTBOUND.code, w.ids["ok"], "post")
    assert post.address == "東京都渋谷区神宮前1-2-3" and post.contact_points == []


@pytest.mark.parametrize(
    ("who", "purpose", "channel", "code", "rule"),
    [
        ("dnc", OUTBOUND.code, "phone", "do_not_contact", "R-35-1"),
        ("stopped", OUTBOUND.code, "phone", "use_stopped", "R-35-1"),
        ("unnotified", OUTBOUND.code, "phone", "purpose_not_notified", "R-21-1"),
        ("never", NEWSLETTER.code, "email", "optin_missing", "TE-3"),
        ("optout", NEWSLETTER.code, "email", "optin_withdrawn", "TE-3"),
        ("ok", NEWSLETTER.code, "phone", "channel_not_in_purpose", "R-18-1"),
        ("ok", BILLING, "phone", "channel_not_in_purpose", "R-18-1"),
    ],
)
def test_refused_with_the_rule_and_audited(
    world: World, who: str, purpose: str, channel: str, code: str, rule: str
) -> None:
    w = world
    with pytest.raises(PolicyDenied) as err:
        _check(w, w.actors["po"], purpose, w.ids[who], channel)
    assert err.value.code == code and err.value.rule_id == rule
    entry = _last(w)
    assert entry.decision == "deny" and entry.reason == code  # type: ignore[attr-defined]


def test_phone_dnc_leaves_other_channels_and_people_alone(world: World) -> None:
    w = world
    assert _check(w, w.actors["po"], OUTBOUND.code, w.ids["dnc"], "post").address
    assert _check(w, w.actors["po"], NEWSLETTER.code, w.ids["dnc"], "email").contact_points
    assert _check(w, w.actors["po"], OUTBOUND.code, w.ids["ok2"], "phone").contact_points


def test_opt_in_after_refusal_takes_effect_at_once(world: World) -> None:
    w = world
    with pytest.raises(PolicyDenied):
        _check(w, w.actors["po"], NEWSLETTER.code, w.ids["never"], "email")
    opt_in(w.rt, w.actors["po"], w.ids["never"], "email")
    assert _check(w, w.actors["po"], NEWSLETTER.code, w.ids["never"], "email").contact_points == [
        "person8@example.jp"
    ]


def test_scope_role_and_bad_input(world: World) -> None:
    w = world
    with pytest.raises((PolicyDenied, NotFound)) as err:
        _check(w, w.actors["suzuki"], OUTBOUND.code, w.ids["ok"], "phone")  # sato's customer
    if isinstance(err.value, PolicyDenied):
        assert err.value.rule_id == "R-23-2"
    with pytest.raises(PolicyDenied) as role:
        _check(w, w.actors["analyst"], OUTBOUND.code, w.ids["ok"], "phone")
    assert role.value.rule_id == "R-23-2"
    with pytest.raises(PolicyDenied) as nopurpose:
        _check(w, w.actors["support"], None, w.ids["ok"], "phone")
    assert nopurpose.value.code == "purpose_required"
    with pytest.raises(ValidationFailed):
        _check(w, w.actors["support"], OUTBOUND.code, w.ids["ok"], "pigeon")
    with pytest.raises(NotFound):
        _check(w, w.actors["support"], OUTBOUND.code, w.ids["erased"], "phone")
    with pytest.raises(NotFound):
        _check(w, w.actors["support"], OUTBOUND.code, "0" * 32, "phone")
