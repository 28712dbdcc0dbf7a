"""`mamori doctor` — is this installation fit to run? One line per check (OK / 警告 / 異常), exit code 1 on any
failure (issue 17).

Checks, in order (each says what is wrong, never a secret or a URL with its password):

- ``settings.production`` / ``settings.forwarded`` / ``settings.demo_logins`` / ``settings.logs`` / ``settings.limits``:
  the mode, proxies trusted for X-Forwarded-For (``*`` is a failure in production), the demo logins file (a
  failure in production), the log format and level, the request limits.
- ``keys.dir``: the store's key directory exists, is the owner's only (no group/other permission) and lies
  outside ``MAMORI_HOME``.
- ``keys.kek``: the KEK is there (a key file: the owner's only) and opens this keystore.
- ``store.data``: the data store answers and is migrated to the head; SQLite: the file is the owner's only and
  the connection pragmas are in force (WAL, synchronous=FULL, foreign keys, secure_delete); PostgreSQL: the
  application role is not a superuser and cannot bypass row-level security.
- ``store.keystore`` / ``store.audit``: the keystore and the audit log answer and have their tables.
- ``audit.anchor``: the anchor file outside ``MAMORI_HOME`` exists and the whole audit log verifies against it
  (the chain head matches the anchored checkpoints).
- ``backups``: the newest backup (``--backup-dir``: the directory or its subdirectories holding a
  ``manifest.json``; else the newest ``store.backup`` entry of the audit log) is younger than
  ``--max-backup-age`` days; none found is a warning.

Nothing is changed: the key directory and the SQLite files are inspected before anything opens them (opening a
store would set their modes).
"""

from __future__ import annotations

import json
import os
import stat
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from mamori.kernel.cli_support import cli_command, console, print_json, state

if TYPE_CHECKING:
    from collections.abc import Callable

    from sqlalchemy.engine import Engine

    from mamori.kernel.settings import Settings

OK, WARN, FAIL = "ok", "warn", "fail"
_STATUS = {"ja": {OK: "OK  ", WARN: "警告", FAIL: "異常"}, "en": {OK: "OK  ", WARN: "WARN", FAIL: "FAIL"}}
_NAMES = {
    "settings.production": ("本番モード", "production mode"),
    "settings.forwarded": ("転送ヘッダー", "forwarded headers"),
    "settings.demo_logins": ("デモ用ログイン", "demo logins"),
    "settings.logs": ("ログ", "logs"),
    "settings.limits": ("リクエスト上限", "request limits"),
    "mail.backend": ("メール送信", "e-mail delivery"),
    "keys.dir": ("鍵ディレクトリ", "key directory"),
    "keys.kek": ("鍵暗号化鍵（KEK）", "key-encryption key"),
    "store.data": ("データストア", "data store"),
    "store.keystore": ("鍵保管庫", "keystore"),
    "store.audit": ("監査ログ", "audit store"),
    "audit.anchor": ("監査アンカー", "audit anchor"),
    "backups": ("バックアップ", "backups"),
}
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


@dataclass(frozen=True)
class Check:
    check: str
    status: str
    message_ja: str
    message_en: str

    def message(self, lang: str) -> str:
        return self.message_en if lang == "en" else self.message_ja


def _ok(check: str, ja: str, en: str) -> Check:
    return Check(check, OK, ja, en)


def _warn(check: str, ja: str, en: str) -> Check:
    return Check(check, WARN, ja, en)


def _fail(check: str, ja: str, en: str) -> Check:
    return Check(check, FAIL, ja, en)


# -- settings -------------------------------------------------------------------------------------------------


def check_settings(settings: Settings) -> list[Check]:
    prod = settings.production
    out = [
        _ok("settings.production", "本番モード（MAMORI_PRODUCTION）", "production mode (MAMORI_PRODUCTION)")
        if prod
        else _ok(
            "settings.production",
            "デモ・開発モード（本番では MAMORI_PRODUCTION=1）",
            "demo / development mode (set MAMORI_PRODUCTION=1 in production)",
        )
    ]
    proxies = [p.strip() for p in settings.forwarded_allow_ips.split(",") if p.strip()]
    if "*" in proxies:
        make = _fail if prod else _warn
        out.append(
            make(
                "settings.forwarded",
                "MAMORI_FORWARDED_ALLOW_IPS が * です: どのクライアントも X-Forwarded-For で接続元を偽れます"
                "（プロキシのアドレスだけを指定してください）。",
                "MAMORI_FORWARDED_ALLOW_IPS is *: any client can fake its address with X-Forwarded-For "
                "(list only the proxies' addresses).",
            )
        )
    elif proxies:
        out.append(
            _ok(
                "settings.forwarded",
                f"X-Forwarded-For を信頼するプロキシ: {', '.join(proxies)}",
                f"X-Forwarded-For trusted from: {', '.join(proxies)}",
            )
        )
    else:
        out.append(
            _ok(
                "settings.forwarded",
                "X-Forwarded-For は信頼しません（プロキシ未設定）",
                "X-Forwarded-For is not trusted (no proxy configured)",
            )
        )
    demo = settings.home_path / "demo-logins.txt"
    if demo.exists() and prod:
        out.append(
            _fail(
                "settings.demo_logins",
                f"本番モードでデモ用ログインのファイル {demo} があります。デモ用アカウントを無効にし、ファイルを削除してください。",
                f"the demo logins file {demo} exists in production mode: disable the demo accounts and delete it.",
            )
        )
    elif demo.exists():
        out.append(
            _warn(
                "settings.demo_logins",
                f"デモ用ログインのファイル {demo} があります（デモ用。本番では削除）。",
                f"the demo logins file {demo} exists (demo only; delete it in production).",
            )
        )
    else:
        out.append(_ok("settings.demo_logins", "デモ用ログインのファイルなし", "no demo logins file"))
    fmt = settings.log_format.strip().lower()
    level = settings.log_level.strip().upper()
    if fmt not in ("json", "text"):
        out.append(
            _fail(
                "settings.logs",
                "MAMORI_LOG_FORMAT は json か text です。",
                "MAMORI_LOG_FORMAT must be json or text.",
            )
        )
    elif level not in LOG_LEVELS:
        out.append(
            _fail(
                "settings.logs",
                f"MAMORI_LOG_LEVEL は {' / '.join(LOG_LEVELS)} のいずれかです。",
                f"MAMORI_LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}.",
            )
        )
    elif fmt == "text" and prod:
        out.append(
            _warn(
                "settings.logs",
                "本番モードでログが text 形式です（集約には MAMORI_LOG_FORMAT=json）。",
                "text logs in production mode (use MAMORI_LOG_FORMAT=json for log collection).",
            )
        )
    elif level == "DEBUG" and prod:
        out.append(
            _warn("settings.logs", "本番モードでログが DEBUG です。", "DEBUG logging in production mode.")
        )
    else:
        out.append(_ok("settings.logs", f"ログ {fmt}、{level}", f"logs {fmt}, {level}"))
    if settings.max_upload_bytes < settings.max_request_bytes:
        out.append(
            _warn(
                "settings.limits",
                "MAMORI_MAX_UPLOAD_BYTES が MAMORI_MAX_REQUEST_BYTES より小さくなっています。",
                "MAMORI_MAX_UPLOAD_BYTES is smaller than MAMORI_MAX_REQUEST_BYTES.",
            )
        )
    else:
        out.append(
            _ok(
                "settings.limits",
                f"本文 {settings.max_request_bytes} バイト、アップロード {settings.max_upload_bytes} バイト、"
                f"項目 {settings.max_form_fields}",
                f"body {settings.max_request_bytes} bytes, uploads {settings.max_upload_bytes} bytes, "
                f"{settings.max_form_fields} fields",
            )
        )
    return out


# -- keys -----------------------------------------------------------------------------------------------------


def _loose(path: Path) -> bool:
    """Readable, writable or searchable by group or others."""
    return bool(stat.S_IMODE(path.stat().st_mode) & 0o077)


def check_key_dir(settings: Settings) -> Check:
    key_dir = settings.resolved_key_dir()
    home = settings.home_path
    if key_dir == home or key_dir.is_relative_to(home):
        return _fail(
            "keys.dir",
            f"鍵ディレクトリ {key_dir} が MAMORI_HOME の中にあります（外に置いてください、ADR 0007）。",
            f"the key directory {key_dir} is inside MAMORI_HOME (move it out; ADR 0007).",
        )
    if not key_dir.is_dir():
        return _fail(
            "keys.dir", f"鍵ディレクトリ {key_dir} がありません。", f"the key directory {key_dir} is missing."
        )
    mode = stat.S_IMODE(key_dir.stat().st_mode)
    if mode & 0o077:
        return _fail(
            "keys.dir",
            f"鍵ディレクトリ {key_dir} の権限が {mode:o} です（所有者のみ 700 にしてください）。",
            f"the key directory {key_dir} has mode {mode:o} (make it 700, the owner's only).",
        )
    if hasattr(os, "getuid") and key_dir.stat().st_uid != os.getuid():
        return _fail(
            "keys.dir",
            f"鍵ディレクトリ {key_dir} の所有者が実行ユーザーではありません。",
            f"the key directory {key_dir} is not owned by the user running mamori.",
        )
    return _ok("keys.dir", f"{key_dir}（700、MAMORI_HOME の外）", f"{key_dir} (700, outside MAMORI_HOME)")


def check_kek(settings: Settings, keystore: Any) -> Check:
    from mamori.kernel.errors import MamoriError

    provider = "env" if settings.kek else (settings.kek_provider or "file").lower()
    if provider == "file":
        path = settings.resolved_key_file()
        if not path.exists():
            return _fail(
                "keys.kek", f"KEK ファイル {path} がありません。", f"the KEK file {path} is missing."
            )
        if _loose(path):
            mode = stat.S_IMODE(path.stat().st_mode)
            return _fail(
                "keys.kek",
                f"KEK ファイル {path} の権限が {mode:o} です（600 にしてください）。",
                f"the KEK file {path} has mode {mode:o} (make it 600).",
            )
        if path.is_relative_to(settings.home_path):
            return _fail(
                "keys.kek",
                f"KEK ファイル {path} が MAMORI_HOME の中にあります。",
                f"the KEK file {path} is inside MAMORI_HOME.",
            )
    try:
        version = keystore.check_kek()
    except MamoriError as exc:
        return _fail(
            "keys.kek", f"KEK が使えません: {exc.message_ja}", f"the KEK cannot be used: {exc.message_en}"
        )
    except Exception as exc:
        return _fail(
            "keys.kek",
            f"KEK を確認できません（{type(exc).__name__}）。",
            f"the KEK could not be checked ({type(exc).__name__}).",
        )
    return _ok(
        "keys.kek",
        f"{provider}、版 {version}、この鍵保管庫を開けます",
        f"{provider}, version {version}, opens this keystore",
    )


# -- stores ---------------------------------------------------------------------------------------------------


def _sqlite_path(engine: Engine) -> Path | None:
    if engine.dialect.name != "sqlite":
        return None
    db = engine.url.database or ""
    return Path(db) if db and db != ":memory:" else None


_PRAGMAS = {"journal_mode": "wal", "synchronous": "2", "foreign_keys": "1", "secure_delete": "1"}


def check_data_store(settings: Settings, engine: Engine) -> Check:
    from sqlalchemy import text

    from mamori.kernel import observability

    state = observability.data_store_state(engine)
    if state.problem == "unreachable":
        return _fail("store.data", "データストアに接続できません。", "the data store is unreachable.")
    heads = ", ".join(observability.migration_heads())
    if state.problem == "not_migrated":
        current = ", ".join(observability.current_revisions(engine)) or "—"
        return _fail(
            "store.data",
            f"マイグレーションが最新ではありません（現在 {current}、最新 {heads}）。mamori init を実行してください。",
            f"migrations are not at head (at {current}, head {heads}); run mamori init.",
        )
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            wrong = [
                name
                for name, want in _PRAGMAS.items()
                if str(conn.exec_driver_sql(f"PRAGMA {name}").scalar()).lower() != want
            ]
            if wrong:
                return _fail(
                    "store.data",
                    f"SQLite の設定が想定と違います: {', '.join(wrong)}",
                    f"SQLite pragmas not in force: {', '.join(wrong)}",
                )
            return _ok(
                "store.data",
                f"SQLite、マイグレーション最新（{heads}）、WAL・synchronous=FULL・外部キー・secure_delete",
                f"SQLite, migrated to head ({heads}), WAL, synchronous=FULL, foreign keys, secure_delete",
            )
        row = conn.execute(
            text("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
        ).first()
    superuser, bypass = (bool(row[0]), bool(row[1])) if row else (False, False)
    if superuser or bypass:
        what_ja = "スーパーユーザー" if superuser else "RLS を迂回できる（BYPASSRLS）"
        what_en = "a superuser" if superuser else "able to bypass row-level security (BYPASSRLS)"
        make = _fail if settings.production else _warn
        return make(
            "store.data",
            f"アプリケーションのロールが{what_ja}です（所有者ではない専用ロールで接続してください）。",
            f"the application role is {what_en} (connect as a dedicated non-owner role).",
        )
    return _ok(
        "store.data",
        f"PostgreSQL、マイグレーション最新（{heads}）、ロールは一般ユーザー",
        f"PostgreSQL, migrated to head ({heads}), an ordinary role",
    )


def check_tables(check: str, part: str, engine: Engine, tables: tuple[str, ...]) -> Check:
    from mamori.kernel import observability

    state = observability.tables_state(part, engine, tables)
    ja, en = _NAMES[check]
    if state.problem == "unreachable":
        return _fail(check, f"{ja}に接続できません。", f"the {en} is unreachable.")
    if state.problem:
        return _fail(
            check, f"{ja}のテーブルがありません（mamori init）。", f"the {en} has no schema (mamori init)."
        )
    return _ok(check, "接続可、スキーマあり", "reachable, schema present")


def check_sqlite_file(check: str, engine: Engine) -> Check | None:
    """A SQLite store's file must exist (it is never created here) and be the owner's only."""
    path = _sqlite_path(engine)
    if path is None:
        return None
    if not path.exists():
        return _fail(check, f"{path} がありません（mamori init）。", f"{path} is missing (mamori init).")
    if _loose(path):
        mode = stat.S_IMODE(path.stat().st_mode)
        return _fail(
            check,
            f"{path} の権限が {mode:o} です（600 にしてください）。",
            f"{path} has mode {mode:o} (make it 600).",
        )
    return None


# -- audit anchor ---------------------------------------------------------------------------------------------


def check_anchor(settings: Settings, audit_engine: Engine, keystore: Any) -> Check:
    from mamori.kernel import audit
    from mamori.kernel.audit.entries import public_key_raw

    anchor = settings.resolved_anchor_path()
    if not anchor.exists():
        return _fail(
            "audit.anchor",
            f"監査アンカー {anchor} がありません（削除・移動されたか、チェックポイントが一度も作られていません）。",
            f"the audit anchor {anchor} is missing (deleted, moved, or no checkpoint was ever made).",
        )
    signing = audit.signing_key_from_seed(keystore.system_key("audit_signing"))
    report = audit.verify(
        audit_engine,
        public_key_raw(signing),
        anchor,
        mac_key=keystore.system_key("audit_mac"),
    )
    if not report.ok:
        return _fail(
            "audit.anchor",
            f"監査ログの検証に失敗: {report.message_ja}（mamori audit verify）",
            f"the audit log does not verify: {report.message_en} (mamori audit verify)",
        )
    return _ok(
        "audit.anchor",
        f"{anchor}、{report.entries} 件・チェックポイント {report.checkpoints} 件が一致",
        f"{anchor}, {report.entries} entries and {report.checkpoints} checkpoints match",
    )


# -- backups --------------------------------------------------------------------------------------------------


def _manifest_time(directory: Path) -> datetime | None:
    from mamori.kernel.backup import MANIFEST

    try:
        doc = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
        when = datetime.fromisoformat(str(doc["created_at"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _newest_in(backup_dir: Path) -> datetime | None:
    if not backup_dir.is_dir():
        return None
    candidates = [backup_dir, *(p for p in backup_dir.iterdir() if p.is_dir())]
    times = [t for t in map(_manifest_time, candidates) if t is not None]
    return max(times, default=None)


def _newest_in_audit(audit_engine: Engine) -> datetime | None:
    from sqlalchemy import func, select

    from mamori.kernel.audit.chain import parse_at
    from mamori.kernel.audit.models import AuditEntryRow

    with audit_engine.connect() as conn:
        value = conn.execute(
            select(func.max(AuditEntryRow.at)).where(AuditEntryRow.action == "store.backup")
        ).scalar()
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return parse_at(str(value))


def check_backups(
    backup_dirs: list[Path], audit_engine: Engine, *, max_age_days: float, now: datetime
) -> Check:
    if backup_dirs:
        missing = [d for d in backup_dirs if not d.is_dir()]
        if missing:
            return _fail(
                "backups",
                f"バックアップのディレクトリ {missing[0]} がありません。",
                f"the backup directory {missing[0]} does not exist.",
            )
        found = [t for t in map(_newest_in, backup_dirs) if t is not None]
        newest = max(found, default=None)
        source_ja, source_en = "バックアップのディレクトリ", "the backup directories"
    else:
        newest = _newest_in_audit(audit_engine)
        source_ja, source_en = "監査ログ（store.backup）", "the audit log (store.backup)"
    if newest is None:
        return _warn(
            "backups",
            f"バックアップが見つかりません（{source_ja}）。mamori backup を定期的に実行し、--backup-dir で場所を指定してください。",
            f"no backup found ({source_en}); run mamori backup regularly and give its place with --backup-dir.",
        )
    age_days = (now - newest).total_seconds() / 86400
    if age_days > max_age_days:
        return _fail(
            "backups",
            f"最新のバックアップが {age_days:.1f} 日前です（上限 {max_age_days:g} 日）。",
            f"the newest backup is {age_days:.1f} days old (limit {max_age_days:g} days).",
        )
    return _ok(
        "backups",
        f"最新のバックアップは {age_days:.1f} 日前（{source_ja}）",
        f"the newest backup is {age_days:.1f} days old ({source_en})",
    )


# -- all checks -----------------------------------------------------------------------------------------------


def run_checks(settings: Settings, *, backup_dirs: list[Path], max_backup_age_days: float) -> list[Check]:
    """Every check, in order; a check that cannot run because an earlier part is broken says so."""
    from mamori.kernel import observability
    from mamori.kernel.clock import SystemClock
    from mamori.kernel.crypto import Keystore, kek_from_settings
    from mamori.kernel.db import make_engine
    from mamori.kernel.errors import MamoriError

    checks = check_settings(settings)
    checks.append(check_mail(settings))
    try:
        settings.store_id()
    except MamoriError as exc:
        checks.append(_fail("store.data", exc.message_ja, exc.message_en))
        return checks
    checks.append(check_key_dir(settings))
    engines: list[Engine] = []
    try:
        data = make_engine(settings.resolved_database_url())
        keys = make_engine(settings.resolved_keystore_url(), setting="MAMORI_KEYSTORE_URL")
        audit_engine = make_engine(settings.resolved_audit_url(), setting="MAMORI_AUDIT_URL")
    except MamoriError as exc:
        checks.append(_fail("store.data", exc.message_ja, exc.message_en))
        return checks
    engines += [data, keys, audit_engine]
    try:
        # file modes first: opening a SQLite store sets them to 600
        file_problems = {
            "store.data": check_sqlite_file("store.data", data),
            "store.keystore": check_sqlite_file("store.keystore", keys),
            "store.audit": check_sqlite_file("store.audit", audit_engine),
        }
        store_checks: dict[str, Callable[[], Check]] = {
            "store.data": lambda: check_data_store(settings, data),
            "store.keystore": lambda: check_tables(
                "store.keystore", "keystore", keys, observability.KEYSTORE_TABLES
            ),
            "store.audit": lambda: check_tables(
                "store.audit", "audit_store", audit_engine, observability.AUDIT_TABLES
            ),
        }
        results = {name: file_problems[name] or run() for name, run in store_checks.items()}
        keystore_ok = results["store.keystore"].status == OK
        keystore = None
        if keystore_ok:
            try:
                keystore = Keystore(keys, kek_from_settings(settings), SystemClock())
            except MamoriError as exc:
                checks.append(_fail("keys.kek", exc.message_ja, exc.message_en))
        if keystore is not None:
            checks.append(check_kek(settings, keystore))
        elif keystore_ok is False:
            checks.append(_skipped("keys.kek", "store.keystore"))
        checks.extend(results.values())
        kek_ok = any(c.check == "keys.kek" and c.status == OK for c in checks)
        audit_ok = results["store.audit"].status == OK
        if keystore is not None and kek_ok and audit_ok:
            checks.append(check_anchor(settings, audit_engine, keystore))
        else:
            checks.append(_skipped("audit.anchor", "keys.kek" if not kek_ok else "store.audit"))
        if audit_ok:
            checks.append(
                check_backups(
                    backup_dirs, audit_engine, max_age_days=max_backup_age_days, now=datetime.now(UTC)
                )
            )
        else:
            checks.append(_skipped("backups", "store.audit"))
    finally:
        for engine in engines:
            engine.dispose()
    return checks


def check_mail(settings: Settings) -> Check:
    """The e-mail backend can work (docs/mail.md): the file outbox, or SMTP with a server and a sender."""
    from mamori.kernel.errors import MamoriError
    from mamori.kernel.mail import backend

    try:
        backend.check(settings)
    except MamoriError as exc:
        return _fail("mail.backend", exc.message_ja, exc.message_en)
    d = backend.describe(settings)
    where = f"{d['backend']}" + (
        f" {d.get('host')}:{d.get('port')} ({d.get('security')})" if d.get("host") else ""
    )
    return _ok("mail.backend", f"メールの送信: {where}", f"E-mail delivery: {where}")


def _skipped(check: str, because: str) -> Check:
    ja, en = _NAMES[because]
    return _fail(check, f"{ja}が使えないため確認できません。", f"not checked: the {en} is not usable.")


def render_line(c: Check, lang: str) -> str:
    name = _NAMES[c.check][1 if lang == "en" else 0]
    return f"{_STATUS[lang][c.status]}  {name}: {c.message(lang)}"


@cli_command
def doctor(
    ctx: typer.Context,
    backup_dir: list[Path] = typer.Option(
        [],
        "--backup-dir",
        help="バックアップを置くディレクトリ（その中の manifest.json を探す、複数可） / where backups are kept",
    ),
    max_backup_age: float = typer.Option(
        7.0,
        "--max-backup-age",
        min=0.0,
        help="最新のバックアップの許容日数 / days the newest backup may be old",
    ),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """設置の点検（データストア・鍵・監査アンカー・バックアップ・設定）。異常があれば終了コード 1
    / check the store, keys, audit anchor, backups and settings; exit code 1 on any failure."""
    from mamori.kernel.settings import get_settings

    st = state(ctx)
    checks = run_checks(get_settings(), backup_dirs=backup_dir, max_backup_age_days=max_backup_age)
    failed = any(c.status == FAIL for c in checks)
    if json_out:
        print_json(
            {
                "ok": not failed,
                "checks": [
                    {**asdict(c), "name": _NAMES[c.check][1], "message": c.message(st.lang)} for c in checks
                ],
            }
        )
    else:
        for c in checks:
            console.print(render_line(c, st.lang), markup=False, highlight=False, soft_wrap=True)
    if failed:
        raise typer.Exit(1)
