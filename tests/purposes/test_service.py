"""The purpose registry: versions, retirement, wording warnings (R-17-1), change log (R-17-2)."""

from __future__ import annotations

import pytest

from mamori.kernel.context import SYSTEM_ACTOR
from mamori.kernel.errors import Conflict, NotFound, PolicyDenied
from mamori.purposes import service
from tests.factories import PURPOSES, seed_basics


def test_vague_wording_is_warned_about_R_17_1(runtime):
    vague = PURPOSES["contract"].model_copy(update={"code": "vague", "text_ja": "事業活動に用いるため。"})
    with runtime.transaction(SYSTEM_ACTOR) as ctx:
        result = service.add(ctx, vague)
        clear = service.add(ctx, PURPOSES["contract"])
    assert any("R-17-1" in w and "事業活動" in w for w in result.warnings)
    assert [w for w in clear.warnings if "R-17-1" in w] == []


def test_profiling_and_third_party_must_be_stated_R_17_1(runtime):
    silent = PURPOSES["contract"].model_copy(
        update={
            "code": "silent",
            "text_ja": "購買データを使って最適なご提案を行うため、情報を利用します。",
            "third_party": True,
        }
    )
    with runtime.transaction(SYSTEM_ACTOR) as ctx:
        warnings = service.add(ctx, silent).warnings
    assert any("分析" in w for w in warnings) and any("第三者" in w for w in warnings)


def test_editing_makes_a_new_version_and_keeps_the_old_R_17_2(runtime):
    seed_basics(runtime)
    changed = PURPOSES["contract"].model_copy(
        update={"text_ja": PURPOSES["contract"].text_ja + "（配送業者への委託を含みます）"}
    )
    with runtime.transaction(SYSTEM_ACTOR) as ctx:
        v2 = service.revise(ctx, changed)
    assert v2.version == 2
    with runtime.transaction(SYSTEM_ACTOR) as s:
        versions = service.history(s, "contract")
    assert [v.version for v in versions] == [1, 2]
    assert versions[0].text_ja == PURPOSES["contract"].text_ja
    runtime.drain_outbox()
    entry = [e for e in runtime.audit.tail(20) if e.action == "purpose.revise"][-1]
    assert "R-17-2" in entry.rule_ids


def test_retire_never_deletes(runtime):
    seed_basics(runtime)
    with runtime.transaction(SYSTEM_ACTOR) as ctx:
        service.retire(ctx, "marketing-email")
    with runtime.transaction(SYSTEM_ACTOR) as s:
        shown = service.show(s, "marketing-email")
        assert shown.retired and shown.text_ja
        assert "marketing-email" not in [p.code for p in service.list_purposes(s, include_retired=False)]


def test_duplicates_unknown_and_permissions(runtime):
    actors = seed_basics(runtime)
    with pytest.raises(Conflict), runtime.transaction(SYSTEM_ACTOR) as ctx:
        service.add(ctx, PURPOSES["contract"])
    with pytest.raises(NotFound), runtime.transaction(SYSTEM_ACTOR) as s:
        service.show(s, "nope")
    with pytest.raises(PolicyDenied) as exc, runtime.transaction(actors["sato"]) as ctx:
        service.retire(ctx, "contract")
    assert exc.value.rule_id == "R-23-2"
    with runtime.transaction(SYSTEM_ACTOR) as s:
        assert not service.show(s, "contract").retired
