"""The PPC report (R-26-4): the nine items drafted from the register and the scope, 速報 / 確報 versions, exports;
the notice to the entrustor (R-26-5). Issue 22."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from mamori.incidents.models import IncidentReport
from mamori.incidents.report_schemas import ITEM_TITLES
from mamori.incidents.service import report as service
from mamori.kernel.context import SYSTEM_ACTOR
from mamori.kernel.errors import NotFound, PolicyDenied, ValidationFailed
from mamori.processors.models import ProcessorContract
from mamori.provision.models import Counterparty
from tests.incidents.report_support import add_measure, add_notice, add_scope, set_fields, story
from tests.incidents.support import new_incident


@pytest.fixture
def s(runtime):
    return {"rt": runtime, **story(runtime)}


def _draft(rt, actor, key, stage):
    with rt.transaction(actor) as ctx:
        return service.draft(ctx, key, stage)


def _texts(rep) -> dict[int, str]:
    return {i.number: i.text for i in rep.body.items}


def _count(rt, incident_id, stage=None) -> int:
    with rt.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        q = select(func.count()).select_from(IncidentReport).where(IncidentReport.incident_id == incident_id)
        if stage:
            q = q.where(IncidentReport.stage == stage)
        return int(ctx.session.execute(q).scalar_one())


def test_prelim_has_the_nine_items_and_says_under_investigation_R_26_4(s):
    rt, po, inc = s["rt"], s["actors"]["po"], s["incident"]
    rep = _draft(rt, po, inc.ref, "prelim")
    assert rep.stage == "prelim" and rep.version == 1 and rep.stored
    assert [(i.number, i.title) for i in rep.body.items] == [(n, t) for n, t, _ in ITEM_TITLES]
    t = _texts(rep)
    # (1) occurrence unknown, discovery, discoverer; triggers ② (card number) — misconfiguration is not ③
    assert "発生日時: 調査中" in t[1] and "2026年12月4日 10:00（日本時間）" in t[1]
    assert "営業部の従業者（本人の申告）" in t[1] and "② " in t[1] and "③" not in t[1] and "①" not in t[1]
    # (2) items by category with field labels, medium and type
    assert "連絡先: メールアドレス（2人）" in t[2] and "識別情報: 氏名（2人）" in t[2]
    assert "財産的被害のおそれがある情報: 属性「card_number」（1人）" in t[2]
    assert "媒体: 電子媒体" in t[2] and "種類: 顧客の個人データ" in t[2]
    # (3) counted
    assert t[3].startswith("2人") and "財産的被害のおそれがある項目を含む本人 1人" in t[3]
    # (4) cause class, whose; the detail unknown
    assert "設定誤り" in t[4] and "当社における事案" in t[4] and "詳細: 調査中" in t[4]
    # (5)-(8) unknown in a 速報
    for n in (5, 6, 7, 8):
        assert t[n] == "調査中", (n, t[n])
        assert rep.body.items[n - 1].unknown
    # (9) the clock: day 1 Friday 4 Dec, 確報 day 30 = Sat 2 Jan 2027 → rolled to Mon 4 Jan 2027
    assert "2026年12月4日" in t[9] and "確報の期限: 2027年1月4日" in t[9]
    # never a value
    body = json.dumps(rep.model_dump(mode="json"), ensure_ascii=False)
    assert "試験" not in body and "example.jp" not in body


def test_final_reflects_register_measures_notices_and_the_outsourcee(s):
    rt, po, inc = s["rt"], s["actors"]["po"], s["incident"]
    a, b = s["customers"]
    prelim = _draft(rt, po, inc.id, "prelim")
    with rt.transaction(SYSTEM_ACTOR) as ctx:
        ctx.session.add(
            Counterparty(
                id="c" * 32, kind="outsourcee", name="架空システム株式会社", address="東京都", representative="代表",
                country="JP", created_at=datetime(2026, 1, 1, tzinfo=UTC), created_by="po",
                updated_at=datetime(2026, 1, 1, tzinfo=UTC),
            )
        )  # fmt: skip
    set_fields(
        rt,
        inc.id,
        occurred_at=datetime(2026, 12, 1, 0, 0, tzinfo=UTC),
        cause="outsourcee",
        cause_detail="委託先が公開設定を誤った。",
        counterparty_id="c" * 32,
        secondary_damage="現時点で二次被害は確認されていない。",
        actions_to_persons="対象の本人に順次連絡している。",
        publication="当社ウェブサイトで公表した。",
        prevention="公開設定の二重確認を手順化する。",
        other="警察へ相談済み。",
    )
    add_measure(rt, inc.id, "revoke_sessions", target="sato")
    add_measure(rt, inc.id, "inquiry_line", note="専用窓口 0120-000-000")
    add_notice(rt, inc.id, a, "sent")
    add_notice(rt, inc.id, b, "no_contact", channel="substitute")
    final = _draft(rt, po, inc.id, "final")
    t = _texts(final)
    assert "委託先: 架空システム株式会社" in t[1] and "2026年12月1日 09:00" in t[1]
    assert "委託先（架空システム株式会社）における事案" in t[4] and "公開設定を誤った" in t[4]
    assert t[5] == "現時点で二次被害は確認されていない。"
    assert (
        "通知済み 1人" in t[6] and "連絡先不明（代替措置の対象） 1人" in t[6] and "問合せ窓口の設置" in t[6]
    )
    assert t[7] == "当社ウェブサイトで公表した。"
    assert "公開設定の二重確認" in t[8] and "セッションの一括失効（対象: sato）" in t[8]
    assert t[9].startswith("警察へ相談済み。")
    assert not any(i.unknown for i in final.body.items)
    # side by side: what changed between the latest 速報 and 確報
    with rt.transaction(po, readonly=True) as ctx:
        both = service.reports(ctx, inc.ref)
    assert both.prelim.version == 1 and both.final.version == 1
    assert [d.changed for d in both.diff] == [True, False, False, True, True, True, True, True, True]
    assert [(v.stage, v.version) for v in both.versions] == [("prelim", 1), ("final", 1)]
    assert prelim.sha256 != final.sha256


def test_versions_are_kept_and_an_identical_draft_is_not_stored(s):
    rt, po, inc = s["rt"], s["actors"]["po"], s["incident"]
    first = _draft(rt, po, inc.ref, "prelim")
    again = _draft(rt, po, inc.ref, "prelim")
    assert not again.stored and again.version == 1 and again.id == first.id and _count(rt, inc.id) == 1
    set_fields(rt, inc.id, secondary_damage="なし")
    second = _draft(rt, po, inc.ref, "prelim")
    assert second.stored and second.version == 2 and _count(rt, inc.id, "prelim") == 2
    with rt.transaction(po, readonly=True) as ctx:
        old = service.version(ctx, inc.ref, "prelim", 1)
        assert _texts(old)[5] == "調査中" and _texts(second)[5] == "なし"
        with pytest.raises(NotFound):
            service.version(ctx, inc.ref, "prelim", 3)
    with rt.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        rows = ctx.session.execute(select(IncidentReport).order_by(IncidentReport.version)).scalars().all()
        import hashlib

        assert all(hashlib.sha256(r.body.encode()).hexdigest() == r.sha256 for r in rows)
        assert json.loads(rows[0].body)["items"][0]["number"] == 1


def test_the_maximum_counts_when_uncertain_and_unknown_scope_says_so(runtime):
    s = story(runtime)
    inc = new_incident(runtime, s["actors"]["sato"], cause="loss_theft", title="USBメモリの紛失")
    po = s["actors"]["po"]
    t = _texts(_draft(runtime, po, inc.ref, "prelim"))
    assert "項目: 調査中" in t[2] and t[3] == "本人の数: 調査中" and "報告対象事態（規則7）: 調査中" in t[1]
    add_scope(runtime, inc.id, {s["customers"][0]: ["emails"]}, maximum=1500)
    t = _texts(_draft(runtime, po, inc.ref, "prelim"))
    assert "最大 1,500人（うち特定済み 1人" in t[3] and "④ " in t[1]


def test_exports_html_pdf_json(s):
    rt, po, inc = s["rt"], s["actors"]["po"], s["incident"]
    _draft(rt, po, inc.ref, "prelim")
    with rt.transaction(po, readonly=True) as ctx:
        html = service.export(ctx, inc.ref, "prelim", None, "html").decode()
        pdf = service.export(ctx, inc.ref, "prelim", 1, "pdf")
        js = json.loads(service.export(ctx, inc.ref, "prelim", 1, "json"))
    for n, title, _ in ITEM_TITLES:
        assert f'id="item-{n}"' in html and f"({n}) {title}" in html
    assert "調査中" in html and "試験" not in html
    reader = PdfReader(io.BytesIO(pdf))
    text = "\n".join(p.extract_text() for p in reader.pages)
    for heading in ("(1) 概要", "(3)", "本人の数", "(4) 原因", "(9) その他参考となる事項", "調査中"):
        assert heading in text, heading
    fonts = [f.get_object() for f in reader.pages[0]["/Resources"]["/Font"].values()]
    assert any("IPAex" in str(f["/BaseFont"]) for f in fonts)
    assert js["version"] == 1 and [i["number"] for i in js["body"]["items"]] == list(range(1, 10))


def test_bad_stage_and_format_are_refused(s):
    rt, po, inc = s["rt"], s["actors"]["po"], s["incident"]
    with pytest.raises(ValidationFailed) as bad:
        _draft(rt, po, inc.ref, "entrustor")
    assert bad.value.code == "bad_stage"
    _draft(rt, po, inc.ref, "prelim")
    with rt.transaction(po, readonly=True) as ctx:
        with pytest.raises(ValidationFailed) as fmt:
            service.export(ctx, inc.ref, "prelim", 1, "docx")
        assert fmt.value.code == "bad_format"
        with pytest.raises(NotFound):
            service.export(ctx, "INC-9999", "prelim", 1, "json")


def test_unauthorised_roles_are_refused_and_audited(s):
    rt, a, inc = s["rt"], s["actors"], s["incident"]
    for who in ("sato", "admin"):
        with pytest.raises(PolicyDenied):
            _draft(rt, a[who], inc.ref, "prelim")
    with pytest.raises(PolicyDenied):
        with rt.transaction(a["analyst"], readonly=True) as ctx:
            service.reports(ctx, inc.ref)
    with rt.transaction(a["admin"], readonly=True) as ctx:  # the administrator reads the board
        assert service.reports(ctx, inc.ref).prelim is None
    assert _count(rt, inc.id) == 0
    denied = {(e.actor, e.action) for e in rt.audit.tail(500) if e.decision == "deny"}
    assert (a["sato"].label, "incident.manage") in denied and (a["admin"].label, "incident.manage") in denied
    assert (a["analyst"].label, "incident.read") in denied


def test_drafts_are_audited_with_the_incident_stage_and_version(s):
    rt, po, inc = s["rt"], s["actors"]["po"], s["incident"]
    _draft(rt, po, inc.ref, "prelim")
    _draft(rt, po, inc.ref, "prelim")
    with rt.transaction(po, readonly=True) as ctx:
        service.export(ctx, inc.ref, "prelim", 1, "json")
    mine = [e for e in rt.audit.tail(500) if e.action.startswith("incident.report")]
    drafts = [e for e in mine if e.action == "incident.report.draft"]
    assert [(d.details["incident_id"], d.details["stage"], d.details["version"]) for d in drafts] == [
        (inc.id, "prelim", 1),
        (inc.id, "prelim", 1),
    ]
    assert [d.details["stored"] for d in drafts] == [True, False]
    assert any(e.action == "incident.report.export" and e.details["format"] == "json" for e in mine)
    assert all("R-26-4" in e.rule_ids for e in drafts)


def test_entrustor_notice_for_an_outsourcee_and_refused_for_an_operator_R_26_5(runtime):
    s = story(runtime)
    po = s["actors"]["po"]
    with runtime.transaction(po) as ctx:
        with pytest.raises(ValidationFailed) as refused:
            service.entrustor_notice(ctx, s["incident"].ref)
    assert refused.value.rule_id == "R-26-5" and refused.value.code == "not_outsourcee"
    inc = new_incident(
        runtime,
        s["actors"]["sato"],
        role="outsourcee",
        entrustor_name="架空百貨店株式会社",
        cause="misdelivery",
    )
    add_scope(runtime, inc.id, {s["customers"][1]: ["name", "address"]})
    with runtime.transaction(po) as ctx:
        notice = service.entrustor_notice(ctx, inc.ref)
    assert (
        notice.stage == "entrustor" and notice.version == 1 and notice.body.addressee == "架空百貨店株式会社"
    )
    t = _texts(notice)
    assert "連絡先: 住所（1人）" in t[2] and "識別情報: 氏名（1人）" in t[2]
    assert "委託元: 架空百貨店株式会社" in t[1] and "当社（委託先）" in t[4] and t[3].startswith("1人")
    with runtime.transaction(po, readonly=True) as ctx:
        html = service.export(ctx, inc.ref, "entrustor", None, "html").decode()
        assert "架空百貨店株式会社 御中" in html and "委託元への通知" in html
        assert service.reports(ctx, inc.ref).entrustor.version == 1


def test_a_contract_names_the_outsourcee(runtime):
    s = story(runtime)
    inc = s["incident"]
    now = datetime(2026, 1, 1, tzinfo=UTC)
    with runtime.transaction(SYSTEM_ACTOR) as ctx:
        ctx.session.add(
            Counterparty(
                id="d" * 32, kind="outsourcee", name="架空配送株式会社", address="大阪府", representative="代表",
                country="JP", created_at=now, created_by="po", updated_at=now,
            )
        )  # fmt: skip
        ctx.session.flush()
        ctx.session.add(
            ProcessorContract(
                id="e" * 32, counterparty_id="d" * 32, work="商品の配送", purposes=["contract"], fields=["name"],
                clauses=[], starts_on=now.date(), ends_on=now.date(), reference="K-1", status="active",
                created_at=now, created_by="po",
            )
        )  # fmt: skip
    set_fields(runtime, inc.id, contract_id="e" * 32)
    t = _texts(_draft(runtime, s["actors"]["po"], inc.ref, "final"))
    assert "委託先: 架空配送株式会社" in t[1] and "商品の配送（契約番号 K-1）" in t[1]
    assert "調査中" not in t[5] and "判明次第" in t[5]


def test_end_to_end_through_the_register_and_scope_services_R_26_5(runtime):
    """An outsourcee's incident: the register, a scope from ids (the scope service), the notice to the entrustor
    drafted, then its sending recorded through the register's filing (which releases the report deadlines)."""
    from mamori.incidents.schemas import IncidentUpdate
    from mamori.incidents.service import register as register_service
    from mamori.incidents.service import scope as scope_service

    s = story(runtime)
    po = s["actors"]["po"]
    inc = new_incident(
        runtime,
        s["actors"]["support"],
        role="outsourcee",
        entrustor_name="架空百貨店株式会社",
        cause="insider",
    )
    with runtime.transaction(po) as ctx:
        scope_service.from_ids(ctx, inc.ref, s["customers"], ["name", "emails"])
        register_service.update(
            ctx,
            inc.ref,
            IncidentUpdate(cause_detail="従業者が顧客一覧を持ち出した。", other="警察に相談中。"),
        )
        notice = service.entrustor_notice(ctx, inc.ref)
    t = _texts(notice)
    assert "③ " in t[1] and "委託元: 架空百貨店株式会社" in t[1]
    assert "連絡先: メールアドレス（2人）" in t[2] and t[3].startswith("2人")
    assert "従業者が顧客一覧を持ち出した。" in t[4] and t[9].startswith("警察に相談中。")
    assert "確報の期限" not in t[9]  # the entrustor reports; the notice carries no PPC deadlines
    runtime.clock.advance(timedelta(days=12))  # the frozen clock (23 Nov) to after the day of knowing (4 Dec)
    with runtime.transaction(po) as ctx:
        register_service.record_filing(ctx, inc.ref, "entrustor")
    with runtime.transaction(po, readonly=True) as ctx:
        assert service.reports(ctx, inc.ref).entrustor.version == 1
