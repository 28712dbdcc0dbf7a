"""Grounds by regime (issue 14): a GDPR ground never closes an APPI request nor the reverse; purpose-notice refusals
rest on 法第32条第2項; stop-use refusals under the Act record and state the alternative measure (法第35条 ただし書);
no refusal goes out without a concrete reason (法第36条), and that reason is sealed, never stored in clear."""

from __future__ import annotations

import json
import re
import sqlite3

import pytest
from sqlalchemy import select

from mamori.kernel import labels
from mamori.kernel.errors import ValidationFailed
from mamori.law import articles
from mamori.rights import grounds, service
from mamori.rights.models import RightsRequest
from mamori.rights.schemas import GDPR_ONLY, KINDS, RequestOpen
from tests.factories import demo_cli, make_customer, seed_basics
from tests.rights.helpers import open_and_verify, outbox

A_EMAIL = "hanako.sato@example.jp"
EU_EMAIL = "anna@example.de"
WHY = "ご請求の時点で配信は既に停止しており、現在は利用していないため"
RULE_ID = re.compile(r"\b(?:R-(?!\d{4}-\d{6}\b)[0-9A-Z.]+-\d+|G-\d+)\b")  # not a receipt no.
APPI_KINDS = [k for k in KINDS if k not in GDPR_ONLY]


@pytest.fixture
def actors(runtime):
    return seed_basics(runtime)


@pytest.fixture
def people(runtime, actors):
    a = make_customer(
        runtime, actors["po"], name="佐藤 花子", kana="サトウ ハナコ", email=A_EMAIL, phone=None
    )
    eu = make_customer(
        runtime, actors["po"], name="Anna Schmidt", kana=None, email=EU_EMAIL, phone=None, origin="DE"
    )
    return {"a": a, "eu": eu}


def _open(rt, actor, kind: str, email: str, regime: str | None = None) -> str:
    with rt.transaction(actor) as ctx:
        return service.open_request(
            ctx, RequestOpen(kind=kind, channel="letter", emails=[email], regime=regime)
        ).id


def _status(rt, rid: str) -> str:
    with rt.sessions() as s:
        return s.execute(select(RightsRequest.status).where(RightsRequest.id == rid)).scalar_one()


def test_no_gdpr_ground_can_close_an_appi_request_G_12_R_33_2(runtime, actors, people):
    """Every GDPR-only ground, tried on every kind of APPI request, is refused and leaves the request open."""
    gdpr_grounds = [g for g in grounds.GROUNDS.values() if g.regime == "gdpr"]
    assert {g.code for g in gdpr_grounds} >= {"gdpr_manifestly_unfounded", "gdpr_legal_claims"}
    for kind in APPI_KINDS:
        rid = _open(runtime, actors["support"], kind, A_EMAIL)
        for g in gdpr_grounds:
            with pytest.raises(ValidationFailed) as exc, runtime.transaction(actors["po"]) as ctx:
                service.refuse(ctx, rid, g.code, WHY)
            assert exc.value.code == "bad_ground"
        assert _status(runtime, rid) != "closed"


def test_no_appi_ground_can_close_a_gdpr_request_G_12(runtime, actors, people):
    appi_grounds = [g for g in grounds.GROUNDS.values() if g.regime == "appi"]
    for kind in ("disclosure", "erasure", "stop_use", "correction", "purpose_notice"):
        rid = _open(runtime, actors["support"], kind, EU_EMAIL, "gdpr")
        for g in appi_grounds:
            with pytest.raises(ValidationFailed) as exc, runtime.transaction(actors["po"]) as ctx:
                service.refuse(ctx, rid, g.code, WHY)
            assert exc.value.code == "bad_ground"
        assert _status(runtime, rid) != "closed"


def test_every_ground_has_words_an_article_and_no_rule_id_in_customer_text():
    for g in grounds.GROUNDS.values():
        for lang in ("ja", "en"):
            assert labels.has(f"refusal_ground.{g.code}")
            assert labels.label(f"refusal_ground.{g.code}", lang) != g.code
            assert g.reason(lang) and not RULE_ID.search(g.reason(lang))
            for kind in sorted(g.kinds):
                for regime in ("appi", "gdpr"):
                    if g.applies_to(kind, regime):
                        cited = grounds.citation(g, kind, regime, lang)
                        assert cited and not RULE_ID.search(cited)
    for kind in APPI_KINDS:  # every APPI request can be refused on a ground of the Act, and only of the Act
        usable = grounds.for_request(kind, "appi")
        assert any(g.regime == "appi" for g in usable)
        assert all(g.regime in ("appi", "both") for g in usable)
    for kind in KINDS:
        assert all(g.regime in ("gdpr", "both") for g in grounds.for_request(kind, "gdpr"))


def test_rule_ids_are_not_article_numbers_and_letters_cite_the_article():
    assert articles.statute("R-33-3") == "個人情報の保護に関する法律第33条第5項"
    assert articles.statute("R-27-2") == "個人情報の保護に関する法律第27条第5項"
    assert articles.cite("R-33-3", staff=True) == "法第33条第5項、施行令第11条（R-33-3）"
    assert articles.cite("G-15", "en") == "Art. 15 GDPR"
    from mamori.law.rules import ALL_RULES

    for r in ALL_RULES:  # every rule has an article (or guideline) to cite, in both languages
        assert articles.cite(r) and articles.cite(r, "en")
        assert not RULE_ID.search(articles.cite(r))


def test_purpose_notice_refusal_rests_on_article_32_not_33_R_32_2(runtime, actors, people):
    rid = open_and_verify(runtime, actors["support"], "purpose_notice", A_EMAIL)
    with pytest.raises(ValidationFailed) as exc, runtime.transaction(actors["po"]) as ctx:
        service.refuse(ctx, rid, "harm_to_person", WHY)  # a 33条2項 ground cannot refuse a purpose notice
    assert exc.value.code == "bad_ground"
    with runtime.transaction(actors["po"]) as ctx:
        v = service.refuse(ctx, rid, "purpose_obvious", "ご契約時にお渡しした書面に利用目的を記載しています")
    assert "R-32-2" in v.events[-1].rule_ids
    body = outbox(runtime)[-1]["body"]
    assert "個人情報の保護に関する法律第32条第2項第1号" in body and "第33条" not in body


def test_stop_use_refusal_records_and_states_the_alternative_measure_R_35_1(runtime, actors, people):
    rid = open_and_verify(runtime, actors["support"], "stop_use", A_EMAIL)
    measure = "基幹システムの改修完了（3か月後）まで、該当データへのアクセスを管理者のみに制限します"
    with pytest.raises(ValidationFailed) as missing, runtime.transaction(actors["po"]) as ctx:
        service.refuse(ctx, rid, "alternative_measure", WHY)
    assert missing.value.code == "alternative_required" and missing.value.rule_id == "R-35-1"
    with pytest.raises(ValidationFailed) as stray, runtime.transaction(actors["po"]) as ctx:
        service.refuse(ctx, rid, "not_justified", WHY, measure)
    assert stray.value.code == "alternative_not_applicable"
    with runtime.transaction(actors["po"]) as ctx:
        v = service.refuse(ctx, rid, "alternative_measure", WHY, measure)
    assert v.outcome == "refused" and v.events[-1].details["alternative"] is True
    body = outbox(runtime)[-1]["body"]
    assert measure in body and WHY in body
    assert "個人情報の保護に関する法律第35条第2項ただし書" in body and not RULE_ID.search(body)


def test_a_refusal_needs_a_concrete_reason_Art_36(runtime, actors, people):
    rid = open_and_verify(runtime, actors["support"], "disclosure", A_EMAIL)
    spec = grounds.GROUNDS["harm_to_person"]
    for bad in (None, "", "   ", "理由", spec.reason_ja):
        with pytest.raises(ValidationFailed) as exc, runtime.transaction(actors["po"]) as ctx:
            service.refuse(ctx, rid, "harm_to_person", bad)
        assert exc.value.code == "explanation_required"
    assert _status(runtime, rid) != "closed"
    assert not any(WHY in m["body"] for m in outbox(runtime))


def test_the_reason_is_sealed_not_stored_in_clear_attacker_reads_the_file(runtime, actors, people, backend):
    """What an attacker holding the database file sees: neither the explanation nor the measure in clear."""
    rid = open_and_verify(runtime, actors["support"], "stop_use", A_EMAIL)
    measure = "改修完了まで該当データへのアクセスを管理者のみに制限します"
    with runtime.transaction(actors["po"]) as ctx:
        service.refuse(ctx, rid, "alternative_measure", WHY, measure)
    with runtime.sessions() as s:
        row = s.execute(select(RightsRequest).where(RightsRequest.id == rid)).scalar_one()
        assert row.refusal_explanation_enc and row.alternative_measure_enc
    if backend != "sqlite":
        return
    path = runtime.settings.database_url.split("///", 1)[1]
    con = sqlite3.connect(path)
    try:
        dump = "\n".join(con.iterdump())
    finally:
        con.close()
    for secret in (WHY, measure):
        assert secret not in dump
        assert secret.encode("utf-8").hex() not in dump.lower()


@pytest.fixture
def cli(tmp_path, monkeypatch):
    yield from demo_cli(tmp_path, monkeypatch, customers=1)


def test_cli_lists_and_applies_the_grounds_of_the_request_regime_only(cli):
    """Staff see the grounds usable for this request (its kind and regime) and refuse with a reason."""
    opened = cli("--as", "takahashi", "rights", "open", "erasure", "--email", A_EMAIL, "--json")
    rid = json.loads(opened.stdout)["id"]
    r = cli("--as", "hoshino", "rights", "grounds", rid, "--json")
    assert r.exit_code == 0, r.output
    assert {g["ground"] for g in json.loads(r.stdout)} == {
        "not_justified",
        "alternative_measure",
        "identity_not_verified",
    }
    table = cli("--as", "hoshino", "rights", "grounds", rid)
    assert "請求に理由があることが判明しない" in table.stdout and "法第35条第2項" in table.stdout
    r = cli(
        "--as",
        "hoshino",
        "rights",
        "refuse",
        rid,
        "--ground",
        "gdpr_manifestly_unfounded",
        "--explanation",
        WHY,
    )
    assert r.exit_code == 1 and "bad_ground" in r.stderr
    r = cli("--as", "hoshino", "rights", "refuse", rid, "--ground", "not_justified")
    assert r.exit_code == 1 and "explanation_required" in r.stderr and "法第36条" in r.stderr
    r = cli("--as", "hoshino", "rights", "refuse", rid, "--ground", "not_justified", "--explanation", WHY)
    assert r.exit_code == 0, r.output
    assert "不対応を決定し通知しました" in r.stdout and "not_justified" not in r.stdout
    r = cli("--as", "sato", "rights", "grounds", rid)
    assert r.exit_code == 3 and "R-23-2" in r.stderr  # sales may not see the request board
