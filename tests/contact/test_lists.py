"""Call and mailing lists through the policy engine (issue 20, deliverable 3): who is in, who is out and why,
what the rows hold, the audit, the segments."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from sqlalchemy import select

from mamori.contact.models import ContactListBuild
from mamori.contact.schemas import ContactList
from mamori.contact.service import lists
from mamori.kernel.context import Actor
from mamori.kernel.errors import PolicyDenied, ValidationFailed
from tests.contact.conftest import BILLING, NEWSLETTER, OUTBOUND, World, do_not_contact, person


def _build(w: World, actor: Actor, purpose: str | None, **kw: object) -> ContactList:
    with w.rt.transaction(actor, purpose) as ctx:
        return lists.build(ctx, **kw)  # type: ignore[arg-type]


def _tail(w: World, n: int = 5) -> list[Any]:
    return list(w.rt.audit.tail(n))


def test_phone_list_leaves_out_dnc_stopped_erased_unnotified(world: World) -> None:
    w, ids = world, world.ids
    built = _build(w, w.actors["support"], OUTBOUND.code, channel="phone")
    included = {r["customer_id"] for r in built.rows}
    assert included == {ids["ok"], ids["ok2"], ids["landline"], ids["optout"], ids["never"]}
    assert built.excluded == {
        "do_not_contact": 1,
        "use_stopped": 1,
        "erased": 1,
        "purpose_not_notified": 1,
        "no_contact_point": 1,
    }
    assert built.considered == 10
    assert built.fields == ("customer_id", "name", "kana", "phone")
    row = next(r for r in built.rows if r["customer_id"] == ids["ok"])
    assert set(row) == set(built.fields)
    assert row["phone"] == "+819012345601"
    assert row["name"] == "試験 太郎1"
    assert built.purpose == OUTBOUND.code and built.purpose_version == 1


def test_build_is_recorded_and_audited_without_values(world: World) -> None:
    w, ids = world, world.ids
    with w.rt.transaction(w.actors["support"], OUTBOUND.code) as ctx:
        built, data = lists.export_csv(ctx, lists.build(ctx, channel="phone"))
    with w.rt.transaction(w.actors["po"], readonly=True) as rctx:
        row = rctx.session.execute(select(ContactListBuild)).scalar_one()
    assert row.id == built.build_id and row.channel == "phone" and row.included == 5
    assert json.loads(row.excluded)["do_not_contact"] == 1
    assert row.output_sha256 == built.output_sha256 == hashlib.sha256(data).hexdigest()
    entry = next(e for e in _tail(w, 10) if e.action == "contact.list" and e.decision == "allow")
    assert set(entry.subject_ids) == {r["customer_id"] for r in built.rows}
    assert ids["dnc"] not in entry.subject_ids
    assert entry.details["excluded_do_not_contact"] == 1
    assert entry.details["included"] == 5 and entry.details["considered"] == 10
    text = json.dumps(entry.details, ensure_ascii=False) + repr(entry)
    assert "試験" not in text and "+8190" not in text and "@example.jp" not in text


def test_sms_keeps_mobile_numbers_only(world: World) -> None:
    built = _build(world, world.actors["support"], OUTBOUND.code, channel="sms")
    included = {r["customer_id"] for r in built.rows}
    assert world.ids["landline"] not in included and world.ids["ok"] in included
    assert built.excluded["no_contact_point"] == 2  # the landline and the person without a phone
    assert all((r["phone"] or "").startswith("+81901234") for r in built.rows)


def test_post_list_holds_the_address_only(world: World) -> None:
    built = _build(world, world.actors["support"], OUTBOUND.code, channel="post")
    assert built.fields == ("customer_id", "name", "kana", "postal_code", "address")
    row = next(r for r in built.rows if r["customer_id"] == world.ids["ok"])
    assert row["address"] == "東京都渋谷区神宮前1-2-3" and row["postal_code"]
    assert "phone" not in row and "email" not in row
    # a phone do-not-contact does not take the person off the post list
    assert world.ids["dnc"] in {r["customer_id"] for r in built.rows}


def test_marketing_email_needs_opt_in(world: World) -> None:
    w, ids = world, world.ids
    built = _build(w, w.actors["analyst"], NEWSLETTER.code, channel="email")
    included = {r["customer_id"] for r in built.rows}
    assert ids["never"] not in included and ids["optout"] not in included
    assert ids["ok"] in included and ids["dnc"] in included  # phone do-not-contact: e-mail unaffected
    assert built.excluded["optin_missing"] >= 1
    assert built.excluded["optin_withdrawn"] == 1
    assert built.fields == ("customer_id", "name", "kana", "email")
    row = next(r for r in built.rows if r["customer_id"] == ids["ok"])
    assert row["email"] == "person1@example.jp"


def test_dnc_takes_effect_at_the_next_build(world: World) -> None:
    w, ids = world, world.ids
    do_not_contact(w.rt, w.actors["support"], ids["ok2"], "phone")
    built = _build(w, w.actors["support"], OUTBOUND.code, channel="phone")
    assert ids["ok2"] not in {r["customer_id"] for r in built.rows}
    assert built.excluded["do_not_contact"] == 2


def test_sales_rep_lists_only_their_own_customers(world: World) -> None:
    w, ids = world, world.ids
    built = _build(w, w.actors["suzuki"], OUTBOUND.code, channel="phone")
    assert [r["customer_id"] for r in built.rows] == [ids["ok2"]]
    assert built.considered == 1
    mine = _build(w, w.actors["sato"], OUTBOUND.code, channel="phone")
    assert ids["ok2"] not in {r["customer_id"] for r in mine.rows}
    assert ids["ok"] in {r["customer_id"] for r in mine.rows}


def test_ids_narrow_the_list_and_count_others(world: World) -> None:
    w, ids = world, world.ids
    given = [ids["ok"], ids["dnc"], "f" * 32]
    built = _build(w, w.actors["support"], OUTBOUND.code, channel="phone", ids=given)
    assert [r["customer_id"] for r in built.rows] == [ids["ok"]]
    assert built.excluded == {"do_not_contact": 1, "not_found": 1}
    assert built.considered == 3
    rep = _build(w, w.actors["suzuki"], OUTBOUND.code, channel="phone", ids=[ids["ok"], ids["ok2"]])
    if w.rt.settings.database_url.startswith("sqlite"):
        assert rep.excluded == {"out_of_scope": 1}
    assert [r["customer_id"] for r in rep.rows] == [ids["ok2"]]


def test_unauthorised_role_is_refused_and_audited(world: World) -> None:
    w = world
    with pytest.raises(PolicyDenied) as err:
        _build(w, w.actors["admin"], OUTBOUND.code, channel="phone")
    assert err.value.rule_id == "R-23-2"
    entry = _tail(w, 3)[-1]
    assert entry.action == "contact.list" and entry.decision == "deny"


@pytest.mark.parametrize(
    ("purpose", "channel", "error", "code", "rule"),
    [
        (None, "phone", PolicyDenied, "purpose_required", "R-18-1"),
        ("no-such-purpose", "phone", PolicyDenied, "purpose_unknown", "R-17-1"),
        (OUTBOUND.code, "fax", ValidationFailed, "bad_channel", None),
        (OUTBOUND.code, "email", PolicyDenied, "channel_not_in_purpose", "R-18-1"),
        (BILLING, "phone", PolicyDenied, "channel_not_in_purpose", "R-18-1"),
    ],
)
def test_bad_requests_are_refused_clearly(
    world: World, purpose: str | None, channel: str, error: type[Exception], code: str, rule: str | None
) -> None:
    w = world
    with pytest.raises(error) as err:
        _build(w, w.actors["support"], purpose, channel=channel)
    assert err.value.code == code  # type: ignore[attr-defined]
    assert err.value.rule_id == rule  # type: ignore[attr-defined]
    with w.rt.transaction(w.actors["po"], readonly=True) as rctx:
        assert rctx.session.execute(select(ContactListBuild)).first() is None


def test_segment_filters_after_the_decision(world: World) -> None:
    w, ids = world, world.ids
    built = _build(w, w.actors["support"], OUTBOUND.code, channel="phone", segment="prefecture=大阪府")
    assert [r["customer_id"] for r in built.rows] == [ids["ok2"]]
    assert built.excluded["not_in_segment"] == 4
    assert built.excluded["do_not_contact"] == 1  # the policy's reasons stay as they are
    assert "address" not in built.rows[0]  # a segment's field is never output
    aged = _build(w, w.actors["support"], OUTBOUND.code, channel="phone", segment="age=30-49,owner=suzuki")
    assert [r["customer_id"] for r in aged.rows] == [ids["ok2"]]  # born 1985: 41 on the test clock's day
    none = _build(w, w.actors["support"], OUTBOUND.code, channel="phone", segment="age=60-")
    assert none.rows == []


@pytest.mark.parametrize(
    "segment",
    ["prefecture=トーキョー", "age=old", "age=50-20", "colour=red", "owner=nobody", "prefecture", "@saved"],
)
def test_bad_segment_is_refused(world: World, segment: str) -> None:
    with pytest.raises(ValidationFailed) as err:
        _build(world, world.actors["support"], OUTBOUND.code, channel="phone", segment=segment)
    assert err.value.code == "bad_segment"
    assert "red" not in err.value.message_en and "nobody" not in err.value.message_en


def test_segment_on_a_field_the_purpose_masks_is_refused(world: World) -> None:
    w = world
    # the newsletter covers identifier and contact only: no birth date (attribute)
    with pytest.raises(PolicyDenied) as err:
        _build(w, w.actors["analyst"], NEWSLETTER.code, channel="email", segment="age=30-49")
    assert err.value.rule_id == "R-18-1"


def test_csv_has_bom_header_and_guards_formulas(world: World) -> None:
    w = world
    built = _build(w, w.actors["support"], OUTBOUND.code, channel="phone")
    data = lists.to_csv(built)
    assert data.startswith(b"\xef\xbb\xbf")
    lines = data[3:].decode("utf-8").split("\r\n")
    assert lines[0] == "customer_id,name,kana,phone"
    assert len([x for x in lines[1:] if x]) == built.included
    assert any(",'+8190" in x for x in lines[1:])


def test_many_people_in_one_build(world: World) -> None:
    """More people than one decryption round: every allowed person appears once."""
    from mamori.customers.service import contactable

    w = world
    for n in range(20, 26):
        person(w.rt, w.actors["sato"], n, purposes=(OUTBOUND.code,))
    old = contactable.VALUE_CHUNK
    contactable.VALUE_CHUNK = 2
    try:
        seen: list[tuple[int, int]] = []
        built = _build(
            w, w.actors["support"], OUTBOUND.code, channel="phone", progress=lambda d, t: seen.append((d, t))
        )
    finally:
        contactable.VALUE_CHUNK = old
    assert built.included == 11
    assert len({r["customer_id"] for r in built.rows}) == 11
    assert seen[-1] == (16, 16)
