"""A person's disclosure (R-33-1) shows the incident notice they were sent — the date, the channel, the 事案番号
and THEIR items — and nothing else of the incident (issue 22 "Deliver" 8)."""

from __future__ import annotations

import pytest

from mamori.incidents.service import notices
from mamori.incidents.sources import NAME, IncidentsSource
from mamori.kernel.errors import NotFound
from mamori.rights import service as rights_service
from tests.incidents.notice_support import A_EMAIL, people, put_in_scope
from tests.incidents.support import new_incident, seed_basics
from tests.rights.helpers import open_and_verify


@pytest.fixture
def actors(runtime):
    return seed_basics(runtime)


def test_the_disclosure_shows_only_the_notice_the_person_was_sent(runtime, actors):
    po = actors["po"]
    who = people(runtime, po)
    inc = new_incident(
        runtime, actors["sato"], cause_detail="委託先の設定誤りで外部から閲覧可能になっていた。"
    )
    other = new_incident(runtime, actors["sato"], title="別の事案（通知前）")
    put_in_scope(
        runtime,
        inc.id,
        {
            who["a"]: {"fields": ["name", "emails"], "categories": ["identifier", "contact"]},
            who["b"]: {"fields": ["birth_date"], "categories": ["attribute"], "sensitive": True},
        },
    )
    put_in_scope(runtime, other.id, {who["a"]: {"fields": ["occupation"], "categories": ["attribute"]}})
    with runtime.transaction(po) as ctx:
        notices.send(ctx, inc.ref)

    rid = open_and_verify(runtime, actors["support"], "disclosure", A_EMAIL)
    with runtime.transaction(po) as ctx:
        _, package = rights_service.fulfil(ctx, rid)
    assert package is not None
    mine = [r for r in package.records if r.source == NAME]
    assert len(mine) == 1  # the notice sent; the other incident (no notice) does not appear
    record = mine[0]
    assert record.category == "incident_notice"
    assert record.data["incident_ref"] == inc.ref and record.data["channel"] == "email"
    assert record.data["items"] == ["name", "emails"] and "notified_at" in record.data
    assert set(record.data) == {"incident_ref", "channel", "notified_at", "items"}
    dumped = package.model_dump_json()
    for hidden in (
        who["b"],  # another person in scope
        "委託先の設定誤り",  # the cause
        inc.title,
        other.ref,
        "別の事案",
        "remote_work",
        "INC-",  # only as the notice's 事案番号 (checked above), nowhere else
    ):
        assert dumped.count(hidden) == (1 if hidden == "INC-" else 0), hidden
    assert "occupation" not in record.model_dump_json()  # the other incident's item of this person


def test_the_source_counts_erases_nothing_and_corrects_nothing(runtime, actors):
    po = actors["po"]
    who = people(runtime, po)
    inc = new_incident(runtime, actors["sato"])
    put_in_scope(runtime, inc.id, {who["a"]: {}, who["none"]: {}})
    with runtime.transaction(po) as ctx:
        notices.send(ctx, inc.ref)
    source = IncidentsSource()
    with runtime.transaction(po) as ctx:
        assert source.summary(ctx, who["a"]) == {"incident_notice": 1}
        assert source.summary(ctx, who["none"]) == {}  # no notice sent (no contact)
        assert source.export(ctx, who["none"]) == []
        assert source.erase(ctx, who["a"]) == 0
        assert list(source.recipients(ctx, who["a"])) == []
        record_id = source.export(ctx, who["a"])[0].record_id
        with pytest.raises(NotFound):
            source.correct(ctx, who["a"], record_id, {"channel": "post"})
    with runtime.transaction(po) as ctx:
        assert source.summary(ctx, who["a"]) == {"incident_notice": 1}  # the send log is kept
