"""One settings object for the whole process (MAMORI_* environment variables)."""

from __future__ import annotations

import json
import os
import re
import secrets
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from mamori.kernel.errors import ConfigurationError


class Settings(BaseSettings):
    """Where mamori keeps its data and keys.

    - ``MAMORI_HOME`` holds the SQLite files (data, keystore, audit) when no URL is given.
    - ``MAMORI_DATABASE_URL`` selects another data store (e.g. ``postgresql+psycopg://…``).
    - ``MAMORI_KEYSTORE_URL`` / ``MAMORI_AUDIT_URL``: the keystore and the audit log, each in its own
      database; by default SQLite files beside the data file (never inside the data database).
    - The key-encryption key comes from ``MAMORI_KEK`` (base64, 32 bytes), a PKCS#11 token
      (``MAMORI_KEK_PROVIDER=pkcs11``) or ``MAMORI_KEY_FILE``.

    Each store has an id (``MAMORI_HOME/store.json``, made by ``mamori init``) and its own **key directory**
    outside ``MAMORI_HOME`` (``MAMORI_KEY_DIR``, default ``~/.config/mamori/stores/<store id>``, mode 0700). By
    default it holds what a copy of the data directory must never carry (ADR 0007): the KEK file ``kek.json``,
    the keystore ``keystore.db``, the key-destruction journal ``destructions.jsonl`` and the audit anchor file
    ``audit-anchors.jsonl``. One KEK per store, never one per OS user.
    """

    model_config = SettingsConfigDict(env_prefix="MAMORI_", extra="ignore")

    home: Path = Field(default=Path(".mamori"))
    database_url: str | None = None
    keystore_url: str | None = None
    audit_url: str | None = None
    # PostgreSQL as production runs it (issue 17, docs/postgres.md): the app connects as a role that owns nothing
    # and cannot bypass RLS; migrations and the grants run as the owner role named here
    # (MAMORI_MIGRATION_DATABASE_URL / _KEYSTORE_URL / _AUDIT_URL). Unset: the app's own URL migrates (the demo).
    migration_database_url: str | None = None
    migration_keystore_url: str | None = None
    migration_audit_url: str | None = None
    key_file: Path | None = None
    kek: str | None = None
    lang: str = "ja"
    key_dir: Path | None = None
    kek_provider: str = "file"  # file | env | pkcs11 (env is implied when MAMORI_KEK is set)
    pkcs11_module: str | None = None  # e.g. /usr/lib/softhsm/libsofthsm2.so
    pkcs11_token_label: str = "mamori"  # noqa: S105 - a token label, not a secret
    pkcs11_pin: str | None = None
    pkcs11_key_label: str = "mamori-kek"
    # Signed audit checkpoints every N entries and at least every T minutes while entries arrive.
    audit_checkpoint_every: int = 100
    audit_checkpoint_minutes: float = 5.0
    # Where signed checkpoints are anchored (outside MAMORI_HOME); a second witness may be syslog.
    audit_anchor: Path | None = None
    audit_anchor_syslog: str | None = None  # a syslog socket path (e.g. /dev/log) or "host:port"
    # Rule dates set by the operator without a code change (ADR 0009), e.g. the Cabinet Order's 施行日 for the
    # 令和8年改正: MAMORI_RULE_DATES="R-R8-4=2028-04-01" (items "<rule id>=<from>[..<to>]", comma-separated).
    rule_dates: str | None = None
    # The controller (個人情報取扱事業者) as the record of processing activities (G-30) and the published notice
    # (R-32-1) name it: MAMORI_OPERATOR_NAME, _ADDRESS, _REPRESENTATIVE; MAMORI_PRIVACY_CONTACT (the DPO /
    # complaints contact) and MAMORI_EU_REPRESENTATIVE (GDPR Art. 27). Unset values are shown as "not set".
    operator_name: str | None = None
    operator_address: str | None = None
    operator_representative: str | None = None
    privacy_contact: str | None = None
    # The company's own telephone numbers (MAMORI_OPERATOR_PHONES, comma-separated: 代表, フリーダイヤル, ナビダイヤル,
    # a shop's number): never redacted from free text as personal data (issue 23, `mamori text`).
    operator_phones: str | None = None
    eu_representative: str | None = None
    # Idle timeout of a staff session (seed 001 case 5: the screen locks, the server refuses the session):
    # MAMORI_SESSION_IDLE_MINUTES, shortened in tests and demos.
    session_idle_minutes: int = Field(default=30, ge=1, le=480)
    # Requests one server process works on at once (MAMORI_HTTP_CONCURRENCY). The thread pool that runs the
    # handlers and every store's connection pool are sized from it, so no admitted request waits for a
    # connection; later requests wait at the door holding nothing (ADR 0016).
    http_concurrency: int = Field(default=16, ge=1, le=256)
    # The Japanese TrueType font embedded in PDF letters (MAMORI_PDF_FONT); unset → the IPAex/IPA system fonts.
    pdf_font: Path | None = None
    # Production mode (MAMORI_PRODUCTION=1, off in the demo): the CLI signs in like the API (`mamori login`:
    # password + TOTP, a session kept in a 0600 file) and `--as` / MAMORI_AS are refused (issue 17).
    production: bool = False
    # Where `mamori login` keeps the CLI's session (MAMORI_CLI_SESSION_FILE); unset → the store's key directory.
    cli_session_file: Path | None = None
    # Proxies whose X-Forwarded-For / X-Forwarded-Proto are believed (MAMORI_FORWARDED_ALLOW_IPS, comma-separated
    # addresses or networks, uvicorn's forwarded_allow_ips). Empty: no client's forwarded headers are trusted.
    forwarded_allow_ips: str = ""
    # Request limits (problem+json 413 / 422 beyond them): a body's bytes (MAMORI_MAX_REQUEST_BYTES; uploads have
    # their own, larger limit), a form's or a JSON object's fields (MAMORI_MAX_FORM_FIELDS).
    max_request_bytes: int = Field(default=1_048_576, ge=1024)
    max_upload_bytes: int = Field(default=64 * 1_048_576, ge=1024)
    max_form_fields: int = Field(default=200, ge=1)
    # Logs: "json" (one JSON object per line with the request id; never personal data) or "text" (MAMORI_LOG_FORMAT).
    log_format: str = "json"
    log_level: str = "INFO"
    # E-mail (issue 18, docs/mail.md). MAMORI_MAIL_BACKEND: "file" (the development default: one file per message
    # under $MAMORI_HOME/outbox) or "smtp" (MAMORI_SMTP_HOST, _PORT, _SECURITY starttls | tls | none, _USER,
    # _PASSWORD or _PASSWORD_FILE, _TIMEOUT; the sender MAMORI_MAIL_FROM). A failed send is retried up to
    # MAMORI_MAIL_MAX_ATTEMPTS times, waiting MAMORI_MAIL_RETRY_SECONDS and doubling each time.
    mail_backend: str = "file"
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_security: str = "starttls"
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_password_file: Path | None = None
    smtp_timeout: float = Field(default=10.0, gt=0, le=120)
    mail_from: str | None = None
    mail_max_attempts: int = Field(default=6, ge=1, le=20)
    mail_retry_seconds: float = Field(default=60.0, gt=0, le=86_400)
    # Reminders of the person's requests due within 3 days go to MAMORI_REMINDER_TO (comma-separated addresses:
    # the privacy team's mailbox).
    reminder_to: str | None = None
    # Links in e-mails to the privacy center (MAMORI_PUBLIC_BASE_URL, e.g. https://privacy.example.co.jp); unset →
    # http://127.0.0.1:8000.
    public_base_url: str | None = None
    # The published notice (公表事項, R-32-1) beside the operator settings above: the fee for a disclosure or
    # purpose-notification request (MAMORI_REQUEST_FEE_YEN, R-38-1; unset = free) and how it is paid
    # (MAMORI_FEE_PAYMENT), the accredited body (認定個人情報保護団体, MAMORI_ACCREDITED_BODY), and the operator's own
    # summary of its security measures (MAMORI_SECURITY_MEASURES_FILE, UTF-8 text; unset → the summary mamori
    # writes from the measures it takes itself).
    request_fee_yen: int | None = Field(default=None, ge=0, le=10_000)
    fee_payment: str | None = None
    accredited_body: str | None = None
    security_measures_file: Path | None = None

    @property
    def home_path(self) -> Path:
        return self.home.expanduser().resolve()

    @property
    def store_file(self) -> Path:
        return self.home_path / STORE_FILE

    def store_id(self, *, create: bool = False) -> str:
        """This store's id (``MAMORI_HOME/store.json``); ``create`` makes one for a new store."""
        return ensure_store_id(self.home_path) if create else read_store_id(self.home_path)

    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.home_path / 'mamori.db'}"

    def resolved_key_dir(self) -> Path:
        """The store's key directory (outside MAMORI_HOME)."""
        if self.key_dir is not None:
            return self.key_dir.expanduser().resolve()
        return (Path.home() / ".config" / "mamori" / "stores" / self.store_id(create=True)).resolve()

    def resolved_keystore_url(self) -> str:
        return self.keystore_url or f"sqlite:///{self.resolved_key_dir() / 'keystore.db'}"

    def resolved_audit_url(self) -> str:
        return self.audit_url or f"sqlite:///{self.home_path / 'audit.db'}"

    def resolved_key_file(self) -> Path:
        if self.key_file is not None:
            return self.key_file.expanduser().resolve()
        return self.resolved_key_dir() / "kek.json"

    def resolved_anchor_path(self) -> Path:
        if self.audit_anchor is not None:
            return self.audit_anchor.expanduser().resolve()
        return self.resolved_key_dir() / "audit-anchors.jsonl"

    def resolved_journal_path(self) -> Path:
        """The key-destruction journal (subject ids only), kept with the keystore, outside MAMORI_HOME."""
        return self.resolved_key_dir() / "destructions.jsonl"


STORE_FILE = "store.json"


def read_store_id(home: Path) -> str:
    path = home / STORE_FILE
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        value = str(doc["store_id"])
    except FileNotFoundError:
        raise ConfigurationError(
            f"ストアが初期化されていません（{path} がありません）。mamori init を実行してください。",
            f"the store is not initialised ({path} is missing); run mamori init",
            code="store_not_initialised",
        ) from None
    except (OSError, ValueError, KeyError, TypeError):
        raise ConfigurationError(
            f"{path} の形式が不正です。", f"{path} is malformed.", code="store_file_malformed"
        ) from None
    if not re.fullmatch(r"[0-9a-f]{32}", value):
        raise ConfigurationError(
            f"{path} のストア ID が不正です。",
            f"{path} holds an invalid store id.",
            code="store_file_malformed",
        )
    return value


def ensure_store_id(home: Path) -> str:
    """Read the store id, or write a new one atomically (a store id is not a secret; a KEK is never made here)."""
    path = home / STORE_FILE
    if path.exists():
        return read_store_id(home)
    home.mkdir(parents=True, exist_ok=True)
    doc = json.dumps({"store_id": secrets.token_hex(16), "format": 1}).encode()
    tmp = home / f".{STORE_FILE}.{os.getpid()}.tmp"
    tmp.write_bytes(doc)
    try:
        os.link(tmp, path)  # fails if another process created it first
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)
    return read_store_id(home)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


def reset_settings_cache() -> None:
    """Forget the cached settings (tests and `mamori` commands that change the environment)."""
    get_settings.cache_clear()
