"""Issue 22's acceptance test — seed 001 case 5 (リモートワーク時の顧客情報の取り扱い): during remote work a sales
rep left customer data on the screen and a family member saw it. Through the interfaces a person uses:

1. the sales rep signs in to the web app (the sign-in route: password and TOTP code, a real session cookie),
   reads some of their customers (the list, then three customers' pages) between two times, and others outside
   that window (before and after);
2. the privacy officer registers the incident (``mamori incidents add``), finds the session in the audit log
   (``mamori audit tail``: the ``staff.sign_in`` entry names its session id, and every read names it in ``via``),
   draws the scope from that session's reads between the two times (``mamori incidents scope --from-audit
   --session … --since … --until …``) and checks the counts and the items by name and category
   (``mamori incidents scopes``);
3. the privacy officer revokes the session from the incident (``mamori incidents contain --revoke-session``): the
   step is recorded and audited with the incident id, and the sales rep's cookie no longer opens the web app.

The web app and the CLI work on the same stores (the CLI's ``init`` + ``demo`` store); the web app's clock is
frozen and moved by hand so that the reads fall inside and outside the window.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from mamori.api.app import create_app
from mamori.kernel.clock import JST, FrozenClock
from mamori.kernel.context import SYSTEM_ACTOR, Role
from mamori.kernel.runtime import Runtime, open_runtime
from mamori.kernel.settings import get_settings
from mamori.staff import service as staff_service
from mamori.staff.schemas import CompletionCreate, PledgeSign
from mamori.staff.service import AuthenticationFailed
from tests.factories import make_customer
from tests.staff.helpers import PASSWORD, code_now, make_staff
from tests.test_cli import cli, j  # noqa: F401  (the `cli` fixture: init + demo)

T0 = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(hours=2)
SINCE = T0 + timedelta(minutes=10)  # the window the rep worked at home with the screen open
UNTIL = T0 + timedelta(minutes=40)
PO = ("--as", "hoshino")  # the demo's privacy officer


@pytest.fixture
def rt(cli) -> Iterator[Runtime]:  # noqa: F811
    runtime = open_runtime(get_settings(), clock=FrozenClock(T0))
    yield runtime
    runtime.close()


def _at(rt: Runtime, when: datetime) -> None:
    clock = rt.clock
    assert isinstance(clock, FrozenClock)
    clock.advance(when - clock.now())


def _jst(when: datetime) -> str:
    return when.astimezone(JST).strftime("%Y-%m-%dT%H:%M:%S")


def _open(client: TestClient, cid: str) -> None:
    """The rep opens a customer's page for the contract purpose (the purpose choice, then the page)."""
    csrf = client.get(f"/customers/{cid}").text.split('name="csrf" value="')[1].split('"')[0]
    r = client.post(
        f"/customers/{cid}/open", data={"csrf": csrf, "purpose": "contract"}, follow_redirects=False
    )
    assert r.status_code == 303, r.text
    page = client.get(f"/customers/{cid}")
    assert page.status_code == 200, page.text


def test_seed001_case5_remote_work_screen_seen(cli, rt):  # noqa: F811
    # -- the sales rep, their customers ---------------------------------------------------------------------
    rep_id, secret = make_staff(rt, "kato", Role.SALES, team="east")
    with rt.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        po = staff_service.actor_for(ctx, "hoshino")
    with rt.transaction(po) as ctx:  # the demo's training policy (R-23-3): trained and pledged, as required
        for course in staff_service.list_courses(ctx):
            if course.required:
                staff_service.record_completion(ctx, CompletionCreate(username="kato", course=course.code))
        staff_service.sign_pledge(ctx, PledgeSign(username="kato"))
    with rt.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        kato = staff_service.actor_for(ctx, "kato")
    names = ["架空 一郎", "架空 二郎", "架空 三郎", "架空 四郎", "架空 五郎"]
    ids = [
        make_customer(rt, kato, name=n, kana=None, email=f"c{i}@example.jp", phone=f"090-1234-56{i}8")
        for i, n in enumerate(names)
    ]
    seen, before, after = ids[:3], ids[3], ids[4]

    # -- 1. the rep signs in to the web app and reads, before, inside and after the window ------------------
    app = create_app(rt)
    rep = TestClient(app, base_url="https://testserver")
    _at(rt, T0 + timedelta(minutes=1))
    r = rep.post(
        "/sign-in",
        data={"username": "kato", "password": PASSWORD, "totp": code_now(rt, secret)},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/", r.text
    _at(rt, T0 + timedelta(minutes=5))
    _open(rep, before)  # before the window: the page of one customer
    _at(rt, T0 + timedelta(minutes=15))
    listed = rep.get("/customers?purpose=contract")  # inside: the list of the rep's five customers …
    assert listed.status_code == 200 and all(n in listed.text for n in names)
    _at(rt, T0 + timedelta(minutes=20))
    for cid in seen:  # … and three customers' pages
        _open(rep, cid)
    _at(rt, T0 + timedelta(minutes=42))
    late = make_customer(rt, kato, name="架空 六郎", kana=None, email="c6@example.jp", phone="090-1234-5698")
    _at(rt, T0 + timedelta(minutes=45))
    _open(rep, after)  # after the window: two more pages, one of a customer added since
    _open(rep, late)

    # -- 2. the privacy officer registers the incident and draws the scope from that session ---------------
    inc = j(
        cli(
            *PO,
            "incidents",
            "add",
            "--title",
            "在宅勤務中に顧客情報の画面を家族が見た",
            "--kind",
            "leak",
            "--suspected",
            "--known-at",
            _jst(T0 + timedelta(minutes=50)),
            "--known-by",
            "営業部",
            "--discovered-by",
            "営業部の従業者（本人の申告）",
            "--cause",
            "remote_work",
            "--json",
        )
    )
    assert inc["cause"] == "remote_work" and inc["status"] == "open"
    # the session: the rep's sign-in entry in the audit log names it; every read names it in `via`
    log = j(cli(*PO, "audit", "tail", "-n", "200", "--json"))
    [signed] = [e for e in log if e["action"] == "staff.sign_in" and e["actor"] == f"staff:{rep_id}"]
    session_id = signed["details"]["session_id"]
    reads = [e for e in log if e["action"] == "customer.read" and e["actor"] == f"staff:{rep_id}"]
    assert len(reads) == 7 and {e["details"]["via"] for e in reads} == {f"session:{session_id}"}
    scope = j(
        cli(
            *PO,
            "incidents",
            "scope",
            inc["ref"],
            "--from-audit",
            "--session",
            session_id,
            "--since",
            _jst(SINCE),
            "--until",
            _jst(UNTIL),
            "--json",
        )
    )
    # the list inside the window showed all five customers (name, kana, address); three pages were opened
    # (every item); the pages opened before and after it, and the customer added later, are not in it
    detail = (
        "activities",
        "birth_date",
        "emails",
        "employer",
        "gender",
        "occupation",
        "phones",
        "postal_code",
    )
    expected_items = {"name": 5, "kana": 5, "address": 5, **dict.fromkeys(detail, 3)}
    assert scope["method"] == "audit" and scope["persons"] == 5 and scope["maximum"] is None
    assert scope["params"] == {
        "session_id": session_id,
        "since": SINCE.astimezone(JST).isoformat(),
        "until": UNTIL.astimezone(JST).isoformat(),
    }
    assert scope["items"] == expected_items
    summary = j(cli(*PO, "incidents", "scopes", inc["ref"], "--json"))
    assert summary["persons"] == 5 and summary["maximum"] == 5
    assert summary["items"] == expected_items
    assert summary["categories"] == {"identifier": 5, "contact": 5, "attribute": 3, "behaviour": 3}
    assert (summary["sensitive"], summary["financial"], summary["eu"], summary["uk"]) == (0, 0, 0, 0)
    words = cli(*PO, "incidents", "scopes", inc["ref"])
    assert words.exit_code == 0 and "対象者 5 人" in words.stdout
    for value in (*names, "c1@example.jp", "090-1234-5618", late):
        assert value not in words.stdout and value not in json.dumps(summary, ensure_ascii=False)

    # -- 3. the session is revoked from the incident: the rep's cookie no longer opens the web app --------------
    assert rep.get("/customers?purpose=contract").status_code == 200  # still signed in until now
    measure = j(cli(*PO, "incidents", "contain", inc["ref"], "--revoke-session", session_id, "--json"))
    assert measure["kind"] == "revoke_session" and measure["target"] == session_id
    assert measure["result"] == {"sessions_revoked": 1} and measure["incident_id"] == inc["id"]
    gone = rep.get("/customers?purpose=contract", follow_redirects=False)
    assert gone.status_code == 303 and gone.headers["location"] == "/sign-in"
    assert rep.get(f"/customers/{seen[0]}", follow_redirects=False).status_code == 303
    with rt.transaction(SYSTEM_ACTOR) as ctx, pytest.raises(AuthenticationFailed):
        staff_service.validate_session(ctx, rep.cookies.get("__Host-mamori_session") or "")
    assert [m["kind"] for m in j(cli(*PO, "incidents", "measures", inc["ref"], "--json"))] == [
        "revoke_session"
    ]
    log = j(cli(*PO, "audit", "tail", "-n", "20", "--json"))
    [contained] = [e for e in log if e["action"] == "incident.contain"]
    assert (
        contained["details"]["incident_id"] == inc["id"] and contained["details"]["session_id"] == session_id
    )
    assert contained["details"]["measure_id"] == measure["id"] and contained["rule_ids"] == ["R-26-7"]
