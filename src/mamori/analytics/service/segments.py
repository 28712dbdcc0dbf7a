"""Saved segments (issue 24, item 2): cut from a run, versioned by name, usable as ``--segment @name`` in contact
lists — only when the law lets them be.

Saving under an existing name adds a version; the previous versions stay (what a list was built from can be
shown later). A segment cut on the personal path holds customer ids; one cut from 仮名加工情報 holds the dataset's
pseudonyms and can never reach a person: a contact list asking for it is refused (R-41-5, 規則33).

A contact list may use a segment when its purpose is the segment's purpose, or a purpose whose notice itself
states analysis / profiling (the person was told that analysis decides who is contacted, R-17-1); any other
purpose is refused (R-18-1: using the analysis beyond the purpose it was made under). The list still decides every
member through the policy engine (notified, not stopped, not do-not-contact on the channel, opted in).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

from sqlalchemy import insert

from mamori.analytics import run_queries as queries
from mamori.analytics.models import PERSONAL, AnalyticsSegment, AnalyticsSegmentMember
from mamori.analytics.permissions import ANALYTICS_SEGMENTS
from mamori.analytics.schemas import SegmentRead
from mamori.analytics.service.runs import RunOutcome
from mamori.contact.service.lists import SavedSegment, register_segment_source
from mamori.deid import service as deid_service
from mamori.kernel.auditing import record_denial, record_write
from mamori.kernel.context import Context
from mamori.kernel.db import chunks, new_id
from mamori.kernel.errors import NotFound, PolicyDenied, ValidationFailed
from mamori.kernel.policy import Resource, decide
from mamori.purposes import service as purposes_service

_NAME = re.compile(r"^[\w\-.ー・\u3040-\u30ff\u4e00-\u9fff]{1,64}$")
MAX_LIST = 500


def _authorise(ctx: Context) -> None:
    decision = decide(ctx, ANALYTICS_SEGMENTS, Resource(kind="analytics_segment"))
    if not decision.allowed:
        record_denial(ctx, ANALYTICS_SEGMENTS, (), decision)
        decision.raise_if_denied()


def check_name(name: str) -> str:
    name = name.strip()
    if not _NAME.match(name):
        raise ValidationFailed(
            "セグメント名は 64 文字以内の文字・数字・-・_ で付けます（空白・記号なし）。",
            "A segment name is up to 64 letters, digits, '-' or '_' (no spaces or symbols).",
            code="bad_segment_name",
        )
    return name


def save(
    ctx: Context,
    outcome: RunOutcome,
    name: str,
    take: Sequence[str],
    *,
    note: str | None = None,
) -> SegmentRead:
    """Save the people of ``outcome`` in the segment codes ``take`` (e.g. ["champions", "loyal"]) under ``name``,
    as a new version. Audited as a write (the run, the codes, the count; the customer ids on the personal path)."""
    _authorise(ctx)
    name = check_name(name)
    if not take:
        raise ValidationFailed(
            "保存する区分を指定してください。使える区分: " + ", ".join(outcome.segments),
            "Say which groups to save. Available: " + ", ".join(outcome.segments),
            code="bad_take",
        )
    unknown = [t for t in take if t not in outcome.segments and t not in _all_codes(outcome)]
    if unknown:
        raise ValidationFailed(
            "不明な区分です: "
            + ", ".join(unknown)
            + "（使える区分: "
            + ", ".join(_all_codes(outcome))
            + "）",
            "Unknown groups: " + ", ".join(unknown) + " (available: " + ", ".join(_all_codes(outcome)) + ")",
            code="bad_take",
        )
    if note is not None:
        _check_note(note)
    members: list[str] = []
    for code in dict.fromkeys(take):
        series = outcome.segments.get(code)
        if series is not None:
            members.extend(series.to_list())
    members = sorted(set(members))
    data = outcome.data
    previous = ctx.session.execute(queries.segment_versions(name)).scalars().first()
    row = AnalyticsSegment(
        id=new_id(),
        name=name,
        version=(previous.version + 1) if previous else 1,
        kind=outcome.run.kind,
        path=data.path,
        purpose_code=data.purpose,
        run_id=outcome.run.id,
        definition=json.dumps(
            {
                "take": list(dict.fromkeys(take)),
                "as_of": outcome.run.params.get("as_of"),
                "thresholds": outcome.run.summary.get("thresholds")
                or outcome.run.summary.get("band_thresholds"),
                "dataset_id": data.dataset_id,
            },
            ensure_ascii=False,
            sort_keys=True,
        ),
        members=len(members),
        note=note,
        created_by=ctx.actor.label,
        created_at=ctx.clock.now(),
    )
    ctx.session.add(row)
    ctx.session.flush()
    customer_ids: list[str] = []
    if data.path == PERSONAL:
        customer_ids = sorted(data.customer_of[m] for m in members)
        rows = [{"segment_id": row.id, "customer_id": c, "pseudonym": None} for c in customer_ids]
    else:
        rows = [{"segment_id": row.id, "customer_id": None, "pseudonym": m} for m in members]
    for part in chunks(rows, 2000):
        ctx.session.execute(insert(AnalyticsSegmentMember), list(part))
    record_write(
        ctx,
        ANALYTICS_SEGMENTS,
        customer_ids,
        ("segment",),
        details={
            "segment_id": row.id,
            "name_version": row.version,
            "run_id": outcome.run.id,
            "path": data.path,
            "members": len(members),
        },
    )
    return to_read(row)


def _all_codes(outcome: RunOutcome) -> list[str]:
    codes = [s.get("code") for s in outcome.run.summary.get("segments", outcome.run.summary.get("bands", []))]
    return [str(c) for c in codes if c] or list(outcome.segments)


def _check_note(note: str) -> None:
    from mamori.kernel.registry import scan_text

    if scan_text(note):
        raise ValidationFailed(
            "メモに個人情報らしき記述があります。区分の説明だけを書いてください。",
            "The note seems to hold personal data; describe the segment only.",
            code="personal_data_in_text",
        )


def to_read(row: AnalyticsSegment, members_now: int | None = None) -> SegmentRead:
    return SegmentRead(
        id=row.id,
        name=row.name,
        version=row.version,
        kind=row.kind,
        path=row.path,
        purpose=row.purpose_code,
        run_id=row.run_id,
        definition=json.loads(row.definition),
        members=row.members,
        members_now=members_now,
        note=row.note,
        contactable=row.path == PERSONAL,
        created_by=row.created_by,
        created_at=row.created_at,
    )


def list_segments(ctx: Context, *, limit: int = 100) -> list[SegmentRead]:
    """The newest version of every segment (names, counts, definitions; no member)."""
    _authorise(ctx)
    if not 1 <= limit <= MAX_LIST:
        raise ValidationFailed("件数は 1〜500 です。", "limit is 1 to 500.", code="bad_limit")
    return _with_counts(ctx, list(ctx.session.execute(queries.latest_segments(limit)).scalars()))


def versions(ctx: Context, name: str) -> list[SegmentRead]:
    """Every version of a segment, newest first."""
    _authorise(ctx)
    rows = ctx.session.execute(queries.segment_versions(check_name(name))).scalars().all()
    if not rows:
        raise NotFound("そのセグメントはありません。", "No such segment.")
    return _with_counts(ctx, list(rows))


def _with_counts(ctx: Context, rows: list[AnalyticsSegment]) -> list[SegmentRead]:
    """The segments with how many of their members are still members (one statement for them all)."""
    ids = [r.id for r in rows]
    now: dict[str, int] = {}
    if ids:
        now = {sid: int(n) for sid, n in ctx.session.execute(queries.member_counts(ids)).all()}
    return [to_read(r, now.get(r.id, 0) if r.path == PERSONAL else None) for r in rows]


# -- contact lists ----------------------------------------------------------------------------------------------


def for_contact(ctx: Context, name: str) -> SavedSegment | None:
    """``@name`` in a contact list (``contact.service.lists``): the newest version's customers, or None if no such
    segment. Refused (PolicyDenied, audited by the list builder): a segment of 仮名加工情報 (R-41-5), a list whose
    purpose is neither the segment's nor one that states profiling (R-18-1)."""
    if not _NAME.match(name.strip()):
        return None
    row = ctx.session.execute(queries.segment_versions(name.strip())).scalars().first()
    if row is None:
        return None
    if row.path != PERSONAL:
        try:
            deid_service.check_pseudonymised_contact()
        except PolicyDenied as exc:
            raise PolicyDenied(
                f"セグメント「{row.name}」は仮名加工情報から作られました。" + exc.message_ja,
                f"Segment '{row.name}' was cut from pseudonymised data; " + exc.message_en,
                rule_id="R-41-5",
                code="pseudonymised_segment",
            ) from None
    if ctx.purpose != row.purpose_code:
        facts = purposes_service.facts(ctx, ctx.purpose)
        if facts is None or not facts.profiling:
            raise PolicyDenied(
                f"セグメント「{row.name}」は利用目的「{row.purpose_code}」の分析結果です。"
                f"利用目的「{ctx.purpose}」は分析（プロファイリング）を含まないため、連絡先の抽出に使えません。",
                f"Segment '{row.name}' is a result of analysis under '{row.purpose_code}'; purpose "
                f"'{ctx.purpose}' does not state analysis or profiling, so the segment cannot select whom to contact.",
                rule_id="R-18-1",
                code="segment_outside_purpose",
            )
    ids = frozenset(c for (c,) in ctx.session.execute(queries.member_customers(row.id)).all() if c)
    return SavedSegment(customer_ids=ids, label=f"@{row.name} v{row.version}")


def register() -> None:
    register_segment_source(for_contact)
