"""Issue 24 (1, second path): a purpose says whether it includes analysis / profiling (分析・プロファイリングを含む).

The flag is set with `mamori purposes add|revise --profiling`, the API's ``profiling`` and the web form's box; it is
shown by `purposes list|show` and the web pages; changing it is a new version and the old version keeps its own;
the policy engine's PurposeFacts carry it (for a person told of an older version only when both versions say so).
R-17-1: a profiling purpose must name the behaviour or attribute category the analysis reads, and its Japanese
notice text must say 分析 or プロファイリング; otherwise it is refused and nothing is saved. A role that may not
manage purposes (support, analyst) cannot set it."""

from __future__ import annotations

import json

import pytest
from alembic import command
from sqlalchemy import text
from typer.testing import CliRunner

from mamori.cli.main import app
from mamori.kernel.context import SYSTEM_ACTOR
from mamori.kernel.db import make_engine
from mamori.kernel.errors import PolicyDenied, ValidationFailed
from mamori.kernel.policy import Category
from mamori.kernel.runtime import alembic_config
from mamori.purposes import service
from mamori.purposes.schemas import PurposeCreate
from tests.api.conftest import Api
from tests.factories import point_env_at, seed_basics

API = "/api/v1"
TEXT_JA = "ご購入の履歴と年代・性別を分析し（プロファイリングを含みます）、商品企画に利用します。"
TEXT_EN = (
    "We analyse your purchase history with your age band and gender (including profiling) to plan products."
)
SILENT_JA = "ご購入の履歴と年代・性別を使って、お客様に合った商品を企画するために利用します。"  # no 分析 / プロファイリング
BODY = {
    "code": "insights",
    "title_ja": "購買履歴の分析による商品企画",
    "title_en": "Product planning from purchase history",
    "text_ja": TEXT_JA,
    "text_en": TEXT_EN,
    "categories": ["attribute", "behaviour"],
    "lawful_basis": "legitimate_interests",
    "balancing_ref": "LIA-24",
}
ADD = (
    "--title-ja",
    BODY["title_ja"],
    "--title-en",
    BODY["title_en"],
    "--text-ja",
    TEXT_JA,
    "--text-en",
    TEXT_EN,
    "--categories",
    "attribute,behaviour",
)


def data(**over: object) -> PurposeCreate:
    return PurposeCreate.model_validate({**BODY, "profiling": True, **over})


def saved_codes(rt) -> set[str]:
    with rt.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        return {p.code for p in service.list_purposes(ctx)}


# -- the service and the engine's facts ---------------------------------------------------------------------------


def test_revising_the_flag_is_a_new_version_and_the_facts_follow_the_version_told(runtime):
    with runtime.transaction(SYSTEM_ACTOR) as ctx:
        v1 = service.add(ctx, data(profiling=False))
        v2 = service.revise(ctx, data())
    assert (v1.version, v1.profiling) == (1, False)
    assert (v2.version, v2.profiling) == (2, True)
    with runtime.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        history = {p.version: p.profiling for p in service.history(ctx, "insights")}
        by_version = service.version_facts(ctx, "insights")
        current = service.facts(ctx, "insights")
        told_v1 = service.facts_for_version(ctx, "insights", 1)
        told_v2 = service.facts_for_version(ctx, "insights", 2)
    assert history == {1: False, 2: True}  # the old version keeps what it said
    assert by_version[1].profiling is False and by_version[2].profiling is True
    assert current is not None and current.profiling is True
    # a person told only version 1 was never told of the analysis: no profiling for them until notified
    assert told_v1 is not None and (told_v1.version, told_v1.profiling) == (1, False)
    assert told_v2 is not None and told_v2.profiling is True


def test_dropping_the_flag_in_a_revision_ends_it_for_everyone(runtime):
    with runtime.transaction(SYSTEM_ACTOR) as ctx:
        service.add(ctx, data())
        service.revise(ctx, data(profiling=False))
    with runtime.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        told_v1 = service.facts_for_version(ctx, "insights", 1)
        current = service.facts(ctx, "insights")
    assert (
        told_v1 is not None and told_v1.profiling is False
    )  # v1 said so, but the current version no longer does
    assert current is not None and current.profiling is False


@pytest.mark.parametrize(
    "categories", [["identifier", "contact"], ["identifier"], ["contact", "sensitive"]], ids=str
)
def test_profiling_without_the_behaviour_or_attribute_category_is_refused_R_17_1(runtime, categories):
    with runtime.transaction(SYSTEM_ACTOR) as ctx, pytest.raises(ValidationFailed) as err:
        service.add(ctx, data(categories=categories, art9_condition=None))
    assert err.value.code == "profiling_without_category" and err.value.rule_id == "R-17-1"
    assert "行動" in err.value.message_ja and "属性" in err.value.message_ja
    assert "behaviour" in err.value.message_en and "attribute" in err.value.message_en
    assert "insights" not in saved_codes(runtime)


@pytest.mark.parametrize("categories", [["behaviour"], ["attribute"]])
def test_either_analysed_category_is_enough(runtime, categories):
    with runtime.transaction(SYSTEM_ACTOR) as ctx:
        assert service.add(ctx, data(categories=categories)).profiling is True


def test_profiling_the_japanese_text_does_not_state_is_refused_R_17_1(runtime):
    with runtime.transaction(SYSTEM_ACTOR) as ctx, pytest.raises(ValidationFailed) as err:
        service.add(ctx, data(text_ja=SILENT_JA))  # the English text says "analyse"; the Japanese does not
    assert err.value.code == "profiling_not_stated" and err.value.rule_id == "R-17-1"
    assert "分析" in err.value.message_ja and "プロファイリング" in err.value.message_ja
    assert "notice" in err.value.message_en
    assert "insights" not in saved_codes(runtime)
    # the same text is fine for a purpose that does not analyse (a warning at most, as before issue 24)
    with runtime.transaction(SYSTEM_ACTOR) as ctx:
        assert service.add(ctx, data(text_ja=SILENT_JA, profiling=False)).profiling is False


@pytest.mark.parametrize(
    "text_ja",
    [
        "ご購入の履歴を商品企画に利用します。分析は行いません。",
        "ご購入の履歴を集計します（プロファイリングを含みません）。",
        "ご購入の履歴をお届けに利用し、分析することはありません。",
        "ご購入の履歴は分析しません。",
    ],
)
def test_a_text_that_denies_the_analysis_does_not_state_it_R_17_1(runtime, text_ja):
    with runtime.transaction(SYSTEM_ACTOR) as ctx, pytest.raises(ValidationFailed) as err:
        service.add(ctx, data(text_ja=text_ja))
    assert err.value.code == "profiling_not_stated" and err.value.rule_id == "R-17-1"
    assert "insights" not in saved_codes(runtime)


@pytest.mark.parametrize(
    "text_ja",
    [
        "ご購入の履歴を分析し、商品企画に利用します。",
        "ご購入の履歴を分析（プロファイリングを含む）し、おすすめをご案内します。",
        "第三者には提供しません。ご購入の履歴を分析し、商品企画に利用します。",  # a negation elsewhere
        "分析は行いません、という誤解がないよう申し添えます。ご購入の傾向を分析して企画に使います。",
    ],
)
def test_a_text_that_states_the_analysis_passes_even_beside_other_negations(runtime, text_ja):
    with runtime.transaction(SYSTEM_ACTOR) as ctx:
        assert service.add(ctx, data(text_ja=text_ja)).profiling is True


def test_a_revision_that_turns_profiling_on_without_saying_so_keeps_the_old_version(runtime):
    with runtime.transaction(SYSTEM_ACTOR) as ctx:
        service.add(ctx, data(text_ja=SILENT_JA, profiling=False))
    with runtime.transaction(SYSTEM_ACTOR) as ctx, pytest.raises(ValidationFailed) as err:
        service.revise(ctx, data(text_ja=SILENT_JA))
    assert err.value.rule_id == "R-17-1"
    with runtime.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        assert [p.version for p in service.history(ctx, "insights")] == [1]


def test_either_word_counts_also_in_half_width_kana(runtime):
    with runtime.transaction(SYSTEM_ACTOR) as ctx:
        a = service.add(ctx, data(code="by-bunseki", text_ja="ご購入の履歴を分析し、商品企画に利用します。"))
        b = service.add(
            ctx, data(code="by-kana", text_ja="ご購入の履歴からﾌﾟﾛﾌｧｲﾘﾝｸﾞを行い、商品企画に利用します。")
        )
    assert a.profiling and b.profiling


def test_a_role_that_may_not_manage_purposes_cannot_set_the_flag(runtime):
    actors = seed_basics(runtime)
    for who in ("analyst", "support", "sato"):
        with runtime.transaction(actors[who]) as ctx, pytest.raises(PolicyDenied):
            service.add(ctx, data())
        with runtime.transaction(actors[who]) as ctx, pytest.raises(PolicyDenied):
            service.revise(ctx, data(code="contract", categories=["identifier", "behaviour"]))
    assert "insights" not in saved_codes(runtime)
    with runtime.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        contract = service.show(ctx, "contract")
    assert (contract.version, contract.profiling) == (1, False)


def test_the_demo_analytics_purpose_is_the_one_flagged():
    from mamori.cli.demo import PURPOSES

    flagged = {p.code for p in PURPOSES if p.profiling}
    assert flagged == {"analytics", "recommend"}  # recommend: a contact purpose chosen by analysis
    analytics = next(p for p in PURPOSES if p.code == "analytics")
    service.check_profiling(analytics)  # states it and covers attribute + behaviour: no refusal
    assert {Category.ATTRIBUTE, Category.BEHAVIOUR} <= set(analytics.categories)


# -- the CLI --------------------------------------------------------------------------------------------------------


@pytest.fixture
def run(runtime, monkeypatch):
    seed_basics(runtime)
    point_env_at(monkeypatch, runtime.settings)
    runner = CliRunner()
    return lambda *args: runner.invoke(app, list(args), catch_exceptions=False)


def j(result):
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def one_line(result) -> str:
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_cli_add_with_profiling_then_show_and_list_say_so(run):
    added = j(run("--as", "po", "purposes", "add", "insights", *ADD, "--profiling", "--json"))
    assert added["profiling"] is True and added["version"] == 1
    plain = run("--as", "po", "purposes", "add", "plain", *ADD)
    assert plain.exit_code == 0, plain.output
    assert "分析・プロファイリング: いいえ" in plain.stdout
    shown = run("purposes", "show", "insights")
    assert shown.exit_code == 0 and "分析・プロファイリング：はい" in shown.stdout
    assert "分析・プロファイリング：いいえ" in run("purposes", "show", "contract").stdout
    english = run("--lang", "en", "purposes", "show", "insights")
    assert "Analysis and profiling: Yes" in english.stdout
    listed = run("--lang", "en", "purposes", "list", "--json")
    by_code = {p["code"]: p["profiling"] for p in j(listed)}
    assert by_code["insights"] is True and by_code["plain"] is False and by_code["contract"] is False


def test_cli_list_marks_the_profiling_purpose(run, monkeypatch):
    from mamori.kernel import cli_support

    # one line per purpose, nothing cut (the console is made once per process: COLUMNS alone may come too late)
    monkeypatch.setattr(cli_support.console, "_width", 400)
    j(run("--as", "po", "purposes", "add", "insights", *ADD, "--profiling", "--json"))
    listed = run("purposes", "list")
    assert listed.exit_code == 0, listed.output
    rows = {ln.split("│")[1].strip(): ln for ln in listed.stdout.splitlines() if ln.startswith("│")}
    assert "（分析・プロファイリングを含む）" in rows["insights"]
    assert "分析・プロファイリング" not in rows["contract"]


def test_cli_revise_with_profiling_is_a_new_version(run):
    j(run("--as", "po", "purposes", "add", "insights", *ADD, "--json"))
    revised = j(run("--as", "po", "purposes", "revise", "insights", *ADD, "--profiling", "--json"))
    assert revised["version"] == 2 and revised["profiling"] is True
    history = {
        p["version"]: p["profiling"] for p in j(run("purposes", "show", "insights", "--history", "--json"))
    }
    assert history == {1: False, 2: True}


def test_cli_refusals_are_one_line_naming_R_17_1_and_nothing_is_saved(run):
    r = run("--as", "po", "purposes", "add", "insights", *ADD[:-1], "identifier,contact", "--profiling")
    assert r.exit_code != 0 and "R-17-1" in one_line(r) and "行動" in one_line(r)
    silent = list(ADD)
    silent[silent.index("--text-ja") + 1] = SILENT_JA
    r = run("--as", "po", "purposes", "add", "insights", *silent, "--profiling")
    assert r.exit_code != 0 and "R-17-1" in one_line(r) and "プロファイリング" in one_line(r)
    assert run("purposes", "show", "insights").exit_code != 0


def test_cli_a_role_that_may_not_manage_purposes_is_refused(run):
    r = run("--as", "analyst", "purposes", "add", "insights", *ADD, "--profiling")
    assert r.exit_code != 0 and "R-" in one_line(r)
    assert run("purposes", "show", "insights").exit_code != 0


# -- the REST API ---------------------------------------------------------------------------------------------------


@pytest.fixture
def api(runtime):
    return Api(runtime)


def test_api_add_and_revise_carry_the_flag(api):
    c, csrf = api.client("po")
    h = {"X-CSRF-Token": csrf}
    r = c.post(f"{API}/purposes", json={**BODY, "profiling": True}, headers=h)
    assert r.status_code == 201, r.text
    assert r.json()["profiling"] is True
    r = c.post(f"{API}/purposes/insights/versions", json=BODY, headers=h)  # the flag left out: false
    assert r.status_code == 201 and r.json()["version"] == 2 and r.json()["profiling"] is False
    versions = {p["version"]: p["profiling"] for p in c.get(f"{API}/purposes/insights/versions").json()}
    assert versions == {1: True, 2: False}
    assert c.get(f"{API}/purposes/insights").json()["profiling"] is False
    assert c.get(f"{API}/purposes/contract").json()["profiling"] is False


def test_api_refusals_are_422_problem_json_naming_R_17_1(api):
    c, csrf = api.client("po")
    h = {"X-CSRF-Token": csrf}
    for body, code in (
        ({**BODY, "categories": ["identifier", "contact"]}, "profiling_without_category"),
        ({**BODY, "text_ja": SILENT_JA}, "profiling_not_stated"),
    ):
        r = c.post(f"{API}/purposes", json={**body, "profiling": True}, headers=h)
        assert r.status_code == 422, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["rule_id"] == "R-17-1" and r.json()["code"] == code
    assert c.get(f"{API}/purposes/insights").status_code == 404


def test_api_a_role_that_may_not_manage_purposes_is_refused(api):
    for who in ("analyst", "support"):
        c, csrf = api.client(who)
        r = c.post(f"{API}/purposes", json={**BODY, "profiling": True}, headers={"X-CSRF-Token": csrf})
        assert r.status_code == 403
        assert r.headers["content-type"].startswith("application/problem+json")
    assert "insights" not in saved_codes(api.rt)


# -- the web app ----------------------------------------------------------------------------------------------------


def current(api, code):
    with api.rt.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        return service.show(ctx, code)


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
    for flag in ("third_party", "consent_appi", "consent_gdpr", "art10", "marketing", "profiling"):
        if getattr(p, flag):
            body[flag] = "1"
    body.update(over)
    return body


def test_web_form_round_trip(api):
    c, csrf = api.client("po")
    form = c.get("/purposes/new")
    assert form.status_code == 200
    assert 'name="profiling" value="1"' in form.text and "分析・プロファイリングを含む" in form.text
    r = c.post("/purposes/new", data={**BODY, "profiling": "1", "csrf": csrf})
    assert r.status_code == 201, r.text
    assert '<p id="p-profiling">分析・プロファイリング: はい</p>' in r.text
    assert current(api, "insights").profiling is True
    page = c.get("/purposes/insights")
    assert '<dd id="p-profiling">はい</dd>' in page.text and 'class="version-profiling"' in page.text
    assert '<dd id="p-profiling">いいえ</dd>' in c.get("/purposes/contract").text
    registry = c.get("/purposes")
    assert registry.text.count('<small class="profiling">分析・プロファイリングを含む</small>') == 1
    en = c.get("/purposes/insights", cookies={"mamori_lang": "en"})
    assert "Analysis and profiling" in en.text
    # the revise form starts from the current version: the box is ticked
    again = c.get("/purposes/insights/revise")
    assert 'name="profiling" value="1" checked' in again.text


def test_web_revise_turns_the_flag_off_in_a_new_version(api):
    c, csrf = api.client("po")
    assert c.post("/purposes/new", data={**BODY, "profiling": "1", "csrf": csrf}).status_code == 201
    p = current(api, "insights")
    off = revise_form(p, csrf=csrf)
    del off["profiling"]  # the box unticked
    confirm = c.post("/purposes/insights/revise", data=off)
    assert confirm.status_code == 200, confirm.text
    assert "分析・プロファイリング" in confirm.text and "はい" in confirm.text and "いいえ" in confirm.text
    assert 'name="profiling"' not in confirm.text  # nothing carried: the save turns it off
    saved = c.post("/purposes/insights/revise", data={**off, "step": "save"})
    assert saved.status_code == 201, saved.text
    with api.rt.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        history = {v.version: v.profiling for v in service.history(ctx, "insights")}
    assert history == {1: True, 2: False}


def test_web_revise_carries_the_flag_to_the_save(api):
    c, csrf = api.client("po")
    assert c.post("/purposes/new", data={**BODY, "csrf": csrf}).status_code == 201
    p = current(api, "insights")
    confirm = c.post("/purposes/insights/revise", data=revise_form(p, profiling="1", csrf=csrf))
    assert confirm.status_code == 200 and '<input type="hidden" name="profiling" value="1">' in confirm.text
    saved = c.post("/purposes/insights/revise", data=revise_form(p, profiling="1", step="save", csrf=csrf))
    assert saved.status_code == 201 and current(api, "insights").profiling is True


def test_web_refusals_come_back_on_the_form_with_R_17_1(api):
    c, csrf = api.client("po")
    r = c.post("/purposes/new", data={**BODY, "text_ja": SILENT_JA, "profiling": "1", "csrf": csrf})
    assert r.status_code == 422 and "R-17-1" in r.text
    assert 'name="profiling" value="1" checked' in r.text  # the values are kept
    r = c.post("/purposes/new", data={**BODY, "categories": ["identifier"], "profiling": "1", "csrf": csrf})
    assert r.status_code == 422 and "R-17-1" in r.text and "行動" in r.text
    assert "insights" not in saved_codes(api.rt)
    # a revision is refused at the confirm step already, and at the save
    p = current(api, "contract")  # attribute + behaviour, but its text does not say it analyses
    form = revise_form(p, text_ja=SILENT_JA, profiling="1", csrf=csrf)
    confirm = c.post("/purposes/contract/revise", data=form)
    assert (
        confirm.status_code == 422
        and "R-17-1" in confirm.text
        and 'name="step" value="confirm"' in confirm.text
    )
    save = c.post("/purposes/contract/revise", data={**form, "step": "save"})
    assert save.status_code == 422 and "R-17-1" in save.text
    assert current(api, "contract").version == 1


def test_web_a_role_that_may_not_manage_purposes_is_refused(api):
    c, csrf = api.client("analyst")
    assert c.get("/purposes/new").status_code == 403
    r = c.post("/purposes/new", data={**BODY, "profiling": "1", "csrf": csrf})
    assert r.status_code == 403 and "R-23-2" in r.text
    assert "insights" not in saved_codes(api.rt)


# -- the migration ----------------------------------------------------------------------------------------------------


def test_migration_0027_adds_the_column_false_for_existing_versions(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'data.db'}")
    cfg = alembic_config(engine)
    command.upgrade(cfg, "0026")  # type: ignore[arg-type]
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO purposes (id, code, current_version, created_at) VALUES (1, 'old', 1, :now)"),
            {"now": "2026-01-01 00:00:00+00:00"},
        )
        conn.execute(
            text(
                "INSERT INTO purpose_versions (purpose_id, version, title_ja, title_en, text_ja, text_en, "
                "categories, third_party, consent_appi, consent_gdpr, created_at, created_by, art10) "
                "VALUES (1, 1, 't', 't', '分析します', 'x', 'behaviour', 0, 0, 0, :now, 'system', 0)"
            ),
            {"now": "2026-01-01 00:00:00+00:00"},
        )
    command.upgrade(cfg, "0027")  # type: ignore[arg-type]
    with engine.connect() as conn:
        assert conn.execute(text("SELECT profiling FROM purpose_versions")).scalar_one() == 0
    command.downgrade(cfg, "0026")  # type: ignore[arg-type]
    with engine.connect() as conn:
        columns = {row[1] for row in conn.execute(text("PRAGMA table_info(purpose_versions)"))}
    assert "profiling" not in columns and "marketing" in columns
    engine.dispose()
