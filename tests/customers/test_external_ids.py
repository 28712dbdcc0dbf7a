"""顧客番号 — a customer's number in another system (issue 19): sealed under the person's data key, unique per
issuing system through the blind indexer's digest, found by search within the actor's row scope, masked like an
identifier, listed in the person's disclosure and gone after erasure (checked from outside the process)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select, text

from mamori.customers import service
from mamori.customers.models import CustomerExternalId
from mamori.customers.service import external_ids
from mamori.customers.sources import CustomersSource
from mamori.kernel.context import SYSTEM_ACTOR
from mamori.kernel.errors import ValidationFailed
from mamori.kernel.policy import Category
from mamori.purposes import service as purposes_service
from mamori.purposes.schemas import PurposeCreate
from tests.factories import make_customer, seed_basics

NO_A = "KT-000123"
NO_B = "KT-000456"


@pytest.fixture
def actors(runtime):
    got = seed_basics(runtime)
    with runtime.transaction(SYSTEM_ACTOR) as ctx:  # a purpose that does not cover identifiers
        purposes_service.add(
            ctx,
            PurposeCreate(
                code="buying-trends",
                title_ja="購買傾向の集計",
                title_en="Buying trends",
                text_ja="購買傾向を集計するため、購入履歴と属性（職業など）を利用します（氏名は利用しません）。",
                text_en="Counting buying trends from purchases and attributes (no names).",
                categories=[Category.ATTRIBUTE, Category.BEHAVIOUR],
            ),
        )
    return got


@pytest.fixture
def two(runtime, actors):
    a = make_customer(runtime, actors["support"], name="架空 一郎", email="ichiro@example.jp", phone=None)
    b = make_customer(runtime, actors["support"], name="架空 二郎", email="jiro@example.jp", phone=None)
    with runtime.transaction(actors["support"]) as ctx:
        assert external_ids.write(ctx, [(a, "kintone", NO_A), (b, "kintone", NO_B)]) == 2
    return a, b


def test_written_sealed_and_found_by_its_normal_form(runtime, actors, two):
    a, b = two
    with runtime.transaction(actors["support"]) as ctx:
        assert external_ids.lookup(ctx, "kintone", "ｋｔ－０００１２３") == [a]  # width, dash and case folded
        assert external_ids.lookup(ctx, "kintone", " kt-000123 ") == [a]
        assert external_ids.lookup(ctx, "kintone", "KT—000123") == [a]  # any dash form (jptext.fold)
        assert external_ids.lookup(ctx, "kintone", "KT−000123") == [a]
        assert external_ids.lookup(ctx, None, NO_B) == [b]  # any issuing system
        assert external_ids.lookup(ctx, "sansan", NO_A) == []  # not a number of that system
        assert external_ids.lookup(ctx, "kintone", "KT-000999") == []
        assert external_ids.of_customer(ctx, a) == [("kintone", NO_A)]
        d = external_ids.digest(runtime, "kintone", NO_A)
        assert d == external_ids.digest(runtime, "kintone", "kt-000123")
        assert d != external_ids.digest(runtime, "sansan", NO_A)
        assert len(d) == 16
        assert external_ids.find_existing(ctx, "kintone", [d, b"\x00" * 16]) == {d: a}
    with runtime.data_engine.connect() as conn:
        rows = conn.execute(text("SELECT value_enc, digest FROM customer_external_ids")).all()
    assert len(rows) == 2
    for value_enc, digest in rows:
        assert NO_A.encode() not in bytes(value_enc) and b"000123" not in bytes(value_enc)
        assert b"000123" not in bytes(digest)


def test_unique_per_system_another_customer_is_refused_without_naming_the_number(runtime, actors, two):
    a, b = two
    with pytest.raises(ValidationFailed) as exc, runtime.transaction(actors["support"]) as ctx:
        external_ids.write(ctx, [(b, "kintone", "kt-000123")])
    assert exc.value.code == "external_id_taken"
    assert "000123" not in exc.value.message_ja + exc.value.message_en + json.dumps(exc.value.details)
    # the same customer again: nothing twice (a re-run of an import)
    with runtime.transaction(actors["support"]) as ctx:
        assert external_ids.write(ctx, [(a, "kintone", NO_A), (a, "kintone", "kt-000123")]) == 0
    # two customers with one number in one batch: refused, nothing of the batch written
    with pytest.raises(ValidationFailed) as exc, runtime.transaction(actors["support"]) as ctx:
        external_ids.write(ctx, [(a, "sansan", "S-1"), (b, "sansan", "s-1")])
    assert exc.value.code == "external_id_taken"
    with runtime.transaction(actors["support"]) as ctx:
        assert external_ids.lookup(ctx, "sansan", "S-1") == []
        # another system may use the same number for another customer
        assert external_ids.write(ctx, [(b, "sansan", NO_A)]) == 1
    with runtime.transaction(actors["support"]) as ctx:
        assert external_ids.lookup(ctx, None, NO_A) == sorted([a, b])
        assert external_ids.lookup(ctx, "sansan", NO_A) == [b]
        assert external_ids.systems(ctx) == ["kintone", "sansan"]


@pytest.mark.parametrize(
    ("system", "value", "code"),
    [
        ("kintone", "", "bad_external_id"),
        ("kintone", "　 ", "bad_external_id"),
        ("kintone", "A\x00B", "bad_external_id"),
        ("kintone", "9" * 201, "bad_external_id"),
        ("", "A-1", "bad_external_id_system"),
        ("kin\ntone", "A-1", "bad_external_id_system"),
        ("s" * 201, "A-1", "bad_external_id_system"),
    ],
)
def test_bad_numbers_and_systems_are_refused(runtime, actors, two, system, value, code):
    a, _ = two
    with pytest.raises(ValidationFailed) as exc, runtime.transaction(actors["support"]) as ctx:
        external_ids.write(ctx, [(a, system, value)])
    assert exc.value.code == code
    with pytest.raises(ValidationFailed), runtime.transaction(actors["support"]) as ctx:
        external_ids.lookup(ctx, system, value)


def test_find_by_customer_number_through_the_service(runtime, actors, two):
    a, b = two
    with runtime.transaction(actors["support"], "contract") as ctx:
        assert [s.id for s in service.find(ctx, customer_no="ＫＴ－０００１２３")] == [a]
        assert [s.id for s in service.find(ctx, customer_no=NO_B, system="kintone")] == [b]
        assert service.find(ctx, customer_no=NO_B, system="sansan") == []
        got = service.find(ctx, customer_no=NO_A)
        assert got[0].name == "架空 一郎"
    for bad in ({"system": "kintone"}, {"customer_no": NO_A, "email": "ichiro@example.jp"}, {}):
        with (
            pytest.raises(ValidationFailed) as exc,
            runtime.transaction(actors["support"], "contract") as ctx,
        ):
            service.find(ctx, **bad)
        assert exc.value.code == "bad_query"


def test_a_sales_rep_finds_only_their_own_customers_by_number(runtime, actors):
    mine = make_customer(runtime, actors["sato"], name="佐藤の 客", email="mine@example.jp", phone=None)
    theirs = make_customer(runtime, actors["suzuki"], name="鈴木の 客", email="theirs@example.jp", phone=None)
    with runtime.transaction(actors["admin"]) as ctx:
        external_ids.write(ctx, [(mine, "crm", "C-1"), (theirs, "crm", "C-2")])
    with runtime.transaction(actors["sato"], "contract") as ctx:
        assert [s.id for s in service.find(ctx, customer_no="C-1")] == [mine]
        assert service.find(ctx, customer_no="C-2", system="crm") == []
    denied = [e for e in runtime.audit.tail(20) if e.decision == "deny"]
    assert denied and theirs in denied[-1].subject_ids and "R-23-2" in denied[-1].rule_ids
    allowed = [e for e in runtime.audit.tail(20) if e.decision == "allow" and mine in e.subject_ids]
    assert allowed  # the match the rep may see is audited as a read


def test_the_view_shows_numbers_for_a_purpose_covering_identifiers_and_masks_them_otherwise(runtime, actors):
    cid = make_customer(
        runtime,
        actors["support"],
        email="view@example.jp",
        phone=None,
        purposes=("contract", "buying-trends"),
    )
    plain = make_customer(
        runtime,
        actors["support"],
        name="番号 なし",
        email="none@example.jp",
        phone=None,
        purposes=("contract",),
    )
    with runtime.transaction(actors["support"]) as ctx:
        external_ids.write(ctx, [(cid, "kintone", NO_A), (cid, "sansan", "S-77")])
    with runtime.transaction(actors["support"], "contract") as ctx:
        view = service.get(ctx, cid)
    assert [(x.system, x.value) for x in view.external_ids] == [("kintone", NO_A), ("sansan", "S-77")]
    assert "external_ids" not in view.masked
    entry = runtime.audit.tail(1)[-1]
    assert entry.decision == "allow" and "external_ids" in entry.fields
    with runtime.transaction(actors["support"], "buying-trends") as ctx:
        masked = service.get(ctx, cid)
    assert "external_ids" in masked.masked and masked.name is None
    assert [(x.system, x.value) for x in masked.external_ids] == [("kintone", None), ("sansan", None)]
    entry = runtime.audit.tail(1)[-1]
    assert "external_ids" not in entry.fields
    with runtime.transaction(actors["support"], "contract") as ctx:
        none = service.get(ctx, plain)
    assert none.external_ids == [] and "external_ids" not in none.masked


def test_disclosure_lists_the_numbers(runtime, actors, two):
    a, _ = two
    with runtime.transaction(actors["po"]) as ctx:
        records = CustomersSource().export(ctx, a)
        summary = CustomersSource().summary(ctx, a)
    xs = [r for r in records if r.category == "external_id"]
    assert [(r.data["system"], r.data["value"]) for r in xs] == [("kintone", NO_A)]
    assert summary["external_id"] == 1


def _outside(db: Path, digest: bytes) -> dict[str, object]:
    """Read the SQLite file from another process: the rows of the number's digest and whether the number's
    bytes or its digest's bytes appear anywhere in the file or its WAL."""
    script = (
        "import json, sqlite3, sys\n"
        "path, digest, number = sys.argv[1], bytes.fromhex(sys.argv[2]), sys.argv[3].encode()\n"
        "con = sqlite3.connect(path)\n"
        "rows = con.execute('SELECT count(*) FROM customer_external_ids WHERE digest = ?', (digest,)).fetchone()[0]\n"
        "total = con.execute('SELECT count(*) FROM customer_external_ids').fetchone()[0]\n"
        "con.close()\n"
        "raw = b''\n"
        "for p in (path, path + '-wal'):\n"
        "    try:\n"
        "        raw += open(p, 'rb').read()\n"
        "    except FileNotFoundError:\n"
        "        pass\n"
        "print(json.dumps({'rows': rows, 'total': total, 'digest_bytes': digest in raw, 'number_bytes': number in raw}))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script, str(db), digest.hex(), NO_A],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return dict(json.loads(out.stdout))


def test_erasure_removes_the_number_and_its_digest_seen_from_outside_the_process(runtime, actors, two):
    url = str(runtime.data_engine.url)
    if not url.startswith("sqlite:///"):
        pytest.skip("reads the SQLite file from outside the process")
    db = Path(url.removeprefix("sqlite:///"))
    a, b = two
    digest = external_ids.digest(runtime, "kintone", NO_A)
    before = _outside(db, digest)
    assert before["rows"] == 1 and before["total"] == 2 and before["number_bytes"] is False
    with runtime.transaction(actors["po"]) as ctx:
        assert CustomersSource().erase(ctx, a) >= 2
    after = _outside(db, digest)
    assert after == {"rows": 0, "total": 1, "digest_bytes": False, "number_bytes": False}
    with runtime.transaction(actors["support"]) as ctx:
        assert external_ids.lookup(ctx, "kintone", NO_A) == []
        assert external_ids.lookup(ctx, None, NO_B) == [b]  # the other person's number is untouched
        # the number is free again in that system (nothing left to collide with)
        assert external_ids.find_existing(ctx, "kintone", [digest]) == {}
    with runtime.transaction(actors["po"]) as ctx:
        assert [r for r in CustomersSource().export(ctx, a) if r.category == "external_id"] == []


def test_erasure_on_every_backend_leaves_no_row_of_the_person(runtime, actors, two):
    a, b = two
    with runtime.transaction(actors["po"]) as ctx:
        CustomersSource().erase(ctx, a)
    with runtime.sessions() as s:
        assert s.scalars(select(CustomerExternalId).where(CustomerExternalId.customer_id == a)).all() == []
        assert (
            len(s.scalars(select(CustomerExternalId).where(CustomerExternalId.customer_id == b)).all()) == 1
        )


# -- the REST API, the CLI and the web search page ---------------------------------------------------------------


@pytest.fixture
def api(runtime):
    from tests.api.conftest import Api

    return Api(runtime)


def _api_customer(api, user: str, email: str) -> tuple[object, str, str]:
    c, csrf = api.client(user)
    body = {
        "customer": {"name": "番号 花子", "kana": "バンゴウ ハナコ", "emails": [email]},
        "provenance": {"method": "direct", "channel": "web_form", "notice_version": "n-2026"},
        "purposes": ["contract"],
    }
    r = c.post("/api/v1/customers", json=body, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 201, r.text
    return c, csrf, str(r.json()["id"])


def test_api_find_by_customer_number_and_the_view_lists_it(api):
    c, csrf, mine = _api_customer(api, "sato", "sato-cust@example.jp")
    _, _, theirs = _api_customer(api, "suzuki", "suzuki-cust@example.jp")
    with api.rt.transaction(SYSTEM_ACTOR) as ctx:
        external_ids.write(ctx, [(mine, "kintone", NO_A), (theirs, "kintone", NO_B)])
    h = {"X-CSRF-Token": csrf, "Mamori-Purpose": "contract"}
    r = c.post("/api/v1/customers/find", json={"customer_no": "kt-000123", "system": "kintone"}, headers=h)
    assert r.status_code == 200, r.text
    assert [i["id"] for i in r.json()["items"]] == [mine]
    r = c.post("/api/v1/customers/find", json={"customer_no": NO_B}, headers=h)  # another rep's customer
    assert r.status_code == 200 and r.json()["items"] == []
    r = c.post("/api/v1/customers/find", json={"system": "kintone"}, headers=h)
    assert r.status_code == 422 and r.json()["code"] == "bad_query"
    r = c.post("/api/v1/customers/find", json={"customer_no": "9" * 201}, headers=h)
    assert r.status_code == 422 and "9" * 50 not in r.text
    anon, _ = api.client()
    r = anon.post(
        "/api/v1/customers/find", json={"customer_no": NO_A}, headers={"Mamori-Purpose": "contract"}
    )
    assert r.status_code == 401
    r = c.get(f"/api/v1/customers/{mine}", headers={"Mamori-Purpose": "contract"})
    assert r.status_code == 200 and r.json()["external_ids"] == [{"system": "kintone", "value": NO_A}]
    spec = c.get("/openapi.json").json()
    find_schema = spec["components"]["schemas"]["FindRequest"]["properties"]
    assert "customer_no" in find_schema and "system" in find_schema


def test_cli_find_by_customer_number_and_show_lists_it(api, monkeypatch):
    from typer.testing import CliRunner

    from mamori.cli.main import app
    from tests.factories import point_env_at

    _, _, mine = _api_customer(api, "sato", "cli-cust@example.jp")
    _, _, theirs = _api_customer(api, "suzuki", "cli-theirs@example.jp")
    with api.rt.transaction(SYSTEM_ACTOR) as ctx:
        external_ids.write(ctx, [(mine, "kintone", NO_A), (theirs, "kintone", NO_B)])
    point_env_at(monkeypatch, api.rt.settings)
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(app, list(args), catch_exceptions=False)

    r = run(
        "--as", "sato", "customers", "find", "-p", "contract", "--customer-no", "ｋｔ－０００１２３", "--json"
    )
    assert r.exit_code == 0, r.output
    assert [i["id"] for i in json.loads(r.stdout)["items"]] == [mine]
    r = run(
        "--as",
        "sato",
        "customers",
        "find",
        "-p",
        "contract",
        "--customer-no",
        NO_B,
        "--system",
        "kintone",
        "--json",
    )
    assert r.exit_code == 0 and json.loads(r.stdout)["items"] == []
    r = run("--as", "sato", "customers", "show", mine, "-p", "contract")
    assert r.exit_code == 0, r.output
    assert "顧客番号（kintone）" in r.stdout and NO_A in r.stdout
    r = run("--as", "sato", "--lang", "en", "customers", "show", mine, "-p", "contract")
    assert "Customer no. (kintone)" in r.stdout and NO_A in r.stdout
    r = run("--as", "sato", "customers", "find", "-p", "contract", "--system", "kintone")
    assert r.exit_code == 1 and "bad_query" in r.stderr


def test_web_search_by_customer_number_in_the_body_and_the_page_lists_it(api):
    c, csrf, mine = _api_customer(api, "sato", "web-cust@example.jp")
    _, _, theirs = _api_customer(api, "suzuki", "web-theirs@example.jp")
    with api.rt.transaction(SYSTEM_ACTOR) as ctx:
        external_ids.write(ctx, [(mine, "kintone", NO_A), (theirs, "kintone", NO_B)])
    page = c.get("/customers")
    assert page.status_code == 200 and 'name="customer_no"' in page.text and 'name="system"' in page.text
    assert "顧客番号" in page.text
    r = c.post("/customers/search", data={"csrf": csrf, "purpose": "contract", "customer_no": "kt-000123"})
    assert r.status_code == 200, r.text
    assert f'action="/customers/{mine}/open"' in r.text and not r.url.query
    assert NO_A not in r.text.split('id="results"')[1]  # the results list names, never echoes the number
    r = c.post(
        "/customers/search",
        data={"csrf": csrf, "purpose": "contract", "customer_no": NO_B, "system": "kintone"},
    )
    assert r.status_code == 200 and theirs not in r.text
    r = c.post("/customers/search", data={"purpose": "contract", "customer_no": NO_A})  # no CSRF token
    assert r.status_code == 403
    with api.rt.transaction(SYSTEM_ACTOR) as ctx:
        external_ids.write(ctx, [(mine, "<b>legacy</b>", "L-1")])
    r = c.post(f"/customers/{mine}/open", data={"csrf": csrf, "purpose": "contract"}, follow_redirects=True)
    assert r.status_code == 200 and "顧客番号（kintone）" in r.text and NO_A in r.text
    assert "<b>legacy</b>" not in r.text and "&lt;b&gt;legacy&lt;/b&gt;" in r.text  # escaped


def test_the_page_and_the_cli_mask_the_number_for_a_purpose_without_identifiers(api, monkeypatch):
    from typer.testing import CliRunner

    from mamori.cli.main import app
    from tests.factories import point_env_at

    with api.rt.transaction(SYSTEM_ACTOR) as ctx:
        purposes_service.add(
            ctx,
            PurposeCreate(
                code="buying-trends",
                title_ja="購買傾向の集計",
                title_en="Buying trends",
                text_ja="購買傾向を集計するため、購入履歴と属性（職業など）を利用します（氏名は利用しません）。",
                text_en="Counting buying trends from purchases and attributes (no names).",
                categories=[Category.ATTRIBUTE, Category.BEHAVIOUR],
            ),
        )
    c, csrf = api.client("sato")
    payload = {
        "customer": {"name": "集計 花子", "emails": ["trend@example.jp"]},
        "provenance": {"method": "direct", "channel": "web_form", "notice_version": "n-2026"},
        "purposes": ["contract", "buying-trends"],
    }
    r = c.post("/api/v1/customers", json=payload, headers={"X-CSRF-Token": csrf})
    cid = r.json()["id"]
    with api.rt.transaction(SYSTEM_ACTOR) as ctx:
        external_ids.write(ctx, [(cid, "kintone", NO_A)])
    r = c.post(
        f"/customers/{cid}/open", data={"csrf": csrf, "purpose": "buying-trends"}, follow_redirects=True
    )
    assert r.status_code == 200 and "顧客番号（kintone）" in r.text
    assert NO_A not in r.text and "●●●" in r.text
    r = c.get(f"/api/v1/customers/{cid}", headers={"Mamori-Purpose": "buying-trends"})
    assert r.json()["external_ids"] == [{"system": "kintone", "value": None}]
    assert "external_ids" in r.json()["masked"]
    point_env_at(monkeypatch, api.rt.settings)
    out = CliRunner().invoke(app, ["--as", "sato", "customers", "show", cid, "-p", "buying-trends"])
    assert out.exit_code == 0 and "顧客番号（kintone）" in out.stdout and NO_A not in out.stdout
