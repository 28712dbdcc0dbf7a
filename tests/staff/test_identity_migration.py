"""Migration 0016 (issue 17): a live token that an administrator minted for somebody else is revoked on upgrade
(it would otherwise keep impersonating its user); tokens their owners made are kept. Existing accounts become
people, existing sessions are not MFA-backed (they cannot create tokens until their user signs in again)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from alembic import command
from sqlalchemy import text

from mamori.kernel.db import make_engine
from mamori.kernel.runtime import alembic_config


def test_upgrade_revokes_tokens_minted_for_another_user(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'data.db'}")
    cfg = alembic_config(engine)
    command.upgrade(cfg, "0015")  # type: ignore[arg-type]
    now = datetime(2026, 11, 23, tzinfo=UTC)
    with engine.begin() as conn:
        for sid, name, role in (("a" * 32, "admin", "admin"), ("b" * 32, "sato", "sales")):
            conn.execute(
                text(
                    "INSERT INTO staff_users (id, username, display_name, role, active, created_at) "
                    "VALUES (:id, :u, :u, :r, 1, :now)"
                ),
                {"id": sid, "u": name, "r": role, "now": now},
            )
        for tid, created_by in (("1" * 32, "staff:" + "a" * 32), ("2" * 32, "staff:" + "b" * 32)):
            conn.execute(
                text(
                    "INSERT INTO staff_api_tokens (id, token_hash, staff_id, name, role, purposes, created_at, "
                    "created_by, expires_at) VALUES (:id, :h, :s, 'x', 'sales', '', :now, :by, :exp)"
                ),
                {
                    "id": tid,
                    "h": tid * 2,
                    "s": "b" * 32,
                    "now": now,
                    "by": created_by,
                    "exp": now + timedelta(days=9),
                },
            )
        conn.execute(
            text(
                "INSERT INTO staff_sessions (id, token_hash, staff_id, created_at, last_seen_at, idle_seconds, "
                "expires_at) VALUES (:id, :h, :s, :now, :now, 1800, :exp)"
            ),
            {"id": "3" * 32, "h": "3" * 64, "s": "b" * 32, "now": now, "exp": now + timedelta(hours=1)},
        )
    command.upgrade(cfg, "0016")  # type: ignore[arg-type]
    with engine.connect() as conn:
        revoked = dict(conn.execute(text("SELECT id, revoked_at IS NOT NULL FROM staff_api_tokens")).all())
        kinds = set(conn.execute(text("SELECT kind FROM staff_users")).scalars())
        session = conn.execute(text("SELECT mfa, channel FROM staff_sessions")).one()
    assert revoked == {"1" * 32: 1, "2" * 32: 0}  # minted by the admin for sato: revoked; sato's own: kept
    assert kinds == {"person"} and tuple(session) == (0, "web")
    command.downgrade(cfg, "0015")  # type: ignore[arg-type]
    engine.dispose()
