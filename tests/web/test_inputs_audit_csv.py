"""Issue 17, inputs: the audit CSV goes through the one shared neutraliser (kernel.files): a staff member whose
display name reads as a formula appears quoted, in every column, and only the privacy officer may export."""

from __future__ import annotations

import csv
import io

import pytest

from mamori.kernel.context import SYSTEM_ACTOR, Role
from mamori.staff import service as staff_service
from mamori.staff.schemas import StaffCreate
from tests.api.conftest import Api
from tests.factories import make_customer

FORMULA = '=HYPERLINK("http://evil.example","x")'


@pytest.fixture
def api(runtime):
    return Api(runtime)


def test_the_audit_csv_quotes_a_formula_in_any_column(api):
    with api.rt.transaction(SYSTEM_ACTOR) as ctx:
        staff_service.add(
            ctx, StaffCreate(username="evil", display_name=FORMULA, role=Role.SALES, team="east")
        )
    with api.rt.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        evil = staff_service.actor_for(ctx, "evil")
    make_customer(api.rt, evil)
    po, _ = api.client("po")
    r = po.get("/audit/export.csv")
    assert r.status_code == 200, r.text
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"), newline="")))
    assert "'" + FORMULA in {row[2] for row in rows[1:]}
    assert not [v for row in rows for v in row if v and v[0] in "=+-@\t\r"]
    rep, _ = api.client("sato")
    denied = rep.get("/audit/export.csv")
    assert denied.status_code == 403 and not denied.content.startswith(b"\xef\xbb\xbf")
