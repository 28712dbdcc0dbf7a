"""Browser tests (issue 15): Playwright driving Debian's /usr/bin/chromium against a live mamori server.

A fresh store with the demo data (``mamori init`` + ``mamori demo``) is served by uvicorn in a thread on a free
port of 127.0.0.1; the demo logins (password + TOTP secret) are read from ``demo-logins.txt``. No browser is
downloaded: ``MAMORI_CHROMIUM`` (default /usr/bin/chromium) is launched. The tests are skipped, with the reason,
only when that browser is not installed (``.ci/run`` installs it).
"""

from __future__ import annotations

import base64
import contextlib
import os
import re
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyotp
import pytest

CHROMIUM = os.environ.get("MAMORI_CHROMIUM", "/usr/bin/chromium")


@dataclass
class Login:
    username: str
    password: str
    secret: str
    last_step: int = -1

    def code(self) -> str:
        """A TOTP code for a step not used before (each step signs in once)."""
        totp = pyotp.TOTP(self.secret)
        step = int(time.time()) // 30
        if step <= self.last_step:
            time.sleep(30 - time.time() % 30 + 0.5)
            step = int(time.time()) // 30
        self.last_step = step
        return totp.now()


@dataclass
class Live:
    url: str
    home: Path
    logins: dict[str, Login]
    env: dict[str, str]  # what a CLI call needs to reach the same store (set per test, never left behind)
    runtime: Any = None  # the served app's runtime (tests that read the store directly)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def serve_demo(home: Path, env: dict[str, str], *, customers: int, port: int | None = None) -> Iterator[Live]:
    """A fresh store with the demo data (``mamori init`` + ``mamori demo``) served by uvicorn in a thread.

    The environment (``env`` plus MAMORI_HOME/KEK/KEY_DIR given by the caller) is set only while the store is made
    and the runtime opened (the server then holds its own settings); it is restored at once, so the other tests
    of this worker never see it."""
    import uvicorn
    from typer.testing import CliRunner

    from mamori.api.app import create_app
    from mamori.cli.main import app as cli_app
    from mamori.kernel.runtime import open_runtime
    from mamori.kernel.settings import get_settings, reset_settings_cache

    cleared = ("MAMORI_DATABASE_URL", "MAMORI_KEYSTORE_URL", "MAMORI_AUDIT_URL", "MAMORI_AS", "MAMORI_LANG")
    saved = {k: os.environ.get(k) for k in (*env, *cleared)}
    os.environ.update(env)
    for k in cleared:
        os.environ.pop(k, None)
    reset_settings_cache()
    try:
        runner = CliRunner()
        assert runner.invoke(cli_app, ["init"], catch_exceptions=False).exit_code == 0
        demo = ["demo", "--customers", str(customers)]
        assert runner.invoke(cli_app, demo, catch_exceptions=False).exit_code == 0
        runtime = open_runtime(get_settings())
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        reset_settings_cache()
    logins = {}
    for line in (home / "demo-logins.txt").read_text(encoding="utf-8").splitlines():
        m = re.match(r"^(\S+)\s+password: (\S+)\s+totp-secret: (\S+)", line)
        if m:
            logins[m.group(1)] = Login(m.group(1), m.group(2), m.group(3))
    port = port or _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(runtime), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        time.sleep(0.05)
    try:
        yield Live(f"http://127.0.0.1:{port}", home, logins, env, runtime)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        runtime.close()


@pytest.fixture(scope="session")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    home = tmp_path_factory.mktemp("web") / "home"
    env = {
        "MAMORI_HOME": str(home),
        "MAMORI_KEK": base64.b64encode(secrets.token_bytes(32)).decode(),
        "MAMORI_KEY_DIR": str(home.parent / "keys"),  # never under the real HOME
        "MAMORI_SESSION_IDLE_MINUTES": "2",  # the idle lock, shortened (seed 001 case 5)
    }
    with serve_demo(home, env, customers=20) as live:
        yield live


@pytest.fixture(scope="session")
def browser():
    """One Chromium for the whole session (Playwright's sync API allows one running instance per thread)."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-dev-shm-usage"])
        yield b
        b.close()


@pytest.fixture
def page(browser, live: Live):
    context = browser.new_context(locale="ja-JP", timezone_id="Asia/Tokyo")
    pg = context.new_page()
    pg.set_default_timeout(15_000)
    yield pg
    context.close()


def sign_in(page, live: Live, username: str) -> None:
    login = live.logins[username]
    page.goto(live.url + "/sign-in")
    page.get_by_label("ユーザー名").fill(login.username)
    page.get_by_label("パスワード").fill(login.password)
    page.get_by_label("確認コード（二要素認証、6桁）").fill(login.code())
    page.get_by_role("button", name="サインイン").click()
    page.wait_for_url(live.url + "/")


SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def shot(page, name: str) -> None:
    """With MAMORI_SCREENSHOTS=1, keep a screenshot of the page for the README (docs/screenshots/<name>.png)."""
    if os.environ.get("MAMORI_SCREENSHOTS"):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
