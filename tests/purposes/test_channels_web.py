"""Issue 20 (1) in the staff web app: the purpose pages show each purpose's contact channels and whether it is
advertising, the register / revise forms edit them (a revision of the channels is a new version, the old version
keeps its own), a marketing purpose with e-mail or SMS says that prior opt-in is required (特定電子メール法 第3条,
TE-3); bad input is a 422 page that echoes nothing; a role without PURPOSE_MANAGE is refused."""

from __future__ import annotations

import pytest

from mamori.kernel.context import SYSTEM_ACTOR
from mamori.purposes import service
from tests.api.conftest import Api

NEW = {
    "code": "outbound",
    "title_ja": "お電話・郵便での新商品のご案内",
    "title_en": "Offers by phone and post",
    "text_ja": "新商品のご案内をお電話・郵便・メールでお届けするため、氏名・住所・電話番号・メールアドレスを利用します。",
    "text_en": "We use your name, address, phone numbers and email addresses to tell you about new products.",
    "categories": ["identifier", "contact"],
    "lawful_basis": "legitimate_interests",
    "balancing_ref": "LIA-1",
}


@pytest.fixture
def api(runtime):
    return Api(runtime)


def current(api, code):
    with api.rt.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        return service.show(ctx, code)


def history(api, code):
    with api.rt.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        return {p.version: p for p in service.history(ctx, code)}


def revise_form(p, **over):
    body = {
        "base_version": str(p.version),
        "title_ja": p.title_ja,
        "title_en": p.title_en,
        "text_ja": p.text_ja,
        "text_en": p.text_en,
        "categories": [c.value for c in p.categories],
        "lawful_basis": p.lawful_basis or "",
        "balancing_ref": p.balancing_ref or "",
        "channels": list(p.channels),
    }
    for flag in ("third_party", "consent_appi", "consent_gdpr", "art10", "marketing"):
        if getattr(p, flag):
            body[flag] = "1"
    body.update(over)
    return body


def test_the_form_offers_the_channels_in_words(api):
    c, _ = api.client("po")
    r = c.get("/purposes/new")
    assert r.status_code == 200
    for ch in ("phone", "email", "post", "sms", "visit"):
        assert f'name="channels" value="{ch}"' in r.text
    assert "電話" in r.text and "訪問" in r.text and 'name="marketing"' in r.text
    assert "特定電子メール法 第3条" in r.text  # the marketing box says what it means


def test_register_with_channels_then_the_registry_and_the_page_show_them(api):
    c, csrf = api.client("po")
    r = c.post(
        "/purposes/new", data={**NEW, "channels": ["phone", "post", "email"], "marketing": "1", "csrf": csrf}
    )
    assert r.status_code == 201, r.text
    assert "電話、メール、郵便" in r.text and 'id="p-optin-note"' in r.text and "TE-3" in r.text
    p = current(api, "outbound")
    assert p.channels == ["phone", "email", "post"] and p.marketing
    registry = c.get("/purposes")
    assert "電話、メール、郵便" in registry.text and "事前の同意が必要" in registry.text
    assert "なし" in registry.text  # contract: no channel
    page = c.get("/purposes/outbound")
    assert page.status_code == 200
    assert '<dd id="p-channels">電話、メール、郵便</dd>' in page.text
    assert "オプトイン" in page.text and "特定電子メール法 第3条" in page.text
    contract = c.get("/purposes/contract")
    assert '<dd id="p-channels">なし</dd>' in contract.text and 'id="p-optin-note"' not in contract.text
    en = c.get("/purposes/outbound", cookies={"mamori_lang": "en"})
    assert "Phone, E-mail, Post" in en.text and "opted in beforehand" in en.text


def test_phone_only_advertising_has_no_opt_in_note(api):
    c, csrf = api.client("po")
    r = c.post("/purposes/new", data={**NEW, "channels": ["phone"], "marketing": "1", "csrf": csrf})
    assert r.status_code == 201 and 'id="p-optin-note"' not in r.text


def test_revising_the_channels_makes_a_new_version_and_the_old_keeps_its_own(api):
    c, csrf = api.client("po")
    assert c.post("/purposes/new", data={**NEW, "channels": ["phone"], "csrf": csrf}).status_code == 201
    p = current(api, "outbound")
    form = c.get("/purposes/outbound/revise")
    assert 'name="channels" value="phone" checked' in form.text
    confirm = c.post(
        "/purposes/outbound/revise",
        data=revise_form(p, channels=["phone", "email"], marketing="1", csrf=csrf),
    )
    assert confirm.status_code == 200, confirm.text
    assert "連絡手段" in confirm.text and "電話、メール" in confirm.text  # the change, before → after
    assert 'id="p-optin-note"' in confirm.text
    assert '<input type="hidden" name="channels" value="email">' in confirm.text  # carried to the save
    saved = c.post(
        "/purposes/outbound/revise",
        data=revise_form(p, channels=["phone", "email"], marketing="1", step="save", csrf=csrf),
    )
    assert saved.status_code == 201, saved.text
    versions = history(api, "outbound")
    assert versions[1].channels == ["phone"] and not versions[1].marketing
    assert versions[2].channels == ["phone", "email"] and versions[2].marketing
    page = c.get("/purposes/outbound")
    assert '<span class="version-channels">電話</span>' in page.text
    assert '<span class="version-channels">電話、メール</span>' in page.text


def test_an_unknown_channel_is_a_422_page_that_echoes_nothing(api):
    c, csrf = api.client("po")
    r = c.post("/purposes/new", data={**NEW, "channels": ["phone", "fax-machine"], "csrf": csrf})
    assert r.status_code == 422
    assert "連絡手段" in r.text and "fax-machine" not in r.text
    with api.rt.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        assert "outbound" not in {p.code for p in service.list_purposes(ctx)}
    p = current(api, "contract")
    r = c.post("/purposes/contract/revise", data=revise_form(p, channels=["pigeon"], step="save", csrf=csrf))
    assert r.status_code == 422 and "pigeon" not in r.text
    assert current(api, "contract").version == 1


def test_a_role_without_purpose_manage_cannot_set_channels(api):
    c, csrf = api.client("support")
    r = c.post("/purposes/new", data={**NEW, "channels": ["phone"], "csrf": csrf})
    assert r.status_code == 403 and "R-23-2" in r.text
    p = current(api, "contract")
    r = c.post("/purposes/contract/revise", data=revise_form(p, channels=["phone"], step="save", csrf=csrf))
    assert r.status_code == 403
    assert current(api, "contract").channels == []
