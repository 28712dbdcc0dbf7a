"""The REST API of the published notice (R-32-1): the public reads (no login, no token), the privacy officer's
draft and publish, refusals (403 problem+json, audited) and bad input."""

from __future__ import annotations

from datetime import timedelta

import pytest

from mamori.kernel.context import SYSTEM_ACTOR
from mamori.notice import service
from mamori.purposes import service as purposes_service
from mamori.staff.schemas import ApiTokenCreate
from tests.api.conftest import Api
from tests.api.test_api import problem
from tests.factories import PURPOSES
from tests.kernel.test_sensitive_refusal_sweep import denials_since, last_seq
from tests.notice.conftest import FOREIGN_NOTE, OPERATOR, seed_registries
from tests.staff.helpers import own_token

API = "/api/v1/notice"
SECTIONS = ["operator", "purposes", "joint_use", "requests", "fees", "security", "foreign", "contact"]
NEW_TEXT = "ご注文の商品をお届けするため、氏名・住所・電話番号を利用します（改定後の文）。"
NEW_TEXT_EN = "To deliver your order we use your name, address and phone number (revised wording)."


@pytest.fixture
def api(make_runtime):
    rt = make_runtime(**OPERATOR)
    a = Api(rt)
    seed_registries(rt)
    return a


def versions(api) -> list[int]:
    with api.rt.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        return [v.version for v in service.history(ctx)]


def revise_contract(api) -> None:
    with api.rt.transaction(SYSTEM_ACTOR) as ctx:
        purposes_service.revise(
            ctx, PURPOSES["contract"].model_copy(update={"text_ja": NEW_TEXT, "text_en": NEW_TEXT_EN})
        )


def po_publishes(api) -> dict:
    c, csrf = api.client("po")
    sha = c.get(f"{API}/draft").json()["sha256"]
    r = c.post(f"{API}/publish", json={"expect": sha}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200, r.text
    return r.json()


def test_R_32_1_the_notice_in_force_is_public_without_login_or_token(api):
    anon, _ = api.client()
    problem(anon.get(API), 404, "notice_not_found", "R-32-1")  # nothing published yet
    po_publishes(api)
    r = anon.get(API)
    assert r.status_code == 200, r.text
    assert "set-cookie" not in r.headers and len(anon.cookies.jar) == 0
    got = r.json()
    assert got["version"] == 1 and len(got["sha256"]) == 64 and got["published_by"]
    assert [s["id"] for s in got["content"]["sections"]] == SECTIONS
    assert got["lang"] is None and got["text"] is None
    assert OPERATOR["operator_name"] in r.text and PURPOSES["contract"].text_en in r.text  # both languages
    # ?lang: also the notice as plain lines in that language
    ja = anon.get(API, params={"lang": "ja"}).json()
    assert (
        ja["lang"] == "ja"
        and any(FOREIGN_NOTE in line for line in ja["text"])
        and ja["text"][0].startswith("# ")
    )
    assert any(PURPOSES["contract"].text_ja in line for line in ja["text"])
    en = anon.get(API, params={"lang": "en"}).json()
    assert "## United States" in en["text"] and PURPOSES["contract"].text_en in en["text"]
    assert not any(PURPOSES["contract"].text_ja in line for line in en["text"])
    assert en["content"] == got["content"]
    # a token sent anyway is not looked at (not even a wrong one)
    r = anon.get(API, headers={"Authorization": "Bearer mamori_wrong"})
    assert r.status_code == 200 and r.json()["version"] == 1
    body = problem(anon.get(API, params={"lang": "zqxfr"}), 422)
    assert "zqxfr" not in str(body)


def test_R_32_1_history_and_each_version_as_published_are_public(api):
    anon, _ = api.client()
    assert anon.get(f"{API}/versions").json() == []
    v1 = po_publishes(api)
    revise_contract(api)
    api.rt.clock.advance(timedelta(days=13))
    v2 = po_publishes(api)
    assert (v1["version"], v2["version"]) == (1, 2)
    r = anon.get(f"{API}/versions")
    assert r.status_code == 200 and "set-cookie" not in r.headers
    rows = r.json()
    assert [(x["version"], x["sha256"]) for x in rows] == [(2, v2["sha256"]), (1, v1["sha256"])]
    assert rows[0]["published_at"] > rows[1]["published_at"]
    first = anon.get(f"{API}/versions/1").json()
    assert first["version"] == 1 and first["sha256"] == v1["sha256"]
    assert NEW_TEXT not in str(first) and NEW_TEXT in str(anon.get(f"{API}/versions/2").json())
    assert anon.get(API).json()["version"] == 2
    en = anon.get(f"{API}/versions/1", params={"lang": "en"}).json()
    assert en["lang"] == "en" and "# Who we are" in en["text"]


@pytest.mark.parametrize("bad", ["0", "-1", "abc", "zqxmarker4711", "99999999999", "1.5"])
def test_a_malformed_version_is_422_without_echo(api, bad):
    po_publishes(api)
    anon, _ = api.client()
    body = problem(anon.get(f"{API}/versions/{bad}"), 422)
    assert "zqxmarker4711" not in str(body) and "99999999999" not in str(body)


def test_an_unknown_version_is_404_problem(api):
    po_publishes(api)
    anon, _ = api.client()
    body = problem(anon.get(f"{API}/versions/7"), 404, "notice_not_found", "R-32-1")
    assert body["detail"]


def test_R_32_1_the_privacy_officer_reviews_the_draft_and_publishes_it(api):
    c, csrf = api.client("po")
    r = c.get(f"{API}/draft")
    assert r.status_code == 200, r.text
    draft = r.json()
    assert draft["published"] is None and draft["unchanged"] is False
    assert [(x["id"], x["status"]) for x in draft["changes"]] == [(s, "added") for s in SECTIONS]
    assert [p["setting"] for p in draft["placeholders"]] == ["MAMORI_SECURITY_MEASURES_FILE"]
    r = c.post(f"{API}/publish", json={"expect": draft["sha256"]}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200, r.text
    done = r.json()
    assert (done["status"], done["published"], done["version"]) == ("published", True, 1)
    assert done["sha256"] == draft["sha256"] and versions(api) == [1]
    # publishing the same draft again stores nothing: "unchanged"
    r = c.post(f"{API}/publish", json={"expect": draft["sha256"]}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200 and r.json()["status"] == "unchanged" and r.json()["version"] == 1
    assert versions(api) == [1]
    again = c.get(f"{API}/draft").json()
    assert again["unchanged"] is True and again["published"]["version"] == 1
    assert {x["status"] for x in again["changes"]} == {"same"}
    # a purpose changes: the draft says what changed, in the language asked
    revise_contract(api)
    changed = c.get(f"{API}/draft", params={"lang": "en"}).json()
    assert changed["sha256"] != draft["sha256"] and changed["unchanged"] is False
    status = {x["id"]: x for x in changed["changes"]}
    assert status["purposes"]["status"] == "changed" and status["operator"]["status"] == "same"
    en_diff = status["purposes"]["diff"]
    assert any(line.startswith("+") and NEW_TEXT_EN in line for line in en_diff)
    assert not any(NEW_TEXT in line for line in en_diff)
    ja = c.get(f"{API}/draft").json()
    assert any(
        line.startswith("+") and NEW_TEXT in line
        for line in {x["id"]: x for x in ja["changes"]}["purposes"]["diff"]
    )
    # the reviewed (old) draft no longer is what would be published: 409, nothing stored
    r = c.post(f"{API}/publish", json={"expect": draft["sha256"]}, headers={"X-CSRF-Token": csrf})
    problem(r, 409, "notice_draft_changed", "R-32-1")
    assert versions(api) == [1]
    r = c.post(f"{API}/publish", json={"expect": changed["sha256"]}, headers={"X-CSRF-Token": csrf})
    assert r.json()["status"] == "published" and r.json()["version"] == 2 and versions(api) == [2, 1]


def test_a_privacy_officers_api_token_drafts_and_publishes(api):
    token = own_token(
        api.rt, "po", api.secrets["po"], ApiTokenCreate(name="site", purposes=["contract"])
    ).token
    anon, _ = api.client()
    auth = {"Authorization": f"Bearer {token}"}
    sha = anon.get(f"{API}/draft", headers=auth).json()["sha256"]
    r = anon.post(f"{API}/publish", json={"expect": sha}, headers=auth)
    assert r.status_code == 200 and r.json()["version"] == 1, r.text


@pytest.mark.parametrize("who", ["sato", "support", "analyst"])
def test_R_32_1_sales_support_and_analysts_are_refused_draft_and_publish_audited(api, who):
    c, csrf = api.client(who)
    with api.rt.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        sha = service.digest(service.build(ctx)[0])  # even the right sha256 publishes nothing
    before = last_seq(api.rt)
    problem(c.get(f"{API}/draft"), 403, "role_not_permitted", "R-23-2")
    problem(
        c.post(f"{API}/publish", json={"expect": sha}, headers={"X-CSRF-Token": csrf}),
        403,
        "role_not_permitted",
        "R-23-2",
    )
    denied = denials_since(api.rt, before)
    assert [e.action for e in denied] == ["notice.publish", "notice.publish"]
    assert versions(api) == []


def test_draft_and_publish_need_a_sign_in_and_the_csrf_token(api):
    anon, _ = api.client()
    problem(anon.get(f"{API}/draft"), 401)
    problem(anon.post(f"{API}/publish", json={"expect": "0" * 64}), 401)
    c, _ = api.client("po")
    sha = c.get(f"{API}/draft").json()["sha256"]
    problem(c.post(f"{API}/publish", json={"expect": sha}), 403, "csrf_rejected")  # a cookie session's write
    assert versions(api) == []


@pytest.mark.parametrize(
    "payload",
    [
        {"expect": "zqxmarker4711"},
        {"expect": "ZQXMARKER4711" + "a" * 51},
        {"expect": "A" * 64},  # upper-case hex is not what the draft answers
        {"expect": "a" * 65},
        {},
        {"expect": "a" * 64, "zqxmarker4711": 1},
    ],
)
def test_a_malformed_expect_is_422_without_echo_and_publishes_nothing(api, payload):
    c, csrf = api.client("po")
    r = c.post(f"{API}/publish", json=payload, headers={"X-CSRF-Token": csrf})
    body = problem(r, 422)
    assert "zqxmarker4711" not in r.text.lower() and "a" * 64 not in r.text and "A" * 64 not in r.text
    assert body["errors"]
    assert versions(api) == []


def test_the_notice_routes_are_in_the_openapi_document_and_the_reads_need_no_auth(api):
    anon, _ = api.client()
    paths = anon.get("/openapi.json").json()["paths"]
    for p in (API, f"{API}/versions", f"{API}/versions/{{version}}", f"{API}/draft", f"{API}/publish"):
        assert p in paths, p
    assert "401" not in paths[API]["get"]["responses"]
    assert {"401", "403", "409", "422"} <= set(paths[f"{API}/publish"]["post"]["responses"])
