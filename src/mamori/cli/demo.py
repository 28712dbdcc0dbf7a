"""Synthetic demo data: Japanese customers from Faker ja_JP — never real people."""

from __future__ import annotations

import os
import random
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import phonenumbers
import pyotp
from faker import Faker

from mamori.consent import service as consent_service
from mamori.consent.schemas import ConsentIn
from mamori.customers.schemas import (
    ActivityIn,
    CustomerCreate,
    ProvenanceIn,
    clean_email,
    clean_phone,
    clean_postal,
)
from mamori.customers.service import core as customers_service
from mamori.inventory import service as inventory_service
from mamori.inventory.schemas import LocationIn
from mamori.kernel.context import SYSTEM_ACTOR, Role
from mamori.kernel.policy import Category
from mamori.kernel.runtime import Runtime
from mamori.purposes import service as purposes_service
from mamori.purposes.schemas import PurposeCreate
from mamori.staff import service as staff_service
from mamori.staff.schemas import StaffCreate

NOTICE = "privacy-notice-2026-04"

PURPOSES = [
    PurposeCreate(
        code="contract",
        title_ja="ご契約の履行とアフターサービス",
        title_en="Performing contracts and after-sales service",
        text_ja="ご注文いただいた商品の発送、代金の請求、保証・修理などのアフターサービスのために、氏名・連絡先・購入履歴を利用します。",
        text_en="We use your name, contact details and purchase history to ship orders, bill you and provide warranty and repair service.",
        categories=[Category.IDENTIFIER, Category.CONTACT, Category.ATTRIBUTE, Category.BEHAVIOUR],
        retention_days=3650,
        lawful_basis="contract",  # G-6: GDPR 6(1)(b)
    ),
    PurposeCreate(
        code="support",
        title_ja="お問い合わせへの対応",
        title_en="Answering your inquiries",
        text_ja="お問い合わせ・ご相談に回答し、対応の経緯を記録するために、氏名・連絡先・お問い合わせ履歴を利用します。",
        text_en="We use your name, contact details and inquiry history to answer your inquiries and keep a record of them.",
        categories=[Category.IDENTIFIER, Category.CONTACT, Category.BEHAVIOUR],
        retention_days=1825,
        lawful_basis="legitimate_interests",  # G-6: GDPR 6(1)(f), after the balancing test below
        balancing_ref="LIA-2026-04-support",
    ),
    PurposeCreate(
        code="marketing-email",
        title_ja="新商品・キャンペーンのメールでのご案内",
        title_en="Emails about new products and campaigns",
        text_ja="ご同意いただいたお客様に、新商品・キャンペーンのご案内をメールでお送りするために、氏名とメールアドレスを利用します。",
        text_en="With your consent, we use your name and email address to send you emails about new products and campaigns.",
        categories=[Category.IDENTIFIER, Category.CONTACT],
        consent_appi=True,
        consent_gdpr=True,
        retention_days=730,
    ),
    PurposeCreate(
        code="partner-sharing",
        title_ja="提携先へのご案内のための提供",
        title_en="Provision to partners for their offers",
        text_ja="ご同意いただいたお客様の氏名とメールアドレスを、提携先（ポイントサービス事業者）に提供します。提供はお申し出によりいつでも停止します。",
        text_en="With your consent, we provide your name and email address to our partner (a points-programme operator). Provision stops whenever you ask.",
        categories=[Category.IDENTIFIER, Category.CONTACT],
        third_party=True,
        consent_appi=True,
        consent_gdpr=True,
        retention_days=1095,
    ),
    PurposeCreate(
        code="analytics",
        title_ja="購買履歴の分析による商品企画",
        title_en="Product planning by analysing purchase history",
        text_ja="購買履歴・年代・性別を分析し（プロファイリングを含みます）、商品企画と広告の改善に利用します。分析は仮名加工した情報で行います。",
        text_en="We analyse purchase history, age band and gender (including profiling) to plan products and improve advertising, using pseudonymised data.",
        categories=[Category.ATTRIBUTE, Category.BEHAVIOUR],
        consent_gdpr=True,
        retention_days=1095,
    ),
]

STAFF = [
    ("hoshino", "星野 真理子", Role.PRIVACY_OFFICER, None, "mamori --as hoshino audit tail"),
    ("sato", "佐藤 健一", Role.SALES, "east", "mamori --as sato customers list -p contract"),
    ("suzuki", "鈴木 美咲", Role.SALES, "west", "mamori --as suzuki customers list -p marketing-email"),
    (
        "takahashi",
        "高橋 翔",
        Role.SUPPORT,
        None,
        "mamori --as takahashi customers find -p support --name '…'",
    ),
    ("ito", "伊藤 彩", Role.ANALYST, None, "mamori --as ito customers list -p analytics  (→ 拒否 R-23-2)"),
]

INQUIRIES = [
    "商品の配送日について問い合わせ。来週火曜日に配送予定と回答。",
    "返品方法の確認。着払いで返送いただくよう案内した。",
    "保証期間について質問あり。購入日から1年間と説明。",
    "請求書の再発行を依頼された。郵送で手配済み。",
    "ポイントの有効期限について問い合わせ。",
    "会員登録情報の住所変更の方法を案内。",
]
PRODUCTS = [
    "電気ケトル",
    "空気清浄機",
    "コーヒーメーカー",
    "加湿器",
    "ロボット掃除機",
    "電子レンジ",
    "炊飯器",
    "ドライヤー",
]


def _valid_phone(fake: Faker) -> str:
    for _ in range(20):
        p = fake.phone_number()
        try:
            if phonenumbers.is_valid_number(phonenumbers.parse(p, "JP")):
                return str(p)
        except phonenumbers.NumberParseException:
            continue
    return f"090-{fake.random_number(4, fix_len=True)}-{fake.random_number(4, fix_len=True)}"


def _customer(fake: Faker, rng: random.Random) -> CustomerCreate:
    female = rng.random() < 0.5
    last, last_kana, _ = fake.last_name_pair()
    first, first_kana, _ = fake.first_name_female_pair() if female else fake.first_name_male_pair()
    return CustomerCreate.model_construct(
        name=f"{last} {first}",
        kana=f"{last_kana} {first_kana}",
        birth_date=fake.date_of_birth(minimum_age=18, maximum_age=88),
        gender="female" if female else "male",
        postal_code=clean_postal(fake.zipcode()),
        address=fake.address(),
        phones=[clean_phone(_valid_phone(fake))],
        emails=[clean_email(fake.unique.email())],
        occupation=fake.job() if rng.random() < 0.8 else None,
        employer=fake.company() if rng.random() < 0.6 else None,
        attributes=[],
        origin="JP",
    )


def _demo_logins(runtime: Runtime, usernames: list[str]) -> Path:
    """Demo sign-in for every demo staff user: one random password and a TOTP secret each, written to
    $MAMORI_HOME/demo-logins.txt (mode 0600) — synthetic accounts for a local demo only."""
    path = runtime.settings.home_path / "demo-logins.txt"
    if path.exists():
        return path
    lines = [
        "# mamori demo logins (synthetic; local demo only) / デモ用ログイン（架空・ローカル専用）",
        "# TOTP: add the secret to an authenticator app, or: .venv/bin/python -c \"import pyotp; print(pyotp.TOTP('SECRET').now())\"",
    ]
    with runtime.transaction(SYSTEM_ACTOR) as ctx:
        for username in usernames:
            password = "-".join(secrets.choice(_WORDS) for _ in range(4))
            staff_service.set_password(ctx, username, password)
            secret = pyotp.parse_uri(staff_service.enroll_totp(ctx, username)).secret
            lines.append(f"{username:10s} password: {password:32s} totp-secret: {secret}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    os.chmod(path, 0o600)
    return path


_WORDS = (
    "sakura",
    "fuji",
    "kumo",
    "umi",
    "yama",
    "kawa",
    "hoshi",
    "tsuki",
    "kaze",
    "mori",
    "hana",
    "sora",
    "yuki",
    "ame",
    "niji",
    "take",
    "matsu",
    "ume",
    "kiri",
    "nami",
)


def _storage_locations(runtime: Runtime) -> list[LocationIn]:
    """The demo store itself and its backups, in Japan (an assumption of the demo: edit them for a real site)."""
    sqlite = runtime.settings.resolved_database_url().startswith("sqlite")
    return [
        LocationIn(
            code="primary-store",
            name="mamori データストア" + ("（SQLite、MAMORI_HOME）" if sqlite else ""),
            kind="database",
            operator="自社 / own company",
            region="MAMORI_HOME" if sqlite else None,
            note="AES-256-GCM per field; keystore and KEK outside MAMORI_HOME",
        ),
        LocationIn(
            code="backups",
            name="mamori backup（mamori backup の保存先）",
            kind="backup",
            operator="自社 / own company",
            note="consistent copies with digests; the keystore is backed up apart",
        ),
    ]


def generate(
    runtime: Runtime, *, customers: int, seed: int, progress: Callable[[int], None] | None = None
) -> dict[str, object]:
    fake = Faker("ja_JP")
    fake.seed_instance(seed)
    rng = random.Random(seed)
    now = runtime.clock.now()
    owners: dict[str, str] = {}
    staff_out = []
    with runtime.transaction(SYSTEM_ACTOR) as ctx:
        existing = {p.code for p in purposes_service.list_purposes(ctx)}
        for p in PURPOSES:
            if p.code not in existing:
                purposes_service.add(ctx, p)
        have = {u.username: u for u in staff_service.list_staff(ctx)}
        for username, display, role, team, hint in STAFF:
            user = have.get(username) or staff_service.add(
                ctx, StaffCreate(username=username, display_name=display, role=role, team=team)
            )
            if role == Role.SALES:
                owners[username] = user.id
            staff_out.append({"username": username, "role": role.value, "hint": hint})
    staff_out.insert(0, {"username": "admin", "role": "admin", "hint": "mamori --as admin keys rotate"})
    logins = _demo_logins(runtime, [u["username"] for u in staff_out])
    owner_ids = list(owners.values())
    made = 0
    activities = 0
    batch = 500
    while made < customers:
        n = min(batch, customers - made)
        items = []
        plan = []
        for _ in range(n):
            data = _customer(fake, rng)
            codes = ["contract", "support"]
            marketing = rng.random() < 0.7
            if marketing:
                codes.append("marketing-email")
            if rng.random() < 0.5:
                codes.append("analytics")
            roll = rng.random()
            if roll < 0.8:
                prov = ProvenanceIn(
                    method="direct",
                    channel=rng.choice(["web_form", "counter", "phone"]),
                    notice_version=NOTICE,
                )
            else:
                prov = ProvenanceIn(
                    method="direct",
                    channel="event",
                    notice_version=NOTICE,
                    source="2026年 秋の新製品展示会（名刺交換）",
                )
            acts = []
            for _ in range(rng.randint(1, 6)):
                when = now - timedelta(days=rng.randint(1, 900), minutes=rng.randint(0, 1440))
                if rng.random() < 0.6:
                    acts.append(
                        ActivityIn(
                            kind="purchase",
                            body=rng.choice(PRODUCTS),
                            amount=rng.randrange(1980, 89800, 10),
                            occurred_at=when,
                        )
                    )
                else:
                    acts.append(ActivityIn(kind="inquiry", body=rng.choice(INQUIRIES), occurred_at=when))
            activities += len(acts)
            items.append((data, prov, codes, rng.choice(owner_ids) if owner_ids else None, acts))
            plan.append(marketing)
        with runtime.transaction(SYSTEM_ACTOR) as ctx:
            ids = customers_service.bulk_create(ctx, items)
            grants = []
            for cid, marketing in zip(ids, plan, strict=True):
                if marketing and rng.random() < 0.75:
                    at = now - timedelta(days=rng.randint(30, 700))
                    grants.append(
                        (
                            cid,
                            "marketing-email",
                            "granted",
                            ConsentIn(
                                method="checkbox", notice_version=NOTICE, evidence="web-form", occurred_at=at
                            ),
                        )
                    )
                    if rng.random() < 0.1:
                        grants.append(
                            (
                                cid,
                                "marketing-email",
                                "withdrawn",
                                ConsentIn(method="email", occurred_at=at + timedelta(days=20)),
                            )
                        )
            consent_service.bulk_grant(ctx, grants)
        made += n
        if progress:
            progress(made)
    from mamori.cli import demo_privacy

    privacy = demo_privacy.seed(runtime, rng)
    # where the demo store keeps data (R-23-7; docs/inventory.md)
    with runtime.transaction(SYSTEM_ACTOR) as ctx:
        for location in _storage_locations(runtime):
            inventory_service.ensure_location(ctx, location)
    return {
        "customers": made,
        "activities": activities,
        "privacy": privacy,
        "staff": staff_out,
        "logins_file": str(logins),
        "generated_at": datetime.now(UTC).isoformat(),
    }
