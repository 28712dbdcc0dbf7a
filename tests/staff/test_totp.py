"""TOTP window and single use (pure: no database)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pyotp

from mamori.staff import totp

NOW = datetime(2026, 11, 23, 1, 0, 10, tzinfo=UTC)


def test_secret_is_160_bits_and_uri_names_issuer():
    secret = totp.new_secret()
    assert len(base64.b32decode(secret)) * 8 == 160
    uri = totp.provisioning_uri(secret, "sato")
    parsed = pyotp.parse_uri(uri)
    assert parsed.secret == secret and parsed.issuer == "mamori" and parsed.interval == 30


def test_code_matches_pyotp_reference():
    secret = totp.new_secret()
    assert totp.code_at_step(secret, totp.step_at(NOW)) == pyotp.TOTP(secret).at(NOW)


def test_current_step_accepted_then_replay_refused():
    secret = totp.new_secret()
    code = pyotp.TOTP(secret).at(NOW)
    step = totp.accepted_step(secret, code, NOW, None)
    assert step == totp.step_at(NOW)
    assert totp.accepted_step(secret, code, NOW, step) is None


def test_previous_step_accepted_once_two_steps_old_refused():
    secret = totp.new_secret()
    prev = pyotp.TOTP(secret).at(NOW - timedelta(seconds=30))
    old = pyotp.TOTP(secret).at(NOW - timedelta(seconds=60))
    step = totp.accepted_step(secret, prev, NOW, None)
    assert step == totp.step_at(NOW) - 1
    assert totp.accepted_step(secret, prev, NOW, step) is None
    assert totp.accepted_step(secret, old, NOW, None) is None


def test_previous_step_refused_after_current_step_was_used():
    secret = totp.new_secret()
    current_step = totp.step_at(NOW)
    prev = totp.code_at_step(secret, current_step - 1)
    assert totp.accepted_step(secret, prev, NOW, current_step) is None


def test_future_step_and_malformed_codes_refused():
    secret = totp.new_secret()
    future = totp.code_at_step(secret, totp.step_at(NOW) + 1)
    for bad in (future, "", "12345", "1234567", "abcdef", "１２３４５６", "12 34 5x"):
        assert totp.accepted_step(secret, bad, NOW, None) is None
