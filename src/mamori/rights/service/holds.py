"""The rights slice's retention hold (issue 21, R-22-1): a person with an open request is never disposed of.

A request the person made must be answered from the data as it stands (disclosure R-33-1, correction R-34-1,
stop-use / erasure R-35-1 …): until the request is closed, a retention disposal leaves the person alone. The
hold names the request kind's rule. Only requests whose verified identifiers reached the person (``rights
subjects``) name them: an unverified request names nobody yet (matching it would mean decrypting every
candidate's contacts), so it holds nobody.

Registered with ``mamori.kernel.registry.register_retention_hold(RIGHTS_HOLD)`` by the composition layer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from mamori.kernel.context import Context
from mamori.kernel.db import chunks
from mamori.kernel.registry import Hold
from mamori.rights import queries
from mamori.rights.schemas import rule_for

CODE = "open_request"


class RightsHold:
    name = "rights"

    def held(self, ctx: Context, subject_ids: Sequence[str]) -> Mapping[str, Hold]:
        wanted = set(subject_ids)
        out: dict[str, Hold] = {}
        if not wanted:
            return out
        for req in ctx.session.execute(queries.open_requests_by_due()).scalars():
            hold = Hold(CODE, rule_for(req.kind, req.regime))
            for cid in ctx.session.execute(queries.subjects(req.id)).scalars():
                if cid in wanted and cid not in out:
                    out[cid] = hold
        return out


RIGHTS_HOLD = RightsHold()


def persons_with_requests(ctx: Context, subject_ids: Sequence[str]) -> set[str]:
    """Which of ``subject_ids`` a request (open or closed) reached: the persons whose identifiers the rights slice
    still holds as keyed digests, to be forgotten when they are disposed of (``forget.trace_person``)."""
    wanted = set(subject_ids)
    found: set[str] = set()
    for chunk in chunks(sorted(wanted)):
        for rid in ctx.session.execute(queries.requests_reaching(chunk)).scalars():
            found.update(cid for cid in ctx.session.execute(queries.subjects(rid)).scalars() if cid in wanted)
    return found
