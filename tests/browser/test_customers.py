"""Customer screens in a real browser: why you open a customer, masked fields, a refusal with its rule id, the
note warning as you type, and another rep's customer as a 404 (seed 001 case 1, seed 003)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from mamori.cli.main import app as cli_app
from tests.browser.conftest import Live, shot, sign_in
from tests.browser.test_shell import serious_violations

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def _cli_on_the_live_store(live: Live, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The CLI calls below read the store the live server serves (the tests' own MAMORI_HOME is replaced)."""
    from mamori.kernel.settings import reset_settings_cache

    for k, v in live.env.items():
        monkeypatch.setenv(k, v)
    reset_settings_cache()
    yield
    reset_settings_cache()


def customers(who: str, purpose: str) -> list[dict]:
    return cli_json("--as", who, "customers", "list", "-p", purpose, "--limit", "500")["items"]


def cli_json(*args: str):
    r = CliRunner().invoke(cli_app, [*args, "--json"], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


def cli_error(*args: str) -> str:
    """The one-line refusal of a CLI call, or "" when it was allowed."""
    r = CliRunner().invoke(cli_app, list(args), catch_exceptions=False)
    return r.stderr if r.exit_code != 0 else ""


def open_for(page, live: Live, cid: str, purpose: str) -> None:
    page.goto(f"{live.url}/customers/{cid}")
    page.get_by_label("今回の利用目的", exact=False).select_option(purpose)
    page.get_by_role("button", name="この目的で開く").click()


def test_open_a_customer_for_a_purpose_masks_what_it_does_not_cover(page, live: Live):
    rows = customers("takahashi", "support")
    shown = next(
        v
        for v in (
            cli_json("--as", "takahashi", "customers", "show", r["id"], "-p", "support") for r in rows[:10]
        )
        if v["masked"]
    )
    sign_in(page, live, "takahashi")
    open_for(page, live, shown["id"], "support")
    body = page.inner_text("main")
    assert shown["name"] in body  # what the purpose covers
    assert "●●●" in body  # and the rest masked
    shot(page, "customer-masked")
    assert shown["id"] in page.url and shown["name"] not in page.url  # nothing personal in the URL
    assert serious_violations(page) == []


def test_a_refused_purpose_shows_its_reason_and_rule_id(page, live: Live):
    rows = customers("hoshino", "contract")
    for r in rows[:20]:
        err = cli_error("--as", "hoshino", "customers", "show", r["id"], "-p", "partner-sharing")
        if "[R-" in err:
            rule = re.search(r"\[(R-[0-9.]+-\d+)\]", err).group(1)
            cid = r["id"]
            break
    else:
        pytest.fail("no demo customer refused for partner-sharing")
    sign_in(page, live, "hoshino")
    open_for(page, live, cid, "partner-sharing")
    assert rule in page.inner_text("main")
    shot(page, "customer-refused")
    assert page.get_by_role("alert").count() >= 1


def test_a_note_with_a_phone_number_is_flagged_as_you_type(page, live: Live):
    rows = customers("takahashi", "support")
    sign_in(page, live, "takahashi")
    open_for(page, live, rows[0]["id"], "support")
    page.get_by_label("内容", exact=False).last.fill("折り返しは 090-1234-5678 まで")
    page.locator("#note-body").press("End")
    page.wait_for_selector("#note-check li, #note-check p")
    check = page.inner_text("#note-check")
    assert "電話番号" in check and "090-1234-5678" not in check  # the kind, never the value


def test_a_sales_rep_gets_the_same_404_for_another_reps_customer(page, live: Live):
    mine = {r["id"] for r in customers("sato", "contract")}
    everyone = [r["id"] for r in customers("hoshino", "contract")]
    other = next(c for c in everyone if c not in mine)
    sign_in(page, live, "sato")
    seen = []
    for cid in (other, "0" * 32):  # another rep's customer, and one that does not exist
        page.goto(f"{live.url}/customers/{cid}")
        page.get_by_label("今回の利用目的", exact=False).select_option("contract")
        with page.expect_response(
            lambda r, cid=cid: r.url.endswith(f"/customers/{cid}") and r.request.method == "GET"
        ) as r:
            page.get_by_role("button", name="この目的で開く").click()
        seen.append((r.value.status, page.inner_text("main")))
    assert seen[0][0] == seen[1][0] == 404 and "顧客が見つかりません" in seen[0][1]
    assert seen[0][1] == seen[1][1].replace("0" * 32, other)  # the same page: nothing tells them apart
