"""What the person types into a request is sealed under the request's own key, destroyed with them (issue 11).

Each request has a data key in the keystore (subject ``rights_request:<id>``). Closing the request (fulfilled,
partial, refused) destroys it; erasing a person destroys the keys of every request that reached them or that
carries one of their identifiers and reached nobody, drops the keyed digests of their identifiers (a digest
under a system key would confirm a guessed address) and the throttle counts kept under them, and forgets
every kept message concerning them. Runs on both backends.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import insert, select

from mamori.customers import service as customers_service
from mamori.customers.schemas import CustomerUpdate
from mamori.kernel.clock import today_jst
from mamori.kernel.context import SYSTEM_ACTOR
from mamori.kernel.crypto import make_aead, seal_with
from mamori.kernel.errors import PolicyDenied
from mamori.rights import service
from mamori.rights.models import RightsAttempt, RightsEvent, RightsIdentifier, RightsRequest
from mamori.rights.schemas import RequestOpen
from mamori.rights.service import delivery, sealing
from tests.factories import make_customer, seed_basics
from tests.rights.helpers import last_code, open_and_verify, outbox

A_EMAIL = "hanako.sato@example.jp"
A_PHONE = "090-1111-2222"
B_EMAIL = "jiro.suzuki@example.com"
FAMILY = "family@example.jp"


@pytest.fixture
def actors(runtime):
    return seed_basics(runtime)


def _idents(rt, rid: str, ctx=None) -> list[RightsIdentifier]:
    stmt = select(RightsIdentifier).where(RightsIdentifier.request_id == rid)
    if ctx is not None:  # inside a unit of work: its own session (SQLite has one writer)
        return list(ctx.session.execute(stmt).scalars())
    with rt.sessions() as s:
        return list(s.execute(stmt).scalars())


def test_claimed_values_are_sealed_under_the_request_key_destroyed_at_close(runtime, actors):
    ks = runtime.keystore
    with runtime.transaction(actors["support"]) as ctx:
        v = service.open_request(
            ctx, RequestOpen(kind="disclosure", channel="phone", emails=[A_EMAIL], phones=[A_PHONE])
        )
    key = sealing.request_key_id(v.id)
    assert ks.has_data_key(key) and not ks.has_system_key(sealing.KEY_VALUES)  # no shared system key
    by_kind = {i.kind: i for i in _idents(runtime, v.id)}
    assert (
        runtime.cipher.decrypt(
            key, "rights_identifiers", "value_enc", by_kind["email"].id, by_kind["email"].value_enc
        )
        == A_EMAIL
    )
    with runtime.transaction(actors["support"]) as ctx:
        assert sealing.open_value(ctx, by_kind["phone"]) == A_PHONE
    # an invalid phone is refused before any key is made
    keys_before = ks.stats()["data_keys"]
    with pytest.raises(Exception) as bad, runtime.transaction(actors["support"]) as ctx:
        service.open_request(ctx, RequestOpen(kind="disclosure", phones=["not a phone"]))
    assert getattr(bad.value, "code", None) == "bad_phone"
    assert ks.stats()["data_keys"] == keys_before
    # refusing closes the request: the values are dropped and the key is destroyed
    with runtime.transaction(actors["po"]) as ctx:
        service.refuse(ctx, v.id, "identity_not_verified", "ご提示の書類では氏名を確認できませんでした")
    assert not ks.has_data_key(key) and ks.is_destroyed(key)
    assert all(i.value_enc is None for i in _idents(runtime, v.id))
    # a fulfilled request too
    make_customer(runtime, actors["po"], name="佐藤 花子", email=A_EMAIL, phone=A_PHONE)
    rid = open_and_verify(runtime, actors["support"], "purpose_notice", A_EMAIL)
    assert ks.has_data_key(sealing.request_key_id(rid))
    with runtime.transaction(actors["po"]) as ctx:
        service.fulfil(ctx, rid)
    # the purpose notice is handed over by staff: the key stays until the posting is recorded
    assert ks.has_data_key(sealing.request_key_id(rid))
    with runtime.transaction(actors["po"]) as ctx:
        delivery.record_posted(ctx, rid, today_jst(ctx.clock))
    assert ks.is_destroyed(sealing.request_key_id(rid))


def test_erasure_forgets_every_request_that_reached_or_named_the_person_R_35_1_G_17(runtime, actors):
    ks = runtime.keystore
    a = make_customer(runtime, actors["po"], name="佐藤 花子", email=A_EMAIL, phone=A_PHONE)
    b = make_customer(runtime, actors["po"], name="鈴木 次郎", email=B_EMAIL, phone="080-9876-5432")
    # a household: A shares the family address with their mother (who is not erased)
    with runtime.transaction(actors["po"], "contract") as ctx:
        customers_service.update(ctx, a, CustomerUpdate(add_emails=[FAMILY]))
    mother = make_customer(runtime, actors["po"], name="佐藤 母", email=FAMILY, phone="090-3333-4444")
    # an open request of A's (verified: it reached A), left open
    still_open = open_and_verify(runtime, actors["support"], "disclosure", A_EMAIL)
    # a request typed with A's phone that nobody verified (it reached nobody)
    with runtime.transaction(actors["support"]) as ctx:
        orphan = service.open_request(ctx, RequestOpen(kind="disclosure", phones=[A_PHONE])).id
    # B's own request, in which B also typed A's address (never verified): B keeps it, A's value goes
    with runtime.transaction(actors["support"]) as ctx:
        b_req = service.open_request(ctx, RequestOpen(kind="disclosure", emails=[B_EMAIL, A_EMAIL]))
    with runtime.transaction(actors["support"]) as ctx:
        ident = next(i for i in _idents(runtime, b_req.id, ctx) if sealing.open_value(ctx, i) == B_EMAIL)
        service.send_code(ctx, b_req.id, ident.id)
    with runtime.transaction(actors["po"]) as ctx:  # the privacy officer sees the figure (issue 17)
        assert service.verify_code(ctx, b_req.id, ident.id, last_code(runtime, B_EMAIL)).subjects == 1
    # the mother's request with the shared family address
    mothers = open_and_verify(runtime, actors["support"], "disclosure", FAMILY, phones=["090-3333-4444"])
    # throttle counts under A's and B's addresses (the public endpoint counts filings per address)
    with runtime.transaction(SYSTEM_ACTOR) as ctx:
        service.throttle(ctx, [("file-id", " Hanako.Sato@EXAMPLE.jp", 5), ("file-id", B_EMAIL, 5)])
        a_count = sealing.throttle_digest(ctx, "file-id", A_EMAIL)
        b_count = sealing.throttle_digest(ctx, "file-id", B_EMAIL)
        a_digests = [
            sealing.identifier_digest(ctx, "email", A_EMAIL),
            sealing.identifier_digest(ctx, "phone", A_PHONE),
        ]
        family_digest = sealing.identifier_digest(ctx, "email", FAMILY)

    # when A is erased through their verified erasure request
    erasure = open_and_verify(runtime, actors["support"], "erasure", A_EMAIL, ground="no_longer_needed")
    with runtime.transaction(actors["po"]) as ctx:
        outcome, _ = service.fulfil(ctx, erasure)
    assert outcome.outcome == "fulfilled"

    # then the keys of A's requests and of the orphan are destroyed; B's and the mother's stay
    for rid in (still_open, orphan, erasure):
        assert ks.is_destroyed(sealing.request_key_id(rid)), rid
        for i in _idents(runtime, rid):
            assert i.value_enc is None and i.code_hash is None
            assert i.kind == "customer" or bytes(i.digest) == b""
    assert ks.has_data_key(sealing.request_key_id(b_req.id)) and ks.has_data_key(
        sealing.request_key_id(mothers)
    )
    # no keyed digest of A's identifiers is left anywhere; the shared family address stays in the mother's
    with runtime.sessions() as s:
        digests = [bytes(d) for d in s.execute(select(RightsIdentifier.digest)).scalars()]
        attempts = [bytes(d) for d in s.execute(select(RightsAttempt.key_digest)).scalars()]
        fulfilled = s.execute(
            select(RightsEvent).where(RightsEvent.request_id == erasure, RightsEvent.event == "fulfilled")
        ).scalar_one()
    assert not set(a_digests) & set(digests)
    assert family_digest in digests
    assert a_count not in attempts and b_count in attempts
    with runtime.transaction(actors["support"]) as ctx:
        b_values = {sealing.open_value(ctx, i) for i in _idents(runtime, b_req.id, ctx)}
        mother_values = {sealing.open_value(ctx, i) for i in _idents(runtime, mothers, ctx)}
    assert b_values == {B_EMAIL, None} and mother_values == {FAMILY, "090-3333-4444"}
    details = json.loads(fulfilled.details)
    assert details["request_keys_destroyed"] == 3 and details["throttle_rows_dropped"] == 1
    assert details["identifiers_scrubbed"] >= 4
    # the kept copies of what was sent to A (codes, notices) are gone, the erasure's own notice included once
    # it was delivered; B's are still there
    sent_to = [m["to"] for m in outbox(runtime)]
    assert A_EMAIL not in sent_to and B_EMAIL in sent_to
    # every kept message about A is gone, whatever the address; B's and the mother's stay
    kept = outbox(runtime)
    assert all(m["to"] != A_EMAIL and a not in m.get("subject_ids", []) for m in kept)
    assert {m["request_id"] for m in kept} == {b_req.id, mothers}
    # the open request can no longer take values typed for A
    with pytest.raises(PolicyDenied) as gone, runtime.transaction(actors["support"]) as ctx:
        service.add_identifier(ctx, still_open, "phone", "090-7777-8888")
    assert gone.value.code == "request_key_destroyed"
    assert b and mother


def test_a_request_taken_before_request_keys_still_works_and_closes(runtime, actors):
    """Rows sealed under the legacy system key (before request keys) are read, extended and closed."""
    make_customer(runtime, actors["po"], name="佐藤 花子", email=A_EMAIL, phone=A_PHONE)
    with runtime.transaction(actors["support"]) as ctx:
        now = ctx.clock.now()
        ctx.session.execute(
            insert(RightsRequest).values(
                id="f" * 32,
                receipt_no="R-2025-000001",  # legacy rows are numbered by migration 0013
                kind="disclosure",
                regime="appi",
                regime_source="default",
                channel="phone",
                status="received",
                received_at=now,
                due_on=now.date(),
                withheld_count=0,
                created_by="staff:legacy",
            )
        )
        aead = make_aead(ctx.runtime.keystore.system_key(sealing.KEY_VALUES))
        ctx.session.execute(
            insert(RightsIdentifier).values(
                id="e" * 32,
                request_id="f" * 32,
                kind="email",
                digest=sealing.identifier_digest(ctx, "email", A_EMAIL),
                value_enc=seal_with(aead, A_EMAIL.encode(), b"rights_identifiers|value_enc|" + b"e" * 32),
                code_attempts=0,
                created_at=now,
            )
        )
    with runtime.transaction(actors["support"]) as ctx:
        service.send_code(ctx, "f" * 32, "e" * 32)
        service.add_identifier(ctx, "f" * 32, "phone", A_PHONE)  # makes the request's key on first use
    assert runtime.keystore.has_data_key(sealing.request_key_id("f" * 32))
    with runtime.transaction(actors["po"]) as ctx:  # the privacy officer sees the figure (issue 17)
        assert service.verify_code(ctx, "f" * 32, "e" * 32, last_code(runtime, A_EMAIL)).subjects == 1
        assert {sealing.open_value(ctx, i) for i in _idents(runtime, "f" * 32, ctx)} == {A_EMAIL, A_PHONE}
    with runtime.transaction(actors["po"]) as ctx:
        service.fulfil(ctx, "f" * 32)
        delivery.record_posted(ctx, "f" * 32, today_jst(ctx.clock))  # staff posted the package
    assert runtime.keystore.is_destroyed(sealing.request_key_id("f" * 32))
    assert all(i.value_enc is None for i in _idents(runtime, "f" * 32))


def test_scrub_is_a_no_op_answer_on_every_backend(runtime):
    assert runtime.scrub() is True
