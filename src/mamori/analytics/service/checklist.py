"""Seed 002's practical checklist (プラクティカルチェックリスト) evaluated from the system's own state (issue 24,
item 5). Each question gets a status and the evidence behind it — figures and where they come from:

- ``ok`` — the state the software can see answers the question;
- ``attention`` — something to look at (a changed purpose not yet published, an account without a second factor,
  a backup older than a week …);
- ``ng`` — a duty visibly not met (no purpose published, an overdue outsourcee audit, an overdue request, the
  audit log failing verification …);
- ``manual`` — the software cannot know (incident drills are not recorded anywhere); the evidence says what it
  does know and what a person must check.

The questions (seed 002, in its order; the encryption / backup / log question is split in three, and retention —
the 廃棄 end of seed 002's data flow — is added):

1. ``purposes_published`` 利用目的の一覧を作成・公表しているか — the purpose registry and the published notice.
2. ``data_map`` データフローと保管場所を可視化しているか — the inventory's storage locations and data dictionary.
3. ``least_privilege`` アクセス権限は最小権限になっているか — the grant table, accounts per role, second factors,
   training and pledges.
4. ``encryption`` / 5. ``backups`` / 6. ``audit_logs`` 暗号化、バックアップ、ログ取得を実装しているか.
7. ``outsourcee_oversight`` 外部委託先に対する契約と監査を定期実施しているか.
8. ``requests_and_consent`` 同意管理とユーザー対応（開示・訂正・削除）プロセスは整備されているか.
9. ``incident_response`` インシデント対応計画と定期演習を行っているか.
10. ``retention`` 保存期間を定め、不要になったデータを廃棄しているか.

Some evidence comes from services that authorise their own action (the training overview, the inventory's record
of processing, the retention plan): they are called only when the actor holds that action (asked without an audit
entry); otherwise the evidence says it was not checked. Those services audit their own reads. Counts, dates and
codes only. Audited ``analytics.checklist`` with the count per status. Authorisation: ``analytics.governance``
(privacy officer, administrator).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from mamori.analytics import queries
from mamori.analytics.kpi_schemas import ChecklistItem, ChecklistReport, CheckStatus, Finding
from mamori.analytics.permissions import ANALYTICS_GOVERNANCE
from mamori.inventory import service as inventory_service
from mamori.inventory.permissions import INVENTORY_READ
from mamori.kernel.audit.chain import parse_at
from mamori.kernel.auditing import authorise, record_info
from mamori.kernel.backup.verify import verify_audit
from mamori.kernel.clock import today_jst
from mamori.kernel.context import Context, Role
from mamori.kernel.errors import MamoriError
from mamori.kernel.labels import fmt_date, fmt_datetime
from mamori.kernel.policy import Action, Resource, decide, grant_table, registered_actions
from mamori.lifecycle.permissions import RETENTION_MANAGE
from mamori.lifecycle.service import retention as retention_service
from mamori.notice import service as notice_service
from mamori.processors.service import overdue as processors_overdue
from mamori.purposes import service as purposes_service
from mamori.staff.permissions import STAFF_MANAGE, STAFF_TRAINING
from mamori.staff.service import training as training_service
from mamori.staff.service.common import mfa_required

A_CHECKLIST = "analytics.checklist"
RESOURCE = Resource(kind="analytics_governance")
BACKUP_MAX_AGE_DAYS = 7  # as `mamori doctor --max-backup-age` by default
FULL_VERIFY_MAX_ENTRIES = 100_000  # ~3 s at ~30,000 entries/s; above this: `mamori audit verify` (not here)
AUDIT_PLAN_DAYS = 365  # an active outsourcee contract should have an audit performed or planned within a year


def _f(ja: str, en: str) -> Finding:
    return Finding(ja=ja, en=en)


def _may(ctx: Context, action: Action, kind: str) -> bool:
    """Whether the actor holds ``action`` (asked without an audit entry: the service called audits its own)."""
    return decide(ctx, action, Resource(kind=kind)).allowed


def _not_checked(what_ja: str, what_en: str) -> Finding:
    return _f(
        f"{what_ja}は、その権限がないため確認していません。",
        f"{what_en} not checked: the actor lacks the permission.",
    )


def _item(
    item_id: str, question: tuple[str, str], status: CheckStatus, evidence: list[Finding], rules: list[str]
) -> ChecklistItem:
    return ChecklistItem(
        id=item_id,
        question_ja=question[0],
        question_en=question[1],
        status=status,
        evidence=evidence,
        rule_ids=rules,
    )


# -- 1. purposes ----------------------------------------------------------------------------------------------------


def _purposes(ctx: Context) -> ChecklistItem:
    question = (
        "利用目的の一覧を作成・公表しているか。",
        "Is the list of purposes of use drawn up and published?",
    )
    rules = ["R-17-1", "R-21-1", "R-32-1"]
    live = purposes_service.list_purposes(ctx, include_retired=False)
    published = notice_service.current(ctx)
    evidence = [
        _f(
            f"登録簿の利用目的 {len(live)} 件（うち分析・プロファイリングを含む目的 {sum(p.profiling for p in live)} 件）。",
            f"{len(live)} purposes in force in the registry ({sum(p.profiling for p in live)} of them include "
            "analysis / profiling).",
        )
    ]
    if not live:
        evidence.append(
            _f("利用目的が登録されていません（mamori purposes add）。", "No purpose is registered.")
        )
        return _item("purposes_published", question, "ng", evidence, rules)
    if published is None:
        evidence.append(
            _f(
                "公表事項（個人情報の取扱いについて）がまだ公表されていません（mamori notice publish）。",
                "The notice has never been published (mamori notice publish).",
            )
        )
        return _item("purposes_published", question, "ng", evidence, rules)
    evidence.append(
        _f(
            f"公表中の最新版 v{published.version}（{fmt_date(published.published_at)} 公表）。",
            f"The notice in force: v{published.version} (published {fmt_date(published.published_at, 'en')}).",
        )
    )
    draft, placeholders = notice_service.build(ctx)
    now_section = next((s for s in draft.sections if s.id == "purposes"), None)
    shown = next((s for s in published.content.sections if s.id == "purposes"), None)
    status: CheckStatus = "ok"
    if now_section != shown:
        status = "attention"
        evidence.append(
            _f(
                "公表版の利用目的の記載が現在の登録簿と異なります（mamori notice draft で差分を確認して公表）。",
                "The published purposes differ from the registry now (review mamori notice draft, then publish).",
            )
        )
    else:
        evidence.append(
            _f(
                "公表版の利用目的の記載は現在の登録簿と一致しています。",
                "The published purposes match the registry.",
            )
        )
    if placeholders:
        status = "attention"
        evidence.append(
            _f(
                f"公表事項に未設定の項目が {len(placeholders)} 件あります（{', '.join(p.setting for p in placeholders)}）。",
                f"{len(placeholders)} settings of the notice are not set "
                f"({', '.join(p.setting for p in placeholders)}).",
            )
        )
    return _item("purposes_published", question, status, evidence, rules)


# -- 2. the data map ---------------------------------------------------------------------------------------------


def _data_map(ctx: Context) -> ChecklistItem:
    question = (
        "データフローと保管場所を可視化しているか。",
        "Are the data flows and the places data is stored made visible?",
    )
    rules = ["R-23-2", "R-23-7", "G-30"]
    if not _may(ctx, INVENTORY_READ, "inventory"):
        return _item(
            "data_map", question, "manual", [_not_checked("保管場所の登録", "Storage locations")], rules
        )
    record = inventory_service.ropa(ctx)
    locations = {s.code for a in record.activities for s in a.storage}
    registered = int(ctx.session.execute(queries.storage_locations()).scalar_one())
    without = [a.purpose for a in record.activities if not a.storage]
    foreign = sorted({t.country for a in record.activities for t in a.transfers})
    evidence = [
        _f(
            f"登録された保管場所 {registered} 件、利用目的に対応する保管場所 {len(locations)} 件"
            "（インベントリ、mamori inventory）。",
            f"{registered} storage locations registered, {len(locations)} serving a purpose (the inventory).",
        ),
        _f(
            "データの流れ（提供先・委託先・共同利用・外国への移転）は mamori analytics datamap で表示できます。",
            "The data flows (recipients, outsourcees, joint use, transfers abroad) are shown by mamori analytics "
            "datamap.",
        ),
    ]
    if foreign:
        evidence.append(
            _f(f"外国への提供・委託: {', '.join(foreign)}。", f"Recipients abroad: {', '.join(foreign)}.")
        )
    status: CheckStatus = "ok"
    if registered == 0:
        status = "ng"
        evidence.append(
            _f(
                "保管場所が1件も登録されていません（mamori inventory location-add）。",
                "No storage location is registered.",
            )
        )
    elif without:
        status = "attention"
        evidence.append(
            _f(
                f"保管場所が未登録の利用目的: {', '.join(without)}。",
                f"Purposes with no storage location: {', '.join(without)}.",
            )
        )
    unreviewed = [n for n in record.notes if "未確認のデータ項目" in n]
    if unreviewed:
        status = "attention" if status == "ok" else status
        evidence.append(
            _f(
                "データ項目の区分（要配慮など）が未確認の項目があります（mamori inventory tag）。",
                "Some data items are not yet tagged (mamori inventory tag).",
            )
        )
    return _item("data_map", question, status, evidence, rules)


# -- 3. least privilege -----------------------------------------------------------------------------------------------


def _least_privilege(ctx: Context) -> ChecklistItem:
    question = ("アクセス権限は最小権限になっているか。", "Is access limited to least privilege?")
    rules = ["R-23-2", "R-23-3", "R-23-5"]
    accounts: Counter[str] = Counter()
    services = 0
    no_mfa: Counter[str] = Counter()
    for role, kind, active, enrolled in ctx.session.execute(queries.staff_accounts()).all():
        if not active:
            continue
        if kind == "service":
            services += 1
            continue
        accounts[role] += 1
        if mfa_required(Role(role)) and not enrolled:
            no_mfa[role] += 1
    personal = {s.action for s in registered_actions() if s.personal_data}
    table = grant_table()
    per_role = ", ".join(
        f"{r.value} {accounts.get(r.value, 0)}" for r in Role if r not in (Role.SYSTEM, Role.PERSON)
    )
    evidence = [
        _f(
            f"有効なアカウント（役割別）: {per_role}。サービスアカウント {services} 件。",
            f"Active accounts by role: {per_role}. {services} service accounts.",
        )
    ]
    grants = "; ".join(
        f"{role.value} {len(table[role])}（個人データ {len(set(table[role]) & personal)}）"
        for role in Role
        if role not in (Role.SYSTEM, Role.PERSON) and table.get(role)
    )
    evidence.append(
        _f(
            f"役割ごとの許可された操作の数: {grants}（許可のない操作はすべて拒否）。",
            f"Actions granted per role: {grants.replace('（個人データ', ' (personal data').replace('）', ')')} "
            "(everything else is denied).",
        )
    )
    status: CheckStatus = "ok"
    staff_roles = [r for r in Role if r not in (Role.SYSTEM, Role.PERSON)]
    mixed = [
        r.value for r in staff_roles if STAFF_MANAGE in table.get(r, {}) and set(table.get(r, {})) & personal
    ]
    if mixed:
        status = "ng"
        evidence.append(
            _f(
                f"アカウント管理と個人データの操作の両方を持つ役割があります: {', '.join(mixed)}。",
                f"Roles that both manage accounts and use personal data: {', '.join(mixed)}.",
            )
        )
    else:
        evidence.append(
            _f(
                "アカウントを管理する役割（管理者）は個人データを扱う操作を持ちません（職務の分離）。",
                "The role that manages accounts (admin) holds no personal-data action (separation of duties).",
            )
        )
    if no_mfa:
        status = "attention" if status == "ok" else status
        listed = ", ".join(f"{r} {n}" for r, n in sorted(no_mfa.items()))
        evidence.append(
            _f(
                f"二要素認証が必要な役割で未登録のアカウント: {listed}。",
                f"Accounts without the second factor their role requires: {listed}.",
            )
        )
    if _may(ctx, STAFF_TRAINING, "staff_training"):
        policy = training_service.policy(ctx)
        overdue = training_service.overdue(ctx)
        roles = ", ".join(r.value for r in policy.roles)
        evidence.append(
            _f(
                f"研修・誓約の要件: {'適用中' if policy.enforced else '未適用'}（対象の役割: {roles}）、"
                f"研修または誓約が切れている担当者 {len(overdue)} 人。",
                f"Training and pledge requirement: {'enforced' if policy.enforced else 'not enforced'} "
                f"(roles: {roles}); {len(overdue)} staff members with training or pledge missing.",
            )
        )
        if not policy.enforced or overdue:
            status = "attention" if status == "ok" else status
    else:
        evidence.append(_not_checked("研修・誓約の状況", "Training and pledges"))
    evidence.append(
        _f(
            "各担当者の役割がその職務に合っているかは人が確認してください。",
            "Whether each person's role fits their job is for a person to check.",
        )
    )
    return _item("least_privilege", question, status, evidence, rules)


# -- 4-6. encryption, backups, logs ---------------------------------------------------------------------------------


def _encryption(ctx: Context) -> ChecklistItem:
    question = ("暗号化を実装しているか。", "Is data encrypted?")
    rules = ["R-23-5"]
    settings = ctx.runtime.settings
    provider = "env" if settings.kek else (settings.kek_provider or "file").lower()
    evidence = [
        _f(
            "個人データは項目ごとに AES-256-GCM で、本人ごとのデータ鍵で暗号化（鍵暗号化鍵で保護、設計による）。",
            "Personal fields are encrypted with AES-256-GCM under a per-person data key wrapped by the KEK (by "
            "design).",
        )
    ]
    status: CheckStatus = "ok"
    words = {
        "env": ("環境変数", "environment variable"),
        "file": ("鍵ファイル", "key file"),
        "pkcs11": ("HSM", "HSM"),
    }
    ja, en = words.get(provider, (provider, provider))
    try:
        version = ctx.runtime.keystore.check_kek()
        stats = ctx.runtime.keystore.stats()
        evidence.append(
            _f(
                f"鍵暗号化鍵（KEK）: {ja}、版 {version}、この鍵保管庫を開けます。データ鍵 {stats['data_keys']} 個、"
                f"破棄済み {stats['destroyed_data_keys']} 個。",
                f"KEK: {en}, version {version}, opens this keystore. {stats['data_keys']} data keys, "
                f"{stats['destroyed_data_keys']} destroyed.",
            )
        )
    except MamoriError as exc:
        status = "ng"
        evidence.append(
            _f(f"KEK が使えません: {exc.message_ja}", f"The KEK cannot be used: {exc.message_en}")
        )
    if provider == "file" and not settings.kek:
        if settings.resolved_key_file().is_relative_to(settings.home_path):
            status = "ng"
            evidence.append(
                _f(
                    "KEK ファイルがデータと同じ MAMORI_HOME の中にあります。",
                    "The KEK file is inside MAMORI_HOME.",
                )
            )
        else:
            evidence.append(
                _f("KEK ファイルは MAMORI_HOME の外にあります。", "The KEK file is outside MAMORI_HOME.")
            )
    if settings.keystore_url and settings.keystore_url == settings.database_url:
        status = "ng"
        evidence.append(
            _f(
                "鍵保管庫がデータストアと同じデータベースです。",
                "The keystore is in the data store's database.",
            )
        )
    else:
        evidence.append(
            _f(
                "鍵保管庫はデータストアとは別に保管されています。",
                "The keystore is kept apart from the data.",
            )
        )
    evidence.append(
        _f(
            "通信の暗号化（TLS）は前段のプロキシの設定によるため、ここでは確認できません（人が確認）。",
            "Encryption in transit (TLS) is set up in the proxy in front and cannot be seen here (a person checks).",
        )
    )
    return _item("encryption", question, status, evidence, rules)


def _backups(ctx: Context) -> ChecklistItem:
    question = ("バックアップを取得しているか。", "Are backups taken?")
    rules = ["R-23-5"]
    with ctx.runtime.audit_engine.connect() as conn:
        raw = conn.execute(queries.newest_audit_entry("store.backup")).scalar()
    if raw is None:
        return _item(
            "backups",
            question,
            "attention",
            [
                _f(
                    "mamori backup によるバックアップの記録が監査ログにありません。別の方法で取得している場合は人が確認して"
                    "ください。",
                    "The audit log records no mamori backup. If backups are taken another way, a person checks them.",
                )
            ],
            rules,
        )
    at = parse_at(str(raw))
    age = (ctx.clock.now() - at).total_seconds() / 86400
    evidence = [
        _f(
            f"最新のバックアップ: {fmt_datetime(at)}（{age:.1f} 日前、監査ログの store.backup）。",
            f"The newest backup: {fmt_datetime(at, 'en')} ({age:.1f} days ago, store.backup in the audit log).",
        ),
        _f(
            "バックアップからの復元手順と訓練は人が確認してください（docs/backup.md）。",
            "Restore procedures and drills are for a person to check (docs/backup.md).",
        ),
    ]
    status: CheckStatus = "ok"
    if age > BACKUP_MAX_AGE_DAYS:
        status = "attention"
        evidence.insert(
            1,
            _f(
                f"最新のバックアップが {BACKUP_MAX_AGE_DAYS} 日より古くなっています。",
                f"The newest backup is older than {BACKUP_MAX_AGE_DAYS} days.",
            ),
        )
    return _item("backups", question, status, evidence, rules)


def _audit_logs(ctx: Context) -> ChecklistItem:
    question = ("ログ（アクセス記録）を取得しているか。", "Are handling logs kept?")
    rules = ["R-23-2"]
    with ctx.runtime.audit_engine.connect() as conn:
        size = int(conn.execute(queries.audit_size()).scalar() or 0)
    evidence = [
        _f(
            f"閲覧・更新・拒否をすべて改ざん検知付きの監査ログに記録（{size:,} 件）。",
            f"Every read, write and refusal goes to the tamper-evident audit log ({size:,} entries).",
        )
    ]
    if size > FULL_VERIFY_MAX_ENTRIES:
        with ctx.runtime.audit_engine.connect() as conn:
            last = conn.execute(queries.newest_audit_entry("audit.verify")).scalar()
        evidence.append(
            _f(
                f"{FULL_VERIFY_MAX_ENTRIES:,} 件を超えるためここでは検証していません（mamori audit verify）。"
                + (f"最後の検証（Web）: {fmt_datetime(parse_at(str(last)))}。" if last else ""),
                f"More than {FULL_VERIFY_MAX_ENTRIES:,} entries: not verified here (mamori audit verify)."
                + (f" Last verified (web): {fmt_datetime(parse_at(str(last)), 'en')}." if last else ""),
            )
        )
        return _item("audit_logs", question, "manual", evidence, rules)
    report = verify_audit(ctx.runtime, drain=False)
    if report.ok:
        evidence.append(
            _f(
                f"監査ログを検証しました: {report.entries:,} 件、チェックポイント {report.checkpoints} 件が一致。",
                f"The audit log verifies: {report.entries:,} entries, {report.checkpoints} checkpoints match.",
            )
        )
        return _item("audit_logs", question, "ok", evidence, rules)
    evidence.append(
        _f(
            f"監査ログの検証に失敗: {report.message_ja}（seq {report.first_bad_seq}）。",
            f"The audit log does not verify: {report.message_en} (seq {report.first_bad_seq}).",
        )
    )
    return _item("audit_logs", question, "ng", evidence, rules)


# -- 7. outsourcees -------------------------------------------------------------------------------------------------


def _outsourcees(ctx: Context) -> ChecklistItem:
    question = (
        "外部委託先に対する契約と監査を定期実施しているか。",
        "Are outsourcees under contract and audited regularly?",
    )
    rules = ["R-25-1", "R-28-3"]
    today = today_jst(ctx.clock)
    contracts = list(ctx.session.execute(queries.contract_states()).all())
    by_status = Counter(str(status) for _cid, status, _s, _e in contracts)
    running = {cid for cid, status, _s, _e in contracts if status in ("active", "suspended")}
    evidence = [
        _f(
            "委託契約: "
            + (", ".join(f"{s} {n}" for s, n in sorted(by_status.items())) or "なし")
            + "（processors）。",
            "Outsourcing contracts: "
            + (", ".join(f"{s} {n}" for s, n in sorted(by_status.items())) or "none")
            + ".",
        )
    ]
    if not contracts:
        evidence.append(_f("委託先はありません（監督の対象なし）。", "No outsourcee: nothing to supervise."))
        return _item("outsourcee_oversight", question, "ok", evidence, rules)
    found = processors_overdue.overdue(ctx)
    audits = list(ctx.session.execute(queries.processor_audits()).all())
    overdue = sum(
        1
        for _id, cid, status, due_on, done, _r, _rem in audits
        if done is None and due_on < today and status != "ended"
    )
    failed = sum(1 for *_x, result, remedied in audits if result == "failed" and remedied is None)
    planned: set[str] = set()
    for _id, cid, _status, due_on, done, _r, _rem in audits:
        if (done is None and due_on >= today) or (
            done is not None and (today - done).days <= AUDIT_PLAN_DAYS
        ):
            planned.add(cid)
    unplanned = sorted(running - planned)
    evidence.append(
        _f(
            f"期限を過ぎた未実施の監査 {overdue} 件（契約 {len(found['contracts'])} 件）、改善されていない不合格の監査 "
            f"{failed} 件、基準適合体制の年次確認切れの提供先 {len(found['counterparties'])} 件。",
            f"{overdue} audits past due and not performed ({len(found['contracts'])} contracts), {failed} failed "
            f"audits not remedied, {len(found['counterparties'])} counterparties past their yearly review.",
        )
    )
    status: CheckStatus = "ok"
    if overdue or found["counterparties"]:
        status = "ng"
    elif unplanned or failed:
        status = "attention"
    if unplanned:
        evidence.append(
            _f(
                f"過去{AUDIT_PLAN_DAYS}日に監査の実施も今後の予定もない有効な契約 {len(unplanned)} 件。",
                f"{len(unplanned)} running contracts with no audit performed in {AUDIT_PLAN_DAYS} days and none "
                "planned.",
            )
        )
    return _item("outsourcee_oversight", question, status, evidence, rules)


# -- 8. requests and consent --------------------------------------------------------------------------------------


def _requests(ctx: Context) -> ChecklistItem:
    question = (
        "同意管理とユーザー対応（開示・訂正・削除）プロセスは整備されているか。",
        "Are consent management and the handling of requests (disclosure, correction, deletion) in place?",
    )
    rules = ["R-33-1", "R-34-1", "R-35-1", "R-39-1", "R-CNS-1"]
    today = today_jst(ctx.clock)
    rows = list(ctx.session.execute(queries.open_requests()).all())
    overdue = sum(
        1 for _id, due, extended, answered in rows if answered is None and (extended or due) < today
    )
    evidence = [
        _f(
            "本人からの請求は受付（プライバシーセンター /privacy、mamori rights）から本人確認・期限管理・回答まで"
            "システムで扱います。同意は追記のみの台帳に記録し、撤回は次の利用から効きます。",
            "Requests are taken (the privacy center /privacy, mamori rights), verified, timed and answered in the "
            "system; consent lives in an append-only ledger and a withdrawal takes effect at the next use.",
        ),
        _f(
            f"未完了の請求 {len(rows)} 件（うち回答期限を過ぎた未回答 {overdue} 件）。",
            f"{len(rows)} requests open ({overdue} unanswered past their due date).",
        ),
    ]
    return _item("requests_and_consent", question, "ng" if overdue else "ok", evidence, rules)


# -- 9. incidents ---------------------------------------------------------------------------------------------------


def _incidents(ctx: Context) -> ChecklistItem:
    question = (
        "インシデント対応計画と定期演習を行っているか。",
        "Is there an incident response plan, and is it drilled regularly?",
    )
    rules = ["R-26-1", "R-26-2", "R-26-7"]
    counts = {str(s): int(n) for s, n in ctx.session.execute(queries.incident_counts()).all()}
    evidence = [
        _f(
            "漏えい等事案の台帳・範囲の特定・報告期限・本人通知・封じ込めの手順はシステムにあります（mamori incidents）。",
            "The incident register, scope, report deadlines, notices and containment are in the system "
            "(mamori incidents).",
        ),
        _f(
            f"台帳の事案: 対応中 {counts.get('open', 0)} 件、終了 {counts.get('closed', 0)} 件。",
            f"Incidents in the register: {counts.get('open', 0)} open, {counts.get('closed', 0)} closed.",
        ),
        _f(
            "対応計画の文書と定期演習（訓練）の実施はシステムに記録されないため、人が確認してください。",
            "The written plan and the drills are not recorded in the system: a person checks them.",
        ),
    ]
    return _item("incident_response", question, "manual", evidence, rules)


# -- 10. retention --------------------------------------------------------------------------------------------------


def _retention(ctx: Context) -> ChecklistItem:
    question = (
        "保存期間を定め、不要になったデータを廃棄しているか。",
        "Are retention periods set, and is data no longer needed disposed of?",
    )
    rules = ["R-22-1"]
    rules_count = int(ctx.session.execute(queries.retention_rules()).scalar_one())
    last = ctx.session.execute(queries.last_disposal()).scalar()
    evidence = [
        _f(
            f"有効な保存期間のルール {rules_count} 件、最後の廃棄 {fmt_date(last) if last else 'なし'}（mamori retention）。",
            f"{rules_count} retention rules in force; last disposal "
            f"{fmt_date(last, 'en') if last else 'never'} (mamori retention).",
        )
    ]
    if rules_count == 0:
        evidence.append(
            _f("保存期間のルールがありません（mamori retention rule-add）。", "No retention rule is set.")
        )
        return _item("retention", question, "ng", evidence, rules)
    if not _may(ctx, RETENTION_MANAGE, "retention_plan"):
        evidence.append(_not_checked("廃棄計画", "The disposal plan"))
        return _item("retention", question, "manual", evidence, rules)
    plan = retention_service.plan(ctx)
    evidence.append(
        _f(
            f"廃棄計画: 今廃棄の対象 {plan.due} 人（項目のみ {plan.category_due} 人）、保全中 "
            f"{sum(h.persons for h in plan.held)} 人、どのルールにも当たらない {plan.uncovered} 人。",
            f"Disposal plan: {plan.due} people due now ({plan.category_due} for a category only), "
            f"{sum(h.persons for h in plan.held)} held, {plan.uncovered} covered by no rule.",
        )
    )
    status: CheckStatus = "attention" if plan.due or plan.category_due or plan.uncovered else "ok"
    return _item("retention", question, status, evidence, rules)


# -- the report -----------------------------------------------------------------------------------------------------

CHECKS: tuple[Callable[[Context], ChecklistItem], ...] = (
    _purposes,
    _data_map,
    _least_privilege,
    _encryption,
    _backups,
    _audit_logs,
    _outsourcees,
    _requests,
    _incidents,
    _retention,
)


def checklist(ctx: Context) -> ChecklistReport:
    """Seed 002's practical checklist from the system's state (``analytics.governance``); audited with the count
    of answers per status."""
    authorise(ctx, ANALYTICS_GOVERNANCE, RESOURCE)
    items = [check(ctx) for check in CHECKS]
    counts = {s: sum(1 for i in items if i.status == s) for s in ("ok", "attention", "ng", "manual")}
    record_info(ctx, A_CHECKLIST, details={**counts, "items": len(items)})
    return ChecklistReport(generated_at=ctx.clock.now(), items=items, counts=counts)
