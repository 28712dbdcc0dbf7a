"""Sign-in: argon2id storage and rehash, TOTP single use, lock-out, no user enumeration, sessions."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from argon2 import PasswordHasher, Type, extract_parameters
from sqlalchemy import select, update

from mamori.kernel.clock import ensure_aware
from mamori.kernel.context import SYSTEM_ACTOR, Role
from mamori.kernel.errors import PolicyDenied
from mamori.staff import service as staff_service
from mamori.staff.models import StaffSession, StaffUser
from mamori.staff.service import AuthenticationFailed, LockoutPolicy
from tests.staff.helpers import PASSWORD, code_now, make_staff, system_ctx


def stored_hash(rt, username: str) -> str:
    with rt.sessions() as s:
        return s.execute(select(StaffUser.password_hash).where(StaffUser.username == username)).scalar_one()


def refused(rt, username, password, code=None, **kw) -> AuthenticationFailed:
    with pytest.raises(AuthenticationFailed) as err:
        staff_service.sign_in(rt, username, password, code, **kw)
    return err.value


# -- passwords ---------------------------------------------------------------------------------------------------


def test_stored_hash_is_argon2id_m19456_t2(runtime):
    make_staff(runtime, "sato", mfa=False, role=Role.ANALYST)
    params = extract_parameters(stored_hash(runtime, "sato"))
    assert params.type is Type.ID and params.memory_cost >= 19456 and params.time_cost >= 2


def test_old_parameter_hash_is_rehashed_at_next_sign_in(runtime):
    make_staff(runtime, "sato", mfa=False, role=Role.ANALYST)
    old = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1, type=Type.ID).hash(PASSWORD)
    with runtime.sessions() as s, s.begin():
        s.execute(update(StaffUser).where(StaffUser.username == "sato").values(password_hash=old))

    staff_service.sign_in(runtime, "sato", PASSWORD)

    new = stored_hash(runtime, "sato")
    assert new != old
    assert extract_parameters(new).memory_cost == 19456 and extract_parameters(new).time_cost == 2
    staff_service.sign_in(runtime, "sato", PASSWORD)  # the new hash still verifies


def test_weak_password_refused_and_not_stored(runtime):
    make_staff(runtime, "sato", password=None, mfa=False)
    with pytest.raises(Exception) as err, runtime.transaction(SYSTEM_ACTOR) as ctx:
        staff_service.set_password(ctx, "sato", "12345678")
    assert getattr(err.value, "code", None) == "password_common"
    assert stored_hash(runtime, "sato") is None


# -- one answer for every failure ---------------------------------------------------------------------------------


def test_unknown_user_wrong_password_wrong_code_same_error_and_similar_time(runtime, clock):
    _, secret = make_staff(runtime, "sato")
    timings: dict[str, float] = {}
    errors = {}
    for _ in range(3):  # best of three: the machine is shared
        clock.advance(timedelta(seconds=30))
        good = code_now(runtime, secret)
        for label, args in {
            "unknown": ("nobody", PASSWORD, good),
            "wrong_password": ("sato", PASSWORD + "x", good),
            "wrong_code": ("sato", PASSWORD, "000000" if good != "000000" else "111111"),
        }.items():
            started = time.perf_counter()
            errors[label] = refused(runtime, *args)
            elapsed = time.perf_counter() - started
            timings[label] = min(timings.get(label, elapsed), elapsed)
    bodies = {k: (e.code, e.http_status, e.message_ja, e.message_en, e.rule_id) for k, e in errors.items()}
    assert len(set(bodies.values())) == 1, bodies
    assert bodies["unknown"][:2] == ("unauthenticated", 401)
    # an unknown user costs a dummy argon2 verification too: no fast path that would reveal it
    assert timings["unknown"] > 0.5 * timings["wrong_password"], timings
    assert timings["wrong_password"] > 0.5 * timings["unknown"], timings


def test_user_without_password_or_disabled_gets_the_same_answer(runtime):
    make_staff(runtime, "nopw", password=None, mfa=False)
    make_staff(runtime, "gone", mfa=False, role=Role.ANALYST)
    with runtime.transaction(SYSTEM_ACTOR) as ctx:
        staff_service.disable(ctx, "gone")
    a = refused(runtime, "nopw", PASSWORD)
    b = refused(runtime, "gone", PASSWORD)
    c = refused(runtime, "nobody-at-all", PASSWORD)
    assert a.to_dict() == b.to_dict() == c.to_dict()


def test_role_seeing_personal_data_needs_totp_even_with_right_password(runtime):
    make_staff(runtime, "sato", role=Role.SALES, mfa=False)
    refused(runtime, "sato", PASSWORD)
    refused(runtime, "sato", PASSWORD, "123456")
    assert staff_service.mfa_required(Role.PRIVACY_OFFICER) and staff_service.mfa_required(Role.ADMIN)
    assert not staff_service.mfa_required(Role.ANALYST)


# -- TOTP ------------------------------------------------------------------------------------------------------


def test_same_totp_code_twice_second_refused(runtime):
    _, secret = make_staff(runtime, "sato")
    code = code_now(runtime, secret)
    staff_service.sign_in(runtime, "sato", PASSWORD, code)
    refused(runtime, "sato", PASSWORD, code)


def test_totp_previous_step_accepted_once_two_steps_old_refused(runtime, clock):
    _, secret = make_staff(runtime, "sato")
    refused(runtime, "sato", PASSWORD, code_now(runtime, secret, steps_back=2))
    previous = code_now(runtime, secret, steps_back=1)
    staff_service.sign_in(runtime, "sato", PASSWORD, previous)
    refused(runtime, "sato", PASSWORD, previous)
    clock.advance(timedelta(seconds=30))
    staff_service.sign_in(runtime, "sato", PASSWORD, code_now(runtime, secret))


def test_totp_secret_is_stored_encrypted(runtime):
    staff_id, secret = make_staff(runtime, "sato")
    with runtime.sessions() as s:
        blob = s.execute(select(StaffUser.totp_secret_enc).where(StaffUser.id == staff_id)).scalar_one()
    assert blob is not None and secret.encode() not in blob


def test_reset_2fa_refuses_old_secret_and_revokes_sessions(runtime, clock):
    _, secret = make_staff(runtime, "sato")
    signed = staff_service.sign_in(runtime, "sato", PASSWORD, code_now(runtime, secret))
    with runtime.transaction(SYSTEM_ACTOR) as ctx:
        staff_service.reset_2fa(ctx, "sato")
    clock.advance(timedelta(seconds=30))
    refused(runtime, "sato", PASSWORD, code_now(runtime, secret))
    with runtime.sessions() as s, pytest.raises(AuthenticationFailed):
        staff_service.validate_session(system_ctx(runtime, s), signed.token)


# -- lock-out ----------------------------------------------------------------------------------------------------


@pytest.mark.slow  # 101 argon2 verifications per backend
def test_101_wrong_passwords_in_an_hour_then_right_one_is_blocked(runtime, clock):
    _, secret = make_staff(runtime, "sato")
    for _ in range(101):
        refused(runtime, "sato", "wrong password!")
        clock.advance(timedelta(seconds=5))
    # attempt 102 with the right password and a fresh code, still inside the hour: refused the same way
    refused(runtime, "sato", PASSWORD, code_now(runtime, secret))
    with runtime.sessions() as s:
        locked_until = s.execute(
            select(StaffUser.locked_until).where(StaffUser.username == "sato")
        ).scalar_one()
    assert locked_until is not None


def test_delay_grows_and_ends(runtime, clock):
    _, secret = make_staff(runtime, "sato")
    policy = LockoutPolicy(free_failures=3, first_delay=timedelta(seconds=10), max_delay=timedelta(minutes=5))
    for _ in range(3):
        refused(runtime, "sato", "wrong password!", lockout=policy)
    clock.advance(timedelta(seconds=5))
    refused(runtime, "sato", PASSWORD, code_now(runtime, secret), lockout=policy)  # still locked (10 s)
    clock.advance(timedelta(seconds=6))
    refused(runtime, "sato", "wrong password!", lockout=policy)  # 4th failure: 20 s
    clock.advance(timedelta(seconds=15))
    refused(runtime, "sato", PASSWORD, code_now(runtime, secret), lockout=policy)
    clock.advance(timedelta(seconds=6))
    staff_service.sign_in(runtime, "sato", PASSWORD, code_now(runtime, secret), lockout=policy)


@pytest.mark.slow  # 100 argon2 verifications per backend
def test_hard_cap_100_failures_per_hour_even_without_delays(runtime, clock):
    _, secret = make_staff(runtime, "sato")
    no_delay = LockoutPolicy(free_failures=100, first_delay=timedelta(0), max_delay=timedelta(0))
    for _ in range(100):
        refused(runtime, "sato", "wrong password!", lockout=no_delay)
        clock.advance(timedelta(seconds=1))
    refused(runtime, "sato", PASSWORD, code_now(runtime, secret), lockout=no_delay)  # 101st: blocked
    clock.advance(timedelta(hours=1))
    staff_service.sign_in(runtime, "sato", PASSWORD, code_now(runtime, secret), lockout=no_delay)


def test_lockout_policy_cannot_allow_more_than_100_per_hour():
    with pytest.raises(ValueError, match="hourly_cap"):
        LockoutPolicy(hourly_cap=101)
    with pytest.raises(ValueError, match="hourly_cap"):
        LockoutPolicy(window=timedelta(minutes=10))


def test_success_clears_failures(runtime, clock):
    _, secret = make_staff(runtime, "sato")
    policy = LockoutPolicy(free_failures=3)
    for _ in range(2):
        refused(runtime, "sato", "wrong password!", lockout=policy)
    staff_service.sign_in(runtime, "sato", PASSWORD, code_now(runtime, secret), lockout=policy)
    clock.advance(timedelta(seconds=30))
    for _ in range(2):
        refused(runtime, "sato", "wrong password!", lockout=policy)
    staff_service.sign_in(runtime, "sato", PASSWORD, code_now(runtime, secret), lockout=policy)


# -- sessions ----------------------------------------------------------------------------------------------------


def test_each_sign_in_gets_a_new_token_stored_only_as_hash(runtime, clock):
    _, secret = make_staff(runtime, "sato")
    first = staff_service.sign_in(runtime, "sato", PASSWORD, code_now(runtime, secret))
    clock.advance(timedelta(seconds=30))
    second = staff_service.sign_in(runtime, "sato", PASSWORD, code_now(runtime, secret))
    assert first.token != second.token and first.session_id != second.session_id
    assert len(first.token) >= 43  # 32 random bytes, url-safe base64
    with runtime.sessions() as s:
        hashes = set(s.execute(select(StaffSession.token_hash)).scalars())
    assert first.token not in hashes and staff_service.token_digest(first.token) in hashes
    with runtime.sessions() as s:
        actor = staff_service.validate_session(system_ctx(runtime, s), first.token)
    assert actor.name == "sato" and actor.role == Role.SALES


def test_sign_out_then_reuse_refused(runtime, clock):
    _, secret = make_staff(runtime, "sato")
    signed = staff_service.sign_in(runtime, "sato", PASSWORD, code_now(runtime, secret))
    with runtime.sessions() as s, s.begin():
        assert staff_service.sign_out(system_ctx(runtime, s), signed.token) is True
    with runtime.sessions() as s, pytest.raises(AuthenticationFailed) as err:
        staff_service.validate_session(system_ctx(runtime, s), signed.token)
    assert err.value.code == "unauthenticated" and err.value.http_status == 401
    with runtime.sessions() as s, s.begin():
        assert staff_service.sign_out(system_ctx(runtime, s), signed.token) is False


def test_idle_timeout_30_minutes(runtime, clock):
    _, secret = make_staff(runtime, "sato")
    signed = staff_service.sign_in(runtime, "sato", PASSWORD, code_now(runtime, secret))
    for _ in range(3):  # activity keeps it alive
        clock.advance(timedelta(minutes=29))
        with runtime.sessions() as s, s.begin():
            staff_service.validate_session(system_ctx(runtime, s), signed.token)
    clock.advance(timedelta(minutes=30))
    with runtime.sessions() as s, pytest.raises(AuthenticationFailed):
        staff_service.validate_session(system_ctx(runtime, s), signed.token)


def test_idle_boundary_and_last_seen_written_at_most_once_a_minute(runtime, clock):
    _, secret = make_staff(runtime, "sato")
    signed = staff_service.sign_in(runtime, "sato", PASSWORD, code_now(runtime, secret))
    signed_at = clock.now()

    def last_seen():
        with runtime.sessions() as s:
            value = s.execute(select(StaffSession.last_seen_at).where(StaffSession.id == signed.session_id))
            return ensure_aware(value.scalar_one())

    clock.advance(timedelta(seconds=20))
    with runtime.sessions() as s, s.begin():
        staff_service.validate_session(system_ctx(runtime, s), signed.token)
    assert last_seen() == signed_at  # not rewritten within a minute
    clock.advance(timedelta(minutes=29, seconds=39))  # 29:59 after sign-in: still alive, and now written
    with runtime.sessions() as s, s.begin():
        staff_service.validate_session(system_ctx(runtime, s), signed.token)
    assert last_seen() == clock.now()
    clock.advance(timedelta(minutes=30))
    with runtime.sessions() as s, pytest.raises(AuthenticationFailed):
        staff_service.validate_session(system_ctx(runtime, s), signed.token)


def test_absolute_timeout_12_hours_despite_activity(runtime, clock):
    _, secret = make_staff(runtime, "sato")
    signed = staff_service.sign_in(runtime, "sato", PASSWORD, code_now(runtime, secret))
    for _ in range(12 * 4 - 1):
        clock.advance(timedelta(minutes=15))
        with runtime.sessions() as s, s.begin():
            staff_service.validate_session(system_ctx(runtime, s), signed.token)
    clock.advance(timedelta(minutes=15))  # exactly 12 h after sign-in
    with runtime.sessions() as s, pytest.raises(AuthenticationFailed):
        staff_service.validate_session(system_ctx(runtime, s), signed.token)


def test_timeouts_are_configurable_per_sign_in(runtime, clock):
    _, secret = make_staff(runtime, "sato")
    signed = staff_service.sign_in(
        runtime,
        "sato",
        PASSWORD,
        code_now(runtime, secret),
        idle_timeout=timedelta(minutes=5),
        absolute_timeout=timedelta(hours=1),
    )
    assert signed.expires_at - clock.now() == timedelta(hours=1)
    clock.advance(timedelta(minutes=6))
    with runtime.sessions() as s, pytest.raises(AuthenticationFailed):
        staff_service.validate_session(system_ctx(runtime, s), signed.token)
    with pytest.raises(ValueError, match="timeouts"):
        staff_service.sign_in(runtime, "sato", PASSWORD, "x", idle_timeout=timedelta(hours=13))


def test_disabled_user_sessions_refused(runtime, clock):
    _, secret = make_staff(runtime, "sato")
    signed = staff_service.sign_in(runtime, "sato", PASSWORD, code_now(runtime, secret))
    with runtime.transaction(SYSTEM_ACTOR) as ctx:
        staff_service.disable(ctx, "sato")
    with runtime.sessions() as s, pytest.raises(AuthenticationFailed):
        staff_service.validate_session(system_ctx(runtime, s), signed.token)
    with runtime.sessions() as s:
        row = s.execute(select(StaffSession).where(StaffSession.id == signed.session_id)).scalar_one()
    assert row.revoked_at is not None and row.revoked_reason == "disabled"


@pytest.mark.parametrize("token", ["", "x", "a" * 5000, "mamori_" + "A" * 43])
def test_garbage_session_tokens_refused(runtime, clock, token):
    with runtime.sessions() as s, pytest.raises(AuthenticationFailed):
        staff_service.validate_session(system_ctx(runtime, s), token)


def test_password_change_revokes_other_sessions_and_self_service_needs_current(runtime, clock):
    staff_id, secret = make_staff(runtime, "sato")
    signed = staff_service.sign_in(runtime, "sato", PASSWORD, code_now(runtime, secret))
    with runtime.transaction(SYSTEM_ACTOR, readonly=True) as s:
        actor = staff_service.actor_for(s, "sato")
    with pytest.raises(AuthenticationFailed), runtime.transaction(actor) as ctx:
        staff_service.set_password(ctx, "sato", "a brand new passphrase", current_password="wrong one")
    with runtime.transaction(actor) as ctx:
        staff_service.set_password(
            ctx,
            "sato",
            "a brand new passphrase",
            current_password=PASSWORD,
            keep_session_id=signed.session_id,
        )
    with runtime.sessions() as s:
        staff_service.validate_session(system_ctx(runtime, s), signed.token)  # kept
    with runtime.transaction(SYSTEM_ACTOR) as ctx:
        staff_service.set_password(ctx, "sato", "yet another long passphrase")
    with runtime.sessions() as s, pytest.raises(AuthenticationFailed):
        staff_service.validate_session(system_ctx(runtime, s), signed.token)
    make_staff(runtime, "suzuki", mfa=False)
    with pytest.raises(PolicyDenied) as err, runtime.transaction(actor) as ctx:
        staff_service.set_password(ctx, "suzuki", "hijacked passphrase!", current_password=PASSWORD)
    assert err.value.rule_id == "R-23-2"
