"""Call lists and mailing lists built through the policy engine (issue 20, deliverable 3).

``build`` asks the customers slice who may be contacted on the channel for ``ctx.purpose``
(``customers.service.contactable``: notified, consenting where the purpose needs it, not stopped, not erased, not
do-not-contact on the channel, opted in where marketing e-mail / SMS needs it — R-18-1, R-21-1, R-35-1, TE-3,
R-CNS-1), narrows the allowed people by the segment, and keeps only the channel's fields. The build is recorded
(``ContactListBuild``) and audited: the ids of the people included, the fields, and how many were left out for
each reason — never a value.

Segments (until saved segments exist, issue 24): a small filter grammar, terms joined by ``,`` (all must hold):

* ``prefecture=東京都`` (or ``prefecture=東京都|神奈川県``) — the 都道府県 the address starts with;
* ``age=30-49`` (``30-`` / ``-49`` open-ended) — whole years on the build's day (JST), from the birth date;
* ``owner=<username>`` — the customers that staff member owns.

A term reads customer fields (address, birth_date); the purpose must cover them or the build is refused
(R-18-1: a filter may not use what the purpose masks), and they are evaluated after the policy decision, on the
values the purpose lets the list use; they are never output. A saved-segment store plugs in through
:func:`register_segment_source`: ``@name`` is looked up there and resolves to the grammar above or to a
:class:`SavedSegment` (the analytics slice's saved segments, issue 24: a set of customers); the source may refuse
(PolicyDenied: a segment of 仮名加工情報, R-41-5; a purpose the analysis does not cover, R-18-1), and the refusal is
audited like any other. ``@name`` may be followed by more terms (``@優良顧客,prefecture=東京都``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date

from mamori.contact import queries
from mamori.contact.models import ContactListBuild
from mamori.contact.permissions import CONTACT_LIST
from mamori.contact.schemas import ContactList
from mamori.customers.schemas import PREFECTURES
from mamori.customers.service.contactable import CHANNEL_COLUMNS, contactable
from mamori.kernel.auditing import audits_refusals, record_read
from mamori.kernel.clock import JST
from mamori.kernel.context import Context
from mamori.kernel.db import new_id
from mamori.kernel.errors import ValidationFailed
from mamori.kernel.files import csv_writer
from mamori.kernel.jptext import prefecture_of

BASE_COLUMNS = ("customer_id", "name", "kana")
NOT_IN_SEGMENT = "not_in_segment"

# -- segments -----------------------------------------------------------------------------------------------------

Values = dict[str, str | None]


@dataclass(frozen=True)
class Segment:
    """A parsed segment: the customer fields it reads, an owner to narrow the candidates to, and the tests."""

    text: str | None = None
    fields: tuple[str, ...] = ()
    owner_id: str | None = None
    tests: tuple[Callable[[Values, date], bool], ...] = field(default=())
    ids: frozenset[str] | None = None  # a saved segment's customers (None: no saved segment)

    def matches(self, values: Values, today: date) -> bool:
        return all(test(values, today) for test in self.tests)


@dataclass(frozen=True)
class SavedSegment:
    """A saved segment's members, as a segment source gives them (``label`` names it in the build record)."""

    customer_ids: frozenset[str]
    label: str


SegmentSource = Callable[[Context, str], "str | SavedSegment | None"]
_sources: list[SegmentSource] = []


def register_segment_source(source: SegmentSource) -> None:
    """A saved-segment store (issue 24): ``source(ctx, name)`` gives the filter text or the members of ``@name``,
    or None when it has no such segment."""
    if source not in _sources:
        _sources.append(source)


def _bad_segment(ja: str, en: str) -> ValidationFailed:
    return ValidationFailed(
        f"条件（セグメント）が正しくありません: {ja}（例: prefecture=東京都,age=30-49,owner=sato）",
        f"Bad segment: {en} (e.g. prefecture=東京都,age=30-49,owner=sato).",
        code="bad_segment",
    )


def _prefecture_test(value: str) -> tuple[tuple[str, ...], Callable[[Values, date], bool]]:
    wanted = frozenset(v.strip() for v in value.split("|"))
    if not wanted or not wanted <= frozenset(PREFECTURES):
        raise _bad_segment("都道府県名が正しくありません", "not a prefecture name")

    def test(values: Values, _today: date) -> bool:
        address = values.get("address")
        return address is not None and prefecture_of(address) in wanted

    return ("address",), test


def _age(born: str, today: date) -> int | None:
    try:
        b = date.fromisoformat(born)
    except ValueError:
        return None
    return today.year - b.year - ((today.month, today.day) < (b.month, b.day))


def _age_test(value: str) -> tuple[tuple[str, ...], Callable[[Values, date], bool]]:
    low_text, sep, high_text = value.partition("-")
    try:
        low = int(low_text) if low_text.strip() else 0
        high = int(high_text) if high_text.strip() else 200
    except ValueError:
        raise _bad_segment("年齢は 30-49 の形で指定します", "age is a range such as 30-49") from None
    if not sep or low < 0 or high < low or high > 200:
        raise _bad_segment("年齢は 30-49 の形で指定します", "age is a range such as 30-49")

    def test(values: Values, today: date) -> bool:
        born = values.get("birth_date")
        age = _age(born, today) if born else None
        return age is not None and low <= age <= high

    return ("birth_date",), test


_TERMS: dict[str, Callable[[str], tuple[tuple[str, ...], Callable[[Values, date], bool]]]] = {
    "prefecture": _prefecture_test,
    "age": _age_test,
}


def parse_segment(ctx: Context, text: str | None) -> Segment:
    """Parse a segment (see the module docstring); ValidationFailed naming the problem, never echoing a value."""
    if text is None or not text.strip():
        return Segment()
    given = text.strip()
    saved: SavedSegment | None = None
    if given.startswith("@"):
        name, _comma, rest = given[1:].partition(",")
        resolved = next((t for s in _sources if (t := s(ctx, name.strip())) is not None), None)
        if resolved is None:
            raise _bad_segment("保存された条件が見つかりません", "no saved segment of that name")
        if isinstance(resolved, SavedSegment):
            saved = resolved
            if not rest.strip():
                return Segment(saved.label, ids=saved.customer_ids)
            given = rest.strip()
        else:
            given = resolved + ("," + rest if rest.strip() else "")
    parsed = _parse_terms(ctx, given)
    if saved is None:
        return parsed
    return dataclasses.replace(parsed, text=f"{saved.label},{given}", ids=saved.customer_ids)


def _parse_terms(ctx: Context, given: str) -> Segment:
    fields: list[str] = []
    tests: list[Callable[[Values, date], bool]] = []
    owner_id: str | None = None
    seen: set[str] = set()
    for term in given.split(","):
        key, sep, value = (p.strip() for p in term.partition("="))
        if not sep or not value:
            raise _bad_segment(
                "「項目=値」をカンマで区切って指定します", "terms are key=value joined by commas"
            )
        if key in seen:
            raise _bad_segment("同じ項目が二度あります", "a key is given twice")
        seen.add(key)
        if key == "owner":
            owner_id = ctx.session.execute(queries.staff_id_of(value)).scalar_one_or_none()
            if owner_id is None:
                raise _bad_segment("担当者が見つかりません", "no such staff member")
            continue
        make = _TERMS.get(key)
        if make is None:
            raise _bad_segment(
                "使える項目は prefecture / age / owner です", "the keys are prefecture, age and owner"
            )
        reads, test = make(value)
        fields.extend(f for f in reads if f not in fields)
        tests.append(test)
    return Segment(given, tuple(fields), owner_id, tuple(tests))


# -- build --------------------------------------------------------------------------------------------------------


def columns(channel: str) -> tuple[str, ...]:
    return (*BASE_COLUMNS, *CHANNEL_COLUMNS[channel])


@audits_refusals(CONTACT_LIST)
def build(
    ctx: Context,
    *,
    channel: str,
    segment: str | None = None,
    ids: Sequence[str] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ContactList:
    """Build the list of people who may be contacted on ``channel`` for ``ctx.purpose`` (see the module docstring).

    Refused as a whole (PolicyDenied, audited) for no purpose (R-18-1), an unknown or retired purpose (R-17-1), a
    role without ``contact.list`` (R-23-2), a channel the purpose does not name (R-18-1, channel_not_in_purpose),
    or a segment reading a field the purpose does not cover (R-18-1); ValidationFailed for an unknown channel or
    a bad segment."""
    seg = parse_segment(ctx, segment)
    if seg.ids is not None:  # a saved segment: its members (within the ids asked for, if any)
        ids = sorted(seg.ids if ids is None else seg.ids.intersection(ids))
    result = contactable(
        ctx, CONTACT_LIST, channel, ids=ids, extra_fields=seg.fields, owner_id=seg.owner_id, progress=progress
    )
    fields = columns(channel)
    today = ctx.clock.now().astimezone(JST).date()
    excluded: Counter[str] = Counter()
    rows: list[dict[str, str | None]] = []
    masked: set[str] = set()
    for person in result.people:
        if not person.allowed:
            excluded[person.code] += 1
            continue
        if seg.tests and not seg.matches(dict(person.values), today):
            excluded[NOT_IN_SEGMENT] += 1
            continue
        values = person.values
        rows.append({"customer_id": person.customer_id, **{c: values.get(c) for c in fields[1:]}})
        masked |= person.masked & {"name", "kana"}
    built = ContactList(
        build_id=new_id(),
        purpose=result.facts.code,
        purpose_version=result.purpose_version,
        channel=channel,
        segment=seg.text,
        fields=fields,
        rows=rows,
        excluded=dict(sorted(excluded.items())),
        considered=len(result.people),
        masked=tuple(sorted(masked)),
    )
    ctx.session.add(
        ContactListBuild(
            id=built.build_id,
            purpose_code=built.purpose,
            purpose_version=built.purpose_version,
            channel=channel,
            segment=seg.text,
            fields=",".join(fields),
            included=built.included,
            excluded=json.dumps(built.excluded, sort_keys=True),
            built_at=ctx.clock.now(),
            built_by=ctx.actor.label,
            output_sha256=None,  # set by export_csv when the list leaves as a file
        )
    )
    details: dict[str, str | int | bool | None] = {
        "build_id": built.build_id,
        "channel": channel,
        "segment": seg.text is not None,
        "considered": built.considered,
        "included": built.included,
    }
    details.update({f"excluded_{code}": n for code, n in built.excluded.items()})
    record_read(
        ctx,
        CONTACT_LIST,
        [r["customer_id"] or "" for r in rows],
        [f for f in fields if f != "customer_id"],
        masked=masked,
        details=details,
    )
    return built


def export_csv(ctx: Context, built: ContactList) -> tuple[ContactList, bytes]:
    """The list as CSV (:func:`to_csv`), its SHA-256 recorded on the build (``output_sha256``: the file handed out
    can be matched to the audited build). Call in the build's unit of work."""
    data = to_csv(built)
    digest = hashlib.sha256(data).hexdigest()
    row = ctx.session.get(ContactListBuild, built.build_id)
    if row is not None:
        row.output_sha256 = digest
    return dataclasses.replace(built, output_sha256=digest), data


def to_csv(built: ContactList) -> bytes:
    """The list as CSV in UTF-8 with a BOM (Excel opens it as UTF-8), a header row of the field names, CRLF;
    every cell neutralised against formula injection (``kernel.files.csv_writer``: an E.164 number such as
    +8190… is written '+8190…, which a spreadsheet shows as text)."""
    out = io.StringIO()
    writer = csv_writer(out, lineterminator="\r\n")
    writer.writerow(built.fields)
    writer.writerows([row.get(f) or "" for f in built.fields] for row in built.rows)
    return b"\xef\xbb\xbf" + out.getvalue().encode("utf-8")
