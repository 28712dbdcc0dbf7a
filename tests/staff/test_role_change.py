"""Issue 25: an administrator moves an account to another role (an access review's change): sessions and tokens
end, refused for oneself, for an outsourcee's account, for the same role and for anyone but an administrator."""

from __future__ import annotations

import pytest

from mamori.kernel.context import SYSTEM_ACTOR, Role
from mamori.kernel.errors import Conflict, PolicyDenied
from mamori.staff import service as staff_service
from mamori.staff.schemas import ApiTokenCreate, StaffCreate
from tests.staff.helpers import make_staff, own_token, system_ctx


def _user(rt, username):
    with rt.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        return next(u for u in staff_service.list_staff(ctx) if u.username == username)


def test_change_role_ends_sessions_and_tokens(runtime):
    _id, secret = make_staff(runtime, "mori", Role.SALES, team="east")
    make_staff(runtime, "boss", Role.ADMIN)
    issued = own_token(runtime, "mori", secret, ApiTokenCreate(name="sync", purposes=["contract"]))
    with runtime.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        admin = staff_service.actor_for(ctx, "boss")
    with runtime.transaction(admin) as ctx:
        read = staff_service.change_role(ctx, "mori", Role.ANALYST)
    assert read.role == Role.ANALYST and _user(runtime, "mori").role == "analyst"
    with runtime.sessions() as s, pytest.raises(staff_service.AuthenticationFailed):
        staff_service.validate_api_token(system_ctx(runtime, s), issued.token)
    entry = next(e for e in runtime.audit.tail(30) if e.action == "staff.role_change")
    assert (entry.details["from"], entry.details["to"], entry.details["tokens_revoked"]) == (
        "sales",
        "analyst",
        1,
    )
    with runtime.transaction(admin) as ctx, pytest.raises(Conflict) as same:
        staff_service.change_role(ctx, "mori", Role.ANALYST)
    assert same.value.code == "same_role"
    with runtime.transaction(admin) as ctx, pytest.raises(Conflict) as own:
        staff_service.change_role(ctx, "boss", Role.SALES)
    assert own.value.code == "cannot_change_own_role"
    with runtime.transaction(admin) as ctx, pytest.raises(Conflict) as outsourcee:
        staff_service.change_role(ctx, "mori", Role.OUTSOURCEE)
    assert outsourcee.value.code == "role_not_changeable"


@pytest.mark.parametrize("role", [Role.PRIVACY_OFFICER, Role.SALES, Role.SUPPORT, Role.ANALYST])
def test_only_an_administrator_changes_a_role(runtime, role):
    make_staff(runtime, "who", role, team="east" if role == Role.SALES else None)
    with runtime.transaction(SYSTEM_ACTOR) as ctx:
        staff_service.add(ctx, StaffCreate(username="target", display_name="target", role=Role.SUPPORT))
    with runtime.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        actor = staff_service.actor_for(ctx, "who")
    with runtime.transaction(actor) as ctx, pytest.raises(PolicyDenied) as refused:
        staff_service.change_role(ctx, "target", Role.ADMIN)
    assert refused.value.rule_id == "R-23-2"
    assert _user(runtime, "target").role == "support"


def test_the_role_command(tmp_path, monkeypatch):
    from tests.factories import demo_cli

    for run in demo_cli(tmp_path, monkeypatch):
        moved = run("--as", "admin", "staff", "role", "takahashi", "analyst", "--json")
        assert moved.exit_code == 0, moved.output
        assert '"analyst"' in moved.stdout
        bad = run("--as", "admin", "staff", "role", "takahashi", "boss")
        assert bad.exit_code == 2  # not a role: a usage error, nothing changed
        officer = run("--as", "hoshino", "staff", "role", "sato", "support")
        assert officer.exit_code != 0 and "R-23-2" in officer.output
        same = run("--as", "admin", "staff", "role", "takahashi", "analyst")
        assert same.exit_code != 0 and "same_role" in same.output
