"""The call center's inbound screen in a real browser (issue 20, seed 003 Q1/Q2): the operator types the caller's
number as heard (full-width, no hyphens), sees the caller's name, the purposes they were notified of and where
their data came from, records 「もう電話してこないで」 in one step and sees the new state — with the number in no
URL, and axe-core finding no serious or critical violation."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from mamori.cli.main import app as cli_app
from tests.browser.conftest import Live, shot, sign_in
from tests.browser.test_shell import serious_violations

pytestmark = pytest.mark.browser

FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


@pytest.fixture(autouse=True)
def _cli_on_the_live_store(live: Live, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The CLI calls below read the store the live server serves."""
    from mamori.kernel.settings import reset_settings_cache

    for k, v in live.env.items():
        monkeypatch.setenv(k, v)
    reset_settings_cache()
    yield
    reset_settings_cache()


def cli_json(*args: str):
    r = CliRunner().invoke(cli_app, [*args, "--json"], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


def a_caller() -> tuple[str, str, str]:
    """(id, name, national digits) of a demo customer the support desk may read, with a phone and no phone stop."""
    for row in cli_json("--as", "takahashi", "customers", "list", "-p", "support", "--limit", "50")["items"]:
        view = cli_json("--as", "takahashi", "customers", "show", row["id"], "-p", "support")
        if not view["phones"] or not view["name"]:
            continue
        if "phone" in cli_json("--as", "takahashi", "consent", "show", row["id"])["do_not_contact"]:
            continue
        digits = "".join(ch for ch in view["phones"][0].split(";")[0] if ch.isdigit() or ch == "+")
        national = "0" + digits[3:] if digits.startswith("+81") else digits
        return row["id"], view["name"], national
    pytest.skip("no demo customer with a phone number for the support purpose")


def test_find_the_caller_by_phone_and_record_do_not_contact_in_one_step(page, live: Live):
    cid, name, national = a_caller()
    typed = national.translate(FULL_WIDTH)  # as a caller dictates it: full-width, no hyphens
    sign_in(page, live, "takahashi")
    page.goto(live.url + "/contact/inbound")
    assert page.get_by_role("heading", name="着信対応").is_visible()
    assert serious_violations(page) == []
    page.get_by_label("今回の利用目的").select_option("support")
    page.get_by_label("電話番号").fill(typed)
    page.get_by_role("button", name="探す").click()
    card = page.locator(f"#caller-{cid}")
    card.wait_for()
    text = card.inner_text()
    assert name in text and cid in text
    assert "通知した利用目的" in text and "取得元" in text
    assert national not in page.url and typed not in page.url
    assert serious_violations(page) == []
    shot(page, "contact-inbound")
    # 「もう電話してこないで」: phone is ticked by default; record it in one step
    card.get_by_role("button", name="連絡停止を記録する").click()
    page.locator(f"#caller-{cid} >> text=連絡停止を記録しました").wait_for()
    assert "電話" in page.locator(f"#dnc-state-{cid}").inner_text()
    assert national not in page.url
    assert serious_violations(page) == []
    assert "phone" in cli_json("--as", "takahashi", "consent", "show", cid)["do_not_contact"]


def test_an_unknown_number_is_a_neutral_not_found(page, live: Live):
    sign_in(page, live, "takahashi")
    page.goto(live.url + "/contact/inbound")
    page.get_by_label("今回の利用目的").select_option("support")
    page.get_by_label("電話番号").fill("03-9999-0000")
    page.get_by_role("button", name="探す").click()
    page.locator("#inbound-none").wait_for()
    assert "見つかりませんでした" in page.inner_text("#inbound-results")
    assert "9999" not in page.url
