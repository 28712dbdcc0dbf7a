"""`mamori login` / `mamori logout`: the CLI signs in like the API (issue 17).

``login`` checks the password and the TOTP code with the same sign-in as the web and the API (lock-out, equal
timing, audit) and opens a server-side session of the channel "cli" (idle and absolute expiry as every session).
Its token is kept in a file only the user can read — ``Settings.cli_session_file`` (MAMORI_CLI_SESSION_FILE) or
``<key dir>/cli-session`` — created 0600 without following links; a file that is a symbolic link or readable by
others is refused, never used or overwritten. In production mode (MAMORI_PRODUCTION=1) every command then acts as
that session's user and ``--as`` / MAMORI_AS are refused (kernel/cli_support.py ``CliState.actor``); in the demo
``--as`` still works and the session is used when no ``--as`` is given. ``logout`` ends the session server-side
and deletes the file.

Secrets never travel through argv: the password comes from a hidden prompt or the first line of stdin
(``--password-stdin``); only the 6-digit code may be given as ``--totp`` (it is single-use).

The lead registers the commands in cli/main.py with ``session_cli.register(app)``; the module imports neither the
runtime nor the staff service at start-up (``mamori --help`` stays fast, tests/cli/test_startup.py).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from mamori.kernel.cli_support import (
    CliState,
    cli_command,
    console,
    lazy,
    read_session_file,
    session_file_path,
    set_session_resolver,
    state,
)
from mamori.kernel.errors import ConfigurationError

if TYPE_CHECKING:
    from mamori.kernel import context
    from mamori.kernel.context import Actor
    from mamori.kernel.runtime import Runtime
    from mamori.staff import service as staff_service
else:
    context = lazy("mamori.kernel.context")
    staff_service = lazy("mamori.staff.service")

CLI_CHANNEL = "cli"


def resolve_session(runtime: Runtime, token: str) -> Actor:
    """The Actor of a live CLI session (refused when revoked, idle too long, expired or the account disabled)."""
    with runtime.transaction(context.SYSTEM_ACTOR) as ctx:
        return staff_service.validate_session(ctx, token, channels=frozenset({CLI_CHANNEL}))


def _write_private(path: Path, token: str) -> None:
    """Write the token to ``path`` as a new 0600 file (never through a link), then move it into place."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(tmp, flags, 0o600)
    try:
        os.fchmod(fd, 0o600)  # whatever the umask
        os.write(fd, token.encode("ascii") + b"\n")
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def _refuse_as(st: CliState) -> None:
    if st.as_user and st.production():
        raise ConfigurationError(
            "本番モードでは --as / MAMORI_AS は使えません。mamori login でサインインしてください。",
            "--as / MAMORI_AS are refused in production mode; sign in with mamori login.",
            code="as_refused_in_production",
        )


def login(
    ctx: typer.Context,
    username: str = typer.Argument(..., help="ユーザー名 / user name"),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="パスワードを標準入力の 1 行目から読む / read the password from stdin"
    ),
    totp: str | None = typer.Option(
        None, "--totp", help="認証アプリの 6 桁のコード（省略時は入力を求める） / the 6-digit code"
    ),
) -> None:
    """サインインし、CLI のセッションを 0600 のファイルに保存 / sign in; the session is kept in a 0600 file."""
    from datetime import timedelta

    from mamori.kernel.settings import get_settings

    st = state(ctx)
    _refuse_as(st)
    settings = get_settings()
    path = Path(session_file_path(settings))
    previous = read_session_file(path)  # refuses a symlinked or readable file before anything is sent
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt(st.t("パスワード", "Password"), hide_input=True)
    code = totp
    if code is None and not password_stdin:
        code = (
            typer.prompt(
                st.t("確認コード（6 桁、なければ空）", "Verification code (6 digits; empty if none)"),
                default="",
                show_default=False,
            )
            or None
        )
    rt = st.runtime
    signed = staff_service.sign_in(
        rt,
        username,
        password,
        code,
        idle_timeout=timedelta(minutes=settings.session_idle_minutes),
        channel=CLI_CHANNEL,
    )
    if previous is not None:  # the file's old session ends: one CLI session per file
        with rt.transaction(context.SYSTEM_ACTOR) as c:
            staff_service.sign_out(c, previous)
    _write_private(path, signed.token)
    console.print(
        st.t(
            f"サインインしました: {signed.username}（セッションの保存先: {path}）",
            f"signed in: {signed.username} (session kept in {path})",
        ),
        markup=False,
        highlight=False,
    )


def logout(ctx: typer.Context) -> None:
    """CLI のセッションを終了（サーバー側で無効化しファイルを削除） / end the CLI session."""
    from mamori.kernel.settings import get_settings

    st = state(ctx)
    path = Path(session_file_path(get_settings()))
    token = read_session_file(path)
    if token is None:
        console.print(st.t("サインインしていません。", "Not signed in."), markup=False)
        return
    with st.runtime.transaction(context.SYSTEM_ACTOR) as c:
        staff_service.sign_out(c, token)
    path.unlink(missing_ok=True)
    console.print(st.t("サインアウトしました。", "signed out."), markup=False)


def register(app: typer.Typer) -> None:
    """Add ``mamori login`` / ``mamori logout`` to the root app and let every command use the CLI session."""
    set_session_resolver(resolve_session)
    have = {c.name for c in app.registered_commands}
    if "login" not in have:  # idempotent: tests may register on the app the entry point already completed
        app.command("login")(cli_command(login))
        app.command("logout")(cli_command(logout))
