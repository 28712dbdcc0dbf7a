"""`mamori` — composition of every slice's Typer commands, plus init / demo / audit / keys."""

from __future__ import annotations

import functools
import importlib
import json
import os
import sys
import types
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import typer
from typer.core import TyperCommand, TyperGroup

from mamori import __version__
from mamori import composition as bootstrap
from mamori.cli import session as session_cli
from mamori.cli import worker as worker_cli
from mamori.kernel import labels
from mamori.kernel.cli_support import CliState, cli_command, console, err_console, lazy, print_json, state
from mamori.kernel.errors import IntegrityFailure

# Imported by the commands that use them, not at start-up (issue 16; see kernel/cli_support.py).
if TYPE_CHECKING:
    from typer import _click as click

    from mamori.kernel import audit, auditing, policy
    from mamori.kernel.settings import Settings
else:
    audit = lazy("mamori.kernel.audit")
    auditing = lazy("mamori.kernel.auditing")
    policy = lazy("mamori.kernel.policy")

# Start-up (issue 23 item 5): a command group's module is imported when that group runs, not when `mamori` starts.
# `--help` lists each deferred entry from the name and help written here (tests/cli/test_startup.py checks they match
# the real ones); running it imports the module and hands the arguments to the real command.
# (name, "module:attribute", kind): kind "group" = a Typer sub-app, "command" = a function, "register" = a
# function that adds commands to an app (the entry is the one of that name it adds).
_DEFERRED: tuple[tuple[str, str, str, str], ...] = (
    (
        "provide",
        "mamori.provision.cli:provide",
        "command",
        "第三者に提供する（本人ごとに根拠を確認し、記録を作成） / provide data to a counterparty.",
    ),
    (
        "backup",
        "mamori.cli.backup:backup",
        "command",
        "データと監査ログのオンライン・バックアップ（管理者） / online backup of the data store and audit log (admin).",
    ),
    (
        "restore",
        "mamori.cli.backup:restore",
        "command",
        "バックアップを戻し、以後の鍵破棄をすべて再適用（管理者・サーバー停止中） / restore a backup and re-apply\n"
        "every key destruction since (admin, server stopped).",
    ),
    (
        "doctor",
        "mamori.cli.doctor:doctor",
        "command",
        "設置の点検（データストア・鍵・監査アンカー・バックアップ・設定）。異常があれば終了コード 1\n"
        "/ check the store, keys, audit anchor, backups and settings; exit code 1 on any failure.",
    ),
    ("staff", "mamori.staff.cli:app", "group", "担当者（スタッフ）と役割 / staff users and roles"),
    ("purposes", "mamori.purposes.cli:app", "group", "利用目的の登録簿 / the purpose registry (R-17-1)"),
    ("customers", "mamori.customers.cli:app", "group", "顧客 / customers"),
    (
        "consent",
        "mamori.consent.cli:app",
        "group",
        "同意・同意の撤回と連絡停止 / consent ledger and do-not-contact",
    ),
    (
        "contact",
        "mamori.contact.cli:app",
        "group",
        "連絡：架電・送付リスト、連絡前の確認、メール配信、着信対応 / contact: lists, checks, campaigns, inbound",
    ),
    (
        "provision",
        "mamori.provision.cli:app",
        "group",
        "第三者提供・共同利用・外国にある第三者への提供 / third-party provision, joint use, provision abroad",
    ),
    (
        "processors",
        "mamori.processors.cli:app",
        "group",
        "委託先の管理 / outsourcees, contracts, audits, scoped access",
    ),
    ("rights", "mamori.rights.cli:app", "group", "本人からの請求 / requests from the person"),
    (
        "inventory",
        "mamori.inventory.cli:app",
        "group",
        "個人データの所在・データ項目・処理活動の記録 / where data is kept, data items, the ROPA (G-30)",
    ),
    (
        "notice",
        "mamori.notice.cli:app",
        "group",
        "公表事項（個人情報の取扱いについて） / the published notice (R-32-1)",
    ),
    (
        "handover",
        "mamori.lifecycle.cli:register",
        "register",
        "退職・異動する担当者の顧客の引継ぎ / hand a departing rep's customers over",
    ),
    (
        "retention",
        "mamori.lifecycle.cli:register",
        "register",
        "保存期間と廃棄（R-22-1）：ルール、廃棄計画、廃棄の実行と記録、保全 / retention and disposal",
    ),
    (
        "quality",
        "mamori.lifecycle.cli:register",
        "register",
        "データ品質（正確性の確保、R-22-1） / data quality (accuracy, R-22-1)",
    ),
    (
        "incidents",
        "mamori.incidents.cli:register",
        "register",
        "漏えい等事案（登録・範囲・分類・期限・報告・本人通知・封じ込め） / leak incidents",
    ),
    (
        "mail",
        "mamori.cli.mail:app",
        "group",
        "メール送信キュー（管理者・個人情報保護管理者） / the e-mail queue (admin, privacy officer)",
    ),
    (
        "text",
        "mamori.composition:mount_deid",
        "register",
        "自由記述テキストの個人情報の検出と墨消し / detect and redact personal information in free text",
    ),
    (
        "deid",
        "mamori.composition:mount_deid",
        "register",
        "仮名加工情報・匿名加工情報の作成と再識別リスク評価 (tabular)",
    ),
    (
        "analytics",
        "mamori.analytics.cli:app",
        "group",
        "顧客分析（利用目的の範囲内）・KPI・チェックリスト・データマップ / customer analytics within purpose",
    ),
    (
        "monitoring",
        "mamori.monitoring.cli:app",
        "group",
        "監査ログの監視・アラート・アクセス権の定期見直し・月次報告 / monitoring, alerts, access reviews",
    ),
    (
        "kpi",
        "mamori.analytics.cli.kpi:kpi",
        "command",
        "KPI（CAC・LTV・リピート率・離反率・データ品質と、プライバシーの指標） / the KPI dashboard.",
    ),
)
# The order of `mamori --help` (as before the groups were deferred).
_ORDER = (
    "version",
    "init",
    "demo",
    "serve",
    "login",
    "logout",
    "provide",
    "backup",
    "restore",
    "doctor",
    "worker",
    "staff",
    "purposes",
    "customers",
    "consent",
    "contact",
    "provision",
    "processors",
    "rights",
    "inventory",
    "notice",
    "handover",
    "retention",
    "quality",
    "incidents",
    "audit",
    "mail",
    "jobs",
    "keys",
    "text",
    "deid",
    "analytics",
    "kpi",
    "monitoring",
)


@functools.cache
def _loaded(target: str, kind: str) -> TyperGroup:
    """The real commands behind a deferred entry: the target mounted on a scratch Typer app, as a click group."""
    module_name, attr = target.split(":")
    obj = getattr(importlib.import_module(module_name), attr)
    scratch = typer.Typer()
    if kind == "group":
        scratch.add_typer(obj, name=target)  # looked up by the entry's name below
    elif kind == "command":
        scratch.command()(obj)
    else:
        obj(scratch)
    return typer.main.get_group(scratch)


def load(name: str) -> click.Command:
    """The real command of the deferred entry ``name`` (its module imported now)."""
    _, target, kind, _ = next(e for e in _DEFERRED if e[0] == name)
    commands: dict[str, click.Command] = dict(_loaded(target, kind).commands)
    if kind == "group":
        return commands[target]
    if kind == "command":
        return next(iter(commands.values()))
    return commands[name]


class _Deferred(TyperCommand):
    """Stands for a command group in `mamori --help`; running it runs the real one (imported then)."""

    def make_context(
        self, info_name: str | None, args: list[str], parent: click.Context | None = None, **extra: Any
    ) -> click.Context:
        return load(self.name or "").make_context(info_name, args, parent=parent, **extra)


class _Root(TyperGroup):
    """The `mamori` group: the commands defined here plus the deferred entries, in the order of `_ORDER`."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        commands = dict(self.commands)
        for name, _, _, help_text in _DEFERRED:
            commands.setdefault(name, _Deferred(name=name, help=help_text))
        rank = {name: i for i, name in enumerate(_ORDER)}
        self.commands = dict(sorted(commands.items(), key=lambda item: rank.get(item[0], len(rank))))


def load_all() -> list[click.Command]:
    """Every deferred command, imported (for the tests that look at every CLI module)."""
    return [load(name) for name, _, _, _ in _DEFERRED]


app = typer.Typer(
    cls=_Root,
    name="mamori",
    help="守り mamori — 個人情報保護法（APPI）と GDPR を仕組みで守る顧客データ基盤 / a customer data system that enforces the APPI and GDPR",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
audit_app = typer.Typer(
    help="監査ログ（改ざん検知付き） / the tamper-evident audit log", no_args_is_help=True
)
keys_app = typer.Typer(help="鍵管理 / key management", no_args_is_help=True)


@app.callback()
def root(
    ctx: typer.Context,
    as_user: str | None = typer.Option(None, "--as", envvar="MAMORI_AS", help="操作する担当者のユーザー名"),
    lang: str = typer.Option("ja", "--lang", envvar="MAMORI_LANG", help="ja / en"),
) -> None:
    st = CliState(
        as_user=as_user,
        lang="en" if lang == "en" else "ja",
        resolve_actor=bootstrap.resolve_actor,
        prepare=bootstrap.register_all,  # the slices are registered when a command opens the runtime
    )
    ctx.obj = st
    ctx.call_on_close(lambda: _close_runtime(st))


def _close_runtime(st: CliState) -> None:
    """At exit: close the runtime if the command opened one (it anchors the audit entries this process wrote)."""
    if st._runtime is not None:
        st._runtime.close()


@app.command("version")
def version() -> None:
    """バージョン / version."""
    console.print(f"mamori {__version__}")


@app.command("init")
@cli_command
def init(ctx: typer.Context, json_out: bool = typer.Option(False, "--json")) -> None:
    """データ保管場所・鍵保管庫・監査ログを初期化（何度実行しても安全） / initialise the stores (idempotent)."""
    st = state(ctx)
    rt = st.runtime
    rt.init()
    admin_created = bootstrap.ensure_admin(rt)
    info = {
        "home": str(rt.settings.home_path),
        "database": rt.data_engine.url.render_as_string(hide_password=True),
        "keystore": rt.keystore_engine.url.render_as_string(hide_password=True),
        "audit": rt.audit_engine.url.render_as_string(hide_password=True),
        "store_id": rt.settings.store_id(),
        "kek": _kek_label(rt.settings),
        "admin_created": admin_created,
    }
    if json_out:
        print_json(info)
        return
    console.print(st.t("初期化しました。", "initialised."))
    for k, v in info.items():
        if k != "admin_created":
            console.print(f"  {labels.label(f'init_field.{k}', st.lang, default=k)}: {v}", markup=False)
    if admin_created:
        console.print(
            st.t(
                "  管理者ユーザー admin を作成しました（--as admin）。",
                "  created the admin user (--as admin).",
            )
        )


def _kek_label(settings: Settings) -> str:
    if settings.kek:
        return "env:MAMORI_KEK"
    if settings.kek_provider.lower() == "pkcs11":
        return f"pkcs11:{settings.pkcs11_token_label}/{settings.pkcs11_key_label}"
    return str(settings.resolved_key_file())


@app.command("demo")
@cli_command
def demo(
    ctx: typer.Context,
    customers: int = typer.Option(200, "--customers", min=1, max=1_000_000),
    seed: int = typer.Option(20261123, help="乱数の種（同じ種で同じデータ）"),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """架空の日本人顧客・スタッフ・利用目的・同意を生成（実在の人物ではありません） / synthetic demo data."""
    from mamori.cli import demo as demo_mod

    st = state(ctx)
    rt = st.runtime
    rt.init()
    bootstrap.ensure_admin(rt)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn  # only for this command

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=err_console, disable=json_out, transient=True) as progress:
        task = progress.add_task(st.t("デモデータ生成中", "generating demo data"), total=customers)
        result = demo_mod.generate(
            rt, customers=customers, seed=seed, progress=lambda n: progress.update(task, completed=n)
        )
    if json_out:
        print_json(result)
        return
    console.print(
        st.t(
            f"架空の顧客 {result['customers']}人、対応履歴 {result['activities']}件を作成しました。",
            f"created {result['customers']} synthetic customers and {result['activities']} activities.",
        )
    )
    console.print(
        st.t(
            f"デモ用ログイン（パスワードと二要素認証（TOTP）の鍵）: {result['logins_file']}",
            f"demo logins (passwords and TOTP secrets): {result['logins_file']}",
        )
    )
    from rich.table import Table

    table = Table(
        labels.label("demo_field.user", st.lang),
        labels.label("staff_field.role", st.lang),
        labels.label("demo_field.try", st.lang),
    )
    for u in result["staff"]:  # type: ignore[attr-defined]
        table.add_row(u["username"], labels.value("role", u["role"], st.lang, staff=True), u["hint"])
    console.print(table)


@audit_app.command("verify")
@cli_command
def verify(ctx: typer.Context, json_out: bool = typer.Option(False, "--json")) -> None:
    """監査ログの全エントリーを再計算して検証 / recompute every link and checkpoint."""
    st = state(ctx)
    rt = st.runtime
    rt.drain_outbox()
    report = audit.verify(
        rt.audit_engine,
        rt.audit.public_key_bytes(),
        rt.anchor_path,
        mac_key=rt.keystore.system_key("audit_mac"),
    )
    if json_out:
        print_json(report)
    elif report.ok:
        console.print(
            st.t(
                f"検証 OK: {report.entries}件、チェックポイント {report.checkpoints}件",
                f"verified: {report.entries} entries, {report.checkpoints} checkpoints",
            )
        )
    if not report.ok:
        msg = report.message_en if st.lang == "en" else report.message_ja
        if not json_out:
            err_console.print(
                st.t("エラー", "error") + f" (audit_{report.problem}): {msg} [seq {report.first_bad_seq}]",
                markup=False,
            )
        raise typer.Exit(IntegrityFailure.exit_code)


@audit_app.command("checkpoint")
@cli_command
def checkpoint(ctx: typer.Context, json_out: bool = typer.Option(False, "--json")) -> None:
    """今すぐ署名付きチェックポイントを作り、アンカー行を表示（個人情報保護管理者・立会人へメールで送る控え）
    / sign a checkpoint now and print its anchor line (send it to the privacy officer or a witness)."""
    st = state(ctx)
    rt = st.runtime
    rt.drain_outbox()
    made = rt.audit.checkpoint()
    line = made.anchor_line()
    if json_out:
        print_json(json.loads(line))
        return
    console.print(
        st.t(
            f"チェックポイント: {made.tree_size} 件（アンカー: {rt.anchor_path}）。次の 1 行を保管・送付してください:",
            f"checkpoint at {made.tree_size} entries (anchor: {rt.anchor_path}). Keep or send this line:",
        ),
        markup=False,
    )
    console.print(line, markup=False, highlight=False, soft_wrap=True)


@audit_app.command("tail")
@cli_command
def tail(
    ctx: typer.Context,
    n: int = typer.Option(20, "-n", min=1, max=10000),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """最新の監査エントリー（個人情報保護管理者） / newest audit entries (privacy officer)."""
    st = state(ctx)
    with st.transaction() as c:
        entries = auditing.tail(c, n)
    if json_out:
        print_json(entries)
        return
    from rich.table import Table

    table = Table(
        *(
            labels.label(f"audit_field.{k}", st.lang)
            for k in ("seq", "at", "actor", "action", "purpose", "decision", "subjects", "fields", "rules")
        )
    )
    for e in entries:
        subjects = list(e.subject_ids)
        table.add_row(
            str(e.seq),
            labels.fmt_datetime(e.at, st.lang, seconds=True),
            e.actor,
            e.action,
            e.purpose or "",
            labels.value("audit_decision", e.decision, st.lang),
            (subjects[0][:8] + (f" +{len(subjects) - 1}" if len(subjects) > 1 else "")) if subjects else "",
            _audit_fields(st, e.fields),
            ",".join(e.rule_ids),
        )
    console.print(table)


def _audit_fields(st: CliState, fields: object) -> str:
    """The items an audit entry names, in words where the dictionary has them (「氏名、住所」); at most 40 chars."""
    words = []
    for f in fields or ():  # type: ignore[attr-defined]
        f = str(f)
        word = next(
            (
                labels.label(key, st.lang)
                for key in (f"field.{f}", f"customer_field.{f}", f"audit_item.{f}")
                if labels.has(key)
            ),
            f,
        )
        words.append(word)
    text = (", " if st.lang == "en" else "、").join(words)
    return text if len(text) <= 40 else text[:39] + "…"


@keys_app.command("rotate")
@cli_command
def rotate(
    ctx: typer.Context,
    drop_unreadable: bool = typer.Option(
        False,
        "--drop-unreadable",
        help="どの KEK でも開けないデータ鍵を破棄済みとして記録し、更新を完了する / record data keys no KEK "
        "opens as destroyed so the rotation completes",
    ),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """鍵暗号化鍵（KEK）を更新し、全データ鍵を再ラップ / rotate the KEK and rewrap every data key."""
    st = state(ctx)
    rt = st.runtime
    with st.transaction() as c:
        auditing.authorise(c, policy.Action.KEYS_ROTATE, policy.Resource(kind="keys"))
    add_version = getattr(rt.kek, "add_version", None)
    if add_version is not None:
        add_version()
    elif not json_out:
        err_console.print(
            st.t(
                "環境変数の KEK を使用中: MAMORI_KEK の先頭に新しい版を置いてから実行してください。",
                "KEK from the environment: put the new version first in MAMORI_KEK, then run this.",
            )
        )
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn  # only for this command

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=err_console, disable=json_out, transient=True) as progress:
        task = progress.add_task(st.t("再ラップ中", "rewrapping"), total=None)
        report = rt.keystore.rotate(
            progress=lambda done, total: progress.update(task, completed=done, total=total),
            drop_unreadable=drop_unreadable,
        )
    with st.transaction() as c:
        auditing.record_info(
            c,
            "keys.rotate",
            details={
                "rewrapped": report.rewrapped,
                "to_version": report.to_version,
                "unreadable": report.unreadable,
                "dropped": report.dropped,
                "remaining_on_old": report.remaining_on_old,
            },
        )
    if json_out:
        print_json(report)
    else:
        console.print(
            st.t(
                f"KEK 版 {report.to_version} に {report.rewrapped} 個の鍵を再ラップしました（旧版に残る鍵: {report.remaining_on_old}）。",
                f"rewrapped {report.rewrapped} keys to KEK version {report.to_version} ({report.remaining_on_old} left on old versions).",
            )
        )
        if report.unreadable and not report.dropped:
            err_console.print(
                st.t(
                    f"どの KEK でも開けない鍵が {report.unreadable} 個あります。旧版は残しました。"
                    "失われた鍵として記録して完了するには --drop-unreadable を付けて再実行してください。",
                    f"{report.unreadable} key(s) open under no KEK version; the old versions were kept. "
                    "Run again with --drop-unreadable to record them as lost and complete the rotation.",
                )
            )


@keys_app.command("status")
@cli_command
def key_status(ctx: typer.Context, json_out: bool = typer.Option(False, "--json")) -> None:
    """鍵保管庫の状態（版ごとの鍵数） / keystore statistics."""
    st = state(ctx)
    stats = st.runtime.keystore.stats()
    if json_out:
        print_json(stats)
    else:
        for k, v in stats.items():
            console.print(f"{labels.label(f'key_stat.{k}', st.lang, default=k)}: {_stat(v)}", markup=False)


def _stat(value: object) -> str:
    """A keystore statistic: lists as 「1, 2」, counts per KEK version as 「v1: 11」."""
    if isinstance(value, dict):
        return ", ".join(f"v{k}: {v}" for k, v in value.items()) or "—"
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value) or "—"
    return str(value)


@app.command("serve")
@cli_command
def serve(
    ctx: typer.Context,
    host: str = typer.Option("127.0.0.1", help="既定はループバックのみ / loopback by default"),
    port: int = typer.Option(8000, min=1, max=65535),
    workers: int = typer.Option(1, min=1, max=16),
) -> None:
    """REST API と /docs を起動 / serve the REST API (uvicorn)."""
    import uvicorn

    st = state(ctx)
    st.runtime.init()
    console.print(
        st.t(
            f"http://{host}:{port}/ をブラウザで開いてください（API 仕様は /docs、Ctrl-C で停止）",
            f"open http://{host}:{port}/ in a browser (the API reference is at /docs; Ctrl-C to stop)",
        )
    )
    settings = st.runtime.settings
    trusted = forwarded_allow_ips(settings.forwarded_allow_ips)
    uvicorn.run(
        "mamori.api.app:serve_app",  # configures the JSON/text logs in each worker, then create_app
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=_uvicorn_level(settings.log_level),
        log_config=None,  # the app's logging (MAMORI_LOG_FORMAT), not uvicorn's formatters
        access_log=False,  # uvicorn's line has the raw path and query; the app logs the route template
        # X-Forwarded-For / -Proto are believed only from the proxies in MAMORI_FORWARDED_ALLOW_IPS (issue 17):
        # none by default, so a client cannot pick the address the per-IP limits count it under.
        proxy_headers=bool(trusted),
        forwarded_allow_ips=trusted or "",
        server_header=False,
    )


def _uvicorn_level(value: str) -> str:
    """``MAMORI_LOG_LEVEL`` for uvicorn (an unknown level is ``info``; `mamori doctor` reports it)."""
    level = value.strip().lower()
    return level if level in ("critical", "error", "warning", "info", "debug") else "info"


def forwarded_allow_ips(value: str) -> str:
    """``MAMORI_FORWARDED_ALLOW_IPS`` as uvicorn takes it (comma-separated addresses or networks, ``*`` = any
    client; empty = none), spaces removed."""
    return ",".join(part.strip() for part in value.split(",") if part.strip())


session_cli.register(app)  # mamori login / logout (production mode: the CLI signs in like the API)
app.add_typer(audit_app, name="audit")
worker_cli.register(app)  # mamori worker / mamori jobs: the scheduled work (issue 21)
app.add_typer(keys_app, name="keys")
# the slices' groups, provide, backup, restore, doctor, mail, text and deid: _DEFERRED above


class _ProxyClass(type):
    """Metaclass of a stand-in class: attributes are read from the real class (imported on first use)."""

    _real: Callable[[], type]

    def __getattr__(cls, attr: str) -> Any:
        return getattr(cls._real(), attr)


def _stand_in(module_name: str, class_name: str) -> types.ModuleType:
    """A module ``module_name`` whose ``class_name`` is a stand-in: creating one (or reading anything else from the
    module) imports the real module, which then replaces the stand-in in ``sys.modules``."""

    def real_module() -> types.ModuleType:
        if isinstance(sys.modules.get(module_name), _StandInModule):
            del sys.modules[module_name]
        module = importlib.import_module(module_name)
        setattr(sys.modules[module_name.rpartition(".")[0]], module_name.rpartition(".")[2], module)
        return module

    class _StandInModule(types.ModuleType):
        def __getattr__(self, attr: str) -> Any:
            if attr.startswith("__"):
                raise AttributeError(attr)
            return getattr(real_module(), attr)

    def new(cls: type, *args: Any, **kwargs: Any) -> Any:
        return getattr(real_module(), class_name)(*args, **kwargs)

    stand_in = _ProxyClass(class_name, (), {"__new__": new})
    stand_in._real = lambda: getattr(real_module(), class_name)
    module = _StandInModule(module_name)
    setattr(module, class_name, stand_in)
    return module


def _defer_help_extras() -> None:
    """Typer's help renderer imports ``rich.markdown`` (for markup_mode="markdown", which mamori does not use) and
    ``rich.traceback`` (for pretty exceptions, disabled here) at its top: ~70 ms of `mamori --help`. Both are
    stood in for until something really uses them (issue 23 item 5)."""
    for module_name, class_name in (("rich.markdown", "Markdown"), ("rich.traceback", "Traceback")):
        if module_name not in sys.modules:
            sys.modules[module_name] = _stand_in(module_name, class_name)


def main() -> None:
    """The ``mamori`` entry point: usage errors as one line in the chosen language (exit code 2), not click's
    English panel; ``--help`` stays as Typer renders it."""
    from mamori.kernel.cli_support import run_app

    os.environ.setdefault("PYTHONIOENCODING", "utf-8")
    _defer_help_extras()
    raise SystemExit(run_app(app))


if __name__ == "__main__":
    main()
