"""`mamori incidents contain …` and `mamori incidents measures …` end to end (issue 22 "Deliver" 7): each step done
and recorded (--json), one-line errors naming the problem (never the value), refusals with the rule id."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mamori.kernel.context import SYSTEM_ACTOR, Role
from mamori.kernel.errors import MamoriError
from mamori.kernel.runtime import Runtime, open_runtime
from mamori.kernel.settings import get_settings
from mamori.staff import service as staff_service
from mamori.staff.schemas import ApiTokenCreate
from tests.incidents.support import new_incident
from tests.staff.helpers import PASSWORD, make_staff, service_token
from tests.test_cli import cli, j, one_line  # noqa: F401  (the `cli` fixture: init + demo)


@pytest.fixture
def rt(cli) -> Iterator[Runtime]:  # noqa: F811
    runtime = open_runtime(get_settings())
    yield runtime
    runtime.close()


def _po(rt: Runtime):
    with rt.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        return staff_service.actor_for(ctx, "hoshino")  # the demo's privacy officer


def _session_works(rt: Runtime, token: str) -> bool:
    try:
        with rt.transaction(SYSTEM_ACTOR) as ctx:
            staff_service.validate_session(ctx, token)
    except MamoriError:
        return False
    return True


def _token_works(rt: Runtime, token: str) -> bool:
    try:
        with rt.transaction(SYSTEM_ACTOR) as ctx:
            staff_service.validate_api_token(ctx, token)
    except MamoriError:
        return False
    return True


def _analyst(rt: Runtime, username: str = "kimura") -> None:
    """A staff member who signs in with a password alone (an analyst: no second factor required; the CLI
    tests run on the real clock, where a TOTP code is usable once)."""
    make_staff(rt, username, Role.ANALYST, mfa=False)


def _sign_in(rt: Runtime, username: str = "kimura"):
    return staff_service.sign_in(rt, username, PASSWORD, None)


def test_contain_revoke_session_then_measures(cli, rt):  # noqa: F811
    inc = new_incident(rt, _po(rt))
    _analyst(rt)
    signed = _sign_in(rt)
    other = _sign_in(rt)
    out = j(
        cli(
            "--as",
            "hoshino",
            "incidents",
            "contain",
            inc.ref,
            "--revoke-session",
            signed.session_id,
            "--json",
        )
    )
    assert out["kind"] == "revoke_session" and out["target"] == signed.session_id
    assert out["result"] == {"sessions_revoked": 1} and out["incident_id"] == inc.id
    assert not _session_works(rt, signed.token) and _session_works(rt, other.token)
    r = cli("--as", "hoshino", "incidents", "contain", inc.ref, "--revoke-sessions", "kimura")
    assert r.exit_code == 0 and "失効したセッション: 1" in r.stdout
    assert not _session_works(rt, other.token)
    listed = j(cli("--as", "hoshino", "incidents", "measures", str(inc.number), "--json"))
    assert [m["kind"] for m in listed] == ["revoke_session", "revoke_sessions"]
    table = cli("--as", "hoshino", "--lang", "en", "incidents", "measures", inc.ref)
    assert table.exit_code == 0 and "measure" in table.stdout and "revoked" in table.stdout
    entries = [e for e in rt.audit.tail(40) if e.action == "incident.contain"]
    assert [e.details["kind"] for e in entries] == ["revoke_session", "revoke_sessions"]
    assert all(e.details["incident_id"] == inc.id for e in entries)


def test_contain_disable_account_and_tokens(cli, rt):  # noqa: F811
    inc = new_incident(rt, _po(rt))
    _analyst(rt)
    _sign_in(rt)
    one = service_token(rt, "batch-sync", Role.ANALYST, ApiTokenCreate(name="sync", purposes=["analytics"]))
    two = service_token(rt, "batch-sync", Role.ANALYST, ApiTokenCreate(name="more", purposes=["analytics"]))
    out = j(cli("--as", "hoshino", "incidents", "contain", inc.ref, "--revoke-token", one.id, "--json"))
    assert out["result"] == {"tokens_revoked": 1}
    assert not _token_works(rt, one.token)  # (not `two` yet: a valid check is trusted from memory for 5 s)
    out = j(
        cli("--as", "hoshino", "incidents", "contain", inc.ref, "--revoke-tokens", "batch-sync", "--json")
    )
    assert out["result"] == {"tokens_revoked": 1}
    assert not _token_works(rt, two.token)
    out = j(cli("--as", "hoshino", "incidents", "contain", inc.ref, "--disable-account", "kimura", "--json"))
    assert out["result"] == {"disabled": 1, "sessions_revoked": 1, "tokens_revoked": 0}
    assert out["target"] == "kimura"
    with pytest.raises(MamoriError):
        _sign_in(rt)


def test_rotate_keys_is_refused_for_the_privacy_officer_naming_the_administrator(cli, rt):  # noqa: F811
    inc = new_incident(rt, _po(rt))
    r = cli("--as", "hoshino", "--lang", "en", "incidents", "contain", inc.ref, "--rotate-keys")
    assert r.exit_code == 3
    line = one_line(r)
    assert "administrator" in line and "R-23-2" in line
    # with the environment's KEK (the test store) nothing can be rotated here: refused, nothing recorded
    r = cli("--as", "admin", "incidents", "contain", inc.ref, "--rotate-keys")
    assert r.exit_code != 0 and "kek_not_rotated" in one_line(r)
    assert j(cli("--as", "hoshino", "incidents", "measures", inc.ref, "--json")) == []


def test_other_roles_are_refused_with_the_rule(cli, rt):  # noqa: F811
    inc = new_incident(rt, _po(rt))
    for args in (("contain", inc.ref, "--revoke-sessions", "suzuki"), ("measures", inc.ref)):
        r = cli("--as", "sato", "incidents", *args)
        assert r.exit_code == 3 and "R-23-2" in one_line(r)
    denied = [e for e in rt.audit.tail(10) if e.decision == "deny"]
    assert {e.action for e in denied} >= {"incident.contain", "incident.read"}


def test_bad_input_is_one_line_and_records_nothing(cli, rt):  # noqa: F811
    inc = new_incident(rt, _po(rt))
    po = ("--as", "hoshino", "incidents", "contain", inc.ref)
    cases = [
        ((), "one_step"),
        (("--revoke-sessions", "sato", "--revoke-tokens", "sato"), "one_step"),
        (("--revoke-sessions", "nobody"), "unknown_staff"),
        (("--revoke-session", "0" * 32), "unknown_session"),
        (("--revoke-token", "not-an-id"), "invalid_input"),
        (("--suspend-outsourcee", "a" * 32), "contract_not_found"),
    ]
    for extra, code in cases:
        r = cli(*po, *extra)
        assert r.exit_code != 0, extra
        assert code in one_line(r), (extra, r.stderr)
        assert "not-an-id" not in r.stderr and "nobody" not in r.stderr
    r = cli("--as", "hoshino", "incidents", "contain", "INC-0099", "--revoke-sessions", "sato")
    assert r.exit_code != 0 and "incident_not_found" in one_line(r)
    assert j(cli("--as", "hoshino", "incidents", "measures", inc.ref, "--json")) == []
