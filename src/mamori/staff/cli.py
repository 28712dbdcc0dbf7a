"""`mamori staff …`: users, roles, passwords, second factor and API tokens.

Secrets never travel through argv: passwords come from a hidden prompt or from stdin (``--stdin``); the TOTP
provisioning URI and a new API token are printed once, on stdout, and never logged.
"""

from __future__ import annotations

import sys
from enum import StrEnum
from typing import TYPE_CHECKING

import typer
from rich.table import Column, Table

from mamori.kernel import labels
from mamori.kernel.cli_support import CliState, cli_command, console, lazy, print_json, state

# Imported by the commands that use them, not at start-up (issue 16; see kernel/cli_support.py).
if TYPE_CHECKING:
    from mamori.kernel import context
    from mamori.staff import schemas, service
else:
    context = lazy("mamori.kernel.context")
    schemas = lazy("mamori.staff.schemas")
    service = lazy("mamori.staff.service")


class RoleOption(StrEnum):
    """The choices of ``--role``: the values of ``mamori.kernel.context.Role``, written out so that --help imports
    neither the kernel context nor SQLAlchemy (issue 16); tests/cli/test_startup.py fails if they drift. The
    command turns the choice into the Role (``context.Role(role)``)."""

    ADMIN = "admin"
    PRIVACY_OFFICER = "privacy_officer"
    SALES = "sales"
    SUPPORT = "support"
    ANALYST = "analyst"
    OUTSOURCEE = "outsourcee"
    PERSON = "person"
    SYSTEM = "system"


app = typer.Typer(help="担当者（スタッフ）と役割 / staff users and roles", no_args_is_help=True)
tokens_app = typer.Typer(
    help="API トークン（機械クライアント用） / API tokens for machine clients", no_args_is_help=True
)
app.add_typer(tokens_app, name="tokens")


@app.command("add")
@cli_command
def add(
    ctx: typer.Context,
    username: str,
    display_name: str = typer.Option(..., "--name", help="表示名"),
    role: RoleOption = typer.Option(
        ...,
        help="役割: admin（システム管理者）/ privacy_officer（個人情報保護管理者）/ sales（営業担当者）/ "
        "support（コールセンター担当者）/ analyst（分析担当者）",
    ),
    team: str | None = typer.Option(None),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """担当者を追加する（管理者のみ） / add a staff user (admin)."""
    st = state(ctx)
    with st.transaction(system_ok=False) as c:
        user = service.add(
            c,
            schemas.StaffCreate(
                username=username, display_name=display_name, role=context.Role(role), team=team
            ),
        )
    if json_out:
        print_json(user)
    else:
        console.print(
            st.t(
                f"追加しました: {user.username}（{labels.value('role', user.role.value, 'ja', staff=True)}）",
                f"added: {user.username} ({labels.value('role', user.role.value, 'en', staff=True)})",
            )
        )


@app.command("add-service")
@cli_command
def add_service(
    ctx: typer.Context,
    username: str,
    display_name: str = typer.Option(..., "--name", help="表示名（例: CRM 連携）"),
    role: RoleOption = typer.Option(
        ..., help="役割（admin・system は不可）: privacy_officer / sales / support / analyst / outsourcee"
    ),
    team: str | None = typer.Option(None),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """機械クライアント用のサービスアカウントを追加（管理者のみ、サインイン不可） / add a service account (admin)."""
    st = state(ctx)
    data = schemas.ServiceAccountCreate(
        username=username, display_name=display_name, role=context.Role(role), team=team
    )
    with st.transaction() as c:
        user = service.add_service(c, data)
    _show_user(
        st,
        json_out,
        user,
        f"サービスアカウントを追加しました: {user.username}（トークンは staff tokens create {user.username} で発行）",
        f"service account added: {user.username} (issue its tokens with staff tokens create {user.username})",
    )


@app.command("list")
@cli_command
def list_(ctx: typer.Context, json_out: bool = typer.Option(False, "--json")) -> None:
    """担当者の一覧（管理者） / list staff users (admin)."""
    st = state(ctx)
    with st.transaction() as c:
        users = service.list_all(c)
    if json_out:
        print_json(users)
        return
    table = Table(
        *(
            _h(st, f"staff_field.{k}")
            for k in ("username", "display_name", "role", "team", "active", "password", "mfa")
        )
    )
    for u in users:
        table.add_row(
            u.username,
            u.display_name,
            labels.value("role", u.role.value, st.lang, staff=True),
            u.team or "",
            _yesno(st, u.active),
            _yesno(st, u.password_set),
            _yesno(st, u.mfa_enrolled),
        )
    console.print(table)


def _h(st: CliState, key: str) -> str:
    """A column header from the label dictionary."""
    return labels.label(key, st.lang)


def _yesno(st: CliState, flag: bool) -> str:
    return labels.label("yesno.yes" if flag else "yesno.no", st.lang)


def _show_user(st: CliState, json_out: bool, user: object, ja: str, en: str) -> None:
    if json_out:
        print_json(user)
    else:
        console.print(st.t(ja, en), markup=False)


@app.command("disable")
@cli_command
def disable(ctx: typer.Context, username: str, json_out: bool = typer.Option(False, "--json")) -> None:
    """アカウントを無効にし、全セッションと API トークンを失効させる（管理者のみ） / disable an account (admin)."""
    st = state(ctx)
    with st.transaction() as c:
        user = service.disable(c, username)
    _show_user(st, json_out, user, f"無効にしました: {username}", f"disabled: {username}")


@app.command("enable")
@cli_command
def enable(ctx: typer.Context, username: str, json_out: bool = typer.Option(False, "--json")) -> None:
    """無効にしたアカウントを再び有効にする（管理者のみ） / re-enable an account (admin)."""
    st = state(ctx)
    with st.transaction() as c:
        user = service.enable(c, username)
    _show_user(st, json_out, user, f"有効にしました: {username}", f"enabled: {username}")


def _read_secret(st: CliState, from_stdin: bool, prompt_ja: str, prompt_en: str, *, confirm: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    value: str = typer.prompt(st.t(prompt_ja, prompt_en), hide_input=True, confirmation_prompt=confirm)
    return value


@app.command("passwd")
@cli_command
def passwd(
    ctx: typer.Context,
    username: str,
    from_stdin: bool = typer.Option(
        False,
        "--stdin",
        help="標準入力から読む（本人が変更する場合は 1 行目に現在のパスワード、2 行目に新しいパスワード）",
    ),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """パスワードを設定する（管理者は誰でも、本人は現在のパスワードを添えて） / set a password.

    The password is read from a hidden prompt or from stdin, never from the command line.
    """
    st = state(ctx)
    actor = st.actor()
    self_service = actor.name == username and actor.role != context.Role.ADMIN
    current = None
    if self_service:
        current = _read_secret(st, from_stdin, "現在のパスワード", "current password", confirm=False)
    new = _read_secret(st, from_stdin, "新しいパスワード", "new password", confirm=True)
    with st.transaction() as c:
        user = service.set_password(c, username, new, current_password=current)
    _show_user(st, json_out, user, f"パスワードを設定しました: {username}", f"password set: {username}")


def _print_enrolment(st: CliState, json_out: bool, username: str, uri: str) -> None:
    if json_out:
        print_json({"username": username, "provisioning_uri": uri})
        return
    console.print(
        st.t(
            "二要素認証（TOTP）の認証アプリにこの URI を登録してください（一度だけ表示します。本人に直接渡してください）:",
            "Register this URI in the authenticator app (shown once; hand it to the user in person):",
        )
    )
    console.print(uri, markup=False, highlight=False, soft_wrap=True)


@app.command("reset-2fa")
@cli_command
def reset_2fa(ctx: typer.Context, username: str, json_out: bool = typer.Option(False, "--json")) -> None:
    """二要素認証をリセットし新しい鍵（TOTP）を発行、全セッションを失効（管理者のみ） / reset the second factor (admin)."""
    st = state(ctx)
    with st.transaction() as c:
        service.reset_2fa(c, username)
        uri = service.enroll_totp(c, username)
    _print_enrolment(st, json_out, username, uri)


@app.command("enroll-2fa")
@cli_command
def enroll_2fa(ctx: typer.Context, username: str, json_out: bool = typer.Option(False, "--json")) -> None:
    """二要素認証を登録する（本人は未登録のときだけ、管理者は誰でも） / enrol a TOTP second factor."""
    st = state(ctx)
    with st.transaction() as c:
        uri = service.enroll_totp(c, username)
    _print_enrolment(st, json_out, username, uri)


@tokens_app.command("create")
@cli_command
def tokens_create(
    ctx: typer.Context,
    username: str | None = typer.Argument(
        None, help="サービスアカウント（管理者が発行）。省略時は自分（mamori login のセッションが必要）"
    ),
    name: str = typer.Option(..., "--name", help="用途がわかる名前（例: crm-sync）"),
    role: RoleOption | None = typer.Option(None, help="トークンの役割（省略時は担当者の役割）"),
    purposes: list[str] = typer.Option([], "--purpose", "-p", help="許可する利用目的（複数指定可）"),
    days: int = typer.Option(90, "--days", min=1, max=365, help="有効日数"),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """API トークンを発行（自分の分は mamori login の二要素認証済みセッションで、サービスアカウントの分は管理者が。
    一度だけ表示） / create your own token (needs your `mamori login` session) or a service account's (admin)."""
    st = state(ctx)
    data = schemas.ApiTokenCreate(
        name=name,
        role=None if role is None else context.Role(role),
        purposes=purposes,
        expires_in_days=days,
    )
    token = st.session_token()
    digest = service.token_digest(token) if token is not None else None
    with st.transaction() as c:
        issued = service.create_token(c, username or c.actor.name, data, session_digest=digest)
    if json_out:
        print_json(issued.model_dump(mode="json"))
        return
    console.print(
        st.t(
            f"発行しました: {issued.id}（{labels.value('role', issued.role.value, 'ja')}、"
            f"{labels.fmt_datetime(issued.expires_at, 'ja')}まで）。トークンは再表示できません:",
            f"issued {issued.id} ({labels.value('role', issued.role.value, 'en')}, until "
            f"{labels.fmt_datetime(issued.expires_at, 'en')}). The token is not shown again:",
        ),
        markup=False,
    )
    console.print(issued.token, markup=False, highlight=False, soft_wrap=True)


@tokens_app.command("list")
@cli_command
def tokens_list(
    ctx: typer.Context,
    username: str | None = typer.Option(None, "--user", help="この担当者のトークンだけ"),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """API トークン一覧（管理者は全員分、それ以外は自分の分。トークン自体は表示しない） / list API tokens."""
    st = state(ctx)
    with st.transaction() as c:
        items = service.list_tokens(c, username)
    if json_out:
        print_json(items)
        return
    table = Table(
        Column(_h(st, "staff_field.token_id"), no_wrap=True, min_width=32),
        _h(st, "staff_field.token_user"),
        _h(st, "staff_field.token_name"),
        _h(st, "staff_field.role"),
        _h(st, "field.purposes"),
        _h(st, "staff_field.expires_at"),
        _h(st, "staff_field.token_state"),
    )
    for t in items:
        table.add_row(
            t.id,
            t.username,
            t.name,
            labels.value("role", t.role.value, st.lang, staff=True),
            ", ".join(t.purposes) or "—",
            labels.fmt_datetime(t.expires_at, st.lang),
            labels.value("token_status", "revoked" if t.revoked_at else "active", st.lang),
        )
    console.print(table)


@tokens_app.command("revoke")
@cli_command
def tokens_revoke(ctx: typer.Context, token_id: str, json_out: bool = typer.Option(False, "--json")) -> None:
    """API トークンを失効させる（管理者は誰の分でも、本人は自分の分） / revoke an API token (admin: any; owner)."""
    st = state(ctx)
    with st.transaction() as c:
        item = service.revoke_token(c, token_id)
    _show_user(st, json_out, item, f"失効させました: {token_id}", f"revoked: {token_id}")
