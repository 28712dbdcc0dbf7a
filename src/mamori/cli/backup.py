"""`mamori backup` / `mamori restore` — backups that cannot resurrect anyone (docs/backup.md)."""

from __future__ import annotations

import gc
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from mamori.kernel import labels
from mamori.kernel.cli_support import cli_command, console, err_console, lazy, print_json, state
from mamori.kernel.errors import IntegrityFailure

# Imported by the commands that use them, not at start-up (issue 16; see kernel/cli_support.py).
if TYPE_CHECKING:
    from rich.progress import Progress

    from mamori.kernel import auditing, context, policy
    from mamori.kernel import backup as backups
    from mamori.kernel import settings as kernel_settings
    from mamori.kernel.context import Actor
else:
    auditing = lazy("mamori.kernel.auditing")
    backups = lazy("mamori.kernel.backup")
    context = lazy("mamori.kernel.context")
    policy = lazy("mamori.kernel.policy")
    kernel_settings = lazy("mamori.kernel.settings")

_JA = {"kept": "現行を維持", "restored": "バックアップから復元", "current": "現行"}


def _progress(json_out: bool) -> Progress:
    """The progress bar on stderr (none with --json); rich.progress is imported by the command only."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    return Progress(*columns, console=err_console, disable=json_out, transient=True)


def _when(value: object, lang: str) -> str:
    """An ISO timestamp from the backup manifest in JST with the zone (as it is when it does not parse)."""
    if not isinstance(value, str):
        return "—"
    try:
        return labels.fmt_datetime(datetime.fromisoformat(value), lang)
    except ValueError:
        return value


@cli_command
def backup(
    ctx: typer.Context,
    out_dir: Path = typer.Argument(
        ..., help="新しい空のディレクトリ（MAMORI_HOME の外） / a new, empty directory"
    ),
    with_keystore: bool = typer.Option(
        False,
        "--with-keystore",
        help="鍵保管庫も keystore/ に複製（データと別に保管） / also copy the keystore into keystore/ (keep apart)",
    ),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """データと監査ログのオンライン・バックアップ（管理者） / online backup of the data store and audit log (admin)."""
    st = state(ctx)
    rt = st.runtime
    with st.transaction() as c:
        auditing.authorise(c, policy.Action.BACKUP, policy.Resource(kind="store"))
        auditing.record_info(c, "store.backup", details={"with_keystore": with_keystore})
    with _progress(json_out) as progress:
        task = progress.add_task(st.t("バックアップ中", "backing up"), total=None)
        report = backups.backup(
            rt,
            out_dir,
            with_keystore=with_keystore,
            progress=lambda label, done, total: progress.update(
                task, description=label, completed=done, total=total
            ),
        )
    if with_keystore:
        err_console.print(
            st.t("警告: ", "warning: ") + st.t(backups.KEYSTORE_WARNING_JA, backups.KEYSTORE_WARNING_EN),
            markup=False,
        )
    if json_out:
        print_json(report)
        return
    console.print(
        st.t(
            f"バックアップしました: {report.out_dir}（{len(report.files)} ファイル、{report.tables} テーブル、"
            f"監査ログ {report.audit_entries}件、{report.seconds:.2f}秒）",
            f"backed up to {report.out_dir} ({len(report.files)} files, {report.tables} tables, "
            f"{report.audit_entries} audit entries, {report.seconds:.2f} s)",
        ),
        markup=False,
    )


@cli_command
def restore(
    ctx: typer.Context,
    backup_dir: Path = typer.Argument(
        ..., help="mamori backup が作ったディレクトリ / a directory made by mamori backup"
    ),
    with_keystore: bool = typer.Option(
        False,
        "--with-keystore",
        help="鍵保管庫もバックアップから戻す（鍵ディレクトリを失ったとき） / also restore the keystore backup",
    ),
    accept_audit_loss: bool = typer.Option(
        False,
        "--accept-audit-loss",
        help="現在の監査ログを失ったときのみ: バックアップ以後の監査エントリーの喪失を認める / only when the current "
        "audit log is lost: accept losing the entries after the backup",
    ),
    yes: bool = typer.Option(False, "--yes", "-y", help="確認しない / do not ask"),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """バックアップを戻し、以後の鍵破棄をすべて再適用（管理者・サーバー停止中） / restore a backup and re-apply
    every key destruction since (admin, server stopped)."""
    st = state(ctx)
    st.register_slices()  # the erasures since the backup are re-applied through the slices' data sources
    settings = kernel_settings.get_settings()
    actor: Actor = context.SYSTEM_ACTOR
    if backups.data_store_present(settings):
        # A store exists: only its administrator may replace it. (A lost or new MAMORI_HOME has no staff to ask;
        # there the KEK, needed to check the manifest and read anything, is the credential.)
        with st.transaction() as c:
            auditing.authorise(c, policy.Action.RESTORE, policy.Resource(kind="store"))
            actor = c.actor
        st.runtime.close()
        st._runtime = None
    gc.collect()  # no forgotten connection of this process may stay on a file that is about to be replaced
    plan = backups.check(
        settings, backup_dir, with_keystore=with_keystore, accept_audit_loss=accept_audit_loss
    )
    for warning in plan.warnings:
        err_console.print(st.t("警告: ", "warning: ") + warning, markup=False)
    if not yes:
        typer.confirm(
            st.t(
                f"現在のストアをバックアップ（{_when(plan.doc.get('created_at'), 'ja')}）で置き換えます。続けますか？",
                f"replace the current store with the backup of {_when(plan.doc.get('created_at'), 'en')}?",
            ),
            abort=True,
            err=True,
        )
    with _progress(json_out) as progress:
        task = progress.add_task(st.t("復元中", "restoring"), total=None)
        report = backups.restore(
            plan,
            actor=actor,
            progress=lambda label, done, total: progress.update(
                task, description=label, completed=done, total=total
            ),
        )
    if json_out:
        print_json(report)
    else:
        d = report.destructions
        console.print(
            st.t(
                f"復元しました: {', '.join(report.restored_files)}（監査ログ: {_JA[report.audit]}、"
                f"鍵保管庫: {_JA[report.keystore]}）",
                f"restored {', '.join(report.restored_files)} (audit log: {report.audit}, keystore: {report.keystore})",
            ),
            markup=False,
        )
        console.print(
            st.t(
                f"整合性: {'OK' if report.integrity_ok else 'NG'}、テーブル一致: {'OK' if report.tables_match else 'NG'}",
                f"integrity: {'ok' if report.integrity_ok else 'FAILED'}, tables match: "
                f"{'yes' if report.tables_match else 'NO'}",
            ),
            markup=False,
        )
        console.print(
            st.t(
                f"鍵破棄の再適用: 既知 {d['known_destroyed']}件、鍵削除 {d['keys_deleted']}件、"
                f"残存データ消去 {d['subjects_reerased']}人",
                f"destructions re-applied: {d['known_destroyed']} known, {d['keys_deleted']} keys deleted, "
                f"residue erased for {d['subjects_reerased']} people",
            ),
            markup=False,
        )
        console.print(
            st.t(
                f"監査ログ検証: {'OK' if report.verify['ok'] else 'NG'}（{report.verify['entries']}件）、"
                f"復元時間（RTO）: {report.rto_seconds:.2f}秒",
                f"audit verify: {'ok' if report.verify['ok'] else 'FAILED'} ({report.verify['entries']} entries), "
                f"restore time (RTO): {report.rto_seconds:.2f} s",
            ),
            markup=False,
        )
    if report.audit_entries_lost:
        err_console.print(
            st.t(
                f"警告: 監査ログのエントリー {report.audit_entries_lost}件が失われました（アンカーの退避先: "
                f"{report.anchor_archived}）。",
                f"warning: {report.audit_entries_lost} audit entries were lost (anchor archived as "
                f"{report.anchor_archived}).",
            ),
            markup=False,
        )
    if not report.verify["ok"] or not report.integrity_ok or not report.tables_match:
        if not report.verify["ok"]:
            msg = report.verify["message_en"] if st.lang == "en" else report.verify["message_ja"]
            err_console.print(
                st.t("エラー", "error") + f" (audit_{report.verify['problem']}): {msg}",
                markup=False,
            )
        else:
            err_console.print(
                st.t(
                    "エラー (restore_mismatch): 復元したストアが一致しません",
                    "error (restore_mismatch): the restored store does not match the manifest",
                ),
                markup=False,
            )
        raise typer.Exit(IntegrityFailure.exit_code)
