"""The record of processing activities (G-30) and the list of foreign countries (R-23-7, R-32-1), generated from
the registries — purposes, the data dictionary, counterparties, outsourcee contracts, joint use, provisions and
storage locations — never typed by hand.

One activity per purpose in force (its current version). What is not recorded anywhere is shown as
"未設定 / not set", never guessed.
"""

from __future__ import annotations

import io
from collections.abc import Iterable

from mamori.inventory import queries
from mamori.inventory.models import StorageLocation
from mamori.inventory.schemas import (
    HOME_COUNTRY,
    Activity,
    Controller,
    Country,
    CountryEntry,
    ItemRead,
    Recipient,
    Ropa,
    StorageRef,
)
from mamori.inventory.service.common import can_read, split
from mamori.inventory.service.items import dictionary
from mamori.kernel import files
from mamori.kernel.auditing import record_info
from mamori.kernel.clock import ensure_aware
from mamori.kernel.context import Context
from mamori.law.rules import G_30, R_23_7, R_28_1
from mamori.processors.models import ProcessorContract
from mamori.provision.models import Counterparty, CounterpartyInfoSheet
from mamori.provision.service import EQUIVALENT_COUNTRIES
from mamori.purposes import service as purposes_service
from mamori.purposes.schemas import PurposeRead

NOT_SET = "未設定 / not set"
SUBJECTS = ["顧客・見込み客（本人） / customers and prospects (the persons)"]
# What the software itself does (G-30 (g), R-32-1 security measures), not a claim about the organisation.
SECURITY_MEASURES = [
    "個人データは項目ごとに AES-256-GCM で暗号化し、本人ごとのデータ鍵（鍵暗号鍵で保護、データとは別の鍵保管庫）で保護"
    " / every personal field encrypted with AES-256-GCM under a per-person data key wrapped by a KEK, "
    "kept in a keystore apart from the data",
    "完全一致検索は HMAC ブラインドインデックスのみ / exact-match search through HMAC blind indexes only",
    "利用のたびに利用目的を宣言、通知・同意・利用停止を判定し、目的外の項目はマスク / every use declares a purpose; "
    "notice, consent and stop-use are checked; fields outside the purpose are masked",
    "ロールと担当範囲によるアクセス制御、パスワード（argon2id）と TOTP の二要素認証、失効可能なセッション"
    " / role and row-scope access control, argon2id passwords with TOTP, revocable sessions",
    "閲覧・更新・拒否をすべて改ざん検知付き監査ログ（ハッシュチェーン、MAC、外部アンカー）に記録"
    " / every read, write and denial in a tamper-evident audit log (hash chain, MAC, anchored checkpoints)",
    "消去は鍵の破棄（暗号学的消去）、バックアップからの復元時にも再適用 / erasure by destroying the person's key "
    "(crypto-shredding), re-applied on restore",
    "委託先は有効な委託契約の範囲の顧客・項目・目的のみ / outsourcees see only their running contract's "
    "customers, fields and purposes",
]


# Controller field -> the setting it comes from (MAMORI_* environment variable, mamori.kernel.settings.Settings).
CONTROLLER_SETTINGS = {
    "name": "operator_name",
    "address": "operator_address",
    "representative": "operator_representative",
    "privacy_contact": "privacy_contact",
    "eu_representative": "eu_representative",
}


def _controller(ctx: Context) -> Controller:
    settings = ctx.runtime.settings
    values = {k: (getattr(settings, name) or "").strip() for k, name in CONTROLLER_SETTINGS.items()}
    missing = [f"MAMORI_{CONTROLLER_SETTINGS[k].upper()}" for k, v in values.items() if not v]
    return Controller(**{k: v or NOT_SET for k, v in values.items()}, not_set=missing)


def safeguard(ctx: Context, cp: Counterparty, sheet: CounterpartyInfoSheet | None) -> str:
    """The R-28-1 basis for providing to ``cp``, in words (G-30 (e) transfers and their safeguards)."""
    if cp.country == HOME_COUNTRY:
        return "国内 / domestic"
    if cp.country in EQUIVALENT_COUNTRIES:
        return f"十分性認定（EU・英国） / adequacy (EU/UK), {R_28_1.id} (a)"
    if cp.system_kind is not None:
        due = ensure_aware(cp.system_review_due) if cp.system_review_due else None
        if cp.system_stopped or due is None or due <= ctx.clock.now():
            return (
                f"基準適合体制（{cp.system_kind}）は停止中または年次確認切れ — 提供不可"
                f" / equivalent-measures system ({cp.system_kind}) stopped or review overdue — no provision"
            )
        return f"基準適合体制（{cp.system_kind}） / equivalent-measures system ({cp.system_kind}), {R_28_1.id} (b)"
    sheet_part = f"情報提供 v{sheet.version}" if sheet else "情報提供シート未登録 / no information sheet"
    return f"本人の同意（外国にある第三者への提供） / per-person consent to foreign provision, {R_28_1.id}; {sheet_part}"


class _Registers:
    """Everything the ROPA and the countries list read, loaded once."""

    def __init__(self, ctx: Context) -> None:
        session = ctx.session
        self.counterparties: dict[str, Counterparty] = {
            c.id: c for c in session.execute(queries.counterparties()).scalars()
        }
        self.sheets: dict[str, CounterpartyInfoSheet] = {
            s.counterparty_id: s for s in session.execute(queries.latest_sheets()).scalars()
        }
        self.contracts: list[ProcessorContract] = list(session.execute(queries.open_contracts()).scalars())
        self.subcontracts = list(session.execute(queries.approved_subcontracts()).all())
        self.joint_uses = list(session.execute(queries.joint_uses()).scalars())
        self.provided: set[tuple[str, str]] = {
            (str(c), str(p)) for c, p in session.execute(queries.provided_pairs()).all()
        }
        self.locations: list[StorageLocation] = list(session.execute(queries.locations(False)).scalars())

    def recipient(self, ctx: Context, kind: str, cp: Counterparty, detail: str | None = None) -> Recipient:
        return Recipient(
            kind=kind,
            counterparty_id=cp.id,
            name=cp.name,
            country=cp.country,
            foreign=cp.country != HOME_COUNTRY,
            safeguard=safeguard(ctx, cp, self.sheets.get(cp.id)),
            detail=detail,
        )


def _sub_safeguard(country: str) -> str:
    if country == HOME_COUNTRY:
        return "国内 / domestic"
    if country in EQUIVALENT_COUNTRIES:
        return f"十分性認定（EU・英国） / adequacy (EU/UK), {R_28_1.id} (a)"
    return f"委託先経由の再委託（外国、{R_28_1.id} の根拠が必要） / sub-outsourcing abroad ({R_28_1.id} basis needed)"


def _recipients(ctx: Context, reg: _Registers, purpose: str) -> list[Recipient]:
    out: list[Recipient] = []
    for cp_id in sorted({c for c, p in reg.provided if p == purpose}):
        cp = reg.counterparties.get(cp_id)
        if cp is not None and cp.kind in ("third_party", "succession"):
            out.append(reg.recipient(ctx, cp.kind, cp))
    covering = [c for c in reg.contracts if purpose in (c.purposes or [])]
    for contract in covering:
        cp = reg.counterparties.get(contract.counterparty_id)
        if cp is not None:
            out.append(
                reg.recipient(
                    ctx,
                    "outsourcee",
                    cp,
                    f"委託契約 / contract {contract.id} ({contract.status}): {contract.work}",
                )
            )
    covered_ids = {c.id for c in covering}
    for sub, contract in reg.subcontracts:
        if contract.id in covered_ids:
            out.append(
                Recipient(
                    kind="sub_outsourcee",
                    counterparty_id=None,
                    name=sub.subcontractor,
                    country=sub.country,
                    foreign=sub.country != HOME_COUNTRY,
                    safeguard=_sub_safeguard(sub.country),
                    detail=f"再委託 / sub-outsourcing {sub.id} (contract {contract.id}): {sub.work}",
                )
            )
    for decl in reg.joint_uses:
        if purpose in split(decl.purposes):
            for member in split(decl.member_ids):
                cp = reg.counterparties.get(member)
                if cp is not None:
                    out.append(
                        reg.recipient(
                            ctx, "joint_user", cp, f"共同利用 / joint use {decl.code} v{decl.version}"
                        )
                    )
    return out


def _holds(location: StorageLocation, purpose: PurposeRead) -> bool:
    purposes = split(location.purposes)
    categories = set(split(location.categories))
    if purposes and purpose.code not in purposes:
        return False
    return not categories or bool(categories & {c.value for c in purpose.categories})


def _lawful_basis(purpose: PurposeRead) -> str:
    basis = getattr(
        purpose, "lawful_basis", None
    )  # G-6: the purposes slice's GDPR lawful basis, when recorded
    if basis:
        return f"{basis} (GDPR Art. 6(1))"
    if purpose.consent_gdpr or purpose.consent_appi:
        return "consent / 同意"
    return NOT_SET


def _activity(ctx: Context, reg: _Registers, purpose: PurposeRead, items: list[ItemRead]) -> Activity:
    covered = {c.value for c in purpose.categories}
    held = [i for i in items if i.appi_category.value in covered]
    recipients = _recipients(ctx, reg, purpose.code)
    stored = [loc for loc in reg.locations if _holds(loc, purpose)]
    listed = {r.counterparty_id for r in recipients}
    for loc in stored:  # R-28-4: a provider that handles the data is a recipient, wherever it is registered
        cp = reg.counterparties.get(loc.counterparty_id or "")
        if loc.handles_data and cp is not None and cp.id not in listed:
            listed.add(cp.id)
            recipients.append(
                reg.recipient(ctx, cp.kind, cp, f"保管場所 / storage location {loc.code} (R-28-4)")
            )
    return Activity(
        purpose=purpose.code,
        version=purpose.version,
        title_ja=purpose.title_ja,
        title_en=purpose.title_en,
        description_ja=purpose.text_ja,
        description_en=purpose.text_en,
        lawful_basis=_lawful_basis(purpose),
        data_categories=sorted(covered),
        data_items=[i.key for i in held],
        sensitive_kinds=sorted({i.sensitive_kind for i in held if i.sensitive_kind}),
        gdpr_article9=sorted({i.gdpr_article9 for i in held if i.gdpr_article9}),
        gdpr_article10=any(i.gdpr_article10 for i in held),
        subjects=list(SUBJECTS),
        recipients=recipients,
        transfers=[r for r in recipients if r.foreign],
        storage=[
            StorageRef(
                code=loc.code,
                name=loc.name,
                kind=loc.kind,
                country=loc.country,
                region=loc.region,
                handles_data=loc.handles_data,
            )
            for loc in stored
        ],
        retention=(
            f"{purpose.retention_days}日 / {purpose.retention_days} days"
            if purpose.retention_days
            else NOT_SET
        ),
        retired=purpose.retired,
    )


def ropa(ctx: Context) -> Ropa:
    """G-30: the record of processing activities, as of now."""
    can_read(ctx)
    reg = _Registers(ctx)
    items = dictionary(ctx)
    purposes = purposes_service.list_purposes(ctx, include_retired=False)
    activities = [_activity(ctx, reg, p, items) for p in purposes]
    controller = _controller(ctx)
    notes: list[str] = []
    if controller.not_set:
        notes.append(
            f"{G_30.id}: 管理者の情報が未設定 / controller details not set: {', '.join(controller.not_set)}"
        )
    unreviewed = [i.key for i in items if not i.reviewed]
    if unreviewed:
        notes.append(f"{G_30.id}: 未確認のデータ項目 / items not yet tagged: {', '.join(unreviewed)}")
    for p, a in zip(purposes, activities, strict=True):
        if p.third_party and not any(r.kind in ("third_party", "succession") for r in a.recipients):
            notes.append(
                f"{G_30.id}: {p.code} は第三者提供を含むが提供先が未登録 / third-party provision stated, no recipient registered"
            )
        if not a.storage:
            notes.append(f"{G_30.id}: {p.code} の保管場所が未登録 / no storage location registered")
    record_info(ctx, "inventory.ropa", details={"activities": len(activities), "rule": G_30.id})
    return Ropa(
        generated_at=ctx.clock.now(),
        controller=controller,
        activities=activities,
        security_measures=list(SECURITY_MEASURES),
        notes=notes,
    )


def countries(ctx: Context) -> list[Country]:
    """R-23-7 / R-32-1: every foreign country where data is stored or to which it is provided, with what was
    recorded about its system — for the published notice."""
    can_read(ctx)
    reg = _Registers(ctx)
    by_country: dict[str, list[CountryEntry]] = {}
    for loc in reg.locations:
        if loc.country != HOME_COUNTRY:
            by_country.setdefault(loc.country, []).append(
                CountryEntry(
                    kind="storage",
                    ref=loc.code,
                    name=f"{loc.name}（{loc.operator}）",
                    safeguard=(
                        "取扱いあり（提供先として管理） / handles the data (a recipient)"
                        if loc.handles_data
                        else "取扱いなし（保管のみ） / storage only, no handling"
                    ),
                    understanding=loc.foreign_note,
                )
            )
    for cp in reg.counterparties.values():
        if cp.country != HOME_COUNTRY:
            sheet = reg.sheets.get(cp.id)
            by_country.setdefault(cp.country, []).append(
                CountryEntry(
                    kind=cp.kind,
                    ref=cp.id,
                    name=cp.name,
                    safeguard=safeguard(ctx, cp, sheet),
                    understanding=sheet.protection_system if sheet else None,
                )
            )
    for sub, _contract in reg.subcontracts:
        if sub.country != HOME_COUNTRY:
            by_country.setdefault(sub.country, []).append(
                CountryEntry(
                    kind="sub_outsourcee",
                    ref=sub.id,
                    name=sub.subcontractor,
                    safeguard=_sub_safeguard(sub.country),
                    understanding=None,
                )
            )
    record_info(ctx, "inventory.countries", details={"countries": len(by_country), "rule": R_23_7.id})
    return [
        Country(country=c, equivalent_country=c in EQUIVALENT_COUNTRIES, entries=by_country[c])
        for c in sorted(by_country)
    ]


# -- exports (CLI files and the API's text formats) ------------------------------------------------------------


def _names(recipients: Iterable[Recipient]) -> str:
    return "; ".join(f"{r.name} [{r.kind}, {r.country}] {r.safeguard}" for r in recipients)


ROPA_COLUMNS = (
    "purpose",
    "version",
    "title",
    "lawful_basis",
    "data_categories",
    "data_items",
    "sensitive_kinds",
    "gdpr_article9",
    "gdpr_article10",
    "subjects",
    "recipients",
    "transfers",
    "storage",
    "retention",
)


def ropa_csv(record: Ropa) -> str:
    buf = io.StringIO()
    w = files.csv_writer(buf, lineterminator="\n")  # formulas neutralised
    w.writerow(ROPA_COLUMNS)
    for a in record.activities:
        w.writerow(
            [
                a.purpose,
                a.version,
                f"{a.title_ja} / {a.title_en}",
                a.lawful_basis,
                ",".join(a.data_categories),
                ",".join(a.data_items),
                ",".join(a.sensitive_kinds),
                ",".join(a.gdpr_article9),
                "yes" if a.gdpr_article10 else "no",
                "; ".join(a.subjects),
                _names(a.recipients),
                _names(a.transfers),
                "; ".join(
                    f"{s.name} [{s.kind}, {s.country}{'/' + s.region if s.region else ''}]" for s in a.storage
                ),
                a.retention,
            ]
        )
    return buf.getvalue()


def _md(value: str) -> str:
    return value.replace("|", "\\|").replace("\n", " ")


def ropa_markdown(record: Ropa) -> str:
    c = record.controller
    lines = [
        "# 処理活動の記録 / Record of processing activities (GDPR Art. 30)",
        "",
        f"作成 / generated: {record.generated_at.isoformat()}",
        "",
        "## 管理者 / Controller",
        "",
        f"- 名称 / name: {c.name}",
        f"- 住所 / address: {c.address}",
        f"- 代表者 / representative: {c.representative}",
        f"- 窓口・DPO / contact, DPO: {c.privacy_contact}",
        f"- EU 域内代理人 / EU representative: {c.eu_representative}",
        "",
        "## 処理活動 / Processing activities",
    ]
    for a in record.activities:
        lines += [
            "",
            f"### {a.purpose} v{a.version} — {_md(a.title_ja)} / {_md(a.title_en)}",
            "",
            f"- 目的 / purpose: {_md(a.description_ja)} / {_md(a.description_en)}",
            f"- 適法性の根拠 / lawful basis: {a.lawful_basis}",
            f"- データの区分 / categories of data: {', '.join(a.data_categories)} ({', '.join(a.data_items) or '-'})",
            f"- 要配慮 / special care-required: {', '.join(a.sensitive_kinds) or '-'}; "
            f"GDPR Art. 9: {', '.join(a.gdpr_article9) or '-'}; Art. 10: {'yes' if a.gdpr_article10 else 'no'}",
            f"- 本人の区分 / categories of subjects: {'; '.join(a.subjects)}",
            f"- 提供先・委託先 / recipients: {_md(_names(a.recipients)) or '-'}",
            f"- 外国への移転 / transfers to third countries: {_md(_names(a.transfers)) or '-'}",
            "- 保管場所 / storage: "
            + (
                ", ".join(
                    f"{_md(s.name)} ({s.country}{'/' + s.region if s.region else ''})" for s in a.storage
                )
                or NOT_SET
            ),
            f"- 保存期間 / erasure time limit: {a.retention}",
        ]
    lines += ["", "## 安全管理措置 / Security measures", ""]
    lines += [f"- {m}" for m in record.security_measures]
    if record.notes:
        lines += ["", "## 要対応 / To complete", ""]
        lines += [f"- {_md(n)}" for n in record.notes]
    return "\n".join(lines) + "\n"


COUNTRY_COLUMNS = ("country", "equivalent_country", "kind", "ref", "name", "safeguard", "understanding")


def countries_csv(rows: list[Country]) -> str:
    buf = io.StringIO()
    w = files.csv_writer(buf, lineterminator="\n")  # formulas neutralised
    w.writerow(COUNTRY_COLUMNS)
    for c in rows:
        for e in c.entries:
            w.writerow(
                [
                    c.country,
                    "yes" if c.equivalent_country else "no",
                    e.kind,
                    e.ref,
                    e.name,
                    e.safeguard,
                    e.understanding or "",
                ]
            )
    return buf.getvalue()


def countries_markdown(rows: list[Country]) -> str:
    lines = [
        f"# 個人データを取り扱う外国 / Foreign countries where data is handled (R-32-1, {R_23_7.id})",
        "",
    ]
    for c in rows:
        lines += ["", f"## {c.country}{'（EU・英国 / EU-UK adequacy）' if c.equivalent_country else ''}", ""]
        for e in c.entries:
            lines.append(f"- {_md(e.name)} [{e.kind}] — {_md(e.safeguard)}")
            if e.understanding:
                lines.append(f"  - 制度の把握 / the country's system: {_md(e.understanding)}")
    return "\n".join(lines) + "\n"
