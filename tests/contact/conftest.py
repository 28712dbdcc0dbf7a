"""Shared fixtures of the contact tests (issue 20): purposes with channels, customers with phones and e-mails, the
notices, and consent-ledger lines (do-not-contact, opt-in, stop-use, consent). Synthetic data only.

Other helpers' tests may import from here read-only.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import pytest

from mamori.consent import service as consent_service
from mamori.consent.schemas import ConsentIn
from mamori.customers.service import subjects
from mamori.kernel.context import SYSTEM_ACTOR, Actor
from mamori.kernel.policy import Category
from mamori.kernel.runtime import Runtime
from mamori.purposes import service as purposes_service
from mamori.purposes.schemas import PurposeCreate
from mamori.staff import service as staff_service
from tests.factories import make_customer, seed_basics

OUTBOUND = PurposeCreate(
    code="outbound-sales",
    title_ja="電話・郵送でのご案内",
    title_en="Outbound calls and mail",
    text_ja="新商品のご案内のため、氏名・フリガナ・住所・電話番号を利用し、お電話・郵送・SMS でご連絡します。",
    text_en="Calls, letters and SMS about new products, using name, address and phone number.",
    categories=[Category.IDENTIFIER, Category.CONTACT, Category.ATTRIBUTE],
    channels=["phone", "post", "sms"],
)
NEWSLETTER = PurposeCreate(
    code="mail-campaign",
    title_ja="メールマガジン",
    title_en="E-mail newsletter",
    text_ja="ご同意いただいた方に、新商品のご案内をメールでお送りするため、氏名とメールアドレスを利用します。",
    text_en="Advertising e-mail to those who opted in, using name and e-mail address.",
    categories=[Category.IDENTIFIER, Category.CONTACT],
    channels=["email"],
    marketing=True,
)
BILLING = "contract"  # from tests.factories: no channels (billing, after-sales)

CONSENT = ConsentIn(method="checkbox", evidence="form-20")


def add_purposes(rt: Runtime) -> None:
    with rt.transaction(SYSTEM_ACTOR) as ctx:
        purposes_service.add(ctx, OUTBOUND)
        purposes_service.add(ctx, NEWSLETTER)


def person(rt: Runtime, actor: Actor, n: int, *, purposes: tuple[str, ...], **extra: object) -> str:
    """A customer with a distinct mobile number and e-mail address (``n`` keeps them apart)."""
    return make_customer(
        rt,
        actor,
        name=f"試験 太郎{n}",
        kana="シケン タロウ",
        email=f"person{n}@example.jp",
        phone=f"090-1234-{5600 + n:04d}",
        purposes=purposes,
        **extra,
    )


def do_not_contact(rt: Runtime, actor: Actor, cid: str, channel: str) -> None:
    with rt.transaction(actor) as ctx:
        consent_service.do_not_contact(ctx, cid, channel, ConsentIn(method="oral"))


def opt_in(rt: Runtime, actor: Actor, cid: str, channel: str) -> None:
    with rt.transaction(actor) as ctx:
        consent_service.allow_contact(ctx, cid, channel, CONSENT)


def stop_use(rt: Runtime, actor: Actor, cid: str, purpose: str) -> None:
    with rt.transaction(actor) as ctx:
        consent_service.suppress(ctx, cid, "purpose", purpose, "req-20")


def erase(rt: Runtime, actor: Actor, cid: str) -> None:
    with rt.transaction(actor) as ctx:
        subjects.erase(ctx, cid)


@dataclass
class World:
    """Who is who in the contact tests. ``ids`` by role in the story:

    phone list (OUTBOUND, owned by sato unless said): ok (included), ok2 (suzuki's, included), dnc (do-not-contact
    on phone), stopped (stop-use of OUTBOUND), erased, unnotified (never told of OUTBOUND), landline (no mobile:
    SMS leaves them out), nophone (no phone at all). E-mail list (NEWSLETTER): in (opted in), optout (opted in
    then out), never (no opt-in), and dnc is opted in for e-mail too (a phone do-not-contact leaves e-mail be)."""

    rt: Runtime
    actors: dict[str, Actor]
    ids: dict[str, str] = field(default_factory=dict)


def populate(runtime: Runtime, actors: dict[str, Actor]) -> World:
    """Add OUTBOUND and NEWSLETTER and the people of :class:`World` (staff and the test purposes exist)."""
    add_purposes(runtime)
    sato, suzuki, po = actors["sato"], actors["suzuki"], actors["po"]
    both = (BILLING, OUTBOUND.code, NEWSLETTER.code)
    w = World(runtime, actors)
    w.ids["ok"] = person(runtime, sato, 1, purposes=both, address="東京都渋谷区神宮前1-2-3")
    w.ids["ok2"] = person(runtime, suzuki, 2, purposes=both, address="大阪府大阪市北区梅田1-1-1")
    w.ids["dnc"] = person(runtime, sato, 3, purposes=both)
    w.ids["stopped"] = person(runtime, sato, 4, purposes=both)
    w.ids["erased"] = person(runtime, sato, 5, purposes=both)
    w.ids["unnotified"] = person(runtime, sato, 6, purposes=(BILLING,))
    w.ids["landline"] = make_customer(
        runtime, sato, name="固定 電話", email="landline@example.jp", phone="03-1234-5678", purposes=both
    )
    w.ids["nophone"] = make_customer(
        runtime, sato, name="電話 なし", email="nophone@example.jp", phone=None, purposes=both
    )
    w.ids["in"] = w.ids["ok"]
    w.ids["optout"] = person(runtime, sato, 7, purposes=both)
    w.ids["never"] = person(runtime, sato, 8, purposes=both)
    do_not_contact(runtime, po, w.ids["dnc"], "phone")
    stop_use(runtime, po, w.ids["stopped"], OUTBOUND.code)
    erase(runtime, po, w.ids["erased"])
    for key in ("ok", "ok2", "dnc", "landline", "nophone", "optout", "stopped"):
        opt_in(runtime, po, w.ids[key], "email")
    do_not_contact(runtime, po, w.ids["optout"], "email")
    return w


@pytest.fixture
def world(runtime: Runtime) -> World:
    """The people of :class:`World`, with staff from ``tests.factories.seed_basics`` (no sign-in)."""
    return populate(runtime, seed_basics(runtime))


def staff_actors(runtime: Runtime, usernames: Iterable[str]) -> dict[str, Actor]:
    """The actors of existing staff members (e.g. those ``tests.api.conftest.Api`` created with passwords)."""
    with runtime.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        return {u: staff_service.actor_for(ctx, u) for u in usernames}
