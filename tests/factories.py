"""Small factory functions shared by the slices' tests (synthetic data only)."""

from __future__ import annotations

from mamori.consent import service as consent_service
from mamori.consent.schemas import ConsentIn
from mamori.customers import service as customers_service
from mamori.customers.schemas import CustomerCreate, ProvenanceIn
from mamori.kernel.context import SYSTEM_ACTOR, Actor, Role
from mamori.kernel.policy import Category
from mamori.kernel.runtime import Runtime
from mamori.purposes import service as purposes_service
from mamori.purposes.schemas import PurposeCreate
from mamori.staff import service as staff_service
from mamori.staff.schemas import StaffCreate

PURPOSES = {
    "partner-sharing": PurposeCreate(
        code="partner-sharing",
        title_ja="提携先への提供",
        title_en="Provision to partners",
        text_ja="提携先の案内のため、氏名・フリガナと連絡先を提携先に提供します（第三者提供。提供はご本人の同意を得た場合に限ります）。",
        text_en="We provide your name and contact details to partners (third-party provision, only with your consent).",
        categories=[Category.IDENTIFIER, Category.CONTACT],
        third_party=True,
    ),
    "contract": PurposeCreate(
        code="contract",
        title_ja="契約の履行",
        title_en="Contract",
        text_ja="商品の発送と代金の請求、アフターサービスのために氏名・連絡先・購入履歴を利用します（履歴の分析は行いません）。",
        text_en="Shipping, billing and after-sales service.",
        categories=[Category.IDENTIFIER, Category.CONTACT, Category.ATTRIBUTE, Category.BEHAVIOUR],
    ),
    "marketing-email": PurposeCreate(
        code="marketing-email",
        title_ja="メールでのご案内",
        title_en="Marketing email",
        text_ja="ご同意いただいた方に新商品のご案内をメールでお送りするため、氏名とメールアドレスを利用します。",
        text_en="Emails about new products, with consent.",
        categories=[Category.IDENTIFIER, Category.CONTACT],
        consent_appi=True,
        consent_gdpr=True,
    ),
    "health-service": PurposeCreate(
        code="health-service",
        title_ja="健康相談サービス",
        title_en="Health counselling",
        text_ja="健康相談サービスの提供のため、ご同意の上で既往歴などの要配慮個人情報を利用します（分析は行いません）。",
        text_en="Health counselling with consent, using medical history.",
        categories=[Category.IDENTIFIER, Category.CONTACT, Category.SENSITIVE, Category.BEHAVIOUR],
    ),
    "gdpr-newsletter": PurposeCreate(
        code="gdpr-newsletter",
        title_ja="ニュースレター",
        title_en="Newsletter",
        text_ja="ニュースレターをお送りするため、氏名とメールアドレスを利用します。",
        text_en="Sending the newsletter.",
        categories=[Category.IDENTIFIER, Category.CONTACT],
        consent_gdpr=True,
    ),
}


def seed_basics(rt: Runtime) -> dict[str, Actor]:
    """Purposes and one staff user per role; returns actors by username."""
    actors: dict[str, Actor] = {"system": SYSTEM_ACTOR}
    with rt.transaction(SYSTEM_ACTOR) as ctx:
        for p in PURPOSES.values():
            purposes_service.add(ctx, p)
        for username, role, team in (
            ("admin", Role.ADMIN, None),
            ("po", Role.PRIVACY_OFFICER, None),
            ("sato", Role.SALES, "east"),
            ("suzuki", Role.SALES, "west"),
            ("support", Role.SUPPORT, None),
            ("analyst", Role.ANALYST, None),
        ):
            staff_service.add(
                ctx, StaffCreate(username=username, display_name=username, role=role, team=team)
            )
    with rt.transaction(SYSTEM_ACTOR, readonly=True) as session:
        for username in ("admin", "po", "sato", "suzuki", "support", "analyst"):
            actors[username] = staff_service.actor_for(session, username)
    return actors


def make_customer(
    rt: Runtime,
    actor: Actor,
    *,
    name: str = "山田 太郎",
    kana: str | None = "ヤマダ タロウ",
    email: str | None = "taro.yamada@example.jp",
    phone: str | None = "090-1234-5678",
    purposes: tuple[str, ...] = ("contract", "marketing-email"),
    origin: str = "JP",
    **extra: object,
) -> str:
    data = CustomerCreate(
        name=name,
        kana=kana,
        birth_date=extra.pop("birth_date", "1985-01-02"),
        gender="male",
        postal_code="150-0001",
        address=extra.pop("address", "東京都渋谷区神宮前1-2-3"),
        phones=[phone] if phone else [],
        emails=[email] if email else [],
        occupation="会社員",
        employer=extra.pop("employer", "架空商事株式会社"),
        origin=origin,
        **extra,  # type: ignore[arg-type]
    )
    with rt.transaction(actor) as ctx:
        view = customers_service.create(
            ctx,
            data,
            provenance=ProvenanceIn(method="direct", channel="web_form", notice_version="n-2026"),
            purposes=list(purposes),
        )
    return view.id


def grant(rt: Runtime, actor: Actor, customer_id: str, purpose: str) -> None:
    with rt.transaction(actor) as ctx:
        consent_service.grant(ctx, customer_id, purpose, ConsentIn(method="checkbox", evidence="form-1"))


# -- pointing `mamori` commands (CliRunner or subprocesses) at a test store ------------------------------------

STORE_ENV_CLEARED = (
    "MAMORI_AUDIT_ANCHOR",
    "MAMORI_AUDIT_ANCHOR_SYSLOG",
    "MAMORI_AS",
    "MAMORI_LANG",
    "MAMORI_KEY_FILE",
)


def point_env_at(monkeypatch, settings, **extra: object) -> None:
    """Set the MAMORI_* environment to the stores of ``settings`` (plus ``extra``), clear the variables that
    would point elsewhere, and forget cached settings: the CLI then opens exactly the test's stores."""
    from mamori.kernel.settings import reset_settings_cache

    for name, value in {
        "MAMORI_HOME": settings.home,
        "MAMORI_DATABASE_URL": settings.database_url,
        "MAMORI_KEYSTORE_URL": settings.keystore_url,
        "MAMORI_AUDIT_URL": settings.audit_url,
        "MAMORI_KEK": settings.kek,
        "MAMORI_KEY_DIR": settings.key_dir,
        **extra,
    }.items():
        monkeypatch.setenv(name, str(value))
    for name in STORE_ENV_CLEARED:
        monkeypatch.delenv(name, raising=False)
    reset_settings_cache()


def demo_cli(tmp_path, monkeypatch, *, customers: int = 1):
    """A fresh store under ``tmp_path`` with the demo data (``customers`` synthetic customers), for CLI tests:
    yields ``run(*args)`` (typer's CliRunner, exceptions not caught). Use as ``yield from demo_cli(...)``."""
    import base64
    import secrets

    from typer.testing import CliRunner

    from mamori.cli.main import app
    from mamori.kernel.settings import reset_settings_cache

    monkeypatch.setenv("MAMORI_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("MAMORI_KEK", base64.b64encode(secrets.token_bytes(32)).decode())
    for k in ("MAMORI_DATABASE_URL", "MAMORI_KEYSTORE_URL", "MAMORI_AUDIT_URL", "MAMORI_AS", "MAMORI_LANG"):
        monkeypatch.delenv(k, raising=False)
    reset_settings_cache()
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(app, list(args), catch_exceptions=False)

    assert run("init").exit_code == 0
    assert run("demo", "--customers", str(customers)).exit_code == 0
    yield run
    reset_settings_cache()
