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
    from mamori.kernel import context, registry
    from mamori.staff import schemas, service
else:
    context = lazy("mamori.kernel.context")
    registry = lazy("mamori.kernel.registry")
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
    with st.transaction() as c:
        holdings = registry.staff_holdings(c, user.id)  # issue 21: e.g. customers owned → the handover
    _show_user(st, json_out, user, f"無効にしました: {username}", f"disabled: {username}")
    if not json_out:
        for h in holdings:
            console.print(
                st.t(
                    f"{h.count} {h.label_ja} → 引継ぎ: mamori handover plan {username}（画面: {h.url}）",
                    f"{h.count} {h.label_en} → hand over: mamori handover plan {username} (web: {h.url})",
                ),
                markup=False,
                soft_wrap=True,
            )


@app.command("role")
@cli_command
def role(
    ctx: typer.Context,
    username: str,
    new_role: RoleOption = typer.Argument(
        ..., metavar="ROLE", help="admin | privacy_officer | sales | support | analyst"
    ),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """アカウントの役割を変える（セッションとトークンは失効。管理者のみ） / change an account's role (admin)."""
    st = state(ctx)
    target = context.Role(new_role.value)
    with st.transaction() as c:
        user = service.change_role(c, username, target)
    _show_user(
        st,
        json_out,
        user,
        f"役割を変更しました: {username} → {target.value}",
        f"role changed: {username} → {target.value}",
    )


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


# -- human measures (R-23-3): `mamori staff training …` and `mamori staff pledge …` (issue 21) ----------------------

training_app = typer.Typer(
    help="研修（人的安全管理措置）: コース・受講記録・状況・必須化 / training courses, completions, status, policy",
    no_args_is_help=True,
)
pledge_app = typer.Typer(help="誓約書: 公開・署名・一覧 / pledges: publish, sign, list", no_args_is_help=True)
app.add_typer(training_app, name="training")
app.add_typer(pledge_app, name="pledge")

_STATE_WORDS = {
    "current": ("有効", "current"),
    "expiring": ("30日以内に期限", "expires within 30 days"),
    "expired": ("期限切れ", "expired"),
    "missing": ("未受講", "missing"),
}


def _state(st: CliState, state: str) -> str:
    ja, en = _STATE_WORDS.get(state, (state, state))
    return st.t(ja, en)


@training_app.command("course-add")
@cli_command
def course_add(
    ctx: typer.Context,
    code: str,
    title: str = typer.Option(..., "--title", help="研修名（例: 個人情報保護基礎研修）"),
    validity_days: int = typer.Option(..., "--validity-days", help="受講後の有効日数"),
    optional: bool = typer.Option(False, "--optional", help="任意受講（必須にしない）"),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """研修コースを追加する（管理者・個人情報保護管理者） / add a training course."""
    st = state(ctx)
    data = schemas.CourseCreate(code=code, title=title, validity_days=validity_days, required=not optional)
    with st.transaction() as c:
        course = service.add_course(c, data)
    _show_user(st, json_out, course, f"追加しました: {course.code}", f"added: {course.code}")


@training_app.command("course-list")
@cli_command
def course_list(
    ctx: typer.Context,
    all_: bool = typer.Option(False, "--all", help="廃止したコースも表示"),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """研修コースの一覧 / list training courses."""
    st = state(ctx)
    with st.transaction() as c:
        courses = service.list_courses(c, include_retired=all_)
    if json_out:
        print_json(courses)
        return
    table = Table(
        st.t("コード", "code"),
        st.t("研修名", "title"),
        st.t("有効日数", "validity (days)"),
        st.t("必須", "required"),
        st.t("廃止", "retired"),
    )
    for course in courses:
        table.add_row(
            course.code,
            course.title,
            str(course.validity_days),
            _yesno(st, course.required),
            labels.fmt_date(course.retired_at, st.lang) if course.retired_at else "—",
        )
    console.print(table)


@training_app.command("course-retire")
@cli_command
def course_retire(ctx: typer.Context, code: str, json_out: bool = typer.Option(False, "--json")) -> None:
    """研修コースを廃止する（受講記録は残る） / retire a training course (its completions stay)."""
    st = state(ctx)
    with st.transaction() as c:
        course = service.retire_course(c, code)
    _show_user(st, json_out, course, f"廃止しました: {course.code}", f"retired: {course.code}")


@training_app.command("record")
@cli_command
def training_record(
    ctx: typer.Context,
    username: str,
    course: str,
    on: str | None = typer.Option(None, "--on", help="受講日 YYYY-MM-DD（省略時は今日）"),
    reference: str | None = typer.Option(None, "--reference", help="修了証などの番号（氏名は書かない）"),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """受講を記録する（管理者・個人情報保護管理者） / record a completed training."""
    st = state(ctx)
    data = schemas.CompletionCreate.model_validate(
        {"username": username, "course": course, "completed_on": on, "reference": reference}
    )
    with st.transaction() as c:
        done = service.record_completion(c, data)
    _show_user(
        st,
        json_out,
        done,
        f"記録しました: {done.username} {done.course}（{labels.fmt_date(done.expires_at, 'ja')}まで有効）",
        f"recorded: {done.username} {done.course} (valid until {labels.fmt_date(done.expires_at, 'en')})",
    )


def _print_status(st: CliState, s: schemas.TrainingStatus) -> None:
    covered = st.t("対象", "covered") if s.covered else st.t("対象外", "not covered")
    enforced = st.t("必須化: オン", "policy: on") if s.enforced else st.t("必須化: オフ", "policy: off")
    head = st.t("研修・誓約", "training and pledge")
    verdict = st.t("有効", "current") if s.current else st.t("要対応", "action needed")
    console.print(f"{head}: {s.username} — {verdict}（{covered}・{enforced}）", markup=False)
    table = Table(
        st.t("コード", "code"),
        st.t("研修名", "title"),
        st.t("必須", "required"),
        st.t("状態", "state"),
        st.t("有効期限", "expires"),
    )
    for c in s.courses:
        table.add_row(
            c.code,
            c.title,
            _yesno(st, c.required),
            _state(st, c.state),
            labels.fmt_date(c.expires_at, st.lang) if c.expires_at else "—",
        )
    console.print(table)
    if s.pledge_version is None:
        console.print(st.t("誓約書: 未公開", "pledge: none published"))
    elif s.pledge_signed:
        console.print(
            st.t(f"誓約書: 第{s.pledge_version}版に署名済み", f"pledge: version {s.pledge_version} signed")
        )
    else:
        console.print(
            st.t(
                f"誓約書: 第{s.pledge_version}版に未署名（mamori staff pledge sign で署名）",
                f"pledge: version {s.pledge_version} not signed (sign with mamori staff pledge sign)",
            )
        )


@training_app.command("status")
@cli_command
def training_status(
    ctx: typer.Context,
    username: str | None = typer.Argument(None, help="担当者（省略時は自分）"),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """研修と誓約の状況（自分の分は誰でも、他人の分は管理者・個人情報保護管理者） / training status."""
    st = state(ctx)
    with st.transaction() as c:
        result = service.status_of(c, username)
    if json_out:
        print_json(result)
        return
    _print_status(st, result)


@training_app.command("me")
@cli_command
def training_me(ctx: typer.Context, json_out: bool = typer.Option(False, "--json")) -> None:
    """自分の研修と誓約の状況 / my own training status."""
    st = state(ctx)
    with st.transaction() as c:
        result = service.status_of(c, None)
    if json_out:
        print_json(result)
        return
    _print_status(st, result)


@training_app.command("overdue")
@cli_command
def training_overdue(ctx: typer.Context, json_out: bool = typer.Option(False, "--json")) -> None:
    """未受講・期限切れ・誓約未提出の担当者（必須化の対象の役割） / staff who are not current."""
    st = state(ctx)
    with st.transaction() as c:
        items = service.overdue(c)
    if json_out:
        print_json(items)
        return
    if not items:
        console.print(st.t("全員が有効です。", "everyone is current."))
        return
    table = Table(
        _h(st, "staff_field.username"),
        _h(st, "staff_field.role"),
        st.t("研修", "training"),
        st.t("誓約書", "pledge"),
    )
    for item in items:
        table.add_row(
            item.username,
            labels.value("role", item.role.value, st.lang, staff=True),
            ", ".join(f"{code}: {_state(st, s)}" for code, s in item.courses.items()) or "—",
            st.t("未署名", "not signed") if item.pledge_missing else st.t("署名済み", "signed"),
        )
    console.print(table)


@training_app.command("policy")
@cli_command
def training_policy(
    ctx: typer.Context,
    enforce: bool | None = typer.Option(
        None, "--enforce/--no-enforce", help="個人データの取扱いに研修と誓約を必須にする / しない"
    ),
    roles: str | None = typer.Option(
        None, "--roles", help="対象の役割（カンマ区切り: sales,support,analyst,privacy_officer,outsourcee）"
    ),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """研修必須化の設定を表示・変更する（管理者・個人情報保護管理者） / show or change the training policy."""
    st = state(ctx)
    with st.transaction() as c:
        if enforce is None and roles is None:
            result = service.policy(c)
        else:
            current = service.policy(c)
            wanted = (
                [r.strip() for r in roles.split(",") if r.strip()] if roles is not None else current.roles
            )
            update = schemas.TrainingPolicyUpdate.model_validate(
                {"enforced": current.enforced if enforce is None else enforce, "roles": wanted}
            )
            result = service.set_policy(c, update.enforced, update.roles)
    if json_out:
        print_json(result)
        return
    on = st.t("オン", "on") if result.enforced else st.t("オフ", "off")
    names = ", ".join(labels.value("role", r.value, st.lang, staff=True) for r in result.roles) or "—"
    console.print(st.t(f"研修必須化: {on}（対象: {names}）", f"training policy: {on} (roles: {names})"))


@pledge_app.command("publish")
@cli_command
def pledge_publish(
    ctx: typer.Context,
    title: str = typer.Option(..., "--title", help="表題（例: 秘密保持誓約書）"),
    body_file: typer.FileText = typer.Option(..., "--body-file", help="本文のファイル（UTF-8）"),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """誓約書の新しい版を公開する（全員が署名し直す） / publish a new pledge version (everyone signs again)."""
    st = state(ctx)
    data = schemas.PledgePublish(title=title, body=body_file.read(schemas.MAX_PLEDGE_BODY + 1))
    with st.transaction() as c:
        version = service.publish_pledge(c, data)
    if json_out:
        print_json(version)
        return
    console.print(
        st.t(
            f"第{version.version}版を公開しました（SHA-256 {version.sha256[:16]}…）。全員の署名が必要です。",
            f"published version {version.version} (SHA-256 {version.sha256[:16]}…); everyone must sign it.",
        ),
        markup=False,
    )


@pledge_app.command("sign")
@cli_command
def pledge_sign(
    ctx: typer.Context,
    username: str | None = typer.Argument(None, help="書面で署名した担当者（担当者が記録）。省略時は自分"),
    version: int | None = typer.Option(None, "--version", help="読んだ版（最新でなければ拒否）"),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """最新の誓約書に署名する（自分、または書面の署名を担当者が記録） / sign the latest pledge."""
    st = state(ctx)
    data = schemas.PledgeSign(username=username, version=version)
    with st.transaction() as c:
        if username is None and version is None and not json_out:
            latest = service.latest_pledge(c)
            if latest is not None:
                console.print(f"{latest.title}（第{latest.version}版）\n\n{latest.body}\n", markup=False)
        signed = service.sign_pledge(c, data)
    _show_user(
        st,
        json_out,
        signed,
        f"署名しました: {signed.username}（第{signed.version}版）",
        f"signed: {signed.username} (version {signed.version})",
    )


@pledge_app.command("list")
@cli_command
def pledge_list(ctx: typer.Context, json_out: bool = typer.Option(False, "--json")) -> None:
    """誓約書の版と署名者数 / pledge versions and how many signed each."""
    st = state(ctx)
    with st.transaction() as c:
        versions = service.list_pledges(c)
    if json_out:
        print_json(versions)
        return
    table = Table(
        st.t("版", "version"),
        st.t("表題", "title"),
        st.t("公開日", "published"),
        st.t("署名者数", "signed"),
        "SHA-256",
    )
    for v in versions:
        table.add_row(
            str(v.version),
            v.title,
            labels.fmt_date(v.published_at, st.lang),
            str(v.signed),
            v.sha256[:16] + "…",
        )
    console.print(table)
