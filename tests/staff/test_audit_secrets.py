"""No password, TOTP secret or code, session or API token in any error message or audit entry."""

from __future__ import annotations

import dataclasses
import json

import pyotp
import pytest

from mamori.kernel.context import SYSTEM_ACTOR, Role
from mamori.kernel.errors import MamoriError
from mamori.staff import service as staff_service
from mamori.staff.schemas import ApiTokenCreate, ServiceAccountCreate, StaffCreate
from tests.staff.helpers import code_now, system_ctx

CANARY_PASSWORD = "Canary-Passw0rd-夜明け"
WRONG_PASSWORD = "Wrong-Canary-黄昏-12345"
UNKNOWN_USER = "canary.unknown.user"


def test_audit_and_errors_hold_ids_only(runtime, clock):
    secrets_seen: list[str] = [CANARY_PASSWORD, WRONG_PASSWORD, UNKNOWN_USER]
    errors: list[MamoriError] = []
    with runtime.transaction(SYSTEM_ACTOR) as ctx:
        staff_service.add(ctx, StaffCreate(username="sato", display_name="佐藤", role=Role.SALES))
        staff_service.set_password(ctx, "sato", CANARY_PASSWORD)
        uri = staff_service.enroll_totp(ctx, "sato")
    secret = pyotp.parse_uri(uri).secret
    secrets_seen += [secret, uri]

    code = code_now(runtime, secret)
    signed = staff_service.sign_in(runtime, "sato", CANARY_PASSWORD, code)
    secrets_seen += [signed.token, code]
    for args in (
        (UNKNOWN_USER, WRONG_PASSWORD, "000001"),
        ("sato", WRONG_PASSWORD, code),
        ("sato", CANARY_PASSWORD, code),
    ):
        with pytest.raises(MamoriError) as err:
            staff_service.sign_in(runtime, *args)
        errors.append(err.value)
    with runtime.sessions() as s, s.begin():
        staff_service.sign_out(system_ctx(runtime, s), signed.token)
    with runtime.sessions() as s, pytest.raises(MamoriError) as err:
        staff_service.validate_session(system_ctx(runtime, s), signed.token)
    errors.append(err.value)

    with runtime.transaction(SYSTEM_ACTOR) as ctx:
        # issue 17: a machine client's token belongs to a service account an administrator issues it for
        staff_service.add_service(
            ctx, ServiceAccountCreate(username="crm", display_name="crm", role=Role.SUPPORT)
        )
        issued = staff_service.create_token(ctx, "crm", ApiTokenCreate(name="crm", purposes=["contract"]))
    secrets_seen += [issued.token]
    with runtime.transaction(SYSTEM_ACTOR) as ctx:
        staff_service.revoke_token(ctx, issued.id)
    with runtime.sessions() as s, pytest.raises(MamoriError) as err:
        staff_service.validate_api_token(system_ctx(runtime, s), issued.token)
    errors.append(err.value)
    with pytest.raises(MamoriError) as err, runtime.transaction(SYSTEM_ACTOR) as ctx:
        staff_service.set_password(ctx, "sato", "password")
    errors.append(err.value)

    runtime.drain_outbox()
    entries = runtime.audit.tail(500)
    actions = {e.action for e in entries}
    assert {"staff.sign_in", "staff.password_set", "staff.totp_enrolled", "staff.token_created"} <= actions
    assert {"staff.sign_out", "staff.token_revoked"} <= actions
    denials = [e for e in entries if e.action == "staff.sign_in" and e.decision == "deny"]
    assert {e.actor for e in denials} >= {"staff:unknown"} and len(denials) == 3
    rows = [{k: v for k, v in dataclasses.asdict(e).items() if not k.endswith("_hash")} for e in entries]
    dumped = json.dumps(rows, default=str, ensure_ascii=False)
    texts = [dumped] + [json.dumps(e.to_dict("ja"), ensure_ascii=False) + e.one_line("en") for e in errors]
    for text in texts:
        for value in secrets_seen:
            assert value not in text, "a secret leaked into the audit log or an error"
