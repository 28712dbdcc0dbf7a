from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from mamori.api.app import create_app
from mamori.kernel.context import SYSTEM_ACTOR, Role
from mamori.purposes import service as purposes_service
from tests.factories import PURPOSES
from tests.staff.helpers import PASSWORD, code_now, make_staff

USERS = {
    "admin": (Role.ADMIN, None),
    "po": (Role.PRIVACY_OFFICER, None),
    "sato": (Role.SALES, "east"),
    "suzuki": (Role.SALES, "west"),
    "support": (Role.SUPPORT, None),
    "analyst": (Role.ANALYST, None),
}


class Api:
    def __init__(self, runtime):
        self.rt = runtime
        self.app = create_app(runtime)
        self.secrets: dict[str, str | None] = {}
        self.ids: dict[str, str] = {}
        with runtime.transaction(SYSTEM_ACTOR) as ctx:
            for p in PURPOSES.values():
                purposes_service.add(ctx, p)
        for name, (role, team) in USERS.items():
            self.ids[name], self.secrets[name] = make_staff(runtime, name, role, team=team)
        self.step_offset: dict[str, int] = {}

    def client(self, username: str | None = None) -> tuple[TestClient, str]:
        """A client signed in as `username` (cookie session) and its CSRF token."""
        c = TestClient(self.app, base_url="https://testserver", raise_server_exceptions=False)
        if username is None:
            return c, ""
        # each TOTP step is usable once: move the frozen clock on one step per sign-in
        from datetime import timedelta

        self.rt.clock.advance(timedelta(seconds=30))
        r = c.post(
            "/api/v1/auth/sign-in",
            json={
                "username": username,
                "password": PASSWORD,
                "totp": code_now(self.rt, self.secrets[username]),
            },
        )
        assert r.status_code == 200, r.text
        return c, r.json()["csrf_token"]


@pytest.fixture
def api(runtime):
    return Api(runtime)
