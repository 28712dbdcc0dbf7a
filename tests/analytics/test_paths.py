"""The two lawful paths of issue 24 (item 1), through the services: personal data only under a purpose that states
profiling (R-17-1), decided person by person (R-18-1, R-35-1); 仮名加工情報 only within its purpose (R-41-3), never
joined with identity data (R-41-5) or anonymised data (R-43-5), never used to contact anyone (R-41-5); every run
recorded and audited; the analyst never sees a name."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from sqlalchemy import select

from mamori.analytics.models import AnalyticsRun, AnalyticsSegmentMember
from mamori.analytics.service import frames, runs, segments
from mamori.analytics.service.runs import Source
from mamori.contact.service import lists
from mamori.customers import service as customers_service
from mamori.deid import service as deid_service
from mamori.deid.models import DeidDataset
from mamori.kernel.errors import PolicyDenied, ValidationFailed
from mamori.kernel.registry import erase_subjects
from mamori.kernel.registry import sources as subject_sources
from tests.analytics.conftest import ANALYSIS, CALLS, PLANNING, RECOMMEND, World

PERSONAL = Source()


def _run(w: World, who: str, purpose: str | None, kind: str = "rfm", **kw: Any) -> runs.RunOutcome:
    with w.rt.transaction(w.actors[who], purpose) as ctx:
        return runs.RUNNERS[kind](ctx, kw.pop("source", PERSONAL), **kw)


def _pid(w: World, customer_id: str) -> str:
    return frames.PseudonymFn(w.rt.keystore.system_key(frames.PSEUDONYM_KEY))(customer_id)


def _tail(w: World, n: int = 10) -> list[Any]:
    return list(w.rt.audit.tail(n))


def test_personal_rfm_reads_only_the_people_the_policy_allows(world: World) -> None:
    w = world
    out = _run(w, "analyst", ANALYSIS.code)
    assert out.run.path == "personal" and out.run.kind == "rfm"
    assert out.run.subjects == len(w.notified) == out.table.height
    assert out.run.left_out == {"erased": 1, "purpose_not_notified": 1, "use_stopped": 1}
    subjects_seen = set(out.table.get_column("subject").to_list())
    assert all(s.startswith("P-") and len(s) == 18 for s in subjects_seen)
    assert not subjects_seen & set(w.ids.values())  # pseudonyms, never customer ids
    # loyal buyers score high on frequency, lapsed ones low on recency
    loyal = {_pid(w, c) for c in w.loyal}
    lapsed = {_pid(w, c) for c in w.lapsed}
    t = out.table
    assert t.filter(pl.col("subject").is_in(list(loyal))).get_column("f").mean() > 3.5
    assert t.filter(pl.col("subject").is_in(list(lapsed))).get_column("r").mean() < 2.5
    summary = out.run.summary
    assert sum(s["count"] for s in summary["segments"]) == out.run.subjects
    assert len(summary["thresholds"]["recency_days"]) == 4


def test_each_run_is_recorded_and_audited_without_values(world: World) -> None:
    w = world
    out = _run(w, "analyst", ANALYSIS.code, kind="behaviour")
    with w.rt.transaction(w.actors["po"], readonly=True) as ctx:
        row = ctx.session.execute(select(AnalyticsRun)).scalar_one()
    assert row.id == out.run.id and row.purpose_code == ANALYSIS.code and row.subjects == len(w.notified)
    entry = next(e for e in _tail(w) if e.action == "analytics.run" and e.decision == "allow")
    assert set(entry.subject_ids) == set(w.notified)
    assert w.ids["unnotified"] not in entry.subject_ids and w.ids["stopped"] not in entry.subject_ids
    assert entry.details["run_id"] == out.run.id and entry.details["excluded_use_stopped"] == 1
    text = json.dumps(entry.details, ensure_ascii=False) + repr(entry) + row.summary + row.params
    assert "分析 花子" not in text and "@example.jp" not in text and "+8190" not in text


def test_results_hold_no_name_or_contact_point(world: World) -> None:
    out = _run(world, "analyst", ANALYSIS.code, kind="lifestage")
    dump = out.table.write_csv() + json.dumps(out.run.model_dump(mode="json"), ensure_ascii=False)
    assert (
        "分析 花子" not in dump
        and "example.jp" not in dump
        and "+8190" not in dump
        and "090-2000" not in dump
    )
    assert set(out.table.columns) == {"subject", "age_band", "life_stage"}


def test_the_analyst_cannot_read_names(world: World) -> None:
    w = world
    with pytest.raises(PolicyDenied) as err, w.rt.transaction(w.actors["analyst"], ANALYSIS.code) as ctx:
        customers_service.get(ctx, w.loyal[0])
    assert err.value.rule_id == "R-23-2"


def test_a_purpose_that_does_not_state_profiling_is_refused(world: World) -> None:
    w = world
    with pytest.raises(PolicyDenied) as err:
        _run(w, "analyst", PLANNING.code)
    assert err.value.rule_id == "R-17-1" and err.value.code == "purpose_without_profiling"
    entry = _tail(w, 3)[-1]
    assert entry.action == "analytics.run" and entry.decision == "deny" and "R-17-1" in entry.rule_ids


@pytest.mark.parametrize(
    ("who", "purpose", "rule"), [("sato", ANALYSIS.code, "R-23-2"), ("analyst", None, "R-18-1")]
)
def test_refused_roles_and_missing_purpose(world: World, who: str, purpose: str | None, rule: str) -> None:
    with pytest.raises(PolicyDenied) as err:
        _run(world, who, purpose)
    assert err.value.rule_id == rule


def test_a_personal_segment_feeds_a_contact_list_of_a_profiling_purpose(world: World) -> None:
    w = world
    with w.rt.transaction(w.actors["analyst"], ANALYSIS.code) as ctx:
        out = runs.rfm(ctx, PERSONAL)
        take = [c for c, s in out.segments.items() if s.len()][:2]
        saved = segments.save(ctx, out, "top-buyers", take)
    assert (
        saved.version == 1 and saved.contactable and saved.members == sum(out.segments[c].len() for c in take)
    )
    with w.rt.transaction(w.actors["analyst"], ANALYSIS.code) as ctx:
        again = segments.save(ctx, runs.rfm(ctx, PERSONAL), "top-buyers", take)
    assert again.version == 2
    with w.rt.transaction(w.actors["support"], RECOMMEND.code) as ctx:
        built = lists.build(ctx, channel="phone", segment="@top-buyers")
    members = {w.ids[k] for k in w.ids if k not in ("unnotified", "stopped", "erased")}
    included = {r["customer_id"] for r in built.rows}
    assert included and included <= members and len(included) == again.members
    assert built.segment == "@top-buyers v2"
    # a contact purpose that does not state profiling may not use the analysis (R-18-1), audited
    with pytest.raises(PolicyDenied) as err, w.rt.transaction(w.actors["support"], CALLS.code) as ctx:
        lists.build(ctx, channel="phone", segment="@top-buyers")
    assert err.value.rule_id == "R-18-1"
    assert any(e.action == "contact.list" and e.decision == "deny" for e in _tail(w, 3))


def _extract(w: World, tmp_path: Path) -> Path:
    out = tmp_path / "activities.csv"
    with w.rt.transaction(w.actors["po"]) as ctx:  # 削除情報等 are the privacy officer's (R-41-2)
        deid_service.create_key(ctx)
    with w.rt.transaction(w.actors["analyst"], ANALYSIS.code) as ctx:
        made = frames.extract(ctx, out)
    assert made.subjects == len(w.notified) and made.rows > 0
    assert set(made.columns) == {"customer_id", "kind", "occurred_at", "amount", "gender", "age_band"}
    return out


def test_pseudonymised_path_end_to_end_and_its_segment_never_contacts_anyone(
    world: World, tmp_path: Path
) -> None:
    w = world
    path = _extract(w, tmp_path)
    text = path.read_text(encoding="utf-8-sig")
    assert not any(
        cid in text for cid in w.ids.values()
    )  # the customer ids were replaced by keyed pseudonyms
    assert "分析 花子" not in text and "example.jp" not in text
    source = Source(dataset=path)
    out = _run(w, "analyst", ANALYSIS.code, source=source)
    assert out.run.path == "pseudonymised" and out.run.subjects == len(w.notified)
    assert out.run.dataset_id is not None
    entry = next(e for e in _tail(w) if e.action == "analytics.pseudonymised")
    assert entry.subject_ids == () or list(entry.subject_ids) == []
    with w.rt.transaction(w.actors["analyst"], ANALYSIS.code) as ctx:
        res = runs.rfm(ctx, source)
        saved = segments.save(ctx, res, "pseudo-top", [next(iter(res.segments))])
    assert not saved.contactable
    with w.rt.transaction(w.actors["po"], readonly=True) as ctx:
        kept = ctx.session.execute(select(AnalyticsSegmentMember)).scalars().all()
    assert kept and all(m.customer_id is None and m.pseudonym for m in kept)
    with pytest.raises(PolicyDenied) as err, w.rt.transaction(w.actors["support"], RECOMMEND.code) as ctx:
        lists.build(ctx, channel="phone", segment="@pseudo-top")
    assert err.value.rule_id == "R-41-5"
    assert any(
        e.action == "contact.list" and e.decision == "deny" and "R-41-5" in e.rule_ids for e in _tail(w, 3)
    )


def test_pseudonymised_data_stays_within_its_purpose(world: World, tmp_path: Path) -> None:
    w = world
    path = _extract(w, tmp_path)
    with pytest.raises(PolicyDenied) as err:
        _run(w, "analyst", PLANNING.code, source=Source(dataset=path))
    assert err.value.rule_id == "R-41-3"


def test_joining_identity_data_or_anonymised_data_is_refused(world: World, tmp_path: Path) -> None:
    w = world
    path = _extract(w, tmp_path)
    first = pl.read_csv(path).get_column("customer_id")[0]
    names = tmp_path / "names.csv"
    pl.DataFrame({"customer_id": [first], "name": ["分析 花子1"], "phone": ["090-2000-0001"]}).write_csv(
        names
    )
    with pytest.raises(PolicyDenied) as err:
        _run(w, "analyst", ANALYSIS.code, source=Source(dataset=path, join=(names,)))
    assert err.value.rule_id == "R-41-5"
    # an anonymised dataset registered by the deid slice (its register row is the fact the guard reads)
    anon = tmp_path / "anon.csv"
    pl.DataFrame({"customer_id": [first], "age_band": ["30s"]}).write_csv(anon)
    import hashlib

    from mamori.kernel.db import new_id

    with w.rt.transaction(w.actors["po"]) as ctx:
        ctx.session.add(
            DeidDataset(
                id=new_id(),
                kind="anonymised",
                sha256=hashlib.sha256(anon.read_bytes()).hexdigest(),
                file_name="anon.csv",
                source_name="test",
                key_name=None,
                columns="customer_id,age_band",
                rows=1,
                purpose=ANALYSIS.code,
                created_by="po",
                created_at=ctx.clock.now(),
            )
        )
    with pytest.raises(PolicyDenied) as err:
        _run(w, "analyst", ANALYSIS.code, source=Source(dataset=path, join=(anon,)))
    assert err.value.rule_id == "R-43-5"


def test_a_file_that_is_not_registered_is_not_analysed(world: World, tmp_path: Path) -> None:
    w = world
    plain = tmp_path / "plain.csv"
    plain.write_text("customer_id,kind,occurred_at,amount\nx,purchase,2026-01-01,100\n", encoding="utf-8")
    with pytest.raises(ValidationFailed) as err:
        _run(w, "analyst", ANALYSIS.code, source=Source(dataset=plain))
    assert err.value.code == "not_pseudonymised"


def test_erasure_removes_the_person_from_segments_and_disclosure_lists_them(world: World) -> None:
    w = world
    with w.rt.transaction(w.actors["analyst"], ANALYSIS.code) as ctx:
        out = runs.rfm(ctx, PERSONAL)
        segments.save(ctx, out, "everyone", list(out.segments))
    who = w.loyal[0]
    source = next(s for s in subject_sources() if s.name == "analytics")
    with w.rt.transaction(w.actors["po"], readonly=True) as ctx:
        records = source.export(ctx, who)
    assert [r.data["segment"] for r in records] == ["everyone"]
    with w.rt.transaction(w.actors["po"]) as ctx:  # what an erasure request and retention disposal run
        erased = erase_subjects(ctx, [who])
    assert erased["analytics"] == 1
    with w.rt.transaction(w.actors["po"], readonly=True) as ctx:
        left = ctx.session.execute(
            select(AnalyticsSegmentMember).where(AnalyticsSegmentMember.customer_id == who)
        ).all()
    assert left == []
    # the segment's count at cut time stays; how many are still members now says one fewer
    with w.rt.transaction(w.actors["analyst"], readonly=True) as ctx:
        (now,) = segments.versions(ctx, "everyone")
        (listed,) = segments.list_segments(ctx)
    assert now.members == out.run.subjects and now.members_now == out.run.subjects - 1
    assert listed.members_now == now.members_now


def test_lifetime_value_on_the_personal_path_gives_a_value_for_everyone(world: World) -> None:
    out = _run(world, "analyst", ANALYSIS.code, kind="clv", horizon_days=365)
    s = out.run.summary
    assert set(s["model"]["bgnbd"]) == {"r", "alpha", "a", "b"} and s["model"]["customers"] == len(
        world.notified
    )
    assert out.table.height == len(world.notified) and out.table.get_column("clv").null_count() == 0
    assert s["mean_clv"] is not None and s["mean_clv"] > 0
    assert sum(b["count"] for b in s["bands"]) == len(world.notified)
    # loyal recent buyers are worth more than lapsed ones
    t = out.table
    loyal = t.filter(pl.col("subject").is_in([_pid(world, c) for c in world.loyal])).get_column("clv").mean()
    lapsed = (
        t.filter(pl.col("subject").is_in([_pid(world, c) for c in world.lapsed])).get_column("clv").mean()
    )
    assert loyal > 3 * lapsed
